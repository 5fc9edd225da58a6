#!/usr/bin/env bash
# ML speed benchmark, side by side on this machine in one run: the same train/validation rows and
# estimators in scikit-learn 1.9.1 (the venv), Flowbook native (release) and Flowbook compiled to
# wasm32 in headless Chromium (the release dist/, the engine in the app's worker). Prints the
# table that BENCHMARKS.md records ("ML engine").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
cargo bench --locked --bench ml -- "$WORK" "$WORK/native.json" >&2
"$FLOWBOOK_PYTHON" benches/sklearn_ml.py "$WORK" "$WORK/native.json" "$WORK/sklearn.json"
# Its own dist folder, so the dist/ the browser tests serve is left alone.
trunk build --release --dist "$WORK/dist" >&2
node benches/ml_browser.mjs "$WORK/dist" "$WORK/wasm.json"
"$FLOWBOOK_PYTHON" benches/ml_report.py "$WORK/native.json" "$WORK/wasm.json" "$WORK/sklearn.json"

#!/usr/bin/env bash
# Benchmarks, side by side on this machine in one run: Flowbook's engine (native, release) and real
# MLflow 3.17.2's SQLite store; bundle import/export against migrate-filestore. Prints the tables
# that BENCHMARKS.md records.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
cargo bench --locked --bench tracking -- "$WORK/flowbook.db" "$WORK/flowbook.json" >&2
"$FLOWBOOK_PYTHON" benches/mlflow_tracking.py "$WORK/flowbook.db" "$WORK/scratch.db" "$WORK/mlflow.json" 2>/dev/null
cargo build --release --locked --bin flowbook >&2
"$FLOWBOOK_PYTHON" benches/bundles.py "$CARGO_TARGET_DIR/release/flowbook" "$WORK" "$WORK/bundles.json" >&2
"$FLOWBOOK_PYTHON" benches/report.py "$WORK/flowbook.json" "$WORK/mlflow.json" "$WORK/bundles.json"

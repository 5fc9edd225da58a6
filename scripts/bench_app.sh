#!/usr/bin/env bash
# The browser app's speed in Debian's Chromium (release dist/): cold start, gzipped size, the runs
# table with 10,000 runs, a chart of 100,000 metric points. Prints the JSON the BENCHMARKS.md table reads.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
[ -f dist/index.html ] || trunk build --release >&2
"$FLOWBOOK_PYTHON" benches/make_mlruns.py "$WORK/table" 10000 3 1
"$FLOWBOOK_PYTHON" benches/make_mlruns.py "$WORK/chart" 1 1 100000
(cd "$WORK/table" && "$FLOWBOOK_PYTHON" -m zipfile -c "$WORK/table.zip" mlruns)
(cd "$WORK/chart" && "$FLOWBOOK_PYTHON" -m zipfile -c "$WORK/chart.zip" mlruns)
node benches/app_browser.mjs "$WORK/table.zip" "$WORK/chart.zip"

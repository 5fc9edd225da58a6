#!/usr/bin/env bash
# The sync benchmark: `flowbook push` against the real Python client's log_batch, each to a fresh
# `mlflow server` 3.17.2 on loopback, in one run. Prints the row BENCHMARKS.md records.
# usage: scripts/bench_sync.sh [RUNS]   (default 1000 runs × 20 metrics × 100 steps)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_common.sh"
cargo build --release --locked --bin flowbook >&2
"$FLOWBOOK_PYTHON" benches/sync.py "$CARGO_TARGET_DIR/release/flowbook" "$WORK" "$WORK/sync.json" "${1:-1000}"

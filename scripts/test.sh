#!/usr/bin/env bash
# The test command: every test layer, in order. Installs what is missing first.
#   1. lint: rustfmt and clippy (-D warnings) on the native and wasm32 targets
#   2. native: cargo test (engine, CLI)
#   3. browser: the release dist/ under a sub-path in Debian's Chromium (Playwright)
#   4. compatibility: real MLflow from PyPI against Flowbook (pytest)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
step() { printf '\n=== %s ===\n' "$*"; }

step "lint: rustfmt, clippy (native and wasm32)"
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings
cargo clippy --all-targets --locked --target wasm32-unknown-unknown -- -D warnings

step "native: cargo test"
cargo test --locked

step "build: release app (trunk) and release CLI"
trunk build --release
cargo build --release --locked --bin flowbook
export FLOWBOOK_BIN="$CARGO_TARGET_DIR/release/flowbook"

step "browser: Playwright + Debian Chromium"
node --test --test-concurrency=1 tests/browser/

step "compatibility: real MLflow"
"$FLOWBOOK_PYTHON" -m pytest -q tests/compat

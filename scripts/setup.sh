#!/usr/bin/env bash
# Installs whatever is missing for building, serving and testing Flowbook on a fresh
# Debian machine of the project's kind. Idempotent: each step checks first, so a second
# run takes a second or two. Sourced by scripts/serve.sh and scripts/test.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FLOWBOOK_CACHE="${FLOWBOOK_CACHE:-$HOME/.cache/flowbook}"
# The cargo target dir lives outside the clone so a fresh clone re-uses earlier builds.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$FLOWBOOK_CACHE/target}"
export PATH="$HOME/.cargo/bin:$PATH"
VENV="$FLOWBOOK_CACHE/venv"
TRUNK_VERSION="0.21.14"
MLFLOW_VERSION="3.17.2"
mkdir -p "$FLOWBOOK_CACHE"

log() { printf '[setup] %s\n' "$*" >&2; }

# The wasm-bindgen CLI must match the crate in Cargo.lock exactly.
wasm_bindgen_version() {
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

apt_missing=()
command -v clang >/dev/null || apt_missing+=(clang)
[ -x /usr/bin/chromium ] || apt_missing+=(chromium)
if [ ${#apt_missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${apt_missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! trunk --version 2>/dev/null | grep -q " $TRUNK_VERSION"; then
  log "installing trunk $TRUNK_VERSION (about 10 minutes, once per machine)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

WB_VERSION="$(wasm_bindgen_version)"
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WB_VERSION"; then
  log "installing wasm-bindgen-cli $WB_VERSION (about 5 minutes, once per machine)"
  # Not --locked: the CLI's lock file names a webpki-roots the registry does not serve.
  cargo install wasm-bindgen-cli --version "$WB_VERSION" --force
fi

if [ ! -f "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  log "installing node packages"
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi

# A Python venv with the requirements file's packages; rebuilt when the file changes.
ensure_venv() {
  local venv="$1" reqs="$2" what="$3"
  if [ ! -x "$venv/bin/python" ] || ! cmp -s "$reqs" "$venv/.flowbook-requirements"; then
    log "creating the Python venv with $what (a few minutes, once per machine)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$reqs"
    cp "$reqs" "$venv/.flowbook-requirements"
  fi
}
ensure_venv "$VENV" "$ROOT/tests/compat/requirements.txt" "mlflow $MLFLOW_VERSION"
export FLOWBOOK_PYTHON="$VENV/bin/python"
# MLflow 2.x in its own venv: the compatibility tests open Flowbook's mlruns export with it too.
VENV2="$FLOWBOOK_CACHE/venv-mlflow2"
ensure_venv "$VENV2" "$ROOT/tests/compat/requirements-mlflow2.txt" "mlflow 2.22.1"
export FLOWBOOK_MLFLOW2_PYTHON="$VENV2/bin/python"

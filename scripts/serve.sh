#!/usr/bin/env bash
# The run command: installs what is missing, builds the release app, serves it on http://127.0.0.1:8080/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
trunk build --release
exec node scripts/static-server.mjs dist --port "${PORT:-8080}" --base /

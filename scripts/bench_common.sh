# Shared start of every bench script (sourced): the project's tools and venv (setup.sh), the
# repository as the working directory, and a scratch folder $WORK removed on exit.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

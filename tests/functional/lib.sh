# Shared helpers for functional tests (sourced). Every test gets $VIGIL (the binary),
# $VG_SOURCE_DIR and a fresh $WORK directory that is removed on exit.
set -euo pipefail
: "${VIGIL:?VIGIL must point to the vigil binary}"
: "${VG_SOURCE_DIR:?}"
WORK=$(mktemp -d /tmp/vigil-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export VIGIL_TOKEN_KEY=functional-test-key
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok - $*"; }
# json_get FILE EXPR: evaluates a python expression over the list of JSON lines `J`.
json_eval() { python3 -c "import json,sys; J=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]; print($2)" "$1"; }

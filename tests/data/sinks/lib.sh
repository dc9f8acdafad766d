# lib.sh — shared helpers for the sink integration tests (sourced, not run).
# They start real servers on free loopback ports inside a per-test temporary directory and
# stop them on exit. Nothing here needs root or touches a non-loopback address.

set -euo pipefail

: "${VIGIL:?VIGIL must point at the vigil binary}"
: "${VG_SOURCE_DIR:?}"
SINKS_DATA="$VG_SOURCE_DIR/tests/data/sinks"
GEN="$SINKS_DATA/gen-traffic.py"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/vg-sinks-it.XXXXXX")
PIDS=()

cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        { kill -9 "$p" && wait "$p"; } 2>/dev/null || true
    done
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

need() {
    command -v "$1" >/dev/null || { echo "SKIP: $1 not installed" >&2; exit 0; }
}

free_port() {
    python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); t = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
p = s.getsockname()[1]; t.bind(("127.0.0.1", p)); print(p)'
}

# wait_for CMD... : retries CMD for up to 10 s
wait_for() {
    local i
    for i in $(seq 1 200); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.05
    done
    return 1
}

# ---- Redis ----
REDIS_PORT=""
REDIS_PID=""
# start_redis [persist]: with an append-only file, so that a stop and start keeps the data
start_redis() {
    need redis-server
    [ -n "$REDIS_PORT" ] || REDIS_PORT=$(free_port)
    mkdir -p "$WORK/redis"
    local persist=(--appendonly no)
    [ "${1:-}" = persist ] && persist=(--appendonly yes --appendfsync everysec)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' "${persist[@]}" \
        --dir "$WORK/redis" --loglevel warning --logfile "$WORK/redis/log" &
    REDIS_PID=$!
    PIDS+=("$REDIS_PID")
    wait_for rcli PING || fail "redis-server did not start"
}
# stop_redis [-9]: SIGTERM (Redis flushes its append-only file and exits) or SIGKILL
stop_redis() {
    kill "${1:--TERM}" "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
}
rcli() {
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"
}
# the event ids in a stream, one per line, in stream order
redis_stream_ids() {
    rcli --raw XRANGE "$1" - + | awk 'prev == "id" { print } { prev = $0 }'
}

# ---- rsyslog ----
RS_UDP=""
RS_TCP=""
RS_PID=""
# start_rsyslog: imudp and imtcp on loopback; what it parsed goes to $WORK/rsyslog/out.log
start_rsyslog() {
    need rsyslogd
    [ -n "$RS_UDP" ] || RS_UDP=$(free_port)
    [ -n "$RS_TCP" ] || RS_TCP=$(free_port)
    mkdir -p "$WORK/rsyslog"
    cat >"$WORK/rsyslog/rsyslog.conf" <<CONF
global(workDirectory="$WORK/rsyslog" maxMessageSize="64k")
module(load="imudp")
module(load="imtcp")
input(type="imudp" port="$RS_UDP" address="127.0.0.1" ruleset="vigil" rcvbufSize="8m")
input(type="imtcp" port="$RS_TCP" address="127.0.0.1" ruleset="vigil")
template(name="parsed" type="string"
         string="%inputname%|%pri%|%app-name%|%procid%|%msgid%|%structured-data%|%msg%\n")
ruleset(name="vigil") {
    action(type="omfile" file="$WORK/rsyslog/out.log" template="parsed")
}
CONF
    rsyslogd -n -f "$WORK/rsyslog/rsyslog.conf" -i "$WORK/rsyslog/pid" \
        >>"$WORK/rsyslog/stderr" 2>&1 &
    RS_PID=$!
    PIDS+=("$RS_PID")
    wait_for bash -c "exec 3<>/dev/tcp/127.0.0.1/$RS_TCP" || fail "rsyslogd did not start"
}
stop_rsyslog() {
    kill -TERM "$RS_PID" 2>/dev/null || true
    wait "$RS_PID" 2>/dev/null || true
    rm -f "$WORK/rsyslog/pid"
}

# ---- vigil ----
# reference_ids FILE: the event ids vigil raises for FILE (a plain replay to a file sink)
reference_ids() {
    cat >"$WORK/ref.yml" <<CONF
sinks:
  - type: file
    path: $WORK/ref.json
spool:
  dir: $WORK/ref-spool
CONF
    rm -f "$WORK/ref.json"
    "$VIGIL" replay -q -c "$WORK/ref.yml" "$1" 2>"$WORK/ref.stderr" ||
        fail "reference replay failed: $(cat "$WORK/ref.stderr")"
    json_ids <"$WORK/ref.json"
}
# json_ids: event ids of JSON lines on stdin
json_ids() {
    python3 -c 'import json, sys
for line in sys.stdin:
    print(json.loads(line)["event"]["id"])'
}
# assert_exactly_once EXPECTED GOT: same set, no duplicates in GOT
assert_exactly_once() {
    local dup
    dup=$(sort "$2" | uniq -d | head -3)
    [ -z "$dup" ] || fail "duplicates in $2: $dup"
    assert_at_least_once "$1" "$2"
    [ "$(sort -u "$1" | wc -l)" = "$(wc -l <"$2")" ] || fail "$2 has ids that were not expected"
}
# assert_at_least_once EXPECTED GOT: every expected id is in GOT
assert_at_least_once() {
    local missing
    missing=$(comm -23 <(sort -u "$1") <(sort -u "$2") | wc -l)
    [ "$missing" = 0 ] || fail "$missing of $(sort -u "$1" | wc -l) expected ids missing from $2 (e.g. $(comm -23 <(sort -u "$1") <(sort -u "$2") | head -2 | tr '\n' ' '))"
}

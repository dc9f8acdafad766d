#!/usr/bin/env bash
# The metrics endpoint of `vigil run`: /healthz, /readyz, /metrics scraped with curl while
# vigil follows a file; the exposition checked by promtool (Debian's prometheus package,
# when installed) and by a strict parser; the counters match what was read and sent; no
# raw token in it; SIGTERM stops it; a bad metrics: section is refused with its line;
# metrics.enabled: false does not listen.
. "$(dirname "$0")/lib.sh"
D=$VG_SOURCE_DIR/tests/data/replay
CHECK="python3 $VG_SOURCE_DIR/tests/data/metrics/check-exposition.py"
TOKEN=tk_live_4f8a9b2c7d1e3f5a6b8c9d0e
command -v curl >/dev/null || fail "curl is needed"

cp "$D/mixed.jsonl" "$WORK/in.jsonl"
cat > "$WORK/vigil.yml" <<YML
input:
  files: [$WORK/in.jsonl]
  follow: true
builtin:
  plaintext_http: true
rules:
  paths: []
sinks:
  - type: file
    path: $WORK/alerts.jsonl
spool:
  dir: $WORK/spool
metrics:
  listen: 127.0.0.1:0
YML

"$VIGIL" run -q -c "$WORK/vigil.yml" 2>"$WORK/log.txt" &
pid=$!
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap 'stop; rm -rf "$WORK"' EXIT

port=
for _ in $(seq 100); do
  port=$(sed -n 's/.*msg="metrics endpoint listening".* port=\([0-9]*\).*/\1/p' "$WORK/log.txt")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || fail "vigil run exited: $(cat "$WORK/log.txt")"
  sleep 0.1
done
[ -n "$port" ] || fail "vigil run did not start the metrics endpoint: $(cat "$WORK/log.txt")"
URL=http://127.0.0.1:$port
pass "metrics endpoint on loopback port $port"

[ "$(curl -fsS "$URL/healthz")" = ok ] || fail "/healthz"
pass "/healthz"

# wait until the file has been read and its alerts delivered
get() { curl -fsS "$URL/metrics" | $CHECK --get "$1"; }
for _ in $(seq 100); do
  ev=$(get 'vigil_events_total{source="files"}' 2>/dev/null || true)
  sent=$(get 'vigil_sink_delivered_total{sink="file",type="file"}' 2>/dev/null || true)
  [ "$ev" = 5 ] && [ "${sent:-0}" -ge 2 ] && break
  sleep 0.1
done
[ "$ev" = 5 ] || fail "vigil_events_total is '$ev', expected 5"
pass "events counted"

code=$(curl -s -o "$WORK/ready.txt" -w '%{http_code}' "$URL/readyz")
[ "$code" = 200 ] && [ "$(cat "$WORK/ready.txt")" = ready ] || fail "/readyz: $code $(cat "$WORK/ready.txt")"
pass "/readyz"

curl -fsS -D "$WORK/headers.txt" "$URL/metrics" >"$WORK/metrics.txt" || fail "GET /metrics"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$WORK/headers.txt" || fail "content type"
$CHECK <"$WORK/metrics.txt" >/dev/null || fail "exposition format (see above)"
pass "exposition format (strict parser)"
if command -v promtool >/dev/null; then
  promtool check metrics <"$WORK/metrics.txt" || fail "promtool check metrics"
  pass "promtool check metrics"
else
  echo "# promtool not installed (Debian package prometheus): skipped its check"
fi

m() { $CHECK --get "$1" <"$WORK/metrics.txt" || fail "no sample $1"; }
[ "$(m 'vigil_lines_total{source="files"}')" = 7 ] || fail "lines"
[ "$(m 'vigil_lines_bad_total{source="files",reason="invalid_json"}')" = 1 ] || fail "bad json"
[ "$(m 'vigil_lines_bad_total{source="files",reason="no_time"}')" = 1 ] || fail "bad no_time"
[ "$(m 'vigil_lines_bad_total{source="files",reason="too_long"}')" = 0 ] || fail "too_long"
n_alerts=$(grep -c . "$WORK/alerts.jsonl")
[ "$(m 'vigil_sink_delivered_total{sink="file",type="file"}')" = "$n_alerts" ] \
  || fail "delivered $(m 'vigil_sink_delivered_total{sink="file",type="file"}') != $n_alerts alerts in the file"
[ "$(m 'vigil_alerts_sent_total{rule="vigil.plaintext_http",severity="medium"}')" = "$n_alerts" ] \
  || fail "alerts by rule"
[ "$(m 'vigil_sink_up{sink="file",type="file"}')" = 1 ] || fail "sink up"
[ "$(m 'vigil_sink_spool_records{sink="file",type="file"}')" = 0 ] || fail "spool depth"
[ "$(m 'vigil_alerts_pending')" = 0 ] || fail "pending alerts"
wm=$(m 'vigil_watermark_seconds{source="files"}')
python3 -c "import sys; sys.exit(0 if float('$wm') > 1.5e9 else 1)" || fail "watermark $wm"
grep -q '^vigil_build_info{version="' "$WORK/metrics.txt" || fail "build info"
grep -q '^process_resident_memory_bytes ' "$WORK/metrics.txt" || fail "process memory"
pass "counters match the input and the alerts delivered ($n_alerts)"
[ "$(m 'vigil_rules_generation')" = 1 ] || fail "rules generation"
[ "$(m 'vigil_rules_loaded{kind="detection"}')" = 0 ] || fail "rules loaded"
[ "$(m 'vigil_model_memory_budget_bytes')" = 134217728 ] || fail "model budget"
python3 -c "import sys; sys.exit(0 if float('$(m 'vigil_model_keys_tracked')') > 0 else 1)" \
  || fail "model keys tracked: $(m 'vigil_model_keys_tracked')"
m 'vigil_model_keys_evicted_total' >/dev/null
[ "$(m 'vigil_model_events_late_total')" = 0 ] || fail "model late: $(m 'vigil_model_events_late_total')"
pass "models' keys and memory, rule-set generation"
! grep -q "$TOKEN" "$WORK/metrics.txt" "$WORK/log.txt" || fail "raw token in metrics or log"
pass "no raw token in the metrics"

code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/other")
[ "$code" = 404 ] || fail "unknown path answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/metrics")
[ "$code" = 405 ] || fail "POST answered $code"
pass "404 and 405"

kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "vigil run did not stop on SIGTERM"
wait "$pid" && rc=0 || rc=$?
[ "$rc" = 0 ] || fail "vigil run exited $rc after SIGTERM: $(cat "$WORK/log.txt")"
curl -s -o /dev/null "$URL/healthz" && fail "endpoint still answers after exit"
pass "SIGTERM stops vigil and its endpoint"

# a bad metrics: section is a configuration error with its location
sed -i 's/  listen: 127.0.0.1:0/  listen: nowhere/' "$WORK/vigil.yml"
line=$(grep -n 'listen: nowhere' "$WORK/vigil.yml" | cut -d: -f1)
"$VIGIL" run -q -c "$WORK/vigil.yml" 2>"$WORK/err.txt" && fail "bad listen accepted"
rc=$?
[ "$rc" = 2 ] || fail "bad listen: exit $rc"
grep -q "vigil.yml:$line:11: metrics.listen: 'nowhere' is not host:port" "$WORK/err.txt" \
  || fail "bad listen message: $(cat "$WORK/err.txt")"
pass "bad metrics.listen refused with file:line:col"

# enabled: false: no endpoint (the input ends: follow off)
sed -i 's/  listen: nowhere/  listen: 127.0.0.1:0\n  enabled: false/; s/  follow: true/  follow: false/' \
  "$WORK/vigil.yml"
timeout 20 "$VIGIL" run -q -c "$WORK/vigil.yml" 2>"$WORK/log2.txt" || fail "run without metrics: $(cat "$WORK/log2.txt")"
! grep -q "metrics endpoint listening" "$WORK/log2.txt" || fail "metrics.enabled: false listened"
pass "metrics.enabled: false"

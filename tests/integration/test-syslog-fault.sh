#!/usr/bin/env bash
# test-syslog-fault.sh — the TCP syslog receiver (rsyslogd) is stopped in the middle of a
# replay and started again: vigil notices, spools, reconnects, resends the tail of the
# broken connection and delivers the spool. Plain TCP syslog has no acknowledgements, so
# the guarantee is "at least once, with the same event id" (duplicates are allowed and
# counted); every expected alert must be in rsyslog's output with its fields intact.
source "$VG_SOURCE_DIR/tests/data/sinks/lib.sh"
need rsyslogd

N=20000
python3 "$GEN" $N >"$WORK/in.jsonl"
reference_ids "$WORK/in.jsonl" >"$WORK/expected"
cp "$WORK/ref.json" "$WORK/ref-alerts.json"

start_rsyslog
cat >"$WORK/vigil.yml" <<CONF
sinks:
  - type: syslog
    transport: tcp
    port: $RS_TCP
    connect_timeout: 200ms
spool:
  dir: $WORK/spool
  retry_min: 20ms
  retry_max: 200ms
CONF
"$VIGIL" replay -q -c "$WORK/vigil.yml" "$WORK/in.jsonl" 2>"$WORK/stderr" &
VPID=$!
wait_for bash -c "[ \$(grep -c '^imtcp|' '$WORK/rsyslog/out.log' 2>/dev/null) -ge 1000 ]" ||
    fail "nothing arrives at rsyslog: $(cat "$WORK/stderr")"
stop_rsyslog
kill -0 $VPID 2>/dev/null || fail "the replay ended before the restart: make the input longer"
sleep 1
start_rsyslog
if ! wait $VPID; then
    grep -q 'alerts left in the spool for the next start' "$WORK/stderr" ||
        fail "replay failed: $(cat "$WORK/stderr")"
    "$VIGIL" replay -q -c "$WORK/vigil.yml" /dev/null 2>>"$WORK/stderr" ||
        fail "spool delivery failed: $(cat "$WORK/stderr")"
fi
grep -q 'msg="sink write failed, spooling"' "$WORK/stderr" || fail "the restart was not noticed"
grep -q 'msg="sink recovered"' "$WORK/stderr" || fail "no recovery logged"

n=$(wc -l <"$WORK/expected")
wait_for bash -c "[ \$(grep -c '^imtcp|' '$WORK/rsyslog/out.log') -ge $n ]" || true
python3 "$SINKS_DATA/check-syslog.py" "$WORK/ref-alerts.json" "$WORK/rsyslog/out.log" imtcp ||
    fail "alerts lost across the receiver restart"
echo "PASS: $n alerts at least once across a TCP receiver restart ($(grep -c '^imtcp|' "$WORK/rsyslog/out.log") messages received)"

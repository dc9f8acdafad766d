#!/usr/bin/env bash
# test-syslog.sh — vigil replay into a real rsyslogd over UDP and TCP (octet counting):
# every alert arrives, and rsyslog's own RFC 5424 parser finds the fields where they
# belong (%pri%, %app-name%, %msgid%, %structured-data% with escaping, %msg% = the JSON).
source "$VG_SOURCE_DIR/tests/data/sinks/lib.sh"
need rsyslogd

python3 "$GEN" 300 >"$WORK/in.jsonl"
reference_ids "$WORK/in.jsonl" >"$WORK/expected"
cp "$WORK/ref.json" "$WORK/ref-alerts.json"

start_rsyslog
cat >"$WORK/vigil.yml" <<CONF
sinks:
  - type: syslog
    name: siem-tcp
    transport: tcp
    port: $RS_TCP
  - type: syslog
    name: siem-udp
    transport: udp
    port: $RS_UDP
    facility: local0
spool:
  dir: $WORK/spool
CONF
"$VIGIL" replay -q -c "$WORK/vigil.yml" "$WORK/in.jsonl" 2>"$WORK/stderr" ||
    fail "replay failed: $(cat "$WORK/stderr")"

n=$(wc -l <"$WORK/expected")
wait_for bash -c "[ \$(grep -c '^imtcp|' '$WORK/rsyslog/out.log') -ge $n ] && [ \$(grep -c '^imudp|' '$WORK/rsyslog/out.log') -ge $n ]" ||
    true # the checks below say what is missing
python3 "$SINKS_DATA/check-syslog.py" "$WORK/ref-alerts.json" "$WORK/rsyslog/out.log" imtcp --once ||
    fail "TCP syslog"
python3 "$SINKS_DATA/check-syslog.py" "$WORK/ref-alerts.json" "$WORK/rsyslog/out.log" imudp --once ||
    fail "UDP syslog"
echo "PASS: $n alerts over TCP and UDP, fields parsed by rsyslog as sent"

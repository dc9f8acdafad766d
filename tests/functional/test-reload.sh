#!/usr/bin/env bash
# vigil run on a followed file: SIGHUP reloads the rules (a new rule fires afterwards), a
# broken rule set is refused and the running one keeps working, SIGTERM stops cleanly.
. "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/rules"
rule() { # rule FILE ID TITLE PATH
  cat >"$WORK/rules/$1" <<YML
title: $3
id: $2
level: high
logsource: {category: webserver}
detection:
  sel: {path|startswith: '$4'}
  condition: sel
YML
}
rule a.yml 11111111-1111-4111-8111-111111111111 "Path A" /alpha
cat >"$WORK/vigil.yml" <<YML
input: {files: ["$WORK/access.jsonl"], follow: true}
rules: {paths: ["$WORK/rules"]}
models: {enabled: false}
alerts: {cooldown: 0}
metrics: {enabled: false}
YML
: >"$WORK/access.jsonl"
"$VIGIL" run -c "$WORK/vigil.yml" >"$WORK/alerts.jsonl" 2>"$WORK/log.txt" &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$WORK"' EXIT
line() { printf '{"time":"2026-03-02T10:00:%02d.000Z","client_ip":"203.0.113.9","method":"GET","scheme":"https","path":"%s","status":200,"request_id":"r%s"}\n' "$1" "$2" "$1" >>"$WORK/access.jsonl"; }
wait_for() { # wait_for PATTERN FILE
  for _ in $(seq 1 100); do grep -q "$1" "$2" && return 0; sleep 0.1; done
  fail "timed out waiting for $1 in $2: $(tail -5 "$2")"
}
line 1 /alpha/x
wait_for 11111111-1111-4111-8111-111111111111 "$WORK/alerts.jsonl"
pass "rule A fires"

rule b.yml 22222222-2222-4222-8222-222222222222 "Path B" /beta
kill -HUP $pid
wait_for "rules reloaded" "$WORK/log.txt"
line 2 /beta/y
wait_for 22222222-2222-4222-8222-222222222222 "$WORK/alerts.jsonl"
pass "SIGHUP loads a new rule"

printf 'title: broken\ndetection:\n  sel: {path|nosuchmodifier: x}\n  condition: sel\n' >"$WORK/rules/c.yml"
kill -HUP $pid
wait_for "rules not reloaded" "$WORK/log.txt"
grep -q "c.yml:3" "$WORK/log.txt" || fail "reload error without location: $(cat "$WORK/log.txt")"
line 3 /beta/z
wait_for '"r3"' "$WORK/alerts.jsonl"
pass "a broken rule set is refused, the running one stays"

kill -TERM $pid
for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
! kill -0 $pid 2>/dev/null || fail "vigil did not stop on SIGTERM"
wait $pid || fail "vigil run exited $?"
pass "SIGTERM stops vigil run"

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
trap 'kill $pid 2>/dev/null || true; rm -rf "$WORK"' EXIT
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

# SIGHUP re-reads vigil.yml: a rule waiting for an expand list becomes active when the
# list appears; a broken vigil.yml is refused and what runs stays
rm -f "$WORK/rules/c.yml"
cat >"$WORK/rules/vip.yml" <<YML
title: VIP path
id: 44444444-4444-4444-8444-444444444444
level: high
logsource: {category: webserver}
detection:
  sel: {path|expand: '%vip_paths%'}
  condition: sel
YML
before=$(grep -c "rules reloaded" "$WORK/log.txt")
sed -i "s|^rules: .*|rules: {paths: [\"$WORK/rules\"], expand: {vip_paths: [/vip/one]}}|" "$WORK/vigil.yml"
kill -HUP $pid
for _ in $(seq 1 100); do
  [ "$(grep -c "rules reloaded" "$WORK/log.txt")" -gt "$before" ] && break; sleep 0.1
done
line 4 /vip/one
wait_for 44444444-4444-4444-8444-444444444444 "$WORK/alerts.jsonl"
pass "SIGHUP re-reads vigil.yml: rules.expand takes effect"
cp "$WORK/vigil.yml" "$WORK/vigil.yml.good"
echo "bogus_section: 1" >>"$WORK/vigil.yml"
kill -HUP $pid
wait_for "configuration not reloaded" "$WORK/log.txt"
cp "$WORK/vigil.yml.good" "$WORK/vigil.yml"
line 5 /vip/one
wait_for '"r5"' "$WORK/alerts.jsonl"
pass "a broken vigil.yml is refused, the running configuration stays"

# SIGUSR1: a status line
kill -USR1 $pid
wait_for 'msg=status lines=5 events=5' "$WORK/log.txt"
pass "SIGUSR1 logs a status summary"

# reloads under a steady stream: every line judged once, no alert lost or duplicated
rm -f "$WORK/rules/c.yml"
rule all.yml 33333333-3333-4333-8333-333333333333 "Every request" /
before=$(grep -c "rules reloaded" "$WORK/log.txt")
kill -HUP $pid
for _ in $(seq 1 100); do
  [ "$(grep -c "rules reloaded" "$WORK/log.txt")" -gt "$before" ] && break; sleep 0.1
done
( for i in $(seq 1000 2999); do
    printf '{"time":"2026-03-02T10:01:00.000Z","client_ip":"198.51.100.%d","method":"GET","path":"/load/%d","status":200,"request_id":"load-%d"}\n' $((i % 250)) "$i" "$i"
    if [ $((i % 100)) = 0 ]; then sleep 0.05; fi
  done >>"$WORK/access.jsonl" ) &
writer=$!
for _ in 1 2 3 4 5; do sleep 0.1; kill -HUP $pid; done
wait $writer
wait_for '"load-2999"' "$WORK/alerts.jsonl"
sleep 0.5
n=$(grep -o '"load-[0-9]*"' "$WORK/alerts.jsonl" | sort | uniq -c | awk '$1 > 1' | wc -l)
[ "$n" = 0 ] || fail "$n request ids alerted more than once by the Path A/B/all rules"
m=$(grep '33333333-3333-4333-8333-333333333333' "$WORK/alerts.jsonl" | grep -o '"load-[0-9]*"' | sort -u | wc -l)
[ "$m" = 2000 ] || fail "expected 2000 events judged by the every-request rule, got $m"
pass "five reloads under a stream: 2000 events, each alerted once"

kill -TERM $pid
for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
! kill -0 $pid 2>/dev/null || fail "vigil did not stop on SIGTERM"
wait $pid || fail "vigil run exited $?"
pass "SIGTERM stops vigil run"

# log.level: warn hides the info lines
printf 'log: {level: warn}\nrules: {paths: ["%s/rules"]}\nmodels: {enabled: false}\n' "$WORK" >"$WORK/quiet.yml"
"$VIGIL" replay -q -c "$WORK/quiet.yml" "$WORK/access.jsonl" >/dev/null 2>"$WORK/q.txt"
! grep -q "level=info" "$WORK/q.txt" || fail "log.level warn still logs info: $(head -2 "$WORK/q.txt")"
pass "log.level"

#!/usr/bin/env bash
# vigil config: --defaults is the committed packaging/vigil.yml, which `vigil check`
# accepts; --dump shows the effective configuration (defaults filled in, environment
# overrides applied), is itself a valid config and a fixpoint, masks every secret; errors
# carry file:line:col; usage errors exit 2.
. "$(dirname "$0")/lib.sh"
EXAMPLE=$VG_SOURCE_DIR/packaging/vigil.yml

"$VIGIL" config --defaults >"$WORK/defaults.yml" || fail "config --defaults exited $?"
diff -u "$EXAMPLE" "$WORK/defaults.yml" >"$WORK/diff.txt" \
  || fail "packaging/vigil.yml is stale; regenerate it with
  vigil config --defaults > packaging/vigil.yml
$(cat "$WORK/diff.txt")"
pass "packaging/vigil.yml is what config --defaults prints"
grep -q '^  # HMAC key for token ids' "$EXAMPLE" || fail "help text missing from the example"
grep -q '^  token_key: null$' "$EXAMPLE" || fail "token_key not in the example"
grep -q '^# kafka:$' "$EXAMPLE" || fail "kafka section should be commented out"
pass "example is annotated"

"$VIGIL" check -c "$EXAMPLE" >"$WORK/check.txt" 2>&1 || fail "vigil check rejects the example:
$(cat "$WORK/check.txt")"
pass "vigil check -c packaging/vigil.yml"

# the sections only `vigil run` reads are checked as run loads them, every error reported
cat >"$WORK/run-only.yml" <<'YML'
metrics:
  listen: "nohostport"
kafka:
  topics: [access]
  fetch_nice: 20
checkpoint:
  path: /tmp/state
  redis: {host: 127.0.0.1}
YML
rc=0
"$VIGIL" check -c "$WORK/run-only.yml" >"$WORK/run-only.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "vigil check of bad run-only sections exited $rc: $(cat "$WORK/run-only.txt")"
for want in "run-only.yml:2:11: metrics.listen: 'nohostport' is not host:port" \
  "run-only.yml:4:3: option 'brokers' is required" \
  "run-only.yml:8:10: checkpoint: path and redis exclude each other"; do
  grep -qF "$want" "$WORK/run-only.txt" || fail "vigil check did not say '$want': $(cat "$WORK/run-only.txt")"
done
sed -i 's/^  topics: \[access\]$/  brokers: 127.0.0.1:9092\n&/' "$WORK/run-only.yml"
rc=0
"$VIGIL" check -c "$WORK/run-only.yml" >"$WORK/run-only.txt" 2>&1 || rc=$?
grep -qF "run-only.yml:6:15: fetch_nice must be between 0 and 19" "$WORK/run-only.txt" ||
  fail "vigil check did not refuse kafka.fetch_nice 20: $(cat "$WORK/run-only.txt")"
pass "vigil check reports the metrics, kafka and checkpoint sections' errors as vigil run would"
# a section the pipeline refuses (models) does not hide the others' errors, nor is said twice
printf 'models:\n  bucket: nonsense\nkafka:\n  topics: [a]\n' >"$WORK/two.yml"
rc=0
"$VIGIL" check -c "$WORK/two.yml" >"$WORK/two.txt" 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "vigil check of two bad sections exited $rc: $(cat "$WORK/two.txt")"
[ "$(grep -cF "two.yml:2:11: 'nonsense' is not a duration" "$WORK/two.txt")" = 1 ] ||
  fail "vigil check: the models error not said once: $(cat "$WORK/two.txt")"
grep -qF "two.yml:4:3: option 'brokers' is required" "$WORK/two.txt" ||
  fail "vigil check: a models error hid the kafka one: $(cat "$WORK/two.txt")"
pass "vigil check: a pipeline error does not hide the other sections' errors"
printf 'checkpoint:\n  path: /tmp/state\n  redis: {host: 127.0.0.1}\n' >"$WORK/ckpt.yml"
! "$VIGIL" config --dump -c "$WORK/ckpt.yml" >/dev/null 2>"$WORK/ckpt.txt" ||
  fail "config --dump accepted checkpoint path and redis together"
grep -qF "ckpt.yml:3:10: checkpoint: path and redis exclude each other" "$WORK/ckpt.txt" ||
  fail "config --dump: $(cat "$WORK/ckpt.txt")"
pass "config --dump loads the checkpoint section as vigil run does (path and redis exclude each other)"

# --dump of the defaults and of the example are the same configuration
"$VIGIL" config --dump >"$WORK/dump0.yml" || fail "config --dump (no file)"
"$VIGIL" config --dump -c "$EXAMPLE" >"$WORK/dump1.yml" || fail "config --dump -c example"
diff <(grep -v '^# vigil' "$WORK/dump0.yml") <(grep -v '^# vigil' "$WORK/dump1.yml") \
  || fail "the example's effective config differs from the built-in defaults"
for s in input engine alerts privacy sinks spool metrics; do
  grep -q "^$s:" "$WORK/dump0.yml" || fail "section $s missing from the dump"
done
grep -q '^  max_line_bytes: 65536$' "$WORK/dump0.yml" || fail "input default not filled in"
grep -q '^  listen: "127.0.0.1:9464"$' "$WORK/dump0.yml" || fail "metrics default not filled in"
pass "config --dump fills in defaults for every section"

# secrets, in the engine's, a sink's, Kafka's and an unregistered module's sections
cat >"$WORK/secret.yml" <<'YML'
privacy:
  token_key: key-AAAA-1111
sinks:
  - type: redis
    name: soc
    password: pw-BBBB-2222
  - type: stdout
kafka:
  brokers: 127.0.0.1:9
  topics: [logs]
  properties:
    sasl.password: pw-CCCC-3333
    security.protocol: SASL_SSL
rules:
  paths: []
  expand:
    known_tokens: [tk-DDDD-4444, tk-EEEE-5555]
metrics:
  listen: 127.0.0.1:9999
YML
VIGIL_TOKEN_KEY=env-FFFF-6666 VIGIL_METRICS_LISTEN=127.0.0.1:9100 \
  "$VIGIL" config --dump -c "$WORK/secret.yml" >"$WORK/dump2.yml" 2>"$WORK/err.txt" \
  || fail "dump of secrets: $(cat "$WORK/err.txt")"
for secret in AAAA BBBB CCCC DDDD EEEE FFFF; do
  ! grep -q "$secret" "$WORK/dump2.yml" "$WORK/err.txt" || fail "secret $secret in the dump"
done
[ "$(grep -c '"\*\*\*\*\*\*\*\*"' "$WORK/dump2.yml")" -ge 5 ] || fail "secrets not shown masked"
grep -q '^    security.protocol: "SASL_SSL"$' "$WORK/dump2.yml" || fail "kafka property lost"
grep -q '^    name: soc$' "$WORK/dump2.yml" || fail "sink name lost"
grep -q '^    port: 6379$' "$WORK/dump2.yml" || fail "sink default not filled in"
grep -q '^  listen: "127.0.0.1:9100"$' "$WORK/dump2.yml" || fail "environment override not applied"
pass "config --dump masks secrets and applies environment overrides"

# the dump is a valid configuration whose dump is itself
"$VIGIL" config --dump -c "$WORK/dump1.yml" >"$WORK/dump3.yml" || fail "dump of a dump"
diff <(grep -v '^# vigil' "$WORK/dump1.yml") <(grep -v '^# vigil' "$WORK/dump3.yml") \
  || fail "dump is not a fixpoint"
pass "config --dump output is a valid config (fixpoint)"

# errors with their location
printf 'spool:\n  max_bytes: 12\n' >"$WORK/bad1.yml"
"$VIGIL" config --dump -c "$WORK/bad1.yml" >/dev/null 2>"$WORK/err1.txt" && fail "bad spool accepted"
grep -q "bad1.yml:2:14: max_bytes must be between" "$WORK/err1.txt" || fail "$(cat "$WORK/err1.txt")"
printf 'metrics:\n  enabled: true\n  listen: somewhere\n' >"$WORK/bad2.yml"
"$VIGIL" config --dump -c "$WORK/bad2.yml" >/dev/null 2>"$WORK/err2.txt" && fail "bad listen accepted"
grep -q "bad2.yml:3:11: metrics.listen: 'somewhere'" "$WORK/err2.txt" || fail "$(cat "$WORK/err2.txt")"
printf 'sinks:\n  - type: nosuch\n' >"$WORK/bad3.yml"
"$VIGIL" config --dump -c "$WORK/bad3.yml" >/dev/null 2>"$WORK/err3.txt" && fail "bad sink accepted"
grep -q "bad3.yml:2:11: sinks: each sink needs a type: of a known sink" "$WORK/err3.txt" \
  || fail "$(cat "$WORK/err3.txt")"
pass "configuration errors carry file:line:col"

set +e
"$VIGIL" config >/dev/null 2>&1
rc1=$?
"$VIGIL" config --dump --defaults >/dev/null 2>&1
rc2=$?
"$VIGIL" config --dump extra >/dev/null 2>&1
rc3=$?
set -e
[ "$rc1$rc2$rc3" = 222 ] || fail "usage errors exit $rc1 $rc2 $rc3, expected 2"
pass "usage errors exit 2"

#!/usr/bin/env bash
# vigil explain: for every format preset, a sample written the way the gateway writes it
# (tests/data/formats/) plus bad lines, decoded to exactly the expected canonical events
# (tests/data/explain/<preset>.expected.jsonl: line number and event, or the bad reason).
# Also: tokens never appear raw, --fields, --only-matches, --pretty, rules and selections.
. "$(dirname "$0")/lib.sh"
F=$VG_SOURCE_DIR/tests/data/formats
E=$VG_SOURCE_DIR/tests/data/explain

project='import json,sys
for l in sys.stdin:
    o=json.loads(l)
    if "end" in o: continue
    p={"line":o["line"]}
    if "bad" in o: p["bad"]=o["bad"]
    else: p["event"]=o["event"]
    print(json.dumps(p,sort_keys=True))'

for f in "$F"/*; do
  preset=$(basename "$f"); preset=${preset%.*}
  cp "$f" "$WORK/in"
  printf '%s\n' 'garbage that is no log line {' >>"$WORK/in"
  printf 'bad utf8 \xff\xfe line\n' >>"$WORK/in"
  "$VIGIL" explain --format "$preset" "$WORK/in" >"$WORK/out.jsonl" || fail "$preset: explain exited $?"
  python3 -c "$project" <"$WORK/out.jsonl" >"$WORK/got.jsonl"
  if [ "${UPDATE_EXPECTED:-}" = 1 ]; then cp "$WORK/got.jsonl" "$E/$preset.expected.jsonl"; fi
  diff -u "$E/$preset.expected.jsonl" "$WORK/got.jsonl" || fail "$preset: events differ from $E/$preset.expected.jsonl"
  # the source names the file; every line is accounted for
  n_in=$(grep -c '' "$WORK/in"); n_out=$(grep -vc '"end":true' "$WORK/out.jsonl")
  [ "$n_in" = "$n_out" ] || fail "$preset: $n_in lines in, $n_out objects out"
  grep -q "\"source\":\"$WORK/in\"" "$WORK/out.jsonl" || fail "$preset: source missing"
  pass "explain --format $preset"
done

# tokens: never raw, always the token_id of the configured key
TOKEN=tk_live_4f8a9b2c7d1e3f5a6b8c9d0e
"$VIGIL" explain "$VG_SOURCE_DIR/tests/data/replay/mixed.jsonl" >"$WORK/mixed.jsonl"
! grep -q "$TOKEN" "$WORK/mixed.jsonl" || fail "raw token in explain output"
tid=$(python3 -c "import hmac,hashlib;print(hmac.new(b'functional-test-key',b'$TOKEN',hashlib.sha256).hexdigest()[:16])")
grep -q "\"token\":\"$tid\"" "$WORK/mixed.jsonl" || fail "token_id not shown"
pass "tokens shown as token_id only"

# rules with their selections; alerts by id
json_eval "$WORK/mixed.jsonl" "[r['selections'] for o in J for r in o.get('rules',[]) if r['id']=='ed8eb1e8-9066-460b-94d0-db9be5df1b08']" | grep -q "email_in_query" \
  || fail "rule selections missing: $(head -1 "$WORK/mixed.jsonl")"
json_eval "$WORK/mixed.jsonl" "sum(len(o['alerts']) for o in J)" | grep -qv '^0$' || fail "no alerts listed"
pass "rules, selections and alerts"

# --fields, --only-matches, --pretty
"$VIGIL" explain --fields time,status,endpoint "$VG_SOURCE_DIR/tests/data/replay/mixed.jsonl" >"$WORK/f.jsonl"
json_eval "$WORK/f.jsonl" "all(set(o['event'])<={'time','status','endpoint'} for o in J if 'event' in o)" | grep -qx True || fail "--fields"
"$VIGIL" explain --only-matches "$VG_SOURCE_DIR/tests/data/replay/mixed.jsonl" >"$WORK/m.jsonl"
json_eval "$WORK/m.jsonl" "all(o.get('rules') or o.get('alerts') for o in J)" | grep -qx True || fail "--only-matches"
[ "$(grep -c '' "$WORK/m.jsonl")" -lt "$(grep -c '' "$WORK/mixed.jsonl")" ] || fail "--only-matches filtered nothing"
"$VIGIL" explain --pretty "$VG_SOURCE_DIR/tests/data/replay/mixed.jsonl" | python3 -c '
import json,sys
text=sys.stdin.read(); dec=json.JSONDecoder(); i=0; n=0
while i < len(text):
    while i < len(text) and text[i].isspace(): i+=1
    if i >= len(text): break
    o,i=dec.raw_decode(text,i); n+=1
assert n >= 7, n' || fail "--pretty output is not a sequence of JSON objects"
set +e; "$VIGIL" explain --fields nosuch "$WORK/in" >/dev/null 2>&1; rc=$?; set -e
[ $rc = 2 ] || fail "--fields with an unknown field: exit $rc"
pass "--fields, --only-matches, --pretty"

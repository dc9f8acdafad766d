#!/usr/bin/env bash
# test-redis.sh — vigil replay into a real redis-server: every alert arrives once as a
# stream entry whose filter fields match its JSON; a second replay of the same input adds
# nothing (dedup by event.id); list mode and PUBLISH carry the same JSON.
source "$VG_SOURCE_DIR/tests/data/sinks/lib.sh"
need redis-server

python3 "$GEN" 400 >"$WORK/in.jsonl"
reference_ids "$WORK/in.jsonl" >"$WORK/expected"
[ "$(wc -l <"$WORK/expected")" -ge 400 ] || fail "expected at least 400 alerts"

start_redis
cat >"$WORK/vigil.yml" <<CONF
sinks:
  - type: redis
    port: $REDIS_PORT
    key: "vigil:alerts"
  - type: redis
    name: logstash
    port: $REDIS_PORT
    mode: list
    key: "vigil:list"
    maxlen: 0
    channel: "vigil:live"
spool:
  dir: $WORK/spool
CONF

# a subscriber on the channel, to check PUBLISH
rcli --raw SUBSCRIBE vigil:live >"$WORK/sub.out" &
SUB=$!
PIDS+=("$SUB")
wait_for grep -q vigil:live "$WORK/sub.out"

"$VIGIL" replay -q -c "$WORK/vigil.yml" "$WORK/in.jsonl" 2>"$WORK/stderr" ||
    fail "replay failed: $(cat "$WORK/stderr")"

redis_stream_ids vigil:alerts >"$WORK/got"
assert_exactly_once "$WORK/expected" "$WORK/got"

# the filter fields agree with the JSON of each entry
rcli --raw XRANGE vigil:alerts - + >"$WORK/xrange"
python3 - "$WORK/xrange" <<'PY' || fail "stream fields do not match the alert JSON"
import json, sys
lines = open(sys.argv[1]).read().split("\n")
entries, cur = [], None
i = 0
while i < len(lines):
    l = lines[i]
    if l and l[0].isdigit() and "-" in l and l.replace("-", "").isdigit():
        cur = {}
        entries.append(cur)
        i += 1
        continue
    if cur is not None and i + 1 < len(lines):
        cur[l] = lines[i + 1]
        i += 2
        continue
    i += 1
bad = 0
for e in entries:
    a = json.loads(e["alert"])
    ent = a["vigil"]["entity"]
    ok = (e["id"] == a["event"]["id"] and e["rule"] == a["rule"]["id"]
          and int(e["severity"]) == a["event"]["severity"] and e["entity"] == ent["type"]
          and e.get("token_id", "") == ent.get("token_id", "")
          and e.get("client_ip", "") == a.get("source", {}).get("ip", ent.get("client_ip", "")))
    if not ok:
        bad += 1
        if bad < 3:
            print("mismatch:", e, file=sys.stderr)
print(len(entries), "entries checked", file=sys.stderr)
sys.exit(1 if bad or not entries else 0)
PY

# list mode: the same alerts, as JSON strings
rcli --raw LRANGE vigil:list 0 -1 | json_ids >"$WORK/got-list"
assert_exactly_once "$WORK/expected" "$WORK/got-list"

# PUBLISH: every alert once on the channel
wait_for bash -c "[ \$(grep -c '\"event\"' '$WORK/sub.out') -ge $(wc -l <"$WORK/expected") ]" ||
    fail "subscriber got $(grep -c '"event"' "$WORK/sub.out") of $(wc -l <"$WORK/expected")"
grep '"event"' "$WORK/sub.out" | json_ids >"$WORK/got-pub"
assert_exactly_once "$WORK/expected" "$WORK/got-pub"

# replaying the same input again adds nothing: Redis drops known event ids
"$VIGIL" replay -q -c "$WORK/vigil.yml" "$WORK/in.jsonl" 2>"$WORK/stderr2" ||
    fail "second replay failed: $(cat "$WORK/stderr2")"
redis_stream_ids vigil:alerts >"$WORK/got2"
assert_exactly_once "$WORK/expected" "$WORK/got2"
[ "$(rcli LLEN vigil:list)" = "$(wc -l <"$WORK/expected")" ] || fail "list grew on replay"

echo "PASS: $(wc -l <"$WORK/expected") alerts in the stream, the list and the channel, once each"

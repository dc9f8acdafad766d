#!/usr/bin/env bash
# State that follows the partitions (checkpoint.redis): two `vigil run` processes in one
# group split the 4 partitions of the mock cluster and keep each partition's state in a
# real redis-server. One is killed with SIGKILL mid-stream; the survivor takes its
# partitions, loads their state from Redis and reads on from the offsets saved with it.
#
# The reference is `vigil replay` of each partition's messages on its own: with state per
# partition that is exactly what the daemons must raise, model alerts included, however
# the partitions move. A burst of one token (in a partition of the killed process, after
# the kill) is a model anomaly only against the baseline learned before the kill: a
# replay of that partition from the loaded offset without state stays quiet
# (models.start_buckets), so the survivor's alert proves the baselines came along.
# Alerts also go to a Redis stream (exactly once there). Then the survivor stops with
# SIGTERM (saving every partition), a third process loads all four and reads only what
# is new. a runs on one thread; b and c judge their partitions on two worker threads
# (engine.workers: 2), so the state also moves between the two ways of running.
. "$(dirname "$0")/lib-kafka.sh"

YML='models:
  bucket: 5s
  start_buckets: 180'

python3 "$GEN" 24000 3 >"$WORK/gen.tsv"
python3 "$GEN" 3000 4 24000 >"$WORK/later.tsv"
start_mock 3 access:4
start_redis
cat >"$WORK/vigil.yml" <<YML
alerts:
  cooldown: 0
$YML
metrics:
  listen: "127.0.0.1:0"
sinks:
  - type: stdout
  - type: redis
    port: $REDIS_PORT
    key: t:alerts
checkpoint:
  interval: 1s
  redis:
    port: $REDIS_PORT
    key_prefix: t:state
kafka:
  brokers: $BS
  topics: [access]
  group: vigil-shared
  commit_interval: 1s
  idle_timeout: 2s
  properties:
$KAFKA_TEST_PROPS
YML

head -6000 "$WORK/gen.tsv" >"$WORK/first.tsv"
produce "$WORK/first.tsv"
printf 'engine:\n  workers: 2\n' | cat "$WORK/vigil.yml" - >"$WORK/vigil-2.yml"
start_pair "$WORK/vigil.yml" "$WORK/vigil-2.yml" 4
PA=$(grep 'partitions assigned" count=2' "$WORK/a.err" | tail -1 | grep -o 'access/[0-9]*' | head -1 | cut -d/ -f2)
pass "two processes split the 4 partitions 2 + 2 (a has partition $PA)"
for v in a b; do
  # logged by the rebalance callback, just after "partitions assigned"
  wait_log "$WORK/$v.err" 'divided over the subscribed topics.*partitions=4 bytes_per_partition=33554432' 10 ||
    fail "$v did not divide models.memory_budget over the 4 partitions: $(grep -i budget "$WORK/$v.err")"
done
pass "both divide models.memory_budget (128 MiB) over the topic's 4 partitions: 32 MiB each"

# the burst: 300 requests of a token of a's partition $PA, at line 21000 (17.5 minutes of
# event time in: past start_buckets for a run that saw the partition from its start)
dump_partition "$PA" "$WORK/pa-first.dump"
KEY=$(head -1 "$WORK/pa-first.dump" | cut -f2 | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["token"])')
python3 - "$WORK/gen.tsv" "$KEY" >"$WORK/rest.tsv" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()[6000:]
at = 21000 - 6000
i = next(i for i in range(at, len(lines)) if lines[i].split("\t", 1)[0] == sys.argv[2])
key, js = lines[i].split("\t", 1)
ev = json.loads(js)
burst = [key + "\t" + json.dumps(dict(ev, request_id="burst-%04d" % n, scheme="https"),
                                 separators=(",", ":")) for n in range(300)]
print("\n".join(lines[:i] + burst + lines[i:]))
PY
split -l 1000 -d -a 3 "$WORK/rest.tsv" "$WORK/chunk."
(
  for f in "$WORK"/chunk.*; do
    kcat -P -b "$BS" -t access -K $'\t' -z lz4 <"$f" || exit 1
    sleep 0.3
  done
) &
P=$!
PIDS+=("$P")

# a saved its partitions' state at least once, then dies without a word
for i in $(seq 1 40); do
  [ "$(rcli EXISTS "t:state:vigil-shared:access:$PA")" = 1 ] && break
  sleep 0.1
done
[ "$(rcli EXISTS "t:state:vigil-shared:access:$PA")" = 1 ] || fail "no state of partition $PA in Redis"
sleep 1.5
kill_a
wait "$P" || fail "producer"

wait_log "$WORK/b.err" "partitions assigned\" count=4" 60 || fail "b did not take over a's partitions"
wait_log "$WORK/b.err" "partition state loaded.*partition=$PA " 5 || fail "b did not load partition $PA's state"
FROM=$(grep "partition state loaded.*partition=$PA " "$WORK/b.err" | tail -1 | grep -o 'next_offset=[0-9]*' | cut -d= -f2)
pass "the survivor took over all 4 partitions and loaded partition $PA's state (next offset $FROM) from Redis"

for p in 0 1 2 3; do replay_partition "$p" 0 "$YML" "$WORK/want-$p.ids"; done
sort -u "$WORK"/want-?.ids >"$WORK/want.ids"
model_ids "$WORK"/want-?.ids.jsonl >"$WORK/want-models.ids"
echo "   reference: $(wc -l <"$WORK/want.ids") alert ids ($(wc -l <"$WORK/want-models.ids") from models) of vigil replay per partition"
wait_ids "$WORK/want.ids" 90 "$WORK/a.jsonl" "$WORK/b.jsonl" ||
  fail "missing alerts: $(comm -23 "$WORK/want.ids" <(ids "$WORK/a.jsonl" "$WORK/b.jsonl") | wc -l) of $(wc -l <"$WORK/want.ids")"
extra=$(comm -13 "$WORK/want.ids" <(ids "$WORK/a.jsonl" "$WORK/b.jsonl") | grep -c . || true)
[ "$extra" = 0 ] || fail "$extra alert ids that the per-partition replay does not raise"
pass "every one of the $(wc -l <"$WORK/want.ids") expected alert ids is present, no other"
echo "   at-least-once: $(dup_count "$WORK/a.jsonl" "$WORK/b.jsonl") duplicate alert lines after the SIGKILL"

# the proof that the baselines moved: b's model alerts of partition $PA that a start
# without state from the same offset does not raise
replay_partition "$PA" "$FROM" "$YML" "$WORK/fresh.ids"
model_ids "$WORK/want-$PA.ids.jsonl" >"$WORK/pa-models.ids"
moved=$(comm -12 <(model_ids "$WORK/b.jsonl") "$WORK/pa-models.ids" | comm -23 - "$WORK/fresh.ids" | grep -c . || true)
[ "$moved" -gt 0 ] || fail "no model alert of partition $PA that needs the state from Redis"
pass "baselines moved with the partition: $moved model alerts after the takeover that a start without state does not raise"

stream=$(rcli --raw XRANGE t:alerts - + | awk 'prev == "id" { print } { prev = $0 }' | sort)
[ "$(echo "$stream" | sort -u | grep -c .)" = "$(wc -l <"$WORK/want.ids")" ] ||
  fail "Redis stream: $(echo "$stream" | sort -u | grep -c .) distinct ids, want $(wc -l <"$WORK/want.ids")"
[ "$(echo "$stream" | grep -c .)" = "$(wc -l <"$WORK/want.ids")" ] ||
  fail "Redis stream: $(echo "$stream" | grep -c .) entries for $(wc -l <"$WORK/want.ids") ids (duplicates)"
pass "the Redis stream holds each alert exactly once"

# graceful: b saves every partition on SIGTERM; c loads all four and reads only what is new
stop_vigil "$B" b 15
start_vigil c "$WORK/vigil-2.yml"
C=$VPID
wait_log "$WORK/c.err" "partitions assigned\" count=4" 40 || fail "c did not join"
for i in $(seq 1 40); do
  [ "$(grep -c 'partition state loaded' "$WORK/c.err")" = 4 ] && break
  sleep 0.25
done
[ "$(grep -c 'partition state loaded' "$WORK/c.err")" = 4 ] || fail "c did not load 4 states: $(grep -c 'partition state loaded' "$WORK/c.err")"
produce "$WORK/later.tsv"
for p in 0 1 2 3; do replay_partition "$p" 0 "$YML" "$WORK/all-$p.ids"; done
sort -u "$WORK"/all-?.ids | comm -23 - "$WORK/want.ids" >"$WORK/want-later.ids"
[ -s "$WORK/want-later.ids" ] || fail "the later traffic raises nothing: no test"
wait_ids "$WORK/want-later.ids" 60 "$WORK/c.jsonl" || fail "c: missing alerts of the later traffic"
sleep 1
extra=$(comm -13 "$WORK/want-later.ids" <(ids "$WORK/c.jsonl") | grep -c . || true)
[ "$extra" = 0 ] || fail "c raised $extra alert ids that are old or not in the reference"
stop_vigil "$C" c 15
grep -q 'kafka consumer closed.*lines=3000 ' "$WORK/c.err" ||
  fail "c did not read exactly the new lines: $(grep 'consumer closed' "$WORK/c.err")"
pass "SIGTERM saves every partition; the next process loads them and reads only the $(wc -l <"$WORK/want-later.ids") new alerts' traffic"

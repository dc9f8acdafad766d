#!/usr/bin/env bash
# Scale-out and failover on Kafka: two `vigil run` processes in one consumer group split
# the 6 partitions of the mock cluster; while kcat is still producing, one is killed with
# SIGKILL (no commit, no goodbye); the survivor takes its partitions over from their last
# committed offsets. At the end every alert id of `vigil replay` over the same events is
# present, no other id appears, and the at-least-once repeats are counted and reported.
. "$(dirname "$0")/lib-kafka.sh"

python3 "$GEN" 30000 3 >"$WORK/all.tsv"
replay_ids "$WORK/all.tsv" "$WORK/want.ids"
echo "   reference: $(wc -l <"$WORK/want.ids") alert ids from vigil replay"

start_mock 3 access:6
write_config "$WORK/vigil.yml" vigil-group

split -l 1000 -d -a 3 "$WORK/all.tsv" "$WORK/chunk."
produce "$WORK/chunk.000"
start_pair "$WORK/vigil.yml" "$WORK/vigil.yml" 6
pass "two processes in one group split the 6 partitions 3 + 3"

# keep producing while a dies; in order, so each token's requests stay in order (the
# alert stage folds an out-of-order older alert into a newer incident)
(
  for f in $(ls "$WORK"/chunk.* | tail -n +2); do
    kcat -P -b "$BS" -t access -K $'\t' -z lz4 <"$f" || exit 1
    sleep 0.2
  done
) &
P=$!
PIDS+=("$P")
sleep 2
[ "$(lines "$WORK/a.jsonl")" -gt 0 ] || fail "a raised nothing before the kill"
kill_a
wait "$P" || fail "producer"

wait_log "$WORK/b.err" "partitions assigned\" count=6" 60 || fail "b did not take over a's partitions"
pass "the survivor took over all 6 partitions"
wait_ids "$WORK/want.ids" 90 "$WORK/a.jsonl" "$WORK/b.jsonl" ||
  fail "missing alerts: $(comm -23 "$WORK/want.ids" <(ids "$WORK/a.jsonl" "$WORK/b.jsonl") | wc -l) of $(wc -l <"$WORK/want.ids")"
extra=$(comm -13 "$WORK/want.ids" <(ids "$WORK/a.jsonl" "$WORK/b.jsonl") | grep -c . || true)
[ "$extra" = 0 ] || fail "$extra alert ids that vigil replay does not raise"
pass "every one of the $(wc -l <"$WORK/want.ids") expected alert ids is present, no other"
dups=$(dup_count "$WORK/a.jsonl" "$WORK/b.jsonl")
echo "   at-least-once: $dups duplicate alert lines (events a processed but had not committed)"
[ "$dups" -lt "$(wc -l <"$WORK/want.ids")" ] || fail "more duplicates ($dups) than alerts: commits not working"
pass "duplicates after SIGKILL: $dups"

stop_vigil "$B" b 15

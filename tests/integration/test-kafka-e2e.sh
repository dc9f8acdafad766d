#!/usr/bin/env bash
# End to end on Kafka: kcat produces keyed access logs (plain, each compression codec, and
# messages carrying several lines) into the mock cluster (3 brokers, 6 partitions) while
# `vigil run` consumes them; its alerts — on stdout and in a real Redis stream — must be
# exactly those of `vigil replay` on the same events (same event.id set), with no raw
# token anywhere. SIGTERM drains, commits and exits
# in bounded time; a restarted vigil in the same group resumes after the committed
# offsets: it re-alerts nothing old and alerts on everything new. librdkafka's broker threads
# run kafka.fetch_nice above vigil's own (10 by default; the restart sets 0).
. "$(dirname "$0")/lib-kafka.sh"

python3 "$GEN" 20000 1 >"$WORK/all.tsv"
python3 "$GEN" 3000 2 20000 >"$WORK/later.tsv"
replay_ids "$WORK/all.tsv" "$WORK/want.ids"
replay_ids "$WORK/later.tsv" "$WORK/want-later.ids"
echo "   reference: $(wc -l <"$WORK/want.ids") + $(wc -l <"$WORK/want-later.ids") alert ids from vigil replay"

start_mock 3 access:6
start_redis
# on a loaded machine (ctest -j beside other tests) a partition's next fetch can take longer
# than merge_wait's default second; the merge then reads on without it and the check of the
# events late for the models below fails (1,844 late once, against 30-80 otherwise)
write_config "$WORK/vigil.yml" vigil-e2e "merge_wait: 5s"
cat >>"$WORK/vigil.yml" <<YML
sinks:
  - type: stdout
  - type: redis
    port: $REDIS_PORT
    key: e2e:alerts
YML

# some traffic is there before vigil starts, the rest arrives while it runs
split -l 4000 -d "$WORK/all.tsv" "$WORK/part."
produce "$WORK/part.00"
start_vigil run1 "$WORK/vigil.yml"
R1=$VPID
wait_log "$WORK/run1.err" "partitions assigned" 30 || fail "vigil did not join the group"
fetch_nice_is "$R1" 10
pass "librdkafka's broker threads run at kafka.fetch_nice (10) above vigil's own threads"
produce "$WORK/part.01" gzip
produce "$WORK/part.02" snappy
produce "$WORK/part.03" lz4
# the last part as messages of up to 7 lines of one token each (a shipper batching per
# key, so each token's requests stay in order), zstd. (Lines of one token spread over
# several partitions would reach the alert stage out of order, and it folds an older
# alert into a newer incident even with a cooldown of 0.)
python3 - "$WORK/part.04" >"$WORK/part.04.multi" <<'EOF'
import sys
by_key = {}
for l in open(sys.argv[1]):
    k, j = l.rstrip("\n").split("\t", 1)
    by_key.setdefault(k, []).append(j)
for k, js in by_key.items():
    for i in range(0, len(js), 7):
        sys.stdout.write(k + "\t" + "\n".join(js[i:i + 7]) + "\n\x1e")
EOF
kcat -P -b "$BS" -t access -K $'\t' -D $'\x1e' -z zstd <"$WORK/part.04.multi" || fail "produce multi-line"

wait_ids "$WORK/want.ids" 90 "$WORK/run1.jsonl" ||
  fail "missing alerts: $(comm -23 "$WORK/want.ids" <(ids "$WORK/run1.jsonl") | wc -l) of $(wc -l <"$WORK/want.ids")"
extra=$(comm -13 "$WORK/want.ids" <(ids "$WORK/run1.jsonl") | grep -c . || true)
[ "$extra" = 0 ] || fail "$extra alert ids that vigil replay does not raise"
pass "vigil run on Kafka raised exactly the alert ids of vigil replay ($(wc -l <"$WORK/want.ids"))"
for i in $(seq 1 40); do
  [ "$(rcli XLEN e2e:alerts)" -ge "$(wc -l <"$WORK/want.ids")" ] && break
  sleep 0.25
done
rcli --raw XRANGE e2e:alerts - + | awk 'prev == "id" { print } { prev = $0 }' | sort >"$WORK/stream.ids"
[ "$(sort -u "$WORK/stream.ids")" = "$(cat "$WORK/want.ids")" ] ||
  fail "Redis stream ids differ from vigil replay's: $(comm -3 <(sort -u "$WORK/stream.ids") "$WORK/want.ids" | wc -l) differ"
[ "$(wc -l <"$WORK/stream.ids")" = "$(wc -l <"$WORK/want.ids")" ] || fail "Redis stream has duplicates"
pass "the Redis stream holds the same alert ids, each once"
d=$(dup_count "$WORK/run1.jsonl")
[ "$d" = 0 ] || fail "$d duplicate alerts in an undisturbed run"
pass "no duplicate alerts in an undisturbed run"
! grep -Eq 'tk_[0-9]{4}_[0-9a-f]{8}' "$WORK/run1.jsonl" "$WORK/run1.err" || fail "raw token in output"
pass "no raw token in alerts or log"

# consumer lag per partition on /metrics: every partition read to its end
scrape "$WORK/run1.err" >"$WORK/metrics.txt"
[ -s "$WORK/metrics.txt" ] || fail "no /metrics from run1 (port in its log?)"
n_lag=$(grep -c '^vigil_kafka_lag{topic="access",partition="[0-5]"} 0$' "$WORK/metrics.txt" || true)
[ "$n_lag" = 6 ] || fail "lag per partition: $(grep vigil_kafka_lag "$WORK/metrics.txt")"
pass "vigil_kafka_lag is 0 on all 6 partitions once everything is read"
for g in vigil_kafka_buffered_messages vigil_kafka_buffered_bytes; do
  grep -q "^$g 0$" "$WORK/metrics.txt" || fail "$g once everything is read: $(grep "^$g" "$WORK/metrics.txt")"
done
# (librdkafka's queue also carries events, a commit's result until it is served)
pq=$(sed -n 's/^vigil_kafka_prefetched_messages //p' "$WORK/metrics.txt")
[ -n "$pq" ] && [ "$pq" -le 2 ] || fail "vigil_kafka_prefetched_messages once everything is read: '$pq'"
pass "nothing fetched is left unread (vigil_kafka_buffered_* 0, vigil_kafka_prefetched_messages $pq)"

sleep 1.5 # let a periodic commit happen too
stop_vigil "$R1" run1 15
grep -q 'kafka consumer closed.*lines=20000' "$WORK/run1.err" || fail "consumer summary: $(grep closed "$WORK/run1.err")"
pass "SIGTERM: drained, committed and exited in bounded time"
# The partitions of part.00, there before vigil started, come a fetch each, and kcat writes
# each later part a partition at a time: read as they come, they would be minutes of event
# time apart, and the models would count most events late (about 14,000 of 20,000). vigil
# merges the partitions by event time (README, Deployment with Kafka), so only events out
# of order within their partition are left: the lines of part.04, grouped by token, are up
# to minutes older than their partition's newest. Those the pipeline counts late too; the
# log warns of the rest, the events late for the models alone, and gives their count at
# the end (from the final counters; a scrape while running may see the models' counter
# behind the pipeline's). Without the merge about 14,000 are late. With it, all come from
# part.04 (produced as plain lines instead, 0 late in 6 of 6 runs beside test-kafka-group):
# which of its out-of-order lines are late for the models but not for the pipeline depends
# on where the other partitions' clocks stand when they are judged, 27-97 usually, but
# 382-407 in some runs while other Kafka tests ran beside this one (ctest -j2; 2 of 6 beside
# test-kafka-group, kafka.fetch_nice 10 and 0 alike, 2026-11-24). Hence the limit of 1,000.
late=$(sed -n 's/^vigil_model_events_late_total //p' "$WORK/metrics.txt")
plate=$(sed -n 's/^vigil_events_late_total{source="kafka"} //p' "$WORK/metrics.txt")
[ -n "$late" ] && [ -n "$plate" ] || fail "no late counts in the metrics"
# (no warning at all when none were late: sed, unlike grep, is content with no match)
only=$(sed -n 's/.*events late for the models.*since_start=\([0-9]*\).*/\1/p' "$WORK/run1.err" | tail -1)
only=${only:-0}
[ "$only" -le 1000 ] || fail "models: $only events late for them alone, of 20000 (partitions not merged?)"
pass "events late for the models alone: $only of 20000 (and $plate late for the pipeline: out of order in their partition)"

# restart: resumes after the committed offsets (with the fetching threads at vigil's
# priority this time)
sed 's/^  merge_wait: 5s$/&\n  fetch_nice: 0/' "$WORK/vigil.yml" >"$WORK/vigil2.yml"
grep -q '^  fetch_nice: 0$' "$WORK/vigil2.yml" || fail "vigil2.yml: no fetch_nice"
start_vigil run2 "$WORK/vigil2.yml"
R2=$VPID
wait_log "$WORK/run2.err" "partitions assigned" 30 || fail "restarted vigil did not join"
fetch_nice_is "$R2" 0
produce "$WORK/later.tsv" lz4
wait_ids "$WORK/want-later.ids" 60 "$WORK/run2.jsonl" || fail "restarted vigil missed new alerts"
sleep 1
[ "$(ids "$WORK/run2.jsonl")" = "$(cat "$WORK/want-later.ids")" ] ||
  fail "restarted vigil re-raised old alerts: $(comm -13 "$WORK/want-later.ids" <(ids "$WORK/run2.jsonl") | wc -l)"
[ "$(dup_count "$WORK/run2.jsonl")" = 0 ] || fail "duplicates after restart"
stop_vigil "$R2" run2 15
pass "restart resumes after committed offsets: only the $(wc -l <"$WORK/want-later.ids") new alerts, no repeats"

#!/usr/bin/env bash
# vigil-kafka-mock with a real client (kcat): brokers on loopback only, topics with the
# asked partitions, produce and consume with every compression codec, consumer-group
# offset commits, failure-injection commands and their replies, and clean exits on stdin
# EOF and SIGTERM.
. "$(dirname "$0")/lib-kafka.sh"

start_mock 3 access:6
pass "bootstrap list on the first line: $BS"

# every listener of the mock is on 127.0.0.1 and there is one per broker
n=$(echo "$BS" | tr , '\n' | grep -c '^127\.0\.0\.1:[0-9]*$')
[ "$n" = 3 ] || fail "bootstrap list: $BS"
if command -v ss >/dev/null; then
  ss -ltnp 2>/dev/null | grep "pid=$MOCK_PID," | awk '{print $4}' >"$WORK/listen"
  [ "$(grep -c . "$WORK/listen")" = 3 ] || fail "listeners: $(cat "$WORK/listen")"
  ! grep -qv '^127\.0\.0\.1:' "$WORK/listen" || fail "non-loopback listener: $(cat "$WORK/listen")"
  pass "3 listeners, all on 127.0.0.1"
fi

kcat -L -b "$BS" -t access >"$WORK/meta" || fail "metadata"
grep -q 'topic "access" with 6 partitions' "$WORK/meta" || fail "metadata: $(cat "$WORK/meta")"
[ "$(grep -c '^  broker [123] at 127.0.0.1:' "$WORK/meta")" = 3 ] || fail "brokers: $(cat "$WORK/meta")"
pass "topic access with 6 partitions on 3 brokers"

# produce 4 x 500 keyed messages, one codec each; read them all back
for z in gzip snappy lz4 zstd; do
  seq 1 500 | awk -v z="$z" '{print "key" NR % 37 ":" z "-" $1}' >"$WORK/in-$z"
  kcat -P -b "$BS" -t access -K: -z "$z" <"$WORK/in-$z" || fail "produce with $z"
done
kcat -C -b "$BS" -t access -o beginning -e -q -f '%k:%s\n' >"$WORK/all" || fail "consume"
[ "$(wc -l <"$WORK/all")" = 2000 ] || fail "consumed $(wc -l <"$WORK/all") of 2000"
for z in gzip snappy lz4 zstd; do
  [ "$(sort "$WORK/in-$z")" = "$(grep ":$z-" "$WORK/all" | sort)" ] || fail "$z payloads differ"
done
pass "2000 messages produced and consumed with gzip, snappy, lz4 and zstd"

# consumer group: the first reader commits, the second one in the group gets nothing old
G="-X session.timeout.ms=6000 -X max.poll.interval.ms=6000 -X auto.offset.reset=earliest"
timeout 60 kcat -C -b "$BS" -G g1 $G -e -q access >"$WORK/g1" 2>"$WORK/g1.err" || fail "group read"
[ "$(wc -l <"$WORK/g1")" = 2000 ] || fail "group read $(wc -l <"$WORK/g1") of 2000"
echo "after-commit" | kcat -P -b "$BS" -t access -K: || fail "produce"
timeout 60 kcat -C -b "$BS" -G g1 $G -e -q access >"$WORK/g1b" 2>>"$WORK/g1.err" || fail "group re-read"
[ "$(cat "$WORK/g1b")" = "after-commit" ] || fail "group resumed at: $(head -3 "$WORK/g1b")"
pass "consumer group commits offsets; the next member resumes after them"

# failure-injection commands answer ok, and bad ones answer error
mock_cmd "broker-down 2"
mock_cmd "leader access 0 1"
mock_cmd "error Fetch NOT_LEADER_FOR_PARTITION 2"
mock_cmd "broker-error 3 ListGroups REQUEST_TIMED_OUT 100 2"
mock_cmd "rtt all 5"
mock_cmd "clear-errors Fetch"
mock_cmd "broker-up all"
mock_cmd "rtt all 0"
mock_cmd "topic other 2"
echo "broker-down 9" >&3
sleep 0.3
tail -1 "$WORK/mock.out" | grep -q '^error' || fail "bad broker id accepted"
echo "nonsense" >&3
sleep 0.3
tail -1 "$WORK/mock.out" | grep -q '^error bad command' || fail "bad command accepted"
pass "failure-injection commands and replies"

# a broker down with its partitions moved: a client still reads and writes everything
mock_cmd "broker-down 1"
for p in 0 1 2 3 4 5; do mock_cmd "leader access $p 3"; done
echo "while-1-down" | kcat -P -b "$BS" -t access -p 2 || fail "produce with broker 1 down"
kcat -C -b "$BS" -t access -p 2 -o -1 -e -q >"$WORK/last" || fail "consume with broker 1 down"
grep -q while-1-down "$WORK/last" || fail "message produced while broker 1 down not read"
mock_cmd "broker-up 1"
pass "produce and consume with a broker down and leaders moved"

# exits: stdin EOF (the controlling script is gone) and SIGTERM
exec 3>&-
for i in $(seq 1 50); do kill -0 "$MOCK_PID" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$MOCK_PID" 2>/dev/null || fail "mock still running after stdin EOF"
wait "$MOCK_PID" || fail "mock exit code after stdin EOF"
"$MOCK" -b 1 -t t:1 </dev/null >"$WORK/m2.out" 2>/dev/null &
M2=$!
PIDS+=("$M2")
sleep 0.5
kill -0 "$M2" || fail "mock with stdin /dev/null did not stay up"
kill -TERM "$M2"
wait "$M2" || fail "mock exit code after SIGTERM"
pass "exits 0 on stdin EOF and on SIGTERM; ignores a /dev/null stdin"

# Shared helpers for the Kafka integration tests (sourced). They run the real binaries
# against vigil-kafka-mock (librdkafka's mock cluster on 127.0.0.1) and produce with kcat.
#
# Every test gets $VIGIL, $MOCK (the vigil-kafka-mock binary), a fresh $WORK directory,
# and cleanup of every background process it started (by pid) and of $WORK on exit.
set -euo pipefail
: "${VIGIL:?VIGIL must point to the vigil binary}"
: "${VG_SOURCE_DIR:?}"
: "${VG_BINARY_DIR:?}"
MOCK=${MOCK:-$VG_BINARY_DIR/collectors/kafka-mock/vigil-kafka-mock}
GEN=$VG_SOURCE_DIR/tests/data/kafka/gen-keyed.py
command -v kcat >/dev/null || { echo "FAIL: kcat not installed (scripts/install-deps)" >&2; exit 1; }
[ -x "$MOCK" ] || { echo "FAIL: $MOCK not built (make vigil-kafka-mock)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/vigil-kafka-test.XXXXXX)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  { exec 3>&-; } 2>/dev/null || true # (a bare exec 2>/dev/null would silence the rest)
  if [ "${KEEP_WORK:-}" ]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
export VIGIL_TOKEN_KEY=kafka-test-key
fail() {
  echo "FAIL: $*" >&2
  local f
  for f in "$WORK"/*.err; do
    [ -f "$f" ] || continue
    echo "--- $f" >&2
    tail -20 "$f" >&2
    # what a stuck consumer holds: lag, what is fetched and unread, what is paused
    # (|| true: a log without metrics, the mock's, must not end the loop under pipefail)
    scrape "$f" | grep -E '^vigil_(kafka|events|watermark|late)' | grep -v ' 0$' |
      sed 's/^/    /' >&2 || true
  done
  exit 1
}
pass() { echo "ok - $*"; }

# scrape LOG: the /metrics text of the vigil writing LOG (nothing when it is gone).
scrape() {
  local port
  port=$(sed -n 's/.*metrics endpoint listening.*port=\([0-9]*\).*/\1/p' "$1" | tail -1)
  [ -n "$port" ] && curl -s -m 2 "http://127.0.0.1:$port/metrics" 2>/dev/null || true
}

# start_mock BROKERS TOPIC:PARTITIONS: starts the cluster with its command channel on fd 3;
# sets BS (bootstrap list) and MOCK_PID.
start_mock() {
  mkfifo "$WORK/mock.ctl"
  "$MOCK" -b "$1" -t "$2" ${MOCK_DEBUG:+-d "$MOCK_DEBUG"} <"$WORK/mock.ctl" >"$WORK/mock.out" 2>"$WORK/mock.err" &
  MOCK_PID=$!
  PIDS+=("$MOCK_PID")
  exec 3>"$WORK/mock.ctl"
  local i
  for i in $(seq 1 50); do
    [ -s "$WORK/mock.out" ] && break
    sleep 0.1
  done
  BS=$(head -1 "$WORK/mock.out")
  [[ "$BS" == 127.0.0.1:* ]] || fail "mock cluster did not start: $(cat "$WORK/mock.err")"
}

# mock_cmd "COMMAND": sends a command and waits for its reply line; fails on "error".
mock_cmd() {
  local before i
  before=$(wc -l <"$WORK/mock.out")
  echo "$1" >&3
  for i in $(seq 1 100); do
    [ "$(wc -l <"$WORK/mock.out")" -gt "$before" ] && break
    sleep 0.05
  done
  [ "$(wc -l <"$WORK/mock.out")" -gt "$before" ] || fail "mock command '$1': no reply in 5 s"
  local reply
  reply=$(tail -1 "$WORK/mock.out")
  [[ "$reply" == ok* ]] || fail "mock command '$1': $reply"
}

# Consumer settings the mock needs: its group coordinator waits max.poll.interval.ms for
# a member that left before it admits a new one, and session.timeout.ms for a dead one.
# Reconnects are retried within 500 ms: with librdkafka's backoff (up to 10 s) a client
# refused by a stopped broker for 3 s may try the restarted coordinator only after the 6 s
# session has run out, and a lost session loses the commits the broker test checks.
KAFKA_TEST_PROPS='    session.timeout.ms: 6000
    max.poll.interval.ms: 6000
    heartbeat.interval.ms: 500
    reconnect.backoff.max.ms: 500
    topic.metadata.refresh.interval.ms: 1000'

# write_config FILE GROUP [KAFKA_OPTION...]: a vigil.yml reading topic "access" of the mock
# in GROUP, with more kafka options ("stall_timeout: 2s") if given. The cooldown of 0 makes
# every alert its own incident, so alert ids do not depend on which process saw an entity
# first: the sets compare exactly across restarts and rebalances.
write_config() {
  local file=$1 group=$2 extra="" o
  shift 2
  for o in "$@"; do extra+="  $o"$'\n'; done
  cat >"$file" <<YML
alerts:
  cooldown: 0
metrics:
  listen: "127.0.0.1:0"   # any free port: several vigil processes run side by side here
kafka:
  brokers: $BS
  topics: [access]
  group: $group
  commit_interval: 1s
  idle_timeout: 2s
${extra}  properties:
$KAFKA_TEST_PROPS
YML
}

# fetch_nice_is PID ADDED: librdkafka's broker threads of PID run ADDED above the nice value
# of its main thread (at most 19), and every other thread at that of the main thread.
nice_of() { sed 's/.*) //' "$1/stat" 2>/dev/null | awk '{print $17}'; } # field 19 of stat
fetch_nice_is() {
  local pid=$1 added=$2 base t comm n brokers=0
  base=$(nice_of "/proc/$pid")
  [ -n "$base" ] || fail "no process $pid"
  for t in /proc/"$pid"/task/*; do
    comm=$(cat "$t/comm" 2>/dev/null) && n=$(nice_of "$t") && [ -n "$n" ] || continue
    case $comm in
      rdk:broker*)
        [ "$n" = $((base + added > 19 ? 19 : base + added)) ] ||
          fail "$comm runs at nice $n, the process at $base (kafka.fetch_nice $added)"
        brokers=$((brokers + 1)) ;;
      *) [ "$n" = "$base" ] || fail "$comm runs at nice $n, the process at $base" ;;
    esac
  done
  [ "$brokers" -ge 3 ] || fail "$brokers librdkafka broker threads in process $pid"
}

# produce FILE [CODEC]: keyed lines (KEY<TAB>JSON) to topic access, one message a line.
produce() {
  kcat -P -b "$BS" -t access -K $'\t' ${2:+-z "$2"} <"$1" || fail "kcat produce $1"
}

# ids FILE...: sorted unique alert ids; lines FILE...: alert lines.
ids() { cat "$@" 2>/dev/null | python3 -c 'import json,sys; print("\n".join(sorted({json.loads(l)["event"]["id"] for l in sys.stdin if l.strip()})))'; }
lines() { cat "$@" 2>/dev/null | grep -c . || true; }

# wait_ids EXPECTED TIMEOUT FILE...: waits until every id of EXPECTED is in the files
# (TIMEOUT in seconds of the clock: each look starts a python3).
wait_ids() {
  local want=$1 end=$((SECONDS + $2))
  shift 2
  while :; do
    [ -z "$(comm -23 "$want" <(ids "$@"))" ] && return 0
    [ "$SECONDS" -lt "$end" ] || return 1
    sleep 0.25
  done
}

# wait_log FILE PATTERN TIMEOUT: waits for a line in a log.
wait_log() {
  local i
  for i in $(seq 1 $(($3 * 4))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.25
  done
  return 1
}

# start_vigil NAME CONFIG: `vigil run` in the background; stdout NAME.jsonl, log NAME.err;
# sets VPID.
start_vigil() {
  "$VIGIL" run -q -c "$2" >"$WORK/$1.jsonl" 2>"$WORK/$1.err" &
  VPID=$!
  PIDS+=("$VPID")
}

# start_pair CONFIG_A CONFIG_B PARTITIONS: `vigil run` a, then b once a has joined, in one
# group; waits until each holds half of the PARTITIONS. Sets A and B to their pids.
start_pair() {
  local half=$(($3 / 2))
  start_vigil a "$1"
  A=$VPID
  wait_log "$WORK/a.err" "partitions assigned" 30 || fail "a did not join"
  start_vigil b "$2"
  B=$VPID
  wait_log "$WORK/b.err" "partitions assigned\" count=$half" 40 || fail "b did not get $half partitions"
  wait_log "$WORK/a.err" "partitions assigned\" count=$half" 20 || fail "a did not get $half partitions"
}

# kill_a: SIGKILL for a (no commit, no goodbye); says how many alerts it had raised.
kill_a() {
  kill -KILL "$A"
  wait "$A" 2>/dev/null || true
  echo "   a killed with SIGKILL after $(lines "$WORK/a.jsonl") alerts"
}

# stop_vigil PID NAME MAX_SECONDS: SIGTERM, and checks it exits 0 within the bound.
stop_vigil() {
  local t0 rc=0 el
  t0=$(date +%s%N)
  kill -TERM "$1"
  wait "$1" || rc=$?
  el=$((($(date +%s%N) - t0) / 1000000))
  [ "$rc" = 0 ] || fail "$2: exit code $rc after SIGTERM"
  [ "$el" -le $(($3 * 1000)) ] || fail "$2: took ${el} ms to stop (bound $3 s)"
  echo "   $2 stopped in ${el} ms"
}

# replay_ids FILE OUT: the reference: alert ids of `vigil replay` over the same events.
replay_ids() {
  cut -f2- "$1" >"$WORK/replay-input.jsonl"
  printf 'alerts:\n  cooldown: 0\n' >"$WORK/replay.yml"
  "$VIGIL" replay -q -c "$WORK/replay.yml" "$WORK/replay-input.jsonl" >"$WORK/replay.jsonl" \
    2>"$WORK/replay.err" || fail "replay"
  ids "$WORK/replay.jsonl" >"$2"
  [ -s "$2" ] || fail "replay raised no alert"
}

# dup_count FILE...: alert lines beyond the first of each id (at-least-once repeats).
dup_count() { echo $(($(lines "$@") - $(ids "$@" | grep -c .))); }

# model_ids FILE...: ids of the models' alerts (not Sigma rules, not built-in checks)
model_ids() { cat "$@" | python3 -c 'import json,sys; print("\n".join(sorted({j["event"]["id"] for j in map(json.loads, filter(str.strip, sys.stdin)) if j["rule"]["category"] not in ("sigma", "builtin")})))'; }

# start_redis: a redis-server on a free loopback port (REDIS_PORT), data in $WORK/redis.
start_redis() {
  command -v redis-server >/dev/null || fail "redis-server not installed (scripts/install-deps)"
  REDIS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$WORK/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$WORK/redis" --loglevel warning --logfile "$WORK/redis/log" &
  PIDS+=("$!")
  local i
  for i in $(seq 1 100); do
    rcli PING >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  fail "redis-server did not start"
}
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

# dump_partition P OUT: every message of partition P of topic access as OFFSET<TAB>PAYLOAD.
dump_partition() {
  kcat -C -b "$BS" -t access -p "$1" -o beginning -e -q -f '%o\t%s\n' >"$2" || fail "kcat dump of partition $1"
}

# replay_partition P FROM YAML OUT: the reference for per-partition state: the alert ids
# of `vigil replay` (cooldown 0, plus the YAML) over the messages of partition P from
# offset FROM on, alone (OUT; the alerts in OUT.jsonl).
replay_partition() {
  printf 'alerts:\n  cooldown: 0\n%s\n' "$3" >"$WORK/replay-p.yml"
  dump_partition "$1" "$WORK/part-$1.dump"
  awk -F '\t' -v from="$2" '$1 >= from { sub(/^[^\t]*\t/, ""); print }' "$WORK/part-$1.dump" >"$WORK/part-$1.jsonl"
  "$VIGIL" replay -q -c "$WORK/replay-p.yml" "$WORK/part-$1.jsonl" >"$4.jsonl" 2>"$WORK/replay-p.err" ||
    fail "replay of partition $1"
  ids "$4.jsonl" >"$4"
}

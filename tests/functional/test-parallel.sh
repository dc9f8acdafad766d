#!/usr/bin/env bash
# engine.workers: the parallel pipeline gives the alerts of the single-threaded one — same
# alerts, same event ids, same JSON, in any order — on generated traffic (JSON and nginx
# combined, with bad lines; two workers also with the models under memory pressure), on
# the api-traffic sample, with tiny batches, and reading several files around a missing
# one or standard input; the summary counters and the dead-letter file are the same too.
. "$(dirname "$0")/lib.sh"
GEN=$VG_SOURCE_DIR/scripts/gen-traffic

"$GEN" --hours 3 --rate 25 --seed 11 --out "$WORK/t.jsonl" >/dev/null
# bad lines among the good ones: counted and dead-lettered by the first worker, in order
sed -i -e '1000i {"not json' -e '5000i {"path":"/v1/x"}' "$WORK/t.jsonl"
"$GEN" --hours 2 --rate 25 --seed 12 --format nginx-combined --out "$WORK/t.log" >/dev/null

# run NAME WORKERS INPUT [extra yml]: replays INPUT, alerts sorted in NAME.sorted
run() {
  local name=$1 w=$2 in=$3 extra=${4:-}
  printf 'engine:\n  workers: %s\n%s\ninput:\n  dead_letter: %s\n' "$w" "$extra" \
    "$WORK/$name.dead" >"$WORK/$name.yml"
  "$VIGIL" replay -c "$WORK/$name.yml" "${@:5}" "$in" >"$WORK/$name.out" 2>"$WORK/$name.err" \
    || fail "$name: replay exited $?: $(cat "$WORK/$name.err")"
  sort "$WORK/$name.out" >"$WORK/$name.sorted"
  grep "^vigil replay:" "$WORK/$name.err" | sed -e "s/ elapsed_s=.*//" >"$WORK/$name.summary"
}

same() {
  cmp -s "$WORK/$1.sorted" "$WORK/$2.sorted" \
    || fail "$2 differs from $1: $(diff "$WORK/$1.sorted" "$WORK/$2.sorted" | head -c 600)"
  cmp -s "$WORK/$1.summary" "$WORK/$2.summary" \
    || fail "$2 summary differs: $(cat "$WORK/$1.summary" "$WORK/$2.summary")"
}

run j1 1 "$WORK/t.jsonl"
n=$(wc -l <"$WORK/j1.out")
[ "$n" -ge 20 ] || fail "too few alerts to compare ($n)"
# the comparison covers every kind of detector: Sigma, correlation and the models
for cat in sigma correlation; do
  json_eval "$WORK/j1.out" "any(a['rule']['category']=='$cat' for a in J)" | grep -qx True \
    || fail "no $cat alert in the single-threaded run"
done
json_eval "$WORK/j1.out" "any('model' in a['vigil'] for a in J)" | grep -qx True \
  || fail "no model alert in the single-threaded run"
grep -q "bad=2 " "$WORK/j1.err" || fail "bad lines not counted: $(cat "$WORK/j1.err")"
for w in 2 4; do
  run "j$w" "$w" "$WORK/t.jsonl"
  same j1 "j$w"
  cmp -s "$WORK/j1.dead" "$WORK/j$w.dead" || fail "dead letters differ with $w workers"
done
pass "generated JSON traffic: $n alerts, identical with 1, 2 and 4 workers"

# under memory pressure (a 1 MiB models budget changes the alerts): two workers have one
# models shard, whose tables evict as the single thread's do, so the alerts stay the same
P=$'models:\n  memory_budget: 1MiB'
run p1 1 "$WORK/t.jsonl" "$P"
! cmp -s "$WORK/j1.sorted" "$WORK/p1.sorted" || fail "a 1 MiB budget changed nothing"
run p2 2 "$WORK/t.jsonl" "$P"
same p1 p2
pass "a 1 MiB models budget: identical with 1 and 2 workers"

# batches of 7 lines: many more hand-offs, the same result
run small4 4 "$WORK/t.jsonl" "  batch_lines: 7"
same j1 small4
pass "4 workers with 7-line batches"

run n1 1 "$WORK/t.log" "" -f nginx-combined
[ "$(wc -l <"$WORK/n1.out")" -ge 5 ] || fail "too few nginx alerts"
run n2 2 "$WORK/t.log" "" -f nginx-combined
same n1 n2
pass "nginx combined: identical with 2 workers"

S=$VG_SOURCE_DIR/samples/api-traffic.jsonl.gz
for w in 1 2 4; do run "s$w" "$w" "$S"; done
[ "$(wc -l <"$WORK/s1.out")" = 44 ] || fail "sample: $(wc -l <"$WORK/s1.out") alerts, expected 44"
same s1 s2
same s1 s4
pass "api-traffic sample: 44 alerts with 1, 2 and 4 workers"

# The workers read the input themselves (there is no reading thread): several files with a
# missing one between them (logged, the others read, exit 1) and standard input give what
# one thread gives on the same input.
head -n 20000 "$WORK/t.jsonl" >"$WORK/a.jsonl"
tail -n +20001 "$WORK/t.jsonl" >"$WORK/b.jsonl"
for w in 1 2; do
  printf 'engine:\n  workers: %s\n' "$w" >"$WORK/m$w.yml"
  rc=0
  "$VIGIL" replay -c "$WORK/m$w.yml" "$WORK/a.jsonl" "$WORK/missing.jsonl" "$WORK/b.jsonl" \
    >"$WORK/m$w.out" 2>"$WORK/m$w.err" || rc=$?
  [ $rc = 1 ] || fail "$w workers, a missing file: exit $rc"
  grep -q 'cannot read input.*missing.jsonl' "$WORK/m$w.err" \
    || fail "$w workers: the missing file is not named: $(cat "$WORK/m$w.err")"
  sort "$WORK/m$w.out" >"$WORK/m$w.sorted"
  grep "^vigil replay:" "$WORK/m$w.err" | sed -e "s/ elapsed_s=.*//" >"$WORK/m$w.summary"
  "$VIGIL" replay -c "$WORK/m$w.yml" - <"$WORK/t.jsonl" >"$WORK/i$w.out" 2>"$WORK/i$w.err" \
    || fail "$w workers, stdin: exit $?: $(cat "$WORK/i$w.err")"
  sort "$WORK/i$w.out" >"$WORK/i$w.sorted"
  grep "^vigil replay:" "$WORK/i$w.err" | sed -e "s/ elapsed_s=.*//" >"$WORK/i$w.summary"
done
grep -q "lines=$(wc -l <"$WORK/t.jsonl") " "$WORK/m2.summary" \
  || fail "not every line of the two files read: $(cat "$WORK/m2.summary")"
same m1 m2
same i1 i2
pass "2 workers reading: files around a missing one (exit 1) and stdin, as one thread"

# a bad setting is refused, not run
printf 'engine:\n  workers: 0\n' >"$WORK/bad.yml"
if "$VIGIL" replay -c "$WORK/bad.yml" "$S" >/dev/null 2>"$WORK/bad.err"; then
  fail "workers: 0 accepted"
fi
grep -q workers "$WORK/bad.err" || fail "no message about workers: $(cat "$WORK/bad.err")"
pass "engine.workers: 0 refused"
echo "test-parallel: ok"

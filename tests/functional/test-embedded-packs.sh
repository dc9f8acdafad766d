#!/usr/bin/env bash
# The binary carries the shipped rule packs: copied away from any pack directory it still
# runs on them (rule ids in its alerts, "embedded:" in vigil check), and "embedded:api" names
# one pack in rules.paths.
. "$(dirname "$0")/lib.sh"
cp "$VIGIL" "$WORK/vigil"
"$WORK/vigil" check >"$WORK/out" 2>&1 || fail "check on embedded packs: $(cat "$WORK/out")"
grep -q "^ok: built-in defaults: [1-9][0-9]* detection rules, [1-9] correlation rules" "$WORK/out" || fail "$(cat "$WORK/out")"
grep -q "embedded:api/" "$WORK/out" || fail "rules were not read from the binary: $(cat "$WORK/out")"
pass "a copied binary loads its compiled-in packs"
"$WORK/vigil" replay -q "$VG_SOURCE_DIR/tests/data/replay/mixed.jsonl" >"$WORK/alerts" 2>/dev/null
json_eval "$WORK/alerts" "[a['rule']['ruleset'] for a in J]" | grep -q "'api'" || fail "no pack alert: $(cat "$WORK/alerts")"
pass "and raises the pack's alerts"
printf 'rules:\n  paths: ["embedded:api"]\n' >"$WORK/a.yml"
"$WORK/vigil" check -c "$WORK/a.yml" >/dev/null 2>&1 || fail "embedded:api"
printf 'rules:\n  paths: ["embedded:nosuch"]\n' >"$WORK/b.yml"
set +e; "$WORK/vigil" check -c "$WORK/b.yml" >"$WORK/out" 2>&1; rc=$?; set -e
[ $rc = 2 ] && grep -q "embedded:nosuch: no such compiled-in rule pack" "$WORK/out" || fail "unknown pack: rc=$rc $(cat "$WORK/out")"
pass "embedded:<pack> in rules.paths"

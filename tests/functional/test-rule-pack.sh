#!/bin/bash
# test-rule-pack.sh — the shipped API rule pack, through the real binary.
#
# For every case of tests/data/packs/manifest.tsv, replays <case>.match.jsonl and
# <case>.nomatch.jsonl with the pack (rules/packs/api) and the test configuration (the
# expand lists the pack needs), and checks the alerts' rule.id:
#   - "each" rules alert once per event of the match file (cooldown 0 in the config),
#   - "window" rules (correlations) alert at least once,
#   - no case's rule alerts on its nomatch file,
#   - the "quiet" detection rules, which only feed correlations, never alert,
#   - every rule id in the pack is in the manifest, and every rule loads (no warning),
#   - ordinary traffic (benign.jsonl) raises no alert of the pack at all.
# Uses `vigil test-rules` too when the binary has it: each match file must show the rule.
set -u

VIGIL=${VIGIL:?set VIGIL to the vigil binary}
SRC=${VG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PACK=$SRC/rules/packs/api
DATA=$SRC/tests/data/packs
CONF=$DATA/vigil-pack-test.yml
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fail=0
checked=0
bad() {
    echo "FAIL: $*" >&2
    fail=1
}

replay() { # file -> alerts on stdout, warnings in $TMP/err
    "$VIGIL" replay -c "$CONF" --rules "$PACK" --quiet "$1" 2>"$TMP/err"
}

count_rule() { # rule id, alerts file
    grep -c "\"rule\":{\"id\":\"$1\"" "$2"
}

# Every rule loads: a replay of nothing must not warn.
: >"$TMP/empty.jsonl"
replay "$TMP/empty.jsonl" >/dev/null || bad "replay of an empty file failed"
if grep -q "not loaded" "$TMP/err"; then
    bad "rules did not load:"
    cat "$TMP/err" >&2
fi

# `vigil check` accepts the pack with its configuration.
if "$VIGIL" check --help 2>&1 | grep -q -- "--config"; then
    "$VIGIL" check -c "$CONF" --rules "$PACK" >"$TMP/check" 2>&1 || {
        bad "vigil check rejects the pack:"
        cat "$TMP/check" >&2
    }
fi

# Every rule id of the pack is in the manifest.
for id in $(grep -h '^id:' "$PACK"/*.yml | awk '{print $2}'); do
    grep -q "$id" "$DATA/manifest.tsv" || bad "rule $id has no test case in manifest.tsv"
done

# Ordinary traffic: no rule of the pack alerts (built-in checks and models may).
replay "$DATA/benign.jsonl" >"$TMP/out" || bad "replay of benign.jsonl failed"
if grep -E '"category":"(sigma|correlation)"' "$TMP/out" >"$TMP/fp"; then
    bad "the pack alerts on ordinary traffic:"
    grep -o '"reason":"[^"]*"' "$TMP/fp" >&2
fi

quiet_ids=$(awk -F'\t' '$1 == "quiet" {print $2}' "$DATA/manifest.tsv")
has_test_rules=0
if "$VIGIL" test-rules --help 2>&1 | grep -q -- "--events"; then
    has_test_rules=1
fi

while IFS=$'\t' read -r name id kind; do
    case "$name" in '' | '#'* | quiet) continue ;; esac
    match=$DATA/$name.match.jsonl
    nomatch=$DATA/$name.nomatch.jsonl
    [ -f "$match" ] && [ -f "$nomatch" ] || {
        bad "$name: missing $match or $nomatch"
        continue
    }
    replay "$match" >"$TMP/out" || bad "$name: replay of the match file failed"
    n=$(count_rule "$id" "$TMP/out")
    lines=$(grep -c . "$match")
    if [ "$kind" = each ]; then
        [ "$n" -eq "$lines" ] || bad "$name: $n alerts of $id for $lines matching events"
    else
        [ "$n" -ge 1 ] || bad "$name: correlation $id did not fire"
    fi
    for q in $quiet_ids; do
        [ "$(count_rule "$q" "$TMP/out")" -eq 0 ] || bad "$name: quiet rule $q raised an alert"
    done
    replay "$nomatch" >"$TMP/out" || bad "$name: replay of the nomatch file failed"
    n=$(count_rule "$id" "$TMP/out")
    [ "$n" -eq 0 ] || {
        bad "$name: $id fired $n times on the nomatch file"
        grep "\"rule\":{\"id\":\"$id\"" "$TMP/out" | head -3 >&2
    }
    if [ $has_test_rules = 1 ] && [ "$kind" = each ]; then
        "$VIGIL" test-rules -c "$CONF" "$PACK" --events "$match" >"$TMP/tr" 2>&1 ||
            bad "$name: test-rules failed"
        grep -q "$id" "$TMP/tr" || bad "$name: test-rules does not show $id"
    fi
    checked=$((checked + 1))
done <"$DATA/manifest.tsv"

[ $checked -ge 24 ] || bad "only $checked cases checked"
if [ $fail = 0 ]; then
    echo "rule pack: $checked cases passed (test-rules: $([ $has_test_rules = 1 ] && echo yes || echo 'not in this build'))"
fi
exit $fail

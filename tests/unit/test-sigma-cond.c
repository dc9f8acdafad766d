/* test-sigma-cond.c — Sigma conditions: precedence, x of, them, parentheses, lists of
 * conditions, and the removed aggregation syntax. */
#include "test-sigma-util.h"

TestSuite(sigma_cond, .fini = tu_cleanup);

/* d1..d4 test the fields a.d1..a.d4 for "1"; the condition is given. */
static VgRuleSet *four(const char *cond)
{
    char *y = g_strdup_printf("title: c\ndetection:\n"
                              "  d1: {a.d1: '1'}\n  d2: {a.d2: '1'}\n"
                              "  d3: {a.d3: '1'}\n  d4: {a.d4: '1'}\n"
                              "  condition: %s\n",
                              cond);
    VgRuleSet *set = tu_load(y);
    g_free(y);
    return set;
}

static bool eval4(VgRuleSet *set, int bits)
{
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "a.d1", bits & 1 ? "1" : "0");
    tu_set(&t, "a.d2", bits & 2 ? "1" : "0");
    tu_set(&t, "a.d3", bits & 4 ? "1" : "0");
    tu_set(&t, "a.d4", bits & 8 ? "1" : "0");
    bool r = tu_eval(set, &t.ev) & 1;
    tu_event_clear(&t);
    return r;
}

Test(sigma_cond, precedence_or_and_not)
{
    /* d1 and not d2 or not d3 and d4  ==  (d1 and (not d2)) or ((not d3) and d4) */
    VgRuleSet *set = four("d1 and not d2 or not d3 and d4");
    for (int b = 0; b < 16; b++) {
        bool d1 = b & 1, d2 = b & 2, d3 = b & 4, d4 = b & 8;
        bool want = (d1 && !d2) || (!d3 && d4);
        cr_assert_eq(eval4(set, b), want, "bits %d", b);
    }
    vg_rule_set_free(set);
}

Test(sigma_cond, parentheses)
{
    VgRuleSet *set = four("d1 and not (d2 or d3) and d4");
    for (int b = 0; b < 16; b++) {
        bool d1 = b & 1, d2 = b & 2, d3 = b & 4, d4 = b & 8;
        cr_assert_eq(eval4(set, b), d1 && !(d2 || d3) && d4, "bits %d", b);
    }
    vg_rule_set_free(set);
    set = four("((d1))");
    cr_assert(eval4(set, 1));
    cr_assert(!eval4(set, 2));
    vg_rule_set_free(set);
}

Test(sigma_cond, not_binds_looser_than_x_of)
{
    VgRuleSet *set = four("not 1 of d* and d4");
    /* (not (1 of d*)) and d4 is never true: d4 is one of d* */
    for (int b = 0; b < 16; b++)
        cr_assert(!eval4(set, b), "bits %d", b);
    vg_rule_set_free(set);
    set = four("all of d* or not d1");
    cr_assert(eval4(set, 15));
    cr_assert(eval4(set, 0));
    cr_assert(!eval4(set, 1));
    vg_rule_set_free(set);
}

Test(sigma_cond, x_of_patterns_and_them)
{
    const char *y = "title: c\ndetection:\n"
                    "  sel_a: {a.x: '1'}\n  sel_b: {a.y: '1'}\n  _hidden: {a.z: '1'}\n"
                    "  condition: %s\n";
    struct {
        const char *cond;
        const char *x, *y, *z;
        bool want;
    } cases[] = {
        {"1 of them", "0", "0", "1", false}, /* _hidden is not part of them */
        {"1 of them", "0", "1", "0", true},
        {"any of them", "1", "0", "0", true},
        {"all of them", "1", "1", "0", true}, /* _hidden not required */
        {"all of them", "1", "0", "1", false},
        {"1 of sel_*", "0", "1", "0", true},
        {"all of sel_*", "1", "0", "0", false},
        {"1 of _*", "0", "0", "1", true}, /* explicitly named: included */
        {"1 of *_b", "0", "1", "0", true},
        {"all of sel_* and not _hidden", "1", "1", "1", false},
        {"ALL OF sel_* AND NOT _hidden", "1", "1", "0", true},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *text = g_strdup_printf(y, cases[i].cond);
        VgRuleSet *set = tu_load(text);
        TuEvent t;
        tu_event_init(&t);
        tu_set(&t, "a.x", cases[i].x);
        tu_set(&t, "a.y", cases[i].y);
        tu_set(&t, "a.z", cases[i].z);
        cr_assert_eq((bool)(tu_eval(set, &t.ev) & 1), cases[i].want, "%s (%s%s%s)", cases[i].cond,
                     cases[i].x, cases[i].y, cases[i].z);
        tu_event_clear(&t);
        vg_rule_set_free(set);
        g_free(text);
    }
}

Test(sigma_cond, list_of_conditions_is_or)
{
    const char *y = "title: c\ndetection:\n  a: {a.x: '1'}\n  b: {a.y: '1'}\n"
                    "  condition:\n    - a and b\n    - not a and not b\n";
    VgRuleSet *set = tu_load(y);
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "a.x", "1");
    tu_set(&t, "a.y", "1");
    cr_assert_eq(tu_eval(set, &t.ev), 1);
    tu_set(&t, "a.y", "0");
    cr_assert_eq(tu_eval(set, &t.ev), 0);
    tu_set(&t, "a.x", "0");
    cr_assert_eq(tu_eval(set, &t.ev), 1);
    tu_event_clear(&t);
    vg_rule_set_free(set);
}

Test(sigma_cond, selections_reported)
{
    const char *y = "title: c\nid: c1\ndetection:\n  sel_a: {path|contains: admin}\n"
                    "  sel_b: {method: POST}\n  filter: {user: root}\n"
                    "  condition: 1 of sel_* and not filter\n";
    VgRuleSet *set = tu_load(y);
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "path", "/admin");
    tu_set(&t, "method", "GET");
    VgRuleScratch *s = vg_rule_scratch_new(set);
    TuHits h = {.sel = g_string_new(NULL)};
    cr_assert_eq(vg_rule_set_eval(set, s, &t.ev, NULL, true, tu_hit, &h), 1);
    cr_assert_str_eq(h.sel->str, "c1:sel_a;");
    g_string_free(h.sel, TRUE);
    vg_rule_scratch_free(s);
    tu_event_clear(&t);
    vg_rule_set_free(set);
}

/* The detector finds a match without its selections and asks for them only when it
 * explains the match: vg_rule_set_selections() names the same identifiers as an evaluation
 * that asks for them, whatever the scratch evaluated last. */
Test(sigma_cond, selections_asked_later)
{
    const char *y = "title: c\nid: c1\ndetection:\n  sel_a: {path|contains: admin}\n"
                    "  sel_b: {method: POST}\n  filter: {user: root}\n"
                    "  condition: 1 of sel_* and not filter\n";
    VgRuleSet *set = tu_load(y);
    TuEvent t, other;
    tu_event_init(&t);
    tu_event_init(&other);
    tu_set(&t, "path", "/admin");
    tu_set(&t, "method", "POST");
    tu_set(&other, "path", "/x");
    tu_set(&other, "method", "GET");
    VgRuleScratch *s = vg_rule_scratch_new(set);
    TuHits h = {0};
    cr_assert_eq(vg_rule_set_eval(set, s, &t.ev, NULL, false, tu_hit, &h), 1);
    cr_assert_eq(vg_rule_set_eval(set, s, &other.ev, NULL, false, tu_hit, &h), 0);
    const char *const *names;
    cr_assert_eq(vg_rule_set_selections(set, s, 0, &t.ev, NULL, &names), 2);
    cr_assert_str_eq(names[0], "sel_a");
    cr_assert_str_eq(names[1], "sel_b");
    cr_assert_null(names[2]);
    cr_assert_eq(vg_rule_set_selections(set, s, 0, &other.ev, NULL, &names), 0);
    cr_assert_null(names[0]);
    vg_rule_scratch_free(s);
    tu_event_clear(&t);
    tu_event_clear(&other);
    vg_rule_set_free(set);
}

static void cond_error(const char *cond, const char *want)
{
    char *y = g_strdup_printf("title: c\ndetection:\n  sel: {a.x: '1'}\n  condition: %s\n", cond);
    char *e = tu_load_error(y);
    cr_assert(strstr(e, want), "'%s': %s", cond, e);
    cr_assert(strstr(e, ":4:"), "located at the condition: %s", e);
    g_free(e);
    g_free(y);
}

Test(sigma_cond, errors)
{
    cond_error("'sel | count() > 5'", "correlation rule");
    cond_error("'sel | count(a.x) by b > 5'", "removed in Sigma 2.0");
    cond_error("sel near other", "correlation");
    cond_error("nosuch", "unknown search identifier 'nosuch'");
    cond_error("1 of nothing*", "no search identifier matches");
    cond_error("sel and", "unexpected end");
    cond_error("(sel", "missing ')'");
    cond_error("sel)", "unexpected ')'");
    cond_error("2 of sel*", "'2 of' is not Sigma");
    cond_error("sel*", "needs '1 of' or 'all of'");
    cond_error("sel and & sel", "unexpected character");
    char *e = tu_load_error("title: c\ndetection:\n  sel: {a.x: '1'}\n  timeframe: 5m\n"
                            "  condition: sel\n");
    cr_assert(strstr(e, "timeframe"), "%s", e);
    g_free(e);
    e = tu_load_error("title: c\ndetection:\n  sel: {a.x: '1'}\n");
    cr_assert(strstr(e, "condition is missing"), "%s", e);
    g_free(e);
}

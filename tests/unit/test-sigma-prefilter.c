/* test-sigma-prefilter.c — the prefilter's guards: which rules it lets skip, and that
 * skipping never changes a result (tu_eval compares with and without the prefilter). */
#include "rules/sigma.h"
#include "test-sigma-util.h"

TestSuite(sigma_prefilter, .fini = tu_cleanup);

static const char digits_rule[] = "title: t\nid: r1\nlogsource: {category: webserver}\ndetection:\n"
                                  "  card:\n    path|re: '(^|[^0-9])4[0-9]{12}($|[^0-9])'\n"
                                  "  grouped:\n    query|re: '[0-9]{4}-[0-9]{4}'\n"
                                  "  condition: card or grouped\nlevel: high\n";

static bool eval_pq(const VgRuleSet *set, const char *path, const char *query)
{
    TuEvent t;
    tu_event_init(&t);
    if (path)
        tu_set(&t, "path", path);
    if (query)
        tu_set(&t, "query", query);
    bool r = tu_eval(set, &t.ev) & 1;
    tu_event_clear(&t);
    return r;
}

/* A regex with no literal to scan for but a run of digits to have is guarded by that run. */
Test(sigma_prefilter, digit_run_guards_a_regex_without_literals)
{
    VgRuleSet *set = tu_load(digits_rule);
    const SigRule *r = set->rules->pdata[0];
    cr_assert(r->guarded);
    cr_assert_eq(set->n_unguarded, 0);
    cr_assert(eval_pq(set, "/v1/cards/4111111111111", NULL));
    cr_assert(!eval_pq(set, "/v1/cards/411111111111", NULL)); /* one digit short */
    cr_assert(!eval_pq(set, "/v1/cards/5111111111111", NULL));
    cr_assert(eval_pq(set, "/v1/x", "n=1234-5678"));
    cr_assert(!eval_pq(set, "/v1/x", "n=123-5678"));
    cr_assert(!eval_pq(set, "/v1/x", "n=1234x5678"));
    cr_assert(!eval_pq(set, NULL, NULL));
    cr_assert(eval_pq(set, "/v1/cards/4111111111111", "n=123"));
    vg_rule_set_free(set);
}

/* Runs at the start, at the end, after shorter runs, and one digit short of the threshold. */
Test(sigma_prefilter, digit_runs_anywhere_in_the_value)
{
    VgRuleSet *set = tu_load(digits_rule);
    cr_assert(eval_pq(set, "4111111111111", NULL));
    cr_assert(eval_pq(set, "4111111111111/x", NULL));
    cr_assert(eval_pq(set, "/x/4111111111111", NULL));
    cr_assert(eval_pq(set, "/1/22/333/4444/55555/4111111111111", NULL));
    cr_assert(eval_pq(set, "/123456789012/4111111111111/1", NULL));
    cr_assert(!eval_pq(set, "/123456789012/411111111111/1", NULL));
    cr_assert(!eval_pq(set, "/41111111111111111111", NULL)); /* too long for the regex */
    cr_assert(eval_pq(set, NULL, "1234-5678"));
    cr_assert(eval_pq(set, NULL, "a=12&b=1234-5678"));
    cr_assert(!eval_pq(set, NULL, "a=123&b=123-5678"));
    vg_rule_set_free(set);
}

/* Digit runs and literals mix in one guard; a digit run on the wrong field does not count. */
Test(sigma_prefilter, digit_run_and_literal_guards_together)
{
    VgRuleSet *set = tu_load("title: t\nid: r1\nlogsource: {category: webserver}\ndetection:\n"
                             "  a:\n    path|re: '/[0-9]{6}$'\n"
                             "  b:\n    user_agent|contains: scanner\n"
                             "  condition: a or b\nlevel: high\n");
    const SigRule *r = set->rules->pdata[0];
    cr_assert(r->guarded);
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "path", "/v1/x");
    tu_set(&t, "query", "id=123456");
    cr_assert(!(tu_eval(set, &t.ev) & 1));
    tu_set(&t, "user_agent", "Scanner/1.0");
    cr_assert(tu_eval(set, &t.ev) & 1);
    tu_set(&t, "user_agent", "curl");
    tu_set(&t, "path", "/v1/x/123456");
    cr_assert(tu_eval(set, &t.ev) & 1);
    tu_set(&t, "path", "/v1/x/123456/y");
    cr_assert(!(tu_eval(set, &t.ev) & 1));
    tu_event_clear(&t);
    vg_rule_set_free(set);
}

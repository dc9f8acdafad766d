/* test-sigma-load.c — the Sigma loader: documents, directories, errors with locations,
 * duplicate ids, filters, correlation hand-off, and a load of a few hundred generated rules
 * with some broken ones. */
#include "test-sigma-util.h"

#include <time.h>

TestSuite(sigma_load, .fini = tu_cleanup);

static GPtrArray *load_paths(const char *const *paths, VgRuleSet **set)
{
    GPtrArray *errs = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    *set = vg_rule_set_load(paths, NULL, errs);
    return errs;
}

static bool has_error(GPtrArray *errs, const char *a, const char *b)
{
    for (guint i = 0; i < errs->len; i++) {
        const char *m = ((GError *)errs->pdata[i])->message;
        if (strstr(m, a) && (!b || strstr(m, b)))
            return true;
    }
    return false;
}

Test(sigma_load, multi_document_file_and_broken_documents)
{
    const char *y = "title: one\nid: r-1\ndetection:\n  s: {path: /a}\n  condition: s\n"
                    "---\n"
                    "title: broken\ndetection:\n  s: {path|nope: /b}\n  condition: s\n"
                    "---\n"
                    "title: two\ndetection:\n  s: {path: /c}\n  condition: s\n"
                    "---\n"
                    "action: global\ntitle: old style\n"
                    "---\n"
                    "title: nothing\nlogsource: {product: x}\n"
                    "---\n";
    GPtrArray *errs;
    VgRuleSet *set = tu_load_opts(y, NULL, &errs);
    cr_assert_eq(vg_rule_set_size(set), 2);
    cr_assert_str_eq(vg_rule_set_rule_id(set, 0), "r-1");
    cr_assert_str_eq(vg_rule_set_rule_id(set, 1), "two"); /* no id: the title */
    cr_assert_eq(errs->len, 3);
    cr_assert(has_error(errs, ":9:7:", "unknown modifier 'nope'"));
    cr_assert(has_error(errs, ":17:9:", "action: global"));
    cr_assert(has_error(errs, ":20:1:", "no detection, correlation or filter"));
    g_ptr_array_free(errs, TRUE);
    vg_rule_set_free(set);
}

Test(sigma_load, required_keys_and_types)
{
    char *e = tu_load_error("detection:\n  s: {path: /a}\n  condition: s\n");
    cr_assert(strstr(e, "title is missing"), "%s", e);
    g_free(e);
    e = tu_load_error("title: t\nlevel: severe\ndetection:\n  s: {path: /a}\n  condition: s\n");
    cr_assert(strstr(e, ":2:8:") && strstr(e, "level must be"), "%s", e);
    g_free(e);
    e = tu_load_error("title: t\ndetection:\n  s: {}\n  condition: s\n");
    cr_assert(strstr(e, "empty mapping"), "%s", e);
    g_free(e);
    e = tu_load_error("title: t\ndetection:\n  s: {path: /a, path: /b}\n  condition: s\n");
    cr_assert(strstr(e, "duplicate key"), "%s", e);
    g_free(e);
    e = tu_load_error("title: t\ndetection: [a]\n");
    cr_assert(strstr(e, "detection must be a mapping"), "%s", e);
    g_free(e);
    e = tu_load_error("title: [t\n");
    cr_assert(strstr(e, "YAML syntax error"), "%s", e);
    g_free(e);
}

Test(sigma_load, duplicate_ids_and_names)
{
    const char *y = "title: a\nid: same\nname: n\ndetection:\n  s: {path: /a}\n  condition: s\n"
                    "---\n"
                    "title: b\nid: same\ndetection:\n  s: {path: /b}\n  condition: s\n"
                    "---\n"
                    "title: c\nname: n\ndetection:\n  s: {path: /c}\n  condition: s\n";
    GPtrArray *errs;
    VgRuleSet *set = tu_load_opts(y, NULL, &errs);
    cr_assert_eq(vg_rule_set_size(set), 1);
    cr_assert_eq(errs->len, 2);
    cr_assert(has_error(errs, ":9:5:", "duplicate id 'same'"));
    cr_assert(has_error(errs, ":15:7:", "duplicate name 'n'"));
    g_ptr_array_free(errs, TRUE);
    vg_rule_set_free(set);
}

Test(sigma_load, filters_add_and_not)
{
    const char *y = "title: admin paths\nid: rule-admin\ndetection:\n"
                    "  s: {path|startswith: /admin}\n  condition: s\n"
                    "---\n"
                    "title: Filter ops team\nlogsource: {category: webserver}\n"
                    "filter:\n  rules:\n    - rule-admin\n    - missing-rule\n"
                    "  selection:\n    user|startswith: 'ops_'\n  condition: selection\n";
    GPtrArray *errs;
    VgRuleSet *set = tu_load_opts(y, NULL, &errs);
    cr_assert_eq(vg_rule_set_size(set), 1);
    cr_assert_eq(errs->len, 1);
    cr_assert(has_error(errs, ":12:7:", "missing-rule"));
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "path", "/admin/users");
    tu_set(&t, "user", "alice");
    cr_assert_eq(tu_eval(set, &t.ev), 1);
    tu_set(&t, "user", "ops_bob");
    cr_assert_eq(tu_eval(set, &t.ev), 0);
    tu_event_clear(&t);
    g_ptr_array_free(errs, TRUE);
    vg_rule_set_free(set);
}

Test(sigma_load, correlation_documents_and_unknown_references)
{
    const char *y = "title: failed login\nname: failed_login\ndetection:\n"
                    "  s: {status: 401}\n  condition: s\n"
                    "---\n"
                    "title: brute force\nid: bf\ncorrelation:\n  type: event_count\n"
                    "  rules: [failed_login]\n  group-by: [client_ip]\n  timespan: 5m\n"
                    "  condition: {gte: 20}\nlevel: high\n"
                    "---\n"
                    "title: dangling\nid: dg\ncorrelation:\n  type: event_count\n"
                    "  rules:\n    - nosuch\n  group-by: [client_ip]\n  timespan: 5m\n"
                    "  condition: {gte: 2}\n";
    GPtrArray *errs;
    VgRuleSet *set = tu_load_opts(y, NULL, &errs);
    cr_assert_eq(vg_rule_set_size(set), 1);
    cr_assert_eq(vg_rule_set_n_correlations(set), 1);
    cr_assert_eq(errs->len, 1);
    cr_assert(has_error(errs, ":22:7:", "'nosuch'"));
    g_ptr_array_free(errs, TRUE);
    vg_rule_set_free(set);
}

Test(sigma_load, directories_sorted_recursive_and_ruleset_names)
{
    char *a =
        tu_write("tree/pack_b/z.yml", "title: z\ndetection:\n  s: {path: /z}\n  condition: s\n");
    char *b = tu_write("tree/pack_a/sub/y.yaml",
                       "title: y\ndetection:\n  s: {path: /y}\n  condition: s\n");
    char *c =
        tu_write("tree/pack_a/x.yml", "title: x\ndetection:\n  s: {path: /x}\n  condition: s\n");
    char *d = tu_write("tree/pack_a/notes.txt", "not a rule");
    char *root = g_build_filename(tu_dir, "tree", NULL);
    const char *paths[] = {root, NULL};
    VgRuleSet *set;
    GPtrArray *errs = load_paths(paths, &set);
    cr_assert_eq(errs->len, 0);
    cr_assert_eq(vg_rule_set_size(set), 3);
    cr_assert_str_eq(vg_rule_set_rule_title(set, 0), "y"); /* pack_a/sub < pack_a/x.yml */
    cr_assert_str_eq(vg_rule_set_rule_title(set, 1), "x");
    cr_assert_str_eq(vg_rule_set_rule_title(set, 2), "z");
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "path", "/z");
    VgRuleScratch *s = vg_rule_scratch_new(set);
    const char *got = NULL;
    void cb(void *u, const VgRuleMatch *m);
    vg_rule_set_eval(set, s, &t.ev, NULL, false, cb, &got);
    cr_assert_str_eq(got, "pack_b");
    vg_rule_scratch_free(s);
    tu_event_clear(&t);
    g_ptr_array_free(errs, TRUE);
    vg_rule_set_free(set);
    const char *missing[] = {"/nonexistent/rules", NULL};
    errs = load_paths(missing, &set);
    cr_assert(has_error(errs, "/nonexistent/rules", "no such"));
    g_ptr_array_free(errs, TRUE);
    vg_rule_set_free(set);
    g_free(a), g_free(b), g_free(c), g_free(d), g_free(root);
}

void cb(void *u, const VgRuleMatch *m)
{
    *(const char **)u = m->ruleset;
}

/* A few hundred generated rules, every 25th broken in one of several ways: all good ones
 * load, every bad one is reported with file:line:col. Timing is printed, not asserted. */
Test(sigma_load, load_test_hundreds_of_rules)
{
    static const char *const bad[] = {
        "    path|contians: x\n",           /* unknown modifier */
        "    client_ip|cidr: 10.0.0.1/8\n", /* host bits */
        "    path|re: '(x'\n",              /* bad regex */
        "    path|all: x\n",                /* all with one value */
    };
    int n = 400, n_bad = 0;
    for (int i = 0; i < n; i++) {
        bool broken = i % 25 == 7;
        char *body = g_strdup_printf(
            "title: generated %d\nid: gen-%04d\nlevel: medium\nlogsource: {category: "
            "webserver}\ndetection:\n  sel:\n    path|contains: '/probe/%d/'\n%s"
            "  condition: sel\n",
            i, i, i, broken ? bad[n_bad % 4] : "    method: GET\n");
        n_bad += broken;
        char name[64];
        snprintf(name, sizeof name, "many/d%d/r%04d.yml", i % 7, i);
        g_free(tu_write(name, body));
        g_free(body);
    }
    char *root = g_build_filename(tu_dir, "many", NULL);
    const char *paths[] = {root, NULL};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    VgRuleSet *set;
    GPtrArray *errs = load_paths(paths, &set);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
    cr_log_info("loaded %d rules (%d broken) in %.1f ms", n, n_bad, ms);
    printf("sigma load test: %d rules (%d broken) in %.1f ms\n", n, n_bad, ms);
    cr_assert_eq(vg_rule_set_size(set), n - n_bad);
    cr_assert_eq((int)errs->len, n_bad);
    for (guint i = 0; i < errs->len; i++) {
        const char *m = ((GError *)errs->pdata[i])->message;
        cr_assert(g_regex_match_simple("^/.*/r\\d{4}\\.yml:\\d+:\\d+: ", m, 0, 0), "located: %s",
                  m);
    }
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "path", "/x/probe/3/y");
    tu_set(&t, "method", "get");
    VgRuleScratch *s = vg_rule_scratch_new(set);
    TuHits h = {.sel = g_string_new(NULL)};
    vg_rule_set_eval(set, s, &t.ev, NULL, true, tu_hit, &h);
    cr_assert_str_eq(h.sel->str, "gen-0003:sel;");
    g_string_free(h.sel, TRUE);
    vg_rule_scratch_free(s);
    tu_event_clear(&t);
    g_ptr_array_free(errs, TRUE);
    vg_rule_set_free(set);
    g_free(root);
}

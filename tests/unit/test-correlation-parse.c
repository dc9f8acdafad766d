/* test-correlation-parse.c — correlation documents: the specification's examples load,
 * every mistake is reported with file:line:col and a reason, and set building rejects
 * unknown references, cycles and bad aliases at the entry that is wrong. */
#include "rules/correlation.h"

#include <criterion/criterion.h>
#include <stdio.h>

static GPtrArray *docs_of(const char *text, const char *name)
{
    GError *err = NULL;
    GPtrArray *docs = vg_conf_load_documents(text, strlen(text), name, &err);
    cr_assert(docs, "%s", err ? err->message : "?");
    return docs;
}

static GPtrArray *docs_of_file(const char *rel)
{
    char *path = g_build_filename(VG_SOURCE_DIR, rel, NULL);
    char *text;
    size_t len;
    cr_assert(g_file_get_contents(path, &text, &len, NULL), "%s", path);
    GError *err = NULL;
    GPtrArray *docs = vg_conf_load_documents(text, len, path, &err);
    cr_assert(docs, "%s", err ? err->message : "?");
    g_free(text);
    g_free(path);
    return docs;
}

Test(correlation_parse, spec_examples)
{
    GPtrArray *docs = docs_of_file("tests/data/correlation/spec-examples.yml");
    int n = 0;
    for (guint i = 0; i < docs->len; i++) {
        const VgConfNode *d = docs->pdata[i];
        if (!vg_conf_get(d, "correlation"))
            continue;
        GError *err = NULL;
        VgCorrRule *r = vg_corr_rule_parse(d, &err);
        cr_assert(r, "document %u: %s", i, err ? err->message : "?");
        cr_assert_not_null(vg_corr_rule_title(r));
        cr_assert_not_null(vg_corr_rule_id(r));
        cr_assert_not_null(vg_corr_rule_refs(r)[0]);
        vg_corr_rule_free(r);
        n++;
    }
    cr_assert_eq(n, 11);
    g_ptr_array_free(docs, TRUE);
}

/* The originals, when the reference tree is around (developer machines). */
Test(correlation_parse, spec_reference_examples)
{
    const char *dir = "/work/shared/reference/sigma-specification/examples/correlation";
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        cr_skip_test("no reference tree");
    const char *f;
    int n = 0;
    while ((f = g_dir_read_name(d))) {
        char *path = g_build_filename(dir, f, NULL), *text;
        size_t len;
        cr_assert(g_file_get_contents(path, &text, &len, NULL));
        GError *err = NULL;
        GPtrArray *docs = vg_conf_load_documents(text, len, path, &err);
        cr_assert(docs);
        VgCorrRule *r = vg_corr_rule_parse(docs->pdata[0], &err);
        if (strstr(f, "percentile")) {
            cr_assert_null(r);
            cr_assert(strstr(err->message, "not supported"), "%s", err->message);
            g_error_free(err);
        } else {
            cr_assert(r, "%s: %s", f, err ? err->message : "?");
            n++;
        }
        vg_corr_rule_free(r);
        g_ptr_array_free(docs, TRUE);
        g_free(text);
        g_free(path);
    }
    g_dir_close(d);
    cr_assert_geq(n, 7);
}

Test(correlation_parse, value_percentile_is_rejected_clearly)
{
    GPtrArray *docs = docs_of_file("tests/data/correlation/unsupported.yml");
    GError *err = NULL;
    cr_assert_null(vg_corr_rule_parse(docs->pdata[0], &err));
    cr_assert(strstr(err->message, "unsupported.yml:3:11: correlation type value_percentile is "
                                   "not supported"),
              "%s", err->message);
    g_error_free(err);
    g_ptr_array_free(docs, TRUE);
}

Test(correlation_parse, fields_and_defaults)
{
    GPtrArray *docs = docs_of("title: T\nname: n\ncorrelation:\n  type: temporal\n"
                              "  rules: [x, y]\n  group-by: [user]\n  timespan: 90m\n",
                              "t.yml");
    GError *err = NULL;
    VgCorrRule *r = vg_corr_rule_parse(docs->pdata[0], &err);
    cr_assert(r, "%s", err ? err->message : "?");
    cr_assert_str_eq(vg_corr_rule_id(r), "n"); /* no id: the name */
    cr_assert_str_eq(vg_corr_rule_name(r), "n");
    cr_assert_str_eq(vg_corr_rule_title(r), "T");
    cr_assert_str_eq(vg_corr_rule_refs(r)[1], "y");
    cr_assert_null(vg_corr_rule_refs(r)[2]);
    vg_corr_rule_free(r);
    g_ptr_array_free(docs, TRUE);
}

typedef struct {
    const char *yaml;
    const char *error; /* expected substring, with location */
} Bad;

#define HEAD "title: t\ncorrelation:\n"

static const Bad bad_docs[] = {
    {"correlation:\n  type: event_count\n", "t.yml:1:1: correlation rule: 'title' is required"},
    {"title: t\ncorrelation: [a]\n", "t.yml:2:14: correlation must be a mapping, found a list"},
    {HEAD "  rules: [a]\n  group-by: [x]\n  timespan: 5m\n", "t.yml:3:3: correlation: 'type'"},
    {HEAD "  type: event_counts\n  rules: [a]\n  group-by: [x]\n  timespan: 5m\n"
          "  condition: {gt: 1}\n",
     "t.yml:3:9: unknown correlation type 'event_counts'"},
    {HEAD "  type: event_count\n  group-by: [x]\n  timespan: 5m\n  condition: {gt: 1}\n",
     "t.yml:3:3: correlation: 'rules' is required"},
    {HEAD "  type: event_count\n  rules: [a, a]\n  group-by: [x]\n  timespan: 5m\n"
          "  condition: {gt: 1}\n",
     "t.yml:4:14: rules: 'a' is listed twice"},
    {HEAD "  type: event_count\n  rules: [a]\n  timespan: 5m\n  condition: {gt: 1}\n",
     "t.yml:3:3: correlation: 'group-by' is required"},
    {HEAD "  type: event_count\n  rules: [a]\n  groupby: [x]\n  timespan: 5m\n",
     "t.yml:5:3: correlation: unknown key 'groupby'"},
    {HEAD "  type: event_count\n  rules: [a]\n  group-by: [x]\n  condition: {gt: 1}\n",
     "correlation: 'timespan' is required"},
    {HEAD "  type: event_count\n  rules: [a]\n  group-by: [x]\n  timespan: 5 minutes\n"
          "  condition: {gt: 1}\n",
     "t.yml:6:13: timespan '5 minutes' is not a number followed by s, m, h or d"},
    {HEAD "  type: event_count\n  rules: [a]\n  group-by: [x]\n  timespan: 300\n"
          "  condition: {gt: 1}\n",
     "t.yml:6:13: timespan '300'"},
    {HEAD "  type: event_count\n  rules: [a]\n  group-by: [x]\n  timespan: 5M\n"
          "  condition: {gt: 1}\n",
     "t.yml:6:13: timespan '5M'"},
    {HEAD "  type: event_count\n  rules: [a]\n  group-by: [x]\n  timespan: 5m\n",
     "t.yml:3:3: correlation: event_count needs a 'condition'"},
    {HEAD "  type: event_count\n  rules: [a]\n  group-by: [x]\n  timespan: 5m\n"
          "  condition: {gt: 10, lt: 5}\n",
     "t.yml:7:14: condition can never be true"},
    {HEAD "  type: event_count\n  rules: [a]\n  group-by: [x]\n  timespan: 5m\n"
          "  condition: {more: 10}\n",
     "t.yml:7:15: condition: unknown key 'more'"},
    {HEAD "  type: event_count\n  rules: [a]\n  group-by: [x]\n  timespan: 5m\n"
          "  condition:\n    gt: lots\n",
     "t.yml:8:9: 'lots' is not a number"},
    {HEAD "  type: event_count\n  rules: [a]\n  group-by: [x]\n  timespan: 5m\n"
          "  condition: {field: path}\n",
     "t.yml:7:14: condition needs a comparison"},
    {HEAD "  type: event_count\n  rules: [a]\n  group-by: [x]\n  timespan: 5m\n"
          "  condition: {field: path, gt: 1}\n",
     "t.yml:7:14: condition: 'field' is only for value_count"},
    {HEAD "  type: value_count\n  rules: [a]\n  group-by: [x]\n  timespan: 5m\n"
          "  condition: {gt: 1}\n",
     "t.yml:7:14: condition: value_count needs 'field'"},
    {HEAD "  type: value_sum\n  rules: [a]\n  group-by: [x]\n  timespan: 5m\n"
          "  condition: {field: [a, b], gt: 1}\n",
     "t.yml:7:14: condition: value_sum takes exactly one field"},
    {HEAD "  type: temporal\n  rules: [a, b]\n  group-by: [x]\n  timespan: 5m\n"
          "  condition: {gte: 3}\n",
     "t.yml:7:14: condition: a temporal rule counts at most 2 rules"},
    {HEAD "  type: temporal\n  rules: [a, b]\n  group-by: [x]\n  timespan: 5m\n"
          "  aliases:\n    ip: [a, b]\n",
     "t.yml:8:9: aliases.ip must map rule names to field names"},
    {"title: t\nlevel: severe\ncorrelation:\n  type: temporal\n  rules: [a]\n"
     "  group-by: [x]\n  timespan: 5m\n",
     "t.yml:2:8: level 'severe' is not one of"},
    {"title: t\ngenerate: maybe\ncorrelation:\n  type: temporal\n  rules: [a]\n"
     "  group-by: [x]\n  timespan: 5m\n",
     "t.yml:2:11: 'maybe' is not true or false"},
};

Test(correlation_parse, errors_carry_locations)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_docs); i++) {
        GPtrArray *docs = docs_of(bad_docs[i].yaml, "t.yml");
        GError *err = NULL;
        VgCorrRule *r = vg_corr_rule_parse(docs->pdata[0], &err);
        cr_assert_null(r, "case %zu parsed", i);
        cr_assert(err && strstr(err->message, bad_docs[i].error), "case %zu: got '%s', want '%s'",
                  i, err ? err->message : "(none)", bad_docs[i].error);
        g_error_free(err);
        g_ptr_array_free(docs, TRUE);
    }
}

/* ---- set building ---- */

static int resolve(void *user, const char *ref)
{
    (void)user;
    static const char *const names[] = {"a", "b", "c", NULL};
    for (int i = 0; names[i]; i++)
        if (!strcmp(names[i], ref))
            return i;
    return -1;
}

/* NULL if the set builds, else the error message (caller frees). */
static char *build_error(const char *yaml)
{
    GPtrArray *docs = docs_of(yaml, "s.yml");
    GPtrArray *rules = g_ptr_array_new();
    GError *err = NULL;
    for (guint i = 0; i < docs->len; i++) {
        VgCorrRule *r = vg_corr_rule_parse(docs->pdata[i], &err);
        cr_assert(r, "%s", err ? err->message : "?");
        g_ptr_array_add(rules, r);
    }
    g_ptr_array_free(docs, TRUE);
    VgCorrSet *s = vg_corr_set_new(rules, 3, resolve, NULL, NULL, &err);
    cr_assert_eq(rules->len, 0, "the set owns the rules even on error");
    g_ptr_array_free(rules, TRUE);
    char *msg = NULL;
    if (!s) {
        cr_assert_not_null(err);
        msg = g_strdup(err->message);
        g_error_free(err);
    }
    vg_corr_set_free(s);
    return msg;
}

#define CORR(extra) "correlation:\n  type: temporal\n  group-by: [user]\n  timespan: 5m\n" extra

static const Bad bad_sets[] = {
    {"title: t\n" CORR("  rules: [a, nope]\n"), "s.yml:6:14: correlation 't': unknown rule 'nope'"},
    {"title: x\nname: x\n" CORR("  rules: [a, y]\n") "---\ntitle: y\nname: y\n" CORR(
         "  rules: [x]\n"),
     "s.yml:15:11: correlation 'y': referring to 'x' makes a cycle"},
    {"title: x\nname: x\n" CORR("  rules: [x]\n"), "referring to 'x' makes a cycle"},
    {"title: x\nname: a\n" CORR("  rules: [b]\n") "---\ntitle: y\n" CORR("  rules: [a]\n"),
     "s.yml:14:11: correlation 'y': 'a' names both a detection rule and a correlation rule"},
    {"title: t\n" CORR("  rules: [a, b]\n  aliases:\n    ip: {a: client_ip, c: host}\n"),
     "s.yml:8:24: correlation 't': aliases.ip: 'c' is not one of its rules"},
    {"title: x\nid: same\n" CORR("  rules: [a]\n") "---\ntitle: y\nid: same\n" CORR(
         "  rules: [b]\n"),
     "s.yml:10:5: correlation 'y': its id is already used by 'x'"},
};

Test(correlation_parse, set_errors_carry_locations)
{
    for (size_t i = 0; i < G_N_ELEMENTS(bad_sets); i++) {
        char *msg = build_error(bad_sets[i].yaml);
        cr_assert(msg && strstr(msg, bad_sets[i].error), "case %zu: got '%s', want '%s'", i,
                  msg ? msg : "(built)", bad_sets[i].error);
        g_free(msg);
    }
}

static int resolve_spec(void *user, const char *ref)
{
    (void)user;
    if (!strcmp(ref, "failed_login") || !strcmp(ref, "53ba33fd-3a50-4468-a5ef-c583635cfa92"))
        return 0;
    if (!strcmp(ref, "successful_login"))
        return 1;
    return -1;
}

Test(correlation_parse, spec_chain_builds)
{
    GPtrArray *docs = docs_of_file("tests/data/correlation/spec-examples.yml");
    /* the last four documents: outer, inner, and the two detection rules */
    GPtrArray *rules = g_ptr_array_new();
    GError *err = NULL;
    for (guint i = docs->len - 4; i < docs->len - 2; i++)
        g_ptr_array_add(rules, vg_corr_rule_parse(docs->pdata[i], &err));
    g_ptr_array_free(docs, TRUE);
    VgCorrSet *s = vg_corr_set_new(rules, 2, resolve_spec, NULL, NULL, &err);
    cr_assert(s, "%s", err ? err->message : "?");
    g_ptr_array_free(rules, TRUE);
    cr_assert_eq(vg_corr_set_size(s), 2);
    cr_assert(vg_corr_set_wants(s, 0));
    cr_assert(vg_corr_set_wants(s, 1));
    cr_assert(vg_corr_set_suppresses(s, 0));
    cr_assert(vg_corr_set_suppresses(s, 1));
    vg_corr_set_free(s);
}

/* One correlation per line group: good, broken (unknown rule), chained to the broken one,
 * and one chained to the good one. */
static const char partial_yaml[] =
    "title: good\nid: good\n"
    "correlation: {type: temporal, group-by: [user], timespan: 5m, rules: [a, b]}\n"
    "---\n"
    "title: broken\nname: broken\n"
    "correlation: {type: temporal, group-by: [user], timespan: 5m, rules: [a, nope]}\n"
    "---\n"
    "title: chained\n"
    "correlation: {type: temporal, group-by: [user], timespan: 5m, rules: [broken, c]}\n"
    "---\n"
    "title: also good\n"
    "correlation: {type: temporal, group-by: [user], timespan: 5m, rules: [good, c]}\n";

Test(correlation_parse, partial_build_drops_only_broken_rules)
{
    GPtrArray *docs = docs_of(partial_yaml, "p.yml");
    GPtrArray *rules = g_ptr_array_new();
    GError *err = NULL;
    for (guint i = 0; i < docs->len; i++)
        g_ptr_array_add(rules, vg_corr_rule_parse(docs->pdata[i], &err));
    g_ptr_array_free(docs, TRUE);
    GPtrArray *errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    VgCorrSet *s = vg_corr_set_new_partial(rules, 3, resolve, NULL, NULL, errors);
    cr_assert_not_null(s);
    cr_assert_eq(rules->len, 0);
    g_ptr_array_free(rules, TRUE);
    cr_assert_eq(vg_corr_set_size(s), 2);
    cr_assert_str_eq(vg_corr_rule_title(vg_corr_set_rule(s, 0)), "good");
    cr_assert_str_eq(vg_corr_rule_title(vg_corr_set_rule(s, 1)), "also good");
    cr_assert_eq(errors->len, 2);
    cr_assert(strstr(((GError *)errors->pdata[0])->message, "p.yml:7:74: correlation 'broken': "
                                                            "unknown rule 'nope'"),
              "%s", ((GError *)errors->pdata[0])->message);
    cr_assert(strstr(((GError *)errors->pdata[1])->message, "unknown rule 'broken'"), "%s",
              ((GError *)errors->pdata[1])->message);
    g_ptr_array_free(errors, TRUE);
    vg_corr_set_free(s);
}

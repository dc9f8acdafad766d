/* cli-test-rules.c — `vigil test-rules RULES… --events FILE`: which event matched which
 * rule, for rule authors (what ossec-logtest is to OSSEC).
 *
 * The rules are loaded once on their own first, so every error is printed with its file,
 * line and column (and the command fails, as `vigil check` would). Then the events go
 * through the very pipeline `replay` uses, with those rules as rules.paths, a trace that
 * collects the rule matches of the current event, and a line observer that prints, per
 * line, the request and each matching rule with the selections that were true:
 *
 *     events.jsonl:3: POST /v1/login from 198.51.100.7 -> 401
 *       matched "API authentication failure" (5f1c…) selections: failure
 *     events.jsonl:4: GET /v1/x from 203.0.113.9 -> 200
 *       no rule matched
 *
 * Alerts raised by correlations when their windows close are listed at the end. Nothing is
 * delivered to sinks. Exit 0 when the rules loaded (whatever matched), 2 on a rule error.
 */
#include "engine/cli.h"

#include "rules/rules.h"

#include <stdio.h>

typedef struct {
    GString *matches; /* lines for the current event */
    int n_matches;
    uint64_t events, matched, bad;
    int alerts_after;
    bool only_matches;
} TestRules;

static void on_rule(void *u, const char *id, const char *title, const char *const *sel, int n)
{
    TestRules *t = u;
    g_string_append_printf(t->matches, "  matched \"%s\" (%s) selections: ", title, id);
    for (int i = 0; i < n; i++)
        g_string_append_printf(t->matches, "%s%s", i ? ", " : "", sel[i]);
    g_string_append_c(t->matches, '\n');
    t->n_matches++;
}

static void on_alert(void *u, const char *event_id)
{
    TestRules *t = u;
    g_string_append_printf(t->matches, "  alert raised: %s\n", event_id);
    t->alerts_after++;
}

static void print_str(VgStr s, const char *dflt)
{
    if (s.p)
        fwrite(s.p, 1, MIN(s.len, 200u), stdout);
    else
        fputs(dflt, stdout);
}

static void on_line(void *u, const VgLineBatch *b, const VgLineRef *l, const VgEvent *ev,
                    VgBadReason reason)
{
    TestRules *t = u;
    if (!ev) {
        t->bad++;
        if (!t->only_matches)
            printf("%s:%" G_GUINT64_FORMAT ": not an event (%s)\n", b->source, l->line_no,
                   vg_bad_reason_name(reason));
    } else {
        t->events++;
        t->matched += t->n_matches > 0;
        if (t->n_matches || !t->only_matches) {
            printf("%s:%" G_GUINT64_FORMAT ": ", b->source, l->line_no);
            print_str(ev->method, "-");
            putchar(' ');
            print_str(ev->path, "-");
            if (ev->query.p && ev->query.len) {
                putchar('?');
                print_str(ev->query, "");
            }
            fputs(" from ", stdout);
            print_str(ev->client_ip, "unknown");
            if (vg_event_has(ev, VG_F_STATUS))
                printf(" -> %d", ev->status);
            putchar('\n');
            fputs(t->n_matches ? t->matches->str : "  no rule matched\n", stdout);
        }
    }
    g_string_truncate(t->matches, 0);
    t->n_matches = 0;
}

static int discard(void *u, const VgAlertRecord *r)
{
    (void)u;
    (void)r;
    return VG_OK;
}

int vg_cmd_test_rules(int argc, char **argv)
{
    VgCliCommon c = {0};
    TestRules t = {0};
    char **events = NULL;
    GOptionContext *ctx = g_option_context_new("RULES… --events FILE");
    g_option_context_set_summary(
        ctx, "Load Sigma rules (files or directories) and show, for every event of FILE,\n"
             "which rule matched and which selections were true. Rule errors are printed as\n"
             "file:line:column: reason (exit code 2).");
    vg_cli_add_common(ctx, &c);
    gboolean only = FALSE;
    GOptionEntry entries[] = {
        {"events", 'e', 0, G_OPTION_ARG_FILENAME_ARRAY, &events,
         "Access-log file to test (repeatable; - for stdin)", "FILE"},
        {"only-matches", 0, 0, G_OPTION_ARG_NONE, &only, "Only events that matched a rule", NULL},
        {NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *err = NULL;
    int rc = VG_EXIT_USAGE;
    VgSettings *s = NULL;
    VgPipeline *p = NULL;
    t.matches = g_string_new(NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        rc = vg_cli_usage_error(ctx, "%s", err->message);
        goto out;
    }
    t.only_matches = only;
    /* positional arguments are rule paths, added to any --rules */
    GPtrArray *paths = g_ptr_array_new();
    for (char **r = c.rules; r && *r; r++)
        g_ptr_array_add(paths, g_strdup(*r));
    for (int i = 1; i < argc; i++)
        g_ptr_array_add(paths, g_strdup(argv[i]));
    g_ptr_array_add(paths, NULL);
    g_strfreev(c.rules);
    c.rules = (char **)g_ptr_array_free(paths, FALSE);
    if (!c.rules[0] || !events || !events[0]) {
        rc =
            vg_cli_usage_error(ctx, "test-rules needs rule files or directories and --events FILE");
        goto out;
    }
    if (!(s = vg_cli_settings(&c)))
        goto out;

    /* load once on our own: every error, with its location */
    GPtrArray *errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    VgRulesLoadOpts lo = {.expand = vg_conf_get(s->rules, "expand")};
    VgRuleSet *set = vg_rule_set_load((const char *const *)c.rules, &lo, errors);
    for (guint i = 0; i < errors->len; i++)
        fprintf(stderr, "%s\n", ((GError *)errors->pdata[i])->message);
    int n_rules = vg_rule_set_size(set), n_corr = vg_rule_set_n_correlations(set);
    vg_rule_set_free(set);
    bool loaded = errors->len == 0;
    g_ptr_array_free(errors, TRUE);
    if (!loaded)
        goto out;
    printf("loaded %d detection rules, %d correlation rules\n", n_rules, n_corr);

    VgTrace trace = {.user = &t, .rule_match = on_rule, .alert = on_alert};
    VgLineObserver obs = {.user = &t, .line_done = on_line};
    p = vg_pipeline_new(s, (VgAlertOutput){.push = discard}, &trace, &obs, &err);
    if (!p) {
        fprintf(stderr, "vigil: %s\n", err->message);
        goto out;
    }
    int r = vg_cli_feed_files(p, events, s, true, NULL, &err);
    if (r != VG_OK)
        fprintf(stderr, "vigil: %s\n", err ? err->message : "read error");
    t.alerts_after = 0;
    vg_pipeline_finish(p);
    if (t.alerts_after) {
        printf("end of input: windows closed\n");
        fputs(t.matches->str, stdout);
    }
    printf("%" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " matched a rule, %" G_GUINT64_FORMAT
           " bad lines\n",
           t.events, t.matched, t.bad);
    fflush(stdout);
    rc = r == VG_OK ? VG_EXIT_OK : VG_EXIT_FAIL;
out:
    g_clear_error(&err);
    vg_pipeline_free(p);
    vg_settings_free(s);
    g_option_context_free(ctx);
    g_string_free(t.matches, TRUE);
    g_strfreev(events);
    g_free(c.config);
    g_free(c.format);
    g_strfreev(c.rules);
    return rc;
}

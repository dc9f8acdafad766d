/* test-sigma-detector.c — the "rules" detector: alerts from Sigma matches (fields, reason,
 * no raw token), traces for explain/test-rules, informational rules, and reload (a broken
 * set keeps the old one, a good one is swapped in at the next event, also between preparing
 * an event ahead and judging it). */
#include "test-sigma-util.h"

#include "engine/alert-stage.h"

TestSuite(sigma_detector, .fini = tu_cleanup);

static GPtrArray *captured;

static int capture(void *u, const VgAlertRecord *r)
{
    (void)u;
    g_ptr_array_add(captured, g_strndup(r->json, r->json_len));
    return VG_OK;
}

typedef struct {
    GString *log;
} Trace;

static void trace_match(void *user, const char *id, const char *title, const char *const *sel,
                        int n)
{
    Trace *t = user;
    g_string_append_printf(t->log, "%s|%s|", id, title);
    for (int i = 0; i < n; i++)
        g_string_append_printf(t->log, "%s%s", i ? "," : "", sel[i]);
    g_string_append_c(t->log, ';');
}

/* A rules detector on one rule file, with an alert stage that captures every alert and an
 * arena for its context; fx_close() frees it all. */
typedef struct {
    VgDetector *d;
    VgAlertStage *st;
    VgArena arena;
    VgDetectCtx ctx;
} Fx;

static void fx_open(Fx *f, const char *rules_path)
{
    captured = g_ptr_array_new_with_free_func(g_free);
    char *cfg = g_strdup_printf("paths: ['%s']\n", rules_path);
    GPtrArray *docs = vg_conf_load_documents(cfg, strlen(cfg), "cfg", NULL);
    GError *e = NULL;
    f->d = vg_rules_detector_ops.create(&vg_rules_detector_ops, docs->pdata[0], &e);
    cr_assert(f->d, "%s", e ? e->message : "?");
    g_ptr_array_free(docs, TRUE);
    g_free(cfg);
    VgAlertStageConf ac = {.cooldown_ms = 0, .max_samples = 5, .max_incidents = 1000};
    VgAlertOutput out = {.push = capture};
    f->st = vg_alert_stage_new(&ac, out);
    vg_arena_init(&f->arena, 4096);
    f->ctx = (VgDetectCtx){.alerts = f->st, .arena = &f->arena};
}

static void fx_close(Fx *f)
{
    f->d->ops->destroy(f->d);
    vg_alert_stage_free(f->st);
    vg_arena_destroy(&f->arena);
    g_ptr_array_free(captured, TRUE);
}

/* A rule file (under the test's directory) with one rule: path equals path. */
static char *path_rule(const char *file, const char *id, const char *path)
{
    char *y = g_strdup_printf("title: %s\nid: %s\ndetection:\n  s: {path: %s}\n  condition: s\n",
                              id, id, path);
    char *p = tu_write(file, y);
    g_free(y);
    return p;
}

Test(sigma_detector, alert_fields_and_trace)
{
    char *p = tu_write("det/sqli.yml",
                       "title: SQL injection probe\nid: rule-sqli\nlevel: high\n"
                       "detection:\n  selection_sqli:\n    query|contains: 'union select'\n"
                       "  condition: selection_sqli\n"
                       "---\n"
                       "title: Quiet enrichment\nid: rule-info\nlevel: informational\n"
                       "detection:\n  s: {method: GET}\n  condition: s\n");
    Fx f;
    fx_open(&f, p);
    Trace tr = {g_string_new(NULL)};
    VgTrace trace = {.user = &tr, .rule_match = trace_match};
    f.ctx.trace = &trace;
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "method", "GET");
    tu_set(&t, "path", "/v1/x");
    tu_set(&t, "query", "id=1 UNION SELECT pw");
    tu_set(&t, "client_ip", "203.0.113.9");
    tu_set(&t, "token", "tk_live_SECRET123");
    tu_set(&t, "request_id", "req-42");
    f.d->ops->on_event(f.d, &t.ev, &f.ctx);
    cr_assert_eq(captured->len, 1, "one alert (the informational rule raises none)");
    const char *json = captured->pdata[0];
    cr_assert(strstr(json, "\"rule-sqli\""), "%s", json);
    cr_assert(strstr(json, "\"sigma\""), "%s", json);
    cr_assert(strstr(json, "Rule \\\"SQL injection probe\\\" matched GET /v1/x from 203.0.113.9 "
                           "(selection_sqli)"),
              "%s", json);
    cr_assert(strstr(json, "req-42"), "%s", json);
    cr_assert(!strstr(json, "tk_live_SECRET123"), "no raw token: %s", json);
    cr_assert_str_eq(tr.log->str, "rule-sqli|SQL injection probe|selection_sqli;"
                                  "rule-info|Quiet enrichment|s;");
    tu_event_clear(&t);
    g_string_free(tr.log, TRUE);
    fx_close(&f);
    g_free(p);
}

Test(sigma_detector, reload_keeps_old_set_on_error)
{
    char *p = path_rule("reload/a.yml", "a", "/a");
    Fx f;
    fx_open(&f, p);
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "path", "/b");
    tu_set(&t, "client_ip", "198.51.100.1");

    char *bad = tu_write("reload/bad.yml", "title: B\ndetection:\n  s: {path|nope: /b}\n"
                                           "  condition: s\n");
    const char *bad_paths[] = {bad, NULL};
    GError *e = NULL;
    cr_assert_eq(vg_rules_reload(f.d, bad_paths, &e), VG_ECONFIG);
    cr_assert(e && strstr(e->message, "bad.yml:3:") && strstr(e->message, "nope"), "%s",
              e ? e->message : "");
    g_clear_error(&e);
    f.d->ops->on_event(f.d, &t.ev, &f.ctx); /* still the old set: /a only */
    cr_assert_eq(captured->len, 0);

    char *good = path_rule("reload/b.yml", "b", "/b");
    const char *good_paths[] = {good, NULL};
    cr_assert_eq(vg_rules_reload(f.d, good_paths, &e), VG_OK);
    f.d->ops->on_event(f.d, &t.ev, &f.ctx);
    cr_assert_eq(captured->len, 1);
    cr_assert(strstr(captured->pdata[0], "\"b\""), "%s", (char *)captured->pdata[0]);
    tu_event_clear(&t);
    fx_close(&f);
    g_free(p), g_free(bad), g_free(good);
}

/* The one-thread pipeline prepares a run of events (their matches) before judging them. A
 * reload taken while some are prepared but not judged (at the next prepare) must not apply
 * their matches, made with the set it freed: they are judged again with the new set, as
 * on_event after the reload would judge them. (Under ASan, applying them is a
 * use-after-free.) */
Test(sigma_detector, reload_between_prepare_and_judge)
{
    char *a = path_rule("ahead/a.yml", "a", "/a");
    Fx f;
    fx_open(&f, a);
    VgDetector *d = f.d;
    const VgDetectorOps *ops = d->ops;
    cr_assert(ops->prepare && ops->prefetch && ops->on_prepared);
    TuEvent e1, e2;
    tu_event_init(&e1);
    tu_set(&e1, "path", "/a");
    tu_set(&e1, "client_ip", "198.51.100.1");
    tu_event_init(&e2);
    tu_set(&e2, "path", "/b");
    tu_set(&e2, "client_ip", "198.51.100.2");
    void *p1 = g_malloc0(ops->prep_size), *p2 = g_malloc0(ops->prep_size);

    ops->prepare(d, &e1.ev, &f.arena, p1); /* matches A's rule */
    char *b = path_rule("ahead/b.yml", "b", "/b");
    const char *paths[] = {b, NULL};
    GError *e = NULL;
    cr_assert_eq(vg_rules_reload(d, paths, &e), VG_OK);
    ops->prepare(d, &e2.ev, &f.arena, p2); /* takes the reload */
    ops->prefetch(d, p1, 0);
    ops->prefetch(d, p1, 1);
    ops->on_prepared(d, &e1.ev, p1, &f.ctx);
    cr_assert_eq(captured->len, 0, "e1 judged with the set now in use (B: /b only)");
    ops->prefetch(d, p2, 0);
    ops->prefetch(d, p2, 1);
    ops->on_prepared(d, &e2.ev, p2, &f.ctx);
    cr_assert_eq(captured->len, 1);
    cr_assert(strstr(captured->pdata[0], "\"b\""), "%s", (char *)captured->pdata[0]);

    g_free(p1), g_free(p2);
    tu_event_clear(&e1), tu_event_clear(&e2);
    fx_close(&f);
    g_free(a), g_free(b);
}

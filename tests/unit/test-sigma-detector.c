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

static VgDetector *make(const char *rules_path, VgAlertStage **st)
{
    char *cfg = g_strdup_printf("paths: ['%s']\n", rules_path);
    GPtrArray *docs = vg_conf_load_documents(cfg, strlen(cfg), "cfg", NULL);
    GError *e = NULL;
    VgDetector *d = vg_rules_detector_ops.create(&vg_rules_detector_ops, docs->pdata[0], &e);
    cr_assert(d, "%s", e ? e->message : "?");
    g_ptr_array_free(docs, TRUE);
    g_free(cfg);
    VgAlertStageConf ac = {.cooldown_ms = 0, .max_samples = 5, .max_incidents = 1000};
    VgAlertOutput out = {.push = capture};
    *st = vg_alert_stage_new(&ac, out);
    return d;
}

Test(sigma_detector, alert_fields_and_trace)
{
    captured = g_ptr_array_new_with_free_func(g_free);
    char *p = tu_write("det/sqli.yml",
                       "title: SQL injection probe\nid: rule-sqli\nlevel: high\n"
                       "detection:\n  selection_sqli:\n    query|contains: 'union select'\n"
                       "  condition: selection_sqli\n"
                       "---\n"
                       "title: Quiet enrichment\nid: rule-info\nlevel: informational\n"
                       "detection:\n  s: {method: GET}\n  condition: s\n");
    VgAlertStage *st;
    VgDetector *d = make(p, &st);
    VgArena arena;
    vg_arena_init(&arena, 4096);
    Trace tr = {g_string_new(NULL)};
    VgTrace trace = {.user = &tr, .rule_match = trace_match};
    VgDetectCtx ctx = {.alerts = st, .arena = &arena, .watermark = 0, .trace = &trace};
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "method", "GET");
    tu_set(&t, "path", "/v1/x");
    tu_set(&t, "query", "id=1 UNION SELECT pw");
    tu_set(&t, "client_ip", "203.0.113.9");
    tu_set(&t, "token", "tk_live_SECRET123");
    tu_set(&t, "request_id", "req-42");
    d->ops->on_event(d, &t.ev, &ctx);
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
    d->ops->destroy(d);
    vg_alert_stage_free(st);
    vg_arena_destroy(&arena);
    g_ptr_array_free(captured, TRUE);
    g_free(p);
}

Test(sigma_detector, reload_keeps_old_set_on_error)
{
    captured = g_ptr_array_new_with_free_func(g_free);
    char *p = tu_write("reload/a.yml", "title: A\nid: a\ndetection:\n  s: {path: /a}\n"
                                       "  condition: s\n");
    VgAlertStage *st;
    VgDetector *d = make(p, &st);
    VgArena arena;
    vg_arena_init(&arena, 4096);
    VgDetectCtx ctx = {.alerts = st, .arena = &arena};
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "path", "/b");
    tu_set(&t, "client_ip", "198.51.100.1");

    char *bad = tu_write("reload/bad.yml", "title: B\ndetection:\n  s: {path|nope: /b}\n"
                                           "  condition: s\n");
    const char *bad_paths[] = {bad, NULL};
    GError *e = NULL;
    cr_assert_eq(vg_rules_reload(d, bad_paths, &e), VG_ECONFIG);
    cr_assert(e && strstr(e->message, "bad.yml:3:") && strstr(e->message, "nope"), "%s",
              e ? e->message : "");
    g_clear_error(&e);
    d->ops->on_event(d, &t.ev, &ctx); /* still the old set: /a only */
    cr_assert_eq(captured->len, 0);

    char *good = tu_write("reload/b.yml", "title: B\nid: b\ndetection:\n  s: {path: /b}\n"
                                          "  condition: s\n");
    const char *good_paths[] = {good, NULL};
    cr_assert_eq(vg_rules_reload(d, good_paths, &e), VG_OK);
    d->ops->on_event(d, &t.ev, &ctx);
    cr_assert_eq(captured->len, 1);
    cr_assert(strstr(captured->pdata[0], "\"b\""), "%s", (char *)captured->pdata[0]);
    tu_event_clear(&t);
    d->ops->destroy(d);
    vg_alert_stage_free(st);
    vg_arena_destroy(&arena);
    g_ptr_array_free(captured, TRUE);
    g_free(p), g_free(bad), g_free(good);
}

/* The one-thread pipeline prepares a run of events (their matches) before judging them. A
 * reload taken while some are prepared but not judged (at the next prepare) must not apply
 * their matches, made with the set it freed: they are judged again with the new set, as
 * on_event after the reload would judge them. (Under ASan, applying them is a
 * use-after-free.) */
Test(sigma_detector, reload_between_prepare_and_judge)
{
    captured = g_ptr_array_new_with_free_func(g_free);
    char *a = tu_write("ahead/a.yml", "title: A\nid: a\ndetection:\n  s: {path: /a}\n"
                                      "  condition: s\n");
    VgAlertStage *st;
    VgDetector *d = make(a, &st);
    const VgDetectorOps *ops = d->ops;
    cr_assert(ops->prepare && ops->prefetch && ops->on_prepared);
    VgArena arena;
    vg_arena_init(&arena, 4096);
    VgDetectCtx ctx = {.alerts = st, .arena = &arena};
    TuEvent e1, e2;
    tu_event_init(&e1);
    tu_set(&e1, "path", "/a");
    tu_set(&e1, "client_ip", "198.51.100.1");
    tu_event_init(&e2);
    tu_set(&e2, "path", "/b");
    tu_set(&e2, "client_ip", "198.51.100.2");
    void *p1 = g_malloc0(ops->prep_size), *p2 = g_malloc0(ops->prep_size);

    ops->prepare(d, &e1.ev, &arena, p1); /* matches A's rule */
    char *b = tu_write("ahead/b.yml", "title: B\nid: b\ndetection:\n  s: {path: /b}\n"
                                      "  condition: s\n");
    const char *paths[] = {b, NULL};
    GError *e = NULL;
    cr_assert_eq(vg_rules_reload(d, paths, &e), VG_OK);
    ops->prepare(d, &e2.ev, &arena, p2); /* takes the reload */
    ops->prefetch(d, p1, 0);
    ops->prefetch(d, p1, 1);
    ops->on_prepared(d, &e1.ev, p1, &ctx);
    cr_assert_eq(captured->len, 0, "e1 judged with the set now in use (B: /b only)");
    ops->prefetch(d, p2, 0);
    ops->prefetch(d, p2, 1);
    ops->on_prepared(d, &e2.ev, p2, &ctx);
    cr_assert_eq(captured->len, 1);
    cr_assert(strstr(captured->pdata[0], "\"b\""), "%s", (char *)captured->pdata[0]);

    g_free(p1), g_free(p2);
    tu_event_clear(&e1), tu_event_clear(&e2);
    d->ops->destroy(d);
    vg_alert_stage_free(st);
    vg_arena_destroy(&arena);
    g_ptr_array_free(captured, TRUE);
    g_free(a), g_free(b);
}

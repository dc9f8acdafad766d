/* test-rules-share.c — "rules" detectors built from the same config share one compiled
 * rule set (rules/sigma-share.c) yet keep their own correlation state; a set is never
 * shared across a change of the rule files; a reload moves each detector to the new
 * shared set with its own windows; and findings reach every detector sharing a set. */
#include "test-sigma-util.h"

#include "engine/alert-stage.h"

TestSuite(rules_share, .fini = tu_cleanup);

/* A detector with its own alert stage, counting the alerts it raises. */
typedef struct {
    VgDetector *d;
    VgAlertStage *st;
    int alerts;
    VgArena arena;
} Det;

static int count(void *user, const VgAlertRecord *r)
{
    (void)r;
    ((Det *)user)->alerts++;
    return VG_OK;
}

static bool det_new(Det *x, const char *dir, bool strict, GError **err)
{
    char *cfg = g_strdup_printf("paths: ['%s']\nstrict: %s\n", dir, strict ? "true" : "false");
    GPtrArray *docs = vg_conf_load_documents(cfg, strlen(cfg), "cfg", NULL);
    memset(x, 0, sizeof *x);
    x->d = vg_rules_detector_ops.create(&vg_rules_detector_ops, docs->pdata[0], err);
    g_ptr_array_free(docs, TRUE);
    g_free(cfg);
    if (!x->d)
        return false;
    VgAlertStageConf ac = {.cooldown_ms = 0, .max_samples = 5, .max_incidents = 1000};
    x->st = vg_alert_stage_new(&ac, (VgAlertOutput){.user = x, .push = count});
    vg_arena_init(&x->arena, 4096);
    return true;
}

static void det_make(Det *x, const char *dir)
{
    GError *e = NULL;
    cr_assert(det_new(x, dir, false, &e), "%s", e ? e->message : "?");
}

static void det_free(Det *x)
{
    x->d->ops->destroy(x->d);
    vg_alert_stage_free(x->st);
    vg_arena_destroy(&x->arena);
}

/* An /admin request from ip at t seconds past the test's epoch. */
static void feed(Det *x, const char *ip, int t)
{
    TuEvent ev;
    tu_event_init(&ev);
    ev.ev.time_ms += t * 1000;
    tu_set(&ev, "method", "GET");
    tu_set(&ev, "path", "/admin");
    tu_set(&ev, "client_ip", ip);
    VgDetectCtx ctx = {.alerts = x->st, .arena = &x->arena, .watermark = ev.ev.time_ms - 60000};
    x->d->ops->on_event(x->d, &ev.ev, &ctx);
    tu_event_clear(&ev);
}

/* The detector's correlation state, as its checkpoint says it. */
static GByteArray *snap(Det *x)
{
    GByteArray *b = g_byte_array_new();
    cr_assert_eq(x->d->ops->snapshot(x->d, b), VG_OK);
    return b;
}

static bool same_bytes(const GByteArray *a, const GByteArray *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* Three /admin requests from one IP within 5 minutes raise the correlation's alert (the
 * detection rule only feeds it). */
static const char corr_yml[] = "title: Admin probe\nid: admin-probe\nname: admin_probe\n"
                               "level: informational\n"
                               "detection:\n  s: {path: /admin}\n  condition: s\n"
                               "---\n"
                               "title: Admin probing\nid: admin-probing\nlevel: high\n"
                               "correlation:\n  type: event_count\n  rules: [admin_probe]\n"
                               "  group-by: [client_ip]\n  timespan: 5m\n"
                               "  condition: {gte: 3}\n";

/* A rule folder: corr.yml (the rules above) and, unless NULL, extra.yml with extra. */
static char *rules_dir(const char *name, const char *extra)
{
    char *sub = g_strdup_printf("%s/corr.yml", name);
    g_free(tu_write(sub, corr_yml));
    g_free(sub);
    if (extra) {
        sub = g_strdup_printf("%s/extra.yml", name);
        g_free(tu_write(sub, extra));
        g_free(sub);
    }
    return g_build_filename(tu_dir, name, NULL);
}

Test(rules_share, one_set_own_correlations)
{
    char *dir = rules_dir("share", NULL);
    Det a, b, fresh;
    det_make(&a, dir);
    det_make(&b, dir);
    det_make(&fresh, dir);
    cr_assert_not_null(vg_rules_set(a.d));
    cr_assert_eq(vg_rules_set(a.d), vg_rules_set(b.d), "one compiled set for both");
    cr_assert_eq(vg_rules_set(a.d), vg_rules_set(fresh.d));

    feed(&a, "203.0.113.7", 0);
    feed(&a, "203.0.113.7", 10);
    GByteArray *sa = snap(&a), *sb = snap(&b), *sf = snap(&fresh);
    cr_assert(same_bytes(sb, sf), "b saw nothing: no groups of its own");
    cr_assert(!same_bytes(sa, sf), "a has a group open");
    g_byte_array_free(sa, TRUE);
    g_byte_array_free(sb, TRUE);
    g_byte_array_free(sf, TRUE);

    feed(&b, "203.0.113.7", 20); /* a third event, but b's first */
    cr_assert_eq(b.alerts, 0, "b counts its own events only");
    cr_assert_eq(a.alerts, 0);
    feed(&a, "203.0.113.7", 30);
    cr_assert_eq(a.alerts, 1, "a's third event");
    cr_assert_eq(b.alerts, 0);

    det_free(&a); /* b keeps the set, and its windows */
    feed(&b, "203.0.113.7", 40);
    cr_assert_eq(b.alerts, 0);
    feed(&b, "203.0.113.7", 50);
    cr_assert_eq(b.alerts, 1, "b's third event, after a is gone");
    det_free(&b);
    det_free(&fresh);
    g_free(dir);
}

Test(rules_share, changed_files_get_a_new_set)
{
    char *dir = rules_dir("change", "title: Other\nid: other\n"
                                    "detection:\n  s: {path: /x}\n  condition: s\n");
    Det a, b;
    det_make(&a, dir);
    feed(&a, "198.51.100.2", 0);
    feed(&a, "198.51.100.2", 10);

    /* a rule file changes on disk: a detector built now must not get a's set */
    g_free(tu_write("change/extra.yml", "title: Other\nid: other\n"
                                        "detection:\n  s: {path: /y}\n  condition: s\n"));
    det_make(&b, dir);
    cr_assert_neq(vg_rules_set(a.d), vg_rules_set(b.d));

    /* a reload moves a to the set b has, with a's open windows (the correlation did not
     * change), and b's stay b's */
    GError *e = NULL;
    cr_assert_eq(vg_rules_reload(a.d, NULL, &e), VG_OK, "%s", e ? e->message : "");
    cr_assert_eq(vg_rules_reload(b.d, NULL, &e), VG_OK, "%s", e ? e->message : "");
    feed(&b, "198.51.100.2", 15); /* b takes its pending set here */
    feed(&a, "198.51.100.2", 20); /* and a here: its third event */
    cr_assert_eq(vg_rules_set(a.d), vg_rules_set(b.d), "the new set is shared");
    cr_assert_eq(a.alerts, 1, "a's windows survived the reload");
    cr_assert_eq(b.alerts, 0, "b has seen one event");
    det_free(&a);
    det_free(&b);
    g_free(dir);
}

Test(rules_share, findings_reach_every_taker)
{
    char *dir = rules_dir("broken", "title: Bad\ndetection:\n  s: {path|nope: /b}\n"
                                    "  condition: s\n");
    Det a, b;
    det_make(&a, dir); /* loads, leaving extra.yml out */
    GError *e = NULL;
    cr_assert(!det_new(&b, dir, true, &e), "the shared set's findings fail rules.strict too");
    cr_assert(e && strstr(e->message, "extra.yml:3:") && strstr(e->message, "nope"), "%s",
              e ? e->message : "");
    g_clear_error(&e);
    cr_assert_eq(vg_rules_reload(a.d, NULL, &e), VG_ECONFIG, "a reload reports it as well");
    cr_assert(e && strstr(e->message, "extra.yml:3:"), "%s", e ? e->message : "");
    g_clear_error(&e);
    det_free(&a);
    g_free(dir);
}

Test(rules_share, plain_load_is_not_shared)
{
    char *dir = rules_dir("plain", NULL);
    const char *paths[] = {dir, NULL};
    GPtrArray *errs = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    VgRuleSet *s1 = vg_rule_set_load_shared(paths, NULL, errs);
    VgRuleSet *s2 = vg_rule_set_load_shared(paths, NULL, errs);
    VgRuleSet *s3 = vg_rule_set_load(paths, NULL, errs);
    cr_assert_eq(errs->len, 0);
    cr_assert_eq(s1, s2);
    cr_assert_neq(s1, s3, "vg_rule_set_load builds a set of its own");
    vg_rule_set_free(s1);
    cr_assert_eq(vg_rule_set_size(s2), 1, "one reference left, still usable");
    vg_rule_set_free(s2);
    VgRuleSet *s4 = vg_rule_set_load_shared(paths, NULL, errs); /* the last one went */
    cr_assert_eq(vg_rule_set_n_correlations(s4), 1);
    vg_rule_set_free(s4);
    vg_rule_set_free(s3);
    g_ptr_array_free(errs, TRUE);
    g_free(dir);
}

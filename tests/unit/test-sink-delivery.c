/* test-sink-delivery.c — the delivery layer: config, fan-out, failure -> spool -> in-order
 * redelivery, back-pressure when the spool is full, restart, delivered_upto. A fake sink
 * registered here records what it receives and fails on command. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "engine/registry.h"
#include "engine/sinks/delivery.h"
#include "engine/sinks/sinks.h"

/* ---- the fake sink ---- */

typedef struct {
    VgSink base;
} Fake;

static GPtrArray *got;  /* ids received, in order */
static bool fail_write; /* write returns VG_EIO */
static bool fail_flush; /* flush returns VG_EIO (after write took the batch) */
static int writes;

typedef struct {
    int64_t level;
} FakeConf;

static const VgConfOption fake_options[] = {
    {"level", VG_CT_INT, offsetof(FakeConf, level), "1", 0, 10, NULL, 0, NULL, "test"},
    {0},
};

static VgSink *fake_create(const VgSinkOps *ops, const VgConfNode *section, GError **err)
{
    FakeConf c;
    if (vg_conf_apply(fake_options, &c, section, err) < 0)
        return NULL;
    Fake *f = g_new0(Fake, 1);
    f->base.ops = ops;
    return &f->base;
}

static int fake_write(VgSink *s, const VgAlertRecord *const *recs, size_t n, GError **err)
{
    (void)s;
    writes++;
    if (fail_write) {
        g_set_error(err, VG_ERROR, VG_EIO, "fake: down");
        return VG_EIO;
    }
    for (size_t i = 0; i < n; i++)
        g_ptr_array_add(got, g_strdup(recs[i]->id));
    return VG_OK;
}

static int fake_flush(VgSink *s, GError **err)
{
    (void)s;
    if (fail_flush) {
        g_set_error(err, VG_ERROR, VG_EIO, "fake: flush failed");
        return VG_EIO;
    }
    return VG_OK;
}

static void fake_destroy(VgSink *s)
{
    g_free(s);
}

static const VgSinkOps fake_ops = {
    .name = "fake",
    .options = fake_options,
    .create = fake_create,
    .write = fake_write,
    .flush = fake_flush,
    .destroy = fake_destroy,
};

static char *dir;

static void setup(void)
{
    vg_sinks_register();
    vg_register_sink(&fake_ops);
    got = g_ptr_array_new_with_free_func(g_free);
    fail_write = fail_flush = false;
    writes = 0;
    dir = g_dir_make_tmp("vg-deliv-XXXXXX", NULL);
}

static void teardown(void)
{
    g_ptr_array_free(got, TRUE);
    char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    g_free(cmd);
    g_free(dir);
}

TestSuite(delivery, .init = setup, .fini = teardown);

static VgConfNode *yaml(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *t = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    GError *err = NULL;
    VgConfNode *n = vg_conf_load_string(t, strlen(t), "test.yml", &err);
    cr_assert(n, "%s", err ? err->message : "");
    g_free(t);
    return n;
}

static VgDelivery *make(const char *sinks_yaml, const char *spool_extra)
{
    VgConfNode *root = yaml("sinks:\n%s\nspool:\n  dir: %s\n  retry_min: 1ms\n  retry_max: 2ms\n%s",
                            sinks_yaml, dir, spool_extra ? spool_extra : "");
    GError *err = NULL;
    VgDelivery *d = vg_delivery_new(vg_conf_get(root, "sinks"), vg_conf_get(root, "spool"), &err);
    cr_assert(d, "%s", err ? err->message : "");
    vg_conf_node_free(root); /* delivery must not keep references into the tree */
    return d;
}

static void push_n(VgDelivery *d, int from, int to)
{
    for (int i = from; i < to; i++) {
        char id[32], json[64];
        snprintf(id, sizeof id, "a-%d", i);
        snprintf(json, sizeof json, "{\"event\":{\"id\":\"a-%d\"}}", i);
        VgAlertRecord r = {.json = json,
                           .json_len = strlen(json),
                           .id = id,
                           .rule_id = "r",
                           .rule_name = "R",
                           .severity = VG_SEV_HIGH,
                           .entity_type = "token",
                           .token_id = "0123456789abcdef",
                           .client_ip = "192.0.2.1",
                           .score = 1,
                           .time_ms = i};
        cr_assert_eq(vg_delivery_push(d, &r), VG_OK);
    }
}

static void assert_got(int from, int to)
{
    cr_assert_eq(got->len, (guint)(to - from), "got %u, want %d", got->len, to - from);
    for (int i = from; i < to; i++) {
        char id[32];
        snprintf(id, sizeof id, "a-%d", i);
        cr_assert_str_eq(got->pdata[i - from], id, "position %d", i - from);
    }
}

Test(delivery, direct_when_up)
{
    VgDelivery *d = make("  - type: fake\n    level: 3\n", NULL);
    VgAlertOutput out = vg_delivery_output(d);
    push_n(d, 0, 10);
    cr_assert_eq(vg_delivery_pushed(d), 10);
    cr_assert_eq(vg_delivery_delivered_upto(d), 0);
    cr_assert_eq(out.flush(out.user), VG_OK);
    cr_assert_eq(vg_delivery_delivered_upto(d), 10);
    assert_got(0, 10);
    VgSinkStats st;
    cr_assert_eq(vg_delivery_n_sinks(d), 1);
    vg_delivery_stats(d, 0, &st);
    cr_assert_str_eq(st.name, "fake");
    cr_assert_eq(st.delivered, 10);
    cr_assert_eq(st.spooled, 0);
    cr_assert_eq(vg_delivery_close(d, 0, NULL), VG_OK);
    vg_delivery_free(d);
}

Test(delivery, outage_spools_then_delivers_in_order)
{
    VgDelivery *d = make("  - type: fake\n", NULL);
    push_n(d, 0, 5);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    fail_write = true;
    push_n(d, 5, 20);
    cr_assert_eq(vg_delivery_flush(d), VG_OK, "spooled counts as done");
    cr_assert_eq(vg_delivery_delivered_upto(d), 20);
    push_n(d, 20, 30);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    VgSinkStats st;
    vg_delivery_stats(d, 0, &st);
    cr_assert(st.down);
    cr_assert_eq(st.spool_records, 25);
    cr_assert_eq(st.spooled, 25);
    cr_assert_geq(st.failed, 1);
    fail_write = false;
    g_usleep(5000); /* past the backoff */
    push_n(d, 30, 35);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    /* the spool first, then the new batch: order kept */
    g_usleep(5000);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    assert_got(0, 35);
    vg_delivery_stats(d, 0, &st);
    cr_assert(!st.down);
    cr_assert_eq(st.spool_records, 0);
    cr_assert_eq(st.delivered, 35);
    vg_delivery_free(d);
}

Test(delivery, failed_flush_means_retry_whole_batch)
{
    VgDelivery *d = make("  - type: fake\n", NULL);
    fail_flush = true;
    push_n(d, 0, 3);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    fail_flush = false;
    g_usleep(5000);
    cr_assert_eq(vg_delivery_close(d, 1000, NULL), VG_OK);
    /* at least once: the batch went out twice, same ids */
    cr_assert_eq(got->len, 6);
    for (int i = 0; i < 3; i++) {
        cr_assert_str_eq(got->pdata[i], got->pdata[i + 3]);
    }
    vg_delivery_free(d);
}

Test(delivery, spool_full_applies_back_pressure)
{
    VgDelivery *d = make("  - type: fake\n", "  max_bytes: 4KiB\n  drain_batch: 10\n");
    fail_write = true;
    int i = 0, r = VG_OK;
    while (r == VG_OK) {
        push_n(d, i, i + 10);
        i += 10;
        r = vg_delivery_flush(d);
        cr_assert_lt(i, 10000);
    }
    cr_assert_eq(r, VG_EFULL);
    cr_assert_lt(vg_delivery_delivered_upto(d), vg_delivery_pushed(d));
    VgAlertRecord rec = {.json = "{}", .json_len = 2, .id = "x"};
    cr_assert_eq(vg_delivery_push(d, &rec), VG_EFULL, "push refuses while blocked");
    VgSinkStats st;
    vg_delivery_stats(d, 0, &st);
    cr_assert_geq(st.spool_full, 1);
    cr_assert_leq(st.spool_bytes, 4096);
    /* the sink comes back: everything arrives, in order, nothing lost */
    fail_write = false;
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    cr_assert_eq(vg_delivery_delivered_upto(d), (uint64_t)i);
    cr_assert_eq(vg_delivery_close(d, 1000, NULL), VG_OK);
    assert_got(0, i);
    vg_delivery_free(d);
}

Test(delivery, spool_survives_restart_and_goes_first)
{
    VgDelivery *d = make("  - type: fake\n    name: f1\n", NULL);
    fail_write = true;
    push_n(d, 0, 12);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    GError *err = NULL;
    cr_assert_eq(vg_delivery_close(d, 0, &err), VG_EAGAIN);
    cr_assert(strstr(err->message, "f1: 12 alerts left in the spool"), "%s", err->message);
    g_error_free(err);
    vg_delivery_free(d);

    fail_write = false;
    d = make("  - type: fake\n    name: f1\n", NULL);
    push_n(d, 12, 15);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    assert_got(0, 15);
    vg_delivery_free(d);
}

Test(delivery, one_sink_down_does_not_hold_the_other)
{
    VgDelivery *d = make("  - type: fake\n    name: a\n  - type: stdout\n", NULL);
    fail_write = true;
    cr_redirect_stdout();
    push_n(d, 0, 2);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    VgSinkStats st;
    vg_delivery_stats(d, 1, &st);
    cr_assert_str_eq(st.type, "stdout");
    cr_assert_eq(st.delivered, 2);
    vg_delivery_free(d);
    fflush(stdout);
    cr_assert_stdout_eq_str("{\"event\":{\"id\":\"a-0\"}}\n{\"event\":{\"id\":\"a-1\"}}\n");
}

Test(delivery, default_is_stdout)
{
    cr_redirect_stdout();
    VgDelivery *d = vg_delivery_new(NULL, NULL, NULL);
    cr_assert(d);
    push_n(d, 0, 1);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    vg_delivery_free(d);
    cr_assert_stdout_eq_str("{\"event\":{\"id\":\"a-0\"}}\n");
}

static void config_error(const char *sinks_yaml, const char *want)
{
    VgConfNode *root = yaml("sinks:\n%s", sinks_yaml);
    GError *err = NULL;
    cr_assert_null(vg_delivery_new(vg_conf_get(root, "sinks"), NULL, &err));
    cr_assert(err && strstr(err->message, want), "want '%s' in '%s'", want,
              err ? err->message : "(no error)");
    g_error_free(err);
    vg_conf_node_free(root);
}

Test(delivery, config_errors)
{
    config_error("  - type: nosuch\n", "test.yml:2:11: unknown sink type 'nosuch' (known: stdout");
    config_error("  - name: x\n", "test.yml:2:5: a sink needs a type:");
    config_error("  - type: fake\n    bogus: 1\n",
                 "test.yml:3:5: unknown option 'bogus' (known here: level)");
    config_error("  - type: fake\n    level: 11\n", "test.yml:3:12: level must be between");
    config_error("  - type: fake\n  - type: fake\n", "two sinks are named 'fake'");
    config_error("  - type: fake\n    name: ../x\n", "a sink name must be");
    config_error("  type: fake\n", "expected a list of sinks");
}

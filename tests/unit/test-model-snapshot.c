/* test-model-snapshot.c — a detector restored from a snapshot taken mid-stream continues
 * exactly as the original: same alerts, same ids, same order. The snapshot's size follows
 * the state in use, not the memory budget; a truncated, corrupt or inconsistent snapshot
 * is refused (or, where a flipped byte still makes a consistent state, is harmless). */
#include "models/model-int.h"
#include "test-model-util.h"

#include <criterion/criterion.h>

#define T0 1772409600000LL

static TmEvent *make_events(size_t *n_out)
{
    /* 40 tokens for 3 hours, a spike of token 3 and a new IP stuffing tokens at 2h30 */
    TmRng r = {4242};
    size_t cap = 400000, n = 0;
    TmEvent *ev = g_new(TmEvent, cap);
    for (int m = 0; m < 180; m++) {
        for (int i = 0; i < 40 * 8; i++) {
            int tok = i % 40;
            int burst = (m >= 150 && m < 153 && tok == 3) ? 60 : 1;
            for (int b = 0; b < burst && n < cap; b++) {
                char t[40], ip[32], path[64];
                g_snprintf(t, sizeof t, "sk_snapshot_token_%03d", tok);
                g_snprintf(ip, sizeof ip, "10.1.0.%d", tok + 1);
                g_snprintf(path, sizeof path, "/v1/items/%d", (int)(tm_next(&r) % 50));
                tm_event(&ev[n], T0 + m * 60000LL + (i * 60000LL) / 320 + b, t, ip, "GET",
                         "/v1/items/{id}", path, 200, 500, 12, n);
                n++;
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        ev[i].ev.token = vg_cstr(ev[i].token);
        ev[i].ev.client_ip = vg_cstr(ev[i].ip);
        ev[i].ev.path = vg_cstr(ev[i].path);
        ev[i].ev.endpoint = vg_cstr(ev[i].endpoint);
        ev[i].ev.request_id = vg_cstr(ev[i].rid);
    }
    *n_out = n;
    return ev;
}

static void feed(VgDetector *d, VgDetectCtx *ctx, TmEvent *ev, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        ctx->watermark = ev[i].ev.time_ms - 5000;
        vg_models_ops.on_event(d, &ev[i].ev, ctx);
    }
}

Test(model_snapshot, restored_detector_continues_identically)
{
    size_t n;
    TmEvent *ev = make_events(&n);
    GError *err = NULL;

    /* reference: one detector, start to end */
    TmCapture ref;
    VgAlertStage *st = tm_stage(&ref);
    VgDetectCtx ctx = {.alerts = st, .watermark = INT64_MIN, .token_key = tm_token_key()};
    VgDetector *d = vg_models_ops.create(&vg_models_ops, NULL, &err);
    feed(d, &ctx, ev, 0, n);
    vg_models_ops.finish(d, &ctx);
    vg_models_ops.destroy(d);
    cr_assert(ref.json->len > 0, "the scenario raised no alert");

    /* the same, cut at 2/3 (after warm-up, before the spike ends) */
    TmCapture cut;
    VgAlertStage *st2 = tm_stage(&cut);
    VgDetectCtx c2 = {.alerts = st2, .watermark = INT64_MIN, .token_key = tm_token_key()};
    VgDetector *a = vg_models_ops.create(&vg_models_ops, NULL, &err);
    size_t half = n * 151 / 180;
    feed(a, &c2, ev, 0, half);
    GByteArray *snap = g_byte_array_new();
    cr_assert_eq(vg_models_snapshot(a, snap), VG_OK);
    vg_models_ops.destroy(a);
    VgDetector *b = vg_models_ops.create(&vg_models_ops, NULL, &err);
    cr_assert_eq(vg_models_restore(b, snap->data, snap->len, &err), VG_OK, "%s",
                 err ? err->message : "");
    /* a second snapshot of the restored state is byte-identical */
    GByteArray *snap2 = g_byte_array_new();
    vg_models_snapshot(b, snap2);
    cr_assert_eq(snap->len, snap2->len);
    cr_assert(!memcmp(snap->data, snap2->data, snap->len));
    feed(b, &c2, ev, half, n);
    vg_models_ops.finish(b, &c2);
    vg_models_ops.destroy(b);

    cr_assert_eq(ref.json->len, cut.json->len, "%u vs %u alerts", ref.json->len, cut.json->len);
    for (guint i = 0; i < ref.json->len; i++)
        cr_assert_str_eq(ref.json->pdata[i], cut.json->pdata[i]);

    /* a snapshot does not load into a detector with another config, nor when truncated */
    const char *y = "bucket: 30s\n";
    VgConfNode *conf = vg_conf_load_string(y, strlen(y), "t.yml", &err);
    VgDetector *other = vg_models_ops.create(&vg_models_ops, conf, &err);
    cr_assert_neq(vg_models_restore(other, snap->data, snap->len, &err), VG_OK);
    g_clear_error(&err);
    vg_models_ops.destroy(other);
    VgDetector *trunc = vg_models_ops.create(&vg_models_ops, NULL, &err);
    cr_assert_neq(vg_models_restore(trunc, snap->data, snap->len / 2, &err), VG_OK);
    g_clear_error(&err);
    vg_models_ops.destroy(trunc);

    vg_conf_node_free(conf);
    g_byte_array_free(snap, TRUE);
    g_byte_array_free(snap2, TRUE);
    g_ptr_array_free(ref.json, TRUE);
    g_ptr_array_free(cut.json, TRUE);
    vg_alert_stage_free(st);
    vg_alert_stage_free(st2);
    g_free(ev);
}

/* The tests below make hundreds of detectors: a small budget (the scenario's 80 keys fit)
 * keeps them quick under the sanitizers. NULL: the defaults. */
static VgConfNode *conf;

static void small_budget(void)
{
    const char *y = "memory_budget: 4MiB\n";
    conf = vg_conf_load_string(y, strlen(y), "t.yml", NULL);
    cr_assert_not_null(conf);
}

static void small_budget_end(void)
{
    vg_conf_node_free(conf);
    conf = NULL;
}

/* A detector that took the first `upto` events of the scenario (ev: make_events). */
static VgDetector *fed(TmEvent *ev, size_t upto, VgAlertStage **st, TmCapture *cap)
{
    GError *err = NULL;
    *st = tm_stage(cap);
    VgDetectCtx ctx = {.alerts = *st, .watermark = INT64_MIN, .token_key = tm_token_key()};
    VgDetector *d = vg_models_ops.create(&vg_models_ops, conf, &err);
    cr_assert_not_null(d);
    feed(d, &ctx, ev, 0, upto);
    return d;
}

static void drop(VgDetector *d, VgAlertStage *st, TmCapture *cap)
{
    vg_models_ops.destroy(d);
    vg_alert_stage_free(st);
    g_ptr_array_free(cap->json, TRUE);
}

Test(model_snapshot, size_follows_the_state_in_use)
{
    GError *err = NULL;
    VgDetector *d = vg_models_ops.create(&vg_models_ops, NULL, &err);
    GByteArray *snap = g_byte_array_new();
    vg_models_snapshot(d, snap);
    size_t budget = vg_models_stats(d)->memory_bytes;
    cr_assert_gt(budget, 100u << 20, "the default budget sizes the arrays (%zu bytes)", budget);
    cr_assert_lt(snap->len, 64u << 10, "a fresh detector's snapshot: %u bytes", snap->len);
    vg_models_ops.destroy(d);

    size_t n;
    TmEvent *ev = make_events(&n);
    VgAlertStage *st;
    TmCapture cap;
    d = fed(ev, n, &st, &cap);
    const VgModelsStats *ms = vg_models_stats(d);
    g_byte_array_set_size(snap, 0);
    vg_models_snapshot(d, snap);
    /* 40 tokens, 40 IPs, one endpoint: a few hundred bytes a key, not megabytes */
    cr_assert_lt(snap->len, 512u << 10, "%u bytes for %" G_GUINT64_FORMAT " keys", snap->len,
                 ms->tracked);
    drop(d, st, &cap);
    g_byte_array_free(snap, TRUE);
    g_free(ev);
}

Test(model_snapshot, restore_into_a_used_detector_replaces_its_state, .init = small_budget,
     .fini = small_budget_end)
{
    size_t n;
    TmEvent *ev = make_events(&n);
    VgAlertStage *st, *st2;
    TmCapture cap, cap2;
    VgDetector *a = fed(ev, n * 151 / 180, &st, &cap);
    GByteArray *snap = g_byte_array_new();
    vg_models_snapshot(a, snap);
    /* b holds other state (fewer events: other keys' HLLs, samples, sketch counts) */
    VgDetector *b = fed(ev, n / 3, &st2, &cap2);
    GError *err = NULL;
    cr_assert_eq(vg_models_restore(b, snap->data, snap->len, &err), VG_OK, "%s",
                 err ? err->message : "");
    GByteArray *again = g_byte_array_new();
    vg_models_snapshot(b, again);
    cr_assert_eq(again->len, snap->len);
    cr_assert(!memcmp(again->data, snap->data, snap->len));
    drop(a, st, &cap);
    drop(b, st2, &cap2);
    g_byte_array_free(snap, TRUE);
    g_byte_array_free(again, TRUE);
    g_free(ev);
}

/* Restores bytes into a fresh detector; when that succeeds, events still run on it (a
 * consistent state, however odd, must not crash the next event). */
static int restore_and_run(const void *data, size_t len, TmEvent *ev, size_t from, size_t n,
                           GError **err)
{
    VgAlertStage *st;
    TmCapture cap;
    VgDetector *d = fed(ev, 0, &st, &cap);
    int rc = vg_models_restore(d, data, len, err);
    if (rc == VG_OK) {
        VgDetectCtx ctx = {.alerts = st, .watermark = INT64_MIN, .token_key = tm_token_key()};
        feed(d, &ctx, ev, from, MIN(from + 2000, n));
        vg_models_ops.finish(d, &ctx);
    }
    drop(d, st, &cap);
    return rc;
}

Test(model_snapshot, truncated_and_corrupt_snapshots_are_refused_or_harmless, .init = small_budget,
     .fini = small_budget_end)
{
    size_t n;
    TmEvent *ev = make_events(&n);
    VgAlertStage *st;
    TmCapture cap;
    size_t half = n * 151 / 180;
    VgDetector *a = fed(ev, half, &st, &cap);
    GByteArray *snap = g_byte_array_new();
    vg_models_snapshot(a, snap);
    drop(a, st, &cap);
    GError *err = NULL;

    /* every cut is refused: the last bytes one by one, the rest in steps */
    for (size_t cut = 0; cut < snap->len; cut += cut + 64 < snap->len ? 499 : 1) {
        cr_assert_neq(restore_and_run(snap->data, cut, ev, half, n, &err), VG_OK, "cut at %zu",
                      cut);
        g_clear_error(&err);
    }
    /* a byte more is refused */
    GByteArray *longer = g_byte_array_new();
    g_byte_array_append(longer, snap->data, snap->len);
    g_byte_array_append(longer, (const guint8 *)"", 1);
    cr_assert_neq(restore_and_run(longer->data, longer->len, ev, half, n, &err), VG_OK);
    g_clear_error(&err);
    g_byte_array_free(longer, TRUE);

    /* format 1 (whole arrays) is refused by name */
    GByteArray *bad = g_byte_array_new();
    g_byte_array_append(bad, snap->data, snap->len);
    uint64_t one = 1;
    memcpy(bad->data + 8, &one, 8);
    cr_assert_neq(restore_and_run(bad->data, bad->len, ev, half, n, &err), VG_OK);
    cr_assert(strstr(err->message, "format 1"), "%s", err->message);
    g_clear_error(&err);

    /* flipped bytes all over: refused, or a state that runs (under ASan in CI) */
    int refused = 0, tried = 0;
    TmRng r = {77};
    for (int i = 0; i < 200; i++) {
        memcpy(bad->data, snap->data, snap->len);
        size_t at = tm_next(&r) % snap->len;
        bad->data[at] ^= (uint8_t)(1 + tm_next(&r) % 255);
        tried++;
        if (restore_and_run(bad->data, bad->len, ev, half, n, &err) != VG_OK)
            refused++;
        g_clear_error(&err);
    }
    cr_assert_gt(refused, 0, "%d of %d flips refused", refused, tried);
    g_byte_array_free(bad, TRUE);
    g_byte_array_free(snap, TRUE);
    g_free(ev);
}

/* States that parse but break an invariant a later event relies on (each could free an
 * element twice and overrun a free stack, or read past a name) are refused. */
typedef void (*Breaker)(VgModels *m);

static VgEntryHead *live_entry(VgModels *m, VgModelKind k, int nth)
{
    VgModelTable *t = &m->kind[k].table;
    for (uint32_t i = 0; i < t->high; i++)
        if (vg_table_entry(t, i)->hash && nth-- == 0)
            return vg_table_entry(t, i);
    cr_assert_fail("no live entry");
    return NULL;
}

static void two_entries_one_sample(VgModels *m)
{
    for (int k = 0; k < VG_MK__COUNT; k++) {
        VgModelTable *t = &m->kind[k].table;
        for (uint32_t i = 0; i < t->high; i++) {
            VgEntryHead *e = vg_table_entry(t, i);
            if (e->hash && e->sample) {
                VgEntryHead *other = live_entry(m, (VgModelKind)k, 0);
                if (other == e)
                    other = live_entry(m, (VgModelKind)k, 1);
                other->sample = e->sample;
                return;
            }
        }
    }
    cr_assert_fail("no entry keeps samples");
}

static void sample_id_unterminated(VgModels *m)
{
    for (int k = 0; k < VG_MK__COUNT; k++) {
        VgModelTable *t = &m->kind[k].table;
        for (uint32_t i = 0; i < t->high; i++) {
            VgEntryHead *e = vg_table_entry(t, i);
            if (e->hash && e->sample) {
                VgSampleRec *sr = &m->samples[e->sample - 1];
                sr->n = MAX(sr->n, 1);
                memset(sr->id[0], 'x', sizeof sr->id[0]);
                return;
            }
        }
    }
    cr_assert_fail("no entry keeps samples");
}

static void sample_out_of_range(VgModels *m)
{
    live_entry(m, VG_MK_TOKEN, 0)->sample = m->n_samples + 1;
}

static void hll_held_and_free(VgModels *m)
{
    for (int k = 0; k < VG_MK__COUNT; k++) {
        VgKindState *ks = &m->kind[k];
        for (uint32_t i = 0; i < ks->table.high; i++) {
            VgEntryHead *e = vg_table_entry(&ks->table, i);
            for (int mi = 0; e->hash && mi < VG_MM__COUNT; mi++) {
                if (!ks->layout.dist_off[mi])
                    continue;
                VgDistinct *d = vg_entry_dist(ks, e, (VgModelMetric)mi);
                if (d->mode == VG_DIST_HLL) {
                    cr_assert_gt(m->n_hll_free, 0);
                    m->hll_free[m->n_hll_free - 1] = d->v[0];
                    return;
                }
            }
        }
    }
    cr_assert_fail("no HLL in use");
}

static void index_to_a_free_entry(VgModels *m)
{
    VgModelTable *t = &m->kind[VG_MK_TOKEN].table;
    for (uint32_t p = 0; p <= t->index_mask; p++)
        if (t->index[p]) {
            t->index[p] = (t->index[p] & ~0xFFFFFFFFull) | (t->high + 1);
            return;
        }
}

static void live_count_off(VgModels *m)
{
    m->kind[VG_MK_CLIENT_IP].table.n_live--;
    m->kind[VG_MK_CLIENT_IP].table.n_fresh++;
}

static void long_endpoint_name(VgModels *m)
{
    cr_assert_gt(m->n_ep, 0);
    m->ep_names[0].len = 200;
}

static void pending_of_no_kind(VgModels *m)
{
    VgPendingAlert pa;
    memset(&pa, 0, sizeof pa);
    pa.kind = VG_MK__COUNT;
    g_array_append_val(m->pending, pa);
}

Test(model_snapshot, inconsistent_state_is_refused, .init = small_budget, .fini = small_budget_end)
{
    static const Breaker breakers[] = {
        two_entries_one_sample, sample_out_of_range, hll_held_and_free,  index_to_a_free_entry,
        live_count_off,         long_endpoint_name,  pending_of_no_kind, sample_id_unterminated};
    size_t n;
    TmEvent *ev = make_events(&n);
    for (size_t i = 0; i < G_N_ELEMENTS(breakers); i++) {
        VgAlertStage *st;
        TmCapture cap;
        size_t cut = n * 151 / 180; /* in the spike: token 3 keeps request ids */
        VgDetector *d = fed(ev, cut, &st, &cap);
        GByteArray *snap = g_byte_array_new();
        vg_models_snapshot(d, snap);
        GError *err = NULL;
        cr_assert_eq(restore_and_run(snap->data, snap->len, ev, cut, n, &err), VG_OK, "%s",
                     err ? err->message : "");
        breakers[i]((VgModels *)d);
        g_byte_array_set_size(snap, 0);
        vg_models_snapshot(d, snap);
        cr_assert_neq(restore_and_run(snap->data, snap->len, ev, cut, n, &err), VG_OK,
                      "breaker %zu", i);
        g_clear_error(&err);
        /* what the breaker did is not the detector's to clean up: leave it as it was made */
        drop(d, st, &cap);
        g_byte_array_free(snap, TRUE);
    }
    g_free(ev);
}

Test(model_snapshot, switched_off_models_snapshot_to_their_shape_alone)
{
    const char *y = "enabled: false\n";
    GError *err = NULL;
    VgConfNode *off = vg_conf_load_string(y, strlen(y), "t.yml", &err);
    VgDetector *d = vg_models_ops.create(&vg_models_ops, off, &err);
    GByteArray *snap = g_byte_array_new();
    cr_assert_eq(vg_models_snapshot(d, snap), VG_OK);
    VgDetector *e = vg_models_ops.create(&vg_models_ops, off, &err);
    cr_assert_eq(vg_models_restore(e, snap->data, snap->len, &err), VG_OK, "%s",
                 err ? err->message : "");
    g_byte_array_append(snap, (const guint8 *)"x", 1);
    cr_assert_neq(vg_models_restore(e, snap->data, snap->len, &err), VG_OK);
    g_clear_error(&err);
    /* nor does it load into models that are on */
    VgDetector *on = vg_models_ops.create(&vg_models_ops, NULL, &err);
    cr_assert_neq(vg_models_restore(on, snap->data, snap->len - 1, &err), VG_OK);
    g_clear_error(&err);
    vg_models_ops.destroy(d);
    vg_models_ops.destroy(e);
    vg_models_ops.destroy(on);
    g_byte_array_free(snap, TRUE);
    vg_conf_node_free(off);
}

/* test-model-snapshot.c — a detector restored from a snapshot taken mid-stream continues
 * exactly as the original: same alerts, same ids, same order. */
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
    VgDetectCtx ctx = {.alerts = st, .watermark = INT64_MIN, .token_key = "k", .token_key_len = 1};
    VgDetector *d = vg_models_ops.create(&vg_models_ops, NULL, &err);
    feed(d, &ctx, ev, 0, n);
    vg_models_ops.finish(d, &ctx);
    vg_models_ops.destroy(d);
    cr_assert(ref.json->len > 0, "the scenario raised no alert");

    /* the same, cut at 2/3 (after warm-up, before the spike ends) */
    TmCapture cut;
    VgAlertStage *st2 = tm_stage(&cut);
    VgDetectCtx c2 = {.alerts = st2, .watermark = INT64_MIN, .token_key = "k", .token_key_len = 1};
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

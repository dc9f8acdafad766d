/* Unit tests: the alert stage (engine/alert.c): JSON shape, token privacy, deterministic
 * ids, dedup and cooldown. */
#include "engine/alert-stage.h"
#include "engine/detector.h"

#include <criterion/criterion.h>
#include <math.h>

typedef struct {
    GPtrArray *json; /* char * */
    GPtrArray *ids;
} Capture;

static int cap_push(void *u, const VgAlertRecord *r)
{
    Capture *c = u;
    g_ptr_array_add(c->json, g_strndup(r->json, r->json_len));
    g_ptr_array_add(c->ids, g_strdup(r->id));
    return VG_OK;
}

static Capture cap;
static VgAlertStage *st;
static VgDetectCtx ctx;

static void setup(void)
{
    cap.json = g_ptr_array_new_with_free_func(g_free);
    cap.ids = g_ptr_array_new_with_free_func(g_free);
    VgAlertStageConf c = {.cooldown_ms = 600000,
                          .max_samples = 5,
                          .max_incidents = 4,
                          .token_key = "k",
                          .redact_pii = true};
    st = vg_alert_stage_new(&c, (VgAlertOutput){.user = &cap, .push = cap_push});
    memset(&ctx, 0, sizeof ctx);
    ctx.alerts = st;
}

static void teardown(void)
{
    vg_alert_stage_free(st);
    g_ptr_array_free(cap.json, TRUE);
    g_ptr_array_free(cap.ids, TRUE);
}

static VgAlert sample(int64_t t)
{
    VgAlert a = {
        .rule_id = "model.token_rate",
        .rule_name = "Token request rate",
        .rule_category = "volumetric",
        .ruleset = "models",
        .severity = VG_SEV_HIGH,
        .start_ms = t,
        .end_ms = t + 60000,
        .entity_type = "token",
        .token = VG_STR_LIT("tk_live_abcdefghijklmnop"),
        .client_ip = VG_STR_LIT("203.0.113.9"),
        .endpoint = VG_STR_LIT("GET /v1/orders/{id}"),
        .method = VG_STR_LIT("GET"),
        .path = VG_STR_LIT("/v1/orders/12"),
        .query = VG_STR_LIT("email=jane@example.com&limit=5"),
        .has_stats = true,
        .observed = 412,
        .expected = 35.2,
        .score = 61.8,
        .p_value = 1e-40,
        .model_kind = "ewma_poisson",
        .bucket_s = 60,
        .half_life_s = 3600,
        .reason = "token tk_live_abcdefghijklmnop sent 412 requests",
        .samples = {VG_STR_LIT("req-1"), VG_STR_LIT("req-2")},
        .n_samples = 2,
    };
    return a;
}

TestSuite(alert, .init = setup, .fini = teardown);

Test(alert, renders_the_design_json_without_the_raw_token)
{
    VgAlert a = sample(1772416800000); /* 2026-03-02T02:00:00Z */
    vg_alert_emit(&ctx, &a);
    cr_assert_eq(cap.json->len, 1);
    const char *j = cap.json->pdata[0];
    char tid[17];
    vg_token_id("k", 1, a.token, tid);
    cr_assert_not(strstr(j, "tk_live_abcdefghijklmnop"), "raw token leaked: %s", j);
    cr_assert(strstr(j, tid), "token_id missing: %s", j);
    const char *want[] = {
        "{\"@timestamp\":\"2026-03-02T02:01:00.000Z\",\"event\":{\"kind\":\"alert\",\"id\":\"",
        "\"category\":[\"api\",\"web\"],\"severity\":3,\"risk_score\":73,",
        "\"start\":\"2026-03-02T02:00:00.000Z\",\"end\":\"2026-03-02T02:01:00.000Z\"",
        ("\"rule\":{\"id\":\"model.token_rate\",\"name\":\"Token request rate\","
         "\"category\":\"volumetric\",\"ruleset\":\"models\"}"),
        "\"source\":{\"ip\":\"203.0.113.9\"}",
        "\"url\":{\"path\":\"/v1/orders/12\",\"query\":\"email=[email]&limit=5\"}",
        "\"http\":{\"request\":{\"method\":\"GET\"}}",
        "\"vigil\":{\"entity\":{\"type\":\"token\",\"token_id\":\"",
        "\"endpoint\":\"GET /v1/orders/{id}\"",
        "\"observed\":412,\"expected\":35.2,\"score\":61.8,\"p_value\":1e-40",
        "\"model\":{\"kind\":\"ewma_poisson\",\"bucket_s\":60,\"half_life_s\":3600}",
        "\"samples\":[\"req-1\",\"req-2\"]",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
        cr_assert(strstr(j, want[i]), "missing %s in %s", want[i], j);
}

Test(alert, ids_are_a_function_of_rule_entity_and_window)
{
    VgAlert a = sample(1000000);
    char id1[33], id2[33], id3[33];
    GString *o = g_string_new(NULL);
    vg_alert_render(st, &a, o, id1);
    vg_alert_render(st, &a, o, id2);
    cr_assert_str_eq(id1, id2);
    a.start_ms += 60000;
    vg_alert_render(st, &a, o, id3);
    cr_assert_str_neq(id1, id3);
    cr_assert_eq(strlen(id1), 32);
    g_string_free(o, TRUE);
}

Test(alert, cooldown_folds_an_incident_and_sends_periodic_updates)
{
    int64_t t = 1000000;
    for (int i = 0; i < 30; i++) { /* one alert a minute for 30 minutes */
        VgAlert a = sample(t + i * 60000LL);
        ctx.watermark = a.end_ms;
        vg_alert_emit(&ctx, &a);
    }
    const VgAlertStats *s = vg_alert_stage_stats(st);
    cr_assert_eq(s->raised, 30);
    cr_assert_eq(s->emitted, 1);
    /* an update every 10 minutes of the ongoing incident */
    cr_assert_eq(s->updates, 2, "updates=%lu", (unsigned long)s->updates);
    cr_assert_eq(cap.json->len, 3);
    cr_assert(strstr(cap.json->pdata[1], "\"incident\":{\"id\":\""));
    cr_assert(strstr(cap.json->pdata[1], (char *)cap.ids->pdata[0]));

    /* after a quiet cooldown, the same entity opens a new incident */
    VgAlert later = sample(t + 60 * 60000LL);
    ctx.watermark = later.end_ms;
    vg_alert_emit(&ctx, &later);
    cr_assert_eq(s->emitted, 2);
}

Test(alert, different_entities_are_different_incidents_and_the_table_is_bounded)
{
    char ip[32];
    for (int i = 0; i < 10; i++) {
        VgAlert a = sample(1000000);
        a.entity_type = "client_ip";
        a.token = VG_STR_NULL;
        g_snprintf(ip, sizeof ip, "198.51.100.%d", i);
        a.client_ip = vg_cstr(ip);
        vg_alert_emit(&ctx, &a);
    }
    const VgAlertStats *s = vg_alert_stage_stats(st);
    cr_assert_eq(s->emitted, 10);
    cr_assert_eq(s->forgotten, 6); /* max_incidents = 4 */
}

Test(alert, json_strings_are_escaped_and_utf8_safe)
{
    VgAlert a = sample(0);
    a.token = VG_STR_NULL;
    a.entity_type = "client_ip";
    a.path = vg_str("/a\"b\\c\n\xff", 8);
    vg_alert_emit(&ctx, &a);
    const char *j = cap.json->pdata[0];
    cr_assert(strstr(j, "\"path\":\"/a\\\"b\\\\c\\n\xef\xbf\xbd\""), "%s", j);
}

Test(alert, a_token_id_given_by_the_detector_names_the_entity)
{
    VgAlert a = sample(0), b = sample(0);
    a.token = b.token = VG_STR_NULL;
    a.token_id = VG_STR_LIT("0123456789abcdef");
    b.token_id = VG_STR_LIT("fedcba9876543210");
    vg_alert_emit(&ctx, &a);
    vg_alert_emit(&ctx, &b);
    cr_assert_eq(cap.json->len, 2, "two tokens are two incidents");
    cr_assert(strstr(cap.json->pdata[0], "\"token_id\":\"0123456789abcdef\""));
    cr_assert(strstr(cap.json->pdata[1], "\"token_id\":\"fedcba9876543210\""));
}

/* What an alert does must not depend on when the stage last swept stale incidents (the
 * other alerts a stage saw decide that, and the parallel pipeline has a stage per worker):
 * a stage that swept recently, so still holds an incident whose cooldown ended before the
 * watermark, treats it as over just as a stage that sweeps now. */
Test(alert, an_incident_past_its_cooldown_is_over_whenever_the_sweep_ran)
{
    Capture cap2 = {g_ptr_array_new_with_free_func(g_free), g_ptr_array_new_with_free_func(g_free)};
    VgAlertStageConf c = {.cooldown_ms = 600000,
                          .max_samples = 5,
                          .max_incidents = 100,
                          .token_key = "k",
                          .redact_pii = true};
    VgAlertStage *st2 = vg_alert_stage_new(&c, (VgAlertOutput){.user = &cap2, .push = cap_push});
    VgDetectCtx ctx2 = {.alerts = st2};
    int64_t t0 = 1000000;
    VgAlert e1 = sample(t0);
    ctx.watermark = ctx2.watermark = e1.end_ms;
    vg_alert_emit(&ctx, &e1);
    vg_alert_emit(&ctx2, &e1);
    /* only the first stage sees another entity's alert, a cooldown later: it sweeps then,
     * while e1's incident (last seen t0 + 1m) is still within its cooldown */
    VgAlert other = sample(t0 + 600000);
    other.token = VG_STR_LIT("tk_live_someone_else_entirely");
    ctx.watermark = e1.end_ms + 600000;
    vg_alert_emit(&ctx, &other);
    /* e1's entity again, starting within the cooldown of its last alert, but the clock is
     * past that cooldown's end */
    VgAlert e2 = sample(t0 + 560000);
    ctx.watermark = ctx2.watermark = e1.end_ms + 640000;
    vg_alert_emit(&ctx, &e2);
    vg_alert_emit(&ctx2, &e2);
    cr_assert_eq(vg_alert_stage_stats(st)->emitted, 3, "e1, other, e2 as a new incident");
    cr_assert_eq(vg_alert_stage_stats(st2)->emitted, 2);
    cr_assert_str_eq(cap.ids->pdata[2], cap2.ids->pdata[1]);
    cr_assert_str_eq(cap.json->pdata[2], cap2.json->pdata[1]);
    vg_alert_stage_free(st2);
    g_ptr_array_free(cap2.json, TRUE);
    g_ptr_array_free(cap2.ids, TRUE);
}

/* vg_token_id is our own HMAC over a reused SHA-256 state: it must agree with GLib's
 * HMAC-SHA256 for short, block-sized and long (hashed) keys and for empty tokens. */
Test(alert, token_id_is_hmac_sha256_for_every_key_length)
{
    const char *keys[] = {
        "k", "a-64-byte-key-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ("a-key-longer-than-one-sha256-block-is-hashed-first-xxxxxxxxxxxxxxxxxxxxx"
         "xxxxxxxxxxxxxxxxxxxxxxx")};
    const char *tokens[] = {"", "tok_live_4711", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig"};
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        for (size_t j = 0; j < G_N_ELEMENTS(tokens); j++) {
            char got[17];
            vg_token_id(keys[i], strlen(keys[i]), vg_str(tokens[j], strlen(tokens[j])), got);
            gchar *want = g_compute_hmac_for_string(G_CHECKSUM_SHA256, (const guchar *)keys[i],
                                                    strlen(keys[i]), tokens[j], -1);
            cr_assert(!strncmp(got, want, 16) && strlen(got) == 16,
                      "key %zu token %zu: %s != %.16s", i, j, got, want);
            /* the hot path's form: a key made ready once, the id as a number */
            VgHmacKey k;
            vg_hmac_key_init(&k, keys[i], strlen(keys[i]));
            uint64_t num = vg_token_num(&k, vg_str(tokens[j], strlen(tokens[j])));
            gchar *first16 = g_strndup(want, 16);
            cr_assert_eq(num, g_ascii_strtoull(first16, NULL, 16), "key %zu token %zu", i, j);
            g_free(first16);
            char hex[17];
            vg_token_hex(num, hex);
            cr_assert_str_eq(hex, got);
            g_free(want);
        }
    }
}

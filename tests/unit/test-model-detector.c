/* test-model-detector.c — the "models" detector end to end through its ops: quiet baseline
 * traffic raises nothing, injected incidents raise the right alerts with a reason that
 * names the token by token_id, and the output is identical however the clock is fed. */
#include "test-model-util.h"

#include "collectors/endpoint-template.h"
#include "engine/config.h"
#include "models/model-int.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#define MIN_MS 60000LL
#define T0     1772409600000LL /* 2026-03-02T00:00:00Z */
#define N_TOK  60

typedef enum { INC_NONE, INC_SPIKE, INC_ENUM, INC_STUFF } Incident;

static int poisson(TmRng *r, double lam)
{
    double l = exp(-lam), p = 1;
    int k = 0;
    do {
        k++;
        p *= tm_unif(r);
    } while (p > l);
    return k - 1;
}

static int cmp_time(const void *a, const void *b)
{
    const TmEvent *x = a, *y = b;
    return x->ev.time_ms < y->ev.time_ms ? -1 : x->ev.time_ms > y->ev.time_ms;
}

static const char *eps[] = {"/v1/orders/{id}", "/v1/users/{id}", "/v1/catalog", "/v1/cart",
                            "/v1/search"};

/* Minutes of traffic from N_TOK tokens; incident at minute inc_at for 3 minutes. Returns a
 * time-sorted array (g_free). */
static TmEvent *traffic(int minutes, Incident inc, int inc_at, size_t *n_out)
{
    TmRng r = {12345};
    GArray *a = g_array_new(FALSE, TRUE, sizeof(TmEvent));
    double rate[N_TOK];
    for (int i = 0; i < N_TOK; i++)
        rate[i] = 2 + 18 * tm_unif(&r);
    uint64_t rid = 0;
    for (int m = 0; m < minutes; m++) {
        guint first = a->len;
        for (int i = 0; i < N_TOK; i++) {
            int n = poisson(&r, rate[i]);
            for (int j = 0; j < n; j++) {
                TmEvent e;
                char tok[48], ip[40], path[96];
                g_snprintf(tok, sizeof tok, "sk_live_token_%04d_abcdefgh", i);
                g_snprintf(ip, sizeof ip, "10.0.%d.%d", i / 200, i % 200 + 1);
                int ep = (int)(tm_next(&r) % 5);
                if (ep < 2)
                    g_snprintf(path, sizeof path, "/v1/%s/%d", ep ? "users" : "orders",
                               (int)(tm_next(&r) % 20) + i * 100);
                else
                    g_strlcpy(path, eps[ep], sizeof path);
                tm_event(&e, T0 + m * MIN_MS + (int64_t)(tm_unif(&r) * MIN_MS), tok, ip, "GET",
                         eps[ep], path, 200, 800 + (int64_t)(tm_next(&r) % 400),
                         20 + 30 * tm_unif(&r), ++rid);
                g_array_append_val(a, e);
            }
        }
        if (inc != INC_NONE && m >= inc_at && m < inc_at + 3) {
            int n = inc == INC_SPIKE ? 400 : inc == INC_ENUM ? 300 : 250;
            for (int j = 0; j < n; j++) {
                TmEvent e;
                char path[96], tok[48], ip[40];
                int64_t t = T0 + m * MIN_MS + (int64_t)(tm_unif(&r) * MIN_MS);
                if (inc == INC_STUFF) {
                    /* one new IP tries many stolen tokens and fails */
                    g_snprintf(tok, sizeof tok, "sk_stolen_%06d", j + m * 1000);
                    tm_event(&e, t, tok, "203.0.113.9", "GET", "/v1/cart", "/v1/cart", 401, 50, 5,
                             ++rid);
                } else {
                    g_snprintf(tok, sizeof tok, "sk_live_token_%04d_abcdefgh", 7);
                    g_snprintf(ip, sizeof ip, "10.0.0.8");
                    g_snprintf(path, sizeof path, "/v1/orders/%d",
                               inc == INC_ENUM ? 900000 + j + m * 1000
                                               : (int)(tm_next(&r) % 20) + 700);
                    tm_event(&e, t, tok, ip, "GET", "/v1/orders/{id}", path, 200, 1000, 20, ++rid);
                }
                g_array_append_val(a, e);
            }
        }
        qsort(&g_array_index(a, TmEvent, first), a->len - first, sizeof(TmEvent), cmp_time);
    }
    *n_out = a->len;
    /* the views inside each TmEvent point at its own buffers: fix them after the moves */
    TmEvent *ev = (TmEvent *)g_array_free(a, FALSE);
    for (size_t i = 0; i < *n_out; i++) {
        ev[i].ev.token = vg_cstr(ev[i].token);
        ev[i].ev.client_ip = vg_cstr(ev[i].ip);
        ev[i].ev.path = vg_cstr(ev[i].path);
        ev[i].ev.endpoint = vg_cstr(ev[i].endpoint);
        ev[i].ev.request_id = vg_cstr(ev[i].rid);
    }
    return ev;
}

typedef enum { CLOCK_EVENT, CLOCK_BATCH, CLOCK_NONE } ClockMode;

/* Runs the detector over the events; returns the captured alert JSON lines. */
static GPtrArray *run(const char *yaml, TmEvent *ev, size_t n, ClockMode mode, int batch)
{
    GError *err = NULL;
    VgConfNode *conf = NULL;
    if (yaml) {
        conf = vg_conf_load_string(yaml, strlen(yaml), "test.yml", &err);
        cr_assert(conf, "%s", err ? err->message : "?");
    }
    VgDetector *d = vg_models_ops.create(&vg_models_ops, conf, &err);
    cr_assert(d, "%s", err ? err->message : "?");
    TmCapture cap;
    VgAlertStage *st = tm_stage(&cap);
    VgDetectCtx ctx = {
        .alerts = st, .watermark = INT64_MIN, .token_key = vg_alert_stage_token_key(st)};
    int64_t max = INT64_MIN;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].ev.time_ms > max)
            max = ev[i].ev.time_ms;
        if (mode == CLOCK_EVENT)
            ctx.watermark = max - 5000;
        ctx.late = ev[i].ev.time_ms < ctx.watermark;
        vg_models_ops.on_event(d, &ev[i].ev, &ctx);
        if (mode == CLOCK_BATCH && (i + 1) % batch == 0) {
            ctx.watermark = max - 5000;
            vg_models_ops.on_watermark(d, &ctx);
        }
    }
    ctx.watermark = max;
    vg_models_ops.finish(d, &ctx);
    vg_models_ops.destroy(d);
    vg_alert_stage_free(st);
    vg_conf_node_free(conf);
    return cap.json;
}

static int count_rule(GPtrArray *a, const char *rule)
{
    char needle[96];
    g_snprintf(needle, sizeof needle, "\"rule\":{\"id\":\"%s\"", rule);
    int n = 0;
    for (guint i = 0; i < a->len; i++)
        n += strstr(a->pdata[i], needle) != NULL;
    return n;
}

static void dump(GPtrArray *a)
{
    for (guint i = 0; i < a->len; i++)
        fprintf(stderr, "%s\n", (char *)a->pdata[i]);
}

Test(model_detector, quiet_traffic_raises_nothing)
{
    size_t n;
    TmEvent *ev = traffic(240, INC_NONE, 0, &n);
    GPtrArray *a = run(NULL, ev, n, CLOCK_EVENT, 0);
    if (a->len)
        dump(a);
    cr_assert_eq(a->len, 0, "%u false alerts on %zu quiet events", a->len, n);
    g_ptr_array_free(a, TRUE);
    g_free(ev);
}

Test(model_detector, token_spike_is_named_by_token_id)
{
    size_t n;
    TmEvent *ev = traffic(180, INC_SPIKE, 150, &n);
    GPtrArray *a = run(NULL, ev, n, CLOCK_EVENT, 0);
    cr_assert(count_rule(a, "model.token_rate") >= 1, "no token_rate alert");
    cr_assert(count_rule(a, "model.token_endpoint_rate") >= 1, "no token_endpoint_rate alert");
    char tid[17];
    const char *tok = "sk_live_token_0007_abcdefgh";
    vg_token_id("test-key", 8, vg_cstr(tok), tid);
    bool found = false, found_pair = false;
    for (guint i = 0; i < a->len; i++) {
        const char *j = a->pdata[i];
        cr_assert(!strstr(j, tok), "raw token leaked: %s", j);
        /* a pair takes its token's id from the token's entry (model-event.c set_name) */
        found_pair |= strstr(j, "model.token_endpoint_rate") && strstr(j, tid);
        if (strstr(j, "model.token_rate") && strstr(j, tid)) {
            found = true;
            cr_assert(strstr(j, "\"start\":\"2026-03-02T02:30:00.000Z\""), "%s", j);
            cr_assert(strstr(j, "requests in 60 s; its baseline is"), "%s", j);
            cr_assert(strstr(j, "\"samples\":[\"req-"), "%s", j);
            cr_assert(strstr(j, "\"bucket_s\":60"), "%s", j);
        }
    }
    cr_assert(found, "no alert names token id %s", tid);
    cr_assert(found_pair, "no token_endpoint alert names token id %s", tid);
    /* nothing before the incident */
    for (guint i = 0; i < a->len; i++)
        cr_assert(!strstr(a->pdata[i], "\"start\":\"2026-03-02T02:2"), "%s", (char *)a->pdata[i]);
    g_ptr_array_free(a, TRUE);
    g_free(ev);
}

/* prints the alerts of the spike scenario: --filter model_detector/print_sample */
Test(model_detector, print_sample, .disabled = true)
{
    size_t n;
    TmEvent *ev = traffic(180, INC_SPIKE, 150, &n);
    GPtrArray *a = run(NULL, ev, n, CLOCK_EVENT, 0);
    dump(a);
    g_ptr_array_free(a, TRUE);
    g_free(ev);
}

Test(model_detector, enumeration_raises_distinct_ids)
{
    size_t n;
    TmEvent *ev = traffic(180, INC_ENUM, 150, &n);
    GPtrArray *a = run(NULL, ev, n, CLOCK_EVENT, 0);
    cr_assert(count_rule(a, "model.token_distinct_ids") >= 1);
    g_ptr_array_free(a, TRUE);
    g_free(ev);
}

Test(model_detector, stuffing_from_new_ip_uses_population)
{
    size_t n;
    TmEvent *ev = traffic(180, INC_STUFF, 150, &n);
    GPtrArray *a = run(NULL, ev, n, CLOCK_EVENT, 0);
    cr_assert(count_rule(a, "model.ip_auth_failures") >= 1);
    cr_assert(count_rule(a, "model.ip_distinct_tokens") >= 1);
    bool pop = false;
    for (guint i = 0; i < a->len; i++)
        pop |= strstr(a->pdata[i], "203.0.113.9") && strstr(a->pdata[i], "\"population\"");
    cr_assert(pop, "the new IP was not judged against the population");
    g_ptr_array_free(a, TRUE);
    g_free(ev);
}

/* Alerts on the population test whose start is at or after minute `from`. */
static int population_alerts_from(GPtrArray *a, const char *rule, int from)
{
    char needle[96];
    g_snprintf(needle, sizeof needle, "\"rule\":{\"id\":\"%s\"", rule);
    int n = 0;
    for (guint i = 0; i < a->len; i++) {
        const char *j = a->pdata[i], *st = strstr(j, "\"start\":\"2026-03-02T");
        if (strstr(j, needle) && strstr(j, "\"population\"") && st &&
            atoi(st + 20) * 60 + atoi(st + 23) >= from)
            n++;
    }
    return n;
}

/* A new key is judged against the population as the last fold left it (the quantile is
 * worked out once per bucket, model-close.c): client IPs that each send 1 request a minute,
 * then, from minute 40, new IPs with 30 each. The first of the busy IPs stand out; once the
 * population has learnt them (half-life 2 minutes), a new IP with 30 no longer does. */
Test(model_detector, new_keys_meet_the_population_of_their_bucket)
{
    const char *y = "start_buckets: 0\npopulation_half_life: 2m\npopulation_min_weight: 5\n"
                    "keys: {token: {enabled: false}, endpoint: {enabled: false},"
                    " token_endpoint: {enabled: false}}\n";
    enum { MINUTES = 80, QUIET = 20, BUSY = 30 };
    TmEvent *ev = g_new0(TmEvent, MINUTES * QUIET * BUSY);
    size_t n = 0;
    for (int m = 0; m < MINUTES; m++)
        for (int k = 0; k < QUIET; k++) {
            int reqs = m < 40 ? 1 : BUSY;
            char ip[40];
            g_snprintf(ip, sizeof ip, "10.%d.%d.1", m, k); /* a new IP every minute */
            for (int r = 0; r < reqs; r++, n++)
                tm_event(&ev[n], T0 + (int64_t)m * 60000 + (k * BUSY + r) * 60, "tok", ip, "GET",
                         "/v1/x", "/v1/x", 200, 100, 5.0, n);
        }
    GPtrArray *a = run(y, ev, n, CLOCK_EVENT, 0);
    int first = population_alerts_from(a, "model.ip_rate", 40);
    int late = population_alerts_from(a, "model.ip_rate", 60);
    cr_assert(first > 0, "the first busy IPs were not judged against the population");
    cr_assert_eq(late, 0, "%d new IPs alerted against a population that had learnt them", late);
    g_ptr_array_free(a, TRUE);
    g_free(ev);
}

static void assert_same(GPtrArray *a, GPtrArray *b, const char *what)
{
    cr_assert_eq(a->len, b->len, "%s: %u vs %u alerts", what, a->len, b->len);
    for (guint i = 0; i < a->len; i++)
        cr_assert_str_eq(a->pdata[i], b->pdata[i], "%s: alert %u differs", what, i);
}

Test(model_detector, same_alerts_whatever_the_clock)
{
    size_t n;
    TmEvent *ev = traffic(180, INC_SPIKE, 150, &n);
    GPtrArray *ref = run(NULL, ev, n, CLOCK_EVENT, 0);
    cr_assert(ref->len > 0);
    GPtrArray *again = run(NULL, ev, n, CLOCK_EVENT, 0);
    assert_same(ref, again, "second run");
    const int batches[] = {1, 7, 1000, 100000};
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++) {
        GPtrArray *b = run(NULL, ev, n, CLOCK_BATCH, batches[i]);
        assert_same(ref, b, "batched clock");
        g_ptr_array_free(b, TRUE);
    }
    GPtrArray *none = run(NULL, ev, n, CLOCK_NONE, 0);
    assert_same(ref, none, "no clock until finish");
    g_ptr_array_free(none, TRUE);
    g_ptr_array_free(again, TRUE);
    g_ptr_array_free(ref, TRUE);
    g_free(ev);
}

static gint cmp_str(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(model_detector, sharded_instances_give_the_same_alerts)
{
    size_t n;
    TmEvent *ev = traffic(180, INC_SPIKE, 150, &n);
    /* population off: new-key judgements need the merged population (see models.c) */
    const char *y = "keys: {token: {population: false}, token_endpoint: {population: false},"
                    " client_ip: {population: false}}\n";
    GPtrArray *ref = run(y, ev, n, CLOCK_EVENT, 0);
    cr_assert(ref->len > 0);
    /* 3 shards, each fed every event with its keys hashed once by another instance of the
     * same config and shard count (as the parallel pipeline's decoding worker does, which
     * also finds each key's shard then); the union of their alerts, sorted, is the same
     * set, and every shard holds keys of its own */
    GError *err = NULL;
    VgConfNode *hconf = vg_conf_load_string(y, strlen(y), "t.yml", &err);
    VgDetector *hasher = vg_models_ops.create(&vg_models_ops, hconf, &err);
    vg_models_set_shard(hasher, 2, 3);
    VgModelKeys *keys = g_new(VgModelKeys, n);
    for (size_t i = 0; i < n; i++)
        vg_models_event_keys(hasher, &ev[i].ev, &keys[i]);
    GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
    for (int s = 0; s < 3; s++) {
        VgConfNode *conf = vg_conf_load_string(y, strlen(y), "t.yml", &err);
        VgDetector *d = vg_models_ops.create(&vg_models_ops, conf, &err);
        vg_models_set_shard(d, s, 3);
        TmCapture cap;
        VgAlertStage *st = tm_stage(&cap);
        VgDetectCtx ctx = {
            .alerts = st, .watermark = INT64_MIN, .token_key = vg_alert_stage_token_key(st)};
        for (size_t i = 0; i < n; i++) {
            ctx.watermark = ev[i].ev.time_ms - 5000;
            vg_models_on_event_keyed(d, &ev[i].ev, &keys[i], &ctx);
        }
        cr_assert_gt(vg_models_stats(d)->admitted, 0, "shard %d holds no key", s);
        vg_models_ops.finish(d, &ctx);
        for (guint i = 0; i < cap.json->len; i++)
            g_ptr_array_add(all, g_strdup(cap.json->pdata[i]));
        g_ptr_array_free(cap.json, TRUE);
        vg_models_ops.destroy(d);
        vg_alert_stage_free(st);
        vg_conf_node_free(conf);
    }
    g_ptr_array_sort(ref, cmp_str);
    g_ptr_array_sort(all, cmp_str);
    assert_same(ref, all, "3 shards");
    vg_models_ops.destroy(hasher);
    vg_conf_node_free(hconf);
    g_free(keys);
    g_ptr_array_free(all, TRUE);
    g_ptr_array_free(ref, TRUE);
    g_free(ev);
}

Test(model_detector, config_errors_are_located)
{
    const char *y = "keys:\n  token:\n    metrics: [requests, distinct_paths]\n";
    GError *err = NULL;
    VgConfNode *conf = vg_conf_load_string(y, strlen(y), "bad.yml", &err);
    cr_assert(conf);
    VgDetector *d = vg_models_ops.create(&vg_models_ops, conf, &err);
    cr_assert_null(d);
    cr_assert(err && strstr(err->message, "bad.yml:3:"), "%s", err ? err->message : "");
    cr_assert(strstr(err->message, "distinct_paths"));
    g_error_free(err);
    vg_conf_node_free(conf);
    err = NULL;
    y = "bucket: 0s\n";
    conf = vg_conf_load_string(y, strlen(y), "bad.yml", &err);
    d = vg_models_ops.create(&vg_models_ops, conf, &err);
    cr_assert_null(d);
    g_clear_error(&err);
    vg_conf_node_free(conf);
}

/* One steady token (5 req/min) with a batch burst of 150 requests in one minute of every
 * hour. The first burst after warm-up is news; the later ones are the key's routine. Without
 * the seasonal envelope, winsorization keeps the bursts out of the baseline and every hour
 * alerts again: this is what the envelope is for. */
static TmEvent *hourly(int hours, size_t *n_out)
{
    TmRng r = {777};
    GArray *a = g_array_new(FALSE, TRUE, sizeof(TmEvent));
    uint64_t rid = 0;
    for (int m = 0; m < hours * 60; m++) {
        int n = poisson(&r, 5) + (m % 60 == 45 ? 150 : 0);
        guint first = a->len;
        for (int j = 0; j < n; j++) {
            TmEvent e;
            tm_event(&e, T0 + m * MIN_MS + (int64_t)(tm_unif(&r) * MIN_MS),
                     "sk_batch_job_token_0001", "10.9.9.9", "GET", "/v1/catalog", "/v1/catalog",
                     200, 900, 15, ++rid);
            g_array_append_val(a, e);
        }
        qsort(&g_array_index(a, TmEvent, first), a->len - first, sizeof(TmEvent), cmp_time);
    }
    *n_out = a->len;
    TmEvent *ev = (TmEvent *)g_array_free(a, FALSE);
    for (size_t i = 0; i < *n_out; i++) {
        ev[i].ev.token = vg_cstr(ev[i].token);
        ev[i].ev.client_ip = vg_cstr(ev[i].ip);
        ev[i].ev.path = vg_cstr(ev[i].path);
        ev[i].ev.endpoint = vg_cstr(ev[i].endpoint);
        ev[i].ev.request_id = vg_cstr(ev[i].rid);
    }
    return ev;
}

Test(model_detector, seasonal_envelope_learns_an_hourly_batch)
{
    size_t n;
    TmEvent *ev = hourly(8, &n);
    GPtrArray *with = run(NULL, ev, n, CLOCK_EVENT, 0);
    GPtrArray *without = run("seasonal_half_life: 1s\n", ev, n, CLOCK_EVENT, 0);
    int a = count_rule(with, "model.token_rate"), b = count_rule(without, "model.token_rate");
    cr_log_info("hourly batch, 8 bursts: %d alerts with the envelope, %d without", a, b);
    cr_assert(a <= 1, "with the envelope: %d token_rate alerts over 8 bursts", a);
    cr_assert(b >= 5, "without the envelope only %d alerts: the test no longer shows it", b);
    g_ptr_array_free(with, TRUE);
    g_ptr_array_free(without, TRUE);
    g_free(ev);
}

Test(model_detector, disabled_does_nothing)
{
    size_t n;
    TmEvent *ev = traffic(40, INC_SPIKE, 35, &n);
    GPtrArray *a = run("enabled: false\n", ev, n, CLOCK_EVENT, 0);
    cr_assert_eq(a->len, 0);
    g_ptr_array_free(a, TRUE);
    g_free(ev);
}

typedef struct {
    int n;
    bool raw_seen;
} ObsCount;

static void obs(void *user, const char *model, const char *key, int64_t bucket, double observed,
                double expected, double score)
{
    ObsCount *c = user;
    (void)bucket, (void)observed, (void)expected, (void)score;
    c->n++;
    if (strstr(key, "sk_live") || strstr(model, "sk_live"))
        c->raw_seen = true;
}

Test(model_detector, explain_trace_names_keys_without_raw_tokens)
{
    size_t n;
    TmEvent *ev = traffic(3, INC_NONE, 0, &n);
    GError *err = NULL;
    VgDetector *d = vg_models_ops.create(&vg_models_ops, NULL, &err);
    ObsCount c = {0};
    VgTrace tr = {.user = &c, .model_obs = obs};
    VgDetectCtx ctx = {.watermark = INT64_MIN, .trace = &tr, .token_key = tm_token_key()};
    for (size_t i = 0; i < n; i++)
        vg_models_ops.on_event(d, &ev[i].ev, &ctx);
    cr_assert_eq(c.n, (int)n * 4, "%d observations for %zu events (4 keys each)", c.n, n);
    cr_assert(!c.raw_seen);
    vg_models_ops.destroy(d);
    g_free(ev);
}

/* The object ids the models count (vg_models_event_keys, SSE2 where built so) are those of
 * the byte-by-byte walk, for templates made from their paths, for endpoints named by the
 * log (routes whose segments do not line up with the path), and for odd inputs: no leading
 * slash, empty segments, a '{' kept from the path, lengths around 16, 64 and beyond. */
Test(model_detector, object_ids_are_the_walks)
{
    static const char *segs[] = {"v1",  "orders", "12345", "9f86d081884c7d65", "",
                                 "a-b", "{x}",    "%40",   "me@example.com",   "x"};
    GError *err = NULL;
    VgConfNode *conf = vg_conf_load_string("", 0, "t.yml", &err);
    VgDetector *d = vg_models_ops.create(&vg_models_ops, conf, &err);
    cr_assert(d, "%s", err ? err->message : "");
    VgArena arena;
    vg_arena_init(&arena, 4096);
    TmRng r = {42};
    int with_ids = 0, routes = 0;
    for (int i = 0; i < 20000; i++) {
        char path[160] = "", ep[200];
        int n = (int)(tm_next(&r) % 9);
        size_t len = 0;
        if (tm_next(&r) % 8)
            path[len++] = '/';
        for (int s = 0; s < n && len < 120; s++) {
            len += (size_t)g_snprintf(path + len, sizeof path - len, "%s%s", s ? "/" : "",
                                      segs[tm_next(&r) % G_N_ELEMENTS(segs)]);
        }
        path[len] = '\0';
        uint64_t how = tm_next(&r) % 4;
        if (how < 2) { /* the decoder's template, with or without a method */
            VgStr t =
                vg_endpoint_template(how ? vg_cstr("GET") : VG_STR_NULL, vg_cstr(path), &arena);
            g_strlcpy(ep, t.p ? t.p : "", sizeof ep);
        } else if (how == 2) { /* a route named by the gateway */
            g_snprintf(ep, sizeof ep, "POST /%s/{id}/%s", segs[tm_next(&r) % 4],
                       segs[tm_next(&r) % G_N_ELEMENTS(segs)]);
            routes++;
        } else { /* a long one */
            g_snprintf(ep, sizeof ep, "GET /v1/{id}/%0*d/{id}", (int)(tm_next(&r) % 80), 7);
        }
        VgEvent ev;
        memset(&ev, 0, sizeof ev);
        vg_event_set_str(&ev, VG_F_TOKEN, vg_cstr("tk_test"));
        vg_event_set_str(&ev, VG_F_PATH, vg_cstr(path));
        vg_event_set_str(&ev, VG_F_ENDPOINT, vg_cstr(ep));
        VgModelKeys k;
        vg_models_event_keys(d, &ev, &k);
        uint32_t want = vg_models_object_ids_walk(ev.endpoint, ev.path, k.hash[VG_MK_ENDPOINT]);
        cr_assert_eq(k.ids32, want, "endpoint \"%s\", path \"%s\": %08x, the walk %08x", ep, path,
                     k.ids32, want);
        with_ids += want != 0;
        vg_arena_reset(&arena);
    }
    cr_assert_gt(with_ids, 5000, "only %d inputs have ids", with_ids);
    cr_assert_gt(routes, 3000);
    vg_arena_destroy(&arena);
    vg_models_ops.destroy(d);
    vg_conf_node_free(conf);
}

/* test-correlation-util.h — fixtures shared by the correlation unit tests: detection rules
 * by name, events built by hand, captured alerts, a rule set from YAML text. */
#ifndef TEST_CORRELATION_UTIL_H
#define TEST_CORRELATION_UTIL_H

#include "rules/correlation.h"
#include "rules/correlation-set.h"

#include "engine/decoder.h"

#include <criterion/criterion.h>
#include <stdio.h>

/* ---- fixtures: detection rules by name, events, captured alerts ---- */

static const char *const det_names[] = {"failed_login", "ok_login", "a", "b", "c",
                                        "not_found",    "download", NULL};
#define N_DET 7

static int resolve(void *user, const char *ref)
{
    (void)user;
    for (int i = 0; det_names[i]; i++)
        if (!strcmp(det_names[i], ref))
            return i;
    return -1;
}

static int det(const char *name)
{
    return resolve(NULL, name);
}

typedef struct {
    char rule[80], entity[32], ip[64], user[64], token[64], reason[512], model[64];
    double observed, expected;
    int64_t start, end;
    int severity;
} Got;

static Got got[4096];
static int n_got;

static void copy_str(char *dst, size_t cap, VgStr s)
{
    size_t n = s.p ? (s.len < cap - 1 ? s.len : cap - 1) : 0;
    if (n)
        memcpy(dst, s.p, n);
    dst[n] = '\0';
}

static void capture(void *user, VgDetectCtx *ctx, const VgAlert *a)
{
    (void)user;
    (void)ctx;
    cr_assert_lt(n_got, (int)G_N_ELEMENTS(got));
    Got *g = &got[n_got++];
    memset(g, 0, sizeof *g);
    g_strlcpy(g->rule, a->rule_id, sizeof g->rule);
    g_strlcpy(g->entity, a->entity_type ? a->entity_type : "", sizeof g->entity);
    g_strlcpy(g->reason, a->reason ? a->reason : "", sizeof g->reason);
    g_strlcpy(g->model, a->model_kind ? a->model_kind : "", sizeof g->model);
    copy_str(g->ip, sizeof g->ip, a->client_ip);
    copy_str(g->user, sizeof g->user, a->user);
    copy_str(g->token, sizeof g->token, a->token);
    g->observed = a->observed;
    g->expected = a->expected;
    g->start = a->start_ms;
    g->end = a->end_ms;
    g->severity = (int)a->severity;
    cr_assert(a->has_stats);
    cr_assert_str_eq(a->rule_category, "correlation");
}

static VgArena arena;
static VgDetectCtx ctx;
static VgHmacKey test_key;

static void setup(void)
{
    n_got = 0;
    vg_arena_init(&arena, 4096);
    memset(&ctx, 0, sizeof ctx);
    ctx.arena = &arena;
    vg_hmac_key_init(&test_key, "test-key", 8);
    ctx.token_key = &test_key;
    ctx.watermark = INT64_MIN;
}

static void teardown(void)
{
    vg_arena_destroy(&arena);
}

static VgCorrSet *load_lim(const char *yaml, int64_t max_groups)
{
    GError *err = NULL;
    GPtrArray *docs = vg_conf_load_documents(yaml, strlen(yaml), "test.yml", &err);
    cr_assert(docs, "%s", err ? err->message : "?");
    GPtrArray *rules = g_ptr_array_new();
    for (guint i = 0; i < docs->len; i++) {
        const VgConfNode *d = docs->pdata[i];
        if (!vg_conf_get(d, "correlation"))
            continue;
        VgCorrRule *r = vg_corr_rule_parse(d, &err);
        cr_assert(r, "%s", err ? err->message : "?");
        g_ptr_array_add(rules, r);
    }
    g_ptr_array_free(docs, TRUE);
    VgCorrLimits lim = {.max_groups = max_groups};
    VgCorrSet *s = vg_corr_set_new(rules, N_DET, resolve, NULL, &lim, &err);
    cr_assert(s, "%s", err ? err->message : "?");
    g_ptr_array_free(rules, TRUE);
    vg_corr_set_set_emit(s, capture, NULL);
    return s;
}

static VgCorrSet *load(const char *yaml)
{
    return load_lim(yaml, 0);
}

/* Whether rule 0 of s has a group for the one group-by value v. */
static inline bool group_exists(VgCorrSet *s, const char *v)
{
    size_t len = strlen(v) + 1; /* each value ends with '\0' */
    for (CorrGroup *g = s->rules[0].head; g; g = g->next)
        if (g->key_len == len && !memcmp(g->key, v, len))
            return true;
    return false;
}

/* A fake decoder answering dotted paths from a tiny "k=v" list in dec_state. */
static bool fake_lookup(const VgDecoder *d, const VgEvent *ev, const char *path, size_t len,
                        VgValue *out, VgArena *a)
{
    (void)d;
    (void)a;
    const char *kv = ev->dec_state;
    if (!kv || strncmp(kv, path, len) || kv[len] != '=')
        return false;
    out->kind = VG_V_STR;
    out->s = vg_cstr(kv + len + 1);
    return true;
}
static const VgDecoderOps fake_ops = {.name = "fake", .lookup = fake_lookup};
static const VgDecoder fake_dec = {&fake_ops};

typedef struct {
    int64_t t;
    const char *ip, *user, *token, *path, *extra;
    int status;
    int64_t bytes;
} Ev;

static uint64_t line_no;

static void make(VgEvent *e, const Ev *x)
{
    vg_event_reset(e);
    e->time_ms = x->t;
    vg_event_mark(e, VG_F_TIME);
    if (x->ip)
        vg_event_set_str(e, VG_F_CLIENT_IP, vg_cstr(x->ip));
    if (x->user)
        vg_event_set_str(e, VG_F_USER, vg_cstr(x->user));
    if (x->token)
        vg_event_set_str(e, VG_F_TOKEN, vg_cstr(x->token));
    if (x->path)
        vg_event_set_str(e, VG_F_PATH, vg_cstr(x->path));
    if (x->status) {
        e->status = x->status;
        vg_event_mark(e, VG_F_STATUS);
    }
    if (x->bytes) {
        e->bytes_out = x->bytes;
        vg_event_mark(e, VG_F_BYTES_OUT);
    }
    e->decoder = &fake_dec;
    e->dec_state = (void *)x->extra;
    e->line_no = ++line_no;
}

/* One event matching detection rule `rule`; the watermark follows the event time. */
/* A match of detection rule `rule`: fed as rules_on_event does, or (test-correlation-ahead.c)
 * with the keys worked out ahead as the pipelines do. */
static void match(VgCorrSet *s, const char *rule, Ev x)
{
    VgEvent e;
    make(&e, &x);
    if (x.t > ctx.watermark)
        ctx.watermark = x.t;
#ifdef CORR_KEYS_AHEAD
    const VgCorrKeys *k = vg_corr_set_keys(s, det(rule), &e, &arena);
    cr_assert_eq(k == NULL, !vg_corr_set_wants(s, det(rule)));
    vg_corr_set_prefetch(s, k, 0);
    vg_corr_set_prefetch(s, k, 1);
    vg_corr_set_on_match_keyed(s, det(rule), &e, &ctx, k);
#else
    vg_corr_set_on_match(s, det(rule), &e, &ctx);
#endif
}

static void advance(VgCorrSet *s, int64_t wm)
{
    ctx.watermark = wm;
    vg_corr_set_advance(s, &ctx);
}

#define S 1000

/* yaml (a sliding rule on failed_login by client_ip) in a set of at most 3 groups, fed a,
 * b, c, then a again: b is the least recently used group. */
static inline VgCorrSet *used_again(const char *yaml)
{
    VgCorrSet *s = load_lim(yaml, 3);
    match(s, "failed_login", (Ev){.t = 0, .ip = "a"});
    match(s, "failed_login", (Ev){.t = 1, .ip = "b"});
    match(s, "failed_login", (Ev){.t = 2, .ip = "c"});
    match(s, "failed_login", (Ev){.t = 3, .ip = "a"});
    return s;
}

#endif

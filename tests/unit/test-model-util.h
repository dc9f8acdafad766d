/* test-model-util.h — synthetic traffic and an alert capture for the models' tests and
 * benchmark: events are built directly as VgEvent (no decoder), from a seeded generator, so
 * every run sees the same bytes. */
#ifndef VG_TEST_MODEL_UTIL_H
#define VG_TEST_MODEL_UTIL_H

#include "engine/alert-stage.h"
#include "engine/detector.h"
#include "models/models.h"

typedef struct {
    uint64_t s;
} TmRng;

static inline uint64_t tm_next(TmRng *r)
{
    r->s += 0x9e3779b97f4a7c15ull;
    uint64_t z = r->s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline double tm_unif(TmRng *r)
{
    return (tm_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* One synthetic request; strings live in the struct. */
typedef struct {
    VgEvent ev;
    char token[48], ip[40], path[96], endpoint[96], rid[40];
} TmEvent;

static inline void tm_event(TmEvent *t, int64_t time_ms, const char *token, const char *ip,
                            const char *method, const char *ep_tpl, const char *path, int status,
                            int64_t bytes, double lat, uint64_t rid)
{
    memset(&t->ev, 0, sizeof t->ev);
    t->ev.partition = -1;
    g_strlcpy(t->token, token ? token : "", sizeof t->token);
    g_strlcpy(t->ip, ip, sizeof t->ip);
    g_strlcpy(t->path, path, sizeof t->path);
    g_snprintf(t->endpoint, sizeof t->endpoint, "%s %s", method, ep_tpl);
    g_snprintf(t->rid, sizeof t->rid, "req-%016llx", (unsigned long long)rid);
    t->ev.time_ms = time_ms;
    vg_event_mark(&t->ev, VG_F_TIME);
    if (token)
        vg_event_set_str(&t->ev, VG_F_TOKEN, vg_cstr(t->token));
    vg_event_set_str(&t->ev, VG_F_CLIENT_IP, vg_cstr(t->ip));
    vg_event_set_str(&t->ev, VG_F_METHOD, vg_cstr(method));
    vg_event_set_str(&t->ev, VG_F_PATH, vg_cstr(t->path));
    vg_event_set_str(&t->ev, VG_F_ENDPOINT, vg_cstr(t->endpoint));
    vg_event_set_str(&t->ev, VG_F_REQUEST_ID, vg_cstr(t->rid));
    t->ev.status = status;
    vg_event_mark(&t->ev, VG_F_STATUS);
    t->ev.bytes_out = bytes;
    vg_event_mark(&t->ev, VG_F_BYTES_OUT);
    t->ev.latency_ms = lat;
    vg_event_mark(&t->ev, VG_F_LATENCY_MS);
}

/* Alerts rendered by a real alert stage (no cooldown: every alert is kept). */
typedef struct {
    GPtrArray *json; /* char * */
} TmCapture;

static inline int tm_cap_push(void *u, const VgAlertRecord *r)
{
    TmCapture *c = u;
    g_ptr_array_add(c->json, g_strndup(r->json, r->json_len));
    return VG_OK;
}

static inline VgAlertStage *tm_stage(TmCapture *c)
{
    c->json = g_ptr_array_new_with_free_func(g_free);
    VgAlertStageConf conf = {.cooldown_ms = 0,
                             .max_samples = VG_ALERT_MAX_SAMPLES,
                             .max_incidents = 1000000,
                             .token_key = "test-key"};
    return vg_alert_stage_new(&conf, (VgAlertOutput){.user = c, .push = tm_cap_push});
}

/* A token key for detector contexts without an alert stage's. */
static inline const VgHmacKey *tm_token_key(void)
{
    static VgHmacKey k;
    static bool ready;
    if (!ready) {
        vg_hmac_key_init(&k, "k", 1);
        ready = true;
    }
    return &k;
}

#endif

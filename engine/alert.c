/* alert.c — the alert stage: privacy, identity, dedup and the one JSON form.
 *
 * Every alert a detector raises passes here once, on the detector's thread, before any sink
 * sees it:
 *   - token_id replaces the raw token (HMAC-SHA256 with the configured key, GLib's GHmac),
 *     and as a last line of defence any occurrence of the raw token in the rendered text
 *     is replaced by its token_id;
 *   - event.id = first 32 hex digits of SHA-256(rule, entity type, entity key, window
 *     start): a pure function of what was detected, so a replay gives the same ids;
 *   - an incident is (rule, entity). Its first alert goes out; alerts for it within the
 *     cooldown are folded into a running count, and at most one update per cooldown
 *     carries the count (vigil.incident). After a quiet cooldown the next alert opens a
 *     new incident. The incident table is bounded; it forgets the stalest first.
 *   - URLs and reasons are redacted of personal data (privacy.c).
 */
#include "engine/alert-stage.h"

#include "engine/detector.h"
#include "engine/event.h"
#include "engine/json-write.h"
#include "engine/privacy.h"
#include "engine/sha256.h"
#include "engine/snap.h"

#include <math.h>

typedef struct {
    uint64_t key;
    int64_t first_start, last_seen, last_emit;
    uint64_t count;
    char first_id[33];
} Incident;

struct VgAlertStage {
    VgAlertStageConf conf;
    char *token_key;
    VgHmacKey token_hmac; /* token_key, made ready */
    VgAlertOutput out;
    GHashTable *incidents; /* uint64 key -> Incident */
    int64_t last_expire;
    VgAlertStats stats;
    GString *json, *scratch;
};

static const char *sev_names[] = {"informational", "low", "medium", "high", "critical"};

int vg_severity_from_name(const char *name)
{
    for (int i = 0; i < 5; i++)
        if (name && !g_ascii_strcasecmp(name, sev_names[i]))
            return i;
    return -1;
}

const char *vg_severity_name(VgSeverity s)
{
    return s >= 0 && s <= 4 ? sev_names[s] : "unknown";
}

int vg_severity_risk(VgSeverity s)
{
    static const int risk[] = {10, 21, 47, 73, 99};
    return s >= 0 && s <= 4 ? risk[s] : 47;
}

uint64_t vg_token_num(const VgHmacKey *key, VgStr token)
{
    uint8_t mac[32];
    vg_hmac_sha256_keyed(key, token.p ? token.p : "", token.len, mac);
    uint64_t n = 0;
    for (int i = 0; i < 8; i++)
        n = n << 8 | mac[i];
    return n;
}

void vg_token_hex(uint64_t num, char out[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++)
        out[i] = hex[num >> (60 - 4 * i) & 15];
    out[16] = '\0';
}

void vg_token_id(const char *key, size_t key_len, VgStr token, char out[17])
{
    if (!key) {
        key = VG_DEFAULT_TOKEN_KEY;
        key_len = strlen(key);
    }
    VgHmacKey k;
    vg_hmac_key_init(&k, key, key_len);
    vg_token_hex(vg_token_num(&k, token), out);
}

VgAlertStage *vg_alert_stage_new(const VgAlertStageConf *conf, VgAlertOutput out)
{
    VgAlertStage *st = g_new0(VgAlertStage, 1);
    st->conf = *conf;
    st->token_key = g_strdup(conf->token_key ? conf->token_key : VG_DEFAULT_TOKEN_KEY);
    vg_hmac_key_init(&st->token_hmac, st->token_key, strlen(st->token_key));
    st->conf.token_key = st->token_key;
    if (st->conf.max_samples > VG_ALERT_MAX_SAMPLES)
        st->conf.max_samples = VG_ALERT_MAX_SAMPLES;
    if (st->conf.max_incidents <= 0)
        st->conf.max_incidents = 100000;
    st->out = out;
    st->incidents = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    st->last_expire = INT64_MIN;
    st->json = g_string_sized_new(1024);
    st->scratch = g_string_sized_new(256);
    return st;
}

void vg_alert_stage_free(VgAlertStage *st)
{
    if (!st)
        return;
    g_hash_table_destroy(st->incidents);
    g_string_free(st->json, TRUE);
    g_string_free(st->scratch, TRUE);
    g_free(st->token_key);
    g_free(st);
}

void vg_alert_stage_reconfigure(VgAlertStage *st, int64_t cooldown_ms, int max_samples)
{
    st->conf.cooldown_ms = cooldown_ms;
    st->conf.max_samples = max_samples < VG_ALERT_MAX_SAMPLES ? max_samples : VG_ALERT_MAX_SAMPLES;
}

const VgAlertStats *vg_alert_stage_stats(const VgAlertStage *st)
{
    return &st->stats;
}

const VgHmacKey *vg_alert_stage_token_key(const VgAlertStage *st)
{
    return &st->token_hmac;
}

/* The text that identifies the entity: what dedup and event.id are keyed on. */
static void entity_key(const VgAlert *a, const char *token_id, GString *k)
{
    const char *t = a->entity_type ? a->entity_type : "";
    g_string_truncate(k, 0);
    if (!strcmp(t, "token")) {
        g_string_append(k, token_id);
    } else if (!strcmp(t, "client_ip")) {
        g_string_append_len(k, a->client_ip.p, a->client_ip.len);
    } else if (!strcmp(t, "endpoint")) {
        g_string_append_len(k, a->endpoint.p, a->endpoint.len);
    } else if (!strcmp(t, "user")) {
        g_string_append_len(k, a->user.p, a->user.len);
    } else {
        /* composite (token_endpoint, group, ...): every identifying field present */
        g_string_append_printf(k, "%s|", token_id);
        g_string_append_len(k, a->group.p, a->group.len);
        g_string_append_c(k, '|');
        g_string_append_len(k, a->client_ip.p, a->client_ip.len);
        g_string_append_c(k, '|');
        g_string_append_len(k, a->endpoint.p, a->endpoint.len);
        g_string_append_c(k, '|');
        g_string_append_len(k, a->user.p, a->user.len);
    }
}

static void event_id(const VgAlert *a, const char *ekey, int64_t window, char id[33])
{
    GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
    const char *parts[] = {a->rule_id ? a->rule_id : "", a->entity_type ? a->entity_type : "",
                           ekey};
    for (size_t i = 0; i < G_N_ELEMENTS(parts); i++)
        g_checksum_update(c, (const guchar *)parts[i], (gssize)strlen(parts[i]) + 1);
    char w[24];
    g_snprintf(w, sizeof w, "%" G_GINT64_FORMAT, window);
    g_checksum_update(c, (const guchar *)w, (gssize)strlen(w));
    memcpy(id, g_checksum_get_string(c), 32);
    id[32] = '\0';
    g_checksum_free(c);
}

static void append_redacted(VgAlertStage *st, GString *out, VgStr s)
{
    if (!st->conf.redact_pii) {
        vg_json_vstr(out, s);
        return;
    }
    g_string_truncate(st->scratch, 0);
    vg_redact_pii(st->scratch, s.p ? s.p : "", s.len);
    vg_json_str(out, st->scratch->str, st->scratch->len);
}

static void key_str(GString *out, const char *k, VgStr v, bool *first)
{
    if (!vg_str_present(v))
        return;
    g_string_append_printf(out, "%s\"%s\":", *first ? "" : ",", k);
    vg_json_vstr(out, v);
    *first = false;
}

/* Renders the DESIGN.md alert object. incident may be NULL (a new incident). */
static void render(VgAlertStage *st, const VgAlert *a, const char *id, const char *token_id,
                   const Incident *inc, GString *o)
{
    char ts[25];
    g_string_truncate(o, 0);
    g_string_append(o, "{\"@timestamp\":\"");
    g_string_append(o, vg_time_format(a->end_ms, ts));
    g_string_append(o, "\",\"event\":{\"kind\":\"alert\",\"id\":\"");
    g_string_append(o, id);
    g_string_append(o, "\",\"category\":[\"api\",\"web\"],\"severity\":");
    g_string_append_printf(o, "%d,\"risk_score\":%d,\"start\":\"", (int)a->severity,
                           a->risk_score > 0 ? a->risk_score : vg_severity_risk(a->severity));
    g_string_append(o, vg_time_format(a->start_ms, ts));
    g_string_append(o, "\",\"end\":\"");
    g_string_append(o, vg_time_format(a->end_ms, ts));
    g_string_append(o, "\",\"reason\":");
    append_redacted(st, o, vg_cstr(a->reason ? a->reason : ""));

    g_string_append(o, "},\"rule\":{\"id\":");
    vg_json_cstr(o, a->rule_id);
    g_string_append(o, ",\"name\":");
    vg_json_cstr(o, a->rule_name ? a->rule_name : a->rule_id);
    g_string_append(o, ",\"category\":");
    vg_json_cstr(o, a->rule_category);
    g_string_append(o, ",\"ruleset\":");
    vg_json_cstr(o, a->ruleset);
    g_string_append(o, "}");

    if (vg_str_present(a->client_ip)) {
        g_string_append(o, ",\"source\":{\"ip\":");
        vg_json_vstr(o, a->client_ip);
        g_string_append(o, "}");
    }
    if (vg_str_present(a->path) || vg_str_present(a->query) || vg_str_present(a->host)) {
        g_string_append(o, ",\"url\":{");
        bool first = true;
        if (vg_str_present(a->host)) {
            g_string_append(o, "\"domain\":");
            vg_json_vstr(o, a->host);
            first = false;
        }
        if (vg_str_present(a->path)) {
            g_string_append(o, first ? "\"path\":" : ",\"path\":");
            append_redacted(st, o, a->path);
            first = false;
        }
        if (vg_str_present(a->query)) {
            g_string_append(o, first ? "\"query\":" : ",\"query\":");
            append_redacted(st, o, a->query);
        }
        g_string_append(o, "}");
    }
    if (vg_str_present(a->method)) {
        g_string_append(o, ",\"http\":{\"request\":{\"method\":");
        vg_json_vstr(o, a->method);
        g_string_append(o, "}}");
    }
    if (vg_str_present(a->user)) {
        g_string_append(o, ",\"user\":{\"name\":");
        vg_json_vstr(o, a->user);
        g_string_append(o, "}");
    }

    g_string_append(o, ",\"vigil\":{\"entity\":{\"type\":");
    vg_json_cstr(o, a->entity_type ? a->entity_type : "request");
    bool first = false;
    if (*token_id)
        key_str(o, "token_id", vg_cstr(token_id), &first);
    key_str(o, "client_ip", a->client_ip, &first);
    key_str(o, "endpoint", a->endpoint, &first);
    key_str(o, "user", a->user, &first);
    key_str(o, "group", a->group, &first);
    g_string_append(o, "},\"severity_name\":");
    vg_json_cstr(o, vg_severity_name(a->severity));
    if (a->has_stats) {
        g_string_append(o, ",\"observed\":");
        vg_json_num(o, a->observed);
        g_string_append(o, ",\"expected\":");
        vg_json_num(o, a->expected);
        g_string_append(o, ",\"score\":");
        vg_json_num(o, a->score);
        if (!isnan(a->p_value)) {
            g_string_append(o, ",\"p_value\":");
            vg_json_num(o, a->p_value);
        }
    }
    if (a->model_kind) {
        g_string_append(o, ",\"model\":{\"kind\":");
        vg_json_cstr(o, a->model_kind);
        if (a->bucket_s > 0)
            g_string_append_printf(o, ",\"bucket_s\":%d", a->bucket_s);
        if (a->half_life_s > 0)
            g_string_append_printf(o, ",\"half_life_s\":%d", a->half_life_s);
        g_string_append(o, "}");
    }
    g_string_append(o, ",\"samples\":[");
    int ns = a->n_samples < st->conf.max_samples ? a->n_samples : st->conf.max_samples;
    for (int i = 0; i < ns; i++) {
        if (i)
            g_string_append_c(o, ',');
        vg_json_vstr(o, a->samples[i]);
    }
    g_string_append(o, "]");
    if (inc) {
        char t1[25], t2[25];
        g_string_append_printf(o,
                               ",\"incident\":{\"id\":\"%s\",\"first_seen\":\"%s\",\"last_seen\":"
                               "\"%s\",\"alerts\":%" G_GUINT64_FORMAT "}",
                               inc->first_id, vg_time_format(inc->first_start, t1),
                               vg_time_format(inc->last_seen, t2), inc->count);
    }
    g_string_append(o, "}}");

    /* Last line of defence: a raw token must never leave, whatever a detector wrote. */
    if (a->token.len >= 6) {
        char *hit;
        while ((hit = memmem(o->str, o->len, a->token.p, a->token.len)) != NULL) {
            gssize pos = hit - o->str;
            g_string_erase(o, pos, a->token.len);
            g_string_insert(o, pos, *token_id ? token_id : "[token]");
        }
    }
}

/* The alert's token id: hashed from the raw token, or as the detector gave it (models keep
 * no raw tokens, only their ids). "" when the alert has no token. */
static void alert_token_id(const VgAlertStage *st, const VgAlert *a, char out[17])
{
    out[0] = '\0';
    if (vg_str_present(a->token) && a->token.len) {
        vg_token_hex(vg_token_num(&st->token_hmac, a->token), out);
    } else if (a->token_id.len == 16) {
        memcpy(out, a->token_id.p, 16);
        out[16] = '\0';
    }
}

void vg_alert_render(VgAlertStage *st, const VgAlert *a, GString *out, char id[33])
{
    char token_id[17];
    alert_token_id(st, a, token_id);
    GString *k = g_string_new(NULL);
    entity_key(a, token_id, k);
    event_id(a, k->str, a->start_ms, id);
    g_string_free(k, TRUE);
    render(st, a, id, token_id, NULL, out);
}

static void forget_stalest(VgAlertStage *st)
{
    GHashTableIter it;
    gpointer kp, vp;
    Incident *oldest = NULL;
    g_hash_table_iter_init(&it, st->incidents);
    while (g_hash_table_iter_next(&it, &kp, &vp)) {
        Incident *inc = vp;
        if (!oldest || inc->last_seen < oldest->last_seen ||
            (inc->last_seen == oldest->last_seen && inc->key < oldest->key))
            oldest = inc;
    }
    if (oldest) {
        g_hash_table_remove(st->incidents, &oldest->key);
        st->stats.forgotten++;
    }
}

void vg_alert_stage_expire(VgAlertStage *st, int64_t watermark)
{
    GHashTableIter it;
    gpointer kp, vp;
    g_hash_table_iter_init(&it, st->incidents);
    while (g_hash_table_iter_next(&it, &kp, &vp)) {
        Incident *inc = vp;
        if (inc->last_seen + st->conf.cooldown_ms < watermark)
            g_hash_table_iter_remove(&it);
    }
    st->last_expire = watermark;
}

static void push(VgAlertStage *st, const VgAlert *a, const char *id, const char *token_id,
                 VgDetectCtx *ctx)
{
    VgAlertRecord rec = {
        .json = st->json->str,
        .json_len = st->json->len,
        .id = id,
        .rule_id = a->rule_id ? a->rule_id : "",
        .rule_name = a->rule_name ? a->rule_name : (a->rule_id ? a->rule_id : ""),
        .severity = a->severity,
        .entity_type = a->entity_type ? a->entity_type : "request",
        .token_id = token_id,
        .client_ip = "",
        .score = a->has_stats ? a->score : NAN,
        .time_ms = a->end_ms,
    };
    char ip[64] = "";
    if (vg_str_present(a->client_ip)) {
        size_t n = a->client_ip.len < sizeof ip - 1 ? a->client_ip.len : sizeof ip - 1;
        memcpy(ip, a->client_ip.p, n);
        ip[n] = '\0';
        rec.client_ip = ip;
    }
    /* VG_EFULL: the output still holds an undelivered batch and its spool is full. The
     * record is not taken; flushing retries delivery (and waits a little), and we try
     * again. This is back-pressure: detection, and so reading input, waits for the sinks,
     * and nothing is dropped. */
    while (st->out.push && st->out.push(st->out.user, &rec) == VG_EFULL) {
        st->stats.output_full++;
        if (st->out.flush)
            st->out.flush(st->out.user);
    }
    if (ctx && ctx->trace && ctx->trace->alert)
        ctx->trace->alert(ctx->trace->user, id);
}

void vg_alert_emit(VgDetectCtx *ctx, const VgAlert *a)
{
    VgAlertStage *st = ctx->alerts;
    if (!st)
        return;
    st->stats.raised++;

    char token_id[17];
    alert_token_id(st, a, token_id);
    entity_key(a, token_id, st->scratch);
    char *ekey = g_strdup(st->scratch->str);
    uint64_t key = vg_hash64(ekey, strlen(ekey),
                             vg_hash64(a->rule_id ? a->rule_id : "",
                                       a->rule_id ? strlen(a->rule_id) : 0, 0x9e3779b97f4a7c15ull));
    /* sweep once per cooldown of event time (the watermark starts at INT64_MIN) */
    int64_t every = st->conf.cooldown_ms > 0 ? st->conf.cooldown_ms : 60000;
    if (ctx->watermark != INT64_MIN &&
        (st->last_expire == INT64_MIN || ctx->watermark - st->last_expire >= every))
        vg_alert_stage_expire(st, ctx->watermark);

    Incident *inc = g_hash_table_lookup(st->incidents, &key);
    /* An incident whose cooldown ended before the watermark is over, whether the sweep has
     * removed it yet or not: what an alert does must not depend on when the last sweep ran,
     * which depends on the other alerts of this stage (and the parallel pipeline has a
     * stage per worker). */
    bool over = inc && inc->last_seen + st->conf.cooldown_ms < ctx->watermark;
    char id[33];
    if (inc && !over && st->conf.cooldown_ms > 0 &&
        a->start_ms < inc->last_seen + st->conf.cooldown_ms) {
        inc->count++;
        if (a->end_ms > inc->last_seen)
            inc->last_seen = a->end_ms;
        if (st->conf.cooldown_ms > 0 && a->end_ms >= inc->last_emit + st->conf.cooldown_ms) {
            event_id(a, ekey, a->start_ms, id);
            render(st, a, id, token_id, inc, st->json);
            inc->last_emit = a->end_ms;
            st->stats.updates++;
            push(st, a, id, token_id, ctx);
        } else {
            st->stats.suppressed++;
        }
        g_free(ekey);
        return;
    }
    event_id(a, ekey, a->start_ms, id);
    g_free(ekey);
    if (!inc) {
        while (g_hash_table_size(st->incidents) >= (guint)st->conf.max_incidents)
            forget_stalest(st);
        inc = g_new0(Incident, 1);
        inc->key = key;
        g_hash_table_insert(st->incidents, &inc->key, inc);
    }
    inc->first_start = a->start_ms;
    inc->last_seen = a->end_ms;
    inc->last_emit = a->end_ms;
    inc->count = 1;
    memcpy(inc->first_id, id, 33);
    render(st, a, id, token_id, NULL, st->json);
    st->stats.emitted++;
    push(st, a, id, token_id, ctx);
}

/* ---- checkpoints ---- */

#define STAGE_SNAP_MAGIC 0x53414756u /* "VGAS" */

static gint incident_cmp(gconstpointer a, gconstpointer b)
{
    uint64_t x = (*(Incident *const *)a)->key, y = (*(Incident *const *)b)->key;
    return x < y ? -1 : x > y;
}

int vg_alert_stage_snapshot(VgAlertStage *st, GByteArray *out)
{
    vg_snap_put_u64(out, STAGE_SNAP_MAGIC);
    vg_snap_put_i64(out, st->last_expire);
    vg_snap_put_bytes(out, &st->stats, sizeof st->stats);
    /* in key order, so equal states give equal bytes */
    GPtrArray *all = g_ptr_array_sized_new(g_hash_table_size(st->incidents));
    GHashTableIter it;
    gpointer kp, vp;
    g_hash_table_iter_init(&it, st->incidents);
    while (g_hash_table_iter_next(&it, &kp, &vp))
        g_ptr_array_add(all, vp);
    g_ptr_array_sort(all, incident_cmp);
    vg_snap_put_u64(out, all->len);
    for (guint i = 0; i < all->len; i++) {
        const Incident *inc = all->pdata[i];
        vg_snap_put_u64(out, inc->key);
        vg_snap_put_i64(out, inc->first_start);
        vg_snap_put_i64(out, inc->last_seen);
        vg_snap_put_i64(out, inc->last_emit);
        vg_snap_put_u64(out, inc->count);
        vg_snap_put(out, inc->first_id, 32);
    }
    g_ptr_array_free(all, TRUE);
    return VG_OK;
}

int vg_alert_stage_restore(VgAlertStage *st, const void *data, size_t len, GError **err)
{
    VgSnapReader r;
    vg_snap_reader_init(&r, data, len);
    g_hash_table_remove_all(st->incidents);
    if (vg_snap_get_u64(&r) != STAGE_SNAP_MAGIC) {
        g_set_error(err, VG_ERROR, VG_EINVAL, "alert stage snapshot: not one");
        return VG_EINVAL;
    }
    int64_t last_expire = vg_snap_get_i64(&r);
    size_t n_stats;
    const uint8_t *stats = vg_snap_get_bytes(&r, sizeof st->stats, &n_stats);
    uint64_t n = vg_snap_get_u64(&r);
    /* each incident takes 72 bytes: a count beyond what is left is a lie */
    if (r.bad || n_stats != sizeof st->stats || n > r.n / 72) {
        g_set_error(err, VG_ERROR, VG_EINVAL, "alert stage snapshot: truncated or corrupt");
        return VG_EINVAL;
    }
    for (uint64_t i = 0; i < n && !r.bad; i++) {
        Incident *inc = g_new0(Incident, 1);
        inc->key = vg_snap_get_u64(&r);
        inc->first_start = vg_snap_get_i64(&r);
        inc->last_seen = vg_snap_get_i64(&r);
        inc->last_emit = vg_snap_get_i64(&r);
        inc->count = vg_snap_get_u64(&r);
        vg_snap_get(&r, inc->first_id, 32);
        inc->first_id[32] = '\0';
        g_hash_table_replace(st->incidents, &inc->key, inc);
    }
    if (r.bad || r.n) {
        g_hash_table_remove_all(st->incidents);
        g_set_error(err, VG_ERROR, VG_EINVAL, "alert stage snapshot: truncated or corrupt");
        return VG_EINVAL;
    }
    memcpy(&st->stats, stats, sizeof st->stats);
    st->last_expire = last_expire;
    return VG_OK;
}

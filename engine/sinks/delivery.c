/* delivery.c — see delivery.h.
 *
 * Records are counted by a sequence number in push order. The layer keeps the records of
 * [base, pushed) in one reusable byte buffer (strings) and an array of slots whose string
 * fields are offsets into it; pointers are made only at flush time, so the buffer may grow
 * while records arrive without invalidating anything, and nothing is allocated per record
 * once the buffers have reached their working size.
 *
 * Each sink has its own `upto`: the sequence up to which it has delivered or spooled. A
 * flush walks the sinks: a sink that is up with an empty spool gets the batch directly; a
 * sink that is down, or that still has spooled records (order!), gets the batch appended
 * to its spool, and its spool is retried when its backoff has expired. The pending buffer
 * is emptied once every sink's upto has reached `pushed`; while it has not (a spool is
 * full), push refuses records, which is the back-pressure the pipeline sees.
 *
 * Retry and backoff live here rather than in each sink: a sink only reports that a write
 * failed (and drops its connection); the next attempt, after 100 ms doubling up to 30 s by
 * default, reconnects. Time is only used for this pacing, never for alert content.
 */
#include "engine/sinks/delivery.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/registry.h"
#include "engine/sinks/sinks.h"
#include "engine/sinks/sink-util.h"
#include "engine/sinks/spool.h"

#define FULL_SLEEP_MAX_MS 200
#define DRAIN_BUDGET_MS   1000 /* spool draining per flush, so new input is not starved */

typedef struct {
    char *dir;
    int64_t max_bytes, segment_bytes;
    bool fsync;
    int64_t retry_min_ms, retry_max_ms;
    int64_t drain_batch;
} SpoolConf;

const VgConfOption vg_delivery_spool_options[] = {
    {"dir", VG_CT_STRING, offsetof(SpoolConf, dir), NULL, 0, 0, NULL, 0, "VIGIL_SPOOL_DIR",
     "directory holding one spool per sink (default: $STATE_DIRECTORY/spool, else "
     "$XDG_STATE_HOME/vigil/spool)"},
    {"max_bytes", VG_CT_SIZE, offsetof(SpoolConf, max_bytes), "1GiB", 4096, 1e15, NULL, 0, NULL,
     "bound of each sink's spool; when full, vigil stops reading input"},
    {"segment_bytes", VG_CT_SIZE, offsetof(SpoolConf, segment_bytes), "64MiB", 4096, 1e12, NULL, 0,
     NULL, "size of one spool segment file"},
    {"fsync", VG_CT_BOOL, offsetof(SpoolConf, fsync), "true", 0, 0, NULL, 0, NULL,
     "fdatasync each spooled batch (off: faster, but a machine crash may lose it)"},
    {"retry_min", VG_CT_DURATION, offsetof(SpoolConf, retry_min_ms), "100ms", 0.001, 3600, NULL, 0,
     NULL, "first retry delay after a sink failed"},
    {"retry_max", VG_CT_DURATION, offsetof(SpoolConf, retry_max_ms), "30s", 0.001, 86400, NULL, 0,
     NULL, "retry delay cap (the delay doubles after each failure)"},
    {"drain_batch", VG_CT_INT, offsetof(SpoolConf, drain_batch), "1000", 1, 1000000, NULL, 0, NULL,
     "records read from a spool per write when it is delivered"},
    {0},
};

/* A pushed record: the scalar fields, and string fields as offsets into Delivery.bytes. */
typedef struct {
    size_t json, json_len, id, rule_id, rule_name, entity_type, token_id, client_ip;
    VgSeverity severity;
    double score;
    int64_t time_ms;
} Slot;

typedef struct {
    VgSink *sink;
    const VgSinkOps *ops;
    char *name;
    char *spool_dir;
    VgSpool *spool;    /* opened when first needed, or at start if a previous run left one */
    bool use_spool;    /* `spool: false`: a failing sink blocks (back-pressure) instead */
    bool spool_broken; /* could not be opened: treated as full, retried with backoff */
    bool down;
    int64_t backoff_ms, next_try_ms;
    uint64_t upto;
    /* counters (read with __atomic loads by vg_delivery_stats) */
    uint64_t delivered, failed, spooled, spool_full;
} DSink;

struct VgDelivery {
    DSink *sinks;
    size_t n_sinks;
    SpoolConf sc;
    VgSpoolLimits limits;
    GString *bytes;  /* strings of pending records */
    GArray *slots;   /* Slot, records base .. pushed */
    GArray *views;   /* VgAlertRecord built from slots at flush time */
    GPtrArray *ptrs; /* pointers into views */
    uint64_t base, pushed;
    bool blocked; /* some sink could neither deliver nor spool the pending records */
};

/* vg_log rate-limits each message (a literal) itself, so a sink failing on every batch
 * logs a few lines per 10 s, with the count of those suppressed. */
static void sink_error(DSink *k, const char *msg, const char *detail)
{
    vg_log_error(msg, "sink", k->name, "error", detail ? detail : "");
}

static void cnt_add(uint64_t *c, uint64_t v)
{
    __atomic_add_fetch(c, v, __ATOMIC_RELAXED);
}

static size_t put_str(GString *b, const char *s, size_t len)
{
    size_t off = b->len;
    if (s)
        g_string_append_len(b, s, (gssize)len);
    g_string_append_c(b, '\0');
    return off;
}

static size_t put_cstr(GString *b, const char *s)
{
    return put_str(b, s, s ? strlen(s) : 0);
}

int vg_delivery_push(VgDelivery *d, const VgAlertRecord *rec)
{
    if (d->blocked)
        return VG_EFULL;
    Slot sl = {
        .json = put_str(d->bytes, rec->json, rec->json_len),
        .json_len = rec->json_len,
        .id = put_cstr(d->bytes, rec->id),
        .rule_id = put_cstr(d->bytes, rec->rule_id),
        .rule_name = put_cstr(d->bytes, rec->rule_name),
        .entity_type = put_cstr(d->bytes, rec->entity_type),
        .token_id = put_cstr(d->bytes, rec->token_id),
        .client_ip = put_cstr(d->bytes, rec->client_ip),
        .severity = rec->severity,
        .score = rec->score,
        .time_ms = rec->time_ms,
    };
    g_array_append_val(d->slots, sl);
    d->pushed++;
    return VG_OK;
}

static void build_views(VgDelivery *d)
{
    const char *b = d->bytes->str;
    g_array_set_size(d->views, d->slots->len);
    g_ptr_array_set_size(d->ptrs, (gint)d->slots->len);
    for (guint i = 0; i < d->slots->len; i++) {
        const Slot *s = &g_array_index(d->slots, Slot, i);
        VgAlertRecord *r = &g_array_index(d->views, VgAlertRecord, i);
        *r = (VgAlertRecord){
            .json = b + s->json,
            .json_len = s->json_len,
            .id = b + s->id,
            .rule_id = b + s->rule_id,
            .rule_name = b + s->rule_name,
            .severity = s->severity,
            .entity_type = b + s->entity_type,
            .token_id = b + s->token_id,
            .client_ip = b + s->client_ip,
            .score = s->score,
            .time_ms = s->time_ms,
        };
        d->ptrs->pdata[i] = r;
    }
}

static void backoff(VgDelivery *d, DSink *k)
{
    k->down = true;
    k->backoff_ms = k->backoff_ms ? MIN(k->backoff_ms * 2, d->sc.retry_max_ms) : d->sc.retry_min_ms;
    /* up to 1/8 jitter, so that several vigil processes do not retry in lockstep */
    int64_t jitter =
        k->backoff_ms / 8 ? g_random_int_range(0, (gint32)MIN(k->backoff_ms / 8, G_MAXINT32)) : 0;
    k->next_try_ms = vg_sinks_now_ms() + k->backoff_ms + jitter;
}

static void recovered(DSink *k)
{
    if (k->down)
        vg_log_info("sink recovered", "sink", k->name);
    k->down = false;
    k->backoff_ms = 0;
    k->next_try_ms = 0;
}

/* One delivery attempt: write then flush. */
static int attempt(VgDelivery *d, DSink *k, const VgAlertRecord *const *recs, size_t n)
{
    GError *err = NULL;
    int r = k->ops->write(k->sink, recs, n, &err);
    if (r == VG_OK && k->ops->flush)
        r = k->ops->flush(k->sink, &err);
    if (r == VG_OK) {
        cnt_add(&k->delivered, n);
        return VG_OK;
    }
    cnt_add(&k->failed, 1);
    sink_error(k, k->use_spool ? "sink write failed, spooling" : "sink write failed",
               err ? err->message : "unknown error");
    g_clear_error(&err);
    backoff(d, k);
    return VG_EIO;
}

/* Opens the sink's spool if it is not open yet. */
static bool ensure_spool(VgDelivery *d, DSink *k)
{
    if (k->spool)
        return true;
    GError *err = NULL;
    VgSpool *sp = vg_spool_open(k->spool_dir, &d->limits, k->name, &err);
    __atomic_store_n(&k->spool, sp, __ATOMIC_RELEASE);
    if (!sp) {
        k->spool_broken = true;
        sink_error(k, "cannot open spool", err->message);
        g_error_free(err);
        return false;
    }
    k->spool_broken = false;
    return true;
}

static bool spool_empty(const DSink *k)
{
    return !k->spool || vg_spool_records(k->spool) == 0;
}

/* Delivers the spool in order until it is empty, a write fails or the time budget is
 * spent. */
static void drain(VgDelivery *d, DSink *k, int64_t deadline_ms)
{
    while (!spool_empty(k)) {
        const VgAlertRecord *const *recs;
        size_t n;
        GError *err = NULL;
        if (vg_spool_peek(k->spool, (size_t)d->sc.drain_batch, &recs, &n, &err) < 0) {
            sink_error(k, "cannot read spool", err->message);
            g_error_free(err);
            backoff(d, k);
            return;
        }
        if (n == 0)
            break;
        if (attempt(d, k, recs, n) < 0)
            return;
        if (vg_spool_consume(k->spool, &err) < 0) {
            /* delivered but not marked: they will be delivered again (same ids) */
            sink_error(k, "cannot update spool cursor", err->message);
            g_error_free(err);
            backoff(d, k);
            return;
        }
        if (vg_sinks_now_ms() >= deadline_ms)
            return;
    }
    recovered(k);
}

/* Appends recs to the spool in chunks of drain_batch (so that a big batch fills a nearly
 * full spool as far as it goes), moving k->upto past each chunk written. False when some
 * could not be spooled (full or broken). */
static bool to_spool(VgDelivery *d, DSink *k, const VgAlertRecord *const *recs, size_t n)
{
    if (!k->use_spool) {
        cnt_add(&k->spool_full, 1);
        sink_error(k, "sink down and not spooled (spool: false): input paused", NULL);
        return false;
    }
    if (!ensure_spool(d, k)) {
        cnt_add(&k->spool_full, 1);
        return false;
    }
    GError *err = NULL;
    int r = VG_OK;
    for (size_t i = 0; i < n && r == VG_OK;) {
        size_t c = MIN(n - i, (size_t)d->sc.drain_batch);
        r = vg_spool_append(k->spool, recs + i, c, &err);
        if (r == VG_OK) {
            cnt_add(&k->spooled, c);
            k->upto += c;
            i += c;
        }
    }
    if (r == VG_OK)
        return true;
    cnt_add(&k->spool_full, 1);
    if (r == VG_EFULL) {
        char rec[24], by[24], max[24];
        vg_log_error("spool full", "sink", k->name, "records",
                     vg_sinks_u64(rec, vg_spool_records(k->spool)), "bytes",
                     vg_sinks_u64(by, vg_spool_bytes(k->spool)), "max_bytes",
                     vg_sinks_u64(max, (uint64_t)d->limits.max_bytes), "action",
                     "input paused until the sink is back");
    } else {
        sink_error(k, "cannot write spool", err ? err->message : NULL);
    }
    g_clear_error(&err);
    return false;
}

/* Moves sink k forward: retry its spool if due, then give it the pending records. Returns
 * false when k still lacks some pending records (nowhere to put them). */
static bool advance(VgDelivery *d, DSink *k, int64_t now)
{
    if (k->down && now >= k->next_try_ms && !spool_empty(k))
        drain(d, k, now + DRAIN_BUDGET_MS);
    if (k->upto >= d->pushed)
        return true;
    size_t from = (size_t)(k->upto - d->base);
    size_t n = (size_t)(d->pushed - k->upto);
    const VgAlertRecord *const *recs = (const VgAlertRecord *const *)d->ptrs->pdata + from;
    bool direct = spool_empty(k) && (!k->down || now >= k->next_try_ms);
    if (direct && attempt(d, k, recs, n) == VG_OK) {
        recovered(k);
        k->upto = d->pushed;
        return true;
    }
    return to_spool(d, k, recs, n);
}

int vg_delivery_flush(VgDelivery *d)
{
    if (d->blocked) {
        /* Spool full: wait for the earliest retry (bounded) rather than spin. */
        int64_t now = vg_sinks_now_ms(), wait = FULL_SLEEP_MAX_MS;
        for (size_t i = 0; i < d->n_sinks; i++)
            if (d->sinks[i].upto < d->pushed)
                wait = MIN(wait, MAX(0, d->sinks[i].next_try_ms - now));
        if (wait > 0)
            g_usleep((gulong)wait * 1000);
    }
    build_views(d);
    int64_t now = vg_sinks_now_ms();
    bool ok = true;
    for (size_t i = 0; i < d->n_sinks; i++)
        ok &= advance(d, &d->sinks[i], now);
    if (ok) {
        g_string_truncate(d->bytes, 0);
        g_array_set_size(d->slots, 0);
        d->base = d->pushed;
    }
    d->blocked = !ok;
    return ok ? VG_OK : VG_EFULL;
}

static int output_push(void *user, const VgAlertRecord *rec)
{
    return vg_delivery_push(user, rec);
}

static int output_flush(void *user)
{
    return vg_delivery_flush(user);
}

VgAlertOutput vg_delivery_output(VgDelivery *d)
{
    return (VgAlertOutput){.user = d, .push = output_push, .flush = output_flush};
}

uint64_t vg_delivery_pushed(const VgDelivery *d)
{
    return d->pushed;
}

uint64_t vg_delivery_delivered_upto(const VgDelivery *d)
{
    uint64_t m = d->pushed;
    for (size_t i = 0; i < d->n_sinks; i++)
        m = MIN(m, d->sinks[i].upto);
    return m;
}

void vg_delivery_reopen(VgDelivery *d)
{
    for (size_t i = 0; i < d->n_sinks; i++)
        if (d->sinks[i].ops->reopen)
            d->sinks[i].ops->reopen(d->sinks[i].sink);
}

int vg_delivery_close(VgDelivery *d, int64_t timeout_ms, GError **err)
{
    int64_t deadline = timeout_ms < 0 ? G_MAXINT64 : vg_sinks_now_ms() + timeout_ms;
    for (;;) {
        int r = vg_delivery_flush(d);
        bool pending = false;
        int64_t next = G_MAXINT64;
        for (size_t i = 0; i < d->n_sinks; i++) {
            DSink *k = &d->sinks[i];
            if (!spool_empty(k) || k->upto < d->pushed) {
                pending = true;
                next = MIN(next, k->next_try_ms);
            }
        }
        if (!pending)
            return VG_OK;
        int64_t now = vg_sinks_now_ms();
        if (now >= deadline || next >= deadline) {
            GString *what = g_string_new(NULL);
            for (size_t i = 0; i < d->n_sinks; i++) {
                DSink *k = &d->sinks[i];
                if (k->upto < d->pushed)
                    g_string_append_printf(what,
                                           "%s%s: %" G_GUINT64_FORMAT " alerts LOST (spool full)",
                                           what->len ? "; " : "", k->name, d->pushed - k->upto);
                else if (!spool_empty(k))
                    g_string_append_printf(
                        what,
                        "%s%s: %" G_GUINT64_FORMAT " alerts left in the spool for the next start",
                        what->len ? "; " : "", k->name, vg_spool_records(k->spool));
            }
            g_set_error(err, VG_ERROR, r == VG_EFULL ? VG_EFULL : VG_EAGAIN,
                        "undelivered alerts: %s", what->str);
            g_string_free(what, TRUE);
            return r == VG_EFULL ? VG_EFULL : VG_EAGAIN;
        }
        if (next > now)
            g_usleep((gulong)MIN(next - now, deadline - now) * 1000);
    }
}

size_t vg_delivery_n_sinks(const VgDelivery *d)
{
    return d->n_sinks;
}

void vg_delivery_stats(const VgDelivery *d, size_t i, VgSinkStats *out)
{
    const DSink *k = &d->sinks[i];
    *out = (VgSinkStats){
        .name = k->name,
        .type = k->ops->name,
        .down = __atomic_load_n(&k->down, __ATOMIC_RELAXED),
        .delivered = __atomic_load_n(&k->delivered, __ATOMIC_RELAXED),
        .failed = __atomic_load_n(&k->failed, __ATOMIC_RELAXED),
        .spooled = __atomic_load_n(&k->spooled, __ATOMIC_RELAXED),
        .spool_full = __atomic_load_n(&k->spool_full, __ATOMIC_RELAXED),
        .reconnects = __atomic_load_n(&k->sink->reconnects, __ATOMIC_RELAXED),
    };
    VgSpool *sp = __atomic_load_n(&k->spool, __ATOMIC_ACQUIRE);
    if (sp) {
        out->spool_records = vg_spool_records(sp);
        out->spool_bytes = vg_spool_bytes(sp);
        out->spool_corrupt = vg_spool_corrupt(sp);
    }
}

/* ---- construction ---- */

static char *default_spool_dir(void)
{
    const char *sd = g_getenv("STATE_DIRECTORY"); /* systemd's StateDirectory= */
    if (sd && *sd) {
        char **parts = g_strsplit(sd, ":", 2);
        char *r = g_build_filename(parts[0], "spool", NULL);
        g_strfreev(parts);
        return r;
    }
    return g_build_filename(g_get_user_state_dir(), "vigil", "spool", NULL);
}

static bool valid_name(const char *s)
{
    if (!*s || strlen(s) > 64 || !strcmp(s, ".") || !strcmp(s, ".."))
        return false;
    for (; *s; s++)
        if (!g_ascii_isalnum(*s) && *s != '-' && *s != '_' && *s != '.')
            return false;
    return true;
}

/* A shallow copy of map without the keys delivery handles (type, name): sinks' option
 * tables reject unknown keys. The copy borrows the nodes; free with shallow_free. */
static VgConfNode *strip_keys(const VgConfNode *map)
{
    VgConfNode *c = g_new0(VgConfNode, 1);
    *c = *map;
    c->keys = g_ptr_array_new();
    c->items = g_ptr_array_new();
    for (guint i = 0; i < map->keys->len; i++) {
        VgConfNode *k = map->keys->pdata[i];
        if (!strcmp(k->value, "type") || !strcmp(k->value, "name") || !strcmp(k->value, "spool"))
            continue;
        g_ptr_array_add(c->keys, k);
        g_ptr_array_add(c->items, map->items->pdata[i]);
    }
    return c;
}

static void shallow_free(VgConfNode *c)
{
    g_ptr_array_free(c->keys, TRUE);
    g_ptr_array_free(c->items, TRUE);
    g_free(c);
}

static bool add_sink(VgDelivery *d, const VgSinkOps *ops, const char *name, bool use_spool,
                     const VgConfNode *section, const VgConfNode *where, GError **err)
{
    for (size_t i = 0; i < d->n_sinks; i++)
        if (!strcmp(d->sinks[i].name, name)) {
            vg_conf_error(err, where,
                          "two sinks are named '%s': give each a distinct name: (it names the "
                          "spool directory and the metrics)",
                          name);
            return false;
        }
    VgSink *s = ops->create(ops, section, err);
    if (!s)
        return false;
    s->instance = g_strdup(name);
    DSink *k = &d->sinks[d->n_sinks++];
    k->sink = s;
    k->ops = ops;
    k->name = g_strdup(name);
    k->use_spool = use_spool;
    k->spool_dir = g_build_filename(d->sc.dir, name, NULL);
    return true;
}

static bool add_sinks(VgDelivery *d, const VgConfNode *sinks, GError **err)
{
    if (!sinks || vg_conf_is_null(sinks)) {
        d->sinks = g_new0(DSink, 1);
        return add_sink(d, &vg_sink_stdout_ops, "stdout", false, NULL, NULL, err);
    }
    if (sinks->kind != VG_NODE_SEQ) {
        vg_conf_error(err, sinks, "sinks: expected a list of sinks (- type: redis ...)");
        return false;
    }
    d->sinks = g_new0(DSink, sinks->items->len + 1);
    for (guint i = 0; i < sinks->items->len; i++) {
        const VgConfNode *m = sinks->items->pdata[i];
        if (m->kind != VG_NODE_MAP) {
            vg_conf_error(err, m, "a sink must be a mapping with a type: key");
            return false;
        }
        const VgConfNode *t = vg_conf_get(m, "type");
        if (!t || t->kind != VG_NODE_SCALAR || vg_conf_is_null(t)) {
            vg_conf_error(err, t ? t : m, "a sink needs a type: (stdout, file, redis, syslog)");
            return false;
        }
        const VgSinkOps *ops = vg_find_sink(t->value);
        if (!ops) {
            GString *known = g_string_new(NULL);
            for (const VgSinkOps *const *o = vg_sinks(); *o; o++)
                g_string_append_printf(known, "%s%s", known->len ? ", " : "", (*o)->name);
            vg_conf_error(err, t, "unknown sink type '%s' (known: %s)", t->value, known->str);
            g_string_free(known, TRUE);
            return false;
        }
        const VgConfNode *nm = vg_conf_get(m, "name");
        const char *name = ops->name;
        if (nm) {
            if (nm->kind != VG_NODE_SCALAR || !valid_name(nm->value)) {
                vg_conf_error(err, nm, "a sink name must be 1-64 letters, digits, '-', '_' or '.'");
                return false;
            }
            name = nm->value;
        }
        /* spooling stdout would replay old alerts into the next run's output */
        bool use_spool = ops != &vg_sink_stdout_ops;
        const VgConfNode *sp = vg_conf_get(m, "spool");
        if (sp && !vg_conf_parse_bool(sp, &use_spool, err))
            return false;
        VgConfNode *section = strip_keys(m);
        bool ok = add_sink(d, ops, name, use_spool, section, nm ? nm : t, err);
        shallow_free(section);
        if (!ok)
            return false;
    }
    if (d->n_sinks == 0)
        vg_log_warn("no sinks configured: alerts go nowhere");
    return true;
}

VgDelivery *vg_delivery_new(const VgConfNode *sinks, const VgConfNode *spool, GError **err)
{
    VgDelivery *d = g_new0(VgDelivery, 1);
    d->bytes = g_string_sized_new(64 * 1024);
    d->slots = g_array_new(FALSE, FALSE, sizeof(Slot));
    d->views = g_array_new(FALSE, FALSE, sizeof(VgAlertRecord));
    d->ptrs = g_ptr_array_new();
    if (vg_conf_apply(vg_delivery_spool_options, &d->sc, spool, err) < 0)
        goto fail;
    if (d->sc.retry_max_ms < d->sc.retry_min_ms) {
        vg_conf_error(err, spool, "spool: retry_max must not be below retry_min");
        goto fail;
    }
    if (!d->sc.dir || !*d->sc.dir) {
        g_free(d->sc.dir);
        d->sc.dir = default_spool_dir();
    }
    d->limits =
        (VgSpoolLimits){d->sc.max_bytes, MIN(d->sc.segment_bytes, d->sc.max_bytes), d->sc.fsync};
    if (!add_sinks(d, sinks, err))
        goto fail;
    /* A spool left by a previous run is delivered before anything new: open it now so
     * that the first flush sees it. */
    for (size_t i = 0; i < d->n_sinks; i++) {
        DSink *k = &d->sinks[i];
        if (g_file_test(k->spool_dir, G_FILE_TEST_IS_DIR) && ensure_spool(d, k) &&
            !spool_empty(k)) {
            char rec[24], by[24];
            vg_log_info("spool from a previous run will be delivered first", "sink", k->name,
                        "records", vg_sinks_u64(rec, vg_spool_records(k->spool)), "bytes",
                        vg_sinks_u64(by, vg_spool_bytes(k->spool)));
            k->down = true; /* so that advance() drains it on the first flush */
        }
    }
    return d;
fail:
    vg_delivery_free(d);
    return NULL;
}

void vg_delivery_free(VgDelivery *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_sinks; i++) {
        DSink *k = &d->sinks[i];
        char *inst = k->sink->instance;
        k->ops->destroy(k->sink);
        g_free(inst);
        vg_spool_free(k->spool);
        g_free(k->name);
        g_free(k->spool_dir);
    }
    g_free(d->sinks);
    vg_conf_clear(vg_delivery_spool_options, &d->sc);
    g_string_free(d->bytes, TRUE);
    g_array_free(d->slots, TRUE);
    g_array_free(d->views, TRUE);
    g_ptr_array_free(d->ptrs, TRUE);
    g_free(d);
}

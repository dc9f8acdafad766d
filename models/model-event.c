/* model-event.c — what one event does to the models: find or admit each of its keys and
 * count it into the key's open bucket.
 *
 * Per event, for every enabled kind (token, endpoint, token×endpoint, client IP) the key
 * is hashed, found or admitted in the kind's table (model-table.c), and the event is added
 * to the key's open bucket: request count, error counts, bytes, latency, and distinct
 * counters (values are hashed to 32 bits first). Nothing is allocated here: entries, HLL
 * registers and sample slots come from pools sized from the memory budget at creation.
 *
 * The work is memory-bound (a look-up in each of four tables much larger than the caches),
 * so it is arranged to overlap the misses: the index slots of all the event's keys are
 * prefetched first, then their entries, then the counters are updated; HLL register
 * updates wait in a short queue (max is commutative) so their cache lines can arrive
 * meanwhile. None of this changes a result, only when memory is touched.
 */
#include "models/model-int.h"

#include "engine/bytemask.h"

#include <arpa/inet.h>

/* ---- per event ----------------------------------------------------------------------------- */

typedef struct {
    VgDetectCtx *ctx;
    const VgEvent *ev;
    uint64_t token_num; /* the event's token id: its token entry's name, or computed */
    bool have_token_num;
    uint64_t ep_hash; /* for the endpoint names of token×endpoint pairs */
} EvCtx;

typedef struct {
    VgModels *m;
    VgKindState *ks;
} EvictCtx;

/* An evicted entry gives its pooled HLLs and samples back (its open bucket is lost). */
static void on_evict(void *user, uint32_t i)
{
    EvictCtx *c = user;
    VgEntryHead *e = vg_table_entry(&c->ks->table, i);
    if (e->slot_bucket != VG_NO_BUCKET)
        vg_models_release_slot(c->m, c->ks, e);
}

static uint32_t ep_intern(VgModels *m, uint64_t hash, VgStr text)
{
    uint64_t tag = hash & ~(uint64_t)0xFFFFF;
    for (uint32_t p = (uint32_t)(hash >> 40) & m->ep_mask;; p = (p + 1) & m->ep_mask) {
        uint64_t s = m->ep_index[p];
        if (!s) {
            if (m->n_ep >= m->cap_ep) {
                m->stats.names_full++;
                return 0;
            }
            VgNameEndpoint *ne = &m->ep_names[m->n_ep++];
            ne->len = (uint8_t)(text.len < VG_ENDPOINT_NAME_MAX ? text.len : VG_ENDPOINT_NAME_MAX);
            memcpy(ne->text, text.p, ne->len);
            m->ep_index[p] = tag | m->n_ep;
            return m->n_ep;
        }
        if ((s & ~(uint64_t)0xFFFFF) == tag)
            return (uint32_t)(s & 0xFFFFF);
    }
}

static void set_name(VgModels *m, VgModelKind k, VgEntryHead *e, EvCtx *x)
{
    uint8_t *name = (uint8_t *)e + m->kind[k].layout.name_off;
    const VgEvent *ev = x->ev;
    if (k == VG_MK_TOKEN || k == VG_MK_TOKEN_ENDPOINT) {
        /* a new token×endpoint pair of a known token takes the id its token entry holds:
         * the HMAC (then four portable SHA-256 blocks) was 2 % of a replay, mostly for
         * pairs */
        if (!x->have_token_num) {
            x->token_num = vg_token_num(x->ctx->token_key, ev->token);
            x->have_token_num = true;
        }
        uint64_t id = x->token_num;
        if (k == VG_MK_TOKEN) {
            ((VgNameToken *)name)->token_id = id;
        } else {
            VgNameTokenEp *te = (VgNameTokenEp *)name;
            te->token_id = id;
            te->endpoint = ep_intern(m, x->ep_hash, ev->endpoint);
        }
    } else if (k == VG_MK_ENDPOINT) {
        VgNameEndpoint *ne = (VgNameEndpoint *)name;
        ne->len = (uint8_t)(ev->endpoint.len < VG_ENDPOINT_NAME_MAX ? ev->endpoint.len
                                                                    : VG_ENDPOINT_NAME_MAX);
        memcpy(ne->text, ev->endpoint.p, ne->len);
    } else {
        VgNameIp *ni = (VgNameIp *)name;
        char buf[64];
        size_t n = ev->client_ip.len < sizeof buf - 1 ? ev->client_ip.len : sizeof buf - 1;
        memcpy(buf, ev->client_ip.p, n);
        buf[n] = '\0';
        if (inet_pton(AF_INET, buf, ni->addr) == 1) {
            ni->family = 4;
        } else if (inet_pton(AF_INET6, buf, ni->addr) == 1) {
            ni->family = 6;
        } else {
            ni->family = 0;
            ni->len = (uint8_t)(n < sizeof ni->addr ? n : sizeof ni->addr);
            memcpy(ni->addr, buf, ni->len);
        }
    }
}

static void dist_add(VgModels *m, VgDistinct *d, uint32_t v)
{
    if (d->mode == VG_DIST_HLL) {
        if (m->hq_n == VG_HLL_QUEUE)
            vg_models_hll_flush(m);
        vg_prefetch(&m->hll[d->v[0]].reg[v >> (32 - VG_HLL_P)]);
        m->hq[m->hq_n].hll = d->v[0];
        m->hq[m->hq_n].v = v;
        m->hq_n++;
        return;
    }
    if (d->mode == VG_DIST_LINEAR) {
        vg_distinct_linear_add(d, v);
        return;
    }
    for (int i = 0; i < d->n; i++)
        if (d->v[i] == v)
            return;
    if (d->n < 3) {
        d->v[d->n++] = v;
        return;
    }
    if (m->n_hll_free) {
        uint32_t h = m->hll_free[--m->n_hll_free];
        VgHll *hll = &m->hll[h];
        memset(hll, 0, sizeof *hll);
        for (int i = 0; i < 3; i++)
            vg_hll_add(hll, d->v[i]);
        vg_hll_add(hll, v);
        d->mode = VG_DIST_HLL;
        d->v[0] = h;
        m->stats.hll_in_use++;
        return;
    }
    m->stats.hll_exhausted++;
    vg_distinct_to_linear(d);
    vg_distinct_linear_add(d, v);
}

/* The ids of an event: the path segments its endpoint template replaced by {…}, hashed
 * together with the template. 0 when the endpoint has no templated segment.
 *
 * The endpoint and the path are walked segment by segment in step, from the endpoint's
 * first '/' and the path's first byte: each endpoint segment that starts with '{' takes
 * the path segment in the same place. vg_models_object_ids_walk() does it byte by byte;
 * object_ids() finds the slashes of both (up to 64 bytes each) with SSE2 compares first
 * (engine/bytemask.h), which took 90 instructions off every event of the bench's JSON
 * traffic (12,568 to 12,478; its paths are short, and the walk's loops cost more than
 * their bytes). Both give the same value (tests/unit/test-model-detector.c compares them). */
uint32_t vg_models_object_ids_walk(VgStr ep, VgStr path, uint64_t ep_hash)
{
    if (!ep.len || !path.len)
        return 0;
    const char *e = memchr(ep.p, '/', ep.len);
    if (!e)
        return 0;
    const char *ee = ep.p + ep.len, *p = path.p, *pe = path.p + path.len;
    uint64_t h = ep_hash;
    bool any = false;
    while (e < ee && p < pe) {
        const char *es = ++e, *ps = ++p;
        while (e < ee && *e != '/')
            e++;
        while (p < pe && *p != '/')
            p++;
        if (e > es && *es == '{') {
            h = vg_hash64(ps, (size_t)(p - ps), h);
            any = true;
        }
    }
    if (!any)
        return 0;
    return (uint32_t)(h >> 32) | 1u;
}

static uint32_t object_ids(const VgEvent *ev, uint64_t ep_hash)
{
    VgStr ep = ev->endpoint, path = ev->path;
#if VG_BYTEMASK
    if (ep.len && path.len && ep.len <= 64 && path.len <= 64) {
        uint64_t em = vg_bytemask64(ep.p, ep.len, vg_mask16_slash),
                 pm = vg_bytemask64(path.p, path.len, vg_mask16_slash);
        if (!em)
            return 0;
        size_t en = ep.len, pn = path.len, e = (size_t)__builtin_ctzll(em), p = 0;
        uint64_t h = ep_hash;
        bool any = false;
        while (e < en && p < pn) {
            size_t es = e + 1, ps = p + 1;
            e = vg_bytemask_next(em, es, en);
            p = vg_bytemask_next(pm, ps, pn);
            if (e > es && ep.p[es] == '{') {
                h = vg_hash64(path.p + ps, p - ps, h);
                any = true;
            }
        }
        return any ? (uint32_t)(h >> 32) | 1u : 0;
    }
#endif
    return vg_models_object_ids_walk(ep, path, ep_hash);
}

static inline uint32_t value32(VgStr s)
{
    return (uint32_t)(vg_hash64(s.p, s.len, SEED_VALUE) >> 32);
}

static void capture_sample(VgModels *m, VgEntryHead *e, const VgEvent *ev)
{
    if (!e->sample) {
        if (!m->n_sample_free) {
            m->stats.samples_exhausted++;
            return;
        }
        e->sample = m->sample_free[--m->n_sample_free] + 1;
        m->samples[e->sample - 1].n = 0;
    }
    VgSampleRec *sr = &m->samples[e->sample - 1];
    if (sr->n >= VG_ALERT_MAX_SAMPLES)
        return;
    size_t n =
        ev->request_id.len < sizeof sr->id[0] - 1 ? ev->request_id.len : sizeof sr->id[0] - 1;
    memcpy(sr->id[sr->n], ev->request_id.p, n);
    sr->id[sr->n][n] = '\0';
    sr->n++;
}

/* Is this bucket already far enough above the baseline that an alert is possible? Then the
 * key starts keeping request ids as samples. */
static bool worth_sampling(const VgModels *m, const VgKindState *ks, VgEntryHead *e,
                           const VgEvent *ev)
{
    const VgEwma *ew = vg_entry_ewma(ks, e);
    int ri = ks->layout.midx[VG_MM_REQUESTS];
    const VgMetricConf *rc = &m->conf.metric[VG_MM_REQUESTS];
    /* a new key is judged on its first buckets, whatever its volume: keep its first
     * requests while the pool has room to spare (a flood of new keys must not starve it) */
    if (ri >= 0 && (ew[ri].flags & VG_EW_NMASK) < m->conf.warmup_buckets &&
        m->n_sample_free > m->n_samples / 2)
        return true;
    if (ri >= 0) {
        double mu = ew[ri].mean;
        double thr = rc->min_volume > rc->min_ratio * mu ? rc->min_volume : rc->min_ratio * mu;
        if (e->req >= thr)
            return true;
    }
    if (ev->status >= 400) {
        for (int mi = VG_MM_4XX; mi <= VG_MM_5XX; mi++) {
            int idx = ks->layout.midx[mi];
            if (idx < 0)
                continue;
            const VgMetricConf *mc = &m->conf.metric[mi];
            float c = *vg_entry_acc(ks, e, mi);
            if (c >= mc->min_volume && c >= mc->min_ratio * ew[idx].mean)
                return true;
        }
    }
    return false;
}

static inline void prefetch_dist(const VgModels *m, const VgDistinct *d, uint32_t v)
{
    if (d->mode == VG_DIST_HLL)
        vg_prefetch(&m->hll[d->v[0]].reg[v >> (32 - VG_HLL_P)]);
}

/* First pass over a key of the event: find or admit it, count. NULL when rejected. */
static VgEntryHead *touch(VgModels *m, VgModelKind k, uint64_t hash, uint32_t fp, uint32_t b,
                          EvCtx *x, uint32_t ip32, uint32_t tok32, uint32_t path32, uint32_t ids32)
{
    VgKindState *ks = &m->kind[k];
    VgModelTable *t = &ks->table;
    const VgEvent *ev = x->ev;
    uint32_t ei = vg_table_find(t, hash, fp);
    if (ei == UINT32_MAX) {
        unsigned freq = vg_table_sighting(t, hash);
        EvictCtx ec = {m, ks};
        ei = vg_table_admit(t, hash, fp, freq, b, m->ttl_b, on_evict, &ec);
        if (ei == UINT32_MAX)
            return NULL;
        set_name(m, k, vg_table_entry(t, ei), x);
    }
    VgEntryHead *e = vg_table_entry(t, ei);
    if (k == VG_MK_TOKEN) { /* touched before the pair kind: see set_name() */
        x->token_num = ((const VgNameToken *)((const uint8_t *)e + ks->layout.name_off))->token_id;
        x->have_token_num = true;
    }
    if (e->slot_bucket == VG_NO_BUCKET) {
        uint32_t ob = b > e->closed ? b : e->closed + 1;
        e->slot_bucket = ob;
        vg_table_dirty(t, ei, ob);
    } else if (b > e->slot_bucket) {
        vg_models_close_entry(m, ks, ei, e->slot_bucket, x->ctx);
        e->slot_bucket = b;
        vg_table_dirty(t, ei, b);
    }
    if (e->slot_bucket > e->last_active)
        e->last_active = e->slot_bucket;

    const VgLayout *L = &ks->layout;
    e->req += 1.0f;
    int32_t st = ev->status;
    if (L->acc_off[VG_MM_4XX] && st >= 400 && st < 500)
        *vg_entry_acc(ks, e, VG_MM_4XX) += 1.0f;
    if (L->acc_off[VG_MM_AUTH] && (st == 401 || st == 403))
        *vg_entry_acc(ks, e, VG_MM_AUTH) += 1.0f;
    if (L->acc_off[VG_MM_5XX] && st >= 500)
        *vg_entry_acc(ks, e, VG_MM_5XX) += 1.0f;
    if (L->acc_off[VG_MM_BYTES] && ev->bytes_out > 0)
        *vg_entry_acc(ks, e, VG_MM_BYTES) += (float)ev->bytes_out;
    if (vg_event_has(ev, VG_F_LATENCY_MS)) {
        if (L->acc_off[VG_MM_LAT_MEAN]) {
            float *a = vg_entry_acc(ks, e, VG_MM_LAT_MEAN);
            a[0] += (float)ev->latency_ms;
            a[1] += 1.0f;
        }
        if (L->sketch_off)
            ((VgLatSketch *)((uint8_t *)e + L->sketch_off))->n[vg_lsketch_bin(ev->latency_ms)]++;
    }
    /* the distinct adds come in a second pass: fetch their HLL registers meanwhile */
    if (L->dist_off[VG_MM_D_IPS] && ip32)
        prefetch_dist(m, vg_entry_dist(ks, e, VG_MM_D_IPS), ip32);
    if (L->dist_off[VG_MM_D_TOKENS] && tok32)
        prefetch_dist(m, vg_entry_dist(ks, e, VG_MM_D_TOKENS), tok32);
    if (L->dist_off[VG_MM_D_PATHS] && path32)
        prefetch_dist(m, vg_entry_dist(ks, e, VG_MM_D_PATHS), path32);
    if (L->dist_off[VG_MM_D_IDS] && ids32)
        prefetch_dist(m, vg_entry_dist(ks, e, VG_MM_D_IDS), ids32);
    return e;
}

/* Second pass over a key of the event: distinct counters, samples, explain. */
static void touch_rest(VgModels *m, VgModelKind k, VgEntryHead *e, EvCtx *x, uint32_t ip32,
                       uint32_t tok32, uint32_t path32, uint32_t ids32)
{
    VgKindState *ks = &m->kind[k];
    const VgLayout *L = &ks->layout;
    const VgEvent *ev = x->ev;
    if (L->dist_off[VG_MM_D_IPS] && ip32)
        dist_add(m, vg_entry_dist(ks, e, VG_MM_D_IPS), ip32);
    if (L->dist_off[VG_MM_D_TOKENS] && tok32)
        dist_add(m, vg_entry_dist(ks, e, VG_MM_D_TOKENS), tok32);
    if (L->dist_off[VG_MM_D_PATHS] && path32)
        dist_add(m, vg_entry_dist(ks, e, VG_MM_D_PATHS), path32);
    if (L->dist_off[VG_MM_D_IDS] && ids32)
        dist_add(m, vg_entry_dist(ks, e, VG_MM_D_IDS), ids32);

    /* the entry's own state first: the sample record is a cache miss, needed only then */
    if (ev->request_id.len && worth_sampling(m, ks, e, ev) &&
        (!e->sample || m->samples[e->sample - 1].n < VG_ALERT_MAX_SAMPLES))
        capture_sample(m, e, ev);

    const VgTrace *tr = x->ctx->trace;
    if (tr && tr->model_obs) {
        char key[VG_ENDPOINT_NAME_MAX + 24], model[48];
        vg_models_entity_name(m, k, e, key, sizeof key);
        g_snprintf(model, sizeof model, "model.%s_rate", vg_kind_rule[k]);
        int ri = L->midx[VG_MM_REQUESTS];
        double mu = ri >= 0 ? vg_entry_ewma(ks, e)[ri].mean : 0;
        double var = ri >= 0 ? vg_entry_ewma(ks, e)[ri].var : 0;
        double sd = sqrt(var > mu ? var : (mu > 1 ? mu : 1));
        tr->model_obs(tr->user, model, key, (int64_t)e->slot_bucket * m->conf.bucket_ms, e->req, mu,
                      (e->req - mu) / sd);
    }
}

_Static_assert(VG_MODEL_KINDS == VG_MK__COUNT, "VgModelKeys has a hash per kind");
/* every shard reads every event's keys from the core that hashed them: one cache line */
_Static_assert(sizeof(VgModelKeys) <= 64, "VgModelKeys fits a cache line");

/* The kinds under which this detector counts an event with keys hk, as bits: the event
 * has the key, the kind is enabled, and with shards, the key is this shard's (set once by
 * vg_models_event_keys: every shard asks three times per event). */
static inline unsigned kinds_of(const VgModels *m, const VgModelKeys *hk)
{
    if (m->n_shards <= 1)
        return hk->kinds;
    unsigned kinds = 0;
    for (int k = 0; k < VG_MK__COUNT; k++)
        kinds |= (unsigned)(hk->shard[k] == m->shard) << k;
    return kinds & hk->kinds;
}

static inline void prefetch_index(const VgModels *m, const VgModelKeys *hk, unsigned kinds)
{
    for (int k = 0; k < VG_MK__COUNT; k++)
        if (kinds & (1u << k)) {
            const VgModelTable *t = &m->kind[k].table;
            vg_prefetch(&t->index[(uint32_t)hk->hash[k] & t->index_mask]);
        }
}

/* Reads the index slots (a stall unless prefetch_index() ran earlier enough). */
static inline void prefetch_entries(const VgModels *m, const VgModelKeys *hk, unsigned kinds)
{
    for (int k = 0; k < VG_MK__COUNT; k++)
        if (kinds & (1u << k)) {
            const VgModelTable *t = &m->kind[k].table;
            uint32_t c = vg_table_candidate(t, hk->hash[k]);
            if (c != UINT32_MAX)
                vg_table_prefetch_entry(t, c);
            else /* a new key (or one evicted): the admission filter will count it */
                vg_table_prefetch_sighting(t, hk->hash[k]);
        }
}

void vg_models_prefetch(VgDetector *d, const void *k, int stage)
{
    const VgModels *m = (const VgModels *)d;
    const VgModelKeys *hk = k;
    if (!m->conf.enabled)
        return;
    unsigned kinds = kinds_of(m, hk);
    if (stage == 0)
        prefetch_index(m, hk, kinds);
    else
        prefetch_entries(m, hk, kinds);
}

/* The key hash and fingerprint of s (of kind seed), into k's slot for kind. */
static inline void key_hash(VgModelKeys *k, int kind, VgStr s, uint64_t seed)
{
    k->hash[kind] = vg_hash64(s.p, s.len, seed) | 1;
    k->fp[kind] = (uint32_t)vg_hash64(s.p, s.len, SEED_FP);
}

/* A key as a distinct-count value of other keys: from its hash and fingerprint (0 without
 * the key). */
static inline uint32_t key_value32(const VgModelKeys *k, int kind)
{
    return k->hash[kind] ? (uint32_t)(k->hash[kind] >> 32) ^ k->fp[kind] : 0;
}

void vg_models_event_keys(VgDetector *d, const VgEvent *ev, VgModelKeys *k)
{
    const VgModels *m = (const VgModels *)d;
    memset(k, 0, sizeof *k);
    if (!m->conf.enabled)
        return;
    if (ev->token.len)
        key_hash(k, VG_MK_TOKEN, ev->token, SEED_TOKEN);
    if (ev->endpoint.len)
        key_hash(k, VG_MK_ENDPOINT, ev->endpoint, SEED_ENDPOINT);
    if (ev->client_ip.len)
        key_hash(k, VG_MK_CLIENT_IP, ev->client_ip, SEED_IP);
    if (k->hash[VG_MK_TOKEN] && k->hash[VG_MK_ENDPOINT]) {
        k->hash[VG_MK_TOKEN_ENDPOINT] =
            (k->hash[VG_MK_TOKEN] ^ (k->hash[VG_MK_ENDPOINT] * 0x9e3779b97f4a7c15ull)) | 1;
        k->fp[VG_MK_TOKEN_ENDPOINT] = k->fp[VG_MK_TOKEN] ^ (k->fp[VG_MK_ENDPOINT] * 0x85ebca6bu);
    }
    const VgKindConf *kc = m->conf.kind;
    for (int kind = 0; kind < VG_MK__COUNT; kind++)
        if (k->hash[kind] && kc[kind].enabled)
            k->kinds |= (uint8_t)(1u << kind);
    if (m->n_shards > 1) /* the token×endpoint pair goes with its token */
        for (int kind = 0; kind < VG_MK__COUNT; kind++)
            k->shard[kind] = (uint8_t)vg_shard_of_hash(
                k->hash[kind == VG_MK_TOKEN_ENDPOINT ? VG_MK_TOKEN : kind], m->n_shards);
    if (ev->path.len && kc[VG_MK_CLIENT_IP].enabled &&
        (kc[VG_MK_CLIENT_IP].metrics & (1u << VG_MM_D_PATHS)))
        k->path32 = value32(ev->path);
    if (k->hash[VG_MK_ENDPOINT] &&
        ((kc[VG_MK_TOKEN].enabled && (kc[VG_MK_TOKEN].metrics & (1u << VG_MM_D_IDS))) ||
         (kc[VG_MK_TOKEN_ENDPOINT].enabled &&
          (kc[VG_MK_TOKEN_ENDPOINT].metrics & (1u << VG_MM_D_IDS)))))
        k->ids32 = object_ids(ev, k->hash[VG_MK_ENDPOINT]);
}

void vg_models_on_event(VgDetector *d, const VgEvent *ev, VgDetectCtx *ctx)
{
    if (!((VgModels *)d)->conf.enabled)
        return;
    VgModelKeys k;
    vg_models_event_keys(d, ev, &k);
    vg_models_prefetch(d, &k, 0);
    vg_models_prefetch(d, &k, 1);
    vg_models_on_event_keyed(d, ev, &k, ctx);
}

void vg_models_on_event_keyed(VgDetector *d, const VgEvent *ev, const VgModelKeys *hk,
                              VgDetectCtx *ctx)
{
    VgModels *m = (VgModels *)d;
    if (!m->conf.enabled || !vg_event_has(ev, VG_F_TIME) || ev->time_ms < 0)
        return;
    int64_t t = ev->time_ms, B = m->conf.bucket_ms;
    if (ctx->late) {
        m->stats.late++;
        return;
    }
    if (!m->started) {
        m->started = true;
        m->first_bucket = (uint32_t)(t / B);
        m->next_due = m->first_bucket;
        m->last_sweep = m->first_bucket;
        m->max_time = t;
    }
    if (t > m->max_time)
        m->max_time = t;
    int64_t wm = m->max_time - B;
    if (ctx->watermark > wm)
        wm = ctx->watermark;
    if (t < wm || t / B < (int64_t)m->next_due) {
        m->stats.late++;
        return;
    }
    vg_models_advance(m, wm, ctx);
    m->stats.events++;
    uint32_t b = (uint32_t)(t / B);

    EvCtx x = {.ctx = ctx, .ev = ev, .ep_hash = hk->hash[VG_MK_ENDPOINT]};

    /* The kinds of this event, then the work: the index slots and entries of its keys were
     * asked for by vg_models_prefetch() one and two events ahead (vg_prefetch_ahead), so
     * the cache misses of the four tables overlap instead of queueing. Every kind gets every
     * distinct-count value: a kind's layout has a distinct counter only for the values
     * vg_metric_info lets it count. */
    unsigned kinds = kinds_of(m, hk);
    uint32_t ip32 = key_value32(hk, VG_MK_CLIENT_IP), tok32 = key_value32(hk, VG_MK_TOKEN);
    VgEntryHead *ent[VG_MK__COUNT];
    for (int k = 0; k < VG_MK__COUNT; k++)
        ent[k] = kinds & (1u << k) ? touch(m, (VgModelKind)k, hk->hash[k], hk->fp[k], b, &x, ip32,
                                           tok32, hk->path32, hk->ids32)
                                   : NULL;
    for (int k = 0; k < VG_MK__COUNT; k++)
        if (ent[k])
            touch_rest(m, (VgModelKind)k, ent[k], &x, ip32, tok32, hk->path32, hk->ids32);
}

/* models.c — the "models" detector: creation from config, the clock, and registration
 * (per-event work is in model-event.c, closing buckets in model-close.c).
 *
 * The clock. A bucket closes for all keys when the models' watermark passes its end; the
 * watermark is the pipeline's (ctx->watermark) but never less than the newest event time
 * minus one bucket, so a pipeline that updates its clock lazily (per batch, or only at the
 * end) produces exactly the closes a per-event clock would (see the determinism tests).
 * Events older than that watermark are late: ignored, and counted
 * (vigil_model_events_late_total). The open buckets therefore span at most two buckets,
 * which is what the rings of four dirty lists and population histograms hold. With several
 * Kafka partitions in one pipeline, read out of step by more than a bucket (a backlog whose
 * partitions each come in a fetch or two spanning many minutes), the partitions behind
 * are late for the models: state per partition (checkpoint.redis, engine.workers) judges
 * each partition on its own clock.
 *
 * A key whose event lands in a bucket after its open one closes the open one at once
 * ("early close"); the result is the same as if the watermark had closed it, because a
 * close uses only the key's own state and the population folded through the previous
 * bucket, which by then is final. Events that arrive out of order inside the open bucket
 * window count in the key's open bucket.
 *
 * Sharding (issue 8): vg_models_set_shard() makes an instance own the keys whose hash falls
 * in its shard; vg_models_shard_of() tells a router where each key of an event lives. All
 * per-key results are then identical to the single-instance run. The population of a kind
 * (what new keys are compared with) is a sum of integer histograms per bucket: with N
 * shards each instance sees only its part; for shard-count-independent results the
 * pipeline must merge the per-bucket histograms of all shards before folding them (a
 * barrier once per bucket of event time). Without it, new-key judgements use the shard's
 * population — still deterministic for a fixed shard count.
 */
#include "models/model-int.h"

#include "engine/registry.h"

#define EP_POOL 4096

static VgModels *from(VgDetector *d)
{
    return (VgModels *)d;
}

/* ---- creation ------------------------------------------------------------------------------- */

static void setup_pools(VgModels *m, size_t *budget_left)
{
    size_t budget = (size_t)m->conf.memory_budget;
    size_t hll_bytes = (size_t)(budget * m->conf.hll_share);
    m->n_hll = (uint32_t)(hll_bytes / (sizeof(VgHll) + 4));
    m->hll = vg_models_zalloc(MAX(m->n_hll, 1) * sizeof(VgHll));
    m->hll_free = g_new(uint32_t, m->n_hll ? m->n_hll : 1);
    for (uint32_t i = 0; i < m->n_hll; i++)
        m->hll_free[i] = m->n_hll - 1 - i;
    m->n_hll_free = m->n_hll;

    m->n_samples = (uint32_t)m->conf.sample_pool;
    m->samples = vg_models_zalloc(MAX(m->n_samples, 1) * sizeof(VgSampleRec));
    m->sample_free = g_new(uint32_t, m->n_samples ? m->n_samples : 1);
    for (uint32_t i = 0; i < m->n_samples; i++)
        m->sample_free[i] = m->n_samples - 1 - i;
    m->n_sample_free = m->n_samples;

    m->cap_ep = EP_POOL;
    m->ep_names = vg_models_zalloc(m->cap_ep * sizeof(VgNameEndpoint));
    m->ep_mask = 2 * EP_POOL - 1;
    m->ep_index = vg_models_zalloc(((size_t)m->ep_mask + 1) * 8);

    size_t fixed = (size_t)m->n_hll * (sizeof(VgHll) + 4) +
                   (size_t)m->n_samples * (sizeof(VgSampleRec) + 4) +
                   m->cap_ep * sizeof(VgNameEndpoint) + (m->ep_mask + 1) * 8 + sizeof *m;
    *budget_left = budget > fixed + (1u << 20) ? budget - fixed : (1u << 20);
}

static VgDetector *models_create(const VgDetectorOps *ops, const VgConfNode *section, GError **err)
{
    VgModels *m = g_new0(VgModels, 1);
    m->base.ops = ops;
    if (vg_models_conf_parse(&m->conf, section, err))
        goto fail;
    m->n_shards = 1;
    m->pending = g_array_new(FALSE, FALSE, sizeof(VgPendingAlert));
    if (!m->conf.enabled)
        return &m->base; /* nothing allocated: every callback returns at once */
    double bucket = (double)m->conf.bucket_ms;
    m->alpha = vg_ewma_alpha(m->conf.half_life_ms / bucket);
    m->beta_seasonal = 1.0 - vg_ewma_alpha(m->conf.seasonal_half_life_ms / bucket);
    m->alpha_pop = vg_ewma_alpha(m->conf.population_half_life_ms / bucket);
    for (int i = 0; i < VG_POW_TABLE; i++) {
        m->pow_keep[i] = pow(1.0 - m->alpha, i);
        m->pow_seasonal[i] = pow(m->beta_seasonal, i);
    }
    m->cooldown_b = (uint32_t)((m->conf.cooldown_ms + m->conf.bucket_ms - 1) / m->conf.bucket_ms);
    if (m->cooldown_b > 30000)
        m->cooldown_b = 30000; /* compared mod 2^16 */
    m->ttl_b = (uint32_t)(m->conf.ttl_ms / m->conf.bucket_ms);
    if (m->ttl_b < 2)
        m->ttl_b = 2;

    size_t left;
    setup_pools(m, &left);
    double shares = 0;
    for (int k = 0; k < VG_MK__COUNT; k++)
        if (m->conf.kind[k].enabled)
            shares += m->conf.kind[k].share;
    for (int k = 0; k < VG_MK__COUNT; k++) {
        VgKindState *ks = &m->kind[k];
        ks->seed = k == VG_MK_ENDPOINT    ? SEED_ENDPOINT
                   : k == VG_MK_CLIENT_IP ? SEED_IP
                                          : SEED_TOKEN;
        for (int i = 0; i < 4; i++)
            for (int mi = 0; mi < VG_MM__COUNT; mi++)
                ks->hist[i][mi].bucket = VG_NO_BUCKET;
        if (!m->conf.kind[k].enabled)
            continue;
        m->n_kinds_on++;
        vg_layout_init(&ks->layout, (VgModelKind)k, m->conf.kind[k].metrics);
        size_t budget = (size_t)(left * (m->conf.kind[k].share / shares));
        vg_table_init(&ks->table, ks->layout.stride, budget);
        ks->table.admit_min = (unsigned)m->conf.admit_min;
    }
    m->next_due = 0;
    return &m->base;
fail:
    g_free(m);
    return NULL;
}

static void models_destroy(VgDetector *d)
{
    VgModels *m = from(d);
    if (!m)
        return;
    for (int k = 0; k < VG_MK__COUNT; k++)
        vg_table_destroy(&m->kind[k].table);
    vg_models_zfree(m->hll, MAX(m->n_hll, 1) * sizeof(VgHll));
    g_free(m->hll_free);
    vg_models_zfree(m->samples, MAX(m->n_samples, 1) * sizeof(VgSampleRec));
    g_free(m->sample_free);
    vg_models_zfree(m->ep_names, m->cap_ep * sizeof(VgNameEndpoint));
    vg_models_zfree(m->ep_index, ((size_t)m->ep_mask + 1) * 8);
    if (m->pending)
        g_array_free(m->pending, TRUE);
    g_free(m->peers);
    g_free(m->board);
    g_free(m);
}

/* ---- the clock ------------------------------------------------------------------------------ */

static void sweep_ttl(VgModels *m, uint32_t now)
{
    for (int k = 0; k < VG_MK__COUNT; k++) {
        if (!m->conf.kind[k].enabled)
            continue;
        VgKindState *ks = &m->kind[k];
        VgModelTable *t = &ks->table;
        for (uint32_t i = 0; i < t->high; i++) {
            VgEntryHead *e = vg_table_entry(t, i);
            if (e->hash && e->slot_bucket == VG_NO_BUCKET && now - e->last_active >= m->ttl_b &&
                now > e->last_active) {
                vg_table_remove(t, i);
                t->expired++;
            }
        }
    }
}

static bool anything_open(const VgModels *m)
{
    for (int k = 0; k < VG_MK__COUNT; k++) {
        const VgModelTable *t = &m->kind[k].table;
        if (!m->conf.kind[k].enabled)
            continue;
        for (int i = 0; i < 4; i++)
            if (t->dirty[i].bucket != VG_NO_BUCKET && t->dirty[i].n)
                return true;
    }
    return m->pending->len > 0;
}

/* Closes every bucket that ends at or before wm. */
void vg_models_advance(VgModels *m, int64_t wm, VgDetectCtx *ctx)
{
    if (!m->started || wm == INT64_MIN)
        return;
    int64_t due = wm / m->conf.bucket_ms; /* buckets < due have ended */
    if (due <= (int64_t)m->next_due)
        return;
    if (due > (int64_t)UINT32_MAX - 4)
        due = UINT32_MAX - 4;
    while (m->next_due < (uint32_t)due) {
        if (!vg_models_sync_open(m, anything_open(m))) {
            m->next_due = (uint32_t)due;
            break;
        }
        vg_models_close_bucket(m, m->next_due, ctx);
        m->next_due++;
    }
    if (m->next_due - m->last_sweep >= m->ttl_b / 4 + 1) {
        sweep_ttl(m, m->next_due);
        m->last_sweep = m->next_due;
    }
}

static void models_on_watermark(VgDetector *d, VgDetectCtx *ctx)
{
    VgModels *m = from(d);
    if (!m->conf.enabled || !m->started)
        return;
    int64_t wm = m->max_time - m->conf.bucket_ms;
    if (ctx->watermark > wm)
        wm = ctx->watermark;
    vg_models_advance(m, wm, ctx);
}

static void models_finish(VgDetector *d, VgDetectCtx *ctx)
{
    VgModels *m = from(d);
    if (!m->conf.enabled || !m->started)
        return;
    /* close everything up to and including the bucket of the newest event */
    int64_t end = (m->max_time / m->conf.bucket_ms + 1) * m->conf.bucket_ms;
    if (ctx->watermark > end)
        end = ctx->watermark;
    vg_models_advance(m, end, ctx);
    vg_models_emit_pending(m, UINT32_MAX, ctx);
}

/* ---- public --------------------------------------------------------------------------------- */

int64_t vg_models_bucket_ms(VgDetector *d)
{
    const VgModels *m = from(d);
    return m->conf.enabled ? m->conf.bucket_ms : 0;
}

size_t vg_models_memory_budget(VgDetector *d)
{
    return (size_t)from(d)->conf.memory_budget;
}

bool vg_models_section_budget(const VgConfNode *section, int64_t *bytes, GError **err)
{
    VgModelsConf c;
    if (vg_models_conf_parse(&c, section, err) != VG_OK)
        return false;
    *bytes = c.memory_budget;
    return true;
}

const VgModelsStats *vg_models_stats(VgDetector *d)
{
    VgModels *m = from(d);
    if (!m->conf.enabled)
        return &m->stats;
    VgModelsStats *s = &m->stats;
    s->tracked = s->admitted = s->evicted = s->expired = s->rejected = 0;
    size_t bytes = sizeof *m + (size_t)m->n_hll * (sizeof(VgHll) + 4) +
                   (size_t)m->n_samples * (sizeof(VgSampleRec) + 4) +
                   m->cap_ep * sizeof(VgNameEndpoint) + ((size_t)m->ep_mask + 1) * 8 +
                   m->pending->len * sizeof(VgPendingAlert);
    for (int k = 0; k < VG_MK__COUNT; k++) {
        const VgModelTable *t = &m->kind[k].table;
        if (!m->conf.kind[k].enabled)
            continue;
        s->tracked += t->n_live;
        s->admitted += t->admitted;
        s->evicted += t->evicted;
        s->expired += t->expired;
        s->rejected += t->rejected;
        bytes += vg_table_bytes(t);
    }
    s->memory_bytes = bytes;
    return s;
}

void vg_models_set_shard(VgDetector *d, int i, int n)
{
    VgModels *m = from(d);
    m->shard = i;
    m->n_shards = n > 0 ? n : 1;
}

/* ---- shards sharing their population ---------------------------------------------------- *
 *
 * Every shard sees every event, so all of them run the same clock and close the same
 * buckets at the same event; what differs is which keys each holds. Twice per bucket close
 * they meet at the barrier: to agree whether any of them has something open (a shard with
 * nothing open would otherwise skip ahead alone), and to sum the population histograms
 * before folding them. Each publishes on its board of the round's parity, the barrier
 * orders that before anyone reads, and a board is written again only two rounds later,
 * after a barrier every reader of the previous round has passed. */

struct VgShardBoard {
    bool open;
    VgPopHist hist[VG_MK__COUNT][VG_MM__COUNT];
};

void vg_models_join(VgDetector *d, VgDetector *const *shards, int n, int i,
                    void (*barrier)(void *user), void *user)
{
    VgModels *m = from(d);
    vg_models_set_shard(d, i, n);
    if (n <= 1 || !m->conf.enabled)
        return;
    m->peers = g_new0(VgModels *, n);
    for (int k = 0; k < n; k++)
        m->peers[k] = from(shards[k]);
    m->barrier = barrier;
    m->barrier_user = user;
    m->board = g_new0(struct VgShardBoard, 2);
}

bool vg_models_sync_open(VgModels *m, bool open)
{
    if (!m->peers)
        return open;
    int slot = (int)(++m->round & 1);
    m->board[slot].open = open;
    m->barrier(m->barrier_user);
    for (int k = 0; k < m->n_shards; k++)
        open = open || m->peers[k]->board[slot].open;
    return open;
}

void vg_models_sync_pop(VgModels *m, uint32_t b)
{
    if (!m->peers)
        return;
    int slot = (int)(++m->round & 1);
    struct VgShardBoard *mine = &m->board[slot];
    for (int k = 0; k < VG_MK__COUNT; k++)
        for (int mi = 0; mi < VG_MM__COUNT; mi++) {
            const VgPopHist *h = &m->kind[k].hist[b & 3][mi];
            if (h->bucket == b)
                mine->hist[k][mi] = *h;
            else
                memset(&mine->hist[k][mi], 0, sizeof mine->hist[k][mi]);
        }
    m->barrier(m->barrier_user);
    for (int k = 0; k < VG_MK__COUNT; k++) {
        if (!m->conf.kind[k].enabled)
            continue;
        for (int mi = 0; mi < VG_MM__COUNT; mi++) {
            VgPopHist *h = &m->kind[k].hist[b & 3][mi];
            memset(h, 0, sizeof *h);
            h->bucket = b;
            for (int s = 0; s < m->n_shards; s++) {
                const VgPopHist *o = &m->peers[s]->board[slot].hist[k][mi];
                for (int i = 0; i < VG_POP_BINS; i++)
                    h->n[i] += o->n[i];
                h->total += o->total;
            }
        }
    }
}

int vg_models_shard_of(const VgEvent *ev, const char *kind, int n)
{
    VgStr s;
    uint64_t seed;
    if (!strcmp(kind, "token") || !strcmp(kind, "token_endpoint")) {
        s = ev->token;
        seed = SEED_TOKEN;
    } else if (!strcmp(kind, "endpoint")) {
        s = ev->endpoint;
        seed = SEED_ENDPOINT;
    } else if (!strcmp(kind, "client_ip")) {
        s = ev->client_ip;
        seed = SEED_IP;
    } else {
        return -1;
    }
    if (!s.len)
        return -1;
    uint64_t h = vg_hash64(s.p, s.len, seed) | 1;
    return n > 1 ? vg_shard_of_hash(h, n) : 0;
}

static void models_prepare(VgDetector *d, const VgEvent *ev, VgArena *arena, void *prep)
{
    (void)arena;
    vg_models_event_keys(d, ev, prep);
}

static void models_on_prepared(VgDetector *d, const VgEvent *ev, const void *prep, VgDetectCtx *ctx)
{
    vg_models_on_event_keyed(d, ev, prep, ctx);
}

const VgDetectorOps vg_models_ops = {
    .name = "models",
    .summary = "statistical baselines per token, endpoint, token×endpoint and client IP",
    .create = models_create,
    .on_event = vg_models_on_event,
    .prep_size = sizeof(VgModelKeys),
    .prepare = models_prepare,
    .prefetch = vg_models_prefetch,
    .on_prepared = models_on_prepared,
    .on_watermark = models_on_watermark,
    .finish = models_finish,
    .destroy = models_destroy,
    .snapshot = vg_models_snapshot,
    .restore = vg_models_restore,
};

void vg_models_register(void)
{
    vg_register_detector(&vg_models_ops);
}

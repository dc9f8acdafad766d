/* cli-run-state.c — see cli-run-state.h.
 *
 * Per-partition mode keeps a spare fresh pipeline, built ahead of need: a partition
 * assigned in a rebalance takes it (and restores into it) at once, and a rule file broken
 * on disk since the last reload shows as a logged error when the next spare is built,
 * not as a partition that cannot be read.
 *
 * Memory: per partition, the models get models.memory_budget divided by the partitions of
 * the subscribed topics (vg_run_state_share_models), so a process holding every partition
 * stays within the budget, and a partition's state has the same table sizes on every
 * instance (a restore needs them equal) until the topics' partition count changes.
 *
 * Counters: a pipeline's stats count what it judged; a restored one starts from the
 * counters in its snapshot (the previous owner's), so each holds a base taken right after
 * the restore, and the totals add (stats - base) of the live pipelines to what the
 * dropped ones had added when they went.
 */
#include "engine/cli-run-state.h"

#include "engine/checkpoint.h"
#include "engine/log.h"
#include "rules/rules.h"

#include <stdio.h>

typedef struct {
    VgPipeline *p;
    VgPipelineStats base; /* counters p started with (a restore) */
    VgAlertStats abase;
    VgModelsStats mbase;
} Part;

struct VgRunState {
    const VgSettings *s; /* the settings as loaded */
    VgSettings *ps;      /* per-partition mode with a shared budget: s with each partition's
                          * models.memory_budget (owned by `owned`); else NULL */
    int share;           /* partitions the models budget is divided by (0: not divided) */
    GPtrArray *owned;    /* VgSettings * taken over by reconfigure */
    VgAlertOutput out;
    VgStateRedis *redis;   /* NULL: single mode */
    VgCheckpointer *ckptr; /* counts the saves; per-partition mode: its store is redis */
    char *group;
    GMutex lock;             /* parts' membership, spare and the retired sums (scrapes read them) */
    Part single;             /* single mode */
    GHashTable *parts;       /* per-partition mode: partition id -> Part * */
    VgPipeline *spare;       /* per-partition mode: fresh, for the next partition (may be NULL) */
    VgPipelineStats retired; /* counters of dropped pipelines, less their bases */
    VgAlertStats aretired;
    VgModelsStats mretired;
};

/* ---- counter arithmetic ------------------------------------------------------------------ */

static inline uint64_t ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* sum += (st - base) for the counters of a pipeline (relaxed loads: another thread may be
 * writing st); times and watermark merged as the whole process's. */
static void add_stats(VgPipelineStats *sum, const VgPipelineStats *st, const VgPipelineStats *base)
{
    sum->lines += ld(&st->lines) - base->lines;
    sum->events += ld(&st->events) - base->events;
    for (int r = 0; r < VG_BAD__COUNT; r++)
        sum->bad[r] += ld(&st->bad[r]) - base->bad[r];
    sum->bad_total += ld(&st->bad_total) - base->bad_total;
    sum->late += ld(&st->late) - base->late;
    sum->bytes += ld(&st->bytes) - base->bytes;
}

static void add_times(VgPipelineStats *sum, const VgPipelineStats *st)
{
    int64_t lo = __atomic_load_n(&st->min_time, __ATOMIC_RELAXED);
    int64_t hi = __atomic_load_n(&st->max_time, __ATOMIC_RELAXED);
    int64_t wm = __atomic_load_n(&st->watermark, __ATOMIC_RELAXED);
    if (lo < sum->min_time)
        sum->min_time = lo;
    if (hi > sum->max_time)
        sum->max_time = hi;
    /* the process is as far as its slowest partition */
    if (wm != INT64_MIN && (sum->watermark == INT64_MIN || wm < sum->watermark))
        sum->watermark = wm;
}

#define N_ALERT_STATS (sizeof(VgAlertStats) / sizeof(uint64_t))
G_STATIC_ASSERT(sizeof(VgAlertStats) % sizeof(uint64_t) == 0);

static void add_alert_stats(VgAlertStats *sum, const VgAlertStats *st, const VgAlertStats *base)
{
    uint64_t *s = (uint64_t *)sum;
    const uint64_t *a = (const uint64_t *)st, *b = (const uint64_t *)base;
    for (size_t i = 0; i < N_ALERT_STATS; i++)
        s[i] += ld(&a[i]) - b[i];
}

/* Models: counters as above; tracked keys, sketches in use and memory are gauges of the
 * tables held now, so they are never taken from a dropped pipeline. */
static void add_model_stats(VgModelsStats *sum, const VgModelsStats *st, const VgModelsStats *base,
                            bool live)
{
    sum->events += st->events - base->events;
    sum->late += st->late - base->late;
    sum->admitted += st->admitted - base->admitted;
    sum->evicted += st->evicted - base->evicted;
    sum->expired += st->expired - base->expired;
    sum->rejected += st->rejected - base->rejected;
    sum->buckets_closed += st->buckets_closed - base->buckets_closed;
    sum->tests += st->tests - base->tests;
    sum->alerts += st->alerts - base->alerts;
    sum->hll_exhausted += st->hll_exhausted - base->hll_exhausted;
    sum->samples_exhausted += st->samples_exhausted - base->samples_exhausted;
    sum->names_full += st->names_full - base->names_full;
    if (live) {
        sum->tracked += st->tracked;
        sum->hll_in_use += st->hll_in_use;
        sum->memory_bytes += st->memory_bytes;
    }
}

static const VgModelsStats *models_of(VgPipeline *p)
{
    VgDetector *d = vg_pipeline_detector(p, "models");
    return d ? vg_models_stats(d) : NULL;
}

/* The part's bases: p's counters now (after a restore; zero for a fresh pipeline). */
static void take_base(Part *pt)
{
    pt->base = *vg_pipeline_stats(pt->p);
    pt->abase = *vg_alert_stage_stats(vg_pipeline_alerts(pt->p));
    const VgModelsStats *m = models_of(pt->p);
    if (m)
        pt->mbase = *m;
}

/* ---- building ----------------------------------------------------------------------------- */

static VgPipeline *build(VgRunState *st, GError **err)
{
    return vg_pipeline_new(st->ps ? st->ps : st->s, st->out, NULL, NULL, err);
}

/* The smallest models budget a partition gets, however many partitions there are. */
#define MIN_PARTITION_BUDGET ((int64_t)1 << 20)

/* s with models.memory_budget divided by n (the per-partition settings), or NULL and err. */
static VgSettings *share_settings(const VgSettings *s, int n, int64_t *each, GError **err)
{
    int64_t budget;
    if (!vg_models_section_budget(s->models, &budget, err))
        return NULL;
    *each = MAX(budget / n, MIN_PARTITION_BUDGET);
    char v[32];
    g_snprintf(v, sizeof v, "%" G_GINT64_FORMAT, *each);
    return vg_settings_derive(s, "models", "memory_budget", v,
                              "models.memory_budget divided by the topics' partitions", err);
}

/* Takes the spare out (NULL if there is none). */
static VgPipeline *take_spare(VgRunState *st)
{
    g_mutex_lock(&st->lock);
    VgPipeline *p = st->spare;
    st->spare = NULL;
    g_mutex_unlock(&st->lock);
    return p;
}

/* Builds the next spare (the old one, if any, is freed); logged when it cannot be built. */
static void renew_spare(VgRunState *st)
{
    vg_pipeline_free(take_spare(st));
    GError *err = NULL;
    VgPipeline *next = build(st, &err);
    if (!next) {
        vg_log_error("cannot build the next partition's pipeline (rules or config broken "
                     "on disk?): the next partition assigned will try again",
                     "error", err->message);
        g_error_free(err);
    }
    g_mutex_lock(&st->lock);
    st->spare = next;
    g_mutex_unlock(&st->lock);
}

/* Per-partition mode: a fresh pipeline, the spare if there is one; then a new spare. */
static VgPipeline *take_fresh(VgRunState *st)
{
    GError *err = NULL;
    VgPipeline *p = take_spare(st);
    if (!p && !(p = build(st, &err))) {
        vg_log_error("cannot build a pipeline for a partition", "error", err->message);
        g_error_free(err);
        return NULL;
    }
    renew_spare(st);
    return p;
}

/* The checkpointer's store in per-partition mode: the checkpoint's one offset names the key. */
static int redis_store(void *user, const VgCheckpoint *c, const void *data, size_t len,
                       GError **err)
{
    VgRunState *st = user;
    const VgCheckpointOffset *o = &g_array_index(c->offsets, VgCheckpointOffset, 0);
    char *key = vg_state_redis_key(st->redis, st->group, o->topic, o->partition);
    int rc = vg_state_redis_put(st->redis, key, data, len, err);
    g_free(key);
    return rc;
}

VgRunState *vg_run_state_new(const VgSettings *s, VgAlertOutput out, bool per_partition,
                             VgStateRedis *redis, VgCheckpointer *ckptr, const char *group,
                             GError **err)
{
    g_return_val_if_fail(!redis || (ckptr && per_partition), NULL);
    VgRunState *st = g_new0(VgRunState, 1);
    st->s = s;
    st->ckptr = ckptr;
    st->owned = g_ptr_array_new_with_free_func((GDestroyNotify)vg_settings_free);
    st->out = out;
    st->redis = redis;
    st->group = g_strdup(group);
    g_mutex_init(&st->lock);
    st->retired.min_time = INT64_MAX;
    st->retired.max_time = INT64_MIN;
    st->retired.watermark = INT64_MIN;
    VgPipeline *p = build(st, err);
    if (!p) {
        vg_run_state_free(st);
        return NULL;
    }
    if (per_partition) {
        st->parts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
        st->spare = p;
        if (redis)
            vg_checkpointer_set_store(ckptr, redis_store, st);
    } else {
        st->single.p = p;
    }
    return st;
}

void vg_run_state_free(VgRunState *st)
{
    if (!st)
        return;
    if (st->parts) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, st->parts);
        while (g_hash_table_iter_next(&it, NULL, &v))
            vg_pipeline_free(((Part *)v)->p);
        g_hash_table_destroy(st->parts);
    }
    vg_pipeline_free(st->single.p);
    vg_pipeline_free(st->spare);
    vg_state_redis_free(st->redis);
    g_ptr_array_free(st->owned, TRUE);
    g_free(st->group);
    g_mutex_clear(&st->lock);
    g_free(st);
}

bool vg_run_state_per_partition(const VgRunState *st)
{
    return st->parts != NULL;
}

VgPipeline *vg_run_state_find(VgRunState *st, int32_t partition)
{
    if (!st->parts)
        return st->single.p;
    Part *pt = g_hash_table_lookup(st->parts, GINT_TO_POINTER(partition));
    return pt ? pt->p : NULL;
}

/* Installs p (fresh or restored) as partition's pipeline; the caller dropped any other. */
static void install(VgRunState *st, int32_t partition, VgPipeline *p)
{
    Part *pt = g_new0(Part, 1);
    pt->p = p;
    take_base(pt);
    g_mutex_lock(&st->lock);
    g_hash_table_insert(st->parts, GINT_TO_POINTER(partition), pt);
    g_mutex_unlock(&st->lock);
}

VgPipeline *vg_run_state_pipeline(VgRunState *st, int32_t partition)
{
    VgPipeline *p = vg_run_state_find(st, partition);
    if (p || !st->parts)
        return p;
    if (!(p = take_fresh(st)))
        return NULL;
    install(st, partition, p);
    return p;
}

int vg_run_state_reset(VgRunState *st, GError **err)
{
    g_return_val_if_fail(!st->parts, VG_EINVAL);
    VgPipeline *p = build(st, err);
    if (!p)
        return VG_ECONFIG;
    g_mutex_lock(&st->lock);
    VgPipeline *old = st->single.p;
    st->single.p = p;
    g_mutex_unlock(&st->lock);
    vg_pipeline_free(old);
    return VG_OK;
}

/* The parts held now (not the spare), into a new array. */
static GPtrArray *held(VgRunState *st)
{
    GPtrArray *a = g_ptr_array_new();
    if (!st->parts) {
        g_ptr_array_add(a, &st->single);
        return a;
    }
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, st->parts);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_add(a, v);
    return a;
}

/* The pipelines held now (not the spare), into a new array. */
static GPtrArray *live(VgRunState *st)
{
    GPtrArray *a = held(st);
    for (guint i = 0; i < a->len; i++)
        a->pdata[i] = ((Part *)a->pdata[i])->p;
    return a;
}

int vg_run_state_flush(VgRunState *st)
{
    GPtrArray *a = live(st);
    int rc = VG_OK;
    for (guint i = 0; i < a->len; i++)
        if (vg_pipeline_flush(a->pdata[i]) == VG_EFULL)
            rc = VG_EFULL;
    g_ptr_array_free(a, TRUE);
    return rc;
}

void vg_run_state_finish(VgRunState *st)
{
    GPtrArray *a = live(st);
    for (guint i = 0; i < a->len; i++)
        vg_pipeline_finish(a->pdata[i]);
    g_ptr_array_free(a, TRUE);
}

/* Reloads p's rules from ns (or its own paths) and sets its alert options. */
static int reconfigure_one(VgPipeline *p, const VgSettings *ns, GError **err)
{
    VgDetector *rules = vg_pipeline_detector(p, "rules");
    int rc = VG_OK;
    if (rules)
        rc = ns ? vg_rules_reconfigure(rules, ns->rules, err) : vg_rules_reload(rules, NULL, err);
    if (rc == VG_OK && ns)
        vg_alert_stage_reconfigure(vg_pipeline_alerts(p), ns->alerts.cooldown_ms,
                                   (int)ns->alerts.max_samples);
    return rc;
}

int vg_run_state_reconfigure(VgRunState *st, VgSettings *ns, GError **err)
{
    VgSettings *nps = NULL;
    int64_t each;
    if (ns && st->share && !(nps = share_settings(ns, st->share, &each, err)))
        return VG_ECONFIG;
    GPtrArray *a = live(st);
    if (st->spare)
        g_ptr_array_add(a, st->spare);
    int rc = VG_OK;
    for (guint i = 0; i < a->len && rc == VG_OK; i++) {
        GError *e = NULL;
        rc = reconfigure_one(a->pdata[i], ns, &e);
        if (rc != VG_OK && i > 0) {
            /* the files changed between two reloads of the same set: the pipelines before
             * run the new rules, this one and the rest keep theirs */
            vg_log_error("rules reloaded in some partitions only", "error", e->message);
        }
        if (e)
            g_propagate_error(err, e);
    }
    g_ptr_array_free(a, TRUE);
    if (rc == VG_OK && ns) {
        g_ptr_array_add(st->owned, ns);
        st->s = ns;
        if (nps) {
            g_ptr_array_add(st->owned, nps);
            st->ps = nps;
            nps = NULL;
        }
        if (st->parts)
            renew_spare(st); /* built from ns as a whole, models included */
    }
    vg_settings_free(nps);
    return rc;
}

int vg_run_state_share_models(VgRunState *st, int partitions, int64_t *each, GError **err)
{
    g_return_val_if_fail(st->parts && partitions > 0, VG_EINVAL);
    VgSettings *ps = share_settings(st->s, partitions, each, err);
    if (!ps)
        return VG_ECONFIG;
    g_ptr_array_add(st->owned, ps);
    st->ps = ps;
    st->share = partitions;
    renew_spare(st); /* it was built with the old budget */
    return VG_OK;
}

int vg_run_state_share(const VgRunState *st)
{
    return st->share;
}

/* ---- per-partition state in Redis --------------------------------------------------------- */

int vg_run_state_save(VgRunState *st, int32_t partition, const char *topic, int32_t kafka_partition,
                      int64_t next, GError **err)
{
    VgPipeline *p = st->parts && st->redis ? vg_run_state_find(st, partition) : NULL;
    if (!p)
        return VG_ENOENT;
    VgCheckpoint *c = vg_checkpoint_new(st->group);
    c->created_ms = g_get_real_time() / 1000;
    vg_checkpoint_add_offset(c, topic, kafka_partition, next);
    vg_pipeline_snapshot(p, c->state);
    int rc = vg_checkpointer_save(st->ckptr, c, err);
    vg_checkpoint_free(c);
    return rc;
}

int vg_run_state_load(VgRunState *st, int32_t partition, const char *topic, int32_t kafka_partition,
                      int64_t *next, GError **err)
{
    g_return_val_if_fail(st->parts && st->redis, VG_EINVAL);
    vg_run_state_drop(st, partition);
    char *key = vg_state_redis_key(st->redis, st->group, topic, kafka_partition);
    GByteArray *b = g_byte_array_new();
    VgCheckpoint *c = NULL;
    VgPipeline *p = NULL;
    GError *e = NULL;
    int rc = vg_state_redis_get(st->redis, key, b, &e);
    if (rc != VG_OK)
        goto out;
    rc = VG_EINVAL;
    if (!(c = vg_checkpoint_decode(b->data, b->len, &e)))
        goto out;
    int64_t at = vg_checkpoint_offset(c, topic, kafka_partition);
    if (at < 0) {
        g_set_error(&e, VG_ERROR, VG_EINVAL, "the state stored there is another partition's");
        goto out;
    }
    if (!(p = take_fresh(st))) {
        g_set_error(&e, VG_ERROR, VG_EIO, "no pipeline to restore into");
        rc = VG_EIO;
        goto out;
    }
    if (vg_pipeline_restore(p, c->state->data, c->state->len, &e) != VG_OK) {
        vg_pipeline_free(p); /* it may hold half a state */
        goto out;
    }
    install(st, partition, p);
    *next = at;
    rc = VG_OK;
out:
    if (e) {
        g_set_error(err, VG_ERROR, rc, "%s: %s", key, e->message);
        g_error_free(e);
    }
    if (rc == VG_EINVAL)
        vg_checkpointer_restore_failed(st->ckptr);
    vg_checkpoint_free(c);
    g_byte_array_free(b, TRUE);
    g_free(key);
    return rc;
}

void vg_run_state_drop(VgRunState *st, int32_t partition)
{
    if (!st->parts)
        return;
    Part *pt = g_hash_table_lookup(st->parts, GINT_TO_POINTER(partition));
    if (!pt)
        return;
    g_mutex_lock(&st->lock);
    add_stats(&st->retired, vg_pipeline_stats(pt->p), &pt->base);
    add_times(&st->retired, vg_pipeline_stats(pt->p));
    add_alert_stats(&st->aretired, vg_alert_stage_stats(vg_pipeline_alerts(pt->p)), &pt->abase);
    const VgModelsStats *m = models_of(pt->p);
    if (m)
        add_model_stats(&st->mretired, m, &pt->mbase, false);
    g_hash_table_steal(st->parts, GINT_TO_POINTER(partition));
    g_mutex_unlock(&st->lock);
    vg_pipeline_free(pt->p);
    g_free(pt);
}

guint vg_run_state_count(const VgRunState *st)
{
    return st->parts ? g_hash_table_size(st->parts) : 1;
}

/* ---- figures ------------------------------------------------------------------------------ */

void vg_run_state_totals(VgRunState *st, VgPipelineStats *ps, VgAlertStats *as)
{
    g_mutex_lock(&st->lock);
    *ps = st->retired;
    *as = st->aretired;
    GPtrArray *a = held(st);
    for (guint i = 0; i < a->len; i++) {
        const Part *pt = a->pdata[i];
        add_stats(ps, vg_pipeline_stats(pt->p), &pt->base);
        add_times(ps, vg_pipeline_stats(pt->p));
        add_alert_stats(as, vg_alert_stage_stats(vg_pipeline_alerts(pt->p)), &pt->abase);
    }
    g_ptr_array_free(a, TRUE);
    g_mutex_unlock(&st->lock);
}

bool vg_run_state_models(VgRunState *st, VgModelsStats *out, size_t *budget)
{
    *out = st->mretired;
    *budget = 0;
    bool any = false;
    GPtrArray *a = held(st);
    for (guint i = 0; i < a->len; i++) {
        Part *pt = a->pdata[i];
        VgDetector *m = vg_pipeline_detector(pt->p, "models");
        if (!m)
            continue;
        any = true;
        add_model_stats(out, vg_models_stats(m), &pt->mbase, true);
        *budget += vg_models_memory_budget(m);
    }
    g_ptr_array_free(a, TRUE);
    VgDetector *d = st->spare ? vg_pipeline_detector(st->spare, "models") : NULL;
    if (!any && d) {
        *budget = vg_models_memory_budget(d); /* no partition yet */
        any = true;
    }
    return any;
}

bool vg_run_state_rules_info(VgRunState *st, uint64_t *generation, int *n_rules, int *n_corr)
{
    g_mutex_lock(&st->lock);
    VgPipeline *p = st->parts ? st->spare : st->single.p;
    if (st->parts) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, st->parts);
        if (g_hash_table_iter_next(&it, NULL, &v))
            p = ((Part *)v)->p;
    }
    VgDetector *d = p ? vg_pipeline_detector(p, "rules") : NULL;
    if (d)
        vg_rules_info(d, generation, n_rules, n_corr);
    g_mutex_unlock(&st->lock);
    return d != NULL;
}

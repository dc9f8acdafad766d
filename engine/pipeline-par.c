/* pipeline-par.c — the pipeline on N workers (engine.workers > 1).
 *
 * Work split. Batches of lines go through a bounded ring of slots (ring.h). There is no
 * reading thread: a worker that needs the next batch and finds it not read yet reads it
 * (produce(), one worker at a time) and decodes it at once, while its lines are in that
 * core's cache. A thread that only read was a third thread on two cores (7 % of the
 * samples of a two-worker replay, and its wake-ups), and wrote lines on one core for
 * another to decode: without it, two workers were 3.3 and 4.4 % faster (medians of two
 * sets of ten alternating runs), with 40 voluntary context switches per million events
 * instead of 400.
 *
 * Any other batch is decoded by the worker that takes it first (worker_main(): the split
 * follows the load) into the slot's event array, with the slot's arena (no allocation
 * per event once warm), and the Sigma detection rules are evaluated on it there too: both
 * are stateless, and they are most of the cost. The models' keys are hashed there as well
 * (vg_models_event_keys), while the event's text is in that core's cache: every shard
 * needs the hashes of every event to tell its keys from the others', and hashing them on
 * each shard made it read the text of every event from another core's cache (a tenth of a
 * two-worker replay's profile). Then every worker walks every batch in input order,
 * waiting for its "decoded" flag, and runs the same clock (the watermark is a pure
 * function of the event order), so every worker has the same watermark at every event.
 * What is stateful is split so that each piece of state lives in exactly one worker:
 *   - rules (correlations and Sigma alerts, from the matches found at decode time) and the
 *     other detectors: worker 0 — their per-event work after matching is small;
 *   - line counters and dead letters: worker 0;
 *   - models: workers 1 to N - 1 are shards 0 to N - 2 (vg_models_join): each keeps the
 *     keys whose hash falls in its shard and raises their alerts; with two shards or more
 *     they meet at a barrier twice per bucket close to sum the population histograms, the
 *     one cross-key state, so new keys are judged against the whole population as on one
 *     thread. Worker 0 holds no shard: with one, both workers walked every event for the
 *     models (the shard test, the prefetch calls, the keys read from the other core), and
 *     with two workers a single shard on worker 1 is 1.10 and 1.13 times as fast on
 *     canonical JSON, 1.20 on nginx combined (8 and 6 alternating rounds, 2026-11-25),
 *     with a peak RSS of 58 MiB against 66. The decoding, which follows the load, evens
 *     out the walks: worker 0's ordered work and the models take about as long.
 * Each worker has its own alert stage; an alert's (rule, entity) is always raised by the
 * same worker (a model key's shard, or worker 0), so dedup and cooldown per incident see
 * exactly the alerts they would on one thread, and event ids are the same. Alerts go to
 * the one output under a lock; the worker that releases a slot last flushes the output,
 * so a flush follows every batch that every worker has judged. finish() reaches every
 * worker on its own thread (the models' closes need all shards at the barrier).
 *
 * No lock is taken per event: the ring's lock once per batch and worker, the output's per
 * alert, the models' barrier per bucket of event time.
 *
 * Limits: the models' bounded pools are per shard, so with three workers or more (two
 * shards or more) the result is identical while they are not under pressure: a table over
 * its budget evicts according to the split, and a sample pool (models.sample_pool) more
 * than half in use stops keeping new keys' request ids at a different moment (then an
 * alert's vigil.samples may differ; the alerts, ids and figures do not). Memory is the
 * budget per shard. Rule reloads are not taken (replay does not reload).
 */
#include "engine/pipeline-par.h"

#include "engine/cpu.h"
#include "engine/log.h"
#include "engine/pipeline-int.h"
#include "engine/ring.h"
#include "models/models.h"
#include "rules/rules.h"

#include <pthread.h>

/* Slots start on cache lines of their own (the array is 64-byte aligned): one worker
 * fills a slot's batch line by line (b.n, b.len) while the other walks the slot before it,
 * and in one line the two went back and forth between the cores on every event (two
 * workers 1.044 times as fast, 8 alternating rounds). */
typedef struct {
    _Alignas(64) VgLineBatch b;
    VgEvent *ev;
    uint8_t *bad;
    VgRulesMatched *m; /* the rules' matches of each event */
    VgModelKeys *keys; /* the models' keys of each event, hashed by the decoding worker */
    uint32_t cap;      /* lines the arrays hold */
    VgArena arena;
} Slot;

typedef struct VgParPipeline VgParPipeline;

typedef struct {
    VgParPipeline *pp;
    int idx;
    VgPipeline *p;
    VgRuleScratch *scratch; /* for the rules of worker 0 */
    VgDetector *models;     /* this worker's shard of the models, or NULL */
    GPtrArray *run;         /* detectors this worker judges events with */
    GThread *thread;
} Worker;

struct VgParPipeline {
    int n;
    Worker *w;
    VgParFill fill; /* the input, read by the workers themselves */
    void *fill_user;
    VgRing *ring;
    Slot *slots;
    VgDetector *rules; /* worker 0's rules detector, or NULL */
    /* a models shard, whose config (kinds, metrics, shard count) the decoding workers hash
     * the keys with; NULL without models */
    VgDetector *keys_models;
    VgAlertOutput out;
    pthread_mutex_t out_lock;
    pthread_barrier_t barrier;
    bool barrier_init;
    VgAlertStats astats;
};

/* ---- the one output, under a lock ---- */

static int locked_push(void *user, const VgAlertRecord *rec)
{
    VgParPipeline *pp = user;
    pthread_mutex_lock(&pp->out_lock);
    int rc = pp->out.push ? pp->out.push(pp->out.user, rec) : VG_OK;
    pthread_mutex_unlock(&pp->out_lock);
    return rc;
}

static int locked_flush(void *user)
{
    VgParPipeline *pp = user;
    pthread_mutex_lock(&pp->out_lock);
    int rc = pp->out.flush ? pp->out.flush(pp->out.user) : VG_OK;
    pthread_mutex_unlock(&pp->out_lock);
    return rc;
}

static void models_barrier(void *user)
{
    VgParPipeline *pp = user;
    pthread_barrier_wait(&pp->barrier);
}

/* ---- workers ---- */

static void slot_fit(Slot *s, uint32_t n)
{
    if (n <= s->cap)
        return;
    s->ev = g_renew(VgEvent, s->ev, n);
    s->bad = g_renew(uint8_t, s->bad, n);
    s->m = g_renew(VgRulesMatched, s->m, n);
    s->keys = g_renew(VgModelKeys, s->keys, n);
    s->cap = n;
}

static void decode_slot(Worker *w, Slot *s)
{
    VgParPipeline *pp = w->pp;
    vg_arena_reset(&s->arena);
    slot_fit(s, s->b.n);
    bool own = vg_cpu_prefetchw();
    for (uint32_t i = 0; i < s->b.n; i++) {
        if (own && i + 4 < s->b.n) { /* what the other workers read the last time */
            for (size_t off = 0; off < sizeof s->ev[0]; off += 64)
                vg_prefetch_write((const char *)&s->ev[i + 4] + off);
            vg_prefetch_write(&s->keys[i + 4]);
            vg_prefetch_write(&s->m[i + 4]);
            vg_arena_prefetch_write(&s->arena, 512, 128);
        }
        VgBadReason r = vg_pipeline_decode_line(w->p, &s->b, &s->b.lines[i], &s->ev[i], &s->arena);
        s->bad[i] = (uint8_t)r;
        s->m[i] = (VgRulesMatched){0};
        if (r != VG_BAD_NONE)
            continue;
        if (pp->rules)
            vg_rules_match(pp->rules, w->scratch, &s->ev[i], &s->arena, &s->m[i]);
        if (pp->keys_models)
            vg_models_event_keys(pp->keys_models, &s->ev[i], &s->keys[i]);
    }
}

static void rules_prefetch(VgDetector *d, const void *matched, int stage)
{
    vg_rules_prefetch(d, matched, stage);
}

/* Event i of a slot another worker decoded is in that core's cache: ask for what the walk
 * will read of it a few events ahead, so the transfers overlap. Worker 0, whose rules read
 * the fields' text, needs the event, the line and the matches; a models shard the keys and
 * the part of the event the models read. Fetching more would cost twice: each line fetched
 * is a line the decoding core must take back when it reuses the slot. */
static inline void prefetch_event(const Slot *s, uint32_t i, bool primary, bool models)
{
    if (models)
        vg_prefetch_range(&s->keys[i], sizeof s->keys[i]);
    if (!primary) {
        vg_prefetch_range(&s->ev[i], VG_EVENT_MODEL_BYTES);
        return;
    }
    vg_prefetch_range(&s->ev[i], sizeof s->ev[i]);
    if (!s->bad[i]) {
        vg_prefetch_range(vg_line_bytes(&s->b, &s->b.lines[i]), s->b.lines[i].len);
        vg_prefetch_range(&s->m[i], sizeof s->m[i]);
    }
}

/* Worker 0's matches were made on another core too, and what the correlation prefetch
 * (vg_prefetch_ahead, two and one events ahead) reads is two pointers away from the slot:
 * the arrays four events ahead, what they point to three ahead. */
static inline void prefetch_matches(VgDetector *rules, const Slot *s, uint32_t i)
{
    if (i + 4 < s->b.n && !s->bad[i + 4])
        vg_rules_prefetch(rules, &s->m[i + 4], VG_RULES_PREFETCH_MATCHES);
    if (i + 3 < s->b.n && !s->bad[i + 3])
        vg_rules_prefetch(rules, &s->m[i + 3], VG_RULES_PREFETCH_KEYS);
}

static void walk_slot(Worker *w, Slot *s)
{
    VgParPipeline *pp = w->pp;
    bool primary = w->idx == 0;
    void *clk = vg_pipeline_batch_begin(w->p, &s->b);
    for (uint32_t i = 0; i < s->b.n; i++) {
        if (i + 5 < s->b.n)
            prefetch_event(s, i + 5, primary, w->models != NULL);
        if (w->models)
            vg_detector_prefetch_ahead(w->models, s->keys, sizeof *s->keys, s->bad, i, s->b.n);
        if (primary && pp->rules) { /* the correlation groups, as the models' entries */
            prefetch_matches(pp->rules, s, i);
            vg_prefetch_ahead(rules_prefetch, pp->rules, s->m, sizeof *s->m, s->bad, i, s->b.n);
        }
        const VgEvent *ev = &s->ev[i];
        VgDetectCtx *ctx = vg_pipeline_clock(w->p, clk, &s->b, &s->b.lines[i], ev,
                                             (VgBadReason)s->bad[i], primary);
        if (!ctx)
            continue;
        for (guint d = 0; d < w->run->len; d++) {
            VgDetector *det = w->run->pdata[d];
            if (det == pp->rules)
                vg_rules_apply(det, ev, &s->m[i], ctx);
            else if (det == w->models)
                vg_models_on_event_keyed(det, ev, &s->keys[i], ctx);
            else
                det->ops->on_event(det, ev, ctx);
        }
    }
    vg_pipeline_batch_end(w->p);
}

static void decode_taken(Worker *w, int64_t seq)
{
    VgParPipeline *pp = w->pp;
    decode_slot(w, &pp->slots[seq % vg_ring_slots(pp->ring)]);
    vg_ring_set_ready(pp->ring, seq);
}

/* Reads the next batch of the input into the next slot and decodes it here, where its
 * lines were just written; at the end of the input, closes the ring.
 * False when the next slot could not be claimed (full, or another worker is reading). */
static bool produce(Worker *w)
{
    VgParPipeline *pp = w->pp;
    int64_t seq = vg_ring_try_claim(pp->ring);
    if (seq < 0)
        return false;
    VgLineBatch *b = &pp->slots[seq % vg_ring_slots(pp->ring)].b;
    vg_line_batch_clear(b);
    if (pp->fill(pp->fill_user, b) != VG_OK || !b->n) {
        vg_ring_close(pp->ring);
        return true;
    }
    vg_ring_publish(pp->ring, seq);
    if (vg_ring_take(pp->ring, seq))
        decode_taken(w, seq);
    return true;
}

/* Waits until seq is published, reading it when nobody else is: false at the end of the
 * input. */
static bool obtain(Worker *w, int64_t seq)
{
    VgParPipeline *pp = w->pp;
    for (;;) {
        VgRingWork st = vg_ring_wait_work(pp->ring, seq);
        if (st != VG_RING_CLAIMABLE)
            return st == VG_RING_FILLED;
        produce(w);
    }
}

static gpointer worker_main(gpointer data)
{
    Worker *w = data;
    VgParPipeline *pp = w->pp;
    int64_t n_slots = vg_ring_slots(pp->ring);
    for (int64_t seq = 0;; seq++) {
        if (!obtain(w, seq))
            break;
        /* Who decodes a batch: whoever needs it first and finds it untaken; a worker
         * that would wait for another to finish decoding the batch it needs decodes the
         * next untaken one meanwhile, or reads and decodes a new one. So the split follows
         * the load: a fixed share (worker 0, whose walk has the ordered work, one batch in
         * 2N - 1) left one worker busy and the other waiting, whichever way the share was
         * set. */
        for (;;) {
            if (vg_ring_take(pp->ring, seq)) {
                decode_taken(w, seq);
                break;
            }
            if (vg_ring_ready(pp->ring, seq))
                break;
            int64_t j = vg_ring_take_first(pp->ring, seq + 1, seq + n_slots);
            if (j >= 0)
                decode_taken(w, j);
            else if (!produce(w))
                break;
        }
        if (!vg_ring_wait_ready(pp->ring, seq))
            break;
        walk_slot(w, &pp->slots[seq % n_slots]);
        if (vg_ring_release(pp->ring, seq)) {
            /* every worker judged it: deliver (back-pressure: the sinks' retries wait) */
            while (locked_flush(pp) == VG_EFULL)
                ;
        }
    }
    vg_pipeline_finish(w->p);
    return NULL;
}

/* ---- public ---- */

VgParPipeline *vg_par_pipeline_new(const VgSettings *s, VgAlertOutput out, int n_workers,
                                   GError **err)
{
    VgParPipeline *pp = g_new0(VgParPipeline, 1);
    pp->n = n_workers > 1 ? n_workers : 1;
    pp->out = out;
    pthread_mutex_init(&pp->out_lock, NULL);
    VgAlertOutput locked = {.user = pp, .push = locked_push, .flush = locked_flush};
    pp->w = g_new0(Worker, pp->n);
    for (int i = 0; i < pp->n; i++) {
        Worker *w = &pp->w[i];
        w->pp = pp;
        w->idx = i;
        w->run = g_ptr_array_new();
        /* the same config again: what it has to say was said for worker 0 */
        if (i == 1)
            vg_log_set_level(VG_LOG_ERROR);
        w->p = vg_pipeline_new(s, locked, NULL, NULL, err);
        if (!w->p)
            break;
    }
    int level = vg_log_level_from_name(s->log.level);
    vg_log_set_level(level >= 0 ? (VgLogLevel)level : VG_LOG_INFO);
    if (!pp->w[pp->n - 1].p)
        goto fail;
    pp->rules = vg_pipeline_detector(pp->w[0].p, "rules");
    VgDetector **models = g_new0(VgDetector *, pp->n);
    bool have_models = true;
    for (int i = 0; i < pp->n; i++)
        if (!(models[i] = vg_pipeline_detector(pp->w[i].p, "models")))
            have_models = false;
    /* the models' shards: workers 1 to N - 1 (worker 0 alone when N is 1) */
    int first = pp->n > 1 ? 1 : 0, n_shards = pp->n - first;
    pthread_barrier_init(&pp->barrier, NULL, (unsigned)n_shards);
    pp->barrier_init = true;
    for (int i = 0; i < pp->n; i++) {
        Worker *w = &pp->w[i];
        if (pp->rules)
            w->scratch = vg_rules_scratch(pp->rules);
        GPtrArray *dets = vg_pipeline_detectors(w->p);
        for (guint d = 0; d < dets->len; d++) {
            VgDetector *det = dets->pdata[d];
            bool is_models = have_models && det == models[i];
            if (is_models ? i >= first : i == 0)
                g_ptr_array_add(w->run, det);
        }
        if (have_models && i >= first) {
            w->models = models[i];
            vg_models_join(models[i], models + first, n_shards, i - first, models_barrier, pp);
        }
    }
    if (have_models)
        pp->keys_models = models[first];
    g_free(models);

    uint32_t n_slots = (uint32_t)(4 * pp->n);
    pp->ring = vg_ring_new(n_slots, pp->n);
    pp->slots = g_aligned_alloc0(n_slots, sizeof(Slot), 64);
    for (uint32_t i = 0; i < n_slots; i++) {
        vg_line_batch_init(&pp->slots[i].b, (uint32_t)s->engine.batch_lines, 1 << 20);
        vg_arena_init(&pp->slots[i].arena, 256 * 1024);
        slot_fit(&pp->slots[i], (uint32_t)s->engine.batch_lines);
    }
    return pp;
fail:
    vg_par_pipeline_free(pp);
    return NULL;
}

static void join_workers(VgParPipeline *pp)
{
    for (int i = 0; i < pp->n; i++) {
        if (pp->w[i].thread)
            g_thread_join(pp->w[i].thread);
        pp->w[i].thread = NULL;
    }
    memset(&pp->astats, 0, sizeof pp->astats);
    for (int i = 0; i < pp->n; i++) {
        const VgAlertStats *a = vg_alert_stage_stats(vg_pipeline_alerts(pp->w[i].p));
        pp->astats.raised += a->raised;
        pp->astats.emitted += a->emitted;
        pp->astats.updates += a->updates;
        pp->astats.suppressed += a->suppressed;
        pp->astats.forgotten += a->forgotten;
        pp->astats.output_full += a->output_full;
    }
}

void vg_par_pipeline_run(VgParPipeline *pp, VgParFill fill, void *user)
{
    pp->fill = fill;
    pp->fill_user = user;
    for (int i = 1; i < pp->n; i++)
        pp->w[i].thread = g_thread_new("vigil-worker", worker_main, &pp->w[i]);
    worker_main(&pp->w[0]); /* worker 0 on this thread: N threads for N workers */
    join_workers(pp);
}

const VgPipelineStats *vg_par_pipeline_stats(VgParPipeline *pp)
{
    return vg_pipeline_stats(pp->w[0].p);
}

void vg_par_pipeline_alert_stats(VgParPipeline *pp, VgAlertStats *out)
{
    *out = pp->astats;
}

void vg_par_pipeline_free(VgParPipeline *pp)
{
    if (!pp)
        return;
    if (pp->ring) {
        vg_ring_abort(pp->ring);
        for (int i = 0; i < pp->n; i++)
            if (pp->w[i].thread)
                g_thread_join(pp->w[i].thread);
        for (uint32_t i = 0; i < vg_ring_slots(pp->ring); i++) {
            Slot *s = &pp->slots[i];
            vg_line_batch_free(&s->b);
            vg_arena_destroy(&s->arena);
            g_free(s->ev);
            g_free(s->bad);
            g_free(s->m);
            g_free(s->keys);
        }
        g_aligned_free(pp->slots);
        vg_ring_free(pp->ring);
    }
    for (int i = 0; i < pp->n; i++) {
        Worker *w = &pp->w[i];
        if (w->scratch)
            vg_rule_scratch_free(w->scratch);
        if (w->run)
            g_ptr_array_free(w->run, TRUE);
        vg_pipeline_free(w->p);
    }
    g_free(pp->w);
    if (pp->barrier_init)
        pthread_barrier_destroy(&pp->barrier);
    pthread_mutex_destroy(&pp->out_lock);
    g_free(pp);
}

/* pipeline.c — see pipeline.h.
 *
 * Lines are judged one at a time, in input order, with a per-worker arena that is reset
 * after every batch: nothing on this path allocates once the arena is warm. They are
 * decoded a short run ahead (AHEAD lines) and prepared by the detectors that take it
 * (detector.h: the models hash their keys), so that those can prefetch the memory of the
 * next events while judging this one (their work is mostly waiting for memory otherwise).
 */
#include "engine/pipeline.h"

#include "engine/json-write.h"
#include "engine/log.h"
#include "engine/registry.h"
#include "engine/snap.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

typedef struct {
    int32_t partition;
    int64_t max_time; /* INT64_MIN until the partition has an event */
    bool idle;
} PartClock;

/* The first two events of a run get their prefetches late (vg_prefetch_ahead), so longer
 * runs give more events theirs in time, and hold more decoded events in the cache. Against
 * 16, in sets of 10-12 alternating one-core replays (2026-11-25): 24 was 1.050 and 1.033
 * for canonical JSON, 1.011 and 1.007 for nginx combined; 32 was 1.037 and 1.029 for JSON but
 * 0.986 and 0.970 for nginx; 64 was equal to 32 on JSON. */
enum { AHEAD = 24 };

struct VgPipeline {
    VgDecoder *decoder;
    GPtrArray *detectors; /* VgDetector * */
    /* the run of lines decoded ahead (vg_pipeline_process_until): events, decode results
     * and prep records (prep_stride bytes each, detector d's part at prep_off[d], or
     * SIZE_MAX for a detector without prepare) */
    VgEvent ahead_ev[AHEAD];
    uint8_t ahead_bad[AHEAD];
    uint8_t *prep;
    size_t prep_stride;
    size_t *prep_off;
    VgAlertStage *alerts;
    VgAlertOutput out;
    VgDetectCtx ctx;
    VgArena arena;
    VgLineObserver obs;
    int64_t lateness_ms;
    GArray *parts;    /* PartClock, one per partition seen or assigned (few: a linear scan) */
    int64_t parts_lo; /* the oldest newest-event-time update_watermark last found */
    FILE *dead_letter;
    char *dead_letter_path;
    VgPipelineStats stats;
};

/* The clock of a partition. A partition the pipeline has not heard of starts idle, so it
 * does not hold the watermark back; vg_pipeline_partition_idle(p, id, false) (a Kafka
 * assignment) makes it count even before its first event. */
static PartClock *part_clock(VgPipeline *p, int32_t partition)
{
    for (guint i = 0; i < p->parts->len; i++) {
        PartClock *c = &g_array_index(p->parts, PartClock, i);
        if (c->partition == partition)
            return c;
    }
    PartClock c = {partition, INT64_MIN, true};
    g_array_append_val(p->parts, c);
    return &g_array_index(p->parts, PartClock, p->parts->len - 1);
}

/* The watermark is the oldest newest-event-time among active partitions, less the allowed
 * lateness. An active partition with no event yet holds it back (until it turns idle). */
static void update_watermark(VgPipeline *p)
{
    int64_t lo = INT64_MAX;
    for (guint i = 0; i < p->parts->len; i++) {
        const PartClock *c = &g_array_index(p->parts, PartClock, i);
        if (!c->idle && c->max_time < lo)
            lo = c->max_time;
    }
    p->parts_lo = lo;
    if (lo == INT64_MAX || lo == INT64_MIN)
        return;
    int64_t wm = lo - p->lateness_ms;
    if (wm > p->ctx.watermark)
        p->ctx.watermark = wm; /* the clock never goes back */
}

VgPipeline *vg_pipeline_new(const VgSettings *s, VgAlertOutput out, const VgTrace *trace,
                            const VgLineObserver *obs, GError **err)
{
    VgPipeline *p = g_new0(VgPipeline, 1);
    VgInputConf ic;
    p->detectors = g_ptr_array_new();
    p->parts = g_array_new(FALSE, FALSE, sizeof(PartClock));
    vg_arena_init(&p->arena, 256 * 1024);
    p->lateness_ms = s->engine.allowed_lateness_ms;
    p->ctx.watermark = INT64_MIN;
    p->parts_lo = INT64_MAX;
    p->stats.min_time = INT64_MAX;
    p->stats.max_time = INT64_MIN;
    p->stats.watermark = INT64_MIN; /* none yet (not 1970): the metrics and totals skip it */
    p->out = out;
    if (obs)
        p->obs = *obs;

    if (!vg_settings_input_conf(s, &ic, err))
        goto fail;
    const VgDecoderOps *dops = vg_find_decoder(ic.format);
    if (!dops) {
        GString *names = g_string_new(NULL);
        for (const VgDecoderOps *const *d = vg_decoders(); *d; d++)
            g_string_append_printf(names, "%s%s", names->len ? ", " : "", (*d)->name);
        g_set_error(err, VG_ERROR, VG_ECONFIG, "input.format: unknown format '%s' (known: %s)",
                    ic.format, names->len ? names->str : "none registered");
        g_string_free(names, TRUE);
        vg_input_conf_clear(&ic);
        goto fail;
    }
    p->decoder = dops->create(dops, &ic, err);
    vg_input_conf_clear(&ic);
    if (!p->decoder)
        goto fail;

    VgAlertStageConf ac = {
        .cooldown_ms = s->alerts.cooldown_ms,
        .max_samples = (int)s->alerts.max_samples,
        .max_incidents = s->alerts.max_incidents,
        .token_key = s->privacy.token_key,
        .redact_pii = s->privacy.redact_pii,
    };
    p->alerts = vg_alert_stage_new(&ac, out);
    p->ctx.alerts = p->alerts;
    p->ctx.arena = &p->arena;
    p->ctx.trace = trace;
    p->ctx.token_key = vg_alert_stage_token_key(p->alerts);

    for (const VgDetectorOps *const *d = vg_detectors(); *d; d++) {
        const VgConfNode *section = vg_conf_get(s->root, (*d)->name);
        GError *e = NULL;
        VgDetector *det = (*d)->create(*d, section, &e);
        if (e) {
            g_propagate_error(err, e);
            goto fail;
        }
        if (det) /* NULL without an error: switched off in config */
            g_ptr_array_add(p->detectors, det);
    }
    p->prep_off = g_new(size_t, p->detectors->len + 1);
    for (guint i = 0; i < p->detectors->len; i++) {
        const VgDetectorOps *ops = ((VgDetector *)p->detectors->pdata[i])->ops;
        p->prep_off[i] = SIZE_MAX;
        if (ops->prepare) {
            p->prep_off[i] = p->prep_stride;
            p->prep_stride += (ops->prep_size + 15) & ~(size_t)15;
        }
    }
    p->prep = g_malloc(AHEAD * (p->prep_stride ? p->prep_stride : 1));

    if (s->input.dead_letter) {
        p->dead_letter_path = g_strdup(s->input.dead_letter);
        p->dead_letter = fopen(s->input.dead_letter, "a");
        if (!p->dead_letter) {
            g_set_error(err, VG_ERROR, VG_ECONFIG, "input.dead_letter: cannot open %s: %s",
                        s->input.dead_letter, g_strerror(errno));
            goto fail;
        }
    }
    return p;
fail:
    vg_pipeline_free(p);
    return NULL;
}

void vg_pipeline_free(VgPipeline *p)
{
    if (!p)
        return;
    for (guint i = 0; i < p->detectors->len; i++) {
        VgDetector *d = p->detectors->pdata[i];
        d->ops->destroy(d);
    }
    g_ptr_array_free(p->detectors, TRUE);
    g_free(p->prep_off);
    g_free(p->prep);
    g_array_free(p->parts, TRUE);
    if (p->decoder)
        p->decoder->ops->destroy(p->decoder);
    vg_alert_stage_free(p->alerts);
    vg_arena_destroy(&p->arena);
    if (p->dead_letter)
        fclose(p->dead_letter);
    g_free(p->dead_letter_path);
    g_free(p);
}

static void dead_letter(VgPipeline *p, const VgLineBatch *b, const VgLineRef *l, VgBadReason r)
{
    if (!p->dead_letter)
        return;
    GString *o = g_string_sized_new(l->len + 128);
    g_string_append(o, "{\"source\":");
    vg_json_cstr(o, b->source);
    g_string_append_printf(o, ",\"line\":%" G_GUINT64_FORMAT ",\"reason\":\"%s\"", l->line_no,
                           vg_bad_reason_name(r));
    if (l->offset >= 0)
        g_string_append_printf(o, ",\"partition\":%d,\"offset\":%" G_GINT64_FORMAT, b->partition,
                               l->offset);
    g_string_append(o, ",\"raw\":");
    vg_json_str(o, vg_line_bytes(b, l), l->len);
    g_string_append(o, "}\n");
    /* one write() per record on an O_APPEND file, unbuffered: several pipelines (one per
     * Kafka partition, on worker threads) append to the same file without splitting each
     * other's lines */
    if (write(fileno(p->dead_letter), o->str, o->len) != (ssize_t)o->len)
        vg_log_warn("dead-letter write failed", "path", p->dead_letter_path);
    g_string_free(o, TRUE);
}

static void count_bad(VgPipeline *p, const VgLineBatch *b, const VgLineRef *l, VgBadReason r)
{
    p->stats.bad[r]++;
    p->stats.bad_total++;
    dead_letter(p, b, l, r);
    if (p->obs.line_done)
        p->obs.line_done(p->obs.user, b, l, NULL, r);
}

/* Decodes line l of b into ev (strings in arena), with p's decoder. */
static inline VgBadReason decode_line(VgPipeline *p, const VgLineBatch *b, const VgLineRef *l,
                                      VgEvent *ev, VgArena *arena)
{
    if (l->bad != VG_BAD_NONE)
        return (VgBadReason)l->bad;
    vg_event_reset(ev);
    ev->source = b->source;
    ev->line_no = l->line_no;
    ev->partition = b->partition;
    ev->offset = l->offset;
    return p->decoder->ops->decode(p->decoder, vg_line_bytes(b, l), l->len, ev, arena);
}

/* The clock and the counters for one line, in input order: NULL for a bad line, else
 * the context to judge ev with. count: this pipeline keeps the line counters (and
 * dead-letters); the clock and the time range are kept either way. */
static inline VgDetectCtx *clock_line(VgPipeline *p, PartClock *clk, const VgLineBatch *b,
                                      const VgLineRef *l, const VgEvent *ev, VgBadReason r,
                                      bool count)
{
    if (count) {
        p->stats.lines++;
        p->stats.bytes += l->len + 1;
    }
    if (r != VG_BAD_NONE) {
        if (count)
            count_bad(p, b, l, r);
        return NULL;
    }
    if (count)
        p->stats.events++;
    if (ev->time_ms < p->stats.min_time)
        p->stats.min_time = ev->time_ms;
    if (ev->time_ms > p->stats.max_time)
        p->stats.max_time = ev->time_ms;
    if (ev->time_ms > clk->max_time) {
        int64_t was = clk->max_time;
        clk->max_time = ev->time_ms;
        if (p->parts->len == 1) { /* one source (files): no scan needed */
            int64_t wm = ev->time_ms - p->lateness_ms;
            if (wm > p->ctx.watermark)
                p->ctx.watermark = wm;
        } else if (was <= p->parts_lo) {
            /* only the oldest partition moving can move the minimum (parts_lo is never
             * below it: partitions turning active can only lower the true minimum, and
             * turning idle rescans) */
            update_watermark(p);
        }
    }
    p->ctx.late = ev->time_ms < p->ctx.watermark;
    if (p->ctx.late && count)
        p->stats.late++;
    return &p->ctx;
}

static inline void batch_end(VgPipeline *p)
{
    p->ctx.late = false;
    p->stats.watermark = p->ctx.watermark;
    vg_arena_reset(&p->arena);
}

int vg_pipeline_process(VgPipeline *p, const VgLineBatch *b)
{
    return vg_pipeline_process_until(p, b, INT64_MAX, false, NULL);
}

/* Decodes and prepares up to AHEAD lines of b from line i into p's run ahead. Returns how
 * many; *cut when the run stops at the first line of a source newer than until_ms (see
 * vg_pipeline_process_until). */
static uint32_t decode_ahead(VgPipeline *p, const VgLineBatch *b, uint32_t i, int64_t until_ms,
                             bool may_stop_first, bool *cut)
{
    uint32_t n = 0;
    for (; n < AHEAD && i + n < b->n; n++) {
        const VgLineRef *l = &b->lines[i + n];
        VgEvent *ev = &p->ahead_ev[n];
        VgBadReason r = decode_line(p, b, l, ev, &p->arena);
        if (r == VG_BAD_NONE && ev->time_ms > until_ms && (i + n || may_stop_first) &&
            l->line_no == 1) {
            *cut = true; /* the rest waits (decoded again then: once per cut) */
            break;
        }
        p->ahead_bad[n] = (uint8_t)r;
        if (r != VG_BAD_NONE)
            continue;
        for (guint d = 0; d < p->detectors->len; d++)
            if (p->prep_off[d] != SIZE_MAX) {
                VgDetector *det = p->detectors->pdata[d];
                det->ops->prepare(det, ev, &p->arena,
                                  p->prep + n * p->prep_stride + p->prep_off[d]);
            }
    }
    return n;
}

int vg_pipeline_process_until(VgPipeline *p, const VgLineBatch *b, int64_t until_ms,
                              bool may_stop_first, uint32_t *done)
{
    PartClock *clk = part_clock(p, b->partition);
    clk->idle = false;
    uint32_t i = 0;
    bool cut = false;
    while (i < b->n && !cut) {
        uint32_t n = decode_ahead(p, b, i, until_ms, may_stop_first, &cut);
        for (uint32_t j = 0; j < n; j++) {
            const VgLineRef *l = &b->lines[i + j];
            const VgEvent *ev = &p->ahead_ev[j];
            for (guint d = 0; d < p->detectors->len; d++)
                if (p->prep_off[d] != SIZE_MAX)
                    vg_detector_prefetch_ahead(p->detectors->pdata[d], p->prep + p->prep_off[d],
                                               p->prep_stride, p->ahead_bad, j, n);
            VgDetectCtx *ctx = clock_line(p, clk, b, l, ev, (VgBadReason)p->ahead_bad[j], true);
            if (!ctx)
                continue;
            for (guint d = 0; d < p->detectors->len; d++) {
                VgDetector *det = p->detectors->pdata[d];
                if (p->prep_off[d] == SIZE_MAX)
                    det->ops->on_event(det, ev, ctx);
                else
                    det->ops->on_prepared(det, ev, p->prep + j * p->prep_stride + p->prep_off[d],
                                          ctx);
            }
            if (p->obs.line_done)
                p->obs.line_done(p->obs.user, b, l, ev, VG_BAD_NONE);
        }
        i += n;
    }
    batch_end(p);
    if (done)
        *done = i;
    return vg_pipeline_flush(p);
}

int64_t vg_pipeline_partition_time(const VgPipeline *p, int32_t partition)
{
    for (guint i = 0; i < p->parts->len; i++) {
        const PartClock *c = &g_array_index(p->parts, PartClock, i);
        if (c->partition == partition)
            return c->max_time;
    }
    return INT64_MIN;
}

/* ---- the parallel pipeline's view (pipeline-int.h) ---- */

VgBadReason vg_pipeline_decode_line(VgPipeline *p, const VgLineBatch *b, const VgLineRef *l,
                                    VgEvent *ev, VgArena *arena)
{
    return decode_line(p, b, l, ev, arena);
}

void *vg_pipeline_batch_begin(VgPipeline *p, const VgLineBatch *b)
{
    PartClock *clk = part_clock(p, b->partition);
    clk->idle = false;
    return clk;
}

VgDetectCtx *vg_pipeline_clock(VgPipeline *p, void *clk, const VgLineBatch *b, const VgLineRef *l,
                               const VgEvent *ev, VgBadReason r, bool count)
{
    return clock_line(p, clk, b, l, ev, r, count);
}

void vg_pipeline_batch_end(VgPipeline *p)
{
    batch_end(p);
}

GPtrArray *vg_pipeline_detectors(VgPipeline *p)
{
    return p->detectors;
}

int vg_pipeline_flush(VgPipeline *p)
{
    if (p->dead_letter)
        fflush(p->dead_letter);
    return p->out.flush ? p->out.flush(p->out.user) : VG_OK;
}

void vg_pipeline_partition_idle(VgPipeline *p, int32_t partition, bool idle)
{
    part_clock(p, partition)->idle = idle;
    update_watermark(p);
    for (guint d = 0; d < p->detectors->len; d++) {
        VgDetector *det = p->detectors->pdata[d];
        if (det->ops->on_watermark)
            det->ops->on_watermark(det, &p->ctx);
    }
    vg_arena_reset(&p->arena);
}

void vg_pipeline_finish(VgPipeline *p)
{
    /* the end of a finite input closes everything: the clock jumps past the last event */
    if (p->stats.max_time != INT64_MIN && p->stats.max_time > p->ctx.watermark)
        p->ctx.watermark = p->stats.max_time;
    for (guint d = 0; d < p->detectors->len; d++) {
        VgDetector *det = p->detectors->pdata[d];
        if (det->ops->finish)
            det->ops->finish(det, &p->ctx);
    }
    vg_arena_reset(&p->arena);
    vg_pipeline_flush(p);
}

const VgPipelineStats *vg_pipeline_stats(const VgPipeline *p)
{
    return &p->stats;
}

VgAlertStage *vg_pipeline_alerts(VgPipeline *p)
{
    return p->alerts;
}

VgDecoder *vg_pipeline_decoder(VgPipeline *p)
{
    return p->decoder;
}

VgDetector *vg_pipeline_detector(VgPipeline *p, const char *name)
{
    for (guint i = 0; i < p->detectors->len; i++) {
        VgDetector *d = p->detectors->pdata[i];
        if (!strcmp(d->ops->name, name))
            return d;
    }
    return NULL;
}

/* ---- checkpoints (engine/checkpoint.h) ----
 *
 * The state of a pipeline is its event-time clock, its counters, the alert stage's open
 * incidents and every stateful detector's snapshot, each under its detector's name, so a
 * detector switched off since is skipped and one switched on since starts fresh. The
 * per-partition clocks are not kept: partition ids are per process, and the restored
 * watermark never goes back, which is what decides lateness. */

#define PIPE_SNAP_MAGIC   0x53504756u /* "VGPS" */
#define PIPE_SNAP_VERSION 1u

/* Opens a length-prefixed part of out (vg_snap_put_bytes' encoding) that is then written
 * in place: returns where its length goes, for end_part(). */
static guint begin_part(GByteArray *out)
{
    vg_snap_put_u64(out, 0);
    return out->len;
}

static void end_part(GByteArray *out, guint at)
{
    uint64_t n = out->len - at;
    memcpy(out->data + at - sizeof n, &n, sizeof n);
}

int vg_pipeline_snapshot(VgPipeline *p, GByteArray *out)
{
    vg_snap_put_u64(out, PIPE_SNAP_MAGIC);
    vg_snap_put_u64(out, PIPE_SNAP_VERSION);
    vg_snap_put_i64(out, p->ctx.watermark);
    vg_snap_put_bytes(out, &p->stats, sizeof p->stats);
    /* the parts are written straight into out (no copy of a detector's megabytes) */
    guint at = begin_part(out);
    vg_alert_stage_snapshot(p->alerts, out);
    end_part(out, at);
    uint64_t n = 0;
    for (guint i = 0; i < p->detectors->len; i++)
        n += ((VgDetector *)p->detectors->pdata[i])->ops->snapshot != NULL;
    vg_snap_put_u64(out, n);
    for (guint i = 0; i < p->detectors->len; i++) {
        VgDetector *d = p->detectors->pdata[i];
        if (!d->ops->snapshot)
            continue;
        vg_snap_put_str(out, d->ops->name);
        at = begin_part(out);
        int rc = d->ops->snapshot(d, out);
        if (rc != VG_OK)
            return rc;
        end_part(out, at);
    }
    return VG_OK;
}

int vg_pipeline_restore(VgPipeline *p, const void *data, size_t len, GError **err)
{
    VgSnapReader r;
    vg_snap_reader_init(&r, data, len);
    if (vg_snap_get_u64(&r) != PIPE_SNAP_MAGIC || vg_snap_get_u64(&r) != PIPE_SNAP_VERSION) {
        g_set_error(err, VG_ERROR, VG_EINVAL,
                    "pipeline snapshot: not one, or made by another version of vigil");
        return VG_EINVAL;
    }
    int64_t wm = vg_snap_get_i64(&r);
    size_t n_stats, n_alerts;
    const uint8_t *stats = vg_snap_get_bytes(&r, sizeof p->stats, &n_stats);
    const uint8_t *alerts = vg_snap_get_bytes(&r, SIZE_MAX, &n_alerts);
    uint64_t n = vg_snap_get_u64(&r);
    if (r.bad || n_stats != sizeof p->stats || n > 64) {
        g_set_error(err, VG_ERROR, VG_EINVAL, "pipeline snapshot: truncated or corrupt");
        return VG_EINVAL;
    }
    if (vg_alert_stage_restore(p->alerts, alerts, n_alerts, err) != VG_OK)
        return VG_EINVAL;
    for (uint64_t i = 0; i < n; i++) {
        size_t name_len, blob_len;
        const uint8_t *name = vg_snap_get_bytes(&r, 64, &name_len);
        const uint8_t *blob = vg_snap_get_bytes(&r, SIZE_MAX, &blob_len);
        if (r.bad) {
            g_set_error(err, VG_ERROR, VG_EINVAL, "pipeline snapshot: truncated or corrupt");
            return VG_EINVAL;
        }
        char nm[65];
        memcpy(nm, name, name_len);
        nm[name_len] = '\0';
        VgDetector *d = vg_pipeline_detector(p, nm);
        if (!d || !d->ops->restore) {
            vg_log_info("checkpoint: state of a detector not running now left out", "detector", nm);
            continue;
        }
        if (d->ops->restore(d, blob, blob_len, err) != VG_OK)
            return VG_EINVAL;
    }
    if (r.n) {
        g_set_error(err, VG_ERROR, VG_EINVAL, "pipeline snapshot: trailing bytes");
        return VG_EINVAL;
    }
    memcpy(&p->stats, stats, sizeof p->stats);
    p->ctx.watermark = wm;
    p->stats.watermark = wm;
    return VG_OK;
}

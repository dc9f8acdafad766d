/* detector.h — what looks at events and raises alerts: built-in checks, Sigma rules,
 * correlation rules, statistical models.
 *
 * A detector is a const table of callbacks, registered once (vg_register_detector), and
 * instantiated from its own section of the config. The pipeline calls on_event() for every
 * decoded event in input order, with the event-time clock in ctx: ctx->watermark is the
 * time up to which all events are believed to have arrived (the largest event time seen,
 * less the allowed lateness). Detectors never read the wall clock; they close buckets and
 * windows when the watermark passes them, which is what makes replays deterministic.
 *
 * An event older than the watermark is "late" (ctx->late): stateless checks still judge
 * it, stateful ones (windows, baselines) ignore it, and the pipeline counts it.
 */
#ifndef VG_DETECTOR_H
#define VG_DETECTOR_H

#include "engine/alert.h"
#include "engine/config.h"
#include "engine/event.h"

typedef struct VgAlertStage VgAlertStage;

/* Optional observer for `vigil explain` and `vigil test-rules`: what each detector
 * concluded about the current event. Any callback may be NULL. */
typedef struct {
    void *user;
    /* A rule matched; selections are the names of the detection identifiers that were true. */
    void (*rule_match)(void *user, const char *rule_id, const char *title,
                       const char *const *selections, int n_selections);
    /* A model saw the event in a bucket; key is printable (token_id, never a raw token). */
    void (*model_obs)(void *user, const char *model, const char *key, int64_t bucket_start_ms,
                      double observed, double expected, double score);
    /* An alert was raised (its event.id). */
    void (*alert)(void *user, const char *event_id);
} VgTrace;

typedef struct {
    VgAlertStage *alerts;       /* where vg_alert_emit() sends alerts */
    VgArena *arena;             /* scratch, reset after each batch */
    int64_t watermark;          /* event-time clock, ms */
    bool late;                  /* the current event is older than the watermark */
    const VgTrace *trace;       /* NULL unless explaining */
    const VgHmacKey *token_key; /* the key of token ids (models name new tokens with it) */
} VgDetectCtx;

typedef struct VgDetector VgDetector;

typedef struct VgDetectorOps {
    const char *name;    /* also the config section it reads, e.g. "models", "rules" */
    const char *summary; /* one line for docs */
    /* Creates the detector from its config section (NULL: defaults). Returns NULL and sets
     * err on a configuration error. */
    VgDetector *(*create)(const struct VgDetectorOps *ops, const VgConfNode *section, GError **err);
    void (*on_event)(VgDetector *d, const VgEvent *ev, VgDetectCtx *ctx);
    /* Optional (all three or none), for a detector whose work mostly waits for memory:
     * the pipeline decodes a short run of events ahead and, for each, prepare() computes
     * into prep (prep_size bytes; anything bigger in arena, reset after the batch) what
     * the detector needs from the event alone (e.g. its key hashes, its matches);
     * prefetch() is called for an event one and two events before it is judged (stage 0
     * then 1: see vg_detector_prefetch_ahead) to hint the memory it will touch;
     * on_prepared() then judges it instead of on_event(). prepare() runs for events in
     * input order, each before its on_prepared(), on the detector's thread. */
    size_t prep_size;
    void (*prepare)(VgDetector *d, const VgEvent *ev, VgArena *arena, void *prep);
    void (*prefetch)(VgDetector *d, const void *prep, int stage);
    void (*on_prepared)(VgDetector *d, const VgEvent *ev, const void *prep, VgDetectCtx *ctx);
    /* The clock moved without events (idle input); close what is due. May be NULL. */
    void (*on_watermark)(VgDetector *d, VgDetectCtx *ctx);
    /* End of a finite input: close every open bucket and window. May be NULL. */
    void (*finish)(VgDetector *d, VgDetectCtx *ctx);
    void (*destroy)(VgDetector *d);
    /* Checkpoints (engine/checkpoint.h); both may be NULL for a stateless detector.
     * snapshot appends the whole state to out and returns VG_OK; restore loads one into a
     * detector freshly created from the same config, and returns VG_EINVAL with err on a
     * corrupt or foreign snapshot (the detector is then as fresh, or must be destroyed:
     * the pipeline destroys it). */
    int (*snapshot)(VgDetector *d, GByteArray *out);
    int (*restore)(VgDetector *d, const void *data, size_t len, GError **err);
} VgDetectorOps;

struct VgDetector {
    const VgDetectorOps *ops;
};

/* A detector's prefetch for one event's prep record (the prefetch op, or another of the
 * same form for records made outside the pipeline's look-ahead). */
typedef void (*VgPrefetchFn)(VgDetector *d, const void *rec, int stage);

/* The prefetches due before judging event i of n, whose records (stride bytes apart, valid
 * where bad[j] is 0) were made ahead: one event is work enough to hide a memory latency,
 * so stage 0 runs two events ahead and stage 1 one. The first two events, which nothing
 * fetched ahead, get theirs at i == 0: late, but their misses still overlap. So the
 * judging needs no prefetch of its own (the models' did one, and it was 120 instructions
 * of a JSON event's 12,900 for lines that were already there; without it, one core was
 * 1.0085 and two workers 1.0195, 8 alternating rounds each, 2026-11-25). */
static inline void vg_prefetch_ahead(VgPrefetchFn fn, VgDetector *d, const void *recs,
                                     size_t stride, const uint8_t *bad, uint32_t i, uint32_t n)
{
    const char *base = recs;
    if (i == 0 && !bad[0]) {
        fn(d, base, 0);
        fn(d, base, 1);
    }
    if (i == 0 && n > 1 && !bad[1])
        fn(d, base + stride, 0);
    if (i + 2 < n && !bad[i + 2])
        fn(d, base + (size_t)(i + 2) * stride, 0);
    if (i + 1 < n && !bad[i + 1])
        fn(d, base + (size_t)(i + 1) * stride, 1);
}

/* vg_prefetch_ahead with d's prefetch op over its prepare records. */
static inline void vg_detector_prefetch_ahead(VgDetector *d, const void *prep, size_t stride,
                                              const uint8_t *bad, uint32_t i, uint32_t n)
{
    vg_prefetch_ahead(d->ops->prefetch, d, prep, stride, bad, i, n);
}

/* Raises an alert (see alert.h). The alert's views need only live for the call. */
void vg_alert_emit(VgDetectCtx *ctx, const VgAlert *a);

#endif

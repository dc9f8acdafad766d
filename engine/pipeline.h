/* pipeline.h — from line batches to alerts, on one thread.
 *
 * A collector fills VgLineBatch; vg_pipeline_process() decodes each line into a VgEvent,
 * advances the event-time clock, runs every detector on it and, at the end of the batch,
 * flushes the alert output. Bad lines are counted by reason and appended to the dead-letter
 * file when one is configured; they never stop the run.
 *
 * Event time: the pipeline tracks the newest event time per source partition; the
 * watermark is the smallest of those (ignoring partitions marked idle) less
 * engine.allowed_lateness. An event older than the watermark is late: counted, judged by
 * stateless detectors, ignored by stateful ones.
 */
#ifndef VG_PIPELINE_H
#define VG_PIPELINE_H

#include "engine/alert-stage.h"
#include "engine/collector.h"
#include "engine/detector.h"
#include "engine/settings.h"

typedef struct VgPipeline VgPipeline;

typedef struct {
    uint64_t lines;  /* lines seen, good or bad */
    uint64_t events; /* lines decoded into events */
    uint64_t bad[VG_BAD__COUNT];
    uint64_t bad_total;
    uint64_t late;
    uint64_t bytes;
    int64_t min_time, max_time; /* event time range seen (ms) */
    int64_t watermark;
} VgPipelineStats;

/* Optional per-line observer (explain): called after each line was decoded and judged.
 * ev is NULL for a bad line (then reason is set). */
typedef struct {
    void *user;
    void (*line_done)(void *user, const VgLineBatch *b, const VgLineRef *l, const VgEvent *ev,
                      VgBadReason reason);
} VgLineObserver;

/* Builds decoder, detectors and alert stage from settings; alerts go to out. trace and obs
 * may be NULL. NULL and err on a configuration error. */
VgPipeline *vg_pipeline_new(const VgSettings *s, VgAlertOutput out, const VgTrace *trace,
                            const VgLineObserver *obs, GError **err);
/* Processes a batch. Returns VG_OK, or VG_EFULL when the alert output refused records
 * (spool full): the caller should slow down and retry vg_pipeline_flush(). */
int vg_pipeline_process(VgPipeline *p, const VgLineBatch *b);
/* Like vg_pipeline_process(), but stops before the first line that starts a message
 * (line_no 1, as collectors that cut messages into lines number them) and has an event
 * time past until_ms, the first line only when may_stop_first; *done (may be NULL) is then
 * the number of lines processed, b->n when all were. The caller keeps the rest for later
 * (a Kafka reader merging partitions by event time: vg_kafka_collector_unread()). */
int vg_pipeline_process_until(VgPipeline *p, const VgLineBatch *b, int64_t until_ms,
                              bool may_stop_first, uint32_t *done);
/* The newest event time processed of partition (ms), INT64_MIN when none. */
int64_t vg_pipeline_partition_time(const VgPipeline *p, int32_t partition);
int vg_pipeline_flush(VgPipeline *p);
/* Marks a partition idle (true) so it does not hold the watermark back, or active again. */
void vg_pipeline_partition_idle(VgPipeline *p, int32_t partition, bool idle);
/* End of input: detectors close every open window; alerts are flushed. */
void vg_pipeline_finish(VgPipeline *p);
const VgPipelineStats *vg_pipeline_stats(const VgPipeline *p);
VgAlertStage *vg_pipeline_alerts(VgPipeline *p);
void vg_pipeline_free(VgPipeline *p);

/* The detector registered as name ("rules", "models"), or NULL when it is not running. */
VgDetector *vg_pipeline_detector(VgPipeline *p, const char *name);

/* The settings' decoder preset, for callers that decode outside a pipeline. */
VgDecoder *vg_pipeline_decoder(VgPipeline *p);

/* Checkpoints (engine/checkpoint.h): appends the whole state (event-time clock, counters,
 * open incidents, every stateful detector's snapshot) to out; VG_OK. */
int vg_pipeline_snapshot(VgPipeline *p, GByteArray *out);
/* Loads a snapshot into p, which must be fresh (no batch yet) and built from the same
 * config. A detector not running now is skipped (logged); one without state in the
 * snapshot stays fresh. VG_EINVAL and err on a corrupt or foreign snapshot: p must then
 * be freed and built again. */
int vg_pipeline_restore(VgPipeline *p, const void *data, size_t len, GError **err);

#endif

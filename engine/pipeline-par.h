/* pipeline-par.h — the pipeline on N worker threads, with the same results as one.
 *
 * N workers read the input in batches, decode and judge them, and send alerts to the one
 * output. See pipeline-par.c for how the work is split and why the alerts are those of
 * vg_pipeline_process() on one thread.
 */
#ifndef VG_PIPELINE_PAR_H
#define VG_PIPELINE_PAR_H

#include "engine/pipeline.h"

typedef struct VgParPipeline VgParPipeline;

/* Builds n_workers >= 2 pipelines from s; alerts will go to out, whose callbacks are then
 * called under a lock from any worker. NULL and err on a configuration error. */
VgParPipeline *vg_par_pipeline_new(const VgSettings *s, VgAlertOutput out, int n_workers,
                                   GError **err);
/* The input: appends up to b->max_lines lines to b (cleared); VG_OK with lines, anything
 * else at the end. Called by one worker at a time. */
typedef int (*VgParFill)(void *user, VgLineBatch *b);
/* Runs the workers until fill ends, worker 0 on the calling thread: there is no thread
 * that only reads. A worker that needs a batch nobody has read yet reads it, and decodes
 * it while its lines are in that core's cache. At the end every open window is closed and
 * the output flushed. Call once. */
void vg_par_pipeline_run(VgParPipeline *pp, VgParFill fill, void *user);
/* After run: the counters (the first worker's, which counts every line) and the alert
 * stages' counters summed. */
const VgPipelineStats *vg_par_pipeline_stats(VgParPipeline *pp);
void vg_par_pipeline_alert_stats(VgParPipeline *pp, VgAlertStats *out);
void vg_par_pipeline_free(VgParPipeline *pp);

#endif

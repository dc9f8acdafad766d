/* pipeline-par.h — the pipeline on N worker threads, with the same results as one.
 *
 * The caller (the reader) fills batches and submits them in input order; N workers decode
 * and judge them and send alerts to the one output. See pipeline-par.c for how the work is
 * split and why the alerts are those of vg_pipeline_process() on one thread.
 */
#ifndef VG_PIPELINE_PAR_H
#define VG_PIPELINE_PAR_H

#include "engine/pipeline.h"

typedef struct VgParPipeline VgParPipeline;

/* Builds n_workers >= 2 pipelines from s and starts their threads; alerts go to out,
 * whose callbacks are then called under a lock from any worker. NULL and err on a
 * configuration error. */
VgParPipeline *vg_par_pipeline_new(const VgSettings *s, VgAlertOutput out, int n_workers,
                                   GError **err);
/* The next batch to fill (cleared), waiting while every slot is in use. Owned by pp; fill
 * it and hand it over with vg_par_pipeline_submit(). */
VgLineBatch *vg_par_pipeline_batch(VgParPipeline *pp);
void vg_par_pipeline_submit(VgParPipeline *pp);
/* End of input: the workers judge what was submitted, close every open window, flush the
 * output and stop. Call once, from the reader, without a batch claimed-but-unsubmitted
 * (an unsubmitted claimed batch is dropped as empty). */
void vg_par_pipeline_finish(VgParPipeline *pp);
/* After finish: the counters (the first worker's, which counts every line) and the alert
 * stages' counters summed. */
const VgPipelineStats *vg_par_pipeline_stats(VgParPipeline *pp);
void vg_par_pipeline_alert_stats(VgParPipeline *pp, VgAlertStats *out);
void vg_par_pipeline_free(VgParPipeline *pp);

#endif

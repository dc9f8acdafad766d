/* pipeline-int.h — the pieces of a VgPipeline that the parallel pipeline (pipeline-par.c)
 * drives itself: one VgPipeline per worker, whose decoder decodes the worker's batches and
 * whose clock, counters, detectors and alert stage judge every event in input order. */
#ifndef VG_PIPELINE_INT_H
#define VG_PIPELINE_INT_H

#include "engine/pipeline.h"

/* Decodes line l of b into ev with p's decoder (one thread at a time per p); strings go
 * to arena. A line the collector flagged returns its reason. */
VgBadReason vg_pipeline_decode_line(VgPipeline *p, const VgLineBatch *b, const VgLineRef *l,
                                    VgEvent *ev, VgArena *arena);
/* Before the lines of b: returns the partition clock to pass to vg_pipeline_clock. */
void *vg_pipeline_batch_begin(VgPipeline *p, const VgLineBatch *b);
/* Advances p's clock over one line in input order (r: its decode result). count: p also
 * counts lines, events, bad lines (and dead-letters them) and late events. Returns NULL
 * for a bad line, else the context to judge ev in. */
VgDetectCtx *vg_pipeline_clock(VgPipeline *p, void *clk, const VgLineBatch *b, const VgLineRef *l,
                               const VgEvent *ev, VgBadReason r, bool count);
/* After the lines of a batch: resets p's scratch arena. */
void vg_pipeline_batch_end(VgPipeline *p);
/* p's detectors (VgDetector *), in registration order. */
GPtrArray *vg_pipeline_detectors(VgPipeline *p);

#endif

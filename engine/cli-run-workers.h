/* cli-run-workers.h — `vigil run` on several threads: each partition's batches judged by
 * one worker, with the partition's own pipeline (state per partition, cli-run-state.h).
 *
 * The run loop reads a batch, picks the partition's pipeline (creating it on the loop's
 * thread) and submits the batch to worker (partition mod n). A worker judges its batches
 * in order, so each partition's events are judged in their Kafka order by one thread,
 * and partitions share nothing: the alerts are those of the single-threaded run. The
 * alert output is shared under a lock.
 *
 * Hand-off: every worker owns a few batch slots. submit() swaps the caller's batch into a
 * free slot (the caller gets the slot's empty buffers back), or refuses when the worker
 * has none free. A worker hands each judged slot back through one completion queue that
 * only the loop reads (collect()), with whether its alerts were delivered or spooled:
 * marks, checkpoints and pipelines stay the loop's business, on its thread.
 *
 * A worker whose delivery refuses alerts (a sink down, its spool full) retries until the
 * delivery takes them, or until the loop gives up the batch's partition (abandon(): a
 * revocation or the shutdown); then that batch's refused alerts are dropped and it comes
 * back unmarked (status VG_RUN_BATCH_ABANDONED), and so do the partition's later batches,
 * unjudged: nothing after the refused batch is marked, so its next reader judges them
 * again and raises the alerts again.
 */
#ifndef VG_CLI_RUN_WORKERS_H
#define VG_CLI_RUN_WORKERS_H

#include "engine/pipeline.h"

typedef struct VgRunWorkers VgRunWorkers;

typedef enum {
    VG_RUN_BATCH_DONE,      /* judged; its alerts delivered or spooled */
    VG_RUN_BATCH_ABANDONED, /* not judged, or its alerts refused: do not mark */
} VgRunBatchStatus;

/* Wraps out so that pushes and flushes from every worker (and the loop) are serialized;
 * the pipelines must be built with the result. Valid while w lives. */
VgAlertOutput vg_run_workers_output(VgRunWorkers *w);

/* n >= 2 workers, each with slots batches of batch_lines lines. out: the real output. */
VgRunWorkers *vg_run_workers_new(int n, uint32_t batch_lines, VgAlertOutput out);
/* Stops the workers (abandoning what they hold) and frees everything. */
void vg_run_workers_free(VgRunWorkers *w);

/* Hands b (b->partition's lines) to its worker, to be judged by p. Returns true and
 * leaves b empty, or false (b unchanged) when the worker has no free slot. */
bool vg_run_workers_submit(VgRunWorkers *w, VgLineBatch *b, VgPipeline *p);
/* Batches submitted and not yet collected. */
uint32_t vg_run_workers_outstanding(const VgRunWorkers *w);

/* Hands every judged batch to done(user, partition, last offset, status), waiting up to
 * wait_us for the first one (0: not at all). Returns how many. Loop thread only. */
typedef void (*VgRunDoneFn)(void *user, int32_t partition, int64_t last_offset,
                            VgRunBatchStatus status);
uint32_t vg_run_workers_collect(VgRunWorkers *w, int64_t wait_us, VgRunDoneFn done, void *user);
/* Collects until nothing is outstanding, or until timeout_us passed (then false). */
bool vg_run_workers_drain(VgRunWorkers *w, int64_t timeout_us, VgRunDoneFn done, void *user);

/* Gives up the listed partitions (NULL, n = 0: every partition): a worker retrying a
 * refused delivery for one of them stops, and their batches come back unjudged, until
 * vg_run_workers_readmit(). */
void vg_run_workers_abandon(VgRunWorkers *w, const int32_t *partitions, size_t n);
void vg_run_workers_readmit(VgRunWorkers *w);
/* True while some worker is retrying a refused delivery. Any thread. */
bool vg_run_workers_full(const VgRunWorkers *w);

#endif

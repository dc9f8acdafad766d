/* cli-run-state.h — the pipelines `vigil run` judges events with, and where their state
 * goes when partitions move.
 *
 * Two modes:
 *
 * - One pipeline for the whole process: every line of every input goes through it;
 *   models and correlation windows see all traffic the process reads. Checkpoints of it
 *   go to a file (checkpoint.path; cli-run.c).
 *
 * - One pipeline per Kafka partition (with checkpoint.redis, or engine.workers > 1 on
 *   Kafka): each partition's lines are judged by that partition's own decoder, detectors,
 *   alert stage and event-time clock, so partitions can be judged on different threads
 *   (cli-run-workers.h). The state of a partition is self-contained, so it can be stored
 *   in Redis under
 *   <prefix>:<group>:<topic>:<partition> with the offset it corresponds to, and loaded by
 *   whichever instance of the consumer group is assigned the partition next: periodically
 *   and when a partition is revoked its owner saves it; when one is assigned the new
 *   owner loads it and reads on from its offset. Baselines and windows are then per
 *   partition, which is exact for every entity whose events all land in one partition
 *   (the README asks shippers to key messages by token) and per partition otherwise.
 *
 * Counters (vg_run_state_totals) cover every pipeline the process ran, including those of
 * partitions it no longer holds; a partition's state loaded from Redis brings the
 * baselines, not the previous owner's counters.
 *
 * Threads: everything on the run loop's thread, except vg_run_state_totals and
 * vg_run_state_rules_info (scrapes), which take the state's lock.
 */
#ifndef VG_CLI_RUN_STATE_H
#define VG_CLI_RUN_STATE_H

#include "engine/checkpoint.h"
#include "engine/pipeline.h"
#include "engine/sinks/state-redis.h"
#include "models/models.h"

typedef struct VgRunState VgRunState;

/* Builds the first pipeline from s (so a configuration error shows at start), with one
 * pipeline per partition when per_partition. redis (taken over; needs per_partition; may
 * be NULL) stores the partitions' state through ckptr (required with redis; its store is
 * set to redis), which counts the saves; group names the keys. s must outlive the state
 * (or until vg_run_state_reconfigure). NULL and err on a configuration error. */
VgRunState *vg_run_state_new(const VgSettings *s, VgAlertOutput out, bool per_partition,
                             VgStateRedis *redis, VgCheckpointer *ckptr, const char *group,
                             GError **err);
void vg_run_state_free(VgRunState *st);
bool vg_run_state_per_partition(const VgRunState *st);

/* The pipeline that judges partition's lines; in per-partition mode a fresh one is made
 * for a partition without one. NULL (logged) only when a fresh pipeline cannot be built
 * (rule files broken since the start): the caller must not read the partition. */
VgPipeline *vg_run_state_pipeline(VgRunState *st, int32_t partition);
/* partition's pipeline if it has one (the single one in single mode), else NULL. */
VgPipeline *vg_run_state_find(VgRunState *st, int32_t partition);
/* Single mode: replaces the pipeline with a fresh one (after a failed restore). VG_OK or
 * VG_ECONFIG with err. */
int vg_run_state_reset(VgRunState *st, GError **err);

/* Every pipeline: flush alerts (VG_EFULL if any output is full) / close every window. */
int vg_run_state_flush(VgRunState *st);
void vg_run_state_finish(VgRunState *st);

/* SIGHUP: ns's rules (when ns is NULL, the same rule paths read again), cooldown and
 * samples for every pipeline; pipelines made later (partitions assigned from now on) are
 * built from ns as a whole. A rule set with errors is refused
 * (VG_ECONFIG, err) and every pipeline keeps its rules. ns is taken over on success. */
int vg_run_state_reconfigure(VgRunState *st, VgSettings *ns, GError **err);

/* Per-partition mode: pipelines built from now on (and after reloads) give their models
 * models.memory_budget / partitions (at least 1 MiB; *each says how much), partitions
 * being those of the subscribed topics; the spare is rebuilt. Call before the first
 * partition's pipeline is built, so every partition of a group gets tables of the same
 * size on every instance. VG_OK, or VG_ECONFIG and err. */
int vg_run_state_share_models(VgRunState *st, int partitions, int64_t *each, GError **err);
/* The partitions the models budget is divided by (0: not divided). */
int vg_run_state_share(const VgRunState *st);

/* ---- per-partition state in Redis ---- */

/* Saves partition's state with next (the first offset not reflected in it) under the key
 * of (topic, kafka_partition). VG_OK, VG_ENOENT when the partition has no pipeline (or
 * there is no Redis), or VG_EIO and err. */
int vg_run_state_save(VgRunState *st, int32_t partition, const char *topic, int32_t kafka_partition,
                      int64_t next, GError **err);
/* With Redis: loads the state stored for (topic, kafka_partition) into a fresh pipeline for
 * partition (replacing any it had). VG_OK and *next (where to read on); VG_ENOENT when
 * nothing is stored (the partition starts fresh); VG_EIO or VG_EINVAL with err when Redis
 * cannot be read or the value is not a usable state (the partition then starts fresh too). */
int vg_run_state_load(VgRunState *st, int32_t partition, const char *topic, int32_t kafka_partition,
                      int64_t *next, GError **err);
/* Frees partition's pipeline (a revoked partition); its counters stay in the totals. */
void vg_run_state_drop(VgRunState *st, int32_t partition);
/* Pipelines held now (partitions in per-partition mode). */
guint vg_run_state_count(const VgRunState *st);

/* ---- figures ---- */

/* Sums over every pipeline, past and present. Any thread. */
void vg_run_state_totals(VgRunState *st, VgPipelineStats *ps, VgAlertStats *as);
/* The models' figures summed over the pipelines held now (counters include dropped ones),
 * and their budget; false when models are off. Loop thread. */
bool vg_run_state_models(VgRunState *st, VgModelsStats *out, size_t *budget);
/* The rule set's generation and size (the same in every pipeline); false when rules are
 * off. Any thread. */
bool vg_run_state_rules_info(VgRunState *st, uint64_t *generation, int *n_rules, int *n_corr);

#endif

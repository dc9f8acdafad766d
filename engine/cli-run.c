/* cli-run.c — `vigil run -c vigil.yml`: the daemon, on Kafka or on followed files.
 *
 * One loop on one thread: read a batch from the collector, run it through the pipeline
 * (which flushes the alert delivery at the end of the batch), and only then tell the
 * Kafka collector that the batch's offsets are done. vg_pipeline_process() returning
 * VG_OK means every alert the batch raised is delivered or durably spooled, so a commit
 * never runs ahead of an alert: a crash replays events, it does not lose alerts. The
 * collector commits the marks every kafka.commit_interval, on partition revocation and on
 * shutdown.
 *
 * Back-pressure: when the delivery cannot take more (a sink down and its spool full), the
 * batch stays unmarked, the Kafka partitions are paused, and the loop retries the flush
 * while still polling the consumer (paused, it hands out nothing) so the group does not
 * evict us. Memory stays bounded: librdkafka drops its prefetch of paused partitions.
 *
 * Event time: a partition that was revoked, or has been quiet for kafka.idle_timeout, is
 * marked idle in the pipeline so it does not hold the watermark back; its next batch makes
 * it count again. With one pipeline the collector orders batches by the pipeline's clock
 * of each partition, and process_merged() judges a batch only up to half a models bucket
 * past the other partitions, handing the rest back (vg_kafka_collector_unread()), so the
 * models see the partitions within a bucket of each other.
 *
 * Checkpoints (checkpoint.path, Kafka only): between batches, when no batch is held back
 * by a full delivery, the pipeline's state is exactly that of the events before the
 * offsets marked so far, and their alerts are out; that is when one is written, every
 * checkpoint.interval and on the way out. At start the checkpoint is restored and each
 * partition assigned starts at its offset in it (vg_kafka_collector_start_at), so a
 * restart forgets nothing and skips nothing; a checkpoint that cannot be used is reported,
 * moved aside, and the run starts without state from the committed offsets.
 *
 * Shutdown (SIGTERM, SIGINT): stop reading, write the checkpoint, or without checkpoints
 * close every open window (their alerts go out now rather than never), drain the delivery
 * for up to --drain-timeout, commit, leave the group. A watchdog alarm
 * bounds the whole shutdown even if a broker does not answer. A second signal exits at
 * once. SIGHUP reloads the rules and makes file sinks reopen (logrotate). SIGUSR1 logs a
 * status summary.
 *
 * State per partition (checkpoint.redis, or engine.workers > 1; cli-run-state.h): each
 * partition has its own pipeline. checkpoint.redis saves each partition's state to Redis
 * with its next offset (periodically, on revocation, at shutdown) and loads it when a
 * partition is assigned, seeking there. With engine.workers > 1 the partitions' batches
 * are judged on worker threads (cli-run-workers.h): the loop reads, hands each batch to
 * its partition's worker, and marks it when the worker hands it back delivered; before
 * anything reads or replaces a pipeline (checkpoint, rebalance, reload, shutdown) the
 * workers are drained. A batch whose worker has no free slot is held, and the input
 * paused if that lasts, until one is free.
 *
 * Without a `kafka:` section, run reads input.files (following them when input.follow)
 * or standard input, and ends when every file has ended (never, when following).
 */
#include "engine/cli.h"

#include "collectors/collector-kafka.h"
#include "collectors/collectors.h"
#include "engine/checkpoint.h"
#include "engine/cli-metrics.h"
#include "engine/cli-run-state.h"
#include "engine/cli-run-workers.h"
#include "engine/log.h"
#include "engine/sinks/delivery.h"
#include "models/models.h"
#include "rules/rules.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal, hup_signal, usr1_signal;

static void on_stop(int sig)
{
    if (stop_signal) {
        signal(sig, SIG_DFL); /* second signal: leave now */
        raise(sig);
        return;
    }
    stop_signal = sig;
}

static void on_hup(int sig)
{
    (void)sig;
    hup_signal = 1;
}

static void on_usr1(int sig)
{
    (void)sig;
    usr1_signal = 1;
}

typedef struct {
    VgRunState *st; /* the pipeline, or one per partition (checkpoint.redis) */
    VgDelivery *dl;
    VgKafkaCollector *kc;
    VgRunMetrics *rm;
    const VgCliCommon *cli; /* to read vigil.yml again on SIGHUP, with the same overrides */
    GHashTable *active;     /* partition id -> last batch time (µs, monotonic), non-idle only */
    int64_t idle_timeout_ms;
    gint64 last_idle_check;
    gint64 last_late_check;
    uint64_t models_late_said; /* events late for the models only, logged so far */
    /* checkpoints (NULL ckptr: off): the one restored at start (its offsets are where
     * assigned partitions start), the group, and per partition id the next offset the
     * state corresponds to (int64 *; absent: nothing read since it was assigned) */
    VgCheckpointer *ckptr;
    VgCheckpoint *restored;
    const char *group;
    GHashTable *next;
    GHashTable *saved; /* per-partition mode: partition id -> next offset of its last save */
    bool restore;      /* checkpoint.restore: load state (file at start, Redis on assignment) */
    bool shared;       /* per-partition mode: the models budget division was tried */
    /* one thread: the processed batch waiting for its alerts' delivery (full: delivery
     * refused) */
    bool full;
    int32_t held_partition;
    int64_t held_offset;
    /* engine.workers > 1 (NULL: one thread): the workers, and the batch read while its
     * worker had no free slot (holding), since when, and whether the input is paused
     * for it */
    VgRunWorkers *wk;
    VgLineBatch held;
    bool holding, paused_for_workers;
    gint64 holding_since;
    GHashTable *tainted; /* partitions whose state holds a batch not marked: never saved */
    bool resume;         /* resume the input after the rebalance callback */
    bool reload_deferred;
} Run;

static void seen(Run *r, int32_t partition);

static void next_set(Run *r, int32_t partition, int64_t next)
{
    if (!r->next)
        return;
    int64_t *v = g_hash_table_lookup(r->next, GINT_TO_POINTER(partition));
    if (!v) {
        v = g_new(int64_t, 1);
        g_hash_table_insert(r->next, GINT_TO_POINTER(partition), v);
    }
    *v = next;
}

/* Marks a processed batch whose alerts are delivered or spooled: the commit may pass it,
 * and so may the next checkpoint. */
static void done_upto(Run *r, int32_t partition, int64_t offset)
{
    vg_kafka_collector_mark(r->kc, partition, offset);
    next_set(r, partition, offset + 1);
}

/* A judged batch handed back by a worker: marked when its alerts went out; a batch given
 * up leaves its partition's state ahead of its marks, so that state is never saved. */
static void on_done(void *user, int32_t partition, int64_t last, VgRunBatchStatus status)
{
    Run *r = user;
    if (status == VG_RUN_BATCH_DONE && last >= 0)
        done_upto(r, partition, last);
    else if (status == VG_RUN_BATCH_ABANDONED)
        g_hash_table_add(r->tainted, GINT_TO_POINTER(partition));
}

/* Workers: waits until every submitted batch is judged and marked. When that takes longer
 * than wait_s (a worker retrying a refused delivery), gives up the listed partitions
 * (NULL: all) and waits for the workers to hand their batches back unjudged. False when
 * batches are still out after that (a sink call hanging past its timeouts). */
static bool drain_workers(Run *r, double wait_s, const int32_t *give_up, size_t n, bool all)
{
    if (!r->wk || vg_run_workers_drain(r->wk, (int64_t)(wait_s * 1e6), on_done, r))
        return true;
    if (!give_up && !all)
        return false;
    vg_log_warn("giving up batches whose alerts the sinks refuse: their events are read "
                "again later");
    vg_run_workers_abandon(r->wk, give_up, n);
    bool ok = vg_run_workers_drain(r->wk, 30 * G_USEC_PER_SEC, on_done, r);
    vg_run_workers_readmit(r->wk);
    return ok;
}

/* Per-partition mode: saves partition's state to Redis when it moved since its last save.
 * Not for a partition whose state holds events its marks do not cover yet — its last batch
 * waits for its alerts' delivery, was given up, or ends inside a message split across
 * batches: the next save, or the previous one, will do. */
static int save_partition(Run *r, int32_t partition)
{
    int64_t *next = r->next ? g_hash_table_lookup(r->next, GINT_TO_POINTER(partition)) : NULL;
    int64_t *saved = g_hash_table_lookup(r->saved, GINT_TO_POINTER(partition));
    const char *topic;
    int32_t kp;
    if (!next || (saved && *saved == *next) || (r->full && r->held_partition == partition) ||
        g_hash_table_contains(r->tainted, GINT_TO_POINTER(partition)) ||
        vg_kafka_collector_partial(r->kc, partition) ||
        !vg_kafka_collector_partition_info(r->kc, partition, &topic, &kp))
        return VG_OK;
    GError *err = NULL;
    int rc = vg_run_state_save(r->st, partition, topic, kp, *next, &err);
    char ps[16], off[24];
    g_snprintf(ps, sizeof ps, "%d", kp);
    g_snprintf(off, sizeof off, "%" G_GINT64_FORMAT, *next);
    if (rc == VG_OK) {
        if (!saved) {
            saved = g_new(int64_t, 1);
            g_hash_table_insert(r->saved, GINT_TO_POINTER(partition), saved);
        }
        *saved = *next;
        vg_log_debug("partition state saved", "topic", topic, "partition", ps, "next_offset", off);
    } else if (rc != VG_ENOENT) {
        vg_log_error("partition state not saved: its next owner resumes from the previous save",
                     "topic", topic, "partition", ps, "error", err->message);
    }
    g_clear_error(&err);
    return rc == VG_ENOENT ? VG_OK : rc;
}

/* Writes a checkpoint: the state now, with the offsets of every batch it has processed
 * (one file for the process, or each partition's state to Redis). Only called between
 * batches with no delivery held back (a held partition is skipped in per-partition mode),
 * so the state is exactly that of the events before those offsets and their alerts are
 * out. Then commits, so the group's offsets are not behind the checkpoint longer than
 * needed. */
static int checkpoint(Run *r)
{
    GError *err = NULL;
    int rc = VG_OK;
    if (vg_run_state_per_partition(r->st)) {
        vg_checkpointer_touch(r->ckptr);
        GList *ids = g_hash_table_get_keys(r->next);
        for (GList *l = ids; l; l = l->next)
            if (save_partition(r, GPOINTER_TO_INT(l->data)) != VG_OK)
                rc = VG_EIO;
        g_list_free(ids);
    } else if (vg_kafka_collector_partial(r->kc, -1)) {
        /* the pipeline has judged part of a message whose offset is not marked yet:
         * checkpoint once its last part is out (the next loop turn, as still due) */
        return VG_EAGAIN;
    } else {
        VgCheckpoint *c = vg_checkpoint_new(r->group);
        c->created_ms = g_get_real_time() / 1000;
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, r->next);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            const char *topic;
            int32_t kp;
            if (vg_kafka_collector_partition_info(r->kc, GPOINTER_TO_INT(key), &topic, &kp))
                vg_checkpoint_add_offset(c, topic, kp, *(int64_t *)value);
        }
        /* partitions of the restored checkpoint this process has not been given (yet)
         * keep their offsets: their state is still in the pipeline */
        for (guint i = 0; r->restored && i < r->restored->offsets->len; i++) {
            const VgCheckpointOffset *o =
                &g_array_index(r->restored->offsets, VgCheckpointOffset, i);
            if (vg_checkpoint_offset(c, o->topic, o->partition) < 0)
                vg_checkpoint_add_offset(c, o->topic, o->partition, o->next_offset);
        }
        vg_pipeline_snapshot(vg_run_state_find(r->st, 0), c->state);
        rc = vg_checkpointer_save(r->ckptr, c, &err);
        if (rc != VG_OK) {
            vg_log_error("checkpoint not written: a restart resumes from the previous one", "error",
                         err->message);
            g_clear_error(&err);
        } else {
            char n[16];
            g_snprintf(n, sizeof n, "%u", c->offsets->len);
            vg_log_debug("checkpoint written", "partitions", n);
        }
        vg_checkpoint_free(c);
    }
    if (vg_kafka_collector_commit(r->kc, false, &err) != VG_OK) {
        vg_log_warn("kafka commit after checkpoint failed", "error", err->message);
        g_clear_error(&err);
    }
    return rc;
}

/* Per-partition mode, a partition just assigned: its state from Redis, and where to read
 * on. Without a usable state it starts fresh from the group's committed offset. */
static void load_partition(Run *r, int32_t partition)
{
    const char *topic;
    int32_t kp;
    if (!r->restore || !vg_kafka_collector_partition_info(r->kc, partition, &topic, &kp))
        return;
    char ps[16], off[24];
    g_snprintf(ps, sizeof ps, "%d", kp);
    int64_t at = -1;
    GError *err = NULL;
    int rc = vg_run_state_load(r->st, partition, topic, kp, &at, &err);
    if (rc == VG_OK) {
        /* the state holds every event before at, and none after: read from there */
        vg_kafka_collector_start_at(r->kc, partition, at);
        next_set(r, partition, at);
        int64_t *saved = g_new(int64_t, 1);
        *saved = at;
        g_hash_table_replace(r->saved, GINT_TO_POINTER(partition), saved);
        g_snprintf(off, sizeof off, "%" G_GINT64_FORMAT, at);
        vg_log_info("partition state loaded", "topic", topic, "partition", ps, "next_offset", off);
    } else if (rc == VG_ENOENT) {
        vg_log_info("no stored state for partition: starting it fresh from the committed offset",
                    "topic", topic, "partition", ps);
    } else {
        vg_log_error("partition state not loaded: starting it fresh from the committed offset",
                     "topic", topic, "partition", ps, "error", err->message);
    }
    g_clear_error(&err);
}

/* Per-partition mode, before the first partition's pipeline: each partition's models get
 * their share of models.memory_budget (cli-run-state.h). Without the topics' metadata they
 * get all of it, as one pipeline would. */
static void share_models(Run *r)
{
    r->shared = true;
    GError *err = NULL;
    int parts = vg_kafka_collector_topic_partitions(r->kc, 10000, &err);
    int64_t each = 0;
    if (parts > 0 && vg_run_state_share_models(r->st, parts, &each, &err) == VG_OK) {
        char ps[16], eb[24];
        g_snprintf(ps, sizeof ps, "%d", parts);
        g_snprintf(eb, sizeof eb, "%" G_GINT64_FORMAT, each);
        vg_log_info("models.memory_budget divided over the subscribed topics' partitions",
                    "partitions", ps, "bytes_per_partition", eb);
        return;
    }
    vg_log_warn("each partition's models get the whole models.memory_budget", "error",
                err->message);
    g_error_free(err);
}

/* librdkafka's broker threads allocate a buffer per fetch response and per decompressed
 * message set (up to megabytes). With glibc's defaults many of those are mapped and
 * unmapped, or trimmed off a thread arena, each time, so the kernel zeroes fresh pages
 * for every fetch: a quarter of the broker threads' CPU, which on a small machine is CPU
 * the judging thread does not get (bench's Kafka backlog, 2 cores: 2.2-2.5 -> 1.7-1.9 CPU
 * s per million events in the broker threads). Buffers up to 32 MiB come from the arenas
 * and stay there for the next fetch (at most 128 MiB kept free at an arena's top). */
static void keep_fetch_buffers(void)
{
    if (!mallopt(M_MMAP_THRESHOLD, 32 << 20) || !mallopt(M_TRIM_THRESHOLD, 128 << 20))
        vg_log_warn("malloc thresholds not set: Kafka fetches may cost more CPU");
}

static void on_rebalance(void *user, VgKafkaRebalance what, const int32_t *ids, size_t n)
{
    Run *r = user;
    bool per_part = vg_run_state_per_partition(r->st);
    if (per_part && what == VG_KAFKA_ASSIGNED && n && !r->shared)
        share_models(r);
    /* every batch handed out before this call has been judged and, if delivered, marked:
     * on one thread at once, with workers once they are drained (a revoked partition's
     * batch stuck behind a full delivery is given up: the next owner reads it again) */
    if (what != VG_KAFKA_ASSIGNED && !drain_workers(r, 10, ids, n, false))
        vg_log_error("revoked partitions still being judged: their state is not saved");
    for (size_t i = 0; i < n; i++) {
        if (what == VG_KAFKA_ASSIGNED) {
            const char *topic;
            int32_t kp;
            int64_t at = -1;
            if (per_part) {
                load_partition(r, ids[i]);
            } else if (r->restored &&
                       vg_kafka_collector_partition_info(r->kc, ids[i], &topic, &kp)) {
                at = vg_checkpoint_offset(r->restored, topic, kp);
                if (at >= 0) {
                    /* the state holds every event before at, and none after */
                    vg_kafka_collector_start_at(r->kc, ids[i], at);
                    next_set(r, ids[i], at);
                }
            }
            /* an assigned partition holds the watermark back until its first event or
             * until it has been quiet for kafka.idle_timeout, so that reading one
             * partition first does not make the others' events late */
            VgPipeline *p = vg_run_state_pipeline(r->st, ids[i]);
            if (p)
                vg_pipeline_partition_idle(p, ids[i], false);
            seen(r, ids[i]);
            continue;
        }
        if (per_part) {
            /* revoked: the next owner loads what is saved now; lost: it may own the
             * partition already, and loads the last periodic save */
            if (what == VG_KAFKA_REVOKED && (!r->wk || !vg_run_workers_outstanding(r->wk)))
                save_partition(r, ids[i]);
            if (!r->wk || !vg_run_workers_outstanding(r->wk))
                vg_run_state_drop(r->st, ids[i]); /* else a worker may still hold it */
            g_hash_table_remove(r->saved, GINT_TO_POINTER(ids[i]));
            g_hash_table_remove(r->tainted, GINT_TO_POINTER(ids[i]));
            if (r->full && r->held_partition == ids[i]) {
                /* its alerts were refused and go with the pipeline; the offset was not
                 * marked, so the next owner reads the batch again */
                r->full = false;
                r->resume = true;
            }
            if (r->holding && r->held.partition == ids[i]) {
                /* read, never judged, not marked: the next owner reads it */
                vg_line_batch_clear(&r->held);
                r->holding = false;
            }
        } else {
            VgPipeline *p = vg_run_state_find(r->st, ids[i]);
            vg_pipeline_partition_idle(p, ids[i], true);
        }
        g_hash_table_remove(r->active, GINT_TO_POINTER(ids[i]));
        if (r->next)
            g_hash_table_remove(r->next, GINT_TO_POINTER(ids[i]));
    }
}

/* One pipeline for several partitions: a quiet one stops holding the watermark back.
 * (Per partition, a pipeline's clock is its partition's own.) */
static void check_idle(Run *r)
{
    gint64 now = g_get_monotonic_time();
    if (r->idle_timeout_ms <= 0 || now - r->last_idle_check < G_USEC_PER_SEC ||
        vg_run_state_per_partition(r->st))
        return;
    r->last_idle_check = now;
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, r->active);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        if (now - *(gint64 *)value >= r->idle_timeout_ms * 1000) {
            VgPipeline *p = vg_run_state_find(r->st, GPOINTER_TO_INT(key));
            if (p)
                vg_pipeline_partition_idle(p, GPOINTER_TO_INT(key), true);
            g_hash_table_iter_remove(&it);
        }
    }
}

/* One pipeline over several partitions: events more than a models bucket behind the
 * newest — partitions the merge could not keep in step (process_merged()), or events out
 * of order within their partition — are ignored by the models as late (README, Deployment
 * with Kafka). The metric counts them; the log says so every 10 s while it goes on, and
 * at the end (force). */
static void check_models_late(Run *r, bool force)
{
    gint64 now = g_get_monotonic_time();
    if ((!force && now - r->last_late_check < 10 * G_USEC_PER_SEC) ||
        vg_run_state_per_partition(r->st))
        return;
    r->last_late_check = now;
    VgModelsStats ms;
    size_t budget;
    VgPipelineStats ps;
    VgAlertStats as;
    if (!vg_run_state_models(r->st, &ms, &budget))
        return;
    vg_run_state_totals(r->st, &ps, &as);
    uint64_t only = ms.late > ps.late ? ms.late - ps.late : 0; /* not late for the pipeline */
    if (only <= r->models_late_said)
        return;
    char n[24], all[24];
    g_snprintf(n, sizeof n, "%" G_GUINT64_FORMAT, only - r->models_late_said);
    g_snprintf(all, sizeof all, "%" G_GUINT64_FORMAT, only);
    vg_log_warn("events late for the models: over a bucket older than the newest event, from "
                "partitions read out of step (more kafka.merge_bytes or merge_wait would help) "
                "or out of order within their partition; state per partition judges each "
                "partition on its own clock",
                "events", n, "since_start", all);
    r->models_late_said = only;
}

static void seen(Run *r, int32_t partition)
{
    gint64 *t = g_hash_table_lookup(r->active, GINT_TO_POINTER(partition));
    if (!t) {
        t = g_new(gint64, 1);
        g_hash_table_insert(r->active, GINT_TO_POINTER(partition), t);
    }
    *t = g_get_monotonic_time();
}

/* SIGUSR1: one log line with where the daemon stands. */
static void status(Run *r)
{
    VgPipelineStats pst;
    VgAlertStats ast;
    vg_run_state_totals(r->st, &pst, &ast);
    const VgPipelineStats *ps = &pst;
    const VgAlertStats *as = &ast;
    char wm[25] = "none", n[8][24];
    if (ps->watermark != INT64_MIN)
        vg_time_format(ps->watermark, wm);
    g_snprintf(n[0], sizeof n[0], "%" G_GUINT64_FORMAT, ps->lines);
    g_snprintf(n[1], sizeof n[1], "%" G_GUINT64_FORMAT, ps->events);
    g_snprintf(n[2], sizeof n[2], "%" G_GUINT64_FORMAT, ps->bad_total);
    g_snprintf(n[3], sizeof n[3], "%" G_GUINT64_FORMAT, ps->late);
    g_snprintf(n[4], sizeof n[4], "%" G_GUINT64_FORMAT, as->emitted + as->updates);
    g_snprintf(n[5], sizeof n[5], "%" G_GUINT64_FORMAT, as->suppressed);
    g_snprintf(n[6], sizeof n[6], "%" G_GUINT64_FORMAT, vg_delivery_pushed(r->dl));
    g_snprintf(n[7], sizeof n[7], "%" G_GUINT64_FORMAT, vg_delivery_delivered_upto(r->dl));
    vg_log_info("status", "lines", n[0], "events", n[1], "bad", n[2], "late", n[3], "alerts", n[4],
                "suppressed", n[5], "alerts_pushed", n[6], "alerts_delivered", n[7], "watermark",
                wm);
    for (size_t i = 0; i < vg_delivery_n_sinks(r->dl); i++) {
        VgSinkStats st;
        vg_delivery_stats(r->dl, i, &st);
        char d[24], sp[24];
        g_snprintf(d, sizeof d, "%" G_GUINT64_FORMAT, st.delivered);
        g_snprintf(sp, sizeof sp, "%" G_GUINT64_FORMAT, st.spool_records);
        vg_log_info("status of sink", "sink", st.name ? st.name : "?", "up",
                    st.down ? "false" : "true", "delivered", d, "spooled_now", sp);
    }
}

/* SIGHUP, on the loop's thread: vigil.yml is read again and its reloadable options
 * (log.level, alerts.cooldown, alerts.max_samples, rules.paths, rules.expand) take effect;
 * the rules are re-read; file sinks reopen (logrotate). A file or rule set with errors is
 * refused as a whole and what runs stays. Model and correlation state are kept. Other
 * options need a restart. */
static void reload(Run *r)
{
    if (r->wk && (vg_run_workers_full(r->wk) || !drain_workers(r, 5, NULL, 0, false))) {
        if (!r->reload_deferred)
            vg_log_warn("reload deferred until the alert delivery takes alerts again");
        r->reload_deferred = true;
        hup_signal = 1; /* the next loop turn tries again */
        return;
    }
    r->reload_deferred = false;
    vg_delivery_reopen(r->dl);
    GError *err = NULL;
    VgSettings *ns = r->cli && r->cli->config ? vg_cli_settings(r->cli) : NULL;
    if (r->cli && r->cli->config && !ns) {
        vg_log_error("configuration not reloaded: the running one stays (see the error above)");
        return;
    }
    if (vg_run_state_reconfigure(r->st, ns, &err) != VG_OK) {
        vg_log_error("rules not reloaded: the running rule set stays", "error",
                     err ? err->message : "unknown");
        g_clear_error(&err);
        vg_settings_free(ns);
        return;
    }
    /* ns is the state's now; vg_cli_settings set log.level already */
    vg_log_info("rules reloaded");
}

/* Loads the checkpoint at path into the (single) pipeline. A missing file is a first start. A
 * checkpoint that cannot be used (corrupt, another version, another models config) is logged as an
 * error, counted, moved aside to path.bad for a look, and the run starts without state
 * from the group's committed offsets: at-least-once still holds, the baselines are new.
 * Returns VG_OK, or VG_ECONFIG when a fresh pipeline cannot be built. */
static int restore(Run *r, const char *path)
{
    GError *err = NULL;
    VgCheckpoint *c = vg_checkpoint_read_file(path, &err);
    if (!c && err->code == VG_ENOENT) {
        vg_log_info("no checkpoint yet: starting without state", "path", path);
        g_error_free(err);
        return VG_OK;
    }
    if (c && vg_pipeline_restore(vg_run_state_find(r->st, 0), c->state->data, c->state->len,
                                 &err) == VG_OK) {
        char n[16];
        g_snprintf(n, sizeof n, "%u", c->offsets->len);
        vg_log_info("checkpoint restored", "path", path, "partitions", n);
        if (c->group && r->group && strcmp(c->group, r->group))
            vg_log_warn("checkpoint was written by another consumer group", "group", c->group);
        r->restored = c;
        return VG_OK;
    }
    vg_log_error("checkpoint not restored: starting without state from the committed offsets",
                 "path", path, "error", err->message);
    g_clear_error(&err);
    vg_checkpointer_restore_failed(r->ckptr);
    char *aside = g_strdup_printf("%s.bad", path);
    if (rename(path, aside) != 0)
        vg_log_warn("cannot move the checkpoint aside", "path", aside);
    g_free(aside);
    vg_checkpoint_free(c);
    if (vg_run_state_reset(r->st, &err) != VG_OK) {
        fprintf(stderr, "vigil: %s\n", err->message);
        g_error_free(err);
        return VG_ECONFIG;
    }
    return VG_OK;
}

/* Workers: hands the held batch to its worker once one of its slots is free. While none
 * is, waits for judged batches a little; holding on longer pauses the input (librdkafka
 * then drops its prefetch: memory stays bounded) until the batch is handed over. Returns
 * true while the batch is still held. */
static bool hand_over_held(Run *r)
{
    VgPipeline *p = vg_run_state_find(r->st, r->held.partition);
    if (p && !vg_run_workers_submit(r->wk, &r->held, p)) {
        vg_run_workers_collect(r->wk, 20000, on_done, r);
        if (!r->paused_for_workers && g_get_monotonic_time() - r->holding_since > 200000) {
            vg_kafka_collector_pause(r->kc);
            r->paused_for_workers = true;
        }
        return true;
    }
    r->holding = false; /* handed over, or its partition is gone */
    vg_line_batch_clear(&r->held);
    return false;
}

/* One pipeline over several partitions: the collector's order (the partition the pipeline
 * has judged least far in event time goes first). */
static int64_t partition_time(void *user, int32_t partition)
{
    Run *r = user;
    VgPipeline *p = vg_run_state_find(r->st, partition);
    return p ? vg_pipeline_partition_time(p, partition) : INT64_MIN;
}

/* One thread, one pipeline: judges the batch, but with the models running only up to half
 * a models bucket past the oldest event time of the other partitions queued in the
 * collector (or expected: kafka.merge_wait); the rest goes back to the collector and is
 * judged once those caught up. So a backlog read from many partitions reaches the models
 * within a bucket of each other instead of late (README, Deployment with Kafka). *last:
 * the offset the judged lines cover. VG_EAGAIN: nothing judged, all of it went back. */
static int process_merged(Run *r, VgPipeline *p, VgLineBatch *b, int64_t *last)
{
    int64_t until = INT64_MAX;
    bool dry = false;
    VgDetector *m = vg_run_state_per_partition(r->st) ? NULL : vg_pipeline_detector(p, "models");
    int64_t bucket = m ? vg_models_bucket_ms(m) : 0;
    if (bucket > 0) {
        int64_t lo = vg_kafka_collector_merge_limit(r->kc, b->partition, &dry);
        if (lo != INT64_MAX)
            until = lo > INT64_MAX - bucket / 2 ? INT64_MAX : lo + bucket / 2;
    }
    uint32_t done = b->n;
    int rc = vg_pipeline_process_until(p, b, until, dry, &done);
    if (done < b->n) {
        vg_kafka_collector_unread(r->kc, b, done);
        if (!done)
            return VG_EAGAIN;
        *last = b->lines[done - 1].offset;
    }
    return rc;
}

/* The Kafka loop. Returns VG_OK when stopped by a signal, VG_EIO on a consumer failure. */
static int run_kafka(Run *r, int64_t batch_lines)
{
    VgCollector *col = vg_kafka_collector_base(r->kc);
    VgLineBatch b;
    vg_line_batch_init(&b, (uint32_t)batch_lines, 1 << 20);
    int rc = VG_OK;
    while (!stop_signal) {
        if (hup_signal) {
            hup_signal = 0;
            reload(r);
        }
        if (usr1_signal) {
            usr1_signal = 0;
            status(r);
        }
        if (r->resume) { /* a revocation took the batch the input was paused for */
            r->resume = false;
            vg_kafka_collector_resume(r->kc);
        }
        if (r->full && vg_run_state_flush(r->st) == VG_OK) {
            r->full = false;
            done_upto(r, r->held_partition, r->held_offset);
            vg_kafka_collector_resume(r->kc);
            vg_log_info("alert delivery caught up: reading again");
        }
        bool holding = false;
        if (r->wk) {
            vg_run_workers_collect(r->wk, 0, on_done, r);
            holding = r->holding && hand_over_held(r);
            if (!holding && r->paused_for_workers) {
                r->paused_for_workers = false;
                vg_kafka_collector_resume(r->kc);
            }
        }
        vg_line_batch_clear(&b);
        GError *err = NULL;
        /* holding: no read until the input is paused; a paused input hands out nothing
         * (it only serves callbacks: rebalances, the group session) */
        int n = holding && !r->paused_for_workers ? VG_EAGAIN : col->ops->next(col, &b, &err);
        if (n == VG_EIO) {
            vg_log_error("kafka input failed", "error", err ? err->message : "unknown");
            g_clear_error(&err);
            rc = VG_EIO;
            break;
        }
        if (n == VG_OK && b.n) {
            /* lines are in offset order: the last one's offset covers the batch */
            int64_t last = b.lines[b.n - 1].offset;
            int prc;
            seen(r, b.partition);
            VgPipeline *p = vg_run_state_pipeline(r->st, b.partition);
            if (!p) {
                rc = VG_EIO; /* logged; the partition cannot be judged: restart */
                break;
            }
            if (r->wk) {
                if (!vg_run_workers_submit(r->wk, &b, p)) {
                    VgLineBatch t = r->held;
                    r->held = b;
                    b = t;
                    r->holding = true;
                    r->holding_since = g_get_monotonic_time();
                }
            } else if ((prc = process_merged(r, p, &b, &last)) == VG_EFULL) {
                r->full = true;
                r->held_partition = b.partition;
                r->held_offset = last;
                vg_kafka_collector_pause(r->kc);
                vg_log_warn("alert delivery full: pausing kafka input");
            } else if (prc != VG_EAGAIN) { /* (EAGAIN: all of it went back, unjudged) */
                done_upto(r, b.partition, last);
            }
        } else if (!r->full && !holding) {
            /* retries spooled records while the input is quiet (with workers, the
             * delivery's own flush: the pipelines are theirs) */
            if (r->wk) {
                VgAlertOutput o = vg_run_workers_output(r->wk);
                o.flush(o.user);
            } else {
                vg_run_state_flush(r->st);
            }
        }
        vg_run_metrics_publish(r->rm);
        check_idle(r);
        check_models_late(r, false);
        /* per partition, a held batch only keeps its own partition from being saved; with
         * workers, the state is read once they are drained */
        if (r->ckptr && vg_checkpointer_due(r->ckptr)) {
            if (r->wk) {
                if (!holding && !vg_run_workers_full(r->wk) && drain_workers(r, 5, NULL, 0, false))
                    checkpoint(r);
                else
                    vg_checkpointer_touch(r->ckptr); /* try again next interval */
            } else if (!r->full || vg_run_state_per_partition(r->st)) {
                checkpoint(r);
            }
        }
    }
    vg_line_batch_free(&b);
    /* shutdown: what the workers hold is judged and delivered, or given up (a full
     * delivery) and then not marked and its partition's state not saved */
    if (r->wk && !drain_workers(r, 5, NULL, 0, true))
        vg_log_error("workers did not hand their batches back at shutdown");
    if (r->holding) {
        vg_line_batch_clear(&r->held); /* never judged, not marked: read again next time */
        r->holding = false;
    }
    if (r->ckptr && rc == VG_OK) {
        /* shutdown: the held batch must be out before its offsets can be claimed */
        gint64 until = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
        while (r->full && g_get_monotonic_time() < until) {
            if (vg_run_state_flush(r->st) == VG_OK) {
                r->full = false;
                done_upto(r, r->held_partition, r->held_offset);
            }
        }
        if (r->full && !vg_run_state_per_partition(r->st))
            vg_log_error("checkpoint not written at shutdown (alert delivery still full): a "
                         "restart resumes from the previous one");
        else if (checkpoint(r) == VG_EAGAIN)
            vg_log_warn("checkpoint not written at shutdown (stopped inside a message split "
                        "across batches): a restart resumes from the previous one");
    }
    return rc;
}

/* The file loop: round robin over the inputs until all ended (or a signal). */
static int run_files(Run *r, const VgSettings *s)
{
    char *stdin_only[] = {(char *)"-", NULL};
    char **files = s->input.files && s->input.files[0] ? s->input.files : stdin_only;
    VgFileCollectorConf fc = {.max_line_bytes = (size_t)s->input.max_line_bytes,
                              .follow = s->input.follow};
    GPtrArray *cols = g_ptr_array_new();
    int rc = VG_OK;
    for (char **f = files; *f; f++) {
        GError *err = NULL;
        bool follow = fc.follow && strcmp(*f, "-") != 0;
        VgFileCollectorConf one = fc;
        one.follow = follow;
        VgCollector *c = vg_file_collector_open(*f, &one, &err);
        if (!c) {
            vg_log_error("cannot read input", "error", err->message);
            g_error_free(err);
            rc = VG_EIO;
            continue;
        }
        g_ptr_array_add(cols, c);
    }
    VgLineBatch b;
    vg_line_batch_init(&b, (uint32_t)s->engine.batch_lines, 1 << 20);
    while (!stop_signal && cols->len) {
        bool any = false;
        if (hup_signal) {
            hup_signal = 0;
            reload(r);
        }
        if (usr1_signal) {
            usr1_signal = 0;
            status(r);
        }
        for (guint i = 0; i < cols->len && !stop_signal;) {
            VgCollector *c = cols->pdata[i];
            GError *err = NULL;
            vg_line_batch_clear(&b);
            int n = c->ops->next(c, &b, &err);
            if (b.n) {
                any = true;
                VgPipeline *p = vg_run_state_pipeline(r->st, b.partition);
                int pr = vg_pipeline_process(p, &b);
                vg_run_metrics_publish(r->rm);
                if (pr == VG_EFULL)
                    while (vg_pipeline_flush(p) == VG_EFULL && !stop_signal)
                        ; /* the delivery waits between retries */
            }
            if (n == VG_EOF || n == VG_EIO) {
                if (n == VG_EIO) {
                    vg_log_error("read error", "error", err ? err->message : "unknown");
                    rc = VG_EIO;
                }
                g_clear_error(&err);
                c->ops->close(c);
                g_ptr_array_remove_index(cols, i);
                continue;
            }
            i++;
        }
        if (!any) {
            vg_run_state_flush(r->st);
            vg_run_metrics_publish(r->rm);
            g_usleep(100000);
        }
    }
    for (guint i = 0; i < cols->len; i++) {
        VgCollector *c = cols->pdata[i];
        c->ops->close(c);
    }
    g_ptr_array_free(cols, TRUE);
    vg_line_batch_free(&b);
    return rc;
}

int vg_cmd_run(int argc, char **argv)
{
    VgCliCommon c = {0};
    gint drain_s = 10;
    GOptionEntry extra[] = {
        {"drain-timeout", 0, 0, G_OPTION_ARG_INT, &drain_s,
         "Seconds to deliver pending alerts on shutdown (default 10)", "S"},
        {NULL},
    };
    GOptionContext *ctx = g_option_context_new(NULL);
    g_option_context_set_summary(
        ctx, "Run as a daemon: read the Kafka topics of the kafka: section (or input.files,\n"
             "or standard input), raise alerts to the configured sinks, commit Kafka offsets\n"
             "behind delivered alerts. SIGTERM drains and exits; SIGHUP reloads the rules and "
             "reopens file sinks.");
    vg_cli_add_common(ctx, &c);
    g_option_context_add_main_entries(ctx, extra, NULL);
    GError *err = NULL;
    int rc = VG_EXIT_USAGE;
    VgSettings *s = NULL;
    VgKafkaConf kconf = {0};
    bool kconf_loaded = false;
    Run r = {0};
    VgMetricsConf mconf = {0};
    VgRunMetrics *rm = NULL;
    VgMetricsServer *msrv = NULL;
    VgCheckpointConf cconf = {0};
    VgStateRedis *shared = NULL;
    r.active = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    r.saved = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    r.tainted = g_hash_table_new(g_direct_hash, g_direct_equal);

    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        rc = vg_cli_usage_error(ctx, "%s", err->message);
        goto out;
    }
    if (argc > 1) {
        rc = vg_cli_usage_error(ctx, "run takes no file arguments (use input.files)");
        goto out;
    }
    if (!(s = vg_cli_settings(&c)))
        goto out;
    if (vg_metrics_conf_load(&mconf, s->metrics, &err) != VG_OK) {
        fprintf(stderr, "vigil: %s\n", err->message);
        goto out;
    }
    if (s->kafka) {
        kconf_loaded = true;
        if (vg_kafka_conf_load(&kconf, s->kafka, &err) != VG_OK) {
            fprintf(stderr, "vigil: %s\n", err->message);
            goto out;
        }
        r.idle_timeout_ms = kconf.idle_timeout_ms;
    }
    if (vg_checkpoint_conf_load(&cconf, s->checkpoint, &err) != VG_OK) {
        fprintf(stderr, "vigil: %s\n", err->message);
        goto out;
    }
    bool want_ckpt = (cconf.path && cconf.path[0]) || cconf.redis;
    if (want_ckpt && !s->kafka) {
        vg_log_warn("checkpoint.path or checkpoint.redis is set but the input is not Kafka: no "
                    "checkpoints");
        want_ckpt = false;
    }
    if (want_ckpt && cconf.redis && !(shared = vg_state_redis_new(cconf.redis, &err))) {
        fprintf(stderr, "vigil: %s\n", err->message);
        goto out;
    }
    /* several threads on Kafka judge partitions apart: state per partition */
    int n_workers = s->kafka ? (int)s->engine.workers : 1;
    if (n_workers > 1 && cconf.path && cconf.path[0]) {
        fprintf(stderr, "vigil: engine.workers > 1 on Kafka keeps state per partition: use "
                        "checkpoint.redis, not checkpoint.path\n");
        goto out;
    }
    if (!s->kafka && s->engine.workers > 1)
        vg_log_warn("engine.workers applies to vigil run on Kafka (and to replay): reading "
                    "files on one thread");
    rc = VG_EXIT_FAIL;
    r.dl = vg_delivery_new(s->sinks, s->spool, &err);
    if (!r.dl) {
        fprintf(stderr, "vigil: %s\n", err->message);
        rc = VG_EXIT_USAGE;
        goto out;
    }
    rm = vg_run_metrics_new(s->kafka ? "kafka" : "files");
    VgAlertOutput aout = vg_run_metrics_output(rm, vg_delivery_output(r.dl));
    if (want_ckpt) {
        r.ckptr = vg_checkpointer_new(&cconf);
        r.next = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
        r.group = kconf.group;
        r.restore = cconf.restore;
    }
    if (n_workers > 1) {
        r.wk = vg_run_workers_new(n_workers, (uint32_t)s->engine.batch_lines, aout);
        aout = vg_run_workers_output(r.wk);
        vg_line_batch_init(&r.held, (uint32_t)s->engine.batch_lines, 1 << 20);
    }
    r.st = vg_run_state_new(s, aout, n_workers > 1 || shared, shared, r.ckptr, kconf.group, &err);
    shared = NULL; /* the state's, even when it failed */
    if (!r.st) {
        fprintf(stderr, "vigil: %s\n", err->message);
        rc = VG_EXIT_USAGE;
        goto out;
    }
    if (r.ckptr && !vg_run_state_per_partition(r.st) && cconf.restore &&
        restore(&r, cconf.path) != VG_OK) {
        rc = VG_EXIT_USAGE;
        goto out;
    }
    if (s->kafka) {
        keep_fetch_buffers();
        VgKafkaCollectorOpts o = {.max_line_bytes = (size_t)s->input.max_line_bytes,
                                  .rebalance = on_rebalance,
                                  .user = &r};
        r.kc = vg_kafka_collector_open(&kconf, &o, &err);
        if (!r.kc) {
            fprintf(stderr, "vigil: %s\n", err->message);
            rc = VG_EXIT_USAGE;
            goto out;
        }
        if (!vg_run_state_per_partition(r.st))
            vg_kafka_collector_set_clock(r.kc, partition_time, &r);
    }
    vg_run_metrics_watch_state(rm, r.st);
    vg_run_metrics_watch_delivery(rm, r.dl);
    r.rm = rm;
    r.cli = &c;
    if (r.kc)
        vg_run_metrics_watch_kafka(rm, r.kc);
    if (mconf.enabled && !(msrv = vg_metrics_server_start(&mconf, &err))) {
        fprintf(stderr, "vigil: %s\n", err->message);
        goto out;
    }
    struct sigaction sa = {.sa_handler = on_stop};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    gint64 t0 = g_get_monotonic_time();
    vg_log_info("vigil run started", "input", s->kafka ? "kafka" : "files");
    vg_run_metrics_set_ready(rm, true, NULL);
    int res = r.kc ? run_kafka(&r, s->engine.batch_lines) : run_files(&r, s);
    vg_run_metrics_set_ready(rm, false, "shutting down");
    if (r.kc)
        check_models_late(&r, true);

    /* shutdown: bounded by the watchdog whatever the brokers and sinks do */
    if (drain_s < 0)
        drain_s = 0;
    alarm((unsigned)drain_s + 20);
    vg_log_info("vigil run stopping", "reason", stop_signal ? "signal" : "input ended");
    /* with checkpoints the open windows live on in the checkpoint (written by the loop on
     * its way out); without, they are closed now rather than forgotten */
    if (!r.ckptr)
        vg_run_state_finish(r.st);
    GError *cerr = NULL;
    int dr = vg_delivery_close(r.dl, (int64_t)drain_s * 1000, &cerr);
    if (dr == VG_EFULL)
        vg_log_error("alerts lost at shutdown", "error", cerr ? cerr->message : "spool full");
    else if (dr != VG_OK)
        vg_log_warn("alerts left in the spool for the next start", "detail",
                    cerr ? cerr->message : "");
    g_clear_error(&cerr);
    /* the collectors read r.kc, r.st and r.dl: stop scrapes before any of them goes */
    vg_metrics_server_stop(msrv);
    msrv = NULL;
    vg_run_metrics_free(rm);
    rm = NULL;
    if (r.kc) {
        VgKafkaStats ks;
        vg_kafka_collector_stats(r.kc, &ks);
        char m[24], l[24], cm[24];
        g_snprintf(m, sizeof m, "%" G_GUINT64_FORMAT, ks.messages);
        g_snprintf(l, sizeof l, "%" G_GUINT64_FORMAT, ks.lines);
        g_snprintf(cm, sizeof cm, "%" G_GUINT64_FORMAT, ks.commits);
        /* the close commits the last marks and leaves the group */
        vg_kafka_collector_base(r.kc)->ops->close(vg_kafka_collector_base(r.kc));
        r.kc = NULL;
        vg_log_info("kafka consumer closed", "messages", m, "lines", l, "commits", cm);
    }
    double el = (double)(g_get_monotonic_time() - t0) / 1e6;
    if (!c.quiet) {
        VgPipelineStats ps;
        VgAlertStats as;
        vg_run_state_totals(r.st, &ps, &as);
        vg_cli_summary_of("run", &ps, &as, el);
    }
    rc = res == VG_OK && dr != VG_EFULL ? VG_EXIT_OK : VG_EXIT_FAIL;
out:
    g_clear_error(&err);
    vg_metrics_server_stop(msrv);
    vg_run_metrics_free(rm);
    vg_metrics_conf_clear(&mconf);
    vg_checkpoint_conf_clear(&cconf);
    if (r.kc)
        vg_kafka_collector_base(r.kc)->ops->close(vg_kafka_collector_base(r.kc));
    vg_run_state_free(r.st);
    vg_run_workers_free(r.wk);
    if (r.wk)
        vg_line_batch_free(&r.held);
    vg_state_redis_free(shared);
    vg_checkpointer_free(r.ckptr);
    vg_checkpoint_free(r.restored);
    if (r.next)
        g_hash_table_destroy(r.next);
    g_hash_table_destroy(r.saved);
    g_hash_table_destroy(r.tainted);
    vg_delivery_free(r.dl);
    if (kconf_loaded)
        vg_kafka_conf_clear(&kconf);
    vg_settings_free(s);
    g_hash_table_destroy(r.active);
    g_option_context_free(ctx);
    g_free(c.config);
    g_free(c.format);
    g_strfreev(c.rules);
    return rc;
}

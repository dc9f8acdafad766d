/* collector-kafka-offsets.c — which partitions are ours and how far they are done.
 *
 * The partition table has one entry per (topic, partition) ever assigned; an entry is never
 * freed before the collector, because batches point at its `source` name. It holds the
 * mark (the next offset to commit: the last marked offset + 1) and what was last sent in a
 * commit; a commit sends the entries whose mark moved. Marks come from any thread, hence
 * the mutex, which is never held while librdkafka calls back into us.
 *
 * Commits are asynchronous when periodic and synchronous on revocation and close. An
 * entry counts as committed when the commit is sent; if the broker refuses it (during a
 * rebalance, a coordinator change) the commit callback undoes that, so the next commit
 * sends it again. A refused commit never loses anything: the partition's next reader
 * starts at the last commit that did succeed and reads again what came after it.
 *
 * Rebalances (eager or cooperative, whatever the assignor) go through the run loop's
 * callback first, so on revocation it can finish what it holds and mark it; then the
 * revoked partitions' marks are committed synchronously, unless the assignment was lost,
 * in which case a commit could only fail.
 */
#include "collectors/collector-kafka-int.h"

#include "engine/log.h"

/* --- partition table ------------------------------------------------------------------ */

VgKafkaPart *vg_kafka_part_get(VgKafkaCollector *c, const char *topic, int32_t kp)
{
    guint slot;
    for (slot = 0; slot < c->topics->len; slot++)
        if (!strcmp(c->topics->pdata[slot], topic))
            break;
    if (slot == c->topics->len)
        g_ptr_array_add(c->topics, g_strdup(topic));
    int32_t id = (int32_t)(slot << VG_KAFKA_TOPIC_SHIFT) | kp;
    VgKafkaPart *p = g_hash_table_lookup(c->parts, GINT_TO_POINTER(id));
    if (!p) {
        p = g_new0(VgKafkaPart, 1);
        p->id = id;
        p->kp = kp;
        p->topic = c->topics->pdata[slot];
        p->source = g_strdup_printf("kafka:%s/%d", topic, kp);
        p->marked = p->committed = p->start = -1;
        g_hash_table_insert(c->parts, GINT_TO_POINTER(id), p);
    }
    return p;
}

/* (Its queue is empty: the collector drops the queues before librdkafka goes.) */
void vg_kafka_part_free(gpointer p)
{
    if (p) {
        g_free(((VgKafkaPart *)p)->source);
        g_free(((VgKafkaPart *)p)->q.v);
    }
    g_free(p);
}

void vg_kafka_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    VgKafkaCollector *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;
    g_mutex_lock(&c->lock);
    for (int i = 0; offsets && i < offsets->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &offsets->elems[i];
        if (!err && !tp->err)
            continue;
        c->stats.commit_failures++;
        /* commit() counted it done; forget that so the next commit sends it again */
        VgKafkaPart *p = vg_kafka_part_get(c, tp->topic, tp->partition);
        if (p->committed == tp->offset)
            p->committed = -1;
    }
    g_mutex_unlock(&c->lock);
    if (err)
        vg_log_warn("kafka offset commit failed (will retry)", "error", rd_kafka_err2name(err));
}

/* Partition ids of a list (creating entries); caller g_free()s. */
static int32_t *ids_of(VgKafkaCollector *c, const rd_kafka_topic_partition_list_t *l)
{
    int32_t *ids = g_new(int32_t, l->cnt ? l->cnt : 1);
    g_mutex_lock(&c->lock);
    for (int i = 0; i < l->cnt; i++)
        ids[i] = vg_kafka_part_get(c, l->elems[i].topic, l->elems[i].partition)->id;
    g_mutex_unlock(&c->lock);
    return ids;
}

void vg_kafka_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *list, void *opaque)
{
    VgKafkaCollector *c = opaque;
    bool coop = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    int32_t *ids = ids_of(c, list);
    size_t n = (size_t)list->cnt;
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t re = RD_KAFKA_RESP_ERR_NO_ERROR;
    char count[16];
    g_snprintf(count, sizeof count, "%d", list->cnt);
    GString *names = g_string_new(NULL); /* "topic/0,topic/3": which ones, for the log */
    for (int i = 0; i < list->cnt && names->len < 1024; i++)
        g_string_append_printf(names, "%s%s/%d", i ? "," : "", list->elems[i].topic,
                               (int)list->elems[i].partition);

    g_mutex_lock(&c->lock);
    c->stats.rebalances++;
    g_mutex_unlock(&c->lock);
    c->rebalance_seq++;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        g_mutex_lock(&c->lock);
        for (size_t i = 0; i < n; i++) {
            VgKafkaPart *p = g_hash_table_lookup(c->parts, GINT_TO_POINTER(ids[i]));
            p->assigned = true;
            p->throttled = false;
            p->fed = false; /* (collector-kafka.c, dry_counts()) */
            p->q.dry_at = 0;
            p->marked = p->committed = -1;
            atomic_store(&p->fetched_next, -1); /* (the stall watchdog's) */
            atomic_store(&p->fed_us, g_get_monotonic_time());
        }
        g_mutex_unlock(&c->lock);
        vg_log_info("kafka partitions assigned", "count", count, "partitions", names->str);
        if (c->opts.rebalance)
            c->opts.rebalance(c->opts.user, VG_KAFKA_ASSIGNED, ids, n);
        /* start offsets the run loop asked for (a checkpoint's) replace the committed ones */
        g_mutex_lock(&c->lock);
        for (size_t i = 0; i < n; i++) {
            VgKafkaPart *p = g_hash_table_lookup(c->parts, GINT_TO_POINTER(ids[i]));
            if (p->start >= 0) {
                list->elems[i].offset = p->start;
                atomic_store(&p->fetched_next, p->start); /* where fetching stands */
                p->start = -1;
            }
        }
        g_mutex_unlock(&c->lock);
        if (coop)
            e = rd_kafka_incremental_assign(rk, list);
        else
            re = rd_kafka_assign(rk, list);
        g_mutex_lock(&c->lock);
        if (c->paused)
            rd_kafka_pause_partitions(rk, list);
        else /* (a partition the merge throttled when it was last ours fetches again) */
            rd_kafka_resume_partitions(rk, list);
        g_mutex_unlock(&c->lock);
    } else {
        bool lost = err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS || rd_kafka_assignment_lost(rk);
        if (c->opts.rebalance)
            c->opts.rebalance(c->opts.user, lost ? VG_KAFKA_LOST : VG_KAFKA_REVOKED, ids, n);
        if (!lost) {
            GError *cerr = NULL;
            if (vg_kafka_commit_some(c, ids, n, true, &cerr) != VG_OK) {
                vg_log_warn("kafka commit on revoke failed", "error", cerr->message);
                g_error_free(cerr);
            }
        }
        g_mutex_lock(&c->lock);
        for (size_t i = 0; i < n; i++) {
            VgKafkaPart *p = g_hash_table_lookup(c->parts, GINT_TO_POINTER(ids[i]));
            p->assigned = false;
            p->throttled = false;
            p->marked = p->committed = -1;
        }
        g_mutex_unlock(&c->lock);
        for (size_t i = 0; i < n; i++) /* queued, never handed out: the next owner's */
            vg_kafka_part_drop_queue(c, g_hash_table_lookup(c->parts, GINT_TO_POINTER(ids[i])));
        if (lost)
            vg_log_warn("kafka partitions lost", "count", count, "partitions", names->str);
        else
            vg_log_info("kafka partitions revoked", "count", count, "partitions", names->str);
        if (coop)
            e = rd_kafka_incremental_unassign(rk, list);
        else
            re = rd_kafka_assign(rk, NULL);
    }
    if (e) {
        vg_log_error("kafka assignment failed", "error", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    } else if (re) {
        vg_log_error("kafka assignment failed", "error", rd_kafka_err2str(re));
    }
    g_string_free(names, TRUE);
    g_free(ids);
}

/* --- commits -------------------------------------------------------------------------- */

/* Commits the moved marks of every assigned partition, or of the n_only listed. */
int vg_kafka_commit_some(VgKafkaCollector *c, const int32_t *only, size_t n_only, bool sync,
                         GError **err)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    GHashTableIter it;
    gpointer key, value;
    g_mutex_lock(&c->lock);
    if (only) {
        for (size_t i = 0; i < n_only; i++) {
            VgKafkaPart *p = g_hash_table_lookup(c->parts, GINT_TO_POINTER(only[i]));
            if (p && p->assigned && p->marked > p->committed)
                rd_kafka_topic_partition_list_add(l, p->topic, p->kp)->offset = p->marked;
        }
    } else {
        g_hash_table_iter_init(&it, c->parts);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            VgKafkaPart *p = value;
            if (p->assigned && p->marked > p->committed)
                rd_kafka_topic_partition_list_add(l, p->topic, p->kp)->offset = p->marked;
        }
    }
    /* counted as committed now; a failure reported later (on_commit) undoes it */
    for (int i = 0; i < l->cnt; i++)
        vg_kafka_part_get(c, l->elems[i].topic, l->elems[i].partition)->committed =
            l->elems[i].offset;
    g_mutex_unlock(&c->lock);
    c->last_commit_us = g_get_monotonic_time();
    if (l->cnt == 0) {
        rd_kafka_topic_partition_list_destroy(l);
        return VG_OK;
    }
    rd_kafka_resp_err_t e = rd_kafka_commit(c->rk, l, sync ? 0 : 1);
    int failed = 0;
    if (sync) {
        for (int i = 0; i < l->cnt; i++)
            failed += l->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    g_mutex_lock(&c->lock);
    if (e || failed) {
        c->stats.commit_failures++;
        for (int i = 0; i < l->cnt; i++) {
            VgKafkaPart *p = vg_kafka_part_get(c, l->elems[i].topic, l->elems[i].partition);
            if ((e || l->elems[i].err) && p->committed == l->elems[i].offset)
                p->committed = -1;
        }
    } else {
        c->stats.commits++;
    }
    g_mutex_unlock(&c->lock);
    rd_kafka_topic_partition_list_destroy(l);
    if (e || failed) {
        g_set_error(err, VG_ERROR, VG_EIO, "kafka offset commit failed: %s",
                    e ? rd_kafka_err2str(e) : "some partitions refused");
        return VG_EIO;
    }
    return VG_OK;
}

int vg_kafka_collector_commit(VgKafkaCollector *c, bool sync, GError **err)
{
    return vg_kafka_commit_some(c, NULL, 0, sync, err);
}

void vg_kafka_collector_start_at(VgKafkaCollector *c, int32_t partition, int64_t offset)
{
    g_mutex_lock(&c->lock);
    VgKafkaPart *p = g_hash_table_lookup(c->parts, GINT_TO_POINTER(partition));
    if (p && offset >= 0)
        p->start = offset;
    g_mutex_unlock(&c->lock);
}

void vg_kafka_collector_mark(VgKafkaCollector *c, int32_t partition, int64_t offset)
{
    g_mutex_lock(&c->lock);
    VgKafkaPart *p = g_hash_table_lookup(c->parts, GINT_TO_POINTER(partition));
    if (p && p->assigned && offset + 1 > p->marked)
        p->marked = offset + 1;
    g_mutex_unlock(&c->lock);
}

/* --- back-pressure -------------------------------------------------------------------- */

/* Pauses or resumes fetching one partition (the lock held). */
static void pause_one(VgKafkaCollector *c, const VgKafkaPart *p, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, p->topic, p->kp);
    if (pause)
        rd_kafka_pause_partitions(c->rk, l);
    else
        rd_kafka_resume_partitions(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

/* Fetching starts again: the stall watchdog's clock starts over (lock held). */
static void fetch_again(VgKafkaPart *p)
{
    atomic_store(&p->fed_us, g_get_monotonic_time());
}

static void set_paused(VgKafkaCollector *c, bool paused)
{
    rd_kafka_topic_partition_list_t *a = NULL;
    g_rw_lock_reader_lock(&c->rk_lock);
    g_mutex_lock(&c->lock);
    /* (no consumer: a restart failed, the collector is about to report it) */
    if (c->paused != paused && c->rk &&
        rd_kafka_assignment(c->rk, &a) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (paused) {
            rd_kafka_pause_partitions(c->rk, a);
        } else {
            rd_kafka_resume_partitions(c->rk, a);
            GHashTableIter it; /* those the merge throttles stay paused */
            gpointer v;
            g_hash_table_iter_init(&it, c->parts);
            while (g_hash_table_iter_next(&it, NULL, &v)) {
                if (((VgKafkaPart *)v)->throttled)
                    pause_one(c, v, true);
                else
                    fetch_again(v);
            }
        }
    }
    c->paused = paused;
    g_mutex_unlock(&c->lock);
    g_rw_lock_reader_unlock(&c->rk_lock);
    if (a)
        rd_kafka_topic_partition_list_destroy(a);
}

void vg_kafka_part_throttle(VgKafkaCollector *c, VgKafkaPart *p, bool throttle)
{
    g_mutex_lock(&c->lock);
    if (p->throttled != throttle && p->assigned && !c->paused)
        pause_one(c, p, throttle);
    if (!throttle && p->throttled)
        fetch_again(p);
    p->throttled = throttle;
    g_mutex_unlock(&c->lock);
}

void vg_kafka_collector_pause(VgKafkaCollector *c)
{
    set_paused(c, true);
}

void vg_kafka_collector_resume(VgKafkaCollector *c)
{
    set_paused(c, false);
}

bool vg_kafka_collector_paused(const VgKafkaCollector *c)
{
    VgKafkaCollector *m = (VgKafkaCollector *)c;
    g_mutex_lock(&m->lock);
    bool p = m->paused;
    g_mutex_unlock(&m->lock);
    return p;
}

bool vg_kafka_collector_partition_info(const VgKafkaCollector *c, int32_t partition,
                                       const char **topic, int32_t *kafka_partition)
{
    VgKafkaCollector *m = (VgKafkaCollector *)c;
    g_mutex_lock(&m->lock);
    VgKafkaPart *p = g_hash_table_lookup(m->parts, GINT_TO_POINTER(partition));
    if (p) {
        *topic = p->topic;
        *kafka_partition = p->kp;
    }
    g_mutex_unlock(&m->lock);
    return p != NULL;
}

size_t vg_kafka_collector_assignment(const VgKafkaCollector *c, int32_t *out, size_t cap)
{
    VgKafkaCollector *m = (VgKafkaCollector *)c;
    GHashTableIter it;
    gpointer key, value;
    size_t n = 0;
    g_mutex_lock(&m->lock);
    g_hash_table_iter_init(&it, m->parts);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        VgKafkaPart *p = value;
        if (p->assigned && n++ < cap)
            out[n - 1] = p->id;
    }
    g_mutex_unlock(&m->lock);
    return n;
}

void vg_kafka_collector_stats(const VgKafkaCollector *c, VgKafkaStats *out)
{
    VgKafkaCollector *m = (VgKafkaCollector *)c;
    g_mutex_lock(&m->lock);
    *out = m->stats;
    g_mutex_unlock(&m->lock);
    g_rw_lock_reader_lock(&m->rk_lock);
    out->librdkafka_queued = m->q ? rd_kafka_queue_length(m->q) : 0; /* (locks the queue) */
    g_rw_lock_reader_unlock(&m->rk_lock);
}

size_t vg_kafka_collector_lag(const VgKafkaCollector *c, VgKafkaLag *out, size_t cap)
{
    VgKafkaCollector *m = (VgKafkaCollector *)c;
    GHashTableIter it;
    gpointer key, value;
    size_t n = 0;
    int64_t *next = g_new(int64_t, cap ? cap : 1);
    g_mutex_lock(&m->lock);
    g_hash_table_iter_init(&it, m->parts);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        VgKafkaPart *p = value;
        if (!p->assigned)
            continue;
        if (n < cap) {
            out[n].topic = p->topic;
            out[n].kafka_partition = p->kp;
            out[n].lag = -1;
            next[n] = p->marked >= 0 ? p->marked : p->committed;
        }
        n++;
    }
    g_mutex_unlock(&m->lock);
    /* cached watermarks: librdkafka answers from its last fetch, without a request */
    g_rw_lock_reader_lock(&m->rk_lock);
    for (size_t i = 0; i < n && i < cap && m->rk; i++) {
        int64_t lo = -1, hi = -1;
        if (rd_kafka_get_watermark_offsets(m->rk, out[i].topic, out[i].kafka_partition, &lo, &hi) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            hi >= 0)
            out[i].lag = next[i] >= 0 ? (hi > next[i] ? hi - next[i] : 0) : hi - (lo > 0 ? lo : 0);
    }
    g_rw_lock_reader_unlock(&m->rk_lock);
    g_free(next);
    return n;
}

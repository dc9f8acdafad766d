/* collector-kafka.c — the Kafka consumer behind collector-kafka.h.
 *
 * One librdkafka high-level consumer, polled by next() on the reading thread. Its main
 * queue is redirected to the consumer queue, so rebalances, commit results, errors and
 * messages all arrive through the one queue, read on that thread, in order: when the
 * rebalance callback runs, no other code of ours is reading. What is queued is taken up
 * to FETCH_BATCH messages at a call, without waiting (rd_kafka_consume_batch_queue): one
 * lock and one clock read of librdkafka's per call instead of per message, a few per cent
 * of the reading thread at hundreds of thousands of one-line messages a second. Only when
 * nothing is queued does it wait, for one message (rd_kafka_consumer_poll).
 *
 * Which partitions are ours, their marks and the commits live in
 * collector-kafka-offsets.c; this file reads, cuts payloads into lines and runs the life
 * cycle.
 *
 * Messages that cannot go into the current batch (another partition, not enough room)
 * wait in `pending` (an array read from `pending_head` on, reused without allocating),
 * in order, and open the next batch. On revocation the pending messages and the batch
 * being filled for a revoked partition are dropped: they were never handed out, so no
 * mark covers them, and the partition's next owner reads them from the committed offset.
 *
 * Back-pressure: pause() pauses the whole assignment (and each later assignment while
 * paused); next() then only serves callbacks, so the group session stays alive, and
 * answers VG_EAGAIN. librdkafka drops what it had prefetched for paused partitions and
 * fetches from the consumed position on resume, so memory stays bounded by the fetch
 * settings, whatever the input rate.
 */
#include "collectors/collector-kafka-int.h"

#include "engine/log.h"

static const VgCollectorOps kafka_ops;

/* --- librdkafka callbacks ------------------------------------------------------------- */

/* A copy of text with every resolved secret replaced by ********. */
static GString *scrub(const VgKafkaCollector *c, const char *text)
{
    GString *line = g_string_new(text);
    for (guint i = 0; c && c->secrets && i < c->secrets->len; i++) {
        const char *s = c->secrets->pdata[i];
        size_t n = strlen(s), from = 0;
        char *at;
        while (n && (at = strstr(line->str + from, s))) {
            gssize pos = at - line->str;
            g_string_erase(line, pos, (gssize)n);
            g_string_insert(line, pos, "********");
            from = (size_t)pos + 8;
        }
    }
    return line;
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    GString *line = scrub(rd_kafka_opaque(rk), buf);
    /* errors that matter also come through on_error, which logs them as warnings; the
     * client's own log is context, except for its configuration warnings */
    if (level <= 4 && !strcmp(fac, "CONFWARN"))
        vg_log_warn("kafka client configuration", "detail", line->str);
    else if (level <= 4)
        vg_log_info("kafka client", "facility", fac, "detail", line->str);
    else
        vg_log_debug("kafka client debug", "facility", fac, "detail", line->str);
    g_string_free(line, TRUE);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    VgKafkaCollector *c = opaque;
    g_mutex_lock(&c->lock);
    c->stats.errors++;
    g_mutex_unlock(&c->lock);
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
        g_free(c->fatal);
        GString *line = scrub(c, buf);
        c->fatal = g_strdup_printf("%s: %s", rd_kafka_err2name(orig), line->str);
        g_string_free(line, TRUE);
        vg_log_error("kafka consumer failed", "error", c->fatal);
        return;
    }
    /* broker connections come and go (restarts, failover); librdkafka retries them */
    GString *line = scrub(c, reason);
    vg_log_warn("kafka error", "error", rd_kafka_err2name((rd_kafka_resp_err_t)err), "detail",
                line->str);
    g_string_free(line, TRUE);
}

/* --- reading -------------------------------------------------------------------------- */

/* Next non-empty line of payload [pos, len): its start and length (without \r); advances
 * *pos past it. False at the end. */
static bool next_line(const char *pl, size_t len, size_t *pos, const char **start, size_t *n)
{
    while (*pos < len) {
        const char *s = pl + *pos;
        const char *nl = memchr(s, '\n', len - *pos);
        size_t l = nl ? (size_t)(nl - s) : len - *pos;
        *pos += l + (nl ? 1 : 0);
        if (l && s[l - 1] == '\r')
            l--;
        if (l) {
            *start = s;
            *n = l;
            return true;
        }
    }
    return false;
}

static uint32_t count_lines(const char *pl, size_t len, size_t pos)
{
    const char *s;
    size_t n;
    uint32_t k = 0;
    while (next_line(pl, len, &pos, &s, &n))
        k++;
    return k;
}

static bool is_assigned(VgKafkaCollector *c, int32_t id, VgKafkaPart **out)
{
    g_mutex_lock(&c->lock);
    VgKafkaPart *p = g_hash_table_lookup(c->parts, GINT_TO_POINTER(id));
    bool a = p && p->assigned;
    g_mutex_unlock(&c->lock);
    if (out)
        *out = p;
    return a;
}

/* The partition entry of m (entries are never freed while the collector lives). */
static VgKafkaPart *part_of(VgKafkaCollector *c, const rd_kafka_message_t *m)
{
    const char *topic = rd_kafka_topic_name(m->rkt);
    if (m->rkt == c->last_rkt && m->partition == c->last_kp && !strcmp(topic, c->last_part->topic))
        return c->last_part;
    g_mutex_lock(&c->lock);
    VgKafkaPart *p = vg_kafka_part_get(c, topic, m->partition);
    g_mutex_unlock(&c->lock);
    c->last_rkt = m->rkt;
    c->last_kp = m->partition;
    c->last_part = p;
    return p;
}

/* The first pending message, or NULL. */
static rd_kafka_message_t *pending_head(const VgKafkaCollector *c)
{
    return c->pending_head < c->pending->len ? c->pending->pdata[c->pending_head] : NULL;
}

/* Takes the first pending message off (the caller owns it now); once all are taken the
 * array starts over, keeping its allocation, so reading allocates nothing per message. */
static void pending_pop(VgKafkaCollector *c)
{
    if (++c->pending_head >= c->pending->len) {
        g_ptr_array_set_size(c->pending, 0);
        c->pending_head = 0;
    }
}

/* Drops pending messages of partitions that are not ours any more. (`assigned` changes
 * only in the rebalance callback, which runs on this thread: read without the lock.) */
static void drop_revoked_pending(VgKafkaCollector *c)
{
    GPtrArray *q = c->pending;
    guint kept = c->pending_head;
    for (guint i = c->pending_head; i < q->len; i++) {
        rd_kafka_message_t *m = q->pdata[i];
        if (part_of(c, m)->assigned) {
            q->pdata[kept++] = m;
            continue;
        }
        if (i == c->pending_head) {
            c->pending_pos = 0;
            c->pending_line = 0;
        }
        rd_kafka_message_destroy(m);
    }
    if (kept == c->pending_head) /* none left: start the array over */
        kept = c->pending_head = 0;
    g_ptr_array_set_size(q, kept);
}

#define FETCH_BATCH 256

/* Counts and logs a consumer error that came as a message, and destroys it. */
static void consume_error(VgKafkaCollector *c, rd_kafka_message_t *m)
{
    if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        g_mutex_lock(&c->lock);
        c->stats.errors++;
        g_mutex_unlock(&c->lock);
        vg_log_warn("kafka consume error", "topic", m->rkt ? rd_kafka_topic_name(m->rkt) : "-",
                    "error", rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
}

/* The first pending message, reading up to FETCH_BATCH more from the consumer when none
 * is pending; NULL when none came within timeout_ms. */
static rd_kafka_message_t *fetch(VgKafkaCollector *c, int timeout_ms)
{
    while (!pending_head(c)) {
        rd_kafka_message_t *ms[FETCH_BATCH];
        unsigned seq = c->rebalance_seq;
        /* what is queued now; only when nothing is, wait for the first message (a batch
         * read with a timeout would wait for a full batch, holding back what came) */
        ssize_t n = rd_kafka_consume_batch_queue(c->q, 0, ms, FETCH_BATCH);
        if (n == 0 && timeout_ms > 0 && (ms[0] = rd_kafka_consumer_poll(c->rk, timeout_ms))) {
            ssize_t more = rd_kafka_consume_batch_queue(c->q, 0, ms + 1, FETCH_BATCH - 1);
            n = 1 + (more > 0 ? more : 0);
        }
        for (ssize_t i = 0; i < n; i++) {
            if (ms[i]->err)
                consume_error(c, ms[i]);
            else
                g_ptr_array_add(c->pending, ms[i]);
        }
        if (c->rebalance_seq != seq)
            drop_revoked_pending(c); /* a rebalance ran inside the call */
        if (n <= 0)
            return NULL;
        c->pending_pos = 0; /* a new head (or, if only errors came, none yet: look again) */
        c->pending_line = 0;
        timeout_ms = 0;
    }
    return pending_head(c);
}

static int kafka_next(VgCollector *base, VgLineBatch *b, GError **err)
{
    VgKafkaCollector *c = (VgKafkaCollector *)base;
    if (c->fatal) {
        g_set_error(err, VG_ERROR, VG_EIO, "kafka: %s", c->fatal);
        return VG_EIO;
    }
    if (c->commit_interval_ms > 0 &&
        g_get_monotonic_time() - c->last_commit_us >= c->commit_interval_ms * 1000) {
        GError *cerr = NULL;
        if (vg_kafka_commit_some(c, NULL, 0, false, &cerr) != VG_OK) {
            vg_log_warn("kafka periodic commit failed", "error", cerr->message);
            g_error_free(cerr);
        }
    }
    if (vg_kafka_collector_paused(c)) {
        /* serve rebalances and keep the session; whatever arrives waits in pending */
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, (int)c->poll_timeout_ms);
        if (m && !m->err)
            g_ptr_array_add(c->pending, m);
        else if (m)
            rd_kafka_message_destroy(m);
        drop_revoked_pending(c);
        return VG_EAGAIN;
    }

    VgKafkaPart *part = NULL;
    size_t bytes = 0;
    uint64_t msgs = 0;
    int timeout = (int)c->poll_timeout_ms;
    b->partition = -1;
    while (b->n < b->max_lines && bytes < (size_t)c->batch_bytes) {
        rd_kafka_message_t *m = fetch(c, timeout);
        timeout = 0;
        if (!m)
            break;
        if (b->n && part && !part->assigned) {
            /* our batch's partition was revoked during the poll: nobody will mark it */
            vg_line_batch_clear(b);
            part = NULL;
        }
        VgKafkaPart *p = part_of(c, m);
        if (b->n && p != part)
            break; /* another partition: it opens the next batch */
        const char *pl = m->payload ? m->payload : "";
        size_t len = m->payload ? m->len : 0;
        uint32_t left = count_lines(pl, len, c->pending_pos);
        uint32_t room = b->max_lines - b->n;
        if (left > room && b->n)
            break; /* whole in the next batch rather than split */
        /* a message split across batches: only its last part carries its offset */
        int64_t offset = left > room ? m->offset - 1 : m->offset;
        const char *s;
        size_t n;
        for (uint32_t k = 0; k < room && next_line(pl, len, &c->pending_pos, &s, &n); k++) {
            VgBadReason bad = VG_BAD_NONE;
            if (c->opts.max_line_bytes && n > c->opts.max_line_bytes) {
                n = c->opts.max_line_bytes;
                bad = VG_BAD_TOO_LONG;
            }
            vg_line_batch_add(b, s, n, ++c->pending_line, offset, bad);
            bytes += n;
        }
        part = p;
        b->partition = p->id;
        b->source = p->source;
        if (left <= room) {
            pending_pop(c);
            rd_kafka_message_destroy(m);
            c->pending_pos = 0; /* the next pending message (a paused poll's) starts fresh */
            c->pending_line = 0;
            msgs++;
        }
    }
    if (b->n && part && !is_assigned(c, part->id, NULL)) {
        vg_line_batch_clear(b);
        b->partition = -1;
    }
    g_mutex_lock(&c->lock);
    c->stats.messages += msgs;
    c->stats.lines += b->n;
    c->stats.bytes += bytes;
    g_mutex_unlock(&c->lock);
    return b->n ? VG_OK : VG_EAGAIN;
}

int32_t vg_kafka_collector_partial(VgKafkaCollector *c)
{
    rd_kafka_message_t *m = pending_head(c);
    if (!m || !c->pending_pos)
        return -1;
    g_mutex_lock(&c->lock);
    VgKafkaPart *p = vg_kafka_part_get(c, rd_kafka_topic_name(m->rkt), m->partition);
    g_mutex_unlock(&c->lock);
    return p->id;
}

static void kafka_progress(VgCollector *base, uint64_t *done, uint64_t *total)
{
    VgKafkaCollector *c = (VgKafkaCollector *)base;
    g_mutex_lock(&c->lock);
    *done = c->stats.bytes;
    g_mutex_unlock(&c->lock);
    *total = 0;
}

/* --- life cycle ----------------------------------------------------------------------- */

static void kafka_close(VgCollector *base)
{
    VgKafkaCollector *c = (VgKafkaCollector *)base;
    if (!c)
        return;
    if (c->rk) {
        GError *err = NULL;
        if (!c->fatal && vg_kafka_commit_some(c, NULL, 0, true, &err) != VG_OK) {
            vg_log_warn("kafka commit on close failed", "error", err->message);
            g_error_free(err);
        }
        /* leaves the group; the revoke callback commits once more and tells the run loop */
        rd_kafka_resp_err_t e = rd_kafka_consumer_close(c->rk);
        if (e)
            vg_log_warn("kafka consumer close", "error", rd_kafka_err2str(e));
        rd_kafka_message_t *m;
        while ((m = pending_head(c))) {
            pending_pop(c);
            rd_kafka_message_destroy(m);
        }
        if (c->q)
            rd_kafka_queue_destroy(c->q);
        rd_kafka_destroy(c->rk);
    }
    if (c->secrets)
        g_ptr_array_free(c->secrets, TRUE);
    if (c->topics)
        g_ptr_array_free(c->topics, TRUE);
    if (c->pending)
        g_ptr_array_free(c->pending, TRUE);
    g_strfreev(c->subscribed);
    if (c->parts)
        g_hash_table_destroy(c->parts);
    g_free(c->fatal);
    g_mutex_clear(&c->lock);
    g_free(c);
}

static void secret_free(gpointer p)
{
    char *s = p;
    memset(s, 0, strlen(s));
    g_free(s);
}

/* Whether the subscription takes topic: by name, or by a ^regex (which, as in librdkafka,
 * does not take the brokers' internal topics). */
static bool subscribed(const VgKafkaCollector *c, const char *topic)
{
    for (char **t = c->subscribed; t && *t; t++) {
        if (**t != '^') {
            if (!strcmp(*t, topic))
                return true;
        } else if (strncmp(topic, "__", 2) && g_regex_match_simple(*t, topic, 0, 0)) {
            return true;
        }
    }
    return false;
}

int vg_kafka_collector_topic_partitions(VgKafkaCollector *c, int timeout_ms, GError **err)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(c->rk, 1, NULL, &md, timeout_ms);
    if (e) {
        g_set_error(err, VG_ERROR, VG_EIO, "kafka: cannot read the topics' metadata: %s",
                    rd_kafka_err2str(e));
        return -1;
    }
    int n = 0;
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        if (!t->err && subscribed(c, t->topic))
            n += t->partition_cnt;
    }
    rd_kafka_metadata_destroy(md);
    if (!n)
        g_set_error(err, VG_ERROR, VG_ENOENT, "kafka: no subscribed topic has partitions");
    return n ? n : -1;
}

VgKafkaCollector *vg_kafka_collector_open(const VgKafkaConf *conf, const VgKafkaCollectorOpts *o,
                                          GError **err)
{
    VgKafkaCollector *c = g_new0(VgKafkaCollector, 1);
    char errstr[512];
    c->base.ops = &kafka_ops;
    if (o)
        c->opts = *o;
    c->commit_interval_ms = conf->commit_interval_ms;
    c->poll_timeout_ms = conf->poll_timeout_ms;
    c->batch_bytes = conf->batch_bytes > 0 ? conf->batch_bytes : 4 << 20;
    c->secrets = g_ptr_array_new_with_free_func(secret_free);
    c->topics = g_ptr_array_new_with_free_func(g_free);
    c->subscribed = g_strdupv(conf->topics);
    c->parts = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, vg_kafka_part_free);
    c->pending = g_ptr_array_new();
    g_mutex_init(&c->lock);
    c->last_commit_us = g_get_monotonic_time();

    rd_kafka_conf_t *rc = vg_kafka_conf_build(conf, c->secrets, err);
    if (!rc)
        goto fail;
    rd_kafka_conf_set_opaque(rc, c);
    rd_kafka_conf_set_log_cb(rc, on_log);
    rd_kafka_conf_set_error_cb(rc, on_error);
    rd_kafka_conf_set_offset_commit_cb(rc, vg_kafka_on_commit);
    rd_kafka_conf_set_rebalance_cb(rc, vg_kafka_on_rebalance);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, rc, errstr, sizeof errstr);
    if (!c->rk) {
        rd_kafka_conf_destroy(rc);
        g_set_error(err, VG_ERROR, VG_ECONFIG, "kafka: %s", errstr);
        goto fail;
    }
    rd_kafka_poll_set_consumer(c->rk);
    c->q = rd_kafka_queue_get_consumer(c->rk);

    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(4);
    for (char **t = conf->topics; t && *t; t++)
        rd_kafka_topic_partition_list_add(topics, *t, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        g_set_error(err, VG_ERROR, VG_ECONFIG, "kafka: cannot subscribe: %s", rd_kafka_err2str(e));
        goto fail;
    }
    char *list = g_strjoinv(",", conf->topics);
    vg_log_info("kafka consumer started", "group", conf->group, "topics", list);
    g_free(list);
    return c;
fail:
    kafka_close(&c->base);
    return NULL;
}

VgCollector *vg_kafka_collector_base(VgKafkaCollector *c)
{
    return c ? &c->base : NULL;
}

VgKafkaCollector *vg_kafka_collector_from(VgCollector *c)
{
    return c && c->ops == &kafka_ops ? (VgKafkaCollector *)c : NULL;
}

static const VgCollectorOps kafka_ops = {
    .name = "kafka",
    .next = kafka_next,
    .progress = kafka_progress,
    .close = kafka_close,
};

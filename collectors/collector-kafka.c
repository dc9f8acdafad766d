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
 * Fetched messages wait in their partition's queue (a ring reused without allocating)
 * until a batch hands them out; each batch comes from one partition, chosen as
 * collector-kafka.h says ("Order across partitions"). The messages a batch took whole are
 * kept until the next call, so that the reader can put its last lines back (unread). On
 * revocation the queued messages of a revoked partition are dropped: they were never
 * handed out, so no mark covers them, and the partition's next owner reads them from the
 * committed offset.
 *
 * Back-pressure: pause() pauses the whole assignment (and each later assignment while
 * paused); next() then only serves callbacks, so the group session stays alive, and
 * answers VG_EAGAIN. librdkafka drops what it had prefetched for paused partitions and
 * fetches from the consumed position on resume, so memory stays bounded by the fetch
 * settings, whatever the input rate.
 *
 * Fetching threads' priority: librdkafka's broker threads fetch, decompress and parse ahead
 * of the reading thread, up to its queue's bounds. At a start or after a pause they have a
 * whole queue to fill, and three of them on two cores held the reading thread to half a
 * core for most of a second, while the brokers' work could as well have waited for the
 * core the pipeline leaves free. So they run kafka.fetch_nice above the process's nice
 * value (an interceptor sets it as each starts): when the pipeline has work it comes first,
 * when it waits for messages they have the cores. The scheduler still gives them a share,
 * so heartbeats and commits go out under any load. (They also rank below other processes
 * the scheduler weighs against vigil: README, "Priority of the fetching threads".)
 *
 * A watchdog thread looks for partitions librdkafka stopped fetching (collector-kafka.h,
 * "Stalled partitions"); next() then replaces the consumer (restart()). Only the swap of
 * rk and q takes rk_lock as a writer, so that the watchdog, stats() and lag(), which use
 * them from other threads, never see a destroyed handle.
 */
#include "collectors/collector-kafka-int.h"

#include "engine/log.h"

#include <errno.h>
#include <sys/resource.h>
#include <unistd.h>

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

/* The nice value of librdkafka's broker threads (see "Fetching threads' priority" above).
 * On Linux the nice value is per thread, and a thread may lower its own priority. */
static rd_kafka_resp_err_t on_thread_start(rd_kafka_t *rk, rd_kafka_thread_type_t type,
                                           const char *name, void *opaque)
{
    (void)rk;
    const VgKafkaCollector *c = opaque;
    if (type != RD_KAFKA_THREAD_BROKER)
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    pid_t tid = gettid();
    errno = 0;
    int cur = getpriority(PRIO_PROCESS, (id_t)tid);
    if ((cur == -1 && errno) || setpriority(PRIO_PROCESS, (id_t)tid, MIN(cur + c->fetch_nice, 19)))
        vg_log_warn("kafka fetching thread keeps vigil's priority", "thread", name, "error",
                    g_strerror(errno));
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t on_new(rd_kafka_t *rk, const rd_kafka_conf_t *conf, void *opaque,
                                  char *errstr, size_t errstr_size)
{
    (void)conf, (void)errstr, (void)errstr_size;
    return rd_kafka_interceptor_add_on_thread_start(rk, "vigil", on_thread_start, opaque);
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

/* --- the partitions' queues ------------------------------------------------------------ */

static VgKafkaMsg *queue_head(VgKafkaQueue *q)
{
    return q->len ? &q->v[q->head] : NULL;
}

static void queue_grow(VgKafkaQueue *q)
{
    if (q->len < q->cap)
        return;
    uint32_t cap = q->cap ? q->cap * 2 : 64;
    VgKafkaMsg *v = g_new(VgKafkaMsg, cap);
    for (uint32_t i = 0; i < q->len; i++)
        v[i] = q->v[(q->head + i) & (q->cap - 1)];
    g_free(q->v);
    q->v = v;
    q->head = 0;
    q->cap = cap;
}

static size_t msg_bytes(const rd_kafka_message_t *m)
{
    return m->payload ? m->len : 0;
}

static void queue_push(VgKafkaCollector *c, VgKafkaQueue *q, VgKafkaMsg e)
{
    queue_grow(q);
    q->v[(q->head + q->len++) & (q->cap - 1)] = e;
    q->bytes += msg_bytes(e.m);
    c->pending_msgs++;
    c->pending_bytes += msg_bytes(e.m);
}

/* Puts e back in front (unread); the head's progress starts over. */
static void queue_push_front(VgKafkaCollector *c, VgKafkaQueue *q, VgKafkaMsg e)
{
    queue_grow(q);
    q->head = (q->head - 1) & (q->cap - 1);
    q->v[q->head] = e;
    q->len++;
    q->pos = 0;
    q->line = 0;
    q->bytes += msg_bytes(e.m);
    c->pending_msgs++;
    c->pending_bytes += msg_bytes(e.m);
}

/* Takes the head off (the caller owns its message now). */
static VgKafkaMsg queue_pop(VgKafkaCollector *c, VgKafkaQueue *q)
{
    VgKafkaMsg e = q->v[q->head];
    q->head = (q->head + 1) & (q->cap - 1);
    if (!--q->len)
        q->dry_at = g_get_monotonic_time();
    q->pos = 0;
    q->line = 0;
    q->bytes -= msg_bytes(e.m);
    c->pending_msgs--;
    c->pending_bytes -= msg_bytes(e.m);
    return e;
}

void vg_kafka_part_drop_queue(VgKafkaCollector *c, VgKafkaPart *p)
{
    while (p->q.len)
        rd_kafka_message_destroy(queue_pop(c, &p->q).m);
}

/* Destroys the messages the last batch took whole: once next() is called again they
 * cannot be put back any more. */
static void release_out(VgKafkaCollector *c)
{
    for (guint i = 0; i < c->out->len; i++)
        rd_kafka_message_destroy(g_array_index(c->out, VgKafkaOut, i).msg.m);
    g_array_set_size(c->out, 0);
    c->out_part = NULL;
}

/* Drops queued messages of partitions that are not ours any more. (`assigned` changes
 * only in the rebalance callback, which runs on this thread: read without the lock.) */
static void drop_revoked_pending(VgKafkaCollector *c)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->parts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        VgKafkaPart *p = v;
        if (!p->assigned)
            vg_kafka_part_drop_queue(c, p);
    }
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

/* Queues m in its partition's queue; now: the time it was taken from librdkafka. */
static void enqueue(VgKafkaCollector *c, rd_kafka_message_t *m, gint64 now)
{
    if (m->err) {
        consume_error(c, m);
        return;
    }
    VgKafkaMsg e = {m, c->seq++};
    VgKafkaPart *p = part_of(c, m);
    queue_push(c, &p->q, e);
    p->fed = true;
    atomic_store_explicit(&p->fetched_next, m->offset + 1, memory_order_relaxed);
    atomic_store_explicit(&p->fed_us, now, memory_order_relaxed);
}

/* Whether batches are merged by the reader's clock (kafka.merge_bytes 0: arrival order). */
static bool merging(const VgKafkaCollector *c)
{
    return c->clock && c->merge_bytes > 0;
}

/* Merging reads ahead (and pauses partitions far ahead, balance()) only while the
 * partitions are out of step: for AHEAD_LINGER_US after the reader last put lines back
 * (but for the wait at a start, unread()). Partitions in step (live traffic, a dense
 * backlog) are read as they come, without the memory and the refetching that costs. */
#define AHEAD_LINGER_US (10 * G_USEC_PER_SEC)

static bool reading_ahead(const VgKafkaCollector *c)
{
    return merging(c) && c->ahead_until && g_get_monotonic_time() < c->ahead_until;
}

/* Moves what librdkafka has queued into the partitions' queues, FETCH_BATCH messages at a
 * call, until merge_bytes are waiting while reading ahead, else batch_bytes (so that a
 * partition's run of messages in librdkafka's queue, a fetch of it, fills whole batches:
 * reading only when nothing waited made batches of 226 lines on average instead of 822
 * on the bench's 48 partitions, and cost the workers a tenth more CPU). Only when nothing
 * is waiting or queued does it wait, up to timeout_ms, for one message (a batch read with
 * a timeout would wait for a full batch, holding back what came).
 *
 * Holding (the reader put its batch back to wait for the limiter partition): reads on up
 * to twice merge_bytes (the limiter's next messages may be queued in librdkafka behind
 * other partitions'; a wait for a partition's first messages, at a start, only up to
 * merge_bytes) and, while none of the limiter came, waits up to hold_until for one more
 * message of any partition; with that much queued already it gives the wait up (the
 * partitions waited for count as quiet). On the bench's sparse backlog 1x instead of 2x
 * gave up ten times as many waits and left twice the events late for the models. */
static void top_up(VgKafkaCollector *c, int timeout_ms)
{
    size_t budget = reading_ahead(c) ? (size_t)c->merge_bytes : (size_t)c->batch_bytes;
    size_t hold_budget = (size_t)c->merge_bytes * (c->limiter && c->limiter->fed ? 2 : 1);
    if (c->hold_until && c->pending_bytes >= hold_budget) {
        /* nothing more may be read: the partitions waited for count as quiet */
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, c->parts);
        while (g_hash_table_iter_next(&it, NULL, &v))
            ((VgKafkaPart *)v)->q.dry_at = 1; /* (long past) */
        c->hold_until = 0;
    }
    if (c->hold_until) {
        budget = hold_budget;
        gint64 left = (c->hold_until - g_get_monotonic_time()) / 1000;
        timeout_ms = left < 1 ? 1 : left < timeout_ms ? (int)left : timeout_ms;
    }
    while (!c->pending_msgs || c->pending_bytes < budget) {
        rd_kafka_message_t *ms[FETCH_BATCH];
        unsigned seq = c->rebalance_seq;
        bool waiting = c->hold_until && c->limiter && !c->limiter->q.len;
        ssize_t n = rd_kafka_consume_batch_queue(c->q, 0, ms, FETCH_BATCH);
        if (n == 0 && (!c->pending_msgs || waiting) && timeout_ms > 0 &&
            (ms[0] = rd_kafka_consumer_poll(c->rk, timeout_ms))) {
            ssize_t more = rd_kafka_consume_batch_queue(c->q, 0, ms + 1, FETCH_BATCH - 1);
            n = 1 + (more > 0 ? more : 0);
        }
        gint64 now = n > 0 ? g_get_monotonic_time() : 0;
        for (ssize_t i = 0; i < n; i++)
            enqueue(c, ms[i], now);
        if (c->rebalance_seq != seq)
            drop_revoked_pending(c); /* a rebalance ran inside the call */
        if (n <= 0)
            break;
        timeout_ms = 0;
    }
    c->hold_until = 0;
}

/* Merging: a partition whose queue holds more than its share of merge_bytes (at least
 * MERGE_SHARE_MIN) is read ahead of the others; its fetching pauses until half of that is
 * left, so librdkafka's queue, one for all partitions, fills with the partitions behind
 * (Kafka Streams pauses full partition buffers the same way). librdkafka drops what it
 * had prefetched of a paused partition and fetches it again from the position after the
 * last message taken. The floor keeps that refetching rare: with 2 MiB (two of
 * librdkafka's default fetches) a dense 48-partition backlog was read at 300 k events/s
 * instead of 354 k, with 8 MiB a sparse one left 69,000 of 1,000,000 events late for the
 * models instead of 31,000 (scripts/bench data, one run each). */
#define MERGE_SHARE_MIN (4u << 20)
static void balance(VgKafkaCollector *c)
{
    if (!merging(c))
        return;
    bool ahead = reading_ahead(c); /* when not, every partition fetches */
    guint n = 0;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->parts);
    while (g_hash_table_iter_next(&it, NULL, &v))
        n += ((VgKafkaPart *)v)->assigned;
    size_t share = MAX((size_t)c->merge_bytes / MAX(n, 1), (size_t)MERGE_SHARE_MIN);
    g_hash_table_iter_init(&it, c->parts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        VgKafkaPart *p = v;
        if (ahead && !p->throttled && p->q.bytes > share)
            vg_kafka_part_throttle(c, p, true);
        else if (p->throttled && (!ahead || p->q.bytes <= share / 2))
            vg_kafka_part_throttle(c, p, false);
    }
}

/* Publishes what waits in the partition queues for the metrics (pending_* are the reading
 * thread's; c->lock held). */
static void publish_buffered(VgKafkaCollector *c)
{
    c->stats.buffered_messages = c->pending_msgs;
    c->stats.buffered_bytes = c->pending_bytes;
}

/* The partition the next batch comes from: of those with messages waiting, the one the
 * reader's clock has oldest (a partition it has not judged yet first), then the one whose
 * head came first. NULL when none waits. */
static VgKafkaPart *pick(VgKafkaCollector *c)
{
    VgKafkaPart *best = NULL;
    int64_t best_t = INT64_MAX;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->parts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        VgKafkaPart *p = v;
        if (!p->q.len)
            continue;
        int64_t t = merging(c) ? c->clock(c->clock_user, p->id) : 0;
        if (!best || t < best_t ||
            (t == best_t && queue_head(&p->q)->seq < queue_head(&best->q)->seq)) {
            best = p;
            best_t = t;
        }
    }
    return best;
}

static void restart(VgKafkaCollector *c);

static int kafka_next(VgCollector *base, VgLineBatch *b, GError **err)
{
    VgKafkaCollector *c = (VgKafkaCollector *)base;
    release_out(c);
    if (atomic_load(&c->restart_wanted) && !c->fatal)
        restart(c);
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
        /* serve rebalances and keep the session; whatever arrives waits in the queues */
        unsigned seq = c->rebalance_seq;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, (int)c->poll_timeout_ms);
        if (m)
            enqueue(c, m, g_get_monotonic_time());
        if (c->rebalance_seq != seq)
            drop_revoked_pending(c);
        g_mutex_lock(&c->lock); /* (paused is when what waits matters most) */
        publish_buffered(c);
        g_mutex_unlock(&c->lock);
        return VG_EAGAIN;
    }

    /* no rebalance callback runs from here on (only top_up() polls): the partition stays
     * ours while the batch is filled */
    top_up(c, (int)c->poll_timeout_ms);
    balance(c);
    VgKafkaPart *part = pick(c);
    b->partition = -1;
    if (!part)
        return VG_EAGAIN;
    VgKafkaQueue *q = &part->q;
    size_t bytes = 0;
    uint64_t msgs = 0;
    c->out_part = part;
    c->out_pos = q->pos;
    c->out_line = q->line;
    b->partition = part->id;
    b->source = part->source;
    while (q->len && b->n < b->max_lines && bytes < (size_t)c->batch_bytes) {
        rd_kafka_message_t *m = queue_head(q)->m;
        const char *pl = m->payload ? m->payload : "";
        size_t len = m->payload ? m->len : 0;
        uint32_t left = count_lines(pl, len, q->pos);
        uint32_t room = b->max_lines - b->n;
        if (left > room && b->n)
            break; /* whole in the next batch rather than split */
        /* a message split across batches: only its last part carries its offset */
        int64_t offset = left > room ? m->offset - 1 : m->offset;
        uint32_t first = b->n;
        const char *s;
        size_t n;
        for (uint32_t k = 0; k < room && next_line(pl, len, &q->pos, &s, &n); k++) {
            VgBadReason bad = VG_BAD_NONE;
            if (c->opts.max_line_bytes && n > c->opts.max_line_bytes) {
                n = c->opts.max_line_bytes;
                bad = VG_BAD_TOO_LONG;
            }
            vg_line_batch_add(b, s, n, ++q->line, offset, bad);
            bytes += n;
        }
        if (left > room)
            break; /* the rest of it opens the next batch */
        VgKafkaOut o = {queue_pop(c, q), first};
        g_array_append_val(c->out, o);
        msgs++;
    }
    g_mutex_lock(&c->lock);
    c->stats.messages += msgs;
    c->stats.lines += b->n;
    c->stats.bytes += bytes;
    publish_buffered(c);
    g_mutex_unlock(&c->lock);
    return b->n ? VG_OK : VG_EAGAIN;
}

static void hold(VgKafkaCollector *c);

void vg_kafka_collector_unread(VgKafkaCollector *c, const VgLineBatch *b, uint32_t k)
{
    VgKafkaPart *p = c->out_part;
    if (!p || b->partition != p->id || k >= b->n)
        return;
    /* (a batch that ends inside a message holds nothing but that message: no line of it
     * after the first starts a message, and k is 0) */
    g_return_if_fail(!k || b->lines[k].line_no == 1);
    VgKafkaQueue *q = &p->q;
    uint64_t msgs = 0, bytes = 0;
    while (c->out->len) {
        VgKafkaOut *o = &g_array_index(c->out, VgKafkaOut, c->out->len - 1);
        if (o->first < k)
            break;
        queue_push_front(c, q, o->msg);
        g_array_set_size(c->out, c->out->len - 1);
        msgs++;
    }
    for (uint32_t i = k; i < b->n; i++)
        bytes += b->lines[i].len;
    /* out of step: read ahead for a while; not for a wait on a partition that has had no
     * message since its assignment (every start has one) */
    if (k || (c->limiter && c->limiter->fed))
        c->ahead_until = g_get_monotonic_time() + AHEAD_LINGER_US;
    if (!k) {
        /* all of it: the first message from where the batch took it up */
        q->pos = c->out_pos;
        q->line = c->out_line;
        hold(c);
    }
    g_mutex_lock(&c->lock);
    c->stats.messages -= msgs;
    c->stats.lines -= b->n - k;
    c->stats.bytes -= bytes;
    publish_buffered(c);
    g_mutex_unlock(&c->lock);
}

void vg_kafka_collector_set_clock(VgKafkaCollector *c, VgKafkaClockFn clock, void *user)
{
    c->clock = clock;
    c->clock_user = user;
}

/* Whether p takes part in the merge as a partition with nothing queued: for merge_wait
 * after its queue ran empty, its next fetch may be on its way (a partition quiet longer
 * holds nobody back, so live traffic never waits for it); one that has had no message
 * since it was assigned, until merge_wait after it first held the reader back. */
static bool dry_counts(const VgKafkaCollector *c, const VgKafkaPart *p, gint64 *now)
{
    if (c->merge_wait_ms <= 0 || p->q.len || !p->assigned)
        return false;
    if (!p->fed && !p->q.dry_at)
        return true;
    if (!*now)
        *now = g_get_monotonic_time();
    return *now - p->q.dry_at < c->merge_wait_ms * 1000;
}

int64_t vg_kafka_collector_merge_limit(VgKafkaCollector *c, int32_t partition, bool *dry)
{
    int64_t lo = INT64_MAX;
    gint64 now = 0;
    c->limiter = NULL;
    *dry = false;
    if (!merging(c))
        return lo;
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->parts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        VgKafkaPart *p = v;
        if (p->id == partition || (!p->q.len && !dry_counts(c, p, &now)))
            continue;
        int64_t t = c->clock(c->clock_user, p->id);
        if (t < lo || !c->limiter) {
            lo = t;
            *dry = !p->q.len;
            c->limiter = p;
        }
    }
    if (!*dry)
        c->limiter = NULL;
    return lo;
}

/* The reader waits for the limiter, until merge_wait after it ran empty. The partitions
 * without a message since their assignment start their wait now, together, so that those
 * with nothing to read are found out at once, not one wait after another. */
static void hold(VgKafkaCollector *c)
{
    if (!c->limiter)
        return;
    gint64 now = g_get_monotonic_time();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->parts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        VgKafkaPart *p = v;
        if (p->assigned && !p->fed && !p->q.dry_at)
            p->q.dry_at = now;
    }
    c->hold_until = c->limiter->q.dry_at + c->merge_wait_ms * 1000;
}

bool vg_kafka_collector_partial(VgKafkaCollector *c, int32_t partition)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->parts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        VgKafkaPart *p = v;
        if (p->q.len && p->q.pos && (partition < 0 || p->id == partition))
            return true;
    }
    return false;
}

static void kafka_progress(VgCollector *base, uint64_t *done, uint64_t *total)
{
    VgKafkaCollector *c = (VgKafkaCollector *)base;
    g_mutex_lock(&c->lock);
    *done = c->stats.bytes;
    g_mutex_unlock(&c->lock);
    *total = 0;
}

/* --- the consumer: start, leave, restart ---------------------------------------------- */

/* Creates the consumer from c->rk_conf and subscribes to the topics. */
static bool consumer_start(VgKafkaCollector *c, GError **err)
{
    char errstr[512];
    rd_kafka_conf_t *rc = rd_kafka_conf_dup(c->rk_conf); /* (interceptors are not copied) */
    if (c->fetch_nice > 0 && rd_kafka_conf_interceptor_add_on_new(rc, "vigil", on_new, c))
        vg_log_warn("kafka fetching threads keep vigil's priority", "reason",
                    "interceptor refused");
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, rc, errstr, sizeof errstr);
    if (!c->rk) {
        rd_kafka_conf_destroy(rc);
        g_set_error(err, VG_ERROR, VG_ECONFIG, "kafka: %s", errstr);
        return false;
    }
    rd_kafka_poll_set_consumer(c->rk);
    c->q = rd_kafka_queue_get_consumer(c->rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(4);
    for (char **t = c->subscribed; t && *t; t++)
        rd_kafka_topic_partition_list_add(topics, *t, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        g_set_error(err, VG_ERROR, VG_ECONFIG, "kafka: cannot subscribe: %s", rd_kafka_err2str(e));
        return false;
    }
    return true;
}

/* Commits the marks, leaves the group (the revoke callback runs) and drops what is queued.
 * The consumer itself is destroyed by consumer_destroy(). */
static void consumer_leave(VgKafkaCollector *c)
{
    GError *err = NULL;
    if (!c->fatal && vg_kafka_commit_some(c, NULL, 0, true, &err) != VG_OK) {
        vg_log_warn("kafka commit on close failed", "error", err->message);
        g_error_free(err);
    }
    /* leaves the group; the revoke callback commits once more and tells the run loop */
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(c->rk);
    if (e)
        vg_log_warn("kafka consumer close", "error", rd_kafka_err2str(e));
    if (c->out)
        release_out(c);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, c->parts);
    while (g_hash_table_iter_next(&it, NULL, &v))
        vg_kafka_part_drop_queue(c, v);
}

static void consumer_destroy(VgKafkaCollector *c)
{
    if (c->q)
        rd_kafka_queue_destroy(c->q);
    if (c->rk)
        rd_kafka_destroy(c->rk);
    c->q = NULL;
    c->rk = NULL;
    c->last_rkt = NULL; /* (the topic handles went with it) */
    c->last_part = NULL;
}

/* Replaces a consumer that has a stalled partition with a new one (see "Stalled
 * partitions" in collector-kafka.h). Reading thread, from next(). */
static void restart(VgKafkaCollector *c)
{
    g_mutex_lock(&c->wd_lock);
    char *why = c->restart_reason;
    c->restart_reason = NULL;
    g_mutex_unlock(&c->wd_lock);
    vg_log_warn("kafka partition stalled: restarting the consumer", "detail", why ? why : "-");
    g_free(why);
    consumer_leave(c);
    GError *err = NULL;
    g_rw_lock_writer_lock(&c->rk_lock);
    consumer_destroy(c);
    bool ok = consumer_start(c, &err);
    g_rw_lock_writer_unlock(&c->rk_lock);
    g_mutex_lock(&c->lock);
    c->stats.restarts++;
    g_mutex_unlock(&c->lock);
    if (!ok) {
        c->fatal = g_strdup_printf("restart after a stalled partition: %s", err->message);
        g_error_free(err);
    }
    atomic_store(&c->restart_wanted, false);
}

/* --- the stall watchdog ---------------------------------------------------------------- */

/* A partition the watchdog suspects: no message for stall_timeout. */
typedef struct {
    int32_t id;
    char *topic;
    int32_t kp;
    int64_t next; /* offset after the last message fetched (or a checkpoint's start), -1:
                   * none since assigned */
} Suspect;

/* Where s's fetching stands when nothing was fetched since its assignment: its committed
 * offset (a request of at most timeout_ms), else lo with kafka.start earliest; -1 when
 * that cannot be told. rk_lock held. */
static int64_t start_offset(VgKafkaCollector *c, const Suspect *s, int64_t lo, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, s->topic, s->kp);
    int64_t at = -1;
    if (!rd_kafka_committed(c->rk, l, timeout_ms) && !l->elems[0].err)
        at = l->elems[0].offset >= 0 ? l->elems[0].offset : c->start_earliest ? lo : -1;
    rd_kafka_topic_partition_list_destroy(l);
    return at;
}

#define WATCH_REQUEST_MS 2000

bool vg_kafka_watch_decide(VgKafkaWatched *w, int64_t at, int64_t hi, gint64 now_us,
                           int64_t stall_us)
{
    if (at < 0 || hi <= at)
        return false;
    if (at == w->restarted_at && now_us < w->retry_us)
        return false;
    w->backoff = at == w->restarted_at ? MIN(w->backoff * 2, 64) : 1;
    w->restarted_at = at;
    w->retry_us = now_us + w->backoff * stall_us;
    return true;
}

/* A description of a stalled partition (g_free), or NULL: an assigned partition vigil
 * does not pause, without a message for stall_timeout while librdkafka's queue is empty,
 * whose leader has messages past where its fetching stands (asked at most once a
 * stall_timeout per partition; watched: id -> VgKafkaWatched). Watchdog thread. */
static char *find_stall(VgKafkaCollector *c, GHashTable *watched)
{
    gint64 now = g_get_monotonic_time();
    GArray *sus = g_array_new(FALSE, FALSE, sizeof(Suspect));
    g_mutex_lock(&c->lock);
    if (!c->paused) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, c->parts);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            VgKafkaPart *p = v;
            if (p->assigned && !p->throttled &&
                now - atomic_load_explicit(&p->fed_us, memory_order_relaxed) >
                    c->stall_timeout_ms * 1000) {
                Suspect x = {p->id, g_strdup(p->topic), p->kp,
                             atomic_load_explicit(&p->fetched_next, memory_order_relaxed)};
                g_array_append_val(sus, x);
            }
        }
    }
    g_mutex_unlock(&c->lock);
    char *why = NULL;
    g_rw_lock_reader_lock(&c->rk_lock);
    /* (messages waiting in librdkafka's queue: vigil is behind, not librdkafka) */
    if (sus->len && c->rk && rd_kafka_queue_length(c->q) == 0) {
        for (guint i = 0; i < sus->len && !why; i++) {
            Suspect *x = &g_array_index(sus, Suspect, i);
            VgKafkaWatched *w = g_hash_table_lookup(watched, GINT_TO_POINTER(x->id));
            if (!w) {
                w = g_new(VgKafkaWatched, 1);
                *w = (VgKafkaWatched){0, -1, 0, 0};
                g_hash_table_insert(watched, GINT_TO_POINTER(x->id), w);
            }
            /* a quiet partition is asked about once a stall_timeout, not every look */
            if (w->asked_us && now - w->asked_us < c->stall_timeout_ms * 1000)
                continue;
            w->asked_us = now;
            int64_t lo = -1, hi = -1;
            /* (a leader that does not answer is a broker failure librdkafka rides out) */
            if (rd_kafka_query_watermark_offsets(c->rk, x->topic, x->kp, &lo, &hi,
                                                 WATCH_REQUEST_MS))
                continue;
            int64_t at = x->next >= 0 ? x->next : start_offset(c, x, lo, WATCH_REQUEST_MS);
            if (vg_kafka_watch_decide(w, at, hi, now, c->stall_timeout_ms * 1000)) {
                why = g_strdup_printf("%s/%d: nothing fetched for %" G_GINT64_FORMAT
                                      " s while its leader has offsets %" G_GINT64_FORMAT
                                      " to %" G_GINT64_FORMAT,
                                      x->topic, (int)x->kp, c->stall_timeout_ms / 1000, at, hi - 1);
            }
        }
    }
    g_rw_lock_reader_unlock(&c->rk_lock);
    for (guint i = 0; i < sus->len; i++)
        g_free(g_array_index(sus, Suspect, i).topic);
    g_array_free(sus, TRUE);
    return why;
}

static gpointer watchdog_main(gpointer data)
{
    VgKafkaCollector *c = data;
    gint64 every = CLAMP(c->stall_timeout_ms * 1000 / 4, 100000, 5 * G_USEC_PER_SEC);
    GHashTable *watched = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    g_mutex_lock(&c->wd_lock);
    while (!c->wd_stop) {
        gint64 until = g_get_monotonic_time() + every;
        while (!c->wd_stop && g_cond_wait_until(&c->wd_cond, &c->wd_lock, until))
            ;
        if (c->wd_stop || atomic_load(&c->restart_wanted))
            continue;
        g_mutex_unlock(&c->wd_lock);
        char *why = find_stall(c, watched);
        g_mutex_lock(&c->wd_lock);
        if (why) {
            g_free(c->restart_reason);
            c->restart_reason = why;
            atomic_store(&c->restart_wanted, true);
        }
    }
    g_mutex_unlock(&c->wd_lock);
    g_hash_table_destroy(watched);
    return NULL;
}

/* --- life cycle ----------------------------------------------------------------------- */

static void kafka_close(VgCollector *base)
{
    VgKafkaCollector *c = (VgKafkaCollector *)base;
    if (!c)
        return;
    if (c->watchdog) {
        g_mutex_lock(&c->wd_lock);
        c->wd_stop = true;
        g_cond_signal(&c->wd_cond);
        g_mutex_unlock(&c->wd_lock);
        g_thread_join(c->watchdog);
    }
    if (c->rk)
        consumer_leave(c);
    consumer_destroy(c);
    if (c->rk_conf)
        rd_kafka_conf_destroy(c->rk_conf);
    if (c->secrets)
        g_ptr_array_free(c->secrets, TRUE);
    if (c->topics)
        g_ptr_array_free(c->topics, TRUE);
    if (c->out)
        g_array_free(c->out, TRUE);
    g_strfreev(c->subscribed);
    if (c->parts)
        g_hash_table_destroy(c->parts);
    g_free(c->fatal);
    g_free(c->restart_reason);
    g_mutex_clear(&c->lock);
    g_mutex_clear(&c->wd_lock);
    g_cond_clear(&c->wd_cond);
    g_rw_lock_clear(&c->rk_lock);
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
    c->out = g_array_new(FALSE, FALSE, sizeof(VgKafkaOut));
    c->merge_bytes = conf->merge_bytes;
    c->merge_wait_ms = conf->merge_wait_ms;
    c->stall_timeout_ms = conf->stall_timeout_ms;
    c->fetch_nice = (int)conf->fetch_nice;
    c->start_earliest = !conf->start || !strcmp(conf->start, "earliest");
    g_mutex_init(&c->lock);
    g_mutex_init(&c->wd_lock);
    g_cond_init(&c->wd_cond);
    g_rw_lock_init(&c->rk_lock);
    c->last_commit_us = g_get_monotonic_time();

    c->rk_conf = vg_kafka_conf_build(conf, c->secrets, err);
    if (!c->rk_conf)
        goto fail;
    rd_kafka_conf_set_opaque(c->rk_conf, c);
    rd_kafka_conf_set_log_cb(c->rk_conf, on_log);
    rd_kafka_conf_set_error_cb(c->rk_conf, on_error);
    rd_kafka_conf_set_offset_commit_cb(c->rk_conf, vg_kafka_on_commit);
    rd_kafka_conf_set_rebalance_cb(c->rk_conf, vg_kafka_on_rebalance);
    if (!consumer_start(c, err))
        goto fail;
    if (c->stall_timeout_ms > 0)
        c->watchdog = g_thread_new("vg-kafka-watch", watchdog_main, c);
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

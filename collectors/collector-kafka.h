/* collector-kafka.h — access-log lines from Kafka topics, with offsets vigil commits itself.
 *
 * A VgCollector over librdkafka's high-level consumer: one consumer group (`group`), a list
 * of topics or regular expressions (a topic starting with ^ is a regex), and any librdkafka
 * property passed through from the `kafka:` section of vigil.yml, so TLS, SASL and fetch
 * tuning work as the operator's cluster requires:
 *
 *     kafka:
 *       brokers: kafka-1:9093,kafka-2:9093
 *       topics: [gateway-access]          # or "^gateway-.*"
 *       group: vigil
 *       commit_interval: 5s
 *       properties:
 *         security.protocol: SASL_SSL
 *         sasl.mechanism: SCRAM-SHA-512
 *         sasl.username: vigil
 *         sasl.password: ${KAFKA_PASSWORD}    # from the environment
 *         ssl.ca.location: /etc/vigil/ca.pem
 *         ssl.key.password: "@/run/secrets/kafka-key-pass"   # from a file
 *
 * Property values may name environment variables (${NAME}, anywhere in the value) or be
 * read from a file (a value "@/path"; "@@..." stands for a literal leading @). Nested maps
 * are flattened with dots (ssl: {ca: {location: x}} is ssl.ca.location). Resolved values
 * are never logged and are masked in dumps and error messages.
 *
 * Offsets: auto-commit and auto offset store are off. A message's offset is committed only
 * after the run loop said, with vg_kafka_collector_mark(), that every line up to it has
 * been processed and its alerts delivered or spooled. Marks are committed by
 * vg_kafka_collector_commit(), which next() also calls every commit_interval, and
 * synchronously on partition revocation and on close. So a crash replays, it never skips.
 *
 * Batches: each message payload is one or more lines (split on \n, a trailing \r dropped);
 * every line carries its message's offset (VgLineRef.offset) and, as line_no, its 1-based
 * index within the message. A batch holds lines of one partition only
 * (VgLineBatch.partition, VgLineBatch.source "kafka:topic/3"), so per-partition event time
 * is the pipeline's business. A message is not split across batches unless it alone has
 * more lines than a batch holds; then the lines of all but its last part carry the
 * previous offset (offset - 1), so marking them never commits a half-read message.
 *
 * Order across partitions: messages are taken from librdkafka's queue into per-partition
 * queues, up to kafka.merge_bytes ahead of the batches, and each batch comes from one of the
 * partitions that have messages waiting. Without a clock (vg_kafka_collector_set_clock())
 * or with merge_bytes 0 that is the partition whose oldest waiting message arrived first.
 * With one, it is the partition whose newest event time the reader has judged is the
 * oldest: one pipeline reading a backlog of several partitions then keeps them within a
 * batch of each other in event time instead of reading them one after another (librdkafka
 * fetches a megabyte of a partition at a time, which for a quiet partition spans many
 * minutes); the reader narrows that to what it allows with
 * vg_kafka_collector_merge_limit() and _unread(). While the reader puts lines back (the
 * partitions are out of step) the collector reads up to merge_bytes ahead, and a partition
 * read far ahead (its queue over its share of merge_bytes) is paused until half of that is
 * judged, so that librdkafka fetches the others. Within a partition the order is always
 * the offsets'.
 *
 * Partition ids: with one topic VgLineBatch.partition is the Kafka partition number. With
 * several topics the collector numbers (topic, partition) pairs as topic_slot << 20 |
 * partition, topic slots in the order topics are first assigned; see
 * vg_kafka_collector_partition_info(). Ids are per process, never stored.
 *
 * Stalled partitions: librdkafka 2.0.2 can lose a partition's move to its new leader
 * (after a broker failure it keeps the partition on the former leader, which answers every
 * fetch with NOT_LEADER, and takes the unchanged leader in later metadata for a preferred
 * replica it must not leave): the partition is then never fetched again, and nothing but a
 * new consumer gets it going. So a watchdog thread looks, every few seconds, for assigned
 * partitions that neither vigil nor the merge paused and that have had no message for
 * kafka.stall_timeout while librdkafka's queue was empty; it asks the partition's leader
 * for its high watermark (a request of at most 2 s), and when that is past the offset after
 * the last message fetched (or the committed one), the next next() restarts the consumer:
 * it closes it (the revoke callback, the commit of the marks, leaving the group), creates a
 * new one with the same configuration and subscribes again. The partitions then come back
 * through an ordinary rebalance and are read from their committed offsets. A partition's
 * leader is asked at most once a stall_timeout, and a restart at a position an earlier one
 * did not move is repeated only after a growing wait (vg_kafka_watch_decide()).
 *
 * Threads: next(), commit(), close() and the rebalance callback run on the thread that
 * reads (the callback is called from inside next()). mark(), pause(), resume(), stats()
 * and lag() may be called from any thread.
 */
#ifndef VG_COLLECTOR_KAFKA_H
#define VG_COLLECTOR_KAFKA_H

#include "engine/collector.h"
#include "engine/config.h"

/* The `kafka:` section. */
typedef struct {
    char *brokers;                /* bootstrap.servers */
    char **topics;                /* names, or ^regex */
    char *group;                  /* group.id */
    char *client_id;              /* client.id */
    char *start;                  /* auto.offset.reset for a group without offsets */
    const VgConfNode *properties; /* librdkafka properties (borrowed from the tree) */
    int64_t commit_interval_ms;   /* periodic commit of marked offsets; 0: only explicit */
    int64_t poll_timeout_ms;      /* how long next() waits for a first message */
    int64_t batch_bytes;          /* a batch ends after this many payload bytes */
    int64_t merge_bytes;          /* read ahead of the batches to order them by event time */
    int64_t merge_wait_ms;        /* wait for a partition behind the others with none queued */
    /* for the run loop: a partition without messages this long stops holding the
     * event-time watermark back (0: never) */
    int64_t idle_timeout_ms;
    /* a partition not fetched this long while its leader has messages past it restarts
     * the consumer (0: never); see "Stalled partitions" above */
    int64_t stall_timeout_ms;
    /* added to the nice value of librdkafka's broker threads (collector-kafka.c, "Fetching
     * threads' priority"); 0: they run at the process's priority */
    int64_t fetch_nice;
} VgKafkaConf;

extern const VgConfOption vg_kafka_options[];

/* Fills conf from the `kafka:` section (NULL: defaults, which fail: brokers and topics are
 * required) and checks the properties: scalars only, no property vigil sets itself
 * (group.id, bootstrap.servers, enable.auto.commit, ...), environment variables and
 * files resolvable. Errors are "file:line:col: reason" and never contain a value. On error
 * conf may hold some values: call vg_kafka_conf_clear(). */
int vg_kafka_conf_load(VgKafkaConf *conf, const VgConfNode *section, GError **err);
void vg_kafka_conf_clear(VgKafkaConf *conf);
/* Appends the section as YAML at indent, with secret-looking properties masked. */
void vg_kafka_conf_dump(const VgKafkaConf *conf, GString *out, int indent);
/* True when a librdkafka property name looks like it holds a secret (password, key,
 * secret, token, credentials...). */
bool vg_kafka_property_is_secret(const char *name);

typedef enum {
    VG_KAFKA_ASSIGNED, /* partitions now ours (before fetching starts) */
    VG_KAFKA_REVOKED,  /* about to be taken away: drain and mark them now */
    VG_KAFKA_LOST,     /* taken away without warning (session lost): do not commit */
} VgKafkaRebalance;

/* Called from inside next() (or close()) on a rebalance, with the partition ids concerned.
 * On VG_KAFKA_REVOKED the run loop should finish the batches it holds of those
 * partitions, flush alerts and mark their offsets before returning: the collector commits
 * the marks of the revoked partitions synchronously right after the call. This is also
 * the moment to checkpoint their state. */
typedef void (*VgKafkaRebalanceFn)(void *user, VgKafkaRebalance what, const int32_t *partitions,
                                   size_t n);

typedef struct {
    size_t max_line_bytes;        /* longer lines are truncated and flagged VG_BAD_TOO_LONG */
    VgKafkaRebalanceFn rebalance; /* may be NULL */
    void *user;
} VgKafkaCollectorOpts;

typedef struct VgKafkaCollector VgKafkaCollector;

/* Creates the consumer and subscribes; the group join happens in the first next() calls.
 * conf is copied where needed (properties are resolved now). Returns NULL and sets err on
 * a configuration error (bad property, unreadable secret file). The caller owns the
 * result: close it with ops->close (vg_kafka_collector_base(c)->ops->close), which
 * commits the marks and leaves the group. */
VgKafkaCollector *vg_kafka_collector_open(const VgKafkaConf *conf, const VgKafkaCollectorOpts *o,
                                          GError **err);
VgCollector *vg_kafka_collector_base(VgKafkaCollector *c);
/* The Kafka collector behind a VgCollector, or NULL if it is another kind. */
VgKafkaCollector *vg_kafka_collector_from(VgCollector *c);

/* Everything up to and including offset of partition is processed and its alerts are
 * delivered or spooled; the next commit stores offset + 1. Marks only move forward;
 * marks of partitions not assigned any more are ignored. Thread-safe. */
void vg_kafka_collector_mark(VgKafkaCollector *c, int32_t partition, int64_t offset);
/* From inside the VG_KAFKA_ASSIGNED callback: partition starts reading at offset (the
 * next offset of a checkpoint) instead of the group's committed offset. */
void vg_kafka_collector_start_at(VgKafkaCollector *c, int32_t partition, int64_t offset);
/* Commits the marks not yet committed. sync waits for the broker's answer. Returns VG_OK
 * (also when there is nothing to commit) or VG_EIO with err set. */
int vg_kafka_collector_commit(VgKafkaCollector *c, bool sync, GError **err);

/* Back-pressure: stop fetching every assigned partition (and those assigned later) /
 * fetch again. Messages already handed out are unaffected. Thread-safe. */
void vg_kafka_collector_pause(VgKafkaCollector *c);
void vg_kafka_collector_resume(VgKafkaCollector *c);
bool vg_kafka_collector_paused(const VgKafkaCollector *c);

/* Whether partition (any partition: -1) has a message handed out in part (a message with
 * more lines than a batch holds). Until the rest is handed out, the marks of that partition
 * stop before the message while a pipeline has judged some of its lines: a checkpoint of
 * that partition's state now would count them twice after a restart. */
bool vg_kafka_collector_partial(VgKafkaCollector *c, int32_t partition);

/* The newest event time (ms) the reader has judged of partition, INT64_MIN when none. */
typedef int64_t (*VgKafkaClockFn)(void *user, int32_t partition);
/* Orders batches by the reader's event time (see "Order across partitions" above); NULL:
 * by arrival. Reading thread. */
void vg_kafka_collector_set_clock(VgKafkaCollector *c, VgKafkaClockFn clock, void *user);
/* With a clock, right after next() handed out a batch of partition: the oldest event time
 * of the other assigned partitions that have messages queued or, nothing queued, ran
 * empty less than kafka.merge_wait ago or have had no message since their assignment
 * (their next fetch may be on its way; *dry is then true when such a partition is the
 * oldest). INT64_MAX: none, or no
 * clock. Lines of the batch past it, by more than the reader allows, are better put back
 * with unread() and judged after those partitions caught up. */
int64_t vg_kafka_collector_merge_limit(VgKafkaCollector *c, int32_t partition, bool *dry);
/* Puts lines [k, b->n) of the batch the last next() filled back in front of their
 * partition, to be handed out again (same lines, offsets and line numbers). Only before
 * the next call of next(); line k must start a message (line_no 1) unless k == 0, k <=
 * b->n (b->n: nothing to put back). k == 0 puts the whole batch back to wait for the
 * partition merge_limit() found *dry: the next next() waits for its messages until
 * kafka.merge_wait after it ran empty, or after now if it has had none since its
 * assignment (reading up to twice merge_bytes meanwhile, merge_bytes for a partition
 * without a message yet); after that it holds nobody back until it has messages again.
 * Putting lines back turns reading ahead on for a while (the partitions are out of step),
 * but for the wait for a partition without a message since its assignment. The
 * collector's counters count the lines put back once. */
void vg_kafka_collector_unread(VgKafkaCollector *c, const VgLineBatch *b, uint32_t k);

/* Topic and Kafka partition of a partition id; false if the id is unknown. *topic is
 * owned by the collector and lives as long as it. */
bool vg_kafka_collector_partition_info(const VgKafkaCollector *c, int32_t partition,
                                       const char **topic, int32_t *kafka_partition);
/* The partition ids assigned now, into out (up to cap); returns how many there are. */
size_t vg_kafka_collector_assignment(const VgKafkaCollector *c, int32_t *out, size_t cap);

/* Consumer lag of one assigned partition: the broker's high watermark (as last seen in
 * fetch responses; no request is made) less the next offset vigil will process. */
typedef struct {
    const char *topic; /* owned by the collector, valid while it lives */
    int32_t kafka_partition;
    int64_t lag; /* -1 when not known yet */
} VgKafkaLag;

/* Fills out (up to cap) with the lag of every assigned partition; returns how many there
 * are. Any thread (metrics scrapes). */
size_t vg_kafka_collector_lag(const VgKafkaCollector *c, VgKafkaLag *out, size_t cap);

/* The partitions of every topic the subscription takes, from the brokers' metadata (a
 * blocking request of at most timeout_ms). -1 and err when the brokers do not answer or
 * no subscribed topic exists. */
int vg_kafka_collector_topic_partitions(VgKafkaCollector *c, int timeout_ms, GError **err);

typedef struct {
    uint64_t messages, lines, bytes; /* handed out */
    uint64_t commits, commit_failures;
    uint64_t rebalances;
    uint64_t errors; /* consumer errors reported (librdkafka retries them) */
    /* fetched and not handed out yet, now: in vigil's partition queues (as of the last
     * next() or unread()), and in librdkafka's consumer queue (events, mostly messages) */
    uint64_t buffered_messages, buffered_bytes;
    uint64_t librdkafka_queued;
    uint64_t restarts; /* consumers restarted for a stalled partition */
} VgKafkaStats;

void vg_kafka_collector_stats(const VgKafkaCollector *c, VgKafkaStats *out);

#endif

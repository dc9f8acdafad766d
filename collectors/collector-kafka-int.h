/* collector-kafka-int.h — what the three files of the Kafka collector share:
 * collector-kafka-conf.c turns the `kafka:` section into a librdkafka configuration,
 * collector-kafka.c runs the consumer and cuts messages into line batches, and
 * collector-kafka-offsets.c keeps the partition table, marks, commits and rebalances.
 * Not for use outside collectors/. */
#ifndef VG_COLLECTOR_KAFKA_INT_H
#define VG_COLLECTOR_KAFKA_INT_H

#include "collectors/collector-kafka.h"

#include <librdkafka/rdkafka.h>
#include <stdatomic.h>

/* Builds the librdkafka configuration: vigil's fixed settings (group, brokers, manual
 * offsets), then every user property with ${ENV} and @file resolved. Values that came from
 * the environment or a file, or whose property looks secret, are appended to secrets
 * (g_free'd strings) so the log callback can scrub them. NULL and err on error. */
rd_kafka_conf_t *vg_kafka_conf_build(const VgKafkaConf *conf, GPtrArray *secrets, GError **err);

#define VG_KAFKA_TOPIC_SHIFT 20 /* partition ids: topic_slot << 20 | partition */

/* A fetched message waiting to be handed out, and when it arrived (seq: the order in which
 * the collector took messages from librdkafka's queue, over all partitions). */
typedef struct {
    rd_kafka_message_t *m;
    uint64_t seq;
} VgKafkaMsg;

/* A partition's messages fetched and not handed out yet, in offset order: a ring that
 * grows by doubling and is reused, so queueing allocates nothing per message. pos and
 * line: how much of the head message is handed out (bytes, lines). */
typedef struct {
    VgKafkaMsg *v;
    uint32_t head, len, cap; /* cap: 0 or a power of two (64 doubled) */
    size_t pos;
    uint32_t line;
    size_t bytes;  /* payload bytes queued */
    gint64 dry_at; /* when it last ran empty, or (no message yet) first held the reader up */
} VgKafkaQueue;

/* One (topic, partition) ever assigned; see collector-kafka-offsets.c. */
typedef struct {
    int32_t id;
    int32_t kp;  /* Kafka partition */
    char *topic; /* points into topics[] */
    char *source;
    int64_t marked;    /* next offset to commit, -1: none */
    int64_t committed; /* last committed, -1: none since assignment */
    int64_t start;     /* where the next assignment starts reading, -1: committed offset */
    bool assigned;
    VgKafkaQueue q; /* reading thread only */
    /* merging: fetching paused while its queue holds more than its share of merge_bytes,
     * so that librdkafka fetches the partitions behind it (written under the lock) */
    bool throttled;
    bool fed; /* a message came since it was assigned (reading thread only) */
    /* for the stall watchdog (written by the reading thread, read by the watchdog): the
     * offset after the last message fetched, or where a checkpoint started it (-1: neither
     * since assigned), and when a message last came or fetching last started (assignment,
     * resume) */
    _Atomic int64_t fetched_next;
    _Atomic int64_t fed_us;
} VgKafkaPart;

/* A message the last batch handed out whole, kept until the next read so unread() can
 * put it back; first: the index of its first line in that batch. */
typedef struct {
    VgKafkaMsg msg;
    uint32_t first;
} VgKafkaOut;

struct VgKafkaCollector {
    VgCollector base; /* first: ops->close gets this pointer */
    rd_kafka_t *rk;
    rd_kafka_queue_t *q; /* the consumer queue, read in batches */
    VgKafkaCollectorOpts opts;
    int64_t commit_interval_ms, poll_timeout_ms, batch_bytes;
    GPtrArray *secrets; /* resolved secret values, scrubbed from librdkafka's log lines */
    GPtrArray *topics;  /* topic names; index = slot */
    char **subscribed;  /* kafka.topics: names and ^regexes */
    GHashTable *parts;  /* id -> VgKafkaPart */
    /* fetched, not handed out: in the partitions' queues (VgKafkaPart.q) */
    uint32_t pending_msgs;
    size_t pending_bytes;
    int64_t merge_bytes; /* read ahead of the batches up to this much, to merge by time */
    int64_t merge_wait_ms;
    VgKafkaPart *limiter; /* the partition merge_limit() found oldest, when none of it waits */
    gint64 hold_until;    /* the reader put a batch back to wait for limiter: until when */
    gint64 ahead_until;   /* reading ahead and pausing on: the reader put lines back lately */
    uint64_t seq;         /* messages taken from librdkafka so far */
    VgKafkaClockFn clock;
    void *clock_user;
    /* the last batch: its partition and the messages it took whole */
    VgKafkaPart *out_part;
    GArray *out;    /* VgKafkaOut */
    size_t out_pos; /* where the batch started in its first message (bytes, lines) */
    uint32_t out_line;
    gint64 last_commit_us;
    char *fatal;            /* fatal consumer error, reported by next() */
    unsigned rebalance_seq; /* counts rebalance callbacks (reading thread only) */
    /* the partition of the last message looked up: messages come in runs per partition */
    const rd_kafka_topic_t *last_rkt;
    int32_t last_kp;
    VgKafkaPart *last_part;
    GMutex lock; /* parts' marks and assignment, paused, stats */
    bool paused;
    VgKafkaStats stats;
    /* the consumer's configuration, kept to create it again (restart) */
    rd_kafka_conf_t *rk_conf;
    int64_t stall_timeout_ms;
    int fetch_nice;      /* kafka.fetch_nice */
    bool start_earliest; /* kafka.start: where a partition without a committed offset starts */
    /* rk and q are replaced by a restart (reading thread, writer); other threads that use
     * them (watchdog, stats, lag) hold this as readers */
    GRWLock rk_lock;
    /* the stall watchdog: its thread, how it is told to stop, what it found */
    GThread *watchdog;
    GMutex wd_lock;
    GCond wd_cond;
    bool wd_stop;
    _Atomic bool restart_wanted;
    char *restart_reason; /* under wd_lock */
};

/* What the stall watchdog remembers of a partition: when it last asked the leader, the
 * position it last restarted the consumer for (-1: none), and how long it waits before
 * doing that again for the same position (backoff, in stall timeouts, until retry_us). */
typedef struct {
    gint64 asked_us;
    int64_t restarted_at;
    int64_t backoff;
    gint64 retry_us;
} VgKafkaWatched;

/* Whether a partition whose fetching stands at `at` while its leader's high watermark is hi
 * calls for a restart now, and notes it in w. A restart that did not move the position
 * (offsets that are no messages, such as a transaction's markers, or a stall that came
 * back) is repeated only after 1, 2, 4 ... 64 stall timeouts. */
bool vg_kafka_watch_decide(VgKafkaWatched *w, int64_t at, int64_t hi, gint64 now_us,
                           int64_t stall_us);

/* collector-kafka-offsets.c: the partition table, marks, commits, rebalances, pausing. */
VgKafkaPart *vg_kafka_part_get(VgKafkaCollector *c, const char *topic, int32_t kp);
void vg_kafka_part_free(gpointer p);
/* Merging: stops fetching p while its queue holds more than its share (throttle), or
 * fetches it again; a pause of the whole input (back-pressure) goes over it. */
void vg_kafka_part_throttle(VgKafkaCollector *c, VgKafkaPart *p, bool throttle);
/* Destroys the messages queued for p (a revoked partition: its next owner reads them). */
void vg_kafka_part_drop_queue(VgKafkaCollector *c, VgKafkaPart *p);
/* Commits the moved marks of every assigned partition, or of the n_only listed. */
int vg_kafka_commit_some(VgKafkaCollector *c, const int32_t *only, size_t n_only, bool sync,
                         GError **err);
void vg_kafka_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t *offsets, void *opaque);
void vg_kafka_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *list, void *opaque);

#endif

/* collector-kafka-int.h — what the three files of the Kafka collector share:
 * collector-kafka-conf.c turns the `kafka:` section into a librdkafka configuration,
 * collector-kafka.c runs the consumer and cuts messages into line batches, and
 * collector-kafka-offsets.c keeps the partition table, marks, commits and rebalances.
 * Not for use outside collectors/. */
#ifndef VG_COLLECTOR_KAFKA_INT_H
#define VG_COLLECTOR_KAFKA_INT_H

#include "collectors/collector-kafka.h"

#include <librdkafka/rdkafka.h>

/* Builds the librdkafka configuration: vigil's fixed settings (group, brokers, manual
 * offsets), then every user property with ${ENV} and @file resolved. Values that came from
 * the environment or a file, or whose property looks secret, are appended to secrets
 * (g_free'd strings) so the log callback can scrub them. NULL and err on error. */
rd_kafka_conf_t *vg_kafka_conf_build(const VgKafkaConf *conf, GPtrArray *secrets, GError **err);

#define VG_KAFKA_TOPIC_SHIFT 20 /* partition ids: topic_slot << 20 | partition */

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
} VgKafkaPart;

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
    GPtrArray *pending; /* rd_kafka_message_t * fetched, not yet handed out: from */
    guint pending_head; /* this index on, in order */
    size_t pending_pos; /* bytes of the head's payload already handed out */
    uint32_t pending_line;
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
};

/* collector-kafka-offsets.c: the partition table, marks, commits, rebalances, pausing. */
VgKafkaPart *vg_kafka_part_get(VgKafkaCollector *c, const char *topic, int32_t kp);
void vg_kafka_part_free(gpointer p);
/* Commits the moved marks of every assigned partition, or of the n_only listed. */
int vg_kafka_commit_some(VgKafkaCollector *c, const int32_t *only, size_t n_only, bool sync,
                         GError **err);
void vg_kafka_on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t *offsets, void *opaque);
void vg_kafka_on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *list, void *opaque);

#endif

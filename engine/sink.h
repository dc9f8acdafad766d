/* sink.h — where alerts go: stdout, files, Redis streams, syslog.
 *
 * A sink is a const table of callbacks plus a config table (Fluent Bit's plugin shape;
 * Suricata's split of config-time and run-time state). The alert stage renders each alert
 * once into a VgAlertRecord — the JSON of DESIGN.md plus the few fields sinks index on —
 * and hands records to every sink in batches, in order.
 *
 * write() either takes the whole batch (VG_OK) or none of it (VG_EIO, err set): the
 * delivery layer then keeps the batch (spool) and retries, so a sink never has to
 * remember half a batch. A sink never sees a raw token: the record has token_id only.
 */
#ifndef VG_SINK_H
#define VG_SINK_H

#include "engine/alert.h"
#include "engine/config.h"

typedef struct {
    const char *json; /* the alert object, one line, no newline */
    size_t json_len;
    const char *id; /* event.id */
    const char *rule_id;
    const char *rule_name;
    VgSeverity severity;
    const char *entity_type;
    const char *token_id;  /* "" when the alert has no token */
    const char *client_ip; /* "" when absent */
    double score;
    int64_t time_ms; /* @timestamp */
} VgAlertRecord;

typedef struct VgSink VgSink;

typedef struct VgSinkOps {
    const char *name;            /* "stdout", "file", "redis", "syslog": the key under sinks: */
    const VgConfOption *options; /* the sink's config table (NULL-key terminated) */
    /* Creates the sink from its section. NULL and err on error. A sink that cannot reach
     * its server yet still starts (it will retry); only bad config fails here. */
    VgSink *(*create)(const struct VgSinkOps *ops, const VgConfNode *section, GError **err);
    int (*write)(VgSink *s, const VgAlertRecord *const *recs, size_t n, GError **err);
    /* Makes written records durable/visible (fflush, read pipelined replies). May be NULL. */
    int (*flush)(VgSink *s, GError **err);
    /* SIGHUP: reopen files for logrotate. May be NULL. */
    void (*reopen)(VgSink *s);
    void (*destroy)(VgSink *s);
} VgSinkOps;

struct VgSink {
    const VgSinkOps *ops;
    char *instance;      /* name from config, for logs and metrics (owned by the engine) */
    uint64_t reconnects; /* connections (re)established, counted by the sink for metrics */
};

#endif

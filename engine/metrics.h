/* metrics.h — what vigil is doing, for Prometheus: a pull registry, /metrics, /healthz,
 * /readyz.
 *
 * The pipeline already counts everything (VgPipelineStats, VgAlertStats, the delivery's
 * VgSinkStats, the models' and the Kafka collector's counters). Pushing each of those into
 * a second set of counters would put work, or a lock, on the per-event path. So the
 * registry is pulled: a subsystem registers a collector callback, and at every scrape the
 * HTTP thread calls it to write the subsystem's current values. A collector reads its
 * counters without taking any lock the pipeline takes per event: relaxed atomic loads of
 * counters the owner increments (aligned 64-bit words do not tear), or a snapshot the
 * owner publishes per batch under its own short lock. A scrape may therefore see counters
 * from instants a few microseconds apart, which Prometheus's model tolerates.
 *
 * Scrapes are serialised under the registry's lock; registering or unregistering waits for
 * a scrape in progress, so once vg_metrics_unregister() returns the callback is never
 * called again and its object may be freed.
 *
 * Readiness checks are registered the same way: /readyz answers 200 when all pass, 503
 * with one reason per failing check otherwise. /healthz answers 200 "ok" while the process
 * can answer at all.
 *
 * Label values come from configuration and rules (sink names, rule ids, partition ids,
 * reasons), never from events: a raw token, a client address or a URL never becomes a
 * label (it would leak and it would explode the series count).
 */
#ifndef VG_METRICS_H
#define VG_METRICS_H

#include "engine/config.h"

typedef enum { VG_METRIC_COUNTER, VG_METRIC_GAUGE } VgMetricType;

typedef struct VgMetricsWriter VgMetricsWriter;

/* Writes the current values of one subsystem. Runs on the scraping thread with the
 * registry lock held: it must not register or unregister anything. */
typedef void (*VgMetricsCollectFn)(void *user, VgMetricsWriter *w);
/* Returns true when the subsystem is ready; otherwise false with a short reason appended
 * to why (one line, no newline). Same thread and lock rules as collectors. */
typedef bool (*VgMetricsCheckFn)(void *user, GString *why);

/* Registers a collector / a readiness check (name is for logs and the /readyz reason).
 * Returns an id (> 0) for vg_metrics_unregister(). Thread-safe. */
unsigned vg_metrics_register(const char *name, VgMetricsCollectFn fn, void *user);
unsigned vg_metrics_register_check(const char *name, VgMetricsCheckFn fn, void *user);
/* Removes a collector or check; when it returns the callback is not running and will not
 * run again. 0 is ignored. Thread-safe. */
void vg_metrics_unregister(unsigned id);

/* Declares a metric family (name must match [a-zA-Z_:][a-zA-Z0-9_:]*; counters end in
 * _total by convention). Declaring the same family again in a scrape (two instances of a
 * subsystem) is fine: their samples are grouped under one HELP/TYPE. */
void vg_metrics_family(VgMetricsWriter *w, const char *name, VgMetricType type, const char *help);
/* Writes one sample of a declared family. labels: NULL, or a NULL-terminated array of
 * name, value pairs, e.g. (const char *[]){"sink", name, NULL}. Values are escaped; a
 * sample whose name and labels were already written in this scrape is dropped. */
void vg_metrics_put(VgMetricsWriter *w, const char *name, const char *const *labels, double v);
/* Same for a counter that may exceed 2^53 (printed exactly). */
void vg_metrics_put_u64(VgMetricsWriter *w, const char *name, const char *const *labels,
                        uint64_t v);

/* Renders every registered collector (and the process metrics: build info, start time,
 * resident memory, CPU time) in the Prometheus text exposition format 0.0.4 into out. */
void vg_metrics_render(GString *out);
/* Runs every readiness check. True when all pass; otherwise false and why holds one
 * "name: reason" line per failing check. */
bool vg_metrics_ready(GString *why);

/* For tests and for collectors kept outside the registry: renders only fn's output. */
void vg_metrics_render_one(VgMetricsCollectFn fn, void *user, GString *out);

/* ---- the `metrics:` section ------------------------------------------------------------ */

typedef struct {
    bool enabled;
    char *listen; /* "host:port", "[v6]:port" or ":port" */
} VgMetricsConf;

extern const VgConfOption vg_metrics_options[];

/* Fills conf from the `metrics:` section (NULL: defaults) and checks that listen is an
 * address and port. On error VG_ECONFIG with err "file:line:col: reason"; call
 * vg_metrics_conf_clear() either way. */
int vg_metrics_conf_load(VgMetricsConf *conf, const VgConfNode *section, GError **err);
void vg_metrics_conf_clear(VgMetricsConf *conf);
/* Splits a listen address into a newly allocated host ("" for every address) and a port.
 * False when it has neither form. */
bool vg_metrics_split_listen(const char *listen, char **host, int *port);

/* ---- the HTTP endpoint (metrics-http.c, libmicrohttpd) ---------------------------------- */

typedef struct VgMetricsServer VgMetricsServer;

/* Starts the endpoint on conf->listen in its own thread: GET /metrics, /healthz, /readyz.
 * Returns NULL and sets err when the address cannot be bound. The caller owns the result
 * (vg_metrics_server_stop). Does not look at conf->enabled: the caller decides. */
VgMetricsServer *vg_metrics_server_start(const VgMetricsConf *conf, GError **err);
/* The port actually bound (useful with port 0). */
int vg_metrics_server_port(const VgMetricsServer *s);
/* Stops the endpoint and waits for a request in progress. NULL is fine. */
void vg_metrics_server_stop(VgMetricsServer *s);

#endif

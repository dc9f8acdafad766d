/* cli-metrics.h — the metrics and readiness checks of a running vigil: the pipeline, the
 * alert stage, the alerts by rule, the delivery (sinks and spools) and the Kafka consumer,
 * exposed through the registry of engine/metrics.h.
 *
 * These adapters live with the commands (cli-metrics.c, linked into vg_wiring) because
 * they name the delivery layer and the Kafka collector, which the engine library may not.
 *
 * Use from a command (run):
 *
 *     VgRunMetrics *m = vg_run_metrics_new("kafka");          // or "files"
 *     VgAlertOutput out = vg_run_metrics_output(m, vg_delivery_output(dl));
 *     VgRunState *st = vg_run_state_new(s, out, false, NULL, NULL, NULL, &err);
 *     vg_run_metrics_watch_state(m, st);
 *     vg_run_metrics_watch_delivery(m, dl);
 *     vg_run_metrics_watch_kafka(m, kc);                      // when reading Kafka
 *     srv = vg_metrics_server_start(&mconf, &err);            // when mconf.enabled
 *     vg_run_metrics_set_ready(m, true, NULL);                // the loop starts
 *     ... loop ...
 *     vg_run_metrics_set_ready(m, false, "shutting down");    // draining
 *     vg_metrics_server_stop(srv);
 *     vg_run_metrics_free(m);                                 // before freeing st, dl, kc
 */
#ifndef VG_CLI_METRICS_H
#define VG_CLI_METRICS_H

#include "collectors/collector-kafka.h"
#include "engine/metrics.h"
#include "engine/cli-run-state.h"
#include "engine/sinks/delivery.h"

typedef struct VgRunMetrics VgRunMetrics;

/* source labels the input metrics ("kafka", "files", "replay"). Registers the "run"
 * readiness check, not ready until vg_run_metrics_set_ready(m, true). The caller owns the
 * result (vg_run_metrics_free). */
VgRunMetrics *vg_run_metrics_new(const char *source);
/* Wraps out so that every record pushed is also counted by rule and severity
 * (vigil_alerts_sent_total). The result is valid while m lives; call once. */
VgAlertOutput vg_run_metrics_output(VgRunMetrics *m, VgAlertOutput out);
/* Start exposing an object's counters (and, for delivery and Kafka, readiness checks).
 * The objects must outlive m, or rather its vg_run_metrics_free(). Call each once.
 * watch_state: the pipelines' counters, the models' tables (keys tracked, evicted,
 * memory against budget) and the rule set's generation and size. */
void vg_run_metrics_watch_state(VgRunMetrics *m, VgRunState *st);
void vg_run_metrics_watch_delivery(VgRunMetrics *m, VgDelivery *d);
void vg_run_metrics_watch_kafka(VgRunMetrics *m, VgKafkaCollector *kc);
/* On the run loop's thread, after a batch and when idle: publishes the models' figures
 * for scrapes (at most once a second; cheap otherwise). m may be NULL. */
void vg_run_metrics_publish(VgRunMetrics *m);
/* The run loop's own readiness: ready while it reads; why (copied) says otherwise. */
void vg_run_metrics_set_ready(VgRunMetrics *m, bool ready, const char *why);
/* Unregisters everything (waiting for a scrape in progress), then frees m. NULL is fine. */
void vg_run_metrics_free(VgRunMetrics *m);

#endif

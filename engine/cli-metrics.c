/* cli-metrics.c — see cli-metrics.h.
 *
 * Every collector here reads counters another thread writes: the pipelines' and the alert
 * stages' stats through vg_run_state_totals, with relaxed atomic loads (a pipeline
 * increments them with plain stores on its own thread; an aligned 64-bit word never
 * tears, and the loads keep the compiler from caching or splitting them), the delivery's and the
 * Kafka collector's through their documented thread-safe snapshots. The one structure written here
 * on the pipeline thread, the count of alerts per rule, is touched once per alert (not per event)
 * under a mutex the scrape shares.
 *
 * Series are labelled by things the operator configured or the rule author named: source,
 * reason, sink, rule id, severity. The per-rule table is capped so a rule set with
 * thousands of generated rules cannot grow the scrape without bound.
 */
#include "engine/cli-metrics.h"
#include "rules/rules.h"
#include "models/models.h"

#include "engine/alert.h"

#include <stdio.h>

#define MAX_RULE_SERIES 2000
#define READY_WINDOW_US (30 * G_USEC_PER_SEC) /* how long a refused spool / error counts */

typedef struct {
    uint64_t seen;  /* counter value at the last check */
    gint64 changed; /* monotonic time it last grew (0: never) */
} Trend;

struct VgRunMetrics {
    char *source;
    VgRunState *state;
    VgDelivery *delivery;
    VgKafkaCollector *kafka;
    GMutex det_lock;           /* guards the snapshot below */
    bool models_on;            /* published by the loop thread (vg_run_metrics_publish): */
    VgModelsStats models_snap; /* the models' figures over every pipeline */
    size_t models_budget;
    gint64 last_publish;
    unsigned ids[12];
    size_t n_ids;

    GMutex lock; /* ready, why, rules */
    bool ready;
    char *why;
    GHashTable *rules; /* "rule\x1fseverity" -> uint64_t * */
    VgAlertOutput inner;

    /* scrape-side state (the registry serialises scrapes) */
    gint64 rate_t;
    uint64_t rate_events;
    double rate;
    Trend *spool_full; /* per sink */
    size_t n_spool_full;
    Trend kafka_errors;
};

static void add_id(VgRunMetrics *m, unsigned id)
{
    g_assert(m->n_ids < G_N_ELEMENTS(m->ids));
    m->ids[m->n_ids++] = id;
}

static inline uint64_t ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}
static inline int64_t ld64(const int64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* True when c grew within the readiness window (updates t). */
static bool trend_recent(Trend *t, uint64_t c)
{
    gint64 now = g_get_monotonic_time();
    if (c != t->seen) {
        t->seen = c;
        t->changed = now;
    }
    return t->changed && now - t->changed < READY_WINDOW_US;
}

/* ---- run readiness ---------------------------------------------------------------------- */

static bool check_run(void *user, GString *why)
{
    VgRunMetrics *m = user;
    g_mutex_lock(&m->lock);
    bool ok = m->ready;
    if (!ok)
        g_string_append(why, m->why ? m->why : "starting");
    g_mutex_unlock(&m->lock);
    return ok;
}

VgRunMetrics *vg_run_metrics_new(const char *source)
{
    VgRunMetrics *m = g_new0(VgRunMetrics, 1);
    m->source = g_strdup(source ? source : "input");
    g_mutex_init(&m->lock);
    g_mutex_init(&m->det_lock);
    m->rules = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    add_id(m, vg_metrics_register_check("run", check_run, m));
    return m;
}

void vg_run_metrics_set_ready(VgRunMetrics *m, bool ready, const char *why)
{
    g_mutex_lock(&m->lock);
    m->ready = ready;
    g_free(m->why);
    m->why = g_strdup(why);
    g_mutex_unlock(&m->lock);
}

/* ---- alerts by rule --------------------------------------------------------------------- */

static int counting_push(void *user, const VgAlertRecord *rec)
{
    VgRunMetrics *m = user;
    int rc = m->inner.push(m->inner.user, rec);
    if (rc != VG_OK)
        return rc; /* refused: it will be pushed again */
    char key[256];
    g_snprintf(key, sizeof key, "%s\x1f%d", rec->rule_id ? rec->rule_id : "", (int)rec->severity);
    g_mutex_lock(&m->lock);
    uint64_t *n = g_hash_table_lookup(m->rules, key);
    if (!n) {
        if (g_hash_table_size(m->rules) >= MAX_RULE_SERIES) {
            g_snprintf(key, sizeof key, "_other\x1f%d", (int)rec->severity);
            n = g_hash_table_lookup(m->rules, key);
        }
        if (!n) {
            n = g_new0(uint64_t, 1);
            g_hash_table_insert(m->rules, g_strdup(key), n);
        }
    }
    (*n)++;
    g_mutex_unlock(&m->lock);
    return rc;
}

static int counting_flush(void *user)
{
    VgRunMetrics *m = user;
    return m->inner.flush ? m->inner.flush(m->inner.user) : VG_OK;
}

static void collect_rules(void *user, VgMetricsWriter *w)
{
    VgRunMetrics *m = user;
    vg_metrics_family(w, "vigil_alerts_sent_total", VG_METRIC_COUNTER,
                      "Alert records (new incidents and updates) handed to the sinks, by rule "
                      "and severity (1 low .. 4 critical).");
    g_mutex_lock(&m->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, m->rules);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        char *rule = g_strdup(k);
        char *sep = strchr(rule, '\x1f');
        *sep = '\0';
        const char *sev = vg_severity_name((VgSeverity)atoi(sep + 1));
        vg_metrics_put_u64(w, "vigil_alerts_sent_total",
                           (const char *[]){"rule", rule, "severity", sev ? sev : sep + 1, NULL},
                           *(uint64_t *)v);
        g_free(rule);
    }
    g_mutex_unlock(&m->lock);
}

VgAlertOutput vg_run_metrics_output(VgRunMetrics *m, VgAlertOutput out)
{
    m->inner = out;
    add_id(m, vg_metrics_register("alerts", collect_rules, m));
    return (VgAlertOutput){.user = m, .push = counting_push, .flush = counting_flush};
}

/* ---- pipeline and alert stage ----------------------------------------------------------- */

static void counter(VgMetricsWriter *w, const char *name, const char *help,
                    const char *const *labels, uint64_t v)
{
    vg_metrics_family(w, name, VG_METRIC_COUNTER, help);
    vg_metrics_put_u64(w, name, labels, v);
}

static void gauge(VgMetricsWriter *w, const char *name, const char *help, const char *const *labels,
                  double v)
{
    vg_metrics_family(w, name, VG_METRIC_GAUGE, help);
    vg_metrics_put(w, name, labels, v);
}

static void collect_pipeline(void *user, VgMetricsWriter *w)
{
    VgRunMetrics *m = user;
    VgPipelineStats total;
    VgAlertStats atotal;
    vg_run_state_totals(m->state, &total, &atotal);
    const VgPipelineStats *st = &total;
    const char *const *src = (const char *[]){"source", m->source, NULL};
    counter(w, "vigil_lines_total", "Input lines read, good or bad.", src, ld(&st->lines));
    uint64_t events = ld(&st->events);
    counter(w, "vigil_events_total", "Input lines decoded into events.", src, events);
    counter(w, "vigil_input_bytes_total", "Bytes of input lines read.", src, ld(&st->bytes));
    counter(w, "vigil_events_late_total",
            "Events older than the watermark (judged by stateless rules only).", src,
            ld(&st->late));
    vg_metrics_family(w, "vigil_lines_bad_total", VG_METRIC_COUNTER,
                      "Input lines that could not be used, by reason.");
    for (int r = VG_BAD_NONE + 1; r < VG_BAD__COUNT; r++)
        vg_metrics_put_u64(w, "vigil_lines_bad_total",
                           (const char *[]){"source", m->source, "reason",
                                            vg_bad_reason_name((VgBadReason)r), NULL},
                           ld(&st->bad[r]));

    /* events/s between scrapes at least a second apart: for people with curl; Prometheus
     * users take rate(vigil_events_total[1m]) */
    gint64 now = g_get_monotonic_time();
    if (!m->rate_t) {
        m->rate_t = now;
        m->rate_events = events;
    } else if (now - m->rate_t >= G_USEC_PER_SEC) {
        m->rate = (double)(events - m->rate_events) * 1e6 / (double)(now - m->rate_t);
        m->rate_t = now;
        m->rate_events = events;
    }
    gauge(w, "vigil_events_per_second", "Events decoded per second between recent scrapes.", src,
          m->rate);

    int64_t newest = ld64(&st->max_time), wm = ld64(&st->watermark);
    if (newest != INT64_MIN)
        gauge(w, "vigil_event_time_newest_seconds", "Newest event time seen (epoch seconds).", src,
              (double)newest / 1000.0);
    if (wm != INT64_MIN) {
        gauge(w, "vigil_watermark_seconds",
              "Event-time watermark: windows before it are closed (epoch seconds).", src,
              (double)wm / 1000.0);
        gauge(w, "vigil_watermark_delay_seconds",
              "Wall-clock time minus the watermark: how far behind real time detection runs.", src,
              (double)(g_get_real_time() / 1000 - wm) / 1000.0);
    }

    const VgAlertStats *as = &atotal;
    counter(w, "vigil_alerts_raised_total", "Alerts raised by rules and models (before dedup).",
            NULL, ld(&as->raised));
    counter(w, "vigil_alerts_emitted_total", "New incidents sent to the sinks.", NULL,
            ld(&as->emitted));
    counter(w, "vigil_alert_updates_total", "Updates of ongoing incidents sent to the sinks.", NULL,
            ld(&as->updates));
    counter(w, "vigil_alerts_suppressed_total", "Alerts folded into an ongoing incident.", NULL,
            ld(&as->suppressed));
    counter(w, "vigil_incidents_forgotten_total",
            "Incidents dropped from the dedup table to stay within alerts.max_incidents.", NULL,
            ld(&as->forgotten));
    counter(w, "vigil_alerts_output_full_total",
            "Alert pushes refused because delivery was full (back-pressure).", NULL,
            ld(&as->output_full));
}

static void collect_detectors(void *user, VgMetricsWriter *w);

void vg_run_metrics_watch_state(VgRunMetrics *m, VgRunState *st)
{
    m->state = st;
    add_id(m, vg_metrics_register("pipeline", collect_pipeline, m));
    add_id(m, vg_metrics_register("detectors", collect_detectors, m));
    vg_run_metrics_publish(m);
    m->last_publish = 0; /* the first batch publishes at once */
}

/* ---- delivery --------------------------------------------------------------------------- */

static void collect_delivery(void *user, VgMetricsWriter *w)
{
    VgRunMetrics *m = user;
    size_t n = vg_delivery_n_sinks(m->delivery);
    uint64_t pushed = vg_delivery_pushed(m->delivery);
    uint64_t upto = vg_delivery_delivered_upto(m->delivery);
    gauge(w, "vigil_alerts_pending", "Alert records accepted but not yet delivered or spooled.",
          NULL, (double)(pushed > upto ? pushed - upto : 0));
    static const struct {
        const char *name, *help;
        bool gauge;
        size_t off;
    } f[] = {
        {"vigil_sink_delivered_total", "Alert records the sink accepted.", false,
         offsetof(VgSinkStats, delivered)},
        {"vigil_sink_failures_total", "Failed write or flush attempts.", false,
         offsetof(VgSinkStats, failed)},
        {"vigil_sink_spooled_total", "Alert records written to the sink's spool.", false,
         offsetof(VgSinkStats, spooled)},
        {"vigil_sink_spool_records", "Alert records in the sink's spool now.", true,
         offsetof(VgSinkStats, spool_records)},
        {"vigil_sink_spool_bytes", "Bytes of the sink's spool now.", true,
         offsetof(VgSinkStats, spool_bytes)},
        {"vigil_sink_spool_full_total",
         "Batches that could not be spooled (spool full or unusable).", false,
         offsetof(VgSinkStats, spool_full)},
        {"vigil_sink_spool_corrupt_total", "Corrupt or truncated spool records skipped.", false,
         offsetof(VgSinkStats, spool_corrupt)},
        {"vigil_sink_reconnects_total", "Connections the sink (re)established.", false,
         offsetof(VgSinkStats, reconnects)},
    };
    for (size_t i = 0; i < n; i++) {
        VgSinkStats s;
        vg_delivery_stats(m->delivery, i, &s);
        const char *const *l = (const char *[]){"sink", s.name, "type", s.type, NULL};
        gauge(w, "vigil_sink_up", "1 when the sink's last attempt succeeded, 0 while it is down.",
              l, s.down ? 0 : 1);
        for (size_t j = 0; j < G_N_ELEMENTS(f); j++) {
            uint64_t v = *(const uint64_t *)((const char *)&s + f[j].off);
            vg_metrics_family(w, f[j].name, f[j].gauge ? VG_METRIC_GAUGE : VG_METRIC_COUNTER,
                              f[j].help);
            vg_metrics_put_u64(w, f[j].name, l, v);
        }
    }
}

/* Ready unless a sink is down and its spool refused records recently: alerts would be
 * held back, and the input stops. */
static bool check_delivery(void *user, GString *why)
{
    VgRunMetrics *m = user;
    size_t n = vg_delivery_n_sinks(m->delivery);
    if (n > m->n_spool_full) {
        m->spool_full = g_renew(Trend, m->spool_full, n);
        memset(m->spool_full + m->n_spool_full, 0, (n - m->n_spool_full) * sizeof(Trend));
        m->n_spool_full = n;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        VgSinkStats s;
        vg_delivery_stats(m->delivery, i, &s);
        if (trend_recent(&m->spool_full[i], s.spool_full) && s.down) {
            g_string_append_printf(why, "%ssink %s is down and cannot spool", ok ? "" : "; ",
                                   s.name);
            ok = false;
        }
    }
    return ok;
}

void vg_run_metrics_watch_delivery(VgRunMetrics *m, VgDelivery *d)
{
    m->delivery = d;
    /* counts at start are history: only later refusals make us unready */
    size_t n = vg_delivery_n_sinks(d);
    m->spool_full = g_new0(Trend, n);
    m->n_spool_full = n;
    for (size_t i = 0; i < n; i++) {
        VgSinkStats s;
        vg_delivery_stats(d, i, &s);
        m->spool_full[i].seen = s.spool_full;
    }
    add_id(m, vg_metrics_register("delivery", collect_delivery, m));
    add_id(m, vg_metrics_register_check("sinks", check_delivery, m));
}

/* ---- Kafka ------------------------------------------------------------------------------ */

static void collect_kafka(void *user, VgMetricsWriter *w)
{
    VgRunMetrics *m = user;
    VgKafkaStats ks;
    vg_kafka_collector_stats(m->kafka, &ks);
    counter(w, "vigil_kafka_messages_total", "Kafka messages read.", NULL, ks.messages);
    counter(w, "vigil_kafka_lines_total", "Log lines in the Kafka messages read.", NULL, ks.lines);
    counter(w, "vigil_kafka_bytes_total", "Payload bytes of the Kafka messages read.", NULL,
            ks.bytes);
    counter(w, "vigil_kafka_commits_total", "Offset commits that succeeded.", NULL, ks.commits);
    counter(w, "vigil_kafka_commit_failures_total", "Offset commits that failed.", NULL,
            ks.commit_failures);
    counter(w, "vigil_kafka_rebalances_total", "Consumer group rebalances seen.", NULL,
            ks.rebalances);
    counter(w, "vigil_kafka_errors_total", "Consumer errors reported (librdkafka retries them).",
            NULL, ks.errors);
    counter(w, "vigil_kafka_consumer_restarts_total",
            "Consumers restarted because a partition stalled (kafka.stall_timeout).", NULL,
            ks.restarts);
    int32_t ids[1];
    gauge(w, "vigil_kafka_assigned_partitions", "Partitions assigned to this process now.", NULL,
          (double)vg_kafka_collector_assignment(m->kafka, ids, 0));
    gauge(w, "vigil_kafka_paused", "1 while reading is paused because delivery is full.", NULL,
          vg_kafka_collector_paused(m->kafka) ? 1 : 0);
    gauge(w, "vigil_kafka_buffered_messages",
          "Kafka messages fetched and queued in vigil, not handed to the pipeline yet.", NULL,
          (double)ks.buffered_messages);
    gauge(w, "vigil_kafka_buffered_bytes", "Payload bytes of those messages.", NULL,
          (double)ks.buffered_bytes);
    gauge(w, "vigil_kafka_prefetched_messages",
          "Messages (and events) librdkafka has fetched and queued for vigil to read.", NULL,
          (double)ks.librdkafka_queued);
}

/* Kafka lag per partition, from librdkafka's cached high watermarks. */
static void collect_kafka_lag(void *user, VgMetricsWriter *w)
{
    VgRunMetrics *m = user;
    VgKafkaLag lag[256];
    size_t n = vg_kafka_collector_lag(m->kafka, lag, G_N_ELEMENTS(lag));
    vg_metrics_family(w, "vigil_kafka_lag", VG_METRIC_GAUGE,
                      "Messages behind the partition's high watermark (capped at 256 partitions).");
    for (size_t i = 0; i < n && i < G_N_ELEMENTS(lag); i++) {
        if (lag[i].lag < 0)
            continue;
        char part[16];
        g_snprintf(part, sizeof part, "%d", lag[i].kafka_partition);
        vg_metrics_put(w, "vigil_kafka_lag",
                       (const char *const[]){"topic", lag[i].topic, "partition", part, NULL},
                       (double)lag[i].lag);
    }
}

static bool check_kafka(void *user, GString *why)
{
    VgRunMetrics *m = user;
    VgKafkaStats ks;
    vg_kafka_collector_stats(m->kafka, &ks);
    if (trend_recent(&m->kafka_errors, ks.errors)) {
        g_string_append(why, "consumer errors in the last 30 s (brokers unreachable?)");
        return false;
    }
    if (!ks.rebalances && !ks.messages) {
        g_string_append(why, "not yet joined the consumer group");
        return false;
    }
    return true;
}

void vg_run_metrics_watch_kafka(VgRunMetrics *m, VgKafkaCollector *kc)
{
    m->kafka = kc;
    add_id(m, vg_metrics_register("kafka", collect_kafka, m));
    add_id(m, vg_metrics_register("kafka_lag", collect_kafka_lag, m));
    add_id(m, vg_metrics_register_check("kafka", check_kafka, m));
}

void vg_run_metrics_free(VgRunMetrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_ids; i++)
        vg_metrics_unregister(m->ids[i]);
    g_hash_table_destroy(m->rules);
    g_mutex_clear(&m->lock);
    g_mutex_clear(&m->det_lock);
    g_free(m->spool_full);
    g_free(m->why);
    g_free(m->source);
    g_free(m);
}

/* The models' tables and the rule set. The models' counters belong to the pipeline thread,
 * which publishes a copy at most once a second (vg_run_metrics_publish); the rule set's
 * figures are atomics of the rules detector. */
static void collect_detectors(void *user, VgMetricsWriter *w)
{
    VgRunMetrics *m = user;
    g_mutex_lock(&m->det_lock);
    bool models_on = m->models_on;
    VgModelsStats snap = m->models_snap;
    size_t budget = m->models_budget;
    g_mutex_unlock(&m->det_lock);
    if (models_on) {
        const VgModelsStats *st = &snap;
        gauge(w, "vigil_model_keys_tracked",
              "Keys (tokens, endpoints, pairs, IPs) with a baseline.", NULL, (double)st->tracked);
        counter(w, "vigil_model_keys_admitted_total", "Keys admitted to the models' tables.", NULL,
                st->admitted);
        counter(w, "vigil_model_keys_evicted_total", "Keys evicted to admit others.", NULL,
                st->evicted);
        counter(w, "vigil_model_keys_expired_total", "Keys dropped after models.ttl idle.", NULL,
                st->expired);
        counter(w, "vigil_model_keys_rejected_total",
                "Sightings of new keys the admission filter turned away (a flood of new keys).",
                NULL, st->rejected);
        counter(w, "vigil_model_events_late_total",
                "Events the models ignored as older than their clock (the pipeline's late events, "
                "and those over a bucket older than the newest: partitions read out of step).",
                NULL, st->late);
        gauge(w, "vigil_model_memory_bytes", "Memory of the models' state.", NULL,
              (double)st->memory_bytes);
        gauge(w, "vigil_model_memory_budget_bytes", "models.memory_budget.", NULL, (double)budget);
    }
    uint64_t gen;
    int n_rules, n_corr;
    if (vg_run_state_rules_info(m->state, &gen, &n_rules, &n_corr)) {
        gauge(w, "vigil_rules_generation",
              "Rule sets taken into use: 1 at start, one more per successful reload.", NULL,
              (double)gen);
        gauge(w, "vigil_rules_loaded", "Rules in the running set, by kind.",
              (const char *const[]){"kind", "detection", NULL}, n_rules);
        gauge(w, "vigil_rules_loaded", "Rules in the running set, by kind.",
              (const char *const[]){"kind", "correlation", NULL}, n_corr);
    }
}

void vg_run_metrics_publish(VgRunMetrics *m)
{
    if (!m || !m->state)
        return;
    gint64 now = g_get_monotonic_time();
    if (m->last_publish && now - m->last_publish < G_USEC_PER_SEC)
        return;
    m->last_publish = now;
    VgModelsStats st;
    size_t budget;
    bool on = vg_run_state_models(m->state, &st, &budget);
    g_mutex_lock(&m->det_lock);
    m->models_on = on;
    m->models_snap = st;
    m->models_budget = budget;
    g_mutex_unlock(&m->det_lock);
}

/* model-config.c — the `models:` section of vigil.yml, and the entry layout it implies.
 *
 * Declared as VgConfOption tables (engine/config.h) so that validation, defaults and
 * `vigil config --dump` come from one place. The shape is:
 *
 *   models:
 *     bucket: 60s            # … global options (see opts[] below)
 *     keys:                  # one map per kind: token, endpoint, token_endpoint, client_ip
 *       token: {enabled: true, population: true, share: 0.25,
 *               metrics: [requests, errors_4xx, auth_failures, bytes_out, distinct_ips,
 *                         distinct_ids]}
 *     metrics:               # thresholds per metric, shared by every kind that uses it
 *       requests: {min_volume: 30, min_ratio: 3, min_delta: 20, direction: up}
 *
 * Every key, every kind and every metric has an embedded default, so no config at all runs
 * the default model set. A metric list given in YAML replaces the kind's default list; a
 * metric that makes no sense for a kind (distinct_paths of an endpoint) is an error with
 * its file:line:col.
 */
#include "models/model-int.h"

#include <stddef.h>

#define B(k) (1u << (k))
#define KT   B(VG_MK_TOKEN)
#define KE   B(VG_MK_ENDPOINT)
#define KTE  B(VG_MK_TOKEN_ENDPOINT)
#define KI   B(VG_MK_CLIENT_IP)

const VgMetricInfo vg_metric_info[VG_MM__COUNT] = {
    [VG_MM_REQUESTS] = {"requests", "rate", "volumetric", VG_MT_COUNT, KT | KE | KTE | KI},
    [VG_MM_4XX] = {"errors_4xx", "errors_4xx", "errors", VG_MT_COUNT, KT | KE | KTE | KI},
    [VG_MM_AUTH] = {"auth_failures", "auth_failures", "errors", VG_MT_COUNT, KT | KE | KTE | KI},
    [VG_MM_5XX] = {"errors_5xx", "errors_5xx_share", "errors", VG_MT_SHARE, KT | KE | KTE | KI},
    [VG_MM_BYTES] = {"bytes_out", "bytes_out", "exfiltration", VG_MT_SUM, KT | KE | KTE | KI},
    [VG_MM_LAT_MEAN] = {"latency_mean", "latency_mean", "latency", VG_MT_MEAN, KE | KTE},
    [VG_MM_LAT_P95] = {"latency_p95", "latency_p95", "latency", VG_MT_MEAN, KE},
    [VG_MM_D_IPS] = {"distinct_ips", "distinct_ips", "enumeration", VG_MT_DISTINCT, KT | KE},
    [VG_MM_D_IDS] = {"distinct_ids", "distinct_ids", "enumeration", VG_MT_DISTINCT, KT | KTE},
    [VG_MM_D_PATHS] = {"distinct_paths", "distinct_paths", "enumeration", VG_MT_DISTINCT, KI},
    [VG_MM_D_TOKENS] = {"distinct_tokens", "distinct_tokens", "enumeration", VG_MT_DISTINCT,
                        KI | KE},
};

const char *const vg_kind_name[VG_MK__COUNT] = {"token", "endpoint", "token_endpoint", "client_ip"};
const char *const vg_kind_rule[VG_MK__COUNT] = {"token", "endpoint", "token_endpoint", "ip"};
const char *const vg_kind_entity[VG_MK__COUNT] = {"token", "endpoint", "token_endpoint",
                                                  "client_ip"};

/* ---- global options ----------------------------------------------------------------------- */

typedef struct {
    VgModelsConf c;
    const VgConfNode *keys, *metrics;
} Raw;

#define O(f) offsetof(Raw, c.f)
static const VgConfOption opts[] = {
    {"enabled", VG_CT_BOOL, O(enabled), "true", 0, 0, NULL, 0, NULL, "run the models"},
    {"bucket", VG_CT_DURATION, O(bucket_ms), "60s", 1, 86400, NULL, 0, NULL,
     "width of the event-time buckets every metric is counted in"},
    {"half_life", VG_CT_DURATION, O(half_life_ms), "1h", 1, 30 * 86400.0, NULL, 0, NULL,
     "half-life of the baselines (EWMA mean and variance)"},
    {"seasonal_half_life", VG_CT_DURATION, O(seasonal_half_life_ms), "24h", 1, 60 * 86400.0, NULL,
     0, NULL, "half-life of the seasonal envelope (decayed peak: what a key has done)"},
    {"population_half_life", VG_CT_DURATION, O(population_half_life_ms), "6h", 1, 30 * 86400.0,
     NULL, 0, NULL, "half-life of the population of each kind (for new keys)"},
    {"warmup_buckets", VG_CT_INT, O(warmup_buckets), "30", 1, 100000, NULL, 0, NULL,
     "buckets a key needs before it is judged against its own baseline"},
    {"start_buckets", VG_CT_INT, O(start_buckets), "30", 0, 100000, NULL, 0, NULL,
     "buckets after the first event before any model alert (everything is new at start)"},
    {"p_threshold", VG_CT_DOUBLE, O(p_threshold), "1e-7", 1e-300, 0.5, NULL, 0, NULL,
     "a bucket is anomalous when its tail probability is below this (per test; fixed so "
     "that it does not depend on how keys are sharded)"},
    {"seasonal_factor", VG_CT_DOUBLE, O(seasonal_factor), "1.5", 1, 1000, NULL, 0, NULL,
     "no alert while the value stays under this times the seasonal envelope"},
    {"overdispersion", VG_CT_DOUBLE, O(overdispersion), "1.5", 1, 1000, NULL, 0, NULL,
     "variance/mean above which counts are tested as negative binomial, not Poisson"},
    {"winsor_sigma", VG_CT_DOUBLE, O(winsor_sigma), "3", 0, 1000, NULL, 0, NULL,
     "an anomalous bucket updates the baseline with at most mean + this many sd"},
    {"z_min_mean", VG_CT_DOUBLE, O(z_min_mean), "1000", 1, 1e12, NULL, 0, NULL,
     "counts whose expected value reaches this are tested with a z-score"},
    {"population_quantile", VG_CT_DOUBLE, O(population_quantile), "0.999", 0.5, 1, NULL, 0, NULL,
     "quantile of the population a new key is compared with"},
    {"population_factor", VG_CT_DOUBLE, O(population_factor), "4", 1, 1e6, NULL, 0, NULL,
     "a new key alerts when it exceeds the population quantile this many times over"},
    {"population_min_weight", VG_CT_DOUBLE, O(population_min_weight), "50", 0, 1e12, NULL, 0, NULL,
     "key-buckets the population needs before new keys are judged"},
    {"persistence_m", VG_CT_INT, O(persist_m), "1", 1, 8, NULL, 0, NULL,
     "alert when M of the last N buckets are anomalous"},
    {"persistence_n", VG_CT_INT, O(persist_n), "1", 1, 8, NULL, 0, NULL, "see persistence_m"},
    {"cooldown", VG_CT_DURATION, O(cooldown_ms), "15m", 0, 30 * 86400.0, NULL, 0, NULL,
     "after an alert, the same (model, key) stays quiet this long"},
    {"ttl", VG_CT_DURATION, O(ttl_ms), "12h", 60, 365 * 86400.0, NULL, 0, NULL,
     "keys idle this long are forgotten"},
    {"memory_budget", VG_CT_SIZE, O(memory_budget), "128MiB", 1 << 20, 1e12, NULL, 0, NULL,
     "all model state of this instance (tables, sketches, pools) stays within this"},
    {"hll_share", VG_CT_DOUBLE, O(hll_share), "0.05", 0, 0.5, NULL, 0, NULL,
     "part of the budget for HyperLogLog sketches (keys with many distinct values)"},
    {"sample_pool", VG_CT_INT, O(sample_pool), "4096", 0, 1 << 24, NULL, 0, NULL,
     "keys that may hold sample request ids at once"},
    {"admit_min", VG_CT_INT, O(admit_min), "2", 1, 255, NULL, 0, NULL,
     "when the table is full, sightings a new key needs before it may evict another"},
    {"min_requests_latency", VG_CT_INT, O(min_requests_latency), "20", 1, 1e9, NULL, 0, NULL,
     "requests a bucket needs before its latency is judged"},
    {"keys", VG_CT_NODE, offsetof(Raw, keys), NULL, 0, 0, NULL, 0, NULL,
     "per kind (token, endpoint, token_endpoint, client_ip): enabled, population, share, "
     "metrics"},
    {"metrics", VG_CT_NODE, offsetof(Raw, metrics), NULL, 0, 0, NULL, 0, NULL,
     "per metric: min_volume, min_ratio, min_delta, direction"},
    {0},
};
#undef O

/* ---- per kind ------------------------------------------------------------------------------ */

typedef struct {
    bool enabled, population;
    double share;
    char **metrics;
} KindRaw;

#define KO(f) offsetof(KindRaw, f)
#define KIND_OPTS(name, def_pop, def_share, def_metrics)                                           \
    static const VgConfOption name[] = {                                                           \
        {"enabled", VG_CT_BOOL, KO(enabled), "true", 0, 0, NULL, 0, NULL, "track this kind"},      \
        {"population", VG_CT_BOOL, KO(population), def_pop, 0, 0, NULL, 0, NULL,                   \
         "judge new keys against the population of the kind"},                                     \
        {"share", VG_CT_DOUBLE, KO(share), def_share, 0.001, 1, NULL, 0, NULL,                     \
         "part of memory_budget for this kind"},                                                   \
        {"metrics", VG_CT_STRLIST, KO(metrics), def_metrics, 0, 0, NULL, 0, NULL,                  \
         "metrics to baseline (a list)"},                                                          \
        {NULL},                                                                                    \
    }
KIND_OPTS(token_opts, "true", "0.25",
          "requests,errors_4xx,auth_failures,bytes_out,distinct_ips,distinct_ids");
KIND_OPTS(endpoint_opts, "false", "0.02", "requests,errors_5xx,bytes_out,latency_mean,latency_p95");
KIND_OPTS(tokep_opts, "true", "0.4", "requests,bytes_out");
KIND_OPTS(ip_opts, "true", "0.33",
          "requests,errors_4xx,auth_failures,distinct_paths,distinct_tokens");
static const VgConfOption *const kind_opts[VG_MK__COUNT] = {token_opts, endpoint_opts, tokep_opts,
                                                            ip_opts};

/* ---- per metric ---------------------------------------------------------------------------- */

typedef struct {
    double min_volume, min_ratio, min_delta;
    char *direction;
} MetricRaw;

#define MO(f) offsetof(MetricRaw, f)
#define METRIC_OPTS(name, def_vol, def_ratio, def_delta)                                           \
    static const VgConfOption name[] = {                                                           \
        {"min_volume", VG_CT_DOUBLE, MO(min_volume), def_vol, 0, 1e15, NULL, 0, NULL,              \
         "the bucket value must reach this before it can alert"},                                  \
        {"min_ratio", VG_CT_DOUBLE, MO(min_ratio), def_ratio, 1, 1e9, NULL, 0, NULL,               \
         "observed/expected must reach this (effect size)"},                                       \
        {"min_delta", VG_CT_DOUBLE, MO(min_delta), def_delta, 0, 1e15, NULL, 0, NULL,              \
         "observed - expected must reach this"},                                                   \
        {"direction", VG_CT_STRING, MO(direction), "up", 0, 0, "up|down|both", 0, NULL,            \
         "up: only increases alert; down: only drops (\"traffic stopped\"); both"},                \
        {NULL},                                                                                    \
    }
METRIC_OPTS(m_requests, "30", "3", "20");
METRIC_OPTS(m_4xx, "20", "3", "15");
METRIC_OPTS(m_auth, "15", "3", "10");
METRIC_OPTS(m_5xx, "10", "3", "8");
METRIC_OPTS(m_bytes, "8388608", "8", "8388608");
METRIC_OPTS(m_lat_mean, "100", "3", "100");
METRIC_OPTS(m_lat_p95, "200", "3", "200");
METRIC_OPTS(m_d_ips, "6", "3", "4");
METRIC_OPTS(m_d_ids, "30", "4", "25");
METRIC_OPTS(m_d_paths, "30", "4", "25");
METRIC_OPTS(m_d_tokens, "6", "3", "4");
static const VgConfOption *const metric_opts[VG_MM__COUNT] = {
    m_requests, m_4xx,   m_auth,  m_5xx,     m_bytes,   m_lat_mean,
    m_lat_p95,  m_d_ips, m_d_ids, m_d_paths, m_d_tokens};

static int metric_by_name(const char *s)
{
    for (int i = 0; i < VG_MM__COUNT; i++)
        if (!strcmp(vg_metric_info[i].name, s))
            return i;
    return -1;
}

static const VgConfNode *map_entry(const VgConfNode *map, const char *key,
                                   const VgConfNode **keynode)
{
    for (guint i = 0; map && map->kind == VG_NODE_MAP && i < map->keys->len; i++) {
        const VgConfNode *k = map->keys->pdata[i];
        if (!strcmp(k->value, key)) {
            if (keynode)
                *keynode = k;
            return map->items->pdata[i];
        }
    }
    return NULL;
}

static bool check_names(const VgConfNode *map, const char *const *names, int n, const char *what,
                        GError **err)
{
    if (!map || vg_conf_is_null(map))
        return true;
    if (map->kind != VG_NODE_MAP) {
        vg_conf_error(err, map, "models.%s must be a mapping", what);
        return false;
    }
    for (guint i = 0; i < map->keys->len; i++) {
        const VgConfNode *k = map->keys->pdata[i];
        int j = 0;
        while (j < n && strcmp(names[j], k->value))
            j++;
        if (j == n) {
            GString *known = g_string_new(NULL);
            for (j = 0; j < n; j++)
                g_string_append_printf(known, "%s%s", j ? ", " : "", names[j]);
            vg_conf_error(err, k, "unknown %s '%s' (known: %s)", what, k->value, known->str);
            g_string_free(known, TRUE);
            return false;
        }
    }
    return true;
}

static int parse_kind(VgModelsConf *c, int k, const VgConfNode *keys, GError **err)
{
    KindRaw r = {0};
    const VgConfNode *node = map_entry(keys, vg_kind_name[k], NULL);
    int rc = vg_conf_apply(kind_opts[k], &r, node, err);
    if (rc)
        goto out;
    c->kind[k].enabled = r.enabled;
    c->kind[k].population = r.population;
    c->kind[k].share = r.share;
    c->kind[k].metrics = 0;
    const VgConfNode *mnode = node ? vg_conf_get(node, "metrics") : NULL;
    for (char **s = r.metrics; s && *s; s++) {
        /* the embedded default is one comma-separated scalar */
        char **parts = g_strsplit(*s, ",", -1);
        for (char **p = parts; *p; p++) {
            char *name = g_strstrip(*p);
            if (!*name)
                continue;
            int mi = metric_by_name(name);
            if (mi < 0 || !(vg_metric_info[mi].kinds & (1u << k))) {
                rc = vg_conf_error(err, mnode ? mnode : node,
                                   mi < 0 ? "unknown metric '%s' for %s keys"
                                          : "metric '%s' does not apply to %s keys",
                                   name, vg_kind_name[k]);
                g_strfreev(parts);
                goto out;
            }
            c->kind[k].metrics |= 1u << mi;
        }
        g_strfreev(parts);
    }
    if (!c->kind[k].metrics)
        c->kind[k].enabled = false;
out:
    vg_conf_clear(kind_opts[k], &r);
    return rc;
}

static int parse_metric(VgModelsConf *c, int mi, const VgConfNode *metrics, GError **err)
{
    MetricRaw r = {0};
    const VgConfNode *node = map_entry(metrics, vg_metric_info[mi].name, NULL);
    int rc = vg_conf_apply(metric_opts[mi], &r, node, err);
    if (!rc) {
        VgMetricConf *m = &c->metric[mi];
        m->min_volume = r.min_volume;
        m->min_ratio = r.min_ratio;
        m->min_delta = r.min_delta;
        m->direction = !r.direction || !strcmp(r.direction, "up") ? VG_DIR_UP
                       : !strcmp(r.direction, "down")             ? VG_DIR_DOWN
                                                                  : VG_DIR_BOTH;
    }
    vg_conf_clear(metric_opts[mi], &r);
    return rc;
}

int vg_models_conf_parse(VgModelsConf *c, const VgConfNode *section, GError **err)
{
    Raw r;
    memset(&r, 0, sizeof r);
    int rc = vg_conf_apply(opts, &r, section, err);
    if (rc)
        return rc;
    *c = r.c;
    if (c->persist_m > c->persist_n)
        return vg_conf_error(err, section,
                             "models.persistence_m (%" G_GINT64_FORMAT
                             ") exceeds persistence_n (%" G_GINT64_FORMAT ")",
                             c->persist_m, c->persist_n);
    if (!check_names(r.keys, vg_kind_name, VG_MK__COUNT, "keys", err))
        return VG_ECONFIG;
    const char *mnames[VG_MM__COUNT];
    for (int i = 0; i < VG_MM__COUNT; i++)
        mnames[i] = vg_metric_info[i].name;
    if (!check_names(r.metrics, mnames, VG_MM__COUNT, "metrics", err))
        return VG_ECONFIG;
    for (int k = 0; k < VG_MK__COUNT; k++)
        if ((rc = parse_kind(c, k, r.keys, err)))
            return rc;
    for (int i = 0; i < VG_MM__COUNT; i++)
        if ((rc = parse_metric(c, i, r.metrics, err)))
            return rc;
    return VG_OK;
}

/* ---- layout ---------------------------------------------------------------------------------- */

static const uint32_t name_size[VG_MK__COUNT] = {sizeof(VgNameToken), sizeof(VgNameEndpoint),
                                                 sizeof(VgNameTokenEp), sizeof(VgNameIp)};

void vg_layout_init(VgLayout *l, VgModelKind kind, unsigned metrics)
{
    memset(l, 0, sizeof *l);
    l->metrics = metrics;
    uint32_t off = sizeof(VgEntryHead);
    l->name_off = off;
    off += (name_size[kind] + 7) & ~7u;
    l->ewma_off = off;
    for (int i = 0; i < VG_MM__COUNT; i++) {
        l->midx[i] = -1;
        if (metrics & (1u << i))
            l->midx[i] = (int8_t)l->n_metrics++;
    }
    off += l->n_metrics * sizeof(VgEwma);
    l->slot_off = off;
    for (int i = 0; i < VG_MM__COUNT; i++) {
        if (!(metrics & (1u << i)))
            continue;
        if (i == VG_MM_4XX || i == VG_MM_AUTH || i == VG_MM_5XX || i == VG_MM_BYTES) {
            l->acc_off[i] = off;
            off += sizeof(float);
        } else if (i == VG_MM_LAT_MEAN) {
            l->acc_off[i] = off; /* sum, n */
            off += 2 * sizeof(float);
        }
    }
    off = (off + 3) & ~3u;
    for (int i = 0; i < VG_MM__COUNT; i++) {
        if ((metrics & (1u << i)) && vg_metric_info[i].type == VG_MT_DISTINCT) {
            l->dist_off[i] = off;
            off += sizeof(VgDistinct);
        }
    }
    if (metrics & (1u << VG_MM_LAT_P95)) {
        l->sketch_off = off;
        off += sizeof(VgLatSketch);
    }
    l->slot_size = off - l->slot_off;
    l->stride = (off + 7) & ~7u;
}

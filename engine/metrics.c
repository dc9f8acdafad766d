/* metrics.c — the pull registry of metrics.h and the Prometheus text format.
 *
 * A scrape builds a fresh writer: collectors declare families and put samples, which are
 * grouped per family (the format wants every line of a family together, and two
 * instances of a subsystem may write the same family), then rendered with their HELP and
 * TYPE lines. The writer allocates freely: a scrape happens every few seconds on the HTTP
 * thread, far from the per-event path.
 *
 * The format (exposition format 0.0.4): `name{label="value",...} value` lines; label
 * values escape backslash, double quote and newline; HELP text escapes backslash and
 * newline; values are Go-style floats with NaN, +Inf and -Inf spelt out.
 */
#include "engine/metrics.h"

#include <math.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- registry --------------------------------------------------------------------------- */

typedef struct {
    unsigned id;
    char *name;
    VgMetricsCollectFn collect;
    VgMetricsCheckFn check;
    void *user;
} Entry;

static GMutex reg_lock; /* static GMutex needs no init */
static GPtrArray *entries;
static unsigned next_id;

static void entry_free(Entry *e)
{
    g_free(e->name);
    g_free(e);
}

static unsigned add_entry(const char *name, VgMetricsCollectFn c, VgMetricsCheckFn k, void *user)
{
    Entry *e = g_new0(Entry, 1);
    e->name = g_strdup(name);
    e->collect = c;
    e->check = k;
    e->user = user;
    g_mutex_lock(&reg_lock);
    if (!entries)
        entries = g_ptr_array_new_with_free_func((GDestroyNotify)entry_free);
    e->id = ++next_id;
    g_ptr_array_add(entries, e);
    g_mutex_unlock(&reg_lock);
    return e->id;
}

unsigned vg_metrics_register(const char *name, VgMetricsCollectFn fn, void *user)
{
    g_return_val_if_fail(fn != NULL, 0);
    return add_entry(name, fn, NULL, user);
}

unsigned vg_metrics_register_check(const char *name, VgMetricsCheckFn fn, void *user)
{
    g_return_val_if_fail(fn != NULL, 0);
    return add_entry(name, NULL, fn, user);
}

void vg_metrics_unregister(unsigned id)
{
    if (!id)
        return;
    g_mutex_lock(&reg_lock);
    for (guint i = 0; entries && i < entries->len; i++) {
        if (((Entry *)entries->pdata[i])->id == id) {
            g_ptr_array_remove_index(entries, i);
            break;
        }
    }
    g_mutex_unlock(&reg_lock);
}

/* ---- writer ----------------------------------------------------------------------------- */

typedef struct {
    char *name, *help;
    VgMetricType type;
    GString *lines;
    GHashTable *seen; /* series keys already written */
} Family;

struct VgMetricsWriter {
    GPtrArray *families; /* in order of first declaration */
    GHashTable *by_name;
};

static void family_free(Family *f)
{
    g_free(f->name);
    g_free(f->help);
    g_string_free(f->lines, TRUE);
    g_hash_table_destroy(f->seen);
    g_free(f);
}

static void writer_init(VgMetricsWriter *w)
{
    w->families = g_ptr_array_new_with_free_func((GDestroyNotify)family_free);
    w->by_name = g_hash_table_new(g_str_hash, g_str_equal);
}

static void writer_clear(VgMetricsWriter *w)
{
    g_hash_table_destroy(w->by_name);
    g_ptr_array_free(w->families, TRUE);
}

static bool valid_name(const char *s, bool colon)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++) {
        bool alpha = g_ascii_isalpha(*p) || *p == '_' || (colon && *p == ':');
        if (!alpha && !(p > s && g_ascii_isdigit(*p)))
            return false;
    }
    return true;
}

void vg_metrics_family(VgMetricsWriter *w, const char *name, VgMetricType type, const char *help)
{
    g_return_if_fail(valid_name(name, true));
    Family *f = g_hash_table_lookup(w->by_name, name);
    if (f) {
        if (f->type != type)
            g_critical("metric family %s declared with two types", name);
        return;
    }
    f = g_new0(Family, 1);
    f->name = g_strdup(name);
    f->help = g_strdup(help ? help : "");
    f->type = type;
    f->lines = g_string_new(NULL);
    f->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_ptr_array_add(w->families, f);
    g_hash_table_insert(w->by_name, f->name, f);
}

/* Appends v with the label-value escapes; invalid UTF-8 becomes U+FFFD. */
static void append_label_value(GString *o, const char *v)
{
    char *valid = g_utf8_make_valid(v ? v : "", -1);
    for (const char *p = valid; *p; p++) {
        if (*p == '\\')
            g_string_append(o, "\\\\");
        else if (*p == '"')
            g_string_append(o, "\\\"");
        else if (*p == '\n')
            g_string_append(o, "\\n");
        else
            g_string_append_c(o, *p);
    }
    g_free(valid);
}

/* Starts a sample line: the series key "name{a="x",b="y"}" into line. False on a bad
 * label name (a bug in the collector: the sample is dropped). */
static bool series_key(GString *line, const char *name, const char *const *labels)
{
    g_string_append(line, name);
    if (!labels || !labels[0])
        return true;
    g_string_append_c(line, '{');
    for (size_t i = 0; labels[i]; i += 2) {
        if (!valid_name(labels[i], false) || !labels[i + 1]) {
            g_critical("metric %s: bad label name or missing value", name);
            return false;
        }
        if (i)
            g_string_append_c(line, ',');
        g_string_append_printf(line, "%s=\"", labels[i]);
        append_label_value(line, labels[i + 1]);
        g_string_append_c(line, '"');
    }
    g_string_append_c(line, '}');
    return true;
}

static void put_text(VgMetricsWriter *w, const char *name, const char *const *labels,
                     const char *value)
{
    Family *f = g_hash_table_lookup(w->by_name, name);
    if (!f) {
        g_critical("metric %s written before vg_metrics_family()", name);
        return;
    }
    GString *key = g_string_new(NULL);
    if (!series_key(key, name, labels) || g_hash_table_contains(f->seen, key->str)) {
        g_string_free(key, TRUE);
        return;
    }
    g_string_append_printf(f->lines, "%s %s\n", key->str, value);
    g_hash_table_add(f->seen, g_string_free(key, FALSE));
}

/* Shortest decimal that reads back as v (Go and Prometheus accept any float syntax). */
static void format_double(char *buf, size_t len, double v)
{
    if (isnan(v)) {
        g_strlcpy(buf, "NaN", len);
        return;
    }
    if (isinf(v)) {
        g_strlcpy(buf, v > 0 ? "+Inf" : "-Inf", len);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        char fmt[8];
        g_snprintf(fmt, sizeof fmt, "%%.%dg", prec);
        g_ascii_formatd(buf, (int)len, fmt, v);
        if (g_ascii_strtod(buf, NULL) == v)
            return;
    }
}

void vg_metrics_put(VgMetricsWriter *w, const char *name, const char *const *labels, double v)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    format_double(buf, sizeof buf, v);
    put_text(w, name, labels, buf);
}

void vg_metrics_put_u64(VgMetricsWriter *w, const char *name, const char *const *labels, uint64_t v)
{
    char buf[24];
    g_snprintf(buf, sizeof buf, "%" G_GUINT64_FORMAT, v);
    put_text(w, name, labels, buf);
}

static void append_help(GString *o, const char *h)
{
    for (const char *p = h; *p; p++) {
        if (*p == '\\')
            g_string_append(o, "\\\\");
        else if (*p == '\n')
            g_string_append(o, "\\n");
        else
            g_string_append_c(o, *p);
    }
}

static void writer_render(VgMetricsWriter *w, GString *out)
{
    for (guint i = 0; i < w->families->len; i++) {
        Family *f = w->families->pdata[i];
        if (!f->lines->len)
            continue; /* a family without samples says nothing */
        g_string_append_printf(out, "# HELP %s ", f->name);
        append_help(out, f->help);
        g_string_append_printf(out, "\n# TYPE %s %s\n", f->name,
                               f->type == VG_METRIC_COUNTER ? "counter" : "gauge");
        g_string_append_len(out, f->lines->str, (gssize)f->lines->len);
    }
}

/* ---- process metrics -------------------------------------------------------------------- */

/* Start time of this process, in seconds since the epoch, from /proc (0 if unknown). */
static double process_start_time(void)
{
    static double cached = -1;
    if (cached >= 0)
        return cached;
    cached = 0;
    char *stat = NULL, *sys = NULL;
    if (g_file_get_contents("/proc/self/stat", &stat, NULL, NULL) &&
        g_file_get_contents("/proc/stat", &sys, NULL, NULL)) {
        /* field 22 (starttime, clock ticks after boot) counts from after the ")" of comm */
        const char *p = strrchr(stat, ')');
        const char *b = strstr(sys, "\nbtime ");
        if (p && b) {
            char **f = g_strsplit(p + 2, " ", 0);
            if (g_strv_length(f) > 19) {
                double ticks = g_ascii_strtod(f[19], NULL);
                cached = g_ascii_strtod(b + 7, NULL) + ticks / (double)sysconf(_SC_CLK_TCK);
            }
            g_strfreev(f);
        }
    }
    g_free(stat);
    g_free(sys);
    return cached;
}

static void collect_process(VgMetricsWriter *w)
{
    vg_metrics_family(w, "vigil_build_info", VG_METRIC_GAUGE,
                      "Always 1; the version label says which vigil is running.");
    vg_metrics_put(w, "vigil_build_info", (const char *[]){"version", VIGIL_VERSION, NULL}, 1);
    double start = process_start_time();
    if (start > 0) {
        vg_metrics_family(w, "process_start_time_seconds", VG_METRIC_GAUGE,
                          "Start time of the process since the epoch, in seconds.");
        vg_metrics_put(w, "process_start_time_seconds", NULL, start);
    }
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        vg_metrics_family(w, "process_cpu_seconds_total", VG_METRIC_COUNTER,
                          "User and system CPU time spent, in seconds.");
        double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                     ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
        vg_metrics_put(w, "process_cpu_seconds_total", NULL, cpu);
    }
    char *statm = NULL;
    if (g_file_get_contents("/proc/self/statm", &statm, NULL, NULL)) {
        unsigned long long vsz = 0, rss = 0;
        if (sscanf(statm, "%llu %llu", &vsz, &rss) == 2) {
            double page = (double)sysconf(_SC_PAGESIZE);
            vg_metrics_family(w, "process_resident_memory_bytes", VG_METRIC_GAUGE,
                              "Resident memory size in bytes.");
            vg_metrics_put(w, "process_resident_memory_bytes", NULL, (double)rss * page);
            vg_metrics_family(w, "process_virtual_memory_bytes", VG_METRIC_GAUGE,
                              "Virtual memory size in bytes.");
            vg_metrics_put(w, "process_virtual_memory_bytes", NULL, (double)vsz * page);
        }
        g_free(statm);
    }
}

/* ---- scrape ----------------------------------------------------------------------------- */

void vg_metrics_render(GString *out)
{
    VgMetricsWriter w;
    writer_init(&w);
    g_mutex_lock(&reg_lock); /* scrapes are serialised (process_start_time caches) */
    collect_process(&w);
    for (guint i = 0; entries && i < entries->len; i++) {
        Entry *e = entries->pdata[i];
        if (e->collect)
            e->collect(e->user, &w);
    }
    g_mutex_unlock(&reg_lock);
    writer_render(&w, out);
    writer_clear(&w);
}

void vg_metrics_render_one(VgMetricsCollectFn fn, void *user, GString *out)
{
    VgMetricsWriter w;
    writer_init(&w);
    fn(user, &w);
    writer_render(&w, out);
    writer_clear(&w);
}

bool vg_metrics_ready(GString *why)
{
    bool ok = true;
    GString *r = g_string_new(NULL);
    g_mutex_lock(&reg_lock);
    for (guint i = 0; entries && i < entries->len; i++) {
        Entry *e = entries->pdata[i];
        if (!e->check)
            continue;
        g_string_truncate(r, 0);
        if (!e->check(e->user, r)) {
            ok = false;
            g_string_append_printf(why, "%s: %s\n", e->name, r->len ? r->str : "not ready");
        }
    }
    g_mutex_unlock(&reg_lock);
    g_string_free(r, TRUE);
    return ok;
}

/* ---- configuration ---------------------------------------------------------------------- */

const VgConfOption vg_metrics_options[] = {
    {"enabled", VG_CT_BOOL, offsetof(VgMetricsConf, enabled), "true", 0, 0, NULL, 0, NULL,
     "Serve /metrics, /healthz and /readyz over HTTP while `vigil run` runs (replay, check "
     "and the other commands never listen)."},
    {"listen", VG_CT_STRING, offsetof(VgMetricsConf, listen), "127.0.0.1:9464", 0, 0, NULL, 0,
     "VIGIL_METRICS_LISTEN",
     "Address and port of the endpoint: host:port, [ipv6]:port, or :port for every "
     "address. Loopback by default: the metrics say which rules fire, so expose them "
     "deliberately."},
    {0},
};

bool vg_metrics_split_listen(const char *listen, char **host, int *port)
{
    if (!listen)
        return false;
    const char *colon;
    char *h;
    if (listen[0] == '[') {
        const char *end = strchr(listen, ']');
        if (!end || end[1] != ':')
            return false;
        h = g_strndup(listen + 1, (gsize)(end - listen - 1));
        colon = end + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon || memchr(listen, ':', (size_t)(colon - listen)))
            return false; /* no port, or an IPv6 address without brackets */
        h = g_strndup(listen, (gsize)(colon - listen));
    }
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || p < 0 || p > 65535) {
        g_free(h);
        return false;
    }
    *host = h;
    *port = (int)p;
    return true;
}

int vg_metrics_conf_load(VgMetricsConf *conf, const VgConfNode *section, GError **err)
{
    if (vg_conf_apply(vg_metrics_options, conf, section, err) != VG_OK)
        return VG_ECONFIG;
    char *host = NULL;
    int port;
    if (!vg_metrics_split_listen(conf->listen, &host, &port)) {
        const VgConfNode *n = vg_conf_get(section, "listen");
        return vg_conf_error(err, n, "metrics.listen: '%s' is not host:port, [ipv6]:port or :port",
                             conf->listen ? conf->listen : "");
    }
    g_free(host);
    return VG_OK;
}

void vg_metrics_conf_clear(VgMetricsConf *conf)
{
    vg_conf_clear(vg_metrics_options, conf);
}

/* test-metrics.c — the metrics registry and the Prometheus text format (escaping, grouping,
 * exact counters, duplicates), readiness checks, the metrics: section, the HTTP endpoint
 * (a real socket on loopback) and the run adapters' content after replaying a file. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/cli-metrics.h"
#include "engine/cli.h"
#include "engine/metrics.h"
#include "engine/wiring.h"

static void collect_basic(void *user, VgMetricsWriter *w)
{
    (void)user;
    vg_metrics_family(w, "t_requests_total", VG_METRIC_COUNTER, "Requests.\nSecond line \\ x");
    vg_metrics_put(w, "t_requests_total", (const char *[]){"path", "a\"b\\c\nd", NULL}, 3);
    vg_metrics_put(w, "t_requests_total", (const char *[]){"path", "plain", NULL}, 0.1);
    /* a duplicate series is dropped */
    vg_metrics_put(w, "t_requests_total", (const char *[]){"path", "plain", NULL}, 7);
    vg_metrics_family(w, "t_big_total", VG_METRIC_COUNTER, "Big.");
    vg_metrics_put_u64(w, "t_big_total", NULL, UINT64_MAX);
    vg_metrics_family(w, "t_gauge", VG_METRIC_GAUGE, "Specials.");
    vg_metrics_put(w, "t_gauge", (const char *[]){"v", "nan", NULL}, NAN);
    vg_metrics_put(w, "t_gauge", (const char *[]){"v", "inf", NULL}, INFINITY);
    vg_metrics_put(w, "t_gauge", (const char *[]){"v", "-inf", NULL}, -INFINITY);
    vg_metrics_put(w, "t_gauge", (const char *[]){"v", "neg", "w", "2", NULL}, -1.5e-7);
    vg_metrics_family(w, "t_empty", VG_METRIC_GAUGE, "No samples: not rendered.");
}

Test(metrics, text_format)
{
    GString *out = g_string_new(NULL);
    vg_metrics_render_one(collect_basic, NULL, out);
    const char *want = "# HELP t_requests_total Requests.\\nSecond line \\\\ x\n"
                       "# TYPE t_requests_total counter\n"
                       "t_requests_total{path=\"a\\\"b\\\\c\\nd\"} 3\n"
                       "t_requests_total{path=\"plain\"} 0.1\n"
                       "# HELP t_big_total Big.\n"
                       "# TYPE t_big_total counter\n"
                       "t_big_total 18446744073709551615\n"
                       "# HELP t_gauge Specials.\n"
                       "# TYPE t_gauge gauge\n"
                       "t_gauge{v=\"nan\"} NaN\n"
                       "t_gauge{v=\"inf\"} +Inf\n"
                       "t_gauge{v=\"-inf\"} -Inf\n"
                       "t_gauge{v=\"neg\",w=\"2\"} -1.5e-07\n";
    cr_assert_str_eq(out->str, want);
    g_string_free(out, TRUE);
}

static void collect_shard(void *user, VgMetricsWriter *w)
{
    vg_metrics_family(w, "t_shard_keys", VG_METRIC_GAUGE, "Keys per shard.");
    vg_metrics_put(w, "t_shard_keys", (const char *[]){"shard", user, NULL}, 1);
}

static int calls;
static void collect_count(void *user, VgMetricsWriter *w)
{
    (void)user, (void)w;
    calls++;
}

Test(metrics, registry_groups_families_and_unregisters)
{
    unsigned a = vg_metrics_register("a", collect_shard, "0");
    unsigned c = vg_metrics_register("c", collect_count, NULL);
    unsigned b = vg_metrics_register("b", collect_shard, "1");
    GString *out = g_string_new(NULL);
    vg_metrics_render(out);
    /* one HELP/TYPE, both shards' samples together */
    cr_assert(strstr(out->str, "# TYPE t_shard_keys gauge\nt_shard_keys{shard=\"0\"} 1\n"
                               "t_shard_keys{shard=\"1\"} 1\n"),
              "%s", out->str);
    cr_assert_eq(strstr(out->str, "# HELP t_shard_keys"),
                 g_strrstr(out->str, "# HELP t_shard_keys"));
    cr_assert(strstr(out->str, "vigil_build_info{version=\"" VIGIL_VERSION "\"} 1\n"));
    cr_assert(strstr(out->str, "# TYPE process_resident_memory_bytes gauge\n"));
    cr_assert_eq(calls, 1);
    vg_metrics_unregister(c);
    vg_metrics_unregister(a);
    vg_metrics_unregister(b);
    vg_metrics_unregister(0);
    g_string_truncate(out, 0);
    vg_metrics_render(out);
    cr_assert_eq(calls, 1);
    cr_assert_null(strstr(out->str, "t_shard_keys"));
    g_string_free(out, TRUE);
}

static bool check_flag(void *user, GString *why)
{
    if (*(bool *)user)
        return true;
    g_string_append(why, "flag is down");
    return false;
}

Test(metrics, readiness)
{
    bool f1 = true, f2 = false;
    unsigned a = vg_metrics_register_check("one", check_flag, &f1);
    unsigned b = vg_metrics_register_check("two", check_flag, &f2);
    GString *why = g_string_new(NULL);
    cr_assert_not(vg_metrics_ready(why));
    cr_assert_str_eq(why->str, "two: flag is down\n");
    f2 = true;
    g_string_truncate(why, 0);
    cr_assert(vg_metrics_ready(why));
    cr_assert_str_eq(why->str, "");
    vg_metrics_unregister(a);
    vg_metrics_unregister(b);
    g_string_free(why, TRUE);
}

Test(metrics, split_listen)
{
    char *h;
    int p;
    cr_assert(vg_metrics_split_listen("127.0.0.1:9464", &h, &p));
    cr_assert_str_eq(h, "127.0.0.1");
    cr_assert_eq(p, 9464);
    g_free(h);
    cr_assert(vg_metrics_split_listen("[::1]:0", &h, &p));
    cr_assert_str_eq(h, "::1");
    cr_assert_eq(p, 0);
    g_free(h);
    cr_assert(vg_metrics_split_listen(":9100", &h, &p));
    cr_assert_str_eq(h, "");
    g_free(h);
    const char *bad[] = {"9464", "host:", "::1:9464", "[::1]9464", "h:70000", "h:12x", NULL};
    for (const char **b = bad; *b; b++)
        cr_assert_not(vg_metrics_split_listen(*b, &h, &p), "%s", *b);
}

Test(metrics, conf)
{
    VgMetricsConf c = {0};
    GError *err = NULL;
    cr_assert_eq(vg_metrics_conf_load(&c, NULL, &err), VG_OK);
    cr_assert(c.enabled);
    cr_assert_str_eq(c.listen, "127.0.0.1:9464");
    vg_metrics_conf_clear(&c);

    const char *y = "metrics:\n  enabled: false\n  listen: localhost\n";
    VgConfNode *root = vg_conf_load_string(y, strlen(y), "m.yml", &err);
    cr_assert_not_null(root);
    cr_assert_eq(vg_metrics_conf_load(&c, vg_conf_get(root, "metrics"), &err), VG_ECONFIG);
    cr_assert_str_eq(err->message, "m.yml:3:11: metrics.listen: 'localhost' is not host:port, "
                                   "[ipv6]:port or :port");
    g_clear_error(&err);
    vg_metrics_conf_clear(&c);
    vg_conf_node_free(root);

    y = "metrics:\n  listen: 127.0.0.1:1\n  port: 3\n";
    root = vg_conf_load_string(y, strlen(y), "m.yml", &err);
    cr_assert_eq(vg_metrics_conf_load(&c, vg_conf_get(root, "metrics"), &err), VG_ECONFIG);
    cr_assert(g_str_has_prefix(err->message, "m.yml:3:3: unknown option 'port'"), "%s",
              err->message);
    g_clear_error(&err);
    vg_metrics_conf_clear(&c);
    vg_conf_node_free(root);
}

/* ---- the endpoint over a real socket ---- */

/* One HTTP/1.0 request to 127.0.0.1:port; returns the whole response. */
static char *http(int port, const char *method, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char *req = g_strdup_printf("%s %s HTTP/1.0\r\nHost: x\r\n\r\n", method, path);
    cr_assert_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
    g_free(req);
    GString *r = g_string_new(NULL);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        g_string_append_len(r, buf, n);
    close(fd);
    return g_string_free(r, FALSE);
}

static void collect_one(void *user, VgMetricsWriter *w)
{
    (void)user;
    vg_metrics_family(w, "t_http_total", VG_METRIC_COUNTER, "Test.");
    vg_metrics_put(w, "t_http_total", NULL, 42);
}

Test(metrics, http_endpoint)
{
    VgMetricsConf c = {.enabled = true, .listen = (char *)"127.0.0.1:0"};
    GError *err = NULL;
    VgMetricsServer *s = vg_metrics_server_start(&c, &err);
    cr_assert_not_null(s, "%s", err ? err->message : "");
    int port = vg_metrics_server_port(s);
    cr_assert_gt(port, 0);
    unsigned id = vg_metrics_register("t", collect_one, NULL);
    bool ready = false;
    unsigned ck = vg_metrics_register_check("input", check_flag, &ready);

    char *r = http(port, "GET", "/metrics");
    cr_assert(g_str_has_prefix(r, "HTTP/1.0 200") || g_str_has_prefix(r, "HTTP/1.1 200"), "%s", r);
    cr_assert(strstr(r, "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"), "%s", r);
    cr_assert(strstr(r, "\r\n\r\n# HELP "), "%s", r);
    cr_assert(strstr(r, "\nt_http_total 42\n"), "%s", r);
    g_free(r);
    r = http(port, "GET", "/healthz");
    cr_assert(strstr(r, " 200 ") && g_str_has_suffix(r, "\r\n\r\nok\n"), "%s", r);
    g_free(r);
    r = http(port, "GET", "/readyz");
    cr_assert(strstr(r, " 503 ") && g_str_has_suffix(r, "\r\n\r\ninput: flag is down\n"), "%s", r);
    g_free(r);
    ready = true;
    r = http(port, "GET", "/readyz");
    cr_assert(strstr(r, " 200 ") && g_str_has_suffix(r, "\r\n\r\nready\n"), "%s", r);
    g_free(r);
    r = http(port, "GET", "/nope");
    cr_assert(strstr(r, " 404 "), "%s", r);
    g_free(r);
    r = http(port, "POST", "/metrics");
    cr_assert(strstr(r, " 405 "), "%s", r);
    g_free(r);

    /* a second server on the same port fails with a message */
    char *taken = g_strdup_printf("127.0.0.1:%d", port);
    VgMetricsConf c2 = {.enabled = true, .listen = taken};
    cr_assert_null(vg_metrics_server_start(&c2, &err));
    cr_assert(strstr(err->message, taken), "%s", err->message);
    g_clear_error(&err);
    g_free(taken);

    vg_metrics_server_stop(s);
    vg_metrics_server_stop(NULL);
    vg_metrics_unregister(id);
    vg_metrics_unregister(ck);
}

/* ---- run adapters after a replay ---- */

static GPtrArray *pushed;
static int rec_push(void *u, const VgAlertRecord *r)
{
    (void)u;
    g_ptr_array_add(pushed, g_strdup(r->rule_id));
    return VG_OK;
}
static int rec_flush(void *u)
{
    (void)u;
    return VG_OK;
}

Test(metrics, pipeline_content_after_replay)
{
    vg_register_all();
    pushed = g_ptr_array_new_with_free_func(g_free);
    const char *y = "builtin:\n  plaintext_http: true\nrules:\n  paths: []\nmodels:\n  "
                    "enabled: false\n";
    char *path = g_build_filename(g_get_tmp_dir(), "vigil-test-metrics.yml", NULL);
    g_file_set_contents(path, y, -1, NULL);
    GError *err = NULL;
    VgSettings *s = vg_settings_load(path, &err);
    cr_assert_not_null(s, "%s", err ? err->message : "");

    VgRunMetrics *m = vg_run_metrics_new("replay");
    GString *why = g_string_new(NULL);
    cr_assert_not(vg_metrics_ready(why));
    cr_assert_str_eq(why->str, "run: starting\n");
    VgAlertOutput out = vg_run_metrics_output(m, (VgAlertOutput){NULL, rec_push, rec_flush});
    VgRunState *st = vg_run_state_new(s, out, false, NULL, NULL, NULL, &err);
    cr_assert_not_null(st, "%s", err ? err->message : "");
    cr_assert_not(vg_run_state_per_partition(st));
    VgPipeline *p = vg_run_state_pipeline(st, 0);
    cr_assert_eq(vg_run_state_pipeline(st, 7), p, "one pipeline for every partition");
    vg_run_metrics_watch_state(m, st);
    vg_run_metrics_set_ready(m, true, NULL);
    g_string_truncate(why, 0);
    cr_assert(vg_metrics_ready(why), "%s", why->str);

    char *files[] = {(char *)VG_SOURCE_DIR "/tests/data/replay/mixed.jsonl", NULL};
    cr_assert_eq(vg_cli_feed_files(p, files, s, true, NULL, &err), VG_OK);
    vg_pipeline_finish(p);

    GString *txt = g_string_new(NULL);
    vg_metrics_render(txt);
    const char *want[] = {
        "vigil_lines_total{source=\"replay\"} 7\n",
        "vigil_events_total{source=\"replay\"} 5\n",
        "vigil_lines_bad_total{source=\"replay\",reason=\"invalid_json\"} 1\n",
        "vigil_lines_bad_total{source=\"replay\",reason=\"no_time\"} 1\n",
        "vigil_lines_bad_total{source=\"replay\",reason=\"too_long\"} 0\n",
        "# TYPE vigil_alerts_emitted_total counter\n",
        "vigil_alerts_sent_total{rule=\"vigil.plaintext_http\",severity=\"",
        "vigil_watermark_seconds{source=\"replay\"} ",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
        cr_assert(strstr(txt->str, want[i]), "missing %s in:\n%s", want[i], txt->str);
    /* the per-rule count is what went out */
    guint n = 0;
    for (guint i = 0; i < pushed->len; i++)
        n += !strcmp(pushed->pdata[i], "vigil.plaintext_http");
    char *line = g_strdup_printf("vigil.plaintext_http\",severity=\"medium\"} %u\n", n);
    cr_assert(n > 0 && strstr(txt->str, line), "%s not in\n%s", line, txt->str);
    g_free(line);

    vg_run_metrics_set_ready(m, false, "shutting down");
    g_string_truncate(why, 0);
    cr_assert_not(vg_metrics_ready(why));
    cr_assert_str_eq(why->str, "run: shutting down\n");
    vg_run_metrics_free(m);
    g_string_truncate(txt, 0);
    vg_metrics_render(txt);
    cr_assert_null(strstr(txt->str, "vigil_events_total"));
    g_string_truncate(why, 0);
    cr_assert(vg_metrics_ready(why));

    g_string_free(txt, TRUE);
    g_string_free(why, TRUE);
    vg_run_state_free(st);
    vg_settings_free(s);
    g_unlink(path);
    g_free(path);
    g_ptr_array_free(pushed, TRUE);
}

/* bench-sinks.c — alerts per second through the delivery layer into a local Redis stream
 * (pipelined), with and without the dedup script, and through the spool (write while the
 * sink is down, then drain into Redis).
 *
 * Starts its own redis-server on a free loopback port (no persistence), unless
 * VG_REDIS_PORT names one already running. Prints `name value` lines:
 *   sinks.redis.alerts_per_s <n>           default config (dedup by event.id)
 *   sinks.redis.nodedup.alerts_per_s <n>   plain pipelined XADD
 *   sinks.spool.write_per_s <n>            spooling while the sink is down (fsync per batch)
 *   sinks.spool.drain_per_s <n>            delivering the spool into Redis afterwards
 * usage: bench-sinks [ALERTS] (default 200000)
 */
#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/sinks/delivery.h"
#include "engine/sinks/sinks.h"

#define BATCH 1000

static int port;
static GPid server;
static char *dir;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
        perror("bind");
        exit(1);
    }
    close(fd);
    return ntohs(a.sin_port);
}

static bool ping(void)
{
    redisContext *c = redisConnect("127.0.0.1", port);
    bool up = c && !c->err;
    if (c)
        redisFree(c);
    return up;
}

static void start_server(void)
{
    port = free_port();
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    char *argv[] = {"redis-server", "--port",     p,         "--bind",
                    "127.0.0.1",    "--save",     "",        "--appendonly",
                    "no",           "--loglevel", "warning", NULL};
    GError *err = NULL;
    if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                       NULL, &server, &err)) {
        fprintf(stderr, "bench-sinks: cannot start redis-server: %s\n", err->message);
        exit(1);
    }
    for (int i = 0; i < 200 && !ping(); i++)
        g_usleep(20000);
}

static VgDelivery *make(const char *opts, const char *spool_extra)
{
    char *t = g_strdup_printf("sinks:\n  - type: redis\n    port: %d\n    maxlen: 0\n%s"
                              "spool:\n  dir: %s\n  retry_min: 1ms\n  retry_max: 1ms\n%s",
                              port, opts, dir, spool_extra);
    GError *err = NULL;
    VgConfNode *root = vg_conf_load_string(t, strlen(t), "bench.yml", &err);
    VgDelivery *d = vg_delivery_new(vg_conf_get(root, "sinks"), vg_conf_get(root, "spool"), &err);
    if (!d) {
        fprintf(stderr, "bench-sinks: %s\n", err->message);
        exit(1);
    }
    vg_conf_node_free(root);
    g_free(t);
    return d;
}

/* A realistic alert: ~700 bytes of JSON, as the alert stage renders them. */
static void record(int i, char *json, size_t jn, char *id, VgAlertRecord *r)
{
    snprintf(id, 40, "%08x%024d", (unsigned)i * 2654435761u, i);
    int n = snprintf(
        json, jn,
        "{\"@timestamp\":\"2026-03-02T10:00:00.000Z\",\"event\":{\"kind\":\"alert\",\"id\":\"%s\","
        "\"category\":[\"api\",\"web\"],\"severity\":2,\"risk_score\":47,\"start\":\"2026-03-02T10:"
        "00:00.000Z\",\"end\":\"2026-03-02T10:00:00.000Z\",\"reason\":\"GET /v1/x answered 200 "
        "over plain HTTP to 198.51.100.7: credentials and data crossed the network "
        "unencrypted\"},\"rule\":{\"id\":\"vigil.plaintext_http\",\"name\":\"API request served "
        "over plain HTTP\",\"category\":\"builtin\",\"ruleset\":\"builtin\"},\"source\":{\"ip\":"
        "\"198.51.100.7\"},\"url\":{\"domain\":\"api.example.com\",\"path\":\"/v1/items/%d\"},"
        "\"http\":{\"request\":{\"method\":\"GET\"}},\"vigil\":{\"entity\":{\"type\":\"token\","
        "\"token_id\":\"e195418aa0bf2033\",\"client_ip\":\"198.51.100.7\",\"endpoint\":\"GET "
        "/v1/items/{id}\"},\"samples\":[\"req-%d\"]}}",
        id, i, i);
    *r = (VgAlertRecord){.json = json,
                         .json_len = (size_t)n,
                         .id = id,
                         .rule_id = "vigil.plaintext_http",
                         .rule_name = "API request served over plain HTTP",
                         .severity = VG_SEV_MEDIUM,
                         .entity_type = "token",
                         .token_id = "e195418aa0bf2033",
                         .client_ip = "198.51.100.7",
                         .score = 0,
                         .time_ms = 1772445600000LL + i};
}

static double push_all(VgDelivery *d, int n, int base)
{
    char json[1024], id[48];
    VgAlertRecord r;
    gint64 t0 = g_get_monotonic_time();
    for (int i = 0; i < n; i++) {
        record(base + i, json, sizeof json, id, &r);
        vg_delivery_push(d, &r);
        if ((i + 1) % BATCH == 0 && vg_delivery_flush(d) != VG_OK)
            fprintf(stderr, "bench-sinks: flush failed\n");
    }
    vg_delivery_flush(d);
    return (double)(g_get_monotonic_time() - t0) / 1e6;
}

static void check_delivered(VgDelivery *d, uint64_t want, const char *what)
{
    VgSinkStats st;
    vg_delivery_stats(d, 0, &st);
    if (st.delivered != want || st.spool_records) {
        fprintf(stderr,
                "bench-sinks: %s: delivered %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                ", %" G_GUINT64_FORMAT " still spooled\n",
                what, st.delivered, want, st.spool_records);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    vg_sinks_register();
    dir = g_dir_make_tmp("vg-bench-sinks-XXXXXX", NULL);
    const char *env = g_getenv("VG_REDIS_PORT");
    if (env)
        port = atoi(env);
    else
        start_server();
    if (!ping()) {
        fprintf(stderr, "bench-sinks: no redis on port %d\n", port);
        return 1;
    }

    VgDelivery *d = make("    key: bench:dedup\n", "");
    double s = push_all(d, n, 0);
    check_delivered(d, (uint64_t)n, "dedup");
    printf("sinks.redis.alerts_per_s %.0f\n", n / s);
    vg_delivery_free(d);

    d = make("    key: bench:plain\n    dedup: false\n", "");
    s = push_all(d, n, 0);
    check_delivered(d, (uint64_t)n, "nodedup");
    printf("sinks.redis.nodedup.alerts_per_s %.0f\n", n / s);
    vg_delivery_free(d);

    /* the spool: Redis unreachable (wrong port), then reachable */
    int real = port;
    port = free_port();
    d = make("    key: bench:spool\n    connect_timeout: 10ms\n", "  max_bytes: 4GiB\n");
    s = push_all(d, n, 0);
    printf("sinks.spool.write_per_s %.0f\n", n / s);
    vg_delivery_free(d);
    port = real;
    d = make("    key: bench:spool\n", "  max_bytes: 4GiB\n");
    gint64 t0 = g_get_monotonic_time();
    if (vg_delivery_close(d, 600000, NULL) != VG_OK)
        fprintf(stderr, "bench-sinks: spool not drained\n");
    s = (double)(g_get_monotonic_time() - t0) / 1e6;
    check_delivered(d, (uint64_t)n, "spool");
    printf("sinks.spool.drain_per_s %.0f\n", n / s);
    vg_delivery_free(d);

    if (server) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
    }
    char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench-sinks: cannot remove %s\n", dir);
    g_free(cmd);
    g_free(dir);
    return 0;
}

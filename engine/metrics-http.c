/* metrics-http.c — the HTTP endpoint of metrics.h, on libmicrohttpd.
 *
 * libmicrohttpd runs its own polling thread and calls the handler there, so the pipeline
 * thread never waits for a slow scraper: the scrape takes the registry lock (metrics.c),
 * never a pipeline lock. Three read-only paths, GET or HEAD only; the response bodies are
 * copied into libmicrohttpd (MHD_RESPMEM_MUST_COPY) so nothing of ours outlives the call.
 * Connections are few and short (a Prometheus server, a probe, an operator with curl):
 * they are capped and time out, so a client that opens sockets and says nothing cannot
 * hold the thread.
 */
#include "engine/metrics.h"

#include "engine/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

struct VgMetricsServer {
    struct MHD_Daemon *d;
    int port;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result res = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return res;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    (void)cls, (void)version, (void)upload;
    static const char *const text = "text/plain; charset=utf-8";
    /* the first call for a request only announces its headers; answer on the second, so
     * a body a client sends anyway is consumed rather than left on the socket */
    if (!*state) {
        *state = (void *)1;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, "GET only\n", 9);
    if (!strcmp(url, "/metrics")) {
        GString *out = g_string_sized_new(16384);
        vg_metrics_render(out);
        enum MHD_Result res =
            reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", out->str, out->len);
        g_string_free(out, TRUE);
        return res;
    }
    if (!strcmp(url, "/healthz"))
        return reply(c, MHD_HTTP_OK, text, "ok\n", 3);
    if (!strcmp(url, "/readyz")) {
        GString *why = g_string_new(NULL);
        bool ok = vg_metrics_ready(why);
        if (ok)
            g_string_assign(why, "ready\n");
        enum MHD_Result res =
            reply(c, ok ? MHD_HTTP_OK : MHD_HTTP_SERVICE_UNAVAILABLE, text, why->str, why->len);
        g_string_free(why, TRUE);
        return res;
    }
    return reply(c, MHD_HTTP_NOT_FOUND, text, "not found: try /metrics, /healthz, /readyz\n", 43);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char *msg = g_strdup_vprintf(fmt, ap);
    g_strchomp(msg);
    vg_log_warn("metrics endpoint", "detail", msg);
    g_free(msg);
}

VgMetricsServer *vg_metrics_server_start(const VgMetricsConf *conf, GError **err)
{
    char *host = NULL;
    int port = 0;
    struct addrinfo *ai = NULL;
    VgMetricsServer *s = g_new0(VgMetricsServer, 1);
    if (!vg_metrics_split_listen(conf->listen, &host, &port)) {
        g_set_error(err, VG_ERROR, VG_ECONFIG, "metrics.listen: '%s' is not host:port",
                    conf->listen ? conf->listen : "");
        goto fail;
    }
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    const struct sockaddr *sa = NULL;
    if (*host) {
        struct addrinfo hints = {.ai_flags = AI_PASSIVE, .ai_socktype = SOCK_STREAM};
        int gai = getaddrinfo(host, NULL, &hints, &ai);
        if (gai) {
            g_set_error(err, VG_ERROR, VG_EIO, "metrics.listen: %s: %s", host, gai_strerror(gai));
            goto fail;
        }
        if (ai->ai_family == AF_INET6) {
            ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port = htons((uint16_t)port);
            flags |= MHD_USE_IPv6;
        } else {
            ((struct sockaddr_in *)ai->ai_addr)->sin_port = htons((uint16_t)port);
        }
        sa = ai->ai_addr;
    } else {
        flags |= MHD_USE_DUAL_STACK;
    }
    /* the handler is called on libmicrohttpd's thread; no per-connection state is kept */
    if (sa)
        s->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handle, s,
                                MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_CONNECTION_TIMEOUT,
                                10u, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_END);
    else
        s->d = MHD_start_daemon(
            flags, (uint16_t)port, NULL, NULL, handle, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
            MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!s->d) {
        g_set_error(err, VG_ERROR, VG_EIO,
                    "metrics: cannot listen on %s (address in use or not local?)", conf->listen);
        goto fail;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : port;
    char p[8];
    g_snprintf(p, sizeof p, "%d", s->port);
    vg_log_info("metrics endpoint listening", "address", *host ? host : "*", "port", p);
    if (ai)
        freeaddrinfo(ai);
    g_free(host);
    return s;
fail:
    if (ai)
        freeaddrinfo(ai);
    g_free(host);
    vg_metrics_server_stop(s);
    return NULL;
}

int vg_metrics_server_port(const VgMetricsServer *s)
{
    return s ? s->port : 0;
}

void vg_metrics_server_stop(VgMetricsServer *s)
{
    if (!s)
        return;
    if (s->d)
        MHD_stop_daemon(s->d);
    g_free(s);
}

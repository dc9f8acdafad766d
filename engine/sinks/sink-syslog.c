/* sink-syslog.c — alerts as RFC 5424 syslog over UDP, TCP (RFC 6587 octet counting) or
 * the local socket (/dev/log).
 *
 * Messages are formatted by syslog-format.c; this file is the transports. A batch becomes
 * one buffer of framed messages written with one send loop on TCP, one datagram per
 * message on UDP and unix sockets. Any socket error closes the socket and fails the batch;
 * the delivery layer spools it and retries with backoff, and the next write reconnects.
 *
 * Plain TCP syslog has no acknowledgements, so a successful send() only means the kernel
 * took the bytes. Two things narrow the window in which a receiver restart loses alerts:
 * before each batch the socket is polled for the peer's FIN or RST (a receiver that shut
 * down between batches is noticed before anything is written into the void), and after
 * reconnecting because the old connection failed, the connection is given `tcp_settle`
 * (a receiver that is starting may accept before it reads) and the last `tcp_resend`
 * messages sent are sent again. So TCP is at least once within that window (a resent alert
 * has the same event.id, which the SIEM can dedup on); UDP and the unix datagram socket
 * are best effort (a receiver that is down is only noticed through ICMP or ECONNREFUSED,
 * after the fact). Redis is the sink with exactly-once delivery.
 */
#include "engine/sinks/sinks.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/sinks/sink-util.h"
#include "engine/sinks/syslog-format.h"

typedef struct {
    char *transport;
    char *host;
    int64_t port;
    char *path;
    char *framing;
    char *facility;
    int64_t pen;
    char *hostname;
    char *app_name;
    char *message;
    char *bom;
    int64_t max_size;
    int64_t tcp_resend;
    int64_t tcp_settle_ms;
    int64_t connect_timeout_ms;
    int64_t timeout_ms;
} SyslogConf;

static const VgConfOption syslog_options[] = {
    {"transport", VG_CT_STRING, offsetof(SyslogConf, transport), "tcp", 0, 0, "udp|tcp|unix", 0,
     NULL, "udp (RFC 5426), tcp (RFC 6587) or unix (the local syslog socket)"},
    {"host", VG_CT_STRING, offsetof(SyslogConf, host), "127.0.0.1", 0, 0, NULL, 0, NULL,
     "receiver address (udp, tcp)"},
    {"port", VG_CT_INT, offsetof(SyslogConf, port), "514", 1, 65535, NULL, 0, NULL,
     "receiver port (udp, tcp)"},
    {"path", VG_CT_STRING, offsetof(SyslogConf, path), "/dev/log", 0, 0, NULL, 0, NULL,
     "local socket (unix)"},
    {"framing", VG_CT_STRING, offsetof(SyslogConf, framing), "octet-counting", 0, 0,
     "octet-counting|newline", 0, NULL,
     "tcp framing: RFC 6587 octet counting, or a newline after each message"},
    {"facility", VG_CT_STRING, offsetof(SyslogConf, facility), "local0", 0, 0,
     "kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|authpriv|ftp|ntp|audit|alert|clock|"
     "local0|local1|local2|local3|local4|local5|local6|local7",
     0, NULL, "syslog facility of the alerts"},
    {"pen", VG_CT_INT, offsetof(SyslogConf, pen), "32473", 1, 4294967295.0, NULL, 0, NULL,
     "private enterprise number in the SD-ID vigil@<pen> (32473 is the one for documentation)"},
    {"hostname", VG_CT_STRING, offsetof(SyslogConf, hostname), NULL, 0, 0, NULL, 0, NULL,
     "HOSTNAME field (default: this machine's name)"},
    {"app_name", VG_CT_STRING, offsetof(SyslogConf, app_name), "vigil", 0, 0, NULL, 0, NULL,
     "APP-NAME field"},
    {"message", VG_CT_STRING, offsetof(SyslogConf, message), "json", 0, 0, "json|text", 0, NULL,
     "MSG: the alert JSON, or a short text form"},
    {"bom", VG_CT_STRING, offsetof(SyslogConf, bom), "auto", 0, 0, "auto|always|never", 0, NULL,
     "UTF-8 BOM before MSG: auto = only when MSG has non-ASCII characters"},
    {"max_size", VG_CT_SIZE, offsetof(SyslogConf, max_size), "8KiB", 480, 1048576, NULL, 0, NULL,
     "largest message; a longer JSON MSG is replaced by the text form"},
    {"tcp_resend", VG_CT_INT, offsetof(SyslogConf, tcp_resend), "5000", 0, 1000000, NULL, 0, NULL,
     "after a broken TCP connection, resend this many of the last messages sent"},
    {"tcp_settle", VG_CT_DURATION, offsetof(SyslogConf, tcp_settle_ms), "1s", 0, 60, NULL, 0, NULL,
     "after reconnecting to a receiver that went away, wait this long before sending"},
    {"connect_timeout", VG_CT_DURATION, offsetof(SyslogConf, connect_timeout_ms), "2s", 0.001, 600,
     NULL, 0, NULL, "connect timeout (tcp)"},
    {"timeout", VG_CT_DURATION, offsetof(SyslogConf, timeout_ms), "5s", 0.001, 600, NULL, 0, NULL,
     "send timeout"},
    {0},
};

enum { T_UDP, T_TCP, T_UNIX };

typedef struct {
    VgSink base;
    SyslogConf c;
    int transport;
    bool octets;
    VgSyslogFormat fmt;
    char hostname[256], app_name[49], procid[129];
    int fd;
    bool broken;  /* the last connection failed: resend its tail after reconnecting */
    GString *buf; /* framed batch */
    GString *msg; /* one message */
    GArray *lens; /* datagram transports: length of each message in buf */
    /* The last tcp_resend framed messages sent (on any connection): tail holds
     * their bytes from tail_off on, tail_lens their lengths from tail_first on; the dead
     * prefix is cut off once it is half the buffer, so nothing is allocated per message. */
    GString *tail;
    GArray *tail_lens;
    size_t tail_off, tail_first;
} VgSyslogSink;

static void close_fd(VgSyslogSink *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
}

static int fail(VgSyslogSink *s, GError **err, const char *what)
{
    int e = errno;
    const char *where = s->transport == T_UNIX ? s->c.path : s->c.host;
    g_set_error(err, VG_ERROR, VG_EIO, "syslog %s %s:%d: %s", what, where,
                s->transport == T_UNIX ? 0 : (int)s->c.port, g_strerror(e));
    close_fd(s);
    s->broken = true;
    return VG_EIO;
}

static void set_timeouts(VgSyslogSink *s)
{
    struct timeval tv = {.tv_sec = s->c.timeout_ms / 1000,
                         .tv_usec = (s->c.timeout_ms % 1000) * 1000};
    setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* Connects fd to addr within the connect timeout. */
static int connect_timeout(int fd, const struct sockaddr *addr, socklen_t len, int64_t ms)
{
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    int r = connect(fd, addr, len);
    if (r < 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        r = poll(&p, 1, (int)ms);
        if (r == 0) {
            errno = ETIMEDOUT;
            r = -1;
        } else if (r > 0) {
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
            errno = soerr;
            r = soerr ? -1 : 0;
        }
    }
    int e = errno;
    fcntl(fd, F_SETFL, fl);
    errno = e;
    return r;
}

static int open_inet(VgSyslogSink *s, GError **err)
{
    char port[8];
    snprintf(port, sizeof port, "%d", (int)s->c.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = s->transport == T_TCP ? SOCK_STREAM : SOCK_DGRAM};
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(s->c.host, port, &hints, &ai);
    if (g != 0) {
        g_set_error(err, VG_ERROR, VG_EIO, "syslog: cannot resolve %s: %s", s->c.host,
                    gai_strerror(g));
        s->broken = true;
        return VG_EIO;
    }
    int r = VG_EIO;
    errno = EADDRNOTAVAIL;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        s->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
        if (s->fd < 0)
            continue;
        if (connect_timeout(s->fd, a->ai_addr, a->ai_addrlen, s->c.connect_timeout_ms) == 0) {
            r = VG_OK;
            break;
        }
        int e = errno;
        close_fd(s);
        errno = e;
    }
    freeaddrinfo(ai);
    return r == VG_OK ? VG_OK : fail(s, err, "connect");
}

static int open_unix(VgSyslogSink *s, GError **err)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(s->c.path) >= sizeof a.sun_path) {
        errno = ENAMETOOLONG;
        return fail(s, err, "connect");
    }
    strcpy(a.sun_path, s->c.path);
    /* /dev/log is a datagram socket (rsyslog, journald); a few daemons use a stream one */
    int types[] = {SOCK_DGRAM, SOCK_STREAM};
    for (int i = 0; i < 2; i++) {
        s->fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
        if (s->fd < 0)
            return fail(s, err, "socket");
        if (connect(s->fd, (struct sockaddr *)&a, sizeof a) == 0) {
            s->octets = false;
            s->transport = T_UNIX;
            if (types[i] == SOCK_STREAM)
                s->transport = T_TCP; /* a byte stream: frame with newlines */
            return VG_OK;
        }
        if (errno != EPROTOTYPE)
            return fail(s, err, "connect");
        close_fd(s);
    }
    return fail(s, err, "connect");
}

/* Has the peer closed or reset the connection? (TCP only; a poll without waiting.) */
static bool peer_gone(VgSyslogSink *s)
{
    struct pollfd p = {.fd = s->fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
        return true;
    char c;
    ssize_t r = recv(s->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static int sys_connect(VgSyslogSink *s, GError **err)
{
    bool is_unix = !strcmp(s->c.transport, "unix");
    s->transport = is_unix ? T_UNIX : !strcmp(s->c.transport, "udp") ? T_UDP : T_TCP;
    s->octets = s->transport == T_TCP && !strcmp(s->c.framing, "octet-counting");
    int r = is_unix ? open_unix(s, err) : open_inet(s, err);
    if (r < 0)
        return r;
    set_timeouts(s);
    s->base.reconnects++;
    return VG_OK;
}

/* Formats and frames recs into s->buf (and their lengths into s->lens). */
static void build(VgSyslogSink *s, const VgAlertRecord *const *recs, size_t n)
{
    g_string_truncate(s->buf, 0);
    g_array_set_size(s->lens, 0);
    for (size_t i = 0; i < n; i++) {
        g_string_truncate(s->msg, 0);
        vg_syslog_format(s->msg, &s->fmt, recs[i]);
        if (s->msg->len > (size_t)s->c.max_size && s->fmt.msg == VG_SYSLOG_MSG_JSON) {
            VgSyslogFormat text = s->fmt;
            text.msg = VG_SYSLOG_MSG_TEXT;
            g_string_truncate(s->msg, 0);
            vg_syslog_format(s->msg, &text, recs[i]);
        }
        size_t at = s->buf->len;
        if (s->transport == T_TCP && s->octets)
            vg_syslog_frame_octets(s->buf, s->msg->str, s->msg->len);
        else
            g_string_append_len(s->buf, s->msg->str, (gssize)s->msg->len);
        if (s->transport == T_TCP && !s->octets)
            g_string_append_c(s->buf, '\n');
        guint len = (guint)(s->buf->len - at);
        g_array_append_val(s->lens, len);
    }
}

/* Keeps the framed messages of buf as the resend tail of this connection. */
static void remember(VgSyslogSink *s)
{
    if (s->c.tcp_resend <= 0 || s->transport != T_TCP)
        return;
    g_string_append_len(s->tail, s->buf->str, (gssize)s->buf->len);
    g_array_append_vals(s->tail_lens, s->lens->data, s->lens->len);
    /* the whole last batch stays, however large: it is what the kernel may still hold */
    size_t keep = MAX((size_t)s->c.tcp_resend, s->lens->len);
    while (s->tail_lens->len - s->tail_first > keep)
        s->tail_off += g_array_index(s->tail_lens, guint, s->tail_first++);
    if (s->tail_off > 65536 && s->tail_off > s->tail->len / 2) {
        g_string_erase(s->tail, 0, (gssize)s->tail_off);
        g_array_remove_range(s->tail_lens, 0, (guint)s->tail_first);
        s->tail_off = s->tail_first = 0;
    }
}

static int resend_tail(VgSyslogSink *s, GError **err)
{
    size_t n = s->tail_lens->len - s->tail_first;
    if (!n)
        return VG_OK;
    if (vg_sinks_write_all(s->fd, s->tail->str + s->tail_off, s->tail->len - s->tail_off, true) < 0)
        return fail(s, err, "send");
    char num[24];
    vg_log_warn("syslog connection was broken: resent its last messages (duplicates possible)",
                "sink", s->base.instance, "messages", vg_sinks_u64(num, n));
    return VG_OK;
}

static int syslog_write(VgSink *sink, const VgAlertRecord *const *recs, size_t n, GError **err)
{
    VgSyslogSink *s = (VgSyslogSink *)sink;
    if (s->fd >= 0 && s->transport == T_TCP && peer_gone(s)) {
        close_fd(s);
        s->broken = true;
    }
    if (s->fd < 0) {
        if (sys_connect(s, err) < 0)
            return VG_EIO;
        /* A receiver that is starting accepts connections before it processes them
         * (rsyslog 8 drops what arrives in its first moments), so after an outage the
         * connection settles before anything is sent; then the peer must still be there.
         * The resend window is kept across connections for the same reason. */
        if (s->broken && s->transport == T_TCP && s->c.tcp_settle_ms > 0) {
            g_usleep((gulong)s->c.tcp_settle_ms * 1000);
            if (peer_gone(s)) {
                errno = ECONNRESET;
                return fail(s, err, "connection closed by the receiver");
            }
        }
        if (s->broken && resend_tail(s, err) < 0)
            return VG_EIO;
        s->broken = false;
    }
    build(s, recs, n);
    if (s->transport == T_TCP) {
        if (vg_sinks_write_all(s->fd, s->buf->str, s->buf->len, true) < 0)
            return fail(s, err, "send");
        remember(s);
        return VG_OK;
    }
    size_t at = 0;
    for (guint i = 0; i < s->lens->len; i++) {
        guint len = g_array_index(s->lens, guint, i);
        ssize_t w;
        do
            w = send(s->fd, s->buf->str + at, len, MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
        if (w < 0)
            return fail(s, err, "send");
        at += len;
    }
    return VG_OK;
}

static VgSink *syslog_create(const VgSinkOps *ops, const VgConfNode *section, GError **err)
{
    VgSyslogSink *s = g_new0(VgSyslogSink, 1);
    s->base.ops = ops;
    s->fd = -1;
    s->tail = g_string_new(NULL);
    s->tail_lens = g_array_new(FALSE, FALSE, sizeof(guint));
    s->buf = g_string_sized_new(64 * 1024);
    s->msg = g_string_sized_new(4096);
    s->lens = g_array_new(FALSE, FALSE, sizeof(guint));
    if (vg_conf_apply(syslog_options, &s->c, section, err) < 0)
        goto fail;
    vg_syslog_header_field(s->c.hostname ? s->c.hostname : g_get_host_name(), s->hostname, 255);
    vg_syslog_header_field(s->c.app_name, s->app_name, 48);
    char pid[24];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    vg_syslog_header_field(pid, s->procid, 128);
    s->fmt = (VgSyslogFormat){
        .facility = vg_syslog_facility(s->c.facility),
        .pen = s->c.pen,
        .hostname = s->hostname,
        .app_name = s->app_name,
        .procid = s->procid,
        .msg = !strcmp(s->c.message, "text") ? VG_SYSLOG_MSG_TEXT : VG_SYSLOG_MSG_JSON,
        .bom = !strcmp(s->c.bom, "always")  ? VG_SYSLOG_BOM_ALWAYS
               : !strcmp(s->c.bom, "never") ? VG_SYSLOG_BOM_NEVER
                                            : VG_SYSLOG_BOM_AUTO,
    };
    return &s->base;
fail:
    vg_conf_clear(syslog_options, &s->c);
    g_string_free(s->buf, TRUE);
    g_string_free(s->msg, TRUE);
    g_array_free(s->lens, TRUE);
    g_string_free(s->tail, TRUE);
    g_array_free(s->tail_lens, TRUE);
    g_free(s);
    return NULL;
}

static void syslog_destroy(VgSink *sink)
{
    VgSyslogSink *s = (VgSyslogSink *)sink;
    if (!s)
        return;
    close_fd(s);
    vg_conf_clear(syslog_options, &s->c);
    g_string_free(s->buf, TRUE);
    g_string_free(s->msg, TRUE);
    g_array_free(s->lens, TRUE);
    g_string_free(s->tail, TRUE);
    g_array_free(s->tail_lens, TRUE);
    g_free(s);
}

const VgSinkOps vg_sink_syslog_ops = {
    .name = "syslog",
    .options = syslog_options,
    .create = syslog_create,
    .write = syslog_write,
    .flush = NULL,
    .reopen = NULL,
    .destroy = syslog_destroy,
};

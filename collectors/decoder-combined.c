/* decoder-combined.c — the `nginx-combined` and `apache-combined` presets.
 *
 * Both write the NCSA combined layout
 *   $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent
 *   "$http_referer" "$http_user_agent"
 * (Apache: %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"); the common layout
 * without referer and user agent is read as well. They differ in details:
 *  - escapes inside quotes: nginx writes \xHH for '"', '\' and non-printable bytes,
 *    Apache writes \" and \\ and \xHH; both are undone (vg_dec_unescape_text);
 *  - Apache's %b is "-" for an empty body: bytes_out 0;
 *  - fields appended after the user agent, which sites commonly add:
 *      nginx   a bare decimal number is $request_time (seconds); rt=/request_time= too;
 *              "$request_length $request_time [..] [..] ... $req_id" (ingress-nginx)
 *              gives bytes_in, latency and request_id (32 hex digits at the end);
 *      apache  a bare integer is %D (microseconds), a bare decimal %T-like seconds.
 *    Any other appended field is ignored.
 * Nothing here says which credential was used: `token` stays absent (map it from a JSON
 * format, or use a gateway preset).
 *
 * Time: $time_local is parsed once per distinct second string and cached, since a busy
 * log repeats the same second thousands of times.
 */
#include "collectors/decode-time.h"
#include "collectors/decoder-common.h"
#include "collectors/decoder-text.h"
#include "collectors/decoders.h"
#include "collectors/json-scan.h"

typedef struct {
    VgDecoder base;
    bool apache;
    char tcache[40];
    size_t tcache_len;
    int64_t tcache_ms;
} VgCombinedDecoder;

static bool time_cached(VgCombinedDecoder *d, VgStr t, int64_t *ms)
{
    if (t.len == d->tcache_len && memcmp(t.p, d->tcache, t.len) == 0) {
        *ms = d->tcache_ms;
        return true;
    }
    if (!vg_time_parse_clf(t.p, t.len, ms))
        return false;
    if (t.len <= sizeof d->tcache) {
        memcpy(d->tcache, t.p, t.len);
        d->tcache_len = t.len;
        d->tcache_ms = *ms;
    }
    return true;
}

static bool all_digits(VgStr s, bool allow_dot)
{
    bool dot = false;
    if (!s.len)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] == '.' && allow_dot && !dot && i > 0)
            dot = true;
        else if (s.p[i] < '0' || s.p[i] > '9')
            return false;
    }
    return true;
}

static bool is_hex32(VgStr s)
{
    if (s.len != 32)
        return false;
    for (size_t i = 0; i < 32; i++)
        if (!g_ascii_isxdigit(s.p[i]))
            return false;
    return true;
}

static void set_latency_s(VgEvent *ev, VgStr s, double scale)
{
    double v;
    if (vg_dec_parse_double(s.p, s.len, &v)) {
        ev->latency_ms = v * scale;
        vg_event_mark(ev, VG_F_LATENCY_MS);
    }
}

/* The fields after the user agent (see the comment at the top). */
static void extras(const VgCombinedDecoder *d, VgTextCur *c, VgEvent *ev)
{
    VgStr w[16];
    int n = 0;
    bool bracketed = false;
    while (n < 16) {
        vg_tc_spaces(c);
        if (vg_tc_eof(c))
            break;
        VgStr t;
        if (*c->p == '"') {
            if (!vg_tc_quoted(c, &t))
                return;
            t = VG_STR_NULL; /* quoted extras ($http_x_forwarded_for, ...) are skipped */
        } else if (*c->p == '[') {
            c->p++;
            if (!vg_tc_until(c, ']', &t))
                return;
            bracketed = true;
            t = VG_STR_NULL;
        } else {
            vg_tc_word(c, &t);
        }
        w[n++] = t;
    }
    if (n == 0)
        return;
    if (d->apache) {
        if (w[0].p && all_digits(w[0], false))
            set_latency_s(ev, w[0], 1e-3); /* %D microseconds */
        else if (w[0].p && all_digits(w[0], true))
            set_latency_s(ev, w[0], 1e3);
        return;
    }
    /* ingress-nginx: $request_length $request_time [$proxy_upstream_name] ... $req_id */
    if (n >= 2 && w[0].p && w[1].p && all_digits(w[0], false) && all_digits(w[1], true)) {
        int64_t len;
        if (bracketed && vg_dec_parse_int(w[0].p, w[0].len, &len)) {
            ev->bytes_in = len;
            vg_event_mark(ev, VG_F_BYTES_IN);
            set_latency_s(ev, w[1], 1e3);
            if (w[n - 1].p && is_hex32(w[n - 1]))
                vg_event_set_str(ev, VG_F_REQUEST_ID, w[n - 1]);
            return;
        }
    }
    for (int i = 0; i < n; i++) {
        if (!w[i].p)
            continue;
        if (w[i].len > 3 && memcmp(w[i].p, "rt=", 3) == 0) {
            set_latency_s(ev, vg_str(w[i].p + 3, w[i].len - 3), 1e3);
        } else if (w[i].len > 13 && memcmp(w[i].p, "request_time=", 13) == 0) {
            set_latency_s(ev, vg_str(w[i].p + 13, w[i].len - 13), 1e3);
        } else if (!vg_event_has(ev, VG_F_LATENCY_MS) && all_digits(w[i], true) &&
                   memchr(w[i].p, '.', w[i].len)) {
            set_latency_s(ev, w[i], 1e3);
        }
    }
}

static VgBadReason combined_decode(VgDecoder *dec, const char *line, size_t len, VgEvent *ev,
                                   VgArena *arena)
{
    VgCombinedDecoder *d = (VgCombinedDecoder *)dec;
    ev->raw = vg_str(line, len);
    ev->decoder = dec;
    if (!vg_utf8_valid(line, len))
        return VG_BAD_UTF8;
    VgTextCur c = {line, line + len};
    VgStr ip, ident, user, t, req, status, bytes;
    if (!vg_tc_word(&c, &ip) || !vg_tc_lit(&c, ' ') || !vg_tc_word(&c, &ident) ||
        !vg_tc_lit(&c, ' ') || !vg_tc_word(&c, &user) || !vg_tc_lit(&c, ' ') ||
        !vg_tc_lit(&c, '[') || !vg_tc_until(&c, ']', &t) || !vg_tc_lit(&c, ' ') ||
        !vg_tc_quoted(&c, &req) || !vg_tc_lit(&c, ' ') || !vg_tc_word(&c, &status) ||
        !vg_tc_lit(&c, ' ') || !vg_tc_word(&c, &bytes))
        return VG_BAD_FORMAT;
    int64_t v;
    if (!vg_dec_blank(status)) {
        if (!vg_dec_parse_int(status.p, status.len, &v) || v < 0 || v > 999)
            return VG_BAD_FORMAT;
        ev->status = (int32_t)v;
        vg_event_mark(ev, VG_F_STATUS);
    }
    if (vg_dec_blank(bytes)) {
        ev->bytes_out = 0;
        vg_event_mark(ev, VG_F_BYTES_OUT);
    } else {
        if (!vg_dec_parse_int(bytes.p, bytes.len, &v))
            return VG_BAD_FORMAT;
        ev->bytes_out = v;
        vg_event_mark(ev, VG_F_BYTES_OUT);
    }
    if (!time_cached(d, t, &ev->time_ms))
        return VG_BAD_TIME;
    vg_event_mark(ev, VG_F_TIME);
    if (!vg_tc_eof(&c)) {
        VgStr ref, ua;
        if (!vg_tc_lit(&c, ' ') || !vg_tc_quoted(&c, &ref) || !vg_tc_lit(&c, ' ') ||
            !vg_tc_quoted(&c, &ua))
            return VG_BAD_FORMAT;
        if (!vg_dec_blank(ref))
            vg_event_set_str(ev, VG_F_REFERER, vg_dec_unescape_text(ref, arena));
        if (!vg_dec_blank(ua))
            vg_event_set_str(ev, VG_F_USER_AGENT, vg_dec_unescape_text(ua, arena));
        extras(d, &c, ev);
    }
    vg_event_set_str(ev, VG_F_CLIENT_IP, ip);
    if (!vg_dec_blank(user))
        vg_event_set_str(ev, VG_F_USER, vg_dec_unescape_text(user, arena));
    VgStr method, target, proto;
    if (vg_tc_request(req, &method, &target, &proto)) {
        vg_event_set_str(ev, VG_F_METHOD, method);
        vg_dec_set_target(ev, vg_dec_unescape_text(target, arena));
    }
    vg_dec_finish(ev, arena);
    return VG_BAD_NONE;
}

static VgDecoder *combined_create(const VgDecoderOps *ops, const VgInputConf *conf, GError **err)
{
    if (!vg_decoder_text_conf_ok(ops, conf, err))
        return NULL;
    VgCombinedDecoder *d = g_new0(VgCombinedDecoder, 1);
    d->base.ops = ops;
    d->apache = !strcmp(ops->name, "apache-combined");
    return &d->base;
}

static void combined_destroy(VgDecoder *d)
{
    g_free(d);
}

const VgDecoderOps vg_decoder_nginx_combined = {
    .name = "nginx-combined",
    .description = "nginx combined access log (plus $request_time, ingress-nginx fields)",
    .create = combined_create,
    .decode = combined_decode,
    .lookup = NULL,
    .destroy = combined_destroy,
};

const VgDecoderOps vg_decoder_apache_combined = {
    .name = "apache-combined",
    .description = "Apache httpd combined (or common) access log",
    .create = combined_create,
    .decode = combined_decode,
    .lookup = NULL,
    .destroy = combined_destroy,
};

/* decoder-envoy.c — the `envoy` preset: Envoy's default text access-log format.
 *
 * Envoy's documented default format string (config_access_log_default_format) is
 *   [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%"
 *   %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION%
 *   %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
 *   "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"
 * with "-" for every empty value. Istio's default proxy format is the same with
 * %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%"
 * after the flags and %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS%
 * %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME% at the end; it is told
 * apart by the word after the flags not being a number, and read too.
 *
 *   time        START_TIME (ISO 8601, ms)    method/path/query  the request line
 *   status      RESPONSE_CODE (0: the client went away before a response)
 *   bytes_in    BYTES_RECEIVED (body)        bytes_out   BYTES_SENT (body)
 *   latency_ms  DURATION (ms)                user_agent  USER-AGENT
 *   client_ip   the first address of X-Forwarded-For, else (Istio) the downstream
 *               remote address without its port
 *   request_id  X-REQUEST-ID                 host        :AUTHORITY
 * token and user are not in the format.
 */
#include "collectors/decode-time.h"
#include "collectors/decoder-common.h"
#include "collectors/decoder-text.h"
#include "collectors/decoders.h"
#include "collectors/json-scan.h"

static bool set_num(VgEvent *ev, VgFieldId f, VgStr s)
{
    if (vg_dec_blank(s))
        return true;
    int64_t v;
    if (f == VG_F_LATENCY_MS) {
        double d;
        if (!vg_dec_parse_double(s.p, s.len, &d))
            return false;
        ev->latency_ms = d;
    } else {
        if (!vg_dec_parse_int(s.p, s.len, &v) || v < 0)
            return false;
        if (f == VG_F_STATUS) {
            if (v > 999)
                return false;
            ev->status = (int32_t)v;
        } else if (f == VG_F_BYTES_IN) {
            ev->bytes_in = v;
        } else {
            ev->bytes_out = v;
        }
    }
    vg_event_mark(ev, f);
    return true;
}

static VgStr first_address(VgStr xff)
{
    const char *c = memchr(xff.p, ',', xff.len);
    VgStr a = c ? vg_str(xff.p, (size_t)(c - xff.p)) : xff;
    while (a.len && a.p[0] == ' ') {
        a.p++;
        a.len--;
    }
    while (a.len && a.p[a.len - 1] == ' ')
        a.len--;
    return a;
}

static VgStr strip_port(VgStr a)
{
    if (a.len > 2 && a.p[0] == '[') {
        const char *e = memchr(a.p, ']', a.len);
        if (e)
            return vg_str(a.p + 1, (size_t)(e - a.p - 1));
    }
    const char *c = memchr(a.p, ':', a.len);
    if (c && !memchr(c + 1, ':', (size_t)(a.p + a.len - c - 1)))
        return vg_str(a.p, (size_t)(c - a.p));
    return a;
}

static VgBadReason envoy_decode(VgDecoder *dec, const char *line, size_t len, VgEvent *ev,
                                VgArena *arena)
{
    ev->raw = vg_str(line, len);
    ev->decoder = dec;
    if (!vg_utf8_valid(line, len))
        return VG_BAD_UTF8;
    VgTextCur c = {line, line + len};
    VgStr t, req, status, flags, w, brecv, bsent, dur, ust, xff, ua, rid, auth, up;
    if (!vg_tc_lit(&c, '[') || !vg_tc_until(&c, ']', &t) || !vg_tc_lit(&c, ' ') ||
        !vg_tc_quoted(&c, &req) || !vg_tc_lit(&c, ' ') || !vg_tc_word(&c, &status) ||
        !vg_tc_lit(&c, ' ') || !vg_tc_word(&c, &flags) || !vg_tc_lit(&c, ' ') ||
        !vg_tc_word(&c, &w))
        return VG_BAD_FORMAT;
    bool istio = !vg_dec_blank(w) && (w.p[0] < '0' || w.p[0] > '9');
    if (istio) {
        VgStr term, reason;
        if (!vg_tc_lit(&c, ' ') || !vg_tc_word(&c, &term) || !vg_tc_lit(&c, ' ') ||
            !vg_tc_quoted(&c, &reason) || !vg_tc_lit(&c, ' ') || !vg_tc_word(&c, &brecv))
            return VG_BAD_FORMAT;
    } else {
        brecv = w;
    }
    if (!vg_tc_lit(&c, ' ') || !vg_tc_word(&c, &bsent) || !vg_tc_lit(&c, ' ') ||
        !vg_tc_word(&c, &dur) || !vg_tc_lit(&c, ' ') || !vg_tc_word(&c, &ust) ||
        !vg_tc_lit(&c, ' ') || !vg_tc_quoted(&c, &xff) || !vg_tc_lit(&c, ' ') ||
        !vg_tc_quoted(&c, &ua) || !vg_tc_lit(&c, ' ') || !vg_tc_quoted(&c, &rid) ||
        !vg_tc_lit(&c, ' ') || !vg_tc_quoted(&c, &auth) || !vg_tc_lit(&c, ' ') ||
        !vg_tc_quoted(&c, &up))
        return VG_BAD_FORMAT;
    if (!set_num(ev, VG_F_STATUS, status) || !set_num(ev, VG_F_BYTES_IN, brecv) ||
        !set_num(ev, VG_F_BYTES_OUT, bsent) || !set_num(ev, VG_F_LATENCY_MS, dur))
        return VG_BAD_FORMAT;
    if (!vg_time_parse_iso8601(t.p, t.len, &ev->time_ms))
        return VG_BAD_TIME;
    vg_event_mark(ev, VG_F_TIME);
    if (!vg_dec_blank(xff)) {
        VgStr a = first_address(xff);
        if (a.len)
            vg_event_set_str(ev, VG_F_CLIENT_IP, a);
    }
    if (istio && !vg_event_has(ev, VG_F_CLIENT_IP)) {
        VgStr x[4];
        int n = 0;
        while (n < 4 && vg_tc_lit(&c, ' ') && vg_tc_word(&c, &x[n]))
            n++;
        if (n == 4 && !vg_dec_blank(x[3]))
            vg_event_set_str(ev, VG_F_CLIENT_IP, strip_port(x[3]));
    }
    if (!vg_dec_blank(ua))
        vg_event_set_str(ev, VG_F_USER_AGENT, ua);
    if (!vg_dec_blank(rid))
        vg_event_set_str(ev, VG_F_REQUEST_ID, rid);
    if (!vg_dec_blank(auth))
        vg_event_set_str(ev, VG_F_HOST, auth);
    VgStr method, target, proto;
    if (vg_tc_request(req, &method, &target, &proto)) {
        vg_event_set_str(ev, VG_F_METHOD, method);
        vg_dec_set_target(ev, target);
    }
    vg_dec_finish(ev, arena);
    return VG_BAD_NONE;
}

static VgDecoder *envoy_create(const VgDecoderOps *ops, const VgInputConf *conf, GError **err)
{
    if (!vg_decoder_text_conf_ok(ops, conf, err))
        return NULL;
    VgDecoder *d = g_new0(VgDecoder, 1);
    d->ops = ops;
    return d;
}

static void envoy_destroy(VgDecoder *d)
{
    g_free(d);
}

const VgDecoderOps vg_decoder_envoy = {
    .name = "envoy",
    .description = "Envoy default text access log (and Istio's default proxy format)",
    .create = envoy_create,
    .decode = envoy_decode,
    .lookup = NULL,
    .destroy = envoy_destroy,
};

/* decoder-traefik.c — the `traefik` preset: Traefik's JSON access log
 * (accessLog.format: json).
 *
 *   time        StartUTC (RFC 3339 with nanoseconds), else StartLocal, else time
 *   client_ip   ClientHost, else ClientAddr without its port
 *   method      RequestMethod         scheme      RequestScheme
 *   host        RequestHost, else RequestAddr
 *   path/query  RequestPath split at '?'
 *   status      DownstreamStatus      bytes_out   DownstreamContentSize
 *   bytes_in    RequestContentSize    latency_ms  Duration (nanoseconds) / 1e6
 *   user_agent  request_User-Agent    referer     request_Referer
 *   request_id  request_X-Request-Id  user        ClientUsername
 *   token       request_Authorization (bearer / JWT subject / basic user), when the
 *               Authorization header is kept (accessLog.fields.headers.names)
 * Traefik writes "-" for an absent ClientUsername; that leaves `user` absent.
 */
#include "collectors/decoder-common.h"
#include "collectors/decoder-json.h"

enum {
    T_START_UTC,
    T_START_LOCAL,
    T_TIME,
    T_CLIENT_HOST,
    T_CLIENT_ADDR,
    T_METHOD,
    T_SCHEME,
    T_HOST,
    T_ADDR,
    T_PATH,
    T_STATUS,
    T_OUT,
    T_IN,
    T_DURATION,
    T_UA,
    T_REFERER,
    T_REQ_ID,
    T_AUTHZ,
    T_USER,
    T_N,
};

static const VgJsonPath traefik_paths[] = {
    {"StartUTC", T_START_UTC},
    {"StartLocal", T_START_LOCAL},
    {"time", T_TIME},
    {"ClientHost", T_CLIENT_HOST},
    {"ClientAddr", T_CLIENT_ADDR},
    {"RequestMethod", T_METHOD},
    {"RequestScheme", T_SCHEME},
    {"RequestHost", T_HOST},
    {"RequestAddr", T_ADDR},
    {"RequestPath", T_PATH},
    {"DownstreamStatus", T_STATUS},
    {"DownstreamContentSize", T_OUT},
    {"RequestContentSize", T_IN},
    {"Duration", T_DURATION},
    {"request_User-Agent", T_UA},
    {"request_Referer", T_REFERER},
    {"request_X-Request-Id", T_REQ_ID},
    {"request_Authorization", T_AUTHZ},
    {"ClientUsername", T_USER},
    {NULL, 0},
};

/* "10.0.0.1:5555" -> "10.0.0.1", "[2001:db8::1]:443" -> "2001:db8::1" */
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

static VgBadReason traefik_finish(const VgJsonLine *l, VgEvent *ev)
{
    VgBadReason r;
    int t = vg_jl_time(l, T_START_UTC, ev);
    if (t == 0)
        t = vg_jl_time(l, T_START_LOCAL, ev);
    if (t == 0)
        t = vg_jl_time(l, T_TIME, ev);
    if (t < 0)
        return VG_BAD_TIME;
    VgStr v;
    if (!vg_jl_set_str(l, T_CLIENT_HOST, ev, VG_F_CLIENT_IP) && vg_jl_str(l, T_CLIENT_ADDR, &v))
        vg_event_set_str(ev, VG_F_CLIENT_IP, strip_port(v));
    vg_jl_set_str(l, T_METHOD, ev, VG_F_METHOD);
    vg_jl_set_str(l, T_SCHEME, ev, VG_F_SCHEME);
    if (!vg_jl_set_str(l, T_HOST, ev, VG_F_HOST))
        vg_jl_set_str(l, T_ADDR, ev, VG_F_HOST);
    if (vg_jl_str(l, T_PATH, &v))
        vg_dec_set_target(ev, v);
    if ((r = vg_jl_set_status(l, T_STATUS, ev)) ||
        (r = vg_jl_set_int(l, T_OUT, ev, VG_F_BYTES_OUT)) ||
        (r = vg_jl_set_int(l, T_IN, ev, VG_F_BYTES_IN)) ||
        (r = vg_jl_set_latency(l, T_DURATION, 1e-6, ev)))
        return r;
    vg_jl_set_str(l, T_UA, ev, VG_F_USER_AGENT);
    vg_jl_set_str(l, T_REFERER, ev, VG_F_REFERER);
    vg_jl_set_str(l, T_REQ_ID, ev, VG_F_REQUEST_ID);
    vg_jl_set_str(l, T_USER, ev, VG_F_USER);
    if (vg_jl_str(l, T_AUTHZ, &v))
        vg_dec_set_credential(ev, v, l->arena);
    return VG_BAD_NONE;
}

const VgJsonPreset vg_decoder_traefik = {
    .ops = VG_JSON_PRESET_OPS("traefik", "Traefik JSON access log"),
    .paths = traefik_paths,
    .n_slots = T_N,
    .finish = traefik_finish,
};

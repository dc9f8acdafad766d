/* decoder-ecs.c — the `ecs` preset: Elastic Common Schema JSON (what Filebeat, Elastic
 * Agent and ECS loggers write). Keys may be nested objects or flat dotted names, or a mix.
 *
 *   time        @timestamp, else event.start
 *   client_ip   client.ip, else source.ip (client.ip is the originator behind proxies)
 *   method      http.request.method   scheme/host url.scheme / url.domain
 *   path/query  url.path / url.query, else split from url.original or url.full
 *   status      http.response.status_code
 *   bytes_out   http.response.body.bytes, else http.response.bytes
 *   bytes_in    http.request.body.bytes, else http.request.bytes
 *   latency_ms  event.duration (nanoseconds) / 1e6
 *   user_agent  user_agent.original   referer     http.request.referrer
 *   user        user.name             request_id  http.request.id
 * ECS has no field for the API credential; map `token` with input.fields (for example
 * token: "http.request.headers.authorization") when the log carries one.
 */
#include "collectors/decoder-common.h"
#include "collectors/decoder-json.h"

enum {
    E_TS,
    E_START,
    E_CLIENT_IP,
    E_SOURCE_IP,
    E_METHOD,
    E_SCHEME,
    E_DOMAIN,
    E_PATH,
    E_QUERY,
    E_ORIGINAL,
    E_FULL,
    E_STATUS,
    E_OUT_BODY,
    E_OUT,
    E_IN_BODY,
    E_IN,
    E_DURATION,
    E_UA,
    E_REFERER,
    E_USER,
    E_REQ_ID,
    E_N,
};

static const VgJsonPath ecs_paths[] = {
    {"@timestamp", E_TS},
    {"event.start", E_START},
    {"client.ip", E_CLIENT_IP},
    {"source.ip", E_SOURCE_IP},
    {"http.request.method", E_METHOD},
    {"url.scheme", E_SCHEME},
    {"url.domain", E_DOMAIN},
    {"url.path", E_PATH},
    {"url.query", E_QUERY},
    {"url.original", E_ORIGINAL},
    {"url.full", E_FULL},
    {"http.response.status_code", E_STATUS},
    {"http.response.body.bytes", E_OUT_BODY},
    {"http.response.bytes", E_OUT},
    {"http.request.body.bytes", E_IN_BODY},
    {"http.request.bytes", E_IN},
    {"event.duration", E_DURATION},
    {"user_agent.original", E_UA},
    {"http.request.referrer", E_REFERER},
    {"user.name", E_USER},
    {"http.request.id", E_REQ_ID},
    {NULL, 0},
};

static VgBadReason ecs_finish(const VgJsonLine *l, VgEvent *ev)
{
    VgBadReason r;
    int t = vg_jl_time(l, E_TS, ev);
    if (t == 0)
        t = vg_jl_time(l, E_START, ev);
    if (t < 0)
        return VG_BAD_TIME;
    if (!vg_jl_set_str(l, E_CLIENT_IP, ev, VG_F_CLIENT_IP))
        vg_jl_set_str(l, E_SOURCE_IP, ev, VG_F_CLIENT_IP);
    vg_jl_set_str(l, E_METHOD, ev, VG_F_METHOD);
    vg_jl_set_str(l, E_SCHEME, ev, VG_F_SCHEME);
    vg_jl_set_str(l, E_DOMAIN, ev, VG_F_HOST);
    vg_jl_set_str(l, E_QUERY, ev, VG_F_QUERY);
    VgStr v;
    if (vg_jl_str(l, E_PATH, &v))
        vg_event_set_str(ev, VG_F_PATH, v);
    else if (vg_jl_str(l, E_ORIGINAL, &v) || vg_jl_str(l, E_FULL, &v))
        vg_dec_set_target(ev, v);
    if ((r = vg_jl_set_status(l, E_STATUS, ev)))
        return r;
    if (vg_json_seen(l->seen, E_OUT_BODY) ? (r = vg_jl_set_int(l, E_OUT_BODY, ev, VG_F_BYTES_OUT))
                                          : (r = vg_jl_set_int(l, E_OUT, ev, VG_F_BYTES_OUT)))
        return r;
    if (vg_json_seen(l->seen, E_IN_BODY) ? (r = vg_jl_set_int(l, E_IN_BODY, ev, VG_F_BYTES_IN))
                                         : (r = vg_jl_set_int(l, E_IN, ev, VG_F_BYTES_IN)))
        return r;
    if ((r = vg_jl_set_latency(l, E_DURATION, 1e-6, ev)))
        return r;
    vg_jl_set_str(l, E_UA, ev, VG_F_USER_AGENT);
    vg_jl_set_str(l, E_REFERER, ev, VG_F_REFERER);
    vg_jl_set_str(l, E_USER, ev, VG_F_USER);
    vg_jl_set_str(l, E_REQ_ID, ev, VG_F_REQUEST_ID);
    return VG_BAD_NONE;
}

const VgJsonPreset vg_decoder_ecs = {
    .ops = VG_JSON_PRESET_OPS("ecs", "Elastic Common Schema JSON (nested or dotted keys)"),
    .paths = ecs_paths,
    .n_slots = E_N,
    .finish = ecs_finish,
};

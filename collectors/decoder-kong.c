/* decoder-kong.c — the `kong` preset: Kong Gateway's file-log / http-log JSON.
 *
 * Kong's log serializer writes one object per request (kong.log.serialize): request
 * {method, uri, url, size, querystring, headers, id (3.5+)}, response {status, size,
 * headers}, latencies {request, kong, proxy} in milliseconds, client_ip, started_at in
 * epoch milliseconds, route, service, consumer and authenticated_entity. Sizes are
 * numbers in current versions and strings in old ones; both are read.
 *
 * token: the credential that authenticated the request — authenticated_entity.id (the
 * key/JWT credential id), else consumer.id, else the Authorization header (bearer, JWT
 * subject, basic user), else an apikey / x-api-key header. user: consumer.username, else
 * consumer.custom_id. request_id: request.id, else the x-request-id request header, else
 * the x-kong-request-id response header.
 *
 * endpoint: Kong routes are path prefixes, which are not templates; but a route with one
 * regex path ("~/v1/users/(?<id>\d+)$") is one, and then it wins, with every capture group
 * written {id} (when what is left is plain path text). Otherwise the path is templated.
 */
#include "collectors/decoder-common.h"
#include "collectors/decoder-json.h"
#include "collectors/endpoint-template.h"

enum {
    K_STARTED_AT,
    K_CLIENT_IP,
    K_METHOD,
    K_URI,
    K_URL,
    K_REQ_SIZE,
    K_STATUS,
    K_RESP_SIZE,
    K_LATENCY,
    K_UA,
    K_REFERER,
    K_HOST,
    K_AUTHZ,
    K_APIKEY,
    K_REQ_ID,
    K_REQ_ID_HDR,
    K_KONG_REQ_ID,
    K_AUTH_ENTITY,
    K_CONSUMER_ID,
    K_CONSUMER_USER,
    K_CONSUMER_CUSTOM,
    K_ROUTE_PATHS,
    K_N,
};

static const VgJsonPath kong_paths[] = {
    {"started_at", K_STARTED_AT},
    {"client_ip", K_CLIENT_IP},
    {"request.method", K_METHOD},
    {"request.uri", K_URI},
    {"request.url", K_URL},
    {"request.size", K_REQ_SIZE},
    {"response.status", K_STATUS},
    {"response.size", K_RESP_SIZE},
    {"latencies.request", K_LATENCY},
    {"request.headers.user-agent", K_UA},
    {"request.headers.referer", K_REFERER},
    {"request.headers.host", K_HOST},
    {"request.headers.authorization", K_AUTHZ},
    {"request.headers.apikey", K_APIKEY},
    {"request.headers.x-api-key", K_APIKEY},
    {"request.id", K_REQ_ID},
    {"request.headers.x-request-id", K_REQ_ID_HDR},
    {"response.headers.x-kong-request-id", K_KONG_REQ_ID},
    {"authenticated_entity.id", K_AUTH_ENTITY},
    {"consumer.id", K_CONSUMER_ID},
    {"consumer.username", K_CONSUMER_USER},
    {"consumer.custom_id", K_CONSUMER_CUSTOM},
    {"route.paths", K_ROUTE_PATHS},
    {NULL, 0},
};

/* "~/v1/users/(?<id>\d+)/orders$" -> "/v1/users/{id}/orders"; VG_STR_NULL when the regex
 * has anything but plain path text outside its groups. */
static VgStr route_template(VgStr re, VgArena *arena)
{
    if (re.len < 2 || re.p[0] != '~')
        return VG_STR_NULL;
    size_t i = 1, n = re.len;
    if (i < n && re.p[i] == '^')
        i++;
    if (n > i && re.p[n - 1] == '$')
        n--;
    char *out = vg_arena_alloc(arena, (n - i) + 8 * (n - i) / 2 + 8);
    size_t o = 0;
    bool groups = false;
    while (i < n) {
        char c = re.p[i];
        if (c == '(') {
            int depth = 0;
            for (; i < n; i++) {
                if (re.p[i] == '\\') {
                    i++;
                    continue;
                }
                if (re.p[i] == '(')
                    depth++;
                else if (re.p[i] == ')' && --depth == 0)
                    break;
            }
            if (i >= n)
                return VG_STR_NULL;
            memcpy(out + o, "{id}", 4);
            o += 4;
            groups = true;
            i++;
        } else if (c == '\\' && i + 1 < n &&
                   (re.p[i + 1] == '.' || re.p[i + 1] == '/' || re.p[i + 1] == '-')) {
            out[o++] = re.p[i + 1];
            i += 2;
        } else if (strchr("\\[]*+?|{}.^$)", c)) {
            return VG_STR_NULL;
        } else {
            out[o++] = c;
            i++;
        }
    }
    if (!groups || o == 0 || out[0] != '/')
        return VG_STR_NULL;
    out[o] = '\0';
    return vg_str(out, o);
}

static VgBadReason kong_finish(const VgJsonLine *l, VgEvent *ev)
{
    VgBadReason r;
    if (vg_jl_time(l, K_STARTED_AT, ev) < 0)
        return VG_BAD_TIME;
    vg_jl_set_str(l, K_CLIENT_IP, ev, VG_F_CLIENT_IP);
    vg_jl_set_str(l, K_METHOD, ev, VG_F_METHOD);
    vg_jl_set_str(l, K_HOST, ev, VG_F_HOST);
    VgStr v;
    if (vg_jl_str(l, K_URL, &v)) {
        vg_dec_set_target(ev, v); /* scheme, host (if no Host header), path, query */
    }
    if (vg_jl_str(l, K_URI, &v)) {
        ev->present &= ~(1u << VG_F_PATH);
        vg_dec_set_target(ev, v);
    }
    if ((r = vg_jl_set_status(l, K_STATUS, ev)) ||
        (r = vg_jl_set_int(l, K_RESP_SIZE, ev, VG_F_BYTES_OUT)) ||
        (r = vg_jl_set_int(l, K_REQ_SIZE, ev, VG_F_BYTES_IN)) ||
        (r = vg_jl_set_latency(l, K_LATENCY, 1.0, ev)))
        return r;
    vg_jl_set_str(l, K_UA, ev, VG_F_USER_AGENT);
    vg_jl_set_str(l, K_REFERER, ev, VG_F_REFERER);
    if (!vg_jl_set_str(l, K_REQ_ID, ev, VG_F_REQUEST_ID) &&
        !vg_jl_set_str(l, K_REQ_ID_HDR, ev, VG_F_REQUEST_ID))
        vg_jl_set_str(l, K_KONG_REQ_ID, ev, VG_F_REQUEST_ID);
    if (!vg_jl_set_str(l, K_CONSUMER_USER, ev, VG_F_USER))
        vg_jl_set_str(l, K_CONSUMER_CUSTOM, ev, VG_F_USER);
    if (!vg_jl_set_str(l, K_AUTH_ENTITY, ev, VG_F_TOKEN) &&
        !vg_jl_set_str(l, K_CONSUMER_ID, ev, VG_F_TOKEN)) {
        if (vg_jl_str(l, K_AUTHZ, &v))
            vg_dec_set_credential(ev, v, l->arena);
        if (!vg_event_has(ev, VG_F_TOKEN))
            vg_jl_set_str(l, K_APIKEY, ev, VG_F_TOKEN);
    }
    const VgJsonSlot *rp = &l->slots[K_ROUTE_PATHS];
    if (vg_json_seen(l->seen, K_ROUTE_PATHS) && rp->kind == VG_JV_ARRAY && rp->i == 1 && rp->s.p) {
        VgStr t = route_template(rp->s, l->arena);
        if (t.p)
            vg_event_set_str(ev, VG_F_ENDPOINT,
                             vg_endpoint_from_route(vg_event_str(ev, VG_F_METHOD), t, l->arena));
    }
    return VG_BAD_NONE;
}

const VgJsonPreset vg_decoder_kong = {
    .ops = VG_JSON_PRESET_OPS("kong", "Kong Gateway file-log / http-log JSON"),
    .paths = kong_paths,
    .n_slots = K_N,
    .finish = kong_finish,
};

/* decoder-aws-apigw.c — the `aws-apigw` preset: Amazon API Gateway JSON access logs.
 *
 * API Gateway writes whatever JSON template the stage is given, filled from $context
 * variables, and writes "-" for values it does not have. The preset reads the key names
 * of AWS's documented JSON examples and of the common templates, nested or flat dotted
 * ("identity.sourceIp" or {"identity":{"sourceIp":..}}):
 *
 *   time        requestTimeEpoch (ms, or s for HTTP APIs), else requestTime (CLF)
 *   client_ip   ip | sourceIp | identity.sourceIp
 *   method      httpMethod            host        domainName
 *   path        path (the request path, with the stage for REST APIs)
 *   endpoint    routeKey ("GET /pets/{id}", HTTP APIs) else httpMethod + resourcePath
 *   status      status                bytes_out   responseLength
 *   latency_ms  responseLatency, else integrationLatency (ms)
 *   user_agent  userAgent | identity.userAgent
 *   token       apiKeyId | identity.apiKeyId, else authorizer.principalId | principalId,
 *               else authorizer.claims.sub | authorizer.jwt.claims.sub
 *   user        user | identity.user, else authorizer.claims.username
 *   request_id  requestId
 * Every other key stays reachable by its name (protocol, stage, extendedRequestId, ...).
 */
#include "collectors/decoder-common.h"
#include "collectors/decoder-json.h"
#include "collectors/endpoint-template.h"

enum {
    A_REQ_ID,
    A_IP,
    A_TIME_EPOCH,
    A_TIME,
    A_METHOD,
    A_RESOURCE,
    A_ROUTE_KEY,
    A_PATH,
    A_STATUS,
    A_RESP_LEN,
    A_RESP_LAT,
    A_INT_LAT,
    A_UA,
    A_API_KEY_ID,
    A_PRINCIPAL,
    A_SUB,
    A_USER,
    A_USERNAME,
    A_DOMAIN,
    A_N,
};

static const VgJsonPath aws_paths[] = {
    {"requestId", A_REQ_ID},
    {"ip", A_IP},
    {"sourceIp", A_IP},
    {"identity.sourceIp", A_IP},
    {"requestTimeEpoch", A_TIME_EPOCH},
    {"requestTime", A_TIME},
    {"httpMethod", A_METHOD},
    {"resourcePath", A_RESOURCE},
    {"routeKey", A_ROUTE_KEY},
    {"path", A_PATH},
    {"status", A_STATUS},
    {"responseLength", A_RESP_LEN},
    {"responseLatency", A_RESP_LAT},
    {"integrationLatency", A_INT_LAT},
    {"userAgent", A_UA},
    {"identity.userAgent", A_UA},
    {"apiKeyId", A_API_KEY_ID},
    {"identity.apiKeyId", A_API_KEY_ID},
    {"principalId", A_PRINCIPAL},
    {"authorizer.principalId", A_PRINCIPAL},
    {"authorizer.claims.sub", A_SUB},
    {"authorizer.jwt.claims.sub", A_SUB},
    {"user", A_USER},
    {"identity.user", A_USER},
    {"authorizer.claims.username", A_USERNAME},
    {"domainName", A_DOMAIN},
    {NULL, 0},
};

static VgBadReason aws_finish(const VgJsonLine *l, VgEvent *ev)
{
    VgBadReason r;
    int t = vg_jl_time(l, A_TIME_EPOCH, ev);
    if (t <= 0 && vg_jl_time(l, A_TIME, ev) < 0)
        return VG_BAD_TIME;
    if (t < 0 && !vg_event_has(ev, VG_F_TIME))
        return VG_BAD_TIME;
    vg_jl_set_str(l, A_REQ_ID, ev, VG_F_REQUEST_ID);
    vg_jl_set_str(l, A_IP, ev, VG_F_CLIENT_IP);
    vg_jl_set_str(l, A_METHOD, ev, VG_F_METHOD);
    vg_jl_set_str(l, A_DOMAIN, ev, VG_F_HOST);
    VgStr v;
    if (vg_jl_str(l, A_PATH, &v))
        vg_dec_set_target(ev, v);
    if ((r = vg_jl_set_status(l, A_STATUS, ev)) ||
        (r = vg_jl_set_int(l, A_RESP_LEN, ev, VG_F_BYTES_OUT)))
        return r;
    double lat;
    int lr = vg_jl_num(l, A_RESP_LAT, &lat);
    if (lr < 0)
        return VG_BAD_FIELD;
    if (lr == 0 && (r = vg_jl_set_latency(l, A_INT_LAT, 1.0, ev)))
        return r;
    if (lr > 0) {
        ev->latency_ms = lat;
        vg_event_mark(ev, VG_F_LATENCY_MS);
    }
    vg_jl_set_str(l, A_UA, ev, VG_F_USER_AGENT);
    if (!vg_jl_set_str(l, A_API_KEY_ID, ev, VG_F_TOKEN) &&
        !vg_jl_set_str(l, A_PRINCIPAL, ev, VG_F_TOKEN))
        vg_jl_set_str(l, A_SUB, ev, VG_F_TOKEN);
    if (!vg_jl_set_str(l, A_USER, ev, VG_F_USER))
        vg_jl_set_str(l, A_USERNAME, ev, VG_F_USER);
    VgStr method = vg_event_str(ev, VG_F_METHOD);
    if (vg_jl_str(l, A_ROUTE_KEY, &v) && v.p[0] != '$' && memchr(v.p, ' ', v.len))
        vg_event_set_str(ev, VG_F_ENDPOINT, v);
    else if (vg_jl_str(l, A_RESOURCE, &v))
        vg_event_set_str(ev, VG_F_ENDPOINT, vg_endpoint_from_route(method, v, l->arena));
    return VG_BAD_NONE;
}

const VgJsonPreset vg_decoder_aws_apigw = {
    .ops = VG_JSON_PRESET_OPS("aws-apigw", "Amazon API Gateway JSON access logs ($context)"),
    .paths = aws_paths,
    .n_slots = A_N,
    .finish = aws_finish,
};

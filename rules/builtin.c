/* builtin.c — the engine's built-in checks (config section `builtin:`).
 *
 * One check for now, the model for stateless per-event detectors: plaintext_http, any
 * request answered 2xx over plain HTTP. API credentials and personal data cross the wire
 * in clear text there, whatever else the request did. It is the smallest complete detector
 * — options table, create, on_event, destroy — so a new one starts by copying it.
 */
#include "rules/builtin.h"

#include <stdio.h>

typedef struct {
    bool plaintext_http;
} BuiltinConf;

static const VgConfOption builtin_options[] = {
    {"plaintext_http", VG_CT_BOOL, offsetof(BuiltinConf, plaintext_http), "false", 0, 0, NULL,
     VG_CO_RELOAD, NULL,
     "Alert on requests answered 2xx over plain HTTP (off by default: the shipped Sigma pack has "
     "the same check with more context)."},
    {0},
};

typedef struct {
    VgDetector base;
    BuiltinConf conf;
} Builtin;

static VgDetector *builtin_create(const VgDetectorOps *ops, const VgConfNode *section, GError **err)
{
    Builtin *b = g_new0(Builtin, 1);
    b->base.ops = ops;
    if (vg_conf_apply(builtin_options, &b->conf, section, err) != VG_OK) {
        g_free(b);
        return NULL;
    }
    if (!b->conf.plaintext_http) {
        g_free(b);
        return NULL; /* nothing switched on */
    }
    return &b->base;
}

static void builtin_on_event(VgDetector *d, const VgEvent *ev, VgDetectCtx *ctx)
{
    (void)d;
    if (!vg_event_has(ev, VG_F_STATUS) || ev->status < 200 || ev->status > 299)
        return;
    if (ev->scheme.len != 4 || g_ascii_strncasecmp(ev->scheme.p, "http", 4) != 0)
        return;
    char reason[256];
    const VgStr who = vg_str_present(ev->client_ip) ? ev->client_ip : VG_STR_LIT("unknown");
    snprintf(reason, sizeof reason,
             "%.*s answered %d over plain HTTP to %.*s: credentials and data crossed the "
             "network unencrypted",
             (int)(ev->endpoint.len ? ev->endpoint.len : ev->path.len),
             ev->endpoint.len ? ev->endpoint.p : (ev->path.p ? ev->path.p : ""), ev->status,
             (int)who.len, who.p);
    VgAlert a = {
        .rule_id = "vigil.plaintext_http",
        .rule_name = "API request served over plain HTTP",
        .rule_category = "builtin",
        .ruleset = "builtin",
        .severity = VG_SEV_MEDIUM,
        .start_ms = ev->time_ms,
        .end_ms = ev->time_ms,
        .entity_type = vg_str_present(ev->token) ? "token" : "client_ip",
        .token = ev->token,
        .client_ip = ev->client_ip,
        .endpoint = ev->endpoint,
        .method = ev->method,
        .path = ev->path,
        .host = ev->host,
        .reason = reason,
    };
    if (vg_str_present(ev->request_id)) {
        a.samples[0] = ev->request_id;
        a.n_samples = 1;
    }
    vg_alert_emit(ctx, &a);
}

static void builtin_destroy(VgDetector *d)
{
    g_free(d);
}

const VgDetectorOps vg_builtin_detector_ops = {
    .name = "builtin",
    .summary = "Built-in checks: plaintext_http.",
    .create = builtin_create,
    .on_event = builtin_on_event,
    .destroy = builtin_destroy,
};

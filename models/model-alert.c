/* model-alert.c — turning a verdict into an alert a person can act on.
 *
 * The text says what was observed, what was expected and why it matters, naming the key
 * the way the SOC sees it: a token by its token_id (never the raw token, which the models
 * do not keep), an IP, an endpoint. Alerts raised while closing a bucket wait in a pending
 * list and go out when the bucket is closed for every key, sorted by (bucket, kind,
 * metric, key hash): the order then depends neither on the table layout nor on whether a
 * key's bucket was closed early (by its own next event) or by the watermark. A pending
 * alert holds all its strings inline, so it survives the event batch and a snapshot.
 */
#include "models/model-int.h"

#include <arpa/inet.h>
#include <inttypes.h>

/* ---- names and text --------------------------------------------------------------------- */

void vg_models_entity_name(const VgModels *m, VgModelKind k, const VgEntryHead *e, char *out,
                           size_t n)
{
    const uint8_t *name = (const uint8_t *)e + m->kind[k].layout.name_off;
    switch (k) {
    case VG_MK_TOKEN:
        g_snprintf(out, n, "%016" PRIx64, ((const VgNameToken *)name)->token_id);
        return;
    case VG_MK_TOKEN_ENDPOINT:
        g_snprintf(out, n, "%016" PRIx64, ((const VgNameTokenEp *)name)->token_id);
        return;
    case VG_MK_ENDPOINT: {
        const VgNameEndpoint *ne = (const VgNameEndpoint *)name;
        g_snprintf(out, n, "%.*s", (int)ne->len, ne->text);
        return;
    }
    case VG_MK_CLIENT_IP: {
        const VgNameIp *ni = (const VgNameIp *)name;
        if ((ni->family == 4 || ni->family == 6) && n >= INET6_ADDRSTRLEN &&
            inet_ntop(ni->family == 4 ? AF_INET : AF_INET6, ni->addr, out, (socklen_t)n))
            return;
        g_snprintf(out, n, "%.*s", (int)ni->len, (const char *)ni->addr);
        return;
    }
    default:
        g_snprintf(out, n, "?");
    }
}

static void endpoint_of(const VgModels *m, const VgEntryHead *e, char *out, size_t n)
{
    const VgNameTokenEp *te =
        (const VgNameTokenEp *)((const uint8_t *)e + m->kind[VG_MK_TOKEN_ENDPOINT].layout.name_off);
    if (te->endpoint && te->endpoint <= m->n_ep) {
        const VgNameEndpoint *ne = &m->ep_names[te->endpoint - 1];
        g_snprintf(out, n, "%.*s", (int)ne->len, ne->text);
    } else {
        g_snprintf(out, n, "an endpoint");
    }
}

static void fmt_num(char *buf, size_t n, double v)
{
    if (fabs(v) >= 100 || v == floor(v))
        g_snprintf(buf, n, "%.0f", v);
    else
        g_snprintf(buf, n, "%.1f", v);
}

static void fmt_bytes(char *buf, size_t n, double v)
{
    static const char *u[] = {"B", "KB", "MB", "GB", "TB"};
    int i = 0;
    while (v >= 1000 && i < 4) {
        v /= 1000;
        i++;
    }
    g_snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void fmt_p(char *buf, size_t n, double logp)
{
    double p = exp(logp);
    if (p >= 1e-300)
        g_snprintf(buf, n, "p = %.1g", p);
    else
        g_snprintf(buf, n, "p < 1e-300");
}

static const char *subject_word(VgModelKind k)
{
    switch (k) {
    case VG_MK_TOKEN:
    case VG_MK_TOKEN_ENDPOINT:
        return "token";
    case VG_MK_ENDPOINT:
        return "endpoint";
    default:
        return "client";
    }
}

static void build_reason(const VgModels *m, VgPendingAlert *pa, VgModelKind k, VgModelMetric mi,
                         const VgVerdict *v, double x, double n_req, const VgEwma *w)
{
    int bs = (int)(m->conf.bucket_ms / 1000);
    char xs[32], es[32], ss[32], ps[40], ns[32], to[VG_ENDPOINT_NAME_MAX + 8] = "";
    const char *who = k == VG_MK_ENDPOINT    ? pa->ent_other
                      : k == VG_MK_CLIENT_IP ? pa->ent_other
                                             : pa->ent_token;
    if (k == VG_MK_TOKEN_ENDPOINT)
        g_snprintf(to, sizeof to, " to %s", pa->ent_ep);
    fmt_num(xs, sizeof xs, x);
    fmt_num(es, sizeof es, v->expected);
    fmt_num(ss, sizeof ss, v->sd);
    fmt_num(ns, sizeof ns, n_req);
    fmt_p(ps, sizeof ps, v->logp);
    GString *s = g_string_sized_new(200);
    g_string_printf(s, "%s %s ", subject_word(k), who);
    switch (mi) {
    case VG_MM_REQUESTS:
        g_string_append_printf(s, "%s %s requests in %d s%s",
                               k == VG_MK_ENDPOINT ? "received" : "sent", xs, bs, to);
        break;
    case VG_MM_4XX:
        g_string_append_printf(s, "got %s 4xx responses in %d s%s", xs, bs, to);
        break;
    case VG_MM_AUTH:
        g_string_append_printf(s, "got %s 401/403 responses in %d s%s (failed authentication)", xs,
                               bs, to);
        break;
    case VG_MM_5XX:
        g_string_append_printf(s, "returned 5xx to %s of %s requests (%.0f%%) in %d s%s", xs, ns,
                               n_req > 0 ? 100.0 * x / n_req : 0, bs, to);
        break;
    case VG_MM_BYTES:
        fmt_bytes(xs, sizeof xs, x);
        fmt_bytes(es, sizeof es, v->expected);
        fmt_bytes(ss, sizeof ss, v->sd);
        g_string_append_printf(s, "%s %s in %d s%s (possible bulk exfiltration)",
                               k == VG_MK_ENDPOINT ? "served" : "downloaded", xs, bs, to);
        break;
    case VG_MM_LAT_MEAN:
        g_string_append_printf(s, "answered in %s ms on average over %s requests in %d s%s", xs, ns,
                               bs, to);
        break;
    case VG_MM_LAT_P95:
        g_string_append_printf(s, "had a p95 latency of %s ms over %s requests in %d s", xs, ns,
                               bs);
        break;
    case VG_MM_D_IPS:
        g_string_append_printf(s,
                               "was used from %s distinct client IPs in %d s (shared or "
                               "leaked token)",
                               xs, bs);
        break;
    case VG_MM_D_IDS:
        g_string_append_printf(s,
                               "touched %s distinct object ids in %d s%s (enumeration / "
                               "BOLA)",
                               xs, bs, to);
        break;
    case VG_MM_D_PATHS:
        g_string_append_printf(s, "requested %s distinct paths in %d s (scanning)", xs, bs);
        break;
    case VG_MM_D_TOKENS:
        g_string_append_printf(s, "presented %s distinct tokens in %d s (token stuffing)", xs, bs);
        break;
    default:
        break;
    }
    if (v->population) {
        g_string_append_printf(s,
                               "; it is new, and %s keys of its kind stay under %s per "
                               "bucket (%.1f%% quantile); %s",
                               k == VG_MK_CLIENT_IP ? "client" : subject_word(k), es,
                               100 * m->conf.population_quantile, ps);
    } else if (mi == VG_MM_5XX) {
        g_string_append_printf(s, "; its baseline is %.1f%% (%s expected); %s",
                               100.0 * (n_req > 0 ? v->expected / n_req : 0), es, ps);
    } else {
        g_string_append_printf(s, "; its baseline is %s ± %s", es, ss);
        if (w->peak > 0 && !v->down) {
            char pk[32];
            if (mi == VG_MM_BYTES)
                fmt_bytes(pk, sizeof pk, w->peak);
            else
                fmt_num(pk, sizeof pk, w->peak);
            g_string_append_printf(s, " (recent peak %s)", pk);
        }
        g_string_append_printf(s, "; %s", ps);
    }
    g_strlcpy(pa->text, s->str, sizeof pa->text);
    g_string_free(s, TRUE);
}

static VgSeverity severity_of(double logp, double ratio)
{
    double s10 = -logp / M_LN10;
    if (s10 >= 50 && ratio >= 10)
        return VG_SEV_CRITICAL;
    if (s10 >= 20)
        return VG_SEV_HIGH;
    if (s10 >= 10)
        return VG_SEV_MEDIUM;
    return VG_SEV_LOW;
}

void vg_models_queue_alert(VgModels *m, VgKindState *ks, VgModelKind k, VgModelMetric mi,
                           VgEntryHead *e, uint32_t b, const VgVerdict *v, double x, double n_req,
                           const VgEwma *w)
{
    VgPendingAlert pa;
    memset(&pa, 0, sizeof pa);
    pa.bucket = b;
    pa.kind = (uint8_t)k;
    pa.metric = (uint8_t)mi;
    pa.hash = e->hash;
    g_snprintf(pa.rule_id, sizeof pa.rule_id, "model.%s_%s%s", vg_kind_rule[k],
               vg_metric_info[mi].rule, v->down ? "_drop" : "");
    g_snprintf(pa.rule_name, sizeof pa.rule_name, "%s %s %s baseline", vg_kind_name[k],
               vg_metric_info[mi].name, v->down ? "below" : "above");
    if (k == VG_MK_TOKEN || k == VG_MK_TOKEN_ENDPOINT)
        vg_models_entity_name(m, k, e, pa.ent_token, sizeof pa.ent_token);
    else
        vg_models_entity_name(m, k, e, pa.ent_other, sizeof pa.ent_other);
    if (k == VG_MK_TOKEN_ENDPOINT)
        endpoint_of(m, e, pa.ent_ep, sizeof pa.ent_ep);
    build_reason(m, &pa, k, mi, v, x, n_req, w);
    VgAlert *a = &pa.a;
    a->rule_category = v->down ? "volumetric" : vg_metric_info[mi].category;
    a->ruleset = "models";
    double ratio = x / (v->expected > 1e-9 ? v->expected : 1e-9);
    a->severity = severity_of(v->logp, v->down ? 1.0 / (ratio > 1e-9 ? ratio : 1e-9) : ratio);
    a->start_ms = (int64_t)b * m->conf.bucket_ms;
    a->end_ms = a->start_ms + m->conf.bucket_ms;
    a->entity_type = vg_kind_entity[k];
    a->has_stats = true;
    a->observed = x;
    a->expected = v->expected;
    a->score = v->score;
    a->p_value = v->logp > -690 ? exp(v->logp) : 1e-300; /* "p < 1e-300" in the reason */
    a->model_kind = v->model_kind;
    a->bucket_s = (int)(m->conf.bucket_ms / 1000);
    a->half_life_s =
        (int)((v->population ? m->conf.population_half_life_ms : m->conf.half_life_ms) / 1000);
    if (e->sample) {
        const VgSampleRec *sr = &m->samples[e->sample - 1];
        for (int i = 0; i < sr->n; i++)
            memcpy(pa.samples[i], sr->id[i], sizeof pa.samples[i]);
        a->n_samples = sr->n;
    }
    (void)ks;
    g_strlcpy(pa.category, a->rule_category, sizeof pa.category);
    g_strlcpy(pa.model_kind, a->model_kind, sizeof pa.model_kind);
    a->rule_category = a->ruleset = a->model_kind = NULL; /* no pointer is kept */
    g_array_append_val(m->pending, pa);
    m->stats.alerts++;
}

static int pending_cmp(const void *pa, const void *pb)
{
    const VgPendingAlert *a = pa, *b = pb;
    if (a->bucket != b->bucket)
        return a->bucket < b->bucket ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->metric != b->metric)
        return a->metric < b->metric ? -1 : 1;
    if (a->hash != b->hash)
        return a->hash < b->hash ? -1 : 1;
    return strcmp(a->rule_id, b->rule_id);
}

void vg_models_emit_pending(VgModels *m, uint32_t upto, VgDetectCtx *ctx)
{
    if (!m->pending->len)
        return;
    g_array_sort(m->pending, pending_cmp);
    guint n = 0;
    while (n < m->pending->len && g_array_index(m->pending, VgPendingAlert, n).bucket <= upto)
        n++;
    for (guint i = 0; i < n; i++) {
        VgPendingAlert *pa = &g_array_index(m->pending, VgPendingAlert, i);
        VgAlert a = pa->a;
        a.rule_id = pa->rule_id;
        a.rule_name = pa->rule_name;
        a.reason = pa->text;
        a.rule_category = pa->category;
        a.ruleset = "models";
        a.model_kind = pa->model_kind;
        if (pa->ent_token[0])
            a.token_id = vg_cstr(pa->ent_token);
        if (pa->kind == VG_MK_ENDPOINT)
            a.endpoint = vg_cstr(pa->ent_other);
        if (pa->kind == VG_MK_TOKEN_ENDPOINT)
            a.endpoint = vg_cstr(pa->ent_ep);
        if (pa->kind == VG_MK_CLIENT_IP)
            a.client_ip = vg_cstr(pa->ent_other);
        for (int s = 0; s < a.n_samples; s++)
            a.samples[s] = vg_cstr(pa->samples[s]);
        vg_alert_emit(ctx, &a);
    }
    g_array_remove_range(m->pending, 0, n);
}

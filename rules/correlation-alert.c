/* correlation-alert.c — a correlation match as a VgAlert a person can act on.
 *
 * The alert carries the rule (id, else name, else title), the entity the group-by values
 * identify (client_ip, token, user, endpoint, a combination such as "client_ip_user", or a
 * generic "group"), the window, the statistics (observed: the count, distinct count, sum or
 * average; expected: the threshold) and one sentence, e.g.
 *   "Brute force per client IP: client_ip 203.0.113.9 had 21 matching events in 5m,
 *    threshold > 20".
 * Raw tokens go only into the alert's token field, which the alert stage hashes; the
 * sentence names a token by its token_id.
 */
#include "engine/alert-stage.h"
#include "rules/correlation-set.h"

#include <math.h>

static void append_number(GString *out, double v)
{
    if (v == floor(v) && fabs(v) < 1e15)
        g_string_append_printf(out, "%.0f", v);
    else
        g_string_append_printf(out, "%.2f", v);
}

/* The token id of a token in a correlation's key. */
static void token_id(VgDetectCtx *ctx, VgStr token, char id[17])
{
    if (ctx && ctx->token_key)
        vg_token_hex(vg_token_num(ctx->token_key, token), id);
    else if (ctx && ctx->alerts)
        vg_token_hex(vg_token_num(vg_alert_stage_token_key(ctx->alerts), token), id);
    else
        vg_token_id(NULL, 0, token, id);
}

/* "client_ip 203.0.113.9, user alice"; tokens as their token_id. */
static void append_who(GString *out, const VgCorrFiring *f, VgDetectCtx *ctx)
{
    const VgCorrRule *r = f->r;
    if (r->n_group == 0) {
        g_string_append(out, "all traffic");
        return;
    }
    const char *p = f->key, *end = f->key + f->key_len;
    for (int i = 0; i < r->n_group && p < end; i++) {
        size_t n = strlen(p);
        g_string_append_printf(out, "%s%s ", i ? ", " : "",
                               f->entity_field[i] == VG_F_TOKEN ? "token_id" : r->group_by[i]);
        if (f->entity_field[i] == VG_F_TOKEN) {
            char id[17];
            token_id(ctx, vg_str(p, n), id);
            g_string_append_printf(out, "%s", id);
        } else {
            g_string_append_len(out, p, (gssize)n);
        }
        p += n + 1;
    }
}

static void append_fields(GString *out, const VgCorrRule *r)
{
    for (int i = 0; i < r->n_fields; i++)
        g_string_append_printf(out, "%s%s", i ? "+" : "", r->fields[i]);
}

static double threshold(const VgCorrRule *r)
{
    for (int i = 0; i < r->n_bounds; i++)
        if (r->bounds[i].op == VG_CMP_GT || r->bounds[i].op == VG_CMP_GTE ||
            r->bounds[i].op == VG_CMP_EQ)
            return r->bounds[i].v;
    return r->n_bounds ? r->bounds[0].v : 0;
}

void vg_corr_alert(VgCorrSet *s, const VgCorrFiring *f, VgDetectCtx *ctx)
{
    const VgCorrRule *r = f->r;
    GString *t = s->text;
    g_string_truncate(t, 0);
    g_string_append_printf(t, "%s: ", r->title);
    append_who(t, f, ctx);
    switch (r->type) {
    case VG_CORR_EVENT_COUNT:
        g_string_append(t, " had ");
        append_number(t, f->observed);
        g_string_append_printf(t, " matching events in %s, threshold ", r->timespan_text);
        break;
    case VG_CORR_VALUE_COUNT:
        g_string_append(t, " had ");
        append_number(t, f->observed);
        g_string_append(t, " distinct ");
        append_fields(t, r);
        g_string_append_printf(t, " values in %s, threshold ", r->timespan_text);
        break;
    case VG_CORR_VALUE_SUM:
    case VG_CORR_VALUE_AVG:
        g_string_append_printf(t, ": %s of ", r->type == VG_CORR_VALUE_SUM ? "sum" : "average");
        append_fields(t, r);
        g_string_append(t, " was ");
        append_number(t, f->observed);
        g_string_append_printf(t, " in %s, threshold ", r->timespan_text);
        break;
    case VG_CORR_TEMPORAL:
    case VG_CORR_TEMPORAL_ORDERED: {
        bool ordered = r->type == VG_CORR_TEMPORAL_ORDERED;
        g_string_append(t, " matched ");
        int shown = 0;
        for (int i = 0; i < r->n_refs; i++) {
            if (!f->matched || f->matched[i] == INT64_MIN)
                continue;
            if (ordered && shown >= (int)f->observed)
                break;
            g_string_append_printf(t, "%s%s", shown ? (ordered ? " then " : ", ") : "", r->refs[i]);
            shown++;
        }
        g_string_append_printf(t, " (%d of %d rules%s) within %s, threshold ", shown, r->n_refs,
                               ordered ? " in order" : "", r->timespan_text);
        break;
    }
    }
    vg_corr_cond_format(r, t);

    char model[64];
    g_snprintf(model, sizeof model, "sigma_correlation:%s", vg_corr_type_name(r->type));
    VgAlert a = {
        .rule_id = vg_corr_rule_id(r),
        .rule_name = r->title,
        .rule_category = "correlation",
        .ruleset = r->ruleset,
        .severity = r->level >= 0 ? (VgSeverity)r->level : VG_SEV_MEDIUM,
        .start_ms = f->start_ms,
        .end_ms = f->end_ms,
        .entity_type = f->entity_type,
        .has_stats = true,
        .observed = f->observed,
        .expected = threshold(r),
        .model_kind = model,
        .bucket_s = (int)(r->timespan_ms / 1000),
        .reason = t->str,
    };
    const char *p = f->key, *end = f->key + f->key_len;
    for (int i = 0; i < r->n_group && p < end; i++) {
        VgStr v = vg_str(p, strlen(p));
        switch (f->entity_field[i]) {
        case VG_F_CLIENT_IP:
            a.client_ip = v;
            break;
        case VG_F_TOKEN:
            a.token = v;
            break;
        case VG_F_USER:
            a.user = v;
            break;
        case VG_F_ENDPOINT:
            a.endpoint = v;
            break;
        default: /* a field with no entity slot: it identifies the group */
            if (!s->group)
                s->group = g_string_new(NULL);
            if (!a.group.p)
                g_string_truncate(s->group, 0);
            g_string_append_printf(s->group, "%s%s=%.*s", s->group->len ? ", " : "", r->group_by[i],
                                   (int)v.len, v.p);
            a.group = vg_str(s->group->str, s->group->len);
            break;
        }
        p += v.len + 1;
    }
    if (f->ev) {
        a.method = vg_event_str(f->ev, VG_F_METHOD);
        a.path = vg_event_str(f->ev, VG_F_PATH);
        a.host = vg_event_str(f->ev, VG_F_HOST);
        VgStr rid = vg_event_str(f->ev, VG_F_REQUEST_ID);
        if (vg_str_present(rid) && rid.len) {
            a.samples[0] = rid;
            a.n_samples = 1;
        }
    }
    s->stats.alerts++;
    if (s->emit)
        s->emit(s->emit_user, ctx, &a);
    else
        vg_alert_emit(ctx, &a);
}

/* cli-explain.c — `vigil explain`: how vigil reads and judges each line, as JSON lines.
 *
 * It runs the very pipeline `replay` runs — same decoder, detectors and alert stage — with
 * two observers attached: a VgTrace that collects what each detector concluded about the
 * current event (rule matches with their selections, model observations, alerts raised),
 * and a line observer that prints one object per input line once the line has been judged.
 * Alerts raised when the input ends (windows that close then) come in a last object
 * {"end": true, "alerts": [...]}. The alerts themselves are not delivered anywhere.
 */
#include "engine/cli.h"

#include "engine/event-json.h"
#include "engine/json-write.h"

#include <stdio.h>

typedef struct {
    GString *rules, *models, *alerts; /* JSON array bodies for the current line */
    uint32_t fields;
    gboolean only_matches, pretty;
    int n_rules, n_models_hot, n_alerts;
    const VgHmacKey *token_key;
    GString *line;
} Explain;

static void on_rule(void *u, const char *id, const char *title, const char *const *sel, int n)
{
    Explain *x = u;
    GString *o = x->rules;
    g_string_append(o, o->len ? ",{\"id\":" : "{\"id\":");
    vg_json_cstr(o, id);
    g_string_append(o, ",\"title\":");
    vg_json_cstr(o, title);
    g_string_append(o, ",\"selections\":[");
    for (int i = 0; i < n; i++) {
        if (i)
            g_string_append_c(o, ',');
        vg_json_cstr(o, sel[i]);
    }
    g_string_append(o, "]}");
    x->n_rules++;
}

static void on_model(void *u, const char *model, const char *key, int64_t bucket, double observed,
                     double expected, double score)
{
    Explain *x = u;
    GString *o = x->models;
    char ts[25];
    g_string_append(o, o->len ? ",{\"model\":" : "{\"model\":");
    vg_json_cstr(o, model);
    g_string_append(o, ",\"key\":");
    vg_json_cstr(o, key);
    g_string_append_printf(o, ",\"bucket\":\"%s\",\"observed\":", vg_time_format(bucket, ts));
    vg_json_num(o, observed);
    g_string_append(o, ",\"expected\":");
    vg_json_num(o, expected);
    g_string_append(o, ",\"score\":");
    vg_json_num(o, score);
    g_string_append_c(o, '}');
}

static void on_alert(void *u, const char *id)
{
    Explain *x = u;
    g_string_append_printf(x->alerts, "%s\"%s\"", x->alerts->len ? "," : "", id);
    x->n_alerts++;
}

/* Re-indents compact JSON for a terminal. */
static void pretty(const GString *in, GString *out)
{
    int depth = 0;
    bool in_str = false;
    for (gsize i = 0; i < in->len; i++) {
        char c = in->str[i];
        if (in_str) {
            g_string_append_c(out, c);
            if (c == '\\' && i + 1 < in->len)
                g_string_append_c(out, in->str[++i]);
            else if (c == '"')
                in_str = false;
            continue;
        }
        switch (c) {
        case '"':
            in_str = true;
            g_string_append_c(out, c);
            break;
        case '{':
        case '[':
            if (i + 1 < in->len && (in->str[i + 1] == '}' || in->str[i + 1] == ']')) {
                g_string_append_c(out, c);
                g_string_append_c(out, in->str[++i]);
                break;
            }
            g_string_append_c(out, c);
            g_string_append_printf(out, "\n%*s", 2 * ++depth, "");
            break;
        case '}':
        case ']':
            g_string_append_printf(out, "\n%*s%c", 2 * --depth, "", c);
            break;
        case ',':
            g_string_append_printf(out, ",\n%*s", 2 * depth, "");
            break;
        case ':':
            g_string_append(out, ": ");
            break;
        default:
            g_string_append_c(out, c);
        }
    }
}

static void emit(Explain *x, GString *obj)
{
    if (x->pretty) {
        GString *p = g_string_new(NULL);
        pretty(obj, p);
        fwrite(p->str, 1, p->len, stdout);
        g_string_free(p, TRUE);
    } else {
        fwrite(obj->str, 1, obj->len, stdout);
    }
    fputc('\n', stdout);
}

static void reset(Explain *x)
{
    g_string_truncate(x->rules, 0);
    g_string_truncate(x->models, 0);
    g_string_truncate(x->alerts, 0);
    x->n_rules = x->n_models_hot = x->n_alerts = 0;
}

static void on_line(void *u, const VgLineBatch *b, const VgLineRef *l, const VgEvent *ev,
                    VgBadReason reason)
{
    Explain *x = u;
    GString *o = x->line;
    g_string_truncate(o, 0);
    bool show = !x->only_matches || x->n_rules || x->n_alerts;
    if (show) {
        g_string_append_printf(o, "{\"line\":%" G_GUINT64_FORMAT ",\"source\":", l->line_no);
        vg_json_cstr(o, b->source);
        if (!ev) {
            g_string_append_printf(o, ",\"bad\":\"%s\"", vg_bad_reason_name(reason));
        } else {
            g_string_append(o, ",\"event\":");
            vg_event_to_json(ev, x->fields, x->token_key, o);
            g_string_append_printf(o, ",\"rules\":[%s],\"models\":[%s]", x->rules->str,
                                   x->models->str);
        }
        g_string_append_printf(o, ",\"alerts\":[%s]}", x->alerts->str);
        if (ev || !x->only_matches)
            emit(x, o);
    }
    reset(x);
}

static int discard(void *u, const VgAlertRecord *r)
{
    (void)u;
    (void)r;
    return VG_OK;
}

int vg_cmd_explain(int argc, char **argv)
{
    VgCliCommon c = {0};
    Explain x = {0};
    char *fields = NULL;
    GOptionContext *ctx = g_option_context_new("FILE…|-");
    g_option_context_set_summary(
        ctx, "Print, for every input line, one JSON object: the event vigil decoded from it\n"
             "(canonical fields, token as token_id), the rules that matched with their\n"
             "selections, what the models observed, and the alerts raised. A line that cannot\n"
             "be decoded gives {\"line\":N,\"source\":…,\"bad\":\"reason\"}.");
    vg_cli_add_common(ctx, &c);
    GOptionEntry entries[] = {
        {"fields", 0, 0, G_OPTION_ARG_STRING, &fields, "Only these event fields (a,b,c)", "LIST"},
        {"only-matches", 0, 0, G_OPTION_ARG_NONE, &x.only_matches,
         "Only lines that matched a rule or raised an alert", NULL},
        {"pretty", 0, 0, G_OPTION_ARG_NONE, &x.pretty, "Indented output for a terminal", NULL},
        {NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *err = NULL;
    int rc = VG_EXIT_USAGE;
    VgSettings *s = NULL;
    VgPipeline *p = NULL;
    x.fields = ~0u;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        rc = vg_cli_usage_error(ctx, "%s", err->message);
        goto out;
    }
    if (fields && !vg_field_mask_parse(fields, &x.fields, &err)) {
        rc = vg_cli_usage_error(ctx, "%s", err->message);
        goto out;
    }
    if (argc < 2) {
        rc = vg_cli_usage_error(ctx, "explain needs at least one file (or - for stdin)");
        goto out;
    }
    if (!(s = vg_cli_settings(&c)))
        goto out;
    x.rules = g_string_new(NULL);
    x.models = g_string_new(NULL);
    x.alerts = g_string_new(NULL);
    x.line = g_string_new(NULL);
    VgTrace trace = {.user = &x, .rule_match = on_rule, .model_obs = on_model, .alert = on_alert};
    VgLineObserver obs = {.user = &x, .line_done = on_line};
    p = vg_pipeline_new(s, (VgAlertOutput){.push = discard}, &trace, &obs, &err);
    if (!p) {
        fprintf(stderr, "vigil: %s\n", err->message);
        goto out;
    }
    x.token_key = vg_alert_stage_token_key(vg_pipeline_alerts(p));
    int r = vg_cli_feed_files(p, argv + 1, s, true, NULL, &err);
    vg_pipeline_finish(p);
    if (x.alerts->len) {
        g_string_truncate(x.line, 0);
        g_string_append_printf(x.line, "{\"end\":true,\"alerts\":[%s]}", x.alerts->str);
        emit(&x, x.line);
    }
    fflush(stdout);
    rc = r == VG_OK ? VG_EXIT_OK : VG_EXIT_FAIL;
out:
    g_clear_error(&err);
    vg_pipeline_free(p);
    vg_settings_free(s);
    g_option_context_free(ctx);
    if (x.rules) {
        g_string_free(x.rules, TRUE);
        g_string_free(x.models, TRUE);
        g_string_free(x.alerts, TRUE);
        g_string_free(x.line, TRUE);
    }
    g_free(fields);
    g_free(c.config);
    g_free(c.format);
    g_strfreev(c.rules);
    return rc;
}

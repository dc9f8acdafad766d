/* cli-config.c — `vigil config --dump` and `vigil config --defaults`.
 *
 * Both come from the option tables, never from a second description of the options:
 *   --dump      the effective configuration (the file, or the built-in defaults, with
 *               every default filled in, environment overrides applied and secrets
 *               masked), as YAML that is itself a valid vigil.yml;
 *   --defaults  every option at its default with its help text as a comment: this is
 *               what generates packaging/vigil.yml.
 *
 * The engine's sections come from settings.h. A module's section comes from the table it
 * registered (vg_register_conf_section, registry.h), or its own dump callback when a flat
 * table cannot show it. `sinks:` is a list whose items take the options of their sink
 * type (VgSinkOps.options). A section whose module registered nothing is shown as the
 * file gave it, with every value under a key that looks secret (password, secret, token,
 * credential, *key) masked: a dump is pasted into tickets, a secret must not be.
 */
#include "engine/cli.h"

#include "collectors/collector-kafka.h"
#include "engine/checkpoint.h"
#include "engine/metrics.h"
#include "engine/registry.h"
#include "engine/sinks/delivery.h"

#include <math.h>
#include <stdio.h>

#define MASK "\"********\""
#define WRAP 88

/* ---- sections whose modules publish a table but do not register it (yet) ------------- */

static bool kafka_dump(const VgConfNode *section, GString *out, int indent, GError **err)
{
    VgKafkaConf k = {0};
    bool ok = vg_kafka_conf_load(&k, section, err) == VG_OK;
    if (ok)
        vg_kafka_conf_dump(&k, out, indent); /* masks secret-looking properties */
    vg_kafka_conf_clear(&k);
    return ok;
}

static bool metrics_dump(const VgConfNode *section, GString *out, int indent, GError **err)
{
    VgMetricsConf m = {0};
    bool ok = vg_metrics_conf_load(&m, section, err) == VG_OK; /* checks listen too */
    if (ok)
        vg_conf_dump(vg_metrics_options, &m, out, indent);
    vg_metrics_conf_clear(&m);
    return ok;
}

static bool checkpoint_dump(const VgConfNode *section, GString *out, int indent, GError **err)
{
    VgCheckpointConf cc = {0};
    bool ok = vg_checkpoint_conf_load(&cc, section, err) == VG_OK; /* path xor redis too */
    if (ok)
        vg_conf_dump(vg_checkpoint_options, &cc, out, indent);
    vg_checkpoint_conf_clear(&cc);
    return ok;
}

static const VgConfSection fallback_sections[] = {
    {.name = "spool",
     .help = "The on-disk spool of each sink: alerts a failing sink could not take wait "
             "there, in order, and go out first when it is back.",
     .options = vg_delivery_spool_options},
    {.name = "kafka",
     .help = "Read the access logs from Kafka topics as a consumer group (vigil run); "
             "offsets are committed only behind delivered alerts.",
     .options = vg_kafka_options,
     .flags = VG_CS_OPTIONAL,
     .dump = kafka_dump},
    {.name = "metrics",
     .help = "The HTTP endpoint for Prometheus (/metrics) and for health probes (/healthz, "
             "/readyz).",
     .options = vg_metrics_options,
     .dump = metrics_dump},
    {.name = "checkpoint",
     .help = "Checkpoints of vigil run on Kafka: model and correlation state with the offsets "
             "it corresponds to, so a restart keeps baselines and skips no event.",
     .options = vg_checkpoint_options,
     .dump = checkpoint_dump},
};

/* A module's own registration (in its vg_*_register) wins: the first one does. */
static void register_fallbacks(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(fallback_sections); i++)
        vg_register_conf_section(&fallback_sections[i]);
}

/* ---- YAML output ------------------------------------------------------------------------ */

static void emit_scalar(GString *out, const char *s)
{
    bool plain = *s && !strpbrk(s, ":#{}[],&*!|>'\"%@`\n\\\t") && s[0] != ' ' && s[0] != '-' &&
                 s[0] != '?' && s[strlen(s) - 1] != ' ';
    if (plain) {
        g_string_append(out, s);
        return;
    }
    g_string_append_c(out, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            g_string_append_c(out, '\\');
        if (*s == '\n')
            g_string_append(out, "\\n");
        else if (*s == '\t')
            g_string_append(out, "\\t");
        else
            g_string_append_c(out, *s);
    }
    g_string_append_c(out, '"');
}

/* A key that names a secret: password, secret, token, credential anywhere; a word (split
 * at _ . -) that is or ends in "key" (token_key, api-key, ssl.key.pem), but not "keys". */
static bool secret_key(const char *k)
{
    char *l = g_ascii_strdown(k, -1);
    static const char *const sub[] = {"password", "passwd", "secret", "token", "credential"};
    bool s = false;
    for (size_t i = 0; i < G_N_ELEMENTS(sub) && !s; i++)
        s = strstr(l, sub[i]) != NULL;
    char **w = g_strsplit_set(l, "_.-", -1);
    for (char **p = w; *p && !s; p++)
        s = g_str_has_suffix(*p, "key");
    g_strfreev(w);
    g_free(l);
    return s;
}

/* Writes n after "key:" (or "-"): " value\n" or a nested block at indent. A scalar under
 * a secret key is masked, and so is every item of a list under one. A map under a secret
 * key is judged key by key instead: modules name maps after entity kinds ("token:"), and
 * masking those would hide the whole section for nothing. */
static void emit_node(GString *out, const VgConfNode *n, int indent, bool secret)
{
    if (!n || (n->kind == VG_NODE_SCALAR && vg_conf_is_null(n))) {
        g_string_append(out, " null\n");
        return;
    }
    if (n->kind == VG_NODE_SCALAR) {
        g_string_append_c(out, ' ');
        if (secret)
            g_string_append(out, MASK);
        else
            emit_scalar(out, n->value);
        g_string_append_c(out, '\n');
        return;
    }
    if (!n->items->len) {
        g_string_append(out, n->kind == VG_NODE_MAP ? " {}\n" : " []\n");
        return;
    }
    g_string_append_c(out, '\n');
    for (guint i = 0; i < n->items->len; i++) {
        g_string_append_printf(out, "%*s", indent, "");
        bool s = secret;
        if (n->kind == VG_NODE_MAP) {
            const char *k = ((VgConfNode *)n->keys->pdata[i])->value;
            emit_scalar(out, k);
            g_string_append_c(out, ':');
            s = secret_key(k);
        } else {
            g_string_append_c(out, '-');
        }
        emit_node(out, n->items->pdata[i], indent + 2, s);
    }
}

/* "# text" lines at indent, wrapped at WRAP columns (less what a commented-out block
 * adds in front). */
static int wrap_less;
static void emit_comment(GString *out, int indent, const char *text)
{
    char **words = g_strsplit(text, " ", -1);
    GString *line = g_string_new(NULL);
    for (char **w = words; *w; w++) {
        if (!**w)
            continue;
        if (line->len && indent + 2 + (int)line->len + 1 + (int)strlen(*w) > WRAP - wrap_less) {
            g_string_append_printf(out, "%*s# %s\n", indent, "", line->str);
            g_string_truncate(line, 0);
        }
        if (line->len)
            g_string_append_c(line, ' ');
        g_string_append(line, *w);
    }
    if (line->len)
        g_string_append_printf(out, "%*s# %s\n", indent, "", line->str);
    g_string_free(line, TRUE);
    g_strfreev(words);
}

/* ---- applying a table to a scratch struct ----------------------------------------------- */

static size_t type_size(VgConfType t)
{
    switch (t) {
    case VG_CT_BOOL:
        return sizeof(bool);
    case VG_CT_INT:
    case VG_CT_DURATION:
    case VG_CT_SIZE:
        return sizeof(int64_t);
    case VG_CT_DOUBLE:
        return sizeof(double);
    default:
        return sizeof(void *);
    }
}

/* Applies opts to a zeroed struct and appends vg_conf_dump() of it. False and err when
 * the section is invalid. Only the fields the table names are touched, so the struct's
 * size is derived from the table when the module did not give it. */
static bool dump_table(const VgConfOption *opts, size_t size, const VgConfNode *sec, GString *out,
                       int indent, GError **err)
{
    size_t need = 0;
    for (const VgConfOption *o = opts; o->key; o++)
        need = MAX(need, o->offset + type_size(o->type));
    size = MAX(size, need);
    void *base = g_malloc0(size + sizeof(void *));
    bool ok = vg_conf_apply(opts, base, sec, err) == VG_OK;
    if (ok)
        vg_conf_dump(opts, base, out, indent);
    vg_conf_clear(opts, base);
    g_free(base);
    return ok;
}

/* ---- --dump ----------------------------------------------------------------------------- */

static bool is_item_key(const char *k)
{
    return !strcmp(k, "type") || !strcmp(k, "name") || !strcmp(k, "spool");
}

/* sinks: a list of maps, each with the delivery's keys (type, name, spool) and the
 * options of its sink type. */
static bool dump_sinks(const VgConfNode *sec, GString *out, GError **err)
{
    g_string_append(out, "sinks:");
    if (!sec || vg_conf_is_null(sec)) {
        g_string_append(out, "\n  - type: stdout\n");
        return true;
    }
    if (sec->kind != VG_NODE_SEQ) {
        vg_conf_error(err, sec, "sinks: expected a list of sinks");
        return false;
    }
    g_string_append(out, sec->items->len ? "\n" : " []\n");
    for (guint i = 0; i < sec->items->len; i++) {
        const VgConfNode *it = sec->items->pdata[i];
        const VgConfNode *t = vg_conf_get(it, "type");
        const VgSinkOps *ops = t && t->kind == VG_NODE_SCALAR ? vg_find_sink(t->value) : NULL;
        if (!ops) {
            vg_conf_error(err, t ? t : it, "sinks: each sink needs a type: of a known sink");
            return false;
        }
        g_string_append_printf(out, "  - type: %s\n", ops->name);
        /* the delivery's keys as given, then the sink's options through its table */
        VgConfNode rest = {.kind = VG_NODE_MAP,
                           .file = it->file,
                           .line = it->line,
                           .col = it->col,
                           .keys = g_ptr_array_new(),
                           .items = g_ptr_array_new()};
        for (guint j = 0; j < it->keys->len; j++) {
            const VgConfNode *k = it->keys->pdata[j];
            if (!strcmp(k->value, "type"))
                continue;
            if (is_item_key(k->value)) {
                g_string_append_printf(out, "    %s:", k->value);
                emit_node(out, it->items->pdata[j], 6, false);
            } else {
                g_ptr_array_add(rest.keys, it->keys->pdata[j]);
                g_ptr_array_add(rest.items, it->items->pdata[j]);
            }
        }
        bool ok = true;
        if (ops->options)
            ok = dump_table(ops->options, 0, &rest, out, 4, err);
        else
            for (guint j = 0; j < rest.keys->len; j++) {
                const char *k = ((VgConfNode *)rest.keys->pdata[j])->value;
                g_string_append_printf(out, "    %s:", k);
                emit_node(out, rest.items->pdata[j], 6, secret_key(k));
            }
        g_ptr_array_free(rest.keys, TRUE);
        g_ptr_array_free(rest.items, TRUE);
        if (!ok)
            return false;
    }
    return true;
}

/* One module section. False and err when the module says it is invalid. */
static bool dump_section(const char *name, const VgConfNode *node, GString *out, GError **err)
{
    const VgConfSection *sec = vg_find_conf_section(name);
    if (!strcmp(name, "sinks") && !sec)
        return dump_sinks(node, out, err);
    if (sec && (sec->flags & VG_CS_OPTIONAL) && !node) {
        g_string_append_printf(out, "# %s: not configured\n", name);
        return true;
    }
    if (sec && (sec->dump || sec->options)) {
        GString *body = g_string_new(NULL);
        bool ok = sec->dump ? sec->dump(node, body, 2, err)
                            : dump_table(sec->options, sec->struct_size, node, body, 2, err);
        if (ok)
            g_string_append_printf(out, "%s:%s%s", name, body->len ? "\n" : " {}\n", body->str);
        g_string_free(body, TRUE);
        return ok;
    }
    if (!node) {
        g_string_append_printf(out,
                               "# %s: built-in defaults (the module publishes no option "
                               "table to show them)\n",
                               name);
        return true;
    }
    g_string_append_printf(out,
                           "# %s: as given (the module publishes no option table; "
                           "secret-looking values masked)\n%s:",
                           name, name);
    emit_node(out, node, 2, secret_key(name));
    return true;
}

static void add_name(GPtrArray *names, const char *n)
{
    for (guint i = 0; i < names->len; i++)
        if (!strcmp(names->pdata[i], n))
            return;
    g_ptr_array_add(names, (gpointer)n);
}

/* Module sections in a stable order: sinks, the registered ones, the detectors', then
 * whatever else the file has. */
static GPtrArray *module_sections(const VgSettings *s)
{
    static const char *const engine[] = {"input", "engine", "alerts", "privacy", "log"};
    GPtrArray *names = g_ptr_array_new();
    for (size_t i = 0; i < G_N_ELEMENTS(engine); i++)
        g_ptr_array_add(names, (gpointer)engine[i]);
    add_name(names, "sinks");
    for (const VgConfSection *const *c = vg_conf_sections(); *c; c++)
        add_name(names, (*c)->name);
    for (const VgDetectorOps *const *d = vg_detectors(); *d; d++)
        add_name(names, (*d)->name);
    for (guint i = 0; s->root && i < s->root->keys->len; i++)
        add_name(names, ((VgConfNode *)s->root->keys->pdata[i])->value);
    g_ptr_array_remove_range(names, 0, G_N_ELEMENTS(engine));
    return names;
}

bool vg_cli_sections_valid(const VgSettings *s, const char *said)
{
    register_fallbacks();
    GPtrArray *names = module_sections(s);
    GString *scratch = g_string_new(NULL);
    bool ok = true;
    for (guint i = 0; i < names->len; i++) {
        GError *err = NULL;
        g_string_truncate(scratch, 0);
        if (!dump_section(names->pdata[i], vg_conf_get(s->root, names->pdata[i]), scratch, &err)) {
            if (!said || strcmp(said, err->message))
                fprintf(stderr, "%s\n", err->message);
            g_error_free(err);
            ok = false;
        }
    }
    g_string_free(scratch, TRUE);
    g_ptr_array_free(names, TRUE);
    return ok;
}

static int dump(const VgCliCommon *c)
{
    VgSettings *s = vg_cli_settings(c);
    if (!s)
        return VG_EXIT_USAGE;
    GString *out = g_string_new(NULL);
    g_string_append_printf(out,
                           "# vigil %s: effective configuration of %s\n"
                           "# (defaults filled in, environment overrides applied, secrets "
                           "masked)\n",
                           VIGIL_VERSION, s->path ? s->path : "the built-in defaults");
    vg_settings_dump(s, out);
    GPtrArray *names = module_sections(s);
    GError *err = NULL;
    bool ok = true;
    for (guint i = 0; i < names->len && ok; i++)
        ok = dump_section(names->pdata[i], vg_conf_get(s->root, names->pdata[i]), out, &err);
    if (ok)
        fwrite(out->str, 1, out->len, stdout);
    else
        fprintf(stderr, "vigil: %s\n", err->message);
    g_clear_error(&err);
    g_ptr_array_free(names, TRUE);
    g_string_free(out, TRUE);
    vg_settings_free(s);
    return ok ? VG_EXIT_OK : VG_EXIT_USAGE;
}

/* ---- --defaults ------------------------------------------------------------------------- */

/* A bound as people write it: 16777216, 1e+15 only when it is that large. */
static const char *fmt_num(char buf[32], double v)
{
    if (v == floor(v) && fabs(v) < 1e12)
        g_snprintf(buf, 32, "%.0f", v);
    else
        g_ascii_formatd(buf, 32, "%g", v);
    return buf;
}

/* Appends block with every line commented out ("# " before it): uncommenting is removing
 * the first two characters of each line. */
static void append_commented(GString *out, const GString *block)
{
    char **lines = g_strsplit(block->str, "\n", -1);
    for (char **l = lines; *l && (**l || l[1]); l++)
        g_string_append_printf(out, "#%s%s\n", **l ? " " : "", *l);
    g_strfreev(lines);
}

/* One option: its help (with choices, range, environment variable, reload) as comments,
 * then "key: default". A required option without default is left empty, and commented
 * out unless its section is (then uncommenting it prompts for the value). */
static void annotate_option(GString *out, const VgConfOption *o, int indent, bool in_optional)
{
    GString *h = g_string_new(o->help ? o->help : "");
    if (h->len && h->str[h->len - 1] != '.')
        g_string_append_c(h, '.');
    if (o->choices) {
        char **c = g_strsplit(o->choices, "|", -1);
        char *j = g_strjoinv(", ", c);
        g_string_append_printf(h, " One of: %s.", j);
        g_free(j);
        g_strfreev(c);
    }
    if (o->min != o->max) {
        const char *unit = o->type == VG_CT_DURATION ? " s" : o->type == VG_CT_SIZE ? " bytes" : "";
        char lo[32], hi[32];
        g_string_append_printf(h, " Range: %s to %s%s.", fmt_num(lo, o->min), fmt_num(hi, o->max),
                               unit);
    }
    if (o->env)
        g_string_append_printf(h, " Environment: %s overrides it.", o->env);
    if (o->flags & VG_CO_RELOAD)
        g_string_append(h, " Reloaded on SIGHUP.");
    if (o->flags & VG_CO_REQUIRED)
        g_string_append(h, " Required.");
    emit_comment(out, indent, h->str);
    g_string_free(h, TRUE);
    bool placeholder = (o->flags & VG_CO_REQUIRED) && !o->def;
    g_string_append_printf(out, "%*s%s%s:", indent, "", placeholder && !in_optional ? "# " : "",
                           o->key);
    if (o->def) {
        g_string_append_c(out, ' ');
        emit_scalar(out, o->def);
        g_string_append_c(out, '\n');
    } else {
        g_string_append(out, placeholder ? "\n" : " null\n");
    }
}

static void annotate_table(GString *out, const char *name, const char *help,
                           const VgConfOption *opts, bool optional)
{
    g_string_append_c(out, '\n');
    if (help)
        emit_comment(out, 0, help);
    GString *b = g_string_new(NULL);
    wrap_less = optional ? 2 : 0;
    if (!opts || !opts->key) {
        g_string_append_printf(b, "%s: {}\n", name);
    } else {
        g_string_append_printf(b, "%s:\n", name);
        for (const VgConfOption *o = opts; o->key; o++)
            annotate_option(b, o, 2, optional);
    }
    wrap_less = 0;
    if (optional)
        append_commented(out, b);
    else
        g_string_append_len(out, b->str, (gssize)b->len);
    g_string_free(b, TRUE);
}

static void annotate_sinks(GString *out)
{
    g_string_append_c(out, '\n');
    emit_comment(out, 0,
                 "Where alerts go: a list of sinks, each delivered in order with retry. "
                 "Every item has type: (the sink), an optional name: (unique; it names the "
                 "spool directory and the metrics; default: the type) and an optional "
                 "spool: false (a failing sink then holds the pipeline back instead of "
                 "spooling; the default for stdout). The options of each type follow, "
                 "commented out.");
    g_string_append(out, "sinks:\n  - type: stdout\n");
    for (const VgSinkOps *const *k = vg_sinks(); *k; k++) {
        if (!(*k)->options || !(*k)->options->key)
            continue;
        GString *b = g_string_new(NULL);
        g_string_append_printf(b, "  - type: %s\n", (*k)->name);
        wrap_less = 2;
        for (const VgConfOption *o = (*k)->options; o->key; o++)
            annotate_option(b, o, 4, true);
        wrap_less = 0;
        append_commented(out, b);
        g_string_free(b, TRUE);
    }
}

static int defaults(void)
{
    static const struct {
        const char *name, *help;
        const VgConfOption *opts;
    } engine[] = {
        {"input", "How input lines are read and decoded.", vg_input_options},
        {"engine", "The pipeline: batching, event time.", vg_engine_options},
        {"alerts", "Deduplication of alerts into incidents.", vg_alert_options},
        {"privacy", "What never leaves the engine: raw tokens, personal data in URLs.",
         vg_privacy_options},
    };
    GString *out = g_string_new(NULL);
    emit_comment(out, 0,
                 "vigil.yml: every option at its default, with what it does. Generated by "
                 "`vigil config --defaults` from the option tables: edit a copy, or keep "
                 "only the options you change (an absent option takes its default).");
    emit_comment(out, 0,
                 "Durations: 250ms, 60s, 5m, 1h, 1d (a bare number is seconds). Sizes: "
                 "4096, 64KiB, 512MB, 2GiB. Unknown keys and out-of-range values are errors "
                 "with file and line; `vigil check -c FILE` validates a file, `vigil config "
                 "--dump -c FILE` shows what it amounts to.");
    for (size_t i = 0; i < G_N_ELEMENTS(engine); i++)
        annotate_table(out, engine[i].name, engine[i].help, engine[i].opts, false);
    if (!vg_find_conf_section("sinks"))
        annotate_sinks(out);
    VgSettings none = {0};
    GPtrArray *names = module_sections(&none);
    for (guint i = 0; i < names->len; i++) {
        const char *name = names->pdata[i];
        const VgConfSection *sec = vg_find_conf_section(name);
        if (!sec) {
            if (strcmp(name, "sinks") != 0) {
                g_string_append_c(out, '\n');
                g_string_append_printf(out,
                                       "# %s: the module's own section, with built-in "
                                       "defaults (see its documentation).\n",
                                       name);
            }
            continue;
        }
        bool optional = sec->flags & VG_CS_OPTIONAL;
        GString *help = g_string_new(sec->help);
        if (optional)
            g_string_append(help, " Absent by default: uncomment to switch it on.");
        GString *body = g_string_new(NULL);
        if (!sec->options && sec->dump && sec->dump(NULL, body, 2, NULL)) {
            /* no table to annotate: the module's own rendering of its defaults */
            g_string_append_c(out, '\n');
            emit_comment(out, 0, help->str);
            g_string_prepend(body, ":\n");
            g_string_prepend(body, name);
            if (optional)
                append_commented(out, body);
            else
                g_string_append_len(out, body->str, (gssize)body->len);
        } else {
            annotate_table(out, name, help->str, sec->options, optional);
        }
        g_string_free(body, TRUE);
        g_string_free(help, TRUE);
    }
    g_ptr_array_free(names, TRUE);
    fwrite(out->str, 1, out->len, stdout);
    g_string_free(out, TRUE);
    return VG_EXIT_OK;
}

int vg_cmd_config(int argc, char **argv)
{
    VgCliCommon c = {0};
    gboolean do_dump = FALSE, do_defaults = FALSE;
    GOptionEntry entries[] = {
        {"dump", 0, 0, G_OPTION_ARG_NONE, &do_dump,
         "Print the effective configuration (defaults filled in, secrets masked)", NULL},
        {"defaults", 0, 0, G_OPTION_ARG_NONE, &do_defaults,
         "Print every option at its default, annotated (the example vigil.yml)", NULL},
        {NULL},
    };
    GOptionContext *ctx = g_option_context_new(NULL);
    g_option_context_set_summary(
        ctx, "Show the configuration. --dump prints what -c FILE (or no file) amounts to, as\n"
             "YAML, with secrets masked; --defaults prints the annotated default file.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    vg_cli_add_common(ctx, &c);
    GError *err = NULL;
    int rc;
    register_fallbacks();
    if (!g_option_context_parse(ctx, &argc, &argv, &err))
        rc = vg_cli_usage_error(ctx, "%s", err->message);
    else if (argc > 1)
        rc = vg_cli_usage_error(ctx, "config takes no arguments");
    else if (do_dump == do_defaults)
        rc = vg_cli_usage_error(ctx, "say --dump or --defaults");
    else
        rc = do_dump ? dump(&c) : defaults();
    g_clear_error(&err);
    g_option_context_free(ctx);
    g_free(c.config);
    g_free(c.format);
    g_strfreev(c.rules);
    return rc;
}

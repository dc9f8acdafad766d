/* settings.c — the engine's sections of vigil.yml and the list of known sections. */
#include "engine/settings.h"

#include "engine/registry.h"

#include <stddef.h>

#define OPT(st, f) offsetof(st, f)

const VgConfOption vg_input_options[] = {
    {"format", VG_CT_STRING, OPT(VgInputSettings, format), "vigil", 0, 0, NULL, 0, NULL,
     "Log format preset (vigil, nginx-combined, apache-combined, envoy, kong, aws-apigw, "
     "traefik, ecs) or auto (JSON or combined, per line)."},
    {"fields", VG_CT_NODE, OPT(VgInputSettings, fields), NULL, 0, 0, NULL, 0, NULL,
     "Field mapping on top of a JSON preset: {canonical_field: dotted.source.path}."},
    {"max_line_bytes", VG_CT_SIZE, OPT(VgInputSettings, max_line_bytes), "64KiB", 256, 16777216,
     NULL, 0, NULL, "Longer lines are counted as bad (too_long) and skipped."},
    {"dead_letter", VG_CT_STRING, OPT(VgInputSettings, dead_letter), NULL, 0, 0, NULL, 0, NULL,
     "File to which bad lines are appended with their source, line number and reason."},
    {"follow", VG_CT_BOOL, OPT(VgInputSettings, follow), "true", 0, 0, NULL, 0, NULL,
     "In run mode, follow the input files as they grow and across rotation (tail -F)."},
    {"files", VG_CT_STRLIST, OPT(VgInputSettings, files), NULL, 0, 0, NULL, 0, NULL,
     "In run mode, the files to read (plain or gzip); none means standard input."},
    {0},
};

const VgConfOption vg_engine_options[] = {
    {"batch_lines", VG_CT_INT, OPT(VgEngineSettings, batch_lines), "1024", 1, 65536, NULL, 0, NULL,
     "Lines per batch handed between stages."},
    {"allowed_lateness", VG_CT_DURATION, OPT(VgEngineSettings, allowed_lateness_ms), "5s", 0, 86400,
     NULL, 0, NULL,
     "How far behind the newest event time an event may arrive and still count in windows "
     "and baselines; the watermark is the newest event time less this."},
    {"workers", VG_CT_INT, OPT(VgEngineSettings, workers), "1", 1, 256, NULL, 0, NULL,
     "Worker threads. `vigil replay`: the workers read the files, decoding and rule matching "
     "are split by batch, model keys by hash over every worker but the first (which keeps the "
     "rules), with the alerts of one thread. `vigil run` on Kafka: partitions judged apart, "
     "each on one worker, with state per partition (checkpoint.redis to keep it)."},
    {0},
};

const VgConfOption vg_alert_options[] = {
    {"cooldown", VG_CT_DURATION, OPT(VgAlertSettings, cooldown_ms), "10m", 0, 604800, NULL,
     VG_CO_RELOAD, NULL,
     "One alert per (rule, entity) per cooldown; while an incident goes on, one update with "
     "the running count per cooldown."},
    {"max_samples", VG_CT_INT, OPT(VgAlertSettings, max_samples), "5", 0, 5, NULL, VG_CO_RELOAD,
     NULL, "Sample request ids per alert."},
    {"max_incidents", VG_CT_INT, OPT(VgAlertSettings, max_incidents), "100000", 16, 100000000, NULL,
     0, NULL,
     "Open incidents tracked for dedup; beyond it the oldest are forgotten (a later alert for "
     "them is a new incident, never a lost one)."},
    {0},
};

const VgConfOption vg_privacy_options[] = {
    {"token_key", VG_CT_STRING, OPT(VgPrivacySettings, token_key), NULL, 0, 0, NULL, VG_CO_SECRET,
     "VIGIL_TOKEN_KEY",
     "HMAC key for token ids (token_id = first 16 hex digits of HMAC-SHA256(key, token)). "
     "Set it in production; without it a fixed public key is used and token ids can be "
     "reversed by guessing tokens."},
    {"redact_pii", VG_CT_BOOL, OPT(VgPrivacySettings, redact_pii), "true", 0, 0, NULL, 0, NULL,
     "Redact e-mail addresses, phone numbers, card numbers and birth dates in alert URLs."},
    {0},
};

const VgConfOption vg_log_options[] = {
    {"level", VG_CT_STRING, OPT(VgLogSettings, level), "info", 0, 0, "debug|info|warn|error",
     VG_CO_RELOAD, "VIGIL_LOG_LEVEL",
     "Least important level written to vigil's log (structured lines on stderr)."},
    {0},
};

/* Sections owned by modules: validated by the module that reads them. */
static const struct {
    const char *name;
    size_t offset;
} module_sections[] = {
    {"sinks", offsetof(VgSettings, sinks)},           {"spool", offsetof(VgSettings, spool)},
    {"rules", offsetof(VgSettings, rules)},           {"models", offsetof(VgSettings, models)},
    {"kafka", offsetof(VgSettings, kafka)},           {"metrics", offsetof(VgSettings, metrics)},
    {"checkpoint", offsetof(VgSettings, checkpoint)},
};

static const struct {
    const char *name;
    const VgConfOption *opts;
    size_t offset;
} engine_sections[] = {
    {"input", vg_input_options, offsetof(VgSettings, input)},
    {"engine", vg_engine_options, offsetof(VgSettings, engine)},
    {"alerts", vg_alert_options, offsetof(VgSettings, alerts)},
    {"privacy", vg_privacy_options, offsetof(VgSettings, privacy)},
    {"log", vg_log_options, offsetof(VgSettings, log)},
};

static bool known_section(const char *k)
{
    for (size_t i = 0; i < G_N_ELEMENTS(engine_sections); i++)
        if (!strcmp(engine_sections[i].name, k))
            return true;
    for (size_t i = 0; i < G_N_ELEMENTS(module_sections); i++)
        if (!strcmp(module_sections[i].name, k))
            return true;
    for (const VgDetectorOps *const *d = vg_detectors(); *d; d++)
        if (!strcmp((*d)->name, k))
            return true;
    return false;
}

static void bind_module_sections(VgSettings *s);

/* Fills s's engine sections from s->root and binds the module sections. */
static bool apply_root(VgSettings *s, GError **err)
{
    for (size_t i = 0; i < G_N_ELEMENTS(engine_sections); i++) {
        void *base = (char *)s + engine_sections[i].offset;
        if (vg_conf_apply(engine_sections[i].opts, base,
                          vg_conf_get(s->root, engine_sections[i].name), err) != VG_OK)
            return false;
    }
    bind_module_sections(s);
    return true;
}

VgSettings *vg_settings_load(const char *path, GError **err)
{
    VgSettings *s = g_new0(VgSettings, 1);
    if (path) {
        s->path = g_strdup(path);
        s->root = vg_conf_load_file(path, err);
        if (!s->root)
            goto fail;
        if (s->root->kind != VG_NODE_MAP) {
            vg_conf_error(err, s->root, "the configuration must be a mapping of sections");
            goto fail;
        }
        for (guint i = 0; i < s->root->keys->len; i++) {
            const VgConfNode *k = s->root->keys->pdata[i];
            if (!known_section(k->value)) {
                vg_conf_error(err, k,
                              "unknown section '%s' (known: input, engine, alerts, privacy, "
                              "sinks, spool, rules, models, builtin, kafka, metrics, log, "
                              "checkpoint)",
                              k->value);
                goto fail;
            }
        }
    }
    if (!apply_root(s, err))
        goto fail;
    return s;
fail:
    vg_settings_free(s);
    return NULL;
}

VgSettings *vg_settings_derive(const VgSettings *s, const char *section, const char *key,
                               const char *value, const char *origin, GError **err)
{
    VgSettings *d = g_new0(VgSettings, 1);
    d->path = g_strdup(s->path);
    d->root = s->root ? vg_conf_node_copy(s->root) : vg_conf_new_map(origin);
    vg_conf_override_scalar(d->root, section, key, value, origin);
    if (!apply_root(d, err)) {
        vg_settings_free(d);
        return NULL;
    }
    return d;
}

static void bind_module_sections(VgSettings *s)
{
    for (size_t i = 0; i < G_N_ELEMENTS(module_sections); i++)
        *(const VgConfNode **)((char *)s + module_sections[i].offset) =
            vg_conf_get(s->root, module_sections[i].name);
}

void vg_settings_override_list(VgSettings *s, const char *section, const char *key,
                               const char *const *values)
{
    if (!s->root)
        s->root = vg_conf_new_map("command line");
    vg_conf_override_list(s->root, section, key, values);
    bind_module_sections(s);
}

void vg_settings_free(VgSettings *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < G_N_ELEMENTS(engine_sections); i++)
        vg_conf_clear(engine_sections[i].opts, (char *)s + engine_sections[i].offset);
    vg_conf_node_free(s->root);
    g_free(s->path);
    g_free(s);
}

void vg_settings_dump(const VgSettings *s, GString *out)
{
    for (size_t i = 0; i < G_N_ELEMENTS(engine_sections); i++) {
        g_string_append_printf(out, "%s:\n", engine_sections[i].name);
        vg_conf_dump(engine_sections[i].opts, (const char *)s + engine_sections[i].offset, out, 2);
    }
}

bool vg_settings_input_conf(const VgSettings *s, VgInputConf *out, GError **err)
{
    memset(out, 0, sizeof(*out));
    out->format = g_strdup(s->input.format ? s->input.format : "vigil");
    out->max_line_bytes = (size_t)s->input.max_line_bytes;
    const VgConfNode *f = s->input.fields;
    if (!f || vg_conf_is_null(f))
        return true;
    if (f->kind != VG_NODE_MAP) {
        vg_conf_error(err, f, "input.fields must map canonical field names to source paths");
        return false;
    }
    out->fields = g_array_new(FALSE, TRUE, sizeof(VgFieldMapping));
    for (guint i = 0; i < f->keys->len; i++) {
        const VgConfNode *k = f->keys->pdata[i], *v = f->items->pdata[i];
        if (v->kind != VG_NODE_SCALAR || vg_conf_is_null(v)) {
            vg_conf_error(err, v, "input.fields.%s must be a dotted source path", k->value);
            vg_input_conf_clear(out);
            return false;
        }
        if (vg_field_resolve(k->value) == VG_F_EXTRA) {
            vg_conf_error(err, k, "input.fields: '%s' is not a canonical field name", k->value);
            vg_input_conf_clear(out);
            return false;
        }
        VgFieldMapping m = {g_strdup(k->value), g_strdup(v->value)};
        g_array_append_val(out->fields, m);
    }
    return true;
}

void vg_input_conf_clear(VgInputConf *c)
{
    if (c->fields) {
        for (guint i = 0; i < c->fields->len; i++) {
            VgFieldMapping *m = &g_array_index(c->fields, VgFieldMapping, i);
            g_free(m->field);
            g_free(m->source);
        }
        g_array_free(c->fields, TRUE);
    }
    g_free(c->format);
    memset(c, 0, sizeof(*c));
}

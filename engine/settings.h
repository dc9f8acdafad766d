/* settings.h — the effective configuration of a vigil process (vigil.yml).
 *
 * The file's top level is a set of sections. The engine's own sections (input, engine,
 * alerts, privacy) are option tables here; every other section (sinks, spool, rules,
 * models, kafka, metrics, ...) belongs to one module, which validates it with its own
 * table when it is created. An unknown top-level section is an error like an unknown key.
 * With no file at all every section takes its built-in defaults.
 */
#ifndef VG_SETTINGS_H
#define VG_SETTINGS_H

#include "engine/config.h"
#include "engine/decoder.h"

typedef struct {
    char *format;             /* decoder preset or "auto" */
    const VgConfNode *fields; /* user field mapping: {canonical: "dotted.source.path"} */
    int64_t max_line_bytes;
    char *dead_letter; /* file to append bad lines to (NULL: none) */
    bool follow;       /* run mode: follow files across rotation */
    char **files;      /* run mode: files to read (NULL: stdin unless kafka) */
} VgInputSettings;

typedef struct {
    int64_t batch_lines;
    int64_t allowed_lateness_ms;
    int64_t workers;
} VgEngineSettings;

typedef struct {
    int64_t cooldown_ms;
    int64_t max_samples;
    int64_t max_incidents;
} VgAlertSettings;

typedef struct {
    char *token_key;
    bool redact_pii;
} VgPrivacySettings;

typedef struct {
    char *level; /* debug, info, warn, error */
} VgLogSettings;

typedef struct {
    VgConfNode *root; /* the parsed file (NULL: defaults) */
    char *path;
    VgInputSettings input;
    VgEngineSettings engine;
    VgAlertSettings alerts;
    VgPrivacySettings privacy;
    VgLogSettings log;
    /* module sections (borrowed from root; NULL when absent) */
    const VgConfNode *sinks, *spool, *rules, *models, *kafka, *metrics, *checkpoint;
} VgSettings;

/* Loads path (NULL: built-in defaults only). NULL and err ("file:line:col: reason") on
 * error. The result owns the tree; free with vg_settings_free(). */
VgSettings *vg_settings_load(const char *path, GError **err);
void vg_settings_free(VgSettings *s);
/* Command-line override of a module option list (e.g. rules.paths from --rules). */
void vg_settings_override_list(VgSettings *s, const char *section, const char *key,
                               const char *const *values);
/* A copy of s with section.key set to value as if the file had said so (origin names the
 * setter in messages); a module validates its section when it is created from the copy.
 * NULL and err when an engine section rejects the value. Free with vg_settings_free(). */
VgSettings *vg_settings_derive(const VgSettings *s, const char *section, const char *key,
                               const char *value, const char *origin, GError **err);
/* The effective engine-level settings as YAML, secrets masked. */
void vg_settings_dump(const VgSettings *s, GString *out);
/* Fills a VgInputConf for decoders from the input settings (fields parsed from the node).
 * Free with vg_input_conf_clear(). Returns false and sets err on a bad mapping. */
bool vg_settings_input_conf(const VgSettings *s, VgInputConf *out, GError **err);
void vg_input_conf_clear(VgInputConf *c);

/* Option tables, for docs and dumps. */
extern const VgConfOption vg_input_options[], vg_engine_options[], vg_alert_options[],
    vg_privacy_options[], vg_log_options[];

#endif

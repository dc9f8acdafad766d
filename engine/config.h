/* config.h — vigil.yml, declared once as tables.
 *
 * The YAML file is read into a small tree of VgConfNode (maps, sequences, scalars), each
 * node remembering its file, line and column. Every module declares its options once, as a
 * const table of VgConfOption (key, type, default, bounds, choices, description, offset in
 * the module's struct). vg_conf_apply() fills the struct from a map node — defaults first,
 * then the file's values, then environment overrides — and rejects unknown keys and
 * out-of-range values with "file:line:col: reason". The same tables produce the defaults
 * when there is no file, `vigil config --dump` (secrets masked) and the README's tables.
 *
 * A section whose shape is the module's own business (a list of models, a field mapping)
 * is declared VG_CT_NODE: apply() stores the node and the module walks it.
 */
#ifndef VG_CONFIG_H
#define VG_CONFIG_H

#include "engine/vg.h"

typedef enum { VG_NODE_SCALAR, VG_NODE_MAP, VG_NODE_SEQ } VgConfNodeKind;

typedef struct VgConfNode VgConfNode;
struct VgConfNode {
    VgConfNodeKind kind;
    const char *file; /* shared, owned by the root */
    int line, col;    /* 1-based */
    char *value;      /* scalar text (NULL for maps and sequences) */
    bool quoted;      /* scalar was quoted: never null/bool/number by YAML rules */
    GPtrArray *keys;  /* map: key scalars (VgConfNode *), parallel to items */
    GPtrArray *items; /* map values or sequence items (VgConfNode *) */
};

/* Reads a YAML file (first document) into a tree. On error NULL is returned, err set. */
VgConfNode *vg_conf_load_file(const char *path, GError **err);
/* Same from memory; name is used in messages. */
VgConfNode *vg_conf_load_string(const char *text, size_t len, const char *name, GError **err);
void vg_conf_node_free(VgConfNode *n);
/* Reads every document of a YAML stream ("---" separated). Returns an array of roots
 * (free with g_ptr_array_free(a, TRUE)), or NULL with err set ("file:line:col: reason") on
 * a syntax error. An empty document is an empty map. */
GPtrArray *vg_conf_load_documents(const char *text, size_t len, const char *name, GError **err);

/* Sets root.section.key to a list of values (creating the section; replacing the key), as
 * if the file had said so; used for command-line overrides. Nodes are marked as coming
 * from "command line". root must be a map. */
void vg_conf_override_list(VgConfNode *root, const char *section, const char *key,
                           const char *const *values);
/* Sets root.section.key to a scalar, the same way; origin names where it came from in
 * messages about it. */
void vg_conf_override_scalar(VgConfNode *root, const char *section, const char *key,
                             const char *value, const char *origin);
/* A deep copy of n (NULL for NULL); free with vg_conf_node_free(). */
VgConfNode *vg_conf_node_copy(const VgConfNode *n);
/* Creates an empty map node (a root for configs built in code). */
VgConfNode *vg_conf_new_map(const char *origin);

/* Map look-up: the value node for key, or NULL. */
const VgConfNode *vg_conf_get(const VgConfNode *map, const char *key);
/* True for a scalar meaning null (~, null, empty, unquoted). */
bool vg_conf_is_null(const VgConfNode *n);

/* Sets err to "file:line:col: message" located at n. Returns VG_ECONFIG. */
int vg_conf_error(GError **err, const VgConfNode *n, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

typedef enum {
    VG_CT_BOOL,     /* bool */
    VG_CT_INT,      /* int64_t */
    VG_CT_DOUBLE,   /* double */
    VG_CT_STRING,   /* char * (g_free'd by vg_conf_clear) */
    VG_CT_DURATION, /* int64_t milliseconds; "250ms", "60s", "5m", "1h", "1d" or seconds */
    VG_CT_SIZE,     /* int64_t bytes; "64KiB", "512MB", "2GiB" or bytes */
    VG_CT_STRLIST,  /* char ** NULL-terminated (g_strfreev); a scalar is a list of one */
    VG_CT_NODE,     /* const VgConfNode * (borrowed from the tree; may be NULL) */
} VgConfType;

enum {
    VG_CO_SECRET = 1 << 0,   /* masked in dumps and logs */
    VG_CO_RELOAD = 1 << 1,   /* takes effect on SIGHUP */
    VG_CO_REQUIRED = 1 << 2, /* must be given */
};

typedef struct {
    const char *key;
    VgConfType type;
    size_t offset;       /* offsetof() in the module's struct */
    const char *def;     /* default, as it would be written in YAML (NULL: none) */
    double min, max;     /* inclusive bounds for numbers, durations, sizes (min == max: none) */
    const char *choices; /* "a|b|c": allowed strings (NULL: any) */
    unsigned flags;
    const char *env; /* environment variable that overrides the file (NULL: none) */
    const char *help;
} VgConfOption;

/* Fills base from map (NULL: defaults only). Unknown keys, wrong types, out-of-range
 * values and missing required keys are errors. On error base may hold some values: call
 * vg_conf_clear() on it. */
int vg_conf_apply(const VgConfOption *opts, void *base, const VgConfNode *map, GError **err);
/* Frees what apply() allocated in base (strings, lists). */
void vg_conf_clear(const VgConfOption *opts, void *base);
/* Appends the effective values as YAML at the given indent (secrets as "********"). */
void vg_conf_dump(const VgConfOption *opts, const void *base, GString *out, int indent);

/* Parsers shared by modules that walk their own nodes. Return false and set err on error. */
bool vg_conf_parse_int(const VgConfNode *n, int64_t *out, GError **err);
bool vg_conf_parse_double(const VgConfNode *n, double *out, GError **err);
bool vg_conf_parse_bool(const VgConfNode *n, bool *out, GError **err);
bool vg_conf_parse_duration(const VgConfNode *n, int64_t *ms, GError **err);
bool vg_conf_parse_size(const VgConfNode *n, int64_t *bytes, GError **err);

#endif

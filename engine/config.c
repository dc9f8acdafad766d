/* config.c — the YAML tree and the option tables of config.h.
 *
 * libyaml's event API builds the tree: one node per scalar, mapping and sequence, with
 * the mark (line, column) where it starts. Anchors and aliases are refused: a config that
 * needs them is better written plainly, and refusing them closes the "billion laughs" door.
 */
#include "engine/config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

#define MAX_DEPTH 64

static VgConfNode *node_new(VgConfNodeKind kind, const char *file, const yaml_mark_t *m)
{
    VgConfNode *n = g_new0(VgConfNode, 1);
    n->kind = kind;
    n->file = file;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    if (kind != VG_NODE_SCALAR) {
        n->items = g_ptr_array_new_with_free_func((GDestroyNotify)vg_conf_node_free);
        if (kind == VG_NODE_MAP)
            n->keys = g_ptr_array_new_with_free_func((GDestroyNotify)vg_conf_node_free);
    }
    return n;
}

void vg_conf_node_free(VgConfNode *n)
{
    if (!n)
        return;
    g_free(n->value);
    if (n->keys)
        g_ptr_array_free(n->keys, TRUE);
    if (n->items)
        g_ptr_array_free(n->items, TRUE);
    g_free(n);
}

/* The root owns the file name: it is stored in a hidden first key slot. To keep the
 * struct simple the name is interned instead, which is fine for a handful of files. */
static const char *intern_file(const char *name)
{
    return g_intern_string(name);
}

int vg_conf_error(GError **err, const VgConfNode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (n)
        g_set_error(err, VG_ERROR, VG_ECONFIG, "%s:%d:%d: %s", n->file, n->line, n->col, msg);
    else
        g_set_error(err, VG_ERROR, VG_ECONFIG, "%s", msg);
    g_free(msg);
    return VG_ECONFIG;
}

/* Parses the next document of the stream. Returns NULL with *eos set at the end of the
 * stream, NULL with err set on a syntax error. */
static VgConfNode *parse_tree(yaml_parser_t *p, const char *file, bool *eos, GError **err)
{
    *eos = false;
    VgConfNode *stack[MAX_DEPTH];
    int depth = 0;
    VgConfNode *root = NULL;
    yaml_event_t ev;
    bool done = false;

    while (!done) {
        if (!yaml_parser_parse(p, &ev)) {
            g_set_error(err, VG_ERROR, VG_ECONFIG, "%s:%zu:%zu: YAML syntax error: %s", file,
                        p->problem_mark.line + 1, p->problem_mark.column + 1,
                        p->problem ? p->problem : "unknown");
            goto fail;
        }
        VgConfNode *n = NULL;
        switch (ev.type) {
        case YAML_ALIAS_EVENT:
            g_set_error(err, VG_ERROR, VG_ECONFIG,
                        "%s:%zu:%zu: YAML aliases (*name) are not supported; write the value", file,
                        ev.start_mark.line + 1, ev.start_mark.column + 1);
            yaml_event_delete(&ev);
            goto fail;
        case YAML_SCALAR_EVENT:
            n = node_new(VG_NODE_SCALAR, file, &ev.start_mark);
            n->value = g_strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
            n->quoted = ev.data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                        ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
                        ev.data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                        ev.data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
            break;
        case YAML_MAPPING_START_EVENT:
            n = node_new(VG_NODE_MAP, file, &ev.start_mark);
            break;
        case YAML_SEQUENCE_START_EVENT:
            n = node_new(VG_NODE_SEQ, file, &ev.start_mark);
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            depth--;
            break;
        case YAML_DOCUMENT_END_EVENT:
            done = true;
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            *eos = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (!n)
            continue;
        if (depth == 0) {
            if (root) { /* a second top-level value cannot happen in one document */
                vg_conf_node_free(n);
                continue;
            }
            root = n;
        } else {
            VgConfNode *parent = stack[depth - 1];
            if (parent->kind == VG_NODE_MAP && parent->keys->len == parent->items->len) {
                if (n->kind != VG_NODE_SCALAR) {
                    vg_conf_error(err, n, "a mapping key must be a plain value");
                    vg_conf_node_free(n);
                    goto fail;
                }
                for (guint i = 0; i < parent->keys->len; i++) {
                    VgConfNode *k = parent->keys->pdata[i];
                    if (strcmp(k->value, n->value) == 0) {
                        vg_conf_error(err, n, "duplicate key '%s' (first at line %d)", n->value,
                                      k->line);
                        vg_conf_node_free(n);
                        goto fail;
                    }
                }
                g_ptr_array_add(parent->keys, n);
                continue;
            }
            g_ptr_array_add(parent->items, n);
        }
        if (n->kind != VG_NODE_SCALAR) {
            if (depth >= MAX_DEPTH) {
                vg_conf_error(err, n, "nested deeper than %d levels", MAX_DEPTH);
                goto fail;
            }
            stack[depth++] = n;
        }
    }
    if (!root && !*eos) { /* empty document: an empty map */
        yaml_mark_t m = {0, 0, 0};
        root = node_new(VG_NODE_MAP, file, &m);
    }
    return root;
fail:
    vg_conf_node_free(root);
    return NULL;
}

VgConfNode *vg_conf_load_string(const char *text, size_t len, const char *name, GError **err)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        g_set_error(err, VG_ERROR, VG_ECONFIG, "%s: cannot initialise the YAML parser", name);
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    bool eos;
    GError *e = NULL;
    VgConfNode *root = parse_tree(&p, intern_file(name), &eos, &e);
    yaml_parser_delete(&p);
    if (e) {
        g_propagate_error(err, e);
        return NULL;
    }
    if (!root) { /* an empty file is an empty map */
        yaml_mark_t m = {0, 0, 0};
        root = node_new(VG_NODE_MAP, intern_file(name), &m);
    }
    return root;
}

GPtrArray *vg_conf_load_documents(const char *text, size_t len, const char *name, GError **err)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        g_set_error(err, VG_ERROR, VG_ECONFIG, "%s: cannot initialise the YAML parser", name);
        return NULL;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    GPtrArray *docs = g_ptr_array_new_with_free_func((GDestroyNotify)vg_conf_node_free);
    const char *file = intern_file(name);
    for (;;) {
        bool eos;
        GError *e = NULL;
        VgConfNode *root = parse_tree(&p, file, &eos, &e);
        if (e) {
            g_propagate_error(err, e);
            g_ptr_array_free(docs, TRUE);
            docs = NULL;
            break;
        }
        if (root)
            g_ptr_array_add(docs, root);
        if (eos)
            break;
    }
    yaml_parser_delete(&p);
    return docs;
}

VgConfNode *vg_conf_load_file(const char *path, GError **err)
{
    char *text = NULL;
    gsize len = 0;
    GError *e = NULL;
    if (!g_file_get_contents(path, &text, &len, &e)) {
        g_set_error(err, VG_ERROR, VG_ECONFIG, "%s: %s", path, e->message);
        g_error_free(e);
        return NULL;
    }
    VgConfNode *root = vg_conf_load_string(text, len, path, err);
    g_free(text);
    return root;
}

const VgConfNode *vg_conf_get(const VgConfNode *map, const char *key)
{
    if (!map || map->kind != VG_NODE_MAP)
        return NULL;
    for (guint i = 0; i < map->keys->len; i++) {
        const VgConfNode *k = map->keys->pdata[i];
        if (strcmp(k->value, key) == 0)
            return map->items->pdata[i];
    }
    return NULL;
}

bool vg_conf_is_null(const VgConfNode *n)
{
    if (!n)
        return true;
    if (n->kind != VG_NODE_SCALAR || n->quoted)
        return false;
    const char *v = n->value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

static bool need_scalar(const VgConfNode *n, GError **err)
{
    if (n->kind == VG_NODE_SCALAR)
        return true;
    vg_conf_error(err, n, "expected a single value, found a %s",
                  n->kind == VG_NODE_MAP ? "mapping" : "list");
    return false;
}

bool vg_conf_parse_int(const VgConfNode *n, int64_t *out, GError **err)
{
    if (!need_scalar(n, err))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(n->value, &end, 0);
    if (errno || end == n->value || *end) {
        vg_conf_error(err, n, "'%s' is not a whole number", n->value);
        return false;
    }
    *out = v;
    return true;
}

bool vg_conf_parse_double(const VgConfNode *n, double *out, GError **err)
{
    if (!need_scalar(n, err))
        return false;
    char *end;
    errno = 0;
    double v = g_ascii_strtod(n->value, &end);
    if (errno || end == n->value || *end || !isfinite(v)) {
        vg_conf_error(err, n, "'%s' is not a number", n->value);
        return false;
    }
    *out = v;
    return true;
}

bool vg_conf_parse_bool(const VgConfNode *n, bool *out, GError **err)
{
    if (!need_scalar(n, err))
        return false;
    static const char *yes[] = {"true", "True", "TRUE", "yes", "Yes", "on", "On"};
    static const char *no[] = {"false", "False", "FALSE", "no", "No", "off", "Off"};
    for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
        if (!strcmp(n->value, yes[i])) {
            *out = true;
            return true;
        }
        if (!strcmp(n->value, no[i])) {
            *out = false;
            return true;
        }
    }
    vg_conf_error(err, n, "'%s' is not true or false", n->value);
    return false;
}

typedef struct {
    const char *suffix;
    double mult;
} Unit;

static bool parse_with_units(const VgConfNode *n, const Unit *units, size_t n_units,
                             const char *what, int64_t *out, GError **err)
{
    if (!need_scalar(n, err))
        return false;
    char *end;
    errno = 0;
    double v = g_ascii_strtod(n->value, &end);
    if (errno || end == n->value || !isfinite(v) || v < 0)
        goto bad;
    while (*end == ' ')
        end++;
    double mult = units[0].mult; /* a bare number takes the first unit */
    if (*end) {
        size_t i;
        for (i = 0; i < n_units; i++)
            if (units[i].suffix[0] && !strcmp(end, units[i].suffix))
                break;
        if (i == n_units)
            goto bad;
        mult = units[i].mult;
    }
    if (v * mult > 9.2e18)
        goto bad;
    *out = (int64_t)llround(v * mult);
    return true;
bad:
    vg_conf_error(err, n, "'%s' is not a %s", n->value, what);
    return false;
}

bool vg_conf_parse_duration(const VgConfNode *n, int64_t *ms, GError **err)
{
    static const Unit u[] = {{"", 1000},     {"ms", 1},      {"s", 1000},     {"m", 60000},
                             {"min", 60000}, {"h", 3600000}, {"d", 86400000}, {"w", 604800000.0}};
    return parse_with_units(n, u, G_N_ELEMENTS(u),
                            "duration (like 250ms, 60s, 5m, 1h, 1d; a bare number is seconds)", ms,
                            err);
}

bool vg_conf_parse_size(const VgConfNode *n, int64_t *bytes, GError **err)
{
    static const Unit u[] = {
        {"", 1},     {"B", 1},        {"KB", 1e3},        {"MB", 1e6},
        {"GB", 1e9}, {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0},
        {"k", 1e3},  {"K", 1024.0},   {"M", 1048576.0},   {"G", 1073741824.0}};
    return parse_with_units(n, u, G_N_ELEMENTS(u), "size (like 4096, 64KiB, 512MB, 2GiB)", bytes,
                            err);
}

static bool check_bounds(const VgConfOption *o, const VgConfNode *n, double v, GError **err)
{
    if (o->min == o->max)
        return true;
    if (v < o->min || v > o->max) {
        vg_conf_error(err, n, "%s must be between %g and %g", o->key, o->min, o->max);
        return false;
    }
    return true;
}

static bool check_choice(const VgConfOption *o, const VgConfNode *n, const char *v, GError **err)
{
    if (!o->choices)
        return true;
    char **c = g_strsplit(o->choices, "|", -1);
    bool ok = g_strv_contains((const char *const *)c, v);
    g_strfreev(c);
    if (!ok)
        vg_conf_error(err, n, "%s must be one of %s, not '%s'", o->key, o->choices, v);
    return ok;
}

static void clear_one(const VgConfOption *o, void *base)
{
    void *f = (char *)base + o->offset;
    if (o->type == VG_CT_STRING) {
        g_free(*(char **)f);
        *(char **)f = NULL;
    } else if (o->type == VG_CT_STRLIST) {
        g_strfreev(*(char ***)f);
        *(char ***)f = NULL;
    }
}

/* Sets one option from node n (a scalar for most types). */
static bool set_one(const VgConfOption *o, void *base, const VgConfNode *n, GError **err)
{
    void *f = (char *)base + o->offset;
    int64_t iv;
    double dv;
    bool bv;
    switch (o->type) {
    case VG_CT_BOOL:
        if (!vg_conf_parse_bool(n, &bv, err))
            return false;
        *(bool *)f = bv;
        return true;
    case VG_CT_INT:
        if (!vg_conf_parse_int(n, &iv, err) || !check_bounds(o, n, (double)iv, err))
            return false;
        *(int64_t *)f = iv;
        return true;
    case VG_CT_DOUBLE:
        if (!vg_conf_parse_double(n, &dv, err) || !check_bounds(o, n, dv, err))
            return false;
        *(double *)f = dv;
        return true;
    case VG_CT_DURATION:
        if (!vg_conf_parse_duration(n, &iv, err) || !check_bounds(o, n, iv / 1000.0, err))
            return false;
        *(int64_t *)f = iv;
        return true;
    case VG_CT_SIZE:
        if (!vg_conf_parse_size(n, &iv, err) || !check_bounds(o, n, (double)iv, err))
            return false;
        *(int64_t *)f = iv;
        return true;
    case VG_CT_STRING:
        if (!need_scalar(n, err) || !check_choice(o, n, n->value, err))
            return false;
        clear_one(o, base);
        *(char **)f = vg_conf_is_null(n) ? NULL : g_strdup(n->value);
        return true;
    case VG_CT_STRLIST: {
        GPtrArray *a = g_ptr_array_new();
        if (n->kind == VG_NODE_SCALAR) {
            if (!vg_conf_is_null(n))
                g_ptr_array_add(a, g_strdup(n->value));
        } else if (n->kind == VG_NODE_SEQ) {
            for (guint i = 0; i < n->items->len; i++) {
                const VgConfNode *it = n->items->pdata[i];
                if (!need_scalar(it, err)) {
                    g_ptr_array_free(a, TRUE);
                    return false;
                }
                g_ptr_array_add(a, g_strdup(it->value));
            }
        } else {
            vg_conf_error(err, n, "%s must be a list of values", o->key);
            g_ptr_array_free(a, TRUE);
            return false;
        }
        g_ptr_array_add(a, NULL);
        clear_one(o, base);
        *(char ***)f = (char **)g_ptr_array_free(a, FALSE);
        return true;
    }
    case VG_CT_NODE:
        *(const VgConfNode **)f = n;
        return true;
    }
    return false;
}

/* Defaults are written as YAML text; they go through the same parser as the file. */
static bool set_from_text(const VgConfOption *o, void *base, const char *text, const char *what,
                          GError **err)
{
    VgConfNode n = {.kind = VG_NODE_SCALAR, .file = what, .line = 0, .col = 0};
    n.value = (char *)text;
    return set_one(o, base, &n, err);
}

int vg_conf_apply(const VgConfOption *opts, void *base, const VgConfNode *map, GError **err)
{
    if (map && map->kind != VG_NODE_MAP && !vg_conf_is_null(map))
        return vg_conf_error(err, map, "expected a mapping of options");
    if (map && map->kind != VG_NODE_MAP)
        map = NULL;
    if (map) {
        for (guint i = 0; i < map->keys->len; i++) {
            const VgConfNode *k = map->keys->pdata[i];
            const VgConfOption *o = opts;
            while (o->key && strcmp(o->key, k->value))
                o++;
            if (!o->key) {
                GString *known = g_string_new(NULL);
                for (o = opts; o->key; o++)
                    g_string_append_printf(known, "%s%s", known->len ? ", " : "", o->key);
                vg_conf_error(err, k, "unknown option '%s' (known here: %s)", k->value, known->str);
                g_string_free(known, TRUE);
                return VG_ECONFIG;
            }
        }
    }
    for (const VgConfOption *o = opts; o->key; o++) {
        const VgConfNode *n = map ? vg_conf_get(map, o->key) : NULL;
        const char *env = o->env ? g_getenv(o->env) : NULL;
        if (env && *env) {
            char *what = g_strdup_printf("environment variable %s", o->env);
            bool ok = set_from_text(o, base, env, g_intern_string(what), err);
            g_free(what);
            if (!ok)
                return VG_ECONFIG;
        } else if (n && !(o->type != VG_CT_STRING && o->type != VG_CT_NODE && vg_conf_is_null(n))) {
            if (!set_one(o, base, n, err))
                return VG_ECONFIG;
        } else if (o->def) {
            if (!set_from_text(o, base, o->def, "built-in default", err))
                return VG_ECONFIG;
        } else if (o->flags & VG_CO_REQUIRED) {
            return vg_conf_error(err, map, "option '%s' is required", o->key);
        }
    }
    return VG_OK;
}

void vg_conf_clear(const VgConfOption *opts, void *base)
{
    for (const VgConfOption *o = opts; o->key; o++)
        clear_one(o, base);
}

static void dump_duration(GString *out, int64_t ms)
{
    if (ms % 86400000 == 0 && ms)
        g_string_append_printf(out, "%" G_GINT64_FORMAT "d", ms / 86400000);
    else if (ms % 3600000 == 0 && ms)
        g_string_append_printf(out, "%" G_GINT64_FORMAT "h", ms / 3600000);
    else if (ms % 60000 == 0 && ms)
        g_string_append_printf(out, "%" G_GINT64_FORMAT "m", ms / 60000);
    else if (ms % 1000 == 0)
        g_string_append_printf(out, "%" G_GINT64_FORMAT "s", ms / 1000);
    else
        g_string_append_printf(out, "%" G_GINT64_FORMAT "ms", ms);
}

static void dump_scalar(GString *out, const char *s)
{
    bool plain = *s && strpbrk(s, ":#{}[],&*!|>'\"%@`\n") == NULL && s[0] != ' ' && s[0] != '-';
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
        else
            g_string_append_c(out, *s);
    }
    g_string_append_c(out, '"');
}

static void dump_node(GString *out, const VgConfNode *n, int indent)
{
    if (!n) {
        g_string_append(out, " null\n");
        return;
    }
    if (n->kind == VG_NODE_SCALAR) {
        g_string_append_c(out, ' ');
        dump_scalar(out, n->value);
        g_string_append_c(out, '\n');
        return;
    }
    g_string_append_c(out, '\n');
    for (guint i = 0; i < n->items->len; i++) {
        g_string_append_printf(out, "%*s", indent, "");
        if (n->kind == VG_NODE_MAP) {
            dump_scalar(out, ((VgConfNode *)n->keys->pdata[i])->value);
            g_string_append_c(out, ':');
        } else {
            g_string_append_c(out, '-');
        }
        dump_node(out, n->items->pdata[i], indent + 2);
    }
}

void vg_conf_dump(const VgConfOption *opts, const void *base, GString *out, int indent)
{
    for (const VgConfOption *o = opts; o->key; o++) {
        const void *f = (const char *)base + o->offset;
        g_string_append_printf(out, "%*s%s:", indent, "", o->key);
        if (o->flags & VG_CO_SECRET) {
            bool set = o->type == VG_CT_STRING ? *(char *const *)f != NULL : true;
            g_string_append(out, set ? " \"********\"\n" : " null\n");
            continue;
        }
        switch (o->type) {
        case VG_CT_BOOL:
            g_string_append(out, *(const bool *)f ? " true\n" : " false\n");
            break;
        case VG_CT_INT:
            g_string_append_printf(out, " %" G_GINT64_FORMAT "\n", *(const int64_t *)f);
            break;
        case VG_CT_DOUBLE: {
            char b[G_ASCII_DTOSTR_BUF_SIZE];
            g_string_append_printf(out, " %s\n", g_ascii_dtostr(b, sizeof b, *(const double *)f));
            break;
        }
        case VG_CT_DURATION:
            g_string_append_c(out, ' ');
            dump_duration(out, *(const int64_t *)f);
            g_string_append_c(out, '\n');
            break;
        case VG_CT_SIZE:
            g_string_append_printf(out, " %" G_GINT64_FORMAT "\n", *(const int64_t *)f);
            break;
        case VG_CT_STRING: {
            const char *s = *(char *const *)f;
            if (s) {
                g_string_append_c(out, ' ');
                dump_scalar(out, s);
                g_string_append_c(out, '\n');
            } else {
                g_string_append(out, " null\n");
            }
            break;
        }
        case VG_CT_STRLIST: {
            char *const *l = *(char **const *)f;
            if (!l || !*l) {
                g_string_append(out, " []\n");
                break;
            }
            g_string_append_c(out, '\n');
            for (; *l; l++) {
                g_string_append_printf(out, "%*s- ", indent + 2, "");
                dump_scalar(out, *l);
                g_string_append_c(out, '\n');
            }
            break;
        }
        case VG_CT_NODE:
            dump_node(out, *(const VgConfNode *const *)f, indent + 2);
            break;
        }
    }
}

VgConfNode *vg_conf_new_map(const char *origin)
{
    yaml_mark_t m = {0, 0, 0};
    return node_new(VG_NODE_MAP, intern_file(origin), &m);
}

static VgConfNode *new_scalar(const char *origin, const char *v)
{
    yaml_mark_t m = {0, 0, 0};
    VgConfNode *n = node_new(VG_NODE_SCALAR, intern_file(origin), &m);
    n->value = g_strdup(v);
    n->quoted = true;
    return n;
}

/* Sets root.section.key to value (taking it), creating the section; replacing the key. */
static void override(VgConfNode *root, const char *section, const char *key, VgConfNode *value)
{
    const char *origin = value->file;
    g_return_if_fail(root && root->kind == VG_NODE_MAP);
    VgConfNode *sec = (VgConfNode *)vg_conf_get(root, section);
    if (!sec || sec->kind != VG_NODE_MAP) {
        VgConfNode *m = vg_conf_new_map(origin);
        if (sec) { /* a null or scalar section: replace it */
            for (guint i = 0; i < root->items->len; i++)
                if (root->items->pdata[i] == sec) {
                    vg_conf_node_free(sec);
                    root->items->pdata[i] = m;
                }
        } else {
            g_ptr_array_add(root->keys, new_scalar(origin, section));
            g_ptr_array_add(root->items, m);
        }
        sec = m;
    }
    for (guint i = 0; i < sec->keys->len; i++) {
        if (!strcmp(((VgConfNode *)sec->keys->pdata[i])->value, key)) {
            vg_conf_node_free(sec->items->pdata[i]);
            sec->items->pdata[i] = value;
            return;
        }
    }
    g_ptr_array_add(sec->keys, new_scalar(origin, key));
    g_ptr_array_add(sec->items, value);
}

void vg_conf_override_list(VgConfNode *root, const char *section, const char *key,
                           const char *const *values)
{
    const char *origin = "command line";
    yaml_mark_t mk = {0, 0, 0};
    VgConfNode *list = node_new(VG_NODE_SEQ, intern_file(origin), &mk);
    for (const char *const *v = values; v && *v; v++)
        g_ptr_array_add(list->items, new_scalar(origin, *v));
    override(root, section, key, list);
}

void vg_conf_override_scalar(VgConfNode *root, const char *section, const char *key,
                             const char *value, const char *origin)
{
    override(root, section, key, new_scalar(origin, value));
}

VgConfNode *vg_conf_node_copy(const VgConfNode *n)
{
    if (!n)
        return NULL;
    VgConfNode *c = g_new0(VgConfNode, 1);
    *c = (VgConfNode){n->kind, n->file, n->line, n->col, g_strdup(n->value), n->quoted, NULL, NULL};
    if (n->items) {
        c->items = g_ptr_array_new_full(n->items->len, (GDestroyNotify)vg_conf_node_free);
        for (guint i = 0; i < n->items->len; i++)
            g_ptr_array_add(c->items, vg_conf_node_copy(n->items->pdata[i]));
    }
    if (n->keys) {
        c->keys = g_ptr_array_new_full(n->keys->len, (GDestroyNotify)vg_conf_node_free);
        for (guint i = 0; i < n->keys->len; i++)
            g_ptr_array_add(c->keys, vg_conf_node_copy(n->keys->pdata[i]));
    }
    return c;
}

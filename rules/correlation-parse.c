/* correlation-parse.c — a Sigma correlation document to a VgCorrRule.
 *
 * The parser checks everything that can be checked on the document alone (types, required
 * keys per correlation type, timespan syntax, conditions that can be met, aliases' shape)
 * and keeps the location of each `rules:` entry, so that vg_corr_set_new() can point at
 * the exact line of an unknown reference once all documents are known.
 *
 * Top-level keys the specification does not know are allowed (Sigma rules may carry custom
 * attributes); keys inside `correlation:` are not, since a typo there (`groupby`) would
 * silently change what the rule means.
 */
#include "rules/correlation-int.h"

#include <math.h>

static const char *const type_names[] = {
    [VG_CORR_EVENT_COUNT] = "event_count", [VG_CORR_VALUE_COUNT] = "value_count",
    [VG_CORR_TEMPORAL] = "temporal",       [VG_CORR_TEMPORAL_ORDERED] = "temporal_ordered",
    [VG_CORR_VALUE_SUM] = "value_sum",     [VG_CORR_VALUE_AVG] = "value_avg",
};

static const char *const cmp_names[] = {
    [VG_CMP_GT] = "gt",   [VG_CMP_GTE] = "gte", [VG_CMP_LT] = "lt",
    [VG_CMP_LTE] = "lte", [VG_CMP_EQ] = "eq",   [VG_CMP_NEQ] = "neq",
};
static const char *const cmp_signs[] = {
    [VG_CMP_GT] = ">",   [VG_CMP_GTE] = ">=", [VG_CMP_LT] = "<",
    [VG_CMP_LTE] = "<=", [VG_CMP_EQ] = "=",   [VG_CMP_NEQ] = "!=",
};

const char *vg_corr_type_name(VgCorrType t)
{
    return type_names[t];
}

static VgCorrLoc loc_of(const VgConfNode *n)
{
    return (VgCorrLoc){n->file, n->line, n->col};
}

/* ---- conditions ---- */

bool vg_corr_cond_holds(const VgCorrRule *r, double x)
{
    for (int i = 0; i < r->n_bounds; i++) {
        double v = r->bounds[i].v;
        bool ok;
        switch (r->bounds[i].op) {
        case VG_CMP_GT:
            ok = x > v;
            break;
        case VG_CMP_GTE:
            ok = x >= v;
            break;
        case VG_CMP_LT:
            ok = x < v;
            break;
        case VG_CMP_LTE:
            ok = x <= v;
            break;
        case VG_CMP_EQ:
            ok = x == v;
            break;
        default:
            ok = x != v;
            break;
        }
        if (!ok)
            return false;
    }
    return true;
}

bool vg_corr_cond_is_lower(const VgCorrRule *r)
{
    for (int i = 0; i < r->n_bounds; i++)
        if (r->bounds[i].op != VG_CMP_GT && r->bounds[i].op != VG_CMP_GTE)
            return false;
    return true;
}

int64_t vg_corr_cond_min_count(const VgCorrRule *r)
{
    int64_t k = 1;
    for (int i = 0; i < r->n_bounds; i++) {
        double v = r->bounds[i].v, c;
        if (r->bounds[i].op == VG_CMP_GT)
            c = floor(v) + 1;
        else if (r->bounds[i].op == VG_CMP_GTE || r->bounds[i].op == VG_CMP_EQ)
            c = ceil(v);
        else
            continue;
        if (c > 1e15)
            c = 1e15;
        if (c > (double)k)
            k = (int64_t)c;
    }
    return k;
}

void vg_corr_cond_format(const VgCorrRule *r, GString *out)
{
    for (int i = 0; i < r->n_bounds; i++)
        g_string_append_printf(out, "%s%s %g", i ? " and " : "", cmp_signs[r->bounds[i].op],
                               r->bounds[i].v);
}

/* ---- helpers ---- */

static bool want_kind(const VgConfNode *n, VgConfNodeKind kind, const char *what, GError **err)
{
    if (n->kind == kind)
        return true;
    static const char *const names[] = {"a single value", "a mapping", "a list"};
    vg_conf_error(err, n, "%s must be %s, found %s", what, names[kind], names[n->kind]);
    return false;
}

/* A string-valued key; required or not. *out is set to a copy, or left NULL. */
static bool get_string(const VgConfNode *map, const char *key, bool required, char **out,
                       GError **err)
{
    const VgConfNode *n = vg_conf_get(map, key);
    if (!n || (n->kind == VG_NODE_SCALAR && vg_conf_is_null(n))) {
        if (required)
            vg_conf_error(err, n ? n : map, "correlation rule: '%s' is required", key);
        return !required;
    }
    if (!want_kind(n, VG_NODE_SCALAR, key, err))
        return false;
    *out = g_strdup(n->value);
    return true;
}

/* A list of non-empty strings (a single scalar is a list of one). Duplicates are errors
 * when unique is set. locs (optional) receives one location per item. */
static char **get_list(const VgConfNode *n, const char *what, bool unique, VgCorrLoc **locs,
                       int *count, GError **err)
{
    GPtrArray *out = g_ptr_array_new();
    GArray *where = g_array_new(FALSE, FALSE, sizeof(VgCorrLoc));
    const VgConfNode *one[1] = {n};
    const VgConfNode *const *items = one;
    guint n_items = 1;
    if (n->kind == VG_NODE_SEQ) {
        items = (const VgConfNode *const *)n->items->pdata;
        n_items = n->items->len;
    } else if (n->kind == VG_NODE_MAP) {
        vg_conf_error(err, n, "%s must be a list, found a mapping", what);
        goto fail;
    }
    for (guint i = 0; i < n_items; i++) {
        const VgConfNode *it = items[i];
        if (it->kind != VG_NODE_SCALAR || !*it->value) {
            vg_conf_error(err, it, "%s: every item must be a non-empty name", what);
            goto fail;
        }
        for (guint j = 0; unique && j < out->len; j++) {
            if (!strcmp(out->pdata[j], it->value)) {
                vg_conf_error(err, it, "%s: '%s' is listed twice", what, it->value);
                goto fail;
            }
        }
        g_ptr_array_add(out, g_strdup(it->value));
        VgCorrLoc l = loc_of(it);
        g_array_append_val(where, l);
    }
    *count = (int)out->len;
    g_ptr_array_add(out, NULL);
    if (locs)
        *locs = (VgCorrLoc *)g_array_free(where, FALSE);
    else
        g_array_free(where, TRUE);
    return (char **)g_ptr_array_free(out, FALSE);
fail:
    g_ptr_array_set_free_func(out, g_free);
    g_ptr_array_free(out, TRUE);
    g_array_free(where, TRUE);
    return NULL;
}

/* Sigma's timespan: a whole number and one lowercase unit (s, m, h, d; w is accepted too). */
static bool parse_timespan(const VgConfNode *n, int64_t *ms, GError **err)
{
    if (!want_kind(n, VG_NODE_SCALAR, "timespan", err))
        return false;
    const char *s = n->value;
    size_t len = strlen(s), digits = 0;
    while (digits < len && g_ascii_isdigit(s[digits]))
        digits++;
    int64_t mult = 0;
    if (digits > 0 && digits <= 12 && len == digits + 1) {
        switch (s[digits]) {
        case 's':
            mult = 1000;
            break;
        case 'm':
            mult = 60000;
            break;
        case 'h':
            mult = 3600000;
            break;
        case 'd':
            mult = 86400000;
            break;
        case 'w':
            mult = 604800000;
            break;
        default:
            break;
        }
    }
    int64_t v = mult ? g_ascii_strtoll(s, NULL, 10) : 0;
    if (!mult || v <= 0) {
        vg_conf_error(err, n,
                      "timespan '%s' is not a number followed by s, m, h or d (like 30s, 5m, "
                      "1h, 7d)",
                      s);
        return false;
    }
    *ms = v * mult;
    return true;
}

static bool parse_condition(VgCorrRule *r, const VgConfNode *c, GError **err)
{
    if (!want_kind(c, VG_NODE_MAP, "condition", err))
        return false;
    for (guint i = 0; i < c->keys->len; i++) {
        const VgConfNode *k = c->keys->pdata[i], *v = c->items->pdata[i];
        if (!strcmp(k->value, "field")) {
            r->fields = get_list(v, "condition.field", true, NULL, &r->n_fields, err);
            if (!r->fields)
                return false;
            continue;
        }
        int op = -1;
        for (int j = 0; j < (int)G_N_ELEMENTS(cmp_names); j++)
            if (!strcmp(k->value, cmp_names[j]))
                op = j;
        if (op < 0) {
            vg_conf_error(err, k,
                          "condition: unknown key '%s' (expected gt, gte, lt, lte, eq, neq "
                          "or field)",
                          k->value);
            return false;
        }
        double x;
        if (!vg_conf_parse_double(v, &x, err))
            return false;
        r->bounds[r->n_bounds++] = (VgCorrBound){(VgCorrCmp)op, x};
    }
    if (r->n_bounds == 0) {
        vg_conf_error(err, c, "condition needs a comparison (gt, gte, lt, lte, eq or neq)");
        return false;
    }
    /* Reject ranges nothing can satisfy (gt: 10, lt: 5): they are always typos. */
    double lo = -INFINITY, hi = INFINITY;
    bool lo_open = false, hi_open = false;
    for (int i = 0; i < r->n_bounds; i++) {
        double v = r->bounds[i].v;
        VgCorrCmp op = r->bounds[i].op;
        if ((op == VG_CMP_GT || op == VG_CMP_GTE || op == VG_CMP_EQ) &&
            (v > lo || (v == lo && op == VG_CMP_GT))) {
            lo = v;
            lo_open = op == VG_CMP_GT;
        }
        if ((op == VG_CMP_LT || op == VG_CMP_LTE || op == VG_CMP_EQ) &&
            (v < hi || (v == hi && op == VG_CMP_LT))) {
            hi = v;
            hi_open = op == VG_CMP_LT;
        }
    }
    if (lo > hi || (lo == hi && (lo_open || hi_open))) {
        vg_conf_error(err, c, "condition can never be true");
        return false;
    }
    return true;
}

static bool parse_aliases(VgCorrRule *r, const VgConfNode *a, GError **err)
{
    if (!want_kind(a, VG_NODE_MAP, "aliases", err))
        return false;
    GArray *rows = g_array_new(FALSE, TRUE, sizeof(VgCorrAlias));
    for (guint i = 0; i < a->keys->len; i++) {
        const VgConfNode *name = a->keys->pdata[i], *map = a->items->pdata[i];
        if (map->kind != VG_NODE_MAP) {
            vg_conf_error(err, map, "aliases.%s must map rule names to field names", name->value);
            goto fail;
        }
        for (guint j = 0; j < map->keys->len; j++) {
            const VgConfNode *rk = map->keys->pdata[j], *f = map->items->pdata[j];
            if (f->kind != VG_NODE_SCALAR || !*f->value) {
                vg_conf_error(err, f, "aliases.%s.%s must be a field name", name->value, rk->value);
                goto fail;
            }
            VgCorrAlias row = {g_strdup(name->value), g_strdup(rk->value), g_strdup(f->value),
                               loc_of(rk)};
            g_array_append_val(rows, row);
        }
    }
    r->n_aliases = (int)rows->len;
    r->aliases = (VgCorrAlias *)g_array_free(rows, FALSE);
    return true;
fail:
    for (guint i = 0; i < rows->len; i++) {
        VgCorrAlias *row = &g_array_index(rows, VgCorrAlias, i);
        g_free(row->alias);
        g_free(row->rule);
        g_free(row->field);
    }
    g_array_free(rows, TRUE);
    return false;
}

static uint64_t digest_node(const VgConfNode *n, uint64_t h)
{
    h = vg_hash64(&n->kind, sizeof n->kind, h);
    if (n->kind == VG_NODE_SCALAR)
        return vg_hash64(n->value, strlen(n->value) + 1, h);
    for (guint i = 0; i < n->items->len; i++) {
        if (n->keys)
            h = digest_node(n->keys->pdata[i], h);
        h = digest_node(n->items->pdata[i], h);
    }
    return h;
}

static const char *const corr_keys[] = {"type",      "rules",   "group-by", "timespan",
                                        "condition", "aliases", "generate"};

VgCorrRule *vg_corr_rule_parse(const VgConfNode *doc, GError **err)
{
    VgCorrRule *r = g_new0(VgCorrRule, 1);
    r->level = -1;
    if (!want_kind(doc, VG_NODE_MAP, "a correlation rule", err))
        goto fail;
    r->loc = loc_of(doc);
    r->digest = digest_node(doc, 0x5167ac0bull);
    if (!get_string(doc, "title", true, &r->title, err) ||
        !get_string(doc, "id", false, &r->id, err) ||
        !get_string(doc, "name", false, &r->name, err))
        goto fail;
    r->id_loc = r->name_loc = r->loc;
    if (r->id)
        r->id_loc = loc_of(vg_conf_get(doc, "id"));
    if (r->name)
        r->name_loc = loc_of(vg_conf_get(doc, "name"));

    const VgConfNode *n = vg_conf_get(doc, "level");
    if (n && !vg_conf_is_null(n)) {
        if (!want_kind(n, VG_NODE_SCALAR, "level", err))
            goto fail;
        r->level = vg_severity_from_name(n->value);
        if (r->level < 0) {
            vg_conf_error(err, n,
                          "level '%s' is not one of informational, low, medium, high, "
                          "critical",
                          n->value);
            goto fail;
        }
    }
    int n_tags = 0;
    n = vg_conf_get(doc, "tags");
    r->tags = n && !vg_conf_is_null(n) ? get_list(n, "tags", false, NULL, &n_tags, err)
                                       : g_new0(char *, 1);
    if (!r->tags)
        goto fail;

    const VgConfNode *c = vg_conf_get(doc, "correlation");
    if (!c) {
        vg_conf_error(err, doc, "not a correlation rule: no 'correlation' section");
        goto fail;
    }
    if (!want_kind(c, VG_NODE_MAP, "correlation", err))
        goto fail;
    for (guint i = 0; i < c->keys->len; i++) {
        const VgConfNode *k = c->keys->pdata[i];
        bool known = false;
        for (size_t j = 0; j < G_N_ELEMENTS(corr_keys); j++)
            known |= !strcmp(k->value, corr_keys[j]);
        if (!known) {
            vg_conf_error(err, k,
                          "correlation: unknown key '%s' (expected type, rules, group-by, "
                          "timespan, condition, aliases)",
                          k->value);
            goto fail;
        }
    }
    /* `generate` is a top-level attribute in the specification; pySigma also reads it
     * inside the correlation section. Either place works. */
    const VgConfNode *g = vg_conf_get(doc, "generate");
    if (!g)
        g = vg_conf_get(c, "generate");
    if (g && !vg_conf_parse_bool(g, &r->generate, err))
        goto fail;

    n = vg_conf_get(c, "type");
    if (!n) {
        vg_conf_error(err, c, "correlation: 'type' is required");
        goto fail;
    }
    if (!want_kind(n, VG_NODE_SCALAR, "type", err))
        goto fail;
    int type = -1;
    for (int i = 0; i < (int)G_N_ELEMENTS(type_names); i++)
        if (!strcmp(n->value, type_names[i]))
            type = i;
    if (type < 0) {
        if (!strcmp(n->value, "value_percentile"))
            vg_conf_error(err, n, "correlation type value_percentile is not supported by vigil");
        else
            vg_conf_error(err, n,
                          "unknown correlation type '%s' (expected event_count, value_count, "
                          "temporal, temporal_ordered, value_sum or value_avg)",
                          n->value);
        goto fail;
    }
    r->type = (VgCorrType)type;

    n = vg_conf_get(c, "rules");
    if (!n || vg_conf_is_null(n)) {
        vg_conf_error(err, n ? n : c, "correlation: 'rules' is required");
        goto fail;
    }
    r->refs = get_list(n, "rules", true, &r->ref_loc, &r->n_refs, err);
    if (!r->refs)
        goto fail;
    if (r->n_refs == 0 || r->n_refs > VG_CORR_MAX_REFS) {
        vg_conf_error(err, n, "rules: between 1 and %d rules", VG_CORR_MAX_REFS);
        goto fail;
    }

    n = vg_conf_get(c, "group-by");
    if (!n) {
        vg_conf_error(err, c,
                      "correlation: 'group-by' is required (an empty list [] counts "
                      "all events together)");
        goto fail;
    }
    r->group_by = vg_conf_is_null(n) ? g_new0(char *, 1)
                                     : get_list(n, "group-by", true, NULL, &r->n_group, err);
    if (!r->group_by)
        goto fail;
    if (r->n_group > VG_CORR_MAX_GROUP) {
        vg_conf_error(err, n, "group-by: at most %d fields", VG_CORR_MAX_GROUP);
        goto fail;
    }

    n = vg_conf_get(c, "timespan");
    if (!n) {
        vg_conf_error(err, c, "correlation: 'timespan' is required");
        goto fail;
    }
    if (!parse_timespan(n, &r->timespan_ms, err))
        goto fail;
    r->timespan_text = g_strdup(n->value);

    n = vg_conf_get(c, "condition");
    bool temporal = r->type == VG_CORR_TEMPORAL || r->type == VG_CORR_TEMPORAL_ORDERED;
    bool valued = r->type == VG_CORR_VALUE_COUNT || r->type == VG_CORR_VALUE_SUM ||
                  r->type == VG_CORR_VALUE_AVG;
    if (n && !vg_conf_is_null(n)) {
        if (!parse_condition(r, n, err))
            goto fail;
        r->has_condition = true;
    } else if (!temporal) {
        vg_conf_error(err, n ? n : c, "correlation: %s needs a 'condition'", type_names[r->type]);
        goto fail;
    } else {
        /* temporal without a condition: every referenced rule must match */
        r->bounds[r->n_bounds++] = (VgCorrBound){VG_CMP_GTE, r->n_refs};
    }
    if (valued && r->n_fields == 0) {
        vg_conf_error(err, n, "condition: %s needs 'field'", type_names[r->type]);
        goto fail;
    }
    if (!valued && r->n_fields) {
        vg_conf_error(err, n,
                      "condition: 'field' is only for value_count, value_sum and "
                      "value_avg");
        goto fail;
    }
    if ((r->type == VG_CORR_VALUE_SUM || r->type == VG_CORR_VALUE_AVG) && r->n_fields != 1) {
        vg_conf_error(err, n, "condition: %s takes exactly one field", type_names[r->type]);
        goto fail;
    }
    if (r->n_fields > VG_CORR_MAX_FIELDS) {
        vg_conf_error(err, n, "condition.field: at most %d fields", VG_CORR_MAX_FIELDS);
        goto fail;
    }
    if (temporal && r->has_condition) {
        for (int i = 0; i < r->n_bounds; i++) {
            if (r->bounds[i].v > r->n_refs && r->bounds[i].op != VG_CMP_LT &&
                r->bounds[i].op != VG_CMP_LTE && r->bounds[i].op != VG_CMP_NEQ) {
                vg_conf_error(err, n, "condition: a %s rule counts at most %d rules",
                              type_names[r->type], r->n_refs);
                goto fail;
            }
        }
    }

    n = vg_conf_get(c, "aliases");
    if (n && !vg_conf_is_null(n) && !parse_aliases(r, n, err))
        goto fail;
    return r;
fail:
    vg_corr_rule_free(r);
    return NULL;
}

void vg_corr_rule_free(VgCorrRule *r)
{
    if (!r)
        return;
    g_free(r->id);
    g_free(r->name);
    g_free(r->title);
    g_free(r->ruleset);
    g_strfreev(r->tags);
    g_strfreev(r->refs);
    g_free(r->ref_loc);
    g_strfreev(r->group_by);
    g_free(r->timespan_text);
    g_strfreev(r->fields);
    for (int i = 0; i < r->n_aliases; i++) {
        g_free(r->aliases[i].alias);
        g_free(r->aliases[i].rule);
        g_free(r->aliases[i].field);
    }
    g_free(r->aliases);
    g_free(r);
}

const char *vg_corr_rule_id(const VgCorrRule *r)
{
    return r->id ? r->id : r->name ? r->name : r->title;
}

const char *vg_corr_rule_name(const VgCorrRule *r)
{
    return r->name;
}

const char *vg_corr_rule_title(const VgCorrRule *r)
{
    return r->title;
}

const char *const *vg_corr_rule_refs(const VgCorrRule *r)
{
    return (const char *const *)r->refs;
}

void vg_corr_rule_set_ruleset(VgCorrRule *r, const char *ruleset)
{
    g_free(r->ruleset);
    r->ruleset = g_strdup(ruleset);
}

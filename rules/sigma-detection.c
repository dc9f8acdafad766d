/* sigma-detection.c — the `detection` section of a rule (or the body of a filter) compiled
 * into search identifiers and a condition.
 *
 * A search identifier is a map (its entries AND), a list (its items OR: maps, or plain
 * values that are keywords searched in the whole log line), or a single keyword. Each map
 * entry is one SigTest (sigma-value.c). The condition is a string, or a list of strings
 * that are OR'ed; sigma-cond.c parses it against the identifiers defined here.
 */
#include "rules/sigma.h"

static SigNode *node_new(SigNodeKind k)
{
    SigNode *n = g_new0(SigNode, 1);
    n->kind = (uint8_t)k;
    return n;
}

static void node_add(SigNode *parent, SigNode *kid)
{
    parent->kids = g_renew(SigNode *, parent->kids, parent->n + 1);
    parent->kids[parent->n++] = kid;
}

static void node_free(SigNode *n)
{
    if (!n)
        return;
    for (int i = 0; i < n->n; i++)
        node_free(n->kids[i]);
    g_free(n->kids);
    sig_test_free(n->test);
    g_free(n);
}

static SigNode *test_node(SigTest *t)
{
    SigNode *n = node_new(SIG_N_TEST);
    n->test = t;
    return n;
}

/* An AND or OR of one thing is that thing: one level less to walk per event. */
static SigNode *simplify(SigNode *n)
{
    if (n->kind != SIG_N_TEST && n->n == 1) {
        SigNode *k = n->kids[0];
        g_free(n->kids);
        g_free(n);
        return k;
    }
    return n;
}

static SigNode *compile_map(const VgConfNode *map, const SigCompileOpts *o, GError **err)
{
    if (map->keys->len == 0) {
        vg_conf_error(err, map, "an empty mapping matches nothing; give at least one field");
        return NULL;
    }
    SigNode *and = node_new(SIG_N_AND);
    for (guint i = 0; i < map->keys->len; i++) {
        SigTest *t = sig_test_compile(map->keys->pdata[i], map->items->pdata[i], o, err);
        if (!t) {
            node_free(and);
            return NULL;
        }
        node_add(and, test_node(t));
    }
    return simplify(and);
}

static SigNode *compile_ident(const VgConfNode *key, const VgConfNode *v, const SigCompileOpts *o,
                              GError **err)
{
    if (v->kind == VG_NODE_MAP)
        return compile_map(v, o, err);
    if (v->kind == VG_NODE_SCALAR) {
        SigTest *t = sig_test_keyword(v, err);
        return t ? test_node(t) : NULL;
    }
    if (v->items->len == 0) {
        vg_conf_error(err, v, "search identifier '%s' is an empty list", key->value);
        return NULL;
    }
    SigNode * or = node_new(SIG_N_OR);
    for (guint i = 0; i < v->items->len; i++) {
        const VgConfNode *it = v->items->pdata[i];
        SigNode *k = NULL;
        if (it->kind == VG_NODE_MAP) {
            k = compile_map(it, o, err);
        } else if (it->kind == VG_NODE_SCALAR) {
            SigTest *t = sig_test_keyword(it, err);
            k = t ? test_node(t) : NULL;
        } else {
            vg_conf_error(err, it, "a list inside a list is not Sigma; use a mapping or values");
        }
        if (!k) {
            node_free(or);
            return NULL;
        }
        node_add(or, k);
    }
    return simplify(or);
}

void sig_detection_clear(SigDetection *d)
{
    for (int i = 0; i < d->n_idents; i++) {
        g_free(d->names[i]);
        node_free(d->nodes[i]);
    }
    g_free(d->names);
    g_free(d->nodes);
    sig_cond_free(d->cond);
    memset(d, 0, sizeof *d);
}

bool sig_detection_compile(SigDetection *d, const VgConfNode *map, const char *const *skip_keys,
                           const VgConfNode *cond_node, const SigCompileOpts *o, GError **err)
{
    memset(d, 0, sizeof *d);
    if (map->kind != VG_NODE_MAP)
        return vg_conf_error(err, map, "detection must be a mapping of search identifiers"), false;
    GPtrArray *names = g_ptr_array_new();
    GPtrArray *nodes = g_ptr_array_new();
    for (guint i = 0; i < map->keys->len; i++) {
        const VgConfNode *k = map->keys->pdata[i];
        if (!strcmp(k->value, "condition") || (skip_keys && g_strv_contains(skip_keys, k->value)))
            continue;
        if (!strcmp(k->value, "timeframe")) {
            vg_conf_error(err, k,
                          "timeframe belongs to the aggregation syntax removed in Sigma 2.0; "
                          "write a correlation rule with a timespan instead");
            goto fail;
        }
        if (!*k->value || strchr(k->value, '|') || strchr(k->value, ' ')) {
            vg_conf_error(err, k, "'%s' is not a search identifier name", k->value);
            goto fail;
        }
        SigNode *n = compile_ident(k, map->items->pdata[i], o, err);
        if (!n)
            goto fail;
        g_ptr_array_add(names, g_strdup(k->value));
        g_ptr_array_add(nodes, n);
    }
    d->n_idents = (int)names->len;
    d->names = (char **)g_ptr_array_free(names, FALSE);
    d->nodes = (SigNode **)g_ptr_array_free(nodes, FALSE);
    names = nodes = NULL;
    if (d->n_idents == 0) {
        vg_conf_error(err, map, "no search identifiers (selections) defined");
        goto fail;
    }
    if (!cond_node) {
        vg_conf_error(err, map, "condition is missing");
        goto fail;
    }
    if (cond_node->kind == VG_NODE_SCALAR) {
        if (!(d->cond = sig_cond_parse(cond_node->value, d, cond_node, err)))
            goto fail;
    } else if (cond_node->kind == VG_NODE_SEQ && cond_node->items->len > 0) {
        /* a list of conditions: any of them */
        d->cond = g_new0(SigCond, 1);
        d->cond->kind = SIG_C_OR;
        for (guint i = 0; i < cond_node->items->len; i++) {
            const VgConfNode *c = cond_node->items->pdata[i];
            SigCond *one = NULL;
            if (c->kind != VG_NODE_SCALAR)
                vg_conf_error(err, c, "a condition must be a string");
            else
                one = sig_cond_parse(c->value, d, c, err);
            if (!one)
                goto fail;
            d->cond->kids = g_renew(SigCond *, d->cond->kids, d->cond->n + 1);
            d->cond->kids[d->cond->n++] = one;
        }
    } else {
        vg_conf_error(err, cond_node, "condition must be a string or a list of strings");
        goto fail;
    }
    return true;
fail:
    if (names) {
        g_ptr_array_set_free_func(names, g_free);
        g_ptr_array_free(names, TRUE);
        for (guint i = 0; i < nodes->len; i++)
            node_free(nodes->pdata[i]);
        g_ptr_array_free(nodes, TRUE);
    }
    sig_detection_clear(d);
    return false;
}

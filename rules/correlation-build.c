/* correlation-build.c — from parsed correlation rules to a runnable VgCorrSet.
 *
 * Everything that can be decided once is decided here, so that the per-event path only
 * follows arrays: which detection rules feed which correlations (det_listeners), which
 * correlations feed which (parents, for chains), the order in which windows are closed
 * (children first, so a chain settles in one watermark step), the fields to read per
 * referenced rule after `aliases`, the state kind of each rule's groups, and what the
 * alert's entity is. Errors name the file, line and column of the offending entry.
 */
#include "rules/correlation-set.h"

static const char *const entity_names[] = {
    [VG_F_CLIENT_IP] = "client_ip",
    [VG_F_TOKEN] = "token",
    [VG_F_USER] = "user",
    [VG_F_ENDPOINT] = "endpoint",
};

static int loc_error(GError **err, const VgCorrLoc *l, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static int loc_error(GError **err, const VgCorrLoc *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(err, VG_ERROR, VG_ECONFIG, "%s:%d:%d: %s", l->file ? l->file : "?", l->line, l->col,
                msg);
    g_free(msg);
    return VG_ECONFIG;
}

static int find_corr(VgCorrSet *s, const char *ref)
{
    for (int j = 0; j < s->n_rules; j++) {
        const VgCorrRule *c = s->rules[j].r;
        if ((c->id && !strcmp(c->id, ref)) || (c->name && !strcmp(c->name, ref)))
            return j;
    }
    return -1;
}

static bool resolve_refs(VgCorrSet *s, VgCorrResolve resolve, void *user, int *bad, GError **err)
{
    for (int i = 0; i < s->n_rules; i++) {
        *bad = i;
        CorrRuleState *rs = &s->rules[i];
        const VgCorrRule *r = rs->r;
        rs->ref_det = g_new(int, r->n_refs);
        rs->ref_corr = g_new(int, r->n_refs);
        for (int p = 0; p < r->n_refs; p++) {
            int c = find_corr(s, r->refs[p]);
            int d = resolve ? resolve(user, r->refs[p]) : -1;
            if (d >= s->n_det)
                d = -1;
            if (c >= 0 && d >= 0) {
                loc_error(err, &r->ref_loc[p],
                          "correlation '%s': '%s' names both a detection rule and a "
                          "correlation rule",
                          r->title, r->refs[p]);
                return false;
            }
            if (c < 0 && d < 0) {
                loc_error(err, &r->ref_loc[p], "correlation '%s': unknown rule '%s'", r->title,
                          r->refs[p]);
                return false;
            }
            rs->ref_det[p] = d;
            rs->ref_corr[p] = c;
            for (int q = 0; q < p; q++) {
                if ((d >= 0 && rs->ref_det[q] == d) || (c >= 0 && rs->ref_corr[q] == c)) {
                    loc_error(err, &r->ref_loc[p],
                              "correlation '%s': '%s' is the same rule as '%s'", r->title,
                              r->refs[p], r->refs[q]);
                    return false;
                }
            }
        }
    }
    return true;
}

/* Depth-first: 0 unvisited, 1 on the stack, 2 done. Appends to order children first. */
static bool visit(VgCorrSet *s, int i, uint8_t *mark, int *n_order, int *bad, GError **err)
{
    if (mark[i] == 2)
        return true;
    mark[i] = 1;
    const CorrRuleState *rs = &s->rules[i];
    for (int p = 0; p < rs->r->n_refs; p++) {
        int c = rs->ref_corr[p];
        if (c < 0)
            continue;
        if (mark[c] == 1) {
            *bad = i;
            loc_error(err, &rs->r->ref_loc[p],
                      "correlation '%s': referring to '%s' makes a cycle of correlations",
                      rs->r->title, rs->r->refs[p]);
            return false;
        }
        if (!visit(s, c, mark, n_order, bad, err))
            return false;
    }
    mark[i] = 2;
    s->order[(*n_order)++] = i;
    return true;
}

/* The position in rs's `rules:` an alias row refers to, or -1. */
static int alias_target(VgCorrSet *s, const CorrRuleState *rs, const VgCorrAlias *a,
                        VgCorrResolve resolve, void *user)
{
    const VgCorrRule *r = rs->r;
    for (int p = 0; p < r->n_refs; p++)
        if (!strcmp(r->refs[p], a->rule))
            return p;
    int c = find_corr(s, a->rule);
    int d = c < 0 && resolve ? resolve(user, a->rule) : -1;
    for (int p = 0; p < r->n_refs; p++)
        if ((c >= 0 && rs->ref_corr[p] == c) || (d >= 0 && rs->ref_det[p] == d))
            return p;
    return -1;
}

static void getter_init(CorrGetter *g, const char *field, const VgCorrRule *child)
{
    g->id = vg_field_resolve(field);
    g->name = g_strdup(field);
    g->len = strlen(field);
    g->child = -1;
    for (int i = 0; child && i < child->n_group; i++)
        if (!strcmp(child->group_by[i], field))
            g->child = i;
}

static bool compile_fields(VgCorrSet *s, CorrRuleState *rs, VgCorrResolve resolve, void *user,
                           GError **err)
{
    const VgCorrRule *r = rs->r;
    int per = r->n_group + r->n_fields;
    for (int a = 0; a < r->n_aliases; a++) {
        if (alias_target(s, rs, &r->aliases[a], resolve, user) < 0) {
            loc_error(err, &r->aliases[a].loc,
                      "correlation '%s': aliases.%s: '%s' is not one of its rules", r->title,
                      r->aliases[a].alias, r->aliases[a].rule);
            return false;
        }
    }
    rs->n_get = (size_t)r->n_refs * (size_t)per;
    rs->get = g_new0(CorrGetter, rs->n_get ? rs->n_get : 1);
    for (int p = 0; p < r->n_refs; p++) {
        const VgCorrRule *child = rs->ref_corr[p] >= 0 ? s->rules[rs->ref_corr[p]].r : NULL;
        for (int i = 0; i < per; i++) {
            const char *name = i < r->n_group ? r->group_by[i] : r->fields[i - r->n_group];
            const char *field = name;
            for (int a = 0; a < r->n_aliases; a++)
                if (!strcmp(r->aliases[a].alias, name) &&
                    alias_target(s, rs, &r->aliases[a], resolve, user) == p)
                    field = r->aliases[a].field;
            getter_init(&rs->get[(size_t)p * (size_t)per + (size_t)i], field, child);
        }
    }
    /* The entity: a group-by value is a known entity field when every referenced rule
     * reads it from the same canonical field. */
    rs->entity_field = g_new(VgFieldId, r->n_group ? r->n_group : 1);
    bool known = r->n_group > 0;
    GString *type = g_string_new(NULL);
    for (int i = 0; i < r->n_group; i++) {
        VgFieldId f = rs->get[i].id;
        for (int p = 1; p < r->n_refs; p++)
            if (rs->get[(size_t)p * (size_t)per + (size_t)i].id != f)
                f = VG_F_EXTRA;
        rs->entity_field[i] = f;
        bool entity = f >= 0 && f < (VgFieldId)G_N_ELEMENTS(entity_names) && entity_names[f];
        if (!entity) {
            known = false;
            continue;
        }
        if (!strstr(type->str, entity_names[f]))
            g_string_append_printf(type, "%s%s", type->len ? "_" : "", entity_names[f]);
    }
    if (known) {
        rs->entity_type_owned = g_string_free(type, FALSE);
        rs->entity_type = rs->entity_type_owned;
    } else {
        g_string_free(type, TRUE);
        rs->entity_type = "group";
    }
    return true;
}

static void choose_state(CorrRuleState *rs)
{
    const VgCorrRule *r = rs->r;
    rs->sliding = vg_corr_cond_is_lower(r);
    rs->k = vg_corr_cond_min_count(r);
    bool exact = rs->k <= VG_CORR_EXACT_MAX;
    switch (r->type) {
    case VG_CORR_EVENT_COUNT:
        rs->state = !rs->sliding ? CORR_ST_TOTALS : exact ? CORR_ST_TIMES : CORR_ST_BUCKETS;
        break;
    case VG_CORR_VALUE_COUNT:
        rs->state = !rs->sliding ? CORR_ST_DISTINCT : exact ? CORR_ST_RECENT : CORR_ST_SLIDE_HLL;
        break;
    case VG_CORR_VALUE_SUM:
    case VG_CORR_VALUE_AVG:
        rs->state = rs->sliding ? CORR_ST_BUCKETS : CORR_ST_TOTALS;
        break;
    case VG_CORR_TEMPORAL:
    case VG_CORR_TEMPORAL_ORDERED:
        rs->state = CORR_ST_LAST;
        break;
    }
}

/* An empty set of n_rules rule slots over n_det detection rules: no wiring yet, no
 * groups. */
static VgCorrSet *set_alloc(int n_rules, int n_det, int64_t max_groups, int64_t max_bytes)
{
    VgCorrSet *s = g_new0(VgCorrSet, 1);
    s->n_rules = n_rules;
    s->rules = g_new0(CorrRuleState, s->n_rules ? s->n_rules : 1);
    s->n_det = n_det > 0 ? n_det : 0;
    s->det_listeners = g_new0(GArray *, s->n_det ? s->n_det : 1);
    s->det_suppressed = g_new0(bool, s->n_det ? s->n_det : 1);
    s->order = g_new0(int, s->n_rules ? s->n_rules : 1);
    s->live_until = INT64_MIN;
    vg_corr_index_init(s);
    s->max_groups = max_groups > 0 ? max_groups : 100000;
    s->max_bytes = max_bytes > 0 ? max_bytes : (256ll << 20);
    s->key = g_string_sized_new(128);
    s->val = g_string_sized_new(128);
    s->text = g_string_sized_new(256);
    vg_arena_init(&s->arena, 4096);
    return s;
}

/* Builds a set from rules without taking them over when it fails: then NULL is returned,
 * err set and *bad is the index of the rule at fault (or -1). On success the set owns the
 * rules and rules is emptied. */
static VgCorrSet *build(GPtrArray *rules, int n_det, VgCorrResolve resolve, void *user,
                        const VgCorrLimits *lim, int *bad, GError **err)
{
    VgCorrSet *s =
        set_alloc((int)rules->len, n_det, lim ? lim->max_groups : 0, lim ? lim->max_bytes : 0);
    *bad = -1;
    for (int i = 0; i < s->n_rules; i++) {
        s->rules[i].r = rules->pdata[i];
        s->rules[i].parents = g_array_new(FALSE, FALSE, sizeof(CorrListener));
    }

    for (int i = 0; i < s->n_rules; i++) {
        for (int j = 0; j < i; j++) {
            const VgCorrRule *a = s->rules[i].r, *b = s->rules[j].r;
            if ((a->id && b->id && !strcmp(a->id, b->id)) ||
                (a->name && b->name && !strcmp(a->name, b->name))) {
                bool id = a->id && b->id && !strcmp(a->id, b->id);
                loc_error(err, id ? &a->id_loc : &a->name_loc,
                          "correlation '%s': its %s is already used by '%s'", a->title,
                          id ? "id" : "name", b->title);
                *bad = i;
                goto fail;
            }
        }
    }
    if (!resolve_refs(s, resolve, user, bad, err))
        goto fail;
    uint8_t *mark = g_new0(uint8_t, s->n_rules ? s->n_rules : 1);
    int n_order = 0;
    bool ok = true;
    for (int i = 0; ok && i < s->n_rules; i++)
        ok = visit(s, i, mark, &n_order, bad, err);
    g_free(mark);
    if (!ok)
        goto fail;
    for (int i = 0; i < s->n_rules; i++) {
        CorrRuleState *rs = &s->rules[i];
        *bad = i;
        if (!compile_fields(s, rs, resolve, user, err))
            goto fail;
        choose_state(rs);
    }
    *bad = -1;

    /* Wiring. A referenced rule stays quiet unless a correlation referring to it asks for
     * `generate`; listeners are kept in descending position order per rule so that one
     * event matching two steps of a temporal_ordered rule cannot complete both. */
    bool *generated = g_new0(bool, (size_t)s->n_det + (size_t)s->n_rules + 1);
    bool *referenced = g_new0(bool, (size_t)s->n_det + (size_t)s->n_rules + 1);
    for (int i = 0; i < s->n_rules; i++) {
        CorrRuleState *rs = &s->rules[i];
        for (int p = rs->r->n_refs - 1; p >= 0; p--) {
            CorrListener l = {i, p};
            int d = rs->ref_det[p], c = rs->ref_corr[p];
            size_t slot = d >= 0 ? (size_t)d : (size_t)s->n_det + (size_t)c;
            referenced[slot] = true;
            generated[slot] |= rs->r->generate;
            if (d >= 0) {
                if (!s->det_listeners[d])
                    s->det_listeners[d] = g_array_new(FALSE, FALSE, sizeof(CorrListener));
                g_array_append_val(s->det_listeners[d], l);
            } else {
                g_array_append_val(s->rules[c].parents, l);
            }
        }
    }
    for (int d = 0; d < s->n_det; d++)
        s->det_suppressed[d] = referenced[d] && !generated[d];
    for (int c = 0; c < s->n_rules; c++)
        s->rules[c].quiet = referenced[s->n_det + c] && !generated[s->n_det + c];
    g_free(generated);
    g_free(referenced);
    g_ptr_array_set_size(rules, 0);
    return s;
fail:
    for (int i = 0; i < s->n_rules; i++)
        s->rules[i].r = NULL; /* still the caller's */
    vg_corr_set_free(s);
    return NULL;
}

VgCorrSet *vg_corr_set_new(GPtrArray *rules, int n_det, VgCorrResolve resolve, void *user,
                           const VgCorrLimits *lim, GError **err)
{
    int bad;
    VgCorrSet *s = build(rules, n_det, resolve, user, lim, &bad, err);
    if (!s) {
        for (guint i = 0; i < rules->len; i++)
            vg_corr_rule_free(rules->pdata[i]);
        g_ptr_array_set_size(rules, 0);
    }
    return s;
}

VgCorrSet *vg_corr_set_new_partial(GPtrArray *rules, int n_det, VgCorrResolve resolve, void *user,
                                   const VgCorrLimits *lim, GPtrArray *errors)
{
    /* Drop the rule at fault and try again: a correlation that referred to a dropped one
     * then fails as an unknown reference and goes too. Rule sets are small. */
    for (;;) {
        int bad;
        GError *e = NULL;
        VgCorrSet *s = build(rules, n_det, resolve, user, lim, &bad, &e);
        if (s)
            return s;
        if (errors)
            g_ptr_array_add(errors, e);
        else
            g_error_free(e);
        if (bad < 0 || bad >= (int)rules->len) {
            for (guint i = 0; i < rules->len; i++)
                vg_corr_rule_free(rules->pdata[i]);
            g_ptr_array_set_size(rules, 0);
        } else {
            vg_corr_rule_free(rules->pdata[bad]);
            g_ptr_array_remove_index(rules, (guint)bad);
        }
    }
}

static GArray *listeners_dup(const GArray *a)
{
    if (!a)
        return NULL;
    GArray *c = g_array_sized_new(FALSE, FALSE, sizeof(CorrListener), a->len);
    g_array_append_vals(c, a->data, a->len);
    return c;
}

VgCorrSet *vg_corr_set_clone(const VgCorrSet *proto)
{
    if (!proto)
        return NULL;
    VgCorrSet *s = set_alloc(proto->n_rules, proto->n_det, proto->max_groups, proto->max_bytes);
    s->rules_borrowed = true;
    for (int i = 0; i < s->n_rules; i++) {
        const CorrRuleState *p = &proto->rules[i];
        CorrRuleState *rs = &s->rules[i];
        /* the wiring is copied; what a group keeps (head, tail, last_ev, ...) starts empty */
        rs->r = p->r;
        rs->state = p->state;
        rs->sliding = p->sliding;
        rs->quiet = p->quiet;
        rs->k = p->k;
        rs->ref_det = g_memdup2(p->ref_det, (size_t)p->r->n_refs * sizeof(int));
        rs->ref_corr = g_memdup2(p->ref_corr, (size_t)p->r->n_refs * sizeof(int));
        rs->n_get = p->n_get;
        rs->get = g_memdup2(p->get, (p->n_get ? p->n_get : 1) * sizeof(CorrGetter));
        for (size_t j = 0; j < p->n_get; j++)
            rs->get[j].name = g_strdup(p->get[j].name);
        rs->parents = listeners_dup(p->parents);
        rs->entity_field = g_memdup2(p->entity_field, (size_t)(p->r->n_group ? p->r->n_group : 1) *
                                                          sizeof(VgFieldId));
        rs->entity_type_owned = g_strdup(p->entity_type_owned);
        rs->entity_type = rs->entity_type_owned ? rs->entity_type_owned : p->entity_type;
    }
    memcpy(s->order, proto->order, (size_t)s->n_rules * sizeof(int));
    for (int d = 0; d < s->n_det; d++) {
        s->det_listeners[d] = listeners_dup(proto->det_listeners[d]);
        s->det_suppressed[d] = proto->det_suppressed[d];
    }
    s->emit = proto->emit;
    s->emit_user = proto->emit_user;
    return s;
}

void vg_corr_set_free(VgCorrSet *s)
{
    if (!s)
        return;
    vg_corr_set_clear_groups(s);
    while (s->free_list) {
        CorrGroup *g = s->free_list;
        s->free_list = g->next;
        vg_corr_group_free(g);
    }
    for (int i = 0; i < s->n_rules; i++) {
        CorrRuleState *rs = &s->rules[i];
        for (size_t j = 0; rs->get && j < rs->n_get; j++)
            g_free(rs->get[j].name);
        g_free(rs->get);
        g_free(rs->ref_det);
        g_free(rs->ref_corr);
        g_free(rs->entity_field);
        g_free(rs->entity_type_owned);
        if (rs->parents)
            g_array_free(rs->parents, TRUE);
        if (!s->rules_borrowed)
            vg_corr_rule_free(rs->r);
    }
    g_free(s->rules);
    for (int d = 0; d < s->n_det; d++)
        if (s->det_listeners[d])
            g_array_free(s->det_listeners[d], TRUE);
    g_free(s->det_listeners);
    g_free(s->det_suppressed);
    g_free(s->order);
    g_free(s->index);
    if (s->key)
        g_string_free(s->key, TRUE);
    if (s->val)
        g_string_free(s->val, TRUE);
    if (s->text)
        g_string_free(s->text, TRUE);
    if (s->group)
        g_string_free(s->group, TRUE);
    vg_arena_destroy(&s->arena);
    g_free(s);
}

int vg_corr_set_size(const VgCorrSet *s)
{
    return s ? s->n_rules : 0;
}

const VgCorrRule *vg_corr_set_rule(const VgCorrSet *s, int i)
{
    return s && i >= 0 && i < s->n_rules ? s->rules[i].r : NULL;
}

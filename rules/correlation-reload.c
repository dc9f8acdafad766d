/* correlation-reload.c — keeping correlation state across a rule reload.
 *
 * On SIGHUP the rules are read again into a new set; a correlation whose id and document
 * are unchanged keeps its open windows, so an attack in progress is not forgotten because
 * an analyst fixed a typo in another rule. The new set is fresh (no events yet), so its
 * groups are created here, and each old group's window state is copied over: the state
 * kind depends only on the rule's content, which is the same, and the pointers inside a
 * group's state all point into its two buffers, so moving them is a matter of rebasing.
 */
#include "rules/correlation-set.h"

static void *rebase(void *p, const VgCorrBuf *from, const VgCorrBuf *to)
{
    if (!p)
        return NULL;
    uint8_t *q = p;
    if (from->p && q >= from->p && q < from->p + from->cap)
        return to->p + (q - from->p);
    return p;
}

void vg_corr_group_copy(VgCorrSet *s, CorrGroup *dst, const CorrGroup *src)
{
    size_t before = dst->a.cap + dst->b.cap;
    if (src->a.cap)
        memcpy(vg_corr_buf_need(&dst->a, src->a.cap), src->a.p, src->a.cap);
    if (src->b.cap)
        memcpy(vg_corr_buf_need(&dst->b, src->b.cap), src->b.p, src->b.cap);
    s->bytes += (int64_t)(dst->a.cap + dst->b.cap) - (int64_t)before;
    dst->first_ms = src->first_ms;
    dst->last_ms = src->last_ms;
    dst->quiet_until = src->quiet_until;
    dst->count = src->count;
    dst->sum = src->sum;
    dst->u = src->u;
    /* Every pointer of the union points into a or b: move them to dst's buffers. */
    switch (s->rules[dst->rule].state) {
    case CORR_ST_TIMES:
        dst->u.times.t = rebase(src->u.times.t, &src->a, &dst->a);
        break;
    case CORR_ST_RECENT:
        dst->u.recent.e = rebase(src->u.recent.e, &src->a, &dst->a);
        break;
    case CORR_ST_SLIDE_HLL:
        dst->u.slide.reg = rebase(src->u.slide.reg, &src->a, &dst->a);
        break;
    case CORR_ST_BUCKETS:
        dst->u.buckets.b = rebase(src->u.buckets.b, &src->a, &dst->a);
        break;
    case CORR_ST_DISTINCT:
        dst->u.distinct.slot = rebase(src->u.distinct.slot, &src->a, &dst->a);
        dst->u.distinct.hll = rebase(src->u.distinct.hll, &src->b, &dst->b);
        break;
    case CORR_ST_LAST:
        dst->u.last = rebase(src->u.last, &src->a, &dst->a);
        break;
    case CORR_ST_TOTALS:
        break;
    }
}

int vg_corr_set_adopt(VgCorrSet *s, VgCorrSet *old)
{
    if (!s || !old)
        return 0;
    int kept = 0;
    for (int i = 0; i < s->n_rules; i++) {
        const VgCorrRule *r = s->rules[i].r;
        int j;
        for (j = 0; j < old->n_rules; j++) {
            const VgCorrRule *o = old->rules[j].r;
            if (o->digest == r->digest && !strcmp(vg_corr_rule_id(o), vg_corr_rule_id(r)))
                break;
        }
        if (j == old->n_rules)
            continue;
        kept++;
        GPtrArray *by_use = g_ptr_array_sized_new((guint)old->rules[j].n_groups);
        const CorrRuleState *ors = &old->rules[j];
        for (const CorrGroup *g = vg_corr_first_by_use(ors); g; g = vg_corr_next_by_use(ors, g))
            g_ptr_array_add(by_use, (gpointer)g);
        for (guint k = 0; k < by_use->len; k++) {
            CorrGroup *g = by_use->pdata[k];
            bool created;
            CorrGroup *n = vg_corr_group_get(s, i, g->key, g->key_len, g->first_ms, &created);
            if (!n)
                break;
            vg_corr_group_copy(s, n, g);
            n->touch = ++s->touch;
            vg_corr_group_release(old, g);
        }
        g_ptr_array_free(by_use, TRUE);
    }
    return kept;
}

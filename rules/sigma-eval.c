/* sigma-eval.c — evaluating compiled Sigma rules on one event.
 *
 * The prefilter scans the event's fields first; then only the rules whose guard literal
 * was seen, plus the few without a guard, are evaluated, in rule order. The condition is
 * walked lazily with short-circuit; each search identifier is evaluated at most once per
 * rule (a generation-stamped memo), so `sel and not 1 of sel*` costs one evaluation of sel.
 * String tests on scanned fields are answered from the prefilter's stamps (literal found
 * anywhere / at the start / at the end) without touching the bytes, and integers (equal,
 * or compared with lt, lte, gt, gte) are read straight from the event; every other test
 * goes to sigma-test.c. Per event this file only writes into the scratch: no allocation.
 */
#include "rules/sigma.h"

/* Where string field f lives in the event (RAW: the line); NULL when absent. */
static inline const VgStr *field_str(const VgEvent *ev, int f)
{
    if (f == SIG_FIELD_RAW)
        return &ev->raw;
    if (!vg_event_has(ev, (VgFieldId)f))
        return NULL;
    return (const VgStr *)((const char *)ev + sig_str_offset(f));
}

/* The common tests on a short path: a string test on a scanned field answered from the
 * prefilter's stamps, a number on an integer field. Everything else: sig_test_slow(). */
static inline bool test_eval(const SigTest *t, VgRuleScratch *s)
{
    if (t->fast == SIG_FAST_STR && s->scanned) {
        const VgStr *v = field_str(s->ev, t->field.id);
        if (!v || (t->field.id == SIG_FIELD_RAW && !v->p))
            return false;
        const char *h = v->p ? v->p : "";
        for (int i = 0; i < t->n; i++) {
            bool m = sig_pat_scanned(&t->pats[i], h, v->len, s);
            if (t->all) {
                if (!m)
                    return false;
            } else if (m) {
                return !t->neg;
            }
        }
        return t->all || t->neg;
    }
    if (t->fast == SIG_FAST_INT || t->fast == SIG_FAST_INT_CMP) {
        const VgEvent *ev = s->ev;
        if (!vg_event_has(ev, (VgFieldId)t->field.id))
            return false;
        int64_t x = t->field.id == VG_F_STATUS      ? ev->status
                    : t->field.id == VG_F_BYTES_OUT ? ev->bytes_out
                    : t->field.id == VG_F_BYTES_IN  ? ev->bytes_in
                                                    : ev->time_ms;
        for (int i = 0; i < t->n; i++) {
            bool m = t->fast == SIG_FAST_INT
                         ? x == t->pats[i].num_i
                         : sig_cmp_holds((x > t->nums[i].i) - (x < t->nums[i].i), t->nums[i].cmp);
            if (t->all) {
                if (!m)
                    return false;
            } else if (m) {
                return !t->neg;
            }
        }
        return t->all || t->neg;
    }
    if (t->fast == SIG_FAST_RE && s->scanned) {
        /* run pcre2 only if some pattern's literals (and digit run) are there */
        const VgStr *v = field_str(s->ev, t->field.id);
        if (!v || !v->p)
            return false;
        bool worth = false;
        for (int i = 0; i < t->n && !worth; i++) {
            bool lits = !t->re_lits[i];
            for (int k = 0; !lits && k < t->re_n_lits[i]; k++)
                lits = s->lit_found[t->re_lits[i][k]] == s->gen;
            if (lits && t->re_shape && t->re_shape[i] >= 0)
                lits = s->lit_found[t->re_shape[i]] == s->gen;
            worth = lits;
        }
        if (!worth && !t->neg && !t->all)
            return false;
    } else if (t->fast == SIG_FAST_PRESENT) {
        bool has = vg_event_has(s->ev, (VgFieldId)t->field.id);
        return t->kind == SIG_T_NULL ? !has : has == t->exists;
    }
    return sig_test_slow(t, s);
}

static bool node_eval(const SigNode *n, VgRuleScratch *s)
{
    switch (n->kind) {
    case SIG_N_TEST:
        return test_eval(n->test, s);
    case SIG_N_AND:
        for (int i = 0; i < n->n; i++)
            if (!node_eval(n->kids[i], s))
                return false;
        return true;
    default:
        for (int i = 0; i < n->n; i++)
            if (node_eval(n->kids[i], s))
                return true;
        return false;
    }
}

static bool ident_eval(const SigDetection *d, int i, VgRuleScratch *s)
{
    if (s->memo_gen[i] == s->eval_gen)
        return s->memo_val[i];
    bool r = node_eval(d->nodes[i], s);
    s->memo_gen[i] = s->eval_gen;
    s->memo_val[i] = r;
    return r;
}

static bool cond_eval(const SigCond *c, const SigDetection *d, VgRuleScratch *s)
{
    switch (c->kind) {
    case SIG_C_IDENT:
        return ident_eval(d, c->ident, s);
    case SIG_C_NOT:
        return !cond_eval(c->kids[0], d, s);
    case SIG_C_AND:
        for (int i = 0; i < c->n; i++)
            if (!cond_eval(c->kids[i], d, s))
                return false;
        return true;
    case SIG_C_OR:
        for (int i = 0; i < c->n; i++)
            if (cond_eval(c->kids[i], d, s))
                return true;
        return false;
    default:
        return false;
    }
}

static void next_eval_gen(VgRuleScratch *s)
{
    if (G_UNLIKELY(++s->eval_gen == 0)) {
        memset(s->memo_gen, 0, sizeof(uint32_t) * (size_t)MAX(s->set->max_idents, 1));
        s->eval_gen = 1;
    }
}

bool sig_detection_eval(const SigDetection *d, VgRuleScratch *s)
{
    next_eval_gen(s);
    return cond_eval(d->cond, d, s);
}

bool sig_rule_eval(const SigRule *r, VgRuleScratch *s)
{
    if (!sig_detection_eval(&r->det, s))
        return false;
    for (int i = 0; i < r->n_filters; i++)
        if (sig_detection_eval(r->filters[i], s))
            return false;
    return true;
}

/* The offset of the next n bytes of a scratch block, which start a cache line. */
static size_t take(size_t *at, size_t n)
{
    size_t o = *at;
    *at += (n + 63) & ~(size_t)63;
    return o;
}

/* One zeroed block holds the scratch and its arrays, each from a cache line of its own.
 * The parallel pipeline makes its workers' scratches one after the other; as separate small
 * allocations, arrays of two workers shared cache lines, which then went back and forth
 * between the cores on every event (memo_gen and memo_val in ident_eval: 3 % of a
 * two-worker replay, against 0.3 % of a one-thread one). */
VgRuleScratch *vg_rule_scratch_new(const VgRuleSet *set)
{
    size_t nl = (size_t)MAX(set->n_lits, 1), nr = MAX(set->rules->len, 1u);
    size_t ni = (size_t)MAX(set->max_idents, 1), nc = nr + (size_t)set->n_unguarded;
    size_t at = 0;
    size_t o_scratch = take(&at, sizeof(VgRuleScratch));
    size_t o_lits = take(&at, 3 * nl * sizeof(uint32_t)), o_cand = take(&at, nr * sizeof(uint32_t));
    size_t o_list = take(&at, nc * sizeof(int32_t)), o_memo = take(&at, ni * sizeof(uint32_t));
    size_t o_val = take(&at, ni), o_sel = take(&at, (ni + 1) * sizeof(const char *));
    uint8_t *b = g_aligned_alloc0(1, at, 64);
    VgRuleScratch *s = (VgRuleScratch *)(void *)(b + o_scratch);
    s->set = set;
    s->lit_found = (uint32_t *)(void *)(b + o_lits);
    s->lit_start = s->lit_found + nl;
    s->lit_end = s->lit_start + nl;
    s->cand = (uint32_t *)(void *)(b + o_cand);
    s->cand_list = (int32_t *)(void *)(b + o_list);
    s->memo_gen = (uint32_t *)(void *)(b + o_memo);
    s->memo_val = b + o_val;
    s->sel = (const char **)(void *)(b + o_sel);
    s->md = pcre2_match_data_create(1, NULL);
    s->prefilter = true;
    s->recall = sig_recall_new();
    s->recall_on = true;
    return s;
}

void vg_rule_scratch_free(VgRuleScratch *s)
{
    if (!s)
        return;
    pcre2_match_data_free(s->md);
    sig_recall_free(s->recall);
    g_aligned_free(s);
}

void vg_rule_scratch_set_prefilter(VgRuleScratch *s, bool on)
{
    s->prefilter = on;
}

static void next_gen(VgRuleScratch *s)
{
    if (G_UNLIKELY(++s->gen == 0)) {
        size_t nl = (size_t)MAX(s->set->n_lits, 1), nr = MAX(s->set->rules->len, 1u);
        memset(s->lit_found, 0, nl * sizeof(uint32_t));
        memset(s->lit_start, 0, nl * sizeof(uint32_t));
        memset(s->lit_end, 0, nl * sizeof(uint32_t));
        memset(s->cand, 0, nr * sizeof(uint32_t));
        memset(s->drun_gen, 0, sizeof s->drun_gen);
        s->gen = 1;
    }
}

/* The names of r's search identifiers that are true, into s->sel (NULL-terminated); their
 * number. */
static int selections(const SigRule *r, VgRuleScratch *s)
{
    int n = 0;
    for (int k = 0; k < r->det.n_idents; k++)
        if (ident_eval(&r->det, k, s))
            s->sel[n++] = r->det.names[k];
    s->sel[n] = NULL;
    return n;
}

int vg_rule_set_selections(const VgRuleSet *set, VgRuleScratch *s, int rule, const VgEvent *ev,
                           VgArena *arena, const char *const **out)
{
    g_return_val_if_fail(s->set == set && rule >= 0 && (guint)rule < set->rules->len, 0);
    next_gen(s);
    next_eval_gen(s);
    s->ev = ev;
    s->arena = arena;
    s->scanned = false; /* no prefilter stamps for this event: every identifier is matched */
    *out = s->sel;
    return selections(set->rules->pdata[rule], s);
}

int vg_rule_set_eval(const VgRuleSet *set, VgRuleScratch *s, const VgEvent *ev, VgArena *arena,
                     bool want_selections, VgRuleMatchFn fn, void *user)
{
    g_return_val_if_fail(s->set == set, 0);
    next_gen(s);
    s->ev = ev;
    s->arena = arena;
    s->scanned = s->prefilter && set->pf;
    if (s->scanned)
        sig_prefilter_scan(set->pf, s, ev);
    int matches = 0;
    guint n_eval = set->rules->len;
    const int32_t *order = NULL;
    if (s->scanned) {
        /* candidates (guard literal seen) plus the unguarded rules, in rule order */
        if (set->n_unguarded)
            memcpy(s->cand_list + s->n_cand, set->unguarded,
                   sizeof(int32_t) * (size_t)set->n_unguarded);
        n_eval = (guint)(s->n_cand + set->n_unguarded);
        int32_t *c = s->cand_list;
        for (guint i = 1; i < n_eval; i++) { /* insertion sort: a handful of rules */
            int32_t x = c[i];
            guint j = i;
            while (j > 0 && c[j - 1] > x) {
                c[j] = c[j - 1];
                j--;
            }
            c[j] = x;
        }
        order = c;
    }
    for (guint k = 0; k < n_eval; k++) {
        guint i = order ? (guint)order[k] : k;
        const SigRule *r = set->rules->pdata[i];
        if (!sig_rule_eval(r, s))
            continue;
        VgRuleMatch m = {
            .rule = (int)i,
            .rule_id = r->id ? r->id : r->title,
            .title = r->title,
            .ruleset = r->ruleset,
            .severity = r->severity,
            .selections = s->sel,
        };
        if (want_selections) {
            /* without filters the memo still holds this rule's identifiers from the match
             * just made: only those the condition skipped are evaluated now */
            if (r->n_filters)
                next_eval_gen(s);
            m.n_selections = selections(r, s);
        }
        matches++;
        if (fn)
            fn(user, &m);
    }
    return matches;
}

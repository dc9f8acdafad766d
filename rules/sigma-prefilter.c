/* sigma-prefilter.c — every rule's literals, found in one pass per field.
 *
 * Most Sigma rules test literal substrings (`path|contains: '../'`, `user_agent|contains:
 * sqlmap`). Testing them rule by rule costs one search per value per rule per event; with
 * hundreds of rules that is the whole budget. Instead, all literals that string tests look
 * for in a field go into one Aho-Corasick automaton for that field (the raw line counts
 * as a field, for keywords), built over ASCII-folded bytes so it serves case-insensitive
 * and cased tests alike (a cased test re-checks the bytes). Scanning a field once stamps,
 * for every literal, whether it occurs anywhere, at the start and at the end — which is
 * exactly contains, startswith, endswith and (with the length) equality.
 *
 * Each rule also gets a guard, worked out from its condition: a set of literals such that
 * the rule cannot match unless one of them occurs. OR unions the sets of its branches,
 * AND keeps the most selective branch, NOT and anything that is not a literal test (a
 * regex, a number, a CIDR, a dotted field) gives up. A rule with a guard whose literals
 * are all absent is skipped without being evaluated; a rule without one is always
 * evaluated.
 *
 * A guard element is a literal and where it must be: anywhere (contains, regexes,
 * globs), at the start of the field (startswith), at its end (endswith), or the whole
 * field (a value without modifiers). `scheme: http` is then not woken up by every
 * "https": the scan knows the position of each literal it reports anyway, so rules that
 * want a position are listed apart and stamped only when the literal is found there.
 *
 * A regex with no usable literal often still needs digits (a card number, a phone number:
 * a run of at least k ASCII digits, sigma-relit.c). "Field f has a run of k digits" is then
 * a guard element too: a pseudo-literal, stamped after the field's longest digit run is
 * measured, so such rules stop being evaluated on every event.
 *
 * When a regex's only literals are too common to scan for (`-`, `/`) its shape is the
 * better guard: "field contains DDD-DD-DDDD" (sigma-relit.c), a pseudo-literal stamped
 * after a memchr over the field (sigma-scan.c). Preferred to the digit run when it is at
 * least as long: the shipped social security number rule was woken by the run of four
 * digits on two events in three of the bench's traffic, and ran pcre2 on every path with
 * a UUID (its `-` is in every UUID); with its shape it wakes on neither, which took 486
 * instructions off every event there (12,478 to 11,992).
 *
 * So is "the status is v", for the rules that count one kind of answer (`status: 404`,
 * `status: [401, 403]`): without it they were evaluated on every event, and on the shipped
 * pack two of them were a tenth of the Sigma work per event. The test it stands for reads
 * the integer from the event (sigma-eval.c), so the pseudo-literal is exact.
 *
 * The automaton is a full DFA over byte classes (the folded bytes that occur in some
 * literal, plus "anything else"), one row per state. A transition entry holds the byte
 * offset of the next row, and states are numbered so that those ending a literal come
 * last: per byte, the scan loads the entry at (column of the byte) + (current row), and
 * "a literal ends here" is a comparison beside that chain of loads. Near the root the
 * automaton is not run at all: bytes whose pair with the next byte starts no literal are
 * skipped with a look-up in a bitmap, which does not wait on the previous byte (the scan
 * per event is in sigma-scan.c).
 * Written here rather than taken from Vectorscan to keep the dependency list as it is; at
 * the sizes of rule packs (thousands of literals, fields of a few hundred bytes) a DFA is
 * as fast.
 */
#include "rules/sigma-prefilter.h"

/* ---- literal table ---- */

typedef struct {
    GHashTable *ids[SIG_N_SCAN_FIELDS]; /* folded literal (GBytes) -> id + 1 */
    GPtrArray *text;                    /* id -> folded literal (char *, owned) */
    GArray *len;                        /* id -> length */
    GArray *field;                      /* id -> field (-1: a pseudo-literal) */
    GArray *digits;                     /* DigitLit */
    GArray *status;                     /* StatusLit */
    GArray *shapes;                     /* ShapeLit */
} Lits;

static int32_t lit_add(Lits *L, int field, const char *p, size_t n)
{
    char *f = g_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        f[i] = (char)sig_fold[(uint8_t)p[i]];
    f[n] = '\0';
    if (!L->ids[field])
        L->ids[field] =
            g_hash_table_new_full(g_bytes_hash, g_bytes_equal, (GDestroyNotify)g_bytes_unref, NULL);
    GBytes *key = g_bytes_new(f, n); /* literals may hold NUL bytes (utf16) */
    gpointer v = g_hash_table_lookup(L->ids[field], key);
    if (v) {
        g_bytes_unref(key);
        g_free(f);
        return GPOINTER_TO_INT(v) - 1;
    }
    int32_t id = (int32_t)L->text->len;
    g_hash_table_insert(L->ids[field], key, GINT_TO_POINTER(id + 1));
    g_ptr_array_add(L->text, f);
    uint32_t len32 = (uint32_t)n;
    g_array_append_val(L->len, len32);
    g_array_append_val(L->field, field);
    return id;
}

/* A new pseudo-literal: an id with no text, in no field's automaton, stamped by the scan's
 * own measure (digit runs, the status). */
static int32_t pseudo_lit(Lits *L)
{
    int32_t id = (int32_t)L->text->len;
    g_ptr_array_add(L->text, g_strdup(""));
    uint32_t len0 = 0;
    int none = -1;
    g_array_append_val(L->len, len0);
    g_array_append_val(L->field, none);
    return id;
}

/* The pseudo-literal "field has a run of min digits" (see the top of the file). */
static int32_t digit_lit(const Lits *L, int field, uint32_t min)
{
    for (guint i = 0; i < L->digits->len; i++) {
        const DigitLit *d = &g_array_index(L->digits, DigitLit, i);
        if (d->field == field && d->min == min)
            return d->id;
    }
    return -1;
}

static void digit_lit_add(Lits *L, int field, uint32_t min)
{
    if (digit_lit(L, field, min) >= 0)
        return;
    DigitLit d = {.field = field, .min = min, .id = pseudo_lit(L)};
    g_array_append_val(L->digits, d);
}

/* The pseudo-literal "field contains shape" (see the top of the file). */
static int32_t shape_lit_add(Lits *L, int field, const SigShape *sh)
{
    for (guint i = 0; i < L->shapes->len; i++) {
        const ShapeLit *x = &g_array_index(L->shapes, ShapeLit, i);
        if (x->field == field && x->shape.len == sh->len && !memcmp(x->shape.c, sh->c, sh->len))
            return x->id;
    }
    ShapeLit x = {.field = field, .id = pseudo_lit(L), .shape = *sh};
    g_array_append_val(L->shapes, x);
    return x.id;
}

/* The pseudo-literal "the status is v" (see the top of the file). */
static int32_t status_lit(const Lits *L, int64_t v)
{
    for (guint i = 0; i < L->status->len; i++) {
        const StatusLit *s = &g_array_index(L->status, StatusLit, i);
        if (s->value == v)
            return s->id;
    }
    return -1;
}

static void status_lit_add(Lits *L, int64_t v)
{
    if (status_lit(L, v) >= 0)
        return;
    StatusLit s = {.value = v, .id = pseudo_lit(L)};
    g_array_append_val(L->status, s);
}

/* A test the status pseudo-literals can guard: the status equals one of its integers. */
static bool status_equality(const SigTest *t)
{
    return t->fast == SIG_FAST_INT && t->field.id == VG_F_STATUS && !t->neg;
}

/* A set with a character found in almost every URL (a digit, `/`, `-`) would pass nearly
 * always and make the scan report at every such byte: not worth scanning for. */
static bool req_weak(const GPtrArray *req)
{
    for (guint k = 0; k < req->len; k++) {
        const GString *g = req->pdata[k];
        if (sig_lit_weight(g->str, g->len) < 1)
            return true;
    }
    return false;
}

static void assign_re(Lits *L, SigTest *t)
{
    t->re_lits = g_new0(int32_t *, t->n);
    t->re_n_lits = g_new0(int, t->n);
    t->re_min_digits = g_new0(int, t->n);
    t->re_shape = g_new(int32_t, t->n);
    for (int i = 0; i < t->n; i++) {
        GPtrArray *req = sig_re_required(t->re_src[i], t->re_caseless, &t->re_min_digits[i]);
        if (t->re_min_digits[i] > 0 && sig_field_is_scannable(t->field.id))
            digit_lit_add(L, t->field.id, (uint32_t)t->re_min_digits[i]);
        /* without a literal worth scanning for, the shape may narrow things down (see the
         * top of the file) */
        SigShape sh;
        t->re_shape[i] = -1;
        if (sig_field_is_scannable(t->field.id) && (!req || req_weak(req)) &&
            sig_re_shape(t->re_src[i], t->re_caseless, &sh) && sh.len >= t->re_min_digits[i])
            t->re_shape[i] = shape_lit_add(L, t->field.id, &sh);
        if (!req)
            continue;
        if (req_weak(req)) { /* checked directly on the value instead (sigma-test.c) */
            if (!t->re_need)
                t->re_need = g_new0(GPtrArray *, t->n);
            t->re_need[i] = req;
            continue;
        }
        if (!sig_field_is_scannable(t->field.id)) { /* only the digit run is usable */
            sig_re_required_free(req);
            continue;
        }
        t->re_lits[i] = g_new0(int32_t, req->len);
        t->re_n_lits[i] = (int)req->len;
        for (guint k = 0; k < req->len; k++) {
            GString *g = req->pdata[k];
            t->re_lits[i][k] = lit_add(L, t->field.id, g->str, g->len);
        }
        sig_re_required_free(req);
    }
    if (sig_field_is_scannable(t->field.id))
        t->fast = SIG_FAST_RE;
}

static void assign_test(Lits *L, SigTest *t)
{
    if (status_equality(t))
        for (int i = 0; i < t->n; i++)
            status_lit_add(L, t->pats[i].num_i);
    if (t->kind == SIG_T_RE)
        assign_re(L, t);
    if (t->kind != SIG_T_STR || !sig_field_is_scannable(t->field.id))
        return;
    for (int i = 0; i < t->n; i++) {
        SigPattern *p = &t->pats[i];
        if (p->kind == SIG_PAT_GLOB) {
            const SigTok *best = NULL;
            for (int k = 0; k < p->n_toks; k++)
                if (p->toks[k].kind == SIG_TOK_LIT && (!best || p->toks[k].len > best->len))
                    best = &p->toks[k];
            if (best && best->len && sig_lit_weight(p->lit + best->off, best->len) >= 1)
                p->guard_id = lit_add(L, t->field.id, p->lit + best->off, best->len);
        } else if (p->kind != SIG_PAT_ANY && p->lit_len > 0 &&
                   sig_lit_weight(p->lit, p->lit_len) >= 1) {
            p->lit_id = lit_add(L, t->field.id, p->lit, p->lit_len);
        }
    }
}

static void assign_node(Lits *L, SigNode *n)
{
    if (n->test)
        assign_test(L, n->test);
    for (int i = 0; i < n->n; i++)
        assign_node(L, n->kids[i]);
}

static void assign_detection(Lits *L, SigDetection *d)
{
    for (int i = 0; i < d->n_idents; i++)
        assign_node(L, d->nodes[i]);
}

/* ---- guards: NULL means "no guard" (the rule must always be evaluated) ---- */

static int pattern_pos(const SigPattern *p)
{
    switch (p->kind) {
    case SIG_PAT_EXACT:
        return POS_EXACT;
    case SIG_PAT_PREFIX:
        return POS_START;
    case SIG_PAT_SUFFIX:
        return POS_END;
    default:
        return POS_ANY;
    }
}

static GArray *guard_union(GArray *a, GArray *b)
{
    if (!a || !b) {
        if (a)
            g_array_free(a, TRUE);
        if (b)
            g_array_free(b, TRUE);
        return NULL;
    }
    g_array_append_vals(a, b->data, b->len);
    g_array_free(b, TRUE);
    return a;
}

/* The more selective of two guards: the higher weight of its weakest element, then fewer
 * elements. A literal that must be at one end counts one more, the whole value two. */
static double guard_weight(const GArray *g, const Lits *L)
{
    double w = 1e9;
    for (guint i = 0; i < g->len; i++) {
        int32_t e = g_array_index(g, int32_t, i), id = e / POS__COUNT, pos = e % POS__COUNT;
        double x = sig_lit_weight(L->text->pdata[id], g_array_index(L->len, uint32_t, id));
        w = MIN(w, x + (pos == POS_EXACT ? 2 : pos != POS_ANY ? 1 : 0));
    }
    return w;
}

static GArray *guard_best(GArray *a, GArray *b, const Lits *L)
{
    if (!a || !b)
        return a ? a : b;
    double wa = guard_weight(a, L), wb = guard_weight(b, L);
    bool keep_a = wa != wb ? wa > wb : a->len <= b->len;
    g_array_free(keep_a ? b : a, TRUE);
    return keep_a ? a : b;
}

static GArray *guard_one(int32_t id, int pos)
{
    GArray *g = g_array_new(FALSE, FALSE, sizeof(int32_t));
    int32_t e = guard_elem(id, pos);
    g_array_append_val(g, e);
    return g;
}

static GArray *guard_test(const SigTest *t, const Lits *L)
{
    bool status = status_equality(t);
    if (!status && ((t->kind != SIG_T_STR && t->kind != SIG_T_RE) || t->neg ||
                    !sig_field_is_scannable(t->field.id)))
        return NULL;
    GArray *g = NULL;
    for (int i = 0; i < t->n; i++) {
        GArray *one = NULL;
        if (status) {
            one = guard_one(status_lit(L, t->pats[i].num_i), POS_ANY);
        } else if (t->kind == SIG_T_RE) {
            if (t->re_lits && t->re_lits[i]) {
                one = g_array_new(FALSE, FALSE, sizeof(int32_t));
                for (int k = 0; k < t->re_n_lits[i]; k++) {
                    int32_t e = guard_elem(t->re_lits[i][k], POS_ANY);
                    g_array_append_val(one, e);
                }
            } else if (t->re_shape && t->re_shape[i] >= 0) {
                one = guard_one(t->re_shape[i], POS_ANY);
            } else if (t->re_min_digits && t->re_min_digits[i] > 0) {
                int32_t id = digit_lit(L, t->field.id, (uint32_t)t->re_min_digits[i]);
                one = id >= 0 ? guard_one(id, POS_ANY) : NULL;
            }
        } else {
            const SigPattern *p = &t->pats[i];
            if (p->lit_id >= 0)
                one = guard_one(p->lit_id, pattern_pos(p));
            else if (p->guard_id >= 0) /* a glob's longest literal, anywhere */
                one = guard_one(p->guard_id, POS_ANY);
        }
        if (t->all) {
            g = i == 0 ? one : guard_best(g, one, L);
        } else {
            g = i == 0 ? one : guard_union(g, one);
            if (!g)
                return NULL;
        }
    }
    return g;
}

static GArray *guard_node(const SigNode *n, const Lits *L)
{
    if (n->kind == SIG_N_TEST)
        return guard_test(n->test, L);
    GArray *g = NULL;
    for (int i = 0; i < n->n; i++) {
        GArray *k = guard_node(n->kids[i], L);
        if (n->kind == SIG_N_AND) {
            g = i == 0 ? k : guard_best(g, k, L);
        } else {
            g = i == 0 ? k : guard_union(g, k);
            if (!g)
                return NULL;
        }
    }
    return g;
}

static GArray *guard_cond(const SigCond *c, const SigDetection *d, const Lits *L)
{
    switch (c->kind) {
    case SIG_C_IDENT:
        return guard_node(d->nodes[c->ident], L);
    case SIG_C_AND:
    case SIG_C_OR: {
        GArray *g = NULL;
        for (int i = 0; i < c->n; i++) {
            GArray *k = guard_cond(c->kids[i], d, L);
            if (c->kind == SIG_C_AND) {
                g = i == 0 ? k : guard_best(g, k, L);
            } else {
                g = i == 0 ? k : guard_union(g, k);
                if (!g)
                    return NULL;
            }
        }
        return g;
    }
    default:
        return NULL;
    }
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int cmp_digit_lit(const void *a, const void *b)
{
    const DigitLit *x = a, *y = b;
    if (x->field != y->field)
        return (x->field > y->field) - (x->field < y->field);
    return (x->min > y->min) - (x->min < y->min);
}

/* ---- automaton ---- */

/* Marks in starts[] every pair of input bytes that folds to the first two bytes of literal t
 * (all pairs beginning with its byte, for a literal of one byte). */
static void mark_start(uint32_t *starts, const uint8_t *t, uint32_t len)
{
    for (int b0 = 0; b0 < 256; b0++) {
        if (sig_fold[b0] != t[0])
            continue;
        for (int b1 = 0; b1 < 256; b1++) {
            if (len > 1 && sig_fold[b1] != t[1])
                continue;
            unsigned x = (unsigned)b0 | (unsigned)b1 << 8;
            starts[x >> 5] |= 1u << (x & 31);
        }
    }
}

static Dfa *dfa_build(const Lits *L, int field)
{
    Dfa *a = g_new0(Dfa, 1);
    /* byte classes: 0 for bytes no literal uses */
    bool used[256] = {false};
    for (guint id = 0; id < L->text->len; id++) {
        if (g_array_index(L->field, int, id) != field)
            continue;
        const uint8_t *t = L->text->pdata[id];
        uint32_t len = g_array_index(L->len, uint32_t, id);
        for (uint32_t i = 0; i < len; i++)
            used[t[i]] = true;
        mark_start(a->starts, t, len);
    }
    uint8_t cls_of_folded[256] = {0};
    int nc = 1;
    for (int b = 0; b < 256; b++)
        if (used[b])
            cls_of_folded[b] = (uint8_t)nc++;
    a->nclasses = nc;
    a->row_bytes = (uint32_t)nc * (uint32_t)sizeof(uint32_t);
    for (int b = 0; b < 256; b++)
        a->cls_off[b] = cls_of_folded[sig_fold[b]] * (uint32_t)sizeof(uint32_t);

    /* trie: goto[state * nc + class], -1 for no edge */
    GArray *go = g_array_new(FALSE, FALSE, sizeof(int32_t));
    GArray *direct = g_array_new(FALSE, FALSE, sizeof(int32_t)); /* literal ending here */
    int32_t none = -1;
    for (int c = 0; c < nc; c++)
        g_array_append_val(go, none);
    g_array_append_val(direct, none);
    /* several literals may end in one state only if equal, which the table prevents */
    uint32_t n_states = 1;
    for (guint id = 0; id < L->text->len; id++) {
        if (g_array_index(L->field, int, id) != field)
            continue;
        const uint8_t *t = L->text->pdata[id];
        uint32_t st = 0;
        for (uint32_t i = 0; i < g_array_index(L->len, uint32_t, id); i++) {
            int c = cls_of_folded[t[i]];
            int32_t nx = g_array_index(go, int32_t, st * (uint32_t)nc + (uint32_t)c);
            if (nx < 0) {
                nx = (int32_t)n_states++;
                g_array_index(go, int32_t, st * (uint32_t)nc + (uint32_t)c) = nx;
                for (int k = 0; k < nc; k++)
                    g_array_append_val(go, none);
                g_array_append_val(direct, none);
            }
            st = (uint32_t)nx;
        }
        g_array_index(direct, int32_t, st) = (int32_t)id;
    }
    a->n_states = n_states;
    int32_t *g = (int32_t *)go->data;
    uint32_t *fail = g_new0(uint32_t, n_states);
    uint32_t *order = g_new0(uint32_t, n_states);
    uint32_t head = 0, tail = 0, n_first = 0;
    uint32_t *delta = g_new0(uint32_t, (size_t)n_states * (size_t)nc); /* next state */
    /* breadth first: a state's failure link is final before its children need it */
    for (int c = 0; c < nc; c++) {
        int32_t nx = g[c];
        if (nx > 0) {
            fail[nx] = 0;
            order[tail++] = (uint32_t)nx;
        }
        delta[c] = nx > 0 ? (uint32_t)nx : 0;
    }
    n_first = tail; /* order[0 .. n_first - 1]: the states one byte deep */
    while (head < tail) {
        uint32_t st = order[head++];
        for (int c = 0; c < nc; c++) {
            int32_t nx = g[st * (uint32_t)nc + (uint32_t)c];
            if (nx > 0) {
                fail[nx] = delta[fail[st] * (uint32_t)nc + (uint32_t)c];
                order[tail++] = (uint32_t)nx;
                delta[st * (uint32_t)nc + (uint32_t)c] = (uint32_t)nx;
            } else {
                delta[st * (uint32_t)nc + (uint32_t)c] =
                    delta[fail[st] * (uint32_t)nc + (uint32_t)c];
            }
        }
    }
    /* outputs: the literal ending here, then those of the failure state (already done,
     * since it is shallower) */
    uint32_t *out_off = g_new0(uint32_t, n_states);
    uint32_t *out_len = g_new0(uint32_t, n_states);
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(int32_t));
    for (uint32_t k = 0; k < tail; k++) {
        uint32_t st = order[k];
        out_off[st] = ids->len;
        int32_t d = g_array_index(direct, int32_t, st);
        if (d >= 0)
            g_array_append_val(ids, d);
        uint32_t f = fail[st];
        for (uint32_t j = 0; j < out_len[f]; j++) {
            int32_t x = g_array_index(ids, int32_t, out_off[f] + j);
            g_array_append_val(ids, x);
        }
        out_len[st] = ids->len - out_off[st];
    }
    a->out_ids = (int32_t *)g_array_free(ids, FALSE);

    /* renumber: the root, the plain states one byte deep, the other plain states, then
     * those that end a literal; "back near the root" and "a literal ends here" are then
     * comparisons of the row offset, made beside the scan's chain of loads */
    uint32_t *renum = g_new0(uint32_t, n_states), next = 1;
    for (int pass = 0; pass < 3; pass++) {
        for (uint32_t k = 0; k < tail; k++) {
            uint32_t st = order[k];
            int kind = out_len[st] > 0 ? 2 : k < n_first ? 0 : 1;
            if (kind == pass)
                renum[st] = next++;
        }
        if (pass == 0)
            a->shallow_off = next * a->row_bytes;
        else if (pass == 1)
            a->accept_off = next * a->row_bytes;
    }
    a->out_off = g_new0(uint32_t, n_states);
    a->out_len = g_new0(uint32_t, n_states);
    for (uint32_t st = 0; st < n_states; st++) {
        a->out_off[renum[st]] = out_off[st];
        a->out_len[renum[st]] = out_len[st];
    }
    /* entries are byte offsets of rows: the table is far below 4 GiB for any pack that
     * fits in memory (it is this table) */
    a->delta = g_new0(uint32_t, (size_t)n_states * (size_t)nc);
    for (uint32_t st = 0; st < n_states; st++)
        for (int c = 0; c < nc; c++)
            a->delta[(size_t)renum[st] * (size_t)nc + (size_t)c] =
                renum[delta[(size_t)st * (size_t)nc + (size_t)c]] * a->row_bytes;
    g_free(renum);
    g_free(delta);
    g_free(out_off);
    g_free(out_len);
    g_free(fail);
    g_free(order);
    g_array_free(go, TRUE);
    g_array_free(direct, TRUE);
    return a;
}

static void dfa_free(Dfa *a)
{
    if (!a)
        return;
    g_free(a->delta);
    g_free(a->out_off);
    g_free(a->out_len);
    g_free(a->out_ids);
    g_free(a);
}

void sig_prefilter_free(SigPrefilter *pf)
{
    if (!pf)
        return;
    for (int f = 0; f < SIG_N_SCAN_FIELDS; f++)
        dfa_free(pf->dfa[f]);
    g_free(pf->lit_len);
    g_free(pf->rule_off);
    g_free(pf->rule_len);
    g_free(pf->rule_ids);
    g_free(pf->pos_rules);
    g_free(pf->digits);
    g_free(pf->status);
    g_free(pf->shapes);
    g_free(pf);
}

size_t sig_prefilter_states(const SigPrefilter *pf)
{
    size_t n = 0;
    for (int f = 0; pf && f < SIG_N_SCAN_FIELDS; f++)
        n += pf->dfa[f] ? pf->dfa[f]->n_states : 0;
    return n;
}

void sig_prefilter_build(VgRuleSet *set)
{
    Lits L = {.text = g_ptr_array_new_with_free_func(g_free),
              .len = g_array_new(FALSE, FALSE, sizeof(uint32_t)),
              .field = g_array_new(FALSE, FALSE, sizeof(int)),
              .digits = g_array_new(FALSE, FALSE, sizeof(DigitLit)),
              .status = g_array_new(FALSE, FALSE, sizeof(StatusLit)),
              .shapes = g_array_new(FALSE, FALSE, sizeof(ShapeLit))};
    for (guint i = 0; i < set->rules->len; i++)
        assign_detection(&L, &((SigRule *)set->rules->pdata[i])->det);
    for (guint i = 0; i < set->filters->len; i++)
        assign_detection(&L, set->filters->pdata[i]);
    int32_t n_lits = (int32_t)L.text->len;
    set->n_lits = n_lits;

    SigPrefilter *pf = g_new0(SigPrefilter, 1);
    pf->lit_len = g_new0(uint32_t, MAX(n_lits, 1));
    if (n_lits)
        memcpy(pf->lit_len, L.len->data, sizeof(uint32_t) * (size_t)n_lits);
    /* guards, and the inverse map guard element -> rules it guards */
    size_t n_elems = (size_t)MAX(n_lits, 1) * POS__COUNT;
    GArray **by_lit = g_new0(GArray *, n_elems);
    pf->pos_rules = g_new0(uint8_t, MAX(n_lits, 1));
    for (guint i = 0; i < set->rules->len; i++) {
        SigRule *r = set->rules->pdata[i];
        GArray *g = guard_cond(r->det.cond, &r->det, &L);
        r->guarded = g != NULL && g->len > 0;
        if (!r->guarded) {
            if (g)
                g_array_free(g, TRUE);
            set->unguarded = g_renew(int32_t, set->unguarded, set->n_unguarded + 1);
            set->unguarded[set->n_unguarded++] = (int32_t)i;
            continue;
        }
        g_array_sort(g, cmp_i32);
        guint w = 0;
        for (guint k = 0; k < g->len; k++)
            if (k == 0 || g_array_index(g, int32_t, k) != g_array_index(g, int32_t, w - 1))
                g_array_index(g, int32_t, w++) = g_array_index(g, int32_t, k);
        g_array_set_size(g, w);
        r->n_guard = (int)g->len;
        r->guard = (int32_t *)g_array_free(g, FALSE);
        for (int k = 0; k < r->n_guard; k++) {
            int32_t e = r->guard[k];
            if (!by_lit[e])
                by_lit[e] = g_array_new(FALSE, FALSE, sizeof(int32_t));
            int32_t ri = (int32_t)i;
            g_array_append_val(by_lit[e], ri);
            if (e % POS__COUNT != POS_ANY)
                pf->pos_rules[e / POS__COUNT] |= (uint8_t)(1u << (e % POS__COUNT));
        }
    }
    pf->rule_off = g_new0(uint32_t, n_elems);
    pf->rule_len = g_new0(uint32_t, n_elems);
    GArray *rids = g_array_new(FALSE, FALSE, sizeof(int32_t));
    for (size_t e = 0; e < n_elems; e++) {
        pf->rule_off[e] = rids->len;
        if (by_lit[e]) {
            g_array_append_vals(rids, by_lit[e]->data, by_lit[e]->len);
            g_array_free(by_lit[e], TRUE);
        }
        pf->rule_len[e] = rids->len - pf->rule_off[e];
    }
    g_free(by_lit);
    pf->rule_ids = (int32_t *)g_array_free(rids, FALSE);

    for (int f = 0; f < SIG_N_SCAN_FIELDS; f++) {
        if (!L.ids[f])
            continue;
        pf->dfa[f] = dfa_build(&L, f);
        pf->offsets[pf->n_fields] = f == SIG_FIELD_RAW ? 0 : sig_str_offset(f);
        pf->fields[pf->n_fields++] = f;
    }
    for (int f = 0; f < SIG_N_SCAN_FIELDS; f++)
        if (L.ids[f])
            g_hash_table_destroy(L.ids[f]);
    g_ptr_array_free(L.text, TRUE);
    g_array_free(L.len, TRUE);
    g_array_free(L.field, TRUE);
    g_array_sort(L.digits, cmp_digit_lit);
    pf->n_digits = (int)L.digits->len;
    for (int i = pf->n_digits - 1; i >= 0; i--) {
        DigitLit *d = &g_array_index(L.digits, DigitLit, i);
        d->next_field = i + 1 == pf->n_digits    ? pf->n_digits
                        : d[1].field == d->field ? d[1].next_field
                                                 : i + 1;
    }
    pf->digits = (DigitLit *)g_array_free(L.digits, FALSE);
    pf->n_status = (int)L.status->len;
    pf->status = (StatusLit *)g_array_free(L.status, FALSE);
    pf->n_shapes = (int)L.shapes->len;
    pf->shapes = (ShapeLit *)g_array_free(L.shapes, FALSE);
    /* an API's clients are a few SDKs and apps, each with its user agent */
    pf->recall[VG_F_USER_AGENT] = pf->recall[VG_F_REFERER] = true;
    set->pf = pf;
}

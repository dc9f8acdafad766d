/* sigma-scan.c — the prefilter per event: which literals occur in the event's fields, and
 * so which rules are worth evaluating.
 *
 * sigma-prefilter.c built, per scanned field, an Aho-Corasick automaton over all literals
 * the rules look for in it, and for every guard element (a literal and where it must be)
 * the rules it wakes. Here each field present in the event is scanned once; every
 * literal found is stamped (anywhere, at the start, at the end) in the scratch's
 * generation-stamped arrays, which the matcher reads to answer string tests, and the
 * rules it guards become candidates. Digit-run and status pseudo-literals are measured
 * apart, and so are shapes (digits and separators in a row, sigma-relit.c).
 *
 * The scan is bound by latency: in the automaton, each byte's load waits for the one
 * before. Near the root it is not run at all: a byte whose pair with the next starts no
 * literal is skipped with a look-up in a bitmap, and those look-ups do not wait for each
 * other; on the shipped pack about half of the path's bytes and most of the user agent's
 * are skipped so (scan()). A user agent or referer seen recently is not scanned at all:
 * its scan's reports are replayed (scan_recalled()). Nothing here allocates.
 */
#include "rules/sigma-prefilter.h"

#include "engine/bytemask.h"

/* Guard element e is satisfied: stamp the rules it guards as candidates. */
static inline void wake(const SigPrefilter *pf, int32_t e, VgRuleScratch *s)
{
    uint32_t g = s->gen;
    uint32_t nr = pf->rule_len[e];
    const int32_t *r = nr ? pf->rule_ids + pf->rule_off[e] : NULL;
    for (uint32_t j = 0; j < nr; j++) {
        if (s->cand[r[j]] != g) {
            s->cand[r[j]] = g;
            s->cand_list[s->n_cand++] = r[j];
        }
    }
}

/* Literal id occurs (first time this event): stamp it and the rules it guards anywhere. */
static inline void found(const SigPrefilter *pf, int32_t id, VgRuleScratch *s)
{
    s->lit_found[id] = s->gen;
    wake(pf, guard_elem(id, POS_ANY), s);
}

/* ---- values scanned before ----
 *
 * A field whose values repeat (the user agent: an API's clients are a few SDKs and apps)
 * need not be scanned again for a value seen recently: what its scan reported, each
 * (state, position) passed to report(), is kept with the value and replayed. The stamps
 * are then exactly the scan's. A small direct-mapped table per scratch: a value that
 * misses (or would need more than RECALL_REPORTS reports) is scanned as usual. */
enum { RECALL_SLOTS = 32, RECALL_MIN = 16, RECALL_MAX = 160, RECALL_REPORTS = 6 };

struct SigRecall {
    uint8_t field; /* SIG_N_SCAN_FIELDS: empty */
    uint8_t len;
    uint8_t n;                    /* reports (more than RECALL_REPORTS: not kept) */
    uint8_t at[RECALL_REPORTS];   /* the position of each report */
    uint32_t off[RECALL_REPORTS]; /* the state of each report */
    char text[RECALL_MAX];
};

SigRecall *sig_recall_new(void)
{
    SigRecall *r = g_new0(SigRecall, RECALL_SLOTS);
    for (int i = 0; i < RECALL_SLOTS; i++)
        r[i].field = SIG_N_SCAN_FIELDS;
    return r;
}

void sig_recall_free(SigRecall *r)
{
    g_free(r);
}

/* The slot of value p[0 .. n - 1] of field f. (All of it is hashed: user agents that differ
 * only in a version number in the middle are common.) */
static inline SigRecall *recall_slot(VgRuleScratch *s, int f, const char *p, size_t n)
{
    return &s->recall[vg_hash64(p, n, (uint64_t)f) >> 59]; /* (32 slots) */
}

/* Called for each position where at least one literal ends; out of line, so the scan
 * loop keeps its few variables in registers. */
__attribute__((noinline)) static void report(const SigPrefilter *pf, const Dfa *a, uint32_t off,
                                             size_t i, size_t n, VgRuleScratch *s)
{
    SigRecall *rec = s->rec;
    if (rec) {
        if (rec->n < RECALL_REPORTS) {
            rec->off[rec->n] = off;
            rec->at[rec->n] = (uint8_t)i;
        }
        rec->n = (uint8_t)MIN(rec->n + 1u, RECALL_REPORTS + 1u);
    }
    uint32_t st = off / a->row_bytes;
    uint32_t g = s->gen;
    const int32_t *ids = a->out_ids + a->out_off[st];
    for (uint32_t k = 0; k < a->out_len[st]; k++) {
        int32_t id = ids[k];
        if (s->lit_found[id] != g)
            found(pf, id, s);
        bool start = i + 1 == pf->lit_len[id], end = i + 1 == n;
        if (start)
            s->lit_start[id] = g;
        if (end)
            s->lit_end[id] = g;
        uint8_t want = pf->pos_rules[id];
        if (G_UNLIKELY(want) && (start || end)) {
            if (start && (want & (1u << POS_START)))
                wake(pf, guard_elem(id, POS_START), s);
            if (end && (want & (1u << POS_END)))
                wake(pf, guard_elem(id, POS_END), s);
            if (start && end && (want & (1u << POS_EXACT)))
                wake(pf, guard_elem(id, POS_EXACT), s);
        }
    }
}

/* Is the pair of bytes at p[0], p[1] the start of some literal? */
static inline bool starts_here(const Dfa *a, const uint8_t *p)
{
    uint16_t x16;
    memcpy(&x16, p, sizeof x16);
    uint32_t x = GUINT16_FROM_LE(x16);
    return (a->starts[x >> 5] >> (x & 31)) & 1;
}

/* Can a literal be the byte b alone (as the last byte of a field must be)? A one-byte
 * literal marked every pair that begins with it, (b, 0) included; (b, 0) may also be a
 * longer literal's start, which only costs a needless step. */
static inline bool starts_alone(const Dfa *a, uint8_t b)
{
    return (a->starts[b >> 5] >> (b & 31)) & 1;
}

/* Scans p[0 .. n - 1] with automaton a.
 *
 * Near the root the automaton is not run: a byte whose pair with the next one starts no
 * literal cannot be where a literal occurs from, so it is skipped with one look-up in
 * starts[] (a bitmap of 8 KiB that stays in L1), and these look-ups do not wait for each
 * other. The automaton starts at the first pair that may begin a literal, and stops when
 * no literal it has begun can still end: back at the root, or one byte deep (a plain
 * state) with that byte and the next starting no literal. Skipping resumes after that
 * byte. The last byte has no pair: it starts the automaton only if a literal is that byte
 * alone (every field used to pay one step there). Most bytes of ordinary fields are
 * skipped; the others pay the automaton's loads, each waiting for the one before.
 *
 * In the automaton, the next row's offset is loaded from the row's offset plus the byte's
 * column offset; the column's address does not depend on the state, so the chain from one
 * byte to the next is that single load. */
static void scan(const SigPrefilter *pf, const Dfa *a, const uint8_t *p, size_t n, VgRuleScratch *s)
{
    const char *base = (const char *)a->delta;
    const uint32_t *cls = a->cls_off;
    uint32_t shallow = a->shallow_off, acc = a->accept_off;
    size_t i = 0;
    while (i < n) {
        while (i + 1 < n && !starts_here(a, p + i))
            i++;
        if (i + 1 == n && !starts_alone(a, p[i]))
            break;
        uint32_t off = 0;
        do {
            const char *col = base + cls[p[i]];
            __asm__("" : "+r"(col)); /* keeps the column's address off the chain */
            off = *(const uint32_t *)(const void *)(col + off);
            i++;
            if (G_UNLIKELY(off >= acc))
                report(pf, a, off, i - 1, n, s);
            else if (off < shallow && (off == 0 || i == n || !starts_here(a, p + i - 1)))
                break;
        } while (i < n);
    }
}

static const VgStr *scan_field(const VgEvent *ev, int f)
{
    if (f == SIG_FIELD_RAW)
        return ev->raw.p ? &ev->raw : NULL;
    if (!vg_event_has(ev, (VgFieldId)f))
        return NULL;
    const VgStr *v = (const VgStr *)((const char *)ev + sig_str_offset(f));
    return v->p ? v : NULL;
}

static inline bool is_digit(char c)
{
    return (unsigned)(c - '0') < 10;
}

/* sig_digit_run() (sigma.h). Up to 64 bytes, exactly, from the mask of the digits
 * (engine/bytemask.h): the byte loop below mispredicts on every digit, and was about 2 % of a JSON
 * replay. Beyond, every run of kmin covers one of the positions kmin - 1, 2 kmin - 1, ... counted
 * from the end of the previous run, so only those bytes are looked at until one is a digit. */
uint32_t sig_digit_run(const char *p, size_t n, uint32_t kmin)
{
#if VG_BYTEMASK
    if (n <= 64)
        return n ? vg_bytemask_longest_run(vg_bytemask64(p, n, vg_mask16_digit)) : 0;
#endif
    uint32_t best = 0;
    size_t i = kmin - 1;
    while (i < n) {
        if (!is_digit(p[i])) {
            i += kmin;
            continue;
        }
        size_t a = i, b = i + 1;
        while (a > 0 && is_digit(p[a - 1]))
            a--;
        while (b < n && is_digit(p[b]))
            b++;
        if (b - a > best)
            best = (uint32_t)(b - a);
        i = b + kmin;
    }
    return best;
}

/* The digit-run pseudo-literals, per field (they are sorted by field, then length). */
static void scan_digits(const SigPrefilter *pf, VgRuleScratch *s, const VgEvent *ev)
{
    for (int i = 0; i < pf->n_digits;) {
        int f = pf->digits[i].field;
        const VgStr *v = scan_field(ev, f);
        uint32_t run = v ? sig_digit_run(v->p, v->len, pf->digits[i].min) : 0;
        /* what sigma-test.c's digit_run() would find, for every comparison it makes:
         * exact from the shortest run asked for on this field up, below it otherwise */
        s->drun[f] = run;
        s->drun_gen[f] = s->gen;
        int next = pf->digits[i].next_field;
        for (; i < next && run >= pf->digits[i].min; i++) /* (shortest first) */
            found(pf, pf->digits[i].id, s);
        i = next;
    }
}

/* scan() of value v of field f, or the replay of its reports when it was seen last time
 * its slot was used. */
static void scan_recalled(const SigPrefilter *pf, int f, const VgStr *v, VgRuleScratch *s)
{
    const Dfa *a = pf->dfa[f];
    SigRecall *r = recall_slot(s, f, v->p, v->len);
    if (r->field == f && r->len == v->len && r->n <= RECALL_REPORTS &&
        !memcmp(r->text, v->p, v->len)) {
        for (uint32_t k = 0; k < r->n; k++)
            report(pf, a, r->off[k], r->at[k], v->len, s);
        return;
    }
    r->field = (uint8_t)f;
    r->len = (uint8_t)v->len;
    r->n = 0;
    memcpy(r->text, v->p, v->len);
    s->rec = r;
    scan(pf, a, (const uint8_t *)v->p, v->len, s);
    s->rec = NULL;
}

/* The shape pseudo-literals: each is looked for in its field's value (a memchr for one
 * of its bytes, then the bytes around each place found). */
static void scan_shapes(const SigPrefilter *pf, VgRuleScratch *s, const VgEvent *ev)
{
    for (int i = 0; i < pf->n_shapes; i++) {
        const ShapeLit *x = &pf->shapes[i];
        const VgStr *v = scan_field(ev, x->field);
        if (v && sig_shape_in(&x->shape, v->p, v->len))
            found(pf, x->id, s);
    }
}

/* The status pseudo-literal of the event's status, if a rule compares with that value. */
static void scan_status(const SigPrefilter *pf, VgRuleScratch *s, const VgEvent *ev)
{
    if (!vg_event_has(ev, VG_F_STATUS))
        return;
    for (int i = 0; i < pf->n_status; i++) {
        if (pf->status[i].value == ev->status) {
            found(pf, pf->status[i].id, s);
            return;
        }
    }
}

void sig_prefilter_scan(const SigPrefilter *pf, VgRuleScratch *s, const VgEvent *ev)
{
    s->n_cand = 0;
    if (pf->n_digits)
        scan_digits(pf, s, ev);
    if (pf->n_status)
        scan_status(pf, s, ev);
    if (pf->n_shapes)
        scan_shapes(pf, s, ev);
    for (int k = 0; k < pf->n_fields; k++) {
        int f = pf->fields[k];
        const VgStr *v;
        if (f == SIG_FIELD_RAW)
            v = &ev->raw;
        else if (vg_event_has(ev, (VgFieldId)f))
            v = (const VgStr *)((const char *)ev + pf->offsets[k]);
        else
            continue;
        if (!v->p)
            continue;
        if (pf->recall[f] && s->recall_on && v->len >= RECALL_MIN && v->len <= RECALL_MAX)
            scan_recalled(pf, f, v, s);
        else
            scan(pf, pf->dfa[f], (const uint8_t *)v->p, v->len, s);
    }
}

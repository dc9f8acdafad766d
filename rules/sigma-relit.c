/* sigma-relit.c — literals a regular expression cannot match without.
 *
 * Regexes are the costly part of a rule pack (personal data, injection probes), and most
 * of them still need some plain text to match: the e-mail pattern needs `@` or `%40`, the
 * SQL injection pattern one of `union`, `'`, `%27`, `sleep`, ... Finding that set lets the
 * prefilter guard regex rules like literal ones, and lets the matcher skip pcre2 when none
 * of the literals occurred.
 *
 * The analysis is deliberately simple and errs on the safe side: it may miss a
 * requirement, never invent one. A sequence requires each of its mandatory atoms, so it
 * keeps the most useful one (longest shortest literal); an alternation requires one of
 * its branches, so it unions their sets, and gives up if one branch requires nothing.
 * Runs of plain characters form one literal; a quantifier that allows zero repetitions
 * makes its atom optional; classes, `.`, escapes such as `\d`, back references and
 * lookarounds require nothing. Anything unusual (`\x`, `\p`, `\Q`, conditionals,
 * recursion, the `x` flag that makes spaces insignificant) stops the analysis: no guard.
 *
 * An atom that matches one of a few known strings — `\s` (the six ASCII spaces: without
 * UCP, which a pattern could only ask for with `(*UCP)`, where the analysis stops), a
 * group of plain alternatives `(or|and)`, a class of plain characters `[cn]` — does not
 * end the literal run: the run becomes the set of its concatenations, so
 * `(\s|\+|%20)(or|and)` requires one of ` or`, `+or`, `%20and`, ... rather than the
 * two-letter words alone, which occur in half the paths of an API (/orders). Past
 * SIG_RELIT_MAX_SET strings the run is cut there. A repeated atom (`\s+`) ends the run
 * with its first repetition and starts the next with its last.
 *
 * Case: the prefilter folds ASCII only. A caseless pattern in UTF mode also matches the
 * Kelvin sign (U+212A) for `k` and the long s (U+017F) for `s` — no other character
 * matches an ASCII letter caselessly (checked against every code point with PCRE2 10.42)
 * — so in caseless mode those two letters are an atom of two known strings: `sql`
 * requires `sql` or `\xc5\xbfql`.
 */
#include "rules/sigma.h"

#include <limits.h>

typedef struct {
    const char *p, *end;
    bool caseless;
    bool fail;
} Re;

/* Largest set of strings a run or an atom may expand to. */
#define SIG_RELIT_MAX_SET 64

/* A set of strings (GPtrArray of GString): the run so far, or what an atom matches. */
typedef GPtrArray Set;

static Set *set_new(void)
{
    return g_ptr_array_new();
}

static void set_add(Set *s, const char *p, size_t n)
{
    g_ptr_array_add(s, g_string_new_len(p, (gssize)n));
}

/* The strings a plain character c matches (ASCII-folded): itself, or in caseless mode
 * for s and k also their Unicode case variants, in UTF-8. */
static void add_char(Set *s, char c, bool caseless)
{
    char f = (char)sig_fold[(uint8_t)c];
    set_add(s, &f, 1);
    if (caseless && f == 's')
        set_add(s, "\xc5\xbf", 2); /* U+017F LATIN SMALL LETTER LONG S */
    else if (caseless && f == 'k')
        set_add(s, "\xe2\x84\xaa", 3); /* U+212A KELVIN SIGN */
}

/* {""}: the run before any character. */
static Set *set_empty_run(void)
{
    Set *s = set_new();
    set_add(s, "", 0);
    return s;
}

static void set_free(Set *s)
{
    if (!s)
        return;
    for (guint i = 0; i < s->len; i++)
        g_string_free(s->pdata[i], TRUE);
    g_ptr_array_free(s, TRUE);
}

/* Every string of a followed by every string of b; NULL if that is too many. */
static Set *set_product(const Set *a, const Set *b)
{
    if ((size_t)a->len * b->len > SIG_RELIT_MAX_SET)
        return NULL;
    Set *s = set_new();
    for (guint i = 0; i < a->len; i++) {
        for (guint k = 0; k < b->len; k++) {
            const GString *x = a->pdata[i], *y = b->pdata[k];
            GString *g = g_string_new_len(x->str, (gssize)x->len);
            g_string_append_len(g, y->str, (gssize)y->len);
            g_ptr_array_add(s, g);
        }
    }
    return s;
}

/* A requirement: NULL = none, else a set of alternative literals (a Set). */
typedef GPtrArray Req;

static void req_destroy(Req *r)
{
    set_free(r);
}

static double req_weight(const Req *r)
{
    double w = 1e9;
    for (guint i = 0; i < r->len; i++) {
        const GString *g = r->pdata[i];
        w = MIN(w, sig_lit_weight(g->str, g->len));
    }
    return w;
}

static Req *req_best(Req *a, Req *b)
{
    if (!a || !b)
        return a ? a : b;
    double wa = req_weight(a), wb = req_weight(b);
    bool keep_a = wa != wb ? wa > wb : a->len <= b->len;
    req_destroy(keep_a ? b : a);
    return keep_a ? a : b;
}

static Req *req_union(Req *a, Req *b)
{
    if (!a || !b) {
        req_destroy(a);
        req_destroy(b);
        return NULL;
    }
    for (guint i = 0; i < b->len; i++)
        g_ptr_array_add(a, b->pdata[i]);
    g_ptr_array_free(b, TRUE);
    return a;
}

/* Reads a quantifier at re->p if there is one: *min gets its minimum, *max its maximum
 * (LONG_MAX: none). */
static bool quantifier_range(Re *re, long *min, long *max)
{
    const char *p = re->p;
    if (p >= re->end)
        return false;
    if (*p == '?' || *p == '*' || *p == '+') {
        *min = *p == '+' ? 1 : 0;
        *max = *p == '?' ? 1 : LONG_MAX;
        p++;
    } else if (*p == '{') {
        const char *q = p + 1;
        long lo = 0;
        bool digits = false;
        while (q < re->end && g_ascii_isdigit(*q)) {
            lo = lo * 10 + (*q++ - '0');
            digits = true;
            if (lo > 100000)
                lo = 100000;
        }
        if (!digits && q < re->end && *q == ',') {
            re->fail = true; /* `{,n}`: a plain brace before PCRE2 10.43, {0,n} since */
            return false;
        }
        if (!digits)
            return false; /* `{` that is not a quantifier is a plain brace */
        long hi = lo;
        if (q < re->end && *q == ',') {
            q++;
            hi = q < re->end && g_ascii_isdigit(*q) ? 0 : LONG_MAX;
            for (; q < re->end && g_ascii_isdigit(*q); q++)
                hi = MIN(hi * 10 + (*q - '0'), 100000L);
        }
        if (q >= re->end || *q != '}')
            return false;
        *min = lo;
        *max = hi;
        p = q + 1;
    } else {
        return false;
    }
    if (p < re->end && (*p == '?' || *p == '+')) /* lazy or possessive */
        p++;
    re->p = p;
    return true;
}

/* Reads a quantifier at re->p if there is one: *min gets its minimum. */
static bool quantifier(Re *re, long *min)
{
    long max;
    return quantifier_range(re, min, &max);
}

/* The run ends here: it becomes a requirement (unless it can be empty), and a new one
 * starts. */
static void flush(Set **cur, Req **best)
{
    bool empty = (*cur)->len == 0;
    for (guint i = 0; i < (*cur)->len && !empty; i++)
        empty = ((GString *)(*cur)->pdata[i])->len == 0;
    if (!empty) {
        *best = req_best(*best, *cur);
        *cur = set_empty_run();
    } else if ((*cur)->len != 1 || ((GString *)(*cur)->pdata[0])->len != 0) {
        set_free(*cur);
        *cur = set_empty_run();
    }
}

/* The run goes on with one of the strings of e; when that makes too many, the run so far
 * is a requirement of its own and the new one starts with e. */
static void extend(Set **cur, const Set *e, Req **best)
{
    Set *x = set_product(*cur, e);
    if (!x) {
        flush(cur, best);
        x = set_product(*cur, e);
    }
    set_free(*cur);
    *cur = x;
}

static Req *parse_alt(Re *re, int depth, int *run, Set **exact);

/* Skips a character class [...] (PCRE: `]` right after `[` or `[^` is literal). Returns
 * true when every character the class matches is an ASCII digit ([0-9], [2-6], [\d]). */
static bool skip_class(Re *re)
{
    const char *p = re->p + 1;
    bool digits = true;
    if (p < re->end && *p == '^') {
        digits = false;
        p++;
    }
    if (p < re->end && *p == ']') {
        digits = false;
        p++;
    }
    while (p < re->end && *p != ']') {
        if (*p == '\\' && p + 1 < re->end) {
            p++;
            if (*p != 'd')
                digits = false;
        } else if (*p == '[' && p + 1 < re->end && p[1] == ':') { /* [:alpha:] */
            const char *q = strstr(p + 2, ":]");
            if (q && q < re->end)
                p = q + 1;
            digits = false;
        } else if (!g_ascii_isdigit(*p) && !(*p == '-' && p[-1] != '[' && p + 1 < re->end &&
                                             g_ascii_isdigit(p[-1]) && g_ascii_isdigit(p[1]))) {
            digits = false;
        }
        p++;
    }
    if (p >= re->end)
        re->fail = true;
    re->p = p + 1;
    return digits;
}

/* The characters of a class of plain characters ([cn], [dD]), ASCII-folded (with the
 * case variants of s and k when caseless); NULL for anything else (ranges, negation,
 * escapes). p is the `[`, q the `]`. */
static Set *class_set(const Re *re, const char *p, const char *q)
{
    if (q - p < 2 || q - p > 9 || p[1] == '^' || p[1] == ']')
        return NULL;
    bool seen[256] = {false};
    Set *s = set_new();
    for (const char *c = p + 1; c < q; c++) {
        uint8_t b = (uint8_t)*c;
        if (b >= 0x80 || b == '\\' || b == '[' || b == '-') {
            set_free(s);
            return NULL;
        }
        if (!seen[sig_fold[b]])
            add_char(s, (char)b, re->caseless);
        seen[sig_fold[b]] = true;
    }
    return s;
}

/* Also computes *run_out: the longest run of consecutive digits every match of the
 * sequence contains (`4[0-9]{12}` needs 13), for patterns such as card numbers whose only
 * literals are digits; and *exact_out, when the sequence can only match one of a few
 * strings (plain characters and such atoms, no quantifiers), those strings (else NULL). */
static Req *parse_seq(Re *re, int depth, int *run_out, Set **exact_out)
{
    Req *best = NULL;
    Set *cur = set_empty_run();
    Set *whole = set_empty_run(); /* NULL once the sequence is not a known set */
    int run = 0, best_run = 0, group_run = 0;
    while (!re->fail && re->p < re->end && *re->p != '|' && *re->p != ')') {
        char c = *re->p;
        Set *e = NULL;      /* the strings the atom matches, if known */
        bool digit = false; /* matches exactly one ASCII digit */
        Req *group = NULL;
        group_run = 0;
        if (c == '\\') {
            if (re->p + 1 >= re->end) {
                re->fail = true;
                break;
            }
            char x = re->p[1];
            re->p += 2;
            char ch = 0;
            bool plain = true;
            if (!g_ascii_isalnum(x))
                ch = x;
            else if (strchr("tnrfe", x))
                ch = x == 't' ? '\t' : x == 'n' ? '\n' : x == 'r' ? '\r' : x == 'f' ? '\f' : 27;
            else
                plain = false;
            if (plain) {
                add_char(e = set_new(), ch, re->caseless);
            } else if (x == 's') {
                e = set_new();
                for (const char *w = " \t\n\v\f\r"; *w; w++)
                    set_add(e, w, 1);
            } else if (strchr("bBAzZG", x)) {
                ; /* zero-width */
            } else if (x == 'd') {
                digit = true;
            } else if (strchr("DwWSShHvVRX", x) || g_ascii_isdigit(x)) {
                ; /* a class or a back reference: consumes, requires nothing known */
            } else {
                re->fail = true;
            }
        } else if (c == '.') {
            re->p++;
        } else if (c == '^' || c == '$') {
            re->p++;
        } else if (c == '[') {
            const char *open = re->p;
            digit = skip_class(re);
            if (!re->fail)
                e = class_set(re, open, re->p - 1);
        } else if (c == '(') {
            re->p++;
            bool keep = true;
            if (re->p < re->end && *re->p == '?') {
                const char *q = re->p + 1;
                if (q < re->end && (*q == ':' || *q == '>')) {
                    re->p = q + 1;
                } else if (q < re->end && (*q == '=' || *q == '!')) {
                    re->p = q + 1; /* lookahead: zero-width, content not required here */
                    keep = false;
                } else if (q + 1 < re->end && *q == '<' && (q[1] == '=' || q[1] == '!')) {
                    re->p = q + 2;
                    keep = false;
                } else if (q < re->end && (*q == '<' || *q == 'P' || *q == '\'')) {
                    const char *x = q;
                    while (x < re->end && *x != '>' && !(x > q && *x == '\''))
                        x++;
                    re->p = x + 1; /* named group */
                } else {
                    /* inline flags (?i) (?-s) (?i:...); x (spaces do not count) is not
                     * followed */
                    const char *x = q;
                    bool neg = false;
                    while (x < re->end && (g_ascii_isalpha(*x) || *x == '-')) {
                        if (*x == '-')
                            neg = true;
                        else if (*x == 'i' && !neg)
                            re->caseless = true;
                        else if (!strchr("imsnU", *x))
                            re->fail = true;
                        x++;
                    }
                    if (x < re->end && *x == ')') { /* flags for the rest: zero-width */
                        re->p = x + 1;
                        flush(&cur, &best);
                        set_free(whole);
                        whole = NULL;
                        best_run = MAX(best_run, run);
                        run = 0;
                        continue;
                    }
                    if (x < re->end && *x == ':')
                        re->p = x + 1;
                    else
                        re->fail = true;
                }
            }
            if (re->fail)
                break;
            if (depth > 50) {
                re->fail = true;
                break;
            }
            Set *gx = NULL;
            group = parse_alt(re, depth + 1, &group_run, &gx);
            if (re->p >= re->end || *re->p != ')') {
                req_destroy(group);
                set_free(gx);
                re->fail = true;
                break;
            }
            re->p++;
            if (!keep) {
                req_destroy(group);
                set_free(gx);
                group = NULL;
                gx = NULL;
                group_run = 0;
            }
            e = gx;
        } else if (c == '*' || c == '+' || c == '?') {
            re->fail = true; /* a quantifier with nothing to repeat */
            break;
        } else if ((unsigned char)c >= 0xC0) {
            int n = (unsigned char)c < 0xE0 ? 2 : (unsigned char)c < 0xF0 ? 3 : 4;
            const char *start = re->p;
            for (int i = 0; i < n && re->p < re->end; i++)
                re->p++;
            if (!re->caseless) /* one character: all its bytes or none */
                set_add(e = set_new(), start, (size_t)(re->p - start));
        } else {
            re->p++;
            if (c >= '0' && c <= '9')
                digit = true;
            add_char(e = set_new(), c, re->caseless);
        }
        if (re->fail) {
            req_destroy(group);
            set_free(e);
            break;
        }
        long min = 1;
        bool quant = quantifier(re, &min);
        if (digit) { /* the digit run goes on (an optional digit adds nothing) */
            run = (int)MIN((long)run + min, 100000L);
        } else {
            best_run = MAX(best_run, run);
            run = 0;
            if (group && (!quant || min > 0))
                best_run = MAX(best_run, group_run);
        }
        if (whole) { /* the sequence stays a known set only without quantifiers */
            Set *w = e && !quant ? set_product(whole, e) : NULL;
            set_free(whole);
            whole = w;
        }
        if (e && (!quant || min > 0)) {
            /* known strings: the run goes on through the atom (its first repetition) */
            extend(&cur, e, &best);
            if (quant) { /* and the next run starts with its last repetition */
                flush(&cur, &best);
                set_free(cur);
                cur = e;
                e = NULL;
            }
            req_destroy(group); /* implied by the run */
            set_free(e);
            continue;
        }
        set_free(e);
        flush(&cur, &best);
        if (group && (!quant || min > 0))
            best = req_best(best, group);
        else
            req_destroy(group);
    }
    flush(&cur, &best);
    set_free(cur);
    *run_out = MAX(best_run, run);
    if (re->fail) {
        set_free(whole);
        whole = NULL;
    }
    *exact_out = whole;
    return best;
}

/* An alternation requires one of its branches' sets, and the shortest of their runs; it
 * matches one of a known set of strings when each branch does. */
static Req *parse_alt(Re *re, int depth, int *run, Set **exact)
{
    Set *x = NULL;
    Req *r = parse_seq(re, depth, run, &x);
    bool any = r != NULL;
    while (!re->fail && re->p < re->end && *re->p == '|') {
        re->p++;
        int k;
        Set *bx = NULL;
        Req *b = parse_seq(re, depth, &k, &bx);
        *run = MIN(*run, k);
        if (any)
            r = req_union(r, b);
        else
            req_destroy(b);
        any = r != NULL;
        if (x && bx && x->len + bx->len <= SIG_RELIT_MAX_SET) {
            for (guint i = 0; i < bx->len; i++)
                g_ptr_array_add(x, g_string_new_len(((GString *)bx->pdata[i])->str,
                                                    (gssize)((GString *)bx->pdata[i])->len));
        } else {
            set_free(x);
            x = NULL;
        }
        set_free(bx);
    }
    *exact = x;
    return r;
}

GPtrArray *sig_re_required(const char *pattern, bool caseless, int *min_digits)
{
    Re re = {pattern, pattern + strlen(pattern), caseless, false};
    int run = 0;
    Set *exact = NULL;
    Req *r = parse_alt(&re, 0, &run, &exact);
    set_free(exact);
    *min_digits = 0;
    if (re.fail || re.p != re.end) {
        req_destroy(r);
        return NULL;
    }
    *min_digits = run;
    return r;
}

void sig_re_required_free(GPtrArray *lits)
{
    req_destroy(lits);
}

/* ---- shapes ----
 *
 * Some regexes need nothing but digits and characters found in almost every URL: a US
 * social security number, `[0-9]{3}-[0-9]{2}-[0-9]{4}`, needs `-`, which every UUID has,
 * and a run of four digits, which most ids have. Scanning for those wakes the rule on
 * most requests of an API whose ids are numbers or UUIDs, and pcre2 then runs on every
 * path with a UUID. What such a regex needs is stricter: the digits and the dashes in a
 * row, "DDD-DD-DDDD", which a UUID hardly ever holds. That is its shape.
 *
 * Only the top-level sequence is read, and atoms whose matches are one known byte: a
 * plain character (not a letter in caseless mode, where it has case variants, nor a
 * byte of a multi-byte character), an escaped punctuation character, `\d` or a class of
 * digits only (the shape's digit). Assertions (`^`, `$`, `\b`, lookarounds) match no
 * characters, so the atoms around them stay in a row. A quantifier repeats its atom
 * min times (a row holds SIG_SHAPE_MAX bytes: past half of that, the row starts again with
 * the last repetitions); past min (a variable count) the row ends, and the next starts
 * with the atom's last repetition. Any other atom ends the row. A top-level alternation, option
 * settings, `\Q`, back references and escapes with arguments (`\x41`) mean no shape: a
 * shape must hold for every match, so when in doubt there is none. The longest row that
 * holds both a digit and another byte is the shape (a row of digits alone is the digit
 * run of sig_re_required, a row without digits one of its literals). */

typedef struct {
    SigShape cur, best;
} ShapeRows;

static bool shape_useful(const SigShape *sh)
{
    bool digit = false, other = false;
    for (int i = 0; i < sh->len; i++) {
        digit = digit || sh->c[i] == '\0';
        other = other || sh->c[i] != '\0';
    }
    return digit && other;
}

static void shape_cut(ShapeRows *r)
{
    if (shape_useful(&r->cur) && r->cur.len > r->best.len)
        r->best = r->cur;
    r->cur.len = 0;
}

static void shape_add(ShapeRows *r, char c)
{
    if (r->cur.len == SIG_SHAPE_MAX)
        shape_cut(r);
    r->cur.c[r->cur.len++] = c;
}

/* Skips the group whose `(` is at re->p, nested groups and classes included. */
static void skip_group(Re *re)
{
    int depth = 0;
    while (re->p < re->end && !re->fail) {
        char c = *re->p;
        if (c == '\\') {
            re->p += 2;
        } else if (c == '[') {
            skip_class(re);
        } else {
            re->p++;
            if (c == '(')
                depth++;
            else if (c == ')' && --depth == 0)
                return;
        }
    }
    re->fail = true; /* unbalanced */
}

bool sig_re_shape(const char *pattern, bool caseless, SigShape *out)
{
    Re re = {pattern, pattern + strlen(pattern), caseless, false};
    ShapeRows r = {0};
    while (re.p < re.end && !re.fail) {
        const char *p = re.p;
        int atom = -1; /* the byte, '\0' for a digit, -1 for an atom of no known byte */
        bool empty = false;
        if (*p == '|' || *p == ')' || *p == '*' || *p == '+' || *p == '?') {
            return false; /* alternation, or not a pattern we understand */
        } else if (*p == '^' || *p == '$') {
            re.p++;
            empty = true;
        } else if (*p == '(') {
            if (p + 1 < re.end && p[1] == '*')
                return false; /* (*UCP), (*CR): verbs and options */
            if (p + 2 < re.end && p[1] == '?') {
                bool look = p[2] == '=' || p[2] == '!' ||
                            (p[2] == '<' && p + 3 < re.end && (p[3] == '=' || p[3] == '!'));
                bool group = strchr(":>|P'<", p[2]) != NULL;
                if (!look && !group)
                    return false; /* (?i), (?x), (?#...), conditionals, recursion */
                empty = look;
            }
            skip_group(&re);
        } else if (*p == '[') {
            atom = skip_class(&re) ? '\0' : -1;
        } else if (*p == '\\') {
            if (p + 1 >= re.end)
                return false;
            char x = p[1];
            re.p += 2;
            if (x == 'd')
                atom = '\0';
            else if (strchr("bBAzZG", x))
                empty = true;
            else if (strchr("DsSwWhHvVRX", x))
                atom = -1;
            else if (g_ascii_ispunct(x))
                atom = x;
            else
                return false; /* \x41, \Q, \1, \p{..}, \K: not followed */
        } else if (*p == '.') {
            re.p++;
        } else if ((uint8_t)*p >= 0x80) {
            re.p++; /* a multi-byte character: one atom */
            while (re.p < re.end && ((uint8_t)*re.p & 0xC0) == 0x80)
                re.p++;
        } else {
            long lo, hi;
            Re q = re;
            if (*p == '{' && quantifier_range(&q, &lo, &hi))
                return false; /* a quantifier with nothing to repeat */
            re.p++;
            atom = caseless && g_ascii_isalpha(*p) ? -1 : *p;
        }
        long min = 1, max = 1;
        bool quant = quantifier_range(&re, &min, &max);
        if (re.fail)
            break;
        if (empty) {
            if (quant)
                shape_cut(&r);
            continue;
        }
        if (atom < 0) {
            shape_cut(&r);
            continue;
        }
        long reps = MIN(min, (long)SIG_SHAPE_MAX / 2);
        if (reps < min) /* too many for a row: it starts with the last repetitions */
            shape_cut(&r);
        for (long k = 0; k < reps; k++)
            shape_add(&r, (char)atom);
        if (max != min) {
            shape_cut(&r);
            if (min > 0)
                shape_add(&r, (char)atom);
        }
    }
    if (re.fail)
        return false;
    shape_cut(&r);
    *out = r.best;
    return r.best.len > 0;
}

bool sig_shape_in(const SigShape *sh, const char *p, size_t n)
{
    size_t len = sh->len, a = 0;
    if (!len || n < len)
        return false;
    while (a < len && sh->c[a] == '\0')
        a++;
    if (a == len)
        return false; /* not a shape (no byte to look for) */
    /* each place of the shape's first byte, then the rest around it */
    const char *x = p + a, *last = p + (n - len) + a;
    while (x <= last && (x = memchr(x, sh->c[a], (size_t)(last - x) + 1))) {
        const char *s = x - a;
        size_t i = 0;
        while (i < len && (sh->c[i] ? s[i] == sh->c[i] : (unsigned)(s[i] - '0') < 10))
            i++;
        if (i == len)
            return true;
        x++;
    }
    return false;
}

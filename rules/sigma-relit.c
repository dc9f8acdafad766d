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
 * recursion) stops the analysis: no guard.
 *
 * Case: the prefilter folds ASCII only. A caseless pattern in UTF mode also matches the
 * Kelvin sign for `k` and the long s for `s`, so in caseless mode those two letters end
 * a literal instead of joining it.
 */
#include "rules/sigma.h"

typedef struct {
    const char *p, *end;
    bool caseless;
    bool fail;
} Re;

/* A requirement: NULL = none, else a set of alternative literals (GPtrArray of GString). */
typedef GPtrArray Req;

static Req *req_one(const GString *lit)
{
    Req *r = g_ptr_array_new();
    g_ptr_array_add(r, g_string_new_len(lit->str, (gssize)lit->len));
    return r;
}

static void req_destroy(Req *r)
{
    if (!r)
        return;
    for (guint i = 0; i < r->len; i++)
        g_string_free(r->pdata[i], TRUE);
    g_ptr_array_free(r, TRUE);
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

/* Reads a quantifier at re->p if there is one: *min gets its minimum. */
static bool quantifier(Re *re, long *min)
{
    const char *p = re->p;
    if (p >= re->end)
        return false;
    if (*p == '?' || *p == '*' || *p == '+') {
        *min = *p == '+' ? 1 : 0;
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
        if (!digits)
            return false; /* `{` that is not a quantifier is a plain brace */
        if (q < re->end && *q == ',') {
            q++;
            while (q < re->end && g_ascii_isdigit(*q))
                q++;
        }
        if (q >= re->end || *q != '}')
            return false;
        *min = lo;
        p = q + 1;
    } else {
        return false;
    }
    if (p < re->end && (*p == '?' || *p == '+')) /* lazy or possessive */
        p++;
    re->p = p;
    return true;
}

static void flush(GString *cur, Req **best)
{
    if (cur->len)
        *best = req_best(*best, req_one(cur));
    g_string_truncate(cur, 0);
}

static Req *parse_alt(Re *re, int depth, int *run);

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

/* Also computes *run_out: the longest run of consecutive digits every match of the
 * sequence contains (`4[0-9]{12}` needs 13), for patterns such as card numbers whose only
 * literals are digits. */
static Req *parse_seq(Re *re, int depth, int *run_out)
{
    Req *best = NULL;
    GString *cur = g_string_new(NULL);
    int run = 0, best_run = 0, group_run = 0;
    while (!re->fail && re->p < re->end && *re->p != '|' && *re->p != ')') {
        char c = *re->p;
        int lit = -1; /* a plain character, or -1 */
        char mb[4];   /* or a multi-byte UTF-8 character */
        int mb_len = 0;
        bool atom = true;   /* consumes input (else zero-width) */
        bool digit = false; /* matches exactly one ASCII digit */
        Req *group = NULL;
        group_run = 0;
        if (c == '\\') {
            if (re->p + 1 >= re->end) {
                re->fail = true;
                break;
            }
            char e = re->p[1];
            re->p += 2;
            if (!g_ascii_isalnum(e))
                lit = (unsigned char)e;
            else if (strchr("tnrfe", e))
                lit = e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == 'f' ? '\f' : 27;
            else if (strchr("bBAzZG", e))
                atom = false;
            else if (e == 'd')
                digit = true;
            else if (strchr("DwWsShHvVRX", e) || g_ascii_isdigit(e))
                ; /* a class or a back reference: consumes, requires nothing known */
            else
                re->fail = true;
        } else if (c == '.') {
            re->p++;
        } else if (c == '^' || c == '$') {
            re->p++;
            atom = false;
        } else if (c == '[') {
            digit = skip_class(re);
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
                    atom = false;
                } else if (q + 1 < re->end && *q == '<' && (q[1] == '=' || q[1] == '!')) {
                    re->p = q + 2;
                    keep = false;
                    atom = false;
                } else if (q < re->end && (*q == '<' || *q == 'P' || *q == '\'')) {
                    const char *e = q;
                    while (e < re->end && *e != '>' && !(e > q && *e == '\''))
                        e++;
                    re->p = e + 1; /* named group */
                } else {
                    /* inline flags (?i) (?-s) (?i:...) */
                    const char *e = q;
                    bool neg = false;
                    while (e < re->end && (g_ascii_isalpha(*e) || *e == '-')) {
                        if (*e == '-')
                            neg = true;
                        else if (*e == 'i' && !neg)
                            re->caseless = true;
                        else if (!strchr("imsxnU", *e))
                            re->fail = true;
                        e++;
                    }
                    if (e < re->end && *e == ')') { /* flags for the rest: zero-width */
                        re->p = e + 1;
                        flush(cur, &best);
                        best_run = MAX(best_run, run);
                        run = 0;
                        continue;
                    }
                    if (e < re->end && *e == ':')
                        re->p = e + 1;
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
            group = parse_alt(re, depth + 1, &group_run);
            if (re->p >= re->end || *re->p != ')') {
                req_destroy(group);
                re->fail = true;
                break;
            }
            re->p++;
            if (!keep) {
                req_destroy(group);
                group = NULL;
                group_run = 0;
            }
        } else if (c == '*' || c == '+' || c == '?') {
            re->fail = true; /* a quantifier with nothing to repeat */
            break;
        } else if ((unsigned char)c >= 0xC0) {
            int n = (unsigned char)c < 0xE0 ? 2 : (unsigned char)c < 0xF0 ? 3 : 4;
            for (int i = 0; i < n && re->p < re->end; i++)
                mb[mb_len++] = *re->p++;
        } else {
            lit = (unsigned char)c;
            re->p++;
        }
        if (re->fail) {
            req_destroy(group);
            break;
        }
        long min = 1;
        bool quant = quantifier(re, &min);
        if (lit >= '0' && lit <= '9')
            digit = true;
        if (digit) { /* the digit run goes on (an optional digit adds nothing) */
            run = (int)MIN((long)run + min, 100000L);
        } else {
            best_run = MAX(best_run, run);
            run = 0;
            if (group && (!quant || min > 0))
                best_run = MAX(best_run, group_run);
        }
        if (lit >= 0 && re->caseless && strchr("sSkK", lit))
            lit = -1, atom = true;     /* Unicode case variants: not a safe literal */
        if (mb_len && !re->caseless) { /* one character: all its bytes or none */
            if (quant && min == 0) {
                flush(cur, &best);
            } else {
                g_string_append_len(cur, mb, mb_len);
                if (quant)
                    flush(cur, &best);
            }
            continue;
        }
        if (lit >= 0) {
            if (quant && min == 0) {
                flush(cur, &best);
            } else {
                g_string_append_c(cur, (char)sig_fold[lit]);
                if (quant) /* repeated: the run cannot continue past it */
                    flush(cur, &best);
            }
            continue;
        }
        flush(cur, &best);
        (void)atom;
        if (group && (!quant || min > 0))
            best = req_best(best, group);
        else
            req_destroy(group);
    }
    flush(cur, &best);
    g_string_free(cur, TRUE);
    *run_out = MAX(best_run, run);
    return best;
}

/* An alternation requires one of its branches' sets, and the shortest of their runs. */
static Req *parse_alt(Re *re, int depth, int *run)
{
    Req *r = parse_seq(re, depth, run);
    bool any = r != NULL;
    while (!re->fail && re->p < re->end && *re->p == '|') {
        re->p++;
        int k;
        Req *b = parse_seq(re, depth, &k);
        *run = MIN(*run, k);
        if (any)
            r = req_union(r, b);
        else
            req_destroy(b);
        any = r != NULL;
    }
    return r;
}

GPtrArray *sig_re_required(const char *pattern, bool caseless, int *min_digits)
{
    Re re = {pattern, pattern + strlen(pattern), caseless, false};
    int run = 0;
    Req *r = parse_alt(&re, 0, &run);
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

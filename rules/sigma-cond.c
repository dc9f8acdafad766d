/* sigma-cond.c — the `condition` of a Sigma rule, parsed into a small AST.
 *
 * Grammar (sigma-rules-specification.md, "Condition"), least to most binding:
 *
 *     expr    := and ('or' and)*
 *     and     := not ('and' not)*
 *     not     := 'not' not | primary
 *     primary := '(' expr ')' | quant 'of' target | IDENT
 *     quant   := '1' | 'any' | 'all'          target := 'them' | PATTERN
 *
 * `x of` binds tighter than `not`, so `not 1 of filter*` is `not (1 of filter*)`. A pattern
 * uses `*` for any run of characters; `them` means every identifier not starting with `_`.
 * `x of` is expanded here into an OR/AND over the identifiers it names, so evaluation only
 * knows AND, OR, NOT and identifiers. Keywords are accepted in any case.
 *
 * The Sigma 1 aggregation syntax (`selection | count() by x > 5`, `near`) was removed from
 * the specification; it is rejected with a pointer to correlation rules instead of being
 * half understood.
 */
#include "rules/sigma.h"

typedef enum { T_END, T_LP, T_RP, T_WORD, T_PIPE } TokKind;

typedef struct {
    const char *text;
    size_t pos;   /* next character */
    TokKind kind; /* current token */
    size_t start; /* of the current token */
    char *word;   /* T_WORD */
    const SigDetection *d;
    const VgConfNode *node;
    GError **err;
    bool failed;
    int depth;
} Parser;

static bool is_word_char(char c)
{
    return g_ascii_isalnum(c) || c == '_' || c == '*' || c == '-' || c == '.';
}

static void fail_at(Parser *p, size_t pos, const char *fmt, const char *arg)
{
    if (p->failed)
        return;
    p->failed = true;
    char *msg = g_strdup_printf(fmt, arg);
    vg_conf_error(p->err, p->node, "condition: %s (at character %zu of '%s')", msg, pos + 1,
                  p->text);
    g_free(msg);
}

static void next(Parser *p)
{
    g_clear_pointer(&p->word, g_free);
    while (p->text[p->pos] == ' ' || p->text[p->pos] == '\t' || p->text[p->pos] == '\n' ||
           p->text[p->pos] == '\r')
        p->pos++;
    p->start = p->pos;
    char c = p->text[p->pos];
    if (!c) {
        p->kind = T_END;
    } else if (c == '(') {
        p->kind = T_LP;
        p->pos++;
    } else if (c == ')') {
        p->kind = T_RP;
        p->pos++;
    } else if (c == '|') {
        p->kind = T_PIPE;
        p->pos++;
    } else if (is_word_char(c)) {
        size_t s = p->pos;
        while (is_word_char(p->text[p->pos]))
            p->pos++;
        p->kind = T_WORD;
        p->word = g_strndup(p->text + s, p->pos - s);
    } else {
        char what[2] = {c, 0};
        fail_at(p, p->pos, "unexpected character '%s'", what);
        p->kind = T_END;
    }
}

static bool word_is(const Parser *p, const char *kw)
{
    return p->kind == T_WORD && !g_ascii_strcasecmp(p->word, kw);
}

static bool is_keyword(const char *w)
{
    static const char *const kws[] = {"and", "or", "not", "of", "them", "any", "all", "1"};
    for (size_t i = 0; i < G_N_ELEMENTS(kws); i++)
        if (!g_ascii_strcasecmp(w, kws[i]))
            return true;
    return false;
}

static SigCond *cond_new(SigCondKind k)
{
    SigCond *c = g_new0(SigCond, 1);
    c->kind = (uint8_t)k;
    return c;
}

static void cond_add(SigCond *parent, SigCond *kid)
{
    parent->kids = g_renew(SigCond *, parent->kids, parent->n + 1);
    parent->kids[parent->n++] = kid;
}

void sig_cond_free(SigCond *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n; i++)
        sig_cond_free(c->kids[i]);
    g_free(c->kids);
    g_free(c);
}

static SigCond *ident(int i)
{
    SigCond *c = cond_new(SIG_C_IDENT);
    c->ident = i;
    return c;
}

/* `*` matches any run of characters. Greedy with one back-track point: O(len^2) at worst,
 * never exponential. */
static bool glob_name(const char *pat, const char *s)
{
    const char *star = NULL, *retry = NULL;
    while (*s) {
        if (*pat == '*') {
            star = ++pat;
            retry = s;
        } else if (*pat == *s) {
            pat++;
            s++;
        } else if (star) {
            pat = star;
            s = ++retry;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return !*pat;
}

static SigCond *parse_expr(Parser *p);

static void reject_aggregation(Parser *p)
{
    fail_at(p, p->start, "%s",
            "the aggregation syntax ('| count() ...', 'near') was removed in Sigma 2.0; "
            "write a correlation rule instead (correlation: type: event_count, "
            "value_count or temporal)");
}

static SigCond *parse_primary(Parser *p)
{
    if (p->failed)
        return NULL;
    if (p->kind == T_LP) {
        if (++p->depth > 64) {
            fail_at(p, p->start, "%s", "nested too deeply");
            return NULL;
        }
        next(p);
        SigCond *c = parse_expr(p);
        if (!c)
            return NULL;
        if (p->kind != T_RP) {
            fail_at(p, p->start, "%s", "missing ')'");
            sig_cond_free(c);
            return NULL;
        }
        p->depth--;
        next(p);
        return c;
    }
    if (p->kind == T_PIPE) {
        reject_aggregation(p);
        return NULL;
    }
    if (p->kind != T_WORD) {
        fail_at(p, p->start, "%s", p->kind == T_END ? "unexpected end" : "unexpected ')'");
        return NULL;
    }
    if (word_is(p, "1") || word_is(p, "any") || word_is(p, "all")) {
        bool all = word_is(p, "all");
        next(p);
        if (!word_is(p, "of")) {
            fail_at(p, p->start, "%s", "expected 'of' after '1', 'any' or 'all'");
            return NULL;
        }
        next(p);
        if (p->kind != T_WORD) {
            fail_at(p, p->start, "%s", "expected 'them' or an identifier pattern after 'of'");
            return NULL;
        }
        bool them = word_is(p, "them");
        SigCond *c = cond_new(all ? SIG_C_AND : SIG_C_OR);
        for (int i = 0; i < p->d->n_idents; i++) {
            const char *name = p->d->names[i];
            if (them ? name[0] != '_' : glob_name(p->word, name))
                cond_add(c, ident(i));
        }
        if (c->n == 0) {
            fail_at(p, p->start, "no search identifier matches '%s'", p->word);
            sig_cond_free(c);
            return NULL;
        }
        next(p);
        return c;
    }
    if (g_ascii_isdigit(p->word[0]) && p->word[strspn(p->word, "0123456789")] == '\0') {
        fail_at(p, p->start, "'%s of' is not Sigma: use '1 of', 'any of' or 'all of'", p->word);
        return NULL;
    }
    if (word_is(p, "near")) {
        reject_aggregation(p);
        return NULL;
    }
    if (is_keyword(p->word)) {
        fail_at(p, p->start, "unexpected '%s'", p->word);
        return NULL;
    }
    if (strchr(p->word, '*')) {
        fail_at(p, p->start, "a pattern ('%s') needs '1 of' or 'all of' before it", p->word);
        return NULL;
    }
    for (int i = 0; i < p->d->n_idents; i++) {
        if (!strcmp(p->d->names[i], p->word)) {
            next(p);
            return ident(i);
        }
    }
    fail_at(p, p->start, "unknown search identifier '%s'", p->word);
    return NULL;
}

static SigCond *parse_not(Parser *p)
{
    if (word_is(p, "not")) {
        if (++p->depth > 64) {
            fail_at(p, p->start, "%s", "nested too deeply");
            return NULL;
        }
        next(p);
        SigCond *inner = parse_not(p);
        p->depth--;
        if (!inner)
            return NULL;
        SigCond *c = cond_new(SIG_C_NOT);
        cond_add(c, inner);
        return c;
    }
    return parse_primary(p);
}

static SigCond *parse_chain(Parser *p, const char *op, SigCondKind kind, SigCond *(*sub)(Parser *))
{
    SigCond *first = sub(p);
    if (!first || !word_is(p, op))
        return first;
    SigCond *c = cond_new(kind);
    cond_add(c, first);
    while (word_is(p, op)) {
        next(p);
        SigCond *k = sub(p);
        if (!k) {
            sig_cond_free(c);
            return NULL;
        }
        cond_add(c, k);
    }
    return c;
}

static SigCond *parse_and(Parser *p)
{
    return parse_chain(p, "and", SIG_C_AND, parse_not);
}

static SigCond *parse_expr(Parser *p)
{
    return parse_chain(p, "or", SIG_C_OR, parse_and);
}

SigCond *sig_cond_parse(const char *text, const SigDetection *d, const VgConfNode *n, GError **err)
{
    Parser p = {.text = text, .d = d, .node = n, .err = err};
    next(&p);
    SigCond *c = p.failed ? NULL : parse_expr(&p);
    if (c && !p.failed && p.kind != T_END) {
        if (p.kind == T_PIPE || word_is(&p, "near"))
            reject_aggregation(&p);
        else
            fail_at(&p, p.start, "unexpected '%s'", p.kind == T_RP ? ")" : p.word ? p.word : "?");
    }
    g_free(p.word);
    if (p.failed) {
        sig_cond_free(c);
        return NULL;
    }
    return c;
}

/* sigma-value.c — one `field|modifier|...: value(s)` entry of a Sigma rule, compiled into
 * a SigTest.
 *
 * The key names a field and a chain of modifiers (sigma-appendix-modifiers.md). Modifiers
 * come in three kinds, and the chain is checked before anything is compiled:
 *   - a type, at most one: re (with the flags i, m, s), cidr, exists, fieldref, a numeric
 *     comparison lt/lte/gt/gte, or a date part (minute ... year, optionally followed by a
 *     comparison);
 *   - string transformations, applied to the values in the order written: contains,
 *     startswith, endswith, base64, base64offset, utf16/utf16le/utf16be/wide, windash,
 *     expand;
 *   - flags: all (values AND instead of OR), cased (case-sensitive), neq (the field is
 *     present and equals none of the values).
 * An unknown modifier, or a combination that has no meaning (re with contains, exists
 * with a list), is an error with the key's location: a rule that silently never matches
 * is worse than one that does not load.
 *
 * A value becomes a SigPattern: exact, prefix, suffix, contains, any, or a general glob.
 * Literals are case-folded at load time unless `cased`, so matching folds only the event
 * side. A value that reads as a number also keeps that number, so `status: 401` compares
 * numerically on the integer field and textually on a string field.
 */
#include "rules/sigma.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>

typedef enum {
    M_CONTAINS,
    M_STARTSWITH,
    M_ENDSWITH,
    M_ALL,
    M_RE,
    M_I,
    M_M,
    M_S,
    M_CIDR,
    M_BASE64,
    M_BASE64OFFSET,
    M_WINDASH,
    M_EXISTS,
    M_CASED,
    M_NEQ,
    M_LT,
    M_LTE,
    M_GT,
    M_GTE,
    M_FIELDREF,
    M_UTF16,
    M_UTF16LE,
    M_UTF16BE,
    M_WIDE,
    M_EXPAND,
    M_MINUTE,
    M_HOUR,
    M_DAY,
    M_WEEK,
    M_MONTH,
    M_YEAR,
    M_LUHN, /* vigil's extension: re|luhn, see sigma-test.c */
    M__COUNT
} Mod;

static const char *const mod_names[M__COUNT] = {
    "contains", "startswith", "endswith",     "all",      "re",     "i",       "m",       "s",
    "cidr",     "base64",     "base64offset", "windash",  "exists", "cased",   "neq",     "lt",
    "lte",      "gt",         "gte",          "fieldref", "utf16",  "utf16le", "utf16be", "wide",
    "expand",   "minute",     "hour",         "day",      "week",   "month",   "year",    "luhn",
};

#define BIT(m)     (1ull << (m))
#define SHAPE_MODS (BIT(M_CONTAINS) | BIT(M_STARTSWITH) | BIT(M_ENDSWITH))
#define STR_MODS                                                                                   \
    (SHAPE_MODS | BIT(M_BASE64) | BIT(M_BASE64OFFSET) | BIT(M_WINDASH) | BIT(M_UTF16) |            \
     BIT(M_UTF16LE) | BIT(M_UTF16BE) | BIT(M_WIDE) | BIT(M_EXPAND))
#define CMP_MODS (BIT(M_LT) | BIT(M_LTE) | BIT(M_GT) | BIT(M_GTE))
#define DATE_MODS                                                                                  \
    (BIT(M_MINUTE) | BIT(M_HOUR) | BIT(M_DAY) | BIT(M_WEEK) | BIT(M_MONTH) | BIT(M_YEAR))
#define RE_FLAGS (BIT(M_I) | BIT(M_M) | BIT(M_S) | BIT(M_LUHN))

bool sig_parse_number(const char *s, size_t len, SigNum *out)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return false;
    bool digit = false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')
            digit = true;
        else if (!(c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
            return false;
    }
    if (!digit)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (!errno && *end == '\0') {
        out->is_int = true;
        out->i = v;
        out->d = (double)v;
        return true;
    }
    errno = 0;
    double d = g_ascii_strtod(buf, &end);
    if (errno || *end != '\0')
        return false;
    out->is_int = false;
    out->d = d;
    out->i = 0;
    return true;
}

static void field_init(SigField *f, const char *name, size_t len)
{
    f->name = g_strndup(name, len);
    f->name_len = (uint32_t)len;
    f->id = len == 0 ? SIG_FIELD_RAW : (int)vg_field_resolve(f->name);
}

/* Splits the pattern into tokens and picks the cheapest way to match it. */
static void pattern_from_str(SigPattern *p, const SigStr *v, bool cased)
{
    memset(p, 0, sizeof *p);
    p->cased = cased;
    p->lit_id = p->guard_id = -1;
    GArray *toks = g_array_new(FALSE, TRUE, sizeof(SigTok));
    GString *lit = g_string_new(NULL);
    for (size_t i = 0; i < v->len;) {
        SigTok t = {0};
        if (v->wild[i] == '*') {
            while (i < v->len && v->wild[i] == '*') /* `**` is `*` */
                i++;
            t.kind = SIG_TOK_STAR;
        } else if (v->wild[i] == '?') {
            t.kind = SIG_TOK_QMARK;
            i++;
        } else {
            t.kind = SIG_TOK_LIT;
            t.off = (uint32_t)lit->len;
            while (i < v->len && !v->wild[i]) {
                char c = v->s[i++];
                g_string_append_c(lit, cased ? c : (char)sig_fold[(uint8_t)c]);
            }
            t.len = (uint32_t)(lit->len - t.off);
        }
        g_array_append_val(toks, t);
    }
    SigTok *tk = (SigTok *)toks->data;
    int n = (int)toks->len;
    bool simple = true;
    for (int i = 0; i < n; i++)
        if (tk[i].kind == SIG_TOK_QMARK || (tk[i].kind == SIG_TOK_STAR && i != 0 && i != n - 1))
            simple = false;
    if (n == 0) {
        p->kind = SIG_PAT_EXACT;
    } else if (n == 1 && tk[0].kind == SIG_TOK_STAR) {
        p->kind = SIG_PAT_ANY;
    } else if (simple && n == 1) {
        p->kind = SIG_PAT_EXACT;
    } else if (simple && n == 2) {
        p->kind = tk[0].kind == SIG_TOK_STAR ? SIG_PAT_SUFFIX : SIG_PAT_PREFIX;
    } else if (simple && n == 3 && tk[1].kind == SIG_TOK_LIT) {
        p->kind = SIG_PAT_CONTAINS;
    } else {
        p->kind = SIG_PAT_GLOB;
        p->n_toks = n;
        p->toks = g_memdup2(tk, sizeof(SigTok) * (size_t)n);
    }
    p->lit_len = (uint32_t)lit->len;
    p->lit = g_string_free(lit, FALSE);
    g_array_free(toks, TRUE);
    SigNum num;
    if (p->kind == SIG_PAT_EXACT && sig_parse_number(p->lit, p->lit_len, &num)) {
        p->has_num = true;
        p->num_is_int = num.is_int;
        p->num_i = num.i;
        p->num_d = num.d;
    }
}

static void pattern_clear(SigPattern *p)
{
    g_free(p->lit);
    g_free(p->toks);
}

void sig_test_free(SigTest *t)
{
    if (!t)
        return;
    g_free(t->field.name);
    for (int i = 0; t->pats && i < t->n; i++)
        pattern_clear(&t->pats[i]);
    g_free(t->pats);
    for (int i = 0; t->refs && i < t->n; i++)
        g_free(t->refs[i].name);
    g_free(t->refs);
    g_free(t->nums);
    g_free(t->cidrs);
    for (int i = 0; t->res && i < t->n; i++)
        pcre2_code_free(t->res[i]);
    g_free(t->res);
    g_strfreev(t->re_src);
    for (int i = 0; t->re_lits && i < t->n; i++)
        g_free(t->re_lits[i]);
    g_free(t->re_lits);
    g_free(t->re_n_lits);
    g_free(t->re_min_digits);
    g_free(t->re_shape);
    for (int i = 0; t->re_need && i < t->n; i++)
        if (t->re_need[i])
            sig_re_required_free(t->re_need[i]);
    g_free(t->re_need);
    g_free(t);
}

static bool parse_cidr(const char *text, SigCidr *c, const VgConfNode *n, GError **err)
{
    char buf[80];
    if (strlen(text) >= sizeof buf) {
        vg_conf_error(err, n, "cidr: '%s' is not a network", text);
        return false;
    }
    g_strlcpy(buf, text, sizeof buf);
    char *slash = strchr(buf, '/');
    long prefix = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        errno = 0;
        prefix = strtol(slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end) {
            vg_conf_error(err, n, "cidr: bad prefix length in '%s'", text);
            return false;
        }
    }
    memset(c, 0, sizeof *c);
    if (inet_pton(AF_INET, buf, c->addr) == 1) {
        c->family = 4;
        if (prefix < 0)
            prefix = 32;
        if (prefix > 32) {
            vg_conf_error(err, n, "cidr: prefix /%ld is longer than 32 in '%s'", prefix, text);
            return false;
        }
    } else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
        c->family = 6;
        if (prefix < 0)
            prefix = 128;
        if (prefix > 128) {
            vg_conf_error(err, n, "cidr: prefix /%ld is longer than 128 in '%s'", prefix, text);
            return false;
        }
    } else {
        vg_conf_error(err, n, "cidr: '%s' is not an IPv4 or IPv6 network", text);
        return false;
    }
    c->prefix = (uint8_t)prefix;
    int nbytes = c->family == 4 ? 4 : 16;
    for (int b = 0; b < nbytes; b++) {
        int bits = (int)prefix - b * 8;
        uint8_t mask = bits >= 8 ? 0xFF : bits <= 0 ? 0 : (uint8_t)(0xFF << (8 - bits));
        if (c->addr[b] & ~mask) {
            vg_conf_error(err, n,
                          "cidr: '%s' has host bits set (the network address has zeros "
                          "after the first %ld bits)",
                          text, prefix);
            return false;
        }
    }
    return true;
}

static pcre2_code *compile_re(const char *text, uint32_t flags, const VgConfNode *n, GError **err)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)text, PCRE2_ZERO_TERMINATED,
                                   flags | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        vg_conf_error(err, n, "re: %s at offset %zu of '%s'", (const char *)msg, (size_t)off, text);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* without JIT (no support) it still works */
    return re;
}

/* Parses the modifier chain of key; fills mods (in order) and the bit set. */
static bool parse_mods(const VgConfNode *key, const char *mods_text, GArray *mods, uint64_t *set,
                       GError **err)
{
    *set = 0;
    if (!mods_text)
        return true;
    char **parts = g_strsplit(mods_text, "|", -1);
    bool ok = true;
    for (char **p = parts; *p; p++) {
        int m;
        for (m = 0; m < M__COUNT; m++)
            if (!strcmp(*p, mod_names[m]))
                break;
        if (m == M__COUNT) {
            if (!**p)
                vg_conf_error(err, key, "empty modifier in '%s'", key->value);
            else
                vg_conf_error(err, key,
                              "unknown modifier '%s' in '%s' (known: contains, startswith, "
                              "endswith, all, re, i, m, s, cidr, base64, base64offset, "
                              "windash, exists, cased, neq, lt, lte, gt, gte, fieldref, "
                              "utf16, utf16le, utf16be, wide, expand, minute, hour, day, "
                              "week, month, year)",
                              *p, key->value);
            ok = false;
            break;
        }
        if (*set & BIT(m)) {
            vg_conf_error(err, key, "modifier '%s' appears twice in '%s'", *p, key->value);
            ok = false;
            break;
        }
        *set |= BIT(m);
        g_array_append_val(mods, m);
    }
    g_strfreev(parts);
    return ok;
}

static int popcount64(uint64_t v)
{
    return __builtin_popcountll(v);
}

/* Rejects chains that mean nothing. */
static bool check_mods(const VgConfNode *key, uint64_t set, GError **err)
{
    uint64_t types = set & (BIT(M_RE) | BIT(M_CIDR) | BIT(M_EXISTS) | BIT(M_FIELDREF));
    if (popcount64(types) > 1 || (types && (set & (CMP_MODS | DATE_MODS))))
        return vg_conf_error(err, key, "'%s' combines modifiers that each set the value's type",
                             key->value),
               false;
    if (popcount64(set & CMP_MODS) > 1 || popcount64(set & DATE_MODS) > 1)
        return vg_conf_error(err, key, "'%s' has more than one comparison or date part",
                             key->value),
               false;
    if (popcount64(set & SHAPE_MODS) > 1)
        return vg_conf_error(err, key, "'%s': contains, startswith and endswith exclude each other",
                             key->value),
               false;
    if ((set & RE_FLAGS) && !(set & BIT(M_RE)))
        return vg_conf_error(err, key, "'%s': the flags i, m, s and luhn only go with re",
                             key->value),
               false;
    if ((set & BIT(M_RE)) && (set & (STR_MODS | BIT(M_CASED))))
        return vg_conf_error(err, key,
                             "'%s': re takes the regular expression as written; it does not "
                             "combine with string modifiers or cased (use re|i for "
                             "case-insensitive)",
                             key->value),
               false;
    if ((set & (BIT(M_CIDR) | CMP_MODS | DATE_MODS | BIT(M_EXISTS))) &&
        (set & (STR_MODS | BIT(M_CASED))))
        return vg_conf_error(err, key, "'%s': string modifiers do not apply to this type",
                             key->value),
               false;
    if ((set & BIT(M_FIELDREF)) && (set & (STR_MODS & ~SHAPE_MODS)))
        return vg_conf_error(err, key,
                             "'%s': fieldref combines only with contains, startswith, "
                             "endswith, cased, neq and all",
                             key->value),
               false;
    if ((set & BIT(M_EXISTS)) && (set & ~BIT(M_EXISTS)))
        return vg_conf_error(err, key, "'%s': exists takes no other modifier", key->value), false;
    if ((set & BIT(M_NEQ)) && (set & (BIT(M_ALL) | CMP_MODS)))
        return vg_conf_error(err, key, "'%s': neq does not combine with all or a comparison",
                             key->value),
               false;
    return true;
}

/* Collects the value nodes: a scalar or a list of scalars. */
static bool collect_values(const VgConfNode *key, const VgConfNode *val, GPtrArray *out,
                           GError **err)
{
    if (val->kind == VG_NODE_MAP)
        return vg_conf_error(err, val,
                             "the value of '%s' must be a value or a list of values, "
                             "not a mapping",
                             key->value),
               false;
    if (val->kind == VG_NODE_SCALAR) {
        g_ptr_array_add(out, (gpointer)val);
        return true;
    }
    if (val->items->len == 0)
        return vg_conf_error(err, val, "the list of values of '%s' is empty", key->value), false;
    for (guint i = 0; i < val->items->len; i++) {
        const VgConfNode *it = val->items->pdata[i];
        if (it->kind != VG_NODE_SCALAR)
            return vg_conf_error(err, it, "a value of '%s' must be a plain value", key->value),
                   false;
        if (vg_conf_is_null(it))
            return vg_conf_error(err, it,
                                 "null cannot be part of a list of values; give it its own "
                                 "selection"),
                   false;
        g_ptr_array_add(out, (gpointer)it);
    }
    return true;
}

static bool compile_strings(SigTest *t, GPtrArray *vnodes, GArray *mods, uint64_t set,
                            const SigCompileOpts *o, GError **err)
{
    GArray *vals = g_array_new(FALSE, TRUE, sizeof(SigStr));
    bool ok = true;
    for (guint i = 0; i < vnodes->len; i++) {
        const VgConfNode *vn = vnodes->pdata[i];
        SigStr s;
        sig_str_parse(&s, vn->value, strlen(vn->value));
        g_array_append_val(vals, s);
    }
    const VgConfNode *where = vnodes->pdata[0];
    for (guint i = 0; ok && i < mods->len; i++) {
        switch (g_array_index(mods, int, i)) {
        case M_CONTAINS:
        case M_STARTSWITH:
        case M_ENDSWITH: {
            int m = g_array_index(mods, int, i);
            for (guint j = 0; j < vals->len; j++)
                sig_str_wrap(&g_array_index(vals, SigStr, j), m != M_STARTSWITH, m != M_ENDSWITH);
            break;
        }
        case M_BASE64:
            ok = sig_str_base64(vals, false, where, err);
            break;
        case M_BASE64OFFSET:
            ok = sig_str_base64(vals, true, where, err);
            break;
        case M_UTF16:
            ok = sig_str_utf16(vals, 2, where, err);
            break;
        case M_UTF16LE:
        case M_WIDE:
            ok = sig_str_utf16(vals, 0, where, err);
            break;
        case M_UTF16BE:
            ok = sig_str_utf16(vals, 1, where, err);
            break;
        case M_WINDASH:
            ok = sig_str_windash(vals, where, err);
            break;
        case M_EXPAND:
            ok = sig_str_expand(vals, o ? o->placeholders : NULL, where, err);
            break;
        default:
            break;
        }
    }
    /* keywords without a shape are searched anywhere in the line */
    if (ok && t->field.id == SIG_FIELD_RAW && !(set & SHAPE_MODS))
        for (guint j = 0; j < vals->len; j++)
            sig_str_wrap(&g_array_index(vals, SigStr, j), true, true);
    if (ok) {
        t->n = (int)vals->len;
        t->pats = g_new0(SigPattern, t->n);
        for (int j = 0; j < t->n; j++)
            pattern_from_str(&t->pats[j], &g_array_index(vals, SigStr, j),
                             (set & BIT(M_CASED)) != 0);
    }
    for (guint j = 0; j < vals->len; j++)
        sig_str_clear(&g_array_index(vals, SigStr, j));
    g_array_free(vals, TRUE);
    return ok;
}

static const uint8_t date_of_mod[] = {
    [M_MINUTE] = SIG_DATE_MINUTE, [M_HOUR] = SIG_DATE_HOUR,   [M_DAY] = SIG_DATE_DAY,
    [M_WEEK] = SIG_DATE_WEEK,     [M_MONTH] = SIG_DATE_MONTH, [M_YEAR] = SIG_DATE_YEAR,
};

/* The event's integer fields, which sigma-eval.c's fast paths read directly. */
static bool int_field(int id)
{
    return id == VG_F_STATUS || id == VG_F_BYTES_OUT || id == VG_F_BYTES_IN || id == VG_F_TIME;
}

SigTest *sig_test_compile(const VgConfNode *key, const VgConfNode *val, const SigCompileOpts *o,
                          GError **err)
{
    SigTest *t = g_new0(SigTest, 1);
    GArray *mods = g_array_new(FALSE, FALSE, sizeof(int));
    GPtrArray *vnodes = g_ptr_array_new();
    const char *bar = strchr(key->value, '|');
    size_t flen = bar ? (size_t)(bar - key->value) : strlen(key->value);
    field_init(&t->field, key->value, flen);
    uint64_t set;
    if (!parse_mods(key, bar ? bar + 1 : NULL, mods, &set, err) || !check_mods(key, set, err))
        goto fail;
    t->all = (set & BIT(M_ALL)) != 0;
    t->neg = (set & BIT(M_NEQ)) != 0;

    if (val->kind == VG_NODE_SCALAR && vg_conf_is_null(val)) {
        if (set) {
            vg_conf_error(err, val, "null takes no modifiers ('%s')", key->value);
            goto fail;
        }
        t->kind = SIG_T_NULL;
        if (t->field.id >= 0 && t->field.id < VG_F__COUNT)
            t->fast = SIG_FAST_PRESENT;
        goto done;
    }
    if (!collect_values(key, val, vnodes, err))
        goto fail;
    if (t->all && vnodes->len < 2) {
        vg_conf_error(err, val, "'%s': all needs a list of at least two values", key->value);
        goto fail;
    }

    if (set & BIT(M_EXISTS)) {
        bool b;
        if (vnodes->len != 1 || !vg_conf_parse_bool(vnodes->pdata[0], &b, err)) {
            if (err && !*err)
                vg_conf_error(err, val, "exists takes true or false");
            goto fail;
        }
        if (t->field.id == SIG_FIELD_RAW) {
            vg_conf_error(err, key, "exists needs a field name");
            goto fail;
        }
        t->kind = SIG_T_EXISTS;
        t->exists = b;
        if (t->field.id >= 0 && t->field.id < VG_F__COUNT)
            t->fast = SIG_FAST_PRESENT;
        goto done;
    }
    t->n = (int)vnodes->len;
    if (set & BIT(M_RE)) {
        t->kind = SIG_T_RE;
        t->res = g_new0(pcre2_code *, t->n);
        t->re_src = g_new0(char *, t->n + 1);
        t->re_caseless = (set & BIT(M_I)) != 0;
        t->re_luhn = (set & BIT(M_LUHN)) != 0;
        uint32_t fl = ((set & BIT(M_I)) ? PCRE2_CASELESS : 0) |
                      ((set & BIT(M_M)) ? PCRE2_MULTILINE : 0) |
                      ((set & BIT(M_S)) ? PCRE2_DOTALL : 0);
        for (int i = 0; i < t->n; i++) {
            const VgConfNode *vn = vnodes->pdata[i];
            t->re_src[i] = g_strdup(vn->value);
            if (!(t->res[i] = compile_re(vn->value, fl, vn, err)))
                goto fail;
        }
        goto done;
    }
    if (set & BIT(M_CIDR)) {
        t->kind = SIG_T_CIDR;
        t->cidrs = g_new0(SigCidr, t->n);
        for (int i = 0; i < t->n; i++)
            if (!parse_cidr(((const VgConfNode *)vnodes->pdata[i])->value, &t->cidrs[i],
                            vnodes->pdata[i], err))
                goto fail;
        goto done;
    }
    if (set & (CMP_MODS | DATE_MODS)) {
        t->kind = SIG_T_NUM;
        uint8_t cmp = (set & BIT(M_LT))    ? SIG_CMP_LT
                      : (set & BIT(M_LTE)) ? SIG_CMP_LTE
                      : (set & BIT(M_GT))  ? SIG_CMP_GT
                      : (set & BIT(M_GTE)) ? SIG_CMP_GTE
                                           : SIG_CMP_EQ;
        for (int m = M_MINUTE; m <= M_YEAR; m++)
            if (set & BIT(m))
                t->datepart = date_of_mod[m];
        t->nums = g_new0(SigNum, t->n);
        for (int i = 0; i < t->n; i++) {
            const VgConfNode *vn = vnodes->pdata[i];
            if (!sig_parse_number(vn->value, strlen(vn->value), &t->nums[i])) {
                vg_conf_error(err, vn, "'%s' needs a number, not '%s'", key->value, vn->value);
                goto fail;
            }
            t->nums[i].cmp = cmp;
        }
        /* integers against an integer field: read straight from the event (sigma-eval.c) */
        bool ints = !t->datepart && int_field(t->field.id);
        for (int i = 0; i < t->n; i++)
            ints = ints && t->nums[i].is_int;
        if (ints)
            t->fast = SIG_FAST_INT_CMP;
        goto done;
    }
    if (set & BIT(M_FIELDREF)) {
        t->kind = SIG_T_FIELDREF;
        t->refs = g_new0(SigField, t->n);
        t->pats = g_new0(SigPattern, t->n);
        for (int i = 0; i < t->n; i++) {
            const VgConfNode *vn = vnodes->pdata[i];
            if (!*vn->value) {
                vg_conf_error(err, vn, "fieldref needs a field name");
                goto fail;
            }
            field_init(&t->refs[i], vn->value, strlen(vn->value));
            t->pats[i].kind = (set & BIT(M_CONTAINS))     ? SIG_PAT_CONTAINS
                              : (set & BIT(M_STARTSWITH)) ? SIG_PAT_PREFIX
                              : (set & BIT(M_ENDSWITH))   ? SIG_PAT_SUFFIX
                                                          : SIG_PAT_EXACT;
            t->pats[i].cased = (set & BIT(M_CASED)) != 0;
            t->pats[i].lit_id = t->pats[i].guard_id = -1;
        }
        goto done;
    }
    t->kind = SIG_T_STR;
    t->n = 0;
    if (!compile_strings(t, vnodes, mods, set, o, err))
        goto fail;
    if (sig_field_is_scannable(t->field.id)) {
        t->fast = SIG_FAST_STR;
    } else if (int_field(t->field.id)) {
        bool ints = true;
        for (int i = 0; i < t->n; i++)
            ints = ints && t->pats[i].kind == SIG_PAT_EXACT && t->pats[i].has_num &&
                   t->pats[i].num_is_int;
        t->fast = ints ? SIG_FAST_INT : SIG_FAST_NONE;
    }
done:
    g_array_free(mods, TRUE);
    g_ptr_array_free(vnodes, TRUE);
    return t;
fail:
    g_array_free(mods, TRUE);
    g_ptr_array_free(vnodes, TRUE);
    sig_test_free(t);
    return NULL;
}

SigTest *sig_test_keyword(const VgConfNode *val, GError **err)
{
    VgConfNode key = *val;
    key.kind = VG_NODE_SCALAR;
    key.value = (char *)"";
    if (val->kind == VG_NODE_SCALAR && vg_conf_is_null(val)) {
        vg_conf_error(err, val, "a keyword cannot be null");
        return NULL;
    }
    return sig_test_compile(&key, val, NULL, err);
}

/* test-sigma-relit.c — the literals and digit runs a regex cannot match without
 * (rules/sigma-relit.c). The analysis must never claim a requirement a match can break:
 * the soundness test runs every pattern over many subjects with pcre2 and checks that
 * each match contains one of the literals and the digit run. */
#include "rules/sigma.h"

#include <criterion/criterion.h>

static gint cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *req_str(const char *re, bool caseless, int *digits)
{
    GPtrArray *r = sig_re_required(re, caseless, digits);
    if (!r)
        return g_strdup("-");
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < r->len; i++)
        g_ptr_array_add(names, g_strdup(((GString *)r->pdata[i])->str));
    g_ptr_array_sort(names, cmp);
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < names->len; i++)
        g_string_append_printf(s, "%s%s", i ? "|" : "", (char *)names->pdata[i]);
    g_ptr_array_free(names, TRUE);
    sig_re_required_free(r);
    return g_string_free(s, FALSE);
}

static void expect(const char *re, bool caseless, const char *want, int want_digits)
{
    int d;
    char *got = req_str(re, caseless, &d);
    cr_expect_str_eq(got, want, "%s: got %s", re, got);
    cr_expect_eq(d, want_digits, "digits of %s: %d", re, d);
    g_free(got);
}

Test(sigma_relit, shapes)
{
    expect("admin", false, "admin", 0);
    expect("^/v[0-9]+/admin$", false, "/admin", 1);
    expect("a(b|c)d", false, "a", 0); /* longest of a, {b,c}, d: a (first) */
    expect("(foo|barbaz)", false, "barbaz|foo", 0);
    expect("(foo|x?)", false, "-", 0); /* a branch needs nothing */
    expect("ab?c", false, "a", 0);     /* b optional: runs "a" and "c" */
    expect("abc+d", false, "abc", 0);
    expect("x*", false, "-", 0);
    expect("[a-z]+@[a-z]+", false, "@", 0);
    expect("(@|%40)", false, "%40|@", 0);
    expect("\\.(bak|sql)$", false, "bak|sql", 0); /* longer literals win over "." */
    expect("UNION\\s+SELECT", true, "union", 0);
    expect("select", true, "elect", 0); /* s and k break literals when caseless */
    expect("select", false, "select", 0);
    expect("(?i)select", false, "elect", 0);
    expect("(?=abc)x", false, "x", 0); /* lookahead content not required */
    expect("4[0-9]{12}", false, "4", 13);
    expect("(^|[^0-9])(4[0-9]{12}|5[1-5][0-9]{14})($|[^0-9])", false, "4|5", 13);
    expect("\\d{3}-\\d{2}-\\d{4}", false, "-", 4);
    expect("[0-9]{1,4}", false, "-", 1);
    expect("\\x41", false, "-", 0);          /* unsupported escape: no claim */
    expect("a{2}", false, "a", 0);           /* a repeated atom ends the run */
    expect("caf\xc3\xa9?", false, "caf", 0); /* é optional as a whole character */
}

/* Soundness: generated subjects, every pcre2 match must contain a required literal
 * (ASCII-folded) and a digit run of the required length. */
Test(sigma_relit, never_claims_too_much)
{
    static const char *const pats[] = {
        "union(\\s|\\+|%20)+select",
        "[a-z0-9._%+-]+(@|%40)[a-z0-9-]+\\.[a-z]{2,24}",
        "(^|[^0-9])(4[0-9]{12}([0-9]{3,6})?|5[1-5][0-9]{14})($|[^0-9])",
        "(^|&)[a-z_]*(phone|mobile|tel)[a-z_]*=(\\+|%2b)?[0-9(][0-9 ().%+-]{6,}",
        "\\.(bak|backup|old|sql|sql\\.gz)$|~$",
        "(;|%3b|\\||&&)(\\s|\\+|%20)*(id|whoami|cat)",
        "ab?c",
        "x(yz)*w",
        "(?i)sk",
        "[0-9]{3}(-|%2[dD])[0-9]{2}",
        "a.b",
        "(a|b)(c|d)e+",
        "(\\d\\d)+x",
        "((ab)+|cd)?ef",
    };
    static const char alphabet[] = "abcdeksxyzw0123456789@%24-+.;&|~ UNIONSELECT";
    GRand *r = g_rand_new_with_seed(1);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    for (size_t pi = 0; pi < G_N_ELEMENTS(pats); pi++) {
        for (int cl = 0; cl < 2; cl++) {
            int code;
            PCRE2_SIZE off;
            pcre2_code *re =
                pcre2_compile((PCRE2_SPTR)pats[pi], PCRE2_ZERO_TERMINATED,
                              PCRE2_UTF | (cl ? PCRE2_CASELESS : 0), &code, &off, NULL);
            cr_assert(re, "%s", pats[pi]);
            int digits;
            GPtrArray *req = sig_re_required(pats[pi], cl, &digits);
            for (int n = 0; n < 20000; n++) {
                char subj[40];
                int len = g_rand_int_range(r, 0, sizeof subj);
                for (int i = 0; i < len; i++)
                    subj[i] = alphabet[g_rand_int_range(r, 0, sizeof alphabet - 1)];
                if (pcre2_match(re, (PCRE2_SPTR)subj, (PCRE2_SIZE)len, 0, 0, md, NULL) < 0)
                    continue;
                char fold[40];
                int run = 0, best = 0;
                for (int i = 0; i < len; i++) {
                    fold[i] = (char)sig_fold[(uint8_t)subj[i]];
                    run = g_ascii_isdigit(subj[i]) ? run + 1 : 0;
                    best = MAX(best, run);
                }
                cr_assert_geq(best, digits, "%s on '%.*s'", pats[pi], len, subj);
                if (!req)
                    continue;
                bool found = false;
                for (guint k = 0; k < req->len && !found; k++) {
                    GString *g = req->pdata[k];
                    found = memmem(fold, (size_t)len, g->str, g->len) != NULL;
                }
                cr_assert(found, "%s (caseless %d) matched '%.*s' without its literals", pats[pi],
                          cl, len, subj);
            }
            sig_re_required_free(req);
            pcre2_code_free(re);
        }
    }
    pcre2_match_data_free(md);
    g_rand_free(r);
}

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
    expect("a(b|c)d", false, "abd|acd", 0); /* a group of known strings joins the run */
    expect("(foo|barbaz)", false, "barbaz|foo", 0);
    expect("(foo|x?)", false, "-", 0); /* a branch needs nothing */
    expect("ab?c", false, "a", 0);     /* b optional: runs "a" and "c" */
    expect("abc+d", false, "abc", 0);
    expect("x*", false, "-", 0);
    expect("[a-z]+@[a-z]+", false, "@", 0);
    expect("(@|%40)", false, "%40|@", 0);
    expect("\\.(bak|sql)$", false, ".bak|.sql", 0);
    /* caseless s and k: also the long s and the Kelvin sign; the longer run wins */
    expect("UNION\\s+SELECT", true,
           "\tselect|\t\xc5\xbf"
           "elect|\nselect|\n\xc5\xbf"
           "elect|\vselect|\v\xc5\xbf"
           "elect|"
           "\fselect|\f\xc5\xbf"
           "elect|\rselect|\r\xc5\xbf"
           "elect| select| \xc5\xbf"
           "elect",
           0);
    expect("select", true,
           "select|\xc5\xbf"
           "elect",
           0); /* U+017F matches s caselessly */
    expect("select", false, "select", 0);
    expect("(?i)select", false,
           "select|\xc5\xbf"
           "elect",
           0);
    expect("(?i)kb", false,
           "kb|\xe2\x84\xaa"
           "b",
           0);                         /* U+212A matches k caselessly */
    expect("(?=abc)x", false, "x", 0); /* lookahead content not required */
    expect("4[0-9]{12}", false, "4", 13);
    expect("(^|[^0-9])(4[0-9]{12}|5[1-5][0-9]{14})($|[^0-9])", false, "4|5", 13);
    expect("\\d{3}-\\d{2}-\\d{4}", false, "-", 4);
    expect("[0-9]{1,4}", false, "-", 1);
    expect("\\x41", false, "-", 0);          /* unsupported escape: no claim */
    expect("a{2}", false, "a", 0);           /* a repeated atom ends the run */
    expect("xy{,3}z", false, "-", 0);        /* {,3}: literal or {0,3} by PCRE2 version */
    expect("xy{a}z", false, "xy{a}z", 0);    /* not a quantifier: plain braces */
    expect("caf\xc3\xa9?", false, "caf", 0); /* é optional as a whole character */
}

/* Atoms that match one of a few strings extend the literal run through them. */
Test(sigma_relit, runs_through_known_sets)
{
    expect("(\\+|%20)(or|and)(\\+|%20)", true,
           "%20and%20|%20and+|%20or%20|%20or+|+and%20|+and+|+or%20|+or+", 0);
    expect("%2[dD]", false, "%2d", 1); /* a class of plain characters, folded */
    expect("[cn]at", false, "cat|nat", 0);
    expect("[^ab]x", false, "x", 0);   /* negated: nothing known */
    expect("[a-c]xy", false, "xy", 0); /* a range: nothing known */
    expect("[sk]ab", true,
           "kab|sab|\xc5\xbf"
           "ab|\xe2\x84\xaa"
           "ab",
           0);                          /* and their variants */
    expect("(a|b)?cd", false, "cd", 0); /* optional: ends the run */
    expect("x(y|z)+w", false, "xy|xz", 0);
    expect("ping(\\+|%20)+-[cn]", false, "ping%20|ping+", 0);
    expect("(a|bc)(d|e)f", false, "adf|aef|bcdf|bcef", 0);
    expect("(a|)b", false, "ab|b", 0);
    expect("(a|\\d)b", false, "b", 0); /* \\d: not a known set */
    expect("(?x)a b", false, "-", 0);  /* spaces do not count: no claim */
    expect("(?ix)ab", false, "-", 0);
    /* the SQL injection tautology needs the word with a space before it, not "or" */
    expect("(\\s|\\+|%20)(or|and)(\\s|\\+|%20)+[0-9]+", true,
           "\tand|\tor|\nand|\nor|\vand|\vor|\fand|\for|\rand|\ror| and| or|%20and|%20or|+and|+or",
           1);
    /* past SIG_RELIT_MAX_SET strings the run is cut: 64 pairs, then {ax, bx} */
    expect("(a|b|c|d|e|f|g|h)(a|b|c|d|e|f|g|h)(a|b)x", false, "ax|bx", 0);
    int d;
    GPtrArray *r = sig_re_required("(a|b|c|d|e|f|g|h)(a|b|c|d|e|f|g|h)(a|b)", false, &d);
    cr_assert(r);
    cr_expect_eq(r->len, 64); /* the pairs (weight 2) beat {a, b} */
    sig_re_required_free(r);
}

/* pcre2 matches subject, and the match contains one of the required literals. */
static void sound(const char *pat, bool caseless, const char *subj)
{
    int code, digits;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | (caseless ? PCRE2_CASELESS : 0), &code, &off, NULL);
    cr_assert(re, "%s", pat);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    cr_assert_geq(pcre2_match(re, (PCRE2_SPTR)subj, strlen(subj), 0, 0, md, NULL), 0,
                  "%s should match %s", pat, subj);
    GPtrArray *req = sig_re_required(pat, caseless, &digits);
    char fold[256];
    size_t n = strlen(subj);
    for (size_t i = 0; i < n; i++)
        fold[i] = (char)sig_fold[(uint8_t)subj[i]];
    bool found = !req;
    for (guint k = 0; req && k < req->len && !found; k++) {
        GString *g = req->pdata[k];
        found = memmem(fold, n, g->str, g->len) != NULL;
    }
    cr_assert(found, "%s matched %s without its literals", pat, subj);
    sig_re_required_free(req);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
}

/* The Unicode case variants of s and k match caselessly and keep their literal. */
Test(sigma_relit, long_s_and_kelvin_sign)
{
    sound("\\.(sql|bak|dump)$", true, "/x.\xc5\xbfql");
    sound("\\.(sql|bak|dump)$", true, "/x.ba\xe2\x84\xaa");
    sound("\\.(sql|bak|dump)$", true, "/x.SQL");
    sound("[sk]ab", true,
          "\xe2\x84\xaa"
          "AB");
    sound("(?i)select", false,
          "\xc5\xbf"
          "ELECT");
    sound("union\\s+select", true,
          "UNION\v\xc5\xbf"
          "elect");
    sound("sh(\\s|\\+|%20)+-c", true, "\xc5\xbfH+-C");
}

/* A lone quote or backtick is worth more than a two-letter word, less than a long one. */
Test(sigma_relit, rare_punctuation_outweighs_short_words)
{
    expect("('|%27)(\\s|%20)*(or|and)[a-z]+=", true, "%27|'", 0);
    expect("(`|%60)(\\s|\\+|%20)*(id|sh)", true, "%60|`", 0);
    expect("(`|%60)(\\s|\\+|%20)*(whoami|uname)", true, "uname|whoami", 0);
    expect("(;|%3b)(id|whoami)", true, "%3bid|%3bwhoami|;id|;whoami", 0);
}

/* Soundness: generated subjects, every pcre2 match must contain a required literal
 * (ASCII-folded) and a digit run of the required length. */
/* The shape of a regex, '#' for a digit; "-" when there is none. */
static void expect_shape(const char *re, bool caseless, const char *want)
{
    SigShape sh;
    char got[SIG_SHAPE_MAX + 1] = "-";
    if (sig_re_shape(re, caseless, &sh)) {
        for (int i = 0; i < sh.len; i++)
            got[i] = sh.c[i] ? sh.c[i] : '#';
        got[sh.len] = '\0';
    }
    cr_expect_str_eq(got, want, "shape of %s (caseless %d): got %s", re, caseless, got);
}

Test(sigma_relit, shapes_of_digits_and_separators)
{
    /* the shipped pack's social security number in a path */
    expect_shape("(?<![0-9])(?!000|666|9[0-9]{2})[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![0-9])",
                 false, "###-##-####");
    expect_shape("\\d{4}-\\d{2}-\\d{2}", false, "####-##-##");
    expect_shape("^\\d+\\.\\d+$", false, "#.#");       /* a variable count: rows meet */
    expect_shape("\\b[0-9]{2,3}/[0-9]", false, "#/#"); /* the last repetition goes on */
    expect_shape("x?[0-9]-", false, "#-");             /* an optional atom ends the row */
    expect_shape("[0-9]*-[0-9]", false, "-#");
    expect_shape("a[0-9]", false, "a#");
    expect_shape("a[0-9]", true, "-");   /* a caseless letter has variants */
    expect_shape("%2d[0-9]", true, "-"); /* the d has case variants, and %2 no digit */
    expect_shape("%2d[0-9]", false, "%2d#");
    expect_shape("[0-9a-f]{8}-\\d", false, "-#"); /* a class that is not digits only */
    expect_shape("\\d\\s\\d-\\d", false, "#-#");
    expect_shape("(ab)\\d-2", false, "#-2"); /* a group is not followed into */
    expect_shape("(?:1|2)-\\d", false, "-#");
    expect_shape("1\\.\\d", false, "1.#");
    expect_shape("[0-9]{2}", false, "-");    /* digits only: the digit run's job */
    expect_shape("abc", false, "-");         /* no digit: the literals' job */
    expect_shape("\\d-2|3-\\d", false, "-"); /* alternation */
    expect_shape("(?i)\\d-2", false, "-");   /* option settings */
    expect_shape("\\x31-\\d", false, "-");   /* an escape with an argument */
    expect_shape("(1)\\1-\\d", false, "-");  /* a back reference */
    expect_shape("1-\\d[0-9", false, "-");   /* unbalanced */
    expect_shape("(1-\\d", false, "-");
    expect_shape("1-\\d\\", false, "-");
    expect_shape("{2}1-\\d", false, "-");      /* a quantifier with nothing to repeat */
    expect_shape("{x}1-\\d", false, "{x}1-#"); /* a plain brace */
    expect_shape("\xc3\xa9"
                 "1-\\d",
                 false, "1-#"); /* a multi-byte character: one atom */
    expect_shape("\xc3\xa9"
                 "{2}1-\\d",
                 false, "1-#");
    /* rows longer than a shape are cut into shapes */
    expect_shape("(\\d-){20}", false, "-");
    expect_shape("x\\d{40}-", false, "################-"); /* the last 16 digits */
    expect_shape("x\\d{40}", false, "-");
    expect_shape("\\d-\\d-\\d-\\d-\\d-\\d-\\d-\\d-\\d-\\d-\\d-\\d-\\d-\\d-\\d-\\d-\\d-\\d-\\d-",
                 false, "#-#-#-#-#-#-#-#-#-#-#-#-#-#-#-#-");
}

Test(sigma_relit, shape_in_values)
{
    SigShape sh;
    cr_assert(sig_re_shape("[0-9]{3}-[0-9]{2}-[0-9]{4}", false, &sh));
    cr_assert(sig_shape_in(&sh, "123-45-6789", 11));
    cr_assert(sig_shape_in(&sh, "/v1/ssn/123-45-6789/x", 21));
    cr_assert(sig_shape_in(&sh, "1-2-3-123-45-67890", 18));
    cr_assert(!sig_shape_in(&sh, "123-45-678", 10));
    cr_assert(!sig_shape_in(&sh, "12-345-6789", 11));
    cr_assert(!sig_shape_in(&sh, "/v1/orders/09b8fa7f-c859-41a5-a1aa-35d37154eb45", 47));
    cr_assert(!sig_shape_in(&sh, "", 0));
    cr_assert(sig_re_shape("a[0-9]", false, &sh));
    cr_assert(sig_shape_in(&sh, "a1", 2));
    cr_assert(sig_shape_in(&sh, "aa1", 3));
    cr_assert(!sig_shape_in(&sh, "a", 1));
    cr_assert(!sig_shape_in(&sh, "A1", 2));
    cr_assert(!sig_shape_in(&sh, "ab1", 3));
    cr_assert(sig_re_shape("\\d\\d/", false, &sh)); /* the byte after the digits */
    cr_assert(sig_shape_in(&sh, "12/", 3));
    cr_assert(sig_shape_in(&sh, "/1/12/", 6));
    cr_assert(!sig_shape_in(&sh, "/1/a2/", 6));
}

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
        "(\\s|\\+|%20)(or|and)(\\s|\\+|%20)+[0-9]+(\\s|\\+|%20)*(=|%3d)",
        "('|%27)(\\s|\\+|%20)*(or|and)(\\s|\\+|%20)+['%0-9a-z]+(\\s|\\+|%20)*(=|%3d|like)",
        "ping(\\s|\\+|%20)+-[cn]",
        "(a|b|c|d|e|f|g|h)(a|b|c|d|e|f|g|h)(a|b)x",
        "x(?:y|z)+w",
        "(ab|a)(c|bc)d",
        "%2[dD]x",
        "(a|)b[cn]",
        "(`|%60)(\\s|\\+|%20)*(id|sh|cat)((\\s|\\+|%20|%09)|`|%60|\\)|%29)",
        "\\.(sql|bak|dump)$",
        "[sk]ab",
        "ask(ed)?",
        "(?<![0-9])(?!000|666|9[0-9]{2})[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![0-9])",
        "\\d{4}-\\d{2}-\\d{2}",
        "^\\d+\\.\\d+$",
        "\\b[0-9]{2,3}/[0-9]",
        "x?[0-9]-",
        "[0-9]*-[0-9]",
        "%2d1",
        "a[0-9]{1,3}?-\\d",
        "[0-9].-[0-9]",
        "(?<=a)[0-9](?=-)-\\b",
    };
    static const char alphabet[] = "abcdeksxyzw0123456789@%24-+.;&|~ UNIONSELECT\t\v\r'`=";
    /* pieces of the patterns, so that the long ones match now and then: those a pattern
     * contains, and separators */
    static const char *const tokens[] = {
        "or",
        "and",
        "OR",
        " ",
        "\t",
        "\v",
        "+",
        "%20",
        "%09",
        "1",
        "=",
        "%3d",
        "'",
        "%27",
        "like",
        "ping",
        "-c",
        "-n",
        "`",
        "%60",
        "id",
        "sh",
        "cat",
        ")",
        "%29",
        "a",
        "b",
        "c",
        "h",
        "x",
        "y",
        "w",
        "d",
        "D",
        "%2",
        "n",
        "union",
        "select",
        "ef",
        "ab",
        "cd",
        "e",
        "phone",
        "=12345678",
        "12345678",
        "4111111111111",
        "@",
        ".com",
        "-",
        "k",
        "S",
        "&&",
        ";",
        "\xc5\xbf",     /* long s */
        "\xe2\x84\xaa", /* Kelvin sign */
        "sql",
        "bak",
        "dump",
        "ed",
        ".",
    };
    /* and for the patterns with digit classes, digits with separators */
    static const char *const shape_tokens[] = {"123-45-6789", "2026-11-25", "12.5", "123/4",
                                               "7-",          "/",          "%2d1", "a12-3"};
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
            SigShape shape;
            bool has_shape = sig_re_shape(pats[pi], cl, &shape);
            int matched = 0;
            const char *pool[G_N_ELEMENTS(tokens) + G_N_ELEMENTS(shape_tokens)];
            int n_pool = 0;
            for (size_t k = 0; k < G_N_ELEMENTS(tokens); k++)
                if (strstr(pats[pi], tokens[k]) || strchr(" \t1x", tokens[k][0]) ||
                    g_ascii_isdigit(tokens[k][1]) || (uint8_t)tokens[k][0] >= 0x80)
                    pool[n_pool++] = tokens[k];
            if (strstr(pats[pi], "[0-9]") || strstr(pats[pi], "\\d"))
                for (size_t k = 0; k < G_N_ELEMENTS(shape_tokens); k++)
                    pool[n_pool++] = shape_tokens[k];
            for (int n = 0; n < 60000; n++) {
                char subj[40];
                int len = 0;
                if (n % 2) { /* characters */
                    len = g_rand_int_range(r, 0, sizeof subj);
                    for (int i = 0; i < len; i++)
                        subj[i] = alphabet[g_rand_int_range(r, 0, sizeof alphabet - 1)];
                } else { /* pieces */
                    int k = g_rand_int_range(r, 0, 12);
                    for (int i = 0; i < k; i++) {
                        const char *t = pool[g_rand_int_range(r, 0, n_pool)];
                        if (len + strlen(t) > sizeof subj)
                            break;
                        memcpy(subj + len, t, strlen(t));
                        len += (int)strlen(t);
                    }
                }
                if (pcre2_match(re, (PCRE2_SPTR)subj, (PCRE2_SIZE)len, 0, 0, md, NULL) < 0)
                    continue;
                matched++;
                char fold[40];
                int run = 0, best = 0;
                for (int i = 0; i < len; i++) {
                    fold[i] = (char)sig_fold[(uint8_t)subj[i]];
                    run = g_ascii_isdigit(subj[i]) ? run + 1 : 0;
                    best = MAX(best, run);
                }
                cr_assert_geq(best, digits, "%s on '%.*s'", pats[pi], len, subj);
                cr_assert(!has_shape || sig_shape_in(&shape, subj, (size_t)len),
                          "%s (caseless %d) matched '%.*s' without its shape", pats[pi], cl, len,
                          subj);
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
            cr_expect_gt(matched, 0, "%s (caseless %d) never matched: the test proves nothing",
                         pats[pi], cl);
            sig_re_required_free(req);
            pcre2_code_free(re);
        }
    }
    pcre2_match_data_free(md);
    g_rand_free(r);
}

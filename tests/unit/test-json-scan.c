/* test-json-scan.c — vg_json_scan()'s fast path against simdjson alone.
 *
 * vg_json_scan() reads plain lines with its own strict reader and hands everything else
 * to simdjson; vg_json_scan_reference() is simdjson alone. Every line here is scanned both
 * ways with one map of flat, nested, dotted and shared paths, and the verdicts and every
 * filled slot must be the same. The lines sit on the edges of the fast path's subset:
 * numbers at its digit limits, whitespace, escapes, non-ASCII bytes, nesting, duplicate
 * keys, string ends around its 64-byte words, and malformed JSON of many kinds. The
 * fuzz target (tests/fuzz/fuzz-decode-json.c) makes the same comparison on random bytes.
 * The same holds for vg_json_fast_member() (a JWT's subject) against vg_json_lookup().
 */
#include "json-test-map.h"

#include <criterion/criterion.h>
#include <stdio.h>

static VgJsonMap *map;
static VgJsonScanner *scanner;
static VgArena arena;

static void setup(void)
{
    map = json_test_map();
    cr_assert_not_null(map);
    scanner = vg_json_scanner_new();
    vg_arena_init(&arena, 0);
}

static void teardown(void)
{
    vg_json_scanner_free(scanner);
    vg_json_map_free(map);
    vg_arena_destroy(&arena);
}

TestSuite(json_scan, .init = setup, .fini = teardown);

/* Scans text[0..len) both ways (from a padded copy, as collectors give lines) and fails
 * the test on any difference. Returns the verdict. */
static VgBadReason both(const char *text, size_t len)
{
    char *buf = g_malloc0(len + VG_LINE_PADDING);
    memcpy(buf, text, len);
    VgBadReason verdict;
    const char *diff = vg_json_scan_compare(scanner, map, buf, len, &arena, &verdict);
    cr_assert_null(diff, "%s, fast path vs simdjson: %.*s", diff, (int)len, text);
    g_free(buf);
    vg_arena_reset(&arena);
    return verdict;
}

static VgBadReason both_s(const char *text)
{
    return both(text, strlen(text));
}

Test(json_scan, plain_lines)
{
    cr_assert_eq(both_s("{\"time\":\"2026-03-02T10:00:00.003Z\",\"status\":200,\"latency_ms\":22.9,"
                        "\"path\":\"/v1/x?a=1\",\"token\":\"tk_1\",\"other\":[1,{\"q\":null}]}"),
                 VG_BAD_NONE);
    cr_assert_eq(both_s("{}"), VG_BAD_NONE);
    cr_assert_eq(both_s(" \t{ } \r"), VG_BAD_NONE);
    cr_assert_eq(both_s("{ \"time\" : \"t\" , \"status\" :200 ,\"x\": 1\t}"), VG_BAD_NONE);
    cr_assert_eq(both_s("\r\n{\"x\":1}\n"), VG_BAD_NONE);
}

Test(json_scan, numbers)
{
    static const char *nums[] = {"0",
                                 "7",
                                 "00",
                                 "-0",
                                 "-5",
                                 "1.",
                                 ".5",
                                 "1e5",
                                 "1E-2",
                                 "1.5e3",
                                 "0.0",
                                 "1.0",
                                 "0.1",
                                 "22.9",
                                 "6.1",
                                 "3.14159265358979",
                                 "0.123456789012345",
                                 "0.1234567890123456",
                                 "99999999999999.9",
                                 "999999999999999",
                                 "123456789012345678",
                                 "1234567890123456789",
                                 "12345678901234567890",
                                 "1.7976931348623157e308",
                                 "1e400",
                                 "2x",
                                 "2 ",
                                 "+1",
                                 "0x10",
                                 "01.5",
                                 "1.5.5",
                                 "4.9406564584124654e-324",
                                 "0.30000000000000004",
                                 "9007199254740993",
                                 "1234567.1234567",
                                 "0.000000000000000000001"};
    for (size_t i = 0; i < G_N_ELEMENTS(nums); i++)
        for (int k = 0; k < 3; k++) {
            /* read into one slot, into two slots, and skipped */
            static const char *keys[] = {"latency_ms", "status", "unread"};
            char line[128];
            snprintf(line, sizeof line, "{\"%s\":%s,\"time\":1}", keys[k], nums[i]);
            both_s(line);
            snprintf(line, sizeof line, "{\"%s\":%s}", keys[k], nums[i]);
            both_s(line);
        }
}

Test(json_scan, literals_and_strings)
{
    static const char *values[] = {"true",
                                   "false",
                                   "null",
                                   "tru",
                                   "truex",
                                   "nul",
                                   "fals",
                                   "\"\"",
                                   "\"-\"",
                                   "\"a\\\"b\"",
                                   "\"\\u00e9\"",
                                   "\"\xc3\xa9\"",
                                   "\"\xff\"",
                                   "\"\xed\xa0\x80\"",
                                   "\"a\tb\"",
                                   "\"a\\nb\"",
                                   "\"abc",
                                   "\"abc}",
                                   "{}",
                                   "{\"y\":1}",
                                   "[]",
                                   "[1,\"a\"]",
                                   "[\"a\",1]",
                                   "[[1],2]",
                                   "{\"y\":[1,{\"z\":null}]}",
                                   "\"\x7f\"",
                                   "\"\x01\""};
    for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
        static const char *keys[] = {"x", "path", "a", "unread"};
        for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
            char line[160];
            snprintf(line, sizeof line, "{\"%s\":%s,\"t\":\"z\"}", keys[k], values[i]);
            both_s(line);
        }
    }
}

Test(json_scan, keys_and_nesting)
{
    static const char *lines[] = {
        "{\"ti\\u006de\":\"x\"}",
        "{\"a.s\":5}",
        "{\"a\":{\"s\":5,\"b\":{\"authorization\":\"Bearer x\"}}}",
        "{\"a\":{\"s\":5},\"a\":7}",
        "{\"a\":7,\"a\":{\"s\":5}}",
        "{\"a\":[1,2],\"a.s\":\"q\"}",
        "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":\"deep\"}}}}}",
        "{\"a.b\":{\"c.d\":{\"e\":1}}}",
        "{\"request\":{\"headers\":{\"host\":\"h\"}}}",
        "{\"request.headers\":{\"host\":\"h\"}}",
        "{\"request.headers.host\":\"h\"}",
        "{\"status\":1,\"status\":2}",
        "{\"x\":\"a\",\"x\":\"b\"}",
        "{\"\":1}",
        "{\"a very long key that is longer than sixteen bytes\":1,\"x\":2}",
        "{\"x\":1,}",
        "{\"x\" 1}",
        "{\"x\":}",
        "{\"x\":1}x",
        "{\"x\":1}}",
        "{\"x\":1}{}",
        "{\"x\":1",
        "{x:1}",
        "[1]",
        "\"x\"",
        "",
        "   ",
        "{\"x\":1}\x01",
        "{\"x\":1}\xc3\xa9",
        "{\"x\":1,\"y\":\xff}",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++)
        both_s(lines[i]);

    GString *deep = g_string_new(NULL);
    for (int d = 0; d < 40; d++) {
        g_string_assign(deep, "{\"time\":1");
        for (int k = 0; k < d; k++)
            g_string_append(deep, ",\"q\":{\"r\":[");
        for (int k = 0; k < d; k++)
            g_string_append(deep, "]}");
        g_string_append(deep, "}");
        both(deep->str, deep->len);
    }
    g_string_free(deep, TRUE);
}

Test(json_scan, string_ends_around_words)
{
    /* every string length from 0 to 200 after keys of every length from 1 to 40, so the
     * closing quotes fall on and next to each 64-byte boundary; and a line too long for
     * the fast path */
    GString *line = g_string_new(NULL);
    for (int klen = 1; klen <= 40; klen++)
        for (int vlen = 0; vlen <= 200; vlen += (klen == 1 ? 1 : 7)) {
            g_string_assign(line, "{\"");
            for (int i = 0; i < klen; i++)
                g_string_append_c(line, 'k');
            g_string_append(line, "\":1,\"path\":\"");
            for (int i = 0; i < vlen; i++)
                g_string_append_c(line, (char)('a' + i % 26));
            g_string_append(line, "\",\"token\":\"t\"}");
            cr_assert_eq(both(line->str, line->len), VG_BAD_NONE);
        }
    g_string_assign(line, "{\"path\":\"");
    for (int i = 0; i < 10000; i++)
        g_string_append_c(line, 'a');
    g_string_append(line, "\"}");
    cr_assert_eq(both(line->str, line->len), VG_BAD_NONE);
    g_string_free(line, TRUE);
}

/* vg_json_fast_member() on text[0..len), padded: its answer, after checking that
 * vg_json_lookup() agrees whenever it gave one. */
static int member(const char *text, const char *key, VgValue *out)
{
    size_t len = strlen(text);
    char *buf = g_malloc0(len + VG_LINE_PADDING);
    memcpy(buf, text, len);
    const char *diff = vg_json_member_compare(buf, len, key, strlen(key), &arena);
    cr_assert_null(diff, "%s: %s in %s", diff, key, text);
    VgValue s = {0};
    int r = vg_json_fast_member(buf, len, key, strlen(key), &s);
    if (out && r > 0) { /* (a string is a view into buf) */
        *out = s;
        if (s.kind == VG_V_STR)
            out->s = vg_arena_strdup(&arena, s.s.p, s.s.len);
    }
    g_free(buf);
    return r;
}

Test(json_scan, fast_member_reads_jwt_payloads)
{
    VgValue s;
    /* the payloads identity providers write, read without simdjson */
    cr_assert_eq(member("{\"sub\":\"user-42\",\"iat\":1700000000,\"exp\":1700003600}", "sub", &s),
                 1);
    cr_assert(s.kind == VG_V_STR && vg_str_eq_c(s.s, "user-42"));
    cr_assert_eq(member("{\"iss\":\"https://id.example.com/\",\"aud\":[\"api\",\"web\"],"
                        "\"realm_access\":{\"roles\":[\"admin\",\"x\"]},\"sub\":\"u1\","
                        "\"scope\":\"read write\",\"email_verified\":true,\"n\":null}",
                        "sub", &s),
                 1);
    cr_assert(vg_str_eq_c(s.s, "u1"));
    cr_assert_eq(member(" {\n \"sub\" : 12345 , \"x\" : 1.5 }\n ", "sub", &s), 1);
    cr_assert(s.kind == VG_V_INT && s.i == 12345);
    cr_assert_eq(member("{\"sub\":1.25}", "sub", &s), 1);
    cr_assert(s.kind == VG_V_DOUBLE && s.d == 1.25);
    cr_assert_eq(member("{\"sub\":false}", "sub", &s), 1);
    cr_assert(s.kind == VG_V_BOOL && s.i == 0);
    cr_assert_eq(member("{\"sub\":null}", "sub", &s), 1);
    cr_assert(s.kind == VG_V_NULL);
    cr_assert_eq(member("{\"sub\":\"\"}", "sub", &s), 1);
    /* keys ignore ASCII case, and the first match is the one, as for vg_json_lookup() */
    cr_assert_eq(member("{\"SUB\":\"a\",\"sub\":\"b\"}", "sub", &s), 1);
    cr_assert(vg_str_eq_c(s.s, "a"));
    cr_assert_eq(member("{\"Sub\":\"c\",\"sub\":{\"x\":1}}", "sub", &s), 1);
    cr_assert(vg_str_eq_c(s.s, "c"));
    /* no such key, in a document the reader checked to its end */
    cr_assert_eq(member("{}", "sub", NULL), 0);
    cr_assert_eq(member("{\"subject\":\"a\",\"su\":\"b\",\"xsub\":1}", "sub", NULL), 0);
    cr_assert_eq(member("{\"a\":{\"sub\":\"nested\"}}", "sub", NULL), 0);
}

Test(json_scan, fast_member_leaves_the_rest_to_simdjson)
{
    /* outside the subset, or values vg_json_lookup() gives as text: -1 (and where it
     * answers, the comparison in member() ran) */
    const char *left[] = {
        "{\"sub\":\"caf\xc3\xa9\"}",      /* non-ASCII */
        "{\"sub\":\"a\\\"b\"}",           /* an escape */
        "{\"s\\u0075b\":\"x\"}",          /* an escaped key */
        "{\"sub\":-1}",                   /* a sign */
        "{\"sub\":12345678901234567890}", /* too many digits */
        "{\"sub\":1e3}",                  /* an exponent */
        "{\"sub\":{\"id\":1}}",           /* an object */
        "{\"sub\":[1,2]}",                /* an array */
        "{\"sub\":\"a\"} x",              /* trailing bytes */
        "{\"sub\":\"a\",}",               /* a trailing comma */
        "{\"sub\":\"a\"",                 /* unclosed */
        "{\"sub\" \"a\"}",                /* no colon */
        "[\"sub\"]",                      /* not an object */
        "{\"x\":tru,\"sub\":\"a\"}",      /* a misspelt literal */
        "{\"sub\":\"a\",\"x\":\"\x01\"}", /* a control character */
        "",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(left); i++)
        cr_assert_eq(member(left[i], "sub", NULL), -1, "%s", left[i]);

    /* random payloads of claims in random order, case and spacing: where the reader
     * answers, vg_json_lookup() must agree (member() checks), and it must answer for
     * the plain ones */
    static const char *keys[] = {"sub", "SUB", "Sub", "iat", "exp", "iss", "aud", "scope", "su"};
    static const char *vals[] = {
        "\"u-1\"",          "42",     "0", "3.5", "true", "null", "\"\"", "[\"a\",1]",
        "{\"sub\":\"in\"}", "\"x y\""};
    GRand *rng = g_rand_new_with_seed(8);
    GString *doc = g_string_new(NULL);
    int answered = 0;
    for (int n = 0; n < 3000; n++) {
        g_string_assign(doc, "{");
        int members = g_rand_int_range(rng, 0, 7);
        for (int m = 0; m < members; m++) {
            const char *sp = g_rand_boolean(rng) ? "" : " ";
            g_string_append_printf(doc, "%s%s\"%s\"%s:%s%s", m ? "," : "", sp,
                                   keys[g_rand_int_range(rng, 0, G_N_ELEMENTS(keys))], sp, sp,
                                   vals[g_rand_int_range(rng, 0, G_N_ELEMENTS(vals))]);
        }
        g_string_append(doc, "}");
        answered += member(doc->str, "sub", NULL) >= 0;
        vg_arena_reset(&arena);
    }
    cr_assert_gt(answered, 2000, "the fast reader answered %d of 3000", answered);
    g_string_free(doc, TRUE);
    g_rand_free(rng);
}

/* test-json-scan.c — vg_json_scan()'s fast path against simdjson alone.
 *
 * vg_json_scan() reads plain lines with its own strict reader and hands everything else
 * to simdjson; vg_json_scan_reference() is simdjson alone. Every line here is scanned both
 * ways with one map of flat, nested, dotted and shared paths, and the verdicts and every
 * filled slot must be the same. The lines sit on the edges of the fast path's subset:
 * numbers at its digit limits, whitespace, escapes, non-ASCII bytes, nesting, duplicate
 * keys, string ends around its 64-byte words, and malformed JSON of many kinds. The
 * fuzz target (tests/fuzz/fuzz-decode-json.c) makes the same comparison on random bytes.
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

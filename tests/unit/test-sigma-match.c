/* test-sigma-match.c — Sigma values and modifiers: the conformance cases of the
 * specification (escapes, wildcards, null and empty, numbers, every modifier). Every
 * evaluation runs with and without the prefilter and must agree. */
#include "test-sigma-util.h"

#define RULE(sel)                                                                                  \
    "title: t\nid: r1\nlogsource: {category: webserver}\ndetection:\n  sel:\n" sel                 \
    "  condition: sel\nlevel: high\n"

TestSuite(sigma_match, .fini = tu_cleanup);

/* ---- escapes (sigma-rules-specification.md, "Escape Character") ---- */

Test(sigma_match, plain_backslash_single_or_double)
{
    cr_assert(tu_match1(RULE("    path: 'C:\\Windows\\x'\n"), "path", "C:\\Windows\\x"));
    cr_assert(tu_match1(RULE("    path: 'C:\\\\Windows\\\\x'\n"), "path", "C:\\Windows\\x"));
    cr_assert(!tu_match1(RULE("    path: 'C:\\\\Windows'\n"), "path", "C:\\\\Windows"));
}

Test(sigma_match, escaped_wildcards_are_plain)
{
    cr_assert(tu_match1(RULE("    path: 'a\\*b'\n"), "path", "a*b"));
    cr_assert(!tu_match1(RULE("    path: 'a\\*b'\n"), "path", "axxb"));
    cr_assert(tu_match1(RULE("    path: 'a\\?b'\n"), "path", "a?b"));
    cr_assert(!tu_match1(RULE("    path: 'a\\?b'\n"), "path", "axb"));
}

Test(sigma_match, backslash_then_wildcard)
{
    /* \\* : a backslash followed by a wildcard */
    cr_assert(tu_match1(RULE("    path: 'a\\\\*'\n"), "path", "a\\anything"));
    cr_assert(tu_match1(RULE("    path: 'a\\\\*'\n"), "path", "a\\"));
    cr_assert(!tu_match1(RULE("    path: 'a\\\\*'\n"), "path", "abc"));
    /* \\\* : a backslash and a plain star */
    cr_assert(tu_match1(RULE("    path: 'a\\\\\\*'\n"), "path", "a\\*"));
    cr_assert(!tu_match1(RULE("    path: 'a\\\\\\*'\n"), "path", "a\\xyz"));
}

Test(sigma_match, three_or_four_backslashes_are_two)
{
    cr_assert(tu_match1(RULE("    path: 'a\\\\\\\\b'\n"), "path", "a\\\\b"));
    cr_assert(tu_match1(RULE("    path: 'a\\\\\\b'\n"), "path", "a\\\\b"));
    cr_assert(!tu_match1(RULE("    path: 'a\\\\\\\\b'\n"), "path", "a\\b"));
}

Test(sigma_match, trailing_backslash)
{
    cr_assert(tu_match1(RULE("    path: 'dir\\'\n"), "path", "dir\\"));
    cr_assert(tu_match1(RULE("    path: 'dir\\\\'\n"), "path", "dir\\"));
    cr_assert(!tu_match1(RULE("    path: 'dir\\'\n"), "path", "dir"));
}

/* ---- wildcards and case ---- */

Test(sigma_match, wildcards)
{
    cr_assert(tu_match1(RULE("    path: '/v1/*/admin'\n"), "path", "/v1/users/7/admin"));
    cr_assert(!tu_match1(RULE("    path: '/v1/*/admin'\n"), "path", "/v1/users/7/admins"));
    cr_assert(tu_match1(RULE("    path: '/prog?.exe'\n"), "path", "/progA.exe"));
    cr_assert(!tu_match1(RULE("    path: '/prog?.exe'\n"), "path", "/prog.exe"));
    cr_assert(tu_match1(RULE("    path: '/prog?.exe'\n"), "path", "/prog\xc3\xa9.exe"));
    cr_assert(tu_match1(RULE("    path: '*a*b*c*'\n"), "path", "xxaxxbxxcxx"));
    cr_assert(!tu_match1(RULE("    path: '*a*b*c*'\n"), "path", "xxcxxbxxaxx"));
    cr_assert(tu_match1(RULE("    path: '*'\n"), "path", ""));
    cr_assert(!tu_match1(RULE("    path: '*'\n"), "query", "x"));
}

Test(sigma_match, case_insensitive_by_default_and_cased)
{
    cr_assert(tu_match1(RULE("    user_agent|contains: SQLMap\n"), "user_agent", "x sqlmap/1.7"));
    cr_assert(tu_match1(RULE("    method: get\n"), "method", "GET"));
    cr_assert(!tu_match1(RULE("    method|cased: get\n"), "method", "GET"));
    cr_assert(tu_match1(RULE("    method|cased: GET\n"), "method", "GET"));
    cr_assert(tu_match1(RULE("    path|cased|contains: Admin\n"), "path", "/x/Admin/y"));
    cr_assert(!tu_match1(RULE("    path|cased|contains: Admin\n"), "path", "/x/admin/y"));
}

Test(sigma_match, lists_or_maps_and)
{
    const char *y =
        RULE("    method: POST\n    path|startswith:\n      - /admin\n      - /internal\n");
    VgRuleSet *set = tu_load(y);
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "method", "POST");
    tu_set(&t, "path", "/internal/x");
    cr_assert_eq(tu_eval(set, &t.ev), 1);
    tu_set(&t, "method", "GET");
    cr_assert_eq(tu_eval(set, &t.ev), 0);
    tu_set(&t, "method", "post");
    tu_set(&t, "path", "/public");
    cr_assert_eq(tu_eval(set, &t.ev), 0);
    tu_event_clear(&t);
    vg_rule_set_free(set);
}

Test(sigma_match, list_of_maps_is_or)
{
    const char *y = RULE("    - path|endswith: '.env'\n    - user_agent|contains: nikto\n");
    cr_assert(tu_match1(y, "path", "/app/.env"));
    cr_assert(tu_match1(y, "user_agent", "Mozilla (Nikto/2.1)"));
    cr_assert(!tu_match1(y, "path", "/app/env"));
}

/* ---- null, empty, numbers ---- */

Test(sigma_match, null_and_empty)
{
    const char *isnull = RULE("    user: null\n");
    const char *empty = RULE("    user: ''\n");
    cr_assert(tu_match1(isnull, "path", "/x")); /* user absent */
    cr_assert(!tu_match1(isnull, "user", ""));  /* present, empty */
    cr_assert(tu_match1(empty, "user", ""));
    cr_assert(!tu_match1(empty, "path", "/x"));                 /* absent is not empty */
    cr_assert(tu_match1(RULE("    a.b: null\n"), "a.b", NULL)); /* JSON null */
    cr_assert(!tu_match1(RULE("    user: 'null'\n"), "path", "/x"));
    cr_assert(tu_match1(RULE("    user: 'null'\n"), "user", "NULL"));
}

Test(sigma_match, numbers_and_strings_cross)
{
    cr_assert(tu_match1(RULE("    status: 401\n"), "status", "401"));
    cr_assert(tu_match1(RULE("    status: '401'\n"), "status", "401"));
    cr_assert(!tu_match1(RULE("    status: 401\n"), "status", "403"));
    cr_assert(tu_match1(RULE("    status|startswith: '4'\n"), "status", "404"));
    cr_assert(tu_match1(RULE("    sc-status: 50*\n"), "status", "503"));
    cr_assert(tu_match1(RULE("    path: 123\n"), "path", "123"));
    cr_assert(tu_match1(RULE("    latency_ms: 1.5\n"), "latency_ms", "1.5"));
    cr_assert(tu_match1(RULE("    x.code: 7\n"), "x.code", "7"));
    cr_assert(!tu_match1(RULE("    status: 401\n"), "path", "401"));
}

Test(sigma_match, dotted_and_alias_fields)
{
    cr_assert(tu_match1(RULE("    request.headers.x-forwarded-for|cidr: 10.0.0.0/8\n"),
                        "request.headers.x-forwarded-for", "10.1.2.3"));
    cr_assert(tu_match1(RULE("    cs-uri-query|contains: 'union select'\n"), "query",
                        "id=1 UNION SELECT 2"));
    cr_assert(tu_match1(RULE("    c-ip: 203.0.113.9\n"), "client_ip", "203.0.113.9"));
    cr_assert(tu_match1(RULE("    cs-user-agent|contains: curl\n"), "user_agent", "curl/8"));
}

/* ---- modifiers ---- */

Test(sigma_match, all_with_lists)
{
    const char *y = RULE("    query|contains|all:\n      - 'select'\n      - 'from'\n");
    cr_assert(tu_match1(y, "query", "q=select x from y"));
    cr_assert(!tu_match1(y, "query", "q=select x"));
    char *e = tu_load_error(RULE("    query|contains|all: select\n"));
    cr_assert(strstr(e, "all needs a list"), "%s", e);
    g_free(e);
}

Test(sigma_match, keywords_and_all_keywords)
{
    const char *kw = "title: k\ndetection:\n  keywords:\n    - 'evilcorp'\n    - 'badbot'\n"
                     "  condition: keywords\n";
    VgRuleSet *set = tu_load(kw);
    TuEvent t;
    tu_event_init(&t);
    t.ev.raw = VG_STR_LIT("{\"path\":\"/\",\"ua\":\"BadBot/1.0\"}");
    cr_assert_eq(tu_eval(set, &t.ev), 1);
    t.ev.raw = VG_STR_LIT("{\"path\":\"/\"}");
    cr_assert_eq(tu_eval(set, &t.ev), 0);
    vg_rule_set_free(set);
    const char *all = "title: k\ndetection:\n  kw:\n    '|all':\n      - 'Oab'\n      - ' -Ext '\n"
                      "  condition: kw\n";
    set = tu_load(all);
    t.ev.raw = VG_STR_LIT("x oab y -ext z");
    cr_assert_eq(tu_eval(set, &t.ev), 1);
    t.ev.raw = VG_STR_LIT("x oab y");
    cr_assert_eq(tu_eval(set, &t.ev), 0);
    tu_event_clear(&t);
    vg_rule_set_free(set);
}

Test(sigma_match, regex_and_flags)
{
    cr_assert(tu_match1(RULE("    path|re: '^/v[0-9]+/users/[0-9]+$'\n"), "path", "/v2/users/17"));
    cr_assert(!tu_match1(RULE("    path|re: '^/V2/'\n"), "path", "/v2/users"));
    cr_assert(tu_match1(RULE("    path|re|i: '^/V2/'\n"), "path", "/v2/users"));
    cr_assert(tu_match1(RULE("    query|re|m: '^b=1$'\n"), "query", "a=0\nb=1\nc=2"));
    cr_assert(!tu_match1(RULE("    query|re: '^b=1$'\n"), "query", "a=0\nb=1\nc=2"));
    cr_assert(tu_match1(RULE("    query|re|s: 'a.b'\n"), "query", "a\nb"));
    cr_assert(!tu_match1(RULE("    query|re: 'a.b'\n"), "query", "a\nb"));
    cr_assert(tu_match1(RULE("    status|re: '^5\\d\\d$'\n"), "status", "502"));
    char *e = tu_load_error(RULE("    path|re: '(unclosed'\n"));
    cr_assert(strstr(e, "re:"), "%s", e);
    g_free(e);
}

Test(sigma_match, cidr_v4_v6_and_host_bits)
{
    cr_assert(tu_match1(RULE("    client_ip|cidr: 10.0.0.0/8\n"), "client_ip", "10.200.1.1"));
    cr_assert(!tu_match1(RULE("    client_ip|cidr: 10.0.0.0/8\n"), "client_ip", "11.0.0.1"));
    cr_assert(tu_match1(RULE("    client_ip|cidr: 10.0.0.0/8\n"), "client_ip", "::ffff:10.0.0.1"));
    cr_assert(
        tu_match1(RULE("    client_ip|cidr: '2001:db8::/32'\n"), "client_ip", "2001:db8:1::7"));
    cr_assert(
        !tu_match1(RULE("    client_ip|cidr: '2001:db8::/32'\n"), "client_ip", "2001:db9::1"));
    cr_assert(tu_match1(RULE("    client_ip|cidr: 'fe80::/10'\n"), "client_ip", "fe80::1"));
    cr_assert(!tu_match1(RULE("    client_ip|cidr: '2001:db8::/32'\n"), "client_ip", "10.0.0.1"));
    cr_assert(!tu_match1(RULE("    client_ip|cidr: 10.0.0.0/8\n"), "client_ip", "not-an-ip"));
    char *e = tu_load_error(RULE("    client_ip|cidr: 10.0.0.1/8\n"));
    cr_assert(strstr(e, "host bits"), "%s", e);
    cr_assert(strstr(e, ":6:21:"), "error located at the value's line: %s", e);
    g_free(e);
    e = tu_load_error(RULE("    client_ip|cidr: '2001:db8::1/32'\n"));
    cr_assert(strstr(e, "host bits"), "%s", e);
    g_free(e);
}

/* base64offset|contains must find the value at each of the three byte offsets. */
Test(sigma_match, base64_and_base64offset)
{
    cr_assert(tu_match1(RULE("    query|base64: 'admin'\n"), "query", "YWRtaW4="));
    const char *y = RULE("    query|base64offset|contains: 'secret'\n");
    const char *plain[] = {"secret=1", "xsecret", "xxsecret..", "the secret is out"};
    for (size_t i = 0; i < G_N_ELEMENTS(plain); i++) {
        char *enc = g_base64_encode((const guchar *)plain[i], strlen(plain[i]));
        cr_assert(tu_match1(y, "query", enc), "offset variant for '%s' (%s)", plain[i], enc);
        g_free(enc);
    }
    char *enc = g_base64_encode((const guchar *)"public data", 11);
    cr_assert(!tu_match1(y, "query", enc));
    g_free(enc);
    char *e = tu_load_error(RULE("    query|base64: 'a*'\n"));
    cr_assert(strstr(e, "wildcard"), "%s", e);
    g_free(e);
}

Test(sigma_match, utf16_and_wide_with_base64offset)
{
    /* "cmd" as UTF-16LE (63 00 6d 00 64 00), base64: YwBtAGQA */
    cr_assert(tu_match1(RULE("    query|wide|base64: 'cmd'\n"), "query", "YwBtAGQA"));
    cr_assert(tu_match1(RULE("    query|utf16le|base64: 'cmd'\n"), "query", "YwBtAGQA"));
    /* UTF-16BE 00 63 00 6d 00 64: AGMAbQBk */
    cr_assert(tu_match1(RULE("    query|utf16be|base64: 'cmd'\n"), "query", "AGMAbQBk"));
    /* BOM FF FE then LE: //5jAG0AZAA= */
    cr_assert(tu_match1(RULE("    query|utf16|base64: 'cmd'\n"), "query", "//5jAG0AZAA="));
    const guchar x[] = {'x', 0, 'c', 0, 'm', 0, 'd', 0, 'z', 0};
    char *enc = g_base64_encode(x, sizeof x);
    cr_assert(tu_match1(RULE("    query|wide|base64offset|contains: 'cmd'\n"), "query", enc), "%s",
              enc);
    g_free(enc);
}

Test(sigma_match, windash)
{
    const char *y = RULE("    query|windash|contains: ' -exec'\n");
    cr_assert(tu_match1(y, "query", "run -exec x"));
    cr_assert(tu_match1(y, "query", "run /exec x"));
    cr_assert(tu_match1(y, "query",
                        "run \xE2\x80\x93"
                        "exec x")); /* en dash */
    cr_assert(tu_match1(y, "query",
                        "run \xE2\x80\x94"
                        "exec x")); /* em dash */
    cr_assert(tu_match1(y, "query",
                        "run \xE2\x80\x95"
                        "exec x")); /* horizontal bar */
    cr_assert(!tu_match1(y, "query", "run +exec x"));
}

Test(sigma_match, exists)
{
    cr_assert(tu_match1(RULE("    user|exists: true\n"), "user", ""));
    cr_assert(!tu_match1(RULE("    user|exists: true\n"), "path", "/"));
    cr_assert(tu_match1(RULE("    user|exists: false\n"), "path", "/"));
    cr_assert(tu_match1(RULE("    a.b|exists: true\n"), "a.b", NULL));
}

Test(sigma_match, neq)
{
    const char *y = RULE("    method|neq:\n      - GET\n      - HEAD\n");
    cr_assert(tu_match1(y, "method", "POST"));
    cr_assert(!tu_match1(y, "method", "get"));
    cr_assert(!tu_match1(y, "method", "HEAD"));
    cr_assert(!tu_match1(y, "path", "/")); /* absent is not "different" */
}

Test(sigma_match, numeric_comparisons)
{
    cr_assert(tu_match1(RULE("    status|gte: 500\n"), "status", "503"));
    cr_assert(!tu_match1(RULE("    status|gte: 500\n"), "status", "499"));
    cr_assert(tu_match1(RULE("    status|lt: 300\n"), "status", "204"));
    cr_assert(tu_match1(RULE("    bytes_out|gt: 1000000\n"), "bytes_out", "5000000"));
    cr_assert(tu_match1(RULE("    latency_ms|lte: 2.5\n"), "latency_ms", "2.5"));
    cr_assert(tu_match1(RULE("    x.size|gt: 10\n"), "x.size", "11"));
    cr_assert(!tu_match1(RULE("    x.size|gt: 10\n"), "x.size", "ten"));
    char *e = tu_load_error(RULE("    status|gt: many\n"));
    cr_assert(strstr(e, "needs a number"), "%s", e);
    g_free(e);
}

/* Integer comparisons on status, bytes_out, bytes_in and time are answered straight from
 * the event (SIG_FAST_INT_CMP in sigma-eval.c): each operator at, below and above its
 * bound, lists (any of them, or all with |all), a bound that is not an integer (the
 * generic path), and an event without the field. */
Test(sigma_match, integer_comparisons_at_their_bounds)
{
    static const struct {
        const char *op;
        bool below, at, above;
    } ops[] = {{"lt", true, false, false},
               {"lte", true, true, false},
               {"gt", false, false, true},
               {"gte", false, true, true}};
    for (size_t i = 0; i < G_N_ELEMENTS(ops); i++) {
        char *y = g_strdup_printf(RULE("    bytes_in|%s: 300\n"), ops[i].op);
        cr_assert_eq(tu_match1(y, "bytes_in", "299"), ops[i].below, "%s 299", ops[i].op);
        cr_assert_eq(tu_match1(y, "bytes_in", "300"), ops[i].at, "%s 300", ops[i].op);
        cr_assert_eq(tu_match1(y, "bytes_in", "301"), ops[i].above, "%s 301", ops[i].op);
        cr_assert(!tu_match1(y, "path", "/"), "%s: no bytes_in", ops[i].op);
        g_free(y);
    }
    const char *any = RULE("    status|gte:\n      - 500\n      - 200\n");
    cr_assert(tu_match1(any, "status", "204"));
    cr_assert(!tu_match1(any, "status", "199"));
    const char *all = RULE("    status|lt|all:\n      - 300\n      - 250\n");
    cr_assert(tu_match1(all, "status", "249"));
    cr_assert(!tu_match1(all, "status", "260"));
    /* time is the event's milliseconds (tu_event_init: 1772416800000) */
    cr_assert(tu_match1(RULE("    time|gte: 1772416800000\n"), "path", "/"));
    cr_assert(!tu_match1(RULE("    time|gt: 1772416800000\n"), "path", "/"));
    cr_assert(tu_match1(RULE("    status|lt: 300.5\n"), "status", "300"));
    cr_assert(!tu_match1(RULE("    status|gt: 300.5\n"), "status", "300"));
}

Test(sigma_match, fieldref)
{
    const char *y = RULE("    user|fieldref: token\n");
    VgRuleSet *set = tu_load(y);
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "user", "Alice");
    tu_set(&t, "token", "alice");
    cr_assert_eq(tu_eval(set, &t.ev), 1);
    tu_set(&t, "token", "bob");
    cr_assert_eq(tu_eval(set, &t.ev), 0);
    vg_rule_set_free(set);
    set = tu_load(RULE("    path|fieldref|contains: user\n"));
    tu_set(&t, "path", "/users/alice/x");
    cr_assert_eq(tu_eval(set, &t.ev), 1);
    tu_event_clear(&t);
    vg_rule_set_free(set);
}

Test(sigma_match, expand_placeholders)
{
    GPtrArray *docs = vg_conf_load_documents("Admins: [root, 'adm_*']\n", 23, "cfg", NULL);
    VgRulesLoadOpts o = {.expand = docs->pdata[0]};
    VgRuleSet *set = tu_load_opts(RULE("    user|expand: '%Admins%'\n"), &o, NULL);
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "user", "root");
    cr_assert_eq(tu_eval(set, &t.ev), 1);
    tu_set(&t, "user", "adm_bob");
    cr_assert_eq(tu_eval(set, &t.ev), 1);
    tu_set(&t, "user", "bob");
    cr_assert_eq(tu_eval(set, &t.ev), 0);
    vg_rule_set_free(set);
    /* without expand the placeholder is literal; \% is a plain percent sign */
    set = tu_load(RULE("    user: '%Admins%'\n"));
    tu_set(&t, "user", "%admins%");
    cr_assert_eq(tu_eval(set, &t.ev), 1);
    vg_rule_set_free(set);
    set = tu_load_opts(RULE("    user|expand: '\\%x-%Admins%'\n"), &o, NULL);
    tu_set(&t, "user", "%x-root");
    cr_assert_eq(tu_eval(set, &t.ev), 1);
    vg_rule_set_free(set);
    tu_event_clear(&t);
    GPtrArray *errs;
    set = tu_load_opts(RULE("    user|expand: '%Nobody%'\n"), &o, &errs);
    cr_assert_eq(errs->len, 1);
    cr_assert(strstr(((GError *)errs->pdata[0])->message, "Nobody"));
    g_ptr_array_free(errs, TRUE);
    vg_rule_set_free(set);
    g_ptr_array_free(docs, TRUE);
}

Test(sigma_match, date_parts)
{
    /* event time 2026-03-02T02:00:00Z: Monday, ISO week 10 */
    cr_assert(tu_match1(RULE("    time|hour: 2\n"), "path", "/"));
    cr_assert(tu_match1(RULE("    time|hour|lt: 6\n"), "path", "/"));
    cr_assert(!tu_match1(RULE("    time|hour|gte: 9\n"), "path", "/"));
    cr_assert(tu_match1(RULE("    time|day: 2\n"), "path", "/"));
    cr_assert(tu_match1(RULE("    time|month: 3\n"), "path", "/"));
    cr_assert(tu_match1(RULE("    time|year: 2026\n"), "path", "/"));
    cr_assert(tu_match1(RULE("    time|week: 10\n"), "path", "/"));
    cr_assert(tu_match1(RULE("    time|minute: 0\n"), "path", "/"));
    cr_assert(tu_match1(RULE("    x.when|hour: 23\n"), "x.when", "2024-12-31T23:59:00Z"));
    cr_assert(tu_match1(RULE("    x.when|week: 1\n"), "x.when", "2024-12-31T23:59:00Z"));
    cr_assert(tu_match1(RULE("    x.when|week: 53\n"), "x.when", "2021-01-01"));
}

Test(sigma_match, unknown_and_conflicting_modifiers_are_errors)
{
    char *e = tu_load_error(RULE("    path|contians: x\n"));
    cr_assert(strstr(e, "unknown modifier 'contians'"), "%s", e);
    cr_assert(strstr(e, ":6:5:"), "located at the key: %s", e);
    g_free(e);
    e = tu_load_error(RULE("    path|re|contains: x\n"));
    cr_assert(strstr(e, "re"), "%s", e);
    g_free(e);
    e = tu_load_error(RULE("    path|i: x\n"));
    cr_assert(strstr(e, "only go with re"), "%s", e);
    g_free(e);
    e = tu_load_error(RULE("    path|startswith|endswith: x\n"));
    cr_assert(strstr(e, "exclude"), "%s", e);
    g_free(e);
    e = tu_load_error(RULE("    path:\n      - a\n      - null\n"));
    cr_assert(strstr(e, "null cannot be part of a list"), "%s", e);
    g_free(e);
}

Test(sigma_match, re_luhn_keeps_only_check_digit_valid_numbers)
{
    const char *r = RULE("    query|re|luhn: '[0-9][0-9 -]{11,22}[0-9]'\n");
    cr_assert(tu_match1(r, "query", "card=4111111111111111&exp=1228"));
    cr_assert(tu_match1(r, "query", "pan=5500-0000-0000-0004"));
    cr_assert(!tu_match1(r, "query", "order=4111111111111112"), "fails the Luhn check");
    /* the first candidate fails, a later one passes: the search goes on */
    cr_assert(tu_match1(r, "query", "order=4111111111111112&card=4111111111111111"));
    char *e = tu_load_error(RULE("    query|luhn: 4111\n"));
    cr_assert(strstr(e, "only go with re"), "%s", e);
    g_free(e);
}

/* Caseless contains, literal starting with a byte that is not a letter (found with memchr
 * when matched directly) or with one: at either end, after false starts, too short. */
Test(sigma_match, caseless_contains_first_byte_kinds)
{
    const char *dash = RULE("    path|contains: '-ab'\n");
    cr_assert(tu_match1(dash, "path", "-ab"));
    cr_assert(tu_match1(dash, "path", "x-AB"));
    cr_assert(tu_match1(dash, "path", "--aB"));
    cr_assert(tu_match1(dash, "path", "-a-ab"));
    cr_assert(tu_match1(dash, "path", "-abx"));
    cr_assert(!tu_match1(dash, "path", "-a"));
    cr_assert(!tu_match1(dash, "path", "ab-"));
    cr_assert(!tu_match1(dash, "path", "-a-b"));
    cr_assert(!tu_match1(dash, "path", ""));
    const char *letter = RULE("    path|contains: 'b-'\n");
    cr_assert(tu_match1(letter, "path", "B-"));
    cr_assert(tu_match1(letter, "path", "ab-x"));
    cr_assert(!tu_match1(letter, "path", "b"));
}

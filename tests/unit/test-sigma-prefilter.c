/* test-sigma-prefilter.c — the prefilter's guards: which rules it lets skip, and that
 * skipping never changes a result (tu_eval compares with and without the prefilter). */
#include "rules/sigma-prefilter.h"
#include "rules/sigma.h"
#include "test-sigma-util.h"

TestSuite(sigma_prefilter, .fini = tu_cleanup);

static const char digits_rule[] = "title: t\nid: r1\nlogsource: {category: webserver}\ndetection:\n"
                                  "  card:\n    path|re: '(^|[^0-9])4[0-9]{12}($|[^0-9])'\n"
                                  "  grouped:\n    query|re: '[0-9]{4}-[0-9]{4}'\n"
                                  "  condition: card or grouped\nlevel: high\n";

static bool eval_pq(const VgRuleSet *set, const char *path, const char *query)
{
    TuEvent t;
    tu_event_init(&t);
    if (path)
        tu_set(&t, "path", path);
    if (query)
        tu_set(&t, "query", query);
    bool r = tu_eval(set, &t.ev) & 1;
    tu_event_clear(&t);
    return r;
}

/* A regex with no literal to scan for but a run of digits to have is guarded by that run. */
Test(sigma_prefilter, digit_run_guards_a_regex_without_literals)
{
    VgRuleSet *set = tu_load(digits_rule);
    const SigRule *r = set->rules->pdata[0];
    cr_assert(r->guarded);
    cr_assert_eq(set->n_unguarded, 0);
    cr_assert(eval_pq(set, "/v1/cards/4111111111111", NULL));
    cr_assert(!eval_pq(set, "/v1/cards/411111111111", NULL)); /* one digit short */
    cr_assert(!eval_pq(set, "/v1/cards/5111111111111", NULL));
    cr_assert(eval_pq(set, "/v1/x", "n=1234-5678"));
    cr_assert(!eval_pq(set, "/v1/x", "n=123-5678"));
    cr_assert(!eval_pq(set, "/v1/x", "n=1234x5678"));
    cr_assert(!eval_pq(set, NULL, NULL));
    cr_assert(eval_pq(set, "/v1/cards/4111111111111", "n=123"));
    vg_rule_set_free(set);
}

/* Runs at the start, at the end, after shorter runs, and one digit short of the threshold. */
Test(sigma_prefilter, digit_runs_anywhere_in_the_value)
{
    VgRuleSet *set = tu_load(digits_rule);
    cr_assert(eval_pq(set, "4111111111111", NULL));
    cr_assert(eval_pq(set, "4111111111111/x", NULL));
    cr_assert(eval_pq(set, "/x/4111111111111", NULL));
    cr_assert(eval_pq(set, "/1/22/333/4444/55555/4111111111111", NULL));
    cr_assert(eval_pq(set, "/123456789012/4111111111111/1", NULL));
    cr_assert(!eval_pq(set, "/123456789012/411111111111/1", NULL));
    cr_assert(!eval_pq(set, "/41111111111111111111", NULL)); /* too long for the regex */
    /* past 64 bytes the runs are measured byte by byte (sigma-scan.c) */
    cr_assert(
        eval_pq(set, "/v1/some/long/path/to/a/resource/that/goes/on/and/on/4111111111111", NULL));
    cr_assert(
        !eval_pq(set, "/v1/some/long/path/to/a/resource/that/goes/on/and/on/411111111111", NULL));
    cr_assert(
        eval_pq(set, "/v1/4111111111111/some/long/path/to/a/resource/that/goes/on/and/on", NULL));
    cr_assert(eval_pq(set, NULL, "1234-5678"));
    cr_assert(eval_pq(set, NULL, "a=12&b=1234-5678"));
    cr_assert(!eval_pq(set, NULL, "a=123&b=123-5678"));
    vg_rule_set_free(set);
}

/* Digit runs and literals mix in one guard; a digit run on the wrong field does not count. */
Test(sigma_prefilter, digit_run_and_literal_guards_together)
{
    VgRuleSet *set = tu_load("title: t\nid: r1\nlogsource: {category: webserver}\ndetection:\n"
                             "  a:\n    path|re: '/[0-9]{6}$'\n"
                             "  b:\n    user_agent|contains: scanner\n"
                             "  condition: a or b\nlevel: high\n");
    const SigRule *r = set->rules->pdata[0];
    cr_assert(r->guarded);
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "path", "/v1/x");
    tu_set(&t, "query", "id=123456");
    cr_assert(!(tu_eval(set, &t.ev) & 1));
    tu_set(&t, "user_agent", "Scanner/1.0");
    cr_assert(tu_eval(set, &t.ev) & 1);
    tu_set(&t, "user_agent", "curl");
    tu_set(&t, "path", "/v1/x/123456");
    cr_assert(tu_eval(set, &t.ev) & 1);
    tu_set(&t, "path", "/v1/x/123456/y");
    cr_assert(!(tu_eval(set, &t.ev) & 1));
    tu_event_clear(&t);
    vg_rule_set_free(set);
}

/* ---- guards that say where the literal must be ---- */

#define RULE1(det)                                                                                 \
    "title: t\nid: r1\nlogsource: {category: webserver}\ndetection:\n" det "level: high\n"

/* Whether rule 0 was evaluated (a candidate, or unguarded) on ev, and whether it matched
 * (with and without the prefilter: tu_eval asserts they agree). */
static bool woken(const VgRuleSet *set, const VgEvent *ev, int rule)
{
    VgArena arena;
    vg_arena_init(&arena, 4096);
    VgRuleScratch *s = vg_rule_scratch_new(set);
    vg_rule_set_eval(set, s, ev, &arena, false, NULL, NULL);
    bool w = false;
    for (int k = 0; k < s->n_cand + set->n_unguarded; k++)
        w = w || s->cand_list[k] == rule;
    vg_rule_scratch_free(s);
    vg_arena_destroy(&arena);
    return w;
}

typedef struct {
    bool woken, matched;
} Seen;

/* One event with field = value (value NULL: field absent), seen by rule 0. */
static Seen seen1(const VgRuleSet *set, const char *field, const char *value)
{
    TuEvent t;
    tu_event_init(&t);
    if (value)
        tu_set(&t, field, value);
    Seen r = {woken(set, &t.ev, 0), (tu_eval(set, &t.ev) & 1) != 0};
    tu_event_clear(&t);
    cr_assert(r.woken || !r.matched, "a rule that matches was not evaluated");
    return r;
}

/* seen1() must say whether rule 0 was woken and whether it matched. */
static void expect_seen(const VgRuleSet *set, const char *field, const char *value, bool woken,
                        bool matched)
{
    Seen r = seen1(set, field, value);
    cr_expect(r.woken == woken && r.matched == matched,
              "%s = \"%s\": woken %d, matched %d; wanted %d, %d", field, value ? value : "(absent)",
              r.woken, r.matched, woken, matched);
}

/* A value without modifiers is guarded by the whole field: "https" does not wake a rule
 * that wants "http". Case-insensitive, and empty or missing fields match nothing. */
Test(sigma_prefilter, exact_value_guards_the_whole_field)
{
    VgRuleSet *set = tu_load(RULE1("  sel:\n    scheme: http\n  condition: sel\n"));
    cr_assert(((SigRule *)set->rules->pdata[0])->guarded);
    expect_seen(set, "scheme", "http", true, true);
    expect_seen(set, "scheme", "HTTP", true, true);
    expect_seen(set, "scheme", "https", false, false);
    expect_seen(set, "scheme", "xhttp", false, false);
    expect_seen(set, "scheme", "", false, false);
    expect_seen(set, "scheme", NULL, false, false);
    vg_rule_set_free(set);
}

/* A status equality is a guard: the rule is evaluated only on events with that status
 * (any of a list), never without a status; negated, or compared (lt, gte), it is not. */
Test(sigma_prefilter, status_equality_guards_the_rule)
{
    VgRuleSet *set = tu_load(RULE1("  sel:\n    status: [401, '403']\n  condition: sel\n"));
    cr_assert(((SigRule *)set->rules->pdata[0])->guarded);
    cr_assert_eq(set->n_unguarded, 0);
    expect_seen(set, "status", "401", true, true);
    expect_seen(set, "status", "403", true, true);
    expect_seen(set, "status", "404", false, false);
    expect_seen(set, "status", "200", false, false);
    expect_seen(set, "status", NULL, false, false);
    vg_rule_set_free(set);

    /* and'ed with a literal, either guard will do; or'ed, both wake it */
    set = tu_load(RULE1("  a:\n    status: 200\n  b:\n    path|contains: /admin\n"
                        "  condition: a and b\n"));
    cr_assert(((SigRule *)set->rules->pdata[0])->guarded);
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "status", "200");
    tu_set(&t, "path", "/v1/admin/users");
    cr_assert(tu_eval(set, &t.ev) & 1);
    tu_set(&t, "status", "500");
    cr_assert(!(tu_eval(set, &t.ev) & 1));
    tu_event_clear(&t);
    vg_rule_set_free(set);
    set = tu_load(RULE1("  a:\n    status: 404\n  b:\n    path|contains: /.env\n"
                        "  condition: a or b\n"));
    cr_assert(((SigRule *)set->rules->pdata[0])->guarded);
    tu_event_init(&t);
    tu_set(&t, "path", "/v1/x");
    tu_set(&t, "status", "404");
    cr_assert(woken(set, &t.ev, 0) && (tu_eval(set, &t.ev) & 1));
    tu_set(&t, "status", "200");
    cr_assert(!woken(set, &t.ev, 0) && !(tu_eval(set, &t.ev) & 1));
    tu_set(&t, "path", "/.env");
    cr_assert(woken(set, &t.ev, 0) && (tu_eval(set, &t.ev) & 1));
    tu_event_clear(&t);
    vg_rule_set_free(set);

    const char *unguarded[] = {"  sel:\n    status: 404\n  condition: not sel\n",
                               "  sel:\n    status|gte: 500\n  condition: sel\n",
                               "  sel:\n    status|neq: 404\n  condition: sel\n"};
    for (size_t i = 0; i < G_N_ELEMENTS(unguarded); i++) {
        char *text = g_strdup_printf(RULE1("%s"), unguarded[i]);
        set = tu_load(text);
        cr_assert(!((SigRule *)set->rules->pdata[0])->guarded, "%s", unguarded[i]);
        cr_assert(!seen1(set, "status", "404").matched, "%s", unguarded[i]);
        cr_assert_eq(seen1(set, "status", "503").matched, true, "%s", unguarded[i]);
        cr_assert_eq(seen1(set, "status", NULL).matched, i == 0, "%s", unguarded[i]);
        cr_assert_eq(seen1(set, "status", "200").matched, i != 1, "%s", unguarded[i]);
        vg_rule_set_free(set);
        g_free(text);
    }
}

/* startswith and endswith: the literal at that end, wherever else it also occurs. */
Test(sigma_prefilter, startswith_and_endswith_guard_their_end)
{
    VgRuleSet *set = tu_load(RULE1("  sel:\n    path|startswith: /adm\n  condition: sel\n"));
    expect_seen(set, "path", "/ADMIN/x", true, true);
    expect_seen(set, "path", "/adm", true, true);
    expect_seen(set, "path", "/v1/admin", false, false);
    expect_seen(set, "path", "/adm/adm", true, true);
    vg_rule_set_free(set);

    set = tu_load(RULE1("  sel:\n    path|endswith: /.env\n  condition: sel\n"));
    expect_seen(set, "path", "/app/.ENV", true, true);
    expect_seen(set, "path", "/.env/x", false, false);
    expect_seen(set, "path", "/.env/x/.env", true, true);
    expect_seen(set, "path", "/.en", false, false);
    vg_rule_set_free(set);
}

#define RULEN(id, mod)                                                                             \
    "title: t\nid: " id "\nlogsource: {category: webserver}\ndetection:\n  sel:\n    path|" mod    \
    ": /x\n  condition: sel\nlevel: high\n"

/* One literal wanted at different places by different rules: each rule is woken by its
 * own place only (cased: the whole value, since a value without modifiers cannot be
 * written with a `|`). */
Test(sigma_prefilter, one_literal_four_places)
{
    VgRuleSet *set = tu_load(RULEN("r1", "startswith") "---\n" RULEN(
        "r2", "endswith") "---\n" RULEN("r3", "cased") "---\n" RULEN("r4", "contains"));
    static const struct {
        const char *path;
        uint64_t want;
    } cases[] = {
        {"/x", 0xf}, {"/x/y", 0x9}, {"/y/x", 0xa}, {"/y/x/z", 0x8}, {"/X", 0xb}, {"/y", 0},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        TuEvent t;
        tu_event_init(&t);
        tu_set(&t, "path", cases[i].path);
        uint64_t got = tu_eval(set, &t.ev);
        cr_assert_eq(got, cases[i].want, "%s: %#llx", cases[i].path, (unsigned long long)got);
        for (int r = 0; r < 4; r++) /* "/X" wakes the cased rule, which then says no */
            cr_assert_eq(woken(set, &t.ev, r), ((cases[i].want | (i == 4 ? 4 : 0)) >> r) & 1,
                         "%s rule %d", cases[i].path, r);
        tu_event_clear(&t);
    }
    vg_rule_set_free(set);
}

/* Modifiers whose patterns are not plain values keep a guard that never rejects a match:
 * cased (re-checked), contains|all, base64 (a whole encoded value), base64offset and
 * windash (alternatives), a glob. */
Test(sigma_prefilter, modifiers_never_lose_a_match)
{
    VgRuleSet *set = tu_load(RULE1("  sel:\n    path|cased: /Admin\n  condition: sel\n"));
    expect_seen(set, "path", "/Admin", true, true);
    cr_assert(!seen1(set, "path", "/admin").matched);
    expect_seen(set, "path", "/Admin/x", false, false);
    vg_rule_set_free(set);

    set = tu_load(RULE1("  sel:\n    path|contains|all: [/b2, /a1]\n  condition: sel\n"));
    expect_seen(set, "path", "/A1/b2", true, true);
    cr_assert(!seen1(set, "path", "/b2").matched);
    vg_rule_set_free(set);

    set = tu_load(RULE1("  sel:\n    query|base64: admin\n  condition: sel\n"));
    expect_seen(set, "query", "YWRtaW4=", true, true);
    expect_seen(set, "query", "xYWRtaW4=", false, false);
    vg_rule_set_free(set);

    set = tu_load(RULE1("  sel:\n    query|base64offset|contains: secret\n  condition: sel\n"));
    char *enc = g_base64_encode((const guchar *)"my secret", 9);
    expect_seen(set, "query", enc, true, true);
    g_free(enc);
    vg_rule_set_free(set);

    set = tu_load(RULE1("  sel:\n    query|windash|startswith: '-exec'\n  condition: sel\n"));
    expect_seen(set, "query", "/exec x", true, true);
    expect_seen(set, "query", "x -exec", false, false);
    vg_rule_set_free(set);

    set = tu_load(RULE1("  sel:\n    path: '/v1/*/export'\n  condition: sel\n"));
    expect_seen(set, "path", "/V1/users/export", true, true);
    vg_rule_set_free(set);
}

/* An exact value or'ed with a test that has no literal (null, cidr, re without one, a
 * dotted field) leaves the rule unguarded; and'ed, the exact value guards it. */
Test(sigma_prefilter, exact_value_with_tests_without_literals)
{
    VgRuleSet *set = tu_load(RULE1("  a:\n    scheme: http\n  b:\n    scheme: null\n"
                                   "  condition: a or b\n"));
    cr_assert(!((SigRule *)set->rules->pdata[0])->guarded);
    cr_assert(seen1(set, "scheme", NULL).matched);
    cr_assert(!seen1(set, "scheme", "https").matched);
    vg_rule_set_free(set);

    set = tu_load(RULE1("  a:\n    scheme: http\n  b:\n    client_ip|cidr: 10.0.0.0/8\n"
                        "  condition: a or b\n"));
    cr_assert(!((SigRule *)set->rules->pdata[0])->guarded);
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "scheme", "https");
    tu_set(&t, "client_ip", "10.1.2.3");
    cr_assert(tu_eval(set, &t.ev) & 1);
    tu_event_clear(&t);
    vg_rule_set_free(set);

    set = tu_load(RULE1("  a:\n    scheme: http\n  b:\n    request.headers.x|re: '^h'\n"
                        "  condition: a and b\n"));
    cr_assert(((SigRule *)set->rules->pdata[0])->guarded);
    tu_event_init(&t);
    tu_set(&t, "scheme", "http");
    tu_set(&t, "request.headers.x", "hello");
    cr_assert(tu_eval(set, &t.ev) & 1);
    tu_set(&t, "scheme", "HTTPS");
    cr_assert(!(tu_eval(set, &t.ev) & 1));
    cr_assert(!woken(set, &t.ev, 0));
    tu_event_clear(&t);
    vg_rule_set_free(set);

    set = tu_load(RULE1("  a:\n    scheme: ''\n  condition: a\n")); /* empty: no literal */
    cr_assert(!((SigRule *)set->rules->pdata[0])->guarded);
    cr_assert(seen1(set, "scheme", "").matched);
    cr_assert(!seen1(set, "scheme", "http").matched);
    vg_rule_set_free(set);
}

/* A caseless regex is guarded by its literals and their Unicode case variants: the long s
 * and the Kelvin sign match s and k, so they must wake the rule too. */
Test(sigma_prefilter, caseless_regex_long_s_and_kelvin_sign)
{
    VgRuleSet *set = tu_load(RULE1("  sel:\n    path|re|i: '\\.(sql|bak)$'\n  condition: sel\n"));
    cr_assert(((SigRule *)set->rules->pdata[0])->guarded);
    expect_seen(set, "path", "/db.SQL", true, true);
    expect_seen(set, "path", "/db.\xc5\xbfql", true, true);
    expect_seen(set, "path", "/db.ba\xe2\x84\xaa", true, true);
    expect_seen(set, "path", "/v1/basket", false, false);
    vg_rule_set_free(set);
}

/* ---- the scan's skipping (bytes whose pair starts no literal are not run through the
 * automaton, which resumes skipping when it is back near the root) ---- */

/* Rules with one pattern each on path (rule i: bit i of the mask): literals of one, two
 * and more bytes that overlap, repeat their first byte, and sit at either end. */
static const char *const skip_pats[] = {
    "path|contains: '@'",
    "path|contains: ab",
    "path|contains: bab",
    "path|contains: aaab",
    "path|startswith: ba",
    "path|endswith: ab",
    "path: aab",
    "path|contains: 'b/'",
    "path|contains: '/a/'",
    "path|contains|cased: aB",
    "path|endswith: '@'",
    "path|startswith: '@'",
    "path|contains: ababb",
    "path|contains: \"\xc5\xbf\"",
};

static VgRuleSet *skip_rules(void)
{
    GString *y = g_string_new(NULL);
    for (guint i = 0; i < G_N_ELEMENTS(skip_pats); i++)
        g_string_append_printf(y,
                               "%stitle: t%u\nid: r%u\nlogsource: {category: webserver}\n"
                               "detection:\n  sel:\n    %s\n  condition: sel\nlevel: high\n",
                               i ? "---\n" : "", i, i, skip_pats[i]);
    VgRuleSet *set = tu_load(y->str);
    g_string_free(y, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS(skip_pats); i++)
        cr_assert(((SigRule *)set->rules->pdata[i])->guarded, "rule %u should be guarded", i);
    return set;
}

static uint64_t eval_path(const VgRuleSet *set, const char *path)
{
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, "path", path);
    uint64_t m = tu_eval(set, &t.ev);
    tu_event_clear(&t);
    return m;
}

#define BIT(i) (1ull << (i))

/* Literals at the first and last bytes, in one-byte fields, found again after the
 * automaton gave up near the root, and in any case. */
Test(sigma_prefilter, skip_edges)
{
    VgRuleSet *set = skip_rules();
    cr_assert_eq(eval_path(set, "@"), BIT(0) | BIT(10) | BIT(11));
    cr_assert_eq(eval_path(set, "x@"), BIT(0) | BIT(10));
    cr_assert_eq(eval_path(set, "@x"), BIT(0) | BIT(11));
    cr_assert_eq(eval_path(set, "a"), 0);
    cr_assert_eq(eval_path(set, ""), 0);
    cr_assert_eq(eval_path(set, "ab"), BIT(1) | BIT(5));
    cr_assert_eq(eval_path(set, "xab"), BIT(1) | BIT(5));
    cr_assert_eq(eval_path(set, "aab"), BIT(1) | BIT(5) | BIT(6));
    cr_assert_eq(eval_path(set, "AAB"), BIT(1) | BIT(5) | BIT(6));
    cr_assert_eq(eval_path(set, "aaaab"), BIT(1) | BIT(3) | BIT(5));
    cr_assert_eq(eval_path(set, "xaxab"), BIT(1) | BIT(5));
    cr_assert_eq(eval_path(set, "bab"), BIT(1) | BIT(2) | BIT(4) | BIT(5));
    cr_assert_eq(eval_path(set, "abababb"), BIT(1) | BIT(2) | BIT(12));
    cr_assert_eq(eval_path(set, "ababab"), BIT(1) | BIT(2) | BIT(5));
    cr_assert_eq(eval_path(set, "xb/"), BIT(7));
    cr_assert_eq(eval_path(set, "/x/a/"), BIT(8));
    cr_assert_eq(eval_path(set, "/a/a/"), BIT(8));
    cr_assert_eq(eval_path(set, "xAb"), BIT(1) | BIT(5));
    cr_assert_eq(eval_path(set, "xaB"), BIT(1) | BIT(5) | BIT(9));
    cr_assert_eq(eval_path(set, "x\xc5\xbf"), BIT(13));
    cr_assert_eq(eval_path(set, "\xc5\xc5\xbf"), BIT(13));
    cr_assert_eq(eval_path(set, "\xc5x\xbf"), 0);
    vg_rule_set_free(set);
}

/* Strings of up to 7 bytes over the bytes the literals are made of (and one they are not;
 * all of them up to 5 bytes): the prefilter's answers equal matching each pattern
 * directly (tu_eval). */
Test(sigma_prefilter, skip_never_loses_a_literal)
{
    VgRuleSet *set = skip_rules();
    static const char alphabet[] = "abAB/@x\xc5\xbf";
    const int k = (int)sizeof alphabet - 1;
    char buf[8];
    uint64_t seen = 0;
    for (int len = 0; len <= 7; len++) {
        int total = 1;
        for (int i = 0; i < len; i++)
            total *= k;
        /* all of them up to 5 bytes, every 7th or 97th beyond */
        for (int x = 0; x < total; x += len <= 5 ? 1 : len == 6 ? 7 : 97) {
            int v = x;
            for (int i = 0; i < len; i++, v /= k)
                buf[i] = alphabet[v % k];
            buf[len] = '\0';
            seen |= eval_path(set, buf);
        }
    }
    cr_assert_eq(seen, BIT(G_N_ELEMENTS(skip_pats)) - 1, "every rule should match somewhere: %#llx",
                 (unsigned long long)seen);
    vg_rule_set_free(set);
}

/* ---- values scanned before ---- */

/* Rules on the user agent and the referer: literals anywhere, at the start, at the end and
 * as the whole value, of one byte and long, some occurring many times in one value. */
static const char recall_rules[] =
    RULE1("  a:\n    user_agent|contains: [sqlmap, nikto, 'a', '/1.', 'curl/']\n"
          "  b:\n    user_agent|startswith: 'python-'\n"
          "  c:\n    user_agent|endswith: [')', 'bot']\n"
          "  d:\n    user_agent: 'Mozilla/5.0 (compatible; Googlebot/2.1)'\n"
          "  e:\n    referer|contains: ['/admin', 'evil.example']\n"
          "  condition: 1 of them\n");

/* Whether scratches a (values recalled) and b (every value scanned) stamped the same
 * literals and woke the same rules for the event each just evaluated. */
static void same_stamps(const VgRuleSet *set, const VgRuleScratch *a, const VgRuleScratch *b,
                        const char *ua)
{
    for (int id = 0; id < set->n_lits; id++) {
        cr_assert_eq(a->lit_found[id] == a->gen, b->lit_found[id] == b->gen, "%s: literal %d", ua,
                     id);
        cr_assert_eq(a->lit_start[id] == a->gen, b->lit_start[id] == b->gen, "%s: start %d", ua,
                     id);
        cr_assert_eq(a->lit_end[id] == a->gen, b->lit_end[id] == b->gen, "%s: end %d", ua, id);
    }
    for (guint r = 0; r < set->rules->len; r++)
        cr_assert_eq(a->cand[r] == a->gen, b->cand[r] == b->gen, "%s: rule %u", ua, r);
}

/* A user agent seen before is not scanned again: its scan's reports are replayed. The
 * stamps are the scan's for every value, in any order: short ones (never kept), long ones
 * (kept) and too long ones (never kept), ones with more reports than are kept, values of
 * the same length that share a slot, the same text in two fields, and a value seen again
 * after its slot was taken by another. */
Test(sigma_prefilter, recalled_values_stamp_what_a_scan_would)
{
    VgRuleSet *set = tu_load(recall_rules);
    GPtrArray *uas = g_ptr_array_new_with_free_func(g_free);
    const char *fixed[] = {
        "curl/8.5.0",
        "python-requests/2.31.0",
        "Mozilla/5.0 (compatible; Googlebot/2.1)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "sqlmap/1.7 nikto sqlmap nikto sqlmap nikto sqlmap nikto a a a a a a (x)",
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0.0.0 Safari/537.36"),
    };
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
        g_ptr_array_add(uas, g_strdup(fixed[i]));
    /* 64 values of one length, half with a literal: some share a slot (there are 32) */
    for (int i = 0; i < 64; i++)
        g_ptr_array_add(
            uas, g_strdup_printf("okhttp/4.12.0 %s %04d android", i % 2 ? "nikto" : "build", i));
    GString *big = g_string_new("Mozilla/5.0 ");
    while (big->len < 200)
        g_string_append(big, "(compatible; x) ");
    g_string_append(big, "bot");
    g_ptr_array_add(uas, g_string_free(big, FALSE));
    uint64_t seed = 5;
    const char alphabet[] = "abcnikto/1.() ";
    for (int i = 0; i < 40; i++) { /* random ones, 16 to 60 bytes, from the literals' bytes */
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t n = 16 + (size_t)(seed >> 58);
        char *t = g_malloc(n + 1);
        for (size_t k = 0; k < n; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            t[k] = alphabet[(seed >> 40) % (sizeof alphabet - 1)];
        }
        t[n] = '\0';
        g_ptr_array_add(uas, t);
    }

    VgRuleScratch *a = vg_rule_scratch_new(set), *b = vg_rule_scratch_new(set);
    b->recall_on = false;
    VgArena arena;
    vg_arena_init(&arena, 4096);
    for (int i = 0; i < 3000; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        const char *ua = uas->pdata[(seed >> 33) % uas->len];
        const char *ref = uas->pdata[(seed >> 13) % uas->len];
        TuEvent t;
        tu_event_init(&t);
        tu_set(&t, "user_agent", ua);
        if (i % 3 == 0)
            tu_set(&t, "referer", i % 2 ? ua : ref);
        TuHits ha = {0}, hb = {0};
        vg_rule_set_eval(set, a, &t.ev, &arena, false, tu_hit, &ha);
        vg_rule_set_eval(set, b, &t.ev, &arena, false, tu_hit, &hb);
        same_stamps(set, a, b, ua);
        cr_assert_eq(ha.mask, hb.mask, "%s", ua);
        tu_event_clear(&t);
        vg_arena_reset(&arena);
    }
    vg_arena_destroy(&arena);
    vg_rule_scratch_free(a);
    vg_rule_scratch_free(b);
    g_ptr_array_free(uas, TRUE);
    vg_rule_set_free(set);
}

/* A regex whose literals are too common to scan for (`-`) and whose digit run is in most
 * ids is guarded by its shape: the shipped pack's social security number in a path wakes
 * on one, not on a UUID or a numeric id. Its query alternative keeps its own guard. */
Test(sigma_prefilter, shape_guards_a_regex_of_digits_and_dashes)
{
    VgRuleSet *set = tu_load(
        RULE1("  ssn_path:\n"
              "    path|re: "
              "'(?<![0-9])(?!000|666|9[0-9]{2})[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![0-9])'\n"
              "  ssn_query:\n"
              "    query|re: '(?<![0-9])[0-9]{3}(-|%2[dD])[0-9]{2}(-|%2[dD])[0-9]{4}(?![0-9])'\n"
              "  condition: 1 of ssn_*\n"));
    cr_assert(((SigRule *)set->rules->pdata[0])->guarded);
    cr_assert_eq(set->pf->n_shapes, 1);
    expect_seen(set, "path", "/v1/people/123-45-6789", true, true);
    /* the shape, but not a number the regex takes */
    expect_seen(set, "path", "/v1/people/000-45-6789/x", true, false);
    expect_seen(set, "path", "/v1/orders/09b8fa7f-c859-41a5-a1aa-35d37154eb45", false, false);
    expect_seen(set, "path", "/v1/customers/123456/orders", false, false);
    expect_seen(set, "path", "/v1/x/12-345-6789", false, false);
    expect_seen(set, "query", "ssn=123%2D45%2D6789", true, true);
    expect_seen(set, "query", "ssn=123-45-6789", true, true);
    vg_rule_set_free(set);
}

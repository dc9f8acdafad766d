/* bench-rules.c — Sigma matching throughput on one core, with and without the prefilter.
 *
 *   bench-rules RULES_DIR EVENTS_FILE [SECONDS] [N_RULES]
 *
 * Loads RULES_DIR (the shipped pack, say) and tops it up to N_RULES (default 200) detection
 * rules with generated rules of the pack's shapes: literal lists on path, query and user
 * agent (contains, startswith, endswith), status plus path prefix, method plus exact path,
 * a few regexes (the pack has no keyword rules, so neither do these). The pack's `expand`
 * placeholders get fixed bench values. EVENTS_FILE is decoded once with the `vigil` JSON preset
 * (e.g. scripts/gen-traffic output); then all events are matched over and over for SECONDS (default
 * 2) of thread CPU time, first with the prefilter, then without. Prints: rules.events_per_s <n>
 *   rules.events_per_s_no_prefilter <n>
 * and on stderr the rule count, guarded rules, automaton size and matches per event
 * (both runs must agree on the matches, or the bench fails). VG_BENCH_RULE_STATS=1 adds, on
 * stderr, one line per rule of RULES_DIR: how often the prefilter let it be evaluated and
 * how often it matched, in percent of the events (one pass, before the timed runs).
 */
#include "collectors/decoders.h"
#include "engine/config.h"
#include "rules/rules.h"
#include "rules/sigma.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *const words[] = {
    "shadow",  "wp-admin", "phpmyadmin", "cgi-bin", "actuator",  "console",
    "debug",   "backup",   "config",     "setup",   "install",   "server-status",
    "jmx",     "solr",     "jenkins",    "manager", "telescope", "graphql",
    "swagger", "druid",    "struts",     "xmlrpc",  "owa",       "exchange",
};

static const char *const tools[] = {
    "sqlmap", "nikto", "nmap",  "masscan",  "zgrab",      "nuclei", "gobuster", "dirbuster",
    "wfuzz",  "ffuf",  "hydra", "acunetix", "netsparker", "burp",   "arachni",  "w3af",
};

/* One generated rule of shape k (deterministic from i). */
static char *gen_rule(int i, GRand *r)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s,
                           "title: generated %d\nid: bench-%04d\nlevel: medium\n"
                           "logsource: {category: webserver}\ndetection:\n",
                           i, i);
    const char *w = words[g_rand_int_range(r, 0, G_N_ELEMENTS(words))];
    const char *t = tools[g_rand_int_range(r, 0, G_N_ELEMENTS(tools))];
    switch (i % 10) {
    case 0:
    case 1:
        g_string_append_printf(s, "  sel:\n    path|contains:\n");
        for (int k = 0; k < 4; k++)
            g_string_append_printf(s, "      - '/%s-%d-%d/'\n", w, i, k);
        break;
    case 2:
        g_string_append_printf(s,
                               "  sel:\n    user_agent|contains:\n      - '%s/%d'\n"
                               "      - '%s-%d'\n",
                               t, i, t, i);
        break;
    case 3:
        g_string_append_printf(s,
                               "  sel:\n    query|contains:\n      - '%s%d='\n"
                               "      - '%%3c%s%d'\n",
                               w, i, w, i);
        break;
    case 4:
        g_string_append_printf(s,
                               "  sel:\n    path|endswith:\n      - '.%s%d'\n"
                               "      - '/%s%d.bak'\n",
                               w, i, w, i);
        break;
    case 5:
        g_string_append_printf(s, "  sel:\n    status: 200\n    path|startswith: '/%s%d/'\n", w, i);
        break;
    case 6:
        g_string_append_printf(s, "  sel:\n    method: DELETE\n    path: '/v1/%s/%d'\n", w, i);
        break;
    case 7:
        g_string_append_printf(s, "  sel:\n    query|re|i: '(%s%d|%s_%d)=[0-9]+'\n", w, i, t, i);
        break;
    case 8:
        g_string_append_printf(s, "  sel:\n    path|re: '/%s%d/[0-9]+/(export|dump)$'\n", w, i);
        break;
    default:
        g_string_append_printf(s,
                               "  sel:\n    path|contains: '/%s%d/'\n  filter:\n"
                               "    client_ip|cidr: 10.0.0.0/8\n",
                               w, i);
        break;
    }
    g_string_append(s, i % 10 == 9 ? "  condition: sel and not filter\n" : "  condition: sel\n");
    return g_string_free(s, FALSE);
}

typedef struct {
    uint64_t n;
} Count;

static void count_cb(void *user, const VgRuleMatch *m)
{
    (void)m;
    ((Count *)user)->n++;
}

typedef struct {
    uint64_t *evaluated, *matched;
} RuleStats;

static void stats_cb(void *user, const VgRuleMatch *m)
{
    ((RuleStats *)user)->matched[m->rule]++;
}

/* Per rule: evaluated (candidate or unguarded) and matched counts over one pass. Reads the
 * scratch's candidate list, which vg_rule_set_eval leaves sorted with the unguarded rules
 * appended. */
static void rule_stats(const VgRuleSet *set, VgEvent *evs, size_t n, int first_n)
{
    VgRuleScratch *s = vg_rule_scratch_new(set);
    VgArena arena;
    vg_arena_init(&arena, 64 * 1024);
    RuleStats st = {g_new0(uint64_t, set->rules->len), g_new0(uint64_t, set->rules->len)};
    for (size_t i = 0; i < n; i++) {
        vg_rule_set_eval(set, s, &evs[i], &arena, false, stats_cb, &st);
        for (int k = 0; k < s->n_cand + set->n_unguarded; k++)
            st.evaluated[s->cand_list[k]]++;
        if ((i & 1023) == 1023)
            vg_arena_reset(&arena);
    }
    for (int r = 0; r < first_n && r < (int)set->rules->len; r++) {
        const SigRule *rule = set->rules->pdata[r];
        fprintf(stderr, "bench-rules: rule %-40s guard %-3s evaluated %6.2f%% matched %6.2f%%\n",
                rule->name ? rule->name : rule->title, rule->guarded ? "yes" : "no",
                100.0 * (double)st.evaluated[r] / (double)n,
                100.0 * (double)st.matched[r] / (double)n);
    }
    g_free(st.evaluated);
    g_free(st.matched);
    vg_arena_destroy(&arena);
    vg_rule_scratch_free(s);
}

static void rm_dir(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(dir, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(dir);
}

static double run(const VgRuleSet *set, bool prefilter, VgEvent *evs, size_t n, double budget,
                  uint64_t *matches)
{
    VgRuleScratch *s = vg_rule_scratch_new(set);
    vg_rule_scratch_set_prefilter(s, prefilter);
    VgArena arena;
    vg_arena_init(&arena, 64 * 1024);
    Count c = {0};
    uint64_t done = 0;
    double t0 = cpu_s(), t1;
    bool first = true;
    /* VG_BENCH_PASSES=n: exactly n passes (for instruction counts with perf stat) */
    const char *passes = g_getenv("VG_BENCH_PASSES");
    long left = passes ? atol(passes) : -1;
    do {
        for (size_t i = 0; i < n; i++) {
            vg_rule_set_eval(set, s, &evs[i], &arena, false, count_cb, &c);
            if ((i & 1023) == 1023)
                vg_arena_reset(&arena);
        }
        if (first) {
            *matches = c.n;
            first = false;
        }
        done += n;
        t1 = cpu_s();
    } while (left < 0 ? t1 - t0 < budget : --left > 0);
    vg_arena_destroy(&arena);
    vg_rule_scratch_free(s);
    return (double)done / (t1 - t0);
}

/* The prefilter's scan alone, events per second of thread CPU time (VG_BENCH_MODE=scan). */
static double run_scan(const VgRuleSet *set, VgEvent *evs, size_t n, double budget)
{
    VgRuleScratch *s = vg_rule_scratch_new(set);
    uint64_t done = 0;
    double t0 = cpu_s(), t1;
    do {
        for (size_t i = 0; i < n; i++) {
            if (G_UNLIKELY(++s->gen == 0)) { /* as vg_rule_set_eval's next_gen() */
                memset(s->lit_found, 0, sizeof(uint32_t) * (size_t)MAX(set->n_lits, 1));
                memset(s->lit_start, 0, sizeof(uint32_t) * (size_t)MAX(set->n_lits, 1));
                memset(s->lit_end, 0, sizeof(uint32_t) * (size_t)MAX(set->n_lits, 1));
                memset(s->cand, 0, sizeof(uint32_t) * MAX(set->rules->len, 1u));
                s->gen = 1;
            }
            sig_prefilter_scan(set->pf, s, &evs[i]);
        }
        done += n;
        t1 = cpu_s();
    } while (t1 - t0 < budget);
    vg_rule_scratch_free(s);
    return (double)done / (t1 - t0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench-rules RULES_DIR EVENTS_FILE [SECONDS] [N_RULES]\n");
        return 2;
    }
    double budget = argc > 3 ? atof(argv[3]) : 2.0;
    int want = argc > 4 ? atoi(argv[4]) : 200;
    GError *err = NULL;

    /* rules: the given directory, topped up with generated ones */
    const char *expand_yaml = "protected_prefixes: [/api/, /v1/, /v2/]\n"
                              "revoked_tokens: [key-revoked-1, key-revoked-2]\n"
                              "known_tokens: [key-live-1, key-live-2, key-live-3]\n"
                              "admin_tokens: [key-ops-1]\n";
    GPtrArray *edocs = vg_conf_load_documents(expand_yaml, strlen(expand_yaml), "bench", &err);
    VgRulesLoadOpts lo = {.expand = edocs->pdata[0]};
    GPtrArray *errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    const char *only[] = {argv[1], NULL};
    VgRuleSet *set = vg_rule_set_load(only, &lo, errors);
    for (guint i = 0; i < errors->len; i++)
        fprintf(stderr, "bench-rules: %s\n", ((GError *)errors->pdata[i])->message);
    int have = vg_rule_set_size(set);
    vg_rule_set_free(set);
    char *gen = g_dir_make_tmp("vigil-bench-rules-XXXXXX", NULL);
    GRand *r = g_rand_new_with_seed(42);
    for (int i = have; i < want; i++) {
        char *name = g_strdup_printf("%s/gen_%04d.yml", gen, i);
        char *text = gen_rule(i, r);
        g_file_set_contents(name, text, -1, NULL);
        g_free(text);
        g_free(name);
    }
    g_rand_free(r);
    const char *both[] = {argv[1], gen, NULL};
    g_ptr_array_set_size(errors, 0);
    set = vg_rule_set_load(both, &lo, errors);
    rm_dir(gen);
    g_free(gen);

    /* events */
    char *text;
    gsize size;
    if (!g_file_get_contents(argv[2], &text, &size, &err)) {
        fprintf(stderr, "bench-rules: %s\n", err->message);
        return 1;
    }
    char *buf = g_malloc0(size + VG_LINE_PADDING);
    memcpy(buf, text, size);
    g_free(text);
    vg_decoders_register_all();
    const VgDecoderOps *ops = vg_decoder_ops_vigil();
    VgInputConf conf = {.format = (char *)"vigil", .max_line_bytes = 1 << 20};
    VgDecoder *dec = ops->create(ops, &conf, &err);
    if (!dec) {
        fprintf(stderr, "bench-rules: %s\n", err->message);
        return 1;
    }
    VgArena ev_arena; /* lives as long as the events */
    vg_arena_init(&ev_arena, 1 << 20);
    GArray *evs = g_array_new(FALSE, FALSE, sizeof(VgEvent));
    size_t bad = 0;
    for (size_t i = 0; i < size && evs->len < 200000;) {
        char *nl = memchr(buf + i, '\n', size - i);
        size_t e = nl ? (size_t)(nl - buf) : size;
        if (e > i) {
            VgEvent ev;
            vg_event_reset(&ev);
            if (ops->decode(dec, buf + i, e - i, &ev, &ev_arena) == VG_BAD_NONE) {
                ev.raw = vg_str(buf + i, e - i);
                ev.decoder = NULL; /* the bench's events outlive the decoder's per-line state */
                g_array_append_val(evs, ev);
            } else {
                bad++;
            }
        }
        i = e + 1;
    }
    if (evs->len == 0) {
        fprintf(stderr, "bench-rules: no usable events in %s\n", argv[2]);
        return 1;
    }

    int guarded = 0;
    for (guint i = 0; i < set->rules->len; i++)
        guarded += ((SigRule *)set->rules->pdata[i])->guarded;
    fprintf(stderr,
            "bench-rules: %d detection rules (%d from %s, %d guarded by literals), %d literals, "
            "%zu automaton states; %u events (%zu bad lines)\n",
            vg_rule_set_size(set), have, argv[1], guarded, set->n_lits,
            sig_prefilter_states(set->pf), evs->len, bad);

    if (g_getenv("VG_BENCH_RULE_STATS"))
        rule_stats(set, (VgEvent *)evs->data, evs->len, have);

    uint64_t m_on = 0, m_off = 0;
    /* VG_BENCH_MODE=on|off runs one of the two (for profiling); scan times the scan alone */
    const char *mode = g_getenv("VG_BENCH_MODE");
    bool scan = mode && !strcmp(mode, "scan");
    if (scan)
        printf("rules.scan_events_per_s %.0f\n",
               run_scan(set, (VgEvent *)evs->data, evs->len, budget));
    bool do_on = !scan && (!mode || !strcmp(mode, "on"));
    bool do_off = !scan && (!mode || !strcmp(mode, "off"));
    double on = do_on ? run(set, true, (VgEvent *)evs->data, evs->len, budget, &m_on) : 0;
    double off = do_off ? run(set, false, (VgEvent *)evs->data, evs->len, budget, &m_off) : 0;
    if (!do_on || !do_off)
        m_on = m_off = do_on ? m_on : m_off;
    if (!scan) {
        printf("rules.events_per_s %.0f\n", on);
        printf("rules.events_per_s_no_prefilter %.0f\n", off);
        fprintf(stderr, "bench-rules: %" G_GUINT64_FORMAT " matches in %u events (both runs)\n",
                m_on, evs->len);
    }
    int rc = 0;
    if (m_on != m_off) {
        fprintf(stderr,
                "bench-rules: prefilter changed the matches: %" G_GUINT64_FORMAT
                " vs %" G_GUINT64_FORMAT "\n",
                m_on, m_off);
        rc = 1;
    }
    ops->destroy(dec);
    vg_arena_destroy(&ev_arena);
    g_array_free(evs, TRUE);
    g_free(buf);
    vg_rule_set_free(set);
    g_ptr_array_free(errors, TRUE);
    g_ptr_array_free(edocs, TRUE);
    return rc;
}

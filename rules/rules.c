/* rules.c — the "rules" detector: Sigma rules on every event, and registration.
 *
 * Config section `rules:` (vigil.yml):
 *     rules:
 *       paths: [/etc/vigil/rules, ./local.yml]   # default: the shipped packs
 *       expand: {Administrators: [admin, root]}  # values of %placeholders% (expand)
 *       max_groups: 100000                       # correlation state bound
 *
 * The detector holds one immutable VgRuleSet, the scratch to evaluate it and its own
 * correlation state (a clone of the set's correlation rules: the windows and groups of
 * this detector's events only). The set itself is shared by every detector of the process
 * built from the same rules config and file contents (vg_rule_set_load_shared: the
 * pipelines of a `vigil run` with one pipeline per Kafka partition compile the rules once);
 * it is read-only, so sharing needs no lock. A reload builds (or finds) the new set off to
 * the side (any thread), with a fresh correlation state for it, and parks both in
 * `pending`; the detector's own thread picks them up at the next event or watermark, moves
 * the correlation state of unchanged correlation rules over, and drops its reference to
 * the old set. The pipeline thread therefore never sees a half-built set and never waits
 * on a lock.
 *
 * For each match: the correlation engine gets it if a correlation references the rule;
 * the trace (explain, test-rules) hears of it; and unless only non-generating
 * correlations reference the rule, an alert goes out. Rules with `level: informational`
 * feed correlations and traces but raise no alert, as the Sigma specification says of
 * that level.
 */
#include "rules/rules.h"

#include <stdlib.h>

#include "engine/log.h"
#include "engine/registry.h"
#include "rules/correlation.h"
#include "rules/sigma.h"

#include <stdio.h>
#include <unistd.h>

typedef struct {
    char **paths;
    const VgConfNode *expand;
    int64_t max_groups;
    bool prefilter;
    bool strict;
} RulesConf;

static const VgConfOption rules_options[] = {
    {"paths", VG_CT_STRLIST, offsetof(RulesConf, paths), NULL, 0, 0, NULL, VG_CO_RELOAD, NULL,
     "Sigma rule files or directories (*.yml, *.yaml, read recursively); default: the "
     "shipped packs."},
    {"expand", VG_CT_NODE, offsetof(RulesConf, expand), NULL, 0, 0, NULL, VG_CO_RELOAD, NULL,
     "Values of the placeholders used with the expand modifier: name: [values]."},
    {"max_groups", VG_CT_INT, offsetof(RulesConf, max_groups), "100000", 1, 1e9, NULL, 0, NULL,
     "Correlation group states kept at most (the stalest are evicted)."},
    {"prefilter", VG_CT_BOOL, offsetof(RulesConf, prefilter), "true", 0, 0, NULL, 0, NULL,
     "Find all rules' literals in one pass per field and skip rules that cannot match."},
    {"strict", VG_CT_BOOL, offsetof(RulesConf, strict), "false", 0, 0, NULL, 0, NULL,
     "Refuse to start when a rule does not load (default: log it and run the others)."},
    {0},
};

typedef struct {
    VgDetector base;
    char **paths;       /* effective paths */
    VgConfNode *expand; /* our copy (reloads outlive the settings tree) */
    int64_t max_groups;
    bool prefilter;
    VgRuleSet *set;  /* shared, read-only */
    VgCorrSet *corr; /* ours: a clone of set->corr_proto (NULL: no correlation rules) */
    VgRuleScratch *scratch;
    gpointer pending; /* Pending * handed over by vg_rules_reload() */
    /* for metrics, read from other threads: generation of the set in use, its size */
    guint64 generation;
    gint n_rules, n_corr;
    int64_t last_watermark; /* correlation windows were advanced to this */
} Rules;

/* A set to take into use, with its own correlation state. */
typedef struct {
    VgRuleSet *set;
    VgCorrSet *corr;
} Pending;

static void pending_free(Pending *p)
{
    if (!p)
        return;
    vg_corr_set_free(p->corr);
    vg_rule_set_free(p->set);
    g_free(p);
}

static void publish_info(Rules *r);

/* ---- default paths ---- */

static char **default_paths;
static GOnce default_once = G_ONCE_INIT;

void vg_rules_set_default_paths(const char *const *paths)
{
    g_strfreev(default_paths);
    default_paths = paths ? g_strdupv((char **)paths) : NULL;
}

static gpointer find_packs(gpointer unused)
{
    (void)unused;
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    char **found = g_new0(char *, 2);
    if (exe) {
        char *dir = g_path_get_dirname(exe);
        const char *cands[] = {"../share/vigil/rules", "../rules/packs", "../../rules/packs"};
        for (size_t i = 0; i < G_N_ELEMENTS(cands); i++) {
            char *p = g_build_filename(dir, cands[i], NULL);
            char *real = realpath(p, NULL); /* messages name rules/packs, not build/../ */
            g_free(p);
            if (real && g_file_test(real, G_FILE_TEST_IS_DIR)) {
                found[0] = g_strdup(real);
                free(real);
                break;
            }
            free(real);
        }
        g_free(dir);
        g_free(exe);
    }
    if (!found[0]) /* no pack directory next to the binary: the compiled-in packs */
        found[0] = g_strdup("embedded:");
    return found;
}

const char *const *vg_rules_default_paths(void)
{
    if (default_paths)
        return (const char *const *)default_paths;
    return g_once(&default_once, find_packs, NULL);
}

/* ---- loading ---- */

static VgConfNode *node_clone(const VgConfNode *n)
{
    if (!n)
        return NULL;
    VgConfNode *c = g_new0(VgConfNode, 1);
    *c = *n;
    c->value = g_strdup(n->value);
    c->keys = c->items = NULL;
    if (n->kind != VG_NODE_SCALAR) {
        c->items = g_ptr_array_new_with_free_func((GDestroyNotify)vg_conf_node_free);
        for (guint i = 0; i < n->items->len; i++)
            g_ptr_array_add(c->items, node_clone(n->items->pdata[i]));
    }
    if (n->kind == VG_NODE_MAP) {
        c->keys = g_ptr_array_new_with_free_func((GDestroyNotify)vg_conf_node_free);
        for (guint i = 0; i < n->keys->len; i++)
            g_ptr_array_add(c->keys, node_clone(n->keys->pdata[i]));
    }
    return c;
}

/* Loads paths; on any error returns NULL with every message (one per line) in err. */
static VgRuleSet *load_all(const Rules *r, const char *const *paths, GError **err)
{
    GPtrArray *errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    VgRulesLoadOpts lo = {.expand = r->expand, .max_groups = r->max_groups};
    VgRuleSet *set = vg_rule_set_load_shared(paths, &lo, errors);
    GString *msg = g_string_new(NULL);
    for (guint i = 0; i < errors->len; i++) {
        const GError *e = errors->pdata[i];
        if (e->code != VG_ENOENT) /* inactive rules (no expand list yet) are not errors */
            g_string_append_printf(msg, "%s%s", msg->len ? "\n" : "", e->message);
    }
    if (msg->len) {
        g_set_error_literal(err, VG_ERROR, VG_ECONFIG, msg->str);
        vg_rule_set_free(set);
        set = NULL;
    }
    g_string_free(msg, TRUE);
    g_ptr_array_free(errors, TRUE);
    return set;
}

/* On the detector's thread: evaluate set (our reference) from now on, with corr (ours) as
 * the correlation state; the previous ones are dropped. */
static void use_set(Rules *r, VgRuleSet *set, VgCorrSet *corr)
{
    vg_rule_scratch_free(r->scratch);
    vg_corr_set_free(r->corr);
    vg_rule_set_free(r->set);
    r->set = set;
    r->corr = corr;
    r->scratch = vg_rule_scratch_new(set);
    vg_rule_scratch_set_prefilter(r->scratch, r->prefilter);
    publish_info(r);
}

static void rules_destroy(VgDetector *d)
{
    Rules *r = (Rules *)d;
    if (!r)
        return;
    pending_free(g_atomic_pointer_exchange(&r->pending, NULL));
    vg_rule_scratch_free(r->scratch);
    vg_corr_set_free(r->corr);
    vg_rule_set_free(r->set);
    g_strfreev(r->paths);
    vg_conf_node_free(r->expand);
    g_free(r);
}

/* True unless the last rule set built in this process had exactly these load errors. */
static bool report_once(const GPtrArray *errors)
{
    static GMutex lock;
    static char *last;
    GString *sig = g_string_new(NULL);
    for (guint i = 0; i < errors->len; i++) {
        g_string_append(sig, ((const GError *)errors->pdata[i])->message);
        g_string_append_c(sig, '\n');
    }
    g_mutex_lock(&lock);
    bool fresh = !last || strcmp(last, sig->str) != 0;
    if (fresh) {
        g_free(last);
        last = g_string_free(sig, FALSE);
    } else {
        g_string_free(sig, TRUE);
    }
    g_mutex_unlock(&lock);
    return fresh;
}

static VgDetector *rules_create(const VgDetectorOps *ops, const VgConfNode *section, GError **err)
{
    RulesConf conf = {0};
    Rules *r = g_new0(Rules, 1);
    r->base.ops = ops;
    r->last_watermark = INT64_MIN;
    if (vg_conf_apply(rules_options, &conf, section, err) != VG_OK)
        goto fail;
    r->paths = conf.paths ? g_strdupv(conf.paths) : g_strdupv((char **)vg_rules_default_paths());
    r->expand = node_clone(conf.expand);
    r->max_groups = conf.max_groups;
    r->prefilter = conf.prefilter;

    GPtrArray *errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    VgRulesLoadOpts lo = {.expand = r->expand, .max_groups = r->max_groups};
    VgRuleSet *set = vg_rule_set_load_shared((const char *const *)r->paths, &lo, errors);
    guint broken = 0;
    const GError *first = NULL;
    GString *inactive = g_string_new(NULL);
    for (guint i = 0; i < errors->len; i++) {
        const GError *e = errors->pdata[i];
        if (e->code == VG_ENOENT) { /* waits for a rules.expand list: not broken */
            const char *base = strrchr(e->message, '/');
            const char *colon = strchr(base ? base : e->message, ':');
            g_string_append_printf(inactive, "%s%.*s", inactive->len ? "," : "",
                                   (int)(colon - (base ? base + 1 : e->message)),
                                   base ? base + 1 : e->message);
            continue;
        }
        if (!broken++)
            first = e;
    }
    /* one process takes the same rules several times (a pipeline per worker or per Kafka
     * partition; a shared set hands its findings to every taker): logged once */
    if (errors->len && report_once(errors)) {
        for (guint i = 0; i < errors->len; i++) {
            const GError *e = errors->pdata[i];
            if (e->code != VG_ENOENT)
                vg_log_warn("rule not loaded", "error", e->message);
        }
        if (inactive->len)
            vg_log_info("rules inactive until their rules.expand lists are set (vigil check "
                        "tells which list)",
                        "rules", inactive->str);
    }
    g_string_free(inactive, TRUE);
    if (broken && conf.strict) {
        g_set_error(err, VG_ERROR, VG_ECONFIG, "%s (and %u more rule errors; rules.strict)",
                    first->message, broken - 1);
        g_ptr_array_free(errors, TRUE);
        vg_rule_set_free(set);
        goto fail;
    }
    g_ptr_array_free(errors, TRUE);
    use_set(r, set, vg_corr_set_clone(set->corr_proto));
    vg_conf_clear(rules_options, &conf);
    return &r->base;
fail:
    vg_conf_clear(rules_options, &conf);
    rules_destroy(&r->base);
    return NULL;
}

/* Any thread: parks set, with a correlation state of its own, for the detector's thread. */
static void hand_over(Rules *r, VgRuleSet *set)
{
    Pending *p = g_new(Pending, 1);
    p->set = set;
    p->corr = vg_corr_set_clone(set->corr_proto);
    pending_free(g_atomic_pointer_exchange(&r->pending, p));
}

int vg_rules_reload(VgDetector *d, const char *const *paths, GError **err)
{
    Rules *r = (Rules *)d;
    VgRuleSet *set = load_all(r, paths ? paths : (const char *const *)r->paths, err);
    if (!set)
        return VG_ECONFIG;
    if (paths) { /* remember them for the next reload (this thread owns r->paths' value) */
        char **old = r->paths;
        r->paths = g_strdupv((char **)paths);
        g_strfreev(old);
    }
    hand_over(r, set);
    return VG_OK;
}

int vg_rules_reconfigure(VgDetector *d, const VgConfNode *section, GError **err)
{
    Rules *r = (Rules *)d;
    RulesConf conf = {0};
    if (vg_conf_apply(rules_options, &conf, section, err) != VG_OK) {
        vg_conf_clear(rules_options, &conf);
        return VG_ECONFIG;
    }
    char **paths =
        conf.paths ? g_strdupv(conf.paths) : g_strdupv((char **)vg_rules_default_paths());
    VgConfNode *old_expand = r->expand;
    r->expand = node_clone(conf.expand); /* load_all reads the lists from r */
    VgRuleSet *set = load_all(r, (const char *const *)paths, err);
    vg_conf_clear(rules_options, &conf);
    if (!set) {
        vg_conf_node_free(r->expand);
        r->expand = old_expand;
        g_strfreev(paths);
        return VG_ECONFIG;
    }
    vg_conf_node_free(old_expand);
    g_strfreev(r->paths);
    r->paths = paths;
    hand_over(r, set);
    return VG_OK;
}

/* On the detector's thread: start using a set handed over by a reload. */
static void publish_info(Rules *r)
{
    g_atomic_int_set(&r->n_rules, vg_rule_set_size(r->set));
    g_atomic_int_set(&r->n_corr, vg_rule_set_n_correlations(r->set));
    __atomic_add_fetch(&r->generation, 1, __ATOMIC_RELAXED);
}

const VgRuleSet *vg_rules_set(VgDetector *d)
{
    return ((Rules *)d)->set;
}

void vg_rules_info(VgDetector *d, uint64_t *generation, int *n_rules, int *n_correlations)
{
    Rules *r = (Rules *)d;
    *generation = __atomic_load_n(&r->generation, __ATOMIC_RELAXED);
    *n_rules = g_atomic_int_get(&r->n_rules);
    *n_correlations = g_atomic_int_get(&r->n_corr);
}

static void take_pending(Rules *r)
{
    if (G_LIKELY(!g_atomic_pointer_get(&r->pending)))
        return;
    Pending *p = g_atomic_pointer_exchange(&r->pending, NULL);
    if (!p)
        return;
    if (p->corr && r->corr) {
        int kept = vg_corr_set_adopt(p->corr, r->corr);
        char buf[16];
        snprintf(buf, sizeof buf, "%d", kept);
        vg_log_info("rules reloaded", "correlations_kept", buf);
    }
    use_set(r, p->set, p->corr);
    g_free(p);
}

/* ---- per event ---- */

typedef struct {
    Rules *r;
    const VgEvent *ev;
    VgDetectCtx *ctx;
    const VgCorrKeys *keys; /* the current match's, worked out ahead, or NULL */
} MatchCtx;

/* What a match does: feeds its correlations, then (unless its correlations suppress it, or it
 * is informational) raises its own alert. */
static void on_match(MatchCtx *mc, const VgRuleMatch *m)
{
    const VgEvent *ev = mc->ev;
    VgDetectCtx *ctx = mc->ctx;
    VgCorrSet *corr = mc->r->corr;
    if (corr && vg_corr_set_wants(corr, m->rule))
        vg_corr_set_on_match_keyed(corr, m->rule, ev, ctx, mc->keys);
    bool trace = ctx->trace && ctx->trace->rule_match;
    bool alerts = !(corr && vg_corr_set_suppresses(corr, m->rule)) && m->severity != VG_SEV_INFO;
    if (!trace && !alerts)
        return; /* most matches: a correlation's base rule, or an informational one */
    /* the identifiers that matched name what the match was; found now, for this match only */
    const char *const *names = NULL;
    int n_names =
        vg_rule_set_selections(mc->r->set, mc->r->scratch, m->rule, ev, ctx->arena, &names);
    if (trace)
        ctx->trace->rule_match(ctx->trace->user, m->rule_id, m->title, names, n_names);
    if (!alerts)
        return;

    char sel[160] = "";
    size_t used = 0;
    for (int i = 0; i < n_names && used + 2 < sizeof sel; i++)
        used += (size_t)snprintf(sel + used, sizeof sel - used, "%s%s", i ? ", " : "", names[i]);
    VgStr method = ev->method.p ? ev->method : VG_STR_LIT("-");
    VgStr path = ev->path.p ? ev->path : VG_STR_LIT("-");
    VgStr ip = ev->client_ip.p ? ev->client_ip : VG_STR_LIT("unknown");
    char reason[512];
    snprintf(reason, sizeof reason, "Rule \"%.120s\" matched %.*s %.*s from %.*s (%s)", m->title,
             (int)MIN(method.len, 16u), method.p, (int)MIN(path.len, 200u), path.p,
             (int)MIN(ip.len, 64u), ip.p, sel);
    VgAlert a = {
        .rule_id = m->rule_id,
        .rule_name = m->title,
        .rule_category = "sigma",
        .ruleset = m->ruleset,
        .severity = (VgSeverity)m->severity,
        .start_ms = ev->time_ms,
        .end_ms = ev->time_ms,
        .entity_type = vg_str_present(ev->token) ? "token" : "client_ip",
        .token = ev->token,
        .client_ip = ev->client_ip,
        .endpoint = ev->endpoint,
        .user = ev->user,
        .method = ev->method,
        .path = ev->path,
        .query = ev->query,
        .host = ev->host,
        .reason = reason,
    };
    if (vg_str_present(ev->request_id)) {
        a.samples[0] = ev->request_id;
        a.n_samples = 1;
    }
    vg_alert_emit(ctx, &a);
}

static void advance(Rules *r, VgDetectCtx *ctx)
{
    if (r->corr && ctx->watermark != r->last_watermark) {
        r->last_watermark = ctx->watermark;
        vg_corr_set_advance(r->corr, ctx);
    }
}

/* Matches first, then what they do: on_match() may evaluate a rule again (its selections),
 * which must not happen inside vg_rule_set_eval() on the same scratch. */
static void on_event_now(Rules *r, const VgEvent *ev, VgDetectCtx *ctx)
{
    VgRulesMatched mt;
    vg_rules_match(&r->base, r->scratch, ev, ctx->arena, &mt);
    vg_rules_apply(&r->base, ev, &mt, ctx);
}

static void rules_on_event(VgDetector *d, const VgEvent *ev, VgDetectCtx *ctx)
{
    Rules *r = (Rules *)d;
    take_pending(r);
    on_event_now(r, ev, ctx);
}

/* The one-thread pipeline's look-ahead (detector.h): the matches and their correlation
 * keys are worked out when the event is decoded, a reload is taken then too, and an event
 * prepared with the set a reload replaced is evaluated again at its turn. */
typedef struct {
    VgRulesMatched mt;
    guint64 generation; /* of the set that matched */
} RulesPrep;

static void rules_prepare(VgDetector *d, const VgEvent *ev, VgArena *arena, void *prep)
{
    Rules *r = (Rules *)d;
    take_pending(r);
    RulesPrep *rp = prep;
    rp->generation = r->generation;
    vg_rules_match(d, r->scratch, ev, arena, &rp->mt);
}

static void rules_prefetch(VgDetector *d, const void *prep, int stage)
{
    const RulesPrep *rp = prep;
    if (rp->generation == ((Rules *)d)->generation)
        vg_rules_prefetch(d, &rp->mt, stage);
}

static void rules_on_prepared(VgDetector *d, const VgEvent *ev, const void *prep, VgDetectCtx *ctx)
{
    Rules *r = (Rules *)d;
    const RulesPrep *rp = prep;
    if (rp->generation == r->generation)
        vg_rules_apply(d, ev, &rp->mt, ctx);
    else
        on_event_now(r, ev, ctx);
}

static void rules_on_watermark(VgDetector *d, VgDetectCtx *ctx)
{
    Rules *r = (Rules *)d;
    take_pending(r);
    if (r->corr) {
        r->last_watermark = ctx->watermark;
        vg_corr_set_advance(r->corr, ctx);
    }
}

static void rules_finish(VgDetector *d, VgDetectCtx *ctx)
{
    Rules *r = (Rules *)d;
    take_pending(r);
    if (r->corr)
        vg_corr_set_finish(r->corr, ctx);
}

/* Checkpoints: detection rules are stateless; the state is the correlations' windows
 * (correlation-snapshot.c) and the watermark they were advanced to. */
static int rules_snapshot(VgDetector *d, GByteArray *out)
{
    Rules *r = (Rules *)d;
    take_pending(r);
    g_byte_array_append(out, (const guint8 *)&r->last_watermark, sizeof r->last_watermark);
    return vg_corr_set_snapshot(r->corr, out);
}

static int rules_restore(VgDetector *d, const void *data, size_t len, GError **err)
{
    Rules *r = (Rules *)d;
    take_pending(r);
    int64_t wm;
    if (len < sizeof wm) {
        g_set_error(err, VG_ERROR, VG_EINVAL, "rules snapshot: truncated");
        return VG_EINVAL;
    }
    memcpy(&wm, data, sizeof wm);
    const uint8_t *p = (const uint8_t *)data + sizeof wm;
    if (!r->corr) {
        /* no correlation rules now: whatever state there was has no rule to belong to */
        return VG_OK;
    }
    int dropped = 0;
    int rc = vg_corr_set_restore(r->corr, p, len - sizeof wm, &dropped, err);
    if (rc != VG_OK)
        return rc;
    r->last_watermark = wm;
    if (dropped) {
        char buf[16];
        snprintf(buf, sizeof buf, "%d", dropped);
        vg_log_info("checkpoint: state of changed or removed correlation rules left out", "rules",
                    buf);
    }
    return VG_OK;
}

const VgDetectorOps vg_rules_detector_ops = {
    .name = "rules",
    .summary = "Sigma detection, correlation and filter rules (rules/packs by default)",
    .create = rules_create,
    .on_event = rules_on_event,
    .prep_size = sizeof(RulesPrep),
    .prepare = rules_prepare,
    .prefetch = rules_prefetch,
    .on_prepared = rules_on_prepared,
    .on_watermark = rules_on_watermark,
    .finish = rules_finish,
    .destroy = rules_destroy,
    .snapshot = rules_snapshot,
    .restore = rules_restore,
};

void vg_rules_register(void)
{
    vg_register_detector(&vg_rules_detector_ops);
}

/* ---- the parallel pipeline's halves (engine/pipeline-par.c) ---- */

VgRuleScratch *vg_rules_scratch(VgDetector *d)
{
    Rules *r = (Rules *)d;
    VgRuleScratch *s = vg_rule_scratch_new(r->set);
    vg_rule_scratch_set_prefilter(s, r->prefilter);
    return s;
}

typedef struct {
    VgArena *arena;
    VgRuleMatch *m;
    int n, cap;
} Collect;

static void collect_match(void *user, const VgRuleMatch *m)
{
    Collect *c = user;
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 4;
        VgRuleMatch *nm = vg_arena_alloc(c->arena, (size_t)cap * sizeof *nm);
        if (c->n)
            memcpy(nm, c->m, (size_t)c->n * sizeof *nm);
        c->m = nm;
        c->cap = cap;
    }
    c->m[c->n++] = *m; /* no selections: on_match() finds them if the match needs them */
}

void vg_rules_match(VgDetector *d, VgRuleScratch *s, const VgEvent *ev, VgArena *arena,
                    VgRulesMatched *out)
{
    Rules *r = (Rules *)d;
    Collect c = {.arena = arena};
    vg_rule_set_eval(r->set, s, ev, arena, false, collect_match, &c);
    out->m = c.m;
    out->n = c.n;
    out->keys = NULL;
    if (!r->corr || !c.n)
        return;
    out->keys = vg_arena_alloc(arena, (size_t)c.n * sizeof *out->keys);
    for (int i = 0; i < c.n; i++)
        out->keys[i] = vg_corr_set_keys(r->corr, c.m[i].rule, ev, arena);
}

void vg_rules_prefetch(VgDetector *d, const VgRulesMatched *mt, int stage)
{
    Rules *r = (Rules *)d;
    if (stage == VG_RULES_PREFETCH_MATCHES) {
        if (mt->keys)
            vg_prefetch_range(mt->keys, (size_t)mt->n * sizeof *mt->keys);
        vg_prefetch_range(mt->m, (size_t)mt->n * sizeof *mt->m);
        return;
    }
    for (int i = 0; mt->keys && i < mt->n; i++) {
        if (stage == VG_RULES_PREFETCH_KEYS)
            vg_corr_keys_prefetch(mt->keys[i]);
        else
            vg_corr_set_prefetch(r->corr, mt->keys[i], stage);
    }
}

void vg_rules_apply(VgDetector *d, const VgEvent *ev, const VgRulesMatched *mt, VgDetectCtx *ctx)
{
    Rules *r = (Rules *)d;
    MatchCtx mc = {r, ev, ctx, NULL};
    for (int i = 0; i < mt->n; i++) {
        mc.keys = mt->keys ? mt->keys[i] : NULL;
        on_match(&mc, &mt->m[i]);
    }
    advance(r, ctx);
}

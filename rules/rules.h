/* rules.h — analysts' rules: Sigma detection and correlation rules.
 *
 * A VgRuleSet is loaded from files and directories of Sigma YAML (detection rules,
 * correlation rules, filters) and never changes afterwards; a broken rule is reported and
 * left out, it never takes the others down. Evaluating an event needs a VgRuleScratch,
 * which belongs to one thread. The "rules" detector (registered by vg_rules_register())
 * wraps a set, raises alerts and swaps in a new set on reload.
 *
 * The functions below are what the CLI needs: `vigil check` loads and prints the errors,
 * `vigil test-rules` evaluates events one by one and prints which rule and which
 * selections matched.
 */
#ifndef VG_RULES_H
#define VG_RULES_H

#include "engine/detector.h"
#include "rules/correlation.h"

typedef struct VgRuleSet VgRuleSet;
typedef struct VgRuleScratch VgRuleScratch;

void vg_rules_register(void);

/* The shipped packs the detector loads when the config names no `paths` (the engine sets
 * this at start-up, e.g. to <prefix>/share/vigil/rules or the source tree's rules/packs).
 * The array is copied. NULL clears it. */
void vg_rules_set_default_paths(const char *const *paths);
/* The paths used when the config names none: those set above, else the first of
 * <exe>/../share/vigil/rules and <exe>/../rules/packs (a build directory inside the source
 * tree) that exists. NULL-terminated, owned by the library; may be empty. */
const char *const *vg_rules_default_paths(void);

typedef struct {
    /* `expand` placeholders: a map node name -> value or list of values (may be NULL). */
    const VgConfNode *expand;
    /* correlation state limit (0: the correlation engine's default) */
    int64_t max_groups;
} VgRulesLoadOpts;

/* Loads every rule of paths (files, or directories read recursively: *.yml and *.yaml in
 * sorted order). Every problem is appended to errors (GError *, message
 * "file:line:col: reason"; create the array with g_error_free as its free function), and
 * the rules that are fine are loaded anyway. Never returns NULL; free with
 * vg_rule_set_free(). opts may be NULL. */
VgRuleSet *vg_rule_set_load(const char *const *paths, const VgRulesLoadOpts *opts,
                            GPtrArray *errors);
/* Like vg_rule_set_load, but if a set built from the same paths, options and file contents
 * (byte for byte) is alive in this process, that set is returned, referenced, with the
 * errors its loading reported, instead of compiling the files again (rules/sigma-share.c).
 * A set is read-only: share it between threads, not its VgRuleScratch. */
VgRuleSet *vg_rule_set_load_shared(const char *const *paths, const VgRulesLoadOpts *opts,
                                   GPtrArray *errors);
/* Drops a reference; the last one frees the set. NULL is fine. */
void vg_rule_set_free(VgRuleSet *set);

/* Number of detection rules, and what they are called. */
int vg_rule_set_size(const VgRuleSet *set);
int vg_rule_set_n_correlations(const VgRuleSet *set);
const char *vg_rule_set_rule_id(const VgRuleSet *set, int i); /* Sigma id, else the title */
const char *vg_rule_set_rule_title(const VgRuleSet *set, int i);

typedef struct {
    int rule;            /* index in the set */
    const char *rule_id; /* Sigma id, else the title */
    const char *title;
    const char *ruleset; /* pack directory or file name */
    int severity;        /* VgSeverity */
    /* names of the search identifiers that were true (only when asked for); valid until
     * the next evaluation with the same scratch */
    const char *const *selections;
    int n_selections;
} VgRuleMatch;

typedef void (*VgRuleMatchFn)(void *user, const VgRuleMatch *m);

/* Scratch state for evaluating events against set, for one thread. */
VgRuleScratch *vg_rule_scratch_new(const VgRuleSet *set);
void vg_rule_scratch_free(VgRuleScratch *s);
/* The literal prefilter is on by default; turning it off gives the same answers, slower
 * (benchmarks and self-checks). */
void vg_rule_scratch_set_prefilter(VgRuleScratch *s, bool on);

/* Evaluates every detection rule on ev and calls fn for each match, in rule order.
 * Temporary strings go to arena (may be NULL only if no rule needs one: pass one).
 * Returns the number of matches. */
int vg_rule_set_eval(const VgRuleSet *set, VgRuleScratch *s, const VgEvent *ev, VgArena *arena,
                     bool want_selections, VgRuleMatchFn fn, void *user);
/* The names of the search identifiers of rule (an index in set) that are true on ev, as
 * vg_rule_set_eval() gives them with want_selections; their number. *out is valid until the
 * next evaluation with s. For a match found without them (the detector asks for them only
 * when the match is about to be explained: an alert of its own, or a trace). */
int vg_rule_set_selections(const VgRuleSet *set, VgRuleScratch *s, int rule, const VgEvent *ev,
                           VgArena *arena, const char *const **out);

/* Like vg_rules_reload, with a new `rules:` section (paths and expand lists): what SIGHUP
 * does after re-reading vigil.yml. Call it on the thread that runs the detector. On any
 * error the running set, paths and lists stay and VG_ECONFIG is returned. */
int vg_rules_reconfigure(VgDetector *d, const VgConfNode *section, GError **err);

/* The rule set d evaluates now (shared with the other detectors of the same rules; valid
 * until d takes a reloaded one), for tests and tools. */
const VgRuleSet *vg_rules_set(VgDetector *d);

/* What the running rule set is, for metrics: generation counts the sets taken into use
 * (1 at start, +1 per reload), n_rules and n_correlations its size. Any thread. */
void vg_rules_info(VgDetector *d, uint64_t *generation, int *n_rules, int *n_correlations);

/* The "rules" detector. */
extern const VgDetectorOps vg_rules_detector_ops;

/* Loads paths (NULL: the paths the detector was configured with) into a new set and, if it
 * loaded without any error, hands it to the detector, which starts using it at the next
 * event (the swap happens on the detector's own thread). On any error the old set stays,
 * err says why (all messages, one per line) and VG_ECONFIG is returned. Safe to call from
 * another thread than the one running the detector. */
int vg_rules_reload(VgDetector *d, const char *const *paths, GError **err);

/* The pipelines split rules_on_event in two. vg_rules_match is the stateless half: it
 * evaluates the detection rules on ev with a scratch of the calling thread (from
 * vg_rules_scratch, one per thread, freed with vg_rule_scratch_free), and works out what
 * the correlations fed by each match need of the event (vg_corr_set_keys); all of it goes
 * in arena. Any thread, concurrently. vg_rules_apply is the rest, on the detector's thread,
 * for every event in input order: correlations, traces and alerts from those matches,
 * exactly as on_event would; vg_rules_prefetch, a few events before, asks for the
 * correlation groups it will touch (stages as vg_corr_set_prefetch). None of them takes a
 * reloaded set, so a detector used this way must not be reloaded (the one-thread pipeline
 * goes through the detector's prepare ops, which do take reloads). */
typedef struct {
    VgRuleMatch *m;
    const VgCorrKeys **keys; /* per match: its correlations' keys, or NULL */
    int n;
} VgRulesMatched;

VgRuleScratch *vg_rules_scratch(VgDetector *d);
void vg_rules_match(VgDetector *d, VgRuleScratch *s, const VgEvent *ev, VgArena *arena,
                    VgRulesMatched *out);
void vg_rules_prefetch(VgDetector *d, const VgRulesMatched *mt, int stage);
/* Stages before 0, for matches another thread made: first the match and key arrays, then
 * the keys they point to (each a step before the next reads them). */
enum { VG_RULES_PREFETCH_MATCHES = -2, VG_RULES_PREFETCH_KEYS = -1 };
void vg_rules_apply(VgDetector *d, const VgEvent *ev, const VgRulesMatched *mt, VgDetectCtx *ctx);

#endif

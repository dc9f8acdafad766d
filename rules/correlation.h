/* correlation.h — Sigma correlation rules (event_count, value_count, temporal,
 * temporal_ordered, value_sum, value_avg) evaluated over sliding event-time windows.
 *
 * Contract between the Sigma detection engine (sigma-*.c) and the correlation engine
 * (correlation*.c):
 *   - the Sigma loader reads every YAML document; a document with a `correlation:` key is
 *     handed to vg_corr_rule_parse();
 *   - once all documents are loaded, vg_corr_set_new() takes the correlation rules and
 *     resolves their `rules:` references (id or name) through the loader's resolver, and
 *     against each other for chained correlations;
 *   - per event, for every detection rule idx that matched and that the set wants
 *     (vg_corr_set_wants), the detector calls vg_corr_set_on_match(); correlation alerts go
 *     out through vg_alert_emit(ctx, ...);
 *   - a detection rule referenced only by correlations that do not `generate` raises no
 *     alert of its own (vg_corr_set_suppresses).
 * State (one entry per rule and group-by value) is bounded by VgCorrLimits.
 */
#ifndef VG_CORRELATION_H
#define VG_CORRELATION_H

#include "engine/config.h"
#include "engine/detector.h"

typedef struct VgCorrRule VgCorrRule;
typedef struct VgCorrSet VgCorrSet;

/* Parses one correlation document. NULL and err ("file:line:col: reason") on error. */
VgCorrRule *vg_corr_rule_parse(const VgConfNode *doc, GError **err);
void vg_corr_rule_free(VgCorrRule *r);
const char *vg_corr_rule_id(const VgCorrRule *r);
const char *vg_corr_rule_name(const VgCorrRule *r); /* may be NULL */
const char *vg_corr_rule_title(const VgCorrRule *r);
/* The references of `rules:` (ids or names), NULL-terminated, owned by r. */
const char *const *vg_corr_rule_refs(const VgCorrRule *r);

/* Resolves a reference (a detection rule's id or name) to its index, or -1 if unknown. */
typedef int (*VgCorrResolve)(void *user, const char *ref);

typedef struct {
    int64_t max_groups; /* group states across all correlation rules; oldest evicted first
                         * (<= 0: 100000) */
    int64_t max_bytes;  /* memory of those states, same eviction (<= 0: 256 MiB) */
} VgCorrLimits;

/* Takes ownership of the VgCorrRule pointers in rules (the array itself stays the caller's).
 * NULL and err on an unknown reference or a reference cycle. n_det is the number of
 * detection rules (indexes 0..n_det-1). */
VgCorrSet *vg_corr_set_new(GPtrArray *rules, int n_det, VgCorrResolve resolve, void *user,
                           const VgCorrLimits *lim, GError **err);
bool vg_corr_set_wants(const VgCorrSet *s, int det_idx);
bool vg_corr_set_suppresses(const VgCorrSet *s, int det_idx);
void vg_corr_set_on_match(VgCorrSet *s, int det_idx, const VgEvent *ev, VgDetectCtx *ctx);
/* What the correlations fed by detection rule det_idx need of ev, worked out ahead of
 * vg_corr_set_on_match_keyed (when the event is decoded, on any thread: it reads only the
 * set's rules): per correlation, the event's group key and its hash, and the value it
 * counts or sums. Made in arena; NULL when det_idx feeds no correlation. */
typedef struct VgCorrKeys VgCorrKeys;
const VgCorrKeys *vg_corr_set_keys(const VgCorrSet *s, int det_idx, const VgEvent *ev,
                                   VgArena *arena);
/* Prefetch hints for the groups keys name, some events before they are fed: stage 0 the
 * index slots, stage 1 (later) the groups. On the set's thread. */
void vg_corr_set_prefetch(const VgCorrSet *s, const VgCorrKeys *keys, int stage);
/* A hint for keys themselves, before stage 0 reads them, when another thread made them. */
void vg_corr_keys_prefetch(const VgCorrKeys *keys);
/* vg_corr_set_on_match with ev's keys from vg_corr_set_keys of this set (NULL: none). */
void vg_corr_set_on_match_keyed(VgCorrSet *s, int det_idx, const VgEvent *ev, VgDetectCtx *ctx,
                                const VgCorrKeys *keys);
/* The watermark moved: close and expire windows that ended before it. */
void vg_corr_set_advance(VgCorrSet *s, VgDetectCtx *ctx);
/* End of input: evaluate what is still open. */
void vg_corr_set_finish(VgCorrSet *s, VgDetectCtx *ctx);
void vg_corr_set_free(VgCorrSet *s);

/* ---- additions by the correlation engine (beyond the original contract) ---- */

/* Counters for metrics; groups and bytes are current, the others cumulative. */
typedef struct {
    int64_t groups, bytes;
    uint64_t groups_created;
    uint64_t evicted;        /* dropped to stay within VgCorrLimits */
    uint64_t expired;        /* dropped (or judged and dropped) as the watermark passed */
    uint64_t windows_closed; /* closed windows judged (lt/lte/eq/neq/range conditions) */
    uint64_t fired;          /* correlation matches, including quiet (chained) ones */
    uint64_t alerts;         /* alerts raised */
    uint64_t late;           /* matches of late events, ignored */
    uint64_t ungrouped;      /* matches lacking a group-by field, ignored */
} VgCorrStats;
void vg_corr_set_stats(const VgCorrSet *s, VgCorrStats *out);

/* Where alerts go: vg_alert_emit() unless set (tests, `vigil test-rules`). */
typedef void (*VgCorrEmit)(void *user, VgDetectCtx *ctx, const VgAlert *a);
void vg_corr_set_set_emit(VgCorrSet *s, VgCorrEmit emit, void *user);

/* Like vg_corr_set_new(), but a rule that cannot be built (unknown reference, cycle, bad
 * alias, duplicate id) is left out, with its error appended to errors (GError *), and so
 * is every correlation that then refers to a missing rule: one broken rule does not take
 * the others down. Never returns NULL (the set may be empty). */
VgCorrSet *vg_corr_set_new_partial(GPtrArray *rules, int n_det, VgCorrResolve resolve, void *user,
                                   const VgCorrLimits *lim, GPtrArray *errors);

/* The pack or file the rule came from, for the alert's rule.ruleset (copied). */
void vg_corr_rule_set_ruleset(VgCorrRule *r, const char *ruleset);

/* Number of correlation rules in s, and the i-th one (owned by s). */
int vg_corr_set_size(const VgCorrSet *s);
const VgCorrRule *vg_corr_set_rule(const VgCorrSet *s, int i);

/* Reload: moves the window state of every rule of old whose id and whole document are
 * unchanged (so its references, group-by, timespan and condition are too) into s, which
 * must be fresh (no events yet); old's groups of those rules are emptied. Returns the
 * number of rules whose state was kept. old may be NULL. */
int vg_corr_set_adopt(VgCorrSet *s, VgCorrSet *old);

/* A fresh set (no groups, no counters) running the same rules, wired the same way, as
 * proto, whose VgCorrRules it reads: proto must outlive it and its rules must not change
 * (the rules belong to proto, the state to the clone). This is how detectors sharing one
 * compiled rule set each keep their own windows. NULL if proto is NULL. */
VgCorrSet *vg_corr_set_clone(const VgCorrSet *proto);

/* Checkpoints (correlation-snapshot.c): appends the open windows of every rule to out.
 * s may be NULL (an empty snapshot). Returns VG_OK. */
int vg_corr_set_snapshot(const VgCorrSet *s, GByteArray *out);
/* Loads a snapshot into s, which must be fresh (no events yet). The state of a rule whose
 * id or document changed since is left out and counted in *dropped (may be NULL). On a
 * corrupt or foreign snapshot VG_EINVAL and err, and s is left empty (still usable). */
int vg_corr_set_restore(VgCorrSet *s, const void *data, size_t len, int *dropped, GError **err);

#endif

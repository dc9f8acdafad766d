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
    int64_t max_groups; /* group states across all correlation rules; oldest evicted first */
} VgCorrLimits;

/* Takes ownership of the VgCorrRule pointers in rules (the array itself stays the caller's).
 * NULL and err on an unknown reference or a reference cycle. n_det is the number of
 * detection rules (indexes 0..n_det-1). */
VgCorrSet *vg_corr_set_new(GPtrArray *rules, int n_det, VgCorrResolve resolve, void *user,
                           const VgCorrLimits *lim, GError **err);
bool vg_corr_set_wants(const VgCorrSet *s, int det_idx);
bool vg_corr_set_suppresses(const VgCorrSet *s, int det_idx);
void vg_corr_set_on_match(VgCorrSet *s, int det_idx, const VgEvent *ev, VgDetectCtx *ctx);
/* The watermark moved: close and expire windows that ended before it. */
void vg_corr_set_advance(VgCorrSet *s, VgDetectCtx *ctx);
/* End of input: evaluate what is still open. */
void vg_corr_set_finish(VgCorrSet *s, VgDetectCtx *ctx);
void vg_corr_set_free(VgCorrSet *s);

#endif

/* correlation-set.h — the insides of a VgCorrSet, shared by correlation-set.c (running),
 * correlation-build.c (building) and correlation-alert.c (alerts). */
#ifndef VG_CORRELATION_SET_H
#define VG_CORRELATION_SET_H

#include "rules/correlation-int.h"

/* What a group keeps, decided per rule at build time (see correlation-window.c). */
typedef enum {
    CORR_ST_TIMES,     /* sliding event_count, threshold <= VG_CORR_EXACT_MAX */
    CORR_ST_RECENT,    /* sliding value_count, threshold <= VG_CORR_EXACT_MAX */
    CORR_ST_SLIDE_HLL, /* sliding value_count beyond */
    CORR_ST_BUCKETS,   /* sliding event_count beyond, value_sum, value_avg */
    CORR_ST_LAST,      /* temporal, temporal_ordered (both modes) */
    CORR_ST_DISTINCT,  /* closed value_count */
    CORR_ST_TOTALS,    /* closed event_count, value_sum, value_avg */
} CorrStateKind;

/* Group-by values up to this many bytes (with their '\0's) live in the group itself, so a
 * look-up that finds its group reads one cache line of it. */
#define CORR_KEY_INLINE 40

typedef struct CorrGroup CorrGroup;
struct CorrGroup {
    /* what a look-up compares, in the first cache line */
    uint64_t hash;
    uint32_t rule, key_len;
    char *key; /* group-by values, each followed by '\0': key_inline or allocated */
    char key_inline[CORR_KEY_INLINE];
    uint32_t key_cap;       /* bytes allocated for key; 0 while it is key_inline */
    bool pinned;            /* a firing of this group is in progress: not to be evicted */
    bool moved_on;          /* sliding: used since it took its list place (relinked lazily) */
    CorrGroup *prev, *next; /* the rule's list, least recently used first (see moved_on) */
    uint64_t touch;
    int64_t first_ms, last_ms; /* window start (closed) and newest event */
    int64_t quiet_until;       /* sliding: no new alert before this event time */
    int64_t count;             /* events in the window */
    double sum;
    VgCorrBuf a, b;
    union {
        VgCorrTimes times;
        VgCorrRecent recent;
        VgCorrSlideHll slide;
        VgCorrBuckets buckets;
        VgCorrDistinct distinct;
        int64_t *last; /* per referenced rule (see feed()) */
    } u;
};

/* How to read one field for one referenced rule. */
typedef struct {
    VgFieldId id; /* canonical field, or VG_F_EXTRA: dotted path name */
    char *name;
    size_t len;
    int child; /* chained reference: index in the child's group-by, or -1 */
} CorrGetter;

typedef struct {
    int rule, pos; /* correlation index in the set, position in its `rules:` */
} CorrListener;

typedef struct {
    VgCorrRule *r;
    CorrStateKind state;
    bool sliding;    /* judged per event (lower bounds only) */
    bool quiet;      /* referenced by a correlation that does not `generate`: no alerts */
    int64_t k;       /* smallest count that satisfies the condition */
    int *ref_det;    /* per position: detection rule index, or -1 */
    int *ref_corr;   /* per position: correlation index, or -1 */
    CorrGetter *get; /* n_refs * (n_group + n_fields) */
    size_t n_get;
    GArray *parents;         /* CorrListener: correlations fed by this one's matches */
    VgFieldId *entity_field; /* per group-by: canonical field the value is, or VG_F_EXTRA */
    const char *entity_type; /* static string or owned (entity_type_owned) */
    char *entity_type_owned;
    CorrGroup *head, *tail;
    int64_t n_groups;
    /* Expiry has nothing to do while the watermark is at or below this: the end of the
     * window of the head, found live by the last expiry walk. INT64_MIN (walk again)
     * whenever the head changes or is used; see expire_rule(). */
    int64_t live_until;
    /* the last event counted, to count an event matching two referenced rules once */
    const VgEvent *last_ev;
    const char *last_raw;
    uint64_t last_line;
    int64_t last_time, last_off;
} CorrRuleState;

typedef struct {
    uint64_t hash;
    CorrGroup *g; /* NULL: empty slot */
} CorrSlot;

struct VgCorrSet {
    CorrRuleState *rules;
    int n_rules;
    bool rules_borrowed; /* a clone: the VgCorrRules are its prototype's */
    int *order;          /* children before parents */
    int n_det;
    GArray **det_listeners; /* per detection rule: CorrListener array, or NULL */
    bool *det_suppressed;
    CorrSlot *index; /* every group by (hash, rule, key): open addressing, linear probing */
    uint32_t index_mask, index_n;
    int64_t n_groups, max_groups, bytes, max_bytes;
    CorrGroup *free_list;
    int n_free;
    uint64_t touch;
    GString *key, *val, *text;
    GString *group; /* "field=value, …" of the firing group, for VgAlert.group (lazy) */
    VgArena arena;  /* dotted-path look-ups when the context has no arena */
    /* Expiry has nothing to do in any rule while the watermark is at or below this: the
     * least of the rules' live_until (INT64_MIN: walk them). */
    int64_t live_until;
    VgCorrStats stats;
    VgCorrEmit emit;
    void *emit_user;
};

/* A match to report. */
typedef struct {
    const VgCorrRule *r;
    const char *entity_type;
    const VgFieldId *entity_field;
    const char *key;
    uint32_t key_len;
    double observed;
    int64_t start_ms, end_ms;
    const VgEvent *ev;      /* the event that completed it, or NULL (closed window) */
    const int64_t *matched; /* temporal: per referenced rule, INT64_MIN if not matched */
} VgCorrFiring;

/* Builds the alert for f and emits it (correlation-alert.c). */
void vg_corr_alert(VgCorrSet *s, const VgCorrFiring *f, VgDetectCtx *ctx);

/* Groups (correlation-set.c). */
void vg_corr_index_init(VgCorrSet *s);
/* Frees a group no longer in the set (its buffers, its key if allocated). */
void vg_corr_group_free(CorrGroup *g);
/* Finds or creates the group of rule for key; *created says it is new, its window
 * starting at t. May evict other groups to stay within the limits. */
CorrGroup *vg_corr_group_get(VgCorrSet *s, int rule, const char *key, uint32_t key_len, int64_t t,
                             bool *created);
void vg_corr_group_release(VgCorrSet *s, CorrGroup *g);
/* The groups of a rule from the least to the most recently used (NULL after the last);
 * for snapshots and reloads, which must not lose the order the lazy moves leave open. */
const CorrGroup *vg_corr_first_by_use(const CorrRuleState *rs);
const CorrGroup *vg_corr_next_by_use(const CorrRuleState *rs, const CorrGroup *g);
/* Copies the window state of src (a group of an equal rule in another set) into dst. */
void vg_corr_group_copy(VgCorrSet *s, CorrGroup *dst, const CorrGroup *src);
void vg_corr_set_clear_groups(VgCorrSet *s);

#endif

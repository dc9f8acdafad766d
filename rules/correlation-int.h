/* correlation-int.h — what the correlation files share and nobody else sees.
 *
 * correlation-parse.c turns a YAML document into a VgCorrRule (pure data, locations
 * kept for later errors); correlation-set.c resolves references, keeps the per-group state
 * and decides when a rule fires; correlation-window.c holds the window primitives (sorted
 * timestamp rings, recent-distinct sets, HyperLogLog, sub-bucket rings) that make a group's
 * state bounded; correlation-alert.c turns a firing into a VgAlert with a readable reason.
 */
#ifndef VG_CORRELATION_INT_H
#define VG_CORRELATION_INT_H

#include "rules/correlation.h"

typedef enum {
    VG_CORR_EVENT_COUNT,
    VG_CORR_VALUE_COUNT,
    VG_CORR_TEMPORAL,
    VG_CORR_TEMPORAL_ORDERED,
    VG_CORR_VALUE_SUM,
    VG_CORR_VALUE_AVG,
} VgCorrType;

typedef enum { VG_CMP_GT, VG_CMP_GTE, VG_CMP_LT, VG_CMP_LTE, VG_CMP_EQ, VG_CMP_NEQ } VgCorrCmp;

/* Where something was written, for errors raised after the tree is gone (the file name
 * is interned by the config loader and lives as long as the process). */
typedef struct {
    const char *file;
    int line, col;
} VgCorrLoc;

typedef struct {
    VgCorrCmp op;
    double v;
} VgCorrBound;

/* aliases: <alias>: {<rule ref>: <field>} flattened to one row per (alias, rule). */
typedef struct {
    char *alias, *rule, *field;
    VgCorrLoc loc; /* of the rule key */
} VgCorrAlias;

/* Hard limits of the language as vigil implements it. */
#define VG_CORR_MAX_REFS   64 /* temporal keeps a 64-bit mask / one slot per rule */
#define VG_CORR_MAX_GROUP  8  /* group-by fields */
#define VG_CORR_MAX_FIELDS 8  /* value_count fields */

struct VgCorrRule {
    char *id, *name, *title; /* title always set */
    char *ruleset;           /* pack or file, for alerts (may be NULL) */
    int level;               /* VgSeverity, or -1 when the document has none */
    char **tags;             /* NULL-terminated */
    bool generate;
    VgCorrType type;
    char **refs; /* NULL-terminated */
    VgCorrLoc *ref_loc;
    int n_refs;
    char **group_by; /* NULL-terminated, may be empty */
    int n_group;
    int64_t timespan_ms;
    char *timespan_text; /* as written, for reasons ("5m") */
    VgCorrBound bounds[6];
    int n_bounds;
    bool has_condition;
    char **fields; /* condition.field (value_* types), NULL-terminated */
    int n_fields;
    VgCorrAlias *aliases;
    int n_aliases;
    VgCorrLoc loc;              /* of the document */
    VgCorrLoc id_loc, name_loc; /* of the id and name values (else the document) */
    uint64_t digest;            /* hash of the document's content, to keep state across reloads */
};

bool vg_corr_cond_holds(const VgCorrRule *r, double x);
/* The smallest whole count that satisfies every lower bound (at least 1). */
int64_t vg_corr_cond_min_count(const VgCorrRule *r);
/* True when the condition only has lower bounds (gt/gte): it can be judged as soon as an
 * event arrives, on a sliding window. Anything else is judged when a window closes. */
bool vg_corr_cond_is_lower(const VgCorrRule *r);
/* "> 20", "> 100 and <= 200"; appended to out. */
void vg_corr_cond_format(const VgCorrRule *r, GString *out);
const char *vg_corr_type_name(VgCorrType t);

/* ---- window primitives (correlation-window.c) ----
 *
 * All of them live in one growable byte buffer owned by the group, so a recycled group
 * reuses its memory and the steady state allocates nothing. */

#define VG_CORR_EXACT_MAX   256 /* counts up to this are kept exactly on a sliding window */
#define VG_CORR_SUBBUCKETS  64  /* sub-buckets of a sliding window for sums and big counts */
#define VG_CORR_HLL_P       10  /* 1024 registers: ~3.3% standard error */
#define VG_CORR_HLL_M       (1u << VG_CORR_HLL_P)
#define VG_CORR_SLIDE_HLLS  16 /* sub-window sketches for sliding distinct counts > EXACT_MAX */
#define VG_CORR_SLIDE_HLL_P 8  /* 256 registers each: ~6.5% standard error */

typedef struct {
    uint8_t *p;
    size_t cap;
} VgCorrBuf;

void *vg_corr_buf_need(VgCorrBuf *b, size_t n); /* zeroed n bytes (grows, keeps capacity) */
void vg_corr_buf_free(VgCorrBuf *b);

/* Sorted ring of the k most recent timestamps (k = capacity). */
typedef struct {
    int64_t *t; /* sorted ascending, n used */
    uint32_t n, k;
} VgCorrTimes;
void vg_corr_times_add(VgCorrTimes *r, int64_t t);
/* How many of the kept timestamps are >= from. */
uint32_t vg_corr_times_since(const VgCorrTimes *r, int64_t from);

/* The k most recently seen distinct values (by 64-bit hash) with their last-seen time. */
typedef struct {
    uint64_t h;
    int64_t t;
} VgCorrSeen;
typedef struct {
    VgCorrSeen *e;
    uint32_t n, k;
} VgCorrRecent;
void vg_corr_recent_add(VgCorrRecent *s, uint64_t h, int64_t t);
uint32_t vg_corr_recent_since(const VgCorrRecent *s, int64_t from, int64_t *oldest);

/* Sub-bucket ring: nb buckets of width w ms, each with a count and a sum. */
typedef struct {
    int64_t id; /* bucket number (time / w), INT64_MIN when empty */
    int64_t count;
    double sum;
} VgCorrBucket;
typedef struct {
    VgCorrBucket *b;
    uint32_t nb;
    int64_t w, span;
} VgCorrBuckets;
/* b must point at vg_corr_buckets_geometry()'s nb buckets. */
void vg_corr_buckets_init(VgCorrBuckets *r, int64_t span_ms);
void vg_corr_buckets_add(VgCorrBuckets *r, int64_t t, double v);
/* Totals of the buckets overlapping [t - span, t]; oldest is the first such bucket's start. */
void vg_corr_buckets_sum(const VgCorrBuckets *r, int64_t t, int64_t *count, double *sum,
                         int64_t *oldest);
/* Bucket geometry for a timespan. */
void vg_corr_buckets_geometry(int64_t span_ms, int64_t *w, uint32_t *nb);

/* HyperLogLog with 2^p one-byte registers. */
void vg_corr_hll_add(uint8_t *reg, int p, uint64_t h);
double vg_corr_hll_estimate(const uint8_t *reg, int p);
/* Estimate of the union of n sketches (register-wise max). */
double vg_corr_hll_union_estimate(const uint8_t *const *regs, int n, int p);

/* Exact distinct set (open addressing over 64-bit hashes; 0 means empty, so hashes are
 * forced non-zero) for closed windows; it turns into a HyperLogLog when it outgrows
 * VG_CORR_EXACT_MAX. Start from a zeroed struct; slots and sketch provide the memory. */
typedef struct {
    uint64_t *slot; /* VG_CORR_DISTINCT_SLOTS slots, NULL after the switch */
    uint32_t n;
    uint8_t *hll; /* VG_CORR_HLL_M registers once switched */
} VgCorrDistinct;
#define VG_CORR_DISTINCT_SLOTS (2 * VG_CORR_EXACT_MAX)
void vg_corr_distinct_add(VgCorrDistinct *d, VgCorrBuf *slots, VgCorrBuf *sketch, uint64_t h);
double vg_corr_distinct_count(const VgCorrDistinct *d);

/* Sliding distinct count beyond VG_CORR_EXACT_MAX: VG_CORR_SLIDE_HLLS sub-window sketches
 * whose union over the window is estimated. */
typedef struct {
    int64_t id[VG_CORR_SLIDE_HLLS]; /* sub-window number, INT64_MIN when empty */
    uint8_t *reg;                   /* VG_CORR_SLIDE_HLLS * 2^VG_CORR_SLIDE_HLL_P */
    int64_t w, span;
} VgCorrSlideHll;
void vg_corr_slide_init(VgCorrSlideHll *s, uint8_t *mem, int64_t span_ms);
void vg_corr_slide_add(VgCorrSlideHll *s, int64_t t, uint64_t h);
double vg_corr_slide_estimate(const VgCorrSlideHll *s, int64_t t, int64_t *oldest);
#define VG_CORR_SLIDE_BYTES ((size_t)VG_CORR_SLIDE_HLLS << VG_CORR_SLIDE_HLL_P)

#endif

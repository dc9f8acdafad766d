/* sigma-prefilter.h — the prefilter's tables, shared by sigma-prefilter.c (building them
 * from a rule set) and sigma-scan.c (reading them per event). Nobody else sees them. */
#ifndef VG_SIGMA_PREFILTER_H
#define VG_SIGMA_PREFILTER_H

#include "rules/sigma.h"

typedef struct {
    int nclasses;
    uint32_t cls_off[256]; /* input byte -> its class's byte offset in a row (folded) */
    uint32_t *delta;       /* state s's row at byte s * row_bytes; entry: next row's offset */
    uint32_t row_bytes;
    uint32_t n_states;
    uint32_t shallow_off; /* rows below: the root and the plain states one byte deep */
    uint32_t accept_off;  /* rows from here on: states that end a literal */
    uint32_t *out_off;    /* per state: literals ending here, in out_ids */
    uint32_t *out_len;
    int32_t *out_ids;
    uint32_t starts[2048]; /* bit b0 | b1 << 8: a literal starts with bytes b0 b1, or is b0 */
} Dfa;

/* A digit-run pseudo-literal: found when field has a run of at least min ASCII digits. */
typedef struct {
    int field;
    uint32_t min;
    int32_t id;
    int next_field; /* index of the first entry of the next field (or n_digits) */
} DigitLit;

/* A shape pseudo-literal: found when field contains the shape (sig_shape_in). */
typedef struct {
    int field;
    int32_t id;
    SigShape shape;
} ShapeLit;

/* A status pseudo-literal: found when the event's status is value. */
typedef struct {
    int64_t value;
    int32_t id;
} StatusLit;

struct SigPrefilter {
    Dfa *dfa[SIG_N_SCAN_FIELDS]; /* NULL: no literals on that field */
    int n_fields;                /* the fields that have an automaton, in order */
    int fields[SIG_N_SCAN_FIELDS];
    size_t offsets[SIG_N_SCAN_FIELDS]; /* of their VgStr in VgEvent */
    uint32_t *lit_len;
    uint32_t *rule_off; /* per guard element (literal, position): rules, in rule_ids */
    uint32_t *rule_len;
    int32_t *rule_ids;
    uint8_t *pos_rules; /* per literal: bit p when rules want it at position p (not ANY) */
    DigitLit *digits;   /* sorted by field, then min */
    int n_digits;
    StatusLit *status; /* one per status value a rule compares with (a handful) */
    int n_status;
    ShapeLit *shapes; /* one per (field, shape) of the regexes without scanned literals */
    int n_shapes;
    bool recall[SIG_N_SCAN_FIELDS]; /* fields whose values repeat (sigma-scan.c) */
};

/* A guard element: literal id and where it must be found. */
enum { POS_ANY, POS_START, POS_END, POS_EXACT, POS__COUNT };

static inline int32_t guard_elem(int32_t id, int pos)
{
    return id * POS__COUNT + pos;
}

#endif

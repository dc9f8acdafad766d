/* sigma.h — the inside of the Sigma detection engine, shared by the rules/sigma-*.c files.
 *
 * A rule set is built once, off to the side, and never changed afterwards: loading
 * (sigma-load.c) turns YAML documents into rules; every `field|modifiers: values` entry is
 * compiled (sigma-value.c, sigma-string.c) into a SigTest, every search identifier into a
 * small AND/OR tree of tests (sigma-detection.c), the condition into an AST
 * (sigma-cond.c). The prefilter (sigma-prefilter.c) then collects the literal strings of
 * all rules per field into one Aho-Corasick automaton per field, and works out for each
 * rule a guard: a set of literals at least one of which must occur for the rule to be able
 * to match. Per event, one pass per field over the automaton says which literals occur
 * (anywhere, at the start, at the end), which answers most string tests outright and lets
 * the matcher (sigma-eval.c) skip every rule whose guard is absent.
 *
 * Everything an evaluation writes lives in a SigScratch (generation-stamped arrays, so
 * nothing is cleared per event) owned by one thread; the set itself is read-only and may
 * be shared.
 */
#ifndef VG_SIGMA_H
#define VG_SIGMA_H

#include "engine/arena.h"
#include "engine/config.h"
#include "engine/event.h"
#include "rules/rules.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* The raw log line (keyword search) is field number VG_F__COUNT for the prefilter. */
#define SIG_FIELD_RAW     VG_F__COUNT
#define SIG_N_SCAN_FIELDS (VG_F__COUNT + 1)

/* Expansion limits: a value may expand into at most this many alternatives (windash,
 * expand, base64offset); beyond it the rule is rejected rather than silently truncated. */
#define SIG_MAX_ALTERNATIVES 4096

/* ---- Sigma strings (sigma-string.c) --------------------------------------------------- */

/* A value after escape processing: bytes plus, per byte, whether it is a wildcard. */
typedef struct {
    char *s;
    uint8_t *wild; /* 0, or '*' / '?' for a wildcard byte */
    size_t len;
} SigStr;

void sig_str_parse(SigStr *out, const char *text, size_t len); /* applies the escape table */
void sig_str_plain(SigStr *out, const char *text, size_t len); /* no wildcards at all */
void sig_str_copy(SigStr *out, const SigStr *in);
void sig_str_clear(SigStr *s);
bool sig_str_has_wild(const SigStr *s);
void sig_str_wrap(SigStr *s, bool star_front, bool star_back);

/* Transformations; each replaces the array of SigStr in place (alternatives multiply).
 * They return false and set err (located at n) when the value cannot be transformed. */
bool sig_str_base64(GArray *vals, bool offsets, const VgConfNode *n, GError **err);
bool sig_str_utf16(GArray *vals, int kind, const VgConfNode *n, GError **err); /* see .c */
bool sig_str_windash(GArray *vals, const VgConfNode *n, GError **err);
bool sig_str_expand(GArray *vals, GHashTable *placeholders, const VgConfNode *n, GError **err);

/* ASCII case folding table (only A-Z change). */
extern const uint8_t sig_fold[256];

/* ---- patterns and tests (sigma-value.c) ----------------------------------------------- */

typedef enum {
    SIG_PAT_EXACT,
    SIG_PAT_PREFIX,
    SIG_PAT_SUFFIX,
    SIG_PAT_CONTAINS,
    SIG_PAT_ANY, /* `*`: any present value */
    SIG_PAT_GLOB,
} SigPatKind;

typedef enum { SIG_TOK_LIT, SIG_TOK_STAR, SIG_TOK_QMARK } SigTokKind;

typedef struct {
    uint8_t kind;
    uint32_t off, len; /* literal: bytes in the pattern's buffer */
} SigTok;

typedef struct {
    uint8_t kind; /* SigPatKind */
    bool cased;
    char *lit; /* EXACT/PREFIX/SUFFIX/CONTAINS: the literal; GLOB: all literal bytes */
    uint32_t lit_len;
    SigTok *toks; /* GLOB only */
    int n_toks;
    int32_t lit_id;   /* prefilter literal answering this pattern, or -1 */
    int32_t guard_id; /* prefilter literal that must be present (GLOB), or -1 */
    bool has_num;     /* the literal is a number: compared numerically on numeric fields */
    bool num_is_int;
    int64_t num_i;
    double num_d;
} SigPattern;

typedef enum { SIG_CMP_EQ, SIG_CMP_LT, SIG_CMP_LTE, SIG_CMP_GT, SIG_CMP_GTE } SigCmp;

typedef struct {
    uint8_t cmp; /* SigCmp */
    bool is_int;
    int64_t i;
    double d;
} SigNum;

/* Whether c, a value compared with a bound (< 0 below it, 0 at it, > 0 above it),
 * satisfies the comparison cmp (SigCmp). */
static inline bool sig_cmp_holds(int c, uint8_t cmp)
{
    switch (cmp) {
    case SIG_CMP_LT:
        return c < 0;
    case SIG_CMP_LTE:
        return c <= 0;
    case SIG_CMP_GT:
        return c > 0;
    case SIG_CMP_GTE:
        return c >= 0;
    default:
        return c == 0;
    }
}

typedef struct {
    uint8_t family; /* 4 or 6 */
    uint8_t prefix;
    uint8_t addr[16];
} SigCidr;

typedef enum {
    SIG_DATE_NONE,
    SIG_DATE_MINUTE,
    SIG_DATE_HOUR,
    SIG_DATE_DAY,
    SIG_DATE_WEEK,
    SIG_DATE_MONTH,
    SIG_DATE_YEAR,
} SigDatePart;

/* Where a test reads its value. */
typedef struct {
    int id;     /* VgFieldId, SIG_FIELD_RAW, or VG_F_EXTRA */
    char *name; /* as written in the rule (for messages and dotted look-ups) */
    uint32_t name_len;
} SigField;

typedef enum {
    SIG_T_STR,      /* string patterns (wildcards, modifiers) */
    SIG_T_NULL,     /* field absent or null */
    SIG_T_EXISTS,   /* exists: true/false */
    SIG_T_NUM,      /* lt/lte/gt/gte, date parts */
    SIG_T_CIDR,     /* cidr */
    SIG_T_RE,       /* re */
    SIG_T_FIELDREF, /* fieldref */
} SigTestKind;

/* Tests sigma-eval.c answers on its short path. */
typedef enum {
    SIG_FAST_NONE,
    SIG_FAST_STR,     /* string patterns on a scanned field */
    SIG_FAST_INT,     /* integer equality on an integer field */
    SIG_FAST_INT_CMP, /* integer comparisons (lt, lte, gt, gte) on an integer field */
    SIG_FAST_RE,      /* regexes on a scanned field with literal pre-checks */
    SIG_FAST_PRESENT, /* null / exists on a canonical field (never JSON null) */
} SigFast;

typedef struct {
    SigField field;
    uint8_t kind;     /* SigTestKind */
    uint8_t fast;     /* SigFast */
    uint8_t datepart; /* SigDatePart, for SIG_T_NUM */
    bool all;         /* values joined with AND instead of OR */
    bool neg;         /* neq: the field is present and matches none of the values */
    bool exists;      /* SIG_T_EXISTS */
    int n;            /* number of values */
    SigPattern *pats; /* SIG_T_STR; SIG_T_FIELDREF (pattern kind = shape, lit unused) */
    SigField *refs;   /* SIG_T_FIELDREF */
    SigNum *nums;
    SigCidr *cidrs;
    pcre2_code **res;
    char **re_src;     /* SIG_T_RE: the patterns as written (NULL-terminated) */
    bool re_caseless;  /* re|i */
    bool re_luhn;      /* re|luhn: a match counts only if its digits pass the Luhn check */
    int32_t **re_lits; /* per pattern: prefilter literals it needs one of (NULL: unknown) */
    int *re_n_lits;
    int *re_min_digits;  /* per pattern: a match contains a run of this many digits */
    GPtrArray **re_need; /* per pattern: literals (GString, folded) one of which a match
                          * contains, too common to scan for: searched in the value */
    int32_t *re_shape;   /* per pattern: the prefilter's shape pseudo-literal, or -1 */
} SigTest;

/* Options the compilation needs from the loader. */
typedef struct {
    GHashTable *placeholders; /* name -> GPtrArray of char* (the `expand` config) */
} SigCompileOpts;

/* Compiles one `key: value` entry of a search identifier (key "" or "|mods" for
 * keywords). Returns NULL and sets err on error. */
SigTest *sig_test_compile(const VgConfNode *key, const VgConfNode *val, const SigCompileOpts *o,
                          GError **err);
/* A keyword (fieldless) value of a list or scalar identifier. */
SigTest *sig_test_keyword(const VgConfNode *val, GError **err);
void sig_test_free(SigTest *t);

/* Literals (ASCII-folded) of which a match of the regex must contain one: a GPtrArray of
 * GString, or NULL when nothing can be said (sigma-relit.c). *min_digits gets the length
 * of a run of ASCII digits every match contains (0: none known). */
GPtrArray *sig_re_required(const char *pattern, bool caseless, int *min_digits);
void sig_re_required_free(GPtrArray *lits);

/* A shape: bytes every match of a regex contains in a row, where '\0' stands for any
 * ASCII digit ("DDD-DD-DDDD" for a US social security number), for the regexes whose
 * literals are too common to scan for (sigma-relit.c). */
#define SIG_SHAPE_MAX 32
typedef struct {
    uint8_t len;
    char c[SIG_SHAPE_MAX];
} SigShape;

/* The longest shape of the regex that holds a digit and another byte; false if there is
 * none or nothing can be said. */
bool sig_re_shape(const char *pattern, bool caseless, SigShape *out);
/* Whether p[0 .. n - 1] contains the shape. */
bool sig_shape_in(const SigShape *sh, const char *p, size_t n);

/* ---- detection trees and conditions (sigma-detection.c, sigma-cond.c) ----------------- */

typedef enum { SIG_N_AND, SIG_N_OR, SIG_N_TEST } SigNodeKind;

typedef struct SigNode {
    uint8_t kind;
    int n;
    struct SigNode **kids;
    SigTest *test;
} SigNode;

typedef enum { SIG_C_AND, SIG_C_OR, SIG_C_NOT, SIG_C_IDENT, SIG_C_FALSE } SigCondKind;

typedef struct SigCond {
    uint8_t kind;
    int ident; /* SIG_C_IDENT */
    int n;
    struct SigCond **kids;
} SigCond;

/* A detection section (of a rule or of a filter): named search identifiers and the
 * condition over them. */
typedef struct {
    int n_idents;
    char **names;
    SigNode **nodes;
    SigCond *cond;
} SigDetection;

bool sig_detection_compile(SigDetection *d, const VgConfNode *map, const char *const *skip_keys,
                           const VgConfNode *cond_node, const SigCompileOpts *o, GError **err);
void sig_detection_clear(SigDetection *d);

/* Parses a condition (one string) over the identifiers of d. NULL and err on error; n
 * locates messages. */
SigCond *sig_cond_parse(const char *text, const SigDetection *d, const VgConfNode *n, GError **err);
void sig_cond_free(SigCond *c);

/* ---- rules and sets ------------------------------------------------------------------- */

typedef struct {
    char *id;   /* Sigma id, or NULL */
    char *name; /* Sigma name, or NULL */
    char *title;
    char *ruleset;
    char *file;
    int line;
    int severity; /* VgSeverity */
    char **tags;  /* NULL-terminated, may be empty */
    SigDetection det;
    SigDetection **filters; /* borrowed from the set */
    int n_filters;
    /* prefilter guard: the rule can match only if one of these literals is present */
    bool guarded;
    int32_t *guard;
    int n_guard;
} SigRule;

typedef struct SigPrefilter SigPrefilter;

struct VgRuleSet {
    GPtrArray *rules;   /* SigRule *, index = detection rule index */
    GPtrArray *filters; /* SigDetection * */
    SigPrefilter *pf;
    int32_t *unguarded; /* rules without a guard, evaluated on every event */
    int n_unguarded;
    /* the correlation rules, resolved and wired, but never fed: whoever runs them runs a
     * vg_corr_set_clone() of it, so the set stays read-only and shareable */
    struct VgCorrSet *corr_proto;
    int max_idents;
    int n_lits;
    pcre2_match_context *mctx;
    /* sharing (sigma-share.c) */
    gint refs;
    bool cached;            /* in the process's cache under key */
    uint8_t key[32];        /* SHA-256 of what it was built from (cached sets) */
    GPtrArray *load_errors; /* GError *: what building it reported (cached sets) */
};

typedef struct SigRecall SigRecall;

/* Per-thread evaluation state. */
struct VgRuleScratch {
    const VgRuleSet *set;
    uint32_t gen;      /* per event */
    uint32_t eval_gen; /* per detection block evaluated */
    uint32_t *lit_found, *lit_start, *lit_end;
    uint32_t *cand;
    int32_t *cand_list; /* rules stamped in cand this event, in discovery order */
    int n_cand;
    uint32_t *memo_gen;
    uint8_t *memo_val;
    const char **sel; /* selection names of the last match */
    pcre2_match_data *md;
    bool prefilter; /* use the prefilter (default); off for measurements and checks */
    const VgEvent *ev;
    VgArena *arena;
    bool scanned; /* the prefilter ran for this event */
    /* longest digit run per field, computed lazily, or by the prefilter's scan (exact
     * from the shortest run a regex on the field needs up; below it otherwise) */
    uint32_t drun_gen[SIG_N_SCAN_FIELDS];
    uint32_t drun[SIG_N_SCAN_FIELDS];
    /* values of repetitive fields scanned recently, and what their scans reported
     * (sigma-scan.c); rec: the one being recorded */
    SigRecall *recall;
    SigRecall *rec;
    bool recall_on; /* (default; off for checks) */
};

/* Tests (sigma-test.c): the general path, and direct pattern matching on bytes. */
bool sig_test_slow(const SigTest *t, VgRuleScratch *s);
bool sig_pat_direct(const SigPattern *p, const char *h, size_t hn);

/* A string pattern against the text of a scanned field: the prefilter's stamps answer
 * (or at least rule out) most patterns. */
static inline bool sig_pat_scanned(const SigPattern *p, const char *h, size_t hn,
                                   const VgRuleScratch *s)
{
    uint32_t g = s->gen;
    if (p->lit_id >= 0) {
        int32_t id = p->lit_id;
        bool r;
        switch (p->kind) {
        case SIG_PAT_CONTAINS:
            r = s->lit_found[id] == g;
            break;
        case SIG_PAT_PREFIX:
            r = s->lit_start[id] == g;
            break;
        case SIG_PAT_SUFFIX:
            r = s->lit_end[id] == g;
            break;
        default: /* EXACT */
            r = s->lit_start[id] == g && hn == p->lit_len;
            break;
        }
        if (!r || !p->cased)
            return r;
    } else if (p->guard_id >= 0 && s->lit_found[p->guard_id] != g) {
        return false;
    }
    return sig_pat_direct(p, h, hn);
}

/* Evaluation (sigma-eval.c). */
bool sig_detection_eval(const SigDetection *d, VgRuleScratch *s);
bool sig_rule_eval(const SigRule *r, VgRuleScratch *s);

/* Prefilter (sigma-prefilter.c). Gives every string pattern of the set's rules and
 * filters its literal id, computes each rule's guard and builds one automaton per field.
 * Sets set->pf and set->n_lits. */
void sig_prefilter_build(VgRuleSet *set);
void sig_prefilter_free(SigPrefilter *pf);
/* Scans the fields of ev, stamping found literals and candidate rules in s
 * (sigma-scan.c). */
void sig_prefilter_scan(const SigPrefilter *pf, VgRuleScratch *s, const VgEvent *ev);
/* The longest run of ASCII digits in p[0 .. n - 1] among those of at least kmin >= 1
 * (shorter runs may count as 0; with kmin 1, exact). */
uint32_t sig_digit_run(const char *p, size_t n, uint32_t kmin);
/* The scratch's memory of values scanned (sig_prefilter_scan), and its release. */
SigRecall *sig_recall_new(void);
void sig_recall_free(SigRecall *r);
/* Test helper: number of automaton states per field, for the bench's report. */
size_t sig_prefilter_states(const SigPrefilter *pf);

/* Where string field f lives in VgEvent (the hot paths read it directly rather than
 * through a call per field). f must be a string field. */
static inline size_t sig_str_offset(int f)
{
    switch (f) {
    case VG_F_CLIENT_IP:
        return offsetof(VgEvent, client_ip);
    case VG_F_METHOD:
        return offsetof(VgEvent, method);
    case VG_F_SCHEME:
        return offsetof(VgEvent, scheme);
    case VG_F_HOST:
        return offsetof(VgEvent, host);
    case VG_F_PATH:
        return offsetof(VgEvent, path);
    case VG_F_ENDPOINT:
        return offsetof(VgEvent, endpoint);
    case VG_F_QUERY:
        return offsetof(VgEvent, query);
    case VG_F_USER_AGENT:
        return offsetof(VgEvent, user_agent);
    case VG_F_REFERER:
        return offsetof(VgEvent, referer);
    case VG_F_TOKEN:
        return offsetof(VgEvent, token);
    case VG_F_USER:
        return offsetof(VgEvent, user);
    default:
        return offsetof(VgEvent, request_id);
    }
}

/* How much a literal narrows things down, for choosing between requirements: its length,
 * except that a lone character found in almost every URL counts for less, and one that
 * ordinary requests hardly ever carry (a quote, a backtick, an angle bracket: what
 * injections are made of) for more than a two-letter word such as "or" or "id". */
static inline double sig_lit_weight(const char *p, size_t n)
{
    if (n == 1 && (strchr("/.-_=&:;, %+0123456789", p[0]) != NULL))
        return 0.5;
    if (n == 1 && p[0] != '\0' && strchr("'\"`<>$\\{}^~", p[0]) != NULL)
        return 2.5;
    return (double)n;
}

/* Value access shared by the matcher and the prefilter. */
bool sig_field_is_scannable(int id);
void sig_field_get(const SigField *f, const VgEvent *ev, VgArena *arena, VgValue *out);

/* Loads rules from YAML text in memory (tests, fuzzing); as vg_rule_set_load(). */
VgRuleSet *sig_rule_set_load_text(const char *text, size_t len, const char *name,
                                  const VgRulesLoadOpts *opts, GPtrArray *errors);

/* Sharing (sigma-share.c). A key is the SHA-256 of everything a set is built from;
 * sig_key_add() feeds it one length-prefixed piece. */
GChecksum *sig_key_new(const char *const *paths, const VgRulesLoadOpts *opts);
void sig_key_add(GChecksum *k, const char *p, size_t len);
void sig_key_add_errors(GChecksum *k, const GPtrArray *errors, guint from);
/* The live set cached under key, with a reference taken for the caller; NULL if none. */
VgRuleSet *sig_share_find(const uint8_t key[32]);
/* Caches set (built from set->key; its only reference the caller's) and returns it, or,
 * if another thread cached one under the same key meanwhile, frees set and returns that
 * one, referenced. */
VgRuleSet *sig_share_add(VgRuleSet *set);
/* Frees a set whose last reference went (sigma-load.c). */
void sig_rule_set_destroy(VgRuleSet *set);

/* Compile-time helpers shared by files. */
void sig_rule_free(SigRule *r);
bool sig_parse_number(const char *s, size_t len, SigNum *out);

#endif

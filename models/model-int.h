/* model-int.h — what the files of models/ share: configuration, the per-kind entry
 * layout, the keyed state table and the detector itself.
 *
 * Shape of the state (this is also the order a snapshot walks it in):
 *
 *   VgModels
 *   ├── conf                       parsed `models:` section (model-config.c)
 *   ├── kinds[4]                   token, endpoint, token_endpoint, client_ip
 *   │   ├── layout                 where each metric lives inside an entry
 *   │   ├── table (VgModelTable)   a dense pool of fixed-stride entries + a hash index,
 *   │   │                          a count-min sketch for admission, dirty lists
 *   │   └── pop[metric], hist[4][metric]   population of per-key values (new keys)
 *   ├── hll pool, sample pool      fixed arrays with free lists; entries refer by index
 *   └── pending alerts             raised at a close, emitted in canonical order
 *
 * An entry holds no pointer: names are inline (token_id, IP in binary, endpoint text or an
 * index into the endpoint-name pool), distinct counters and samples refer to the pools by
 * index. So every table is a flat array, and a checkpoint (issue 6) is a walk of arrays.
 */
#ifndef VG_MODEL_INT_H
#define VG_MODEL_INT_H

#include "engine/detector.h"
#include "models/model-stats.h"
#include "models/models.h"

/* Under AddressSanitizer the arrays the models would map (entry pools, sketches, pools)
 * come from the heap instead, so overruns of them are caught (model-mem.c, model-table.c). */
#if defined(__SANITIZE_ADDRESS__)
#define VG_MODELS_FROM_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VG_MODELS_FROM_HEAP 1
#endif
#endif

/* ---- kinds and metrics ------------------------------------------------------------------ */

typedef enum {
    VG_MK_TOKEN = 0,
    VG_MK_ENDPOINT,
    VG_MK_TOKEN_ENDPOINT,
    VG_MK_CLIENT_IP,
    VG_MK__COUNT,
} VgModelKind;

typedef enum {
    VG_MM_REQUESTS = 0,
    VG_MM_4XX,
    VG_MM_AUTH,
    VG_MM_5XX,
    VG_MM_BYTES,
    VG_MM_LAT_MEAN,
    VG_MM_LAT_P95,
    VG_MM_D_IPS,
    VG_MM_D_IDS,
    VG_MM_D_PATHS,
    VG_MM_D_TOKENS,
    VG_MM__COUNT,
} VgModelMetric;

/* How a metric's per-bucket value is tested and how it behaves in an idle bucket. */
typedef enum {
    VG_MT_COUNT,    /* integer count: Poisson / negative binomial; idle bucket = 0 */
    VG_MT_DISTINCT, /* distinct count estimate: as COUNT */
    VG_MT_SUM,      /* sum of a size (bytes): z-test with floors; idle bucket = 0 */
    VG_MT_SHARE,    /* errors among requests: binomial-like count test; idle = no update */
    VG_MT_MEAN,     /* mean or quantile (latency): z-test; idle = no update */
} VgMetricType;

typedef struct {
    const char *name;     /* config name: "requests" */
    const char *rule;     /* rule id suffix: "rate" */
    const char *category; /* alert category */
    VgMetricType type;
    unsigned kinds; /* bit per kind it applies to */
} VgMetricInfo;

extern const VgMetricInfo vg_metric_info[VG_MM__COUNT];
extern const char *const vg_kind_name[VG_MK__COUNT];   /* "token", ... (config) */
extern const char *const vg_kind_rule[VG_MK__COUNT];   /* rule id part: "token", "ip" */
extern const char *const vg_kind_entity[VG_MK__COUNT]; /* entity type in alerts */

enum { VG_DIR_UP = 1, VG_DIR_DOWN = 2, VG_DIR_BOTH = 3 };

/* ---- configuration ------------------------------------------------------------------------ */

typedef struct {
    double min_volume; /* the bucket value must reach this before anything is tested */
    double min_ratio;  /* observed / expected must reach this (effect size) */
    double min_delta;  /* observed - expected must reach this (absolute effect) */
    int direction;     /* VG_DIR_* */
} VgMetricConf;

typedef struct {
    bool enabled;
    bool population;  /* judge new keys against the population of their kind */
    double share;     /* of the memory budget */
    unsigned metrics; /* bit per VgModelMetric */
} VgKindConf;

typedef struct {
    bool enabled;
    int64_t bucket_ms, half_life_ms, seasonal_half_life_ms, population_half_life_ms;
    int64_t warmup_buckets, start_buckets;
    double p_threshold, seasonal_factor, overdispersion, winsor_sigma, z_min_mean;
    double population_quantile, population_factor, population_min_weight;
    int64_t persist_m, persist_n;
    int64_t cooldown_ms, ttl_ms;
    int64_t memory_budget;
    double hll_share;
    int64_t sample_pool, admit_min;
    int64_t min_requests_latency;
    VgKindConf kind[VG_MK__COUNT];
    VgMetricConf metric[VG_MM__COUNT];
} VgModelsConf;

/* Parses the section (NULL: all defaults). VG_OK or VG_ECONFIG with err set. */
int vg_models_conf_parse(VgModelsConf *c, const VgConfNode *section, GError **err);

/* ---- entries -------------------------------------------------------------------------------- */

#define VG_NO_BUCKET UINT32_MAX

/* Baseline of one metric of one key: 16 bytes. */
enum { VG_EW_ALERTED = 0x80, VG_EW_NMASK = 0x7f };
typedef struct {
    float mean, var;     /* fast EWMA (half_life), winsorized after anomalous buckets */
    float peak;          /* seasonal envelope: decayed maximum (seasonal_half_life) */
    uint16_t last_alert; /* bucket of the last alert, mod 2^16 (cooldown) */
    uint8_t hist;        /* anomaly bits of the last buckets (persistence M of N) */
    uint8_t flags;       /* VG_EW_ALERTED | number of updates, saturating at 127 */
} VgEwma;

/* Every entry starts with this; the per-kind layout says what follows. */
typedef struct {
    uint64_t hash;    /* entity hash (vg_hash64 with the kind's seed) */
    uint32_t fp;      /* second, independent hash: a hash collision must match both */
    uint32_t created; /* bucket the key was admitted in */
    uint32_t closed;  /* last bucket folded into the baselines */
    uint32_t last_active;
    uint32_t activity;    /* bit i: active i closes ago (eviction score) */
    uint32_t slot_bucket; /* the open bucket, VG_NO_BUCKET if none */
    uint32_t sample;      /* sample record + 1, 0 if none */
    float req;            /* requests in the open bucket */
} VgEntryHead;

/* Names, without raw tokens. */
typedef struct {
    uint64_t token_id; /* 16 hex digits of vg_token_id, as a number */
} VgNameToken;
typedef struct {
    uint64_t token_id;
    uint32_t endpoint; /* index in the endpoint-name pool + 1; 0: unknown */
    uint32_t pad;
} VgNameTokenEp;
typedef struct {
    uint8_t family; /* 4, 6, or 0: text (truncated) */
    uint8_t len;
    uint8_t addr[22];
} VgNameIp;
#define VG_ENDPOINT_NAME_MAX 95
typedef struct {
    uint8_t len;
    char text[VG_ENDPOINT_NAME_MAX];
} VgNameEndpoint;

typedef struct {
    unsigned metrics;
    int n_metrics;
    int8_t midx[VG_MM__COUNT]; /* metric -> index in the VgEwma array, -1 if off */
    uint32_t name_off, ewma_off;
    uint32_t acc_off[VG_MM__COUNT];  /* float accumulator (4xx, auth, 5xx, bytes, lat sum) */
    uint32_t dist_off[VG_MM__COUNT]; /* VgDistinct */
    uint32_t sketch_off;             /* VgLatSketch, 0 if none */
    uint32_t slot_off, slot_size;    /* the part zeroed when a bucket closes */
    uint32_t stride;
} VgLayout;

void vg_layout_init(VgLayout *l, VgModelKind kind, unsigned metrics);

/* Zeroed arrays whose pages are touched only as they are used (model-mem.c); aborts on
 * out-of-memory. Free with the same size; NULL is accepted. */
void *vg_models_zalloc(size_t n);
void vg_models_zfree(void *p, size_t n);

/* ---- keyed table (model-table.c) --------------------------------------------------------- */

/* Entries that opened bucket `bucket`; n == UINT32_MAX: overflowed, walk all entries. */
typedef struct {
    uint32_t bucket;
    uint32_t n, cap;
    uint32_t *idx;
} VgDirtyList;

typedef struct {
    uint8_t *entries; /* n_entries * stride */
    uint32_t stride, n_entries, n_live;
    uint32_t high; /* entries at or above this index were never used */
    /* The free entries form one stack: at its bottom the n_fresh entries never used
     * (n_entries - 1 down to n_entries - n_fresh, so pops hand out 0, 1, 2, ...), on top
     * the entries freed since, in free_list (grown as needed, so a table's free list
     * costs memory only once keys leave it). n_free = n_fresh + n_list. */
    uint32_t n_fresh;
    uint32_t *free_list;
    uint32_t n_list, list_cap;
    uint32_t n_free;
    uint64_t *index;                /* (hash low 32 << 32) | (entry + 1); 0 empty */
    uint32_t index_mask, index_max; /* grows up to index_max + 1 slots */
    uint8_t *cms;                   /* 4 rows of cms_width counters */
    uint32_t cms_mask;
    uint64_t cms_adds;
    unsigned admit_min;   /* sightings a new key needs to evict (when full) */
    VgDirtyList dirty[4]; /* entries that opened a bucket, by bucket & 3 */
    /* counters */
    uint64_t admitted, evicted, expired, rejected;
} VgModelTable;

static inline VgEntryHead *vg_table_entry(const VgModelTable *t, uint32_t i)
{
    return (VgEntryHead *)(t->entries + (size_t)i * t->stride);
}

/* Asks for every cache line of entry i (an event or a close is about to read most of it). */
static inline void vg_table_prefetch_entry(const VgModelTable *t, uint32_t i)
{
    vg_prefetch_range(vg_table_entry(t, i), t->stride);
}

void vg_table_init(VgModelTable *t, uint32_t stride, size_t budget);
/* The free stack: push a freed entry / pop the next entry to use (n_free > 0). */
void vg_table_free_push(VgModelTable *t, uint32_t i);
uint32_t vg_table_free_pop(VgModelTable *t);
void vg_table_destroy(VgModelTable *t);
/* The first entry whose index tag matches hash (unverified; for prefetching). */
static inline uint32_t vg_table_candidate(const VgModelTable *t, uint64_t hash)
{
    uint32_t lo = (uint32_t)hash;
    for (uint32_t p = lo & t->index_mask;; p = (p + 1) & t->index_mask) {
        uint64_t s = t->index[p];
        if (!s)
            return UINT32_MAX;
        if ((uint32_t)(s >> 32) == lo)
            return (uint32_t)s - 1;
    }
}
/* The admission filter's counter of hash in row r (0..3) of the count-min sketch. */
static inline uint8_t *vg_table_cms_counter(const VgModelTable *t, uint64_t hash, int r)
{
    static const uint64_t mul[4] = {0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full,
                                    0x165667b19e3779f9ull, 0xd6e8feb86659fd93ull};
    uint64_t x = (hash ^ (hash >> 29)) * mul[r];
    return &t->cms[(size_t)r * (t->cms_mask + 1) + ((uint32_t)(x >> 32) & t->cms_mask)];
}
/* A key the index does not hold will be counted by vg_table_sighting(): its counters. */
static inline void vg_table_prefetch_sighting(const VgModelTable *t, uint64_t hash)
{
    for (int r = 0; r < 4; r++)
        vg_prefetch(vg_table_cms_counter(t, hash, r));
}
/* Finds the entry of (hash, fp); UINT32_MAX if absent. */
uint32_t vg_table_find(const VgModelTable *t, uint64_t hash, uint32_t fp);
/* Counts one sighting of a key that is not in the table (admission filter). Returns the
 * filter's estimate of how often it was seen recently. */
unsigned vg_table_sighting(VgModelTable *t, uint64_t hash);
/* Returns a free entry index, or evicts the weakest of a deterministic sample when its
 * score is below `freq` (on_evict is called first). UINT32_MAX when the key is rejected. */
typedef void (*VgEvictFn)(void *user, uint32_t entry);
uint32_t vg_table_admit(VgModelTable *t, uint64_t hash, uint32_t fp, unsigned freq,
                        uint32_t now_bucket, uint32_t ttl_buckets, VgEvictFn on_evict, void *user);
/* Removes entry i (its owner has released what it refers to). */
void vg_table_remove(VgModelTable *t, uint32_t i);
/* Records that entry i opened bucket b. */
void vg_table_dirty(VgModelTable *t, uint32_t i, uint32_t b);
size_t vg_table_bytes(const VgModelTable *t);

/* ---- population of a kind (new keys) ---------------------------------------------------- */

#define VG_POP_BINS 128
typedef struct {
    float w[VG_POP_BINS];
    float total;
} VgPop;
typedef struct {
    uint32_t bucket;
    uint32_t total;
    uint32_t n[VG_POP_BINS];
} VgPopHist;

static inline int vg_pop_bin(double v)
{
    if (!(v >= 1.0))
        return 0;
    int b = 1 + (int)(4.0 * log2(v));
    return b < VG_POP_BINS ? b : VG_POP_BINS - 1;
}
/* Upper edge of the bin holding the q-quantile (conservative). */
double vg_pop_quantile(const VgPop *p, double q);

/* ---- the detector ------------------------------------------------------------------------- */

typedef struct {
    char id[VG_ALERT_MAX_SAMPLES][40];
    uint8_t n;
} VgSampleRec;

typedef struct {
    VgLayout layout;
    VgModelTable table;
    VgPop pop[VG_MM__COUNT];
    /* vg_pop_quantile(pop[mi], population_quantile): 0 until a close asks for it; pop
     * changes once per bucket (the fold) or on restore, and those set it back to 0 */
    double pop_q[VG_MM__COUNT];
    VgPopHist hist[4][VG_MM__COUNT]; /* per pending bucket (& 3) */
    uint64_t seed, fp_seed;
} VgKindState;

typedef struct {
    uint32_t bucket;
    uint8_t kind, metric;
    uint64_t hash;
    VgAlert a; /* numbers; its strings are filled in from the arrays below when emitted */
    char text[512];
    char rule_id[48], rule_name[80];
    char ent_token[17], ent_other[VG_ENDPOINT_NAME_MAX + 1], ent_ep[VG_ENDPOINT_NAME_MAX + 1];
    char samples[VG_ALERT_MAX_SAMPLES][40];
    char category[16], model_kind[16]; /* the pointers in a are set when emitted */
} VgPendingAlert;

#define VG_POW_TABLE 64
#define VG_HLL_QUEUE 32

/* The shard (0..n-1) of a key's hash: its top 32 bits scaled to n. A multiplication: a
 * remainder would be a 64-bit division (~30 cycles) for every key, several times per
 * event. The table's slot comes from the low bits, so shard and slot do not correlate. */
static inline int vg_shard_of_hash(uint64_t hash, int n)
{
    return (int)(((hash >> 32) * (uint64_t)n) >> 32);
}

struct VgModels {
    VgDetector base;
    VgModelsConf conf;
    VgKindState kind[VG_MK__COUNT];
    int n_kinds_on;
    double alpha, beta_seasonal, alpha_pop;
    double pow_keep[VG_POW_TABLE], pow_seasonal[VG_POW_TABLE]; /* (1-alpha)^k, beta^k */
    uint32_t cooldown_b, ttl_b;
    int shard, n_shards;
    /* shards that share their population (vg_models_join): the peers, including this one,
     * a barrier across all of them, and a double-buffered board each shard publishes on */
    struct VgModels **peers;
    void (*barrier)(void *user);
    void *barrier_user;
    uint64_t round;
    struct VgShardBoard *board; /* [2] */

    /* clock */
    int64_t max_time;
    uint32_t next_due;     /* first bucket not closed yet */
    uint32_t first_bucket; /* first bucket with events (global warm-up) */
    bool started;
    uint32_t last_sweep;

    /* pools */
    VgHll *hll;
    uint32_t *hll_free, n_hll, n_hll_free;
    VgSampleRec *samples;
    uint32_t *sample_free, n_samples, n_sample_free;
    /* endpoint names for token_endpoint keys: open-addressed by hash */
    VgNameEndpoint *ep_names;
    uint64_t *ep_index; /* (hash << 20 | idx + 1), 0 empty */
    uint32_t n_ep, cap_ep, ep_mask;

    /* HLL adds wait here a few events so their register can be prefetched meanwhile
     * (max is commutative: the delay changes nothing); flushed before any close */
    struct {
        uint32_t hll, v;
    } hq[VG_HLL_QUEUE];
    uint32_t hq_n;

    GArray *pending; /* VgPendingAlert */

    VgModelsStats stats;
};

/* Applies the queued HLL adds. */
static inline void vg_models_hll_flush(VgModels *m)
{
    for (uint32_t i = 0; i < m->hq_n; i++)
        vg_hll_add(&m->hll[m->hq[i].hll], m->hq[i].v);
    m->hq_n = 0;
}

/* The outcome of one test of one bucket. */
typedef struct {
    bool tested, anomalous;
    bool population;
    double expected, sd, logp, score;
    const char *model_kind;
    bool down;
} VgVerdict;

/* model-alert.c */
void vg_models_queue_alert(VgModels *m, VgKindState *ks, VgModelKind k, VgModelMetric mi,
                           VgEntryHead *e, uint32_t b, const VgVerdict *v, double x, double n_req,
                           const VgEwma *w);

/* Hash seeds per kind of key (stable: sharding and checkpoints depend on them). */
#define SEED_TOKEN    0x746f6b656e000001ull
#define SEED_ENDPOINT 0x656e64706f696e74ull
#define SEED_IP       0x636c69656e746970ull
#define SEED_FP       0x66696e6765727072ull
#define SEED_VALUE    0x76616c7565730001ull

/* model-event.c / models.c */
void vg_models_on_event(VgDetector *d, const VgEvent *ev, VgDetectCtx *ctx);
/* The object ids of an endpoint and its path, byte by byte (model-event.c). */
uint32_t vg_models_object_ids_walk(VgStr ep, VgStr path, uint64_t ep_hash);
void vg_models_advance(VgModels *m, int64_t wm, VgDetectCtx *ctx);

/* model-close.c */
void vg_models_close_entry(VgModels *m, VgKindState *ks, uint32_t ei, uint32_t b, VgDetectCtx *ctx);
void vg_models_close_bucket(VgModels *m, uint32_t b, VgDetectCtx *ctx);
/* Sharded runs (vg_models_join): whether any shard has something open, and the sum of
 * every shard's population histograms of bucket b put into m's (a barrier each). Without
 * peers: open as given, and nothing to do. */
bool vg_models_sync_open(VgModels *m, bool open);
void vg_models_sync_pop(VgModels *m, uint32_t b);
void vg_models_release_slot(VgModels *m, VgKindState *ks, VgEntryHead *e);
void vg_models_emit_pending(VgModels *m, uint32_t upto, VgDetectCtx *ctx);
void vg_models_entity_name(const VgModels *m, VgModelKind k, const VgEntryHead *e, char *out,
                           size_t n);

static inline VgEwma *vg_entry_ewma(const VgKindState *ks, VgEntryHead *e)
{
    return (VgEwma *)((uint8_t *)e + ks->layout.ewma_off);
}
static inline float *vg_entry_acc(const VgKindState *ks, VgEntryHead *e, VgModelMetric mm)
{
    return (float *)((uint8_t *)e + ks->layout.acc_off[mm]);
}
static inline VgDistinct *vg_entry_dist(const VgKindState *ks, VgEntryHead *e, VgModelMetric mm)
{
    return (VgDistinct *)((uint8_t *)e + ks->layout.dist_off[mm]);
}

#endif

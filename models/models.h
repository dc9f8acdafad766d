/* models.h — statistical baselines (per token, endpoint, token×endpoint, client IP).
 *
 * The "models" detector (config section `models:`) keeps, for every key it tracks, a
 * time-decayed baseline of per-bucket metrics (requests, error counts, bytes, latency,
 * distinct counts) and raises an alert when a closed bucket is improbable under it. See
 * models/README.md for the methods and the configuration.
 */
#ifndef VG_MODELS_H
#define VG_MODELS_H

#include "engine/detector.h"

void vg_models_register(void);

extern const VgDetectorOps vg_models_ops;

typedef struct VgModels VgModels;

typedef struct {
    uint64_t events;         /* events looked at (not late) */
    uint64_t late;           /* ignored as older than the models' clock */
    uint64_t tracked;        /* keys tracked now, all kinds */
    uint64_t admitted;       /* keys ever admitted */
    uint64_t evicted;        /* keys evicted to admit others */
    uint64_t expired;        /* keys dropped after ttl idle */
    uint64_t rejected;       /* sightings of new keys the admission filter turned away */
    uint64_t buckets_closed; /* (key, bucket) closes */
    uint64_t tests;          /* statistical tests run */
    uint64_t alerts;         /* alerts raised */
    uint64_t hll_in_use, hll_exhausted, samples_exhausted, names_full;
    size_t memory_bytes; /* allocated state (tables, pools, sketches) */
} VgModelsStats;

/* models.bucket of d in ms; 0 when the models are disabled. */
int64_t vg_models_bucket_ms(VgDetector *d);
/* models.memory_budget of d, in bytes. */
size_t vg_models_memory_budget(VgDetector *d);
/* models.memory_budget as the models section (NULL: defaults) sets it. Returns false and
 * sets err when the section is invalid. */
bool vg_models_section_budget(const VgConfNode *section, int64_t *bytes, GError **err);

/* Counters of a detector created by vg_models_ops (d must be one). Owned by d. */
const VgModelsStats *vg_models_stats(VgDetector *d);

/* Makes this instance own only the keys whose hash falls in shard i of n (0 <= i < n):
 * with N instances, one per worker, each key lives in exactly one. Call before events. */
void vg_models_set_shard(VgDetector *d, int i, int n);

/* Shard i of n that shares its population with the others (shards: every shard's
 * detector, this one included; the array is copied). Every shard must then see every
 * event, watermark and finish, in the same order, each on its own thread: twice per
 * bucket close they meet at barrier(user), which must block until all n have called it.
 * New-key judgements then use the population of all keys, and the alerts of the n
 * shards together are those of one unsharded instance. Call before events. */
void vg_models_join(VgDetector *d, VgDetector *const *shards, int n, int i,
                    void (*barrier)(void *user), void *user);

/* The shard (0..n-1) owning a key of the given kind ("token", "endpoint", "token_endpoint",
 * "client_ip") for the event, or -1 if the event has no such key: what a router uses to
 * send each event to the workers owning its keys. */
int vg_models_shard_of(const VgEvent *ev, const char *kind, int n);

/* What the models need of an event's keys, hashed: computed once per event, where its
 * text is in cache (the parallel pipeline does it while decoding), and read by every
 * shard, which then only looks at the text of keys it owns and admits. Per kind, in the
 * order token, endpoint, token×endpoint, client IP (VgModelKind); a zero hash: the event
 * has no such key. */
#define VG_MODEL_KINDS 4
typedef struct {
    uint64_t hash[VG_MODEL_KINDS];
    uint32_t fp[VG_MODEL_KINDS];   /* the keys' fingerprints (a second hash) */
    uint32_t path32, ids32;        /* distinct-count values (0 when no enabled metric uses them) */
    uint8_t kinds;                 /* bit k: the event has the key of kind k, and k is enabled */
    uint8_t shard[VG_MODEL_KINDS]; /* with shards (vg_models_join): which one counts each key */
} VgModelKeys;

/* Hashes the keys of ev as models detector d (its kinds and metrics) uses them, and with
 * shards (vg_models_set_shard), which shard counts each key: any detector of the same
 * config and shard count may hash them for the others. */
void vg_models_event_keys(VgDetector *d, const VgEvent *ev, VgModelKeys *k);
/* on_event with ev's keys already hashed by vg_models_event_keys (same detector config and
 * shard count).
 * It does not prefetch: the caller runs vg_models_prefetch() on k (stage 0, then 1)
 * ahead of it, as vg_prefetch_ahead() does. */
void vg_models_on_event_keyed(VgDetector *d, const VgEvent *ev, const VgModelKeys *k,
                              VgDetectCtx *ctx);

/* The models' prefetch op (detector.h): k is the event's VgModelKeys. */
void vg_models_prefetch(VgDetector *d, const void *k, int stage);

/* Appends the whole state of d (a models detector) to out: a walk of flat arrays, to be
 * compressed and checksummed by the checkpoint writer. Returns VG_OK. */
int vg_models_snapshot(VgDetector *d, GByteArray *out);
/* Loads a snapshot into d, which must be freshly created from the same models config (and
 * the same build). VG_EINVAL and err on a mismatch or corrupt data; d is then unusable
 * (destroy it). */
int vg_models_restore(VgDetector *d, const void *data, size_t len, GError **err);

#endif

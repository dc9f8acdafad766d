/* checkpoint.h — pipeline state and the input offsets it corresponds to, on disk.
 *
 * A checkpoint says: "this is the state (models, correlation windows, open incidents,
 * event-time clock) after every event before these offsets was processed and its alerts
 * delivered or spooled". Restoring it and reading on from exactly those offsets gives the
 * same alerts, with the same ids, as a run that never stopped. The run loop decides when
 * that sentence is true (between batches, with no delivery held back) and calls
 * vg_checkpointer_save(); this module only encodes, checks and stores.
 *
 * File format (version 1), integers in host byte order (a checkpoint is for the same
 * build on the same kind of machine):
 *
 *     "VGCKPT\0\1"  u64 payload length  u64 compressed length  u32 CRC-32  u32 0
 *     zlib(payload)
 *     payload = u64 created (ms since epoch)  str group  u64 n
 *               n × (str topic, i64 partition, i64 next offset)   bytes state
 *
 * The CRC-32 (zlib's) covers the header before it and the compressed bytes, so a torn or
 * flipped file is refused before anything is inflated. A file is written atomically:
 * to path.tmp, fsync, rename over path, fsync the directory; a crash leaves the previous
 * checkpoint or the new one, never half of one.
 *
 * The same encoding is the blob of a partition's state in shared storage (Redis) when
 * partitions move between instances.
 */
#ifndef VG_CHECKPOINT_H
#define VG_CHECKPOINT_H

#include "engine/config.h"

typedef struct {
    char *topic;
    int32_t partition;
    int64_t next_offset; /* the first offset not reflected in the state */
} VgCheckpointOffset;

typedef struct {
    int64_t created_ms;
    char *group;
    GArray *offsets;   /* VgCheckpointOffset */
    GByteArray *state; /* vg_pipeline_snapshot() */
} VgCheckpoint;

VgCheckpoint *vg_checkpoint_new(const char *group);
void vg_checkpoint_free(VgCheckpoint *c);
/* Adds (topic, partition, next offset); topic is copied. */
void vg_checkpoint_add_offset(VgCheckpoint *c, const char *topic, int32_t partition,
                              int64_t next_offset);
/* The next offset recorded for (topic, partition), or -1. */
int64_t vg_checkpoint_offset(const VgCheckpoint *c, const char *topic, int32_t partition);

/* Encodes c into out (header, CRC, zlib). Returns VG_OK. */
int vg_checkpoint_encode(const VgCheckpoint *c, GByteArray *out);
/* Decodes bytes made by vg_checkpoint_encode. NULL and err (VG_EINVAL, a readable reason)
 * on anything else: wrong magic or version, CRC mismatch, bad lengths, corrupt payload. */
VgCheckpoint *vg_checkpoint_decode(const void *data, size_t len, GError **err);

/* Writes data to path atomically (tmp file, fsync, rename, fsync of the directory).
 * VG_EIO and err on failure; path is then unchanged. */
int vg_checkpoint_write_file(const char *path, const void *data, size_t len, GError **err);
/* Reads and decodes path. NULL with err code VG_ENOENT when there is no file, VG_EIO when
 * it cannot be read, VG_EINVAL when it is not a valid checkpoint. */
VgCheckpoint *vg_checkpoint_read_file(const char *path, GError **err);

/* ---- the `checkpoint:` section and the periodic writer ---- */

typedef struct {
    char *path;          /* checkpoint file; empty: no checkpoints */
    int64_t interval_ms; /* between periodic checkpoints */
    bool restore;        /* load the checkpoint at start */
    /* checkpoint.redis (borrowed from the tree; NULL: not set): state per partition in
     * Redis (engine/sinks/state-redis.h), exclusive with path */
    const VgConfNode *redis;
} VgCheckpointConf;

extern const VgConfOption vg_checkpoint_options[];

/* Fills conf from the `checkpoint:` section (NULL: defaults). VG_ECONFIG and err on a bad
 * value; call vg_checkpoint_conf_clear() either way. */
int vg_checkpoint_conf_load(VgCheckpointConf *conf, const VgConfNode *section, GError **err);
void vg_checkpoint_conf_clear(VgCheckpointConf *conf);

typedef struct VgCheckpointer VgCheckpointer;

/* A writer for conf->path that exposes its metrics (vigil_checkpoint_*) in the registry.
 * conf is copied. The caller owns the result. */
VgCheckpointer *vg_checkpointer_new(const VgCheckpointConf *conf);
void vg_checkpointer_free(VgCheckpointer *w);
/* True when a periodic checkpoint is due (interval since the last attempt). */
bool vg_checkpointer_due(const VgCheckpointer *w);
/* Encodes c and writes it; counts success (time, duration, bytes) or failure. VG_OK, or
 * VG_EIO with err. */
int vg_checkpointer_save(VgCheckpointer *w, const VgCheckpoint *c, GError **err);
/* Where vg_checkpointer_save puts the encoded bytes instead of conf->path: store(user,
 * the checkpoint, its encoding) returns VG_OK or VG_EIO with err. (Per-partition state
 * in Redis: one save per partition, keyed by the checkpoint's one offset.) */
typedef int (*VgCheckpointStoreFn)(void *user, const VgCheckpoint *c, const void *data, size_t len,
                                   GError **err);
void vg_checkpointer_set_store(VgCheckpointer *w, VgCheckpointStoreFn store, void *user);
/* Starts the interval again without saving (a round of per-partition saves). */
void vg_checkpointer_touch(VgCheckpointer *w);
/* Counts a failed restore (metric vigil_checkpoint_restore_failures_total). */
void vg_checkpointer_restore_failed(VgCheckpointer *w);

#endif

/* state-redis.h — the state of Kafka partitions kept in Redis, so that it follows a
 * partition to whichever vigil instance of the consumer group is given it.
 *
 * The `checkpoint.redis:` section (the connection options of redis-conn.h, plus):
 *
 *     checkpoint:
 *       interval: 30s
 *       redis:
 *         host: redis.internal
 *         key_prefix: vigil:state     # keys <prefix>:<group>:<topic>:<partition>
 *         ttl: 7d                     # a partition nobody saved for this long is forgotten
 *
 * Each value is one partition's checkpoint (engine/checkpoint.h encoding: the state and
 * the next offset it corresponds to, zlib-compressed, with a CRC), written with SET ... PX
 * by whoever owns the partition: periodically, when the partition is revoked, and on
 * shutdown. The connection is made on first use and again after any error, so Redis
 * being down costs the operations made meanwhile (they fail with an error the caller
 * logs), never the process.
 *
 * One thread at a time (the run loop's).
 */
#ifndef VG_STATE_REDIS_H
#define VG_STATE_REDIS_H

#include "engine/sinks/redis-conn.h"

typedef struct {
    VgRedisConn conn;
    char *key_prefix;
    int64_t ttl_ms;
} VgStateRedisConf;

extern const VgConfOption vg_state_redis_options[];

typedef struct VgStateRedis VgStateRedis;

/* Reads the section (a map; see above). NULL and err (VG_ECONFIG, file:line) on a bad
 * option. Does not connect. */
VgStateRedis *vg_state_redis_new(const VgConfNode *section, GError **err);
void vg_state_redis_free(VgStateRedis *s);
const VgStateRedisConf *vg_state_redis_conf(const VgStateRedis *s);

/* The key of a partition's state: <key_prefix>:<group>:<topic>:<partition>. g_free it. */
char *vg_state_redis_key(const VgStateRedis *s, const char *group, const char *topic,
                         int32_t partition);
/* Stores data under key with the configured TTL. VG_OK, or VG_EIO and err. */
int vg_state_redis_put(VgStateRedis *s, const char *key, const void *data, size_t len,
                       GError **err);
/* Replaces out's contents with the value of key: VG_OK; VG_ENOENT (no such key, err
 * unset); VG_EIO and err (unreachable, or the key holds something else). */
int vg_state_redis_get(VgStateRedis *s, const char *key, GByteArray *out, GError **err);
/* Deletes key (VG_OK also when it did not exist), or VG_EIO and err. */
int vg_state_redis_del(VgStateRedis *s, const char *key, GError **err);

#endif

/* state-redis.c — see state-redis.h.
 *
 * Every operation is one command on a blocking hiredis connection with the configured
 * timeouts. A connection that failed (I/O error, timeout) is dropped; an operation on a
 * connection that went stale while idle (the server restarted) is retried once on a new
 * one, so a Redis restart between two checkpoints costs nothing.
 */
#include "engine/sinks/state-redis.h"

#include <stdio.h>

#define OPT(f) offsetof(VgStateRedisConf, f)

const VgConfOption vg_state_redis_options[] = {
    VG_REDIS_CONN_OPTIONS(VgStateRedisConf, conn),
    {"key_prefix", VG_CT_STRING, OPT(key_prefix), "vigil:state", 0, 0, NULL, 0, NULL,
     "keys are <key_prefix>:<group>:<topic>:<partition>"},
    {"ttl", VG_CT_DURATION, OPT(ttl_ms), "7d", 1, 1e8, NULL, 0, NULL,
     "a partition's state not saved again for this long expires"},
    {0},
};

struct VgStateRedis {
    VgStateRedisConf c;
    redisContext *ctx;
};

VgStateRedis *vg_state_redis_new(const VgConfNode *section, GError **err)
{
    VgStateRedis *s = g_new0(VgStateRedis, 1);
    if (section && section->kind != VG_NODE_MAP) {
        vg_conf_error(err, section, "checkpoint.redis: expected a map of Redis options");
        goto fail;
    }
    if (vg_conf_apply(vg_state_redis_options, &s->c, section, err) < 0 ||
        vg_redis_conn_check(&s->c.conn, section, err) != VG_OK)
        goto fail;
    if (!s->c.key_prefix || !s->c.key_prefix[0]) {
        vg_conf_error(err, section, "checkpoint.redis.key_prefix: must not be empty");
        goto fail;
    }
    return s;
fail:
    vg_state_redis_free(s);
    return NULL;
}

void vg_state_redis_free(VgStateRedis *s)
{
    if (!s)
        return;
    if (s->ctx)
        redisFree(s->ctx);
    vg_conf_clear(vg_state_redis_options, &s->c);
    g_free(s);
}

const VgStateRedisConf *vg_state_redis_conf(const VgStateRedis *s)
{
    return &s->c;
}

char *vg_state_redis_key(const VgStateRedis *s, const char *group, const char *topic,
                         int32_t partition)
{
    return g_strdup_printf("%s:%s:%s:%d", s->c.key_prefix, group ? group : "", topic,
                           (int)partition);
}

/* Runs a command, connecting first when needed, and once more on a fresh connection when
 * an idle one turned out dead. NULL and err on failure. */
static redisReply *command(VgStateRedis *s, const char *what, int argc, const char **argv,
                           const size_t *argvlen, GError **err)
{
    for (int attempt = 0;; attempt++) {
        bool reused = s->ctx != NULL;
        if (!s->ctx && !(s->ctx = vg_redis_connect(&s->c.conn, err)))
            return NULL;
        bool usable = true;
        GError *e = NULL;
        redisReply *r = vg_redis_command(s->ctx, what, argc, argv, argvlen, &usable, &e);
        if (r)
            return r;
        if (!usable) {
            redisFree(s->ctx);
            s->ctx = NULL;
            if (reused && attempt == 0) {
                g_error_free(e);
                continue;
            }
        }
        g_propagate_error(err, e);
        return NULL;
    }
}

int vg_state_redis_put(VgStateRedis *s, const char *key, const void *data, size_t len, GError **err)
{
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%" G_GINT64_FORMAT, s->c.ttl_ms);
    const char *argv[] = {"SET", key, data, "PX", ttl};
    size_t argvlen[] = {3, strlen(key), len, 2, strlen(ttl)};
    redisReply *r = command(s, "SET", 5, argv, argvlen, err);
    if (!r)
        return VG_EIO;
    freeReplyObject(r);
    return VG_OK;
}

int vg_state_redis_get(VgStateRedis *s, const char *key, GByteArray *out, GError **err)
{
    const char *argv[] = {"GET", key};
    redisReply *r = command(s, "GET", 2, argv, NULL, err);
    if (!r)
        return VG_EIO;
    int rc = VG_OK;
    if (r->type == REDIS_REPLY_NIL) {
        rc = VG_ENOENT;
    } else if (r->type != REDIS_REPLY_STRING) {
        g_set_error(err, VG_ERROR, VG_EIO, "redis GET %s: not a string value", key);
        rc = VG_EIO;
    } else {
        g_byte_array_set_size(out, 0);
        g_byte_array_append(out, (const guint8 *)r->str, (guint)r->len);
    }
    freeReplyObject(r);
    return rc;
}

int vg_state_redis_del(VgStateRedis *s, const char *key, GError **err)
{
    const char *argv[] = {"DEL", key};
    redisReply *r = command(s, "DEL", 2, argv, NULL, err);
    if (!r)
        return VG_EIO;
    freeReplyObject(r);
    return VG_OK;
}

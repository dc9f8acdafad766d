/* redis-conn.c — see redis-conn.h. */
#include "engine/sinks/redis-conn.h"

#include <stdio.h>

static struct timeval tv_ms(int64_t ms)
{
    return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

int vg_redis_conn_check(const VgRedisConn *c, const VgConfNode *section, GError **err)
{
    if (c->user && !c->password) {
        vg_conf_error(err, section, "redis: user needs a password");
        return VG_ECONFIG;
    }
    return VG_OK;
}

redisReply *vg_redis_command(redisContext *ctx, const char *what, int argc, const char **argv,
                             const size_t *argvlen, bool *usable, GError **err)
{
    redisReply *r = redisCommandArgv(ctx, argc, argv, argvlen);
    if (usable)
        *usable = r != NULL;
    if (!r) {
        g_set_error(err, VG_ERROR, VG_EIO, "redis %s: %s", what,
                    ctx->errstr[0] ? ctx->errstr : "no reply");
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        g_set_error(err, VG_ERROR, VG_EIO, "redis %s: %s", what, r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* Runs a set-up command whose reply does not matter beyond "not an error". */
static bool setup(redisContext *ctx, const char *what, int argc, const char **argv, GError **err)
{
    redisReply *r = vg_redis_command(ctx, what, argc, argv, NULL, NULL, err);
    if (r)
        freeReplyObject(r);
    return r != NULL;
}

redisContext *vg_redis_connect(const VgRedisConn *c, GError **err)
{
    struct timeval ct = tv_ms(c->connect_timeout_ms);
    redisContext *ctx = c->unix_socket ? redisConnectUnixWithTimeout(c->unix_socket, ct)
                                       : redisConnectWithTimeout(c->host, (int)c->port, ct);
    if (!ctx || ctx->err) {
        if (c->unix_socket)
            g_set_error(err, VG_ERROR, VG_EIO, "redis connect %s: %s", c->unix_socket,
                        ctx ? ctx->errstr : "out of memory");
        else
            g_set_error(err, VG_ERROR, VG_EIO, "redis connect %s:%d: %s", c->host, (int)c->port,
                        ctx ? ctx->errstr : "out of memory");
        goto fail;
    }
    if (redisSetTimeout(ctx, tv_ms(c->timeout_ms)) != REDIS_OK) {
        g_set_error(err, VG_ERROR, VG_EIO, "redis: cannot set timeout: %s", ctx->errstr);
        goto fail;
    }
    if (!c->unix_socket)
        redisEnableKeepAlive(ctx);
    if (c->password) {
        const char *a3[] = {"AUTH", c->user, c->password};
        const char *a2[] = {"AUTH", c->password};
        if (!(c->user ? setup(ctx, "AUTH", 3, a3, err) : setup(ctx, "AUTH", 2, a2, err)))
            goto fail;
    }
    if (c->db) {
        char db[24];
        snprintf(db, sizeof db, "%d", (int)c->db);
        const char *a[] = {"SELECT", db};
        if (!setup(ctx, "SELECT", 2, a, err))
            goto fail;
    }
    return ctx;
fail:
    if (ctx)
        redisFree(ctx);
    return NULL;
}

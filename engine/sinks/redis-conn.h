/* redis-conn.h — one way to reach a Redis server, for every part of vigil that talks to
 * one: the alert sink (sink-redis.c) and the store of partition state (state-redis.c).
 *
 * The connection options are the same wherever Redis is configured; a module embeds a
 * VgRedisConn in its option struct and lists VG_REDIS_CONN_OPTIONS(ItsStruct, member) in
 * its table, so `host`, `port`, `unix_socket`, `db`, `user`, `password` (secret; or
 * VIGIL_REDIS_PASSWORD), `connect_timeout` and `timeout` read and dump alike everywhere.
 */
#ifndef VG_REDIS_CONN_H
#define VG_REDIS_CONN_H

#include "engine/config.h"

#include <hiredis/hiredis.h>

typedef struct {
    char *host;
    int64_t port;
    char *unix_socket;
    int64_t db;
    char *user;
    char *password;
    int64_t connect_timeout_ms;
    int64_t timeout_ms;
} VgRedisConn;

#define VG_REDIS_CONN_OPTIONS(T, m)                                                                \
    {"host", VG_CT_STRING, offsetof(T, m.host),   "127.0.0.1", 0, 0, NULL,                         \
     0,      NULL,         "Redis server address"},                                                \
        {"port", VG_CT_INT, offsetof(T, m.port), "6379", 1, 65535, NULL,                           \
         0,      NULL,      "Redis server port"},                                                  \
        {"unix_socket",                                                                            \
         VG_CT_STRING,                                                                             \
         offsetof(T, m.unix_socket),                                                               \
         NULL,                                                                                     \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         0,                                                                                        \
         NULL,                                                                                     \
         "connect to this unix socket instead of host:port"},                                      \
        {"db", VG_CT_INT, offsetof(T, m.db),         "0", 0, 1000000, NULL,                        \
         0,    NULL,      "database number (SELECT)"},                                             \
        {"user",                                                                                   \
         VG_CT_STRING,                                                                             \
         offsetof(T, m.user),                                                                      \
         NULL,                                                                                     \
         0,                                                                                        \
         0,                                                                                        \
         NULL,                                                                                     \
         0,                                                                                        \
         "VIGIL_REDIS_USER",                                                                       \
         "ACL user name (Redis 6+; AUTH user password)"},                                          \
        {"password",   VG_CT_STRING,           offsetof(T, m.password), NULL, 0, 0, NULL,          \
         VG_CO_SECRET, "VIGIL_REDIS_PASSWORD", "password (AUTH)"},                                 \
        {"connect_timeout",                                                                        \
         VG_CT_DURATION,                                                                           \
         offsetof(T, m.connect_timeout_ms),                                                        \
         "2s",                                                                                     \
         0.001,                                                                                    \
         600,                                                                                      \
         NULL,                                                                                     \
         0,                                                                                        \
         NULL,                                                                                     \
         "TCP connect timeout"},                                                                   \
    {                                                                                              \
        "timeout", VG_CT_DURATION, offsetof(T, m.timeout_ms), "5s", 0.001, 600, NULL, 0, NULL,     \
            "command (send and reply) timeout"                                                     \
    }

/* After vg_conf_apply: VG_ECONFIG and err (naming section) on a combination that cannot
 * work (a user without a password). */
int vg_redis_conn_check(const VgRedisConn *c, const VgConfNode *section, GError **err);

/* Connects with the connect timeout, sets the command timeout and TCP keep-alive, and
 * runs AUTH and SELECT as configured. NULL and err (VG_EIO, "redis connect host:port:
 * reason" — never the password) on any failure. */
redisContext *vg_redis_connect(const VgRedisConn *c, GError **err);

/* Runs one command on ctx (argv/argvlen as redisCommandArgv; argvlen NULL: strings).
 * Returns the reply, or NULL with err (VG_EIO, "redis <what>: reason") when there is no
 * reply (I/O error, timeout: ctx is then unusable) or the reply is an error (then
 * *usable stays true). usable may be NULL. */
redisReply *vg_redis_command(redisContext *ctx, const char *what, int argc, const char **argv,
                             const size_t *argvlen, bool *usable, GError **err);

#endif

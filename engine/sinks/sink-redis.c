/* sink-redis.c — alerts into a Redis stream (XADD) or list (RPUSH), optionally PUBLISHed.
 *
 * A batch is pipelined (Suricata's util-log-redis.c): every command is appended to
 * hiredis's output buffer, then the replies are read back, so a batch costs one round
 * trip rather than one per alert. Any I/O error or timeout drops the connection and fails
 * the whole batch; the delivery layer spools it and retries with backoff, and the next
 * write reconnects (AUTH, SELECT, SCRIPT LOAD again).
 *
 * Retrying a batch that was half executed would duplicate alerts, so by default alerts go
 * through a small Lua script (one call per 100 alerts) that sets a marker key
 * `<key>:ids:<event.id>` with NX and a TTL, and adds the entry only when the marker was
 * new. The script runs atomically in Redis, so a retried or replayed alert is dropped
 * there: "exactly once in Redis" for as long as the marker lives (dedup_ttl, 7 days by
 * default) and Redis keeps
 * its data (persistence is Redis's business). If the XADD itself fails (wrong key type),
 * the script deletes the marker again, so a later retry is not mistaken for a duplicate.
 * With dedup off, plain XADD/RPUSH commands are pipelined: at least once.
 *
 * Besides `alert` (the JSON), a stream entry carries id, rule, severity, entity, token_id
 * and client_ip as fields, so consumers can filter without parsing JSON.
 */
#include "engine/sinks/sinks.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>

#include "engine/log.h"
#include "engine/sinks/redis-conn.h"
#include "engine/sinks/sink-util.h"

typedef struct {
    VgRedisConn conn;
    char *key;
    char *mode;
    int64_t maxlen;
    char *channel;
    bool dedup;
    int64_t dedup_ttl_ms;
} RedisConf;

static const VgConfOption redis_options[] = {
    VG_REDIS_CONN_OPTIONS(RedisConf, conn),
    {"key", VG_CT_STRING, offsetof(RedisConf, key), "vigil:alerts", 0, 0, NULL, 0, NULL,
     "stream or list key"},
    {"mode", VG_CT_STRING, offsetof(RedisConf, mode), "stream", 0, 0, "stream|list", 0, NULL,
     "stream: XADD; list: RPUSH of the JSON (Logstash's redis input, data_type => list)"},
    {"maxlen", VG_CT_INT, offsetof(RedisConf, maxlen), "100000", 0, 1e12, NULL, 0, NULL,
     "approximate cap of the stream (MAXLEN ~) or exact cap of the list (LTRIM); 0: none"},
    {"channel", VG_CT_STRING, offsetof(RedisConf, channel), NULL, 0, 0, NULL, 0, NULL,
     "also PUBLISH each alert's JSON on this channel"},
    {"dedup", VG_CT_BOOL, offsetof(RedisConf, dedup), "true", 0, 0, NULL, 0, NULL,
     "drop alerts whose event.id Redis has already seen (retries, replays)"},
    {"dedup_ttl", VG_CT_DURATION, offsetof(RedisConf, dedup_ttl_ms), "7d", 1, 1e8, NULL, 0, NULL,
     "how long Redis remembers an event.id"},
    {0},
};

/* One call adds up to PER_CALL alerts: one script call per alert would cost Redis more in
 * Lua set-up than in the work itself. KEYS[1] is the stream or list, KEYS[1+i] the marker
 * of alert i. ARGV: mode, marker TTL (s), maxlen (0: none), channel ("": none), then 7
 * values per alert: json, id, rule, severity, entity, token_id, client_ip ("" = absent).
 * Returns the number added (the others were duplicates). On an error the failing alert's
 * marker is removed again and the error returned; alerts before it in the call stay (the
 * retry finds their markers), alerts after it were not touched. */
static const char dedup_script[] =
    "local mode, ttl, max, chan = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]\n"
    "local added = 0\n"
    "for i = 1, #KEYS - 1 do\n"
    "  local b = 4 + (i - 1) * 7\n"
    "  if redis.call('SET', KEYS[i + 1], '1', 'NX', 'EX', ttl) then\n"
    "    local ok, err\n"
    "    if mode == 'list' then\n"
    "      ok, err = pcall(redis.call, 'RPUSH', KEYS[1], ARGV[b + 1])\n"
    "    else\n"
    "      local f = {'alert', ARGV[b + 1], 'id', ARGV[b + 2], 'rule', ARGV[b + 3],\n"
    "                 'severity', ARGV[b + 4], 'entity', ARGV[b + 5]}\n"
    "      if ARGV[b + 6] ~= '' then f[#f + 1] = 'token_id'; f[#f + 1] = ARGV[b + 6] end\n"
    "      if ARGV[b + 7] ~= '' then f[#f + 1] = 'client_ip'; f[#f + 1] = ARGV[b + 7] end\n"
    "      if max > 0 then\n"
    "        ok, err = pcall(redis.call, 'XADD', KEYS[1], 'MAXLEN', '~', ARGV[3], '*', unpack(f))\n"
    "      else\n"
    "        ok, err = pcall(redis.call, 'XADD', KEYS[1], '*', unpack(f))\n"
    "      end\n"
    "    end\n"
    "    if not ok then\n"
    "      redis.call('DEL', KEYS[i + 1])\n"
    "      return redis.error_reply(tostring(type(err) == 'table' and err.err or err))\n"
    "    end\n"
    "    if chan ~= '' then redis.call('PUBLISH', chan, ARGV[b + 1]) end\n"
    "    added = added + 1\n"
    "  end\n"
    "end\n"
    "if mode == 'list' and max > 0 and added > 0 then redis.call('LTRIM', KEYS[1], -max, -1) end\n"
    "return added\n";

#define PER_CALL 400
#define MAX_ARGS 32 /* one plain XADD */

typedef struct {
    VgSink base;
    RedisConf c;
    redisContext *ctx;
    char sha[41];
    char ttl_s[24], maxlen_s[24];
    GString *marker;  /* dedup marker keys of one script call, NUL-separated */
    GString *numbers; /* severities of one script call, NUL-separated */
    GArray *argv;     /* const char *, arguments of one script call */
    GArray *argvlen;  /* size_t */
    uint64_t duplicates;
} VgRedisSink;

static void drop(VgRedisSink *s)
{
    if (s->ctx)
        redisFree(s->ctx);
    s->ctx = NULL;
}

static int redis_connect(VgRedisSink *s, GError **err)
{
    if (!(s->ctx = vg_redis_connect(&s->c.conn, err)))
        return VG_EIO;
    if (s->c.dedup) {
        const char *a[] = {"SCRIPT", "LOAD", dedup_script};
        redisReply *r = vg_redis_command(s->ctx, "SCRIPT LOAD", 3, a, NULL, NULL, err);
        bool ok = r && r->type == REDIS_REPLY_STRING && r->len == 40;
        if (ok)
            memcpy(s->sha, r->str, 41);
        else if (r)
            g_set_error(err, VG_ERROR, VG_EIO, "redis SCRIPT LOAD: unexpected reply");
        if (r)
            freeReplyObject(r);
        if (!ok) {
            drop(s);
            return VG_EIO;
        }
    }
    s->base.reconnects++;
    return VG_OK;
}

static VgSink *redis_create(const VgSinkOps *ops, const VgConfNode *section, GError **err)
{
    VgRedisSink *s = g_new0(VgRedisSink, 1);
    s->base.ops = ops;
    s->marker = g_string_sized_new(4096);
    s->numbers = g_string_sized_new(512);
    s->argv = g_array_new(FALSE, FALSE, sizeof(const char *));
    s->argvlen = g_array_new(FALSE, FALSE, sizeof(size_t));
    if (vg_conf_apply(redis_options, &s->c, section, err) < 0)
        goto fail;
    if (vg_redis_conn_check(&s->c.conn, section, err) != VG_OK)
        goto fail;
    snprintf(s->ttl_s, sizeof s->ttl_s, "%" G_GINT64_FORMAT, MAX(1, s->c.dedup_ttl_ms / 1000));
    snprintf(s->maxlen_s, sizeof s->maxlen_s, "%" G_GINT64_FORMAT, s->c.maxlen);
    /* Not connecting here: the server may be down at start; the first write connects. */
    return &s->base;
fail:
    vg_conf_clear(redis_options, &s->c);
    g_string_free(s->marker, TRUE);
    g_string_free(s->numbers, TRUE);
    g_array_free(s->argv, TRUE);
    g_array_free(s->argvlen, TRUE);
    g_free(s);
    return NULL;
}

static void arg(VgRedisSink *s, const char *p, size_t len)
{
    g_array_append_val(s->argv, p);
    g_array_append_val(s->argvlen, len);
}

/* Appends one script call for recs[0..n) (n <= PER_CALL). Strings formatted here live in
 * marker and numbers until the call is appended (hiredis copies the arguments at once);
 * they are referred to by offset first, because the buffers may move while they grow. */
static int append_script(VgRedisSink *s, const VgAlertRecord *const *recs, size_t n)
{
    g_string_truncate(s->marker, 0);
    g_string_truncate(s->numbers, 0);
    size_t mk[PER_CALL], sv[PER_CALL];
    for (size_t i = 0; i < n; i++) {
        mk[i] = s->marker->len;
        g_string_append_printf(s->marker, "%s:ids:%s", s->c.key, recs[i]->id);
        g_string_append_c(s->marker, '\0');
        sv[i] = s->numbers->len;
        g_string_append_printf(s->numbers, "%d", (int)recs[i]->severity);
        g_string_append_c(s->numbers, '\0');
    }
    char nkeys[24];
    snprintf(nkeys, sizeof nkeys, "%zu", n + 1);
    g_array_set_size(s->argv, 0);
    g_array_set_size(s->argvlen, 0);
    arg(s, "EVALSHA", 7);
    arg(s, s->sha, 40);
    arg(s, nkeys, strlen(nkeys));
    arg(s, s->c.key, strlen(s->c.key));
    for (size_t i = 0; i < n; i++)
        arg(s, s->marker->str + mk[i], strlen(s->marker->str + mk[i]));
    const char *mode = s->c.mode[0] == 'l' ? "list" : "stream";
    const char *chan = s->c.channel ? s->c.channel : "";
    arg(s, mode, strlen(mode));
    arg(s, s->ttl_s, strlen(s->ttl_s));
    arg(s, s->maxlen_s, strlen(s->maxlen_s));
    arg(s, chan, strlen(chan));
    for (size_t i = 0; i < n; i++) {
        const VgAlertRecord *r = recs[i];
        const char *v[] = {r->id,          r->rule_id,  s->numbers->str + sv[i],
                           r->entity_type, r->token_id, r->client_ip};
        arg(s, r->json, r->json_len);
        for (size_t k = 0; k < VG_ARRAY_LEN(v); k++)
            arg(s, v[k] ? v[k] : "", v[k] ? strlen(v[k]) : 0);
    }
    return redisAppendCommandArgv(s->ctx, (int)s->argv->len, (const char **)s->argv->data,
                                  (const size_t *)s->argvlen->data) == REDIS_OK
               ? VG_OK
               : VG_EIO;
}

/* Appends one record's plain command (dedup off). */
static int append_one(VgRedisSink *s, const VgAlertRecord *r)
{
    const char *argv[MAX_ARGS];
    size_t len[MAX_ARGS];
    int n = 0;
#define ARG(p, l) (argv[n] = (p), len[n] = (l), n++)
#define ARGS(p)   ARG((p), strlen(p))
    char sev[4];
    snprintf(sev, sizeof sev, "%d", (int)r->severity);
    bool list = s->c.mode[0] == 'l';
    if (list) {
        ARGS("RPUSH");
        ARGS(s->c.key);
        ARG(r->json, r->json_len);
    } else {
        ARGS("XADD");
        ARGS(s->c.key);
        if (s->c.maxlen > 0) {
            ARGS("MAXLEN");
            ARGS("~");
            ARGS(s->maxlen_s);
        }
        ARGS("*");
        ARGS("alert");
        ARG(r->json, r->json_len);
    }
    if (!list) {
        ARGS("id");
        ARGS(r->id);
        ARGS("rule");
        ARGS(r->rule_id);
        ARGS("severity");
        ARGS(sev);
        ARGS("entity");
        ARGS(r->entity_type ? r->entity_type : "");
        if (r->token_id && *r->token_id) {
            ARGS("token_id");
            ARGS(r->token_id);
        }
        if (r->client_ip && *r->client_ip) {
            ARGS("client_ip");
            ARGS(r->client_ip);
        }
    }
#undef ARG
#undef ARGS
    return redisAppendCommandArgv(s->ctx, n, argv, len) == REDIS_OK ? VG_OK : VG_EIO;
}

/* Commands that are not pipelined through the script (no dedup) still need their
 * PUBLISH; appended right after each record's command. */
static int append_publish(VgRedisSink *s, const VgAlertRecord *r)
{
    const char *argv[] = {"PUBLISH", s->c.channel, r->json};
    size_t len[] = {7, strlen(s->c.channel), r->json_len};
    return redisAppendCommandArgv(s->ctx, 3, argv, len) == REDIS_OK ? VG_OK : VG_EIO;
}

static int redis_write(VgSink *sink, const VgAlertRecord *const *recs, size_t n, GError **err)
{
    VgRedisSink *s = (VgRedisSink *)sink;
    if (!s->ctx && redis_connect(s, err) < 0)
        return VG_EIO;
    bool publish = s->c.channel && !s->c.dedup;
    size_t cmds = 0;
    for (size_t i = 0; i < n;) {
        size_t c = s->c.dedup ? MIN(n - i, (size_t)PER_CALL) : 1;
        int r = s->c.dedup ? append_script(s, recs + i, c) : append_one(s, recs[i]);
        if (r == VG_OK && publish)
            r = append_publish(s, recs[i]);
        if (r < 0) {
            g_set_error(err, VG_ERROR, VG_EIO, "redis: %s", s->ctx->errstr);
            drop(s);
            return VG_EIO;
        }
        cmds += publish ? 2 : 1;
        i += c;
    }
    if (!s->c.dedup && s->c.mode[0] == 'l' && s->c.maxlen > 0) {
        char neg[32];
        snprintf(neg, sizeof neg, "-%s", s->maxlen_s);
        const char *a[] = {"LTRIM", s->c.key, neg, "-1"};
        if (redisAppendCommandArgv(s->ctx, 4, a, NULL) != REDIS_OK) {
            g_set_error(err, VG_ERROR, VG_EIO, "redis: %s", s->ctx->errstr);
            drop(s);
            return VG_EIO;
        }
        cmds++;
    }
    uint64_t added = 0;
    /* Read every reply, even after an error reply, so the connection stays in step. */
    char *first_error = NULL;
    bool noscript = false;
    for (size_t i = 0; i < cmds; i++) {
        redisReply *r = NULL;
        if (redisGetReply(s->ctx, (void **)&r) != REDIS_OK || !r) {
            bool timeout = s->ctx->err == REDIS_ERR_IO && (errno == EAGAIN || errno == EWOULDBLOCK);
            g_free(first_error);
            if (timeout)
                g_set_error(err, VG_ERROR, VG_EIO, "redis: no reply within %" G_GINT64_FORMAT " ms",
                            s->c.conn.timeout_ms);
            else
                g_set_error(err, VG_ERROR, VG_EIO, "redis: %s", s->ctx->errstr);
            drop(s);
            return VG_EIO;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            if (!first_error)
                first_error = g_strndup(r->str, r->len);
            noscript |= g_str_has_prefix(r->str, "NOSCRIPT");
        } else if (s->c.dedup && r->type == REDIS_REPLY_INTEGER) {
            added += (uint64_t)r->integer;
        }
        freeReplyObject(r);
    }
    if (s->c.dedup)
        s->duplicates += n - MIN(n, added);
    if (first_error) {
        g_set_error(err, VG_ERROR, VG_EIO, "redis: %s", first_error);
        g_free(first_error);
        if (noscript)
            drop(s); /* script cache flushed: reconnect loads it again */
        return VG_EIO;
    }
    return VG_OK;
}

static void redis_destroy(VgSink *sink)
{
    VgRedisSink *s = (VgRedisSink *)sink;
    if (!s)
        return;
    if (s->duplicates) {
        char n[24];
        vg_log_info("redis dropped alerts it had already stored", "sink", sink->instance,
                    "duplicates", vg_sinks_u64(n, s->duplicates));
    }
    drop(s);
    vg_conf_clear(redis_options, &s->c);
    g_string_free(s->marker, TRUE);
    g_string_free(s->numbers, TRUE);
    g_array_free(s->argv, TRUE);
    g_array_free(s->argvlen, TRUE);
    g_free(s);
}

const VgSinkOps vg_sink_redis_ops = {
    .name = "redis",
    .options = redis_options,
    .create = redis_create,
    .write = redis_write,
    .flush = NULL,
    .reopen = NULL,
    .destroy = redis_destroy,
};

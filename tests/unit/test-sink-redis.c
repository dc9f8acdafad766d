/* test-sink-redis.c — the Redis sink against a real redis-server started on a free
 * loopback port: stream fields, dedup by event.id, list mode, PUBLISH, AUTH (password and
 * ACL user), SELECT, command timeout, and an outage in the middle (spool, then exactly
 * once). Skipped when redis-server is not installed. */
#include "redis-test-util.h"

#include <stdio.h>

#include "engine/sinks/delivery.h"
#include "engine/sinks/sinks.h"

static void setup(void)
{
    vg_sinks_register();
    redis_test_init();
}

TestSuite(redis, .init = setup, .fini = redis_test_fini);

static VgDelivery *make(const char *sink_opts)
{
    char *t = g_strdup_printf("sinks:\n  - type: redis\n    port: %d\n%sspool:\n  dir: %s/spool\n"
                              "  retry_min: 5ms\n  retry_max: 20ms\n",
                              port, sink_opts ? sink_opts : "", dir);
    GError *err = NULL;
    VgConfNode *root = vg_conf_load_string(t, strlen(t), "test.yml", &err);
    cr_assert(root, "%s", err ? err->message : "");
    VgDelivery *d = vg_delivery_new(vg_conf_get(root, "sinks"), vg_conf_get(root, "spool"), &err);
    cr_assert(d, "%s", err ? err->message : "");
    vg_conf_node_free(root);
    g_free(t);
    return d;
}

static void push_n(VgDelivery *d, int from, int to)
{
    for (int i = from; i < to; i++) {
        char id[32], json[96], ip[32];
        snprintf(id, sizeof id, "id-%d", i);
        snprintf(json, sizeof json, "{\"event\":{\"id\":\"id-%d\"},\"n\":%d}", i, i);
        snprintf(ip, sizeof ip, "192.0.2.%d", i % 200);
        VgAlertRecord r = {.json = json,
                           .json_len = strlen(json),
                           .id = id,
                           .rule_id = "plaintext_http",
                           .rule_name = "Plain HTTP",
                           .severity = VG_SEV_MEDIUM,
                           .entity_type = "token",
                           .token_id = i % 2 ? "0123456789abcdef" : "",
                           .client_ip = ip,
                           .score = 2.5,
                           .time_ms = i};
        cr_assert_eq(vg_delivery_push(d, &r), VG_OK);
    }
}

static long long cmd_int(redisContext *c, const char *fmt, const char *arg)
{
    redisReply *r = redisCommand(c, fmt, arg);
    cr_assert(r && r->type == REDIS_REPLY_INTEGER, "%s: %s", fmt,
              r && r->type == REDIS_REPLY_ERROR ? r->str : "?");
    long long v = r->integer;
    freeReplyObject(r);
    return v;
}

/* The ids in the stream, in order; each must appear once. */
static void assert_stream_ids(redisContext *c, const char *key, int n)
{
    redisReply *r = redisCommand(c, "XRANGE %s - +", key);
    cr_assert(r && r->type == REDIS_REPLY_ARRAY);
    cr_assert_eq(r->elements, (size_t)n, "stream has %zu entries, want %d", r->elements, n);
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *fields = r->element[i]->element[1];
        char want[32];
        snprintf(want, sizeof want, "id-%zu", i);
        bool found = false;
        for (size_t f = 0; f + 1 < fields->elements; f += 2)
            if (!strcmp(fields->element[f]->str, "id")) {
                cr_assert_str_eq(fields->element[f + 1]->str, want);
                found = true;
            }
        cr_assert(found);
    }
    freeReplyObject(r);
}

Test(redis, stream_entry_has_json_and_filter_fields)
{
    if (!have_redis())
        return;
    start_server(NULL);
    VgDelivery *d = make(NULL);
    push_n(d, 0, 2);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    redisContext *c = client();
    redisReply *r = redisCommand(c, "XRANGE vigil:alerts - +");
    cr_assert_eq(r->elements, 2);
    redisReply *f = r->element[1]->element[1];
    const char *want[] = {"alert",     "{\"event\":{\"id\":\"id-1\"},\"n\":1}",
                          "id",        "id-1",
                          "rule",      "plaintext_http",
                          "severity",  "2",
                          "entity",    "token",
                          "token_id",  "0123456789abcdef",
                          "client_ip", "192.0.2.1"};
    cr_assert_eq(f->elements, VG_ARRAY_LEN(want));
    for (size_t i = 0; i < VG_ARRAY_LEN(want); i++)
        cr_assert_str_eq(f->element[i]->str, want[i]);
    /* record 0 has no token: no token_id field */
    cr_assert_eq(r->element[0]->element[1]->elements, VG_ARRAY_LEN(want) - 2);
    freeReplyObject(r);
    long long ttl = cmd_int(c, "TTL %s", "vigil:alerts:ids:id-1");
    cr_assert(ttl > 6 * 86400 && ttl <= 7 * 86400, "marker TTL %lld", ttl);
    redisFree(c);
    VgSinkStats st;
    vg_delivery_stats(d, 0, &st);
    cr_assert_eq(st.delivered, 2);
    cr_assert_eq(st.reconnects, 1);
    vg_delivery_free(d);
}

Test(redis, replay_is_deduplicated_by_event_id)
{
    if (!have_redis())
        return;
    start_server(NULL);
    VgDelivery *d = make("    maxlen: 0\n");
    push_n(d, 0, 50);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    vg_delivery_free(d);
    d = make("    maxlen: 0\n"); /* a second run over the same input */
    push_n(d, 0, 60);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    vg_delivery_free(d);
    redisContext *c = client();
    assert_stream_ids(c, "vigil:alerts", 60);
    redisFree(c);
}

Test(redis, without_dedup_it_is_at_least_once)
{
    if (!have_redis())
        return;
    start_server(NULL);
    for (int run = 0; run < 2; run++) {
        VgDelivery *d = make("    dedup: false\n    key: k\n");
        push_n(d, 0, 5);
        cr_assert_eq(vg_delivery_flush(d), VG_OK);
        vg_delivery_free(d);
    }
    redisContext *c = client();
    cr_assert_eq(cmd_int(c, "XLEN %s", "k"), 10);
    cr_assert_eq(cmd_int(c, "EXISTS %s", "k:ids:id-0"), 0);
    redisFree(c);
}

Test(redis, list_mode_and_trim)
{
    if (!have_redis())
        return;
    start_server(NULL);
    VgDelivery *d = make("    mode: list\n    key: logstash\n    maxlen: 3\n");
    push_n(d, 0, 5);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    vg_delivery_free(d);
    redisContext *c = client();
    redisReply *r = redisCommand(c, "LRANGE logstash 0 -1");
    cr_assert_eq(r->elements, 3, "trimmed to the newest 3");
    cr_assert_str_eq(r->element[0]->str, "{\"event\":{\"id\":\"id-2\"},\"n\":2}");
    cr_assert_str_eq(r->element[2]->str, "{\"event\":{\"id\":\"id-4\"},\"n\":4}");
    freeReplyObject(r);
    redisFree(c);
}

static void check_publish(const char *opts)
{
    start_server(NULL);
    redisContext *sub = client();
    redisReply *r = redisCommand(sub, "SUBSCRIBE alerts-live");
    freeReplyObject(r);
    VgDelivery *d = make(opts);
    push_n(d, 0, 2);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(redisGetReply(sub, (void **)&r), REDIS_OK);
        cr_assert_str_eq(r->element[0]->str, "message");
        char want[96];
        snprintf(want, sizeof want, "{\"event\":{\"id\":\"id-%d\"},\"n\":%d}", i, i);
        cr_assert_str_eq(r->element[2]->str, want);
        freeReplyObject(r);
    }
    redisFree(sub);
    vg_delivery_free(d);
}

Test(redis, publish_with_dedup)
{
    if (have_redis())
        check_publish("    channel: alerts-live\n");
}

Test(redis, publish_without_dedup)
{
    if (have_redis())
        check_publish("    channel: alerts-live\n    dedup: false\n");
}

Test(redis, acl_user_password_and_db)
{
    if (!have_redis())
        return;
    const char *acl[] = {"--user", "vigil", "on", ">s3cret", "~vigil:*", "&*", "+@all", NULL};
    start_server(acl);
    /* wrong password: the write fails, and the record is spooled, not lost */
    VgDelivery *d = make("    user: vigil\n    password: wrong\n    db: 3\n");
    push_n(d, 0, 1);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    VgSinkStats st;
    vg_delivery_stats(d, 0, &st);
    cr_assert(st.down);
    cr_assert_eq(st.spool_records, 1);
    vg_delivery_free(d);
    /* right password: the spooled record goes first */
    d = make("    user: vigil\n    password: s3cret\n    db: 3\n");
    push_n(d, 1, 2);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    vg_delivery_free(d);
    redisContext *c = client();
    freeReplyObject(redisCommand(c, "AUTH vigil s3cret"));
    freeReplyObject(redisCommand(c, "SELECT 3"));
    assert_stream_ids(c, "vigil:alerts", 2);
    redisFree(c);
}

Test(redis, password_only)
{
    if (!have_redis())
        return;
    const char *pw[] = {"--requirepass", "pw", NULL};
    start_server(pw);
    VgDelivery *d = make("    password: pw\n");
    push_n(d, 0, 3);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    VgSinkStats st;
    vg_delivery_stats(d, 0, &st);
    cr_assert_eq(st.delivered, 3);
    vg_delivery_free(d);
}

Test(redis, command_timeout_then_exactly_once)
{
    if (!have_redis())
        return;
    start_server(NULL);
    VgDelivery *d = make("    timeout: 100ms\n");
    push_n(d, 0, 10);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    /* the server stops answering writes for 600 ms */
    redisContext *c = client();
    freeReplyObject(redisCommand(c, "CLIENT PAUSE 600 WRITE"));
    push_n(d, 10, 20);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    VgSinkStats st;
    vg_delivery_stats(d, 0, &st);
    cr_assert(st.down, "a timed-out write marks the sink down");
    cr_assert_eq(vg_delivery_close(d, 5000, NULL), VG_OK);
    vg_delivery_free(d);
    /* the paused commands ran after the pause, and the retry found them: once each */
    assert_stream_ids(c, "vigil:alerts", 20);
    redisFree(c);
}

Test(redis, outage_spools_and_recovers_exactly_once)
{
    if (!have_redis())
        return;
    start_server(NULL);
    VgDelivery *d = make(NULL);
    push_n(d, 0, 100);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    stop_server(SIGKILL);
    for (int b = 100; b < 300; b += 50) {
        push_n(d, b, b + 50);
        cr_assert_eq(vg_delivery_flush(d), VG_OK);
        cr_assert_eq(vg_delivery_delivered_upto(d), (uint64_t)b + 50, "spooled counts");
    }
    VgSinkStats st;
    vg_delivery_stats(d, 0, &st);
    cr_assert(st.down);
    cr_assert_eq(st.spool_records, 200);
    start_server(NULL);
    cr_assert_eq(vg_delivery_close(d, 5000, NULL), VG_OK);
    vg_delivery_stats(d, 0, &st);
    cr_assert_eq(st.spool_records, 0);
    cr_assert_eq(st.reconnects, 2);
    vg_delivery_free(d);
    redisContext *c = client();
    assert_stream_ids(c, "vigil:alerts", 300);
    redisFree(c);
}

Test(redis, unreachable_at_start_is_not_a_config_error)
{
    if (!have_redis())
        return;
    VgDelivery *d = make("    connect_timeout: 50ms\n");
    push_n(d, 0, 3);
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
    GError *err = NULL;
    cr_assert_eq(vg_delivery_close(d, 0, &err), VG_EAGAIN);
    cr_assert(strstr(err->message, "3 alerts left in the spool"), "%s", err->message);
    g_error_free(err);
    vg_delivery_free(d);
}

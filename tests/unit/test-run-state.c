/* test-run-state.c — the pipelines of `vigil run` (engine/cli-run-state.c) and the state of
 * partitions in Redis (engine/sinks/state-redis.c), against a real redis-server: one
 * pipeline per partition, save and load through Redis into another instance (same
 * snapshot, offsets, counters not carried over), missing, corrupt and misplaced values,
 * Redis down and back, and the configuration checks. Skipped without redis-server. */
#include "redis-test-util.h"

#include "engine/cli-run-state.h"
#include "engine/wiring.h"

static void setup(void)
{
    vg_register_all();
    redis_test_init();
}

TestSuite(run_state, .init = setup, .fini = redis_test_fini);

static int sink_push(void *user, const VgAlertRecord *r)
{
    (void)user;
    (void)r;
    return VG_OK;
}

typedef struct {
    VgSettings *s;
    VgCheckpointConf cconf;
    VgCheckpointer *w;
    VgRunState *st;
} Instance;

/* An instance as `vigil run` builds it with checkpoint.redis on the test server (extra:
 * more YAML under checkpoint.redis). */
static void instance_open(Instance *in, const char *extra)
{
    char *y = g_strdup_printf("alerts:\n  cooldown: 0\nrules:\n  paths: []\n"
                              "checkpoint:\n  redis:\n    port: %d\n    key_prefix: t:state\n%s",
                              port, extra ? extra : "");
    char *path = g_build_filename(dir, "vigil.yml", NULL);
    cr_assert(g_file_set_contents(path, y, -1, NULL));
    GError *err = NULL;
    in->s = vg_settings_load(path, &err);
    cr_assert_not_null(in->s, "%s", err ? err->message : "");
    memset(&in->cconf, 0, sizeof in->cconf);
    cr_assert_eq(vg_checkpoint_conf_load(&in->cconf, in->s->checkpoint, &err), VG_OK);
    cr_assert_not_null(in->cconf.redis);
    VgStateRedis *r = vg_state_redis_new(in->cconf.redis, &err);
    cr_assert_not_null(r, "%s", err ? err->message : "");
    in->w = vg_checkpointer_new(&in->cconf);
    in->st = vg_run_state_new(in->s, (VgAlertOutput){NULL, sink_push, NULL}, true, r, in->w, "grp",
                              &err);
    cr_assert_not_null(in->st, "%s", err ? err->message : "");
    cr_assert(vg_run_state_per_partition(in->st));
    g_free(path);
    g_free(y);
}

static void instance_close(Instance *in)
{
    vg_run_state_free(in->st);
    vg_checkpointer_free(in->w);
    vg_checkpoint_conf_clear(&in->cconf);
    vg_settings_free(in->s);
}

/* Lines [from, to) of partition's traffic (offset = line index), through its pipeline. */
static void feed(VgRunState *st, int32_t partition, int from, int to)
{
    VgLineBatch b;
    vg_line_batch_init(&b, (uint32_t)(to - from), 1 << 16);
    b.source = "kafka:access/x";
    b.partition = partition;
    for (int i = from; i < to; i++) {
        char line[256];
        int n = snprintf(line, sizeof line,
                         "{\"time\":%d000,\"client_ip\":\"10.0.%d.%d\",\"method\":\"GET\","
                         "\"scheme\":\"https\",\"host\":\"api\",\"path\":\"/v1/items/%d\","
                         "\"status\":200,\"token\":\"tk_%d_%d\"}",
                         1772445600 + i, partition, i % 7, i % 13, partition, i % 5);
        vg_line_batch_add(&b, line, (size_t)n, (uint64_t)i + 1, i, VG_BAD_NONE);
    }
    VgPipeline *p = vg_run_state_pipeline(st, partition);
    cr_assert_not_null(p);
    cr_assert_eq(vg_pipeline_process(p, &b), VG_OK);
    vg_line_batch_free(&b);
}

static uint64_t lines_total(VgRunState *st)
{
    VgPipelineStats ps;
    VgAlertStats as;
    vg_run_state_totals(st, &ps, &as);
    return ps.lines;
}

static redisReply *cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    cr_assert_not_null(r);
    return r;
}

Test(run_state, one_pipeline_per_partition_and_totals)
{
    have_redis();
    Instance a;
    instance_open(&a, NULL);
    VgPipeline *p0 = vg_run_state_pipeline(a.st, 0), *p1 = vg_run_state_pipeline(a.st, 1);
    cr_assert(p0 && p1 && p0 != p1);
    cr_assert_eq(vg_run_state_find(a.st, 2), NULL);
    cr_assert_eq(vg_run_state_count(a.st), 2);
    feed(a.st, 0, 0, 40);
    feed(a.st, 1, 0, 25);
    cr_assert_eq(lines_total(a.st), 65);
    vg_run_state_drop(a.st, 1);
    cr_assert_eq(vg_run_state_count(a.st), 1);
    cr_assert_eq(lines_total(a.st), 65, "a dropped partition's counters stay in the totals");
    VgModelsStats ms;
    size_t budget;
    cr_assert(vg_run_state_models(a.st, &ms, &budget));
    cr_assert_gt(ms.tracked, 0);
    cr_assert_gt(budget, 0);
    uint64_t gen;
    int nr, nc;
    cr_assert(vg_run_state_rules_info(a.st, &gen, &nr, &nc));
    cr_assert_eq(gen, 1);
    instance_close(&a);
}

Test(run_state, state_moves_through_redis)
{
    have_redis();
    start_server(NULL);
    Instance a, b;
    instance_open(&a, NULL);
    feed(a.st, 3, 0, 60);
    cr_assert_eq(vg_run_state_save(a.st, 3, "access", 7, 60, NULL), VG_OK);
    cr_assert_eq(vg_run_state_save(a.st, 4, "access", 8, 0, NULL), VG_ENOENT, "no pipeline");
    GByteArray *want = g_byte_array_new();
    vg_pipeline_snapshot(vg_run_state_find(a.st, 3), want);

    redisContext *c = client();
    redisReply *r = cmd(c, "PTTL t:state:grp:access:7");
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
    cr_assert(r->integer > 0 && r->integer <= 7LL * 86400 * 1000, "TTL %lld", r->integer);
    freeReplyObject(r);

    /* another instance, another local partition id for the same Kafka partition */
    instance_open(&b, NULL);
    int64_t next = -1;
    GError *err = NULL;
    cr_assert_eq(vg_run_state_load(b.st, 11, "access", 7, &next, &err), VG_OK, "%s",
                 err ? err->message : "");
    cr_assert_eq(next, 60);
    GByteArray *got = g_byte_array_new();
    vg_pipeline_snapshot(vg_run_state_find(b.st, 11), got);
    /* the reference: the same snapshot restored here, its figures read as the run state
     * reads them (reading the models' figures refreshes gauges kept in their snapshot) */
    VgPipeline *local =
        vg_pipeline_new(a.s, (VgAlertOutput){NULL, sink_push, NULL}, NULL, NULL, &err);
    cr_assert_eq(vg_pipeline_restore(local, want->data, want->len, &err), VG_OK);
    vg_models_stats(vg_pipeline_detector(local, "models"));
    g_byte_array_set_size(want, 0);
    vg_pipeline_snapshot(local, want);
    vg_pipeline_free(local);
    cr_assert_eq(got->len, want->len);
    cr_assert(!memcmp(got->data, want->data, want->len), "the same state after the move");
    cr_assert_eq(lines_total(b.st), 0, "the previous owner's counters do not come along");
    feed(b.st, 11, 60, 80);
    cr_assert_eq(lines_total(b.st), 20);
    VgModelsStats ms;
    size_t budget;
    cr_assert(vg_run_state_models(b.st, &ms, &budget));
    cr_assert_gt(ms.tracked, 0, "baselines came along");

    /* nothing stored: a fresh start, no error */
    cr_assert_eq(vg_run_state_load(b.st, 12, "access", 9, &next, &err), VG_ENOENT);
    cr_assert_null(err);

    /* garbage under the key: refused with the key and the reason */
    freeReplyObject(cmd(c, "SET t:state:grp:access:9 garbage"));
    cr_assert_eq(vg_run_state_load(b.st, 12, "access", 9, &next, &err), VG_EINVAL);
    cr_assert(strstr(err->message, "t:state:grp:access:9"), "%s", err->message);
    g_clear_error(&err);

    /* partition 7's state under partition 9's key: refused */
    freeReplyObject(cmd(c, "COPY t:state:grp:access:7 t:state:grp:access:9 REPLACE"));
    cr_assert_eq(vg_run_state_load(b.st, 12, "access", 9, &next, &err), VG_EINVAL);
    cr_assert(strstr(err->message, "another partition"), "%s", err->message);
    g_clear_error(&err);
    cr_assert_eq(vg_run_state_find(b.st, 12), NULL, "no pipeline from a refused state");

    redisFree(c);
    g_byte_array_free(want, TRUE);
    g_byte_array_free(got, TRUE);
    instance_close(&a);
    instance_close(&b);
}

/* Per partition, the models get models.memory_budget / the topics' partitions (at least
 * 1 MiB), after reloads too; a state moves between two instances that divide alike and is
 * refused by one whose tables have another size. */
Test(run_state, models_budget_divided_over_partitions)
{
    have_redis();
    start_server(NULL);
    Instance a, b;
    instance_open(&a, NULL);
    int64_t each = 0;
    GError *err = NULL;
    cr_assert_eq(vg_run_state_share(a.st), 0);
    cr_assert_eq(vg_run_state_share_models(a.st, 8, &each, &err), VG_OK, "%s",
                 err ? err->message : "");
    cr_assert_eq(each, (128 << 20) / 8, "default budget 128 MiB over 8 partitions");
    cr_assert_eq(vg_run_state_share(a.st), 8);
    feed(a.st, 0, 0, 30);
    feed(a.st, 1, 0, 30);
    VgModelsStats ms;
    size_t budget;
    cr_assert(vg_run_state_models(a.st, &ms, &budget));
    cr_assert_eq(budget, 2 * (size_t)each, "two partitions held: two shares");
    cr_assert_eq(
        vg_models_memory_budget(vg_pipeline_detector(vg_run_state_find(a.st, 0), "models")),
        (size_t)each);
    cr_assert_eq(vg_run_state_save(a.st, 0, "access", 0, 30, NULL), VG_OK);

    /* the same division elsewhere: the state loads */
    instance_open(&b, NULL);
    cr_assert_eq(vg_run_state_share_models(b.st, 8, &each, &err), VG_OK);
    int64_t next;
    cr_assert_eq(vg_run_state_load(b.st, 5, "access", 0, &next, &err), VG_OK, "%s",
                 err ? err->message : "");
    instance_close(&b);
    /* another division (the topic grew): refused, the partition starts fresh */
    instance_open(&b, NULL);
    cr_assert_eq(vg_run_state_share_models(b.st, 16, &each, &err), VG_OK);
    cr_assert_eq(vg_run_state_load(b.st, 5, "access", 0, &next, &err), VG_EINVAL);
    g_clear_error(&err);
    instance_close(&b);

    /* a floor of 1 MiB however many partitions */
    cr_assert_eq(vg_run_state_share_models(a.st, 100000, &each, &err), VG_OK);
    cr_assert_eq(each, 1 << 20);

    /* a reload keeps dividing the new budget */
    char *path = g_build_filename(dir, "reload.yml", NULL);
    cr_assert(g_file_set_contents(path, "rules:\n  paths: []\nmodels:\n  memory_budget: 64MiB\n",
                                  -1, NULL));
    VgSettings *ns = vg_settings_load(path, &err);
    cr_assert_not_null(ns, "%s", err ? err->message : "");
    cr_assert_eq(vg_run_state_share_models(a.st, 8, &each, &err), VG_OK);
    cr_assert_eq(vg_run_state_reconfigure(a.st, ns, &err), VG_OK, "%s", err ? err->message : "");
    VgPipeline *p = vg_run_state_pipeline(a.st, 9);
    cr_assert_eq(vg_models_memory_budget(vg_pipeline_detector(p, "models")), (64u << 20) / 8);
    g_free(path);
    instance_close(&a);
}

Test(run_state, redis_down_and_back)
{
    have_redis();
    start_server(NULL);
    Instance a;
    instance_open(&a, "    timeout: 500ms\n");
    feed(a.st, 0, 0, 10);
    GError *err = NULL;
    cr_assert_eq(vg_run_state_save(a.st, 0, "access", 0, 10, &err), VG_OK);
    stop_server(SIGKILL);
    cr_assert_eq(vg_run_state_save(a.st, 0, "access", 0, 10, &err), VG_EIO);
    cr_assert(strstr(err->message, "redis"), "%s", err->message);
    g_clear_error(&err);
    int64_t next;
    cr_assert_eq(vg_run_state_load(a.st, 1, "access", 0, &next, &err), VG_EIO);
    g_clear_error(&err);
    start_server(NULL);
    feed(a.st, 0, 10, 20);
    cr_assert_eq(vg_run_state_save(a.st, 0, "access", 0, 20, &err), VG_OK, "%s",
                 err ? err->message : "");
    cr_assert_eq(vg_run_state_load(a.st, 1, "access", 0, &next, &err), VG_OK);
    cr_assert_eq(next, 20);
    instance_close(&a);
}

static void conf_error(const char *yaml, const char *want)
{
    GError *err = NULL;
    VgConfNode *root = vg_conf_load_string(yaml, strlen(yaml), "t.yml", &err);
    cr_assert_not_null(root);
    VgCheckpointConf cc = {0};
    int rc = vg_checkpoint_conf_load(&cc, vg_conf_get(root, "checkpoint"), &err);
    VgStateRedis *r = NULL;
    if (rc == VG_OK) {
        r = vg_state_redis_new(cc.redis, &err);
        cr_assert_null(r, "%s accepted", yaml);
    }
    cr_assert(err && strstr(err->message, want), "%s: %s", yaml, err ? err->message : "-");
    cr_assert(strstr(err->message, "t.yml:"), "no location: %s", err->message);
    g_clear_error(&err);
    vg_checkpoint_conf_clear(&cc);
    vg_conf_node_free(root);
}

Test(run_state, config_errors)
{
    conf_error("checkpoint:\n  path: /tmp/x\n  redis:\n    port: 1\n", "exclude each other");
    conf_error("checkpoint:\n  redis:\n    user: u\n", "user needs a password");
    conf_error("checkpoint:\n  redis:\n    key_prefix: \"\"\n", "must not be empty");
    conf_error("checkpoint:\n  redis: [1]\n", "expected a map");
    conf_error("checkpoint:\n  redis:\n    port: 0\n", "port");
}

Test(run_state, key_format)
{
    GError *err = NULL;
    const char *y = "checkpoint:\n  redis:\n    key_prefix: p\n";
    VgConfNode *root = vg_conf_load_string(y, strlen(y), "t.yml", &err);
    VgCheckpointConf cc = {0};
    cr_assert_eq(vg_checkpoint_conf_load(&cc, vg_conf_get(root, "checkpoint"), &err), VG_OK);
    VgStateRedis *r = vg_state_redis_new(cc.redis, &err);
    cr_assert_not_null(r);
    char *k = vg_state_redis_key(r, "vigil", "gw.access", 5);
    cr_assert_str_eq(k, "p:vigil:gw.access:5");
    g_free(k);
    cr_assert_eq(vg_state_redis_conf(r)->ttl_ms, 7LL * 86400 * 1000);
    vg_state_redis_free(r);
    vg_checkpoint_conf_clear(&cc);
    vg_conf_node_free(root);
}

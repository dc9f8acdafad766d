/* Unit tests: the Kafka collector (collectors/collector-kafka*.c) — its config section
 * (required keys, reserved properties, ${ENV} and @file secrets that never show in errors
 * or dumps) and, against librdkafka's in-process mock cluster, what it hands out: payloads
 * split into lines, one partition per batch, offsets on every line, compressed topics,
 * marks that become commits a restarted consumer resumes from, pause and resume, and the
 * stall watchdog (a restart for a partition librdkafka stopped fetching; none for one vigil
 * paused, the merge throttled, or a checkpoint started at its end, nor while vigil is too
 * busy to read what librdkafka holds). */
#include "collectors/collector-kafka-int.h"

#include <criterion/criterion.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <unistd.h>

/* --- config ---------------------------------------------------------------------------- */

static VgConfNode *root;
static VgKafkaConf conf;

static int load(const char *yaml, GError **err)
{
    vg_conf_node_free(root);
    vg_kafka_conf_clear(&conf);
    root = vg_conf_load_string(yaml, strlen(yaml), "vigil.yml", err);
    cr_assert_not_null(root, "%s", (*err)->message);
    return vg_kafka_conf_load(&conf, vg_conf_get(root, "kafka"), err);
}

static void conf_teardown(void)
{
    vg_kafka_conf_clear(&conf);
    vg_conf_node_free(root);
    root = NULL;
}

TestSuite(kafka_conf, .fini = conf_teardown);

Test(kafka_conf, defaults_and_required)
{
    GError *err = NULL;
    cr_assert_eq(load("kafka:\n  brokers: b:9092\n  topics: access\n", &err), VG_OK);
    cr_assert_str_eq(conf.group, "vigil");
    cr_assert_str_eq(conf.topics[0], "access");
    cr_assert_null(conf.topics[1]);
    cr_assert_eq(conf.commit_interval_ms, 5000);
    cr_assert_str_eq(conf.start, "earliest");
    rd_kafka_conf_t *rc = vg_kafka_conf_build(&conf, NULL, &err);
    cr_assert_not_null(rc, "%s", err ? err->message : "");
    char val[64];
    size_t sz = sizeof val; /* a million, not librdkafka's 100,000: see vg_kafka_conf_build */
    cr_assert_eq(rd_kafka_conf_get(rc, "queued.min.messages", val, &sz), RD_KAFKA_CONF_OK);
    cr_assert_str_eq(val, "1000000");
    rd_kafka_conf_destroy(rc);

    cr_assert_eq(load("kafka:\n  topics: [a]\n", &err), VG_ECONFIG);
    cr_assert(strstr(err->message, "brokers"), "%s", err->message);
    g_clear_error(&err);
    cr_assert_eq(load("kafka:\n  brokers: b:1\n  topics: []\n", &err), VG_ECONFIG);
    cr_assert(strstr(err->message, "vigil.yml:3:"), "%s", err->message);
    g_clear_error(&err);
}

Test(kafka_conf, reserved_properties)
{
    GError *err = NULL;
    cr_assert_eq(load("kafka:\n  brokers: b:1\n  topics: a\n  properties:\n"
                      "    enable:\n      auto:\n        commit: true\n",
                      &err),
                 VG_ECONFIG);
    /* nested maps flatten to the dotted name, located at the value */
    cr_assert(strstr(err->message, "enable.auto.commit"), "%s", err->message);
    cr_assert(strstr(err->message, "vigil.yml:7:"), "%s", err->message);
    g_clear_error(&err);
    cr_assert_eq(load("kafka:\n  brokers: b:1\n  topics: a\n  properties: {group.id: x}\n", &err),
                 VG_ECONFIG);
    cr_assert(strstr(err->message, "kafka.group"), "%s", err->message);
    g_clear_error(&err);
}

Test(kafka_conf, secrets_from_env_and_files_never_shown)
{
    GError *err = NULL;
    g_unsetenv("VG_TEST_NOPE");
    cr_assert_eq(load("kafka:\n  brokers: b:1\n  topics: a\n  properties:\n"
                      "    sasl.password: ${VG_TEST_NOPE}\n",
                      &err),
                 VG_ECONFIG);
    cr_assert(strstr(err->message, "VG_TEST_NOPE is not set"), "%s", err->message);
    g_clear_error(&err);

    cr_assert_eq(load("kafka:\n  brokers: b:1\n  topics: a\n  properties:\n"
                      "    sasl.password: \"@/nonexistent/pass\"\n",
                      &err),
                 VG_ECONFIG);
    cr_assert(strstr(err->message, "secret file"), "%s", err->message);
    g_clear_error(&err);

    /* a refused value that came from the environment is not quoted back */
    g_setenv("VG_TEST_PROTO", "s3cr3t-value", TRUE);
    cr_assert_eq(load("kafka:\n  brokers: b:1\n  topics: a\n  properties:\n"
                      "    security.protocol: ${VG_TEST_PROTO}\n",
                      &err),
                 VG_OK);
    GPtrArray *secrets = g_ptr_array_new_with_free_func(g_free);
    cr_assert_null(vg_kafka_conf_build(&conf, secrets, &err));
    cr_assert(strstr(err->message, "security.protocol"), "%s", err->message);
    cr_assert_null(strstr(err->message, "s3cr3t"), "%s", err->message);
    g_clear_error(&err);
    g_ptr_array_free(secrets, TRUE);

    /* a file secret is read (trailing newline dropped) and collected for log scrubbing */
    char path[] = "/tmp/vg-kafka-secretXXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, "hunter2\n", 8), 8);
    close(fd);
    char *yaml = g_strdup_printf("kafka:\n  brokers: b:1\n  topics: a\n  properties:\n"
                                 "    sasl.username: vigil\n"
                                 "    sasl.password: \"@%s\"\n"
                                 "    ssl.key.password: literal-secret\n"
                                 "    fetch.wait.max.ms: 50\n"
                                 "    queued.min.messages: 5000\n",
                                 path);
    cr_assert_eq(load(yaml, &err), VG_OK);
    secrets = g_ptr_array_new_with_free_func(g_free);
    rd_kafka_conf_t *rc = vg_kafka_conf_build(&conf, secrets, &err);
    cr_assert_not_null(rc, "%s", err ? err->message : "");
    char val[64];
    size_t sz = sizeof val;
    cr_assert_eq(rd_kafka_conf_get(rc, "fetch.wait.max.ms", val, &sz), RD_KAFKA_CONF_OK);
    cr_assert_str_eq(val, "50");
    sz = sizeof val;
    cr_assert_eq(rd_kafka_conf_get(rc, "enable.auto.commit", val, &sz), RD_KAFKA_CONF_OK);
    cr_assert_str_eq(val, "false");
    sz = sizeof val; /* the operator's value wins over vigil's default */
    cr_assert_eq(rd_kafka_conf_get(rc, "queued.min.messages", val, &sz), RD_KAFKA_CONF_OK);
    cr_assert_str_eq(val, "5000");
    bool found = false;
    for (guint i = 0; i < secrets->len; i++)
        found |= !strcmp(secrets->pdata[i], "hunter2");
    cr_assert(found);
    rd_kafka_conf_destroy(rc);
    g_ptr_array_free(secrets, TRUE);

    GString *dump = g_string_new(NULL);
    vg_kafka_conf_dump(&conf, dump, 0);
    cr_assert_null(strstr(dump->str, "hunter2"), "%s", dump->str);
    cr_assert_null(strstr(dump->str, "literal-secret"), "%s", dump->str);
    cr_assert(strstr(dump->str, "ssl.key.password: \"********\""), "%s", dump->str);
    cr_assert(strstr(dump->str, path), "%s", dump->str); /* where it comes from is fine */
    cr_assert(strstr(dump->str, "fetch.wait.max.ms: \"50\""), "%s", dump->str);
    g_string_free(dump, TRUE);
    unlink(path);
    g_free(yaml);
}

/* --- against the mock cluster ---------------------------------------------------------- */

static rd_kafka_t *mock_rk, *producer;
static rd_kafka_mock_cluster_t *mc;
static char *bootstraps;

static void mock_setup(void)
{
    char errstr[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "log_level", "0", errstr, sizeof errstr);
    mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    cr_assert_not_null(mock_rk, "%s", errstr);
    mc = rd_kafka_mock_cluster_new(mock_rk, 3);
    cr_assert_not_null(mc);
    bootstraps = g_strdup(rd_kafka_mock_cluster_bootstraps(mc));
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "access", 3, 3), 0);
    c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", bootstraps, errstr, sizeof errstr);
    rd_kafka_conf_set(c, "linger.ms", "0", errstr, sizeof errstr);
    producer = rd_kafka_new(RD_KAFKA_PRODUCER, c, errstr, sizeof errstr);
    cr_assert_not_null(producer, "%s", errstr);
}

static void mock_teardown(void)
{
    conf_teardown();
    rd_kafka_destroy(producer);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mock_rk);
    g_free(bootstraps);
}

static void produce(int32_t partition, const char *payload)
{
    rd_kafka_resp_err_t e =
        rd_kafka_producev(producer, RD_KAFKA_V_TOPIC("access"), RD_KAFKA_V_PARTITION(partition),
                          RD_KAFKA_V_VALUE((void *)payload, strlen(payload)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    cr_assert_eq(e, 0, "%s", rd_kafka_err2str(e));
}

/* Produces one message, the line prefix-i, to partition p. */
static void produce_nth(int32_t p, const char *prefix, int i)
{
    char line[32];
    g_snprintf(line, sizeof line, "%s-%03d", prefix, i);
    produce(p, line);
}

static void produce_flush(void)
{
    cr_assert_eq(rd_kafka_flush(producer, 10000), 0);
}

/* The mock's group coordinator waits max.poll.interval.ms for a member that left before
 * it lets a new one in: keep that short. */
/* A collector on the mock from the kafka: section yaml (freed here). */
static VgKafkaCollector *open_yaml_opts(char *yaml, const VgKafkaCollectorOpts *o)
{
    GError *err = NULL;
    cr_assert_eq(load(yaml, &err), VG_OK, "%s", err ? err->message : "");
    g_free(yaml);
    VgKafkaCollector *c = vg_kafka_collector_open(&conf, o, &err);
    cr_assert_not_null(c, "%s", err ? err->message : "");
    return c;
}

static VgKafkaCollector *open_yaml(char *yaml)
{
    VgKafkaCollectorOpts o = {.max_line_bytes = 100};
    return open_yaml_opts(yaml, &o);
}

/* The kafka section of the tests on the mock cluster (g_free): group, then extra keys of
 * the section ("  key: value\n" lines), or NULL. */
static char *collector_yaml(const char *group, const char *extra)
{
    return g_strdup_printf("kafka:\n  brokers: %s\n  topics: access\n  group: %s\n"
                           "  commit_interval: 0\n  properties:\n"
                           "    session.timeout.ms: 6000\n"
                           "    max.poll.interval.ms: 6000\n%s",
                           bootstraps, group, extra ? extra : "");
}

static VgKafkaCollector *open_collector(const char *group, const char *extra)
{
    return open_yaml(collector_yaml(group, extra));
}

typedef struct {
    int32_t partition;
    int64_t offset;
    uint64_t line_no;
    uint8_t bad;
    char *text;
} Got;

/* Reads until want lines arrived or 30 s passed; checks every batch's invariants. */
static GArray *read_lines(VgKafkaCollector *c, guint want, uint32_t max_lines, GArray *batches)
{
    GArray *got = g_array_new(FALSE, TRUE, sizeof(Got));
    VgLineBatch b;
    vg_line_batch_init(&b, max_lines, 1024);
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (got->len < want && g_get_monotonic_time() < deadline) {
        vg_line_batch_clear(&b);
        GError *err = NULL;
        int r = vg_kafka_collector_base(c)->ops->next(vg_kafka_collector_base(c), &b, &err);
        cr_assert(r == VG_OK || r == VG_EAGAIN, "next: %d %s", r, err ? err->message : "");
        if (r != VG_OK)
            continue;
        cr_assert(b.n > 0 && b.n <= max_lines);
        cr_assert(b.partition >= 0 && b.partition < 3);
        char want_src[32];
        g_snprintf(want_src, sizeof want_src, "kafka:access/%d", b.partition);
        cr_assert_str_eq(b.source, want_src);
        if (batches)
            g_array_append_val(batches, b.n);
        for (uint32_t i = 0; i < b.n; i++) {
            Got g = {b.partition, b.lines[i].offset, b.lines[i].line_no, b.lines[i].bad,
                     g_strndup(b.buf + b.lines[i].off, b.lines[i].len)};
            g_array_append_val(got, g);
        }
    }
    vg_line_batch_free(&b);
    return got;
}

static void got_free(GArray *a)
{
    for (guint i = 0; i < a->len; i++)
        g_free(g_array_index(a, Got, i).text);
    g_array_free(a, TRUE);
}

static const Got *find(GArray *a, const char *text)
{
    for (guint i = 0; i < a->len; i++)
        if (!strcmp(g_array_index(a, Got, i).text, text))
            return &g_array_index(a, Got, i);
    return NULL;
}

TestSuite(kafka_mock, .init = mock_setup, .fini = mock_teardown, .timeout = 120);

Test(kafka_mock, lines_offsets_partitions)
{
    produce(0, "a1\na2\n");
    produce(0, "a3");
    produce(1, "b1\r\n\nb2");
    produce(1, "");
    produce(2, "c1-this-line-is-longer-than-the-limit-of-one-hundred-bytes-"
               "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    produce_flush();
    VgKafkaCollector *c = open_collector("g-lines", NULL);
    GArray *got = read_lines(c, 6, 64, NULL);
    cr_assert_eq(got->len, 6);
    const Got *g = find(got, "a2");
    cr_assert(g && g->partition == 0 && g->offset == 0 && g->line_no == 2);
    g = find(got, "a3");
    cr_assert(g && g->partition == 0 && g->offset == 1 && g->line_no == 1);
    g = find(got, "b1"); /* \r dropped, the empty line skipped */
    cr_assert(g && g->partition == 1 && g->offset == 0);
    g = find(got, "b2");
    cr_assert(g && g->partition == 1 && g->offset == 0 && g->line_no == 2);
    bool long_seen = false;
    for (guint i = 0; i < got->len; i++) {
        const Got *x = &g_array_index(got, Got, i);
        if (x->partition == 2) {
            cr_assert_eq(strlen(x->text), 100);
            cr_assert_eq(x->bad, VG_BAD_TOO_LONG);
            long_seen = true;
        }
    }
    cr_assert(long_seen);
    /* the empty message has no line: it may come in a later fetch than the 6 lines did */
    VgKafkaStats st;
    VgLineBatch b;
    vg_line_batch_init(&b, 64, 1024);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    for (;;) {
        vg_kafka_collector_stats(c, &st);
        if (st.messages >= 5 || g_get_monotonic_time() > deadline)
            break;
        vg_line_batch_clear(&b);
        int r = vg_kafka_collector_base(c)->ops->next(vg_kafka_collector_base(c), &b, NULL);
        cr_assert(r == VG_EAGAIN, "no more lines, got %d", r);
    }
    vg_line_batch_free(&b);
    cr_assert_eq(st.lines, 6);
    cr_assert_eq(st.messages, 5);
    got_free(got);
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
}

Test(kafka_mock, compressed_and_split_messages)
{
    char errstr[256];
    rd_kafka_destroy(producer);
    rd_kafka_conf_t *pc = rd_kafka_conf_new();
    rd_kafka_conf_set(pc, "bootstrap.servers", bootstraps, errstr, sizeof errstr);
    rd_kafka_conf_set(pc, "compression.codec", "zstd", errstr, sizeof errstr);
    producer = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, sizeof errstr);
    cr_assert_not_null(producer);
    GString *big = g_string_new(NULL);
    for (int i = 1; i <= 10; i++)
        g_string_append_printf(big, "big-%d\n", i);
    produce(0, "first");
    produce(0, big->str); /* offset 1: 10 lines, batches of 4 */
    produce_flush();
    VgKafkaCollector *c = open_collector("g-split", NULL);
    GArray *sizes = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    GArray *got = read_lines(c, 11, 4, sizes);
    cr_assert_eq(got->len, 11);
    /* "first" fits with nothing else; the big message is split 4/4/2 and only its last
     * part carries offset 1 */
    cr_assert_eq(find(got, "first")->offset, 0);
    cr_assert_eq(find(got, "big-1")->offset, 0);
    cr_assert_eq(find(got, "big-8")->offset, 0);
    cr_assert_eq(find(got, "big-9")->offset, 1);
    cr_assert_eq(find(got, "big-10")->offset, 1);
    cr_assert_eq(find(got, "big-10")->line_no, 10);
    cr_assert_eq(sizes->len, 4, "batches: %u", sizes->len);
    g_array_free(sizes, TRUE);
    got_free(got);
    g_string_free(big, TRUE);
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
}

/* A message split across batches is reported partial until its last part is out, so the
 * run loop does not checkpoint a state that holds half of it. */
Test(kafka_mock, partial_message_reported)
{
    GString *big = g_string_new(NULL);
    for (int i = 1; i <= 10; i++)
        g_string_append_printf(big, "part-%d\n", i);
    produce(1, "alone");
    produce(1, big->str);
    produce_flush();
    VgKafkaCollector *c = open_collector("g-partial", NULL);
    VgCollector *base = vg_kafka_collector_base(c);
    VgLineBatch b;
    vg_line_batch_init(&b, 4, 1024);
    guint lines = 0, partial_seen = 0;
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (lines < 11 && g_get_monotonic_time() < deadline) {
        vg_line_batch_clear(&b);
        GError *err = NULL;
        if (base->ops->next(base, &b, &err) != VG_OK)
            continue;
        lines += b.n;
        const char *last = b.buf + b.lines[b.n - 1].off;
        bool mid = !strncmp(last, "part-", 5) && strncmp(last, "part-10", 7) != 0;
        cr_assert_eq(vg_kafka_collector_partial(c, b.partition), mid, "after '%.*s'",
                     (int)b.lines[b.n - 1].len, last);
        cr_assert_eq(vg_kafka_collector_partial(c, -1), mid);
        cr_assert_not(vg_kafka_collector_partial(c, b.partition + 1));
        partial_seen += mid;
    }
    cr_assert_eq(lines, 11);
    cr_assert_eq(partial_seen, 2, "the 10-line message goes out as 4, 4, 2");
    vg_line_batch_free(&b);
    g_string_free(big, TRUE);
    base->ops->close(base);
}

Test(kafka_mock, marks_commit_and_resume)
{
    for (int i = 0; i < 10; i++) {
        char line[32];
        g_snprintf(line, sizeof line, "p0-%d", i);
        produce(0, line);
    }
    produce_flush();
    VgKafkaCollector *c = open_collector("g-commit", NULL);
    GArray *got = read_lines(c, 10, 64, NULL);
    cr_assert_eq(got->len, 10);
    /* processed (and delivered) up to offset 5 only */
    vg_kafka_collector_mark(c, 0, 5);
    vg_kafka_collector_mark(c, 0, 3); /* marks never move back */
    GError *err = NULL;
    cr_assert_eq(vg_kafka_collector_commit(c, true, &err), VG_OK);
    VgKafkaStats st;
    vg_kafka_collector_stats(c, &st);
    cr_assert_eq(st.commits, 1);
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
    got_free(got);

    /* a restart in the same group resumes after the mark: at-least-once, nothing skipped */
    c = open_collector("g-commit", NULL);
    got = read_lines(c, 4, 64, NULL);
    cr_assert_eq(got->len, 4);
    cr_assert_str_eq(g_array_index(got, Got, 0).text, "p0-6");
    cr_assert_eq(g_array_index(got, Got, 0).offset, 6);
    got_free(got);
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
}

/* The next line read is text (produced before, or now when produce is set, to kp). */
static void expect_line(VgKafkaCollector *c, bool produce_it, int32_t kp, const char *text)
{
    if (produce_it) {
        produce(kp, text);
        produce_flush();
    }
    GArray *got = read_lines(c, 1, 64, NULL);
    cr_assert_eq(got->len, 1);
    cr_assert_str_eq(g_array_index(got, Got, 0).text, text);
    got_free(got);
}

/* For us microseconds, next() hands out nothing. */
static void expect_nothing_for(VgKafkaCollector *c, gint64 us, const char *why)
{
    VgLineBatch b;
    vg_line_batch_init(&b, 16, 256);
    for (gint64 until = g_get_monotonic_time() + us; g_get_monotonic_time() < until;) {
        vg_line_batch_clear(&b);
        cr_assert_eq(vg_kafka_collector_base(c)->ops->next(vg_kafka_collector_base(c), &b, NULL),
                     VG_EAGAIN, "%s", why);
    }
    vg_line_batch_free(&b);
}

static uint64_t restarts(VgKafkaCollector *c)
{
    VgKafkaStats st;
    vg_kafka_collector_stats(c, &st);
    return st.restarts;
}

/* "before" is read; then, paused for paused_us, next() hands nothing out although
 * "while-paused" was produced; once resumed, "while-paused" comes. */
static void pause_resume_round(VgKafkaCollector *c, gint64 paused_us)
{
    expect_line(c, true, 1, "before");
    vg_kafka_collector_pause(c);
    cr_assert(vg_kafka_collector_paused(c));
    produce(1, "while-paused");
    produce_flush();
    expect_nothing_for(c, paused_us, "a line came while paused");
    vg_kafka_collector_resume(c);
    expect_line(c, false, 1, "while-paused");
}

Test(kafka_mock, pause_and_resume)
{
    VgKafkaCollector *c = open_collector("g-pause", NULL);
    pause_resume_round(c, 3 * G_USEC_PER_SEC / 2);
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
}

/* What the run loop's pipeline does with a clock, in miniature: the newest event time
 * judged per partition (lines are "t=<ms>"). */
typedef struct {
    int64_t max[3];
    int64_t newest; /* over all partitions */
} Judge;

static int64_t judged_time(void *user, int32_t partition)
{
    return ((Judge *)user)->max[partition];
}

/* Joins the group and waits for all three partitions (next() serves the rebalance). */
static void join_all(VgKafkaCollector *c)
{
    VgCollector *base = vg_kafka_collector_base(c);
    VgLineBatch b;
    vg_line_batch_init(&b, 16, 1024);
    int32_t ids[8];
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (vg_kafka_collector_assignment(c, ids, 8) < 3 && g_get_monotonic_time() < deadline) {
        vg_line_batch_clear(&b);
        cr_assert_eq(base->ops->next(base, &b, NULL), VG_EAGAIN);
    }
    vg_line_batch_free(&b);
}

/* Produces n messages "t=<i*10+p>" to partition p; every tenth has three lines (so cuts
 * fall between messages). Returns the lines. */
static int produce_times(int32_t p, int n)
{
    int lines = 0;
    for (int i = 0; i < n; i++) {
        int t = i * 10 + p;
        char *m =
            i % 10 ? g_strdup_printf("t=%d", t) : g_strdup_printf("t=%d\nt=%d\nt=%d", t, t, t);
        produce(p, m);
        lines += i % 10 ? 1 : 3;
        g_free(m);
    }
    produce_flush();
    return lines;
}

typedef struct {
    int got, cuts, holds;
    void (*on_hold)(void); /* called at the first hold */
} MergeRun;

/* Reads want lines as the run loop does with one pipeline: judges each batch up to the
 * merge limit + slack and puts the rest back (all of it when the limit is a partition
 * with nothing queued). Checks the order the collector promises, and that no line is
 * judged more than 2 * slack behind the newest judged. */
static void merge_read(VgKafkaCollector *c, Judge *j, int want, MergeRun *run)
{
    VgCollector *base = vg_kafka_collector_base(c);
    const int64_t slack = 25;
    int64_t last_offset[3] = {-1, -1, -1};
    VgLineBatch b;
    vg_line_batch_init(&b, 16, 1024);
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (run->got < want && g_get_monotonic_time() < deadline) {
        vg_line_batch_clear(&b);
        if (base->ops->next(base, &b, NULL) != VG_OK)
            continue;
        int32_t p = b.partition;
        bool dry;
        int64_t lo = vg_kafka_collector_merge_limit(c, p, &dry);
        cr_assert(dry || lo >= j->max[p], "partition %d picked, but one queued is judged less far",
                  p);
        int64_t until = lo == INT64_MAX ? INT64_MAX : lo + slack;
        uint32_t k;
        for (k = 0; k < b.n; k++) {
            int64_t t = g_ascii_strtoll(b.buf + b.lines[k].off + 2, NULL, 10);
            if ((k || dry) && b.lines[k].line_no == 1 && t > until)
                break;
            cr_assert_geq(b.lines[k].offset, last_offset[p], "offsets in order");
            last_offset[p] = b.lines[k].offset;
            j->max[p] = MAX(j->max[p], t);
            j->newest = MAX(j->newest, t);
            cr_assert_leq(j->newest - t, 2 * slack,
                          "t=%" G_GINT64_FORMAT " judged while newest is %" G_GINT64_FORMAT, t,
                          j->newest);
            run->got++;
        }
        if (k < b.n) {
            vg_kafka_collector_unread(c, &b, k);
            run->cuts++;
            if (!k && !run->holds++ && run->on_hold)
                run->on_hold();
        }
    }
    cr_assert_eq(run->got, want, "got %d, cuts %d, holds %d, max %ld %ld %ld", run->got, run->cuts,
                 run->holds, (long)j->max[0], (long)j->max[1], (long)j->max[2]);
    VgKafkaStats st;
    vg_kafka_collector_stats(c, &st);
    cr_assert_eq(st.lines, (uint64_t)want, "lines put back are counted once");
    vg_line_batch_clear(&b);
    cr_assert_eq(base->ops->next(base, &b, NULL), VG_EAGAIN, "nothing is handed out twice");
    vg_line_batch_free(&b);
}

/* With a clock, batches come from the partition judged least far, and the lines past the
 * merge limit go back and come again, once: three partitions of 100 ms-apart lines, all
 * fetched before reading starts, are judged within the slack of each other (read one
 * after another, as without a clock, the second and third would be 990 ms behind). */
Test(kafka_mock, clock_merges_partitions_by_event_time)
{
    VgKafkaCollector *c = open_collector("g-merge", NULL);
    Judge j = {{INT64_MIN, INT64_MIN, INT64_MIN}, INT64_MIN};
    vg_kafka_collector_set_clock(c, judged_time, &j);
    join_all(c);
    int want = produce_times(0, 100) + produce_times(1, 100) + produce_times(2, 100);
    g_usleep(G_USEC_PER_SEC); /* librdkafka fetches all three meanwhile */
    MergeRun run = {0};
    merge_read(c, &j, want, &run);
    cr_assert_gt(run.cuts, 10, "lines went back");
    for (int p = 0; p < 3; p++)
        cr_assert_eq(j.max[p], 990 + p);
    VgKafkaStats st;
    vg_kafka_collector_stats(c, &st);
    cr_assert_eq(st.messages, 300);
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
}

static void produce_partition_1(void)
{
    produce_times(1, 100);
}

/* A partition whose messages come later than the others' (a producer's batches reach the
 * brokers one partition after another) is waited for, up to kafka.merge_wait: partition 0
 * is there first, partition 1 arrives during the wait, and partition 2, which never gets
 * a message, holds the merge back only for the wait, then counts as quiet. */
Test(kafka_mock, merge_waits_for_a_partition_behind)
{
    VgKafkaCollector *c = open_collector("g-wait", NULL); /* merge_wait: 1s */
    Judge j = {{INT64_MIN, INT64_MIN, INT64_MIN}, INT64_MIN};
    vg_kafka_collector_set_clock(c, judged_time, &j);
    join_all(c);
    gint64 t0 = g_get_monotonic_time();     /* (just after the assignment) */
    int want = produce_times(0, 100) + 120; /* partition 1's: 100 messages, 120 lines */
    MergeRun run = {.on_hold = produce_partition_1};
    merge_read(c, &j, want, &run);
    cr_assert_geq(run.holds, 1);
    gint64 took = g_get_monotonic_time() - t0;
    cr_assert_geq(took, 900000, "partition 2 was waited for");
    cr_assert_lt(took, 5 * G_USEC_PER_SEC, "but not for long");
    cr_assert_eq(j.max[0], 990);
    cr_assert_eq(j.max[1], 991);
    cr_assert_eq(j.max[2], INT64_MIN);
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
}

/* Lines put back at random message starts (and whole batches) come again in order and
 * exactly once, with their offsets and line numbers, also around messages longer than a
 * batch (split, then put back whole or in part). */
Test(kafka_mock, unread_at_random_points_loses_nothing)
{
    GRand *rnd = g_rand_new_with_seed(7);
    GPtrArray *want[3];
    for (int p = 0; p < 3; p++)
        want[p] = g_ptr_array_new_with_free_func(g_free);
    int total = 0;
    for (int i = 0; i < 300; i++) {
        int p = g_rand_int_range(rnd, 0, 3);
        int n = i % 37 == 5 ? 20 : g_rand_int_range(rnd, 1, 6); /* 20 > a batch of 8 */
        GString *m = g_string_new(NULL);
        for (int k = 0; k < n; k++) {
            char *line = g_strdup_printf("p%d-m%d-l%d", p, i, k + 1);
            g_string_append_printf(m, "%s%s", k ? "\n" : "", line);
            g_ptr_array_add(want[p], line);
        }
        produce(p, m->str);
        g_string_free(m, TRUE);
        total += n;
    }
    produce_flush();
    VgKafkaCollector *c = open_collector("g-unread", NULL);
    VgCollector *base = vg_kafka_collector_base(c);
    VgLineBatch b;
    vg_line_batch_init(&b, 8, 1024);
    guint next[3] = {0, 0, 0};
    int64_t last_offset[3] = {-1, -1, -1};
    int got = 0, put_back = 0;
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    while (got < total && g_get_monotonic_time() < deadline) {
        vg_line_batch_clear(&b);
        if (base->ops->next(base, &b, NULL) != VG_OK)
            continue;
        /* where lines may go back: message starts (line 0 too: the whole batch) */
        uint32_t starts[8], n_starts = 0;
        for (uint32_t k = 0; k < b.n; k++)
            if (b.lines[k].line_no == 1)
                starts[n_starts++] = k;
        uint32_t keep = b.n;
        if (n_starts && g_rand_int_range(rnd, 0, 3) == 0)
            keep = starts[g_rand_int_range(rnd, 0, (gint32)n_starts)];
        int32_t p = b.partition;
        for (uint32_t k = 0; k < keep; k++) {
            char *text = g_strndup(b.buf + b.lines[k].off, b.lines[k].len);
            cr_assert_lt(next[p], want[p]->len);
            cr_assert_str_eq(text, g_ptr_array_index(want[p], next[p]), "partition %d", p);
            const char *l = strrchr(text, 'l');
            cr_assert_eq(b.lines[k].line_no, strtoull(l + 1, NULL, 10), "%s", text);
            cr_assert_geq(b.lines[k].offset, last_offset[p]);
            last_offset[p] = b.lines[k].offset;
            g_free(text);
            next[p]++;
            got++;
        }
        if (keep < b.n) {
            vg_kafka_collector_unread(c, &b, keep);
            put_back++;
        }
    }
    cr_assert_eq(got, total);
    cr_assert_gt(put_back, 20);
    VgKafkaStats st;
    vg_kafka_collector_stats(c, &st);
    cr_assert_eq(st.lines, (uint64_t)total, "lines put back are counted once");
    cr_assert_eq(st.messages, 300);
    cr_assert_not(vg_kafka_collector_partial(c, -1));
    vg_line_batch_free(&b);
    base->ops->close(base);
    for (int p = 0; p < 3; p++)
        g_ptr_array_free(want[p], TRUE);
    g_rand_free(rnd);
}

/* What is fetched and not handed out yet is counted, where librdkafka holds it and where
 * vigil's partition queues do (the metrics' vigil_kafka_prefetched_messages and
 * vigil_kafka_buffered_*), and both go back to 0 once everything is read. */
Test(kafka_mock, fetched_but_unread_is_counted)
{
    VgKafkaCollector *c = open_collector("g-buffered", NULL);
    join_all(c);
    for (int i = 0; i < 300; i++)
        produce_nth(0, "m", i);
    produce_flush();
    VgKafkaStats st;
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    do { /* librdkafka fetches on its own threads */
        g_usleep(50000);
        vg_kafka_collector_stats(c, &st);
    } while (st.librdkafka_queued < 300 && g_get_monotonic_time() < deadline);
    cr_assert_geq(st.librdkafka_queued, 300, "fetched, not read: %" G_GUINT64_FORMAT,
                  st.librdkafka_queued);
    cr_assert_eq(st.buffered_messages, 0);
    GArray *got = read_lines(c, 10, 10, NULL); /* one batch: the rest waits in vigil's queue */
    cr_assert_eq(got->len, 10);
    got_free(got);
    vg_kafka_collector_stats(c, &st);
    cr_assert_eq(st.buffered_messages + st.librdkafka_queued, 290,
                 "buffered %" G_GUINT64_FORMAT " + queued %" G_GUINT64_FORMAT, st.buffered_messages,
                 st.librdkafka_queued);
    cr_assert_gt(st.buffered_messages, 0);
    cr_assert_eq(st.buffered_bytes, st.buffered_messages * 5, "payload bytes (m-NNN)");
    got = read_lines(c, 290, 64, NULL);
    cr_assert_eq(got->len, 290);
    got_free(got);
    vg_kafka_collector_stats(c, &st);
    cr_assert_eq(st.buffered_messages, 0);
    cr_assert_eq(st.buffered_bytes, 0);
    cr_assert_eq(st.librdkafka_queued, 0);
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
}

/* The stall watchdog (collector-kafka.h, "Stalled partitions"). A partition vigil paused
 * itself is never taken for stalled, however long it waits. A partition librdkafka stops
 * fetching behind vigil's back (as 2.0.2 does when it loses a partition's move to a new
 * leader; here a pause made straight on the consumer) while its leader has messages for
 * it restarts the consumer once stall_timeout has passed, and the new consumer reads the
 * partition from its committed offset: every line comes. */
Test(kafka_mock, stalled_partition_restarts_the_consumer)
{
    VgKafkaCollector *c = open_collector("g-stall", "  stall_timeout: 2s\n");
    /* paused by vigil for twice the stall timeout, with a message waiting: no restart */
    pause_resume_round(c, 4 * G_USEC_PER_SEC);
    cr_assert_eq(restarts(c), 0, "a partition vigil paused was taken for stalled");

    /* librdkafka stops fetching partition 1 without vigil knowing */
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, "access", 1);
    cr_assert_eq(rd_kafka_pause_partitions(c->rk, l), 0);
    rd_kafka_topic_partition_list_destroy(l);
    for (int i = 0; i < 5; i++)
        produce_nth(1, "after", i);
    produce_flush();
    GArray *got = read_lines(c, 7, 64, NULL); /* "before", "while-paused" again: unmarked */
    for (int i = 0; i < 5; i++) {
        char want[32];
        g_snprintf(want, sizeof want, "after-%03d", i);
        cr_assert_not_null(find(got, want), "%s missing after the restart", want);
    }
    got_free(got);
    cr_assert_eq(restarts(c), 1);
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
}

/* A partition the merge throttles (its queue far ahead of the others') gets no message for
 * as long as that lasts, while its leader has more: not a stall. Only when the merge lets
 * it fetch again does the watchdog watch it again. */
Test(kafka_mock, throttled_partition_is_not_a_stall)
{
    VgKafkaCollector *c = open_collector("g-throttle", "  stall_timeout: 1s\n");
    expect_line(c, true, 1, "before");
    g_mutex_lock(&c->lock);
    VgKafkaPart *p = vg_kafka_part_get(c, "access", 1);
    g_mutex_unlock(&c->lock);
    vg_kafka_part_throttle(c, p, true);
    produce(1, "while-throttled");
    produce_flush();
    expect_nothing_for(c, 3 * G_USEC_PER_SEC, "a line came while throttled");
    cr_assert_eq(restarts(c), 0, "a partition the merge throttled was taken for stalled");
    vg_kafka_part_throttle(c, p, false);
    expect_line(c, false, 1, "while-throttled");
    cr_assert_eq(restarts(c), 0);
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
}

/* vigil busy elsewhere (its loop does not read) for three stall timeouts, while messages it
 * has not taken wait in librdkafka's queue: every partition looks quiet and its leader
 * ahead, but librdkafka is fetching fine. No restart. */
Test(kafka_mock, busy_reader_is_not_a_stall)
{
    VgKafkaCollector *c = open_collector("g-busy", "  stall_timeout: 1s\n");
    expect_line(c, true, 1, "before");
    for (int i = 0; i < 5; i++)
        produce_nth(1, "queued", i);
    produce_flush();
    for (gint64 until = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
         rd_kafka_queue_length(c->q) < 5 && g_get_monotonic_time() < until;)
        g_usleep(10000);
    cr_assert_geq(rd_kafka_queue_length(c->q), 5, "librdkafka did not fetch the messages");
    g_usleep(3 * G_USEC_PER_SEC);
    GArray *got = read_lines(c, 5, 64, NULL);
    cr_assert_eq(got->len, 5);
    got_free(got);
    cr_assert_eq(restarts(c), 0, "a reader that was busy was taken for a stall");
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
}

/* The run loop's part for the next test: partition 0 starts at offset 3, as from a
 * checkpoint written after its first three messages (user: the collector). */
static void start_at_3(void *user, VgKafkaRebalance what, const int32_t *ids, size_t n)
{
    for (size_t i = 0; what == VG_KAFKA_ASSIGNED && i < n; i++)
        if (ids[i] == 0)
            vg_kafka_collector_start_at(*(VgKafkaCollector **)user, ids[i], 3);
}

/* A partition started past its committed offset (a checkpoint's, start_at()) with nothing
 * after that is quiet, not stalled: the watchdog takes the start as where its fetching
 * stands, not the committed offset (none here, so the earliest), however long it waits. */
Test(kafka_mock, checkpoint_start_is_not_a_stall)
{
    for (int i = 0; i < 3; i++)
        produce_nth(0, "old", i);
    produce_flush();
    VgKafkaCollector *c = NULL;
    VgKafkaCollectorOpts o = {.max_line_bytes = 100, .rebalance = start_at_3, .user = &c};
    c = open_yaml_opts(collector_yaml("g-ckpt-start", "  stall_timeout: 1s\n"), &o);
    join_all(c);
    expect_nothing_for(c, 3 * G_USEC_PER_SEC, "a line before the start offset came");
    cr_assert_eq(restarts(c), 0, "a partition started at its end was taken for stalled");
    expect_line(c, true, 0, "new");
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
}

/* The watchdog's decision for one partition: a restart when the leader has offsets past
 * where fetching stands; at the same position again only after 1, 2, 4 ... 64 stall
 * timeouts (offsets that are no messages, a transaction's markers, would otherwise restart
 * the consumer every stall_timeout); a new position at once. */
Test(kafka_watch, restarts_once_per_position_then_backs_off)
{
    const int64_t S = 30 * G_USEC_PER_SEC;
    VgKafkaWatched w = {0, -1, 0, 0};
    cr_assert_not(vg_kafka_watch_decide(&w, -1, 10, 0, S), "position unknown");
    cr_assert_not(vg_kafka_watch_decide(&w, 10, 10, 0, S), "nothing past it");
    cr_assert(vg_kafka_watch_decide(&w, 5, 10, 0, S));
    cr_assert_not(vg_kafka_watch_decide(&w, 5, 10, S / 2, S), "same position, too soon");
    cr_assert(vg_kafka_watch_decide(&w, 5, 10, S, S));
    cr_assert_not(vg_kafka_watch_decide(&w, 5, 10, 2 * S, S), "two stall timeouts now");
    cr_assert(vg_kafka_watch_decide(&w, 5, 10, 3 * S, S));
    int64_t t = 3 * S, gap = 0;
    for (int i = 0; i < 10; i++) { /* each restart at the earliest moment allowed */
        int64_t next = w.retry_us;
        cr_assert_not(vg_kafka_watch_decide(&w, 5, 10, next - 1, S));
        cr_assert(vg_kafka_watch_decide(&w, 5, 10, next, S));
        gap = next - t;
        t = next;
    }
    cr_assert_eq(gap, 64 * S, "the wait stops growing at 64 stall timeouts");
    cr_assert(vg_kafka_watch_decide(&w, 7, 12, t + 1, S), "a new position: at once");
    cr_assert_eq(w.retry_us, t + 1 + S);
}

/* Merging, a partition far ahead of the others in event time is read ahead only up to its
 * share of merge_bytes (at least 4 MiB, MERGE_SHARE_MIN): then its fetching pauses (what
 * librdkafka had prefetched of it is dropped), and resumes once half of that is judged,
 * from where the reader took it up: every line comes, once, in order. Partition 0 has
 * 8.5 MB of lines at t >= 1000 (lz4, about half of it: the mock keeps 5 MiB a partition),
 * which librdkafka prefetches 1 MiB at most of; partition 1 has 100 lines at t < 100, and
 * the reader waits for more of it (merge_wait) while reading partition 0 ahead. */
Test(kafka_mock, partition_far_ahead_is_paused_at_its_share)
{
    char errstr[256];
    rd_kafka_conf_t *pc = rd_kafka_conf_new();
    rd_kafka_conf_set(pc, "bootstrap.servers", bootstraps, errstr, sizeof errstr);
    rd_kafka_conf_set(pc, "compression.codec", "lz4", errstr, sizeof errstr);
    rd_kafka_conf_set(pc, "batch.size", "65536", errstr, sizeof errstr);
    rd_kafka_t *lz4 = rd_kafka_new(RD_KAFKA_PRODUCER, pc, errstr, sizeof errstr);
    cr_assert_not_null(lz4, "%s", errstr);
    VgKafkaCollector *c = open_collector("g-share", "    queued.max.messages.kbytes: 1024\n"
                                                    "    max.partition.fetch.bytes: 65536\n"
                                                    "  merge_bytes: 6MiB\n"
                                                    "  merge_wait: 5s\n");
    Judge j = {{INT64_MIN, INT64_MIN, INT64_MIN}, INT64_MIN};
    vg_kafka_collector_set_clock(c, judged_time, &j);
    join_all(c);
    enum { BIG = 100, BIG_LINES = 5000 }; /* 100 messages of 5000 lines "t=NNNN r=HEX": 8.5 MB */
    GString *m = g_string_new(NULL);
    GRand *rnd = g_rand_new_with_seed(7);
    for (int i = 0; i < BIG; i++) {
        g_string_truncate(m, 0);
        for (int l = 0; l < BIG_LINES; l++)
            g_string_append_printf(m, "%st=%d r=%08x", l ? "\n" : "", 1000 + i, g_rand_int(rnd));
        rd_kafka_resp_err_t e =
            rd_kafka_producev(lz4, RD_KAFKA_V_TOPIC("access"), RD_KAFKA_V_PARTITION(0),
                              RD_KAFKA_V_VALUE(m->str, m->len),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        cr_assert_eq(e, 0, "%s", rd_kafka_err2str(e));
    }
    g_rand_free(rnd);
    g_string_free(m, TRUE);
    cr_assert_eq(rd_kafka_flush(lz4, 30000), 0);
    rd_kafka_destroy(lz4);
    for (int i = 0; i < 100; i++) {
        char line[16];
        g_snprintf(line, sizeof line, "t=%d", i);
        produce(1, line);
    }
    produce_flush();
    g_usleep(G_USEC_PER_SEC); /* librdkafka fetches meanwhile */

    VgKafkaPart *p0 = vg_kafka_part_get(c, "access", 0);
    VgCollector *base = vg_kafka_collector_base(c);
    VgLineBatch b;
    vg_line_batch_init(&b, 4096, 1 << 16);
    const int want = BIG * BIG_LINES + 100;
    int got = 0, pauses = 0;
    int64_t last_offset[2] = {-1, -1};
    bool was = false;
    size_t most = 0;
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (got < want && g_get_monotonic_time() < deadline) {
        vg_line_batch_clear(&b);
        int r = base->ops->next(base, &b, NULL);
        if (p0->throttled && !was) {
            pauses++;
            cr_assert_gt(p0->q.bytes, (size_t)4 << 20, "paused when over its share");
        }
        was = p0->throttled;
        most = MAX(most, p0->q.bytes);
        if (r != VG_OK)
            continue;
        int32_t p = b.partition;
        cr_assert(p == 0 || p == 1);
        bool dry;
        int64_t lo = vg_kafka_collector_merge_limit(c, p, &dry);
        uint32_t k;
        for (k = 0; k < b.n; k++) {
            int64_t t = g_ascii_strtoll(b.buf + b.lines[k].off + 2, NULL, 10);
            if ((k || dry) && b.lines[k].line_no == 1 && lo != INT64_MAX && t > lo + 5)
                break;
            cr_assert_geq(b.lines[k].offset, last_offset[p], "offsets in order");
            last_offset[p] = b.lines[k].offset;
            j.max[p] = MAX(j.max[p], t);
            got++;
        }
        if (k < b.n)
            vg_kafka_collector_unread(c, &b, k);
    }
    vg_line_batch_free(&b);
    cr_assert_eq(got, want, "got %d of %d lines (pauses %d)", got, want, pauses);
    cr_assert_lt(most, (size_t)7 << 20,
                 "partition 0 held its share and what librdkafka had fetched, not all: %zu", most);
    cr_assert_geq(pauses, 1, "partition 0 was paused");
    cr_assert_not(p0->throttled, "and fetched again once judged");
    cr_assert_eq(j.max[0], 1000 + BIG - 1);
    cr_assert_eq(j.max[1], 99);
    VgKafkaStats st;
    vg_kafka_collector_stats(c, &st);
    cr_assert_eq(st.messages, BIG + 100, "each message once");
    base->ops->close(base);
}

/* Without merging, the collector still reads ahead (kafka.batch_bytes), so a partition's
 * run of messages fills whole batches: read only when nothing waited, 256 messages a time
 * spread over the partitions, the batches were a few hundred lines at most. */
Test(kafka_mock, runs_of_a_partition_fill_whole_batches)
{
    VgKafkaCollector *c = open_collector("g-whole", NULL);
    join_all(c);
    for (int i = 0; i < 600; i++) {
        produce_nth(0, "a", i);
        produce_nth(1, "b", i);
    }
    produce_flush();
    g_usleep(G_USEC_PER_SEC); /* librdkafka fetches both meanwhile */
    GArray *sizes = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    GArray *got = read_lines(c, 1200, 512, sizes);
    cr_assert_eq(got->len, 1200);
    guint full = 0;
    for (guint i = 0; i < sizes->len; i++)
        full += g_array_index(sizes, uint32_t, i) == 512;
    cr_assert_geq(full, 2, "two of the batches are full (of %u)", sizes->len);
    g_array_free(sizes, TRUE);
    got_free(got);
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
}

static VgKafkaCollector *open_topics(const char *group, const char *topics)
{
    return open_yaml(g_strdup_printf("kafka:\n  brokers: %s\n  topics: %s\n  group: %s\n",
                                     bootstraps, topics, group));
}

/* The partitions of the subscribed topics, by name and by ^regex, from the metadata. */
Test(kafka_mock, subscribed_topic_partitions)
{
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "access7", 2, 1), 0);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "other", 5, 1), 0);
    GError *err = NULL;
    VgKafkaCollector *c = open_topics("g-meta", "[access, \"^access[0-9]$\"]");
    cr_assert_eq(vg_kafka_collector_topic_partitions(c, 10000, &err), 3 + 2, "%s",
                 err ? err->message : "");
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
    c = open_topics("g-meta2", "[other]");
    cr_assert_eq(vg_kafka_collector_topic_partitions(c, 10000, &err), 5);
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
    c = open_topics("g-meta3", "[\"^nothing.*\"]");
    cr_assert_eq(vg_kafka_collector_topic_partitions(c, 10000, &err), -1);
    cr_assert(strstr(err->message, "no subscribed topic"), "%s", err->message);
    g_clear_error(&err);
    vg_kafka_collector_base(c)->ops->close(vg_kafka_collector_base(c));
}

/* bench-kafka-latency.c — how long an alert takes from the log shipper to Redis, with a
 * real `vigil run` in between (scripts/bench, group kafka; a benchmark, never a test).
 *
 * The program plays the shipper: it produces access-log lines in vigil's canonical JSON
 * into a Kafka topic at a steady rate, keyed by token, with "time" set to the wall clock.
 * Most lines are ordinary traffic over HTTPS — a skewed population of tokens, each with its
 * own client IPs, over a dozen endpoints and a realistic mix of methods, statuses and user
 * agents — so the decoder, the rule prefilter and the models do the work they do in
 * production. One line in N (-e) is a plain-HTTP 200: the shipped rule plain_http_api (and
 * the builtin plaintext_http, when enabled) raises an alert for it at once, being
 * stateless, as long as alerts.cooldown is 0. Those lines carry the time they were
 * produced in their request_id ("lat-<µs since the epoch>-<seq>"), which the alert keeps as
 * its first sample (vigil.samples[0]).
 *
 * A second thread reads the Redis stream vigil's sink writes to (XREAD BLOCK) and, for each
 * alert of the plain-HTTP rules, takes the time it read the entry minus the time in the
 * request id: produce → alert readable in Redis, the whole path (producer batching, broker,
 * consumer fetch, decode, rules, alert stage, pipelined XADD through the dedup script).
 * Both clocks are CLOCK_REALTIME of this machine.
 *
 * Only the alerts of lines produced after the warm-up (-w) count; lines of the warm-up say
 * "warm-" instead of "lat-". After producing, the reader waits (-d) for the alerts still on
 * their way, then the program prints `name value unit` lines:
 *   kafka.latency.p50_ms / p99_ms / max_ms   quantiles over every expected alert; one that
 *                                             falls among alerts never read is skipped
 *                                             (`# skipped: …`), not taken from the others
 *   kafka.latency.alerts_matched M/E          alerts read of plain-HTTP lines produced
 *   kafka.latency.produced_events_per_s       the rate actually produced (it falls behind
 *                                             the asked one when the machine is busy)
 * and a `#` line with the wall-clock time of the slowest alert's line, to place a stall,
 * and exits 0 when at least one alert was matched.
 *
 * usage: bench-kafka-latency [-r RATE] [-s SECONDS] [-w SECONDS] [-e N] [-d SECONDS]
 *                            [-t TOKENS] [-R RULE]... BROKERS TOPIC REDIS_PORT STREAM_KEY
 */
#include <glib.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_RULES 8

typedef struct {
    /* options */
    double rate;
    double seconds;
    double warmup;
    double drain;
    int every;
    int tokens;
    const char *rules[MAX_RULES];
    int n_rules;
    const char *brokers, *topic, *key;
    int redis_port;
    /* producer → reader */
    int64_t *produced_us; /* per seq: when its line was produced (µs since the epoch) */
    int64_t *latency_us;  /* per seq: its alert's latency (-1: none read yet) */
    size_t cap;
    atomic_size_t n_plain; /* plain-HTTP lines produced after the warm-up */
    atomic_bool done;      /* producer finished */
    atomic_llong deadline; /* reader gives up at this realtime µs (set when done) */
    size_t matched;        /* reader only */
    size_t other_alerts;   /* alerts of other rules, or of warm-up lines */
    char reader_err[256];
} Bench;

static int64_t now_us(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* xorshift64*: the traffic needs to be varied, not random in any strong sense */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}
static double rnd01(void)
{
    return (double)(rnd() >> 11) / (double)(1ULL << 53);
}

static const char *const agents[] = {
    "GuzzleHttp/7",
    "okhttp/4.12.0",
    "python-requests/2.31.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    "axios/1.6.2",
    "Go-http-client/2.0",
};
static const char *const words[] = {"shoes",      "laptop", "coffee", "desk lamp",
                                    "headphones", "garden", "books",  "camera"};

/* Status by weight: mostly 2xx, some 3xx/4xx, a few 5xx. */
static int pick_status(void)
{
    static const int st[] = {200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200,
                             200, 201, 204, 304, 400, 401, 403, 404, 404, 429, 500};
    return st[rnd() % (sizeof st / sizeof st[0])];
}

/* One ordinary request (method, path and query) into buf. */
static void pick_request(const char **method, char *path, size_t n, char *query, size_t qn)
{
    uint64_t r = rnd();
    query[0] = '\0';
    switch (r % 12) {
    case 0:
    case 1:
    case 2:
        *method = "GET";
        snprintf(path, n, "/v1/products/%" PRIu64, 1000 + (r >> 8) % 90000);
        break;
    case 3:
        *method = "GET";
        snprintf(path, n, "/v1/products");
        snprintf(query, qn, "category=%s&page=%" PRIu64, words[(r >> 8) % 8], (r >> 16) % 20);
        break;
    case 4:
        *method = "GET";
        snprintf(path, n,
                 "/v1/orders/%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-a%03" PRIx64 "-%012" PRIx64,
                 rnd() & 0xffffffff, rnd() & 0xffff, rnd() & 0xfff, rnd() & 0xfff,
                 rnd() & (uint64_t)0xffffffffffff);
        break;
    case 5:
        *method = "POST";
        snprintf(path, n, "/v1/orders");
        break;
    case 6:
        *method = "GET";
        snprintf(path, n, "/v1/users/%" PRIu64 "/profile", 1 + (r >> 8) % 50000);
        break;
    case 7:
        *method = "PUT";
        snprintf(path, n, "/v1/users/%" PRIu64 "/profile", 1 + (r >> 8) % 50000);
        break;
    case 8:
        *method = "GET";
        snprintf(path, n, "/v1/search");
        snprintf(query, qn, "q=%s&limit=20", words[(r >> 8) % 8]);
        break;
    case 9:
        *method = "DELETE";
        snprintf(path, n, "/v1/carts/%" PRIu64 "/items/%" PRIu64, (r >> 8) % 100000,
                 (r >> 24) % 500);
        break;
    case 10:
        *method = "POST";
        snprintf(path, n, "/v1/auth/token");
        break;
    default:
        *method = "GET";
        snprintf(path, n, "/v1/inventory/%" PRIu64 "/stock", (r >> 8) % 3000);
        break;
    }
}

/* A line for token ti into buf; plain lines are GET 200 over http with request id rid. */
static int render(char *buf, size_t n, int64_t t_ms, int ti, bool plain, const char *rid)
{
    char path[160], query[96], ip[48];
    const char *method;
    int status;
    if (plain) {
        method = "GET";
        snprintf(path, sizeof path, "/v1/products/%" PRIu64, 1000 + rnd() % 90000);
        query[0] = '\0';
        status = 200;
    } else {
        pick_request(&method, path, sizeof path, query, sizeof query);
        status = pick_status();
    }
    /* each token has up to three client IPs of its own */
    snprintf(ip, sizeof ip, "10.%d.%d.%d", (ti >> 8) & 0xff, ti & 0xff, 1 + (int)(rnd() % 3));
    int len = snprintf(
        buf, n,
        "{\"time\":%" PRId64 ",\"request_id\":\"%s\",\"client_ip\":\"%s\",\"method\":\"%s\","
        "\"scheme\":\"%s\",\"host\":\"api.example.com\",\"path\":\"%s\"%s%s%s,\"status\":%d,"
        "\"bytes_in\":%d,\"bytes_out\":%d,\"latency_ms\":%.1f,\"user_agent\":\"%s\","
        "\"token\":\"tk_live_%06d_%08x\"}",
        t_ms, rid, ip, method, plain ? "http" : "https", path, query[0] ? ",\"query\":\"" : "",
        query, query[0] ? "\"" : "", status, strcmp(method, "GET") ? (int)(rnd() % 2000) : 0,
        200 + (int)(rnd() % 6000), 2.0 + (double)(rnd() % 4000) / 10.0,
        agents[(unsigned)ti % (sizeof agents / sizeof agents[0])], ti,
        (unsigned)(ti * 2654435761u));
    return len < (int)n ? len : -1;
}

/* A skewed token population: a few tokens carry much of the traffic, most carry little. */
static int pick_token(int tokens)
{
    return (int)((double)tokens * pow(rnd01(), 3.0)) % tokens;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    if (m->err)
        (*(uint64_t *)opaque)++;
}

/* ---- the reader ---- */

static const redisReply *field(const redisReply *kv, const char *name)
{
    for (size_t i = 0; i + 1 < kv->elements; i += 2)
        if (kv->element[i]->type == REDIS_REPLY_STRING && !strcmp(kv->element[i]->str, name))
            return kv->element[i + 1];
    return NULL;
}

static void take_entry(Bench *b, const redisReply *kv, int64_t t_read)
{
    const redisReply *rule = field(kv, "rule"), *alert = field(kv, "alert");
    if (!rule || !alert || rule->type != REDIS_REPLY_STRING || alert->type != REDIS_REPLY_STRING)
        return;
    bool ours = false;
    for (int i = 0; i < b->n_rules; i++)
        ours |= !strcmp(rule->str, b->rules[i]);
    const char *s = ours ? strstr(alert->str, "\"samples\":[\"lat-") : NULL;
    int64_t t_prod;
    unsigned long long seq;
    if (!s || sscanf(s + 16, "%" SCNd64 "-%llu", &t_prod, &seq) != 2 || seq >= b->cap) {
        b->other_alerts++;
        return;
    }
    if (b->latency_us[seq] >= 0)
        return; /* the same line alerted twice (builtin and Sigma rule): first one counts */
    b->latency_us[seq] = t_read - t_prod;
    b->matched++;
}

static gpointer reader(gpointer data)
{
    Bench *b = data;
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", b->redis_port, tv);
    if (!c || c->err) {
        snprintf(b->reader_err, sizeof b->reader_err, "redis connect: %s",
                 c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    tv.tv_sec = 5; /* above the BLOCK time below */
    redisSetTimeout(c, tv);
    char last[64] = "0-0";
    for (;;) {
        if (atomic_load(&b->done)) {
            if (b->matched >= atomic_load(&b->n_plain) ||
                now_us(CLOCK_REALTIME) > atomic_load(&b->deadline))
                break;
        }
        redisReply *r = redisCommand(c, "XREAD COUNT 5000 BLOCK 200 STREAMS %s %s", b->key, last);
        int64_t t_read = now_us(CLOCK_REALTIME);
        if (!r) {
            snprintf(b->reader_err, sizeof b->reader_err, "XREAD: %s", c->errstr);
            break;
        }
        if (r->type == REDIS_REPLY_ERROR) {
            snprintf(b->reader_err, sizeof b->reader_err, "XREAD: %s", r->str);
            freeReplyObject(r);
            break;
        }
        /* [[key, [[id, [field, value, ...]], ...]]] or nil on timeout */
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->elements == 2) {
            const redisReply *entries = r->element[0]->element[1];
            for (size_t i = 0; i < entries->elements; i++) {
                const redisReply *e = entries->element[i];
                if (e->elements != 2)
                    continue;
                g_strlcpy(last, e->element[0]->str, sizeof last);
                take_entry(b, e->element[1], t_read);
            }
        }
        freeReplyObject(r);
    }
    redisFree(c);
    return NULL;
}

/* ---- main ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void usage(void)
{
    fprintf(stderr, "usage: bench-kafka-latency [-r RATE] [-s SECONDS] [-w SECONDS] [-e N] "
                    "[-d SECONDS] [-t TOKENS] [-R RULE]... BROKERS TOPIC REDIS_PORT STREAM_KEY\n");
    exit(2);
}

int main(int argc, char **argv)
{
    Bench b = {
        .rate = 50000, .seconds = 20, .warmup = 2, .drain = 10, .every = 100, .tokens = 5000};
    int opt;
    while ((opt = getopt(argc, argv, "r:s:w:e:d:t:R:")) != -1) {
        switch (opt) {
        case 'r':
            b.rate = atof(optarg);
            break;
        case 's':
            b.seconds = atof(optarg);
            break;
        case 'w':
            b.warmup = atof(optarg);
            break;
        case 'e':
            b.every = atoi(optarg);
            break;
        case 'd':
            b.drain = atof(optarg);
            break;
        case 't':
            b.tokens = atoi(optarg);
            break;
        case 'R':
            if (b.n_rules == MAX_RULES)
                usage();
            b.rules[b.n_rules++] = optarg;
            break;
        default:
            usage();
        }
    }
    if (argc - optind != 4 || b.rate <= 0 || b.seconds <= 0 || b.warmup < 0 || b.every < 1 ||
        b.tokens < 1)
        usage();
    b.brokers = argv[optind];
    b.topic = argv[optind + 1];
    b.redis_port = atoi(argv[optind + 2]);
    b.key = argv[optind + 3];
    if (!b.n_rules) {
        b.rules[b.n_rules++] = "72b90416-24b7-4e48-b744-763fe37c0734"; /* plain_http_api */
        b.rules[b.n_rules++] = "plaintext_http";                       /* the builtin check */
    }
    rng_state ^= (uint64_t)now_us(CLOCK_REALTIME);

    b.cap = (size_t)(b.rate * b.seconds / b.every) + 1024;
    b.produced_us = g_new0(int64_t, b.cap);
    b.latency_us = g_new(int64_t, b.cap);
    for (size_t i = 0; i < b.cap; i++)
        b.latency_us[i] = -1;

    char errstr[512];
    uint64_t delivery_errors = 0;
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *props[][2] = {
        {"bootstrap.servers", b.brokers},
        {"linger.ms", "5"}, /* a shipper's usual batching: part of the measured path */
        /* compressed, as shippers send: the mock keeps only 5 MiB per partition, and a
         * consumer that falls further behind than that loses lines */
        {"compression.codec", "zstd"},
        {"queue.buffering.max.messages", "2000000"},
        {"message.timeout.ms", "30000"},
    };
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], errstr, sizeof errstr)) {
            fprintf(stderr, "bench-kafka-latency: %s\n", errstr);
            return 1;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, &delivery_errors);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "bench-kafka-latency: %s\n", errstr);
        return 1;
    }
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, b.topic, NULL);

    GThread *rt = g_thread_new("reader", reader, &b);

    /* Pacing: every millisecond or so, produce what the rate owes since the start. */
    char line[1024], rid[64];
    uint64_t sent = 0, line_no = 0;
    const int64_t t0 = now_us(CLOCK_MONOTONIC);
    const int64_t warm_end = (int64_t)(b.warmup * 1e6), end = warm_end + (int64_t)(b.seconds * 1e6);
    int64_t measured_from = -1;
    uint64_t measured_sent0 = 0;
    for (;;) {
        int64_t el = now_us(CLOCK_MONOTONIC) - t0;
        if (el >= end)
            break;
        uint64_t owed = (uint64_t)((double)el * b.rate / 1e6);
        if (measured_from < 0 && el >= warm_end) {
            measured_from = el;
            measured_sent0 = sent;
        }
        while (sent < owed) {
            bool plain = ++line_no % (uint64_t)b.every == 0;
            /* plain-HTTP lines take the tokens in turn: two of one token in one
             * millisecond would be one incident (one event.id), and Redis would keep one */
            int ti = plain ? (int)(line_no / (uint64_t)b.every % (uint64_t)b.tokens)
                           : pick_token(b.tokens);
            int64_t t = now_us(CLOCK_REALTIME);
            size_t seq = atomic_load(&b.n_plain);
            bool counted = plain && el >= warm_end && seq < b.cap;
            if (counted)
                snprintf(rid, sizeof rid, "lat-%" PRId64 "-%zu", t, seq);
            else if (plain)
                snprintf(rid, sizeof rid, "warm-%" PRId64, t);
            else
                snprintf(rid, sizeof rid, "%016" PRIx64 "%016" PRIx64, rnd(), rnd());
            int len = render(line, sizeof line, t / 1000, ti, plain, rid);
            if (len < 0)
                continue;
            char key[32];
            int klen =
                snprintf(key, sizeof key, "tk_live_%06d_%08x", ti, (unsigned)(ti * 2654435761u));
            while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, line,
                                    (size_t)len, key, (size_t)klen, NULL) == -1) {
                if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                    fprintf(stderr, "bench-kafka-latency: produce: %s\n",
                            rd_kafka_err2str(rd_kafka_last_error()));
                    return 1;
                }
                rd_kafka_poll(rk, 1);
            }
            if (counted) {
                b.produced_us[seq] = t;
                atomic_store(&b.n_plain, seq + 1);
            }
            sent++;
        }
        rd_kafka_poll(rk, 0);
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    int64_t produce_end = now_us(CLOCK_MONOTONIC) - t0;
    rd_kafka_flush(rk, 10000);
    atomic_store(&b.deadline, now_us(CLOCK_REALTIME) + (long long)(b.drain * 1e6));
    atomic_store(&b.done, true);
    g_thread_join(rt);

    size_t expected = atomic_load(&b.n_plain);
    int64_t *lat = g_new(int64_t, b.matched + 1);
    size_t n = 0;
    for (size_t i = 0; i < expected; i++)
        if (b.latency_us[i] >= 0)
            lat[n++] = b.latency_us[i];
    qsort(lat, n, sizeof lat[0], cmp_i64);
    double secs = (double)(produce_end - measured_from) / 1e6;
    printf("kafka.latency.produced_events_per_s %.0f events/s\n",
           measured_from >= 0 && secs > 0 ? (double)(sent - measured_sent0) / secs : 0.0);
    /* Quantiles over every expected alert: one not read within the drain time is slower
     * than all that were, so a quantile that falls among those is not known. */
    static const struct {
        const char *name;
        double q;
    } qs[] = {{"p50", 0.50}, {"p99", 0.99}, {"max", 1.0}};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        size_t rank = (size_t)ceil(qs[i].q * (double)expected);
        if (rank >= 1 && rank <= n)
            printf("kafka.latency.%s_ms %.3g ms\n", qs[i].name, (double)lat[rank - 1] / 1000.0);
        else
            printf("# skipped: kafka.latency.%s_ms (%zu of %zu alerts not read within %g s after "
                   "the last line)\n",
                   qs[i].name, expected - n, expected, b.drain);
    }
    printf("kafka.latency.alerts_matched %zu/%zu alerts\n", n, expected);
    /* when the slowest matched line was produced: a stall shows with its wall-clock time */
    size_t worst = 0;
    for (size_t i = 0; i < expected; i++)
        if (b.latency_us[i] > b.latency_us[worst])
            worst = i;
    if (n) {
        time_t ts = (time_t)(b.produced_us[worst] / 1000000);
        struct tm tm;
        char when[32];
        gmtime_r(&ts, &tm);
        strftime(when, sizeof when, "%H:%M:%S", &tm);
        printf("# slowest alert: its line produced at %s.%03d UTC, read %.0f ms later\n", when,
               (int)(b.produced_us[worst] / 1000 % 1000), (double)b.latency_us[worst] / 1000.0);
    }
    printf("# %" PRIu64 " lines produced (%" PRIu64 " in the warm-up), %" PRIu64
           " delivery errors, %zu other alerts read\n",
           sent, measured_sent0, delivery_errors, b.other_alerts);
    if (b.reader_err[0])
        fprintf(stderr, "bench-kafka-latency: %s\n", b.reader_err);
    fflush(stdout);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    g_free(lat);
    g_free(b.produced_us);
    g_free(b.latency_us);
    return n ? 0 : 1;
}

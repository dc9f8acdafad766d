/* vigil-kafka-mock.c — a Kafka cluster on loopback for tests, demos and trying vigil out.
 *
 * Debian ships no Kafka broker, but librdkafka carries a mock cluster that speaks the
 * Kafka protocol well enough for real clients: produce (plain, idempotent, compressed),
 * fetch, metadata, consumer groups with offset commits. This tool wraps it in a process:
 * it starts N brokers listening on 127.0.0.1 (ephemeral ports), creates the topics asked
 * for, prints the bootstrap list as the first line of stdout — so a script can read it
 * with `read` — and then stays up until SIGTERM/SIGINT or the end of stdin.
 *
 * Each stdin line is a command that changes the cluster while clients use it: take a
 * broker down and up, move a partition's leader, push protocol errors onto a request type,
 * add latency. Every command gets one reply line on stdout ("ok ..." or "error ..."), so a
 * test can wait for the reply before it checks the effect. `help` lists the commands.
 *
 * The mock API is librdkafka's experimental one, and this file uses only what 2.0.2 has:
 * there is no per-partition error injection and no way to pick the listener port, so
 * failures are injected per request type (ApiKey) or per broker.
 *
 * Only loopback: the mock binds its listeners to the loopback address. We check that the
 * advertised bootstrap list names loopback hosts only and refuse to run otherwise.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define MAX_TOPICS 64
#define MAX_ARGS   16

typedef struct {
    rd_kafka_t *rk; /* the handle the mock cluster needs for its bookkeeping */
    rd_kafka_mock_cluster_t *mc;
    int brokers;
    int sigfd;
    bool quit;
} Mock;

/* Kafka protocol request types by name, so commands can say "Fetch" rather than 1. */
static const struct {
    const char *name;
    int16_t key;
} api_keys[] = {
    {"Produce", 0},
    {"Fetch", 1},
    {"ListOffsets", 2},
    {"Metadata", 3},
    {"OffsetCommit", 8},
    {"OffsetFetch", 9},
    {"FindCoordinator", 10},
    {"JoinGroup", 11},
    {"Heartbeat", 12},
    {"LeaveGroup", 13},
    {"SyncGroup", 14},
    {"DescribeGroups", 15},
    {"ListGroups", 16},
    {"SaslHandshake", 17},
    {"ApiVersions", 18},
    {"CreateTopics", 19},
    {"InitProducerId", 22},
    {"OffsetForLeaderEpoch", 23},
    {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25},
    {"EndTxn", 26},
    {"TxnOffsetCommit", 28},
};

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_api(const char *s, int16_t *out)
{
    long v;
    for (size_t i = 0; i < sizeof api_keys / sizeof api_keys[0]; i++) {
        if (!strcasecmp(s, api_keys[i].name)) {
            *out = api_keys[i].key;
            return true;
        }
    }
    if (!parse_long(s, 0, 100, &v))
        return false;
    *out = (int16_t)v;
    return true;
}

/* An error code by number, by librdkafka's name ("NOT_LEADER_FOR_PARTITION", "_TRANSPORT")
 * or by its full enum name (RD_KAFKA_RESP_ERR_...). */
static bool parse_err(const char *s, rd_kafka_resp_err_t *out)
{
    const struct rd_kafka_err_desc *descs;
    size_t n;
    long v;
    if (!strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18))
        s += 18;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++) {
        if (descs[i].name && !strcasecmp(s, descs[i].name)) {
            *out = descs[i].code;
            return true;
        }
    }
    if (!parse_long(s, -200, 200, &v))
        return false;
    *out = (rd_kafka_resp_err_t)v;
    return true;
}

/* A broker id, or "all" (-1) where the mock API accepts it. */
static bool parse_broker(const Mock *m, const char *s, bool allow_all, int32_t *out)
{
    long v;
    if (allow_all && !strcasecmp(s, "all")) {
        *out = -1;
        return true;
    }
    if (!parse_long(s, allow_all ? -1 : 1, m->brokers, &v) || v == 0)
        return false;
    *out = (int32_t)v;
    return true;
}

static void report(const char *what, rd_kafka_resp_err_t e)
{
    if (e)
        reply("error %s: %s", what, rd_kafka_err2str(e));
    else
        reply("ok %s", what);
}

static const char help_text[] =
    "commands (one per line; each gets one reply line, \"ok ...\" or \"error ...\"):\n"
    "  bootstrap                            print the bootstrap list\n"
    "  topic NAME PARTITIONS [REPLICATION]  create a topic\n"
    "  broker-down ID|all                   disconnect a broker, refuse new connections\n"
    "  broker-up ID|all                     accept connections again\n"
    "  rtt ID|all MS                        delay every response of a broker\n"
    "  leader TOPIC PARTITION ID|-1         move a partition's leader (-1: none)\n"
    "  follower TOPIC PARTITION ID          set the preferred replica to read from\n"
    "  error API ERR [COUNT]                fail the next COUNT requests of type API\n"
    "  broker-error ID API ERR [MS] [COUNT] same on one broker, each reply delayed MS\n"
    "  clear-errors API                     drop the pending errors of API\n"
    "  topic-error TOPIC ERR|0              metadata error for a topic\n"
    "  coordinator group|transaction KEY ID move a group's (or txn id's) coordinator\n"
    "  sleep MS                             wait before reading the next command\n"
    "  quit                                 stop the cluster and exit\n"
    "API is a request type name (Produce, Fetch, Metadata, OffsetCommit, OffsetFetch,\n"
    "FindCoordinator, JoinGroup, Heartbeat, SyncGroup, ...) or its number; ERR is an error\n"
    "name (NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT, _TRANSPORT to drop the connection,\n"
    "...) or its number.\n";

/* Waits ms milliseconds, but returns early (quit set) on a signal. */
static void sleep_ms(Mock *m, long ms)
{
    struct pollfd p = {.fd = m->sigfd, .events = POLLIN};
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long left = ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
        if (left <= 0)
            return;
        if (poll(&p, 1, (int)left) > 0) {
            m->quit = true;
            return;
        }
    }
}

static void run_command(Mock *m, char *line)
{
    char *argv[MAX_ARGS];
    int argc = 0;
    for (char *tok = strtok(line, " \t\r"); tok && argc < MAX_ARGS; tok = strtok(NULL, " \t\r"))
        argv[argc++] = tok;
    if (argc == 0 || argv[0][0] == '#')
        return;

    const char *cmd = argv[0];
    int32_t b;
    int16_t api;
    rd_kafka_resp_err_t e;
    long n, n2, cnt;

    if (!strcmp(cmd, "help")) {
        fputs(help_text, stdout);
        reply("ok help");
    } else if (!strcmp(cmd, "bootstrap")) {
        reply("%s", rd_kafka_mock_cluster_bootstraps(m->mc));
    } else if (!strcmp(cmd, "quit") || !strcmp(cmd, "exit")) {
        reply("ok quit");
        m->quit = true;
    } else if (!strcmp(cmd, "sleep") && argc == 2 && parse_long(argv[1], 0, 86400000, &n)) {
        sleep_ms(m, n);
        reply("ok sleep %ld", n);
    } else if (!strcmp(cmd, "topic") && (argc == 3 || argc == 4) &&
               parse_long(argv[2], 1, 100000, &n)) {
        n2 = m->brokers < 3 ? m->brokers : 3;
        if (argc == 4 && !parse_long(argv[3], 1, m->brokers, &n2))
            goto usage;
        report("topic", rd_kafka_mock_topic_create(m->mc, argv[1], (int)n, (int)n2));
    } else if ((!strcmp(cmd, "broker-down") || !strcmp(cmd, "broker-up")) && argc == 2 &&
               parse_broker(m, argv[1], true, &b)) {
        e = cmd[7] == 'd' ? rd_kafka_mock_broker_set_down(m->mc, b)
                          : rd_kafka_mock_broker_set_up(m->mc, b);
        report(cmd, e);
    } else if (!strcmp(cmd, "rtt") && argc == 3 && parse_broker(m, argv[1], true, &b) &&
               parse_long(argv[2], 0, 3600000, &n)) {
        report("rtt", rd_kafka_mock_broker_set_rtt(m->mc, b, (int)n));
    } else if (!strcmp(cmd, "leader") && argc == 4 && parse_long(argv[2], 0, 100000, &n) &&
               (!strcmp(argv[3], "-1") || parse_broker(m, argv[3], false, &b))) {
        if (!strcmp(argv[3], "-1"))
            b = -1;
        report("leader", rd_kafka_mock_partition_set_leader(m->mc, argv[1], (int32_t)n, b));
    } else if (!strcmp(cmd, "follower") && argc == 4 && parse_long(argv[2], 0, 100000, &n) &&
               parse_broker(m, argv[3], false, &b)) {
        report("follower", rd_kafka_mock_partition_set_follower(m->mc, argv[1], (int32_t)n, b));
    } else if (!strcmp(cmd, "error") && (argc == 3 || argc == 4) && parse_api(argv[1], &api) &&
               parse_err(argv[2], &e)) {
        cnt = 1;
        if (argc == 4 && !parse_long(argv[3], 1, 100000, &cnt))
            goto usage;
        for (long i = 0; i < cnt; i++)
            rd_kafka_mock_push_request_errors_array(m->mc, api, 1, &e);
        reply("ok error %s x%ld", rd_kafka_err2name(e), cnt);
    } else if (!strcmp(cmd, "broker-error") && argc >= 4 && argc <= 6 &&
               parse_broker(m, argv[1], false, &b) && parse_api(argv[2], &api) &&
               parse_err(argv[3], &e)) {
        n = 0;
        cnt = 1;
        if ((argc >= 5 && !parse_long(argv[4], 0, 3600000, &n)) ||
            (argc == 6 && !parse_long(argv[5], 1, 100000, &cnt)))
            goto usage;
        rd_kafka_resp_err_t r = RD_KAFKA_RESP_ERR_NO_ERROR;
        for (long i = 0; i < cnt && !r; i++)
            r = rd_kafka_mock_broker_push_request_error_rtts(m->mc, b, api, 1, e, (int)n);
        report("broker-error", r);
    } else if (!strcmp(cmd, "clear-errors") && argc == 2 && parse_api(argv[1], &api)) {
        rd_kafka_mock_clear_request_errors(m->mc, api);
        reply("ok clear-errors");
    } else if (!strcmp(cmd, "topic-error") && argc == 3 && parse_err(argv[2], &e)) {
        rd_kafka_mock_topic_set_error(m->mc, argv[1], e);
        reply("ok topic-error");
    } else if (!strcmp(cmd, "coordinator") && argc == 4 &&
               (!strcmp(argv[1], "group") || !strcmp(argv[1], "transaction")) &&
               parse_broker(m, argv[3], false, &b)) {
        report("coordinator", rd_kafka_mock_coordinator_set(m->mc, argv[1], argv[2], b));
    } else {
        goto usage;
    }
    return;
usage:
    reply("error bad command '%s' (try: help)", cmd);
}

/* True when every host of a "h1:p1,h2:p2" list is a loopback name or address. */
static bool loopback_only(const char *bootstraps)
{
    char *copy = strdup(bootstraps);
    bool ok = copy != NULL;
    for (char *s = strtok(copy, ","); s && ok; s = strtok(NULL, ",")) {
        char *colon = strrchr(s, ':');
        if (colon)
            *colon = '\0';
        ok = !strcmp(s, "localhost") || !strncmp(s, "127.", 4) || !strcmp(s, "[::1]") ||
             !strcmp(s, "::1");
    }
    free(copy);
    return ok;
}

/* stdin is /dev/null when the tool runs in the background of a script without a pipe:
 * then its immediate EOF must not stop the cluster. */
static bool stdin_is_devnull(void)
{
    struct stat a, b;
    return fstat(0, &a) == 0 && stat("/dev/null", &b) == 0 && S_ISCHR(a.st_mode) &&
           a.st_rdev == b.st_rdev;
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    /* The handle that hosts the cluster has no bootstrap servers, and says so. */
    if (!strcmp(fac, "CONFWARN") && strstr(buf, "bootstrap.servers"))
        return;
    fprintf(stderr, "vigil-kafka-mock: %d %s: %s\n", level, fac, buf);
}

static int write_file(const char *path, const char *text)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%s\n", text);
    if (fclose(f) != 0 || rename(tmp, path) != 0)
        return -1;
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: vigil-kafka-mock [OPTIONS]\n"
            "Runs a Kafka-protocol mock cluster (librdkafka) on 127.0.0.1 and prints its\n"
            "bootstrap list as the first line of stdout. Stops on SIGTERM, SIGINT, `quit` or\n"
            "the end of stdin (a stdin of /dev/null is ignored).\n\n"
            "  -b, --brokers N           number of brokers (default 3)\n"
            "  -t, --topic NAME[:P[:R]]  create a topic with P partitions (default 6) and\n"
            "                            replication R (default min(3, brokers)); repeatable\n"
            "  -f, --bootstrap-file PATH also write the bootstrap list to PATH\n"
            "  -n, --no-stdin            do not read commands from stdin\n"
            "  -d, --debug CONTEXTS      librdkafka debug contexts (e.g. mock,protocol)\n"
            "  -h, --help                this text and the command list\n\n%s",
            help_text);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"bootstrap-file", required_argument, NULL, 'f'},
        {"no-stdin", no_argument, NULL, 'n'},
        {"debug", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    Mock m = {.brokers = 3, .sigfd = -1};
    const char *topics[MAX_TOPICS];
    int n_topics = 0;
    const char *bootstrap_file = NULL, *debug = NULL;
    bool read_stdin = true;
    long v;
    int opt, rc = 1;
    char errstr[512];

    while ((opt = getopt_long(argc, argv, "b:t:f:nd:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'b':
            if (!parse_long(optarg, 1, 64, &v)) {
                fprintf(stderr, "vigil-kafka-mock: --brokers wants 1..64\n");
                return 2;
            }
            m.brokers = (int)v;
            break;
        case 't':
            if (n_topics == MAX_TOPICS) {
                fprintf(stderr, "vigil-kafka-mock: too many topics\n");
                return 2;
            }
            topics[n_topics++] = optarg;
            break;
        case 'f':
            bootstrap_file = optarg;
            break;
        case 'n':
            read_stdin = false;
            break;
        case 'd':
            debug = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (read_stdin && stdin_is_devnull())
        read_stdin = false;

    /* Signals are taken through a signalfd; blocking them before librdkafka starts its
     * threads keeps them from landing in one of those. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    sigprocmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    m.sigfd = signalfd(-1, &sigs, SFD_CLOEXEC);
    if (m.sigfd < 0) {
        perror("vigil-kafka-mock: signalfd");
        return 1;
    }

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (debug && rd_kafka_conf_set(conf, "debug", debug, errstr, sizeof errstr)) {
        fprintf(stderr, "vigil-kafka-mock: debug: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return 2;
    }
    m.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!m.rk) {
        fprintf(stderr, "vigil-kafka-mock: %s\n", errstr);
        return 1;
    }
    m.mc = rd_kafka_mock_cluster_new(m.rk, m.brokers);
    if (!m.mc) {
        fprintf(stderr, "vigil-kafka-mock: cannot create the mock cluster\n");
        goto out;
    }
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(m.mc);
    if (!loopback_only(bootstraps)) {
        fprintf(stderr, "vigil-kafka-mock: refusing to run: brokers not on loopback (%s)\n",
                bootstraps);
        goto out;
    }

    for (int i = 0; i < n_topics; i++) {
        char name[512];
        long parts = 6, repl = m.brokers < 3 ? m.brokers : 3;
        snprintf(name, sizeof name, "%s", topics[i]);
        char *c1 = strchr(name, ':'), *c2 = NULL;
        if (c1) {
            *c1++ = '\0';
            if ((c2 = strchr(c1, ':')))
                *c2++ = '\0';
        }
        if (!*name || (c1 && !parse_long(c1, 1, 100000, &parts)) ||
            (c2 && !parse_long(c2, 1, m.brokers, &repl))) {
            fprintf(stderr, "vigil-kafka-mock: bad --topic '%s' (NAME[:PARTITIONS[:REPL]])\n",
                    topics[i]);
            goto out;
        }
        rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(m.mc, name, (int)parts, (int)repl);
        if (e) {
            fprintf(stderr, "vigil-kafka-mock: topic %s: %s\n", name, rd_kafka_err2str(e));
            goto out;
        }
    }

    if (bootstrap_file && write_file(bootstrap_file, bootstraps) != 0) {
        fprintf(stderr, "vigil-kafka-mock: %s: %s\n", bootstrap_file, strerror(errno));
        goto out;
    }
    reply("%s", bootstraps);
    fprintf(stderr, "vigil-kafka-mock: %d broker(s) at %s\n", m.brokers, bootstraps);

    char buf[8192];
    size_t have = 0;
    while (!m.quit) {
        struct pollfd p[2] = {{.fd = m.sigfd, .events = POLLIN}, {.fd = 0, .events = POLLIN}};
        if (poll(p, read_stdin ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            perror("vigil-kafka-mock: poll");
            break;
        }
        if (p[0].revents)
            break;
        if (!read_stdin || !p[1].revents)
            continue;
        ssize_t r = read(0, buf + have, sizeof buf - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* end of stdin: the controlling script is gone */
        have += (size_t)r;
        char *start = buf, *nl;
        while (!m.quit && (nl = memchr(start, '\n', have - (size_t)(start - buf)))) {
            *nl = '\0';
            run_command(&m, start);
            start = nl + 1;
        }
        have -= (size_t)(start - buf);
        memmove(buf, start, have);
        if (have == sizeof buf - 1) {
            reply("error line too long");
            have = 0;
        }
    }
    rc = 0;
out:
    if (m.mc)
        rd_kafka_mock_cluster_destroy(m.mc);
    rd_kafka_destroy(m.rk);
    close(m.sigfd);
    return rc;
}

/* bench-models.c — throughput and memory of the "models" detector (default model set),
 * fed synthetic VgEvents directly (no decoding), one thread. One line per figure:
 *   models.events_per_s <n>       updates/s over realistic keyed traffic
 *   models.bytes_per_key <n>      allocated model memory / tracked keys, table saturated
 *   models.flood_peak_rss_mb <n>  peak RSS of a process taking a 10,000,000 random-token
 *                                 flood with the default 128 MiB budget
 * Usage: bench-models [events (default 20000000)] [flood events (default 10000000)] */
#include "../unit/test-model-util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define T0 1772409600000LL

/* The benchmark's clocks, not the models': wall time, and this thread's CPU time (the
 * figure; on a shared machine the wall time also counts other processes). */
static double now_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static VgDetector *make(void)
{
    GError *err = NULL;
    VgDetector *d = vg_models_ops.create(&vg_models_ops, NULL, &err);
    if (!d) {
        fprintf(stderr, "bench-models: %s\n", err->message);
        exit(1);
    }
    return d;
}

static void throughput(long n_events)
{
    /* 10,000 tokens (Zipf-ish rates), 5,000 client IPs, 120 endpoints; 5,000 events/s of
     * event time, so buckets close as they would on a busy gateway */
    enum { POOL = 1 << 18 };
    TmEvent *pool = g_new(TmEvent, POOL);
    TmRng r = {1};
    for (int i = 0; i < POOL; i++) {
        char tok[48], ip[40], path[96], tpl[64];
        int t = (int)(10000 * pow(tm_unif(&r), 2.0));
        g_snprintf(tok, sizeof tok, "sk_live_%08d_0123456789abcdef", t);
        g_snprintf(ip, sizeof ip, "10.%d.%d.%d", t % 7, (t / 7) % 250, t % 100 + 1);
        /* a token calls a handful of endpoints of its own, as integrations do */
        int ep = (t * 7 + (int)(tm_next(&r) % 6)) % 120;
        g_snprintf(tpl, sizeof tpl, "/v1/res%d/{id}", ep);
        g_snprintf(path, sizeof path, "/v1/res%d/%d", ep, (int)(tm_next(&r) % 5000));
        int st = tm_unif(&r) < 0.03 ? 404 : tm_unif(&r) < 0.005 ? 500 : 200;
        tm_event(&pool[i], 0, tok, ip, ep % 3 ? "GET" : "POST", tpl, path, st,
                 200 + (int64_t)(tm_next(&r) % 5000), 5 + 100 * tm_unif(&r), (uint64_t)i);
    }
    for (int i = 0; i < POOL; i++) { /* re-point views after the array settled */
        pool[i].ev.token = vg_cstr(pool[i].token);
        pool[i].ev.client_ip = vg_cstr(pool[i].ip);
        pool[i].ev.path = vg_cstr(pool[i].path);
        pool[i].ev.endpoint = vg_cstr(pool[i].endpoint);
        pool[i].ev.request_id = vg_cstr(pool[i].rid);
    }
    VgDetector *d = make();
    VgHmacKey key;
    vg_hmac_key_init(&key, "bench", 5);
    VgDetectCtx ctx = {.watermark = INT64_MIN, .token_key = &key};
    /* warm the tables over one pass, then time */
    long warm = POOL;
    double t0 = 0, c0 = 0;
    for (long i = 0; i < warm + n_events; i++) {
        if (i == warm) {
            t0 = now_s(CLOCK_MONOTONIC);
            c0 = now_s(CLOCK_THREAD_CPUTIME_ID);
        }
        VgEvent *ev = &pool[i & (POOL - 1)].ev;
        ev->time_ms = T0 + i / 5; /* 5 events per ms of event time */
        ctx.watermark = ev->time_ms - 2000;
        vg_models_ops.on_event(d, ev, &ctx);
    }
    double dt = now_s(CLOCK_MONOTONIC) - t0, dc = now_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    const VgModelsStats *s = vg_models_stats(d);
    printf("models.events_per_s %.0f\n", n_events / dc);
    fprintf(stderr,
            "# %ld events in %.2f s CPU (%.2f s wall: %.0f/s); tracked %lu keys, %lu tests, %lu "
            "alerts\n",
            n_events, dc, dt, n_events / dt, (unsigned long)s->tracked, (unsigned long)s->tests,
            (unsigned long)s->alerts);
    vg_models_ops.destroy(d);
    g_free(pool);
}

/* The flood runs in a child so its peak RSS is its own. */
static void flood(long n_events, int fd)
{
    VgDetector *d = make();
    VgHmacKey key;
    vg_hmac_key_init(&key, "bench", 5);
    VgDetectCtx ctx = {.watermark = INT64_MIN, .token_key = &key};
    TmRng r = {77};
    TmEvent ev;
    tm_event(&ev, 0, "x", "192.0.2.1", "GET", "/v1/login", "/v1/login", 401, 50, 3, 0);
    for (long i = 0; i < n_events; i++) {
        g_snprintf(ev.token, sizeof ev.token, "sk_flood_%016llx", (unsigned long long)tm_next(&r));
        g_snprintf(ev.ip, sizeof ev.ip, "100.%d.%d.%d", (int)(tm_next(&r) % 64),
                   (int)(tm_next(&r) % 256), (int)(tm_next(&r) % 256));
        ev.ev.token = vg_cstr(ev.token);
        ev.ev.client_ip = vg_cstr(ev.ip);
        ev.ev.time_ms = T0 + i / 20;
        ctx.watermark = ev.ev.time_ms - 2000;
        vg_models_ops.on_event(d, &ev.ev, &ctx);
    }
    const VgModelsStats *s = vg_models_stats(d);
    char line[256];
    int n = snprintf(line, sizeof line, "%lu %lu %lu %zu\n", (unsigned long)s->tracked,
                     (unsigned long)s->rejected, (unsigned long)s->evicted, s->memory_bytes);
    if (write(fd, line, (size_t)n) != n)
        _exit(1);
    vg_models_ops.destroy(d);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000000;
    long nf = argc > 2 ? atol(argv[2]) : 10000000;
    setvbuf(stdout, NULL, _IOLBF, 0);
    throughput(n);

    int p[2];
    if (pipe(p))
        return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        flood(nf, p[1]);
        _exit(0);
    }
    close(p[1]);
    char buf[256] = "";
    ssize_t got = read(p[0], buf, sizeof buf - 1);
    if (got > 0)
        buf[got] = '\0';
    int status;
    waitpid(pid, &status, 0);
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    unsigned long tracked = 0, rejected = 0, evicted = 0;
    size_t bytes = 0;
    sscanf(buf, "%lu %lu %lu %zu", &tracked, &rejected, &evicted, &bytes);
    printf("models.bytes_per_key %.0f\n", tracked ? (double)bytes / tracked : 0.0);
    printf("models.flood_peak_rss_mb %.1f\n", ru.ru_maxrss / 1024.0);
    fprintf(stderr,
            "# flood: %ld random tokens; tracked %lu keys (all kinds), rejected %lu, evicted "
            "%lu, model memory %.1f MiB of a 128 MiB budget\n",
            nf, tracked, rejected, evicted, bytes / 1048576.0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

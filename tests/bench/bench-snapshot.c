/* bench-snapshot.c — what saving one Kafka partition's state costs (issue 6).
 *
 * `vigil run` with checkpoint.redis keeps one pipeline per partition and saves each one at
 * SIGTERM, in turn, on the run loop's thread: vg_pipeline_snapshot() then
 * vg_checkpoint_encode() (zlib) then a Redis SET. This program does the first two (and the
 * way back, decode and restore) for every partition of the Kafka bench's layout, without
 * Kafka or Redis, so the figures are CPU time of the code under test alone:
 *
 *   line i of FILE goes to topic i mod 8 and, keyed by its token as kcat does it (CRC-32 of
 *   the key mod 6; no token: i mod 6), to one of that topic's 6 partitions: 48 in all
 *
 * Each partition gets a fresh pipeline built from the config (defaults without -c: the
 * shipped rules, models.memory_budget 128 MiB), its lines in batches of 1,024, a save
 * and a restore into another fresh pipeline, whose own snapshot must be the same bytes.
 * One line per figure (means over the partitions, CPU time of this thread):
 *
 *   snapshot.raw_bytes, .compressed_bytes       per partition
 *   snapshot.save_ms       vg_pipeline_snapshot + vg_checkpoint_encode
 *   snapshot.restore_ms    vg_checkpoint_decode + vg_pipeline_restore
 *   snapshot.save_all_s    the 48 saves one after the other (what SIGTERM costs, less Redis)
 *   snapshot.pipeline_rss_mb   RSS a fresh pipeline adds, and with its lines (.pipeline_fed_*)
 *   snapshot.all_rss_mb        -k: the process's RSS with all 48 fed pipelines kept, as
 *                              `vigil run` holds them (else each is freed after its save)
 *
 * -w OUT writes partition 0's pipeline snapshot to OUT (a fuzz seed from a short FILE).
 *
 * Usage: bench-snapshot [-c vigil.yml] [-v] [-k] [-w OUT] FILE
 */
#include "engine/checkpoint.h"
#include "engine/pipeline.h"
#include "engine/settings.h"
#include "engine/wiring.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define N_TOPICS 8
#define N_PARTS  6

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double rss_mb(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (double)sysconf(_SC_PAGESIZE) / (1 << 20);
}

static int push(void *user, const VgAlertRecord *r)
{
    (void)user;
    (void)r;
    return VG_OK;
}

static VgPipeline *make(const VgSettings *s)
{
    GError *err = NULL;
    VgPipeline *p = vg_pipeline_new(s, (VgAlertOutput){NULL, push, NULL}, NULL, NULL, &err);
    if (!p) {
        fprintf(stderr, "bench-snapshot: %s\n", err->message);
        exit(1);
    }
    return p;
}

/* The partition (0 .. N_TOPICS * N_PARTS - 1) of line i. */
static int partition_of(const char *line, size_t len, size_t i)
{
    const char *k = g_strstr_len(line, (gssize)len, "\"token\":\"");
    int sub = (int)(i % N_PARTS);
    if (k) {
        k += 9;
        const char *e = memchr(k, '"', (size_t)(line + len - k));
        if (e && e > k)
            sub = (int)(crc32(0, (const Bytef *)k, (uInt)(e - k)) % N_PARTS);
    }
    return (int)(i % N_TOPICS) * N_PARTS + sub;
}

int main(int argc, char **argv)
{
    const char *conf = NULL, *seed = NULL;
    bool verbose = false, keep = false;
    int opt;
    while ((opt = getopt(argc, argv, "c:kvw:")) != -1) {
        if (opt == 'c')
            conf = optarg;
        else if (opt == 'w')
            seed = optarg;
        else if (opt == 'k')
            keep = true;
        else if (opt == 'v')
            verbose = true;
        else
            return 2;
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: bench-snapshot [-c vigil.yml] [-v] [-k] [-w OUT] FILE\n");
        return 2;
    }
    vg_register_all();
    GError *err = NULL;
    VgSettings *s = vg_settings_load(conf, &err);
    if (!s) {
        fprintf(stderr, "bench-snapshot: %s\n", err->message);
        return 1;
    }
    gchar *text;
    gsize text_len;
    if (!g_file_get_contents(argv[optind], &text, &text_len, &err)) {
        fprintf(stderr, "bench-snapshot: %s\n", err->message);
        return 1;
    }
    /* the lines of each partition, as (offset in text, length) pairs */
    enum { N = N_TOPICS * N_PARTS };
    GArray *lines[N];
    for (int p = 0; p < N; p++)
        lines[p] = g_array_new(FALSE, FALSE, sizeof(size_t) * 2);
    size_t i = 0;
    for (char *l = text; l < text + text_len; i++) {
        char *e = memchr(l, '\n', (size_t)(text + text_len - l));
        size_t len = e ? (size_t)(e - l) : (size_t)(text + text_len - l);
        size_t ref[2] = {(size_t)(l - text), len};
        g_array_append_val(lines[partition_of(l, len, i)], ref);
        l += len + 1;
    }

    GPtrArray *kept = g_ptr_array_new_with_free_func((GDestroyNotify)vg_pipeline_free);
    double raw = 0, packed = 0, save = 0, restore = 0, fresh_rss = 0, fed_rss = 0;
    for (int p = 0; p < N; p++) {
        double r0 = rss_mb();
        VgPipeline *a = make(s);
        double r1 = rss_mb();
        VgLineBatch b;
        vg_line_batch_init(&b, 1024, 1 << 20);
        b.source = "kafka:bench";
        b.partition = p;
        for (guint j = 0; j < lines[p]->len; j++) {
            const size_t *ref = &g_array_index(lines[p], size_t, 2 * j);
            vg_line_batch_add(&b, text + ref[0], ref[1], j + 1, j, VG_BAD_NONE);
            if (b.n == 1024 || j + 1 == lines[p]->len) {
                vg_pipeline_process(a, &b);
                vg_line_batch_clear(&b);
            }
        }
        vg_line_batch_free(&b);
        double r2 = rss_mb();

        double t0 = cpu_s();
        VgCheckpoint *c = vg_checkpoint_new("bench");
        vg_checkpoint_add_offset(c, "access", p, lines[p]->len);
        vg_pipeline_snapshot(a, c->state);
        if (seed && p == 0 &&
            !g_file_set_contents(seed, (const char *)c->state->data, c->state->len, &err)) {
            fprintf(stderr, "bench-snapshot: %s\n", err->message);
            return 1;
        }
        GByteArray *enc = g_byte_array_new();
        vg_checkpoint_encode(c, enc);
        double t1 = cpu_s();
        VgPipeline *z = make(s);
        double t2 = cpu_s();
        VgCheckpoint *d = vg_checkpoint_decode(enc->data, enc->len, &err);
        if (!d || vg_pipeline_restore(z, d->state->data, d->state->len, &err) != VG_OK) {
            fprintf(stderr, "bench-snapshot: partition %d: %s\n", p, err->message);
            return 1;
        }
        double t3 = cpu_s();
        GByteArray *again = g_byte_array_new();
        vg_pipeline_snapshot(z, again);
        if (again->len != c->state->len || memcmp(again->data, c->state->data, again->len)) {
            fprintf(stderr, "bench-snapshot: partition %d: the restored state differs\n", p);
            return 1;
        }
        if (verbose)
            printf("# partition %d: %u lines, %u bytes raw, %u compressed, save %.2f ms, "
                   "restore %.2f ms, RSS +%.1f MiB fresh, +%.1f MiB after its lines\n",
                   p, lines[p]->len, c->state->len, enc->len, (t1 - t0) * 1e3, (t3 - t2) * 1e3,
                   r1 - r0, r2 - r0);
        raw += c->state->len;
        packed += enc->len;
        save += t1 - t0;
        restore += t3 - t2;
        fresh_rss += r1 - r0;
        fed_rss += r2 - r0;
        g_byte_array_free(again, TRUE);
        g_byte_array_free(enc, TRUE);
        vg_checkpoint_free(c);
        vg_checkpoint_free(d);
        if (keep)
            g_ptr_array_add(kept, a);
        else
            vg_pipeline_free(a);
        vg_pipeline_free(z);
    }
    printf("snapshot.raw_bytes %.0f bytes\n", raw / N);
    printf("snapshot.compressed_bytes %.0f bytes\n", packed / N);
    printf("snapshot.save_ms %.2f ms\n", save * 1e3 / N);
    printf("snapshot.restore_ms %.2f ms\n", restore * 1e3 / N);
    printf("snapshot.save_all_s %.3f s\n", save);
    printf("snapshot.pipeline_rss_mb %.1f MiB\n", fresh_rss / N);
    printf("snapshot.pipeline_fed_rss_mb %.1f MiB\n", fed_rss / N);
    if (keep)
        printf("snapshot.all_rss_mb %.1f MiB\n", rss_mb());
    g_ptr_array_free(kept, TRUE);
    for (int p = 0; p < N; p++)
        g_array_free(lines[p], TRUE);
    g_free(text);
    vg_settings_free(s);
    return 0;
}

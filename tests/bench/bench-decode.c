/* bench-decode.c — decode-only throughput of one format preset on one core.
 *
 *   bench-decode PRESET FILE [SECONDS]
 *
 * Reads FILE into memory once (with VG_LINE_PADDING spare bytes at the end, so every line
 * has readable bytes after it as the collectors guarantee), splits it into lines and
 * decodes all of them over and over for about SECONDS (default 2) of CPU time, resetting
 * the arena every 1024 lines as a worker does per batch. Rates are per second of the
 * thread's CPU time (CLOCK_THREAD_CPUTIME_ID), so a busy shared machine does not skew the
 * one-core figure. Prints one figure per line:
 *   decode.<preset>.lines_per_s <n>
 *   decode.<preset>.mb_per_s <n>
 * and, on stderr, how many lines were bad (a benchmark on bad lines measures nothing).
 */
#include "collectors/decoders.h"
#include "engine/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench-decode PRESET FILE [SECONDS]\n");
        return 2;
    }
    double budget = argc > 3 ? atof(argv[3]) : 2.0;
    vg_decoders_register_all();
    const VgDecoderOps *ops = vg_find_decoder(argv[1]);
    if (!ops) {
        fprintf(stderr, "bench-decode: no preset '%s'\n", argv[1]);
        return 2;
    }
    char *text;
    gsize size;
    GError *err = NULL;
    if (!g_file_get_contents(argv[2], &text, &size, &err)) {
        fprintf(stderr, "bench-decode: %s\n", err->message);
        return 1;
    }
    char *buf = g_malloc0(size + VG_LINE_PADDING);
    memcpy(buf, text, size);
    g_free(text);

    GArray *starts = g_array_new(FALSE, FALSE, sizeof(size_t));
    GArray *lens = g_array_new(FALSE, FALSE, sizeof(size_t));
    for (size_t i = 0; i < size;) {
        char *nl = memchr(buf + i, '\n', size - i);
        size_t e = nl ? (size_t)(nl - buf) : size;
        if (e > i) {
            size_t len = e - i;
            g_array_append_val(starts, i);
            g_array_append_val(lens, len);
        }
        i = e + 1;
    }
    size_t n = starts->len;
    if (!n) {
        fprintf(stderr, "bench-decode: no lines in %s\n", argv[2]);
        return 1;
    }

    VgInputConf conf = {.format = argv[1], .fields = NULL, .max_line_bytes = 1 << 20};
    VgDecoder *d = ops->create(ops, &conf, &err);
    if (!d) {
        fprintf(stderr, "bench-decode: %s\n", err->message);
        return 1;
    }
    VgArena arena;
    vg_arena_init(&arena, 256 * 1024);
    VgEvent ev;
    uint64_t lines = 0, bytes = 0, bad = 0;
    double t0 = now_s(), t1;
    do {
        for (size_t i = 0; i < n; i++) {
            size_t off = g_array_index(starts, size_t, i), len = g_array_index(lens, size_t, i);
            vg_event_reset(&ev);
            if (ops->decode(d, buf + off, len, &ev, &arena) != VG_BAD_NONE)
                bad++;
            bytes += len + 1;
            if ((++lines & 1023) == 0)
                vg_arena_reset(&arena);
        }
        t1 = now_s();
    } while (t1 - t0 < budget);
    double secs = t1 - t0;
    printf("decode.%s.lines_per_s %.0f\n", argv[1], (double)lines / secs);
    printf("decode.%s.mb_per_s %.1f\n", argv[1], (double)bytes / secs / 1e6);
    fprintf(stderr,
            "bench-decode: %s: %zu distinct lines, %" G_GUINT64_FORMAT
            " decoded, %" G_GUINT64_FORMAT " bad, %.2f s\n",
            argv[1], n, lines, bad, secs);
    ops->destroy(d);
    vg_arena_destroy(&arena);
    g_array_free(starts, TRUE);
    g_array_free(lens, TRUE);
    g_free(buf);
    return 0;
}

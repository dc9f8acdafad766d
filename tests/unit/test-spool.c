/* test-spool.c — the on-disk spool: order, restart, CRC corruption, torn tails, bounds. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

#include "engine/sinks/spool.h"

static char *dir;

static void setup(void)
{
    dir = g_dir_make_tmp("vg-spool-XXXXXX", NULL);
    cr_assert(dir);
}

static void rm_rf(const char *d)
{
    GDir *g = g_dir_open(d, 0, NULL);
    const char *n;
    while (g && (n = g_dir_read_name(g))) {
        char *p = g_build_filename(d, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (g)
        g_dir_close(g);
    g_rmdir(d);
}

static void teardown(void)
{
    rm_rf(dir);
    g_free(dir);
}

TestSuite(spool, .init = setup, .fini = teardown);

static const VgSpoolLimits big = {1 << 24, 1 << 20, true};

/* Record i: distinct values in every field, so that a field mix-up shows. */
typedef struct {
    char json[64], id[16], rule[16], tok[24], ip[24];
    VgAlertRecord r;
} Rec;

static void mk(Rec *x, int i)
{
    snprintf(x->json, sizeof x->json, "{\"event\":{\"id\":\"id-%d\"}}", i);
    snprintf(x->id, sizeof x->id, "id-%d", i);
    snprintf(x->rule, sizeof x->rule, "rule-%d", i % 3);
    snprintf(x->tok, sizeof x->tok, "%016x", i * 7919);
    snprintf(x->ip, sizeof x->ip, "10.0.0.%d", i % 250);
    x->r = (VgAlertRecord){.json = x->json,
                           .json_len = strlen(x->json),
                           .id = x->id,
                           .rule_id = x->rule,
                           .rule_name = "Rule name",
                           .severity = (VgSeverity)(i % 5),
                           .entity_type = "token",
                           .token_id = x->tok,
                           .client_ip = i % 2 ? x->ip : "",
                           .score = i * 1.5,
                           .time_ms = 1772445600000LL + i};
}

static void append_range(VgSpool *s, int from, int to)
{
    int n = to - from;
    Rec *x = g_new0(Rec, n);
    const VgAlertRecord **p = g_new0(const VgAlertRecord *, n);
    for (int i = 0; i < n; i++) {
        mk(&x[i], from + i);
        p[i] = &x[i].r;
    }
    GError *err = NULL;
    cr_assert_eq(vg_spool_append(s, p, (size_t)n, &err), VG_OK, "%s", err ? err->message : "");
    g_free(p);
    g_free(x);
}

/* Reads everything (in chunks of chunk) and returns the record numbers in order. */
static GArray *drain(VgSpool *s, size_t chunk)
{
    GArray *got = g_array_new(FALSE, FALSE, sizeof(int));
    for (;;) {
        const VgAlertRecord *const *recs;
        size_t n;
        cr_assert_eq(vg_spool_peek(s, chunk, &recs, &n, NULL), VG_OK);
        if (!n)
            break;
        for (size_t i = 0; i < n; i++) {
            int k = atoi(recs[i]->id + 3);
            Rec x;
            mk(&x, k);
            cr_assert_str_eq(recs[i]->json, x.json);
            cr_assert_eq(recs[i]->json_len, strlen(x.json));
            cr_assert_str_eq(recs[i]->rule_id, x.rule);
            cr_assert_str_eq(recs[i]->rule_name, "Rule name");
            cr_assert_str_eq(recs[i]->entity_type, "token");
            cr_assert_str_eq(recs[i]->token_id, x.tok);
            cr_assert_str_eq(recs[i]->client_ip, k % 2 ? x.ip : "");
            cr_assert_eq(recs[i]->severity, (VgSeverity)(k % 5));
            cr_assert_float_eq(recs[i]->score, k * 1.5, 1e-12);
            cr_assert_eq(recs[i]->time_ms, 1772445600000LL + k);
            g_array_append_val(got, k);
        }
        cr_assert_eq(vg_spool_consume(s, NULL), VG_OK);
    }
    return got;
}

static void assert_seq(GArray *got, const int *want, int n)
{
    cr_assert_eq(got->len, (guint)n, "got %u records, want %d", got->len, n);
    for (int i = 0; i < n; i++)
        cr_assert_eq(g_array_index(got, int, i), want[i], "record %d: got %d want %d", i,
                     g_array_index(got, int, i), want[i]);
    g_array_free(got, TRUE);
}

static void assert_range(GArray *got, int from, int to)
{
    int *w = g_new(int, to - from);
    for (int i = from; i < to; i++)
        w[i - from] = i;
    assert_seq(got, w, to - from);
    g_free(w);
}

static int count_segments(void)
{
    int n = 0;
    GDir *g = g_dir_open(dir, 0, NULL);
    const char *f;
    while ((f = g_dir_read_name(g)))
        n += g_str_has_suffix(f, ".seg");
    g_dir_close(g);
    return n;
}

Test(spool, write_read_in_order)
{
    VgSpool *s = vg_spool_open(dir, &big, "t", NULL);
    cr_assert(s);
    cr_assert_eq(vg_spool_records(s), 0);
    append_range(s, 0, 10);
    append_range(s, 10, 25);
    cr_assert_eq(vg_spool_records(s), 25);
    cr_assert_gt(vg_spool_bytes(s), 25 * 12);
    assert_range(drain(s, 7), 0, 25);
    cr_assert_eq(vg_spool_records(s), 0);
    cr_assert_eq(vg_spool_bytes(s), 0);
    cr_assert_eq(count_segments(), 0, "an empty spool keeps no segment");
    append_range(s, 25, 30);
    assert_range(drain(s, 100), 25, 30);
    vg_spool_free(s);
}

Test(spool, survives_reopen_and_keeps_cursor)
{
    VgSpool *s = vg_spool_open(dir, &big, "t", NULL);
    append_range(s, 0, 10);
    const VgAlertRecord *const *recs;
    size_t n;
    cr_assert_eq(vg_spool_peek(s, 4, &recs, &n, NULL), VG_OK);
    cr_assert_eq(n, 4);
    cr_assert_eq(vg_spool_consume(s, NULL), VG_OK);
    /* peeked but not consumed: must come back after a restart */
    cr_assert_eq(vg_spool_peek(s, 3, &recs, &n, NULL), VG_OK);
    vg_spool_free(s);

    s = vg_spool_open(dir, &big, "t", NULL);
    cr_assert(s);
    cr_assert_eq(vg_spool_records(s), 6);
    append_range(s, 10, 12); /* goes to a new segment, after the old ones */
    assert_range(drain(s, 5), 4, 12);
    vg_spool_free(s);
}

Test(spool, is_locked_against_a_second_user)
{
    VgSpool *s = vg_spool_open(dir, &big, "t", NULL);
    GError *err = NULL;
    cr_assert_null(vg_spool_open(dir, &big, "t", &err));
    cr_assert(strstr(err->message, "in use"), "%s", err->message);
    g_error_free(err);
    vg_spool_free(s);
    s = vg_spool_open(dir, &big, "t", NULL);
    cr_assert(s);
    vg_spool_free(s);
}

static char *only_segment(void)
{
    GDir *g = g_dir_open(dir, 0, NULL);
    const char *f;
    char *r = NULL;
    while ((f = g_dir_read_name(g)))
        if (g_str_has_suffix(f, ".seg")) {
            cr_assert_null(r);
            r = g_build_filename(dir, f, NULL);
        }
    g_dir_close(g);
    cr_assert(r);
    return r;
}

Test(spool, crc_corruption_is_skipped_and_counted)
{
    VgSpool *s = vg_spool_open(dir, &big, "t", NULL);
    append_range(s, 0, 5);
    vg_spool_free(s);
    char *seg = only_segment();
    gchar *data;
    gsize len;
    cr_assert(g_file_get_contents(seg, &data, &len, NULL));
    /* flip a byte inside record 2's JSON */
    char *hit = memmem(data, len, "\"id-2\"", 6);
    cr_assert(hit);
    hit[2] ^= 0x20;
    cr_assert(g_file_set_contents(seg, data, (gssize)len, NULL));
    g_free(data);
    g_free(seg);

    s = vg_spool_open(dir, &big, "t", NULL);
    cr_assert(s);
    cr_assert_eq(vg_spool_records(s), 4);
    cr_assert_eq(vg_spool_corrupt(s), 1);
    int want[] = {0, 1, 3, 4};
    assert_seq(drain(s, 2), want, 4);
    vg_spool_free(s);
}

Test(spool, torn_tail_is_skipped_and_appends_go_on)
{
    VgSpool *s = vg_spool_open(dir, &big, "t", NULL);
    append_range(s, 0, 3);
    vg_spool_free(s);
    char *seg = only_segment();
    struct stat st;
    cr_assert_eq(stat(seg, &st), 0);
    cr_assert_eq(truncate(seg, st.st_size - 5), 0); /* a crash in the middle of record 2 */
    g_free(seg);

    s = vg_spool_open(dir, &big, "t", NULL);
    cr_assert_eq(vg_spool_records(s), 2);
    cr_assert_eq(vg_spool_corrupt(s), 1);
    append_range(s, 3, 6);
    int want[] = {0, 1, 3, 4, 5};
    assert_seq(drain(s, 100), want, 5);
    vg_spool_free(s);
}

Test(spool, garbage_between_records_resyncs)
{
    VgSpool *s = vg_spool_open(dir, &big, "t", NULL);
    append_range(s, 0, 2);
    vg_spool_free(s);
    char *seg = only_segment();
    FILE *f = fopen(seg, "ab");
    fputs("VGS1 garbage that looks like a frame start, VGS1VGS1", f);
    fclose(f);
    g_free(seg);
    s = vg_spool_open(dir, &big, "t", NULL);
    cr_assert_eq(vg_spool_records(s), 2);
    cr_assert_eq(vg_spool_corrupt(s), 1);
    append_range(s, 2, 4);
    assert_range(drain(s, 3), 0, 4);
    vg_spool_free(s);
}

Test(spool, corrupt_cursor_means_redelivery_not_loss)
{
    VgSpool *s = vg_spool_open(dir, &big, "t", NULL);
    append_range(s, 0, 4);
    const VgAlertRecord *const *recs;
    size_t n;
    vg_spool_peek(s, 2, &recs, &n, NULL);
    vg_spool_consume(s, NULL);
    vg_spool_free(s);
    char *cur = g_build_filename(dir, "cursor", NULL);
    cr_assert(g_file_set_contents(cur, "garbage-garbage-garb", 20, NULL));
    g_free(cur);
    s = vg_spool_open(dir, &big, "t", NULL);
    assert_range(drain(s, 10), 0, 4);
    vg_spool_free(s);
}

Test(spool, bounded)
{
    VgSpoolLimits lim = {4096, 1024, false};
    VgSpool *s = vg_spool_open(dir, &lim, "t", NULL);
    int i = 0;
    Rec x;
    const VgAlertRecord *p[1] = {&x.r};
    for (;; i++) {
        mk(&x, i);
        int r = vg_spool_append(s, p, 1, NULL);
        if (r == VG_EFULL)
            break;
        cr_assert_eq(r, VG_OK);
        cr_assert_lt(i, 1000);
    }
    cr_assert_gt(i, 10);
    cr_assert_leq(vg_spool_bytes(s), 4096);
    cr_assert_eq(vg_spool_records(s), (uint64_t)i);
    cr_assert_gt(count_segments(), 2, "segments roll at segment_bytes");
    /* consuming makes room; consumed segments are deleted */
    const VgAlertRecord *const *recs;
    size_t n;
    vg_spool_peek(s, 20, &recs, &n, NULL);
    vg_spool_consume(s, NULL);
    mk(&x, i);
    cr_assert_eq(vg_spool_append(s, p, 1, NULL), VG_OK);
    vg_spool_free(s);
    s = vg_spool_open(dir, &lim, "t", NULL);
    assert_range(drain(s, 7), 20, i + 1);
    vg_spool_free(s);
}

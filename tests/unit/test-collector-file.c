/* Unit tests: the file collector (collectors/collector-file.c): plain, gzip, truncated
 * gzip, over-long lines, CRLF, blank lines, lines across the read buffer's refills,
 * follow across rotation. */
#include "collectors/collectors.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <unistd.h>
#include <zlib.h>

static char dir[] = "/tmp/vg-fc-XXXXXX";

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
}

static void teardown(void)
{
    char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    g_free(cmd);
}

TestSuite(file_collector, .init = setup, .fini = teardown);

static char *path_of(const char *name)
{
    return g_build_filename(dir, name, NULL);
}

/* Reads everything in batches of batch_lines; returns lines as "bad@line_no:text" strings
 * joined by '|'. Every line must sit in the batch's own buffer, with its padding. */
static char *read_as(const char *path, size_t max_line, uint32_t batch_lines)
{
    VgFileCollectorConf c = {.max_line_bytes = max_line};
    GError *e = NULL;
    VgCollector *col = vg_file_collector_open(path, &c, &e);
    cr_assert_not_null(col, "%s", e ? e->message : "");
    VgLineBatch b;
    vg_line_batch_init(&b, batch_lines, 16); /* a small buffer, which the collector grows */
    GString *o = g_string_new(NULL);
    int r;
    do {
        vg_line_batch_clear(&b);
        r = col->ops->next(col, &b, &e);
        for (uint32_t i = 0; i < b.n; i++) {
            const VgLineRef *l = &b.lines[i];
            cr_assert_leq(l->off + l->len + VG_LINE_PADDING, b.cap);
            cr_assert_leq(l->off + l->len, b.len);
            g_string_append_printf(o, "%s%s@%lu:%.*s", o->len ? "|" : "",
                                   vg_bad_reason_name((VgBadReason)l->bad),
                                   (unsigned long)l->line_no, (int)l->len, vg_line_bytes(&b, l));
        }
    } while (r == VG_OK);
    cr_assert_eq(r, VG_EOF);
    vg_line_batch_free(&b);
    col->ops->close(col);
    return g_string_free(o, FALSE);
}

/* Reads everything as read_as() does in tiny batches (which exercise the carry from call to
 * call) and in large ones; both must give the same lines. */
static char *read_all(const char *path, size_t max_line)
{
    char *got = read_as(path, max_line, 3);
    char *large = read_as(path, max_line, 1000);
    cr_assert(strcmp(large, got) == 0, "in batches of 1000: %.200s", large);
    g_free(large);
    return got;
}

Test(file_collector, plain_lines_crlf_blank_and_no_final_newline)
{
    char *p = path_of("a.log");
    const char *text = "one\r\ntwo\n\n  \nthree";
    cr_assert(g_file_set_contents(p, text, -1, NULL));
    char *got = read_all(p, 1024);
    cr_assert_str_eq(got, "none@1:one|none@2:two|none@5:three");
    g_free(got);
    g_free(p);
}

Test(file_collector, overlong_lines_are_flagged_not_dropped)
{
    char *p = path_of("long.log");
    GString *t = g_string_new("short\n");
    for (int i = 0; i < 3000; i++)
        g_string_append_c(t, 'x');
    g_string_append(t, "\nafter\n");
    cr_assert(g_file_set_contents(p, t->str, (gssize)t->len, NULL));
    char *got = read_all(p, 1000);
    char **parts = g_strsplit(got, "|", -1);
    cr_assert_eq(g_strv_length(parts), 3);
    cr_assert_str_eq(parts[0], "none@1:short");
    cr_assert(g_str_has_prefix(parts[1], "too_long@2:xxxx"));
    cr_assert_eq(strlen(parts[1]), strlen("too_long@2:") + 1000);
    cr_assert_str_eq(parts[2], "none@3:after");
    g_strfreev(parts);
    g_string_free(t, TRUE);
    g_free(got);
    g_free(p);
}

/* Three times the 1 MiB read buffer of lines of every length up to 499 bytes, and one of
 * 400 KB in the middle: lines cross every refill, and the unsplit tail moves to the
 * buffer's front both when it is a few bytes and when it is most of a buffer. */
Test(file_collector, lines_across_buffer_refills_arrive_whole_and_in_order)
{
    char *p = path_of("big.log");
    GString *t = g_string_new(NULL), *want = g_string_new(NULL);
    unsigned long no = 0;
    while (t->len < 3u << 20) {
        size_t at = t->len;
        g_string_append_printf(t, "L%lu-", ++no);
        size_t n = no == 4000 ? 400000 : (no * 37) % 500;
        for (size_t i = 0; i < n; i++)
            g_string_append_c(t, (char)('a' + (no + i) % 26));
        g_string_append_printf(want, "%snone@%lu:%s", want->len ? "|" : "", no, t->str + at);
        g_string_append_c(t, '\n');
    }
    cr_assert(g_file_set_contents(p, t->str, (gssize)t->len, NULL));
    char *got = read_all(p, 600000);
    cr_assert(strcmp(got, want->str) == 0, "%lu lines: not read back as written", no);
    g_free(got);
    g_string_free(t, TRUE);
    g_string_free(want, TRUE);
    g_free(p);
}

typedef struct {
    int fd;
    int chunks;
} Writer;

static const char letters[] = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
                              "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";

/* Line no of the pipe test. */
static char *chunk_line(int chunk, unsigned long no)
{
    return g_strdup_printf("chunk %d line %lu %.*s", chunk, no, (int)(no % 97), letters);
}

/* Writes whole lines in small chunks with pauses, so that reads mostly end at a newline. */
static gpointer write_chunks(gpointer data)
{
    Writer *w = data;
    unsigned long no = 0;
    for (int c = 0; c < w->chunks; c++) {
        GString *t = g_string_new(NULL);
        for (int i = 0; i < 1 + c % 5; i++) {
            char *line = chunk_line(c, ++no);
            g_string_append_printf(t, "%s\n", line);
            g_free(line);
        }
        cr_assert_eq(write(w->fd, t->str, t->len), (ssize_t)t->len);
        g_string_free(t, TRUE);
        g_usleep(100);
    }
    close(w->fd);
    return NULL;
}

/* A pipe hands over what was written, so a read often ends exactly at a line's end, with
 * every line before it split: the next read must go after the batch's lines, not over
 * them. */
Test(file_collector, lines_stay_whole_when_a_pipe_ends_reads_at_newlines)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    Writer w = {fds[1], 3000};
    GThread *t = g_thread_new("writer", write_chunks, &w);
    char *path = g_strdup_printf("/proc/self/fd/%d", fds[0]);
    char *got = read_as(path, 1024, 1000);
    g_thread_join(t);
    close(fds[0]);
    char **lines = g_strsplit(got, "|", -1);
    unsigned long want = 0;
    for (int c = 0; c < w.chunks; c++)
        for (int i = 0; i < 1 + c % 5; i++) {
            char *line = chunk_line(c, want + 1);
            char *exp = g_strdup_printf("none@%lu:%s", want + 1, line);
            g_free(line);
            cr_assert_not_null(lines[want], "line %lu missing", want + 1);
            cr_assert_str_eq(lines[want], exp);
            g_free(exp);
            want++;
        }
    cr_assert_null(lines[want]);
    g_strfreev(lines);
    g_free(got);
    g_free(path);
}

static void write_gz(const char *path, const char *text, size_t cut)
{
    char *tmp = g_strconcat(path, ".full", NULL);
    gzFile g = gzopen(tmp, "wb");
    gzwrite(g, text, (unsigned)strlen(text));
    gzclose(g);
    gchar *data;
    gsize len;
    cr_assert(g_file_get_contents(tmp, &data, &len, NULL));
    cr_assert(g_file_set_contents(path, data, (gssize)(cut && cut < len ? len - cut : len), NULL));
    g_free(data);
    unlink(tmp);
    g_free(tmp);
}

Test(file_collector, gzip_is_read_transparently)
{
    char *p = path_of("a.log.gz");
    write_gz(p, "alpha\nbeta\ngamma\n", 0);
    char *got = read_all(p, 1024);
    cr_assert_str_eq(got, "none@1:alpha|none@2:beta|none@3:gamma");
    g_free(got);
    g_free(p);
}

Test(file_collector, truncated_gzip_is_reported_once)
{
    char *p = path_of("t.log.gz");
    GString *t = g_string_new(NULL);
    for (int i = 0; i < 5000; i++)
        g_string_append_printf(t, "line %d with some text to compress\n", i);
    write_gz(p, t->str, 20);
    char *got = read_all(p, 1024);
    cr_assert(strstr(got, "none@1:line 0 "), "%s", got);
    const char *bad = strstr(got, "|bad_gzip@");
    cr_assert_not_null(bad, "no bad_gzip line");
    cr_assert_null(strstr(bad + 1, "|bad_gzip@"), "reported twice");
    g_string_free(t, TRUE);
    g_free(got);
    g_free(p);
}

/* A gzip stream that breaks off right after a line without its newline: that last line
 * fills the batch, and the VG_BAD_GZIP line comes first in the next one. */
Test(file_collector, truncated_gzip_whose_last_line_fills_the_batch)
{
    char *p = path_of("full.log.gz");
    write_gz(p, "a\nb\nc", 8); /* without its trailer (CRC and size): truncated */
    int lines_per_batch[] = {3, 2, 100};
    for (size_t k = 0; k < G_N_ELEMENTS(lines_per_batch); k++) {
        char *got = read_as(p, 1024, (uint32_t)lines_per_batch[k]);
        cr_assert_str_eq(got,
                         "none@1:a|none@2:b|none@3:c|bad_gzip@4:unexpected end of gzip data "
                         "(truncated file)",
                         "batches of %d", lines_per_batch[k]);
        g_free(got);
    }
    g_free(p);
}

/* Lines long enough that the batch's buffer fills before its line count: the batch goes
 * out shorter, and none of its lines is moved or written over. */
Test(file_collector, long_lines_fill_the_buffer_before_the_batch)
{
    char *p = path_of("wide.log");
    GString *t = g_string_new(NULL), *want = g_string_new(NULL);
    for (unsigned long no = 1; no <= 1500; no++) {
        size_t at = t->len;
        g_string_append_printf(t, "W%lu-", no);
        for (size_t i = 0; i < 2000 + (no * 131) % 2500; i++)
            g_string_append_c(t, (char)('a' + (no + i) % 26));
        g_string_append_printf(want, "%snone@%lu:%s", want->len ? "|" : "", no, t->str + at);
        g_string_append_c(t, '\n');
    }
    cr_assert(g_file_set_contents(p, t->str, (gssize)t->len, NULL));
    char *got = read_as(p, 8192, 1000);
    cr_assert(strcmp(got, want->str) == 0, "not read back as written");
    g_free(got);
    g_string_free(t, TRUE);
    g_string_free(want, TRUE);
    g_free(p);
}

/* More blank lines than a batch's buffer holds, before the first line: the bytes they
 * took are given back (what is not split yet moves to the front) rather than the buffer
 * filling up with no line in it. */
Test(file_collector, blank_lines_longer_than_the_buffer)
{
    char *p = path_of("blank.log");
    GString *t = g_string_new(NULL);
    for (int i = 0; i < 700000; i++)
        g_string_append(t, i % 3 ? "\n" : " \t\n");
    g_string_append(t, "first\nsecond\n");
    cr_assert(g_file_set_contents(p, t->str, (gssize)t->len, NULL));
    char *got = read_all(p, 1024);
    cr_assert_str_eq(got, "none@700001:first|none@700002:second");
    g_free(got);
    g_string_free(t, TRUE);
    g_free(p);
}

Test(file_collector, follow_across_rename_rotation_and_truncation)
{
    char *p = path_of("live.log");
    cr_assert(g_file_set_contents(p, "a1\na2\n", -1, NULL));
    VgFileCollectorConf c = {.max_line_bytes = 1024, .follow = true};
    VgCollector *col = vg_file_collector_open(p, &c, NULL);
    cr_assert_not_null(col);
    VgLineBatch b;
    vg_line_batch_init(&b, 100, 64);
    GString *seen = g_string_new(NULL);
#define DRAIN()                                                                                    \
    do {                                                                                           \
        int r;                                                                                     \
        do {                                                                                       \
            vg_line_batch_clear(&b);                                                               \
            r = col->ops->next(col, &b, NULL);                                                     \
            for (uint32_t i = 0; i < b.n; i++)                                                     \
                g_string_append_printf(seen, "%.*s,", (int)b.lines[i].len,                         \
                                       b.buf + b.lines[i].off);                                    \
        } while (r == VG_OK);                                                                      \
        cr_assert_eq(r, VG_EAGAIN);                                                                \
    } while (0)
    DRAIN();
    FILE *f = fopen(p, "a");
    fputs("a3\n", f);
    fclose(f);
    DRAIN();
    char *rotated = path_of("live.log.1");
    cr_assert_eq(rename(p, rotated), 0);
    cr_assert(g_file_set_contents(p, "b1\n", -1, NULL));
    DRAIN();
    cr_assert(g_file_set_contents(p, "", -1, NULL)); /* truncate in place... */
    DRAIN();
    f = fopen(p, "a");
    fputs("c1\n", f); /* ...and write again */
    fclose(f);
    DRAIN();
    cr_assert_str_eq(seen->str, "a1,a2,a3,b1,c1,");
    g_string_free(seen, TRUE);
    vg_line_batch_free(&b);
    col->ops->close(col);
    g_free(rotated);
    g_free(p);
}

/* collector-file.c — lines from a plain or gzip file, or standard input.
 *
 * Bytes come from read(2), which hands over whatever is there: a pipe or a followed file
 * gives its lines as they arrive, not when a buffer has filled. The first bytes tell a
 * gzip stream (magic 1f 8b) from plain text; gzip is inflated with zlib as it is read
 * (concatenated members too), and a stream that ends early or is corrupt becomes one
 * VG_BAD_GZIP line instead of a silent short read.
 *
 * Splitting: a 1 MiB line buffer (plain text is read straight into it, gzip inflated into
 * it); complete lines are copied once into the caller's batch. What is not split yet stays
 * where it is until the buffer is three-quarters full, then moves to its front (moving it
 * after every batch copied most of the buffer again for each). A line longer than the
 * limit is passed on truncated and flagged VG_BAD_TOO_LONG, and the rest of it skipped.
 *
 * Lending: when the batch allows it (may_borrow: `vigil replay` on one thread, which is
 * done with a batch before it asks for the next), plain text is not copied at all: the
 * batch's lines point into the line buffer, which then must not change until the next
 * call. So while a batch holds lent lines, the buffer is neither moved to its front nor
 * started again at 0; when it would have to be, the batch goes out as it is (shorter).
 * The copy was 96 instructions per canonical JSON line and wrote every line a second time;
 * without it, a one-core replay was 1.034 times as fast on canonical JSON and 1.015 on
 * nginx combined (16 and 8 alternating rounds, 2026-11-25). The parallel pipeline copies:
 * its batches wait in the ring while the next one is read.
 *
 * Follow mode (tail -F): at the end of the file we answer VG_EAGAIN; on each call we check
 * whether the path now names another file (rotation by rename: we finish the old one,
 * then open the new) or the file shrank (rotation by truncation: we start again at 0).
 */
#include "collectors/collectors.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define READ_BUF (1u << 20)
#define RAW_BUF  (256u * 1024)

typedef enum { MODE_UNKNOWN, MODE_PLAIN, MODE_GZIP } Mode;

typedef struct {
    VgCollector base;
    VgFileCollectorConf conf;
    char *path; /* NULL for stdin */
    char *name; /* source name in events and dead letters */
    int fd;
    Mode mode;
    z_stream zs;
    bool zs_live;       /* zs initialised */
    bool member_done;   /* the last gzip member ended cleanly */
    unsigned char *raw; /* compressed bytes not yet inflated */
    size_t raw_len;
    char *buf;
    size_t off, len;   /* buf[off .. len) is not split yet */
    bool skipping;     /* inside the rest of an over-long line */
    bool eof;          /* the stream reported its end */
    uint64_t line_no;  /* lines handed out so far */
    uint64_t raw_read; /* bytes read from the file, for progress and truncation checks */
    uint64_t size;     /* file size at open (0 for stdin) */
    dev_t dev;
    ino_t ino;
} FileCollector;

static bool open_fd(FileCollector *c, GError **err)
{
    c->fd = c->path ? open(c->path, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO);
    if (c->fd < 0) {
        g_set_error(err, VG_ERROR, VG_EIO, "%s: %s", c->name, g_strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(c->fd, &st) == 0) {
        c->dev = st.st_dev;
        c->ino = st.st_ino;
        c->size = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    }
    c->mode = MODE_UNKNOWN;
    c->raw_len = 0;
    c->raw_read = 0;
    c->member_done = false;
    c->eof = false;
    return true;
}

static void close_fd(FileCollector *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->zs_live)
        inflateEnd(&c->zs);
    c->zs_live = false;
}

/* read(2) into the raw buffer. Returns bytes read, 0 at the end of what is there, -1 on
 * an error (errno set). */
static ssize_t read_raw(FileCollector *c)
{
    ssize_t n;
    do
        n = read(c->fd, c->raw + c->raw_len, RAW_BUF - c->raw_len);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        c->raw_len += (size_t)n;
        c->raw_read += (uint64_t)n;
    }
    return n;
}

/* Whether fill() will move what is not split yet to the front of buf first. */
static bool will_move(const FileCollector *c)
{
    return c->off && READ_BUF - c->len < READ_BUF / 4;
}

/* Whether b holds lines lent from buf (which must then stay as it is). */
static bool lent(const FileCollector *c, const VgLineBatch *b)
{
    return b->n && b->text == c->buf;
}

/* Moves decoded bytes into buf. Returns the number of bytes added (0: nothing available
 * now), -1 on a read error, -2 on corrupt or truncated gzip data (msg set). */
static ssize_t fill(FileCollector *c, const char **msg)
{
    if (will_move(c)) {
        memmove(c->buf, c->buf + c->off, c->len - c->off);
        c->len -= c->off;
        c->off = 0;
    }
    size_t space = READ_BUF - c->len;
    if (c->mode == MODE_UNKNOWN) {
        while (c->raw_len < 2) {
            ssize_t n = read_raw(c);
            if (n <= 0) {
                if (n < 0)
                    return -1;
                break;
            }
        }
        if (c->raw_len == 0)
            return 0;
        if (c->raw_len >= 2 && c->raw[0] == 0x1f && c->raw[1] == 0x8b) {
            memset(&c->zs, 0, sizeof c->zs);
            if (inflateInit2(&c->zs, 15 + 16) != Z_OK) {
                *msg = "cannot initialise zlib";
                return -2;
            }
            c->zs_live = true;
            c->mode = MODE_GZIP;
        } else {
            c->mode = MODE_PLAIN;
        }
    }
    if (c->mode == MODE_PLAIN) {
        if (c->raw_len == 0) { /* straight into the line buffer: no staging copy */
            ssize_t n;
            do
                n = read(c->fd, c->buf + c->len, space);
            while (n < 0 && errno == EINTR);
            if (n > 0) {
                c->len += (size_t)n;
                c->raw_read += (uint64_t)n;
            }
            return n;
        }
        /* the bytes read to tell the format */
        size_t n = c->raw_len < space ? c->raw_len : space;
        memcpy(c->buf + c->len, c->raw, n);
        memmove(c->raw, c->raw + n, c->raw_len - n);
        c->raw_len -= n;
        c->len += n;
        return (ssize_t)n;
    }
    /* gzip */
    for (;;) {
        if (c->raw_len == 0) {
            ssize_t n = read_raw(c);
            if (n < 0)
                return -1;
            if (n == 0) {
                if (!c->member_done && !c->conf.follow) {
                    *msg = "unexpected end of gzip data (truncated file)";
                    return -2;
                }
                return 0;
            }
        }
        if (c->member_done) { /* another member follows: concatenated gzip */
            inflateReset(&c->zs);
            c->member_done = false;
        }
        c->zs.next_in = c->raw;
        c->zs.avail_in = (uInt)c->raw_len;
        c->zs.next_out = (Bytef *)c->buf + c->len;
        c->zs.avail_out = (uInt)space;
        int r = inflate(&c->zs, Z_NO_FLUSH);
        size_t used = c->raw_len - c->zs.avail_in;
        memmove(c->raw, c->raw + used, c->zs.avail_in);
        c->raw_len = c->zs.avail_in;
        size_t got = space - c->zs.avail_out;
        c->len += got;
        if (r == Z_STREAM_END)
            c->member_done = true;
        else if (r != Z_OK && r != Z_BUF_ERROR) {
            *msg = c->zs.msg ? c->zs.msg : "corrupt gzip data";
            return -2;
        }
        if (got)
            return (ssize_t)got;
        if (r == Z_BUF_ERROR && c->raw_len) { /* no progress with input left: stuck */
            *msg = "corrupt gzip data";
            return -2;
        }
    }
}

/* Hands the line buf[start .. start + len) to b: lent when b allows it and the text is
 * plain, else copied (a gzip stream's batch may end with its error line, which is not in
 * buf, and a batch's lines are all lent or all copied). */
static void emit(FileCollector *c, VgLineBatch *b, size_t start, size_t len, VgBadReason bad)
{
    c->line_no++;
    if (b->may_borrow && c->mode == MODE_PLAIN)
        vg_line_batch_lend(b, c->buf, start, len, c->line_no, -1, bad);
    else
        vg_line_batch_add(b, c->buf + start, len, c->line_no, -1, bad);
}

/* Emits complete lines from buf into b; keeps the partial tail. */
static void split(FileCollector *c, VgLineBatch *b, bool final)
{
    size_t start = c->off;
    size_t max = c->conf.max_line_bytes;
    while (b->n < b->max_lines) {
        char *nl = memchr(c->buf + start, '\n', c->len - start);
        size_t end = nl ? (size_t)(nl - c->buf) : c->len;
        if (!nl && !final) {
            /* no newline yet: an over-long partial line is cut now, the rest skipped */
            if (!c->skipping && c->len - start > max) {
                emit(c, b, start, max, VG_BAD_TOO_LONG);
                c->skipping = true;
                start = c->len;
            } else if (c->skipping) {
                start = c->len;
            }
            break;
        }
        if (!nl && start == c->len)
            break;
        size_t len = end - start;
        if (c->skipping) {
            c->skipping = false; /* this is the tail of a line already reported */
        } else {
            const char *line = c->buf + start;
            if (len && line[len - 1] == '\r')
                len--;
            bool blank = true;
            for (size_t i = 0; i < len && blank; i++)
                blank = line[i] == ' ' || line[i] == '\t';
            if (!blank)
                emit(c, b, start, len > max ? max : len, len > max ? VG_BAD_TOO_LONG : VG_BAD_NONE);
            else
                c->line_no++; /* keep numbering equal to the file's lines */
        }
        start = nl ? end + 1 : c->len;
    }
    c->off = start;
    if (c->off == c->len && !lent(c, b))
        c->off = c->len = 0;
}

/* In follow mode: has the path been rotated away or truncated? */
static bool rotated(FileCollector *c)
{
    struct stat st, fst;
    if (!c->path || stat(c->path, &st) != 0)
        return false;
    if (st.st_dev != c->dev || st.st_ino != c->ino)
        return true;
    if (fstat(c->fd, &fst) == 0 && (uint64_t)fst.st_size < c->raw_read)
        return true;
    return false;
}

static int file_next(VgCollector *base, VgLineBatch *b, GError **err)
{
    FileCollector *c = (FileCollector *)base;
    b->source = c->name;
    b->partition = -1;
    for (;;) {
        split(c, b, false);
        if (b->n >= b->max_lines || (lent(c, b) && will_move(c)))
            return VG_OK;
        if (c->fd < 0 && !open_fd(c, err))
            return b->n ? VG_OK : VG_EIO;
        const char *msg = NULL;
        ssize_t n = c->eof ? 0 : fill(c, &msg);
        if (n > 0)
            continue;
        if (n == -2) {
            /* corrupt or truncated compressed data: keep what was read, flag it once */
            split(c, b, true);
            c->line_no++;
            vg_line_batch_add(b, msg, strlen(msg), c->line_no, -1, VG_BAD_GZIP);
            c->eof = true;
            c->off = c->len = 0;
            if (!c->conf.follow)
                return VG_OK;
        } else if (n == -1) {
            g_set_error(err, VG_ERROR, VG_EIO, "%s: %s", c->name, g_strerror(errno));
            return b->n ? VG_OK : VG_EIO;
        }
        /* end of the data available now */
        if (!c->conf.follow) {
            c->eof = true;
            split(c, b, true);
            return b->n ? VG_OK : VG_EOF;
        }
        if (rotated(c)) {
            split(c, b, true);
            close_fd(c);
            c->off = c->len = 0;
            if (b->n)
                return VG_OK;
            continue;
        }
        return b->n ? VG_OK : VG_EAGAIN;
    }
}

static void file_progress(VgCollector *base, uint64_t *done, uint64_t *total)
{
    FileCollector *c = (FileCollector *)base;
    *done = c->raw_read;
    *total = c->size;
}

static void file_close(VgCollector *base)
{
    FileCollector *c = (FileCollector *)base;
    if (!c)
        return;
    close_fd(c);
    g_free(c->raw);
    g_free(c->buf);
    g_free(c->path);
    g_free(c->name);
    g_free(c);
}

static const VgCollectorOps file_ops = {
    .name = "file",
    .next = file_next,
    .progress = file_progress,
    .close = file_close,
};

VgCollector *vg_file_collector_open(const char *path, const VgFileCollectorConf *conf, GError **err)
{
    FileCollector *c = g_new0(FileCollector, 1);
    c->base.ops = &file_ops;
    c->conf = *conf;
    if (!c->conf.max_line_bytes)
        c->conf.max_line_bytes = 64 * 1024;
    if (c->conf.max_line_bytes > READ_BUF / 2)
        c->conf.max_line_bytes = READ_BUF / 2;
    bool is_stdin = !strcmp(path, "-");
    c->path = is_stdin ? NULL : g_strdup(path);
    c->name = g_strdup(is_stdin ? "-" : path);
    c->fd = -1;
    c->buf = g_malloc(READ_BUF + VG_LINE_PADDING); /* lent lines have padding too */
    c->raw = g_malloc(RAW_BUF);
    if (!open_fd(c, err))
        goto fail;
    return &c->base;
fail:
    file_close(&c->base);
    return NULL;
}

/* collector-file.c — lines from a plain or gzip file, or standard input.
 *
 * zlib's gzread reads gzip and plain files alike (it passes plain bytes through), so one
 * code path serves both, and a truncated or corrupt gzip stream shows up as a zlib error
 * that we turn into one VG_BAD_GZIP line instead of a silent short read.
 *
 * Splitting: a 1 MiB read buffer; complete lines are copied once into the caller's batch;
 * a partial line at the end of the buffer moves to its front. A line longer than the
 * limit is passed on truncated and flagged VG_BAD_TOO_LONG, and the rest of it skipped.
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

typedef struct {
    VgCollector base;
    VgFileCollectorConf conf;
    char *path; /* NULL for stdin */
    char *name; /* source name in events and dead letters */
    int fd;
    gzFile gz;
    char *buf;
    size_t len;        /* bytes in buf */
    bool skipping;     /* inside the rest of an over-long line */
    bool eof;          /* the stream reported its end */
    uint64_t line_no;  /* lines handed out so far */
    uint64_t raw_read; /* compressed bytes consumed, for progress */
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
    c->gz = gzdopen(c->fd, "rb");
    if (!c->gz) {
        close(c->fd);
        g_set_error(err, VG_ERROR, VG_EIO, "%s: cannot set up decompression", c->name);
        return false;
    }
    gzbuffer(c->gz, 256 * 1024);
    c->eof = false;
    return true;
}

static void close_fd(FileCollector *c)
{
    if (c->gz)
        gzclose(c->gz); /* closes fd */
    c->gz = NULL;
    c->fd = -1;
}

/* Emits complete lines from buf into b; keeps the partial tail. */
static void split(FileCollector *c, VgLineBatch *b, bool final)
{
    size_t start = 0;
    size_t max = c->conf.max_line_bytes;
    while (b->n < b->max_lines) {
        char *nl = memchr(c->buf + start, '\n', c->len - start);
        size_t end = nl ? (size_t)(nl - c->buf) : c->len;
        if (!nl && !final) {
            /* no newline yet: an over-long partial line is cut now, the rest skipped */
            if (!c->skipping && c->len - start > max) {
                c->line_no++;
                vg_line_batch_add(b, c->buf + start, max, c->line_no, -1, VG_BAD_TOO_LONG);
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
            if (!blank) {
                c->line_no++;
                if (len > max)
                    vg_line_batch_add(b, line, max, c->line_no, -1, VG_BAD_TOO_LONG);
                else
                    vg_line_batch_add(b, line, len, c->line_no, -1, VG_BAD_NONE);
            } else {
                c->line_no++; /* keep numbering equal to the file's lines */
            }
        }
        start = nl ? end + 1 : c->len;
    }
    memmove(c->buf, c->buf + start, c->len - start);
    c->len -= start;
}

/* In follow mode: has the path been rotated away or truncated? */
static bool rotated(FileCollector *c)
{
    struct stat st, fst;
    if (!c->path || stat(c->path, &st) != 0)
        return false;
    if (st.st_dev != c->dev || st.st_ino != c->ino)
        return true;
    if (fstat(c->fd, &fst) == 0 && (uint64_t)fst.st_size < (uint64_t)gzoffset(c->gz))
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
        if (b->n >= b->max_lines)
            return VG_OK;
        if (!c->gz) {
            if (!open_fd(c, err))
                return b->n ? VG_OK : VG_EIO;
        }
        int n = c->eof ? 0 : gzread(c->gz, c->buf + c->len, READ_BUF - (unsigned)c->len);
        if (n > 0) {
            c->len += (size_t)n;
            continue;
        }
        /* zlib reports a truncated stream as Z_BUF_ERROR, possibly only after handing
         * out the bytes it could decompress (n == 0 then), so ask in both cases. */
        int zerr = Z_OK;
        const char *msg = c->eof ? NULL : gzerror(c->gz, &zerr);
        if (zerr != Z_OK && zerr != Z_ERRNO) {
            /* corrupt or truncated compressed data: flag it once, keep what was read */
            split(c, b, true);
            c->line_no++;
            const char *what = msg ? msg : "corrupt gzip data";
            vg_line_batch_add(b, what, strlen(what), c->line_no, -1, VG_BAD_GZIP);
            c->eof = true;
            c->len = 0;
            if (!c->conf.follow)
                return VG_OK;
        } else if (n < 0 || zerr == Z_ERRNO) {
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
            c->len = 0;
            if (b->n)
                return VG_OK;
            continue;
        }
        gzclearerr(c->gz);
        return b->n ? VG_OK : VG_EAGAIN;
    }
}

static void file_progress(VgCollector *base, uint64_t *done, uint64_t *total)
{
    FileCollector *c = (FileCollector *)base;
    *done = c->gz ? (uint64_t)gzoffset(c->gz) : c->size;
    *total = c->size;
}

static void file_close(VgCollector *base)
{
    FileCollector *c = (FileCollector *)base;
    if (!c)
        return;
    close_fd(c);
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

VgCollector *vg_file_collector_open(const char *path, const VgFileCollectorConf *conf,
                                    GError **err)
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
    c->buf = g_malloc(READ_BUF);
    if (!open_fd(c, err))
        goto fail;
    return &c->base;
fail:
    file_close(&c->base);
    return NULL;
}

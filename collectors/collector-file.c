/* collector-file.c — lines from a plain or gzip file, or standard input.
 *
 * Bytes come from read(2), which hands over whatever is there: a pipe or a followed file
 * gives its lines as they arrive, not when a buffer has filled. The first bytes tell a
 * gzip stream (magic 1f 8b) from plain text; gzip is inflated with zlib as it is read
 * (concatenated members too), and a stream that ends early or is corrupt becomes one
 * VG_BAD_GZIP line instead of a silent short read.
 *
 * Splitting: bytes are read (or inflated) straight into the caller's batch buffer, and its
 * lines are split where they are: no line is copied. What a call reads beyond its last
 * line (the start of the next line, rarely a few more lines) is carried to the next call,
 * which puts it at the front of the next batch. Each read asks for about what the lines
 * still wanted take (their mean length so far), so the carry stays near one line. A batch
 * never moves its lines, so when its buffer is full it goes out as it is (shorter). A line
 * longer than the limit is passed on truncated and flagged VG_BAD_TOO_LONG, and the rest of
 * it skipped.
 *
 * Copying each line from a buffer of our own into the batch was 96 instructions per
 * canonical JSON line and wrote every line a second time, in the parallel pipeline into a
 * slot the other core read last (3.5 % of a two-worker replay). Without the copy, two
 * workers were 1.046 and 1.060 times as fast on canonical JSON (two sets of 12 alternating
 * rounds) and 1.033 on nginx combined (8); one core 1.034 and 1.015 (16 and 8 rounds, with
 * lines lent from our buffer, which this replaced: 1.004–1.030 more), 2026-11-25.
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

#define READ_BUF (1u << 20) /* a batch buffer's room for text at least */
#define MIN_READ (4u * 1024)
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
    char *buf;       /* during a call: the batch's buffer (lines are read into it) */
    size_t cap;      /* its room for text (without the padding) */
    size_t off, len; /* buf[off .. len) is not split yet */
    char *carry;     /* between calls: what was read past the last line handed out */
    size_t carry_len, carry_cap;
    uint64_t split_bytes, split_lines; /* for the mean line length */
    bool skipping;                     /* inside the rest of an over-long line */
    bool eof;                          /* the stream reported its end */
    const char *bad_gzip; /* why the gzip stream broke off, until its line is handed out */
    uint64_t line_no;     /* lines handed out so far */
    uint64_t raw_read;    /* bytes read from the file, for progress and truncation checks */
    uint64_t size;        /* file size at open (0 for stdin) */
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

/* Bytes the next read should ask for: what the lines b still wants take, at the mean line
 * length so far, and one line more. */
static size_t want(const FileCollector *c, const VgLineBatch *b)
{
    uint64_t mean = c->split_lines ? c->split_bytes / c->split_lines + 1 : 512;
    uint64_t w = mean * (b->max_lines - b->n + 1);
    return w < MIN_READ ? MIN_READ : w > READ_BUF ? READ_BUF : (size_t)w;
}

/* Moves up to `ask` decoded bytes into buf. Returns the number of bytes added (0: nothing
 * available now, or no room), -1 on a read error, -2 on corrupt or truncated gzip data (msg
 * set). */
static ssize_t fill(FileCollector *c, size_t ask, const char **msg)
{
    size_t space = c->cap - c->len < ask ? c->cap - c->len : ask;
    if (space == 0)
        return 0;
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

/* Hands the line buf[start .. start + len) to b, where it already is. */
static void emit(FileCollector *c, VgLineBatch *b, size_t start, size_t len, VgBadReason bad)
{
    c->line_no++;
    c->split_bytes += len + 1;
    c->split_lines++;
    vg_line_batch_claim(b, start, len, c->line_no, -1, bad);
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

/* Appends the VG_BAD_GZIP line of a stream that broke off (c->bad_gzip), after the lines
 * read. */
static void flag_bad_gzip(FileCollector *c, VgLineBatch *b)
{
    b->len = c->len;
    c->line_no++;
    vg_line_batch_add(b, c->bad_gzip, strlen(c->bad_gzip), c->line_no, -1, VG_BAD_GZIP);
    c->bad_gzip = NULL;
    c->buf = b->buf; /* the line may have grown it */
    c->cap = b->cap - VG_LINE_PADDING;
    c->off = c->len = b->len;
}

/* Lines into b, read into b's own buffer (see the header). */
static int next_lines(FileCollector *c, VgLineBatch *b, GError **err)
{
    if (c->bad_gzip) { /* left over from the last call, whose batch was full */
        flag_bad_gzip(c, b);
        if (!c->conf.follow)
            return VG_OK;
    }
    for (;;) {
        split(c, b, false);
        if (b->n >= b->max_lines)
            return VG_OK;
        if (c->cap - c->len < MIN_READ) {
            if (b->n) /* the buffer is full: the batch goes out shorter */
                return VG_OK;
            /* no line of this batch in buf (only blank or skipped bytes before what is not
             * split yet): that moves to the front */
            memmove(c->buf + b->len, c->buf + c->off, c->len - c->off);
            c->len -= c->off - b->len;
            c->off = b->len;
        }
        if (c->fd < 0 && !open_fd(c, err))
            return b->n ? VG_OK : VG_EIO;
        const char *msg = NULL;
        ssize_t n = c->eof ? 0 : fill(c, want(c, b), &msg);
        if (n > 0)
            continue;
        if (n == -2) {
            /* corrupt or truncated compressed data: keep what was read, flag it once (in the
             * next batch if the last line read filled this one) */
            split(c, b, true);
            c->eof = true;
            c->bad_gzip = msg;
            if (b->n >= b->max_lines)
                return VG_OK;
            flag_bad_gzip(c, b);
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
            if (b->n)
                return VG_OK;
            continue;
        }
        return b->n ? VG_OK : VG_EAGAIN;
    }
}

static int file_next(VgCollector *base, VgLineBatch *b, GError **err)
{
    FileCollector *c = (FileCollector *)base;
    b->source = c->name;
    b->partition = -1;
    /* what the last call read past its last line goes to the front of this batch */
    vg_line_batch_reserve(b, READ_BUF);
    c->buf = b->buf;
    c->cap = b->cap - VG_LINE_PADDING;
    c->off = b->len;
    memcpy(c->buf + c->off, c->carry, c->carry_len);
    c->len = c->off + c->carry_len;
    c->carry_len = 0;
    int rc = next_lines(c, b, err);
    /* b keeps the bytes of its lines; what is not split yet waits for the next call */
    size_t rest = c->len - c->off;
    if (rest > c->carry_cap) {
        c->carry_cap = MAX(rest, 2 * c->carry_cap);
        c->carry = g_realloc(c->carry, c->carry_cap);
    }
    memcpy(c->carry, c->buf + c->off, rest);
    c->carry_len = rest;
    b->len = c->off;
    c->buf = NULL;
    return rc;
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
    g_free(c->carry);
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
    c->raw = g_malloc(RAW_BUF);
    c->carry_cap = MIN_READ;
    c->carry = g_malloc(c->carry_cap);
    if (!open_fd(c, err))
        goto fail;
    return &c->base;
fail:
    file_close(&c->base);
    return NULL;
}

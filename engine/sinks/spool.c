/* spool.c — see spool.h for the layout and the guarantees.
 *
 * Why segments and a cursor rather than one file rewritten as it is consumed: appending
 * and deleting whole files are the two operations a file system does atomically and
 * cheaply, so a crash at any instant leaves either the old or the new state. The only
 * in-place write is the 20-byte cursor, which carries its own CRC; if it is torn, reading
 * restarts at the first segment (re-delivery, never loss).
 *
 * Every process start writes to a fresh segment numbered above everything on disk, so a
 * torn tail left by a crash is never appended to: it stays in an old segment, where the
 * reader detects it by length or CRC, logs it, and moves on.
 */
#include "engine/sinks/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "engine/log.h"
#include "engine/sinks/sink-util.h"

#define MAGIC       "VGS1"
#define HDR         12         /* magic, length, crc */
#define MAX_PAYLOAD (16 << 20) /* larger lengths are corruption */
#define N_STR       7
#define CURSOR_LEN  20

typedef struct {
    uint64_t no;
    uint64_t size;
} Seg;

typedef struct {
    size_t str[N_STR], len[N_STR];
    VgSeverity severity;
    double score;
    int64_t time_ms;
} RSlot;

struct VgSpool {
    char *dir, *name;
    VgSpoolLimits lim;
    int lock_fd, cursor_fd;
    GArray *segs;       /* Seg, ascending; the last one is the write segment once wfd >= 0 */
    uint64_t first_new; /* segments numbered from here were created by this process */
    uint64_t next_no;
    /* read position */
    uint64_t rseg, roff;
    int rfd;
    uint64_t rfd_no;
    /* write segment */
    int wfd;
    /* accounting: written by the owning thread, read atomically by the metrics getter */
    uint64_t records, corrupt, bytes;
    /* peek */
    uint64_t peek_seg, peek_off;
    size_t peek_n;
    bool peeked;
    GByteArray *payload;
    GString *strs;
    GArray *slots, *views;
    GPtrArray *ptrs;
    GByteArray *wbuf;
};

static void put32(GByteArray *b, uint32_t v)
{
    uint8_t x[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24};
    g_byte_array_append(b, x, 4);
}

static void put64(GByteArray *b, uint64_t v)
{
    put32(b, (uint32_t)v);
    put32(b, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint32_t crc(const void *p, size_t len)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)len);
}

static char *seg_path(const VgSpool *s, uint64_t no)
{
    char file[32];
    snprintf(file, sizeof file, "%020" PRIu64 ".seg", no);
    return g_build_filename(s->dir, file, NULL);
}

static int io_error(GError **err, const char *what, const char *path)
{
    int e = errno;
    g_set_error(err, VG_ERROR, VG_EIO, "spool: %s %s: %s", what, path, g_strerror(e));
    return VG_EIO;
}

static Seg *seg_at(VgSpool *s, guint i)
{
    return &g_array_index(s->segs, Seg, i);
}

/* Recomputes the unconsumed byte count after the segments or the read position changed. */
static void update_bytes(VgSpool *s)
{
    uint64_t b = 0;
    for (guint i = 0; i < s->segs->len; i++)
        b += seg_at(s, i)->size;
    if (s->segs->len && seg_at(s, 0)->no == s->rseg)
        b -= MIN(b, s->roff);
    __atomic_store_n(&s->bytes, b, __ATOMIC_RELAXED);
}

static void set_records(VgSpool *s, uint64_t v)
{
    __atomic_store_n(&s->records, v, __ATOMIC_RELAXED);
}

/* ---- encoding ---- */

static void encode(GByteArray *b, const VgAlertRecord *r)
{
    const char *str[N_STR] = {r->json,        r->id,       r->rule_id,  r->rule_name,
                              r->entity_type, r->token_id, r->client_ip};
    size_t len[N_STR];
    for (int i = 0; i < N_STR; i++)
        len[i] = i == 0 ? r->json_len : (str[i] ? strlen(str[i]) : 0);
    guint start = b->len;
    g_byte_array_append(b, (const uint8_t *)MAGIC, 4);
    put32(b, 0); /* length and crc, filled below */
    put32(b, 0);
    put64(b, (uint64_t)r->time_ms);
    uint64_t sc;
    memcpy(&sc, &r->score, 8);
    put64(b, sc);
    put32(b, (uint32_t)r->severity);
    for (int i = 0; i < N_STR; i++) {
        put32(b, (uint32_t)len[i]);
        if (len[i])
            g_byte_array_append(b, (const uint8_t *)str[i], (guint)len[i]);
    }
    uint32_t plen = b->len - start - HDR;
    uint32_t c = crc(b->data + start + HDR, plen);
    for (int i = 0; i < 4; i++) {
        b->data[start + 4 + i] = (uint8_t)(plen >> (8 * i));
        b->data[start + 8 + i] = (uint8_t)(c >> (8 * i));
    }
}

/* Decodes a CRC-checked payload into an RSlot, strings appended to strs. False if the
 * payload's inner lengths do not add up (a writer bug, or a CRC collision). */
static bool decode(const uint8_t *p, size_t len, GString *strs, RSlot *out)
{
    if (len < 20 + 4 * N_STR)
        return false;
    out->time_ms = (int64_t)get64(p);
    uint64_t sc = get64(p + 8);
    memcpy(&out->score, &sc, 8);
    out->severity = (VgSeverity)get32(p + 16);
    size_t off = 20;
    for (int i = 0; i < N_STR; i++) {
        if (off + 4 > len)
            return false;
        uint32_t l = get32(p + off);
        off += 4;
        if (l > len - off)
            return false;
        out->str[i] = strs->len;
        out->len[i] = l;
        g_string_append_len(strs, (const char *)p + off, l);
        g_string_append_c(strs, '\0');
        off += l;
    }
    return off == len;
}

/* ---- reading ---- */

static int open_read(VgSpool *s, uint64_t no, GError **err)
{
    if (s->rfd >= 0 && s->rfd_no == no)
        return VG_OK;
    if (s->rfd >= 0)
        close(s->rfd);
    char *path = seg_path(s, no);
    s->rfd = open(path, O_RDONLY | O_CLOEXEC);
    int r = s->rfd < 0 ? io_error(err, "cannot open", path) : VG_OK;
    g_free(path);
    s->rfd_no = no;
    return r;
}

static bool read_exact(int fd, void *buf, size_t len, uint64_t off)
{
    size_t done = 0;
    while (done < len) {
        ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        done += (size_t)r;
    }
    return true;
}

/* Is there a valid frame at off? Fills s->payload when there is. */
static bool frame_at(VgSpool *s, uint64_t off, uint64_t size, uint64_t *frame_len)
{
    uint8_t h[HDR];
    if (off + HDR > size || !read_exact(s->rfd, h, HDR, off) || memcmp(h, MAGIC, 4))
        return false;
    uint32_t plen = get32(h + 4);
    if (plen > MAX_PAYLOAD || off + HDR + plen > size)
        return false;
    g_byte_array_set_size(s->payload, plen);
    if (!read_exact(s->rfd, s->payload->data, plen, off + HDR) ||
        crc(s->payload->data, plen) != get32(h + 8))
        return false;
    *frame_len = HDR + plen;
    return true;
}

/* Finds the next frame at or after *off in segment no (size bytes). Returns true with
 * *off at the frame and *frame_len set, or false at the end of the segment. Bytes skipped
 * on the way are corruption: logged, and counted when count is set. */
static bool next_frame(VgSpool *s, uint64_t no, uint64_t *off, uint64_t size, uint64_t *frame_len,
                       bool count)
{
    uint64_t start = *off;
    uint64_t o = start;
    bool found = false;
    while (o < size) {
        if (frame_at(s, o, size, frame_len)) {
            found = true;
            break;
        }
        /* resynchronise: the next occurrence of the magic */
        uint8_t chunk[65536];
        uint64_t from = o + 1;
        size_t n = (size_t)MIN((uint64_t)sizeof chunk, size - MIN(size, from));
        o = size;
        while (n >= 4 && read_exact(s->rfd, chunk, n, from)) {
            const uint8_t *m = memmem(chunk, n, MAGIC, 4);
            if (m) {
                o = from + (uint64_t)(m - chunk);
                break;
            }
            from += n - 3;
            n = (size_t)MIN((uint64_t)sizeof chunk, size - from);
        }
    }
    if (o > start && count) { /* first detection (at open, or in this run's segments) */
        __atomic_add_fetch(&s->corrupt, 1, __ATOMIC_RELAXED);
        char a[24], b[24], c[24];
        vg_log_error("spool: skipped a corrupt or truncated record", "sink", s->name, "segment",
                     vg_sinks_u64(a, no), "offset", vg_sinks_u64(b, start), "bytes",
                     vg_sinks_u64(c, o - start), "at", found ? "middle" : "tail");
    }
    *off = o;
    return found;
}

/* ---- cursor ---- */

static int write_cursor(VgSpool *s, GError **err)
{
    uint8_t c[CURSOR_LEN];
    for (int i = 0; i < 8; i++) {
        c[i] = (uint8_t)(s->rseg >> (8 * i));
        c[8 + i] = (uint8_t)(s->roff >> (8 * i));
    }
    uint32_t k = crc(c, 16);
    for (int i = 0; i < 4; i++)
        c[16 + i] = (uint8_t)(k >> (8 * i));
    if (pwrite(s->cursor_fd, c, CURSOR_LEN, 0) != CURSOR_LEN ||
        (s->lim.fsync && fdatasync(s->cursor_fd) < 0))
        return io_error(err, "cannot write cursor in", s->dir);
    return VG_OK;
}

static void read_cursor(VgSpool *s)
{
    uint8_t c[CURSOR_LEN];
    ssize_t r = pread(s->cursor_fd, c, CURSOR_LEN, 0);
    if (r == 0)
        return; /* new spool */
    if (r != CURSOR_LEN || crc(c, 16) != get32(c + 16)) {
        vg_log_error("spool: cursor unreadable, delivering the whole spool again (duplicates "
                     "possible)",
                     "sink", s->name, "dir", s->dir);
        return;
    }
    s->rseg = get64(c);
    s->roff = get64(c + 8);
}

/* ---- open / scan ---- */

static gint cmp_seg(gconstpointer a, gconstpointer b)
{
    uint64_t x = ((const Seg *)a)->no, y = ((const Seg *)b)->no;
    return x < y ? -1 : x > y;
}

static int list_segments(VgSpool *s, GError **err)
{
    DIR *dir = opendir(s->dir);
    if (!dir)
        return io_error(err, "cannot read", s->dir);
    struct dirent *e;
    while ((e = readdir(dir))) {
        const char *n = e->d_name;
        if (strlen(n) != 24 || !g_str_has_suffix(n, ".seg"))
            continue;
        char *end;
        uint64_t no = g_ascii_strtoull(n, &end, 10);
        if (end != n + 20)
            continue;
        char *path = seg_path(s, no);
        struct stat st;
        if (stat(path, &st) == 0)
            g_array_append_val(s->segs, ((Seg){no, (uint64_t)st.st_size}));
        g_free(path);
    }
    closedir(dir);
    g_array_sort(s->segs, cmp_seg);
    return VG_OK;
}

/* Deletes segments before the read segment (consumed; a crash left them), and counts
 * the records of the rest. */
static int scan(VgSpool *s, GError **err)
{
    while (s->segs->len && seg_at(s, 0)->no < s->rseg) {
        char *path = seg_path(s, seg_at(s, 0)->no);
        unlink(path);
        g_free(path);
        g_array_remove_index(s->segs, 0);
    }
    if (!s->segs->len || seg_at(s, 0)->no != s->rseg) {
        /* the cursor's segment is gone: start at the first one there is */
        s->rseg = s->segs->len ? seg_at(s, 0)->no : s->rseg;
        s->roff = 0;
    }
    for (guint i = 0; i < s->segs->len; i++) {
        Seg sg = *seg_at(s, i);
        if (open_read(s, sg.no, err) < 0)
            return VG_EIO;
        uint64_t off = sg.no == s->rseg ? MIN(s->roff, sg.size) : 0, fl;
        while (next_frame(s, sg.no, &off, sg.size, &fl, true)) {
            set_records(s, s->records + 1);
            off += fl;
        }
    }
    update_bytes(s);
    if (s->segs->len)
        s->next_no = MAX(s->next_no, seg_at(s, s->segs->len - 1)->no + 1);
    s->next_no = MAX(s->next_no, s->rseg + 1);
    return VG_OK;
}

VgSpool *vg_spool_open(const char *dir, const VgSpoolLimits *lim, const char *log_name,
                       GError **err)
{
    VgSpool *s = g_new0(VgSpool, 1);
    s->dir = g_strdup(dir);
    s->name = g_strdup(log_name ? log_name : dir);
    s->lim = *lim;
    s->lock_fd = s->cursor_fd = s->rfd = s->wfd = -1;
    s->segs = g_array_new(FALSE, FALSE, sizeof(Seg));
    s->payload = g_byte_array_new();
    s->strs = g_string_new(NULL);
    s->slots = g_array_new(FALSE, FALSE, sizeof(RSlot));
    s->views = g_array_new(FALSE, FALSE, sizeof(VgAlertRecord));
    s->ptrs = g_ptr_array_new();
    s->wbuf = g_byte_array_new();
    s->next_no = 1;

    if (g_mkdir_with_parents(dir, 0700) < 0) {
        io_error(err, "cannot create", dir);
        goto fail;
    }
    char *lock = g_build_filename(dir, "LOCK", NULL);
    s->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            g_set_error(err, VG_ERROR, VG_EIO,
                        "spool %s is in use by another vigil process (give each process its "
                        "own spool.dir)",
                        dir);
        else
            io_error(err, "cannot lock", lock);
        g_free(lock);
        goto fail;
    }
    g_free(lock);
    char *cur = g_build_filename(dir, "cursor", NULL);
    s->cursor_fd = open(cur, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->cursor_fd < 0) {
        io_error(err, "cannot open", cur);
        g_free(cur);
        goto fail;
    }
    g_free(cur);
    read_cursor(s);
    if (list_segments(s, err) < 0 || scan(s, err) < 0)
        goto fail;
    s->first_new = s->next_no;
    return s;
fail:
    vg_spool_free(s);
    return NULL;
}

/* ---- append ---- */

static int new_segment(VgSpool *s, GError **err)
{
    if (s->wfd >= 0)
        close(s->wfd);
    uint64_t no = s->next_no++;
    char *path = seg_path(s, no);
    s->wfd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
    if (s->wfd < 0) {
        int r = io_error(err, "cannot create", path);
        g_free(path);
        return r;
    }
    g_free(path);
    /* make the new file's name durable before anything relies on it */
    int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (s->lim.fsync)
            fsync(dfd);
        close(dfd);
    }
    if (!s->segs->len) {
        s->rseg = no;
        s->roff = 0;
    }
    g_array_append_val(s->segs, ((Seg){no, 0}));
    return VG_OK;
}

int vg_spool_append(VgSpool *s, const VgAlertRecord *const *recs, size_t n, GError **err)
{
    g_byte_array_set_size(s->wbuf, 0);
    for (size_t i = 0; i < n; i++)
        encode(s->wbuf, recs[i]);
    if (s->bytes + s->wbuf->len > (uint64_t)s->lim.max_bytes)
        return VG_EFULL;
    Seg *last = s->segs->len ? seg_at(s, s->segs->len - 1) : NULL;
    if (s->wfd < 0 || !last || last->size >= (uint64_t)s->lim.segment_bytes) {
        if (new_segment(s, err) < 0)
            return VG_EIO;
        last = seg_at(s, s->segs->len - 1);
    }
    if (vg_sinks_write_all(s->wfd, (const char *)s->wbuf->data, s->wbuf->len, false) < 0 ||
        (s->lim.fsync && fdatasync(s->wfd) < 0)) {
        int r = io_error(err, "cannot write to", s->dir);
        /* all or nothing: cut a partial batch off, and if even that fails, start a new
         * segment next time (the reader skips the torn tail by CRC) */
        if (ftruncate(s->wfd, (off_t)last->size) < 0) {
            close(s->wfd);
            s->wfd = -1;
        }
        return r;
    }
    last->size += s->wbuf->len;
    set_records(s, s->records + n);
    update_bytes(s);
    return VG_OK;
}

/* ---- peek / consume ---- */

int vg_spool_peek(VgSpool *s, size_t max, const VgAlertRecord *const **recs, size_t *n,
                  GError **err)
{
    g_string_truncate(s->strs, 0);
    g_array_set_size(s->slots, 0);
    uint64_t seg = s->rseg, off = s->roff;
    guint si = 0;
    while (si < s->segs->len && seg_at(s, si)->no < seg)
        si++;
    while (s->slots->len < max && si < s->segs->len) {
        Seg sg = *seg_at(s, si);
        if (sg.no != seg) {
            seg = sg.no;
            off = 0;
        }
        if (open_read(s, seg, err) < 0)
            return VG_EIO;
        uint64_t fl;
        if (!next_frame(s, seg, &off, sg.size, &fl, seg >= s->first_new)) {
            if (si + 1 == s->segs->len)
                break; /* the end of the last segment: all read */
            si++;
            continue;
        }
        RSlot rs;
        if (!decode(s->payload->data, s->payload->len, s->strs, &rs)) {
            __atomic_add_fetch(&s->corrupt, 1, __ATOMIC_RELAXED);
            char a[24], b[24];
            vg_log_error("spool: skipped a malformed record", "sink", s->name, "segment",
                         vg_sinks_u64(a, seg), "offset", vg_sinks_u64(b, off));
            set_records(s, s->records ? s->records - 1 : 0);
        } else {
            g_array_append_val(s->slots, rs);
        }
        off += fl;
    }
    s->peek_seg = seg;
    s->peek_off = off;
    s->peek_n = s->slots->len;
    s->peeked = true;
    g_array_set_size(s->views, s->slots->len);
    g_ptr_array_set_size(s->ptrs, (gint)s->slots->len);
    for (guint i = 0; i < s->slots->len; i++) {
        const RSlot *rs = &g_array_index(s->slots, RSlot, i);
        const char *b = s->strs->str;
        VgAlertRecord *r = &g_array_index(s->views, VgAlertRecord, i);
        *r = (VgAlertRecord){
            .json = b + rs->str[0],
            .json_len = rs->len[0],
            .id = b + rs->str[1],
            .rule_id = b + rs->str[2],
            .rule_name = b + rs->str[3],
            .entity_type = b + rs->str[4],
            .token_id = b + rs->str[5],
            .client_ip = b + rs->str[6],
            .severity = rs->severity,
            .score = rs->score,
            .time_ms = rs->time_ms,
        };
        s->ptrs->pdata[i] = r;
    }
    *recs = (const VgAlertRecord *const *)s->ptrs->pdata;
    *n = s->slots->len;
    return VG_OK;
}

int vg_spool_consume(VgSpool *s, GError **err)
{
    if (!s->peeked)
        return VG_OK;
    s->peeked = false;
    s->rseg = s->peek_seg;
    s->roff = s->peek_off;
    set_records(s, s->records - MIN(s->records, s->peek_n));
    /* segments before the read segment are fully read */
    while (s->segs->len > 1 && seg_at(s, 0)->no < s->rseg) {
        char *path = seg_path(s, seg_at(s, 0)->no);
        unlink(path);
        g_free(path);
        g_array_remove_index(s->segs, 0);
    }
    /* all read: drop the last segment too, so that an idle spool takes no disk */
    Seg *last = s->segs->len ? seg_at(s, s->segs->len - 1) : NULL;
    if (s->segs->len == 1 && last->no == s->rseg && s->roff >= last->size) {
        if (s->wfd >= 0)
            close(s->wfd);
        s->wfd = -1;
        if (s->rfd >= 0)
            close(s->rfd);
        s->rfd = -1;
        char *path = seg_path(s, last->no);
        unlink(path);
        g_free(path);
        g_array_set_size(s->segs, 0);
        set_records(s, 0);
    }
    update_bytes(s);
    return write_cursor(s, err);
}

uint64_t vg_spool_records(const VgSpool *s)
{
    return __atomic_load_n(&s->records, __ATOMIC_RELAXED);
}

uint64_t vg_spool_bytes(const VgSpool *s)
{
    return __atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
}

uint64_t vg_spool_corrupt(const VgSpool *s)
{
    return __atomic_load_n(&s->corrupt, __ATOMIC_RELAXED);
}

void vg_spool_free(VgSpool *s)
{
    if (!s)
        return;
    if (s->rfd >= 0)
        close(s->rfd);
    if (s->wfd >= 0)
        close(s->wfd);
    if (s->cursor_fd >= 0)
        close(s->cursor_fd);
    if (s->lock_fd >= 0)
        close(s->lock_fd); /* releases the flock */
    g_array_free(s->segs, TRUE);
    g_byte_array_free(s->payload, TRUE);
    g_string_free(s->strs, TRUE);
    g_array_free(s->slots, TRUE);
    g_array_free(s->views, TRUE);
    g_ptr_array_free(s->ptrs, TRUE);
    g_byte_array_free(s->wbuf, TRUE);
    g_free(s->dir);
    g_free(s->name);
    g_free(s);
}

/* checkpoint.c — see checkpoint.h.
 *
 * The payload (engine/snap.h) is a small head — time, group, offsets — and the state,
 * which is by far the larger part. Encoding deflates the head and then the state where it
 * lies (vg_pipeline_snapshot wrote it in place), so a save copies no state bytes before
 * zlib; decoding inflates the payload once and keeps its buffer, less the head, as the state. With
 * checkpoint.redis a save runs per partition, all of them at SIGTERM, so this is on the
 * shutdown path. Decoding trusts nothing: the CRC is checked before inflating, the
 * inflated size must be the one announced (and is capped), and every count and length
 * inside is checked against what is left.
 */
#include "engine/checkpoint.h"

#include "engine/metrics.h"
#include "engine/snap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CKPT_MAGIC       "VGCKPT\0\1"
#define CKPT_HEADER      32
#define CKPT_MAX_PAYLOAD ((uint64_t)G_MAXUINT) /* what a GByteArray holds; far beyond any state */
#define CKPT_MAX_OFFSETS 1000000

VgCheckpoint *vg_checkpoint_new(const char *group)
{
    VgCheckpoint *c = g_new0(VgCheckpoint, 1);
    c->group = g_strdup(group ? group : "");
    c->offsets = g_array_new(FALSE, FALSE, sizeof(VgCheckpointOffset));
    c->state = g_byte_array_new();
    return c;
}

void vg_checkpoint_free(VgCheckpoint *c)
{
    if (!c)
        return;
    for (guint i = 0; i < c->offsets->len; i++)
        g_free(g_array_index(c->offsets, VgCheckpointOffset, i).topic);
    g_array_free(c->offsets, TRUE);
    g_byte_array_free(c->state, TRUE);
    g_free(c->group);
    g_free(c);
}

void vg_checkpoint_add_offset(VgCheckpoint *c, const char *topic, int32_t partition,
                              int64_t next_offset)
{
    VgCheckpointOffset o = {g_strdup(topic), partition, next_offset};
    g_array_append_val(c->offsets, o);
}

int64_t vg_checkpoint_offset(const VgCheckpoint *c, const char *topic, int32_t partition)
{
    for (guint i = 0; i < c->offsets->len; i++) {
        const VgCheckpointOffset *o = &g_array_index(c->offsets, VgCheckpointOffset, i);
        if (o->partition == partition && !strcmp(o->topic, topic))
            return o->next_offset;
    }
    return -1;
}

static uint32_t crc_of(const uint8_t *header, const uint8_t *body, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, header, 24);
    for (size_t off = 0; off < n;) { /* crc32() takes a uInt length */
        size_t chunk = n - off > (1u << 30) ? (1u << 30) : n - off;
        crc = crc32(crc, body + off, (uInt)chunk);
        off += chunk;
    }
    return (uint32_t)crc;
}

/* Deflates n bytes at p into the rest of out's allocation (sized by deflateBound). */
static void deflate_more(z_stream *z, const void *p, size_t n, int flush)
{
    z->next_in = (Bytef *)p;
    z->avail_in = (uInt)n;
    int zr = deflate(z, flush);
    g_assert(z->avail_in == 0 && (zr == Z_OK || zr == Z_STREAM_END)); /* out has room */
}

int vg_checkpoint_encode(const VgCheckpoint *c, GByteArray *out)
{
    /* the payload is the small head below and the state; the state is deflated from where
     * it is rather than copied behind the head first */
    GByteArray *head = g_byte_array_new();
    vg_snap_put_i64(head, c->created_ms);
    vg_snap_put_str(head, c->group);
    vg_snap_put_u64(head, c->offsets->len);
    for (guint i = 0; i < c->offsets->len; i++) {
        const VgCheckpointOffset *o = &g_array_index(c->offsets, VgCheckpointOffset, i);
        vg_snap_put_str(head, o->topic);
        vg_snap_put_i64(head, o->partition);
        vg_snap_put_i64(head, o->next_offset);
    }
    vg_snap_put_u64(head, c->state->len);
    uint64_t plen = (uint64_t)head->len + c->state->len;

    z_stream z;
    memset(&z, 0, sizeof z);
    int zr = deflateInit(&z, Z_BEST_SPEED);
    g_assert(zr == Z_OK); /* only fails out of memory */
    uLong bound = deflateBound(&z, (uLong)plen);
    guint at = out->len;
    g_byte_array_set_size(out, at + CKPT_HEADER + (guint)bound);
    uint8_t *h = out->data + at;
    z.next_out = h + CKPT_HEADER;
    z.avail_out = (uInt)bound;
    deflate_more(&z, head->data, head->len, Z_NO_FLUSH);
    deflate_more(&z, c->state->data, c->state->len, Z_FINISH);
    uint64_t clen = z.total_out;
    deflateEnd(&z);
    g_byte_array_free(head, TRUE);

    memcpy(h, CKPT_MAGIC, 8);
    memcpy(h + 8, &plen, 8);
    memcpy(h + 16, &clen, 8);
    uint32_t crc = crc_of(h, h + CKPT_HEADER, clen), zero = 0;
    memcpy(h + 24, &crc, 4);
    memcpy(h + 28, &zero, 4);
    g_byte_array_set_size(out, at + CKPT_HEADER + (guint)clen);
    return VG_OK;
}

static VgCheckpoint *bad(GError **err, const char *why)
{
    g_set_error(err, VG_ERROR, VG_EINVAL, "checkpoint: %s", why);
    return NULL;
}

VgCheckpoint *vg_checkpoint_decode(const void *data, size_t len, GError **err)
{
    const uint8_t *h = data;
    if (!data || len < CKPT_HEADER || memcmp(h, CKPT_MAGIC, 6) != 0)
        return bad(err, "not a vigil checkpoint");
    if (memcmp(h, CKPT_MAGIC, 8) != 0)
        return bad(err, "made by another version of vigil");
    uint64_t plen, clen;
    uint32_t crc, zero;
    memcpy(&plen, h + 8, 8);
    memcpy(&clen, h + 16, 8);
    memcpy(&crc, h + 24, 4);
    memcpy(&zero, h + 28, 4);
    if (clen != len - CKPT_HEADER || zero != 0)
        return bad(err, "truncated (lengths do not match the file)");
    if (crc_of(h, h + CKPT_HEADER, (size_t)clen) != crc)
        return bad(err, "CRC mismatch (corrupt file)");
    if (plen > CKPT_MAX_PAYLOAD)
        return bad(err, "payload too large");
    uint8_t *pl = g_try_malloc(plen ? plen : 1);
    if (!pl)
        return bad(err, "payload too large for memory");
    uLongf got = (uLongf)plen;
    if (uncompress(pl, &got, h + CKPT_HEADER, (uLong)clen) != Z_OK || got != plen) {
        g_free(pl);
        return bad(err, "corrupt compressed data");
    }
    /* the state is the payload's tail: once the head is parsed, the head's bytes are cut
     * off the same buffer (one memmove of the state, no second allocation) and the buffer
     * becomes c->state */
    GByteArray *whole = g_byte_array_new_take(pl, (gsize)plen);
    VgSnapReader r;
    vg_snap_reader_init(&r, pl, plen);
    VgCheckpoint *c = vg_checkpoint_new(NULL);
    c->created_ms = vg_snap_get_i64(&r);
    size_t n;
    const uint8_t *s = vg_snap_get_bytes(&r, 4096, &n);
    if (s) {
        g_free(c->group);
        c->group = g_strndup((const char *)s, n);
    }
    uint64_t n_off = vg_snap_get_u64(&r);
    if (n_off > CKPT_MAX_OFFSETS)
        r.bad = true;
    for (uint64_t i = 0; i < n_off && !r.bad; i++) {
        s = vg_snap_get_bytes(&r, 4096, &n);
        int64_t part = vg_snap_get_i64(&r), next = vg_snap_get_i64(&r);
        if (r.bad || part < 0 || part > INT32_MAX || next < 0 || memchr(s, '\0', n)) {
            r.bad = true;
            break;
        }
        char *topic = g_strndup((const char *)s, n);
        vg_checkpoint_add_offset(c, topic, (int32_t)part, next);
        g_free(topic);
    }
    vg_snap_get_bytes(&r, SIZE_MAX, &n);
    bool ok = !r.bad && r.n == 0;
    if (ok) {
        g_byte_array_remove_range(whole, 0, (guint)(plen - n));
        g_byte_array_free(c->state, TRUE);
        c->state = whole;
    } else {
        g_byte_array_free(whole, TRUE);
    }
    if (!ok) {
        vg_checkpoint_free(c);
        return bad(err, "corrupt payload");
    }
    return c;
}

int vg_checkpoint_write_file(const char *path, const void *data, size_t len, GError **err)
{
    char *tmp = g_strdup_printf("%s.tmp", path);
    char *dir = g_path_get_dirname(path);
    const char *what = "open";
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        goto fail;
    what = "write";
    for (size_t off = 0; off < len;) {
        ssize_t w = write(fd, (const uint8_t *)data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            goto fail;
        off += (size_t)w;
    }
    what = "fsync";
    if (fsync(fd) != 0)
        goto fail;
    what = "close";
    int cr = close(fd);
    fd = -1;
    if (cr != 0)
        goto fail;
    what = "rename";
    if (rename(tmp, path) != 0)
        goto fail;
    /* the rename is durable once the directory is */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) != 0) {
            what = "fsync the directory after renaming";
            int e = errno;
            close(dfd);
            errno = e;
            goto fail_renamed;
        }
        close(dfd);
    }
    g_free(tmp);
    g_free(dir);
    return VG_OK;
fail : {
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = e;
}
fail_renamed:
    g_set_error(err, VG_ERROR, VG_EIO, "checkpoint: cannot %s %s: %s", what, tmp,
                g_strerror(errno));
    g_free(tmp);
    g_free(dir);
    return VG_EIO;
}

VgCheckpoint *vg_checkpoint_read_file(const char *path, GError **err)
{
    gchar *buf = NULL;
    gsize len = 0;
    GError *e = NULL;
    if (!g_file_get_contents(path, &buf, &len, &e)) {
        bool missing = g_error_matches(e, G_FILE_ERROR, G_FILE_ERROR_NOENT);
        g_set_error(err, VG_ERROR, missing ? VG_ENOENT : VG_EIO, "checkpoint: %s", e->message);
        g_error_free(e);
        return NULL;
    }
    VgCheckpoint *c = vg_checkpoint_decode(buf, len, &e);
    g_free(buf);
    if (!c) {
        g_set_error(err, VG_ERROR, VG_EINVAL, "%s: %s", path, e->message);
        g_error_free(e);
    }
    return c;
}

/* ---- configuration ---- */

#define OPT(f) offsetof(VgCheckpointConf, f)

const VgConfOption vg_checkpoint_options[] = {
    {"path", VG_CT_STRING, OPT(path), NULL, 0, 0, NULL, 0, "VIGIL_CHECKPOINT_PATH",
     "File the state of models, correlation windows and open incidents is written to, with "
     "the Kafka offsets it corresponds to (vigil run on Kafka); empty: no checkpoints, and a "
     "restart starts with empty baselines from the committed offsets."},
    {"interval", VG_CT_DURATION, OPT(interval_ms), "60s", 1, 86400, NULL, 0, NULL,
     "Time between periodic checkpoints; one is also written on shutdown (SIGTERM)."},
    {"restore", VG_CT_BOOL, OPT(restore), "true", 0, 0, NULL, 0, NULL,
     "Load the checkpoint at start and read each partition on from its offset in it."},
    {"redis", VG_CT_NODE, OPT(redis), NULL, 0, 0, NULL, 0, NULL,
     "Keep state per Kafka partition in Redis instead of a file, so it moves with the "
     "partition to whichever instance of the group gets it (scale-out): a map of host, "
     "port, unix_socket, db, user, password, connect_timeout, timeout, key_prefix "
     "(vigil:state; keys <prefix>:<group>:<topic>:<partition>) and ttl (7d). Exclusive "
     "with path."},
    {0},
};

int vg_checkpoint_conf_load(VgCheckpointConf *conf, const VgConfNode *section, GError **err)
{
    int rc = vg_conf_apply(vg_checkpoint_options, conf, section, err);
    if (rc < 0)
        return rc;
    if (conf->redis && vg_conf_is_null(conf->redis))
        conf->redis = NULL;
    if (conf->redis && conf->path && conf->path[0]) {
        vg_conf_error(err, conf->redis,
                      "checkpoint: path and redis exclude each other (a file holds one "
                      "process's state, redis each partition's)");
        return VG_ECONFIG;
    }
    return VG_OK;
}

void vg_checkpoint_conf_clear(VgCheckpointConf *conf)
{
    vg_conf_clear(vg_checkpoint_options, conf);
}

/* ---- the writer and its metrics ---- */

struct VgCheckpointer {
    VgCheckpointConf conf;
    GMutex lock; /* the stats below: written by the run loop, read by scrapes */
    gint64 last_attempt_us;
    double last_success_s, last_duration_s;
    uint64_t last_bytes, written, failures, restore_failures;
    unsigned metrics_id;
    VgCheckpointStoreFn store; /* NULL: the file conf.path */
    void *store_user;
};

static void collect(void *user, VgMetricsWriter *w)
{
    VgCheckpointer *c = user;
    g_mutex_lock(&c->lock);
    vg_metrics_family(w, "vigil_checkpoint_last_success_timestamp_seconds", VG_METRIC_GAUGE,
                      "When the last checkpoint was written (0: none yet).");
    vg_metrics_put(w, "vigil_checkpoint_last_success_timestamp_seconds", NULL, c->last_success_s);
    vg_metrics_family(w, "vigil_checkpoint_duration_seconds", VG_METRIC_GAUGE,
                      "How long the last checkpoint took (snapshot, compression, fsync).");
    vg_metrics_put(w, "vigil_checkpoint_duration_seconds", NULL, c->last_duration_s);
    vg_metrics_family(w, "vigil_checkpoint_bytes", VG_METRIC_GAUGE,
                      "Size of the last checkpoint, compressed.");
    vg_metrics_put_u64(w, "vigil_checkpoint_bytes", NULL, c->last_bytes);
    vg_metrics_family(w, "vigil_checkpoints_total", VG_METRIC_COUNTER, "Checkpoints written.");
    vg_metrics_put_u64(w, "vigil_checkpoints_total", NULL, c->written);
    vg_metrics_family(w, "vigil_checkpoint_failures_total", VG_METRIC_COUNTER,
                      "Checkpoints that could not be written.");
    vg_metrics_put_u64(w, "vigil_checkpoint_failures_total", NULL, c->failures);
    vg_metrics_family(w, "vigil_checkpoint_restore_failures_total", VG_METRIC_COUNTER,
                      "Checkpoints refused at start (corrupt, foreign, other config).");
    vg_metrics_put_u64(w, "vigil_checkpoint_restore_failures_total", NULL, c->restore_failures);
    g_mutex_unlock(&c->lock);
}

VgCheckpointer *vg_checkpointer_new(const VgCheckpointConf *conf)
{
    VgCheckpointer *c = g_new0(VgCheckpointer, 1);
    c->conf = *conf;
    c->conf.path = g_strdup(conf->path);
    g_mutex_init(&c->lock);
    c->last_attempt_us = g_get_monotonic_time();
    c->metrics_id = vg_metrics_register("checkpoint", collect, c);
    return c;
}

void vg_checkpointer_free(VgCheckpointer *c)
{
    if (!c)
        return;
    vg_metrics_unregister(c->metrics_id);
    g_free(c->conf.path);
    g_mutex_clear(&c->lock);
    g_free(c);
}

bool vg_checkpointer_due(const VgCheckpointer *c)
{
    return g_get_monotonic_time() - c->last_attempt_us >= c->conf.interval_ms * 1000;
}

void vg_checkpointer_set_store(VgCheckpointer *c, VgCheckpointStoreFn store, void *user)
{
    c->store = store;
    c->store_user = user;
}

void vg_checkpointer_touch(VgCheckpointer *c)
{
    c->last_attempt_us = g_get_monotonic_time();
}

int vg_checkpointer_save(VgCheckpointer *c, const VgCheckpoint *ck, GError **err)
{
    gint64 t0 = g_get_monotonic_time();
    c->last_attempt_us = t0;
    GByteArray *b = g_byte_array_new();
    vg_checkpoint_encode(ck, b);
    int rc = c->store ? c->store(c->store_user, ck, b->data, b->len, err)
                      : vg_checkpoint_write_file(c->conf.path, b->data, b->len, err);
    double dt = (double)(g_get_monotonic_time() - t0) / 1e6;
    g_mutex_lock(&c->lock);
    if (rc == VG_OK) {
        c->written++;
        c->last_success_s = (double)g_get_real_time() / 1e6;
        c->last_duration_s = dt;
        c->last_bytes = b->len;
    } else {
        c->failures++;
    }
    g_mutex_unlock(&c->lock);
    g_byte_array_free(b, TRUE);
    return rc;
}

void vg_checkpointer_restore_failed(VgCheckpointer *c)
{
    g_mutex_lock(&c->lock);
    c->restore_failures++;
    g_mutex_unlock(&c->lock);
}

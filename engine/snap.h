/* snap.h — writing state as bytes and reading it back without trusting it.
 *
 * Snapshots of detector and pipeline state (checkpoints, issue 6) are flat byte strings:
 * fixed-width integers in host byte order (a checkpoint is for the same build on the same
 * kind of machine), doubles as their bytes, strings and blobs with a length in front.
 * The reader never reads past its end: a short or corrupt input sets `bad`, every later
 * read returns zeroes, and the caller checks `bad` once at the end (and before using a
 * length it read to size anything). Bounds on counts are the caller's business, since only
 * it knows them.
 */
#ifndef VG_SNAP_H
#define VG_SNAP_H

#include "engine/vg.h"

typedef struct {
    const uint8_t *p;
    size_t n;
    bool bad;
} VgSnapReader;

static inline void vg_snap_reader_init(VgSnapReader *r, const void *data, size_t len)
{
    r->p = data;
    r->n = data ? len : 0;
    r->bad = false;
}

static inline void vg_snap_put(GByteArray *o, const void *p, size_t n)
{
    if (n)
        g_byte_array_append(o, p, (guint)n);
}

static inline void vg_snap_put_u64(GByteArray *o, uint64_t v)
{
    vg_snap_put(o, &v, sizeof v);
}

static inline void vg_snap_put_i64(GByteArray *o, int64_t v)
{
    vg_snap_put(o, &v, sizeof v);
}

static inline void vg_snap_put_f64(GByteArray *o, double v)
{
    vg_snap_put(o, &v, sizeof v);
}

/* A length-prefixed byte string (s may be NULL when n is 0). */
static inline void vg_snap_put_bytes(GByteArray *o, const void *s, size_t n)
{
    vg_snap_put_u64(o, n);
    vg_snap_put(o, s, n);
}

static inline void vg_snap_put_str(GByteArray *o, const char *s)
{
    vg_snap_put_bytes(o, s, s ? strlen(s) : 0);
}

/* Copies n bytes out, or marks the reader bad and zeroes p. */
static inline bool vg_snap_get(VgSnapReader *r, void *p, size_t n)
{
    if (!n)
        return !r->bad;
    if (r->bad || r->n < n) {
        r->bad = true;
        memset(p, 0, n);
        return false;
    }
    memcpy(p, r->p, n);
    r->p += n;
    r->n -= n;
    return true;
}

/* A view of the next n bytes (NULL and bad when there are fewer). */
static inline const uint8_t *vg_snap_view(VgSnapReader *r, size_t n)
{
    if (r->bad || r->n < n) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *v = r->p;
    r->p += n;
    r->n -= n;
    return v;
}

static inline uint64_t vg_snap_get_u64(VgSnapReader *r)
{
    uint64_t v;
    vg_snap_get(r, &v, sizeof v);
    return v;
}

static inline int64_t vg_snap_get_i64(VgSnapReader *r)
{
    int64_t v;
    vg_snap_get(r, &v, sizeof v);
    return v;
}

static inline double vg_snap_get_f64(VgSnapReader *r)
{
    double v;
    vg_snap_get(r, &v, sizeof v);
    return v;
}

/* A length-prefixed byte string of at most max bytes, as a view (*n its length). NULL and
 * bad when it is longer than max or than what is left. */
static inline const uint8_t *vg_snap_get_bytes(VgSnapReader *r, size_t max, size_t *n)
{
    uint64_t len = vg_snap_get_u64(r);
    *n = 0;
    if (r->bad || len > max || len > r->n) {
        r->bad = true;
        return NULL;
    }
    *n = (size_t)len;
    return vg_snap_view(r, (size_t)len);
}

#endif

/* correlation-window.c — the bounded state behind sliding event-time windows.
 *
 * A correlation window slides: "more than 20 events in 5m" holds at time t when the events
 * in [t - 5m, t] number more than 20, whatever the clock's minute boundaries. Keeping every
 * timestamp would be exact and unbounded, so each aggregate keeps just enough:
 *
 *  - counts with a lower bound K <= VG_CORR_EXACT_MAX keep the K most recent timestamps,
 *    sorted (VgCorrTimes). "At least K events in [t - T, t]" holds exactly when the oldest
 *    of them is >= t - T: exact, in K * 8 bytes.
 *  - distinct counts with K <= VG_CORR_EXACT_MAX keep the K most recently seen distinct
 *    values with their last-seen time (VgCorrRecent): the same argument makes it exact.
 *  - beyond that, and for sums and averages, the window is cut into sub-buckets
 *    (VgCorrBuckets, VG_CORR_SUBBUCKETS of them; VgCorrSlideHll, VG_CORR_SLIDE_HLLS
 *    HyperLogLog sketches): the window then covers between T - T/n and T, n being the
 *    number of sub-buckets. That is the documented precision.
 *  - closed (anchored) windows only need totals: a count, a sum, and for distinct values
 *    an exact set that becomes a HyperLogLog (VG_CORR_HLL_P) past VG_CORR_EXACT_MAX.
 *
 * Everything lives in buffers the caller owns and recycles (VgCorrBuf), so a warm engine
 * allocates nothing per event.
 */
#include "rules/correlation-int.h"

#include <math.h>

void *vg_corr_buf_need(VgCorrBuf *b, size_t n)
{
    if (n > b->cap) {
        g_free(b->p);
        b->p = g_malloc(n);
        b->cap = n;
    }
    if (n)
        memset(b->p, 0, n);
    return b->p;
}

void vg_corr_buf_free(VgCorrBuf *b)
{
    g_free(b->p);
    b->p = NULL;
    b->cap = 0;
}

/* ---- the k most recent timestamps ---- */

void vg_corr_times_add(VgCorrTimes *r, int64_t t)
{
    if (r->k == 0)
        return;
    if (r->n == r->k) {
        if (t < r->t[0])
            return; /* older than everything kept: it can not raise any window to k */
        memmove(r->t, r->t + 1, (size_t)(r->n - 1) * sizeof(int64_t));
        r->n--;
    }
    /* Events mostly arrive in order, so search from the end. */
    uint32_t i = r->n;
    while (i > 0 && r->t[i - 1] > t) {
        r->t[i] = r->t[i - 1];
        i--;
    }
    r->t[i] = t;
    r->n++;
}

uint32_t vg_corr_times_since(const VgCorrTimes *r, int64_t from)
{
    uint32_t i = 0;
    while (i < r->n && r->t[i] < from)
        i++;
    return r->n - i;
}

/* ---- the k most recently seen distinct values ---- */

void vg_corr_recent_add(VgCorrRecent *s, uint64_t h, int64_t t)
{
    if (s->k == 0)
        return;
    uint32_t oldest = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->e[i].h == h) {
            if (t > s->e[i].t)
                s->e[i].t = t;
            return;
        }
        if (s->e[i].t < s->e[oldest].t)
            oldest = i;
    }
    if (s->n < s->k) {
        s->e[s->n++] = (VgCorrSeen){h, t};
        return;
    }
    /* Full: the value seen longest ago leaves the window first, so it is the one we can
     * forget without changing any answer about the k most recent values. */
    if (t > s->e[oldest].t)
        s->e[oldest] = (VgCorrSeen){h, t};
}

uint32_t vg_corr_recent_since(const VgCorrRecent *s, int64_t from, int64_t *oldest)
{
    uint32_t n = 0;
    int64_t o = INT64_MAX;
    for (uint32_t i = 0; i < s->n; i++) {
        if (s->e[i].t >= from) {
            n++;
            if (s->e[i].t < o)
                o = s->e[i].t;
        }
    }
    if (oldest)
        *oldest = o;
    return n;
}

/* ---- sub-bucket rings ---- */

void vg_corr_buckets_geometry(int64_t span_ms, int64_t *w, uint32_t *nb)
{
    int64_t width = span_ms / VG_CORR_SUBBUCKETS;
    if (width < 1)
        width = 1;
    int64_t n = (span_ms + width - 1) / width;
    if (n < 1)
        n = 1;
    *w = width;
    *nb = (uint32_t)n + 1; /* + the partial bucket at the old edge */
}

void vg_corr_buckets_init(VgCorrBuckets *r, int64_t span_ms)
{
    vg_corr_buckets_geometry(span_ms, &r->w, &r->nb);
    r->span = span_ms;
    for (uint32_t i = 0; i < r->nb; i++)
        r->b[i] = (VgCorrBucket){INT64_MIN, 0, 0};
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static uint32_t ring_slot(int64_t id, uint32_t n)
{
    int64_t m = id % (int64_t)n;
    return (uint32_t)(m < 0 ? m + n : m);
}

void vg_corr_buckets_add(VgCorrBuckets *r, int64_t t, double v)
{
    int64_t id = floor_div(t, r->w);
    VgCorrBucket *b = &r->b[ring_slot(id, r->nb)];
    if (b->id > id)
        return; /* the slot already holds a newer bucket: this event is too old to matter */
    if (b->id < id)
        *b = (VgCorrBucket){id, 0, 0};
    b->count++;
    b->sum += v;
}

void vg_corr_buckets_sum(const VgCorrBuckets *r, int64_t t, int64_t *count, double *sum,
                         int64_t *oldest)
{
    int64_t last = floor_div(t, r->w);
    /* Only buckets that start inside [t - span, t]: the one straddling the old edge is left
     * out, so the window is at most one bucket short, never long. */
    int64_t first = -floor_div(-(t - r->span), r->w);
    int64_t c = 0, o = INT64_MAX;
    double s = 0;
    for (uint32_t i = 0; i < r->nb; i++) {
        const VgCorrBucket *b = &r->b[i];
        if (b->id >= first && b->id <= last) {
            c += b->count;
            s += b->sum;
            if (b->id * r->w < o)
                o = b->id * r->w;
        }
    }
    *count = c;
    *sum = s;
    if (oldest)
        *oldest = o;
}

/* ---- HyperLogLog ---- */

void vg_corr_hll_add(uint8_t *reg, int p, uint64_t h)
{
    uint32_t idx = (uint32_t)(h >> (64 - p));
    uint64_t rest = (h << p) | (1ull << (p - 1)); /* the guard bit bounds the rank */
    uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);
    if (rank > reg[idx])
        reg[idx] = rank;
}

static double hll_from_sums(double inv_sum, uint32_t zeros, int p)
{
    double m = (double)(1u << p);
    double alpha = m == 16 ? 0.673 : m == 32 ? 0.697 : m == 64 ? 0.709 : 0.7213 / (1 + 1.079 / m);
    double e = alpha * m * m / inv_sum;
    if (e <= 2.5 * m && zeros > 0)
        e = m * log(m / (double)zeros); /* linear counting is better for small sets */
    return e;
}

double vg_corr_hll_estimate(const uint8_t *reg, int p)
{
    const uint8_t *one[1] = {reg};
    return vg_corr_hll_union_estimate(one, 1, p);
}

double vg_corr_hll_union_estimate(const uint8_t *const *regs, int n, int p)
{
    uint32_t m = 1u << p, zeros = 0;
    double inv = 0;
    for (uint32_t j = 0; j < m; j++) {
        uint8_t r = 0;
        for (int i = 0; i < n; i++)
            if (regs[i][j] > r)
                r = regs[i][j];
        inv += ldexp(1.0, -(int)r);
        zeros += r == 0;
    }
    return hll_from_sums(inv, zeros, p);
}

/* ---- exact distinct set, then a sketch ---- */

void vg_corr_distinct_add(VgCorrDistinct *d, VgCorrBuf *slots, VgCorrBuf *sketch, uint64_t h)
{
    if (d->hll) {
        vg_corr_hll_add(d->hll, VG_CORR_HLL_P, h);
        return;
    }
    if (!d->slot)
        d->slot = vg_corr_buf_need(slots, VG_CORR_DISTINCT_SLOTS * sizeof(uint64_t));
    if (h == 0)
        h = 1;
    uint32_t mask = VG_CORR_DISTINCT_SLOTS - 1;
    for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
        if (d->slot[i] == h)
            return;
        if (d->slot[i] == 0) {
            d->slot[i] = h;
            d->n++;
            break;
        }
    }
    if (d->n <= VG_CORR_EXACT_MAX)
        return;
    d->hll = vg_corr_buf_need(sketch, VG_CORR_HLL_M);
    for (uint32_t i = 0; i < VG_CORR_DISTINCT_SLOTS; i++)
        if (d->slot[i])
            vg_corr_hll_add(d->hll, VG_CORR_HLL_P, d->slot[i]);
    d->slot = NULL;
}

double vg_corr_distinct_count(const VgCorrDistinct *d)
{
    if (d->hll)
        return round(vg_corr_hll_estimate(d->hll, VG_CORR_HLL_P));
    return d->n;
}

/* ---- sliding distinct count beyond the exact range ---- */

void vg_corr_slide_init(VgCorrSlideHll *s, uint8_t *mem, int64_t span_ms)
{
    for (int i = 0; i < VG_CORR_SLIDE_HLLS; i++)
        s->id[i] = INT64_MIN;
    s->reg = mem;
    s->span = span_ms;
    memset(mem, 0, VG_CORR_SLIDE_BYTES);
    /* VG_CORR_SLIDE_HLLS - 1 whole sub-windows cover the span; one more for the old edge. */
    s->w = span_ms / (VG_CORR_SLIDE_HLLS - 1);
    if (s->w < 1)
        s->w = 1;
    while (s->w * (VG_CORR_SLIDE_HLLS - 1) < span_ms)
        s->w++;
}

void vg_corr_slide_add(VgCorrSlideHll *s, int64_t t, uint64_t h)
{
    int64_t id = floor_div(t, s->w);
    uint32_t i = ring_slot(id, VG_CORR_SLIDE_HLLS);
    if (s->id[i] > id)
        return;
    uint8_t *reg = s->reg + ((size_t)i << VG_CORR_SLIDE_HLL_P);
    if (s->id[i] < id) {
        s->id[i] = id;
        memset(reg, 0, (size_t)1 << VG_CORR_SLIDE_HLL_P);
    }
    vg_corr_hll_add(reg, VG_CORR_SLIDE_HLL_P, h);
}

double vg_corr_slide_estimate(const VgCorrSlideHll *s, int64_t t, int64_t *oldest)
{
    int64_t last = floor_div(t, s->w), first = -floor_div(-(t - s->span), s->w);
    const uint8_t *regs[VG_CORR_SLIDE_HLLS];
    int n = 0;
    int64_t o = INT64_MAX;
    for (int i = 0; i < VG_CORR_SLIDE_HLLS; i++) {
        if (s->id[i] >= first && s->id[i] <= last) {
            regs[n++] = s->reg + ((size_t)i << VG_CORR_SLIDE_HLL_P);
            if (s->id[i] * s->w < o)
                o = s->id[i] * s->w;
        }
    }
    if (oldest)
        *oldest = o;
    return n ? round(vg_corr_hll_union_estimate(regs, n, VG_CORR_SLIDE_HLL_P)) : 0;
}

/* model-snapshot.c — the models' state as bytes, and back (for checkpoints, issue 6).
 *
 * The state was built to make this a walk: every table is a flat array of pointer-free
 * entries, pools are arrays with free-list stacks, and pending alerts hold their strings
 * inline. A snapshot writes, in order: a header (format version and the shape the config
 * implies: bucket, strides, table sizes), the clock, then per kind the table arrays
 * (entries up to the highest one in use, the free-list stack in its exact order so that
 * later admissions pick the same entries, the hash index, the admission sketch, the dirty
 * lists) and the populations, then the pools and the pending alerts. Restoring into a
 * detector created from the same config gives a detector that continues exactly as the
 * original would have: the same input after the snapshot gives the same alerts.
 *
 * Integers are written in host byte order: a checkpoint is for the same build on the same
 * kind of machine; compression and the CRC are the checkpoint writer's business.
 */
#include "models/model-int.h"

#define SNAP_MAGIC   0x534d4756u /* "VGMS" */
#define SNAP_VERSION 1u

typedef struct {
    const uint8_t *p;
    size_t n;
    bool bad;
} Reader;

static void put(GByteArray *o, const void *p, size_t n)
{
    if (n)
        g_byte_array_append(o, p, (guint)n);
}

static void put_u64(GByteArray *o, uint64_t v)
{
    put(o, &v, sizeof v);
}

static void get(Reader *r, void *p, size_t n)
{
    if (!n)
        return;
    if (r->bad || r->n < n) {
        r->bad = true;
        memset(p, 0, n);
        return;
    }
    memcpy(p, r->p, n);
    r->p += n;
    r->n -= n;
}

static uint64_t get_u64(Reader *r)
{
    uint64_t v;
    get(r, &v, sizeof v);
    return v;
}

/* what must match between the snapshot and the detector it is restored into */
static void put_shape(GByteArray *o, const VgModels *m)
{
    put_u64(o, SNAP_MAGIC);
    put_u64(o, SNAP_VERSION);
    put_u64(o, (uint64_t)m->conf.bucket_ms);
    put_u64(o, m->n_hll);
    put_u64(o, m->n_samples);
    put_u64(o, m->cap_ep);
    put_u64(o, sizeof(VgPendingAlert));
    for (int k = 0; k < VG_MK__COUNT; k++) {
        const VgModelTable *t = &m->kind[k].table;
        put_u64(o, m->conf.kind[k].enabled);
        put_u64(o, m->kind[k].layout.metrics);
        put_u64(o, t->stride);
        put_u64(o, t->n_entries);
        put_u64(o, t->index_max);
        put_u64(o, t->cms_mask);
    }
}

int vg_models_snapshot(VgDetector *d, GByteArray *out)
{
    VgModels *m = (VgModels *)d;
    vg_models_hll_flush(m);
    put_shape(out, m);
    put_u64(out, (uint64_t)m->max_time);
    put_u64(out, m->next_due);
    put_u64(out, m->first_bucket);
    put_u64(out, m->started);
    put_u64(out, m->last_sweep);
    put(out, &m->stats, sizeof m->stats);
    for (int k = 0; k < VG_MK__COUNT; k++) {
        VgKindState *ks = &m->kind[k];
        VgModelTable *t = &ks->table;
        if (!m->conf.kind[k].enabled)
            continue;
        uint32_t high = t->high;
        while (high > 0 && !vg_table_entry(t, high - 1)->hash)
            high--;
        put_u64(out, high);
        put(out, t->entries, (size_t)high * t->stride);
        put_u64(out, t->n_live);
        /* the whole free stack, as if every free entry were listed */
        put_u64(out, t->n_free);
        for (uint32_t j = 0; j < t->n_fresh; j++) {
            uint32_t v = t->n_entries - 1 - j;
            put(out, &v, 4);
        }
        put(out, t->free_list, (size_t)t->n_list * 4);
        put_u64(out, t->index_mask);
        put(out, t->index, ((size_t)t->index_mask + 1) * 8);
        put(out, t->cms, 4 * ((size_t)t->cms_mask + 1));
        put_u64(out, t->cms_adds);
        put_u64(out, t->admitted);
        put_u64(out, t->evicted);
        put_u64(out, t->expired);
        put_u64(out, t->rejected);
        for (int i = 0; i < 4; i++) {
            VgDirtyList *l = &t->dirty[i];
            put_u64(out, l->bucket);
            put_u64(out, l->n);
            if (l->n != UINT32_MAX)
                put(out, l->idx, (size_t)l->n * 4);
        }
        put(out, ks->pop, sizeof ks->pop);
        put(out, ks->hist, sizeof ks->hist);
    }
    put(out, m->hll, (size_t)m->n_hll * sizeof(VgHll));
    put_u64(out, m->n_hll_free);
    put(out, m->hll_free, (size_t)m->n_hll_free * 4);
    put(out, m->samples, (size_t)m->n_samples * sizeof(VgSampleRec));
    put_u64(out, m->n_sample_free);
    put(out, m->sample_free, (size_t)m->n_sample_free * 4);
    put_u64(out, m->n_ep);
    put(out, m->ep_names, (size_t)m->n_ep * sizeof(VgNameEndpoint));
    put(out, m->ep_index, ((size_t)m->ep_mask + 1) * 8);
    put_u64(out, m->pending->len);
    put(out, m->pending->data, (size_t)m->pending->len * sizeof(VgPendingAlert));
    return VG_OK;
}

/* The indices inside the arrays a snapshot loads must point inside them, and every
 * open-addressing index needs a free slot (its probe loops stop at one): a snapshot that
 * breaks either would crash, or hang, the first event after it. Checked before use. What
 * entries point at (their HLL and sample slots) is not checked here. */
static bool u32s_below(const uint32_t *v, size_t n, uint64_t bound)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] >= bound)
            return false;
    return true;
}

static bool index_sane(const uint64_t *idx, size_t slots, uint64_t low_mask, uint64_t max)
{
    size_t empty = 0;
    for (size_t i = 0; i < slots; i++) {
        uint64_t low = idx[i] & low_mask;
        if (!idx[i])
            empty++;
        else if (low == 0 || low > max)
            return false;
    }
    return empty > 0;
}

int vg_models_restore(VgDetector *d, const void *data, size_t len, GError **err)
{
    VgModels *m = (VgModels *)d;
    Reader r = {data, len, false};
    GByteArray *shape = g_byte_array_new();
    put_shape(shape, m);
    bool same = len >= shape->len && !memcmp(data, shape->data, shape->len);
    if (same) {
        r.p += shape->len;
        r.n -= shape->len;
    }
    g_byte_array_free(shape, TRUE);
    if (!same) {
        g_set_error(err, VG_ERROR, VG_EINVAL,
                    "models snapshot: made by another version or with another models config");
        return VG_EINVAL;
    }
    m->max_time = (int64_t)get_u64(&r);
    m->next_due = (uint32_t)get_u64(&r);
    m->first_bucket = (uint32_t)get_u64(&r);
    m->started = get_u64(&r) != 0;
    m->last_sweep = (uint32_t)get_u64(&r);
    get(&r, &m->stats, sizeof m->stats);
    for (int k = 0; k < VG_MK__COUNT && !r.bad; k++) {
        VgKindState *ks = &m->kind[k];
        VgModelTable *t = &ks->table;
        if (!m->conf.kind[k].enabled)
            continue;
        uint64_t high = get_u64(&r);
        if (high > t->n_entries)
            r.bad = true;
        memset(t->entries, 0, (size_t)t->high * t->stride); /* fresh: nothing to clear */
        get(&r, t->entries, (size_t)(r.bad ? 0 : high) * t->stride);
        t->high = (uint32_t)high;
        t->n_live = (uint32_t)get_u64(&r);
        uint64_t nf = get_u64(&r);
        if (nf > t->n_entries)
            r.bad = true;
        uint32_t *stack = g_new(uint32_t, r.bad ? 1 : MAX(nf, 1));
        get(&r, stack, (size_t)(r.bad ? 0 : nf) * 4);
        if (!r.bad && !u32s_below(stack, (uint32_t)nf, t->n_entries))
            r.bad = true;
        /* back to never-used entries at the bottom and the freed ones on top */
        t->n_free = t->n_fresh = t->n_list = 0;
        uint32_t fresh = 0;
        while (!r.bad && fresh < nf && stack[fresh] == t->n_entries - 1 - fresh)
            fresh++;
        if (!r.bad) {
            t->n_fresh = t->n_free = fresh;
            for (uint64_t j = fresh; j < nf; j++)
                vg_table_free_push(t, stack[j]);
        }
        g_free(stack);
        uint64_t mask = get_u64(&r);
        if (mask > t->index_max || ((mask + 1) & mask))
            r.bad = true;
        if (!r.bad && mask != t->index_mask) {
            g_free(t->index);
            t->index_mask = (uint32_t)mask;
            t->index = g_new0(uint64_t, mask + 1);
        }
        get(&r, t->index, ((size_t)t->index_mask + 1) * 8);
        if (!r.bad && (t->n_live > t->n_entries ||
                       !index_sane(t->index, (size_t)t->index_mask + 1, 0xFFFFFFFFu, t->n_entries)))
            r.bad = true;
        get(&r, t->cms, 4 * ((size_t)t->cms_mask + 1));
        t->cms_adds = get_u64(&r);
        t->admitted = get_u64(&r);
        t->evicted = get_u64(&r);
        t->expired = get_u64(&r);
        t->rejected = get_u64(&r);
        for (int i = 0; i < 4 && !r.bad; i++) {
            VgDirtyList *l = &t->dirty[i];
            l->bucket = (uint32_t)get_u64(&r);
            uint64_t n = get_u64(&r);
            if (n != UINT32_MAX && n > t->n_entries) {
                r.bad = true;
                break;
            }
            l->n = (uint32_t)n;
            if (n != UINT32_MAX && n > l->cap) {
                l->cap = (uint32_t)n;
                l->idx = g_renew(uint32_t, l->idx, l->cap);
            }
            if (n != UINT32_MAX) {
                get(&r, l->idx, (size_t)n * 4);
                if (!r.bad && !u32s_below(l->idx, n, t->n_entries))
                    r.bad = true;
            }
        }
        get(&r, ks->pop, sizeof ks->pop);
        get(&r, ks->hist, sizeof ks->hist);
    }
    get(&r, m->hll, (size_t)m->n_hll * sizeof(VgHll));
    uint64_t n = get_u64(&r);
    if (n > m->n_hll)
        r.bad = true;
    m->n_hll_free = r.bad ? 0 : (uint32_t)n;
    get(&r, m->hll_free, (size_t)m->n_hll_free * 4);
    if (!r.bad && !u32s_below(m->hll_free, m->n_hll_free, m->n_hll))
        r.bad = true;
    get(&r, m->samples, (size_t)m->n_samples * sizeof(VgSampleRec));
    n = get_u64(&r);
    if (n > m->n_samples)
        r.bad = true;
    m->n_sample_free = r.bad ? 0 : (uint32_t)n;
    get(&r, m->sample_free, (size_t)m->n_sample_free * 4);
    if (!r.bad && !u32s_below(m->sample_free, m->n_sample_free, m->n_samples))
        r.bad = true;
    n = get_u64(&r);
    if (n > m->cap_ep)
        r.bad = true;
    m->n_ep = r.bad ? 0 : (uint32_t)n;
    get(&r, m->ep_names, (size_t)m->n_ep * sizeof(VgNameEndpoint));
    get(&r, m->ep_index, ((size_t)m->ep_mask + 1) * 8);
    if (!r.bad && !index_sane(m->ep_index, (size_t)m->ep_mask + 1, 0xFFFFF, m->n_ep))
        r.bad = true;
    n = get_u64(&r);
    if (n > 1u << 24)
        r.bad = true;
    g_array_set_size(m->pending, r.bad ? 0 : (guint)n);
    get(&r, m->pending->data, (size_t)m->pending->len * sizeof(VgPendingAlert));
    m->hq_n = 0;
    if (r.bad || r.n) {
        g_set_error(err, VG_ERROR, VG_EINVAL, "models snapshot: truncated or corrupt");
        return VG_EINVAL;
    }
    return VG_OK;
}

/* model-snapshot.c — the models' state as bytes, and back (for checkpoints, issue 6).
 *
 * The state was built to make this a walk: every table is a flat array of pointer-free
 * entries, pools are arrays with free-list stacks, and pending alerts hold their strings
 * inline. A snapshot writes, in order: a header (format version and the shape the config
 * implies: bucket, strides, table sizes), the clock, then per kind the table (its entries,
 * the free-entry stack, the hash index, the admission sketch, the dirty lists) and the
 * populations, then the pools and the pending alerts. Restoring into a detector created
 * from the same config gives a detector that continues exactly as the original would
 * have: the same input after the snapshot gives the same alerts.
 *
 * Size follows use, not the budget (format 2). The arrays are sized from
 * models.memory_budget at creation — with the default 128 MiB a partition's pipeline has
 * 15 MB of them — while a Kafka partition's pipeline typically uses a few percent, and
 * `vigil run` with checkpoint.redis saves every partition at SIGTERM within the group's
 * poll interval. So no array is written whole:
 *
 *   - Arrays go out as runs (put_runs): units (a word, an entry, an HLL) that are all zero
 *     or free are skipped, and a run of units in use is written as it is, after a u32
 *     pair (units skipped, units copied). The rows of the sketch, the hash indexes and the
 *     population histograms are mostly zeroes; a table's entries below its high-water
 *     mark are zeroed when freed (vg_table_remove).
 *   - Free pool elements are not state: an HLL is cleared when it is taken, a sample
 *     record restarts at n = 0. They are skipped whatever they still hold, and come back
 *     as zeroes.
 *   - Free stacks are written as the count of never-used elements at their bottom (which
 *     are implicit: n_fresh of a table, the untouched prefix n-1, n-2, ... of a pool's
 *     stack) and the rest explicitly, so later pops hand out the same elements.
 *
 * Restoring reads into the arrays in place. A fresh detector's arrays are known zeroes
 * (mapped, untouched), so skipped units cost nothing and restore touches only the memory
 * in use; a detector that already holds state is cleared first. Everything a later event
 * would trust is checked before the detector is used (check_*): a snapshot that passes
 * the checkpoint's CRC but was made wrong must give an error, never a crash or a hang.
 *
 * Format 1 (whole arrays) is not read: a checkpoint written by an older vigil is refused
 * with an error naming the versions, and `vigil run` then starts that partition (or the
 * process) without state from the committed offsets, as for any unusable checkpoint.
 *
 * Integers are written in host byte order: a checkpoint is for the same build on the same
 * kind of machine; compression and the CRC are the checkpoint writer's business.
 */
#include "models/model-int.h"

#include "engine/snap.h"

#define SNAP_MAGIC   0x534d4756u /* "VGMS" */
#define SNAP_VERSION 2u          /* 1: whole arrays (not read any more) */

/* ---- runs of units in use ------------------------------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w)
            return false;
    }
    for (; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static inline bool bit_get(const uint8_t *bits, size_t i)
{
    return (bits[i >> 3] >> (i & 7)) & 1;
}

static inline void bit_set(uint8_t *bits, size_t i)
{
    bits[i >> 3] |= (uint8_t)(1u << (i & 7));
}

/* Unit i of a is written: not all zeroes, and not part of a free element (free_bits has a
 * bit per element of `per` units; NULL: none free). */
static inline bool unit_used(const uint8_t *a, size_t size, size_t i, const uint8_t *free_bits,
                             size_t per)
{
    return !(free_bits && bit_get(free_bits, i / per)) && !all_zero(a + i * size, size);
}

static void put_u32(GByteArray *o, uint32_t v)
{
    vg_snap_put(o, &v, sizeof v);
}

static uint32_t get_u32(VgSnapReader *r)
{
    uint32_t v;
    vg_snap_get(r, &v, sizeof v);
    return v;
}

/* Writes the n units of `size` bytes at a as runs: (u32 units skipped, u32 units copied,
 * the copied bytes) until all n are covered. A unit is skipped when it is all zeroes or
 * belongs to an element (of `per` units) whose bit is set in free_bits (NULL: none). */
static void put_runs(GByteArray *o, const void *a, size_t n, size_t size, const uint8_t *free_bits,
                     size_t per)
{
    const uint8_t *p = a;
    for (size_t i = 0; i < n;) {
        size_t skip = i;
        while (i < n && !unit_used(p, size, i, free_bits, per))
            i++;
        skip = i - skip;
        size_t from = i;
        while (i < n && unit_used(p, size, i, free_bits, per))
            i++;
        /* runs longer than a u32 counts go out in pieces (a budget of terabytes) */
        for (; skip > UINT32_MAX; skip -= UINT32_MAX) {
            put_u32(o, UINT32_MAX);
            put_u32(o, 0);
        }
        for (size_t copy = i - from; copy || skip; skip = 0) {
            size_t c = MIN(copy, (size_t)UINT32_MAX);
            put_u32(o, (uint32_t)skip);
            put_u32(o, (uint32_t)c);
            vg_snap_put(o, p + from * size, c * size);
            from += c;
            copy -= c;
        }
    }
}

/* Reads what put_runs wrote into the n units at a, which must be zero where units were
 * skipped. False (and the reader bad) on runs that do not add up to n exactly. */
static bool get_runs(VgSnapReader *r, void *a, size_t n, size_t size)
{
    uint8_t *p = a;
    for (size_t i = 0; i < n && !r->bad;) {
        size_t skip = get_u32(r), copy = get_u32(r);
        if (r->bad || (!skip && !copy) || skip > n - i || copy > n - i - skip) {
            r->bad = true;
            break;
        }
        i += skip;
        const uint8_t *v = vg_snap_view(r, copy * size);
        if (v)
            memcpy(p + i * size, v, copy * size);
        i += copy;
    }
    return !r->bad;
}

/* ---- free stacks -------------------------------------------------------------------------- */

/* A pool's free stack starts as n-1, n-2, ..., 0 (pops hand out 0 first): how many of its
 * bottom elements are still that untouched prefix. */
static uint32_t fresh_prefix(const uint32_t *stack, uint32_t len, uint32_t n)
{
    uint32_t j = 0;
    while (j < len && stack[j] == n - 1 - j)
        j++;
    return j;
}

static void put_stack(GByteArray *o, const uint32_t *stack, uint32_t len, uint32_t n)
{
    uint32_t fresh = fresh_prefix(stack, len, n);
    vg_snap_put_u64(o, fresh);
    vg_snap_put_u64(o, len - fresh);
    vg_snap_put(o, stack + fresh, (size_t)(len - fresh) * 4);
}

/* Reads a pool's free stack (capacity n) into stack, *len its length, and marks its
 * elements in free_bits (n bits, zeroed). False on an element out of range or listed
 * twice. */
static bool get_stack(VgSnapReader *r, uint32_t *stack, uint32_t *len, uint32_t n,
                      uint8_t *free_bits)
{
    uint64_t fresh = vg_snap_get_u64(r), rest = vg_snap_get_u64(r);
    *len = 0;
    if (r->bad || fresh > n || rest > n - fresh) {
        r->bad = true;
        return false;
    }
    for (uint32_t j = 0; j < fresh; j++)
        stack[j] = n - 1 - j;
    if (!vg_snap_get(r, stack + fresh, (size_t)rest * 4))
        return false;
    *len = (uint32_t)(fresh + rest);
    for (uint32_t j = 0; j < *len; j++) {
        if (stack[j] >= n || bit_get(free_bits, stack[j])) {
            r->bad = true;
            return false;
        }
        bit_set(free_bits, stack[j]);
    }
    return true;
}

static uint8_t *bits_of(const uint32_t *v, uint32_t len, uint32_t n)
{
    uint8_t *b = g_new0(uint8_t, n / 8 + 1);
    for (uint32_t j = 0; j < len; j++)
        if (v[j] < n)
            bit_set(b, v[j]);
    return b;
}

/* ---- writing ---------------------------------------------------------------------------- */

/* what must match between the snapshot and the detector it is restored into (after the
 * magic and the version) */
static void put_shape(GByteArray *o, const VgModels *m)
{
    vg_snap_put_u64(o, m->conf.enabled);
    vg_snap_put_u64(o, (uint64_t)m->conf.bucket_ms);
    vg_snap_put_u64(o, m->n_hll);
    vg_snap_put_u64(o, m->n_samples);
    vg_snap_put_u64(o, m->cap_ep);
    vg_snap_put_u64(o, m->ep_mask);
    vg_snap_put_u64(o, sizeof(VgPendingAlert));
    for (int k = 0; k < VG_MK__COUNT; k++) {
        const VgModelTable *t = &m->kind[k].table;
        vg_snap_put_u64(o, m->conf.kind[k].enabled);
        vg_snap_put_u64(o, m->kind[k].layout.metrics);
        vg_snap_put_u64(o, t->stride);
        vg_snap_put_u64(o, t->n_entries);
        vg_snap_put_u64(o, t->index_max);
        vg_snap_put_u64(o, t->cms_mask);
    }
}

static void put_table(GByteArray *o, const VgKindState *ks)
{
    const VgModelTable *t = &ks->table;
    vg_snap_put_u64(o, t->high);
    /* as words: free entries are zeroes, and so is much of an entry in use (the open
     * bucket's slot, metrics not tested yet) */
    put_runs(o, t->entries, (size_t)t->high * (t->stride / 8), 8, NULL, 1);
    vg_snap_put_u64(o, t->n_live);
    vg_snap_put_u64(o, t->n_fresh);
    vg_snap_put_u64(o, t->n_list);
    vg_snap_put(o, t->free_list, (size_t)t->n_list * 4);
    vg_snap_put_u64(o, t->index_mask);
    put_runs(o, t->index, (size_t)t->index_mask + 1, 8, NULL, 1);
    put_runs(o, t->cms, ((size_t)t->cms_mask + 1) / 2, 8, NULL, 1); /* 4 rows of bytes, as words */
    vg_snap_put_u64(o, t->cms_adds);
    vg_snap_put_u64(o, t->admitted);
    vg_snap_put_u64(o, t->evicted);
    vg_snap_put_u64(o, t->expired);
    vg_snap_put_u64(o, t->rejected);
    for (int i = 0; i < 4; i++) {
        const VgDirtyList *l = &t->dirty[i];
        vg_snap_put_u64(o, l->bucket);
        vg_snap_put_u64(o, l->n);
        if (l->n != UINT32_MAX)
            vg_snap_put(o, l->idx, (size_t)l->n * 4);
    }
    put_runs(o, ks->pop, sizeof ks->pop / 4, 4, NULL, 1);
    put_runs(o, ks->hist, sizeof ks->hist / 4, 4, NULL, 1);
}

int vg_models_snapshot(VgDetector *d, GByteArray *out)
{
    VgModels *m = (VgModels *)d;
    vg_models_hll_flush(m);
    vg_snap_put_u64(out, SNAP_MAGIC);
    vg_snap_put_u64(out, SNAP_VERSION);
    put_shape(out, m);
    if (!m->conf.enabled)
        return VG_OK; /* models: enabled: false allocates nothing, so holds nothing */
    vg_snap_put_i64(out, m->max_time);
    vg_snap_put_u64(out, m->next_due);
    vg_snap_put_u64(out, m->first_bucket);
    vg_snap_put_u64(out, m->started);
    vg_snap_put_u64(out, m->last_sweep);
    vg_snap_put(out, &m->stats, sizeof m->stats);
    for (int k = 0; k < VG_MK__COUNT; k++)
        if (m->conf.kind[k].enabled)
            put_table(out, &m->kind[k]);

    put_stack(out, m->hll_free, m->n_hll_free, m->n_hll);
    uint8_t *free_bits = bits_of(m->hll_free, m->n_hll_free, m->n_hll);
    put_runs(out, m->hll, (size_t)m->n_hll * (sizeof(VgHll) / 8), 8, free_bits, sizeof(VgHll) / 8);
    g_free(free_bits);
    put_stack(out, m->sample_free, m->n_sample_free, m->n_samples);
    free_bits = bits_of(m->sample_free, m->n_sample_free, m->n_samples);
    put_runs(out, m->samples, m->n_samples, sizeof(VgSampleRec), free_bits, 1);
    g_free(free_bits);

    vg_snap_put_u64(out, m->n_ep);
    vg_snap_put(out, m->ep_names, (size_t)m->n_ep * sizeof(VgNameEndpoint));
    put_runs(out, m->ep_index, (size_t)m->ep_mask + 1, 8, NULL, 1);
    vg_snap_put_u64(out, m->pending->len);
    vg_snap_put(out, m->pending->data, (size_t)m->pending->len * sizeof(VgPendingAlert));
    return VG_OK;
}

/* ---- reading ---------------------------------------------------------------------------- */

/* A detector that never took an event nor a restore: its big arrays are still the zeroes
 * they were created as. */
static bool is_fresh(const VgModels *m)
{
    if (m->started || m->pending->len || m->n_ep || m->n_hll_free != m->n_hll ||
        m->n_sample_free != m->n_samples)
        return false;
    for (int k = 0; k < VG_MK__COUNT; k++) {
        const VgModelTable *t = &m->kind[k].table;
        if (t->high || t->n_live || t->n_list || t->cms_adds || t->admitted)
            return false;
    }
    return true;
}

/* Zeroes what a snapshot may leave out (units skipped as zero or free). */
static void clear_arrays(VgModels *m)
{
    for (int k = 0; k < VG_MK__COUNT; k++) {
        VgModelTable *t = &m->kind[k].table;
        if (!m->conf.kind[k].enabled)
            continue;
        memset(t->entries, 0, (size_t)t->high * t->stride); /* above high: never used */
        memset(t->index, 0, ((size_t)t->index_mask + 1) * 8);
        memset(t->cms, 0, 4 * ((size_t)t->cms_mask + 1));
    }
    memset(m->hll, 0, (size_t)m->n_hll * sizeof(VgHll));
    memset(m->samples, 0, (size_t)m->n_samples * sizeof(VgSampleRec));
    memset(m->ep_names, 0, (size_t)m->cap_ep * sizeof(VgNameEndpoint));
    memset(m->ep_index, 0, ((size_t)m->ep_mask + 1) * 8);
}

static bool get_table(VgSnapReader *r, VgKindState *ks)
{
    VgModelTable *t = &ks->table;
    uint64_t high = vg_snap_get_u64(r);
    if (high > t->n_entries || !get_runs(r, t->entries, (size_t)high * (t->stride / 8), 8))
        return false;
    t->high = (uint32_t)high;
    uint64_t live = vg_snap_get_u64(r), fresh = vg_snap_get_u64(r), list = vg_snap_get_u64(r);
    /* every entry is live, freed (listed) or never used (fresh, at or above high) */
    if (r->bad || live + fresh + list != t->n_entries || high > t->n_entries - fresh) {
        r->bad = true;
        return false;
    }
    t->n_live = (uint32_t)live;
    t->n_fresh = (uint32_t)fresh;
    t->n_list = 0;
    if (list > t->list_cap) {
        t->list_cap = (uint32_t)list;
        t->free_list = g_renew(uint32_t, t->free_list, t->list_cap);
    }
    if (!vg_snap_get(r, t->free_list, (size_t)list * 4))
        return false;
    t->n_list = (uint32_t)list;
    t->n_free = (uint32_t)(fresh + list);

    uint64_t mask = vg_snap_get_u64(r);
    if (r->bad || mask > t->index_max || ((mask + 1) & mask)) {
        r->bad = true;
        return false;
    }
    if (mask != t->index_mask) {
        g_free(t->index);
        t->index_mask = (uint32_t)mask;
        t->index = g_new0(uint64_t, mask + 1);
    }
    if (!get_runs(r, t->index, (size_t)mask + 1, 8) ||
        !get_runs(r, t->cms, ((size_t)t->cms_mask + 1) / 2, 8))
        return false;
    t->cms_adds = vg_snap_get_u64(r);
    t->admitted = vg_snap_get_u64(r);
    t->evicted = vg_snap_get_u64(r);
    t->expired = vg_snap_get_u64(r);
    t->rejected = vg_snap_get_u64(r);
    for (int i = 0; i < 4 && !r->bad; i++) {
        VgDirtyList *l = &t->dirty[i];
        l->bucket = (uint32_t)vg_snap_get_u64(r);
        uint64_t n = vg_snap_get_u64(r);
        l->n = 0;
        if (n == UINT32_MAX) {
            l->n = UINT32_MAX;
            continue;
        }
        if (r->bad || n > t->n_entries) {
            r->bad = true;
            break;
        }
        if (n > l->cap) {
            l->cap = (uint32_t)n;
            l->idx = g_renew(uint32_t, l->idx, l->cap);
        }
        if (vg_snap_get(r, l->idx, (size_t)n * 4))
            l->n = (uint32_t)n;
        for (uint64_t j = 0; j < n && !r->bad; j++)
            if (l->idx[j] >= t->n_entries)
                r->bad = true;
    }
    memset(ks->pop, 0, sizeof ks->pop);
    memset(ks->pop_q, 0, sizeof ks->pop_q);
    memset(ks->hist, 0, sizeof ks->hist);
    get_runs(r, ks->pop, sizeof ks->pop / 4, 4);
    get_runs(r, ks->hist, sizeof ks->hist / 4, 4);
    return !r->bad;
}

/* The table's parts agree: the listed free entries are distinct, below high and empty;
 * exactly n_live entries below high are in use, and the index holds each of them once,
 * under its own hash, with a free slot left (its probe loops stop at one). Anything else
 * could make a later event free an entry twice, overrun the free stack, or loop. */
static bool check_table(const VgModelTable *t)
{
    uint8_t *seen = g_new0(uint8_t, (size_t)t->high / 8 + 1);
    bool ok = true;
    for (uint32_t j = 0; j < t->n_list && ok; j++) {
        uint32_t e = t->free_list[j];
        ok = e < t->high && !bit_get(seen, e) && !vg_table_entry(t, e)->hash;
        if (ok)
            bit_set(seen, e);
    }
    uint32_t live = 0;
    for (uint32_t e = 0; e < t->high && ok; e++)
        live += vg_table_entry(t, e)->hash != 0;
    ok = ok && live == t->n_live;
    memset(seen, 0, (size_t)t->high / 8 + 1);
    uint64_t used = 0, slots = (uint64_t)t->index_mask + 1;
    for (uint64_t p = 0; p < slots && ok; p++) {
        uint64_t s = t->index[p];
        if (!s)
            continue;
        uint32_t e = (uint32_t)s - 1;
        ok = (uint32_t)s != 0 && e < t->high && !bit_get(seen, e) && vg_table_entry(t, e)->hash &&
             (uint32_t)vg_table_entry(t, e)->hash == s >> 32;
        if (ok)
            bit_set(seen, e);
        used++;
    }
    g_free(seen);
    return ok && used == t->n_live && used < slots;
}

/* A pool's elements are each free or held by one entry at most (a release pushes onto a
 * stack the size of the pool); names and counts inside entries stay within their arrays. */
static bool check_entries(const VgModels *m)
{
    uint8_t *hll = bits_of(m->hll_free, m->n_hll_free, m->n_hll);
    uint8_t *smp = bits_of(m->sample_free, m->n_sample_free, m->n_samples);
    bool ok = true;
    for (int k = 0; k < VG_MK__COUNT && ok; k++) {
        const VgKindState *ks = &m->kind[k];
        const VgModelTable *t = &ks->table;
        if (!m->conf.kind[k].enabled)
            continue;
        for (uint32_t i = 0; i < t->high && ok; i++) {
            VgEntryHead *e = vg_table_entry(t, i);
            if (!e->hash)
                continue;
            const uint8_t *name = (const uint8_t *)e + ks->layout.name_off;
            if (k == VG_MK_ENDPOINT)
                ok = ((const VgNameEndpoint *)name)->len <= VG_ENDPOINT_NAME_MAX;
            else if (k == VG_MK_CLIENT_IP)
                ok = ((const VgNameIp *)name)->len <= sizeof((const VgNameIp *)name)->addr;
            else if (k == VG_MK_TOKEN_ENDPOINT)
                ok = ((const VgNameTokenEp *)name)->endpoint <= m->n_ep;
            if (ok && e->sample) {
                uint32_t s = e->sample - 1;
                ok =
                    s < m->n_samples && !bit_get(smp, s) && m->samples[s].n <= VG_ALERT_MAX_SAMPLES;
                for (int j = 0; ok && j < m->samples[s].n; j++) /* copied into alerts */
                    ok = memchr(m->samples[s].id[j], '\0', sizeof m->samples[s].id[j]) != NULL;
                if (ok)
                    bit_set(smp, s);
            }
            for (int mi = 0; mi < VG_MM__COUNT && ok; mi++) {
                if (!ks->layout.dist_off[mi])
                    continue;
                const VgDistinct *d = vg_entry_dist(ks, e, (VgModelMetric)mi);
                ok = d->mode <= VG_DIST_LINEAR;
                if (ok && d->mode == VG_DIST_HLL) {
                    ok = d->v[0] < m->n_hll && !bit_get(hll, d->v[0]);
                    if (ok)
                        bit_set(hll, d->v[0]);
                }
            }
        }
    }
    g_free(hll);
    g_free(smp);
    return ok;
}

static bool has_nul(const char *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

static bool check_names_and_alerts(const VgModels *m)
{
    for (uint32_t i = 0; i < m->n_ep; i++)
        if (m->ep_names[i].len > VG_ENDPOINT_NAME_MAX)
            return false;
    size_t empty = 0, slots = (size_t)m->ep_mask + 1;
    for (size_t i = 0; i < slots; i++) {
        uint64_t low = m->ep_index[i] & 0xFFFFF;
        if (!m->ep_index[i])
            empty++;
        else if (low == 0 || low > m->n_ep)
            return false;
    }
    if (!empty)
        return false;
    for (guint i = 0; i < m->pending->len; i++) {
        const VgPendingAlert *pa = &g_array_index(m->pending, VgPendingAlert, i);
        if (pa->kind >= VG_MK__COUNT || pa->metric >= VG_MM__COUNT || pa->a.n_samples < 0 ||
            pa->a.n_samples > VG_ALERT_MAX_SAMPLES || !has_nul(pa->text, sizeof pa->text) ||
            !has_nul(pa->rule_id, sizeof pa->rule_id) ||
            !has_nul(pa->rule_name, sizeof pa->rule_name) ||
            !has_nul(pa->ent_token, sizeof pa->ent_token) ||
            !has_nul(pa->ent_other, sizeof pa->ent_other) ||
            !has_nul(pa->ent_ep, sizeof pa->ent_ep) ||
            !has_nul(pa->category, sizeof pa->category) ||
            !has_nul(pa->model_kind, sizeof pa->model_kind))
            return false;
        for (int s = 0; s < VG_ALERT_MAX_SAMPLES; s++)
            if (!has_nul(pa->samples[s], sizeof pa->samples[s]))
                return false;
    }
    return true;
}

int vg_models_restore(VgDetector *d, const void *data, size_t len, GError **err)
{
    VgModels *m = (VgModels *)d;
    VgSnapReader r;
    vg_snap_reader_init(&r, data, len);
    uint64_t magic = vg_snap_get_u64(&r), version = vg_snap_get_u64(&r);
    if (magic != SNAP_MAGIC || version != SNAP_VERSION) {
        g_set_error(err, VG_ERROR, VG_EINVAL,
                    magic == SNAP_MAGIC ? "models snapshot: format %" G_GUINT64_FORMAT
                                          " (another version of vigil); this one reads %u"
                                        : "models snapshot: not one",
                    version, SNAP_VERSION);
        return VG_EINVAL;
    }
    GByteArray *shape = g_byte_array_new();
    put_shape(shape, m);
    const uint8_t *theirs = vg_snap_view(&r, shape->len);
    bool same = theirs && !memcmp(theirs, shape->data, shape->len);
    g_byte_array_free(shape, TRUE);
    if (!same) {
        g_set_error(err, VG_ERROR, VG_EINVAL,
                    "models snapshot: made with another models config (or truncated)");
        return VG_EINVAL;
    }
    if (!m->conf.enabled) {
        if (!r.n)
            return VG_OK;
        g_set_error(err, VG_ERROR, VG_EINVAL, "models snapshot: trailing bytes");
        return VG_EINVAL;
    }
    /* a failed restore leaves part of a state: the detector must not look fresh after it */
    if (!is_fresh(m))
        clear_arrays(m);
    m->started = true;

    int64_t max_time = vg_snap_get_i64(&r);
    uint32_t next_due = (uint32_t)vg_snap_get_u64(&r);
    uint32_t first_bucket = (uint32_t)vg_snap_get_u64(&r);
    bool started = vg_snap_get_u64(&r) != 0;
    uint32_t last_sweep = (uint32_t)vg_snap_get_u64(&r);
    vg_snap_get(&r, &m->stats, sizeof m->stats);
    for (int k = 0; k < VG_MK__COUNT && !r.bad; k++)
        if (m->conf.kind[k].enabled && get_table(&r, &m->kind[k]))
            r.bad = !check_table(&m->kind[k].table);

    uint8_t *free_bits = g_new0(uint8_t, m->n_hll / 8 + 1);
    if (!r.bad && get_stack(&r, m->hll_free, &m->n_hll_free, m->n_hll, free_bits))
        get_runs(&r, m->hll, (size_t)m->n_hll * (sizeof(VgHll) / 8), 8);
    g_free(free_bits);
    free_bits = g_new0(uint8_t, m->n_samples / 8 + 1);
    if (!r.bad && get_stack(&r, m->sample_free, &m->n_sample_free, m->n_samples, free_bits))
        get_runs(&r, m->samples, m->n_samples, sizeof(VgSampleRec));
    g_free(free_bits);

    uint64_t n = vg_snap_get_u64(&r);
    if (n > m->cap_ep)
        r.bad = true;
    m->n_ep = 0;
    if (!r.bad && vg_snap_get(&r, m->ep_names, (size_t)n * sizeof(VgNameEndpoint)))
        m->n_ep = (uint32_t)n;
    if (!r.bad)
        get_runs(&r, m->ep_index, (size_t)m->ep_mask + 1, 8);
    n = vg_snap_get_u64(&r);
    if (r.bad || n > r.n / sizeof(VgPendingAlert))
        r.bad = true;
    g_array_set_size(m->pending, r.bad ? 0 : (guint)n);
    vg_snap_get(&r, m->pending->data, (size_t)m->pending->len * sizeof(VgPendingAlert));
    m->hq_n = 0;
    if (r.bad || r.n || !check_entries(m) || !check_names_and_alerts(m)) {
        g_set_error(err, VG_ERROR, VG_EINVAL, "models snapshot: truncated or corrupt");
        return VG_EINVAL;
    }
    m->max_time = max_time;
    m->next_due = next_due;
    m->first_bucket = first_bucket;
    m->started = started;
    m->last_sweep = last_sweep;
    return VG_OK;
}

/* model-table.c — the keyed state table: bounded memory, admission, eviction.
 *
 * Entries live in a dense pool of fixed-stride records that never move (so dirty lists and
 * snapshots can name them by index); a separate open-addressed index of 8-byte slots
 * (low 32 bits of the key hash, entry index + 1) finds them with linear probing at a load
 * of at most one half, and deletes by backward shift, so there are no tombstones to clean.
 * The pool size is fixed at creation from the memory budget: the table never grows.
 *
 * When the pool is full a new key must earn its place. Keys that are not in the table are
 * counted in a count-min sketch (4 rows of 8-bit counters, conservative update, halved
 * every `width` sightings: the TinyLFU scheme). The candidate victim is the weakest of 8
 * entries picked deterministically from the new key's hash — weakest meaning fewest active
 * buckets among its last 32, then least recently seen (a sampled least-recently-seen policy,
 * as Redis does). An entry idle for the TTL is always fair game; otherwise the newcomer
 * needs more recent sightings than the victim has active buckets. A flood of random keys
 * (each seen once) therefore bounces off a full table, while a real new client, seen a few
 * times, displaces the coldest entries — never the established heavy ones.
 *
 * Nothing here depends on the order in which different keys were seen beyond what the
 * input order already fixes, so the same input gives the same table.
 *
 * Memory: the pool and the index are tens of megabytes read at random, one or two cache
 * lines per key and event, so with 4 KiB pages nearly every look-up also misses the TLB.
 * They ask for transparent huge pages (madvise; a no-op where THP is off). The pool is
 * mapped directly so its pages stay untouched, and out of the RSS, until keys use them.
 */
#include "models/model-int.h"

#include <sys/mman.h>

#define MAX_LOAD_DEN 2 /* index load <= 1/2 */
#define N_VICTIMS    8

static uint64_t pow2_at_least(uint64_t x)
{
    uint64_t p = 1;
    while (p < x)
        p <<= 1;
    return p;
}

#define HUGE_PAGE ((size_t)2 << 20)

/* Huge pages for the 2 MiB-aligned part of [p, p + n). */
static void advise_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    uintptr_t e = ((uintptr_t)p + n) & ~(uintptr_t)(HUGE_PAGE - 1);
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

static size_t pool_map_size(size_t n)
{
    return (n + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

/* The entry pool: zeroed, 2 MiB-aligned, huge pages where the kernel gives them; pages are
 * touched only as entries are used. Aborts on out-of-memory, as g_malloc0 would. */
static uint8_t *pool_alloc(size_t n)
{
#ifdef VG_MODELS_FROM_HEAP
    return g_malloc0(n);
#endif
    size_t len = pool_map_size(n), over = len + HUGE_PAGE;
    uint8_t *p = mmap(NULL, over, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        g_error("model table: cannot map %zu bytes", over);
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
    size_t head = a - (uintptr_t)p;
    if (head)
        munmap(p, head);
    munmap((uint8_t *)a + len, HUGE_PAGE - head);
    /* as the index: a small pool is within the TLB's reach anyway, and a huge page would
     * put 2 MiB in the RSS at its first key (per kind and pipeline: with a pipeline per
     * Kafka partition, 8 MiB each before they hold anything) */
    if (n >= 2 * HUGE_PAGE)
        advise_huge((void *)a, len);
    return (uint8_t *)a;
}

static uint64_t *index_alloc(size_t slots)
{
    uint64_t *x = g_new0(uint64_t, slots);
    if (slots * 8 >= 2 * HUGE_PAGE)
        advise_huge(x, slots * 8);
    return x;
}

static size_t bytes_for(uint32_t stride, uint64_t n)
{
    uint64_t idx = pow2_at_least(n * MAX_LOAD_DEN);
    uint64_t cms = pow2_at_least(n < 4096 ? 4096 : n);
    /* entries, free list, index, sketch, and three live dirty lists of up to n entries */
    return n * stride + n * 4 + idx * 8 + 4 * cms + 3 * n * 4;
}

void vg_table_free_push(VgModelTable *t, uint32_t i)
{
    if (t->n_list == t->list_cap) {
        t->list_cap = MIN(MAX(t->list_cap * 2, 256u), t->n_entries);
        t->free_list = g_renew(uint32_t, t->free_list, t->list_cap);
    }
    t->free_list[t->n_list++] = i;
    t->n_free++;
}

uint32_t vg_table_free_pop(VgModelTable *t)
{
    t->n_free--;
    if (t->n_list)
        return t->free_list[--t->n_list];
    return t->n_entries - t->n_fresh--;
}

void vg_table_init(VgModelTable *t, uint32_t stride, size_t budget)
{
    memset(t, 0, sizeof *t);
    t->stride = stride;
    uint64_t n = budget / (stride + 16);
    while (n > 16 && bytes_for(stride, n) > budget)
        n -= n / 32 + 1;
    if (n < 16)
        n = 16;
    if (n > UINT32_MAX / 4)
        n = UINT32_MAX / 4;
    t->n_entries = (uint32_t)n;
    t->entries = pool_alloc((size_t)n * stride);
    t->n_fresh = t->n_free = (uint32_t)n; /* pop order: entry 0 first */
    /* the index starts small and doubles with the live keys (up to what the pool needs):
     * a compact index stays in cache, which is most of the cost of a look-up */
    uint64_t idx = pow2_at_least(n * MAX_LOAD_DEN);
    t->index_max = (uint32_t)(idx - 1);
    if (idx > 4096)
        idx = 4096;
    t->index = index_alloc(idx);
    t->index_mask = (uint32_t)(idx - 1);
    uint64_t w = pow2_at_least(n < 4096 ? 4096 : n);
    t->cms = vg_models_zalloc(4 * w); /* mapped: pages come as keys are sighted */
    t->cms_mask = (uint32_t)(w - 1);
    for (int i = 0; i < 4; i++)
        t->dirty[i].bucket = VG_NO_BUCKET;
    t->admit_min = 2;
}

void vg_table_destroy(VgModelTable *t)
{
#ifdef VG_MODELS_FROM_HEAP
    g_free(t->entries);
#else
    if (t->entries)
        munmap(t->entries, pool_map_size((size_t)t->n_entries * t->stride));
#endif
    g_free(t->free_list);
    g_free(t->index);
    vg_models_zfree(t->cms, 4 * ((size_t)t->cms_mask + 1));
    for (int i = 0; i < 4; i++)
        g_free(t->dirty[i].idx);
    memset(t, 0, sizeof *t);
}

size_t vg_table_bytes(const VgModelTable *t)
{
    size_t b = (size_t)t->n_entries * t->stride + (size_t)t->n_entries * 4 +
               ((size_t)t->index_max + 1) * 8 + 4 * ((size_t)t->cms_mask + 1);
    for (int i = 0; i < 4; i++)
        b += (size_t)t->dirty[i].cap * 4;
    return b;
}

uint32_t vg_table_find(const VgModelTable *t, uint64_t hash, uint32_t fp)
{
    uint32_t lo = (uint32_t)hash;
    for (uint32_t p = lo & t->index_mask;; p = (p + 1) & t->index_mask) {
        uint64_t s = t->index[p];
        if (!s)
            return UINT32_MAX;
        if ((uint32_t)(s >> 32) == lo) {
            uint32_t i = (uint32_t)s - 1;
            const VgEntryHead *e = vg_table_entry(t, i);
            if (e->hash == hash && e->fp == fp)
                return i;
        }
    }
}

unsigned vg_table_sighting(VgModelTable *t, uint64_t hash)
{
    uint32_t w = t->cms_mask + 1;
    uint8_t *c[4];
    unsigned min = 255;
    for (int r = 0; r < 4; r++) {
        c[r] = vg_table_cms_counter(t, hash, r); /* (the same the prefetch asks for) */
        if (*c[r] < min)
            min = *c[r];
    }
    if (min < 255) {
        for (int r = 0; r < 4; r++) /* conservative update */
            if (*c[r] == min)
                (*c[r])++;
        min++;
    }
    if (++t->cms_adds >= w) {
        for (size_t i = 0; i < (size_t)4 * w; i++)
            t->cms[i] >>= 1;
        t->cms_adds = 0;
    }
    return min;
}

static int entry_score(const VgEntryHead *e, uint32_t now, uint32_t ttl)
{
    uint32_t age = now > e->last_active ? now - e->last_active : 0;
    if (age >= ttl && e->slot_bucket == VG_NO_BUCKET)
        return -1;
    uint32_t shift = now > e->closed ? now - e->closed : 0;
    uint32_t bits = shift >= 32 ? 0 : e->activity << shift;
    return __builtin_popcount(bits) + (e->slot_bucket != VG_NO_BUCKET);
}

static void index_put(VgModelTable *t, uint64_t slot)
{
    uint32_t p = (uint32_t)(slot >> 32) & t->index_mask;
    while (t->index[p])
        p = (p + 1) & t->index_mask;
    t->index[p] = slot;
}

static void index_grow(VgModelTable *t)
{
    uint64_t *old = t->index;
    uint32_t old_n = t->index_mask + 1;
    t->index_mask = 2 * old_n - 1;
    t->index = index_alloc((size_t)t->index_mask + 1);
    for (uint32_t i = 0; i < old_n; i++)
        if (old[i])
            index_put(t, old[i]);
    g_free(old);
}

static void index_insert(VgModelTable *t, uint64_t hash, uint32_t i)
{
    if ((uint64_t)(t->n_live + 1) * MAX_LOAD_DEN > (uint64_t)t->index_mask + 1 &&
        t->index_mask < t->index_max)
        index_grow(t);
    uint32_t lo = (uint32_t)hash;
    uint32_t p = lo & t->index_mask;
    while (t->index[p])
        p = (p + 1) & t->index_mask;
    t->index[p] = ((uint64_t)lo << 32) | (i + 1);
}

void vg_table_remove(VgModelTable *t, uint32_t i)
{
    VgEntryHead *e = vg_table_entry(t, i);
    uint32_t lo = (uint32_t)e->hash;
    uint32_t p = lo & t->index_mask;
    while (t->index[p] && (uint32_t)t->index[p] != i + 1)
        p = (p + 1) & t->index_mask;
    if (t->index[p]) {
        /* backward shift: pull later members of the run into the hole when their home
         * position allows it */
        uint32_t k = p;
        for (;;) {
            k = (k + 1) & t->index_mask;
            uint64_t s = t->index[k];
            if (!s)
                break;
            uint32_t home = (uint32_t)(s >> 32) & t->index_mask;
            if (((k - home) & t->index_mask) >= ((k - p) & t->index_mask)) {
                t->index[p] = s;
                p = k;
            }
        }
        t->index[p] = 0;
    }
    memset(e, 0, t->stride);
    e->slot_bucket = VG_NO_BUCKET;
    vg_table_free_push(t, i);
    t->n_live--;
}

uint32_t vg_table_admit(VgModelTable *t, uint64_t hash, uint32_t fp, unsigned freq, uint32_t now,
                        uint32_t ttl, VgEvictFn on_evict, void *user)
{
    uint32_t i;
    if (!t->n_free) {
        uint32_t victim = UINT32_MAX;
        int vscore = INT32_MAX;
        uint32_t vseen = UINT32_MAX;
        uint64_t x = hash;
        for (int k = 0; k < N_VICTIMS; k++) {
            x = x * 0xd1342543de82ef95ull + 1; /* LCG: a deterministic sample */
            uint32_t c = (uint32_t)(((x >> 32) * (uint64_t)t->n_entries) >> 32);
            const VgEntryHead *e = vg_table_entry(t, c);
            int s = entry_score(e, now, ttl);
            if (s < vscore || (s == vscore && e->last_active < vseen)) {
                victim = c;
                vscore = s;
                vseen = e->last_active;
            }
        }
        if (vscore >= 0 && (freq < t->admit_min || (int)freq <= vscore)) {
            t->rejected++;
            return UINT32_MAX;
        }
        if (on_evict)
            on_evict(user, victim);
        if (vscore < 0)
            t->expired++;
        else
            t->evicted++;
        vg_table_remove(t, victim);
    }
    i = vg_table_free_pop(t);
    if (i >= t->high)
        t->high = i + 1;
    VgEntryHead *e = vg_table_entry(t, i);
    memset(e, 0, t->stride);
    e->hash = hash;
    e->fp = fp;
    e->slot_bucket = VG_NO_BUCKET;
    e->created = now;
    e->closed = now - 1;
    e->last_active = now;
    index_insert(t, hash, i);
    t->n_live++;
    t->admitted++;
    return i;
}

void vg_table_dirty(VgModelTable *t, uint32_t i, uint32_t b)
{
    VgDirtyList *l = &t->dirty[b & 3];
    if (l->bucket != b) {
        l->bucket = b;
        l->n = 0;
    }
    if (l->n == UINT32_MAX)
        return; /* overflowed: the close walks every entry */
    if (l->n == l->cap) {
        if (l->cap >= t->n_entries) {
            /* more opens than entries (churn under eviction): stop listing */
            l->n = UINT32_MAX;
            return;
        }
        l->cap = l->cap ? l->cap * 2 : 1024;
        if (l->cap > t->n_entries)
            l->cap = t->n_entries;
        l->idx = g_renew(uint32_t, l->idx, l->cap);
    }
    l->idx[l->n++] = i;
}

/* correlation-snapshot.c — the open windows of correlation rules as bytes, and back.
 *
 * A checkpoint (engine/checkpoint.c) must carry the correlation state, or a restart
 * forgets every attack in progress. What identifies a rule's state across processes is
 * what keeps it across a reload (correlation-reload.c): the rule's id and the digest of
 * its whole document. So a snapshot is a list of sections, one per rule that has groups,
 * each headed by (id, digest, state kind, geometry) and its length in bytes; restoring
 * into a freshly built set finds each rule by id and digest, and a section whose rule is
 * gone or changed is skipped whole (counted), never misread: the new rule starts empty,
 * exactly as after a reload.
 *
 * Inside a section every group is written with its key, its window scalars and the bytes
 * of its state kind (correlation-window.c), each length checked against what the rule
 * implies before anything is copied: a corrupt or foreign snapshot is an error, never a
 * crash or a group whose state the window code would misread (an exact distinct set
 * whose count does not match its slots would make the open-addressing probe loop
 * forever, so that is checked too). Groups keep their last-use stamps, so eviction picks
 * the same victims as the original would have.
 */
#include "engine/snap.h"
#include "rules/correlation-set.h"

#define SNAP_MAGIC   0x53434756u /* "VGCS" */
#define SNAP_VERSION 1u
#define MAX_ID       4096
#define MAX_KEY      (1u << 20)

static void put_group(GByteArray *o, const CorrRuleState *rs, const CorrGroup *g)
{
    vg_snap_put_bytes(o, g->key, g->key_len);
    vg_snap_put_u64(o, g->touch);
    vg_snap_put_i64(o, g->first_ms);
    vg_snap_put_i64(o, g->last_ms);
    vg_snap_put_i64(o, g->quiet_until);
    vg_snap_put_i64(o, g->count);
    vg_snap_put_f64(o, g->sum);
    switch (rs->state) {
    case CORR_ST_TIMES:
        vg_snap_put_u64(o, g->u.times.n);
        vg_snap_put(o, g->u.times.t, (size_t)g->u.times.n * sizeof(int64_t));
        break;
    case CORR_ST_RECENT:
        vg_snap_put_u64(o, g->u.recent.n);
        for (uint32_t i = 0; i < g->u.recent.n; i++) {
            vg_snap_put_u64(o, g->u.recent.e[i].h);
            vg_snap_put_i64(o, g->u.recent.e[i].t);
        }
        break;
    case CORR_ST_SLIDE_HLL:
        vg_snap_put_i64(o, g->u.slide.w);
        vg_snap_put_i64(o, g->u.slide.span);
        for (int i = 0; i < VG_CORR_SLIDE_HLLS; i++)
            vg_snap_put_i64(o, g->u.slide.id[i]);
        vg_snap_put(o, g->u.slide.reg, VG_CORR_SLIDE_BYTES);
        break;
    case CORR_ST_BUCKETS:
        vg_snap_put_u64(o, g->u.buckets.nb);
        vg_snap_put_i64(o, g->u.buckets.w);
        vg_snap_put_i64(o, g->u.buckets.span);
        for (uint32_t i = 0; i < g->u.buckets.nb; i++) {
            vg_snap_put_i64(o, g->u.buckets.b[i].id);
            vg_snap_put_i64(o, g->u.buckets.b[i].count);
            vg_snap_put_f64(o, g->u.buckets.b[i].sum);
        }
        break;
    case CORR_ST_LAST:
        vg_snap_put(o, g->u.last, (size_t)rs->r->n_refs * sizeof(int64_t));
        break;
    case CORR_ST_DISTINCT:
        if (g->u.distinct.hll) {
            vg_snap_put_u64(o, 2);
            vg_snap_put(o, g->u.distinct.hll, VG_CORR_HLL_M);
        } else if (g->u.distinct.slot) {
            vg_snap_put_u64(o, 1);
            vg_snap_put_u64(o, g->u.distinct.n);
            vg_snap_put(o, g->u.distinct.slot, VG_CORR_DISTINCT_SLOTS * sizeof(uint64_t));
        } else {
            vg_snap_put_u64(o, 0);
        }
        break;
    case CORR_ST_TOTALS:
        break;
    }
}

int vg_corr_set_snapshot(const VgCorrSet *s, GByteArray *out)
{
    vg_snap_put_u64(out, SNAP_MAGIC);
    vg_snap_put_u64(out, SNAP_VERSION);
    int n = 0;
    for (int i = 0; s && i < s->n_rules; i++)
        n += s->rules[i].head != NULL;
    vg_snap_put_u64(out, (uint64_t)n);
    vg_snap_put_u64(out, s ? s->touch : 0);
    vg_snap_put_bytes(out, s ? &s->stats : NULL, s ? sizeof s->stats : 0);
    for (int i = 0; s && i < s->n_rules; i++) {
        const CorrRuleState *rs = &s->rules[i];
        if (!rs->head)
            continue;
        vg_snap_put_str(out, vg_corr_rule_id(rs->r));
        vg_snap_put_u64(out, rs->r->digest);
        vg_snap_put_u64(out, (uint64_t)rs->state);
        vg_snap_put_u64(out, (uint64_t)rs->k);
        vg_snap_put_u64(out, (uint64_t)rs->r->n_refs);
        vg_snap_put_i64(out, rs->r->timespan_ms);
        guint at = out->len;
        vg_snap_put_u64(out, 0); /* section length, patched below */
        vg_snap_put_u64(out, (uint64_t)rs->n_groups);
        for (const CorrGroup *g = vg_corr_first_by_use(rs); g; g = vg_corr_next_by_use(rs, g))
            put_group(out, rs, g);
        uint64_t len = out->len - at - sizeof(uint64_t);
        memcpy(out->data + at, &len, sizeof len);
    }
    return VG_OK;
}

/* Reads one group of rule ri into a new group of s. False when the bytes are bad. */
static bool get_group(VgCorrSet *s, int ri, VgSnapReader *r)
{
    CorrRuleState *rs = &s->rules[ri];
    const VgCorrRule *rule = rs->r;
    size_t key_len;
    const uint8_t *key = vg_snap_get_bytes(r, MAX_KEY, &key_len);
    uint64_t touch = vg_snap_get_u64(r);
    int64_t first = vg_snap_get_i64(r), last = vg_snap_get_i64(r);
    int64_t quiet = vg_snap_get_i64(r), count = vg_snap_get_i64(r);
    double sum = vg_snap_get_f64(r);
    if (r->bad)
        return false;
    bool created;
    CorrGroup *g = vg_corr_group_get(s, ri, (const char *)key, (uint32_t)key_len, first, &created);
    if (!g || !created)
        return false; /* a duplicate key, or no room left: the snapshot is not one we made */
    g->touch = touch;
    g->first_ms = first;
    g->last_ms = last;
    g->quiet_until = quiet;
    g->count = count;
    g->sum = sum;
    switch (rs->state) {
    case CORR_ST_TIMES: {
        uint64_t n = vg_snap_get_u64(r);
        if (n > g->u.times.k)
            return false;
        if (!vg_snap_get(r, g->u.times.t, (size_t)n * sizeof(int64_t)))
            return false;
        for (uint64_t i = 1; i < n; i++)
            if (g->u.times.t[i] < g->u.times.t[i - 1])
                return false; /* the ring is kept sorted */
        g->u.times.n = (uint32_t)n;
        break;
    }
    case CORR_ST_RECENT: {
        uint64_t n = vg_snap_get_u64(r);
        if (n > g->u.recent.k)
            return false;
        for (uint64_t i = 0; i < n; i++) {
            g->u.recent.e[i].h = vg_snap_get_u64(r);
            g->u.recent.e[i].t = vg_snap_get_i64(r);
        }
        g->u.recent.n = (uint32_t)n;
        break;
    }
    case CORR_ST_SLIDE_HLL: {
        int64_t w = vg_snap_get_i64(r), span = vg_snap_get_i64(r);
        if (w != g->u.slide.w || span != g->u.slide.span)
            return false;
        for (int i = 0; i < VG_CORR_SLIDE_HLLS; i++)
            g->u.slide.id[i] = vg_snap_get_i64(r);
        vg_snap_get(r, g->u.slide.reg, VG_CORR_SLIDE_BYTES);
        break;
    }
    case CORR_ST_BUCKETS: {
        uint64_t nb = vg_snap_get_u64(r);
        int64_t w = vg_snap_get_i64(r), span = vg_snap_get_i64(r);
        if (nb != g->u.buckets.nb || w != g->u.buckets.w || span != g->u.buckets.span)
            return false;
        for (uint32_t i = 0; i < g->u.buckets.nb; i++) {
            g->u.buckets.b[i].id = vg_snap_get_i64(r);
            g->u.buckets.b[i].count = vg_snap_get_i64(r);
            g->u.buckets.b[i].sum = vg_snap_get_f64(r);
        }
        break;
    }
    case CORR_ST_LAST:
        vg_snap_get(r, g->u.last, (size_t)rule->n_refs * sizeof(int64_t));
        break;
    case CORR_ST_DISTINCT: {
        uint64_t mode = vg_snap_get_u64(r);
        size_t before = g->a.cap + g->b.cap;
        if (mode == 1) {
            uint64_t n = vg_snap_get_u64(r);
            const uint8_t *v = vg_snap_view(r, VG_CORR_DISTINCT_SLOTS * sizeof(uint64_t));
            if (!v || n > VG_CORR_EXACT_MAX)
                return false;
            uint64_t *slot = vg_corr_buf_need(&g->a, VG_CORR_DISTINCT_SLOTS * sizeof(uint64_t));
            memcpy(slot, v, VG_CORR_DISTINCT_SLOTS * sizeof(uint64_t));
            uint64_t used = 0;
            for (uint32_t i = 0; i < VG_CORR_DISTINCT_SLOTS; i++)
                used += slot[i] != 0;
            g->u.distinct.slot = slot;
            g->u.distinct.n = (uint32_t)n;
            if (used != n)
                return false; /* the probe loop relies on free slots being there */
        } else if (mode == 2) {
            const uint8_t *v = vg_snap_view(r, VG_CORR_HLL_M);
            if (!v)
                return false;
            g->u.distinct.hll = vg_corr_buf_need(&g->b, VG_CORR_HLL_M);
            memcpy(g->u.distinct.hll, v, VG_CORR_HLL_M);
        } else if (mode != 0) {
            return false;
        }
        s->bytes += (int64_t)(g->a.cap + g->b.cap) - (int64_t)before;
        break;
    }
    case CORR_ST_TOTALS:
        break;
    }
    return !r->bad;
}

static int find_rule(const VgCorrSet *s, const uint8_t *id, size_t id_len, uint64_t digest)
{
    for (int i = 0; i < s->n_rules; i++) {
        const VgCorrRule *r = s->rules[i].r;
        const char *rid = vg_corr_rule_id(r);
        if (r->digest == digest && strlen(rid) == id_len && !memcmp(rid, id, id_len))
            return i;
    }
    return -1;
}

int vg_corr_set_restore(VgCorrSet *s, const void *data, size_t len, int *dropped, GError **err)
{
    VgSnapReader r;
    vg_snap_reader_init(&r, data, len);
    int skipped = 0;
    const char *why = "truncated or corrupt";
    if (dropped)
        *dropped = 0;
    if (vg_snap_get_u64(&r) != SNAP_MAGIC || vg_snap_get_u64(&r) != SNAP_VERSION) {
        g_set_error(err, VG_ERROR, VG_EINVAL,
                    "correlation snapshot: not one, or made by another version of vigil");
        return VG_EINVAL;
    }
    if (s->n_groups) {
        g_set_error(err, VG_ERROR, VG_EINVAL, "correlation snapshot: the set is not fresh");
        return VG_EINVAL;
    }
    uint64_t n_sections = vg_snap_get_u64(&r);
    uint64_t touch = vg_snap_get_u64(&r);
    size_t stats_len;
    const uint8_t *stats = vg_snap_get_bytes(&r, sizeof s->stats, &stats_len);
    if (stats_len != sizeof s->stats)
        r.bad = true;
    for (uint64_t i = 0; i < n_sections && !r.bad; i++) {
        size_t id_len;
        const uint8_t *id = vg_snap_get_bytes(&r, MAX_ID, &id_len);
        uint64_t digest = vg_snap_get_u64(&r), state = vg_snap_get_u64(&r);
        uint64_t k = vg_snap_get_u64(&r), n_refs = vg_snap_get_u64(&r);
        int64_t span = vg_snap_get_i64(&r);
        size_t sec_len;
        const uint8_t *sec = vg_snap_get_bytes(&r, SIZE_MAX, &sec_len);
        if (r.bad)
            break;
        int ri = find_rule(s, id, id_len, digest);
        if (ri >= 0) {
            const CorrRuleState *rs = &s->rules[ri];
            if ((uint64_t)rs->state != state || (uint64_t)rs->k != k ||
                (uint64_t)rs->r->n_refs != n_refs || rs->r->timespan_ms != span)
                ri = -1; /* same document, other build: its state means something else */
        }
        if (ri < 0) {
            skipped++;
            continue;
        }
        VgSnapReader sr;
        vg_snap_reader_init(&sr, sec, sec_len);
        uint64_t n_groups = vg_snap_get_u64(&sr);
        for (uint64_t j = 0; j < n_groups && !sr.bad; j++) {
            if (!get_group(s, ri, &sr)) {
                sr.bad = true;
                why = "a group's state does not fit its rule";
            }
        }
        if (sr.bad || sr.n)
            r.bad = true;
    }
    if (r.bad || r.n) {
        vg_corr_set_clear_groups(s);
        g_set_error(err, VG_ERROR, VG_EINVAL, "correlation snapshot: %s", why);
        return VG_EINVAL;
    }
    memcpy(&s->stats, stats, sizeof s->stats); /* after the groups, whose creation counts */
    if (touch > s->touch)
        s->touch = touch;
    if (dropped)
        *dropped = skipped;
    return VG_OK;
}

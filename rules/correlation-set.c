/* correlation-set.c — the running correlation rules: references, groups, windows, firing.
 *
 * A VgCorrSet is built once from the parsed rules. Building resolves every `rules:` entry
 * to a detection rule index or to another correlation (chains), rejects cycles, orders the
 * correlations children-first, and compiles for each (rule, referenced rule) pair the
 * fields to read: group-by names go through `aliases`, then to a canonical field id
 * (vg_field_resolve) or a dotted path for vg_event_lookup; for a chained reference, a
 * group-by name the child also groups by is read from the child's group instead of the
 * event. Nothing is resolved per event.
 *
 * Two ways to judge a window, chosen per rule from its condition:
 *  - sliding: a condition with only lower bounds (gt, gte; temporal without condition) can
 *    become true only when an event arrives, so it is checked on every event against the
 *    window [t - timespan, t] ending at the group's newest event. After a group fires it
 *    stays quiet until a window that does not overlap the one that fired (t > fire time
 *    + timespan): one alert per window crossing, and a sustained attack gives one alert
 *    per timespan rather than one per event.
 *  - closed: anything with an upper bound (lt, lte, eq, neq, ranges) can only be judged
 *    when the window is over. The window then starts at the group's first event, covers
 *    [first, first + timespan], and is judged when the watermark passes its end (or at
 *    finish()); the next event starts a new window.
 *
 * Groups (one per rule and group-by values) live in one index (below), and per rule in a list
 * ordered by last use. A sliding group used again is not moved to the list's tail then (that
 * would write its two neighbours, cache misses on every event): it is only marked moved_on,
 * and whoever walks the list from its head (expiry, eviction) moves marked groups to the
 * tail as it meets them; the first unmarked group is then the least recently used one
 * (groups moved in one walk keep their earlier order among themselves, a CLOCK-like
 * approximation). Snapshots and reloads list the groups in that order too.
 * Every group is bounded (correlation-window.c); their number is
 * bounded by VgCorrLimits: a new group beyond the limit evicts the least recently used
 * group of any rule (counted). Groups whose window can no longer hold anything (last event
 * older than watermark - timespan) are dropped as the watermark advances. Released groups
 * keep their buffers on a short free list, so a warm set allocates nothing per event.
 *
 * Time is event time only: events flagged late are ignored (counted), and nothing here
 * reads a clock. A set is used by one thread.
 */
#include "rules/correlation-set.h"

#include <math.h>
#include <stdio.h>

#define FREE_LIST_MAX 1024

/* ---- groups ---- */

/* The index holds every group: slots of (hash, group) at most half full, probed linearly
 * from the hash; a slot's hash rejects most other groups without reading them. A group's
 * hash covers its rule and key, so groups of different rules never compare equal. */
#define INDEX_MIN 64

static uint64_t group_hash(int rule, const char *key, uint32_t key_len)
{
    return vg_hash64(key, key_len, 0xc0441e7a7e5ull + (uint64_t)rule);
}

void vg_corr_index_init(VgCorrSet *s)
{
    s->index = g_new0(CorrSlot, INDEX_MIN);
    s->index_mask = INDEX_MIN - 1;
    s->index_n = 0;
}

static CorrGroup *index_find(const VgCorrSet *s, uint64_t hash, int rule, const char *key,
                             uint32_t key_len)
{
    for (uint32_t i = (uint32_t)hash & s->index_mask;; i = (i + 1) & s->index_mask) {
        const CorrSlot *sl = &s->index[i];
        if (!sl->g)
            return NULL;
        const CorrGroup *g = sl->g;
        if (sl->hash == hash && g->rule == (uint32_t)rule && g->key_len == key_len &&
            memcmp(g->key, key, key_len) == 0)
            return sl->g;
    }
}

static void index_put(CorrSlot *slots, uint32_t mask, uint64_t hash, CorrGroup *g)
{
    uint32_t i = (uint32_t)hash & mask;
    while (slots[i].g)
        i = (i + 1) & mask;
    slots[i].hash = hash;
    slots[i].g = g;
}

static void index_add(VgCorrSet *s, CorrGroup *g)
{
    if ((s->index_n + 1) * 2 > s->index_mask + 1) {
        uint32_t mask = s->index_mask * 2 + 1;
        CorrSlot *slots = g_new0(CorrSlot, (gsize)mask + 1);
        for (uint32_t i = 0; i <= s->index_mask; i++)
            if (s->index[i].g)
                index_put(slots, mask, s->index[i].hash, s->index[i].g);
        g_free(s->index);
        s->index = slots;
        s->index_mask = mask;
    }
    index_put(s->index, s->index_mask, g->hash, g);
    s->index_n++;
}

/* Removes g and moves later slots of its probe run back, so no look-up stops early. */
static void index_remove(VgCorrSet *s, const CorrGroup *g)
{
    uint32_t mask = s->index_mask, i = (uint32_t)g->hash & mask;
    while (s->index[i].g != g)
        i = (i + 1) & mask;
    for (uint32_t j = i;;) {
        s->index[i].g = NULL;
        for (;;) {
            j = (j + 1) & mask;
            if (!s->index[j].g) {
                s->index_n--;
                return;
            }
            /* the entry at j may fill the hole at i if its home slot is not in (i, j] */
            uint32_t home = (uint32_t)s->index[j].hash & mask;
            if (((j - home) & mask) >= ((j - i) & mask))
                break;
        }
        s->index[i] = s->index[j];
        i = j;
    }
}

void vg_corr_group_free(CorrGroup *g)
{
    vg_corr_buf_free(&g->a);
    vg_corr_buf_free(&g->b);
    if (g->key != g->key_inline)
        g_free(g->key);
    g_free(g);
}

static size_t group_bytes(const CorrGroup *g)
{
    return sizeof(*g) + g->a.cap + g->b.cap + g->key_cap;
}

/* The head of rs changed or was used: the next expiry walks its list again. */
static inline void walk_again(VgCorrSet *s, CorrRuleState *rs)
{
    rs->live_until = INT64_MIN;
    s->live_until = INT64_MIN;
}

static void list_unlink(VgCorrSet *s, CorrRuleState *rs, CorrGroup *g)
{
    if (g == rs->head)
        walk_again(s, rs);
    if (g->prev)
        g->prev->next = g->next;
    else
        rs->head = g->next;
    if (g->next)
        g->next->prev = g->prev;
    else
        rs->tail = g->prev;
    g->prev = g->next = NULL;
}

static void list_append(VgCorrSet *s, CorrRuleState *rs, CorrGroup *g)
{
    g->moved_on = false;
    g->prev = rs->tail;
    g->next = NULL;
    if (rs->tail) {
        rs->tail->next = g;
    } else {
        rs->head = g;
        walk_again(s, rs);
    }
    rs->tail = g;
}

void vg_corr_group_release(VgCorrSet *s, CorrGroup *g)
{
    CorrRuleState *rs = &s->rules[g->rule];
    index_remove(s, g);
    list_unlink(s, rs, g);
    rs->n_groups--;
    s->n_groups--;
    if (s->n_free < FREE_LIST_MAX) {
        g->next = s->free_list;
        s->free_list = g;
        s->n_free++;
        return;
    }
    s->bytes -= (int64_t)group_bytes(g);
    vg_corr_group_free(g);
}

/* The group at the head of a sliding list that was not used since it took its place: the
 * rule's least recently used one. The ones used since move to the tail on the way. */
static CorrGroup *lru_head(VgCorrSet *s, CorrRuleState *rs)
{
    CorrGroup *g;
    while ((g = rs->head) && g->moved_on) {
        list_unlink(s, rs, g);
        list_append(s, rs, g);
    }
    return g;
}

/* The groups of rs in order of last use, as lru_head() would meet them: the list's order,
 * except that the groups used again since they took their place come after the others. */
static const CorrGroup *skip_to(const CorrGroup *g, bool moved_on)
{
    while (g && g->moved_on != moved_on)
        g = g->next;
    return g;
}

const CorrGroup *vg_corr_first_by_use(const CorrRuleState *rs)
{
    const CorrGroup *g = skip_to(rs->head, false);
    return g ? g : skip_to(rs->head, true);
}

const CorrGroup *vg_corr_next_by_use(const CorrRuleState *rs, const CorrGroup *g)
{
    const CorrGroup *n = skip_to(g->next, g->moved_on);
    return n || g->moved_on ? n : skip_to(rs->head, true);
}

/* Evicts the least recently used group that is not busy (pinned by a firing in
 * progress). Returns false if there is none. */
static bool evict_one(VgCorrSet *s)
{
    CorrGroup *victim = NULL;
    for (int i = 0; i < s->n_rules; i++) {
        CorrGroup *g = s->rules[i].sliding ? lru_head(s, &s->rules[i]) : s->rules[i].head;
        /* A pinned head after lru_head() is a group created by the event being fed (a group
         * used again is marked, so lru_head() moved it on): it was the tail, so what
         * follows it now was moved by lru_head(), unmarked, in order of use. (A firing
         * feeds other rules only, so nothing here was marked since.) */
        while (g && g->pinned)
            g = g->next;
        if (g && (!victim || g->touch < victim->touch))
            victim = g;
    }
    if (!victim)
        return false;
    s->stats.evicted++;
    vg_corr_group_release(s, victim);
    return true;
}

/* (Re)starts the window state of g for its rule. */
static void group_reset(VgCorrSet *s, CorrGroup *g, int64_t t)
{
    const CorrRuleState *rs = &s->rules[g->rule];
    const VgCorrRule *r = rs->r;
    size_t before = g->a.cap + g->b.cap;
    g->first_ms = g->last_ms = t;
    g->count = 0;
    g->sum = 0;
    memset(&g->u, 0, sizeof g->u);
    switch (rs->state) {
    case CORR_ST_TIMES:
        g->u.times.t = vg_corr_buf_need(&g->a, (size_t)rs->k * sizeof(int64_t));
        g->u.times.k = (uint32_t)rs->k;
        break;
    case CORR_ST_RECENT:
        g->u.recent.e = vg_corr_buf_need(&g->a, (size_t)rs->k * sizeof(VgCorrSeen));
        g->u.recent.k = (uint32_t)rs->k;
        break;
    case CORR_ST_BUCKETS: {
        int64_t w;
        uint32_t nb;
        vg_corr_buckets_geometry(r->timespan_ms, &w, &nb);
        g->u.buckets.b = vg_corr_buf_need(&g->a, nb * sizeof(VgCorrBucket));
        vg_corr_buckets_init(&g->u.buckets, r->timespan_ms);
        break;
    }
    case CORR_ST_SLIDE_HLL:
        vg_corr_slide_init(&g->u.slide, vg_corr_buf_need(&g->a, VG_CORR_SLIDE_BYTES),
                           r->timespan_ms);
        break;
    case CORR_ST_LAST:
        g->u.last = vg_corr_buf_need(&g->a, (size_t)r->n_refs * sizeof(int64_t));
        for (int i = 0; i < r->n_refs; i++)
            g->u.last[i] = INT64_MIN;
        break;
    case CORR_ST_DISTINCT:
    case CORR_ST_TOTALS:
        break;
    }
    s->bytes += (int64_t)(g->a.cap + g->b.cap) - (int64_t)before;
}

/* vg_corr_group_get (below) with hash = group_hash(rule, key) already made. */
static CorrGroup *group_get_hashed(VgCorrSet *s, int rule, const char *key, uint32_t key_len,
                                   uint64_t hash, int64_t t, bool *created)
{
    CorrGroup *g = index_find(s, hash, rule, key, key_len);
    *created = false;
    if (g)
        return g;
    while (s->n_groups >= s->max_groups || s->bytes > s->max_bytes)
        if (!evict_one(s))
            break;
    if (s->free_list) {
        g = s->free_list;
        s->free_list = g->next;
        s->n_free--;
        s->bytes -= (int64_t)g->key_cap;
    } else {
        g = g_new0(CorrGroup, 1);
        g->key = g->key_inline;
        s->bytes += (int64_t)sizeof(*g);
    }
    if (key_len + 1 > (g->key_cap ? g->key_cap : CORR_KEY_INLINE)) {
        if (g->key != g->key_inline)
            g_free(g->key);
        g->key_cap = key_len + 1;
        g->key = g_malloc(g->key_cap);
    }
    s->bytes += (int64_t)g->key_cap;
    memcpy(g->key, key, key_len);
    g->key[key_len] = '\0';
    g->key_len = key_len;
    g->hash = hash;
    g->rule = (uint32_t)rule;
    g->pinned = false;
    g->quiet_until = INT64_MIN;
    group_reset(s, g, t);
    index_add(s, g);
    list_append(s, &s->rules[rule], g);
    s->rules[rule].n_groups++;
    s->n_groups++;
    s->stats.groups_created++;
    *created = true;
    return g;
}

/* Finds or creates the group for (rule, key); NULL when the budget is spent by busy
 * groups only. *created tells a new group (its window starts at t). */
CorrGroup *vg_corr_group_get(VgCorrSet *s, int rule, const char *key, uint32_t key_len, int64_t t,
                             bool *created)
{
    return group_get_hashed(s, rule, key, key_len, group_hash(rule, key, key_len), t, created);
}

/* The i-th group-by value of a group ('\0'-separated in key). */
static VgStr group_value(const CorrGroup *g, int i)
{
    const char *p = g->key, *end = g->key + g->key_len;
    for (; i > 0 && p < end; i--)
        p += strlen(p) + 1;
    return p < end ? vg_str(p, strlen(p)) : vg_str(p, 0);
}

/* ---- reading fields ---- */

typedef struct {
    const VgEvent *ev;      /* NULL when a child fired at a window's close */
    const CorrGroup *child; /* the child's group, for chained references */
    int64_t time;
} CorrSource;

static bool read_field(const CorrGetter *gt, const CorrSource *src, VgArena *arena, VgValue *out)
{
    memset(out, 0, sizeof *out);
    if (gt->child >= 0 && src->child) {
        out->kind = VG_V_STR;
        out->s = group_value(src->child, gt->child);
        return true;
    }
    if (!src->ev)
        return false;
    if (gt->id != VG_F_EXTRA) {
        vg_event_get(src->ev, gt->id, out);
        return out->kind != VG_V_NONE && out->kind != VG_V_NULL;
    }
    return vg_event_lookup(src->ev, gt->name, gt->len, out, arena) && out->kind != VG_V_NULL;
}

/* Where a key or a value list is built: a GString (grows), or a fixed buffer that notes
 * when it is too small. */
typedef struct {
    GString *gs;
    char *buf;
    size_t len, cap;
    bool full;
} KeyOut;

static void key_add(KeyOut *o, const char *p, size_t n)
{
    if (o->gs) {
        g_string_append_len(o->gs, p, (gssize)n);
    } else if (o->len + n > o->cap) {
        o->full = true;
    } else {
        memcpy(o->buf + o->len, p, n);
        o->len += n;
    }
}

static const char *key_text(const KeyOut *o, size_t *len)
{
    *len = o->gs ? o->gs->len : o->len;
    return o->gs ? o->gs->str : o->buf;
}

/* Appends v, then the '\0' that ends every value. */
static void key_add_value(KeyOut *o, const VgValue *v)
{
    char num[40];
    int n = 0;
    switch (v->kind) {
    case VG_V_STR:
        key_add(o, v->s.p ? v->s.p : "", v->s.len);
        break;
    case VG_V_INT:
        n = g_snprintf(num, sizeof num, "%" G_GINT64_FORMAT, v->i);
        break;
    case VG_V_BOOL:
        n = g_snprintf(num, sizeof num, "%s", v->i ? "true" : "false");
        break;
    case VG_V_DOUBLE:
        n = g_snprintf(num, sizeof num, "%.17g", v->d);
        break;
    default:
        break;
    }
    if (n > 0)
        key_add(o, num, (size_t)n);
    key_add(o, "", 1);
}

static bool value_number(const VgValue *v, double *out)
{
    if (v->kind == VG_V_INT || v->kind == VG_V_BOOL) {
        *out = (double)v->i;
        return true;
    }
    if (v->kind == VG_V_DOUBLE) {
        *out = v->d;
        return isfinite(v->d);
    }
    if (v->kind != VG_V_STR || v->s.len == 0 || v->s.len > 63)
        return false;
    char tmp[64], *end;
    memcpy(tmp, v->s.p, v->s.len);
    tmp[v->s.len] = '\0';
    *out = g_ascii_strtod(tmp, &end);
    return *end == '\0' && isfinite(*out);
}

/* ---- an event's group key, for one correlation it feeds ---- */

typedef enum {
    KEY_LATER,     /* not worked out ahead (too long for the buffer): feed() does it */
    KEY_OK,        /* key, hash, and the value hash or number */
    KEY_UNGROUPED, /* a group-by field is missing: the event belongs to no group */
    KEY_NO_VALUE,  /* the counted or summed field is missing or not a number */
} KeyStatus;

typedef struct {
    KeyStatus status;
    uint32_t key_len;
    const char *key;
    uint64_t hash; /* group_hash() of rule and key */
    uint64_t vh;   /* value_count: hash of the counted values */
    double num;    /* value_sum, value_avg */
} CorrKey;

/* An event's keys for the correlations one detection rule feeds, in the order of its
 * listeners (vg_corr_set_keys). */
struct VgCorrKeys {
    int n;
    CorrKey k[];
};

/* The group-by values of src for correlation ri at position pos, into key; for value_count
 * the counted values into val, hashed into *vh; for value_sum and value_avg the number. */
static KeyStatus make_key(const VgCorrSet *s, int ri, int pos, const CorrSource *src,
                          VgArena *arena, KeyOut *key, KeyOut *val, uint64_t *vh, double *num)
{
    const VgCorrRule *r = s->rules[ri].r;
    const CorrGetter *get = s->rules[ri].get + (size_t)pos * (size_t)(r->n_group + r->n_fields);
    VgValue v;
    for (int i = 0; i < r->n_group; i++) {
        if (!read_field(&get[i], src, arena, &v))
            return KEY_UNGROUPED;
        key_add_value(key, &v);
    }
    *vh = 0;
    *num = 0;
    if (r->type == VG_CORR_VALUE_COUNT) {
        for (int i = 0; i < r->n_fields; i++) {
            if (!read_field(&get[r->n_group + i], src, arena, &v))
                return KEY_NO_VALUE;
            key_add_value(val, &v);
        }
        size_t n;
        const char *p = key_text(val, &n);
        *vh = vg_hash64(p, n, 0x7a1e5ull);
    } else if (r->type == VG_CORR_VALUE_SUM || r->type == VG_CORR_VALUE_AVG) {
        if (!read_field(&get[r->n_group], src, arena, &v) || !value_number(&v, num))
            return KEY_NO_VALUE;
    }
    return key->full || val->full ? KEY_LATER : KEY_OK;
}

#define KEY_AHEAD_MAX 256 /* longer keys (and counted values) are left to feed() */

const VgCorrKeys *vg_corr_set_keys(const VgCorrSet *s, int det_idx, const VgEvent *ev,
                                   VgArena *arena)
{
    if (!s || det_idx < 0 || det_idx >= s->n_det || !s->det_listeners[det_idx])
        return NULL;
    const GArray *ls = s->det_listeners[det_idx];
    VgCorrKeys *ks = vg_arena_alloc(arena, sizeof *ks + ls->len * sizeof(CorrKey));
    ks->n = (int)ls->len;
    CorrSource src = {ev, NULL, ev->time_ms};
    for (guint i = 0; i < ls->len; i++) {
        const CorrListener *l = &g_array_index(ls, CorrListener, i);
        CorrKey *k = &ks->k[i];
        char kb[KEY_AHEAD_MAX], vb[KEY_AHEAD_MAX];
        KeyOut ko = {.buf = kb, .cap = sizeof kb}, vo = {.buf = vb, .cap = sizeof vb};
        k->status = make_key(s, l->rule, l->pos, &src, arena, &ko, &vo, &k->vh, &k->num);
        if (k->status != KEY_OK)
            continue;
        char *key = vg_arena_alloc(arena, ko.len + 1);
        memcpy(key, kb, ko.len);
        key[ko.len] = '\0';
        k->key = key;
        k->key_len = (uint32_t)ko.len;
        k->hash = group_hash(l->rule, key, k->key_len);
    }
    return ks;
}

void vg_corr_keys_prefetch(const VgCorrKeys *ks)
{
    if (ks) /* (n is on the first line; most events feed one or two correlations) */
        vg_prefetch_range(ks, sizeof *ks + 2 * sizeof ks->k[0]);
}

void vg_corr_set_prefetch(const VgCorrSet *s, const VgCorrKeys *ks, int stage)
{
    if (!s || !ks)
        return;
    for (int i = 0; i < ks->n; i++) {
        const CorrKey *k = &ks->k[i];
        if (k->status != KEY_OK)
            continue;
        uint32_t at = (uint32_t)k->hash & s->index_mask;
        if (stage == 0) {
            vg_prefetch(&s->index[at]);
            continue;
        }
        /* the slot has arrived: the first group with the hash is almost always the one */
        for (;; at = (at + 1) & s->index_mask) {
            const CorrSlot *sl = &s->index[at];
            if (!sl->g)
                break;
            if (sl->hash == k->hash) {
                vg_prefetch_range(sl->g, sizeof *sl->g);
                break;
            }
        }
    }
}

/* ---- judging and firing ---- */

static void fire(VgCorrSet *s, CorrGroup *g, double observed, int64_t start, int64_t end,
                 int64_t when, const VgEvent *ev, VgDetectCtx *ctx);
static void feed(VgCorrSet *s, int ri, int pos, const CorrSource *src, const CorrKey *ahead,
                 VgDetectCtx *ctx);

/* What a closed window amounts to, in the unit of the rule's condition. */
static double closed_observed(const CorrRuleState *rs, const CorrGroup *g)
{
    const VgCorrRule *r = rs->r;
    switch (r->type) {
    case VG_CORR_EVENT_COUNT:
        return (double)g->count;
    case VG_CORR_VALUE_COUNT:
        return vg_corr_distinct_count(&g->u.distinct);
    case VG_CORR_VALUE_SUM:
        return g->sum;
    case VG_CORR_VALUE_AVG:
        return g->count ? g->sum / (double)g->count : 0;
    case VG_CORR_TEMPORAL: {
        int n = 0;
        for (int i = 0; i < r->n_refs; i++)
            n += g->u.last[i] != INT64_MIN;
        return n;
    }
    case VG_CORR_TEMPORAL_ORDERED: {
        int n = 0;
        while (n < r->n_refs && g->u.last[n] != INT64_MIN)
            n++;
        return n;
    }
    }
    return 0;
}

static void close_window(VgCorrSet *s, CorrGroup *g, VgDetectCtx *ctx)
{
    const CorrRuleState *rs = &s->rules[g->rule];
    if (g->count == 0)
        return;
    double obs = closed_observed(rs, g);
    s->stats.windows_closed++;
    if (vg_corr_cond_holds(rs->r, obs)) {
        int64_t end = g->first_ms + rs->r->timespan_ms;
        fire(s, g, obs, g->first_ms, end, g->last_ms < end ? g->last_ms : end, NULL, ctx);
    }
}

/* Sliding check after an update; now is the group's newest event time. */
static void judge_sliding(VgCorrSet *s, CorrGroup *g, const VgEvent *ev, VgDetectCtx *ctx)
{
    const CorrRuleState *rs = &s->rules[g->rule];
    const VgCorrRule *r = rs->r;
    int64_t now = g->last_ms, from = now - r->timespan_ms, oldest = now;
    if (now < g->quiet_until)
        return;
    double obs = 0;
    switch (rs->state) {
    case CORR_ST_TIMES:
        obs = vg_corr_times_since(&g->u.times, from);
        if (obs > 0)
            oldest = g->u.times.t[g->u.times.n - (uint32_t)obs];
        break;
    case CORR_ST_RECENT:
        obs = vg_corr_recent_since(&g->u.recent, from, &oldest);
        break;
    case CORR_ST_SLIDE_HLL:
        obs = vg_corr_slide_estimate(&g->u.slide, now, &oldest);
        break;
    case CORR_ST_BUCKETS: {
        int64_t n;
        double sum;
        vg_corr_buckets_sum(&g->u.buckets, now, &n, &sum, &oldest);
        obs = r->type == VG_CORR_EVENT_COUNT ? (double)n
              : r->type == VG_CORR_VALUE_SUM ? sum
              : n                            ? sum / (double)n
                                             : 0;
        if (n == 0)
            return;
        break;
    }
    case CORR_ST_LAST:
        for (int i = 0; i < r->n_refs; i++) {
            int64_t v = g->u.last[i];
            if (v == INT64_MIN || v < from) {
                if (r->type == VG_CORR_TEMPORAL_ORDERED)
                    break; /* ordered: the prefix matched in order counts */
                continue;
            }
            obs++;
            if (v < oldest)
                oldest = v;
        }
        break;
    default:
        return;
    }
    if (!vg_corr_cond_holds(r, obs))
        return;
    g->quiet_until = now + r->timespan_ms + 1;
    fire(s, g, obs, oldest < now ? oldest : now, now, now, ev, ctx);
}

static void fire(VgCorrSet *s, CorrGroup *g, double observed, int64_t start, int64_t end,
                 int64_t when, const VgEvent *ev, VgDetectCtx *ctx)
{
    CorrRuleState *rs = &s->rules[g->rule];
    s->stats.fired++;
    bool was_pinned = g->pinned;
    g->pinned = true;
    if (!rs->quiet) {
        VgCorrFiring f = {
            .r = rs->r,
            .entity_type = rs->entity_type,
            .entity_field = rs->entity_field,
            .key = g->key,
            .key_len = g->key_len,
            .observed = observed,
            .start_ms = start,
            .end_ms = end,
            .ev = ev,
        };
        if (rs->r->type == VG_CORR_TEMPORAL || rs->r->type == VG_CORR_TEMPORAL_ORDERED)
            f.matched = g->u.last;
        vg_corr_alert(s, &f, ctx);
    }
    CorrSource src = {ev, g, when};
    for (guint i = 0; i < rs->parents->len; i++) {
        CorrListener *l = &g_array_index(rs->parents, CorrListener, i);
        feed(s, l->rule, l->pos, &src, NULL, ctx);
    }
    g->pinned = was_pinned;
}

/* ---- the update of one group by one matching event ---- */

static bool same_event(CorrRuleState *rs, const VgEvent *ev)
{
    bool same = rs->last_ev == ev && rs->last_raw == ev->raw.p && rs->last_line == ev->line_no &&
                rs->last_time == ev->time_ms && rs->last_off == ev->offset;
    rs->last_ev = ev;
    rs->last_raw = ev->raw.p;
    rs->last_line = ev->line_no;
    rs->last_time = ev->time_ms;
    rs->last_off = ev->offset;
    return same;
}

static void feed(VgCorrSet *s, int ri, int pos, const CorrSource *src, const CorrKey *ahead,
                 VgDetectCtx *ctx)
{
    CorrRuleState *rs = &s->rules[ri];
    const VgCorrRule *r = rs->r;
    bool temporal = r->type == VG_CORR_TEMPORAL || r->type == VG_CORR_TEMPORAL_ORDERED;
    /* An event that matches two of the rules an event_count refers to is one event, as a
     * query "(a or b) | count" would count it. */
    if (!temporal && src->ev && !src->child && same_event(rs, src->ev))
        return;
    CorrKey now;
    if (!ahead || ahead->status == KEY_LATER) {
        if (!ctx || !ctx->arena)
            vg_arena_reset(&s->arena); /* scratch for dotted-path look-ups */
        g_string_truncate(s->key, 0);
        g_string_truncate(s->val, 0);
        KeyOut ko = {.gs = s->key}, vo = {.gs = s->val};
        now.status = make_key(s, ri, pos, src, ctx && ctx->arena ? ctx->arena : &s->arena, &ko, &vo,
                              &now.vh, &now.num);
        now.key = s->key->str;
        now.key_len = (uint32_t)s->key->len;
        now.hash = group_hash(ri, now.key, now.key_len);
        ahead = &now;
    }
    if (ahead->status == KEY_UNGROUPED) {
        s->stats.ungrouped++; /* no value to group by: the event belongs to no group */
        return;
    }
    if (ahead->status != KEY_OK)
        return;
    uint64_t vh = ahead->vh;
    double num = ahead->num;

    int64_t t = src->time;
    bool created;
    CorrGroup *g = group_get_hashed(s, ri, ahead->key, ahead->key_len, ahead->hash, t, &created);
    if (!g)
        return;
    g->pinned = true;
    g->touch = ++s->touch;
    if (g == rs->head)
        walk_again(s, rs); /* its window moves (or it is marked) */
    /* Sliding lists are in order of last use (= of expiry; the move is lazy, see the top
     * of the file); closed ones in order of window start (= of closing), so a group moves
     * to the tail only when its window restarts. */
    if (rs->sliding) {
        g->moved_on = !created;
    } else if (!created && t > g->first_ms + r->timespan_ms) {
        /* The watermark has not closed the old window yet (lateness), but this event is
         * past it: judge it now and start the next one here. */
        close_window(s, g, ctx);
        group_reset(s, g, t);
        list_unlink(s, rs, g);
        list_append(s, rs, g);
    }
    if (t > g->last_ms)
        g->last_ms = t;
    g->count++;

    switch (rs->state) {
    case CORR_ST_TIMES:
        vg_corr_times_add(&g->u.times, t);
        break;
    case CORR_ST_RECENT:
        vg_corr_recent_add(&g->u.recent, vh, t);
        break;
    case CORR_ST_SLIDE_HLL:
        vg_corr_slide_add(&g->u.slide, t, vh);
        break;
    case CORR_ST_BUCKETS:
        vg_corr_buckets_add(&g->u.buckets, t, num);
        break;
    case CORR_ST_DISTINCT: {
        size_t before = g->a.cap + g->b.cap;
        vg_corr_distinct_add(&g->u.distinct, &g->a, &g->b, vh);
        s->bytes += (int64_t)(g->a.cap + g->b.cap) - (int64_t)before;
        break;
    }
    case CORR_ST_TOTALS:
        g->sum += num;
        break;
    case CORR_ST_LAST:
        if (r->type == VG_CORR_TEMPORAL) {
            if (t > g->u.last[pos])
                g->u.last[pos] = t;
        } else {
            /* last[i] is the latest start time of a chain rules[0..i] matched in order:
             * the latest start is the one most likely to fit in the window. */
            int64_t start = pos == 0 ? t : g->u.last[pos - 1];
            bool ok =
                pos == 0 || (start != INT64_MIN && (!rs->sliding || start >= t - r->timespan_ms));
            if (ok && start > g->u.last[pos])
                g->u.last[pos] = start;
        }
        break;
    }
    if (rs->sliding)
        judge_sliding(s, g, src->ev, ctx);
    g->pinned = false;
}

void vg_corr_set_clear_groups(VgCorrSet *s)
{
    for (int i = 0; i < s->n_rules; i++)
        while (s->rules[i].head)
            vg_corr_group_release(s, s->rules[i].head);
}

/* ---- the public side ---- */

void vg_corr_set_on_match(VgCorrSet *s, int det_idx, const VgEvent *ev, VgDetectCtx *ctx)
{
    vg_corr_set_on_match_keyed(s, det_idx, ev, ctx, NULL);
}

void vg_corr_set_on_match_keyed(VgCorrSet *s, int det_idx, const VgEvent *ev, VgDetectCtx *ctx,
                                const VgCorrKeys *keys)
{
    if (!s || det_idx < 0 || det_idx >= s->n_det || !s->det_listeners[det_idx])
        return;
    if (ctx && ctx->late) {
        s->stats.late++;
        return;
    }
    GArray *ls = s->det_listeners[det_idx];
    CorrSource src = {ev, NULL, ev->time_ms};
    for (guint i = 0; i < ls->len; i++) {
        CorrListener *l = &g_array_index(ls, CorrListener, i);
        feed(s, l->rule, l->pos, &src, keys && (int)i < keys->n ? &keys->k[i] : NULL, ctx);
    }
}

/* Drops (sliding) or judges and drops (closed) the groups of one rule that the watermark
 * has passed. Lists are in order of last use, so the walk stops at the first live one;
 * until the watermark passes that one's end (or the head changes) there is no walk at all:
 * the watermark moves with nearly every event, the head rarely. */
static void expire_rule(VgCorrSet *s, int ri, int64_t watermark, bool all, VgDetectCtx *ctx)
{
    CorrRuleState *rs = &s->rules[ri];
    if (!all && watermark <= rs->live_until)
        return;
    int64_t span = rs->r->timespan_ms;
    CorrGroup *g;
    while ((g = rs->sliding && !all ? lru_head(s, rs) : rs->head) && !g->pinned) {
        int64_t end = rs->sliding ? g->last_ms + span : g->first_ms + span;
        if (!all && end >= watermark) {
            rs->live_until = end; /* (the head stays until then, unless it changes) */
            break;
        }
        if (!rs->sliding) {
            g->pinned = true;
            close_window(s, g, ctx);
            g->pinned = false;
        }
        s->stats.expired++;
        vg_corr_group_release(s, g);
    }
    if (!g && !all)
        rs->live_until = INT64_MAX; /* empty: until a group joins */
}

void vg_corr_set_advance(VgCorrSet *s, VgDetectCtx *ctx)
{
    if (!s || ctx->watermark <= s->live_until)
        return;
    /* A window closed here may feed the correlations that reference this one; they come
     * later in the order, so their live_until is read after that. */
    int64_t live = INT64_MAX;
    for (int i = 0; i < s->n_rules; i++) {
        expire_rule(s, s->order[i], ctx->watermark, false, ctx);
        live = MIN(live, s->rules[s->order[i]].live_until);
    }
    s->live_until = live;
}

void vg_corr_set_finish(VgCorrSet *s, VgDetectCtx *ctx)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_rules; i++)
        expire_rule(s, s->order[i], 0, true, ctx);
}

bool vg_corr_set_wants(const VgCorrSet *s, int det_idx)
{
    return s && det_idx >= 0 && det_idx < s->n_det && s->det_listeners[det_idx] != NULL;
}

bool vg_corr_set_suppresses(const VgCorrSet *s, int det_idx)
{
    return s && det_idx >= 0 && det_idx < s->n_det && s->det_suppressed[det_idx];
}

void vg_corr_set_stats(const VgCorrSet *s, VgCorrStats *out)
{
    *out = s->stats;
    out->groups = s->n_groups;
    out->bytes = s->bytes;
}

void vg_corr_set_set_emit(VgCorrSet *s, VgCorrEmit emit, void *user)
{
    s->emit = emit;
    s->emit_user = user;
}

/* sigma-share.c — one compiled rule set for every detector of a process that loads the
 * same rules.
 *
 * `vigil run` with state per Kafka partition builds a pipeline, and with it a "rules"
 * detector, per partition (and a spare), and on SIGHUP reloads each of them. Compiling
 * the rules each time cost about 1.6 MB and a few milliseconds per pipeline, for the same
 * result. A compiled VgRuleSet is read-only once built (evaluation writes only to the
 * caller's VgRuleScratch, and correlation state lives in each detector's own clone of
 * set->corr_proto), so detectors can share it; it is reference counted, atomically, and
 * the last vg_rule_set_free() frees it.
 *
 * Why sharing is safe by construction: vg_rule_set_load_shared() first finds and reads
 * every rule file, then keys the set by a SHA-256 of everything it is built from — the
 * paths asked for, the `expand` lists (with their locations, which messages quote) and
 * max_groups, each file's name, pack and bytes, and the errors met so far (a path that is
 * missing) — and compiles exactly those bytes on a miss. A detector created before a rule
 * file changed and one created (or reloaded) after it therefore never get the same set: the
 * bytes differ, so the keys do. What loading reported is kept with the set and handed to
 * every later taker, so `rules.strict`, reload errors and the log see the same findings as
 * if the files had been compiled again.
 *
 * The cache is weak: it holds no reference, a set leaves it when its last reference goes,
 * so a process holds at most the sets that are in use (the old and the new one during a
 * reload). A look-up takes a reference only from a set whose count is not already zero
 * (one being freed on another thread), under the cache's mutex; nothing here is on the
 * per-event path.
 */
#include "rules/sigma.h"

static GMutex lock;
static GHashTable *cache; /* key (VgRuleSet.key, 32 bytes) -> VgRuleSet *, not referenced */

static guint key_hash(gconstpointer k)
{
    guint h;
    memcpy(&h, k, sizeof h);
    return h;
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(((VgRuleSet *)NULL)->key)) == 0;
}

void sig_key_add(GChecksum *k, const char *p, size_t len)
{
    uint64_t n = len;
    g_checksum_update(k, (const guchar *)&n, sizeof n);
    if (len)
        g_checksum_update(k, (const guchar *)p, (gssize)len);
}

static void key_add_str(GChecksum *k, const char *s)
{
    sig_key_add(k, s ? s : "", s ? strlen(s) + 1 : 0); /* NULL and "" differ */
}

static void key_add_int(GChecksum *k, int64_t v)
{
    sig_key_add(k, (const char *)&v, sizeof v);
}

static void key_add_node(GChecksum *k, const VgConfNode *n)
{
    if (!n) {
        key_add_int(k, -1);
        return;
    }
    key_add_int(k, n->kind);
    key_add_str(k, n->file);
    key_add_int(k, n->line);
    key_add_int(k, n->col);
    key_add_str(k, n->value);
    key_add_int(k, n->quoted);
    guint n_items = n->items ? n->items->len : 0;
    key_add_int(k, n_items);
    for (guint i = 0; i < n_items; i++) {
        key_add_node(k, n->keys ? n->keys->pdata[i] : NULL);
        key_add_node(k, n->items->pdata[i]);
    }
}

GChecksum *sig_key_new(const char *const *paths, const VgRulesLoadOpts *opts)
{
    GChecksum *k = g_checksum_new(G_CHECKSUM_SHA256);
    for (int i = 0; paths && paths[i]; i++)
        key_add_str(k, paths[i]);
    key_add_int(k, -1);
    key_add_node(k, opts ? opts->expand : NULL);
    key_add_int(k, opts ? opts->max_groups : 0);
    return k;
}

void sig_key_add_errors(GChecksum *k, const GPtrArray *errors, guint from)
{
    for (guint i = from; i < errors->len; i++) {
        const GError *e = errors->pdata[i];
        key_add_int(k, e->code);
        key_add_str(k, e->message);
    }
    key_add_int(k, -1);
}

/* A reference to set, unless its last one is gone already (it is being freed). */
static bool ref_live(VgRuleSet *set)
{
    for (;;) {
        gint n = g_atomic_int_get(&set->refs);
        if (n == 0)
            return false;
        if (g_atomic_int_compare_and_exchange(&set->refs, n, n + 1))
            return true;
    }
}

VgRuleSet *sig_share_find(const uint8_t key[32])
{
    g_mutex_lock(&lock);
    VgRuleSet *set = cache ? g_hash_table_lookup(cache, key) : NULL;
    if (set && !ref_live(set))
        set = NULL;
    g_mutex_unlock(&lock);
    return set;
}

VgRuleSet *sig_share_add(VgRuleSet *set)
{
    g_mutex_lock(&lock);
    if (!cache)
        cache = g_hash_table_new(key_hash, key_equal);
    VgRuleSet *had = g_hash_table_lookup(cache, set->key);
    if (had && ref_live(had)) {
        g_mutex_unlock(&lock);
        sig_rule_set_destroy(set); /* built twice at once: the first one cached wins */
        return had;
    }
    /* replace, not insert: the table's key must be the new set's own copy */
    g_hash_table_replace(cache, set->key, set);
    set->cached = true;
    g_mutex_unlock(&lock);
    return set;
}

void vg_rule_set_free(VgRuleSet *set)
{
    if (!set || !g_atomic_int_dec_and_test(&set->refs))
        return;
    if (set->cached) {
        g_mutex_lock(&lock);
        /* a look-up that came meanwhile found the count at zero and may have cached a
         * new set under the same key: that one stays */
        if (g_hash_table_lookup(cache, set->key) == set)
            g_hash_table_remove(cache, set->key);
        g_mutex_unlock(&lock);
    }
    sig_rule_set_destroy(set);
}

/* test-model-table.c — the keyed state table under a random-key flood: memory stays within
 * the budget, established heavy keys survive, new keys that come back get in. */
#include "models/model-int.h"
#include "test-model-util.h"

#include <criterion/criterion.h>

/* what a bucket close does to an entry, as far as the table cares */
static void touch_closed(VgModelTable *t, uint32_t i, uint32_t b)
{
    VgEntryHead *e = vg_table_entry(t, i);
    uint32_t shift = b - e->closed;
    e->activity = (shift >= 32 ? 0 : e->activity << shift) | 1u;
    e->closed = b;
    e->last_active = b;
}

static uint32_t get(VgModelTable *t, uint64_t h, uint32_t b, bool *rejected)
{
    uint32_t i = vg_table_find(t, h, (uint32_t)(h >> 17));
    if (i != UINT32_MAX)
        return i;
    unsigned f = vg_table_sighting(t, h);
    i = vg_table_admit(t, h, (uint32_t)(h >> 17), f, b, 1000, NULL, NULL);
    *rejected = i == UINT32_MAX;
    return i;
}

Test(model_table, flood_keeps_heavy_keys_and_budget)
{
    VgModelTable t;
    size_t budget = 256 * 1024;
    vg_table_init(&t, 200, budget);
    cr_assert(vg_table_bytes(&t) <= budget, "%zu > %zu", vg_table_bytes(&t), budget);
    uint32_t cap = t.n_entries;
    cr_assert(cap > 300, "%u entries", cap);
    TmRng r = {99};
    uint64_t heavy[100];
    for (int i = 0; i < 100; i++)
        heavy[i] = tm_next(&r) | 1;
    bool rej;
    uint32_t b = 1000;
    for (; b < 1040; b++)
        for (int i = 0; i < 100; i++) {
            uint32_t e = get(&t, heavy[i], b, &rej);
            cr_assert_neq(e, UINT32_MAX);
            touch_closed(&t, e, b);
        }
    /* 1,000,000 random keys, each seen once, while the heavy keys keep working */
    for (int n = 0; n < 1000000; n++) {
        if (n % 20000 == 0) {
            b++;
            for (int i = 0; i < 100; i++) {
                uint32_t e = get(&t, heavy[i], b, &rej);
                cr_assert_neq(e, UINT32_MAX, "heavy key %d lost at flood step %d", i, n);
                touch_closed(&t, e, b);
            }
        }
        uint32_t e = get(&t, tm_next(&r) | 1, b, &rej);
        if (e != UINT32_MAX)
            touch_closed(&t, e, b);
        cr_assert(t.n_live <= cap);
    }
    for (int i = 0; i < 100; i++)
        cr_assert_neq(vg_table_find(&t, heavy[i], (uint32_t)(heavy[i] >> 17)), UINT32_MAX);
    cr_assert(t.rejected > 900000, "rejected %lu", (unsigned long)t.rejected);
    cr_assert(vg_table_bytes(&t) <= budget + 64 * 1024, "%zu", vg_table_bytes(&t));

    /* a new key that comes back a few times gets in, displacing flood leftovers */
    uint64_t fresh = tm_next(&r) | 1;
    uint32_t e = UINT32_MAX;
    for (int k = 0; k < 3 && e == UINT32_MAX; k++)
        e = get(&t, fresh, b, &rej);
    cr_assert_neq(e, UINT32_MAX, "a returning new key was never admitted");
    vg_table_destroy(&t);
}

Test(model_table, remove_keeps_probe_chains)
{
    VgModelTable t;
    vg_table_init(&t, 64, 64 * 1024);
    uint64_t keys[200];
    TmRng r = {5};
    for (int i = 0; i < 200; i++) {
        /* same low bits: one long probe run */
        keys[i] = (tm_next(&r) << 20) | 0x5a5a1;
        cr_assert_neq(vg_table_admit(&t, keys[i], i, 1, 1, 100, NULL, NULL), UINT32_MAX);
    }
    for (int i = 0; i < 200; i += 2)
        vg_table_remove(&t, vg_table_find(&t, keys[i], i));
    for (int i = 0; i < 200; i++) {
        uint32_t f = vg_table_find(&t, keys[i], i);
        cr_assert_eq(f == UINT32_MAX, i % 2 == 0, "key %d", i);
    }
    vg_table_destroy(&t);
}

Test(model_table, detector_flood_stays_in_budget)
{
    const char *y = "memory_budget: 8MiB\n";
    GError *err = NULL;
    VgConfNode *conf = vg_conf_load_string(y, strlen(y), "t.yml", &err);
    VgDetector *d = vg_models_ops.create(&vg_models_ops, conf, &err);
    cr_assert(d);
    VgDetectCtx ctx = {.watermark = INT64_MIN, .token_key = tm_token_key()};
    TmRng r = {3};
    TmEvent ev;
    int64_t t0 = 1772409600000LL;
    for (int i = 0; i < 300000; i++) {
        char tok[40], ip[40];
        g_snprintf(tok, sizeof tok, "tok-%016llx", (unsigned long long)tm_next(&r));
        g_snprintf(ip, sizeof ip, "198.51.%d.%d", (int)(tm_next(&r) % 256),
                   (int)(tm_next(&r) % 256));
        tm_event(&ev, t0 + i * 2, tok, ip, "GET", "/v1/x", "/v1/x", 200, 100, 10, i);
        ctx.watermark = ev.ev.time_ms;
        vg_models_ops.on_event(d, &ev.ev, &ctx);
    }
    const VgModelsStats *s = vg_models_stats(d);
    cr_assert(s->memory_bytes <= 8u << 20, "%zu bytes", s->memory_bytes);
    cr_assert(s->rejected > 0);
    cr_assert(s->tracked > 10000);
    vg_models_ops.finish(d, &ctx);
    vg_models_ops.destroy(d);
    vg_conf_node_free(conf);
}

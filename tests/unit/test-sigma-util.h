/* test-sigma-util.h — helpers shared by the test-sigma-*.c unit tests: load rules from
 * YAML text, build events by hand (with a tiny decoder for dotted fields), and evaluate
 * with and without the prefilter, asserting both agree. */
#ifndef SIGMA_TEST_UTIL_H
#define SIGMA_TEST_UTIL_H

#include "engine/decoder.h"
#include "rules/rules.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <stdio.h>

/* ---- a decoder whose dotted fields come from a hash table ---- */

static bool tu_lookup(const VgDecoder *d, const VgEvent *ev, const char *path, size_t len,
                      VgValue *out, VgArena *arena)
{
    (void)d;
    (void)arena;
    GHashTable *extra = ev->dec_state;
    char *key = g_strndup(path, len);
    const char *v = extra ? g_hash_table_lookup(extra, key) : NULL;
    gboolean has = extra && g_hash_table_contains(extra, key);
    g_free(key);
    memset(out, 0, sizeof *out);
    if (!has)
        return false;
    if (!v) {
        out->kind = VG_V_NULL;
        return true;
    }
    out->kind = VG_V_STR;
    out->s = vg_cstr(v);
    return true;
}

static const VgDecoderOps tu_ops = {.name = "test", .lookup = tu_lookup};
static const VgDecoder tu_decoder = {.ops = &tu_ops};

typedef struct {
    VgEvent ev;
    GHashTable *extra;
} TuEvent;

static inline void tu_event_init(TuEvent *t)
{
    vg_event_reset(&t->ev);
    t->extra = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    t->ev.decoder = &tu_decoder;
    t->ev.dec_state = t->extra;
    t->ev.time_ms = 1772416800000; /* 2026-03-02T02:00:00Z, a Monday */
    vg_event_mark(&t->ev, VG_F_TIME);
}

static inline void tu_event_clear(TuEvent *t)
{
    g_hash_table_destroy(t->extra);
}

static inline void tu_set(TuEvent *t, const char *field, const char *value)
{
    VgFieldId f = vg_field_resolve(field);
    if (f == VG_F_STATUS) {
        t->ev.status = atoi(value);
        vg_event_mark(&t->ev, f);
    } else if (f == VG_F_BYTES_OUT) {
        t->ev.bytes_out = atoll(value);
        vg_event_mark(&t->ev, f);
    } else if (f == VG_F_BYTES_IN) {
        t->ev.bytes_in = atoll(value);
        vg_event_mark(&t->ev, f);
    } else if (f == VG_F_LATENCY_MS) {
        t->ev.latency_ms = g_ascii_strtod(value, NULL);
        vg_event_mark(&t->ev, f);
    } else if (f != VG_F_EXTRA && f != VG_F_TIME) {
        vg_event_set_str(&t->ev, f, vg_cstr(value));
    } else {
        g_hash_table_replace(t->extra, g_strdup(field), value ? g_strdup(value) : NULL);
    }
}

/* ---- loading ---- */

static char *tu_dir;

static char *tu_write(const char *name, const char *text)
{
    if (!tu_dir)
        tu_dir = g_dir_make_tmp("vigil-sigma-XXXXXX", NULL);
    char *p = g_build_filename(tu_dir, name, NULL);
    char *dir = g_path_get_dirname(p);
    g_mkdir_with_parents(dir, 0700);
    g_free(dir);
    cr_assert(g_file_set_contents(p, text, -1, NULL));
    return p;
}

static void tu_rm_rf(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        GDir *d = g_dir_open(path, 0, NULL);
        const char *n;
        while (d && (n = g_dir_read_name(d))) {
            char *p = g_build_filename(path, n, NULL);
            tu_rm_rf(p);
            g_free(p);
        }
        if (d)
            g_dir_close(d);
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

static void tu_cleanup(void)
{
    if (tu_dir) {
        tu_rm_rf(tu_dir);
        g_free(tu_dir);
        tu_dir = NULL;
    }
}

/* Loads YAML text; errors (GError *) go to *errors if given, else must be none. */
static VgRuleSet *tu_load_opts(const char *yaml, const VgRulesLoadOpts *o, GPtrArray **errors)
{
    static int n;
    char name[32];
    snprintf(name, sizeof name, "rule%d.yml", n++);
    char *p = tu_write(name, yaml);
    const char *paths[] = {p, NULL};
    GPtrArray *errs = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    VgRuleSet *set = vg_rule_set_load(paths, o, errs);
    g_free(p);
    if (errors) {
        *errors = errs;
    } else {
        for (guint i = 0; i < errs->len; i++)
            cr_log_error("unexpected: %s", ((GError *)errs->pdata[i])->message);
        cr_assert_eq(errs->len, 0, "the rules should load without errors");
        g_ptr_array_free(errs, TRUE);
    }
    return set;
}

static inline VgRuleSet *tu_load(const char *yaml)
{
    return tu_load_opts(yaml, NULL, NULL);
}

/* The first error message when loading yaml (asserts there is one). */
static inline char *tu_load_error(const char *yaml)
{
    GPtrArray *errs;
    VgRuleSet *set = tu_load_opts(yaml, NULL, &errs);
    cr_assert_gt(errs->len, 0, "expected a load error");
    char *msg = g_strdup(((GError *)errs->pdata[0])->message);
    g_ptr_array_free(errs, TRUE);
    vg_rule_set_free(set);
    return msg;
}

/* ---- evaluation ---- */

typedef struct {
    uint64_t mask; /* bit per matched rule index */
    GString *sel;  /* "rule:sel1,sel2;" */
} TuHits;

static inline void tu_hit(void *user, const VgRuleMatch *m)
{
    TuHits *h = user;
    if (m->rule < 64)
        h->mask |= 1ull << m->rule;
    if (h->sel) {
        g_string_append_printf(h->sel, "%s:", m->rule_id);
        for (int i = 0; i < m->n_selections; i++)
            g_string_append_printf(h->sel, "%s%s", i ? "," : "", m->selections[i]);
        g_string_append_c(h->sel, ';');
    }
}

/* Bit mask of matching rules; asserts the prefilter changes nothing. */
static inline uint64_t tu_eval(const VgRuleSet *set, const VgEvent *ev)
{
    VgArena arena;
    vg_arena_init(&arena, 4096);
    uint64_t masks[2];
    for (int pf = 0; pf < 2; pf++) {
        VgRuleScratch *s = vg_rule_scratch_new(set);
        vg_rule_scratch_set_prefilter(s, pf == 1);
        TuHits h = {0};
        vg_rule_set_eval(set, s, ev, &arena, false, tu_hit, &h);
        masks[pf] = h.mask;
        vg_rule_scratch_free(s);
    }
    vg_arena_destroy(&arena);
    cr_assert_eq(masks[0], masks[1], "prefilter changed the result: %#llx vs %#llx",
                 (unsigned long long)masks[0], (unsigned long long)masks[1]);
    return masks[1];
}

/* Loads a one-rule YAML and says whether the event with field=value matches. */
static inline bool tu_match1(const char *yaml, const char *field, const char *value)
{
    VgRuleSet *set = tu_load(yaml);
    TuEvent t;
    tu_event_init(&t);
    tu_set(&t, field, value);
    bool r = tu_eval(set, &t.ev) & 1;
    tu_event_clear(&t);
    vg_rule_set_free(set);
    return r;
}

#endif

/* decode-test-util.h — helpers shared by the decoder unit tests (not a test itself). */
#ifndef VG_DECODE_TEST_UTIL_H
#define VG_DECODE_TEST_UTIL_H

#include "collectors/decoders.h"
#include "engine/registry.h"

#include <criterion/criterion.h>
#include <stdio.h>

static VgArena t_arena;
static VgDecoder *t_dec;

static void t_setup(void)
{
    vg_decoders_register_all();
    vg_arena_init(&t_arena, 0);
}

static void t_teardown(void)
{
    if (t_dec)
        t_dec->ops->destroy(t_dec);
    t_dec = NULL;
    vg_arena_destroy(&t_arena);
}

/* Creates the preset (with an optional NULL-terminated list of field, source pairs). */
static VgDecoder *t_open(const char *preset, const char *const *mapping)
{
    const VgDecoderOps *ops = vg_find_decoder(preset);
    cr_assert_not_null(ops, "no preset %s", preset);
    VgInputConf conf = {.format = (char *)preset, .fields = NULL, .max_line_bytes = 1 << 20};
    if (mapping) {
        conf.fields = g_array_new(FALSE, FALSE, sizeof(VgFieldMapping));
        for (int i = 0; mapping[i]; i += 2) {
            VgFieldMapping m = {(char *)mapping[i], (char *)mapping[i + 1]};
            g_array_append_val(conf.fields, m);
        }
    }
    GError *err = NULL;
    if (t_dec)
        t_dec->ops->destroy(t_dec);
    t_dec = ops->create(ops, &conf, &err);
    cr_assert_not_null(t_dec, "create %s: %s", preset, err ? err->message : "?");
    if (conf.fields)
        g_array_free(conf.fields, TRUE);
    return t_dec;
}

/* Decodes one line from a padded copy in the arena (lives until teardown). */
static VgBadReason t_decode(const char *line, VgEvent *ev)
{
    size_t n = strlen(line);
    char *buf = vg_arena_alloc(&t_arena, n + VG_LINE_PADDING);
    memcpy(buf, line, n);
    memset(buf + n, 'x', VG_LINE_PADDING); /* padding content is unspecified */
    vg_event_reset(ev);
    return t_dec->ops->decode(t_dec, buf, n, ev, &t_arena);
}

/* Reads line number `no` (1-based) of tests/data/formats/<file>. */
static char *t_data_line(const char *file, int no)
{
    char *path = g_build_filename(VG_SOURCE_DIR, "tests", "data", "formats", file, NULL);
    char *text;
    cr_assert(g_file_get_contents(path, &text, NULL, NULL), "cannot read %s", path);
    g_free(path);
    char **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    cr_assert(no >= 1 && lines[no - 1] && *lines[no - 1], "%s has no line %d", file, no);
    VgStr s = vg_arena_strdup(&t_arena, lines[no - 1], strlen(lines[no - 1]));
    g_strfreev(lines);
    return (char *)s.p;
}

#define T_STR(ev, f, want)                                                                         \
    do {                                                                                           \
        VgStr _v = vg_event_str((ev), (f));                                                        \
        cr_assert(vg_event_has((ev), (f)), "%s absent, want '%s'", vg_field_name(f), (want));      \
        cr_assert(vg_str_eq_c(_v, (want)), "%s = '%.*s', want '%s'", vg_field_name(f),             \
                  (int)_v.len, _v.p, (want));                                                      \
    } while (0)

#define T_ABSENT(ev, f) cr_assert_not(vg_event_has((ev), (f)), "%s present", vg_field_name(f))

#define T_INT(ev, f, want)                                                                         \
    do {                                                                                           \
        VgValue _v;                                                                                \
        vg_event_get((ev), (f), &_v);                                                              \
        cr_assert(_v.kind == VG_V_INT, "%s absent", vg_field_name(f));                             \
        cr_assert_eq(_v.i, (int64_t)(want), "%s = %lld, want %lld", vg_field_name(f),              \
                     (long long)_v.i, (long long)(want));                                          \
    } while (0)

#define T_LAT(ev, want)                                                                            \
    do {                                                                                           \
        cr_assert(vg_event_has((ev), VG_F_LATENCY_MS), "latency_ms absent");                       \
        cr_assert_float_eq((ev)->latency_ms, (want), 1e-6, "latency_ms = %g, want %g",             \
                           (ev)->latency_ms, (double)(want));                                      \
    } while (0)

#endif

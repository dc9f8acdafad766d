/* fuzz-decode-json.c — every JSON preset (and auto) on arbitrary bytes.
 *
 * The input is copied into a buffer with VG_LINE_PADDING spare bytes, as collectors give
 * decoders, and decoded as one line by each JSON preset, one of them with a user mapping;
 * for lines that decode, a few dotted look-ups run too. Anything but a clean return
 * (crash, sanitizer report, a reason out of range) is a finding.
 *
 * The same bytes are also scanned twice with one map of flat, nested and shared paths:
 * by vg_json_scan(), whose fast path reads most lines without simdjson, and by
 * vg_json_scan_reference() (simdjson alone). Any difference in the verdict or in a slot
 * the line filled aborts: the fast path may only ever save time. So does any difference
 * between vg_json_fast_member() and vg_json_lookup() on the key "sub" (JWT subjects).
 */
#include "collectors/decoders.h"
#include "../unit/json-test-map.h"
#include "engine/registry.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *presets[] = {"vigil", "kong", "aws-apigw", "traefik", "ecs", "auto"};
static VgDecoder *decs[G_N_ELEMENTS(presets) + 1];
static VgJsonMap *map;
static VgJsonScanner *scanner;

static void init(void)
{
    vg_decoders_register_all();
    for (size_t i = 0; i < G_N_ELEMENTS(presets); i++) {
        const VgDecoderOps *ops = vg_find_decoder(presets[i]);
        decs[i] = ops->create(ops, NULL, NULL);
    }
    GArray *fields = g_array_new(FALSE, FALSE, sizeof(VgFieldMapping));
    VgFieldMapping m[] = {{"token", "a.b.authorization"},
                          {"time", "t"},
                          {"path", "p"},
                          {"status", "a.s"},
                          {"endpoint", "r"}};
    g_array_append_vals(fields, m, G_N_ELEMENTS(m));
    VgInputConf conf = {.format = "vigil", .fields = fields, .max_line_bytes = 1 << 20};
    const VgDecoderOps *ops = vg_find_decoder("vigil");
    decs[G_N_ELEMENTS(presets)] = ops->create(ops, &conf, NULL);
    g_array_free(fields, TRUE);

    map = json_test_map();
    scanner = vg_json_scanner_new();
}

/* vg_json_scan() and vg_json_scan_reference() agree on buf[0..size). */
static void check_fast_path(const char *buf, size_t size, VgArena *arena)
{
    VgBadReason verdict;
    if (vg_json_scan_compare(scanner, map, buf, size, arena, &verdict))
        abort();
    if (vg_json_member_compare(buf, size, "sub", 3, arena))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        init();
        ready = true;
    }
    static VgArena arena;
    static bool arena_ready;
    if (!arena_ready) {
        vg_arena_init(&arena, 0);
        arena_ready = true;
    }
    char *buf = malloc(size + VG_LINE_PADDING);
    memcpy(buf, data, size);
    memset(buf + size, 0, VG_LINE_PADDING);
    static const char *paths[] = {"request.headers.user-agent", "a.0.b", "x", "a.b.c.d.e"};
    for (size_t i = 0; i < G_N_ELEMENTS(decs); i++) {
        VgEvent ev;
        vg_event_reset(&ev);
        VgBadReason r = decs[i]->ops->decode(decs[i], buf, size, &ev, &arena);
        if (r >= VG_BAD__COUNT)
            abort();
        if (r == VG_BAD_NONE) {
            for (size_t k = 0; k < G_N_ELEMENTS(paths); k++) {
                VgValue v;
                vg_event_lookup(&ev, paths[k], strlen(paths[k]), &v, &arena);
            }
        }
    }
    check_fast_path(buf, size, &arena);
    vg_arena_reset(&arena);
    free(buf);
    return 0;
}

/* fuzz-decode-text.c — the text presets (nginx/Apache combined, Envoy, auto) on arbitrary
 * bytes, plus the timestamp parsers and the endpoint templater on the same bytes.
 *
 * The input is one line in a buffer with VG_LINE_PADDING spare bytes, as collectors give
 * decoders. Anything but a clean return is a finding.
 */
#include "collectors/decode-time.h"
#include "collectors/decoders.h"
#include "collectors/endpoint-template.h"
#include "engine/registry.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *presets[] = {"nginx-combined", "apache-combined", "envoy", "auto"};
static VgDecoder *decs[G_N_ELEMENTS(presets)];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    static VgArena arena;
    if (!ready) {
        vg_decoders_register_all();
        for (size_t i = 0; i < G_N_ELEMENTS(presets); i++) {
            const VgDecoderOps *ops = vg_find_decoder(presets[i]);
            decs[i] = ops->create(ops, NULL, NULL);
        }
        vg_arena_init(&arena, 0);
        ready = true;
    }
    char *buf = malloc(size + VG_LINE_PADDING);
    memcpy(buf, data, size);
    memset(buf + size, 0, VG_LINE_PADDING);
    for (size_t i = 0; i < G_N_ELEMENTS(decs); i++) {
        VgEvent ev;
        vg_event_reset(&ev);
        VgBadReason r = decs[i]->ops->decode(decs[i], buf, size, &ev, &arena);
        if (r >= VG_BAD__COUNT)
            abort();
    }
    int64_t ms;
    vg_time_parse(buf, size, &ms);
    vg_time_parse_clf(buf, size, &ms);
    vg_time_parse_iso8601(buf, size, &ms);
    vg_endpoint_template(VG_STR_LIT("GET"), vg_str(buf, size), &arena);
    vg_arena_reset(&arena);
    free(buf);
    return 0;
}

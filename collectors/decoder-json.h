/* decoder-json.h — the machinery shared by the JSON presets (vigil, kong, aws-apigw,
 * traefik, ecs) and by `auto`.
 *
 * A JSON preset is data plus one function: the list of source paths it reads, each tagged
 * with a slot of its own, and finish(), which turns the filled slots into canonical fields
 * (units, precedence between alternative sources, route templates). The generic code here
 * compiles the paths together with the user's `fields:` mapping into one VgJsonMap,
 * scans each line once, calls finish(), applies the user mapping (which wins), and ends
 * with the steps every preset shares (decoder-common.h). The VgDecoderOps is the first
 * member of VgJsonPreset, so create() finds its preset from the ops pointer it is given.
 *
 * Values meaning "nothing" — JSON null, "" and "-" — leave a field absent in every preset.
 * A numeric field given a non-numeric value makes the line VG_BAD_FIELD; a time that does
 * not parse makes it VG_BAD_TIME; no time at all makes it VG_BAD_NO_TIME.
 */
#ifndef VG_DECODER_JSON_H
#define VG_DECODER_JSON_H

#include "collectors/json-scan.h"

typedef struct {
    const char *path;
    unsigned slot;
} VgJsonPath;

/* What finish() reads: the scan result of one line. */
typedef struct {
    const VgJsonSlot *slots;
    const VgJsonSeen *seen;
    VgArena *arena;
} VgJsonLine;

typedef struct VgJsonPreset {
    VgDecoderOps ops;        /* first: the registry hands this pointer to create() */
    const VgJsonPath *paths; /* terminated by {NULL, 0} */
    unsigned n_slots;
    VgBadReason (*finish)(const VgJsonLine *l, VgEvent *ev);
} VgJsonPreset;

/* Ops callbacks shared by every JSON preset. */
VgDecoder *vg_json_decoder_create(const VgDecoderOps *ops, const VgInputConf *conf, GError **err);
VgBadReason vg_json_decoder_decode(VgDecoder *d, const char *line, size_t len, VgEvent *ev,
                                   VgArena *arena);
bool vg_json_decoder_lookup(const VgDecoder *d, const VgEvent *ev, const char *path, size_t len,
                            VgValue *out, VgArena *arena);
void vg_json_decoder_destroy(VgDecoder *d);

/* Validates a user mapping (canonical names or aliases, non-empty paths). */
bool vg_json_mapping_check(const GArray *fields, GError **err);

/* ---- slot readers for finish() ----
 * Inline: a preset calls a dozen of them per line with constant slots and fields. */

#include "collectors/decoder-common.h"

/* The slot when the line had it with a value other than null, else NULL. */
static inline const VgJsonSlot *vg_jl_slot(const VgJsonLine *l, unsigned slot)
{
    if (!vg_json_seen(l->seen, slot))
        return NULL;
    const VgJsonSlot *s = &l->slots[slot];
    return s->kind == VG_JV_NULL || s->kind == VG_JV_NONE ? NULL : s;
}

/* The slot's text (strings, and numbers/bools as written) unless absent or blank. */
static inline bool vg_jl_str(const VgJsonLine *l, unsigned slot, VgStr *out)
{
    const VgJsonSlot *s = vg_jl_slot(l, slot);
    if (!s || s->kind == VG_JV_OBJECT || vg_dec_blank(s->s))
        return false;
    *out = s->s;
    return true;
}

/* Sets string field f from the slot; returns true when it did. */
static inline bool vg_jl_set_str(const VgJsonLine *l, unsigned slot, VgEvent *ev, VgFieldId f)
{
    VgStr v;
    if (!vg_jl_str(l, slot, &v))
        return false;
    vg_dec_set_str(ev, f, v);
    return true;
}

/* The text forms of vg_jl_num() and vg_jl_int(), for slots that are not JSON numbers. */
int vg_jl_num_text(const VgJsonSlot *s, double *out);
int vg_jl_int_text(const VgJsonSlot *s, int64_t *out);

/* Reads a number (a JSON number or a numeric string). Returns 1 when read, 0 when absent or
 * blank, -1 when present but not a number. */
static inline int vg_jl_num(const VgJsonLine *l, unsigned slot, double *out)
{
    const VgJsonSlot *s = vg_jl_slot(l, slot);
    if (!s)
        return 0;
    if (VG_LIKELY(s->kind == VG_JV_NUM)) {
        *out = s->d;
        return 1;
    }
    return vg_jl_num_text(s, out);
}

static inline int vg_jl_int(const VgJsonLine *l, unsigned slot, int64_t *out)
{
    const VgJsonSlot *s = vg_jl_slot(l, slot);
    if (!s)
        return 0;
    if (VG_LIKELY(s->kind == VG_JV_NUM)) {
        *out = s->i;
        return 1;
    }
    return vg_jl_int_text(s, out);
}

/* Sets time_ms from an ISO/CLF/epoch string or an epoch number: 1 done, 0 absent,
 * -1 unparsable. */
int vg_jl_time(const VgJsonLine *l, unsigned slot, VgEvent *ev);

/* Typical numeric setters: VG_BAD_FIELD when the value is not a number. `scale` converts
 * the source unit to the canonical one (latency ms). */
static inline VgBadReason vg_jl_set_status(const VgJsonLine *l, unsigned slot, VgEvent *ev)
{
    int64_t v;
    int r = vg_jl_int(l, slot, &v);
    if (r < 0 || (r > 0 && (v < 0 || v > 999)))
        return VG_BAD_FIELD;
    if (r > 0) {
        ev->status = (int32_t)v;
        vg_event_mark(ev, VG_F_STATUS);
    }
    return VG_BAD_NONE;
}

static inline VgBadReason vg_jl_set_int(const VgJsonLine *l, unsigned slot, VgEvent *ev,
                                        VgFieldId f)
{
    int64_t v;
    int r = vg_jl_int(l, slot, &v);
    if (r < 0)
        return VG_BAD_FIELD;
    if (r > 0) {
        if (f == VG_F_BYTES_OUT)
            ev->bytes_out = v;
        else
            ev->bytes_in = v;
        vg_event_mark(ev, f);
    }
    return VG_BAD_NONE;
}

static inline VgBadReason vg_jl_set_latency(const VgJsonLine *l, unsigned slot, double scale,
                                            VgEvent *ev)
{
    double v;
    int r = vg_jl_num(l, slot, &v);
    if (r < 0)
        return VG_BAD_FIELD;
    if (r > 0) {
        ev->latency_ms = v * scale;
        vg_event_mark(ev, VG_F_LATENCY_MS);
    }
    return VG_BAD_NONE;
}

/* Applies the values of slots base + f, for every canonical field f in mask, with the
 * meaning of the vigil format (time in any form, token as a credential, endpoint as a
 * route template, path possibly with its query). The vigil preset and the user mapping. */
VgBadReason vg_jl_apply_canonical(const VgJsonLine *l, unsigned base, uint32_t mask, VgEvent *ev);

#define VG_JSON_PRESET_OPS(pname, pdesc)                                                           \
    {                                                                                              \
        .name = (pname), .description = (pdesc), .create = vg_json_decoder_create,                 \
        .decode = vg_json_decoder_decode, .lookup = vg_json_decoder_lookup,                        \
        .destroy = vg_json_decoder_destroy,                                                        \
    }

extern const VgJsonPreset vg_decoder_vigil, vg_decoder_kong, vg_decoder_aws_apigw,
    vg_decoder_traefik, vg_decoder_ecs;

#endif

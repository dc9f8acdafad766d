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

/* ---- slot readers for finish() ---- */

/* The slot's text (strings, and numbers/bools as written) unless absent or blank. */
bool vg_jl_str(const VgJsonLine *l, unsigned slot, VgStr *out);
/* Sets string field f from the slot; returns true when it did. */
bool vg_jl_set_str(const VgJsonLine *l, unsigned slot, VgEvent *ev, VgFieldId f);
/* Reads a number (a JSON number or a numeric string). Returns 1 when read, 0 when absent or
 * blank, -1 when present but not a number. */
int vg_jl_num(const VgJsonLine *l, unsigned slot, double *out);
int vg_jl_int(const VgJsonLine *l, unsigned slot, int64_t *out);
/* Sets time_ms from an ISO/CLF/epoch string or an epoch number: 1 done, 0 absent,
 * -1 unparsable. */
int vg_jl_time(const VgJsonLine *l, unsigned slot, VgEvent *ev);

/* Typical numeric setters: VG_BAD_FIELD when the value is not a number. `scale` converts
 * the source unit to the canonical one (latency ms). */
VgBadReason vg_jl_set_status(const VgJsonLine *l, unsigned slot, VgEvent *ev);
VgBadReason vg_jl_set_int(const VgJsonLine *l, unsigned slot, VgEvent *ev, VgFieldId f);
VgBadReason vg_jl_set_latency(const VgJsonLine *l, unsigned slot, double scale, VgEvent *ev);

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

/* decoder-json.c — see decoder-json.h.
 *
 * Slots: a preset owns slots [0, n_slots); the user's mapping of canonical field f gets
 * slot n_slots + f. Both are compiled into the same map, so user paths cost nothing extra
 * per line and a path the preset already reads simply feeds two slots.
 */
#include "collectors/decoder-json.h"

#include "collectors/decode-time.h"
#include "collectors/decoder-common.h"
#include "collectors/endpoint-template.h"

typedef struct {
    VgDecoder base;
    const VgJsonPreset *preset;
    VgJsonMap *map;
    VgJsonScanner *scanner;
    unsigned user_base;
    uint32_t user_fields; /* bit f: the user mapped canonical field f */
} VgJsonDecoder;

/* ---- slot readers ---- */

static inline const VgJsonSlot *slot_get(const VgJsonLine *l, unsigned k)
{
    if (!vg_json_seen(l->seen, k))
        return NULL;
    const VgJsonSlot *s = &l->slots[k];
    return s->kind == VG_JV_NULL || s->kind == VG_JV_NONE ? NULL : s;
}

bool vg_jl_str(const VgJsonLine *l, unsigned slot, VgStr *out)
{
    const VgJsonSlot *s = slot_get(l, slot);
    if (!s || s->kind == VG_JV_OBJECT || vg_dec_blank(s->s))
        return false;
    *out = s->s;
    return true;
}

bool vg_jl_set_str(const VgJsonLine *l, unsigned slot, VgEvent *ev, VgFieldId f)
{
    VgStr v;
    if (!vg_jl_str(l, slot, &v))
        return false;
    vg_event_set_str(ev, f, v);
    return true;
}

int vg_jl_num(const VgJsonLine *l, unsigned slot, double *out)
{
    const VgJsonSlot *s = slot_get(l, slot);
    if (!s)
        return 0;
    if (s->kind == VG_JV_NUM) {
        *out = s->d;
        return 1;
    }
    if (s->kind != VG_JV_STR)
        return -1;
    if (vg_dec_blank(s->s))
        return 0;
    return vg_dec_parse_double(s->s.p, s->s.len, out) ? 1 : -1;
}

int vg_jl_int(const VgJsonLine *l, unsigned slot, int64_t *out)
{
    const VgJsonSlot *s = slot_get(l, slot);
    if (!s)
        return 0;
    if (s->kind == VG_JV_NUM) {
        *out = s->i;
        return 1;
    }
    if (s->kind != VG_JV_STR)
        return -1;
    if (vg_dec_blank(s->s))
        return 0;
    if (vg_dec_parse_int(s->s.p, s->s.len, out))
        return 1;
    double d;
    if (vg_dec_parse_double(s->s.p, s->s.len, &d) && d > -9e18 && d < 9e18) {
        *out = (int64_t)d;
        return 1;
    }
    return -1;
}

int vg_jl_time(const VgJsonLine *l, unsigned slot, VgEvent *ev)
{
    const VgJsonSlot *s = slot_get(l, slot);
    if (!s)
        return 0;
    int64_t ms;
    bool ok;
    if (s->kind == VG_JV_NUM)
        ok = s->is_int ? vg_time_from_epoch_int(s->i, &ms) : vg_time_from_epoch_double(s->d, &ms);
    else if (s->kind == VG_JV_STR)
        ok = s->s.len && vg_time_parse(s->s.p, s->s.len, &ms);
    else
        ok = false;
    if (s->kind == VG_JV_STR && vg_dec_blank(s->s))
        return 0;
    if (!ok)
        return -1;
    ev->time_ms = ms;
    vg_event_mark(ev, VG_F_TIME);
    return 1;
}

VgBadReason vg_jl_set_status(const VgJsonLine *l, unsigned slot, VgEvent *ev)
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

VgBadReason vg_jl_set_int(const VgJsonLine *l, unsigned slot, VgEvent *ev, VgFieldId f)
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

VgBadReason vg_jl_set_latency(const VgJsonLine *l, unsigned slot, double scale, VgEvent *ev)
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

VgBadReason vg_jl_apply_canonical(const VgJsonLine *l, unsigned base, uint32_t mask, VgEvent *ev)
{
    VgBadReason r = VG_BAD_NONE;
    VgStr v;
    for (int f = 0; f < VG_F__COUNT && r == VG_BAD_NONE; f++) {
        if (!(mask >> f & 1u) || f == VG_F_ENDPOINT || f == VG_F_TOKEN)
            continue;
        unsigned k = base + (unsigned)f;
        switch ((VgFieldId)f) {
        case VG_F_TIME:
            if (vg_jl_time(l, k, ev) < 0)
                r = VG_BAD_TIME;
            break;
        case VG_F_STATUS:
            r = vg_jl_set_status(l, k, ev);
            break;
        case VG_F_BYTES_OUT:
        case VG_F_BYTES_IN:
            r = vg_jl_set_int(l, k, ev, (VgFieldId)f);
            break;
        case VG_F_LATENCY_MS:
            r = vg_jl_set_latency(l, k, 1.0, ev);
            break;
        case VG_F_PATH:
            if (vg_jl_str(l, k, &v))
                vg_dec_set_target(ev, v);
            break;
        default:
            vg_jl_set_str(l, k, ev, (VgFieldId)f);
            break;
        }
    }
    if ((mask >> VG_F_TOKEN & 1u) && vg_jl_str(l, base + VG_F_TOKEN, &v))
        vg_dec_set_credential(ev, v, l->arena);
    if ((mask >> VG_F_ENDPOINT & 1u) && vg_jl_str(l, base + VG_F_ENDPOINT, &v))
        vg_event_set_str(ev, VG_F_ENDPOINT,
                         vg_endpoint_from_route(vg_event_str(ev, VG_F_METHOD), v, l->arena));
    return r;
}

/* ---- the decoder ---- */

bool vg_json_mapping_check(const GArray *fields, GError **err)
{
    for (guint i = 0; fields && i < fields->len; i++) {
        const VgFieldMapping *m = &g_array_index(fields, VgFieldMapping, i);
        if (!m->field || vg_field_resolve(m->field) == VG_F_EXTRA) {
            GString *known = g_string_new(NULL);
            for (int f = 0; f < VG_F__COUNT; f++)
                g_string_append_printf(known, "%s%s", f ? ", " : "", vg_field_name(f));
            g_set_error(err, VG_ERROR, VG_ECONFIG,
                        "input.fields: unknown field '%s' (known fields: %s)",
                        m->field ? m->field : "", known->str);
            g_string_free(known, TRUE);
            return false;
        }
        if (!m->source || !*m->source || m->source[0] == '.' ||
            m->source[strlen(m->source) - 1] == '.' || strstr(m->source, "..")) {
            g_set_error(err, VG_ERROR, VG_ECONFIG,
                        "input.fields: field '%s' needs a dotted source path such as "
                        "\"request.headers.host\" (got \"%s\")",
                        m->field, m->source ? m->source : "");
            return false;
        }
    }
    return true;
}

VgDecoder *vg_json_decoder_create(const VgDecoderOps *ops, const VgInputConf *conf, GError **err)
{
    const VgJsonPreset *preset = (const VgJsonPreset *)ops;
    const GArray *fields = conf ? conf->fields : NULL;
    if (!vg_json_mapping_check(fields, err))
        return NULL;
    VgJsonDecoder *d = g_new0(VgJsonDecoder, 1);
    d->base.ops = ops;
    d->preset = preset;
    d->user_base = preset->n_slots;
    g_assert(d->user_base + VG_F__COUNT <= VG_JSON_MAX_SLOTS);
    d->map = vg_json_map_new();
    for (const VgJsonPath *p = preset->paths; p->path; p++)
        if (vg_json_map_add(d->map, p->path, strlen(p->path), p->slot) < 0)
            g_error("decoder %s: bad built-in path %s", ops->name, p->path);
    for (guint i = 0; fields && i < fields->len; i++) {
        const VgFieldMapping *m = &g_array_index(fields, VgFieldMapping, i);
        VgFieldId f = vg_field_resolve(m->field);
        vg_json_map_add(d->map, m->source, strlen(m->source), d->user_base + (unsigned)f);
        d->user_fields |= 1u << f;
    }
    vg_json_map_compile(d->map);
    d->scanner = vg_json_scanner_new();
    return &d->base;
}

VgBadReason vg_json_decoder_decode(VgDecoder *dec, const char *line, size_t len, VgEvent *ev,
                                   VgArena *arena)
{
    VgJsonDecoder *d = (VgJsonDecoder *)dec;
    VgJsonSlot slots[VG_JSON_MAX_SLOTS];
    VgJsonSeen seen = {{0}};
    ev->raw = vg_str(line, len);
    ev->decoder = dec;
    VgBadReason r = vg_json_scan(d->scanner, d->map, line, len, slots, &seen, arena);
    if (r != VG_BAD_NONE)
        return r;
    VgJsonLine l = {slots, &seen, arena};
    r = d->preset->finish(&l, ev);
    if (r != VG_BAD_NONE)
        return r;
    if (d->user_fields) {
        r = vg_jl_apply_canonical(&l, d->user_base, d->user_fields, ev);
        if (r != VG_BAD_NONE)
            return r;
    }
    if (!vg_event_has(ev, VG_F_TIME))
        return VG_BAD_NO_TIME;
    vg_dec_finish(ev, arena);
    return VG_BAD_NONE;
}

bool vg_json_decoder_lookup(const VgDecoder *d, const VgEvent *ev, const char *path, size_t len,
                            VgValue *out, VgArena *arena)
{
    (void)d;
    if (!ev->raw.p || !len)
        return false;
    return vg_json_lookup(ev->raw.p, ev->raw.len, false, path, len, out, arena);
}

void vg_json_decoder_destroy(VgDecoder *dec)
{
    VgJsonDecoder *d = (VgJsonDecoder *)dec;
    if (!d)
        return;
    vg_json_map_free(d->map);
    vg_json_scanner_free(d->scanner);
    g_free(d);
}

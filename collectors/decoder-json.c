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
    /* Lines still to send straight to simdjson, and how many to send after the next
     * failure of the fast path (see vg_json_decoder_decode()). */
    unsigned fast_skip, fast_backoff;
} VgJsonDecoder;

/* ---- slot readers (the inline ones are in decoder-json.h) ---- */

int vg_jl_num_text(const VgJsonSlot *s, double *out)
{
    if (s->kind != VG_JV_STR)
        return -1;
    if (vg_dec_blank(s->s))
        return 0;
    return vg_dec_parse_double(s->s.p, s->s.len, out) ? 1 : -1;
}

int vg_jl_int_text(const VgJsonSlot *s, int64_t *out)
{
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
    const VgJsonSlot *s = vg_jl_slot(l, slot);
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

/* Bits [base, base + VG_F__COUNT) of seen, as a field mask. */
static inline uint32_t seen_fields(const VgJsonSeen *s, unsigned base)
{
    unsigned w = base >> 6, b = base & 63;
    uint64_t x = s->w[w] >> b;
    if (b && w + 1 < G_N_ELEMENTS(s->w))
        x |= s->w[w + 1] << (64 - b);
    return (uint32_t)x & ((1u << VG_F__COUNT) - 1);
}

static inline void apply_str(const VgJsonLine *l, unsigned base, uint32_t mask, VgEvent *ev,
                             VgFieldId f)
{
    if (mask >> f & 1u)
        vg_jl_set_str(l, base + (unsigned)f, ev, f);
}

VgBadReason vg_jl_apply_canonical(const VgJsonLine *l, unsigned base, uint32_t mask, VgEvent *ev)
{
    VgBadReason r = VG_BAD_NONE;
    VgStr v;
    /* Only the fields the line has, one after the other in field order, written out rather
     * than a loop over a switch: every field is a predictable branch instead of an indirect
     * jump. Order matters: a URL in `path` fills scheme and host only when those were not
     * given, and the first bad number or time stops the fields after it (token and endpoint
     * are still applied). */
    G_STATIC_ASSERT(VG_F__COUNT == 17); /* a new canonical field needs its line here */
    mask &= seen_fields(l->seen, base);
    if ((mask >> VG_F_TIME & 1u) && vg_jl_time(l, base + VG_F_TIME, ev) < 0) {
        r = VG_BAD_TIME;
        goto last;
    }
    apply_str(l, base, mask, ev, VG_F_CLIENT_IP);
    apply_str(l, base, mask, ev, VG_F_METHOD);
    apply_str(l, base, mask, ev, VG_F_SCHEME);
    apply_str(l, base, mask, ev, VG_F_HOST);
    if ((mask >> VG_F_PATH & 1u) && vg_jl_str(l, base + VG_F_PATH, &v))
        vg_dec_set_target(ev, v);
    apply_str(l, base, mask, ev, VG_F_QUERY);
    if (((mask >> VG_F_STATUS & 1u) && (r = vg_jl_set_status(l, base + VG_F_STATUS, ev))) ||
        ((mask >> VG_F_BYTES_OUT & 1u) &&
         (r = vg_jl_set_int(l, base + VG_F_BYTES_OUT, ev, VG_F_BYTES_OUT))) ||
        ((mask >> VG_F_BYTES_IN & 1u) &&
         (r = vg_jl_set_int(l, base + VG_F_BYTES_IN, ev, VG_F_BYTES_IN))) ||
        ((mask >> VG_F_LATENCY_MS & 1u) &&
         (r = vg_jl_set_latency(l, base + VG_F_LATENCY_MS, 1.0, ev))))
        goto last;
    apply_str(l, base, mask, ev, VG_F_USER_AGENT);
    apply_str(l, base, mask, ev, VG_F_REFERER);
    apply_str(l, base, mask, ev, VG_F_USER);
    apply_str(l, base, mask, ev, VG_F_REQUEST_ID);
last:
    if ((mask >> VG_F_TOKEN & 1u) && vg_jl_str(l, base + VG_F_TOKEN, &v))
        vg_dec_set_credential(ev, v, l->arena);
    if ((mask >> VG_F_ENDPOINT & 1u) && vg_jl_str(l, base + VG_F_ENDPOINT, &v))
        vg_dec_set_str(ev, VG_F_ENDPOINT,
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
    /* The fast path and simdjson read a line alike, so which one does is a matter of time
     * only. A source whose lines the fast path gives up on (Kong escapes "\/" in every URL)
     * would pay for the attempt on every line: after each failure the next 1, 3, 7 ... up
     * to 63 lines go straight to simdjson, and one success ends the pause. */
    VgBadReason r = VG_BAD_NONE;
    if (VG_LIKELY(!d->fast_skip) && vg_json_fast_scan(d->map, line, len, slots, &seen)) {
        d->fast_backoff = 0;
    } else {
        if (d->fast_skip) {
            d->fast_skip--;
        } else {
            memset(&seen, 0, sizeof seen);
            d->fast_backoff = MIN(d->fast_backoff * 2 + 1, 63u);
            d->fast_skip = d->fast_backoff;
        }
        r = vg_json_scan_reference(d->scanner, d->map, line, len, slots, &seen, arena);
    }
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

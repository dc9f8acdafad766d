/* event-json.c — see event-json.h. */
#include "engine/event-json.h"

#include "engine/alert.h"
#include "engine/json-write.h"

void vg_event_to_json(const VgEvent *ev, uint32_t fields, const VgHmacKey *token_key, GString *out)
{
    g_string_append_c(out, '{');
    bool first = true;
    for (int f = 0; f < VG_F__COUNT; f++) {
        if (!vg_event_has(ev, (VgFieldId)f) || !((fields >> f) & 1u))
            continue;
        g_string_append_printf(out, "%s\"%s\":", first ? "" : ",", vg_field_name((VgFieldId)f));
        first = false;
        VgValue v;
        vg_event_get(ev, (VgFieldId)f, &v);
        if (f == VG_F_TIME) {
            char ts[25];
            g_string_append_printf(out, "\"%s\"", vg_time_format(ev->time_ms, ts));
        } else if (f == VG_F_TOKEN) {
            char tid[17];
            vg_token_hex(vg_token_num(token_key, ev->token), tid);
            g_string_append_printf(out, "\"%s\"", tid);
        } else if (v.kind == VG_V_INT) {
            g_string_append_printf(out, "%" G_GINT64_FORMAT, v.i);
        } else if (v.kind == VG_V_DOUBLE) {
            vg_json_num(out, v.d);
        } else {
            vg_json_vstr(out, v.s);
        }
    }
    g_string_append_c(out, '}');
}

bool vg_field_mask_parse(const char *list, uint32_t *mask, GError **err)
{
    *mask = 0;
    char **names = g_strsplit(list, ",", -1);
    bool ok = true;
    for (char **n = names; *n; n++) {
        char *name = g_strstrip(*n);
        if (!*name)
            continue;
        VgFieldId f = vg_field_resolve(name);
        if (f == VG_F_EXTRA) {
            g_set_error(err, VG_ERROR, VG_EINVAL, "unknown field '%s' in --fields", name);
            ok = false;
            break;
        }
        *mask |= 1u << f;
    }
    g_strfreev(names);
    return ok;
}

/* json-write.h — appending JSON text to a GString: escaped strings and numbers.
 * Used where vigil writes JSON by hand (alerts, explain): the shapes are fixed, so a
 * writer is simpler and faster than building a tree. */
#ifndef VG_JSON_WRITE_H
#define VG_JSON_WRITE_H

#include "engine/vg.h"

/* Appends s as a quoted JSON string. Control characters are escaped; bytes that are not
 * valid UTF-8 become U+FFFD, so the output is always valid JSON. */
void vg_json_str(GString *out, const char *s, size_t len);
static inline void vg_json_vstr(GString *out, VgStr s)
{
    vg_json_str(out, s.p ? s.p : "", s.len);
}
static inline void vg_json_cstr(GString *out, const char *s)
{
    vg_json_str(out, s ? s : "", s ? strlen(s) : 0);
}
/* Appends a number; non-finite values become null. Integers print without a fraction. */
void vg_json_num(GString *out, double v);

#endif

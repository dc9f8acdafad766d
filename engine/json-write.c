/* json-write.c — see json-write.h. */
#include "engine/json-write.h"

#include <math.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        len = 2;
        min = 0x80;
        c &= 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        len = 3;
        min = 0x800;
        c &= 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        len = 4;
        min = 0x10000;
        c &= 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    return len;
}

void vg_json_str(GString *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    g_string_append_c(out, '"');
    size_t i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run > i) {
            g_string_append_len(out, s + i, (gssize)(run - i));
            i = run;
            continue;
        }
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            g_string_append_c(out, '\\');
            g_string_append_c(out, (char)c);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n':
                g_string_append(out, "\\n");
                break;
            case '\r':
                g_string_append(out, "\\r");
                break;
            case '\t':
                g_string_append(out, "\\t");
                break;
            default:
                g_string_append(out, "\\u00");
                g_string_append_c(out, hex[c >> 4]);
                g_string_append_c(out, hex[c & 15]);
            }
            i++;
        } else {
            size_t n = utf8_len(p + i, len - i);
            if (n) {
                g_string_append_len(out, s + i, (gssize)n);
                i += n;
            } else {
                g_string_append(out, "\xef\xbf\xbd");
                i++;
            }
        }
    }
    g_string_append_c(out, '"');
}

void vg_json_num(GString *out, double v)
{
    if (!isfinite(v)) {
        g_string_append(out, "null");
        return;
    }
    if (v == floor(v) && fabs(v) < 1e15) {
        g_string_append_printf(out, "%.0f", v);
        return;
    }
    char buf[32];
    /* %.6g keeps alerts readable; p-values need the exponent form it gives */
    snprintf(buf, sizeof buf, "%.6g", v);
    g_string_append(out, buf);
}

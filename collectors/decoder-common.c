/* decoder-common.c — see decoder-common.h. */
#include "collectors/decoder-common.h"

#include "collectors/endpoint-template.h"
#include "collectors/json-scan.h"

#include <math.h>
#include <stdio.h>

static inline bool digit(char c)
{
    return c >= '0' && c <= '9';
}

bool vg_dec_parse_int(const char *p, size_t n, int64_t *out)
{
    while (n && *p == ' ') {
        p++;
        n--;
    }
    while (n && p[n - 1] == ' ')
        n--;
    size_t i = 0;
    bool neg = false;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    if (i == n || n - i > 18)
        return false;
    int64_t v = 0;
    for (; i < n; i++) {
        if (!digit(p[i]))
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

bool vg_dec_parse_double(const char *p, size_t n, double *out)
{
    while (n && *p == ' ') {
        p++;
        n--;
    }
    while (n && p[n - 1] == ' ')
        n--;
    size_t i = 0;
    bool neg = false;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    double v = 0;
    size_t digits = 0;
    for (; i < n && digit(p[i]); i++, digits++)
        v = v * 10 + (p[i] - '0');
    if (i < n && p[i] == '.') {
        double scale = 0.1;
        for (i++; i < n && digit(p[i]); i++, digits++) {
            v += (p[i] - '0') * scale;
            scale *= 0.1;
        }
    }
    if (!digits)
        return false;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        int64_t e;
        if (!vg_dec_parse_int(p + i, n - i, &e) || e > 308 || e < -308)
            return false;
        v *= pow(10.0, (double)e);
        i = n;
    }
    if (i != n)
        return false;
    *out = neg ? -v : v;
    return true;
}

void vg_dec_split_query(VgEvent *ev)
{
    if (!vg_event_has(ev, VG_F_PATH) || !ev->path.p)
        return;
    const char *q = memchr(ev->path.p, '?', ev->path.len);
    if (!q)
        return;
    size_t at = (size_t)(q - ev->path.p);
    if (!vg_event_has(ev, VG_F_QUERY) && at + 1 < ev->path.len)
        vg_event_set_str(ev, VG_F_QUERY, vg_str(q + 1, ev->path.len - at - 1));
    ev->path.len = (uint32_t)at;
}

void vg_dec_set_target(VgEvent *ev, VgStr t)
{
    if (!t.p)
        return;
    const char *p = t.p, *end = t.p + t.len;
    /* absolute URL: scheme://host[:port]/path */
    const char *colon = t.len > 3 && p[0] != '/' ? memchr(p, ':', t.len < 8 ? t.len : 8) : NULL;
    if (colon && colon + 2 < end && colon[1] == '/' && colon[2] == '/') {
        if (!vg_event_has(ev, VG_F_SCHEME))
            vg_event_set_str(ev, VG_F_SCHEME, vg_str(p, (size_t)(colon - p)));
        const char *h = colon + 3, *he = h;
        while (he < end && *he != '/' && *he != '?')
            he++;
        if (!vg_event_has(ev, VG_F_HOST) && he > h)
            vg_event_set_str(ev, VG_F_HOST, vg_str(h, (size_t)(he - h)));
        p = he;
        if (p == end || *p == '?') {
            /* "http://h" or "http://h?x": the path is "/" */
            if (p < end && !vg_event_has(ev, VG_F_QUERY) && p + 1 < end)
                vg_event_set_str(ev, VG_F_QUERY, vg_str(p + 1, (size_t)(end - p - 1)));
            vg_event_set_str(ev, VG_F_PATH, VG_STR_LIT("/"));
            return;
        }
    }
    vg_event_set_str(ev, VG_F_PATH, vg_str(p, (size_t)(end - p)));
    vg_dec_split_query(ev);
}

/* ---- credentials ---- */

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decodes base64 or base64url (padding optional) into out; returns the length or -1. */
static ssize_t b64_decode(const char *s, size_t n, char *out)
{
    while (n && s[n - 1] == '=')
        n--;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    return (ssize_t)o;
}

/* The `sub` claim of a JWT (header.payload.signature), or VG_STR_NULL. */
static VgStr jwt_subject(VgStr jwt, VgArena *arena)
{
    const char *d1 = memchr(jwt.p, '.', jwt.len);
    if (!d1)
        return VG_STR_NULL;
    const char *pay = d1 + 1, *end = jwt.p + jwt.len;
    const char *d2 = memchr(pay, '.', (size_t)(end - pay));
    if (!d2 || d2 == pay || d2 - pay > 8192)
        return VG_STR_NULL;
    size_t n = (size_t)(d2 - pay);
    char *buf = vg_arena_alloc(arena, n + VG_LINE_PADDING);
    ssize_t len = b64_decode(pay, n, buf);
    if (len < 2)
        return VG_STR_NULL;
    memset(buf + len, 0, VG_LINE_PADDING);
    size_t i = 0;
    while (i < (size_t)len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
        i++;
    if (i == (size_t)len || buf[i] != '{')
        return VG_STR_NULL;
    VgValue v;
    if (!vg_json_lookup(buf, (size_t)len, true, "sub", 3, &v, arena))
        return VG_STR_NULL;
    if (v.kind == VG_V_STR && v.s.len)
        return v.s;
    if (v.kind == VG_V_INT) {
        char *t = vg_arena_alloc(arena, 24);
        int k = snprintf(t, 24, "%" G_GINT64_FORMAT, v.i);
        return vg_str(t, (size_t)k);
    }
    return VG_STR_NULL;
}

static bool looks_like_jwt(VgStr s)
{
    if (s.len < 10 || s.p[0] != 'e' || s.p[1] != 'y')
        return false;
    int dots = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.p[i] == '.')
            dots++;
        else if (b64val((unsigned char)s.p[i]) < 0 && s.p[i] != '=')
            return false;
    }
    return dots == 2;
}

static bool scheme_is(VgStr s, const char *name, size_t n)
{
    return s.len > n && s.p[n] == ' ' && g_ascii_strncasecmp(s.p, name, n) == 0;
}

void vg_dec_set_credential(VgEvent *ev, VgStr c, VgArena *arena)
{
    while (c.len && (c.p[0] == ' ' || c.p[0] == '\t')) {
        c.p++;
        c.len--;
    }
    while (c.len && (c.p[c.len - 1] == ' ' || c.p[c.len - 1] == '\t'))
        c.len--;
    if (vg_dec_blank(c) || vg_str_eq_c(c, "REDACTED"))
        return;
    if (scheme_is(c, "Basic", 5)) {
        VgStr b = vg_str(c.p + 6, c.len - 6);
        while (b.len && b.p[0] == ' ') {
            b.p++;
            b.len--;
        }
        char *buf = vg_arena_alloc(arena, b.len + 1);
        ssize_t n = b64_decode(b.p, b.len, buf);
        const char *colon = n > 0 ? memchr(buf, ':', (size_t)n) : NULL;
        if (colon && colon > buf && vg_utf8_valid(buf, (size_t)(colon - buf))) {
            VgStr user = vg_str(buf, (size_t)(colon - buf));
            vg_event_set_str(ev, VG_F_TOKEN, user);
            if (!vg_event_has(ev, VG_F_USER))
                vg_event_set_str(ev, VG_F_USER, user);
            return;
        }
        vg_event_set_str(ev, VG_F_TOKEN, b);
        return;
    }
    if (scheme_is(c, "Bearer", 6)) {
        c = vg_str(c.p + 7, c.len - 7);
        while (c.len && c.p[0] == ' ') {
            c.p++;
            c.len--;
        }
        if (!c.len)
            return;
    } else {
        /* another scheme ("ApiKey k", "Token t"): the credential follows it */
        const char *sp = memchr(c.p, ' ', c.len);
        if (sp && sp + 1 < c.p + c.len)
            c = vg_str(sp + 1, (size_t)(c.p + c.len - sp - 1));
    }
    if (looks_like_jwt(c)) {
        VgStr sub = jwt_subject(c, arena);
        if (sub.p) {
            vg_event_set_str(ev, VG_F_TOKEN, sub);
            return;
        }
    }
    vg_event_set_str(ev, VG_F_TOKEN, c);
}

void vg_dec_finish(VgEvent *ev, VgArena *arena)
{
    vg_dec_split_query(ev);
    if (!vg_event_has(ev, VG_F_ENDPOINT) && vg_event_has(ev, VG_F_PATH)) {
        VgStr m = vg_event_has(ev, VG_F_METHOD) ? ev->method : VG_STR_NULL;
        vg_event_set_str(ev, VG_F_ENDPOINT, vg_endpoint_template(m, ev->path, arena));
    }
}

/* ---- nginx/Apache quoted-field escapes ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

VgStr vg_dec_unescape_text(VgStr s, VgArena *arena)
{
    if (!s.p || !memchr(s.p, '\\', s.len))
        return s;
    char *out = vg_arena_alloc(arena, (size_t)s.len + 1);
    size_t o = 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        if (c != '\\' || i + 1 == s.len) {
            out[o++] = c;
            continue;
        }
        char e = s.p[++i];
        int h1, h2;
        if (e == 'x' && i + 2 < s.len && (h1 = hexval(s.p[i + 1])) >= 0 &&
            (h2 = hexval(s.p[i + 2])) >= 0) {
            out[o++] = (char)(h1 * 16 + h2);
            i += 2;
        } else if (e == 'n') {
            out[o++] = '\n';
        } else if (e == 't') {
            out[o++] = '\t';
        } else if (e == 'r') {
            out[o++] = '\r';
        } else if (e == '"' || e == '\\') {
            out[o++] = e;
        } else {
            out[o++] = '\\';
            out[o++] = e;
        }
    }
    out[o] = '\0';
    if (!vg_utf8_valid(out, o))
        return s;
    return vg_str(out, o);
}

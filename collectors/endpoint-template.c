/* endpoint-template.c — see endpoint-template.h for the rules.
 *
 * One pass over the path: each segment is classified by a single scan that collects its
 * character classes, and the kept text between identifiers is copied in runs. The output
 * buffer is sized for the worst case ("/1" -> "/{id}") so the copy never checks bounds.
 */
#include "collectors/endpoint-template.h"

enum {
    C_DIGIT = 1,
    C_HEX = 2,   /* 0-9 a-f A-F */
    C_ALPHA = 8, /* any ASCII letter */
    C_B64 = 16,  /* base64/base64url alphabet plus '~' and '.' */
    C_SEP = 32,  /* separators of slug words: - _ . */
    C_AT = 64,   /* '@' and '%': without one a segment cannot be an e-mail address */
};

static uint8_t cls[256];

static void cls_init(void)
{
    for (int c = 0; c < 256; c++) {
        uint8_t v = 0;
        if (c >= '0' && c <= '9')
            v |= C_DIGIT | C_HEX | C_B64;
        if (c >= 'a' && c <= 'z')
            v |= C_ALPHA | C_B64 | (c <= 'f' ? C_HEX : 0);
        if (c >= 'A' && c <= 'Z')
            v |= C_ALPHA | C_B64 | (c <= 'F' ? C_HEX : 0);
        if (c == '-' || c == '_' || c == '.')
            v |= C_SEP | C_B64;
        if (c == '+' || c == '=' || c == '~')
            v |= C_B64;
        if (c == '@' || c == '%')
            v |= C_AT;
        cls[c] = v;
    }
}

static inline const uint8_t *classes(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        cls_init();
        g_once_init_leave(&once, 1);
    }
    return cls;
}

static bool is_uuid(const char *s, size_t n, const uint8_t *t)
{
    if (n != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (i != 8 && i != 13 && i != 18 && i != 23 && !(t[(uint8_t)s[i]] & C_HEX))
            return false;
    return true;
}

static bool is_email(const char *s, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        size_t after = 0;
        if (s[i] == '@')
            after = i + 1;
        else if (s[i] == '%' && i + 2 < n && s[i + 1] == '4' && s[i + 2] == '0')
            after = i + 3;
        if (!after)
            continue;
        for (size_t j = after + 1; j + 1 < n; j++)
            if (s[j] == '.')
                return true;
        return false;
    }
    return false;
}

/* A slug: every part between separators is all letters or all digits. */
static bool is_slug(const char *s, size_t n, const uint8_t *t)
{
    bool letters = false, digits = false;
    for (size_t i = 0; i <= n; i++) {
        uint8_t c = i < n ? t[(uint8_t)s[i]] : C_SEP;
        if (c & C_SEP) {
            if (letters && digits)
                return false;
            letters = digits = false;
        } else if (c & C_DIGIT) {
            digits = true;
        } else {
            letters = true;
        }
    }
    return true;
}

/* The rules of the header, given the AND and the OR of the classes of s[0..n). */
static inline bool is_id(const char *s, size_t n, uint8_t all, uint8_t any, const uint8_t *t)
{
    if (n == 0)
        return false;
    if (all & C_DIGIT)
        return true;
    if (n >= 8 && (all & C_HEX) && (any & C_DIGIT))
        return true;
    if (n == 36 && is_uuid(s, n, t))
        return true;
    if (n >= 5 && (any & C_AT) && is_email(s, n))
        return true;
    if (n >= 16 && (all & C_B64) && (any & C_DIGIT) && (any & C_ALPHA) && !is_slug(s, n, t))
        return true;
    return false;
}

bool vg_path_segment_is_id(const char *s, size_t n)
{
    const uint8_t *t = classes();
    uint8_t all = 0xff, any = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = t[(uint8_t)s[i]];
        all &= c;
        any |= c;
    }
    return is_id(s, n, all, any, t);
}

VgStr vg_endpoint_template(VgStr method, VgStr path, VgArena *arena)
{
    if (!path.p)
        return VG_STR_NULL;
    const uint8_t *t = classes();
    size_t cap = (method.p ? method.len + 1 : 0) + (size_t)path.len * 5 / 2 + 8;
    char *out = vg_arena_alloc(arena, cap);
    size_t o = 0;
    if (method.p) {
        memcpy(out, method.p, method.len);
        o = method.len;
        out[o++] = ' ';
    }
    /* Segments are classified while they are found; the text between identifiers is
     * copied in one piece when the next identifier (or the end) comes, since most
     * segments are kept. */
    size_t i = 0, n = path.len, kept = 0;
    const char *p = path.p;
    while (i < n) {
        if (p[i] == '/') {
            i++;
            continue;
        }
        size_t j = i;
        uint8_t all = 0xff, any = 0;
        for (; j < n && p[j] != '/'; j++) {
            uint8_t c = t[(uint8_t)p[j]];
            all &= c;
            any |= c;
        }
        if (is_id(p + i, j - i, all, any, t)) {
            memcpy(out + o, p + kept, i - kept);
            o += i - kept;
            memcpy(out + o, "{id}", 4);
            o += 4;
            kept = j;
        }
        i = j;
    }
    memcpy(out + o, p + kept, n - kept);
    o += n - kept;
    out[o] = '\0';
    return vg_str(out, o);
}

VgStr vg_endpoint_from_route(VgStr method, VgStr route, VgArena *arena)
{
    if (!route.p || route.len == 0)
        return VG_STR_NULL;
    if (memchr(route.p, ' ', route.len) || !method.p)
        return route;
    char *out = vg_arena_alloc(arena, (size_t)method.len + 1 + route.len + 1);
    memcpy(out, method.p, method.len);
    out[method.len] = ' ';
    memcpy(out + method.len + 1, route.p, route.len);
    out[method.len + 1 + route.len] = '\0';
    return vg_str(out, (size_t)method.len + 1 + route.len);
}

/* decoder-common.c — see decoder-common.h. */
#include "collectors/decoder-common.h"

#include "collectors/endpoint-template.h"
#include "collectors/json-scan.h"
#include "engine/cpu.h"

#include <math.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && defined(__GNUC__)
#define VG_B64_X86 1
#include <immintrin.h>
#endif
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
        vg_dec_set_str(ev, VG_F_QUERY, vg_str(q + 1, ev->path.len - at - 1));
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
            vg_dec_set_str(ev, VG_F_SCHEME, vg_str(p, (size_t)(colon - p)));
        const char *h = colon + 3, *he = h;
        while (he < end && *he != '/' && *he != '?')
            he++;
        if (!vg_event_has(ev, VG_F_HOST) && he > h)
            vg_dec_set_str(ev, VG_F_HOST, vg_str(h, (size_t)(he - h)));
        p = he;
        if (p == end || *p == '?') {
            /* "http://h" or "http://h?x": the path is "/" */
            if (p < end && !vg_event_has(ev, VG_F_QUERY) && p + 1 < end)
                vg_dec_set_str(ev, VG_F_QUERY, vg_str(p + 1, (size_t)(end - p - 1)));
            vg_dec_set_str(ev, VG_F_PATH, VG_STR_LIT("/"));
            return;
        }
    }
    vg_dec_set_str(ev, VG_F_PATH, vg_str(p, (size_t)(end - p)));
    vg_dec_split_query(ev);
}

/* ---- credentials ---- */

/* Base64 and base64url digits in one table (value 0-63, 0xff for anything else), so a
 * token is checked and decoded with a load per character instead of a chain of range
 * tests: JWT bearer tokens run to hundreds of characters and arrive on every request. */
static uint8_t b64tab[256];

static void b64tab_init(void)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    memset(b64tab, 0xff, sizeof b64tab);
    for (int i = 0; i < 62; i++)
        b64tab[(uint8_t)digits[i]] = (uint8_t)i;
    b64tab['+'] = b64tab['-'] = 62;
    b64tab['/'] = b64tab['_'] = 63;
}

static inline const uint8_t *b64(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        b64tab_init();
        g_once_init_leave(&once, 1);
    }
    return b64tab;
}

#ifdef VG_B64_X86
/* Sixteen digits at u into twelve bytes at out (sixteen written): the digits' values by
 * range (A-Z, a-z, 0-9, + or -, / or _), then two multiply-adds join them into 24-bit
 * groups whose three bytes a shuffle puts in order. False, with nothing written, when one
 * of the sixteen is not a digit. */
__attribute__((target("ssse3,sse4.1"))) static bool b64_block16(const uint8_t *u, char *out)
{
    __m128i x = _mm_loadu_si128((const __m128i *)u);
#define IN(lo, hi)                                                                                 \
    _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8((char)((lo)-1))),                                \
                  _mm_cmplt_epi8(x, _mm_set1_epi8((char)((hi) + 1))))
#define IS(c) _mm_cmpeq_epi8(x, _mm_set1_epi8(c))
    __m128i up = IN('A', 'Z'), low = IN('a', 'z'), dig = IN('0', '9');
    __m128i p62 = _mm_or_si128(IS('+'), IS('-')), p63 = _mm_or_si128(IS('/'), IS('_'));
#undef IN
#undef IS
    __m128i ok = _mm_or_si128(_mm_or_si128(up, low), _mm_or_si128(dig, _mm_or_si128(p62, p63)));
    if (_mm_movemask_epi8(ok) != 0xffff)
        return false;
    /* bytes >= 0x80 are negative in the signed compares above, so in no range */
    __m128i v =
        _mm_or_si128(_mm_or_si128(_mm_and_si128(up, _mm_sub_epi8(x, _mm_set1_epi8('A'))),
                                  _mm_and_si128(low, _mm_sub_epi8(x, _mm_set1_epi8('a' - 26)))),
                     _mm_or_si128(_mm_and_si128(dig, _mm_add_epi8(x, _mm_set1_epi8(52 - '0'))),
                                  _mm_or_si128(_mm_and_si128(p62, _mm_set1_epi8(62)),
                                               _mm_and_si128(p63, _mm_set1_epi8(63)))));
    /* (a, b) -> a << 6 | b in 16 bits, then (ab, cd) -> ab << 12 | cd in 32 */
    v = _mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140));
    v = _mm_madd_epi16(v, _mm_set1_epi32(0x00011000));
    v = _mm_shuffle_epi8(v, _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1));
    _mm_storeu_si128((__m128i *)out, v);
    return true;
}
#endif

static VgCpuPath b64_path = VG_CPU_PATH(vg_cpu_sse41);

bool vg_b64_set_simd(bool on)
{
    return vg_cpu_path_set(&b64_path, on);
}

ssize_t vg_b64_decode(const char *s, size_t n, char *out)
{
    const uint8_t *t = b64();
    while (n && s[n - 1] == '=')
        n--;
    const uint8_t *u = (const uint8_t *)s;
    size_t o = 0, i = 0;
    uint32_t bad = 0;
#ifdef VG_B64_X86
    if (n >= 16 && vg_cpu_path_on(&b64_path)) /* (a block that fails is left to the loop below) */
        for (; i + 16 <= n && b64_block16(u + i, out + o); i += 16)
            o += 12;
#endif
    for (; i + 4 <= n; i += 4) {
        uint32_t a = t[u[i]], b = t[u[i + 1]], c = t[u[i + 2]], d = t[u[i + 3]];
        bad |= a | b | c | d;
        uint32_t v = a << 18 | b << 12 | c << 6 | d;
        out[o] = (char)(v >> 16);
        out[o + 1] = (char)(v >> 8);
        out[o + 2] = (char)v;
        o += 3;
    }
    uint32_t v = 0, k = (uint32_t)(n - i);
    for (uint32_t j = 0; j < k; j++) {
        bad |= t[u[i + j]];
        v = v << 6 | t[u[i + j]];
    }
    if (bad & 0x80)
        return -1;
    if (k == 2) {
        out[o++] = (char)(v >> 4);
    } else if (k == 3) {
        out[o++] = (char)(v >> 10);
        out[o++] = (char)(v >> 2);
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
    ssize_t len = vg_b64_decode(pay, n, buf);
    if (len < 2)
        return VG_STR_NULL;
    memset(buf + len, 0, VG_LINE_PADDING);
    size_t i = 0;
    while (i < (size_t)len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
        i++;
    if (i == (size_t)len || buf[i] != '{')
        return VG_STR_NULL;
    /* a plain payload is read without simdjson, whose set-up (stage 1 over the whole
     * document) was most of a new JWT's cost; the reader gives up on anything else */
    VgValue v;
    int fr = vg_json_fast_member(buf, (size_t)len, "sub", 3, &v);
    if (fr == 0 || (fr < 0 && !vg_json_lookup(buf, (size_t)len, true, "sub", 3, &v, arena)))
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

/* One byte of a JWT: a base64/base64url digit, '=' or '.'. */
static inline bool jwt_char_ok(uint8_t c)
{
    return (uint8_t)((c | 0x20) - 'a') < 26 || (uint8_t)(c - '0') < 10 || c == '+' || c == '-' ||
           c == '/' || c == '_' || c == '=' || c == '.';
}

#ifdef __SSE2__
/* 16 bytes at p: a mask of the bytes that are JWT characters, and of the dots. SSE2 has no
 * unsigned byte compare, so "v - lo < n" is done signed with both sides shifted by 0x80. */
static inline void jwt_block(const uint8_t *p, unsigned *ok, unsigned *dot)
{
    __m128i x = _mm_loadu_si128((const __m128i *)p), k80 = _mm_set1_epi8((char)0x80);
    __m128i l = _mm_or_si128(x, _mm_set1_epi8(0x20));
    __m128i alpha = _mm_cmplt_epi8(_mm_xor_si128(_mm_sub_epi8(l, _mm_set1_epi8('a')), k80),
                                   _mm_set1_epi8((char)(26 ^ 0x80)));
    __m128i digit = _mm_cmplt_epi8(_mm_xor_si128(_mm_sub_epi8(x, _mm_set1_epi8('0')), k80),
                                   _mm_set1_epi8((char)(10 ^ 0x80)));
    __m128i d = _mm_cmpeq_epi8(x, _mm_set1_epi8('.'));
    __m128i o = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('+')), _mm_cmpeq_epi8(x, _mm_set1_epi8('-'))),
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('/')), _mm_cmpeq_epi8(x, _mm_set1_epi8('_'))));
    o = _mm_or_si128(o, _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('=')), d));
    *ok = (unsigned)_mm_movemask_epi8(_mm_or_si128(o, _mm_or_si128(alpha, digit)));
    *dot = (unsigned)_mm_movemask_epi8(d);
}
#endif

/* Three dot-separated parts of base64url (and '='). JWTs run to hundreds of characters on
 * every request, so whole blocks of 16 are checked at once where SSE2 is there. */
static bool looks_like_jwt(VgStr s)
{
    if (s.len < 10 || s.p[0] != 'e' || s.p[1] != 'y')
        return false;
    const uint8_t *u = (const uint8_t *)s.p;
    size_t i = 0, dots = 0;
#ifdef __SSE2__
    for (; i + 16 <= s.len; i += 16) {
        unsigned ok, dot;
        jwt_block(u + i, &ok, &dot);
        if (ok != 0xffff)
            return false;
        for (; dot; dot &= dot - 1) /* no popcnt instruction in the baseline ISA */
            dots++;
    }
#endif
    for (; i < s.len; i++) {
        if (!jwt_char_ok(u[i]))
            return false;
        dots += u[i] == '.';
    }
    return dots == 2;
}

/* ---- recently seen JWTs ----
 * The same bearer tokens come back request after request, and finding a JWT's subject
 * (check the alphabet, decode the payload, parse it) costs more than all the rest of a
 * line. A direct-mapped table per thread remembers the subjects of the last JWTs seen,
 * keyed by the token's exact bytes, so a repeat costs a compare and a copy into the
 * arena. The subject is a function of those bytes alone, so the table changes no result;
 * tokens made to collide in it only miss. Allocated once per decoding thread (1.2 MB),
 * freed at its exit.
 *
 * 1024 slots: the generated traffic rotates 1,250 JWTs over a tenth of its requests, and
 * 64 slots missed 85 % of them; 1024 took 243 instructions off every JSON event (12,812
 * to 12,569; 2048 slots 294), though not time (1.003: the table is out of the core's
 * cache). With one of those JWTs on every request, a replay is 1.060 times as fast
 * (6 alternating one-core rounds, 2026-11-25). */

enum {
    JWT_SLOTS_LOG2 = 10,
    JWT_MAX = 1024,    /* longer tokens are not remembered */
    JWT_SUB_MAX = 128, /* nor are longer subjects */
};

typedef struct {
    uint32_t len;    /* 0: empty */
    int32_t sub_len; /* -1: the token has no usable subject */
    char jwt[JWT_MAX];
    char sub[JWT_SUB_MAX];
} JwtSeen;

static GPrivate jwt_seen_key = G_PRIVATE_INIT(g_free);

static JwtSeen *jwt_seen_slot(VgStr jwt)
{
    JwtSeen *t = g_private_get(&jwt_seen_key);
    if (G_UNLIKELY(!t)) {
        t = g_new0(JwtSeen, 1u << JWT_SLOTS_LOG2);
        g_private_set(&jwt_seen_key, t);
    }
    uint64_t w; /* the end of the signature: the most varied bytes of a JWT */
    memcpy(&w, jwt.p + jwt.len - 8, 8);
    return &t[((w ^ jwt.len) * 0x9E3779B97F4A7C15ull) >> (64 - JWT_SLOTS_LOG2)];
}

/* true when c is a JWT; *sub is then its subject (in arena) or VG_STR_NULL. */
static bool jwt_token_subject(VgStr c, VgArena *arena, VgStr *sub)
{
    if (c.len < 10 || c.p[0] != 'e' || c.p[1] != 'y')
        return false;
    JwtSeen *e = c.len <= JWT_MAX ? jwt_seen_slot(c) : NULL;
    if (e && e->len == c.len && memcmp(e->jwt, c.p, c.len) == 0) {
        *sub = e->sub_len < 0 ? VG_STR_NULL : vg_arena_strdup(arena, e->sub, (size_t)e->sub_len);
        return true;
    }
    if (!looks_like_jwt(c))
        return false;
    *sub = jwt_subject(c, arena);
    if (e && sub->len <= JWT_SUB_MAX) {
        e->len = (uint32_t)c.len;
        memcpy(e->jwt, c.p, c.len);
        e->sub_len = sub->p ? (int32_t)sub->len : -1;
        if (sub->p)
            memcpy(e->sub, sub->p, sub->len);
    }
    return true;
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
        ssize_t n = vg_b64_decode(b.p, b.len, buf);
        const char *colon = n > 0 ? memchr(buf, ':', (size_t)n) : NULL;
        if (colon && colon > buf && vg_utf8_valid(buf, (size_t)(colon - buf))) {
            VgStr user = vg_str(buf, (size_t)(colon - buf));
            vg_dec_set_str(ev, VG_F_TOKEN, user);
            if (!vg_event_has(ev, VG_F_USER))
                vg_dec_set_str(ev, VG_F_USER, user);
            return;
        }
        vg_dec_set_str(ev, VG_F_TOKEN, b);
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
    VgStr sub;
    if (jwt_token_subject(c, arena, &sub) && sub.p) {
        vg_dec_set_str(ev, VG_F_TOKEN, sub);
        return;
    }
    vg_dec_set_str(ev, VG_F_TOKEN, c);
}

void vg_dec_finish(VgEvent *ev, VgArena *arena)
{
    vg_dec_split_query(ev);
    if (!vg_event_has(ev, VG_F_ENDPOINT) && vg_event_has(ev, VG_F_PATH)) {
        VgStr m = vg_event_has(ev, VG_F_METHOD) ? ev->method : VG_STR_NULL;
        vg_dec_set_str(ev, VG_F_ENDPOINT, vg_endpoint_template(m, ev->path, arena));
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

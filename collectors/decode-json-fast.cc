/* decode-json-fast.cc — vg_json_scan()'s fast path: strict JSON, no simdjson.
 *
 * Most lines are plain: ASCII, no escapes, short numbers, a flat or shallow object. For
 * those, indexing the whole line (stage 1) and then walking it token by token costs more
 * than reading it once, so vg_json_scan() first tries a small hand-written reader that
 * accepts only a strict subset of JSON and gives up (returns nullptr) at the first thing
 * outside it: any byte >= 0x80 or below 0x20 inside a string, a backslash, a number with a
 * sign or an exponent or too many digits to convert exactly, an array read into a slot,
 * nesting deeper than FAST_MAX_DEPTH, a line longer than FAST_MAX_LEN, and anything that
 * is not valid JSON. Giving up costs nothing but the time spent: the line is then scanned
 * by simdjson from scratch.
 *
 * What the subset buys is that every line it accepts is valid JSON and valid UTF-8, which
 * simdjson accepts too, and reads to the same slots: strings are the bytes between the
 * quotes, integers of up to 18 digits are exact, and decimals of up to 15 digits with at
 * most 22 after the point are one correctly rounded division, as in simdjson's own fast
 * path. tests/unit/test-json-scan.c and tests/fuzz/fuzz-decode-json.c check this against
 * vg_json_scan_reference().
 *
 * The one SIMD step: before reading, the line is turned into a bitmap of the bytes that
 * end or spoil a string (quote, backslash, below 0x20, above 0x7f), 64 bytes to a word,
 * so finding a string's end is a shift and a count of trailing zeros rather than a loop
 * whose length, and so whose mispredicted exit, changes with every value.
 *
 * vg_json_fast_member() reads one top-level key of a small document with the same reader
 * and the same subset, in place of vg_json_lookup() (simdjson On-Demand): a JWT's payload,
 * whose subject every new bearer token needs. With a new JWT on every request, a replay
 * was 1.036 times as fast (8 alternating one-core rounds, 2026-11-25).
 */
#include "collectors/decode-json-int.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

using namespace vg_json_int;

namespace
{

struct FastCtx {
    const VgJsonMap *map;
    VgJsonSlot *slots;
    VgJsonSeen *seen;
};

constexpr int FAST_MAX_DEPTH = 16;
constexpr size_t FAST_MAX_LEN = 8192;

struct FastLine {
    const char *base, *end;
    size_t words;
    uint64_t stops[FAST_MAX_LEN / 64];
};

#ifdef __SSE2__
/* Bit i set when p[i] is a quote, a backslash, below 0x20 or above 0x7f (16 bytes). */
inline uint64_t fast_stops16(const char *p)
{
    __m128i x = _mm_loadu_si128((const __m128i *)p);
    /* signed compare: bytes >= 0x80 are negative, so below 0x20 too */
    __m128i s = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
        _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)));
    return (unsigned)_mm_movemask_epi8(s);
}
#endif

/* Fills l for line[0..len), len <= FAST_MAX_LEN. Reads up to 63 bytes past the end: the
 * line has VG_LINE_PADDING (64) readable bytes there; what they hold only sets bits past
 * the end, which fast_string_end() never takes for a quote. */
inline void fast_line_init(FastLine &l, const char *line, size_t len)
{
    l.base = line;
    l.end = line + len;
    l.words = (len + 63) / 64;
    for (size_t w = 0; w < l.words; w++) {
        const char *p = line + w * 64;
#ifdef __SSE2__
        l.stops[w] = fast_stops16(p) | fast_stops16(p + 16) << 16 | fast_stops16(p + 32) << 32 |
                     fast_stops16(p + 48) << 48;
#else
        uint64_t m = 0;
        for (int i = 0; i < 64; i++) {
            unsigned char ch = (unsigned char)p[i];
            if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x80)
                m |= 1ull << i;
        }
        l.stops[w] = m;
#endif
    }
}

/* The closing quote of the string whose content starts at p, or nullptr when the content
 * holds a backslash, a control character or a non-ASCII byte, or does not end in the line. */
inline const char *fast_string_end(const FastLine &l, const char *p)
{
    if (p >= l.end)
        return nullptr;
    size_t off = (size_t)(p - l.base), w = off >> 6;
    uint64_t m = l.stops[w] >> (off & 63);
    while (!m) {
        if (++w >= l.words)
            return nullptr;
        m = l.stops[w];
        off = w << 6;
    }
    const char *q = l.base + off + __builtin_ctzll(m);
    return q < l.end && *q == '"' ? q : nullptr;
}

/* Skips whitespace. Most lines have none between tokens, so the first test settles it:
 * no JSON whitespace byte is above the space. */
inline const char *fast_ws(const char *p, const char *end)
{
    while (p < end && (unsigned char)*p <= ' ' && json_ws(*p))
        p++;
    return p;
}

inline bool fast_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* Whether a scalar may end at p: whitespace or the next structural character. */
inline bool fast_delim(const char *p, const char *end)
{
    return p == end || json_ws(*p) || *p == ',' || *p == '}' || *p == ']';
}

/* Exact powers of ten as doubles (all of them up to 1e22 are). */
const double fast_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Reads a non-negative number at p into s (when s is not null) as read_number() would;
 * the end of the number, or nullptr outside the subset. */
inline const char *fast_number(const char *p, const char *end, VgJsonSlot *s)
{
    const char *start = p;
    uint64_t w = 0;
    if (*p == '0') {
        p++;
    } else {
        while (p < end && fast_digit(*p))
            w = w * 10 + (uint64_t)(*p++ - '0');
    }
    size_t int_digits = (size_t)(p - start);
    if (!int_digits || int_digits > 18)
        return nullptr;
    if (p < end && *p == '.') {
        const char *f = ++p;
        while (p < end && fast_digit(*p))
            w = w * 10 + (uint64_t)(*p++ - '0');
        size_t frac_digits = (size_t)(p - f);
        if (!frac_digits || int_digits + frac_digits > 15 || frac_digits > 22 ||
            !fast_delim(p, end))
            return nullptr;
        if (s) {
            s->kind = VG_JV_NUM;
            s->is_int = false;
            s->s = vg_str(start, (size_t)(p - start));
            s->d = (double)w / fast_pow10[frac_digits];
            s->i = (int64_t)s->d;
        }
        return p;
    }
    if (!fast_delim(p, end))
        return nullptr;
    if (s) {
        s->kind = VG_JV_NUM;
        s->is_int = true;
        s->s = vg_str(start, int_digits);
        s->i = (int64_t)w;
        s->d = (double)s->i;
    }
    return p;
}

/* Matches the literal lit (true, false, null) at p. */
inline const char *fast_literal(const char *p, const char *end, const char *lit, size_t n)
{
    if ((size_t)(end - p) < n || memcmp(p, lit, n) || !fast_delim(p + n, end))
        return nullptr;
    return p + n;
}

const char *fast_skip(const FastLine &l, const char *p, int depth);

/* Skips (and checks) the members of an object or the elements of an array, p just after
 * its opening bracket. */
const char *fast_skip_container(const FastLine &l, const char *p, int depth, bool object)
{
    const char *end = l.end;
    char close = object ? '}' : ']';
    p = fast_ws(p, end);
    if (p < end && *p == close)
        return p + 1;
    for (;;) {
        if (object) {
            if (p >= end || *p != '"' || !(p = fast_string_end(l, p + 1)))
                return nullptr;
            p = fast_ws(p + 1, end);
            if (p >= end || *p != ':')
                return nullptr;
            p = fast_ws(p + 1, end);
        }
        if (!(p = fast_skip(l, p, depth)))
            return nullptr;
        p = fast_ws(p, end);
        if (p >= end)
            return nullptr;
        if (*p == close)
            return p + 1;
        if (*p != ',')
            return nullptr;
        p = fast_ws(p + 1, end);
    }
}

/* Skips (and checks) one value at p. Negative numbers are valid, but left to simdjson
 * rather than given sign rules of their own here. */
const char *fast_skip(const FastLine &l, const char *p, int depth)
{
    const char *end = l.end;
    if (p >= end)
        return nullptr;
    switch (*p) {
    case '"': {
        const char *q = fast_string_end(l, p + 1);
        return q ? q + 1 : nullptr;
    }
    case '{':
    case '[':
        if (depth >= FAST_MAX_DEPTH)
            return nullptr;
        return fast_skip_container(l, p + 1, depth + 1, *p == '{');
    case 't':
        return fast_literal(p, end, "true", 4);
    case 'f':
        return fast_literal(p, end, "false", 5);
    case 'n':
        return fast_literal(p, end, "null", 4);
    default:
        return fast_digit(*p) ? fast_number(p, end, nullptr) : nullptr;
    }
}

/* Reads the scalar at p into s as read_value() would (objects are noted, not read). */
inline const char *fast_read(const FastLine &l, const char *p, int depth, VgJsonSlot *s)
{
    const char *end = l.end;
    switch (*p) {
    case '"': {
        const char *q = fast_string_end(l, p + 1);
        if (!q)
            return nullptr;
        s->kind = VG_JV_STR;
        s->is_int = false;
        s->s = vg_str(p + 1, (size_t)(q - p - 1));
        return q + 1;
    }
    case 't':
    case 'f': {
        bool b = *p == 't';
        const char *q = b ? fast_literal(p, end, "true", 4) : fast_literal(p, end, "false", 5);
        if (q) {
            s->kind = VG_JV_BOOL;
            s->is_int = false;
            s->i = b;
            s->s = b ? VG_STR_LIT("true") : VG_STR_LIT("false");
        }
        return q;
    }
    case 'n': {
        const char *q = fast_literal(p, end, "null", 4);
        if (q) {
            s->kind = VG_JV_NULL;
            s->is_int = false;
            s->s = VG_STR_NULL;
        }
        return q;
    }
    case '{':
        s->kind = VG_JV_OBJECT;
        s->is_int = false;
        s->s = VG_STR_NULL;
        return depth >= FAST_MAX_DEPTH ? nullptr : fast_skip_container(l, p + 1, depth + 1, true);
    default:
        return fast_digit(*p) ? fast_number(p, end, s) : nullptr;
    }
}

inline void mark(FastCtx &c, unsigned slot)
{
    c.seen->w[slot >> 6] |= 1ull << (slot & 63);
}

/* The members of an object of node, p just after its '{'; the end of the object or
 * nullptr. Follows scan_object() and visit() step for step. */
const char *fast_object(FastCtx &c, const FastLine &l, const Node &node, const char *p, int depth)
{
    const char *end = l.end;
    p = fast_ws(p, end);
    if (p < end && *p == '}')
        return p + 1;
    /* Each step tests for what usually comes first (no whitespace between tokens) and
     * skips whitespace only when that fails. */
    for (;;) {
        if (p >= end || *p != '"') {
            p = fast_ws(p, end);
            if (p >= end || *p != '"')
                return nullptr;
        }
        const char *k = p + 1, *q = fast_string_end(l, k);
        if (!q)
            return nullptr;
        p = q + 1;
        if (p >= end || *p != ':') {
            p = fast_ws(p, end);
            if (p >= end || *p != ':')
                return nullptr;
        }
        p = fast_ws(p + 1, end);
        if (p >= end)
            return nullptr;
        const Entry *en = map_find(c.map, node, k, (uint32_t)(q - k));
        if (!en) {
            p = fast_skip(l, p, depth);
        } else if (en->leaf >= 0) {
            p = fast_read(l, p, depth, &c.slots[en->leaf]);
            if (p)
                mark(c, (unsigned)en->leaf);
        } else {
            const Node &n = c.map->nodes[en->node];
            bool object = *p == '{';
            if (!n.slots.empty()) {
                unsigned first = n.slots[0];
                VgJsonSlot *s = &c.slots[first];
                if (object) {
                    s->kind = VG_JV_OBJECT;
                    s->is_int = false;
                    s->s = VG_STR_NULL;
                } else if (!(p = fast_read(l, p, depth, s))) {
                    return nullptr;
                }
                mark(c, first);
                for (size_t i = 1; i < n.slots.size(); i++) {
                    c.slots[n.slots[i]] = *s;
                    mark(c, n.slots[i]);
                }
            }
            if (!object && n.slots.empty()) {
                p = fast_skip(l, p, depth);
            } else if (object) {
                if (depth >= FAST_MAX_DEPTH)
                    return nullptr;
                p = n.children.empty() ? fast_skip_container(l, p + 1, depth + 1, true)
                                       : fast_object(c, l, n, p + 1, depth + 1);
            }
        }
        if (!p)
            return nullptr;
        if (p < end && *p == ',') {
            p++; /* (whitespace before the next key: see the loop's top) */
            continue;
        }
        p = fast_ws(p, end);
        if (p >= end)
            return nullptr;
        if (*p == '}')
            return p + 1;
        if (*p != ',')
            return nullptr;
        p++;
    }
}

} // namespace

extern "C" bool vg_json_fast_scan(const VgJsonMap *m, const char *line, size_t len,
                                  VgJsonSlot *slots, VgJsonSeen *seen)
{
    FastCtx c{m, slots, seen};
    if (len > FAST_MAX_LEN)
        return false;
    FastLine l;
    fast_line_init(l, line, len);
    const char *p = fast_ws(line, l.end);
    if (p >= l.end || *p != '{')
        return false;
    p = fast_object(c, l, c.map->nodes[0], p + 1, 1);
    return p && fast_ws(p, l.end) == l.end;
}

extern "C" int vg_json_fast_member(const char *json, size_t len, const char *key, size_t klen,
                                   VgValue *out)
{
    if (len > FAST_MAX_LEN)
        return -1;
    FastLine l;
    fast_line_init(l, json, len);
    const char *end = l.end, *p = fast_ws(json, end);
    if (p >= end || *p != '{')
        return -1;
    p = fast_ws(p + 1, end);
    int found = 0;
    if (p < end && *p == '}')
        return fast_ws(p + 1, end) == end ? 0 : -1;
    for (;;) {
        if (p >= end || *p != '"')
            return -1;
        const char *k = p + 1, *q = fast_string_end(l, k);
        if (!q)
            return -1;
        p = fast_ws(q + 1, end);
        if (p >= end || *p != ':')
            return -1;
        p = fast_ws(p + 1, end);
        if (p >= end)
            return -1;
        if (!found && (size_t)(q - k) == klen && ieq(k, key, klen)) {
            VgJsonSlot v;
            if (!(p = fast_read(l, p, 1, &v)))
                return -1;
            /* as vg_json_lookup() gives it; an object would come back from there as its
             * text: left to it */
            *out = (VgValue){VG_V_NONE, v.s, v.i, v.d};
            switch (v.kind) {
            case VG_JV_STR:
                out->kind = VG_V_STR;
                break;
            case VG_JV_NUM:
                out->kind = v.is_int ? VG_V_INT : VG_V_DOUBLE;
                break;
            case VG_JV_BOOL:
                out->kind = VG_V_BOOL;
                break;
            case VG_JV_NULL:
                out->kind = VG_V_NULL;
                out->s = VG_STR_NULL;
                break;
            default:
                return -1;
            }
            found = 1;
        } else if (!(p = fast_skip(l, p, 1))) {
            return -1;
        }
        p = fast_ws(p, end);
        if (p >= end)
            return -1;
        if (*p == '}')
            return fast_ws(p + 1, end) == end ? found : -1;
        if (*p != ',')
            return -1;
        p = fast_ws(p + 1, end);
    }
}

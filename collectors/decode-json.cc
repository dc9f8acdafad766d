/* decode-json.cc — simdjson behind the C interface of json-scan.h; vigil's one C++ file.
 *
 * Why On-Demand: an access-log line has 15-60 keys of which a preset wants a dozen.
 * On-Demand indexes the structure with SIMD (validating UTF-8 on the way) and then lets us
 * pull only the values we ask for; everything else is skipped without being materialised.
 *
 * The map is a tree of path segments compiled into one small open-addressing table per
 * object level. Each table holds the node's children under their own name and also under
 * every dotted continuation ("request", "request.headers", "request.headers.host" at the
 * root), so a flat dotted key finds its node with the same single probe as a nested one.
 * Keys are compared as raw bytes between the quotes: a key written with escapes does not
 * match a map path (no gateway writes such keys; vg_json_lookup() unescapes keys).
 *
 * No exceptions: simdjson's error-code API throughout, every error ends the scan with
 * VG_BAD_JSON (or VG_BAD_UTF8), and the C side never sees a C++ exception.
 */
#include "collectors/json-scan.h"

#include <simdjson.h>

#include <string>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

using namespace simdjson;

static_assert(VG_LINE_PADDING >= SIMDJSON_PADDING, "decoder padding must cover simdjson's");

namespace
{

/* A table entry holds the first 16 bytes of its key as two little-endian words (zero
 * beyond the key's end), so a probe compares two words instead of looping over bytes; only
 * keys longer than 16 bytes compare their tail in keybuf. */
struct Entry {
    uint64_t w0, w1;
    uint32_t len;
    uint32_t off; /* key bytes in VgJsonMap::keybuf */
    int32_t node; /* -1: empty bucket */
    /* The common case answered from the entry alone: a key that feeds exactly one slot and
     * has nothing below it (leaf is that slot, else -1). */
    int32_t leaf;
};

struct Node {
    std::string name;
    std::vector<int> children;
    std::vector<uint8_t> slots;
    std::vector<Entry> table; /* power-of-two size, linear probing */
    uint32_t mask = 0;
};

inline uint64_t load64(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return w;
}

/* The first 16 bytes of k[0..len) as words, zero beyond len. Reads 16 bytes from k: the
 * caller guarantees they are readable (padding after the line, or a padded copy). */
inline void key_words(const char *k, uint32_t len, uint64_t *w0, uint64_t *w1)
{
    uint64_t a = load64(k), b = load64(k + 8);
    if (len < 8) {
        a &= (1ull << (len * 8)) - 1;
        b = 0;
    } else if (len < 16) {
        b &= (1ull << ((len - 8) * 8)) - 1;
    }
    *w0 = a;
    *w1 = b;
}

inline uint32_t key_hash(uint64_t w0, uint64_t w1, uint32_t len)
{
    uint64_t h = (w0 ^ (w1 * 0x9E3779B97F4A7C15ull) ^ len) * 0xC2B2AE3D27D4EB4Full;
    return (uint32_t)(h >> 32);
}

} // namespace

struct VgJsonMap {
    std::vector<Node> nodes; /* nodes[0] is the root object */
    std::string keybuf;
    bool compiled = false;
};

struct VgJsonScanner {
    ondemand::parser parser;
};

extern "C" VgJsonMap *vg_json_map_new(void)
{
    VgJsonMap *m = new VgJsonMap;
    m->nodes.emplace_back();
    return m;
}

extern "C" void vg_json_map_free(VgJsonMap *m)
{
    delete m;
}

extern "C" int vg_json_map_add(VgJsonMap *m, const char *path, size_t len, unsigned slot)
{
    if (!len || slot >= VG_JSON_MAX_SLOTS || m->compiled)
        return VG_EINVAL;
    int cur = 0;
    size_t i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && path[j] != '.')
            j++;
        if (j == i)
            return VG_EINVAL;
        std::string seg(path + i, j - i);
        int next = -1;
        for (int c : m->nodes[cur].children)
            if (m->nodes[c].name == seg)
                next = c;
        if (next < 0) {
            next = (int)m->nodes.size();
            m->nodes.emplace_back();
            m->nodes[next].name = seg;
            m->nodes[cur].children.push_back(next);
        }
        cur = next;
        i = j + 1;
    }
    std::vector<uint8_t> &s = m->nodes[cur].slots;
    for (uint8_t x : s)
        if (x == slot)
            return VG_OK;
    s.push_back((uint8_t)slot);
    return VG_OK;
}

/* Collects (dotted key, node) for every descendant of n: the keys its table answers. */
static void collect(const VgJsonMap *m, int n, const std::string &prefix,
                    std::vector<std::pair<std::string, int>> &out)
{
    for (int c : m->nodes[n].children) {
        std::string k = prefix.empty() ? m->nodes[c].name : prefix + "." + m->nodes[c].name;
        out.emplace_back(k, c);
        collect(m, c, k, out);
    }
}

extern "C" void vg_json_map_compile(VgJsonMap *m)
{
    for (size_t n = 0; n < m->nodes.size(); n++) {
        if (m->nodes[n].children.empty())
            continue;
        std::vector<std::pair<std::string, int>> keys;
        collect(m, (int)n, "", keys);
        uint32_t size = 8;
        while (size < keys.size() * 2)
            size <<= 1;
        std::vector<Entry> table(size, Entry{0, 0, 0, 0, -1, -1});
        for (auto &kv : keys) {
            uint32_t off = (uint32_t)m->keybuf.size();
            m->keybuf += kv.first;
            uint32_t len = (uint32_t)kv.first.size();
            std::string padded = kv.first + std::string(16, '\0');
            uint64_t w0, w1;
            key_words(padded.data(), len, &w0, &w1);
            uint32_t h = key_hash(w0, w1, len) & (size - 1);
            while (table[h].node >= 0)
                h = (h + 1) & (size - 1);
            const Node &c = m->nodes[kv.second];
            int32_t leaf = c.slots.size() == 1 && c.children.empty() ? c.slots[0] : -1;
            table[h] = Entry{w0, w1, len, off, kv.second, leaf};
        }
        m->nodes[n].table = std::move(table);
        m->nodes[n].mask = size - 1;
    }
    m->compiled = true;
}

/* The entry of the key k[0..len) in n's table, or NULL. k must have 16 readable bytes. */
static inline const Entry *map_find(const VgJsonMap *m, const Node &n, const char *k, uint32_t len)
{
    uint64_t w0, w1;
    key_words(k, len, &w0, &w1);
    const Entry *t = n.table.data();
    uint32_t h = key_hash(w0, w1, len) & n.mask;
    for (;;) {
        const Entry &e = t[h];
        if (e.node < 0)
            return nullptr;
        if (e.w0 == w0 && e.w1 == w1 && e.len == len &&
            (len <= 16 || !memcmp(m->keybuf.data() + e.off + 16, k + 16, len - 16)))
            return &e;
        h = (h + 1) & n.mask;
    }
}

extern "C" VgJsonScanner *vg_json_scanner_new(void)
{
    return new VgJsonScanner;
}

extern "C" void vg_json_scanner_free(VgJsonScanner *s)
{
    delete s;
}

namespace
{

struct ScanCtx {
    const VgJsonMap *map;
    VgJsonSlot *slots;
    VgJsonSeen *seen;
    VgArena *arena;
    /* The first backslash at or after the last string read (end: none). The walk reads
     * strings in line order, so one search serves every string up to the next backslash:
     * a line without escapes, the usual case, is searched once instead of per value. */
    const char *bs, *end;
};

/* Whether the string p[0..n), at or after every string read before it, holds a backslash. */
inline bool has_backslash(ScanCtx &c, const char *p, size_t n)
{
    if (c.bs < p) {
        const void *b = memchr(p, '\\', (size_t)(c.end - p));
        c.bs = b ? (const char *)b : c.end;
    }
    return c.bs < p + n;
}

inline bool json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The length of a raw key from where its value starts: the structural index has already
 * put the key's closing quote, the colon and the value's first byte at token positions, and
 * only whitespace may sit between them. So the key ends two bytes before the value in the
 * usual `"key":value`, and a short backward walk finds it otherwise, instead of a forward
 * scan over the key for an unescaped quote. */
inline uint32_t raw_key_len(const char *k, const char *value)
{
    const char *p = value - 1;
    while (json_ws(*p))
        p--;
    p--; /* the colon */
    while (json_ws(*p))
        p--;
    return (uint32_t)(p - k); /* p is the closing quote */
}

inline std::string_view trim_token(std::string_view t)
{
    while (!t.empty() && json_ws(t.back()))
        t.remove_suffix(1);
    return t;
}

/* Reads a string value: a view into the line when it has no escape, else unescaped into
 * the arena. */
inline error_code read_string(ScanCtx &c, ondemand::value &v, std::string_view tok, VgStr *out)
{
    tok = trim_token(tok);
    error_code e;
    if (tok.size() < 2 || tok.front() != '"' || tok.back() != '"')
        return STRING_ERROR;
    const char *p = tok.data() + 1;
    size_t n = tok.size() - 2;
    if (VG_LIKELY(!has_backslash(c, p, n))) {
        *out = vg_str(p, n);
        return SUCCESS;
    }
    std::string_view sv;
    e = v.get_string().get(sv);
    if (e)
        return e;
    *out = vg_arena_strdup(c.arena, sv.data(), sv.size());
    return SUCCESS;
}

inline error_code read_number(ondemand::value &v, VgJsonSlot *s)
{
    std::string_view tok = trim_token(v.raw_json_token());
    ondemand::number num;
    error_code e = v.get_number().get(num);
    if (e)
        return e;
    s->kind = VG_JV_NUM;
    s->s = vg_str(tok.data(), tok.size());
    if (num.is_int64()) {
        s->is_int = true;
        s->i = num.get_int64();
        s->d = (double)s->i;
    } else {
        s->is_int = false;
        s->d = num.as_double();
        s->i = (s->d > -9.2e18 && s->d < 9.2e18) ? (int64_t)s->d : 0;
    }
    return SUCCESS;
}

/* Reads a scalar, or summarises an array (count and first element), into one slot. */
error_code read_value(ScanCtx &c, ondemand::value &v, ondemand::json_type t, VgJsonSlot *s)
{
    error_code e = SUCCESS;
    s->is_int = false;
    switch (t) {
    case ondemand::json_type::string:
        s->kind = VG_JV_STR;
        return read_string(c, v, v.raw_json_token(), &s->s);
    case ondemand::json_type::number:
        return read_number(v, s);
    case ondemand::json_type::boolean: {
        bool b = false;
        e = v.get_bool().get(b);
        s->kind = VG_JV_BOOL;
        s->i = b;
        s->s = b ? VG_STR_LIT("true") : VG_STR_LIT("false");
        return e;
    }
    case ondemand::json_type::null:
        s->kind = VG_JV_NULL;
        s->s = VG_STR_NULL;
        return v.is_null().error();
    case ondemand::json_type::object:
        s->kind = VG_JV_OBJECT;
        s->s = VG_STR_NULL;
        return SUCCESS;
    case ondemand::json_type::array: {
        ondemand::array a;
        e = v.get_array().get(a);
        if (e)
            return e;
        int64_t count = 0;
        VgJsonSlot first{};
        for (auto el : a) {
            ondemand::value ev;
            e = el.get(ev);
            if (e)
                return e;
            if (count == 0) {
                ondemand::json_type et;
                e = ev.type().get(et);
                if (e)
                    return e;
                if (et == ondemand::json_type::string || et == ondemand::json_type::number) {
                    e = read_value(c, ev, et, &first);
                    if (e)
                        return e;
                }
            }
            count++;
        }
        s->kind = VG_JV_ARRAY;
        s->i = count;
        s->s = first.s;
        return SUCCESS;
    }
    }
    return INCORRECT_TYPE;
}

error_code scan_object(ScanCtx &c, const Node &node, ondemand::object &obj);

error_code visit(ScanCtx &c, const Node &n, ondemand::value &v)
{
    ondemand::json_type t;
    error_code e = v.type().get(t);
    if (e)
        return e;
    if (!n.slots.empty()) {
        /* read straight into the first slot: building a temporary and copying it costs a
         * store-forwarding stall per value */
        unsigned first = n.slots[0];
        VgJsonSlot *s = &c.slots[first];
        e = read_value(c, v, t, s);
        if (e)
            return e;
        c.seen->w[first >> 6] |= 1ull << (first & 63);
        for (size_t k = 1; k < n.slots.size(); k++) {
            unsigned slot = n.slots[k];
            c.slots[slot] = *s;
            c.seen->w[slot >> 6] |= 1ull << (slot & 63);
        }
    }
    if (!n.children.empty() && t == ondemand::json_type::object) {
        ondemand::object o;
        e = v.get_object().get(o);
        if (e)
            return e;
        return scan_object(c, n, o);
    }
    return SUCCESS;
}

error_code scan_object(ScanCtx &c, const Node &node, ondemand::object &obj)
{
    for (auto fr : obj) {
        /* use the field in place: moving it out of the result (fr.get(f)) copies it with
         * a store-forwarding stall on every key */
        error_code e = fr.error();
        if (e)
            return e;
        ondemand::field &f = fr.value_unsafe();
        const char *k = f.key().raw();
        ondemand::value &v = f.value();
        std::string_view tok = v.raw_json_token();
        const Entry *en = map_find(c.map, node, k, raw_key_len(k, tok.data()));
        if (!en)
            continue; /* the parser skips the value on the next step */
        if (en->leaf >= 0) {
            /* a key read into one slot, most often a string: read it from the token in
             * hand rather than through type() and read_value()'s switch */
            unsigned slot = (unsigned)en->leaf;
            VgJsonSlot *s = &c.slots[slot];
            if (tok[0] == '"') {
                s->kind = VG_JV_STR;
                s->is_int = false;
                e = read_string(c, v, tok, &s->s);
            } else {
                ondemand::json_type t;
                if (!(e = v.type().get(t)))
                    e = read_value(c, v, t, s);
            }
            if (e)
                return e;
            c.seen->w[slot >> 6] |= 1ull << (slot & 63);
            continue;
        }
        e = visit(c, c.map->nodes[en->node], v);
        if (e)
            return e;
    }
    return SUCCESS;
}

inline VgBadReason bad_from(error_code e)
{
    return e == UTF8_ERROR ? VG_BAD_UTF8 : VG_BAD_JSON;
}

/* ---- the fast path: strict JSON, no simdjson ----
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
 * path. tests/fuzz/fuzz-decode-json.c checks this against vg_json_scan_reference().
 *
 * The one SIMD step: before reading, the line is turned into a bitmap of the bytes that
 * end or spoil a string (quote, backslash, below 0x20, above 0x7f), 64 bytes to a word,
 * so finding a string's end is a shift and a count of trailing zeros rather than a loop
 * whose length, and so whose mispredicted exit, changes with every value. */

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

inline const char *fast_ws(const char *p, const char *end)
{
    while (p < end && json_ws(*p))
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

inline void mark(ScanCtx &c, unsigned slot)
{
    c.seen->w[slot >> 6] |= 1ull << (slot & 63);
}

/* The members of an object of node, p just after its '{'; the end of the object or
 * nullptr. Follows scan_object() and visit() step for step. */
const char *fast_object(ScanCtx &c, const FastLine &l, const Node &node, const char *p, int depth)
{
    const char *end = l.end;
    p = fast_ws(p, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        if (p >= end || *p != '"')
            return nullptr;
        const char *k = p + 1, *q = fast_string_end(l, k);
        if (!q)
            return nullptr;
        p = fast_ws(q + 1, end);
        if (p >= end || *p != ':')
            return nullptr;
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
        p = fast_ws(p, end);
        if (p >= end)
            return nullptr;
        if (*p == '}')
            return p + 1;
        if (*p != ',')
            return nullptr;
        p = fast_ws(p + 1, end);
    }
}

/* The whole line through the fast path: true when it was read, false when simdjson must
 * read it instead (slots may then hold partial values; seen is for the caller to reset). */
inline bool fast_scan(ScanCtx &c, const char *line, size_t len)
{
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

} // namespace

extern "C" VgBadReason vg_json_scan(VgJsonScanner *s, const VgJsonMap *m, const char *line,
                                    size_t len, VgJsonSlot *slots, VgJsonSeen *seen, VgArena *arena)
{
    VgJsonSeen before = *seen;
    ScanCtx c{m, slots, seen, arena, line, line + len};
    if (VG_LIKELY(fast_scan(c, line, len)))
        return VG_BAD_NONE;
    *seen = before;
    return vg_json_scan_reference(s, m, line, len, slots, seen, arena);
}

extern "C" VgBadReason vg_json_scan_reference(VgJsonScanner *s, const VgJsonMap *m,
                                              const char *line, size_t len, VgJsonSlot *slots,
                                              VgJsonSeen *seen, VgArena *arena)
{
    ondemand::document doc;
    error_code e = s->parser.iterate(line, len, len + SIMDJSON_PADDING).get(doc);
    if (e)
        return bad_from(e);
    ondemand::object obj;
    e = doc.get_object().get(obj);
    if (e)
        return bad_from(e);
    ScanCtx c{m, slots, seen, arena, line, line + len};
    e = scan_object(c, m->nodes[0], obj);
    if (e)
        return bad_from(e);
    /* nothing may follow the object */
    if (doc.current_location().error() != OUT_OF_BOUNDS)
        return VG_BAD_JSON;
    return VG_BAD_NONE;
}

/* ---- look-ups by dotted path (rare: re-parse the line) ---- */

namespace
{

thread_local ondemand::parser tl_parser;

inline bool ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return false;
    }
    return true;
}

bool value_out(ondemand::value v, VgValue *out, VgArena *arena)
{
    ondemand::json_type t;
    if (v.type().get(t))
        return false;
    switch (t) {
    case ondemand::json_type::string: {
        std::string_view sv;
        if (v.get_string().get(sv))
            return false;
        out->kind = VG_V_STR;
        out->s = vg_arena_strdup(arena, sv.data(), sv.size());
        return true;
    }
    case ondemand::json_type::number: {
        ondemand::number num;
        if (v.get_number().get(num))
            return false;
        if (num.is_int64()) {
            out->kind = VG_V_INT;
            out->i = num.get_int64();
        } else {
            out->kind = VG_V_DOUBLE;
            out->d = num.as_double();
        }
        return true;
    }
    case ondemand::json_type::boolean: {
        bool b = false;
        if (v.get_bool().get(b))
            return false;
        out->kind = VG_V_BOOL;
        out->i = b;
        return true;
    }
    case ondemand::json_type::null:
        out->kind = VG_V_NULL;
        return true;
    case ondemand::json_type::object: {
        ondemand::object o;
        std::string_view sv;
        if (v.get_object().get(o) || o.raw_json().get(sv))
            return false;
        out->kind = VG_V_STR;
        out->s = vg_arena_strdup(arena, sv.data(), sv.size());
        return true;
    }
    case ondemand::json_type::array: {
        ondemand::array a;
        std::string_view sv;
        if (v.get_array().get(a) || a.raw_json().get(sv))
            return false;
        out->kind = VG_V_STR;
        out->s = vg_arena_strdup(arena, sv.data(), sv.size());
        return true;
    }
    }
    return false;
}

bool find_in_value(ondemand::value v, const char *p, size_t n, VgValue *out, VgArena *arena,
                   int depth);

bool find_in_object(ondemand::object obj, const char *p, size_t n, VgValue *out, VgArena *arena,
                    int depth)
{
    for (auto fr : obj) {
        ondemand::field f;
        if (std::move(fr).get(f))
            return false;
        std::string_view k;
        if (f.unescaped_key().get(k))
            return false;
        if (k.size() == n && ieq(k.data(), p, n))
            return value_out(f.value(), out, arena);
        if (k.size() < n && p[k.size()] == '.' && ieq(k.data(), p, k.size()) &&
            find_in_value(f.value(), p + k.size() + 1, n - k.size() - 1, out, arena, depth + 1))
            return true;
    }
    return false;
}

bool find_in_value(ondemand::value v, const char *p, size_t n, VgValue *out, VgArena *arena,
                   int depth)
{
    if (depth > 64 || n == 0)
        return false;
    ondemand::json_type t;
    if (v.type().get(t))
        return false;
    if (t == ondemand::json_type::object) {
        ondemand::object o;
        return !v.get_object().get(o) && find_in_object(o, p, n, out, arena, depth);
    }
    if (t != ondemand::json_type::array)
        return false;
    /* a numeric segment indexes an array */
    size_t seg = 0, idx = 0;
    while (seg < n && p[seg] != '.') {
        if (p[seg] < '0' || p[seg] > '9' || seg > 8)
            return false;
        idx = idx * 10 + (size_t)(p[seg] - '0');
        seg++;
    }
    if (seg == 0)
        return false;
    ondemand::array a;
    if (v.get_array().get(a))
        return false;
    size_t i = 0;
    for (auto el : a) {
        ondemand::value ev;
        if (el.get(ev))
            return false;
        if (i++ != idx)
            continue;
        if (seg == n)
            return value_out(ev, out, arena);
        return find_in_value(ev, p + seg + 1, n - seg - 1, out, arena, depth + 1);
    }
    return false;
}

} // namespace

extern "C" bool vg_json_lookup(const char *json, size_t len, bool padded, const char *path,
                               size_t plen, VgValue *out, VgArena *arena)
{
    if (!padded) {
        char *buf = (char *)vg_arena_alloc(arena, len + SIMDJSON_PADDING);
        memcpy(buf, json, len);
        memset(buf + len, 0, SIMDJSON_PADDING);
        json = buf;
    }
    ondemand::document doc;
    if (tl_parser.iterate(json, len, len + SIMDJSON_PADDING).get(doc))
        return false;
    ondemand::object obj;
    if (doc.get_object().get(obj))
        return false;
    VgValue tmp;
    memset(&tmp, 0, sizeof tmp);
    if (!find_in_object(obj, path, plen, &tmp, arena, 0))
        return false;
    *out = tmp;
    return true;
}

extern "C" bool vg_utf8_valid(const char *p, size_t len)
{
    return simdjson::validate_utf8(p, len);
}

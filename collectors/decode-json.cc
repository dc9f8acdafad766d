/* decode-json.cc — simdjson behind the C interface of json-scan.h.
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
 *
 * vg_json_scan() tries the fast path of decode-json-fast.cc first, which reads plain lines
 * (ASCII, no escapes, short unsigned numbers) without simdjson, faster than stage 1 and
 * On-Demand together; any other line comes here, to vg_json_scan_reference().
 */
#include "collectors/decode-json-int.h"

#include <simdjson.h>

using namespace simdjson;
using namespace vg_json_int;

static_assert(VG_LINE_PADDING >= SIMDJSON_PADDING, "decoder padding must cover simdjson's");

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

} // namespace

extern "C" VgBadReason vg_json_scan(VgJsonScanner *s, const VgJsonMap *m, const char *line,
                                    size_t len, VgJsonSlot *slots, VgJsonSeen *seen, VgArena *arena)
{
    VgJsonSeen before = *seen;
    if (VG_LIKELY(vg_json_fast_scan(m, line, len, slots, seen)))
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

extern "C" const char *vg_json_member_compare(const char *json, size_t len, const char *key,
                                              size_t klen, VgArena *arena)
{
    VgValue f;
    int fr = vg_json_fast_member(json, len, key, klen, &f);
    if (fr < 0)
        return NULL;
    VgValue v;
    bool found = vg_json_lookup(json, len, true, key, klen, &v, arena);
    if (found != (fr == 1))
        return found ? "found by vg_json_lookup() only" : "found by the fast reader only";
    if (!found)
        return NULL;
    if (f.kind != v.kind)
        return "the kinds differ";
    switch (f.kind) {
    case VG_V_STR:
        return v.s.len == f.s.len && !memcmp(v.s.p, f.s.p, f.s.len) ? NULL : "the string differs";
    case VG_V_INT:
    case VG_V_BOOL:
        return v.i == f.i ? NULL : "the value differs";
    case VG_V_DOUBLE:
        return memcmp(&v.d, &f.d, sizeof f.d) == 0 ? NULL : "the number differs";
    default:
        return NULL;
    }
}

extern "C" bool vg_utf8_valid(const char *p, size_t len)
{
    return simdjson::validate_utf8(p, len);
}

static bool slot_same(const VgJsonSlot *a, const VgJsonSlot *b)
{
    if (a->kind != b->kind || a->is_int != b->is_int || !a->s.p != !b->s.p ||
        a->s.len != b->s.len || (a->s.p && memcmp(a->s.p, b->s.p, a->s.len)))
        return false;
    if (a->kind == VG_JV_NUM)
        return a->i == b->i && memcmp(&a->d, &b->d, sizeof a->d) == 0;
    if (a->kind == VG_JV_BOOL || a->kind == VG_JV_ARRAY)
        return a->i == b->i;
    return true;
}

extern "C" const char *vg_json_scan_compare(VgJsonScanner *s, const VgJsonMap *m, const char *line,
                                            size_t len, VgArena *arena, VgBadReason *verdict)
{
    VgJsonSlot fs[VG_JSON_MAX_SLOTS], rs[VG_JSON_MAX_SLOTS];
    VgJsonSeen fseen = {{0}}, rseen = {{0}};
    VgBadReason fr = vg_json_scan(s, m, line, len, fs, &fseen, arena);
    VgBadReason rr = vg_json_scan_reference(s, m, line, len, rs, &rseen, arena);
    *verdict = fr;
    if (fr != rr)
        return "the verdicts differ";
    if (fr != VG_BAD_NONE)
        return NULL;
    if (memcmp(&fseen, &rseen, sizeof fseen))
        return "the fields seen differ";
    for (unsigned i = 0; i < VG_JSON_MAX_SLOTS; i++)
        if (vg_json_seen(&fseen, i) && !slot_same(&fs[i], &rs[i]))
            return "a field's value differs";
    return NULL;
}

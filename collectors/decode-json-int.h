/* decode-json-int.h — what decode-json.cc (simdjson) and decode-json-fast.cc (the fast
 * path) share: the compiled map of json-scan.h and its one-probe key look-up. Private to
 * the collectors library; C++ only.
 */
#ifndef VG_DECODE_JSON_INT_H
#define VG_DECODE_JSON_INT_H

#include "collectors/json-scan.h"

#include <string>
#include <vector>

namespace vg_json_int
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

} // namespace vg_json_int

struct VgJsonMap {
    std::vector<vg_json_int::Node> nodes; /* nodes[0] is the root object */
    std::string keybuf;
    bool compiled = false;
};

namespace vg_json_int
{

/* The entry of the key k[0..len) in n's table, or NULL. k must have 16 readable bytes. */
inline const Entry *map_find(const VgJsonMap *m, const Node &n, const char *k, uint32_t len)
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

/* ASCII case-insensitive equality of n bytes (HTTP header names, vg_json_lookup()). */
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

inline bool json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

} // namespace vg_json_int

#endif

/* json-scan.h — the C face of simdjson (collectors/decode-json.cc and decode-json-fast.cc).
 *
 * The JSON presets do not walk documents themselves. At create() time a preset compiles
 * the source paths it cares about ("request.headers.user-agent", "latencies.request", ...)
 * into a VgJsonMap, each path tagged with a small integer slot. Per line, vg_json_scan()
 * walks the object once with simdjson's On-Demand API and, for every key, asks the map
 * (one hash probe, no allocation) whether that key leads to a slot; only those values are
 * read, the rest are skipped by the parser. A preset then turns its filled slots into
 * canonical VgEvent fields in plain C.
 *
 * Paths match nested objects ({"http":{"request":{"method":..}}}) and flat dotted keys
 * ({"http.request.method":..}) and any mix of the two: compiling the map also enters every
 * dotted suffix of a path as a key of its ancestor, so the scan never splits keys.
 *
 * Strings come back as views: into the line itself when they contain no escape (the usual
 * case, zero copy), or into the arena when they had to be unescaped. Numbers come back
 * both parsed and as their source text, so a string field may take a number and a numeric
 * field a string ("status":"200") without reformatting.
 *
 * Validation: UTF-8 and the structure of the whole line (brackets, quotes, commas, nothing
 * after the object) are checked by simdjson's stage 1; the spelling of a literal is checked
 * when the value is read, so a misspelt `tru` under a key no preset reads goes unnoticed.
 *
 * Everything else in a line is reached through vg_json_lookup(), which re-parses the raw
 * line: lookups are rare (a rule on a non-canonical field), and re-parsing keeps decode()
 * free of per-event state that would have to outlive the next line.
 */
#ifndef VG_JSON_SCAN_H
#define VG_JSON_SCAN_H

#ifdef __cplusplus
/* The engine headers have no C++ guards of their own: include their system headers
 * first (they have), then the engine's declarations with C linkage. */
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
extern "C" {
#endif

#include "engine/decoder.h"

#define VG_JSON_MAX_SLOTS 128

typedef enum {
    VG_JV_NONE = 0,
    VG_JV_NULL,
    VG_JV_STR,
    VG_JV_NUM,
    VG_JV_BOOL,
    VG_JV_OBJECT,
    VG_JV_ARRAY,
} VgJsonKind;

/* One scanned value. STR: s is the unescaped content. NUM: s is the number's source text,
 * i/d its value (is_int when it fits an int64). BOOL: i is 0 or 1. ARRAY: i is the element
 * count and s the first element when that is a string or number (else absent). */
typedef struct {
    uint8_t kind;
    bool is_int;
    VgStr s;
    int64_t i;
    double d;
} VgJsonSlot;

/* Which slots a scan filled: bit n of word n / 64. */
typedef struct {
    uint64_t w[VG_JSON_MAX_SLOTS / 64];
} VgJsonSeen;

static inline bool vg_json_seen(const VgJsonSeen *s, unsigned slot)
{
    return (s->w[slot >> 6] >> (slot & 63)) & 1u;
}

typedef struct VgJsonMap VgJsonMap;
typedef struct VgJsonScanner VgJsonScanner;

/* An empty map; free with vg_json_map_free(). */
VgJsonMap *vg_json_map_new(void);
/* Adds dotted path -> slot (slot < VG_JSON_MAX_SLOTS). A path may feed several slots and a
 * slot may be fed by several paths (the one met last in the line wins). Returns VG_EINVAL
 * for an empty path, an empty segment ("a..b") or a slot out of range. */
int vg_json_map_add(VgJsonMap *m, const char *path, size_t len, unsigned slot);
/* Freezes the map for scanning; call once after the last add. */
void vg_json_map_compile(VgJsonMap *m);
void vg_json_map_free(VgJsonMap *m);

/* A scanner owns one simdjson parser; one per decoder instance (per thread). */
VgJsonScanner *vg_json_scanner_new(void);
void vg_json_scanner_free(VgJsonScanner *s);

/* Scans one JSON object. line[len .. len + VG_LINE_PADDING) must be readable. Fills slots
 * (and seen) for the paths of m; unescaped strings go to arena. Returns VG_BAD_NONE,
 * VG_BAD_UTF8 or VG_BAD_JSON (not an object, malformed, trailing bytes). Slots not marked
 * in seen hold nothing meaningful (the fast path may have written them before handing the
 * line to simdjson). */
VgBadReason vg_json_scan(VgJsonScanner *s, const VgJsonMap *m, const char *line, size_t len,
                         VgJsonSlot *slots, VgJsonSeen *seen, VgArena *arena);

/* The fast path of vg_json_scan() alone (decode-json-fast.cc): true when it read the
 * whole line, and then slots and seen are as vg_json_scan_reference() would leave them;
 * false when the line is outside its subset (slots may then hold partial values and seen
 * bits the caller must clear before vg_json_scan_reference()). */
bool vg_json_fast_scan(const VgJsonMap *m, const char *line, size_t len, VgJsonSlot *slots,
                       VgJsonSeen *seen);

/* vg_json_scan() without its fast path: simdjson On-Demand alone, on every line. The
 * reference the fast path must agree with (the JSON fuzz target compares the two). */
VgBadReason vg_json_scan_reference(VgJsonScanner *s, const VgJsonMap *m, const char *line,
                                   size_t len, VgJsonSlot *slots, VgJsonSeen *seen, VgArena *arena);

/* Scans line both ways, vg_json_scan() and vg_json_scan_reference(), and compares the
 * verdicts and, on a good line, the fields seen and their values. Returns NULL when they
 * agree, else what differs first; *verdict is vg_json_scan()'s. For the tests and the
 * fuzz target (line padded as collectors give it). */
const char *vg_json_scan_compare(VgJsonScanner *s, const VgJsonMap *m, const char *line, size_t len,
                                 VgArena *arena, VgBadReason *verdict);

/* Looks up a dotted path in the JSON object text json[0..len) (no padding needed: it is
 * copied into arena first, unless padded is true). Keys compare ASCII case-insensitively
 * (HTTP header names); a segment may match a flat dotted key; a numeric segment indexes
 * an array. Objects and arrays come back as their JSON text (VG_V_STR). Returns true and
 * fills out when found. Thread-safe (a parser per thread). */
bool vg_json_lookup(const char *json, size_t len, bool padded, const char *path, size_t plen,
                    VgValue *out, VgArena *arena);

/* vg_json_lookup() of a top-level key (no dot) without simdjson, for small documents read
 * often (a JWT's payload): 1 when found, with *out as vg_json_lookup() would fill it (but a
 * string is a view into json); 0 when the object has no such key; -1 when json is outside
 * the fast path's strict subset (see decode-json-fast.cc), or the value is an object or
 * array: then ask vg_json_lookup(). The first key equal to key ignoring ASCII case is the
 * one, as there. json[len .. len + VG_LINE_PADDING) must be readable. */
int vg_json_fast_member(const char *json, size_t len, const char *key, size_t klen, VgValue *out);
/* Runs vg_json_fast_member() and vg_json_lookup() (json padded) on the same key: NULL when
 * they agree (or the fast one gave up), else what differs. For the tests and the fuzz
 * target. */
const char *vg_json_member_compare(const char *json, size_t len, const char *key, size_t klen,
                                   VgArena *arena);

/* true when p[0..len) is valid UTF-8 (simdjson's SIMD validator). */
bool vg_utf8_valid(const char *p, size_t len);

#ifdef __cplusplus
}
#endif

#endif

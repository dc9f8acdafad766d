/* json-test-map.h — the map of JSON paths that test-json-scan.c and the JSON fuzz target
 * scan lines with: flat keys, nested objects, a dotted key, a path feeding two slots
 * ("status", also slot 20), a node that is both read and descended into ("a" and "a.s"),
 * and a path given twice ("x"). */
#ifndef VG_JSON_TEST_MAP_H
#define VG_JSON_TEST_MAP_H

#include "collectors/json-scan.h"

#include <string.h>

/* The compiled map; free with vg_json_map_free(). NULL when a path is refused. */
static inline VgJsonMap *json_test_map(void)
{
    static const char *paths[] = {"time",
                                  "ts",
                                  "status",
                                  "path",
                                  "token",
                                  "x",
                                  "a",
                                  "a.s",
                                  "a.b.authorization",
                                  "a.b.c.d.e",
                                  "request.headers.host",
                                  "latency_ms",
                                  "t",
                                  "x"};
    VgJsonMap *map = vg_json_map_new();
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (vg_json_map_add(map, paths[i], strlen(paths[i]), (unsigned)i) != VG_OK)
            goto fail;
    if (vg_json_map_add(map, "status", 6, 20) != VG_OK)
        goto fail;
    vg_json_map_compile(map);
    return map;
fail:
    vg_json_map_free(map);
    return NULL;
}

#endif

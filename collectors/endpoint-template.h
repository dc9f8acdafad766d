/* endpoint-template.h — "GET /v1/customers/4711/orders" -> "GET /v1/customers/{id}/orders".
 *
 * Models keep a baseline per endpoint, so an endpoint must name a route, not a request:
 * the identifiers inside a path would make every request its own endpoint. A path segment
 * (between slashes) becomes {id} when it is
 *   1. all digits ("4711");
 *   2. a UUID (8-4-4-4-12 hex digits, any case);
 *   3. hex of 8 or more characters with at least one digit ("9f1c2ab0", a Mongo ObjectId);
 *   4. an e-mail address: an '@' (or "%40") with something before it and a '.' after it;
 *   5. a long opaque id: 16 or more characters from the base64/base64url alphabet
 *      (A-Z a-z 0-9 - _ + = ~ .) containing letters and digits, unless it reads as a slug —
 *      every part between '-', '_' and '.' being all letters or all digits
 *      ("release-notes-2024-03-final" stays, "cus_NffrFeUfNV2Hib" and JWTs become {id}).
 * Everything else is kept verbatim, including "v1", file names and words. The rules are
 * character scans (no regex) and the result is written once into the arena.
 *
 * When the log names the route itself (AWS resourcePath/routeKey, a Kong regex route, a
 * user-mapped endpoint), that template wins: see vg_endpoint_from_route().
 */
#ifndef VG_ENDPOINT_TEMPLATE_H
#define VG_ENDPOINT_TEMPLATE_H

#include "engine/arena.h"

/* true when the segment s[0..n) is an identifier by the rules above. */
bool vg_path_segment_is_id(const char *s, size_t n);

/* method + " " + templated path, in arena. An absent method gives the templated path
 * alone; an absent path gives VG_STR_NULL. */
VgStr vg_endpoint_template(VgStr method, VgStr path, VgArena *arena);

/* A route template from the source: used as is when it already holds a method
 * ("GET /pets/{petId}"), else method + " " + route. VG_STR_NULL when route is absent or
 * empty. */
VgStr vg_endpoint_from_route(VgStr method, VgStr route, VgArena *arena);

#endif

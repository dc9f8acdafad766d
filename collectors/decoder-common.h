/* decoder-common.h — what every format preset shares once a line is split into values.
 *
 * Presets differ in where a value sits; what a value means is the same everywhere, and it
 * lives here so that `vigil explain` shows the same canonical event whatever the format:
 *  - numbers from text ("200", "0.123", " 5120") without locale or NUL-terminated copies;
 *  - a request target ("/v1/x?a=1" or "https://h/v1/x?a=1") split into path and query
 *    (and scheme and host when it is an absolute URL);
 *  - the credential identity (`token`) from an Authorization value: "Bearer <JWT>" gives
 *    the JWT's `sub` claim when its payload decodes to JSON with one, any other bearer
 *    value is the token itself, "Basic <b64>" gives the user name, another scheme gives
 *    the credential after it; "-", "" and Kong's "REDACTED" mean no token;
 *  - the endpoint template when the source gave none (endpoint-template.h).
 * Tokens are never copied anywhere but the event, and never appear in messages.
 */
#ifndef VG_DECODER_COMMON_H
#define VG_DECODER_COMMON_H

#include "engine/decoder.h"

/* Decodes base64 or base64url (padding optional) into out, which has room for n + 1 bytes;
 * returns the length, or -1 when a character is neither. Bits left over after the last
 * whole byte are dropped. JWT payloads are most of what it decodes: sixteen digits at a
 * time where the CPU has SSE4.1. */
ssize_t vg_b64_decode(const char *s, size_t n, char *out);
/* Whether vg_b64_decode() decodes sixteen at a time (the default where the CPU can);
 * returns the setting in force. For tests, which check both ways. */
bool vg_b64_set_simd(bool on);

/* An integer: optional spaces, optional '-', digits, optional spaces. */
bool vg_dec_parse_int(const char *p, size_t n, int64_t *out);
/* A decimal: [-]digits[.digits][e[+-]digits], spaces around allowed. */
bool vg_dec_parse_double(const char *p, size_t n, double *out);

/* Sets string field f to v and marks it present, like vg_event_set_str() but inline: the
 * presets call it with a constant f, so it compiles to one store and an or. A non-string
 * f is ignored. */
static inline void vg_dec_set_str(VgEvent *ev, VgFieldId f, VgStr v)
{
    VgStr *dst;
    switch (f) {
    case VG_F_CLIENT_IP:
        dst = &ev->client_ip;
        break;
    case VG_F_METHOD:
        dst = &ev->method;
        break;
    case VG_F_SCHEME:
        dst = &ev->scheme;
        break;
    case VG_F_HOST:
        dst = &ev->host;
        break;
    case VG_F_PATH:
        dst = &ev->path;
        break;
    case VG_F_ENDPOINT:
        dst = &ev->endpoint;
        break;
    case VG_F_QUERY:
        dst = &ev->query;
        break;
    case VG_F_USER_AGENT:
        dst = &ev->user_agent;
        break;
    case VG_F_REFERER:
        dst = &ev->referer;
        break;
    case VG_F_TOKEN:
        dst = &ev->token;
        break;
    case VG_F_USER:
        dst = &ev->user;
        break;
    case VG_F_REQUEST_ID:
        dst = &ev->request_id;
        break;
    default:
        return;
    }
    *dst = v;
    ev->present |= 1u << f;
}

/* "-", "" and NULL views carry no value in access logs. */
static inline bool vg_dec_blank(VgStr s)
{
    return !s.p || s.len == 0 || (s.len == 1 && s.p[0] == '-');
}

/* Sets path (and query) from a request target; an absolute URL also gives scheme and host
 * when those are still absent. A target without '/' at the start that is not a URL (e.g.
 * "*" or garbage) becomes the path as is. */
void vg_dec_set_target(VgEvent *ev, VgStr target);

/* Splits a path that still holds a query ("/x?a=1") into path and query (query only when
 * the event has none yet). */
void vg_dec_split_query(VgEvent *ev);

/* Sets `token` (and `user` for Basic when absent) from a credential value as described
 * above. Strings that must be decoded go to arena. */
void vg_dec_set_credential(VgEvent *ev, VgStr cred, VgArena *arena);

/* The last step of every preset: query split, endpoint template when absent. */
void vg_dec_finish(VgEvent *ev, VgArena *arena);

/* Unescapes the \xHH, \", \\ and \t\n\r sequences that nginx and Apache write inside
 * quoted fields. Returns s itself when there is nothing to unescape or when the result
 * would not be valid UTF-8 (then the escaped ASCII form is kept). */
VgStr vg_dec_unescape_text(VgStr s, VgArena *arena);

#endif

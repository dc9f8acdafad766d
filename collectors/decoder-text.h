/* decoder-text.h — a cursor over a text log line, shared by the text presets
 * (nginx/Apache combined, Envoy).
 *
 * Text access logs are a fixed sequence of space-separated fields, some in brackets or
 * quotes. The cursor reads them left to right with views into the line (no copies); a
 * quoted field ends at the first quote not preceded by an odd number of backslashes
 * (Apache escapes quotes as \", nginx as \x22, both escape backslashes). Any surprise
 * makes the caller return VG_BAD_FORMAT.
 */
#ifndef VG_DECODER_TEXT_H
#define VG_DECODER_TEXT_H

#include "engine/vg.h"

typedef struct {
    const char *p, *end;
} VgTextCur;

static inline bool vg_tc_eof(const VgTextCur *c)
{
    return c->p >= c->end;
}

static inline bool vg_tc_lit(VgTextCur *c, char ch)
{
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

static inline void vg_tc_spaces(VgTextCur *c)
{
    while (c->p < c->end && *c->p == ' ')
        c->p++;
}

/* A bare field up to the next space (or the end); false when empty. */
static inline bool vg_tc_word(VgTextCur *c, VgStr *out)
{
    const char *s = c->p;
    while (c->p < c->end && *c->p != ' ')
        c->p++;
    *out = vg_str(s, (size_t)(c->p - s));
    return c->p > s;
}

/* Up to the closing ch (not included, cursor after it); false when there is none. */
static inline bool vg_tc_until(VgTextCur *c, char ch, VgStr *out)
{
    const char *e = memchr(c->p, ch, (size_t)(c->end - c->p));
    if (!e)
        return false;
    *out = vg_str(c->p, (size_t)(e - c->p));
    c->p = e + 1;
    return true;
}

/* A quoted field "..." (cursor on the opening quote). */
static inline bool vg_tc_quoted(VgTextCur *c, VgStr *out)
{
    if (!vg_tc_lit(c, '"'))
        return false;
    const char *s = c->p;
    for (;;) {
        const char *q = memchr(c->p, '"', (size_t)(c->end - c->p));
        if (!q)
            return false;
        size_t bs = 0;
        while (q - bs > s && q[-1 - (ptrdiff_t)bs] == '\\')
            bs++;
        c->p = q + 1;
        if (!(bs & 1)) {
            *out = vg_str(s, (size_t)(q - s));
            return true;
        }
    }
}

/* Splits a request line "GET /x?y HTTP/1.1" into method, target and protocol. The method
 * must be an upper-case token; a line that is not a request (garbage a scanner sent, "-")
 * gives false and the event simply has no method or path. */
static inline bool vg_tc_request(VgStr r, VgStr *method, VgStr *target, VgStr *proto)
{
    const char *p = r.p, *end = r.p + r.len, *sp = memchr(p, ' ', r.len);
    if (!sp || sp == p || sp - p > 20)
        return false;
    for (const char *m = p; m < sp; m++)
        if (!((*m >= 'A' && *m <= 'Z') || *m == '-' || *m == '_'))
            return false;
    *method = vg_str(p, (size_t)(sp - p));
    const char *t = sp + 1, *te = end;
    *proto = VG_STR_NULL;
    /* the protocol is the last word when it starts with HTTP/ */
    for (const char *q = end; q > t; q--) {
        if (q[-1] == ' ') {
            if (end - q >= 5 && memcmp(q, "HTTP/", 5) == 0) {
                *proto = vg_str(q, (size_t)(end - q));
                te = q - 1;
            }
            break;
        }
    }
    if (te <= t)
        return false;
    *target = vg_str(t, (size_t)(te - t));
    return true;
}

#endif

/* event.c — field names, aliases and generic access to VgEvent (see event.h). */
#include "engine/event.h"

#include "engine/decoder.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <stdio.h>
#include <time.h>

const VgFieldInfo vg_field_info[VG_F__COUNT] = {
    [VG_F_TIME] = {"time", VG_FT_TIME},
    [VG_F_CLIENT_IP] = {"client_ip", VG_FT_STR},
    [VG_F_METHOD] = {"method", VG_FT_STR},
    [VG_F_SCHEME] = {"scheme", VG_FT_STR},
    [VG_F_HOST] = {"host", VG_FT_STR},
    [VG_F_PATH] = {"path", VG_FT_STR},
    [VG_F_ENDPOINT] = {"endpoint", VG_FT_STR},
    [VG_F_QUERY] = {"query", VG_FT_STR},
    [VG_F_STATUS] = {"status", VG_FT_INT},
    [VG_F_BYTES_OUT] = {"bytes_out", VG_FT_INT},
    [VG_F_BYTES_IN] = {"bytes_in", VG_FT_INT},
    [VG_F_LATENCY_MS] = {"latency_ms", VG_FT_DOUBLE},
    [VG_F_USER_AGENT] = {"user_agent", VG_FT_STR},
    [VG_F_REFERER] = {"referer", VG_FT_STR},
    [VG_F_TOKEN] = {"token", VG_FT_STR},
    [VG_F_USER] = {"user", VG_FT_STR},
    [VG_F_REQUEST_ID] = {"request_id", VG_FT_STR},
};

/* Sigma's webserver/proxy taxonomy names (DESIGN.md) as aliases of canonical fields.
 * c-uri is the full URI in proxy logs; we map it to path, the part rules look at most. */
static const struct {
    const char *alias;
    VgFieldId id;
} aliases[] = {
    {"cs-uri-query", VG_F_QUERY},
    {"cs-method", VG_F_METHOD},
    {"sc-status", VG_F_STATUS},
    {"c-ip", VG_F_CLIENT_IP},
    {"cs-uri-stem", VG_F_PATH},
    {"c-uri", VG_F_PATH},
    {"cs-user-agent", VG_F_USER_AGENT},
    {"c-useragent", VG_F_USER_AGENT},
    {"cs-host", VG_F_HOST},
    {"cs-referer", VG_F_REFERER},
    {"cs-bytes", VG_F_BYTES_IN},
    {"sc-bytes", VG_F_BYTES_OUT},
    {"time-taken", VG_F_LATENCY_MS},
    {"cs-username", VG_F_USER},
};

/* Offsets of the string fields; -1 for the numeric ones. */
static const ptrdiff_t str_offset[VG_F__COUNT] = {
    [VG_F_TIME] = -1,
    [VG_F_CLIENT_IP] = offsetof(VgEvent, client_ip),
    [VG_F_METHOD] = offsetof(VgEvent, method),
    [VG_F_SCHEME] = offsetof(VgEvent, scheme),
    [VG_F_HOST] = offsetof(VgEvent, host),
    [VG_F_PATH] = offsetof(VgEvent, path),
    [VG_F_ENDPOINT] = offsetof(VgEvent, endpoint),
    [VG_F_QUERY] = offsetof(VgEvent, query),
    [VG_F_STATUS] = -1,
    [VG_F_BYTES_OUT] = -1,
    [VG_F_BYTES_IN] = -1,
    [VG_F_LATENCY_MS] = -1,
    [VG_F_USER_AGENT] = offsetof(VgEvent, user_agent),
    [VG_F_REFERER] = offsetof(VgEvent, referer),
    [VG_F_TOKEN] = offsetof(VgEvent, token),
    [VG_F_USER] = offsetof(VgEvent, user),
    [VG_F_REQUEST_ID] = offsetof(VgEvent, request_id),
};

/* Every line starts with this, so it is written out as 16-byte stores: gcc makes a memset
 * of this size `rep stosq`, which took a quarter of the samples of the one-thread pipeline's
 * loop; the stores made a replay 1.012 times as fast on one core and 1.020 with two
 * workers (20 and 8 alternating rounds, 2026-11-25). */
void vg_event_reset(VgEvent *ev)
{
#ifdef __SSE2__
    _Static_assert(sizeof(VgEvent) >= 16, "VgEvent is 16 bytes or more");
    __m128i z = _mm_setzero_si128();
    char *p = (char *)ev;
#pragma GCC unroll 32 /* unrolled early, or gcc makes the loop a memset again */
    for (size_t i = 0; i + 16 <= sizeof *ev; i += 16)
        _mm_storeu_si128((__m128i *)(void *)(p + i), z);
    _mm_storeu_si128((__m128i *)(void *)(p + sizeof *ev - 16), z); /* the tail (overlaps) */
#else
    memset(ev, 0, sizeof(*ev));
#endif
    ev->partition = -1;
    ev->offset = -1;
}

void vg_event_set_str(VgEvent *ev, VgFieldId f, VgStr v)
{
    g_return_if_fail(f >= 0 && f < VG_F__COUNT && str_offset[f] >= 0);
    *(VgStr *)((char *)ev + str_offset[f]) = v;
    vg_event_mark(ev, f);
}

VgStr vg_event_str(const VgEvent *ev, VgFieldId f)
{
    if (f < 0 || f >= VG_F__COUNT || str_offset[f] < 0 || !vg_event_has(ev, f))
        return VG_STR_NULL;
    return *(const VgStr *)((const char *)ev + str_offset[f]);
}

VgFieldId vg_field_resolve(const char *name)
{
    for (int i = 0; i < VG_F__COUNT; i++)
        if (!strcmp(vg_field_info[i].name, name))
            return (VgFieldId)i;
    for (size_t i = 0; i < G_N_ELEMENTS(aliases); i++)
        if (!strcmp(aliases[i].alias, name))
            return aliases[i].id;
    return VG_F_EXTRA;
}

const char *vg_field_name(VgFieldId f)
{
    return f >= 0 && f < VG_F__COUNT ? vg_field_info[f].name : "?";
}

void vg_event_get(const VgEvent *ev, VgFieldId f, VgValue *out)
{
    memset(out, 0, sizeof(*out));
    if (f < 0 || f >= VG_F__COUNT || !vg_event_has(ev, f))
        return;
    switch (f) {
    case VG_F_TIME:
        out->kind = VG_V_INT;
        out->i = ev->time_ms;
        return;
    case VG_F_STATUS:
        out->kind = VG_V_INT;
        out->i = ev->status;
        return;
    case VG_F_BYTES_OUT:
        out->kind = VG_V_INT;
        out->i = ev->bytes_out;
        return;
    case VG_F_BYTES_IN:
        out->kind = VG_V_INT;
        out->i = ev->bytes_in;
        return;
    case VG_F_LATENCY_MS:
        out->kind = VG_V_DOUBLE;
        out->d = ev->latency_ms;
        return;
    default:
        out->kind = VG_V_STR;
        out->s = *(const VgStr *)((const char *)ev + str_offset[f]);
        return;
    }
}

bool vg_event_lookup(const VgEvent *ev, const char *name, size_t len, VgValue *out, VgArena *arena)
{
    char tmp[64];
    if (len < sizeof tmp) {
        memcpy(tmp, name, len);
        tmp[len] = '\0';
        VgFieldId f = vg_field_resolve(tmp);
        if (f != VG_F_EXTRA) {
            vg_event_get(ev, f, out);
            return out->kind != VG_V_NONE;
        }
    }
    memset(out, 0, sizeof(*out));
    if (ev->decoder && ev->decoder->ops->lookup)
        return ev->decoder->ops->lookup(ev->decoder, ev, name, len, out, arena);
    return false;
}

char *vg_time_format(int64_t ms, char buf[25])
{
    int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
    int msec = (int)(ms - s * 1000);
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, msec);
    g_strlcpy(buf, tmp, 25);
    return buf;
}

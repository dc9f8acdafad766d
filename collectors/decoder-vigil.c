/* decoder-vigil.c — the `vigil` preset: JSON lines with the canonical field names.
 *
 * The default input format, and what other tools are asked to write: {"time": ...,
 * "client_ip": ..., "method": ..., ...} with exactly the names of DESIGN.md. Nested and
 * flat dotted forms are not needed here, but the Sigma webserver/proxy taxonomy names
 * ("c-ip", "cs-method", "sc-status", ...) are read as the fields they alias, and "@timestamp",
 * "timestamp" or "ts" stand in for a missing "time".
 */
#include "collectors/decoder-json.h"

enum {
    V_TIME_ALT = VG_F__COUNT,
    V_N,
};

static const VgJsonPath vigil_paths[] = {
    {"time", VG_F_TIME},
    {"client_ip", VG_F_CLIENT_IP},
    {"method", VG_F_METHOD},
    {"scheme", VG_F_SCHEME},
    {"host", VG_F_HOST},
    {"path", VG_F_PATH},
    {"endpoint", VG_F_ENDPOINT},
    {"query", VG_F_QUERY},
    {"status", VG_F_STATUS},
    {"bytes_out", VG_F_BYTES_OUT},
    {"bytes_in", VG_F_BYTES_IN},
    {"latency_ms", VG_F_LATENCY_MS},
    {"user_agent", VG_F_USER_AGENT},
    {"referer", VG_F_REFERER},
    {"token", VG_F_TOKEN},
    {"user", VG_F_USER},
    {"request_id", VG_F_REQUEST_ID},
    /* Sigma taxonomy aliases (engine/event.c) */
    {"cs-uri-query", VG_F_QUERY},
    {"cs-method", VG_F_METHOD},
    {"sc-status", VG_F_STATUS},
    {"c-ip", VG_F_CLIENT_IP},
    {"cs-uri-stem", VG_F_PATH},
    {"cs-user-agent", VG_F_USER_AGENT},
    {"c-useragent", VG_F_USER_AGENT},
    {"cs-host", VG_F_HOST},
    {"cs-referer", VG_F_REFERER},
    {"cs-bytes", VG_F_BYTES_IN},
    {"sc-bytes", VG_F_BYTES_OUT},
    {"time-taken", VG_F_LATENCY_MS},
    {"cs-username", VG_F_USER},
    {"@timestamp", V_TIME_ALT},
    {"timestamp", V_TIME_ALT},
    {"ts", V_TIME_ALT},
    {NULL, 0},
};

static VgBadReason vigil_finish(const VgJsonLine *l, VgEvent *ev)
{
    VgBadReason r = vg_jl_apply_canonical(l, 0, (1u << VG_F__COUNT) - 1, ev);
    if (r == VG_BAD_NONE && !vg_event_has(ev, VG_F_TIME) && vg_jl_time(l, V_TIME_ALT, ev) < 0)
        r = VG_BAD_TIME;
    return r;
}

const VgJsonPreset vg_decoder_vigil = {
    .ops = VG_JSON_PRESET_OPS("vigil", "JSON lines with vigil's canonical field names"),
    .paths = vigil_paths,
    .n_slots = V_N,
    .finish = vigil_finish,
};

/* event.h — the normalized event every rule and model sees (DESIGN.md, "Normalized event
 * fields").
 *
 * A decoder fills a VgEvent from one log line. String fields are views (VgStr) into the
 * line itself when the bytes can be used as they are, or into the worker's arena when they
 * had to be rewritten (JSON escapes, the templated endpoint); either way they live until
 * the batch is done. Numeric fields are parsed; `present` says which fields the line had,
 * so a rule can tell "status absent" from "status 0".
 *
 * Fields are also reachable by name (rules, explain): vg_field_resolve() maps a canonical
 * name or a Sigma webserver/proxy taxonomy alias to a VgFieldId once, at rule-load time,
 * and vg_event_get() reads it per event. Any other source field is reached through
 * vg_event_lookup() with its dotted path, which asks the decoder that made the event.
 */
#ifndef VG_EVENT_H
#define VG_EVENT_H

#include "engine/arena.h"
#include "engine/vg.h"

typedef enum {
    VG_F_TIME = 0,
    VG_F_CLIENT_IP,
    VG_F_METHOD,
    VG_F_SCHEME,
    VG_F_HOST,
    VG_F_PATH,
    VG_F_ENDPOINT,
    VG_F_QUERY,
    VG_F_STATUS,
    VG_F_BYTES_OUT,
    VG_F_BYTES_IN,
    VG_F_LATENCY_MS,
    VG_F_USER_AGENT,
    VG_F_REFERER,
    VG_F_TOKEN,
    VG_F_USER,
    VG_F_REQUEST_ID,
    VG_F__COUNT,
    VG_F_EXTRA = -1, /* not a canonical field: look it up by its dotted source path */
} VgFieldId;

typedef enum {
    VG_FT_STR,
    VG_FT_INT,
    VG_FT_DOUBLE,
    VG_FT_TIME, /* int64 ms since the epoch */
} VgFieldType;

typedef struct {
    const char *name;
    VgFieldType type;
} VgFieldInfo;

extern const VgFieldInfo vg_field_info[VG_F__COUNT];

/* A value read from an event, for rules. Strings are views valid until the batch ends. */
typedef enum {
    VG_V_NONE = 0, /* the field is absent */
    VG_V_NULL,     /* present with a JSON null */
    VG_V_STR,
    VG_V_INT,
    VG_V_DOUBLE,
    VG_V_BOOL,
} VgValueKind;

typedef struct {
    VgValueKind kind;
    VgStr s;
    int64_t i; /* VG_V_INT and VG_V_BOOL */
    double d;
} VgValue;

struct VgDecoder;

typedef struct VgEvent {
    /* First, what the models read of every event (VG_EVENT_MODEL_BYTES): a worker of the
     * parallel pipeline that judges only models fetches no more of an event another core
     * decoded (engine/pipeline-par.c). */
    int64_t time_ms;  /* event time, ms since the epoch (UTC) */
    uint32_t present; /* bit (1u << VgFieldId) per field the line carried */
    int32_t status;
    int64_t bytes_out, bytes_in;
    double latency_ms;
    VgStr request_id;

    VgStr client_ip, method, scheme, host, path, endpoint, query;
    VgStr user_agent, referer, token, user;

    VgStr raw; /* the whole input line, for Sigma keyword search and dead letters */
    /* The decoder that made this event answers dotted-path look-ups of other source
     * fields; its private per-event state (e.g. a parsed document) goes in dec_state. */
    const struct VgDecoder *decoder;
    void *dec_state;

    /* Where the line came from, for dead letters, explain and Kafka offsets. */
    const char *source;
    uint64_t line_no;
    int32_t partition; /* -1 outside Kafka */
    int64_t offset;
} VgEvent;

/* The leading bytes of VgEvent that the models read of every event (a new key's name aside). */
#define VG_EVENT_MODEL_BYTES offsetof(VgEvent, client_ip)

static inline bool vg_event_has(const VgEvent *ev, VgFieldId f)
{
    return (ev->present >> f) & 1u;
}
static inline void vg_event_mark(VgEvent *ev, VgFieldId f)
{
    ev->present |= 1u << f;
}

/* Clears ev to "no fields" (partition -1) keeping nothing. */
void vg_event_reset(VgEvent *ev);

/* Sets a string field by id and marks it present. f must be a string field. */
void vg_event_set_str(VgEvent *ev, VgFieldId f, VgStr v);
/* Returns the view of string field f (VG_STR_NULL if absent or not a string field). */
VgStr vg_event_str(const VgEvent *ev, VgFieldId f);

/* Canonical name or alias ("c-ip", "cs-uri-query", ...) to a field id; VG_F_EXTRA for any
 * other name. Case-sensitive, as Sigma field names are. */
VgFieldId vg_field_resolve(const char *name);
const char *vg_field_name(VgFieldId f);

/* Reads field f of ev into out (kind VG_V_NONE when absent). */
void vg_event_get(const VgEvent *ev, VgFieldId f, VgValue *out);

/* Reads a field by name: a canonical name or alias first, else the dotted source path asked
 * of the decoder. Strings it has to build go in arena. Returns true when the field is
 * present (out->kind != VG_V_NONE). */
bool vg_event_lookup(const VgEvent *ev, const char *name, size_t len, VgValue *out, VgArena *arena);

/* Formats a time as ISO 8601 UTC with milliseconds ("2026-03-02T02:05:00.000Z").
 * buf must hold 25 bytes; returns buf. */
char *vg_time_format(int64_t ms, char buf[25]);

#endif

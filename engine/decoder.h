/* decoder.h — how a log format becomes VgEvents.
 *
 * A decoder knows one log format (a "preset": vigil JSON, nginx combined, Envoy, Kong, ...).
 * It is a const table of callbacks, registered once at start-up (vg_register_decoder),
 * from which the engine creates one instance per worker thread: an instance may keep
 * scratch state (a simdjson parser) and is never shared between threads.
 *
 * decode() gets one line without its newline. The bytes from line[len] up to
 * line[len + VG_LINE_PADDING - 1] are readable (their content is unspecified), which lets
 * SIMD parsers read past the end. It fills ev (already reset by the caller) with views into
 * the line or into arena, and returns VG_BAD_NONE, or the reason the line is unusable.
 */
#ifndef VG_DECODER_H
#define VG_DECODER_H

#include "engine/event.h"

#define VG_LINE_PADDING 64

/* Why a line was not turned into an event. Counted per reason; names are stable (metrics,
 * summary, dead-letter file). */
typedef enum {
    VG_BAD_NONE = 0,
    VG_BAD_JSON,     /* not valid JSON, or not a JSON object */
    VG_BAD_UTF8,     /* invalid UTF-8 */
    VG_BAD_FORMAT,   /* a text line that does not have the format's layout */
    VG_BAD_NO_TIME,  /* no timestamp field */
    VG_BAD_TIME,     /* a timestamp that does not parse */
    VG_BAD_TOO_LONG, /* longer than input.max_line_bytes */
    VG_BAD_GZIP,     /* truncated or corrupt compressed input */
    VG_BAD_FIELD,    /* a field of the wrong type (e.g. status "abc") */
    VG_BAD__COUNT,
} VgBadReason;

const char *vg_bad_reason_name(VgBadReason r);

/* One entry of a user-defined field mapping: canonical field <- dotted source path. */
typedef struct {
    char *field;  /* canonical name, e.g. "client_ip" */
    char *source; /* dotted path in the source line, e.g. "downstream.ip" */
} VgFieldMapping;

/* The input section of the config, as decoders see it. */
typedef struct {
    char *format;          /* preset name or "auto" */
    GArray *fields;        /* of VgFieldMapping: overrides on top of the preset; may be NULL */
    size_t max_line_bytes; /* longer lines are bad (VG_BAD_TOO_LONG) */
} VgInputConf;

typedef struct VgDecoder VgDecoder;

typedef struct VgDecoderOps {
    const char *name;        /* preset name used in config and --format */
    const char *description; /* one line for --help */
    /* Creates an instance for one worker. On error NULL is returned and err is set. */
    VgDecoder *(*create)(const struct VgDecoderOps *ops, const VgInputConf *conf, GError **err);
    VgBadReason (*decode)(VgDecoder *d, const char *line, size_t len, VgEvent *ev, VgArena *arena);
    /* Looks up a source field by dotted path ("request.headers.x-forwarded-for") in an event
     * this instance decoded (same batch). Returns true and fills out when present. May be
     * NULL (the format has no other fields). */
    bool (*lookup)(const VgDecoder *d, const VgEvent *ev, const char *path, size_t len,
                   VgValue *out, VgArena *arena);
    void (*destroy)(VgDecoder *d);
} VgDecoderOps;

/* Every instance starts with this header. */
struct VgDecoder {
    const VgDecoderOps *ops;
};

#endif

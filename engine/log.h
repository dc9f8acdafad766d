/* log.h — vigil's own log: one structured line per message on stderr,
 *     ts=2026-03-02T10:00:00.123Z level=warn msg="spool full" sink=redis records=1200
 * Keys and values come as NULL-terminated pairs of strings. The same message is rate
 * limited (at most 10 lines per 10 s; the next line says how many were suppressed), so an
 * error that repeats per event cannot flood the log. Debug lines, which an operator asks
 * for (log.level: debug, e.g. with librdkafka's `debug` property), are never limited. Never pass a
 * raw token or a full URL: log token ids and templated endpoints.
 */
#ifndef VG_LOG_H
#define VG_LOG_H

#include <stdio.h>

typedef enum { VG_LOG_DEBUG, VG_LOG_INFO, VG_LOG_WARN, VG_LOG_ERROR } VgLogLevel;

void vg_log(VgLogLevel level, const char *msg, ...);
void vg_log_set_level(VgLogLevel min);
/* Redirects the log (default stderr); the stream is not closed. */
void vg_log_set_stream(FILE *f);
/* Parses "debug", "info", "warn", "error"; -1 if unknown. */
int vg_log_level_from_name(const char *name);

#define vg_log_debug(...) vg_log(VG_LOG_DEBUG, __VA_ARGS__, (const char *)NULL)
#define vg_log_info(...)  vg_log(VG_LOG_INFO, __VA_ARGS__, (const char *)NULL)
#define vg_log_warn(...)  vg_log(VG_LOG_WARN, __VA_ARGS__, (const char *)NULL)
#define vg_log_error(...) vg_log(VG_LOG_ERROR, __VA_ARGS__, (const char *)NULL)

#endif

/* sinks.h — the alert sinks this library provides (stdout, file, Redis, syslog) and the
 * call that registers them. The delivery layer (delivery.h) finds them by name. */
#ifndef VG_SINKS_H
#define VG_SINKS_H

#include "engine/sink.h"

extern const VgSinkOps vg_sink_stdout_ops;
extern const VgSinkOps vg_sink_file_ops;
extern const VgSinkOps vg_sink_redis_ops;
extern const VgSinkOps vg_sink_syslog_ops;

/* Registers every sink of this library (idempotent). */
void vg_sinks_register(void);

#endif

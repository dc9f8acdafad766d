/* sinks.h — the alert sinks this library provides (stdout, file, Redis, syslog). */
#ifndef VG_SINKS_H
#define VG_SINKS_H

#include "engine/sink.h"

void vg_sinks_register(void);

#endif

/* collectors.h — the transports (file, gzip, stdin, Kafka) and decoders (log formats) this
 * library provides. vg_collectors_register() adds every decoder to the engine's registry. */
#ifndef VG_COLLECTORS_H
#define VG_COLLECTORS_H

#include "engine/collector.h"

void vg_collectors_register(void);

typedef struct {
    size_t max_line_bytes; /* longer lines are passed on truncated, flagged VG_BAD_TOO_LONG */
    bool follow;           /* keep reading as the file grows, across rotation (tail -F) */
} VgFileCollectorConf;

/* Opens a plain or gzip file ("-" for stdin; gzip is recognised by its magic bytes).
 * Returns NULL and sets err when the file cannot be opened. */
VgCollector *vg_file_collector_open(const char *path, const VgFileCollectorConf *conf,
                                    GError **err);

#endif

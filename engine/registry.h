/* registry.h — the tables of decoders, collectors, detectors and sinks.
 *
 * The engine never names a concrete format, rule language or sink. Each library registers
 * its const ops tables at start-up (vg_collectors_register(), vg_sinks_register(), ...,
 * called from one place: engine/wiring.c), and the engine finds them by name.
 */
#ifndef VG_REGISTRY_H
#define VG_REGISTRY_H

#include "engine/decoder.h"
#include "engine/detector.h"
#include "engine/sink.h"

void vg_register_decoder(const VgDecoderOps *ops);
void vg_register_detector(const VgDetectorOps *ops);
void vg_register_sink(const VgSinkOps *ops);

const VgDecoderOps *vg_find_decoder(const char *name);
const VgSinkOps *vg_find_sink(const char *name);

/* NULL-terminated arrays in registration order (owned by the registry). */
const VgDecoderOps *const *vg_decoders(void);
const VgDetectorOps *const *vg_detectors(void);
const VgSinkOps *const *vg_sinks(void);

#endif

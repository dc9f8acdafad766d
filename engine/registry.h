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

/* A module's section of vigil.yml, for `vigil config --dump/--defaults` and docs. The
 * module still validates its section itself when it is created; this only lets the
 * engine show the section without knowing the module. */
typedef struct {
    const char *name;            /* top-level key: "kafka", "spool", "rules", ... */
    const char *help;            /* one line on what the section is for */
    const VgConfOption *options; /* the section's table (NULL: a dump callback is needed) */
    size_t struct_size;          /* size of the struct options fill (0: derived from them) */
    unsigned flags;              /* VG_CS_* */
    /* Optional: appends the effective section (section NULL: defaults), secrets masked,
     * as YAML lines at indent; false and err on an invalid section. For sections a flat
     * table cannot show (nested maps, per-leaf masking). */
    bool (*dump)(const VgConfNode *section, GString *out, int indent, GError **err);
} VgConfSection;

enum {
    /* absent by default, and its presence switches something on (kafka: read Kafka), so
     * the annotated defaults show it commented out */
    VG_CS_OPTIONAL = 1 << 0,
};

/* Registers a section (the struct must outlive the process: a static const). The first
 * registration of a name wins. */
void vg_register_conf_section(const VgConfSection *sec);
const VgConfSection *vg_find_conf_section(const char *name);
/* NULL-terminated, in registration order (owned by the registry). */
const VgConfSection *const *vg_conf_sections(void);

const VgDecoderOps *vg_find_decoder(const char *name);
const VgSinkOps *vg_find_sink(const char *name);

/* NULL-terminated arrays in registration order (owned by the registry). */
const VgDecoderOps *const *vg_decoders(void);
const VgDetectorOps *const *vg_detectors(void);
const VgSinkOps *const *vg_sinks(void);

#endif

/* embedded.h — the shipped rule packs, compiled into the binary.
 *
 * cmake/embed-packs.cmake turns every file under rules/packs/ into an entry here at build
 * time. The rule loader reads them for paths of the form "embedded:" (every pack) or
 * "embedded:api" (one pack directory), so that vigil runs on its default rules even when no
 * pack directory is installed next to it.
 */
#ifndef VG_EMBEDDED_H
#define VG_EMBEDDED_H

#include <stddef.h>

typedef struct {
    const char *path; /* relative to rules/packs, e.g. "api/injection_sqli.yml" */
    const char *text;
    size_t len;
} VgEmbeddedFile;

/* Terminated by an entry with path NULL. */
extern const VgEmbeddedFile vg_embedded_packs[];

#endif

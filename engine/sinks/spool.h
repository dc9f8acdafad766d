/* spool.h — a bounded, append-only, crash-safe queue of alert records on disk, one per
 * sink. The delivery layer writes a batch here when its sink is down and reads it back,
 * in order, when the sink returns; a spool left by a previous run is delivered first.
 *
 * Layout of a spool directory:
 *   LOCK                   flock()ed while a process uses the spool (one user at a time)
 *   <20-digit n>.seg       segments, appended in order; each process start writes a new one
 *   cursor                 where reading stands: segment number, offset (CRC-protected)
 * A record is framed as  magic "VGS1" | u32 payload length | u32 crc32(payload) | payload,
 * little-endian; the payload holds every field of a VgAlertRecord. A torn write at the
 * tail (crash mid-append) or a corrupted byte is caught by the length or the CRC; the
 * reader logs it loudly, counts it and resynchronises on the next valid frame.
 *
 * Durability: vg_spool_append() writes the whole batch and (with fsync on) fdatasync()s
 * the segment once before returning, so a batch is either durably spooled or reported as
 * not spooled (the segment is truncated back). Reading is at-least-once: the cursor is
 * persisted after the consumer has delivered what it peeked, so a crash in between
 * re-delivers those records (same event.id: sinks that dedup drop them).
 */
#ifndef VG_SPOOL_H
#define VG_SPOOL_H

#include "engine/sink.h"

typedef struct VgSpool VgSpool;

typedef struct {
    int64_t max_bytes;     /* total bytes of the segments not yet consumed */
    int64_t segment_bytes; /* roll to a new segment past this size */
    bool fsync;            /* fdatasync after each append and cursor update */
} VgSpoolLimits;

/* Opens the spool in dir, creating it (mode 0700) if needed, locks it and scans what a
 * previous run left (counting records; corrupt ones are logged under log_name). Returns
 * NULL and sets err when the directory cannot be created, locked or read. */
VgSpool *vg_spool_open(const char *dir, const VgSpoolLimits *lim, const char *log_name,
                       GError **err);

/* Appends recs[0..n) durably, all or nothing. VG_OK; VG_EFULL (nothing written) when the
 * batch would take the spool past max_bytes; VG_EIO with err set on an I/O error. */
int vg_spool_append(VgSpool *s, const VgAlertRecord *const *recs, size_t n, GError **err);

/* Reads up to max records from the read position without consuming them. *recs points
 * into a buffer owned by the spool, valid until the next peek/consume/free. *n is 0 when
 * the spool is empty. VG_OK or VG_EIO. */
int vg_spool_peek(VgSpool *s, size_t max, const VgAlertRecord *const **recs, size_t *n,
                  GError **err);

/* Consumes what the last peek returned: moves and persists the read position, deletes
 * segments read to the end. VG_OK or VG_EIO. */
int vg_spool_consume(VgSpool *s, GError **err);

uint64_t vg_spool_records(const VgSpool *s); /* records not yet consumed */
uint64_t vg_spool_bytes(const VgSpool *s);   /* bytes not yet consumed */
uint64_t vg_spool_corrupt(const VgSpool *s); /* corrupt/truncated records skipped */

/* Closes the spool (records stay on disk). NULL is fine. */
void vg_spool_free(VgSpool *s);

#endif

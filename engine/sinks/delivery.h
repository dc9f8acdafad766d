/* delivery.h — the layer between the alert stage and the sinks: batching, retry, spool.
 *
 * The alert stage pushes rendered records into one VgAlertOutput (engine/output.h) and
 * calls its flush() at the end of every batch. The delivery layer copies what is pushed,
 * and at flush hands the batch to every configured sink in order. A sink that fails
 * (write or flush returns an error) is "down": the batch, and every later one, goes to
 * that sink's on-disk spool (engine/sinks/spool.h) until the spool has been delivered in
 * order, retried with exponential backoff on later flushes. Other sinks are not held up.
 *
 * Nothing is dropped silently. When a down sink's spool is full, flush() returns
 * VG_EFULL and keeps the batch in memory; push() then refuses new records with VG_EFULL
 * until a later flush() has delivered or spooled it, so the pipeline stops reading input.
 * delivered_upto counts the records, in push order, that every sink has delivered or
 * durably spooled: Kafka offsets may be committed behind that point.
 *
 * One thread drives a VgDelivery (push, flush, reopen, close); vg_delivery_stats() may be
 * called from another thread (the counters are read atomically).
 */
#ifndef VG_DELIVERY_H
#define VG_DELIVERY_H

#include "engine/output.h"

typedef struct VgDelivery VgDelivery;

/* Creates the sinks and opens any existing spool so that records left by a previous run
 * are delivered first.
 * sinks: the `sinks:` section of vigil.yml, a list of maps each with `type:` naming a
 *   registered sink, an optional `name:` (default: the type; names must be unique: they
 *   name the spool directory and the metrics), an optional `spool: false` (a failing
 *   sink then blocks the pipeline instead of spooling; the default for stdout, whose
 *   spooled alerts would otherwise surface in a later run's output) and that sink's
 *   options. NULL or null: one stdout sink.
 * spool: the `spool:` section (NULL: defaults, see vg_delivery_spool_options).
 * Sinks must have been registered (vg_sinks_register()). Returns NULL and sets err on a
 * configuration error. The caller owns the result (vg_delivery_free). */
VgDelivery *vg_delivery_new(const VgConfNode *sinks, const VgConfNode *spool, GError **err);

/* The push/flush pair the alert stage writes into. Valid while d lives.
 *   push: VG_OK (record copied), or VG_EFULL (record NOT taken: a previous batch is still
 *     neither delivered nor spooled; call flush again later, then push the record again).
 *   flush: VG_OK when every sink has delivered or durably spooled the batch; VG_EFULL
 *     when some sink is down and its spool is full (the batch stays in memory and the
 *     next flush retries; flush sleeps up to 200 ms in that state so a retry loop does not
 *     spin). Call flush periodically even without new records: spooled records are
 *     retried from flush. */
VgAlertOutput vg_delivery_output(VgDelivery *d);

/* Same as the output's callbacks, for callers that hold the VgDelivery. */
int vg_delivery_push(VgDelivery *d, const VgAlertRecord *rec);
int vg_delivery_flush(VgDelivery *d);

/* Records pushed (accepted) since vg_delivery_new. */
uint64_t vg_delivery_pushed(const VgDelivery *d);
/* Records, counted in push order from the first push, that every sink has delivered or
 * durably spooled: the point behind which input offsets may be committed. */
uint64_t vg_delivery_delivered_upto(const VgDelivery *d);

/* SIGHUP: sinks reopen their files (logrotate). Call from the delivering thread (the
 * signal handler should only set a flag). */
void vg_delivery_reopen(VgDelivery *d);

/* Drains: flushes pending records and keeps retrying down sinks until every spool is
 * empty or timeout_ms passes (0: one attempt; negative: no limit). Returns VG_OK when
 * everything was delivered; VG_EAGAIN (err says which sinks) when records remain in a
 * spool (they are safe on disk and go out on the next start), VG_EFULL when some could
 * not even be spooled (they are lost: said loudly in err). */
int vg_delivery_close(VgDelivery *d, int64_t timeout_ms, GError **err);

/* Frees d and its sinks (without draining: call close first). NULL is fine. */
void vg_delivery_free(VgDelivery *d);

/* Counters for one sink, for metrics. */
typedef struct {
    const char *name;       /* instance name (owned by d) */
    const char *type;       /* sink type: "redis", "syslog", ... */
    bool down;              /* the last attempt failed; records go to the spool */
    uint64_t delivered;     /* records the sink accepted */
    uint64_t failed;        /* failed write/flush attempts */
    uint64_t spooled;       /* records written to the spool */
    uint64_t spool_records; /* records in the spool now */
    uint64_t spool_bytes;   /* bytes of the spool now */
    uint64_t spool_full;    /* times a batch could not be spooled (spool full or unusable) */
    uint64_t spool_corrupt; /* corrupt or truncated spool records skipped */
    uint64_t reconnects;    /* connections the sink (re)established */
} VgSinkStats;

/* Number of sinks, and a snapshot of sink i's counters (0 <= i < n). */
size_t vg_delivery_n_sinks(const VgDelivery *d);
void vg_delivery_stats(const VgDelivery *d, size_t i, VgSinkStats *out);

/* The `spool:` option table (for config dumps and docs). */
extern const VgConfOption vg_delivery_spool_options[];

#endif

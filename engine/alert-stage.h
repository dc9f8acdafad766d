/* alert-stage.h — the stage between detectors and sinks (see alert.c for what it does:
 * token ids, deterministic event ids, dedup and cooldown per incident, redaction, JSON). */
#ifndef VG_ALERT_STAGE_H
#define VG_ALERT_STAGE_H

#include "engine/alert.h"
#include "engine/output.h"

typedef struct VgAlertStage VgAlertStage;

typedef struct {
    int64_t cooldown_ms;
    int max_samples;
    int64_t max_incidents;
    const char *token_key; /* NULL: the public default key */
    bool redact_pii;
} VgAlertStageConf;

typedef struct {
    uint64_t raised;      /* alerts detectors raised */
    uint64_t emitted;     /* new incidents sent to the output */
    uint64_t updates;     /* periodic updates of ongoing incidents sent */
    uint64_t suppressed;  /* folded into an ongoing incident */
    uint64_t forgotten;   /* incidents dropped from the dedup table to stay in budget */
    uint64_t output_full; /* pushes refused by the output (spool full) */
} VgAlertStats;

/* Creates the stage. out is copied; conf strings are copied. */
VgAlertStage *vg_alert_stage_new(const VgAlertStageConf *conf, VgAlertOutput out);
void vg_alert_stage_free(VgAlertStage *st);
/* Reload: a new cooldown and sample count, from the next alert on. Open incidents stay. */
void vg_alert_stage_reconfigure(VgAlertStage *st, int64_t cooldown_ms, int max_samples);
/* Forgets incidents that ended a cooldown before watermark (bounded memory). */
void vg_alert_stage_expire(VgAlertStage *st, int64_t watermark);
const VgAlertStats *vg_alert_stage_stats(const VgAlertStage *st);
/* The key the stage hashes tokens with, made ready (for detectors that name tokens). */
const VgHmacKey *vg_alert_stage_token_key(const VgAlertStage *st);
/* Renders a without dedup into out (for tests and explain); returns the event id in id. */
void vg_alert_render(VgAlertStage *st, const VgAlert *a, GString *out, char id[33]);

/* Checkpoints: the open incidents (dedup and cooldown state) and the counters, appended
 * to out / loaded into st (replacing its incidents). VG_EINVAL and err on a corrupt
 * snapshot; st then has no incidents. */
int vg_alert_stage_snapshot(VgAlertStage *st, GByteArray *out);
int vg_alert_stage_restore(VgAlertStage *st, const void *data, size_t len, GError **err);

/* The public default token key, used when none is configured. */
#define VG_DEFAULT_TOKEN_KEY "vigil-default-token-key-set-privacy.token_key"

#endif

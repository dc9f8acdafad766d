/* alert.h — what detectors produce, and the one JSON form every sink writes.
 *
 * A detector fills a VgAlert (views and numbers, nothing allocated) and passes it to
 * vg_alerts_emit(). The alert stage then
 *   1. replaces the raw token by token_id, a keyed HMAC (the raw token never leaves here),
 *   2. derives the deterministic event.id from rule, entity and window,
 *   3. applies dedup and cooldown per (rule, entity),
 *   4. renders the ECS-style JSON of DESIGN.md once and hands it to every sink.
 *
 * Severity follows Sigma levels: 1 low, 2 medium, 3 high, 4 critical (0 informational).
 */
#ifndef VG_ALERT_H
#define VG_ALERT_H

#include "engine/sha256.h"
#include "engine/vg.h"

#define VG_ALERT_MAX_SAMPLES 5

typedef enum {
    VG_SEV_INFO = 0,
    VG_SEV_LOW = 1,
    VG_SEV_MEDIUM = 2,
    VG_SEV_HIGH = 3,
    VG_SEV_CRITICAL = 4,
} VgSeverity;

/* Sigma level name ("high") to severity; -1 if unknown. */
int vg_severity_from_name(const char *name);
const char *vg_severity_name(VgSeverity s);
/* Default risk score (0-100) for a severity, as ECS detection rules map them. */
int vg_severity_risk(VgSeverity s);

typedef struct {
    /* rule */
    const char *rule_id;
    const char *rule_name;
    const char *rule_category; /* "volumetric", "sigma", "correlation", "builtin", ... */
    const char *ruleset;       /* pack or model set name */
    VgSeverity severity;
    int risk_score; /* 0 means: derive from severity */

    /* when: the window the alert covers (for a single event, start = end = its time) */
    int64_t start_ms, end_ms;

    /* entity: what the alert is about. entity_type is "token", "client_ip", "endpoint",
     * "token_endpoint", "user", ...; the fields that identify it are set, others absent. */
    const char *entity_type;
    VgStr token; /* raw credential; hashed to token_id before anything leaves the engine */
    VgStr client_ip, endpoint, user;
    VgStr group; /* other identifying values, "field=value, …" (correlation group-by) */
    /* token_id (16 hex) already computed by a detector that keeps no raw token (models);
     * used when token is absent. */
    VgStr token_id;

    /* the request that triggered it (for single-event rules), optional */
    VgStr method, path, query, host;

    /* statistics (has_stats) */
    bool has_stats;
    double observed, expected, score, p_value;
    const char *model_kind;
    int bucket_s, half_life_s;

    const char *reason; /* one sentence a person can act on; must not contain raw tokens */
    VgStr samples[VG_ALERT_MAX_SAMPLES]; /* request ids */
    int n_samples;
} VgAlert;

/* token_id: the first 16 hex digits of HMAC-SHA256(key, token). out gets 17 bytes. */
void vg_token_id(const char *key, size_t key_len, VgStr token, char out[17]);
/* The same with the key made ready (vg_hmac_key_init), as the number the 16 digits spell:
 * what the hot path uses (models name every new token with it). */
uint64_t vg_token_num(const VgHmacKey *key, VgStr token);
/* The 16 digits of a token id number, into out (17 bytes). */
void vg_token_hex(uint64_t num, char out[17]);

#endif

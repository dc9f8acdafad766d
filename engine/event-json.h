/* event-json.h — a VgEvent as the JSON object `vigil explain` prints: exactly the
 * canonical fields the line carried, in canonical units (time ISO 8601 UTC with ms, latency
 * in ms), the token as its token_id. */
#ifndef VG_EVENT_JSON_H
#define VG_EVENT_JSON_H

#include "engine/event.h"
#include "engine/sha256.h"

/* Appends the object to out. fields: bit (1u << VgFieldId) per field to include (~0u for
 * all). token_key: the key of token ids (vg_alert_stage_token_key()). */
void vg_event_to_json(const VgEvent *ev, uint32_t fields, const VgHmacKey *token_key, GString *out);

/* Parses "a,b,c" (canonical names or aliases) into a field mask. Returns false and sets
 * err for an unknown name. */
bool vg_field_mask_parse(const char *list, uint32_t *mask, GError **err);

#endif

/* privacy.h — what keeps secrets and personal data out of alerts.
 *
 * Tokens: see vg_token_id() in alert.h. Personal data: URLs in alerts (path, query) and
 * reasons pass through vg_redact_pii(), which replaces e-mail addresses, phone numbers,
 * payment card numbers (13-19 digits passing the Luhn check) and dates of birth with
 * markers ([email], [phone], [card], [date]). It is a hand-written scanner, not regexes:
 * it runs only when an alert is raised, but must never be fooled into a slow path.
 */
#ifndef VG_PRIVACY_H
#define VG_PRIVACY_H

#include "engine/vg.h"

/* Appends s to out with personal data replaced. Returns the number of replacements. */
int vg_redact_pii(GString *out, const char *s, size_t len);

/* True if digits (only '0'-'9', n of them) pass the Luhn check. */
bool vg_luhn_valid(const char *digits, size_t n);

#endif

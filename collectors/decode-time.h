/* decode-time.h — timestamps of access logs to int64 milliseconds UTC.
 *
 * Every decoder calls these once per line, so they are hand-written scanners with civil
 * date arithmetic (days from 1970-01-01 of a proleptic Gregorian date): no strptime, no
 * mktime, no time zone database. Offsets in the text (Z, +02:00, +0200, -05) are applied
 * directly; there is no local time zone anywhere.
 *
 * Forms:
 *  - ISO 8601 / RFC 3339: 2026-03-02T10:00:00Z, ...00.123456+02:00, ...00+0200, a space
 *    instead of T, no fraction, no offset (read as UTC), minutes without seconds.
 *  - CLF / nginx $time_local / AWS $context.requestTime: 02/Mar/2026:10:00:00 +0100.
 *  - Epoch numbers, told apart by magnitude: below 1e11 seconds (up to year 5138), below
 *    1e14 milliseconds, below 1e17 microseconds, else nanoseconds. Fractions are kept to
 *    the millisecond (truncated, as every other form is).
 * Fractions below the millisecond are truncated, never rounded, so a time and its ISO
 * rendering with milliseconds agree.
 */
#ifndef VG_DECODE_TIME_H
#define VG_DECODE_TIME_H

#include "engine/vg.h"

/* Days since 1970-01-01 of y-m-d (m 1..12, d 1..31); valid for any year. */
int64_t vg_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Each parser reads the whole of p[0..n) (surrounding spaces allowed) and returns true with
 * *ms set, or false when the text is not entirely that form or a field is out of range. */
bool vg_time_parse_iso8601(const char *p, size_t n, int64_t *ms);
bool vg_time_parse_clf(const char *p, size_t n, int64_t *ms);
bool vg_time_parse_epoch(const char *p, size_t n, int64_t *ms);

/* Any of the textual forms above. */
bool vg_time_parse(const char *p, size_t n, int64_t *ms);

/* An epoch number of unknown unit (see above). Returns false for NaN or out of range. */
bool vg_time_from_epoch_double(double v, int64_t *ms);
bool vg_time_from_epoch_int(int64_t v, int64_t *ms);

#endif

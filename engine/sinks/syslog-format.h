/* syslog-format.h — RFC 5424 messages and RFC 6587 framing for the syslog sink, apart
 * from the sockets so that the exact bytes can be unit-tested.
 *
 * A message is
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [vigil@PEN id="…" rule="…" …] MSG
 * PRI = facility * 8 + the syslog severity the alert severity maps to (critical 2 crit,
 * high 3 err, medium 4 warning, low 5 notice, info 6 informational). TIMESTAMP is the
 * alert's @timestamp (event time, so a replay produces the same bytes), MSGID the rule id
 * cut to the RFC's 32 printable ASCII characters, MSG the alert JSON or a short text.
 */
#ifndef VG_SYSLOG_FORMAT_H
#define VG_SYSLOG_FORMAT_H

#include "engine/sink.h"

typedef enum { VG_SYSLOG_MSG_JSON, VG_SYSLOG_MSG_TEXT } VgSyslogMsgKind;
typedef enum { VG_SYSLOG_BOM_AUTO, VG_SYSLOG_BOM_ALWAYS, VG_SYSLOG_BOM_NEVER } VgSyslogBom;

typedef struct {
    int facility;         /* 0..23 */
    int64_t pen;          /* private enterprise number of the SD-ID vigil@PEN */
    const char *hostname; /* already sanitised (vg_syslog_header_field) */
    const char *app_name; /* idem */
    const char *procid;   /* idem */
    VgSyslogMsgKind msg;
    VgSyslogBom bom; /* auto: a BOM only before a MSG with non-ASCII (UTF-8) bytes */
} VgSyslogFormat;

/* Facility name ("local0", "daemon", ...) to its number; -1 if unknown. */
int vg_syslog_facility(const char *name);
/* The syslog severity (RFC 5424 table 2) for an alert severity. */
int vg_syslog_severity(VgSeverity s);

/* Writes into out (max+1 bytes) the header field form of s: printable US-ASCII (33..126)
 * only, at most max characters, "-" when nothing is left. Returns out. */
char *vg_syslog_header_field(const char *s, char *out, size_t max);

/* Appends one RFC 5424 message for r (no framing, no trailing newline). */
void vg_syslog_format(GString *out, const VgSyslogFormat *f, const VgAlertRecord *r);

/* Appends the short text form of r used as MSG with `message: text`, and in place of a
 * JSON MSG too large for the transport. */
void vg_syslog_text(GString *out, const VgAlertRecord *r);

/* Appends an SD PARAM-VALUE with '"', '\' and ']' escaped by a backslash (RFC 5424
 * section 6.3.3). */
void vg_syslog_sd_escape(GString *out, const char *v);

/* Appends msg framed by RFC 6587 octet counting: "<length> <msg>". */
void vg_syslog_frame_octets(GString *out, const char *msg, size_t len);

#endif

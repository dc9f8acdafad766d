/* syslog-format.c — see syslog-format.h.
 *
 * Field rules from RFC 5424 that matter here: header fields are NILVALUE ("-") or
 * PRINTUSASCII without spaces, with length limits (HOSTNAME 255, APP-NAME 48, PROCID 128,
 * MSGID 32); PARAM-VALUEs are UTF-8 with '"', '\' and ']' escaped; the MSG is either
 * MSG-UTF8 (BOM, then UTF-8) or MSG-ANY (octets not starting with a BOM). The JSON vigil
 * renders is UTF-8; an all-ASCII MSG is sent without BOM by default, because many
 * receivers keep the BOM as part of the text and it would then break JSON parsing there.
 */
#include "engine/sinks/syslog-format.h"

#include <stdio.h>

#include "engine/event.h"

static const char *const facilities[] = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "audit",  "alert",  "clock",
    "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7",
};

int vg_syslog_facility(const char *name)
{
    for (size_t i = 0; i < VG_ARRAY_LEN(facilities); i++)
        if (!g_ascii_strcasecmp(name, facilities[i]))
            return (int)i;
    return -1;
}

int vg_syslog_severity(VgSeverity s)
{
    switch (s) {
    case VG_SEV_CRITICAL:
        return 2;
    case VG_SEV_HIGH:
        return 3;
    case VG_SEV_MEDIUM:
        return 4;
    case VG_SEV_LOW:
        return 5;
    case VG_SEV_INFO:
        return 6;
    }
    return 6;
}

char *vg_syslog_header_field(const char *s, char *out, size_t max)
{
    size_t n = 0;
    for (; s && *s && n < max; s++)
        if (*s >= 33 && *s <= 126)
            out[n++] = *s;
    if (n == 0)
        out[n++] = '-';
    out[n] = '\0';
    return out;
}

void vg_syslog_sd_escape(GString *out, const char *v)
{
    for (; v && *v; v++) {
        if (*v == '"' || *v == '\\' || *v == ']')
            g_string_append_c(out, '\\');
        g_string_append_c(out, *v);
    }
}

static void sd_param(GString *out, const char *name, const char *v)
{
    if (!v || !*v)
        return; /* absent, rather than an empty value a SIEM would index */
    g_string_append_printf(out, " %s=\"", name);
    vg_syslog_sd_escape(out, v);
    g_string_append_c(out, '"');
}

static void format_score(char *buf, size_t n, double score)
{
    snprintf(buf, n, "%.6g", score);
}

void vg_syslog_text(GString *out, const VgAlertRecord *r)
{
    char sc[32];
    format_score(sc, sizeof sc, r->score);
    g_string_append_printf(out, "%s (%s) severity=%s entity=%s",
                           r->rule_name && *r->rule_name ? r->rule_name : r->rule_id, r->rule_id,
                           vg_severity_name(r->severity), r->entity_type ? r->entity_type : "");
    if (r->token_id && *r->token_id)
        g_string_append_printf(out, " token_id=%s", r->token_id);
    if (r->client_ip && *r->client_ip)
        g_string_append_printf(out, " client_ip=%s", r->client_ip);
    g_string_append_printf(out, " score=%s id=%s", sc, r->id);
}

static bool has_non_ascii(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)p[i] >= 0x80)
            return true;
    return false;
}

void vg_syslog_format(GString *out, const VgSyslogFormat *f, const VgAlertRecord *r)
{
    char ts[25], msgid[33], sc[32];
    vg_time_format(r->time_ms, ts);
    vg_syslog_header_field(r->rule_id, msgid, 32);
    g_string_append_printf(out, "<%d>1 %s %s %s %s %s [vigil@%" G_GINT64_FORMAT,
                           f->facility * 8 + vg_syslog_severity(r->severity), ts, f->hostname,
                           f->app_name, f->procid, msgid, f->pen);
    sd_param(out, "id", r->id);
    sd_param(out, "rule", r->rule_id);
    sd_param(out, "severity", vg_severity_name(r->severity));
    sd_param(out, "entity", r->entity_type);
    sd_param(out, "token_id", r->token_id);
    sd_param(out, "client_ip", r->client_ip);
    format_score(sc, sizeof sc, r->score);
    sd_param(out, "score", sc);
    g_string_append(out, "] ");
    size_t msg_at = out->len;
    if (f->msg == VG_SYSLOG_MSG_JSON)
        g_string_append_len(out, r->json, (gssize)r->json_len);
    else
        vg_syslog_text(out, r);
    bool bom =
        f->bom == VG_SYSLOG_BOM_ALWAYS ||
        (f->bom == VG_SYSLOG_BOM_AUTO && has_non_ascii(out->str + msg_at, out->len - msg_at));
    if (bom)
        g_string_insert_len(out, (gssize)msg_at, "\xEF\xBB\xBF", 3);
}

void vg_syslog_frame_octets(GString *out, const char *msg, size_t len)
{
    g_string_append_printf(out, "%zu ", len);
    g_string_append_len(out, msg, (gssize)len);
}

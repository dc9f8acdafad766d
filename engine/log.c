/* log.c — see log.h. Rate limiting is keyed by the message text's address: messages are
 * string literals, so one call site is one key. Wall-clock time is fine here: logs are
 * for people, not part of detection. */
#include "engine/log.h"

#include "engine/event.h"

#include <stdarg.h>
#include <string.h>

#define RL_SLOTS     64
#define RL_WINDOW_US (10 * G_USEC_PER_SEC)
#define RL_MAX       10

static VgLogLevel min_level = VG_LOG_INFO;
static FILE *stream;
static GMutex lock;

static struct {
    const char *msg;
    gint64 window_start;
    unsigned count, suppressed;
} rl[RL_SLOTS];

void vg_log_set_level(VgLogLevel min)
{
    min_level = min;
}

void vg_log_set_stream(FILE *f)
{
    stream = f;
}

int vg_log_level_from_name(const char *name)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (name && !strcmp(name, names[i]))
            return i;
    return -1;
}

static void append_value(GString *o, const char *v)
{
    bool plain = *v && !strpbrk(v, " \"=\\\n\t");
    if (plain) {
        g_string_append(o, v);
        return;
    }
    g_string_append_c(o, '"');
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            g_string_append_c(o, '\\');
        if (*v == '\n')
            g_string_append(o, "\\n");
        else
            g_string_append_c(o, *v);
    }
    g_string_append_c(o, '"');
}

void vg_log(VgLogLevel level, const char *msg, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < min_level)
        return;
    gint64 now = g_get_real_time();
    unsigned suppressed = 0;
    if (level == VG_LOG_DEBUG)
        goto write; /* asked for explicitly (log.level: debug), to see everything */
    g_mutex_lock(&lock);
    unsigned slot = (unsigned)(((uintptr_t)msg >> 3) % RL_SLOTS);
    if (rl[slot].msg != msg || now - rl[slot].window_start > RL_WINDOW_US) {
        suppressed = rl[slot].msg == msg ? rl[slot].suppressed : 0;
        rl[slot].msg = msg;
        rl[slot].window_start = now;
        rl[slot].count = 0;
        rl[slot].suppressed = 0;
    }
    if (++rl[slot].count > RL_MAX) {
        rl[slot].suppressed++;
        g_mutex_unlock(&lock);
        return;
    }
    g_mutex_unlock(&lock);

write:;
    char ts[25];
    GString *o = g_string_sized_new(160);
    g_string_append_printf(o, "ts=%s level=%s msg=", vg_time_format(now / 1000, ts), names[level]);
    append_value(o, msg);
    va_list ap;
    va_start(ap, msg);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        g_string_append_printf(o, " %s=", k);
        append_value(o, v ? v : "");
    }
    va_end(ap);
    if (suppressed)
        g_string_append_printf(o, " suppressed=%u", suppressed);
    g_string_append_c(o, '\n');
    FILE *f = stream ? stream : stderr;
    fwrite(o->str, 1, o->len, f);
    fflush(f);
    g_string_free(o, TRUE);
}

/* sink-util.c — see sink-util.h. */
#include "engine/sinks/sink-util.h"

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

const char *vg_sinks_u64(char buf[24], uint64_t v)
{
    snprintf(buf, 24, "%" G_GUINT64_FORMAT, v);
    return buf;
}

void vg_sinks_json_lines(GString *buf, const VgAlertRecord *const *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        g_string_append_len(buf, recs[i]->json, (gssize)recs[i]->json_len);
        g_string_append_c(buf, '\n');
    }
}

int vg_sinks_write_all(int fd, const char *p, size_t len, bool is_socket)
{
    while (len > 0) {
        ssize_t w = is_socket ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return VG_EIO;
        }
        if (w == 0) {
            errno = EIO;
            return VG_EIO;
        }
        p += w;
        len -= (size_t)w;
    }
    return VG_OK;
}

int64_t vg_sinks_now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

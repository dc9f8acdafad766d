/* sink-file.c — alerts as JSON lines appended to a file, reopened on SIGHUP for logrotate.
 *
 * One write() per batch on an O_APPEND descriptor, so a batch lands whole even if another
 * process appends to the same file. A batch that fails half-way is cut back to the size
 * the file had before it (all or nothing, as sink.h asks), and the descriptor is dropped:
 * the next attempt reopens the path, which also recovers from a deleted directory or a
 * file replaced under us. On SIGHUP the path is reopened (logrotate's "create" or
 * "postrotate kill -HUP"); if that fails the old descriptor is kept and the error logged,
 * so alerts keep flowing into the rotated file rather than stopping.
 */
#include "engine/sinks/sinks.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/sinks/sink-util.h"

typedef struct {
    char *path;
    bool fsync;
    char *mode;
} FileConf;

static const VgConfOption file_options[] = {
    {"path", VG_CT_STRING, offsetof(FileConf, path), NULL, 0, 0, NULL, VG_CO_REQUIRED, NULL,
     "file the alerts are appended to (created if missing)"},
    {"fsync", VG_CT_BOOL, offsetof(FileConf, fsync), "false", 0, 0, NULL, 0, NULL,
     "fdatasync after each batch"},
    {"mode", VG_CT_STRING, offsetof(FileConf, mode), "0640", 0, 0, NULL, 0, NULL,
     "permissions of a newly created file (octal)"},
    {0},
};

typedef struct {
    VgSink base;
    FileConf c;
    mode_t mode;
    int fd;
    GString *buf;
} VgFileSink;

static int file_open(VgFileSink *s, GError **err)
{
    int fd = open(s->c.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, s->mode);
    if (fd < 0) {
        int e = errno;
        g_set_error(err, VG_ERROR, VG_EIO, "cannot open %s: %s", s->c.path, g_strerror(e));
        return VG_EIO;
    }
    if (s->fd >= 0)
        close(s->fd);
    s->fd = fd;
    return VG_OK;
}

static VgSink *file_create(const VgSinkOps *ops, const VgConfNode *section, GError **err)
{
    VgFileSink *s = g_new0(VgFileSink, 1);
    s->base.ops = ops;
    s->fd = -1;
    s->buf = g_string_sized_new(64 * 1024);
    if (vg_conf_apply(file_options, &s->c, section, err) < 0)
        goto fail;
    char *end;
    unsigned long m = strtoul(s->c.mode, &end, 8);
    if (*end || m > 07777) {
        vg_conf_error(err, section ? vg_conf_get(section, "mode") : NULL,
                      "mode must be octal permissions such as 0640, not '%s'", s->c.mode);
        goto fail;
    }
    s->mode = (mode_t)m;
    /* A file that cannot be opened yet is not a config error: it is retried like a
     * server that is down, and its alerts are spooled meanwhile. */
    GError *e = NULL;
    if (file_open(s, &e) == VG_OK)
        s->base.reconnects++;
    else {
        vg_log_warn("file sink not writable yet, will retry", "path", s->c.path, "error",
                    e->message);
        g_error_free(e);
    }
    return &s->base;
fail:
    vg_conf_clear(file_options, &s->c);
    g_string_free(s->buf, TRUE);
    g_free(s);
    return NULL;
}

static int file_write(VgSink *sink, const VgAlertRecord *const *recs, size_t n, GError **err)
{
    VgFileSink *s = (VgFileSink *)sink;
    if (s->fd < 0) {
        if (file_open(s, err) < 0)
            return VG_EIO;
        s->base.reconnects++;
    }
    g_string_truncate(s->buf, 0);
    vg_sinks_json_lines(s->buf, recs, n);
    struct stat st;
    bool have_size = fstat(s->fd, &st) == 0;
    if (vg_sinks_write_all(s->fd, s->buf->str, s->buf->len, false) < 0 ||
        (s->c.fsync && fdatasync(s->fd) < 0)) {
        int e = errno;
        g_set_error(err, VG_ERROR, VG_EIO, "writing %s: %s", s->c.path, g_strerror(e));
        if (have_size && ftruncate(s->fd, st.st_size) < 0) {
            /* nothing more to do: the partial line will be followed by a retry */
        }
        close(s->fd);
        s->fd = -1;
        return VG_EIO;
    }
    return VG_OK;
}

static void file_reopen(VgSink *sink)
{
    VgFileSink *s = (VgFileSink *)sink;
    GError *err = NULL;
    if (file_open(s, &err) < 0) {
        vg_log_error("reopen failed, still writing to the old file", "sink", sink->instance,
                     "error", err->message);
        g_error_free(err);
        return;
    }
    s->base.reconnects++;
}

static void file_destroy(VgSink *sink)
{
    VgFileSink *s = (VgFileSink *)sink;
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    vg_conf_clear(file_options, &s->c);
    g_string_free(s->buf, TRUE);
    g_free(s);
}

const VgSinkOps vg_sink_file_ops = {
    .name = "file",
    .options = file_options,
    .create = file_create,
    .write = file_write,
    .flush = NULL,
    .reopen = file_reopen,
    .destroy = file_destroy,
};

/* sink-stdout.c — alerts as JSON lines on standard output.
 *
 * The simplest sink, and the model for new ones: no options, one fwrite per batch (so a
 * batch is not interleaved with anything else written to stdout), fflush on flush. A
 * failed write (EPIPE, a full disk behind a redirect) returns VG_EIO; the delivery layer
 * then spools and retries like any other sink. stdout is not reopened on SIGHUP.
 */
#include "engine/sinks/sinks.h"

#include <errno.h>
#include <stdio.h>

#include "engine/sinks/sink-util.h"

typedef struct {
    VgSink base;
    GString *buf; /* reused across batches */
} VgStdoutSink;

static const VgConfOption stdout_options[] = {
    {0},
};

static VgSink *stdout_create(const VgSinkOps *ops, const VgConfNode *section, GError **err)
{
    char dummy;
    if (vg_conf_apply(stdout_options, &dummy, section, err) < 0)
        return NULL;
    VgStdoutSink *s = g_new0(VgStdoutSink, 1);
    s->base.ops = ops;
    s->buf = g_string_sized_new(64 * 1024);
    return &s->base;
}

static int stdout_write(VgSink *sink, const VgAlertRecord *const *recs, size_t n, GError **err)
{
    VgStdoutSink *s = (VgStdoutSink *)sink;
    g_string_truncate(s->buf, 0);
    vg_sinks_json_lines(s->buf, recs, n);
    clearerr(stdout);
    if (s->buf->len && fwrite(s->buf->str, 1, s->buf->len, stdout) != s->buf->len) {
        int e = errno;
        g_set_error(err, VG_ERROR, VG_EIO, "writing to stdout: %s", g_strerror(e));
        return VG_EIO;
    }
    return VG_OK;
}

static int stdout_flush(VgSink *sink, GError **err)
{
    (void)sink;
    if (fflush(stdout) != 0) {
        int e = errno;
        g_set_error(err, VG_ERROR, VG_EIO, "flushing stdout: %s", g_strerror(e));
        return VG_EIO;
    }
    return VG_OK;
}

static void stdout_destroy(VgSink *sink)
{
    VgStdoutSink *s = (VgStdoutSink *)sink;
    if (!s)
        return;
    fflush(stdout);
    g_string_free(s->buf, TRUE);
    g_free(s);
}

const VgSinkOps vg_sink_stdout_ops = {
    .name = "stdout",
    .options = stdout_options,
    .create = stdout_create,
    .write = stdout_write,
    .flush = stdout_flush,
    .reopen = NULL,
    .destroy = stdout_destroy,
};

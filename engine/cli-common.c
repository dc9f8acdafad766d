/* cli-common.c — see cli.h. */
#include "engine/cli.h"

#include "collectors/collectors.h"
#include "engine/log.h"
#include "rules/rules.h"

#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

void vg_cli_add_common(GOptionContext *ctx, VgCliCommon *c)
{
    GOptionEntry entries[] = {
        {"config", 'c', 0, G_OPTION_ARG_FILENAME, &c->config,
         "Configuration file (default: built-in defaults)", "FILE"},
        {"format", 'f', 0, G_OPTION_ARG_STRING, &c->format,
         "Input format: vigil, nginx-combined, apache-combined, envoy, kong, aws-apigw, "
         "traefik, ecs, auto",
         "FORMAT"},
        {"rules", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &c->rules,
         "Sigma rule file or directory (repeatable; replaces rules.paths)", "PATH"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &c->quiet, "No progress bar and no summary line",
         NULL},
        {NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
}

int vg_cli_usage_error(GOptionContext *ctx, const char *fmt, ...)
{
    (void)ctx;
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "vigil: %s\n(see vigil --help)\n", msg);
    g_free(msg);
    return VG_EXIT_USAGE;
}

VgSettings *vg_cli_settings(const VgCliCommon *c)
{
    GError *err = NULL;
    VgSettings *s = vg_settings_load(c->config, &err);
    if (!s) {
        fprintf(stderr, "vigil: %s\n", err->message);
        g_error_free(err);
        return NULL;
    }
    vg_log_set_level((VgLogLevel)vg_log_level_from_name(s->log.level));
    if (c->format) {
        g_free(s->input.format);
        s->input.format = g_strdup(c->format);
    }
    if (c->rules && *c->rules)
        vg_settings_override_list(s, "rules", "paths", (const char *const *)c->rules);
    return s;
}

typedef struct {
    bool on;
    gint64 start, last;
} Progress;

static void progress_draw(Progress *pr, VgCliFiles *f, const VgCliLineSink *sink, bool final)
{
    if (!pr->on)
        return;
    gint64 now = g_get_monotonic_time();
    if (!final && now - pr->last < 200000)
        return;
    pr->last = now;
    uint64_t done, total;
    vg_cli_files_progress(f, &done, &total);
    double el = (double)(now - pr->start) / 1e6;
    double eps = el > 0 && sink->events ? (double)sink->events(sink->user) / el : 0;
    char eta[32] = "";
    if (total && done && done < total && el > 0.5)
        g_snprintf(eta, sizeof eta, " ETA %.0fs", el * (double)(total - done) / (double)done);
    if (total) {
        double frac = (double)done / (double)total;
        if (frac > 1)
            frac = 1;
        int w = 30, fill = (int)(frac * w);
        fprintf(stderr, "\r[%.*s%*s] %5.1f%% %.1f/%.1f MB %.0f events/s%s   ", fill,
                "##############################", w - fill, "", frac * 100, done / 1e6, total / 1e6,
                eps, eta);
    } else {
        fprintf(stderr, "\r%.1f MB %.0f events/s   ", done / 1e6, eps);
    }
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

struct VgCliFiles {
    char **next_file; /* the next file to open */
    VgFileCollectorConf fc;
    volatile int *stop;
    VgCollector *col;     /* the file being read, or NULL */
    uint64_t done_before; /* bytes of files already finished */
    uint64_t total;       /* all files' sizes (0 if unknown) */
    int rc;
    GError *err; /* the first error */
};

VgCliFiles *vg_cli_files_open(char **files, const VgSettings *s, volatile int *stop)
{
    VgCliFiles *f = g_new0(VgCliFiles, 1);
    f->next_file = files;
    f->fc =
        (VgFileCollectorConf){.max_line_bytes = (size_t)s->input.max_line_bytes, .follow = false};
    f->stop = stop;
    f->rc = VG_OK;
    for (char **p = files; *p; p++) {
        GStatBuf st;
        if (strcmp(*p, "-") != 0 && g_stat(*p, &st) == 0)
            f->total += (uint64_t)st.st_size;
    }
    return f;
}

static void files_error(VgCliFiles *f, const char *what, GError *e)
{
    vg_log_error(what, "error", e ? e->message : "unknown");
    if (f->rc == VG_OK && e)
        g_propagate_error(&f->err, e);
    else
        g_clear_error(&e);
    f->rc = VG_EIO;
}

static void files_end_one(VgCliFiles *f)
{
    uint64_t done = 0, total = 0;
    if (f->col->ops->progress)
        f->col->ops->progress(f->col, &done, &total);
    f->done_before += total ? total : done;
    f->col->ops->close(f->col);
    f->col = NULL;
}

int vg_cli_files_next(VgCliFiles *f, VgLineBatch *b)
{
    while (!(f->stop && *f->stop)) {
        if (!f->col) {
            if (!*f->next_file)
                return VG_EOF;
            GError *e = NULL;
            f->col = vg_file_collector_open(*f->next_file++, &f->fc, &e);
            if (!f->col) {
                files_error(f, "cannot read input", e);
                continue;
            }
        }
        GError *e = NULL;
        int r = f->col->ops->next(f->col, b, &e);
        if (r == VG_EIO)
            files_error(f, "read error", e);
        else
            g_clear_error(&e);
        if (r == VG_EOF || r == VG_EIO)
            files_end_one(f);
        if (b->n)
            return VG_OK;
    }
    return VG_EOF;
}

void vg_cli_files_progress(VgCliFiles *f, uint64_t *done, uint64_t *total)
{
    uint64_t d = 0, t = 0;
    if (f->col && f->col->ops->progress)
        f->col->ops->progress(f->col, &d, &t);
    *done = f->done_before + d;
    *total = f->total;
}

int vg_cli_files_close(VgCliFiles *f, GError **err)
{
    if (f->col)
        files_end_one(f);
    int rc = f->rc;
    if (f->err)
        g_propagate_error(err, f->err);
    g_free(f);
    return rc;
}

int vg_cli_read_files(char **files, const VgSettings *s, const VgCliLineSink *sink, bool quiet,
                      volatile int *stop, GError **err)
{
    VgCliFiles *f = vg_cli_files_open(files, s, stop);
    Progress pr = {.on = !quiet && sink->events && isatty(STDERR_FILENO),
                   .start = g_get_monotonic_time()};
    for (;;) {
        VgLineBatch *b = sink->batch(sink->user);
        if (!b)
            break;
        int r = vg_cli_files_next(f, b);
        if (b->n)
            sink->submit(sink->user, b);
        progress_draw(&pr, f, sink, false);
        if (r == VG_EOF)
            break;
    }
    progress_draw(&pr, f, sink, true);
    return vg_cli_files_close(f, err);
}

/* vg_cli_feed_files' sink: one batch, judged at once by the single-threaded pipeline. */
typedef struct {
    VgPipeline *p;
    VgLineBatch b;
    volatile int *stop;
} OneThread;

static VgLineBatch *one_batch(void *user)
{
    OneThread *o = user;
    vg_line_batch_clear(&o->b);
    return &o->b;
}

static void one_submit(void *user, VgLineBatch *b)
{
    OneThread *o = user;
    if (vg_pipeline_process(o->p, b) == VG_EFULL) {
        /* back-pressure: the batch is judged; its alerts wait for the sinks (the delivery
         * layer sleeps between retries) before more input is read */
        while (vg_pipeline_flush(o->p) == VG_EFULL && !(o->stop && *o->stop))
            ;
    }
}

static uint64_t one_events(void *user)
{
    return vg_pipeline_stats(((OneThread *)user)->p)->events;
}

int vg_cli_feed_files(VgPipeline *p, char **files, const VgSettings *s, bool quiet,
                      volatile int *stop, GError **err)
{
    OneThread o = {.p = p, .stop = stop};
    vg_line_batch_init(&o.b, (uint32_t)s->engine.batch_lines, 1 << 20);
    VgCliLineSink sink = {&o, one_batch, one_submit, one_events};
    int rc = vg_cli_read_files(files, s, &sink, quiet, stop, err);
    vg_line_batch_free(&o.b);
    return rc;
}

void vg_cli_summary(const char *cmd, VgPipeline *p, double elapsed_s)
{
    vg_cli_summary_of(cmd, vg_pipeline_stats(p), vg_alert_stage_stats(vg_pipeline_alerts(p)),
                      elapsed_s);
}

void vg_cli_summary_of(const char *cmd, const VgPipelineStats *st, const VgAlertStats *as,
                       double elapsed_s)
{
    GString *o = g_string_new(NULL);
    g_string_append_printf(o,
                           "vigil %s: events=%" G_GUINT64_FORMAT " lines=%" G_GUINT64_FORMAT
                           " bad=%" G_GUINT64_FORMAT,
                           cmd, st->events, st->lines, st->bad_total);
    for (int r = 1; r < VG_BAD__COUNT; r++)
        if (st->bad[r])
            g_string_append_printf(o, " bad.%s=%" G_GUINT64_FORMAT, vg_bad_reason_name(r),
                                   st->bad[r]);
    g_string_append_printf(o,
                           " late=%" G_GUINT64_FORMAT " alerts=%" G_GUINT64_FORMAT
                           " updates=%" G_GUINT64_FORMAT " suppressed=%" G_GUINT64_FORMAT
                           " elapsed_s=%.3f events_per_s=%.0f\n",
                           st->late, as->emitted, as->updates, as->suppressed, elapsed_s,
                           elapsed_s > 0 ? st->events / elapsed_s : 0.0);
    fputs(o->str, stderr);
    g_string_free(o, TRUE);
}

/* cli-replay.c — `vigil replay`: read files as fast as possible, in event time.
 *
 * The files are read in the order given, every line goes through the same decoder,
 * detectors and alert stage as in `run`, and at the end every open window is closed, so a
 * replay of a day of logs gives the alerts that day would have given live. Alerts go to
 * the configured sinks (stdout when none is configured).
 *
 * With engine.workers > 1 the lines go to the parallel pipeline (pipeline-par.c): its
 * workers (this thread is one) read, decode and judge, and the alerts are the same.
 */
#include "engine/cli.h"

#include "collectors/collectors.h"
#include "engine/log.h"
#include "engine/pipeline-par.h"
#include "engine/sinks/delivery.h"

#include <signal.h>
#include <stdio.h>

static volatile int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* The workers of the parallel pipeline read the files themselves (no progress bar: the
 * counters belong to the workers until the end). */
static int fill_par(void *user, VgLineBatch *b)
{
    return vg_cli_files_next(user, b);
}

static int feed_par(VgParPipeline *pp, char **files, const VgSettings *s, GError **err)
{
    VgCliFiles *f = vg_cli_files_open(files, s, &stop_requested);
    vg_par_pipeline_run(pp, fill_par, f);
    return vg_cli_files_close(f, err);
}

/* Delivers what is left within 10 s; VG_EIO (logged) when alerts stayed undelivered. */
static int close_delivery(VgDelivery *dl)
{
    GError *err = NULL;
    if (vg_delivery_close(dl, 10000, &err) == VG_OK)
        return VG_OK;
    vg_log_error("alerts not all delivered", "error", err ? err->message : "timeout");
    g_clear_error(&err);
    return VG_EIO;
}

static void summary_par(VgParPipeline *pp, double elapsed_s)
{
    VgAlertStats as;
    vg_par_pipeline_alert_stats(pp, &as);
    vg_cli_summary_of("replay", vg_par_pipeline_stats(pp), &as, elapsed_s);
}

static int replay_par(char **files, const VgSettings *s, VgDelivery *dl, bool quiet, GError **err)
{
    VgParPipeline *pp = vg_par_pipeline_new(s, vg_delivery_output(dl), (int)s->engine.workers, err);
    if (!pp)
        return VG_ECONFIG;
    gint64 t0 = g_get_monotonic_time();
    int r = feed_par(pp, files, s, err);
    double el = (double)(g_get_monotonic_time() - t0) / 1e6;
    if (close_delivery(dl) != VG_OK)
        r = VG_EIO;
    if (!quiet)
        summary_par(pp, el);
    vg_par_pipeline_free(pp);
    return r;
}

int vg_cmd_replay(int argc, char **argv)
{
    VgCliCommon c = {0};
    GOptionContext *ctx = g_option_context_new("FILE…|-");
    g_option_context_set_summary(
        ctx, "Replay access-log files (plain, gzip, or - for standard input) in event time.\n"
             "Alerts go to the configured sinks (standard output by default); a summary line\n"
             "goes to standard error at the end.");
    vg_cli_add_common(ctx, &c);
    GError *err = NULL;
    int rc = VG_EXIT_USAGE;
    VgSettings *s = NULL;
    VgDelivery *dl = NULL;
    VgPipeline *p = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        rc = vg_cli_usage_error(ctx, "%s", err->message);
        goto out;
    }
    if (argc < 2) {
        rc = vg_cli_usage_error(ctx, "replay needs at least one file (or - for stdin)");
        goto out;
    }
    if (!(s = vg_cli_settings(&c)))
        goto out;
    dl = vg_delivery_new(s->sinks, s->spool, &err);
    if (!dl) {
        fprintf(stderr, "vigil: %s\n", err->message);
        goto out;
    }
    if (s->engine.workers > 1) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        int r = replay_par(argv + 1, s, dl, c.quiet, &err);
        if (r == VG_ECONFIG) {
            fprintf(stderr, "vigil: %s\n", err->message);
            goto out;
        }
        rc = r == VG_OK && !stop_requested ? VG_EXIT_OK : VG_EXIT_FAIL;
        goto out;
    }
    p = vg_pipeline_new(s, vg_delivery_output(dl), NULL, NULL, &err);
    if (!p) {
        fprintf(stderr, "vigil: %s\n", err->message);
        goto out;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    gint64 t0 = g_get_monotonic_time();
    int r = vg_cli_feed_files(p, argv + 1, s, c.quiet, &stop_requested, &err);
    vg_pipeline_finish(p);
    double el = (double)(g_get_monotonic_time() - t0) / 1e6;
    if (close_delivery(dl) != VG_OK)
        r = VG_EIO;
    if (!c.quiet)
        vg_cli_summary("replay", p, el);
    rc = r == VG_OK ? VG_EXIT_OK : VG_EXIT_FAIL;
    if (stop_requested)
        rc = VG_EXIT_FAIL;
out:
    g_clear_error(&err);
    vg_pipeline_free(p);
    vg_delivery_free(dl);
    vg_settings_free(s);
    g_option_context_free(ctx);
    g_free(c.config);
    g_free(c.format);
    g_strfreev(c.rules);
    return rc;
}

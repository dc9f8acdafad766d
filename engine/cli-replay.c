/* cli-replay.c — `vigil replay`: read files as fast as possible, in event time.
 *
 * The files are read in the order given, every line goes through the same decoder,
 * detectors and alert stage as in `run`, and at the end every open window is closed, so a
 * replay of a day of logs gives the alerts that day would have given live. Alerts go to
 * the configured sinks (stdout when none is configured).
 */
#include "engine/cli.h"

#include "engine/log.h"
#include "engine/sinks/delivery.h"

#include <signal.h>
#include <stdio.h>

static volatile int stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
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
    GError *cerr = NULL;
    if (vg_delivery_close(dl, 10000, &cerr) != VG_OK) {
        vg_log_error("alerts not all delivered", "error", cerr ? cerr->message : "timeout");
        g_clear_error(&cerr);
        r = VG_EIO;
    }
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

/* test-pipeline.c — the pipeline's event-time clock over several partitions: the
 * watermark is the oldest newest-event-time of the active partitions less the allowed
 * lateness, it never goes back, a partition turned idle stops holding it, one turned
 * active again counts at once, and events older than it are counted late. Checked
 * against a plain minimum over all partitions after every batch, so the shortcut that
 * skips the scan when a partition that is not the oldest moves cannot hide a step. The
 * models count the events of a partition read far behind another as late. And a batch can
 * be judged up to an event time, stopping only where a message starts (the Kafka merge). A
 * detector that prepares events ahead (detector.h) gets each event's own prep record, and
 * prefetches for the events after the one judged, never for bad lines. */
#include "settings-test-util.h"

#include "engine/collector.h"
#include "engine/pipeline.h"
#include "engine/registry.h"
#include "models/models.h"

#include <stdio.h>

#define LATENESS_MS 5000
#define T0          1772445600000LL

static int out_push(void *user, const VgAlertRecord *r)
{
    (void)user;
    (void)r;
    return VG_OK;
}

static VgSettings *settings_models(bool models)
{
    return settings_from_yaml(models ? "engine:\n  allowed_lateness: 5s\nrules:\n  paths: []\n"
                                     : "engine:\n  allowed_lateness: 5s\nrules:\n  paths: []\n"
                                       "models:\n  enabled: false\n");
}

static VgSettings *settings(void)
{
    return settings_models(false);
}

/* One batch of partition `part`: events at T0 + the given ms offsets. */
static void feed(VgPipeline *p, int32_t part, const int64_t *ms, int n)
{
    VgLineBatch b;
    vg_line_batch_init(&b, 64, 4096);
    b.partition = part;
    b.source = "kafka:t/x";
    for (int i = 0; i < n; i++) {
        char line[256];
        int len = snprintf(line, sizeof line,
                           "{\"time\":%lld,\"client_ip\":\"10.0.0.1\",\"method\":\"GET\","
                           "\"host\":\"api\",\"path\":\"/p\",\"status\":200}",
                           (long long)(T0 + ms[i]));
        vg_line_batch_add(&b, line, (size_t)len, (uint64_t)i + 1, i, VG_BAD_NONE);
    }
    cr_assert_eq(vg_pipeline_process(p, &b), VG_OK);
    vg_line_batch_free(&b);
}

/* The watermark now, relative to T0 (the stats take it at the end of each batch, so an
 * empty batch of partition 0, which is active throughout, brings them up to date). */
static int64_t wm(VgPipeline *p)
{
    feed(p, 0, NULL, 0);
    int64_t w = vg_pipeline_stats(p)->watermark;
    return w == INT64_MIN ? INT64_MIN : w - T0;
}

Test(pipeline, watermark_is_the_oldest_active_partition)
{
    VgSettings *s = settings();
    GError *err = NULL;
    VgPipeline *p = vg_pipeline_new(s, (VgAlertOutput){NULL, out_push, NULL}, NULL, NULL, &err);
    cr_assert_not_null(p, "%s", err ? err->message : "");
    for (int32_t part = 0; part < 3; part++)
        vg_pipeline_partition_idle(p, part, false);
    cr_assert_eq(wm(p), INT64_MIN, "no partition has an event yet");

    feed(p, 0, (int64_t[]){10000, 20000}, 2);
    feed(p, 1, (int64_t[]){30000}, 1);
    cr_assert_eq(wm(p), INT64_MIN, "partition 2 holds the clock until it has an event");
    feed(p, 2, (int64_t[]){15000}, 1);
    cr_assert_eq(wm(p), 15000 - LATENESS_MS, "oldest is partition 2");

    /* the newest partition moving cannot move the minimum */
    feed(p, 1, (int64_t[]){40000, 50000}, 2);
    cr_assert_eq(wm(p), 15000 - LATENESS_MS);
    /* the oldest moving past another: the minimum is now partition 0's 20 s */
    feed(p, 2, (int64_t[]){60000}, 1);
    cr_assert_eq(wm(p), 20000 - LATENESS_MS);
    /* two partitions tied at the minimum: one moving leaves it */
    feed(p, 2, (int64_t[]){0}, 1); /* older than the watermark: late, moves nothing */
    feed(p, 1, (int64_t[]){50000}, 1);
    feed(p, 0, (int64_t[]){50000}, 1);
    cr_assert_eq(wm(p), 50000 - LATENESS_MS, "0 and 1 at 50 s, 2 at 60 s");
    feed(p, 0, (int64_t[]){70000}, 1);
    cr_assert_eq(wm(p), 50000 - LATENESS_MS, "partition 1 still at 50 s");

    /* idle partition 1 stops holding the clock */
    vg_pipeline_partition_idle(p, 1, true);
    cr_assert_eq(wm(p), 60000 - LATENESS_MS);
    /* active again with an old newest event: the clock does not go back ... */
    feed(p, 1, (int64_t[]){55000}, 1);
    cr_assert_eq(wm(p), 60000 - LATENESS_MS);
    /* ... and partition 1, now the oldest, moves it when it moves */
    feed(p, 2, (int64_t[]){90000}, 1);
    cr_assert_eq(wm(p), 60000 - LATENESS_MS, "partition 1 at 55 s holds it");
    feed(p, 1, (int64_t[]){80000}, 1);
    cr_assert_eq(wm(p), 70000 - LATENESS_MS, "partition 0 at 70 s is now the oldest");

    /* an event older than the watermark is late */
    uint64_t late = vg_pipeline_stats(p)->late;
    feed(p, 0, (int64_t[]){1000}, 1);
    cr_assert_eq(vg_pipeline_stats(p)->late, late + 1);
    cr_assert_eq(vg_pipeline_stats(p)->events, 15);

    vg_pipeline_free(p);
    vg_settings_free(s);
}

/* A backlog read unevenly: partition 0 runs ten minutes (ten buckets) ahead before partition
 * 1's first events arrive. The pipeline's watermark waits for partition 1, so its events
 * are not late for the pipeline (stateless rules and correlations judge them); the models,
 * whose open buckets span at most two buckets, count them as late for themselves
 * (vigil_model_events_late_total) rather than dropping them unseen. */
Test(pipeline, models_count_the_partition_they_cannot_keep_up_with)
{
    VgSettings *s = settings_models(true);
    GError *err = NULL;
    VgPipeline *p = vg_pipeline_new(s, (VgAlertOutput){NULL, out_push, NULL}, NULL, NULL, &err);
    cr_assert_not_null(p, "%s", err ? err->message : "");
    vg_pipeline_partition_idle(p, 0, false);
    vg_pipeline_partition_idle(p, 1, false);
    int64_t ms[40];
    for (int i = 0; i < 40; i++)
        ms[i] = i * 15000; /* 0 .. 585 s */
    feed(p, 0, ms, 40);
    feed(p, 1, ms, 20); /* 0 .. 285 s, all ahead of the watermark (partition 1 held it) */
    const VgModelsStats *st = vg_models_stats(vg_pipeline_detector(p, "models"));
    cr_assert_eq(vg_pipeline_stats(p)->late, 0);
    cr_assert_eq(st->events + st->late, 60, "every event is counted or counted as late");
    cr_assert_eq(st->late, 20, "over a bucket behind partition 0's 585 s: 0 .. 285 s");
    vg_pipeline_free(p);
    vg_settings_free(s);
}

/* process_until() judges a batch up to a time and stops only where a message starts (a
 * message's lines stay together, so its offset can be marked), never before the first
 * line; partition_time() is the newest event time judged. Messages of two lines, 10 s
 * apart; cuts inside and at the end of the runs of lines the pipeline decodes ahead. */
Test(pipeline, process_until_stops_where_a_message_starts)
{
    VgSettings *s = settings();
    GError *err = NULL;
    struct {
        int64_t until_s;
        bool first; /* may stop before the first line */
        uint32_t done;
    } cases[] = {{-1000, false, 2}, {15, false, 2},   {25, false, 4},   {55, false, 6},
                 {69, false, 8},    {155, false, 16}, {165, false, 18}, {315, false, 32},
                 {1000, false, 40}, {-1000, true, 0}, {0, true, 2}};
    for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
        VgPipeline *p = vg_pipeline_new(s, (VgAlertOutput){NULL, out_push, NULL}, NULL, NULL, &err);
        cr_assert_not_null(p, "%s", err ? err->message : "");
        cr_assert_eq(vg_pipeline_partition_time(p, 3), INT64_MIN);
        VgLineBatch b;
        vg_line_batch_init(&b, 64, 4096);
        b.partition = 3;
        b.source = "kafka:t/3";
        for (int i = 0; i < 40; i++) { /* more than one run decoded ahead */
            char line[256];
            int len = snprintf(line, sizeof line,
                               "{\"time\":%lld,\"client_ip\":\"10.0.0.1\",\"method\":\"GET\","
                               "\"host\":\"api\",\"path\":\"/p\",\"status\":200}",
                               (long long)(T0 + i * 10000));
            vg_line_batch_add(&b, line, (size_t)len, (uint64_t)(i % 2) + 1, 100 + i / 2,
                              VG_BAD_NONE);
        }
        uint32_t done = 0;
        cr_assert_eq(
            vg_pipeline_process_until(p, &b, T0 + cases[c].until_s * 1000, cases[c].first, &done),
            VG_OK);
        cr_assert_eq(done, cases[c].done, "until %" G_GINT64_FORMAT " s", cases[c].until_s);
        cr_assert_eq(vg_pipeline_stats(p)->events, done, "only the lines judged are counted");
        cr_assert_eq(vg_pipeline_partition_time(p, 3), done ? T0 + (done - 1) * 10000 : INT64_MIN);
        cr_assert_eq(vg_pipeline_partition_time(p, 4), INT64_MIN);
        vg_line_batch_free(&b);
        vg_pipeline_free(p);
    }
    vg_settings_free(s);
}

/* ---- a detector that prepares events ahead ---- */

typedef struct {
    uint64_t line_no;
    uint32_t check;
} ProbePrep;

typedef struct {
    char what; /* '0', '1': prefetch stage; 'J': on_prepared; 'E': on_event */
    uint64_t line_no;
} ProbeCall;

static GArray *probe_calls;

static VgDetector *probe_create(const VgDetectorOps *ops, const VgConfNode *section, GError **err)
{
    (void)section;
    (void)err;
    VgDetector *d = g_new0(VgDetector, 1);
    d->ops = ops;
    return d;
}

static void probe_log(char what, uint64_t line_no)
{
    ProbeCall c = {what, line_no};
    g_array_append_val(probe_calls, c);
}

static void probe_on_event(VgDetector *d, const VgEvent *ev, VgDetectCtx *ctx)
{
    (void)d;
    (void)ctx;
    probe_log('E', ev->line_no);
}

static void probe_prepare(VgDetector *d, const VgEvent *ev, VgArena *arena, void *prep)
{
    (void)d;
    (void)arena;
    *(ProbePrep *)prep = (ProbePrep){ev->line_no, (uint32_t)ev->line_no * 7919u};
}

static void probe_prefetch(VgDetector *d, const void *prep, int stage)
{
    (void)d;
    const ProbePrep *pp = prep;
    cr_assert_eq(pp->check, (uint32_t)pp->line_no * 7919u, "a prepared record");
    probe_log((char)('0' + stage), pp->line_no);
}

static void probe_on_prepared(VgDetector *d, const VgEvent *ev, const void *prep, VgDetectCtx *ctx)
{
    (void)d;
    (void)ctx;
    const ProbePrep *pp = prep;
    cr_assert_eq(pp->line_no, ev->line_no, "the event's own prep record");
    cr_assert_eq(pp->check, (uint32_t)pp->line_no * 7919u);
    probe_log('J', ev->line_no);
}

static void probe_destroy(VgDetector *d)
{
    g_free(d);
}

static const VgDetectorOps probe_ops = {
    .name = "test_probe",
    .create = probe_create,
    .on_event = probe_on_event,
    .prep_size = sizeof(ProbePrep),
    .prepare = probe_prepare,
    .prefetch = probe_prefetch,
    .on_prepared = probe_on_prepared,
    .destroy = probe_destroy,
};

Test(pipeline, detectors_prepare_and_prefetch_ahead)
{
    VgSettings *s = settings();
    vg_register_detector(&probe_ops);
    probe_calls = g_array_new(FALSE, FALSE, sizeof(ProbeCall));
    GError *err = NULL;
    VgPipeline *p = vg_pipeline_new(s, (VgAlertOutput){NULL, out_push, NULL}, NULL, NULL, &err);
    cr_assert_not_null(p, "%s", err ? err->message : "");
    enum { N = 100 };
    VgLineBatch b;
    vg_line_batch_init(&b, 128, 1 << 16);
    b.source = "test";
    bool bad[N + 1] = {false};
    for (int i = 1; i <= N; i++) {
        char line[256];
        int len = snprintf(line, sizeof line,
                           "{\"time\":%lld,\"client_ip\":\"10.0.0.1\",\"method\":\"GET\","
                           "\"host\":\"api\",\"path\":\"/p\",\"status\":200}",
                           (long long)(T0 + i));
        /* every seventh line flagged by the collector, every eleventh not JSON at all */
        bad[i] = i % 7 == 0 || i % 11 == 0;
        if (i % 11 == 0)
            len = snprintf(line, sizeof line, "not an event %d", i);
        vg_line_batch_add(&b, line, (size_t)len, (uint64_t)i, -1,
                          i % 7 == 0 ? VG_BAD_TOO_LONG : VG_BAD_NONE);
    }
    cr_assert_eq(vg_pipeline_process(p, &b), VG_OK);

    int judged_at[N + 1], n_judged = 0, prefetched[N + 1][2];
    memset(judged_at, -1, sizeof judged_at);
    memset(prefetched, 0, sizeof prefetched);
    uint64_t last = 0;
    for (guint k = 0; k < probe_calls->len; k++) {
        ProbeCall c = g_array_index(probe_calls, ProbeCall, k);
        cr_assert_neq(c.what, 'E', "on_event is not called for a preparing detector");
        cr_assert(c.line_no >= 1 && c.line_no <= N);
        cr_assert_not(bad[c.line_no], "line %" G_GUINT64_FORMAT " is bad", c.line_no);
        if (c.what == 'J') {
            cr_assert_gt(c.line_no, last, "judged in order");
            last = c.line_no;
            judged_at[c.line_no] = (int)k;
            n_judged++;
        } else {
            cr_assert_eq(judged_at[c.line_no], -1, "prefetched before it is judged");
            prefetched[c.line_no][c.what - '0']++;
        }
    }
    int n_good = 0, n_ahead = 0;
    for (int i = 1; i <= N; i++) {
        n_good += !bad[i];
        cr_assert_leq(prefetched[i][0], 1);
        cr_assert_leq(prefetched[i][1], 1);
        n_ahead += prefetched[i][0] && prefetched[i][1];
    }
    cr_assert_eq(n_judged, n_good, "every good line judged once");
    /* a line is prefetched while the two lines before it are judged (or skipped as bad),
     * when they are in its run of lines decoded ahead (16): only the first two of a run
     * miss a stage */
    cr_assert_geq(n_ahead, n_good - 2 * (N / 16 + 1), "%d of %d lines prefetched in both stages",
                  n_ahead, n_good);
    cr_assert_eq(vg_pipeline_stats(p)->events, (uint64_t)n_good);

    vg_line_batch_free(&b);
    vg_pipeline_free(p);
    g_array_free(probe_calls, TRUE);
    vg_settings_free(s);
}

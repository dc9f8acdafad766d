/* test-pipeline.c — the pipeline's event-time clock over several partitions: the
 * watermark is the oldest newest-event-time of the active partitions less the allowed
 * lateness, it never goes back, a partition turned idle stops holding it, one turned
 * active again counts at once, and events older than it are counted late. Checked
 * against a plain minimum over all partitions after every batch, so the shortcut that
 * skips the scan when a partition that is not the oldest moves cannot hide a step. The
 * models count the events of a partition read far behind another as late. And a batch can
 * be judged up to an event time, stopping only where a message starts (the Kafka merge). */
#include "settings-test-util.h"

#include "engine/collector.h"
#include "engine/pipeline.h"
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
 * apart. */
Test(pipeline, process_until_stops_where_a_message_starts)
{
    VgSettings *s = settings();
    GError *err = NULL;
    struct {
        int64_t until_s;
        bool first; /* may stop before the first line */
        uint32_t done;
    } cases[] = {{-1000, false, 2}, {15, false, 2},   {25, false, 4},   {55, false, 6},
                 {69, false, 8},    {1000, false, 8}, {-1000, true, 0}, {0, true, 2}};
    for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
        VgPipeline *p = vg_pipeline_new(s, (VgAlertOutput){NULL, out_push, NULL}, NULL, NULL, &err);
        cr_assert_not_null(p, "%s", err ? err->message : "");
        cr_assert_eq(vg_pipeline_partition_time(p, 3), INT64_MIN);
        VgLineBatch b;
        vg_line_batch_init(&b, 64, 4096);
        b.partition = 3;
        b.source = "kafka:t/3";
        for (int i = 0; i < 8; i++) {
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

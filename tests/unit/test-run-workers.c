/* test-run-workers.c — the worker threads of `vigil run` (engine/cli-run-workers.c): every
 * submitted batch comes back once, in submission order per partition, judged by its
 * partition's pipeline; a worker without free slots refuses; a delivery that refuses
 * alerts keeps the batch until it is accepted or the partition is given up, and the
 * given-up partition's later batches come back unjudged. */
#include "settings-test-util.h"

#include "engine/cli-run-state.h"
#include "engine/cli-run-workers.h"
#include "engine/wiring.h"

#include <stdio.h>

static gint refuse;   /* the output refuses every push while set */
static gint accepted; /* alerts the output took */

static int out_push(void *user, const VgAlertRecord *r)
{
    (void)user;
    (void)r;
    if (g_atomic_int_get(&refuse))
        return VG_EFULL;
    g_atomic_int_inc(&accepted);
    return VG_OK;
}

static int out_flush(void *user)
{
    (void)user;
    return g_atomic_int_get(&refuse) ? VG_EFULL : VG_OK;
}

static VgSettings *settings(void)
{
    return settings_from_yaml("alerts:\n  cooldown: 0\nrules:\n  paths: []\nbuiltin:\n  "
                              "plaintext_http: true\nmodels:\n  enabled: false\n");
}

/* Lines [from, to) of partition, each a plain-HTTP 2xx request (one alert each). */
static void fill(VgLineBatch *b, int32_t partition, int from, int to)
{
    vg_line_batch_clear(b);
    b->partition = partition;
    b->source = "kafka:t/x";
    for (int i = from; i < to; i++) {
        char line[256];
        int n = snprintf(line, sizeof line,
                         "{\"time\":%d000,\"client_ip\":\"10.0.0.%d\",\"method\":\"GET\","
                         "\"scheme\":\"http\",\"host\":\"api\",\"path\":\"/p/%d/%d\","
                         "\"status\":200}",
                         1772445600 + i, partition, partition, i);
        vg_line_batch_add(b, line, (size_t)n, (uint64_t)i + 1, i, VG_BAD_NONE);
    }
}

typedef struct {
    int64_t last[8]; /* per partition: last offset handed back (-1: none) */
    int done, abandoned;
} Seen;

static void seen_init(Seen *s)
{
    memset(s, 0, sizeof *s);
    for (int p = 0; p < 8; p++)
        s->last[p] = -1;
}

static void on_done(void *user, int32_t partition, int64_t last, VgRunBatchStatus st)
{
    Seen *s = user;
    cr_assert(partition >= 0 && partition < 8);
    cr_assert_gt(last, s->last[partition], "partition %d: %lld after %lld", partition,
                 (long long)last, (long long)s->last[partition]);
    s->last[partition] = last;
    if (st == VG_RUN_BATCH_DONE)
        s->done++;
    else
        s->abandoned++;
}

Test(run_workers, every_batch_once_in_order_per_partition)
{
    VgSettings *s = settings();
    g_atomic_int_set(&refuse, 0);
    g_atomic_int_set(&accepted, 0);
    VgRunWorkers *w = vg_run_workers_new(3, 64, (VgAlertOutput){NULL, out_push, out_flush});
    GError *err = NULL;
    VgRunState *st = vg_run_state_new(s, vg_run_workers_output(w), true, NULL, NULL, NULL, &err);
    cr_assert_not_null(st, "%s", err ? err->message : "");
    Seen seen;
    seen_init(&seen);
    VgLineBatch b;
    vg_line_batch_init(&b, 64, 1 << 16);
    int submitted = 0, next[8] = {0};
    while (submitted < 200) {
        int32_t p = submitted % 5;
        fill(&b, p, next[p], next[p] + 10);
        if (vg_run_workers_submit(w, &b, vg_run_state_pipeline(st, p))) {
            cr_assert_eq(b.n, 0, "the caller gets an empty batch back");
            next[p] += 10;
            submitted++;
        } else {
            vg_run_workers_collect(w, 10000, on_done, &seen); /* no free slot: wait */
        }
    }
    cr_assert(vg_run_workers_drain(w, 10 * G_USEC_PER_SEC, on_done, &seen));
    cr_assert_eq(vg_run_workers_outstanding(w), 0);
    cr_assert_eq(seen.done, 200);
    cr_assert_eq(seen.abandoned, 0);
    for (int p = 0; p < 5; p++)
        cr_assert_eq(seen.last[p], next[p] - 1);
    cr_assert_eq(g_atomic_int_get(&accepted), 2000, "one alert per line");
    VgPipelineStats ps;
    VgAlertStats as;
    vg_run_state_totals(st, &ps, &as);
    cr_assert_eq(ps.events, 2000);
    vg_line_batch_free(&b);
    vg_run_state_free(st);
    vg_run_workers_free(w);
    vg_settings_free(s);
}

Test(run_workers, full_delivery_holds_until_accepted_or_given_up)
{
    VgSettings *s = settings();
    g_atomic_int_set(&accepted, 0);
    VgRunWorkers *w = vg_run_workers_new(2, 64, (VgAlertOutput){NULL, out_push, out_flush});
    GError *err = NULL;
    VgRunState *st = vg_run_state_new(s, vg_run_workers_output(w), true, NULL, NULL, NULL, &err);
    cr_assert_not_null(st);
    Seen seen;
    seen_init(&seen);
    VgLineBatch b;
    vg_line_batch_init(&b, 64, 1 << 16);

    /* refused, then accepted: the batch comes back judged once the delivery takes it */
    g_atomic_int_set(&refuse, 1);
    fill(&b, 0, 0, 5);
    cr_assert(vg_run_workers_submit(w, &b, vg_run_state_pipeline(st, 0)));
    cr_assert_not(vg_run_workers_drain(w, 200000, on_done, &seen), "held while refused");
    cr_assert(vg_run_workers_full(w));
    g_atomic_int_set(&refuse, 0);
    cr_assert(vg_run_workers_drain(w, 10 * G_USEC_PER_SEC, on_done, &seen));
    cr_assert_eq(seen.done, 1);
    cr_assert_eq(g_atomic_int_get(&accepted), 5);
    cr_assert_not(vg_run_workers_full(w));

    /* refused and given up: that batch and the partition's next come back abandoned;
     * another partition's batch on the other worker is judged */
    g_atomic_int_set(&refuse, 1);
    fill(&b, 0, 5, 10);
    cr_assert(vg_run_workers_submit(w, &b, vg_run_state_pipeline(st, 0)));
    fill(&b, 0, 10, 15);
    cr_assert(vg_run_workers_submit(w, &b, vg_run_state_pipeline(st, 0)));
    cr_assert_not(vg_run_workers_drain(w, 200000, on_done, &seen));
    int32_t gone = 0;
    vg_run_workers_abandon(w, &gone, 1);
    cr_assert(vg_run_workers_drain(w, 10 * G_USEC_PER_SEC, on_done, &seen));
    cr_assert_eq(seen.abandoned, 2);
    cr_assert_eq(seen.last[0], 14);
    g_atomic_int_set(&refuse, 0);
    fill(&b, 1, 0, 5);
    cr_assert(vg_run_workers_submit(w, &b, vg_run_state_pipeline(st, 1)));
    cr_assert(vg_run_workers_drain(w, 10 * G_USEC_PER_SEC, on_done, &seen));
    cr_assert_eq(seen.done, 2);
    vg_run_workers_readmit(w);

    vg_line_batch_free(&b);
    vg_run_state_drop(st, 0); /* the given-up partition's pipeline holds refused alerts */
    vg_run_state_free(st);
    vg_run_workers_free(w);
    vg_settings_free(s);
}

Test(run_workers, no_free_slot_refuses)
{
    VgSettings *s = settings();
    g_atomic_int_set(&refuse, 1); /* workers stay busy with their first batch */
    VgRunWorkers *w = vg_run_workers_new(2, 64, (VgAlertOutput){NULL, out_push, out_flush});
    VgRunState *st = vg_run_state_new(s, vg_run_workers_output(w), true, NULL, NULL, NULL, NULL);
    VgLineBatch b;
    vg_line_batch_init(&b, 64, 1 << 16);
    int n = 0;
    for (; n < 100; n++) {
        fill(&b, 0, n * 2, n * 2 + 2);
        if (!vg_run_workers_submit(w, &b, vg_run_state_pipeline(st, 0)))
            break;
    }
    cr_assert(n > 0 && n < 100, "a worker has a bounded number of slots (%d)", n);
    cr_assert_eq(b.n, 2, "a refused batch stays with the caller");
    cr_assert_eq(vg_run_workers_outstanding(w), (uint32_t)n);
    g_atomic_int_set(&refuse, 0);
    Seen seen;
    seen_init(&seen);
    cr_assert(vg_run_workers_drain(w, 10 * G_USEC_PER_SEC, on_done, &seen));
    cr_assert_eq(seen.done, n);
    vg_line_batch_free(&b);
    vg_run_state_free(st);
    vg_run_workers_free(w);
    vg_settings_free(s);
}

/* cli-run-workers.c — see cli-run-workers.h.
 *
 * Queues: one GAsyncQueue of slots per worker (the loop pushes, the worker pops) and one
 * completion queue (workers push, the loop pops). A slot is the loop's while it sits in a
 * worker's free list, the worker's from submit() until it pushes it to the completion
 * queue, and the loop's again once collected; so a batch's buffers are never shared. No
 * lock is taken per event: the queues once per batch, the output's lock once per alert
 * and per flush.
 */
#include "engine/cli-run-workers.h"

#define SLOTS_PER_WORKER 4

typedef struct {
    VgLineBatch b;
    VgPipeline *p;
    int worker;
    VgRunBatchStatus status;
} Slot;

typedef struct {
    VgRunWorkers *w;
    GThread *thread;
    GAsyncQueue *work; /* Slot *, or &stop_marker */
    GQueue free;       /* Slot *, loop thread only */
} Worker;

struct VgRunWorkers {
    int n;
    Worker *wk;
    Slot *slots;
    GAsyncQueue *done;    /* Slot * */
    uint32_t outstanding; /* loop thread only */
    GMutex out_lock;
    VgAlertOutput out;
    GMutex ab_lock;        /* the abandoned set */
    GHashTable *abandoned; /* partition ids */
    bool abandon_all;
    gint n_full; /* workers retrying a refused delivery */
};

static Slot stop_marker;

/* The batch a worker thread is judging, for the output: the alert stage retries a refused
 * alert until the output takes it, so giving a partition up happens there. */
typedef struct {
    int32_t partition;
    bool dropped; /* an alert was dropped because the partition was given up */
    bool full;    /* counted in n_full */
} Current;

static _Thread_local Current *current;

static bool is_abandoned(VgRunWorkers *w, int32_t partition);

static void set_full(VgRunWorkers *w, Current *c, bool full)
{
    if (c->full == full)
        return;
    c->full = full;
    if (full)
        g_atomic_int_inc(&w->n_full);
    else
        (void)g_atomic_int_dec_and_test(&w->n_full);
}

/* ---- the shared output ---- */

static int locked_push(void *user, const VgAlertRecord *rec)
{
    VgRunWorkers *w = user;
    Current *c = current;
    if (c && c->full && is_abandoned(w, c->partition)) {
        c->dropped = true; /* the batch is not marked: its next reader raises it again */
        return VG_OK;
    }
    g_mutex_lock(&w->out_lock);
    int rc = w->out.push ? w->out.push(w->out.user, rec) : VG_OK;
    g_mutex_unlock(&w->out_lock);
    if (c)
        set_full(w, c, rc == VG_EFULL);
    return rc;
}

static int locked_flush(void *user)
{
    VgRunWorkers *w = user;
    Current *c = current;
    if (c && c->full && is_abandoned(w, c->partition))
        return VG_OK;
    g_mutex_lock(&w->out_lock);
    int rc = w->out.flush ? w->out.flush(w->out.user) : VG_OK;
    g_mutex_unlock(&w->out_lock);
    if (c)
        set_full(w, c, rc == VG_EFULL);
    return rc;
}

VgAlertOutput vg_run_workers_output(VgRunWorkers *w)
{
    return (VgAlertOutput){.user = w, .push = locked_push, .flush = locked_flush};
}

/* ---- workers ---- */

static bool is_abandoned(VgRunWorkers *w, int32_t partition)
{
    g_mutex_lock(&w->ab_lock);
    bool a = w->abandon_all || g_hash_table_contains(w->abandoned, GINT_TO_POINTER(partition));
    g_mutex_unlock(&w->ab_lock);
    return a;
}

/* Judges one batch; a refused delivery is retried until it goes through or the
 * partition is given up. */
static VgRunBatchStatus judge(VgRunWorkers *w, Slot *s)
{
    int32_t partition = s->b.partition;
    if (is_abandoned(w, partition))
        return VG_RUN_BATCH_ABANDONED;
    Current c = {.partition = partition};
    current = &c;
    int rc = vg_pipeline_process(s->p, &s->b);
    while (rc == VG_EFULL && !is_abandoned(w, partition)) {
        g_usleep(1000); /* the delivery also waits between its own retries */
        rc = vg_pipeline_flush(s->p);
    }
    set_full(w, &c, false);
    current = NULL;
    return rc == VG_OK && !c.dropped ? VG_RUN_BATCH_DONE : VG_RUN_BATCH_ABANDONED;
}

static gpointer worker_main(gpointer data)
{
    Worker *wk = data;
    VgRunWorkers *w = wk->w;
    for (;;) {
        Slot *s = g_async_queue_pop(wk->work);
        if (s == &stop_marker)
            break;
        s->status = judge(w, s);
        g_async_queue_push(w->done, s);
    }
    return NULL;
}

VgRunWorkers *vg_run_workers_new(int n, uint32_t batch_lines, VgAlertOutput out)
{
    g_return_val_if_fail(n >= 2, NULL);
    VgRunWorkers *w = g_new0(VgRunWorkers, 1);
    w->n = n;
    w->out = out;
    g_mutex_init(&w->out_lock);
    g_mutex_init(&w->ab_lock);
    w->abandoned = g_hash_table_new(g_direct_hash, g_direct_equal);
    w->done = g_async_queue_new();
    w->wk = g_new0(Worker, n);
    w->slots = g_new0(Slot, (size_t)n * SLOTS_PER_WORKER);
    for (int i = 0; i < n; i++) {
        Worker *wk = &w->wk[i];
        wk->w = w;
        wk->work = g_async_queue_new();
        g_queue_init(&wk->free);
        for (int k = 0; k < SLOTS_PER_WORKER; k++) {
            Slot *s = &w->slots[i * SLOTS_PER_WORKER + k];
            vg_line_batch_init(&s->b, batch_lines, 1 << 20);
            s->worker = i;
            g_queue_push_tail(&wk->free, s);
        }
        char name[16];
        g_snprintf(name, sizeof name, "vigil-run-%d", i);
        wk->thread = g_thread_new(name, worker_main, wk);
    }
    return w;
}

void vg_run_workers_free(VgRunWorkers *w)
{
    if (!w)
        return;
    vg_run_workers_abandon(w, NULL, 0);
    for (int i = 0; i < w->n; i++)
        g_async_queue_push(w->wk[i].work, &stop_marker);
    for (int i = 0; i < w->n; i++) {
        g_thread_join(w->wk[i].thread);
        g_async_queue_unref(w->wk[i].work);
        g_queue_clear(&w->wk[i].free);
    }
    for (int i = 0; i < w->n * SLOTS_PER_WORKER; i++)
        vg_line_batch_free(&w->slots[i].b);
    g_async_queue_unref(w->done);
    g_hash_table_destroy(w->abandoned);
    g_mutex_clear(&w->out_lock);
    g_mutex_clear(&w->ab_lock);
    g_free(w->slots);
    g_free(w->wk);
    g_free(w);
}

bool vg_run_workers_submit(VgRunWorkers *w, VgLineBatch *b, VgPipeline *p)
{
    Worker *wk = &w->wk[(uint32_t)b->partition % (uint32_t)w->n];
    Slot *s = g_queue_pop_head(&wk->free);
    if (!s)
        return false;
    VgLineBatch empty = s->b;
    s->b = *b;
    *b = empty;
    s->p = p;
    w->outstanding++;
    g_async_queue_push(wk->work, s);
    return true;
}

uint32_t vg_run_workers_outstanding(const VgRunWorkers *w)
{
    return w->outstanding;
}

uint32_t vg_run_workers_collect(VgRunWorkers *w, int64_t wait_us, VgRunDoneFn done, void *user)
{
    uint32_t n = 0;
    Slot *s = wait_us > 0 && w->outstanding ? g_async_queue_timeout_pop(w->done, (guint64)wait_us)
                                            : g_async_queue_try_pop(w->done);
    for (; s; s = g_async_queue_try_pop(w->done)) {
        int64_t last = s->b.n ? s->b.lines[s->b.n - 1].offset : -1;
        done(user, s->b.partition, last, s->status);
        vg_line_batch_clear(&s->b);
        s->p = NULL;
        g_queue_push_tail(&w->wk[s->worker].free, s);
        w->outstanding--;
        n++;
    }
    return n;
}

bool vg_run_workers_drain(VgRunWorkers *w, int64_t timeout_us, VgRunDoneFn done, void *user)
{
    gint64 until = g_get_monotonic_time() + timeout_us;
    while (w->outstanding) {
        gint64 left = until - g_get_monotonic_time();
        if (left <= 0)
            return false;
        vg_run_workers_collect(w, left, done, user);
    }
    return true;
}

void vg_run_workers_abandon(VgRunWorkers *w, const int32_t *partitions, size_t n)
{
    g_mutex_lock(&w->ab_lock);
    if (!partitions)
        w->abandon_all = true;
    for (size_t i = 0; partitions && i < n; i++)
        g_hash_table_add(w->abandoned, GINT_TO_POINTER(partitions[i]));
    g_mutex_unlock(&w->ab_lock);
}

void vg_run_workers_readmit(VgRunWorkers *w)
{
    g_mutex_lock(&w->ab_lock);
    w->abandon_all = false;
    g_hash_table_remove_all(w->abandoned);
    g_mutex_unlock(&w->ab_lock);
}

bool vg_run_workers_full(const VgRunWorkers *w)
{
    return g_atomic_int_get(&((VgRunWorkers *)w)->n_full) > 0;
}

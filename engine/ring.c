/* ring.c — see ring.h.
 *
 * Consumers release in sequence order, so slots are freed in order too: `retired` counts
 * the sequence numbers every consumer has released, and seq may be claimed once
 * seq - retired < n_slots. POSIX threads' mutex and condition variable rather than GLib's
 * (futex-based), so that ThreadSanitizer sees the hand-off.
 *
 * Wake-ups are what the hand-off costs: on a virtual machine, waking a thread on the other
 * core is an interrupt between processors, tens of microseconds. There is no thread that
 * only produces: a consumer that needs a slot nobody has filled fills it itself, so the
 * only waits are for another consumer's claim, decode or release, and a release wakes
 * waiters only when it frees a slot of a full ring.
 */
#include "engine/ring.h"

#include <pthread.h>

typedef struct {
    int64_t seq; /* the sequence number the slot holds, -1 when free */
    bool taken;  /* a consumer is making it ready */
    bool ready;
    int released;
} Slot;

struct VgRing {
    pthread_mutex_t lock;
    pthread_cond_t work; /* consumers wait here for a slot published, made ready or freed */
    Slot *slots;
    uint32_t n_slots;
    int n_consumers;
    int64_t published; /* seqs < published are filled */
    int64_t retired;   /* seqs < retired are released by everyone */
    bool producing;    /* a consumer claimed the next seq with vg_ring_try_claim() */
    bool closed, aborted;
};

VgRing *vg_ring_new(uint32_t n_slots, int n_consumers)
{
    VgRing *r = g_new0(VgRing, 1);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->work, NULL);
    r->n_slots = n_slots ? n_slots : 1;
    r->n_consumers = n_consumers > 0 ? n_consumers : 1;
    r->slots = g_new0(Slot, r->n_slots);
    for (uint32_t i = 0; i < r->n_slots; i++)
        r->slots[i].seq = -1;
    return r;
}

void vg_ring_free(VgRing *r)
{
    if (!r)
        return;
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->work);
    g_free(r->slots);
    g_free(r);
}

uint32_t vg_ring_slots(const VgRing *r)
{
    return r->n_slots;
}

static bool full(const VgRing *r)
{
    return r->published - r->retired >= (int64_t)r->n_slots;
}

int64_t vg_ring_try_claim(VgRing *r)
{
    pthread_mutex_lock(&r->lock);
    int64_t seq = -1;
    if (!r->aborted && !r->closed && !r->producing && !full(r)) {
        r->producing = true;
        seq = r->published;
    }
    pthread_mutex_unlock(&r->lock);
    return seq;
}

VgRingWork vg_ring_wait_work(VgRing *r, int64_t seq)
{
    pthread_mutex_lock(&r->lock);
    while (!r->aborted && seq >= r->published && !r->closed && (r->producing || full(r)))
        pthread_cond_wait(&r->work, &r->lock);
    VgRingWork w = r->aborted           ? VG_RING_END
                   : seq < r->published ? VG_RING_FILLED
                   : r->closed          ? VG_RING_END
                                        : VG_RING_CLAIMABLE;
    pthread_mutex_unlock(&r->lock);
    return w;
}

void vg_ring_publish(VgRing *r, int64_t seq)
{
    pthread_mutex_lock(&r->lock);
    r->producing = false;
    Slot *s = &r->slots[seq % r->n_slots];
    s->seq = seq;
    s->taken = false;
    s->ready = false;
    s->released = 0;
    r->published = seq + 1;
    pthread_cond_broadcast(&r->work);
    pthread_mutex_unlock(&r->lock);
}

void vg_ring_close(VgRing *r)
{
    pthread_mutex_lock(&r->lock);
    r->closed = true;
    r->producing = false;
    pthread_cond_broadcast(&r->work);
    pthread_mutex_unlock(&r->lock);
}

void vg_ring_abort(VgRing *r)
{
    pthread_mutex_lock(&r->lock);
    r->aborted = true;
    pthread_cond_broadcast(&r->work);
    pthread_mutex_unlock(&r->lock);
}

bool vg_ring_filled(VgRing *r, int64_t seq)
{
    pthread_mutex_lock(&r->lock);
    bool ok = seq < r->published;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

static bool take(VgRing *r, int64_t seq)
{
    Slot *s = &r->slots[seq % r->n_slots];
    bool ok = seq < r->published && s->seq == seq && !s->taken && !s->ready;
    if (ok)
        s->taken = true;
    return ok;
}

bool vg_ring_take(VgRing *r, int64_t seq)
{
    pthread_mutex_lock(&r->lock);
    bool ok = take(r, seq);
    pthread_mutex_unlock(&r->lock);
    return ok;
}

int64_t vg_ring_take_first(VgRing *r, int64_t from, int64_t to)
{
    pthread_mutex_lock(&r->lock);
    int64_t got = -1;
    for (int64_t seq = from; seq < to && seq < r->published; seq++)
        if (take(r, seq)) {
            got = seq;
            break;
        }
    pthread_mutex_unlock(&r->lock);
    return got;
}

void vg_ring_set_ready(VgRing *r, int64_t seq)
{
    pthread_mutex_lock(&r->lock);
    Slot *s = &r->slots[seq % r->n_slots];
    if (s->seq == seq)
        s->ready = true;
    pthread_cond_broadcast(&r->work);
    pthread_mutex_unlock(&r->lock);
}

static bool is_ready(const VgRing *r, int64_t seq)
{
    const Slot *s = &r->slots[seq % r->n_slots];
    return seq < r->published && s->seq == seq && s->ready;
}

bool vg_ring_ready(VgRing *r, int64_t seq)
{
    pthread_mutex_lock(&r->lock);
    bool ok = is_ready(r, seq);
    pthread_mutex_unlock(&r->lock);
    return ok;
}

bool vg_ring_wait_ready(VgRing *r, int64_t seq)
{
    pthread_mutex_lock(&r->lock);
    while (!r->aborted && !is_ready(r, seq))
        pthread_cond_wait(&r->work, &r->lock);
    bool ok = !r->aborted;
    pthread_mutex_unlock(&r->lock);
    return ok;
}

bool vg_ring_release(VgRing *r, int64_t seq)
{
    pthread_mutex_lock(&r->lock);
    Slot *s = &r->slots[seq % r->n_slots];
    bool last = ++s->released == r->n_consumers;
    if (last) {
        bool was_full = full(r);
        s->seq = -1;
        s->ready = false;
        /* in order: every consumer released seq - 1 before seq */
        r->retired = seq + 1;
        if (was_full) /* a consumer may be waiting to claim (vg_ring_wait_work) */
            pthread_cond_broadcast(&r->work);
    }
    pthread_mutex_unlock(&r->lock);
    return last;
}

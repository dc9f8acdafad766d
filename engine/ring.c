/* ring.c — see ring.h.
 *
 * Consumers release in sequence order, so slots are freed in order too: `retired` counts
 * the sequence numbers every consumer has released, and the producer may claim seq once
 * seq - retired < n_slots. POSIX threads' mutex and condition variables rather than GLib's
 * (futex-based), so that ThreadSanitizer sees the hand-off.
 *
 * Wake-ups are what the hand-off costs: on a virtual machine, waking a thread on the other
 * core is an interrupt between processors, tens of microseconds. So the producer and the
 * consumers wait on conditions of their own (a slot made ready does not wake the
 * producer), and a producer that found the ring full sleeps until half of it is free,
 * then fills those slots in one go, instead of waking for every slot the consumers free.
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
    pthread_cond_t space; /* the producer waits here for free slots */
    pthread_cond_t work;  /* consumers wait here for a slot published or made ready */
    Slot *slots;
    uint32_t n_slots;
    int n_consumers;
    int64_t published; /* seqs < published are filled */
    int64_t retired;   /* seqs < retired are released by everyone */
    int64_t resume;    /* a waiting producer's: wake it once retired reaches this, else -1 */
    bool closed, aborted;
};

VgRing *vg_ring_new(uint32_t n_slots, int n_consumers)
{
    VgRing *r = g_new0(VgRing, 1);
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->space, NULL);
    pthread_cond_init(&r->work, NULL);
    r->resume = -1;
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
    pthread_cond_destroy(&r->space);
    pthread_cond_destroy(&r->work);
    g_free(r->slots);
    g_free(r);
}

uint32_t vg_ring_slots(const VgRing *r)
{
    return r->n_slots;
}

int64_t vg_ring_claim(VgRing *r)
{
    pthread_mutex_lock(&r->lock);
    int64_t seq = r->published;
    if (seq - r->retired >= (int64_t)r->n_slots) {
        /* full: sleep until half the ring (at least the slot of seq) is free */
        int64_t half = (int64_t)(r->n_slots + 1) / 2;
        r->resume = seq - (int64_t)r->n_slots + half;
        while (!r->aborted && r->retired < r->resume)
            pthread_cond_wait(&r->space, &r->lock);
        r->resume = -1;
    }
    if (r->aborted)
        seq = -1;
    pthread_mutex_unlock(&r->lock);
    return seq;
}

bool vg_ring_claim_waiting(VgRing *r)
{
    pthread_mutex_lock(&r->lock);
    bool waiting = r->resume >= 0;
    pthread_mutex_unlock(&r->lock);
    return waiting;
}

void vg_ring_publish(VgRing *r, int64_t seq)
{
    pthread_mutex_lock(&r->lock);
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
    pthread_cond_broadcast(&r->work);
    pthread_mutex_unlock(&r->lock);
}

void vg_ring_abort(VgRing *r)
{
    pthread_mutex_lock(&r->lock);
    r->aborted = true;
    pthread_cond_broadcast(&r->space);
    pthread_cond_broadcast(&r->work);
    pthread_mutex_unlock(&r->lock);
}

bool vg_ring_wait_filled(VgRing *r, int64_t seq)
{
    pthread_mutex_lock(&r->lock);
    while (!r->aborted && !r->closed && seq >= r->published)
        pthread_cond_wait(&r->work, &r->lock);
    bool ok = !r->aborted && seq < r->published;
    pthread_mutex_unlock(&r->lock);
    return ok;
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
        s->seq = -1;
        s->ready = false;
        /* in order: every consumer released seq - 1 before seq */
        r->retired = seq + 1;
        if (r->resume >= 0 && r->retired >= r->resume)
            pthread_cond_signal(&r->space);
    }
    pthread_mutex_unlock(&r->lock);
    return last;
}

/* test-ring.c — the batch-slot ring: bounds, order, ready flags, taking a slot's decoding
 * (once, only when published, again after reuse), the last release frees a slot, close and
 * abort wake waiters, a producer that found the ring full sleeps until half of it is free,
 * and a threaded run where consumers decode whatever they take, as the
 * parallel pipeline does, every slot exactly once, and every consumer sees every sequence
 * number in order with the slot contents the producer wrote. */
#include <criterion/criterion.h>

#include "engine/ring.h"

Test(ring, claim_publish_release_in_order)
{
    VgRing *r = vg_ring_new(2, 2);
    cr_assert_eq(vg_ring_slots(r), 2);
    cr_assert_eq(vg_ring_claim(r), 0);
    cr_assert_not(vg_ring_filled(r, 0));
    vg_ring_publish(r, 0);
    cr_assert(vg_ring_filled(r, 0));
    cr_assert_eq(vg_ring_claim(r), 1);
    vg_ring_publish(r, 1);
    cr_assert_not(vg_ring_ready(r, 0));
    vg_ring_set_ready(r, 0);
    cr_assert(vg_ring_ready(r, 0));
    cr_assert(vg_ring_wait_ready(r, 0));
    cr_assert_not(vg_ring_release(r, 0), "first of two consumers");
    cr_assert(vg_ring_release(r, 0), "the last consumer frees the slot");
    cr_assert_not(vg_ring_ready(r, 0));
    /* slot 0 is free again: seq 2 goes there, and is not ready yet */
    cr_assert_eq(vg_ring_claim(r), 2);
    cr_assert_not(vg_ring_take(r, 2), "not published yet");
    cr_assert_eq(vg_ring_take_first(r, 2, 3), -1, "not published yet");
    vg_ring_publish(r, 2);
    cr_assert_not(vg_ring_ready(r, 2));
    cr_assert_eq(vg_ring_take_first(r, 1, 3), 1, "published, never taken");
    cr_assert_not(vg_ring_take(r, 1), "taken once only");
    cr_assert_eq(vg_ring_take_first(r, 1, 3), 2);
    cr_assert_eq(vg_ring_take_first(r, 0, 8), -1, "0 is released, 1 and 2 taken");
    vg_ring_set_ready(r, 1);
    cr_assert(vg_ring_ready(r, 1));
    vg_ring_close(r);
    cr_assert(vg_ring_wait_filled(r, 2));
    cr_assert_not(vg_ring_wait_filled(r, 3), "closed: nothing after the last published");
    vg_ring_free(r);
}

Test(ring, abort_wakes_and_refuses)
{
    VgRing *r = vg_ring_new(1, 1);
    cr_assert_eq(vg_ring_claim(r), 0);
    vg_ring_publish(r, 0);
    vg_ring_abort(r);
    cr_assert_eq(vg_ring_claim(r), -1, "full ring, aborted: no wait");
    cr_assert_not(vg_ring_wait_ready(r, 0));
    cr_assert_not(vg_ring_wait_filled(r, 1));
    vg_ring_free(r);
    vg_ring_free(NULL);
}

typedef struct {
    VgRing *r;
    gint claimed; /* the seq the producer's claim returned, -2 while it waits */
} Prod;

static gpointer producer_claim(gpointer data)
{
    Prod *p = data;
    g_atomic_int_set(&p->claimed, (gint)vg_ring_claim(p->r));
    return NULL;
}

/* The producer's claim on a full ring of 4 returns once 2 slots are free, not 1: it then
 * fills several slots per wake-up (on a virtual machine each wake-up is an interrupt
 * between processors). If it woke at the first free slot, the 200 ms would see it return. */
Test(ring, full_ring_producer_waits_for_half)
{
    VgRing *r = vg_ring_new(4, 1);
    for (int64_t seq = 0; seq < 4; seq++) {
        cr_assert_eq(vg_ring_claim(r), seq);
        vg_ring_publish(r, seq);
    }
    Prod p = {r, -2};
    GThread *t = g_thread_new("prod", producer_claim, &p);
    while (!vg_ring_claim_waiting(r))
        g_usleep(1000);
    vg_ring_set_ready(r, 0);
    cr_assert(vg_ring_release(r, 0), "slot 0 free");
    g_usleep(200 * 1000);
    cr_assert_eq(g_atomic_int_get(&p.claimed), -2, "woke for one free slot of four");
    vg_ring_set_ready(r, 1);
    cr_assert(vg_ring_release(r, 1), "slot 1 free: half the ring");
    g_thread_join(t);
    cr_assert_eq(g_atomic_int_get(&p.claimed), 4);
    vg_ring_free(r);
}

#define N_CONS  3
#define N_SLOTS 4
#define N_SEQ   20000

typedef struct {
    VgRing *r;
    int64_t *slot_val; /* what the producer wrote into each slot */
    int64_t *slot_dec; /* what the "decoder" consumer derived from it */
    gint *decodes;     /* slots decoded, by all consumers */
    int idx;
    int64_t seen, sum;
    bool order_ok;
} Cons;

static gpointer consumer(gpointer data)
{
    Cons *c = data;
    c->order_ok = true;
    for (int64_t seq = 0;; seq++) {
        if (!vg_ring_wait_filled(c->r, seq))
            break;
        int s = (int)(seq % N_SLOTS);
        for (;;) { /* the parallel pipeline's worker_main() */
            int64_t j = vg_ring_take(c->r, seq) ? seq : -1;
            if (j < 0 && vg_ring_ready(c->r, seq))
                break;
            if (j < 0)
                j = vg_ring_take_first(c->r, seq + 1, seq + N_SLOTS);
            if (j < 0)
                break;
            c->slot_dec[j % N_SLOTS] = c->slot_val[j % N_SLOTS] * 2;
            g_atomic_int_inc(c->decodes);
            vg_ring_set_ready(c->r, j);
            if (j == seq)
                break;
        }
        cr_assert(vg_ring_wait_ready(c->r, seq));
        if (c->slot_val[s] != seq || c->slot_dec[s] != 2 * seq)
            c->order_ok = false;
        c->seen++;
        c->sum += c->slot_dec[s];
        vg_ring_release(c->r, seq);
    }
    return NULL;
}

Test(ring, threads_see_every_slot_in_order)
{
    VgRing *r = vg_ring_new(N_SLOTS, N_CONS);
    int64_t val[N_SLOTS], dec[N_SLOTS];
    gint decodes = 0;
    Cons c[N_CONS];
    GThread *t[N_CONS];
    for (int i = 0; i < N_CONS; i++) {
        c[i] = (Cons){.r = r, .slot_val = val, .slot_dec = dec, .decodes = &decodes, .idx = i};
        t[i] = g_thread_new("cons", consumer, &c[i]);
    }
    for (int64_t k = 0; k < N_SEQ; k++) {
        int64_t seq = vg_ring_claim(r);
        cr_assert_eq(seq, k);
        val[seq % N_SLOTS] = seq; /* the slot is free: no consumer reads it now */
        vg_ring_publish(r, seq);
    }
    vg_ring_close(r);
    for (int i = 0; i < N_CONS; i++) {
        g_thread_join(t[i]);
        cr_assert(c[i].order_ok, "consumer %d saw a slot out of order", i);
        cr_assert_eq(c[i].seen, N_SEQ);
        cr_assert_eq(c[i].sum, (int64_t)N_SEQ * (N_SEQ - 1));
    }
    cr_assert_eq(decodes, N_SEQ, "every slot decoded exactly once");
    vg_ring_free(r);
}

/* test-ring.c — the batch-slot ring: bounds, order, ready flags, one claim at a time and
 * none on a full ring, taking a slot's decoding (once, only when published, again after
 * reuse), the last release frees a slot and wakes a consumer waiting to claim, close and
 * abort wake waiters, and a threaded run where consumers fill the slots they need and
 * decode whatever they take, as the parallel pipeline's workers do: every slot filled and
 * decoded exactly once, and every consumer sees every sequence number in order with the
 * slot contents its filler wrote. */
#include <criterion/criterion.h>

#include "engine/ring.h"

Test(ring, claim_publish_release_in_order)
{
    VgRing *r = vg_ring_new(2, 2);
    cr_assert_eq(vg_ring_slots(r), 2);
    cr_assert_eq(vg_ring_wait_work(r, 0), VG_RING_CLAIMABLE);
    cr_assert_eq(vg_ring_try_claim(r), 0);
    cr_assert_eq(vg_ring_try_claim(r), -1, "one claim at a time");
    cr_assert_not(vg_ring_filled(r, 0));
    vg_ring_publish(r, 0);
    cr_assert(vg_ring_filled(r, 0));
    cr_assert_eq(vg_ring_wait_work(r, 0), VG_RING_FILLED);
    cr_assert_eq(vg_ring_try_claim(r), 1);
    vg_ring_publish(r, 1);
    cr_assert_eq(vg_ring_try_claim(r), -1, "full");
    cr_assert_not(vg_ring_ready(r, 0));
    vg_ring_set_ready(r, 0);
    cr_assert(vg_ring_ready(r, 0));
    cr_assert(vg_ring_wait_ready(r, 0));
    cr_assert_not(vg_ring_release(r, 0), "first of two consumers");
    cr_assert(vg_ring_release(r, 0), "the last consumer frees the slot");
    cr_assert_not(vg_ring_ready(r, 0));
    /* slot 0 is free again: seq 2 goes there, and is not ready yet */
    cr_assert_eq(vg_ring_wait_work(r, 2), VG_RING_CLAIMABLE);
    cr_assert_eq(vg_ring_try_claim(r), 2);
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
    cr_assert_eq(vg_ring_wait_work(r, 2), VG_RING_FILLED);
    cr_assert_eq(vg_ring_wait_work(r, 3), VG_RING_END, "closed: nothing after the last");
    cr_assert_eq(vg_ring_try_claim(r), -1, "closed");
    vg_ring_free(r);
}

Test(ring, abort_wakes_and_refuses)
{
    VgRing *r = vg_ring_new(1, 1);
    cr_assert_eq(vg_ring_try_claim(r), 0);
    vg_ring_publish(r, 0);
    vg_ring_abort(r);
    cr_assert_eq(vg_ring_try_claim(r), -1);
    cr_assert_not(vg_ring_wait_ready(r, 0));
    cr_assert_eq(vg_ring_wait_work(r, 0), VG_RING_END, "aborted, even though published");
    cr_assert_eq(vg_ring_wait_work(r, 1), VG_RING_END);
    vg_ring_free(r);
    vg_ring_free(NULL);
}

typedef struct {
    VgRing *r;
    int64_t seq;
    gint got; /* what vg_ring_wait_work(r, seq) returned, -1 while it waits */
} Waiter;

static gpointer wait_work(gpointer data)
{
    Waiter *w = data;
    g_atomic_int_set(&w->got, (gint)vg_ring_wait_work(w->r, w->seq));
    return NULL;
}

/* A consumer that needs seq 2 of a full ring of 2 waits, and wakes to claim it when the
 * last consumer releases seq 0; one that needs a seq another consumer has claimed waits
 * for it to be published. Were either wait not there, the 100 ms would see it return. */
Test(ring, waits_for_a_free_slot_and_for_another_claim)
{
    VgRing *r = vg_ring_new(2, 2);
    for (int64_t seq = 0; seq < 2; seq++) {
        cr_assert_eq(vg_ring_try_claim(r), seq);
        vg_ring_publish(r, seq);
    }
    Waiter w = {r, 2, -1};
    GThread *t = g_thread_new("wait", wait_work, &w);
    vg_ring_set_ready(r, 0);
    cr_assert_not(vg_ring_release(r, 0), "one of two consumers");
    g_usleep(100 * 1000);
    cr_assert_eq(g_atomic_int_get(&w.got), -1, "still full");
    cr_assert(vg_ring_release(r, 0), "slot 0 free");
    g_thread_join(t);
    cr_assert_eq(g_atomic_int_get(&w.got), VG_RING_CLAIMABLE);

    cr_assert_eq(vg_ring_try_claim(r), 2);
    w = (Waiter){r, 2, -1};
    t = g_thread_new("wait", wait_work, &w);
    g_usleep(100 * 1000);
    cr_assert_eq(g_atomic_int_get(&w.got), -1, "claimed by another, not published");
    vg_ring_publish(r, 2);
    g_thread_join(t);
    cr_assert_eq(g_atomic_int_get(&w.got), VG_RING_FILLED);
    vg_ring_free(r);
}

#define N_CONS  3
#define N_SLOTS 4
#define N_SEQ   20000

typedef struct {
    VgRing *r;
    int64_t *slot_val; /* what the filler wrote into each slot */
    int64_t *slot_dec; /* what the "decoder" consumer derived from it */
    gint *fills;       /* slots filled, by all consumers */
    gint *decodes;     /* slots decoded, by all consumers */
    int idx;
    int64_t seen, sum;
    bool order_ok;
} Cons;

static void decode(Cons *c, int64_t j)
{
    c->slot_dec[j % N_SLOTS] = c->slot_val[j % N_SLOTS] * 2;
    g_atomic_int_inc(c->decodes);
    vg_ring_set_ready(c->r, j);
}

/* The parallel pipeline's produce(): fill the next slot (the end after N_SEQ) and decode
 * it. False when the claim failed. */
static bool fill(Cons *c)
{
    int64_t j = vg_ring_try_claim(c->r);
    if (j < 0)
        return false;
    if (j == N_SEQ) {
        vg_ring_close(c->r);
        return true;
    }
    c->slot_val[j % N_SLOTS] = j; /* the slot is free: no consumer reads it now */
    g_atomic_int_inc(c->fills);
    vg_ring_publish(c->r, j);
    if (vg_ring_take(c->r, j))
        decode(c, j);
    return true;
}

static gpointer consumer(gpointer data)
{
    Cons *c = data;
    c->order_ok = true;
    for (int64_t seq = 0;; seq++) {
        VgRingWork st;
        while ((st = vg_ring_wait_work(c->r, seq)) == VG_RING_CLAIMABLE)
            fill(c);
        if (st == VG_RING_END)
            break;
        int s = (int)(seq % N_SLOTS);
        for (;;) { /* the parallel pipeline's worker_main() */
            if (vg_ring_take(c->r, seq)) {
                decode(c, seq);
                break;
            }
            if (vg_ring_ready(c->r, seq))
                break;
            int64_t j = vg_ring_take_first(c->r, seq + 1, seq + N_SLOTS);
            if (j >= 0)
                decode(c, j);
            else if (!fill(c))
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
    gint fills = 0, decodes = 0;
    Cons c[N_CONS];
    GThread *t[N_CONS];
    for (int i = 0; i < N_CONS; i++) {
        c[i] = (Cons){.r = r,
                      .slot_val = val,
                      .slot_dec = dec,
                      .fills = &fills,
                      .decodes = &decodes,
                      .idx = i};
        t[i] = g_thread_new("cons", consumer, &c[i]);
    }
    for (int i = 0; i < N_CONS; i++) {
        g_thread_join(t[i]);
        cr_assert(c[i].order_ok, "consumer %d saw a slot out of order", i);
        cr_assert_eq(c[i].seen, N_SEQ);
        cr_assert_eq(c[i].sum, (int64_t)N_SEQ * (N_SEQ - 1));
    }
    cr_assert_eq(fills, N_SEQ, "every slot filled exactly once");
    cr_assert_eq(decodes, N_SEQ, "every slot decoded exactly once");
    vg_ring_free(r);
}

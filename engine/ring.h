/* ring.h — a bounded ring of batch slots shared by N consumers that produce too.
 *
 * The parallel pipeline's hand-off: a worker that needs the next batch and finds it not
 * read yet claims the slot of the next sequence number (one claim at a time; none while
 * the ring is full), fills it and publishes it; each of N workers takes every published
 * slot in sequence order; one of them marks a slot "ready" (decoded) and the others wait
 * for that; a slot is free again once all N have released it. Slots are numbered by
 * sequence (slot index = seq % n_slots); the ring holds only the numbers and flags, the
 * caller owns the slots' contents.
 *
 * One mutex and one condition variable: every call is per batch, never per event.
 */
#ifndef VG_RING_H
#define VG_RING_H

#include "engine/vg.h"

typedef struct VgRing VgRing;

/* n_slots >= 1 slots shared by n_consumers >= 1 workers. */
VgRing *vg_ring_new(uint32_t n_slots, int n_consumers);
void vg_ring_free(VgRing *r);
uint32_t vg_ring_slots(const VgRing *r);

/* Filling: claims the next seq, without waiting: it, or -1 when the ring is full, closed
 * or aborted, or another consumer holds a claim. vg_ring_publish() or vg_ring_close()
 * ends the claim. */
int64_t vg_ring_try_claim(VgRing *r);
/* The claimed slot seq is filled: consumers may take it. */
void vg_ring_publish(VgRing *r, int64_t seq);
/* No more slots will be published. */
void vg_ring_close(VgRing *r);
/* Wakes every waiter; claims return -1 and waits give up from now on. */
void vg_ring_abort(VgRing *r);

typedef enum {
    VG_RING_FILLED,    /* seq is published */
    VG_RING_CLAIMABLE, /* it is not, and vg_ring_try_claim() may claim the next seq */
    VG_RING_END,       /* closed before seq, or aborted */
} VgRingWork;
/* Waits until one of those holds for seq. */
VgRingWork vg_ring_wait_work(VgRing *r, int64_t seq);
/* Whether seq is published now (does not wait). */
bool vg_ring_filled(VgRing *r, int64_t seq);

/* Consuming. */
/* Takes the work of making a published seq ready (e.g. decoding it): true for the first
 * consumer to ask, false for the others, or when seq is not published now. */
bool vg_ring_take(VgRing *r, int64_t seq);
/* Takes the first published seq in [from, to) nobody has taken: it, or -1 when none. */
int64_t vg_ring_take_first(VgRing *r, int64_t from, int64_t to);
/* Marks a published seq ready (e.g. decoded); whether it is; waiting for it (false only
 * on abort). */
void vg_ring_set_ready(VgRing *r, int64_t seq);
bool vg_ring_ready(VgRing *r, int64_t seq);
bool vg_ring_wait_ready(VgRing *r, int64_t seq);
/* This consumer is done with seq (consumers release in sequence order). Returns true for
 * the last of the N, when the slot becomes free. */
bool vg_ring_release(VgRing *r, int64_t seq);

#endif

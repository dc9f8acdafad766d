/* test-arena.c — the bump allocator: alignment, no overlap, requests larger than a chunk,
 * and reuse of the same memory after a reset without new chunks. */
#include "engine/arena.h"

#include <criterion/criterion.h>

static uint64_t next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* Allocations of sizes 0..300 (and a few larger than a chunk) are 8-byte aligned and keep
 * what was written into them while later ones are made. */
Test(arena, allocations_are_aligned_and_disjoint)
{
    VgArena a;
    vg_arena_init(&a, 1024);
    uint64_t s = 1;
    enum { N = 2000 };
    unsigned char *p[N];
    size_t len[N];
    for (int i = 0; i < N; i++) {
        len[i] = i % 97 == 0 ? 1500 + next(&s) % 3000 : next(&s) % 301;
        p[i] = vg_arena_alloc(&a, len[i]);
        cr_assert_not_null(p[i]);
        cr_assert_eq((uintptr_t)p[i] % 8, 0, "allocation %d of %zu bytes", i, len[i]);
        memset(p[i], i & 0xff, len[i]);
    }
    for (int i = 0; i < N; i++)
        for (size_t k = 0; k < len[i]; k++)
            cr_assert_eq(p[i][k], i & 0xff, "allocation %d byte %zu was overwritten", i, k);
    vg_arena_destroy(&a);
}

/* After a reset the same sequence of requests gets the same memory: the chunks are kept,
 * including the one made for a request larger than a chunk. */
Test(arena, reset_reuses_the_chunks)
{
    VgArena a;
    vg_arena_init(&a, 256);
    const size_t sizes[] = {10, 100, 200, 1000, 7, 250, 3, 64, 64, 64};
    void *first[G_N_ELEMENTS(sizes)];
    for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++)
        first[i] = vg_arena_alloc(&a, sizes[i]);
    for (int round = 0; round < 3; round++) {
        vg_arena_reset(&a);
        for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++)
            cr_assert_eq(vg_arena_alloc(&a, sizes[i]), first[i], "round %d request %zu", round, i);
    }
    vg_arena_destroy(&a);
}

Test(arena, strdup_copies_and_terminates)
{
    VgArena a;
    vg_arena_init(&a, 0);
    VgStr v = vg_arena_strdup(&a, "abcdef", 3);
    cr_assert_eq(v.len, 3);
    cr_assert_str_eq(v.p, "abc");
    VgStr e = vg_arena_strdup(&a, NULL, 0);
    cr_assert_eq(e.len, 0);
    cr_assert_str_eq(e.p, "");
    vg_arena_destroy(&a);
}

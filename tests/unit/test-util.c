/* test-util.c — the shared 64-bit hash: its values are pinned (shard choices, model keys in
 * snapshots and deterministic ids derive from it). */
#include "engine/vg.h"

#include <criterion/criterion.h>

/* Seed 42, one key on each length path of the function (0, 1-3, 4-16, 17-48, over 48). */
Test(util, hash64_values_are_pinned)
{
    static const struct {
        const char *key;
        uint64_t h;
    } want[] = {
        {"", 0x72014e4eed7eeb7dull},
        {"a", 0x9bbea1d24169a57dull},
        {"abc", 0x729d41f062dc5b37ull},
        {"abcd", 0x26562d45a711ea31ull},
        {"tk_live_jwSd6EibxAM2cOqYSU56dbjH", 0x3e8e7b1f48d650f0ull},
        {"/v1/orders/{id}", 0xce7766568b16d130ull},
        {"2001:db8:b706:677e::d11a", 0x908c8c40087d30afull},
        {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0",
         0xeba968d6e6aaa35cull},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
        cr_assert_eq(vg_hash64(want[i].key, strlen(want[i].key), 42), want[i].h, "\"%s\"",
                     want[i].key);
}

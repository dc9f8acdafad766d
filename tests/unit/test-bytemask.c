/* test-bytemask.c — engine/bytemask.h against byte loops: the masks of every length up to
 * 64 (whole blocks, a tail re-read from the end, a short string copied out), the next set
 * bit, and the longest run. */
#include "engine/bytemask.h"

#include <criterion/criterion.h>

#if VG_BYTEMASK

static uint64_t loop_mask(const char *s, size_t n, bool (*is)(char))
{
    uint64_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (is(s[i]))
            m |= 1ull << i;
    return m;
}

static bool is_slash(char c)
{
    return c == '/';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static uint32_t loop_longest(uint64_t m)
{
    uint32_t best = 0, run = 0;
    for (int i = 0; i < 64; i++) {
        run = (m >> i) & 1 ? run + 1 : 0;
        best = run > best ? run : best;
    }
    return best;
}

Test(bytemask, masks_of_every_length)
{
    /* bytes around the digits and the slash, and above 0x7f (negative as signed) */
    static const char alphabet[] = "/09:.a\x80\xff\x2f\x30\x39 ";
    GRand *r = g_rand_new_with_seed(7);
    char buf[64 + 32];
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)g_rand_int_range(r, 1, 65);
        /* the string sits anywhere in the buffer, with other bytes after it that a mask
         * must not count */
        size_t at = (size_t)g_rand_int_range(r, 0, 32);
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = alphabet[g_rand_int_range(r, 0, sizeof alphabet - 1)];
        const char *s = buf + at;
        uint64_t slash = vg_bytemask64(s, n, vg_mask16_slash);
        uint64_t digit = vg_bytemask64(s, n, vg_mask16_digit);
        cr_assert_eq(slash, loop_mask(s, n, is_slash), "slashes, n %zu", n);
        cr_assert_eq(digit, loop_mask(s, n, is_digit), "digits, n %zu", n);
        cr_assert_eq(vg_bytemask_longest_run(digit), loop_longest(digit));
        size_t from = (size_t)g_rand_int_range(r, 0, 70), want = n;
        for (size_t i = from; i < n; i++)
            if (s[i] == '/') {
                want = i;
                break;
            }
        cr_assert_eq(vg_bytemask_next(slash, from, n), want, "next from %zu, n %zu", from, n);
    }
    g_rand_free(r);
}

Test(bytemask, runs)
{
    cr_assert_eq(vg_bytemask_longest_run(0), 0);
    cr_assert_eq(vg_bytemask_longest_run(~0ull), 64);
    cr_assert_eq(vg_bytemask_longest_run(0x8000000000000001ull), 1);
    cr_assert_eq(vg_bytemask_longest_run(0x0ff00f0ull), 8);
    const char *p = "/v1/customers/123456/orders/4111111111111111";
    cr_assert_eq(vg_bytemask_longest_run(vg_bytemask64(p, strlen(p), vg_mask16_digit)), 16);
}

#else

Test(bytemask, not_built)
{
    cr_skip_test("no SSE2 here: callers use their byte loops");
}

#endif

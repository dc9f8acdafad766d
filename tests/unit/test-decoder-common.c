/* test-decoder-common.c — base64 decoding (JWT payloads, Basic credentials) against GLib's,
 * sixteen digits at a time and one by one. */
#include "collectors/decoder-common.h"
#include "cpu-path-test-util.h"

#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

/* Runs check() on the portable code, then on the CPU's where it has it. */
static void both_ways(void (*check)(const char *way))
{
    tu_both_paths(vg_b64_set_simd, "sixteen-digit SSE4.1 decoder", check);
}

/* s in the URL-safe alphabet (JWTs), and without its padding when strip. */
static void to_url(char *s, bool strip)
{
    for (char *p = s; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    size_t n = strlen(s);
    while (strip && n && s[n - 1] == '=')
        s[--n] = '\0';
}

static void check_random(const char *way)
{
    GRand *r = g_rand_new_with_seed(4711);
    guchar data[300];
    char out[512];
    for (int it = 0; it < 3000; it++) {
        size_t n = (size_t)g_rand_int_range(r, 0, (gint32)sizeof data + 1);
        for (size_t i = 0; i < n; i++)
            data[i] = (guchar)g_rand_int(r);
        gchar *enc = g_base64_encode(data, n);
        if (it % 3 == 1)
            to_url(enc, it % 2);
        size_t len = strlen(enc);
        memset(out, 0x5a, sizeof out);
        ssize_t got = vg_b64_decode(enc, len, out);
        cr_assert_eq(got, (ssize_t)n, "%s: %zu bytes as %s: length %zd", way, n, enc, got);
        cr_assert(!memcmp(out, data, n), "%s: %zu bytes as %s: wrong bytes", way, n, enc);
        cr_assert(len + 1 >= sizeof out || (unsigned char)out[len + 1] == 0x5a,
                  "%s: wrote past the n + 1 bytes it may", way);
        g_free(enc);
    }
    g_rand_free(r);
}

Test(b64, decodes_what_glib_encodes_in_both_alphabets)
{
    both_ways(check_random);
}

/* One wrong character anywhere, in either of two sixteen-digit blocks or the tail, fails
 * the whole value: bytes beyond ASCII, spaces, the padding inside, a dot. */
static void check_bad(const char *way)
{
    const char good[] = "eyJzdWIiOiJ1c3JfMTIzIiwiaWF0IjoxNzAwMDAwMDAwfQ"; /* 46 digits */
    const char bad[] = {'\x80', '\xff', ' ', '=', '.', '\0', '@', '[', '`', '{', ':', '*'};
    char in[64], out[64];
    cr_assert_gt(vg_b64_decode(good, strlen(good), out), 0);
    for (size_t pos = 0; pos < strlen(good); pos++) {
        for (size_t b = 0; b < sizeof bad; b++) {
            memcpy(in, good, sizeof good);
            in[pos] = bad[b];
            if (bad[b] == '=' && pos == strlen(good) - 1)
                continue; /* trailing padding is fine */
            cr_assert_eq(vg_b64_decode(in, strlen(good), out), -1, "%s: 0x%02x at %zu", way,
                         (unsigned char)bad[b], pos);
        }
    }
}

Test(b64, any_character_outside_the_alphabets_fails)
{
    both_ways(check_bad);
}

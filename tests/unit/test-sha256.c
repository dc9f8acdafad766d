/* test-sha256.c — our SHA-256 and HMAC-SHA256 against GLib's, on the lengths where padding
 * and blocks change (0, 55, 56, 63, 64, 65, 119, 1000 bytes) and in pieces, with the
 * portable block function and with the CPU's SHA instructions (where it has them). */
#include <criterion/criterion.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "engine/sha256.h"
#include "cpu-path-test-util.h"

static char *hex(const uint8_t d[32])
{
    static char s[65];
    for (int i = 0; i < 32; i++)
        snprintf(s + 2 * i, 3, "%02x", d[i]);
    return s;
}

static const size_t lens[] = {0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 128, 1000};

/* Runs check() on the portable code, then on the CPU's where it has it. */
static void both_ways(void (*check)(const char *way))
{
    tu_both_paths(vg_sha256_set_hw, "SHA instructions", check);
}

/* Our digest of data[0..n) in one piece against GLib's, which *want gets (to free). */
static void check_digest(const char *way, const uint8_t *data, size_t n, gchar **want)
{
    *want = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data, n);
    uint8_t d[32];
    VgSha256 s;
    vg_sha256_init(&s);
    vg_sha256_update(&s, data, n);
    vg_sha256_final(&s, d);
    cr_assert_str_eq(hex(d), *want, "%s: %zu bytes", way, n);
}

static void check_glib_at_block_edges(const char *way)
{
    uint8_t data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 131 + 7);
    for (size_t k = 0; k < G_N_ELEMENTS(lens); k++) {
        size_t n = lens[k];
        gchar *want;
        check_digest(way, data, n, &want);
        uint8_t d[32];
        VgSha256 s;
        vg_sha256_init(&s); /* in uneven pieces */
        for (size_t off = 0, step = 1; off < n; off += step, step = step * 2 + 1)
            vg_sha256_update(&s, data + off, MIN(step, n - off));
        vg_sha256_final(&s, d);
        cr_assert_str_eq(hex(d), want, "%s: length %zu in pieces", way, n);
        g_free(want);
    }
}

Test(sha256, matches_glib_at_block_edges_whole_and_in_pieces)
{
    both_ways(check_glib_at_block_edges);
}

static void check_known_answer(const char *way)
{
    uint8_t d[32];
    VgSha256 s;
    vg_sha256_init(&s);
    vg_sha256_update(&s, "abc", 3);
    vg_sha256_final(&s, d);
    cr_assert_str_eq(hex(d), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                     "%s", way);
}

Test(sha256, known_answer)
{
    both_ways(check_known_answer);
}

static void check_hmac(const char *way)
{
    uint8_t key[200], msg[300];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 17 + 3);
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 29 + 11);
    const size_t klens[] = {0, 1, 32, 63, 64, 65, 200};
    for (size_t a = 0; a < G_N_ELEMENTS(klens); a++)
        for (size_t b = 0; b < G_N_ELEMENTS(lens); b++) {
            size_t m = MIN(lens[b], sizeof msg);
            gchar *want = g_compute_hmac_for_data(G_CHECKSUM_SHA256, key, klens[a], msg, m);
            uint8_t d[32];
            vg_hmac_sha256(key, klens[a], msg, m, d);
            cr_assert_str_eq(hex(d), want, "%s: key %zu msg %zu", way, klens[a], m);
            g_free(want);
        }
}

Test(sha256, hmac_matches_glib_for_short_block_and_long_keys)
{
    both_ways(check_hmac);
}

/* Random bytes of random lengths: every bit of the message schedule and the rounds gets
 * exercised, which fixed patterns might not. */
static void check_random(const char *way)
{
    GRand *r = g_rand_new_with_seed(20261125);
    uint8_t data[300];
    for (int it = 0; it < 2000; it++) {
        size_t n = (size_t)g_rand_int_range(r, 0, (gint32)sizeof data + 1);
        for (size_t i = 0; i < n; i++)
            data[i] = (uint8_t)g_rand_int(r);
        gchar *want;
        check_digest(way, data, n, &want);
        g_free(want);
    }
    g_rand_free(r);
}

Test(sha256, random_messages_match_glib)
{
    both_ways(check_random);
}

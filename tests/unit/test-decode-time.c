/* test-decode-time.c — every timestamp form decoders accept, and the ones they refuse. */
#include "collectors/decode-time.h"

#include <criterion/criterion.h>

static int64_t iso(const char *s)
{
    int64_t ms = -1;
    cr_assert(vg_time_parse_iso8601(s, strlen(s), &ms), "should parse: %s", s);
    return ms;
}

static int64_t any(const char *s)
{
    int64_t ms = -1;
    cr_assert(vg_time_parse(s, strlen(s), &ms), "should parse: %s", s);
    return ms;
}

#define T0 1772445600000LL /* 2026-03-02T10:00:00Z */

Test(decode_time, civil_days)
{
    cr_assert_eq(vg_days_from_civil(1970, 1, 1), 0);
    cr_assert_eq(vg_days_from_civil(2000, 3, 1), 11017);
    cr_assert_eq(vg_days_from_civil(1969, 12, 31), -1);
    cr_assert_eq(vg_days_from_civil(2026, 3, 2), T0 / 86400000 - 0); /* midnight of that day */
}

Test(decode_time, iso_forms)
{
    cr_assert_eq(iso("2026-03-02T10:00:00Z"), T0);
    cr_assert_eq(iso("2026-03-02T10:00:00.123Z"), T0 + 123);
    cr_assert_eq(iso("2026-03-02T10:00:00.123456Z"), T0 + 123);
    cr_assert_eq(iso("2026-03-02T10:00:00.123456789Z"), T0 + 123);
    cr_assert_eq(iso("2026-03-02T10:00:00.5Z"), T0 + 500);
    cr_assert_eq(iso("2026-03-02T12:00:00+02:00"), T0);
    cr_assert_eq(iso("2026-03-02T12:00:00.250+0200"), T0 + 250);
    cr_assert_eq(iso("2026-03-02T05:00:00-05"), T0);
    cr_assert_eq(iso("2026-03-02 10:00:00"), T0);
    cr_assert_eq(iso("2026-03-02t10:00:00z"), T0);
    cr_assert_eq(iso("2026-03-02T10:00Z"), T0);
    cr_assert_eq(iso("  2026-03-02T10:00:00Z "), T0);
    cr_assert_eq(iso("2024-02-29T00:00:00Z"), 1709164800000LL);
    cr_assert_eq(iso("1969-12-31T23:59:59Z"), -1000);
    /* the same minute twice (cache) and then another one */
    cr_assert_eq(iso("2026-03-02T10:00:59.999Z"), T0 + 59999);
    cr_assert_eq(iso("2026-03-02T10:01:00Z"), T0 + 60000);
    cr_assert_eq(iso("2026-03-02T10:00:01+01:00"), T0 - 3600000 + 1000);
}

Test(decode_time, iso_refused)
{
    const char *bad[] = {
        "2026-13-02T10:00:00Z",          "2026-02-30T10:00:00Z",      "2026-03-02T24:00:00Z",
        "2026-03-02T10:60:00Z",          "2026-03-02T10:00:00X",      "2026-03-02",
        "2026-03-02T10:00:00.Z",         "2026-03-02T10:00:00+25:00", "",
        "2026-03-02T10:00:00Z trailing", "2025-02-29T00:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms;
        cr_assert_not(vg_time_parse_iso8601(bad[i], strlen(bad[i]), &ms), "accepted: %s", bad[i]);
    }
}

/* The parse of a timestamp whose minute the thread parsed last (the cached minute, and for
 * "...:SS.mmmZ" a fast path of its own) answers as the parse of one whose minute is new:
 * every seconds-and-fraction tail, valid or not, is parsed both ways. */
static bool parse_with_minute(const char *minute_of, const char *s, int64_t *ms)
{
    int64_t warm;
    (void)vg_time_parse_iso8601(minute_of, strlen(minute_of), &warm);
    return vg_time_parse_iso8601(s, strlen(s), ms);
}

Test(decode_time, cached_minute_parses_as_a_new_one)
{
    static const char *tails[] = {":00.000Z", ":59.999Z", ":60.000Z",  ":61.000Z", ":05.123z",
                                  ":05.123",  ":05.12Z",  ":05.1234Z", ":5a.123Z", ":05.1a3Z",
                                  ":05.12/Z", ":/5.123Z", ":05:123Z",  ":05.123X", ":05.123+01:00",
                                  ":05Z",     ":05,123Z", "Z",         "",         ":05.123Z ",
                                  ":9:.000Z", ":96.000Z"};
    GRand *r = g_rand_new_with_seed(5);
    int fast_ok = 0;
    for (int round = 0; round < 2000; round++) {
        char s[64];
        const char *tail = tails[round % G_N_ELEMENTS(tails)];
        if (round >= (int)G_N_ELEMENTS(tails)) { /* random seconds and milliseconds */
            g_snprintf(s, sizeof s, "2026-03-02T10:17:%02d.%03dZ", g_rand_int_range(r, 0, 62),
                       g_rand_int_range(r, 0, 1000));
        } else {
            g_snprintf(s, sizeof s, "2026-03-02T10:17%s", tail);
        }
        int64_t cached = -1, fresh = -1;
        bool ok_cached = parse_with_minute("2026-03-02T10:17:00Z", s, &cached);
        bool ok_fresh = parse_with_minute("2026-03-03T11:18:00Z", s, &fresh);
        cr_assert_eq(ok_cached, ok_fresh, "%s: %d with the minute cached, %d without", s, ok_cached,
                     ok_fresh);
        if (ok_cached)
            cr_assert_eq(cached, fresh, "%s: %lld, %lld", s, (long long)cached, (long long)fresh);
        fast_ok += ok_cached && strlen(s) == 24;
    }
    g_rand_free(r);
    cr_assert_gt(fast_ok, 1500);
    int64_t ms;
    cr_assert(parse_with_minute("2026-03-02T10:17:00Z", "2026-03-02T10:17:05.123Z", &ms));
    cr_assert_eq(ms, T0 + 17 * 60000 + 5123);
}

Test(decode_time, clf)
{
    int64_t ms;
    const char *s = "02/Mar/2026:11:00:00 +0100";
    cr_assert(vg_time_parse_clf(s, strlen(s), &ms));
    cr_assert_eq(ms, T0);
    s = "[02/Mar/2026:10:00:00 +0000]";
    cr_assert(vg_time_parse_clf(s, strlen(s), &ms));
    cr_assert_eq(ms, T0);
    s = "02/mar/2026:05:00:00 -0500";
    cr_assert(vg_time_parse_clf(s, strlen(s), &ms));
    cr_assert_eq(ms, T0);
    s = "02/Mar/2026:10:00:00.042 +0000";
    cr_assert(vg_time_parse_clf(s, strlen(s), &ms));
    cr_assert_eq(ms, T0 + 42);
    const char *bad[] = {"02/Foo/2026:10:00:00 +0000", "2/Mar/2026:10:00:00 +0000",
                         "02/Mar/2026 10:00:00 +0000", "02/Mar/2026:10:00:00 +01:0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(vg_time_parse_clf(bad[i], strlen(bad[i]), &ms), "accepted: %s", bad[i]);
    cr_assert_eq(any("02/Mar/2026:10:00:00 +0000"), T0);
}

Test(decode_time, epoch)
{
    cr_assert_eq(any("1772445600"), T0);
    cr_assert_eq(any("1772445600.123"), T0 + 123);
    cr_assert_eq(any("1772445600.1239"), T0 + 123);
    cr_assert_eq(any("1772445600123"), T0 + 123);
    cr_assert_eq(any("1772445600123456"), T0 + 123);
    cr_assert_eq(any("1772445600123456789"), T0 + 123);
    cr_assert_eq(any("0"), 0);
    int64_t ms;
    cr_assert(vg_time_from_epoch_int(1772445600, &ms));
    cr_assert_eq(ms, T0);
    cr_assert(vg_time_from_epoch_int(1772445600123LL, &ms));
    cr_assert_eq(ms, T0 + 123);
    cr_assert(vg_time_from_epoch_double(1772445600.123, &ms));
    cr_assert_eq(ms, T0 + 123);
    cr_assert(vg_time_from_epoch_double(1772445600123.0, &ms));
    cr_assert_eq(ms, T0 + 123);
    cr_assert(vg_time_from_epoch_double(1.7724456001234567e18, &ms));
    cr_assert_eq(ms / 1000, T0 / 1000);
    cr_assert_not(vg_time_from_epoch_double(0.0 / 0.0, &ms));
    cr_assert_not(vg_time_from_epoch_double(1e300, &ms));
    const char *bad[] = {"abc", "12a", "1.2.3", "", "-", "1e5", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(vg_time_parse(bad[i], strlen(bad[i]), &ms), "accepted: %s", bad[i]);
}

Test(decode_time, views_not_nul_terminated)
{
    /* parsers must stop at the length, never at a NUL */
    const char s[] = "2026-03-02T10:00:00ZGARBAGE";
    int64_t ms;
    cr_assert(vg_time_parse_iso8601(s, 20, &ms));
    cr_assert_eq(ms, T0);
    cr_assert_not(vg_time_parse_iso8601(s, 19 + 3, &ms));
}

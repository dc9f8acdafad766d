/* test-log.c — vigil's own log (engine/log.c): the line format and quoting, the level
 * filter, and the rate limit per message (10 lines per 10 s; debug lines never limited). */
#include <criterion/criterion.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "engine/log.h"

static char *buf;
static size_t len;
static FILE *out;

static void setup(void)
{
    out = open_memstream(&buf, &len);
    vg_log_set_stream(out);
    vg_log_set_level(VG_LOG_INFO);
}

static void teardown(void)
{
    vg_log_set_stream(NULL);
    fclose(out);
    free(buf);
}

TestSuite(log, .init = setup, .fini = teardown);

static unsigned count_lines(const char *needle)
{
    fflush(out);
    unsigned n = 0;
    for (const char *p = buf; p && (p = strstr(p, needle)); p++)
        n++;
    return n;
}

Test(log, format_and_quoting)
{
    vg_log_warn("spool full", "sink", "redis", "detail", "a \"b\" c\\d\ne", "empty", "");
    fflush(out);
    cr_assert(g_str_has_prefix(buf, "ts="), "%s", buf);
    cr_assert(strstr(buf, " level=warn msg=\"spool full\" sink=redis detail=\"a \\\"b\\\" "
                          "c\\\\d\\ne\" empty=\"\"\n"),
              "%s", buf);
}

Test(log, level_filter)
{
    vg_log_debug("hidden at info");
    vg_log_info("shown at info");
    cr_assert_eq(count_lines("hidden at info"), 0);
    cr_assert_eq(count_lines("shown at info"), 1);
    vg_log_set_level(VG_LOG_ERROR);
    vg_log_warn("hidden at error");
    cr_assert_eq(count_lines("hidden at error"), 0);
    cr_assert_eq(vg_log_level_from_name("warn"), VG_LOG_WARN);
    cr_assert_eq(vg_log_level_from_name("loud"), -1);
}

Test(log, one_message_at_most_ten_lines_per_window)
{
    for (int i = 0; i < 25; i++)
        vg_log_info("repeating message", "i", "x");
    vg_log_info("another message");
    cr_assert_eq(count_lines("repeating message"), 10);
    cr_assert_eq(count_lines("another message"), 1, "the limit is per message");
}

Test(log, debug_lines_are_never_limited)
{
    vg_log_set_level(VG_LOG_DEBUG);
    for (int i = 0; i < 25; i++)
        vg_log_debug("kafka client debug line");
    cr_assert_eq(count_lines("kafka client debug line"), 25);
}

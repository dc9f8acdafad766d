/* test-correlation.c — the correlation engine: every type, sliding windows at their edges,
 * closed windows for upper bounds, aliases, chains, ordering, bounded state. Parse errors
 * and the specification's examples are in test-correlation-parse.c. */
#include "test-correlation-util.h"

#include "rules/correlation-set.h"

/* ---- event_count ---- */

static const char *brute = "title: Brute force per client IP\n"
                           "id: brute-ip\n"
                           "level: high\n"
                           "correlation:\n"
                           "  type: event_count\n"
                           "  rules: [failed_login]\n"
                           "  group-by: [client_ip]\n"
                           "  timespan: 10s\n"
                           "  condition: {gt: 2}\n";

Test(correlation, event_count_fires_inside_window, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(brute);
    cr_assert(vg_corr_set_wants(s, det("failed_login")));
    cr_assert(vg_corr_set_suppresses(s, det("failed_login")));
    cr_assert_not(vg_corr_set_wants(s, det("ok_login")));
    match(s, "failed_login", (Ev){.t = 0, .ip = "203.0.113.9"});
    match(s, "failed_login", (Ev){.t = 5 * S, .ip = "203.0.113.9"});
    match(s, "failed_login", (Ev){.t = 6 * S, .ip = "198.51.100.1"});
    cr_assert_eq(n_got, 0);
    /* exactly timespan after the first: [t - 10s, t] is inclusive */
    match(s, "failed_login", (Ev){.t = 10 * S, .ip = "203.0.113.9"});
    cr_assert_eq(n_got, 1);
    cr_assert_str_eq(got[0].rule, "brute-ip");
    cr_assert_str_eq(got[0].entity, "client_ip");
    cr_assert_str_eq(got[0].ip, "203.0.113.9");
    cr_assert_str_eq(got[0].model, "sigma_correlation:event_count");
    cr_assert_eq(got[0].observed, 3);
    cr_assert_eq(got[0].expected, 2);
    cr_assert_eq(got[0].start, 0);
    cr_assert_eq(got[0].end, 10 * S);
    cr_assert_eq(got[0].severity, 3);
    cr_assert(strstr(got[0].reason, "client_ip 203.0.113.9 had 3 matching events in 10s, "
                                    "threshold > 2"),
              "%s", got[0].reason);
    vg_corr_set_free(s);
}

Test(correlation, event_count_slides_not_buckets, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(brute);
    /* one millisecond too far apart: no window of 10s holds all three */
    match(s, "failed_login", (Ev){.t = 0, .ip = "a"});
    match(s, "failed_login", (Ev){.t = 5 * S, .ip = "a"});
    match(s, "failed_login", (Ev){.t = 10 * S + 1, .ip = "a"});
    cr_assert_eq(n_got, 0);
    /* across what would be a bucket boundary (9s..11s): a sliding window sees them */
    match(s, "failed_login", (Ev){.t = 11 * S, .ip = "a"});
    cr_assert_eq(n_got, 1);
    cr_assert_eq(got[0].start, 5 * S);
    cr_assert_eq(got[0].end, 11 * S);

    match(s, "failed_login", (Ev){.t = 100 * S - 1, .ip = "b"});
    match(s, "failed_login", (Ev){.t = 100 * S, .ip = "b"});
    match(s, "failed_login", (Ev){.t = 100 * S + 1, .ip = "b"});
    cr_assert_eq(n_got, 2);
    vg_corr_set_free(s);
}

Test(correlation, one_alert_per_window, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(brute);
    /* 10 events per second for 25 seconds: one alert per non-overlapping window */
    for (int64_t t = 0; t < 25 * S; t += 100)
        match(s, "failed_login", (Ev){.t = t, .ip = "x"});
    cr_assert_eq(n_got, 3, "%d alerts", n_got);
    cr_assert_eq(got[0].end, 200);
    cr_assert_gt(got[1].start, got[0].end);
    cr_assert_gt(got[2].start, got[1].end);
    vg_corr_set_free(s);
}

Test(correlation, event_matching_two_rules_counts_once, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load("title: t\ncorrelation:\n  type: event_count\n  rules: [a, b]\n"
                        "  group-by: [user]\n  timespan: 1m\n  condition: {gte: 2}\n");
    VgEvent e;
    make(&e, &(Ev){.t = 0, .user = "u"});
    vg_corr_set_on_match(s, det("a"), &e, &ctx);
    vg_corr_set_on_match(s, det("b"), &e, &ctx);
    cr_assert_eq(n_got, 0);
    match(s, "b", (Ev){.t = 1, .user = "u"});
    cr_assert_eq(n_got, 1);
    cr_assert_str_eq(got[0].entity, "user");
    cr_assert_str_eq(got[0].user, "u");
    cr_assert_str_eq(got[0].rule, "t"); /* no id, no name: the title */
    vg_corr_set_free(s);
}

Test(correlation, events_without_group_value_are_ignored, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(brute);
    for (int i = 0; i < 10; i++)
        match(s, "failed_login", (Ev){.t = i});
    cr_assert_eq(n_got, 0);
    VgCorrStats st;
    vg_corr_set_stats(s, &st);
    cr_assert_eq(st.ungrouped, 10);
    cr_assert_eq(st.groups, 0);
    vg_corr_set_free(s);
}

Test(correlation, late_events_are_ignored, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(brute);
    VgEvent e;
    ctx.late = true;
    for (int i = 0; i < 5; i++) {
        make(&e, &(Ev){.t = i, .ip = "x"});
        vg_corr_set_on_match(s, det("failed_login"), &e, &ctx);
    }
    ctx.late = false;
    cr_assert_eq(n_got, 0);
    VgCorrStats st;
    vg_corr_set_stats(s, &st);
    cr_assert_eq(st.late, 5);
    vg_corr_set_free(s);
}

Test(correlation, event_count_large_threshold_uses_subbuckets, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load("title: many\ncorrelation:\n  type: event_count\n  rules: [a]\n"
                        "  group-by: [client_ip]\n  timespan: 64s\n  condition: {gt: 1000}\n");
    /* 1000 events within the window: not enough */
    for (int i = 0; i < 1000; i++)
        match(s, "a", (Ev){.t = i * 60, .ip = "x"});
    cr_assert_eq(n_got, 0);
    match(s, "a", (Ev){.t = 60000, .ip = "x"});
    cr_assert_eq(n_got, 1);
    cr_assert_eq(got[0].observed, 1001);
    /* far later, the old events are gone */
    for (int i = 0; i < 900; i++)
        match(s, "a", (Ev){.t = 1000 * S + i, .ip = "x"});
    cr_assert_eq(n_got, 1);
    vg_corr_set_free(s);
}

/* ---- closed windows: lt, ranges ---- */

Test(correlation, lt_is_judged_when_the_window_closes, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load("title: Few downloads\nid: few\ncorrelation:\n  type: event_count\n"
                        "  rules: [download]\n  group-by: [user]\n  timespan: 1m\n"
                        "  condition: {lt: 3}\n");
    match(s, "download", (Ev){.t = 0, .user = "quiet"});
    match(s, "download", (Ev){.t = 1 * S, .user = "busy"});
    for (int i = 0; i < 5; i++)
        match(s, "download", (Ev){.t = 2 * S + i, .user = "busy"});
    match(s, "download", (Ev){.t = 30 * S, .user = "quiet"});
    cr_assert_eq(n_got, 0, "an lt condition can not be judged before the window ends");
    advance(s, 60 * S); /* window of "quiet" is [0, 60s]: not closed at 60s */
    cr_assert_eq(n_got, 0);
    advance(s, 60 * S + 1);
    cr_assert_eq(n_got, 1);
    cr_assert_str_eq(got[0].user, "quiet");
    cr_assert_eq(got[0].observed, 2);
    cr_assert_eq(got[0].start, 0);
    cr_assert_eq(got[0].end, 60 * S);
    advance(s, 62 * S);
    cr_assert_eq(n_got, 1, "busy had 6 events");
    /* finish closes what is open */
    match(s, "download", (Ev){.t = 100 * S, .user = "late"});
    vg_corr_set_finish(s, &ctx);
    cr_assert_eq(n_got, 2);
    cr_assert_str_eq(got[1].user, "late");
    VgCorrStats st;
    vg_corr_set_stats(s, &st);
    cr_assert_eq(st.groups, 0);
    vg_corr_set_free(s);
}

Test(correlation, range_condition, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load("title: r\ncorrelation:\n  type: event_count\n  rules: [a]\n"
                        "  group-by: [user]\n  timespan: 10s\n  condition: {gt: 2, lte: 4}\n");
    const char *users[] = {"two", "three", "four", "five"};
    for (int u = 0; u < 4; u++)
        for (int i = 0; i < u + 2; i++)
            match(s, "a", (Ev){.t = i * S, .user = users[u]});
    cr_assert_eq(n_got, 0);
    /* an event past its window closes it even before the watermark does */
    match(s, "a", (Ev){.t = 20 * S, .user = "three"});
    cr_assert_eq(n_got, 1);
    cr_assert_str_eq(got[0].user, "three");
    advance(s, 40 * S);
    cr_assert_eq(n_got, 2);
    cr_assert_str_eq(got[1].user, "four");
    vg_corr_set_free(s);
}

/* ---- value_count ---- */

static const char *scan =
    "title: Scanner\nid: scan\ncorrelation:\n  type: value_count\n  rules: [not_found]\n"
    "  group-by: [client_ip]\n  timespan: 1m\n  condition: {field: path, gte: 4}\n";

Test(correlation, value_count_counts_distinct_values, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(scan);
    for (int i = 0; i < 10; i++)
        match(s, "not_found", (Ev){.t = i, .ip = "x", .path = "/same"});
    match(s, "not_found", (Ev){.t = 20, .ip = "x", .path = "/b"});
    match(s, "not_found", (Ev){.t = 30, .ip = "x", .path = "/c"});
    match(s, "not_found", (Ev){.t = 35, .ip = "y", .path = "/d"});
    match(s, "not_found", (Ev){.t = 40, .ip = "x"}); /* no path: no value */
    cr_assert_eq(n_got, 0);
    match(s, "not_found", (Ev){.t = 50, .ip = "x", .path = "/d"});
    cr_assert_eq(n_got, 1);
    cr_assert_eq(got[0].observed, 4);
    cr_assert(strstr(got[0].reason, "had 4 distinct path values in 1m"), "%s", got[0].reason);
    vg_corr_set_free(s);
}

Test(correlation, value_count_slides, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(scan);
    match(s, "not_found", (Ev){.t = 0, .ip = "x", .path = "/a"});
    match(s, "not_found", (Ev){.t = 10 * S, .ip = "x", .path = "/b"});
    match(s, "not_found", (Ev){.t = 20 * S, .ip = "x", .path = "/c"});
    /* /a left the window */
    match(s, "not_found", (Ev){.t = 60 * S + 1, .ip = "x", .path = "/d"});
    cr_assert_eq(n_got, 0);
    /* seen again: it counts again */
    match(s, "not_found", (Ev){.t = 61 * S, .ip = "x", .path = "/a"});
    cr_assert_eq(n_got, 1);
    cr_assert_eq(got[0].start, 10 * S);
    vg_corr_set_free(s);
}

/* Group-by and counted values longer than the keys worked out ahead hold (256 bytes, see
 * test-correlation-ahead.c) are grouped and counted as short ones; values that differ only
 * past that length are different values. */
Test(correlation, long_values_group_and_count, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(scan);
    char ip[400], other[400], path[5][400];
    memset(ip, 'i', sizeof ip - 1);
    ip[sizeof ip - 1] = '\0';
    memcpy(other, ip, sizeof ip);
    other[sizeof other - 2] = 'j';
    for (int i = 0; i < 5; i++) {
        memset(path[i], 'p', sizeof path[i] - 1);
        path[i][sizeof path[i] - 2] = (char)('a' + i % 3);
        path[i][sizeof path[i] - 1] = '\0';
    }
    /* three distinct paths (a, b, c, a, b) from ip, one from other */
    for (int i = 0; i < 5; i++)
        match(s, "not_found", (Ev){.t = i, .ip = ip, .path = path[i]});
    match(s, "not_found", (Ev){.t = 6, .ip = other, .path = "/x"});
    cr_assert_eq(n_got, 0);
    match(s, "not_found", (Ev){.t = 7, .ip = ip, .path = "/x"});
    cr_assert_eq(n_got, 1);
    cr_assert_eq(got[0].observed, 4);
    VgCorrStats st;
    vg_corr_set_stats(s, &st);
    cr_assert_eq(st.groups, 2);
    vg_corr_set_free(s);
}

Test(correlation, value_count_large_threshold_estimates, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load("title: enum\ncorrelation:\n  type: value_count\n  rules: [a]\n"
                        "  group-by: [token]\n  timespan: 10m\n"
                        "  condition: {field: path, gt: 500}\n");
    char path[64];
    for (int i = 0; i < 400; i++) {
        g_snprintf(path, sizeof path, "/v1/customers/%d", i);
        match(s, "a", (Ev){.t = i * 100, .token = "tok-secret-1", .path = path});
    }
    cr_assert_eq(n_got, 0);
    for (int i = 0; i < 1000 && n_got == 0; i++) {
        g_snprintf(path, sizeof path, "/v1/customers/%d", 400 + i);
        match(s, "a", (Ev){.t = 40000 + i * 100, .token = "tok-secret-1", .path = path});
    }
    cr_assert_eq(n_got, 1);
    cr_assert_gt(got[0].observed, 500);
    cr_assert_lt(got[0].observed, 620, "estimate %g", got[0].observed);
    cr_assert_str_eq(got[0].entity, "token");
    cr_assert_str_eq(got[0].token, "tok-secret-1");
    cr_assert_null(strstr(got[0].reason, "tok-secret"), "%s", got[0].reason);
    cr_assert(strstr(got[0].reason, "token_id "), "%s", got[0].reason);
    vg_corr_set_free(s);
}

Test(correlation, value_count_closed_window, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load("title: few ips\ncorrelation:\n  type: value_count\n  rules: [a]\n"
                        "  group-by: [token]\n  timespan: 1m\n"
                        "  condition: {field: client_ip, eq: 2}\n");
    char ip[32];
    for (int i = 0; i < 300; i++) {
        g_snprintf(ip, sizeof ip, "10.0.%d.%d", i / 256, i % 256);
        match(s, "a", (Ev){.t = i, .token = "many", .ip = ip});
    }
    match(s, "a", (Ev){.t = 0, .token = "two", .ip = "1.1.1.1"});
    match(s, "a", (Ev){.t = 5, .token = "two", .ip = "1.1.1.2"});
    match(s, "a", (Ev){.t = 6, .token = "two", .ip = "1.1.1.1"});
    vg_corr_set_finish(s, &ctx);
    cr_assert_eq(n_got, 1);
    cr_assert_str_eq(got[0].token, "two");
    cr_assert_eq(got[0].observed, 2);
    vg_corr_set_free(s);
}

/* ---- value_sum / value_avg ---- */

Test(correlation, value_sum_and_avg, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load("title: exfil\nid: sum\ncorrelation:\n  type: value_sum\n  rules: [a]\n"
                        "  group-by: [token]\n  timespan: 1h\n"
                        "  condition: {field: bytes_out, gt: 1000000}\n"
                        "---\n"
                        "title: big\nid: avg\ncorrelation:\n  type: value_avg\n  rules: [b]\n"
                        "  group-by: [client_ip]\n  timespan: 1h\n"
                        "  condition: {field: bytes_out, gte: 5000}\n");
    for (int i = 0; i < 9; i++)
        match(s, "a", (Ev){.t = i * 60 * S, .token = "t1", .bytes = 100000});
    cr_assert_eq(n_got, 0);
    match(s, "a", (Ev){.t = 10 * 60 * S, .token = "t1", .bytes = 100001});
    cr_assert_eq(n_got, 1);
    cr_assert_str_eq(got[0].rule, "sum");
    cr_assert_float_eq(got[0].observed, 1000001, 0.5);

    match(s, "b", (Ev){.t = 0, .ip = "x", .bytes = 4000});
    match(s, "b", (Ev){.t = 1, .ip = "x", .bytes = 5000});
    cr_assert_eq(n_got, 1);
    match(s, "b", (Ev){.t = 2, .ip = "x", .bytes = 6001});
    cr_assert_eq(n_got, 2);
    cr_assert_str_eq(got[1].rule, "avg");
    cr_assert_float_eq(got[1].observed, 5000.333, 0.01);
    vg_corr_set_free(s);
}

/* ---- temporal ---- */

Test(correlation, temporal_any_order, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load("title: recon\ncorrelation:\n  type: temporal\n  rules: [a, b, c]\n"
                        "  group-by: [user]\n  timespan: 5m\n");
    match(s, "c", (Ev){.t = 0, .user = "u"});
    match(s, "a", (Ev){.t = 60 * S, .user = "u"});
    match(s, "a", (Ev){.t = 60 * S, .user = "v"});
    cr_assert_eq(n_got, 0);
    match(s, "b", (Ev){.t = 5 * 60 * S, .user = "u"});
    cr_assert_eq(n_got, 1);
    cr_assert_eq(got[0].observed, 3);
    cr_assert(strstr(got[0].reason, "matched a, b, c (3 of 3 rules)"), "%s", got[0].reason);
    /* too far apart */
    match(s, "b", (Ev){.t = 5 * 60 * S + 1, .user = "v"});
    match(s, "c", (Ev){.t = 6 * 60 * S + 1, .user = "v"});
    cr_assert_eq(n_got, 1);
    vg_corr_set_free(s);
}

Test(correlation, temporal_with_count_condition, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load("title: two of three\ncorrelation:\n  type: temporal\n"
                        "  rules: [a, b, c]\n  group-by: [user]\n  timespan: 5m\n"
                        "  condition: {gte: 2}\n");
    match(s, "a", (Ev){.t = 0, .user = "u"});
    match(s, "a", (Ev){.t = 1, .user = "u"});
    cr_assert_eq(n_got, 0);
    match(s, "c", (Ev){.t = 2, .user = "u"});
    cr_assert_eq(n_got, 1);
    cr_assert_eq(got[0].observed, 2);
    vg_corr_set_free(s);
}

static const char *ordered = "title: order\nid: ord\ncorrelation:\n  type: temporal_ordered\n"
                             "  rules: [a, b, c]\n  group-by: [user]\n  timespan: 1m\n";

Test(correlation, temporal_ordered_in_order, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(ordered);
    match(s, "a", (Ev){.t = 0, .user = "u"});
    match(s, "b", (Ev){.t = 10 * S, .user = "u"});
    match(s, "c", (Ev){.t = 20 * S, .user = "u"});
    cr_assert_eq(n_got, 1);
    cr_assert(strstr(got[0].reason, "matched a then b then c"), "%s", got[0].reason);
    cr_assert_eq(got[0].start, 0);
    cr_assert_eq(got[0].end, 20 * S);
    vg_corr_set_free(s);
}

Test(correlation, temporal_ordered_order_violations, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(ordered);
    /* c before b */
    match(s, "a", (Ev){.t = 0, .user = "u1"});
    match(s, "c", (Ev){.t = 1, .user = "u1"});
    match(s, "b", (Ev){.t = 2, .user = "u1"});
    /* all reversed */
    match(s, "c", (Ev){.t = 0, .user = "u2"});
    match(s, "b", (Ev){.t = 1, .user = "u2"});
    match(s, "a", (Ev){.t = 2, .user = "u2"});
    /* in order but over the timespan */
    match(s, "a", (Ev){.t = 0, .user = "u3"});
    match(s, "b", (Ev){.t = 30 * S, .user = "u3"});
    match(s, "c", (Ev){.t = 60 * S + 1, .user = "u3"});
    cr_assert_eq(n_got, 0);
    /* a later a restarts the chain: a(2) is followed by... nothing of b yet */
    match(s, "c", (Ev){.t = 3, .user = "u2"});
    cr_assert_eq(n_got, 0);
    /* u1: a then c then b then c: a, b, c in order */
    match(s, "c", (Ev){.t = 4, .user = "u1"});
    cr_assert_eq(n_got, 1);
    /* u3: a new a makes the chain fit: a(61s) ... needs b and c after it */
    match(s, "a", (Ev){.t = 61 * S, .user = "u3"});
    match(s, "b", (Ev){.t = 62 * S, .user = "u3"});
    match(s, "c", (Ev){.t = 63 * S, .user = "u3"});
    cr_assert_eq(n_got, 2);
    cr_assert_eq(got[1].start, 61 * S);
    vg_corr_set_free(s);
}

/* ---- aliases ---- */

Test(correlation, aliases_group_across_fields, .init = setup, .fini = teardown)
{
    VgCorrSet *s =
        load("title: error then connection\ncorrelation:\n  type: temporal\n  rules: [a, b]\n"
             "  group-by: [internal_ip]\n  timespan: 10s\n  aliases:\n    internal_ip:\n"
             "      a: client_ip\n      b: destination.ip\n");
    match(s, "a", (Ev){.t = 0, .ip = "10.0.0.5"});
    match(s, "b", (Ev){.t = 1, .ip = "10.0.0.5", .extra = "destination.ip=10.0.0.6"});
    cr_assert_eq(n_got, 0);
    match(s, "b", (Ev){.t = 2, .ip = "10.0.0.9", .extra = "destination.ip=10.0.0.5"});
    cr_assert_eq(n_got, 1);
    cr_assert_str_eq(got[0].entity, "group"); /* two different fields: not a client_ip */
    cr_assert(strstr(got[0].reason, "internal_ip 10.0.0.5 matched a, b"), "%s", got[0].reason);
    vg_corr_set_free(s);
}

Test(correlation, aliases_to_one_canonical_field_keep_the_entity, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load("title: t\ncorrelation:\n  type: event_count\n  rules: [a, b]\n"
                        "  group-by: [ip]\n  timespan: 10s\n  condition: {gte: 2}\n"
                        "  aliases:\n    ip: {a: client_ip, b: c-ip}\n");
    match(s, "a", (Ev){.t = 0, .ip = "10.0.0.5"});
    match(s, "b", (Ev){.t = 1, .ip = "10.0.0.5"});
    cr_assert_eq(n_got, 1);
    cr_assert_str_eq(got[0].entity, "client_ip");
    cr_assert_str_eq(got[0].ip, "10.0.0.5");
    vg_corr_set_free(s);
}

Test(correlation, group_by_two_fields, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load("title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n"
                        "  group-by: [client_ip, user]\n  timespan: 10s\n"
                        "  condition: {gte: 2}\n");
    match(s, "a", (Ev){.t = 0, .ip = "1.1.1.1", .user = "x"});
    match(s, "a", (Ev){.t = 1, .ip = "1.1.1.1", .user = "y"});
    match(s, "a", (Ev){.t = 2, .ip = "1.1.1.2", .user = "x"});
    cr_assert_eq(n_got, 0);
    match(s, "a", (Ev){.t = 3, .ip = "1.1.1.1", .user = "y"});
    cr_assert_eq(n_got, 1);
    cr_assert_str_eq(got[0].entity, "client_ip_user");
    cr_assert_str_eq(got[0].ip, "1.1.1.1");
    cr_assert_str_eq(got[0].user, "y");
    vg_corr_set_free(s);
}

/* ---- chains ---- */

static const char *chain =
    "title: Failed logins followed by success\nid: chain-outer\nlevel: critical\n"
    "correlation:\n  type: temporal_ordered\n  rules: [multiple_failed_login, ok_login]\n"
    "  group-by: [user]\n  timespan: 10m\n"
    "---\n"
    "title: Multiple failed logons\nid: chain-inner\nname: multiple_failed_login\n"
    "correlation:\n  type: event_count\n  rules: [failed_login]\n  group-by: [user]\n"
    "  timespan: 10m\n  condition: {gte: 3}\n";

Test(correlation, chained_correlations, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(chain);
    cr_assert(vg_corr_set_suppresses(s, det("failed_login")));
    cr_assert(vg_corr_set_suppresses(s, det("ok_login")));
    /* success first does not count */
    match(s, "ok_login", (Ev){.t = 0, .user = "alice"});
    for (int i = 1; i <= 3; i++)
        match(s, "failed_login", (Ev){.t = i * S, .user = "alice"});
    cr_assert_eq(n_got, 0, "the inner correlation is quiet (no generate)");
    match(s, "failed_login", (Ev){.t = 4 * S, .user = "bob"});
    match(s, "ok_login", (Ev){.t = 5 * S, .user = "bob"});
    cr_assert_eq(n_got, 0);
    match(s, "ok_login", (Ev){.t = 5 * S, .user = "alice"});
    cr_assert_eq(n_got, 1);
    cr_assert_str_eq(got[0].rule, "chain-outer");
    cr_assert_str_eq(got[0].user, "alice");
    cr_assert_eq(got[0].severity, 4);
    cr_assert_str_eq(got[0].model, "sigma_correlation:temporal_ordered");
    VgCorrStats st;
    vg_corr_set_stats(s, &st);
    cr_assert_eq(st.fired, 2);
    cr_assert_eq(st.alerts, 1);
    vg_corr_set_free(s);
}

/* Detectors sharing one compiled rule set run clones of its correlations: the same wiring,
 * state of their own, and a clone outlives its siblings (not its prototype). */
Test(correlation, clones_share_rules_not_state, .init = setup, .fini = teardown)
{
    VgCorrSet *proto = load(chain);
    VgCorrSet *a = vg_corr_set_clone(proto), *b = vg_corr_set_clone(proto);
    cr_assert_eq(vg_corr_set_rule(a, 0), vg_corr_set_rule(proto, 0), "the rules are shared");
    cr_assert(vg_corr_set_suppresses(a, det("failed_login")));
    for (int i = 1; i <= 3; i++)
        match(a, "failed_login", (Ev){.t = i * S, .user = "alice"});
    match(b, "ok_login", (Ev){.t = 4 * S, .user = "alice"});
    cr_assert_eq(n_got, 0, "a's chain completes in a only: b never saw alice fail");
    VgCorrStats st;
    vg_corr_set_stats(proto, &st);
    cr_assert_eq(st.groups, 0, "the prototype is never fed");
    vg_corr_set_free(b);
    match(a, "ok_login", (Ev){.t = 5 * S, .user = "alice"});
    cr_assert_eq(n_got, 1);
    cr_assert_str_eq(got[0].rule, "chain-outer");
    vg_corr_set_free(a);
    vg_corr_set_free(proto);
}

Test(correlation, chained_closed_child_feeds_parent_at_close, .init = setup, .fini = teardown)
{
    /* the child judges "fewer than 2 in 1m" at window close; the parent counts such
     * quiet windows per user */
    VgCorrSet *s = load("title: outer\nid: outer\ngenerate: true\ncorrelation:\n"
                        "  type: event_count\n"
                        "  rules: [inner]\n  group-by: [user]\n  timespan: 1h\n"
                        "  condition: {gte: 2}\n---\n"
                        "title: inner\nname: inner\ncorrelation:\n"
                        "  type: event_count\n  rules: [a]\n  group-by: [user]\n"
                        "  timespan: 1m\n  condition: {lt: 2}\n");
    match(s, "a", (Ev){.t = 0, .user = "u"});
    advance(s, 61 * S);
    cr_assert_eq(n_got, 1); /* outer says generate: inner raises its own alerts too */
    cr_assert_str_eq(got[0].rule, "inner");
    match(s, "a", (Ev){.t = 120 * S, .user = "u"});
    advance(s, 181 * S);
    cr_assert_eq(n_got, 3);
    cr_assert_str_eq(got[1].rule, "inner");
    cr_assert_str_eq(got[2].rule, "outer");
    cr_assert_str_eq(got[2].user, "u");
    vg_corr_set_free(s);
}

Test(correlation, generate_keeps_referenced_rules_alerting, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load("title: t\ngenerate: true\ncorrelation:\n  type: event_count\n"
                        "  rules: [a]\n  group-by: [user]\n  timespan: 1m\n"
                        "  condition: {gte: 2}\n---\n"
                        "title: u\ncorrelation:\n  type: event_count\n  rules: [b]\n"
                        "  group-by: [user]\n  timespan: 1m\n  condition: {gte: 2}\n");
    cr_assert_not(vg_corr_set_suppresses(s, det("a")));
    cr_assert(vg_corr_set_suppresses(s, det("b")));
    cr_assert_not(vg_corr_set_suppresses(s, det("c")));
    vg_corr_set_free(s);
}

/* ---- bounded state ---- */

Test(correlation, flood_of_groups_evicts_oldest, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load_lim(brute, 100);
    char ip[32];
    for (int i = 0; i < 10000; i++) {
        g_snprintf(ip, sizeof ip, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
        match(s, "failed_login", (Ev){.t = i, .ip = ip});
        /* the attacker we care about keeps its group warm */
        if (i % 10 == 0)
            match(s, "failed_login", (Ev){.t = i, .ip = "203.0.113.9"});
        VgCorrStats st;
        vg_corr_set_stats(s, &st);
        cr_assert_leq(st.groups, 100);
    }
    VgCorrStats st;
    vg_corr_set_stats(s, &st);
    cr_assert_eq(st.groups, 100);
    cr_assert_geq(st.evicted, 9900);
    cr_assert_geq(n_got, 1);
    cr_assert_str_eq(got[0].ip, "203.0.113.9");
    vg_corr_set_free(s);
}

/* The group index under churn: every live group is found, a released one is not, short
 * keys (in the group) and long ones (allocated) alike, through index growth and removals
 * inside probe runs. */
Test(correlation, group_index_finds_every_live_group, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(brute);
    GHashTable *live = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GRand *r = g_rand_new_with_seed(7);
    char key[96];
    for (int step = 0; step < 200000; step++) {
        int k = g_rand_int_range(r, 0, 3000);
        int len = g_snprintf(key, sizeof key,
                             k % 7 ? "10.0.%d.%d" : "%d-%d-a-value-longer-than-a-group-holds",
                             k >> 8, k & 255);
        bool created;
        CorrGroup *g = vg_corr_group_get(s, 0, key, (uint32_t)len, step, &created);
        CorrGroup *was = g_hash_table_lookup(live, key);
        cr_assert_eq(created, was == NULL, "step %d key %s", step, key);
        cr_assert(!was || g == was);
        cr_assert(g->key_len == (uint32_t)len && !memcmp(g->key, key, (size_t)len + 1));
        if (g_rand_int_range(r, 0, 3) == 0) {
            vg_corr_group_release(s, g);
            g_hash_table_remove(live, key);
        } else if (!was) {
            g_hash_table_insert(live, g_strdup(key), g);
        }
    }
    cr_assert_eq(s->n_groups, (int64_t)g_hash_table_size(live));
    cr_assert_eq(s->index_n, g_hash_table_size(live));
    g_rand_free(r);
    g_hash_table_destroy(live);
    vg_corr_set_free(s);
}

Test(correlation, watermark_expires_groups, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(brute);
    match(s, "failed_login", (Ev){.t = 0, .ip = "a"});
    match(s, "failed_login", (Ev){.t = 5 * S, .ip = "b"});
    VgCorrStats st;
    vg_corr_set_stats(s, &st);
    cr_assert_eq(st.groups, 2);
    advance(s, 10 * S + 1);
    vg_corr_set_stats(s, &st);
    cr_assert_eq(st.groups, 1);
    advance(s, 15 * S + 1);
    vg_corr_set_stats(s, &st);
    cr_assert_eq(st.groups, 0);
    cr_assert_eq(st.expired, 2);
    vg_corr_set_free(s);
}

/* A sliding group used again stays where it is in its rule's list (the move is lazy):
 * expiry and eviction must still treat it as the most recently used. */
Test(correlation, group_used_again_outlives_older_ones, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(brute);
    match(s, "failed_login", (Ev){.t = 0, .ip = "a"});
    match(s, "failed_login", (Ev){.t = 1 * S, .ip = "b"});
    match(s, "failed_login", (Ev){.t = 2 * S, .ip = "c"});
    match(s, "failed_login", (Ev){.t = 9 * S, .ip = "a"}); /* a is at the head still */
    advance(s, 12 * S + 1); /* b and c are over (last + 10s), a is not */
    VgCorrStats st;
    vg_corr_set_stats(s, &st);
    cr_assert_eq(st.groups, 1);
    cr_assert_eq(st.expired, 2);
    cr_assert(group_exists(s, "a"));
    advance(s, 19 * S + 1);
    vg_corr_set_stats(s, &st);
    cr_assert_eq(st.groups, 0);
    vg_corr_set_free(s);
}

Test(correlation, eviction_takes_least_recently_used, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load_lim(brute, 3);
    match(s, "failed_login", (Ev){.t = 0, .ip = "a"});
    match(s, "failed_login", (Ev){.t = 1, .ip = "b"});
    match(s, "failed_login", (Ev){.t = 2, .ip = "c"});
    match(s, "failed_login", (Ev){.t = 3, .ip = "a"});
    match(s, "failed_login", (Ev){.t = 4, .ip = "b"});
    match(s, "failed_login", (Ev){.t = 5, .ip = "d"}); /* c was used longest ago */
    cr_assert(group_exists(s, "a") && group_exists(s, "b") && group_exists(s, "d"));
    cr_assert_not(group_exists(s, "c"));
    match(s, "failed_login", (Ev){.t = 6, .ip = "e"}); /* then a */
    cr_assert_not(group_exists(s, "a"));
    cr_assert(group_exists(s, "b") && group_exists(s, "d") && group_exists(s, "e"));
    VgCorrStats st;
    vg_corr_set_stats(s, &st);
    cr_assert_eq(st.evicted, 2);
    vg_corr_set_free(s);
}

/* Expiry walks a rule's list only when the watermark passes the end of the head's window
 * as the last walk found it; a new head, or a head used again, may end earlier than that
 * (a late event made it), so both make the next advance walk. */
Test(correlation, expiry_walks_again_after_the_head_is_evicted, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load_lim(brute, 2);
    match(s, "failed_login", (Ev){.t = 100 * S, .ip = "a"});
    advance(s, 101 * S);                                     /* a is live until 110 s */
    match(s, "failed_login", (Ev){.t = 95 * S, .ip = "b"});  /* late: over at 105 s */
    match(s, "failed_login", (Ev){.t = 101 * S, .ip = "c"}); /* evicts a: b is the head */
    cr_assert_not(group_exists(s, "a"));
    advance(s, 106 * S);
    cr_assert_not(group_exists(s, "b"), "b, the new head, is over");
    cr_assert(group_exists(s, "c"));
    vg_corr_set_free(s);
}

Test(correlation, expiry_walks_again_after_the_head_is_used, .init = setup, .fini = teardown)
{
    VgCorrSet *s = load(brute);
    match(s, "failed_login", (Ev){.t = 100 * S, .ip = "a"});
    advance(s, 101 * S);
    match(s, "failed_login", (Ev){.t = 95 * S, .ip = "b"});
    match(s, "failed_login", (Ev){.t = 102 * S, .ip = "a"}); /* the head moves on: b leads */
    advance(s, 106 * S);
    cr_assert_not(group_exists(s, "b"), "b is over");
    cr_assert(group_exists(s, "a"));
    vg_corr_set_free(s);
}

Test(correlation, expiry_walks_again_after_a_group_joins_an_empty_list, .init = setup,
     .fini = teardown)
{
    VgCorrSet *s = load(brute);
    advance(s, 50 * S); /* nothing to walk until a group joins */
    bool created;       /* (as a restored checkpoint or a reload adds it: not through feed) */
    cr_assert(vg_corr_group_get(s, 0, "a", 2, 60 * S, &created) && created);
    advance(s, 71 * S);
    cr_assert_not(group_exists(s, "a"), "a is over at 70 s");
    vg_corr_set_free(s);
}

Test(correlation, reload_keeps_order_of_use, .init = setup, .fini = teardown)
{
    VgCorrSet *old = used_again(brute);
    VgCorrSet *s = load_lim(brute, 3);
    cr_assert_eq(vg_corr_set_adopt(s, old), 1);
    vg_corr_set_free(old);
    match(s, "failed_login", (Ev){.t = 4, .ip = "d"});
    cr_assert(group_exists(s, "a") && group_exists(s, "c") && group_exists(s, "d"));
    cr_assert_not(group_exists(s, "b"));
    vg_corr_set_free(s);
}

Test(correlation, reload_keeps_state_of_unchanged_rules, .init = setup, .fini = teardown)
{
    VgCorrSet *old = load(brute);
    match(old, "failed_login", (Ev){.t = 0, .ip = "x"});
    match(old, "failed_login", (Ev){.t = 1, .ip = "x"});
    VgCorrSet *s = load(brute);
    cr_assert_eq(vg_corr_set_adopt(s, old), 1);
    vg_corr_set_free(old);
    match(s, "failed_login", (Ev){.t = 2, .ip = "x"});
    cr_assert_eq(n_got, 1);
    cr_assert_eq(got[0].observed, 3);

    /* a changed rule starts afresh */
    VgCorrSet *old2 = load(brute);
    match(old2, "failed_login", (Ev){.t = 0, .ip = "x"});
    match(old2, "failed_login", (Ev){.t = 1, .ip = "x"});
    char *changed = g_strdup(brute);
    strstr(changed, "gt: 2")[4] = '3';
    VgCorrSet *s2 = load(changed);
    g_free(changed);
    cr_assert_eq(vg_corr_set_adopt(s2, old2), 0);
    vg_corr_set_free(old2);
    vg_corr_set_free(s2);
    vg_corr_set_free(s);
}

Test(correlation, deterministic, .init = setup, .fini = teardown)
{
    char first[64][512];
    int n_first = 0;
    for (int run = 0; run < 2; run++) {
        n_got = 0;
        ctx.watermark = INT64_MIN;
        VgCorrSet *s = load(scan);
        char path[32], ip[32];
        for (int i = 0; i < 2000; i++) {
            g_snprintf(ip, sizeof ip, "10.0.0.%d", i % 7);
            g_snprintf(path, sizeof path, "/p%d", (i * 31) % 13);
            match(s, "not_found", (Ev){.t = i * 97, .ip = ip, .path = path});
        }
        vg_corr_set_finish(s, &ctx);
        vg_corr_set_free(s);
        cr_assert_lt(n_got, 64);
        if (run == 0) {
            n_first = n_got;
            for (int i = 0; i < n_got; i++)
                g_strlcpy(first[i], got[i].reason, sizeof first[i]);
        } else {
            cr_assert_eq(n_got, n_first);
            for (int i = 0; i < n_got; i++)
                cr_assert_str_eq(got[i].reason, first[i]);
        }
    }
    cr_assert_gt(n_first, 1);
}

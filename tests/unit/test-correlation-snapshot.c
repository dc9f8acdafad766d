/* test-correlation-snapshot.c — correlation state through a snapshot: a run cut in two by
 * snapshot and restore raises exactly the alerts of a run that never stopped, for every
 * kind of window state; corrupt, truncated and foreign snapshots are refused without a
 * crash; a changed rule's state is left out. */
#include "test-correlation-util.h"

/* one rule per kind of window state (correlation-set.h: CorrStateKind) */
static const char *all_kinds =
    "title: times\nid: times\ncorrelation:\n  type: event_count\n  rules: [failed_login]\n"
    "  group-by: [client_ip]\n  timespan: 10s\n  condition: {gt: 2}\n"
    "---\n"
    "title: recent\nid: recent\ncorrelation:\n  type: value_count\n  rules: [not_found]\n"
    "  group-by: [client_ip]\n  timespan: 1m\n  condition: {field: path, gte: 4}\n"
    "---\n"
    "title: slide\nid: slide\ncorrelation:\n  type: value_count\n  rules: [a]\n"
    "  group-by: [token]\n  timespan: 1h\n  condition: {field: path, gt: 260}\n"
    "---\n"
    "title: buckets\nid: buckets\ncorrelation:\n  type: value_sum\n  rules: [download]\n"
    "  group-by: [token]\n  timespan: 1h\n  condition: {field: bytes_out, gt: 1000000}\n"
    "---\n"
    "title: last\nid: last\ncorrelation:\n  type: temporal\n  rules: [b, c]\n"
    "  group-by: [user]\n  timespan: 5m\n"
    "---\n"
    "title: distinct\nid: distinct\ncorrelation:\n  type: value_count\n  rules: [ok_login]\n"
    "  group-by: [user]\n  timespan: 1m\n  condition: {field: client_ip, eq: 2}\n"
    "---\n"
    "title: totals\nid: totals\ncorrelation:\n  type: event_count\n  rules: [ok_login]\n"
    "  group-by: [client_ip]\n  timespan: 20s\n  condition: {lt: 3}\n";

static const char *brute3 = "title: b\nid: b\ncorrelation:\n  type: event_count\n"
                            "  rules: [failed_login]\n  group-by: [client_ip]\n  timespan: 10s\n"
                            "  condition: {gt: 2}\n";

/* A deterministic stream touching every rule; event i at i * 250 ms. */
static void feed_stream(VgCorrSet *s, int from, int to)
{
    char ip[32], path[32], user[16], tok[16];
    GRand *r = g_rand_new_with_seed(42);
    for (int i = 0; i < to; i++) {
        int kind = g_rand_int_range(r, 0, 7);
        int who = g_rand_int_range(r, 0, 5);
        int what = g_rand_int_range(r, 0, 2000);
        if (i < from)
            continue; /* same draws, so the stream is the same whatever the cut */
        int64_t t = (int64_t)i * 250;
        g_snprintf(ip, sizeof ip, "10.0.0.%d", who);
        g_snprintf(path, sizeof path, "/p/%d", what % (kind == 3 ? 2000 : 6));
        g_snprintf(user, sizeof user, "u%d", who);
        g_snprintf(tok, sizeof tok, "tok%d", who);
        switch (kind) {
        case 0:
            match(s, "failed_login", (Ev){.t = t, .ip = ip});
            break;
        case 1:
            match(s, "not_found", (Ev){.t = t, .ip = ip, .path = path});
            break;
        case 2:
            match(s, "download", (Ev){.t = t, .token = tok, .bytes = what * 100});
            break;
        case 3:
            match(s, "a", (Ev){.t = t, .token = tok, .path = path});
            break;
        case 4:
            match(s, "b", (Ev){.t = t, .user = user});
            break;
        case 5:
            match(s, "c", (Ev){.t = t, .user = user});
            break;
        default:
            g_snprintf(ip, sizeof ip, "10.0.1.%d", what % 3);
            match(s, "ok_login", (Ev){.t = t, .user = user, .ip = ip});
            break;
        }
        if (i % 40 == 0)
            advance(s, t);
    }
    g_rand_free(r);
}

static bool same_got(const Got *x, const Got *y)
{
    return !strcmp(x->rule, y->rule) && x->start == y->start && x->end == y->end &&
           x->observed == y->observed && !strcmp(x->ip, y->ip) && !strcmp(x->user, y->user) &&
           !strcmp(x->token, y->token);
}

Test(correlation_snapshot, cut_run_equals_whole_run, .init = setup, .fini = teardown)
{
    enum { N = 12000 };
    VgCorrSet *whole = load(all_kinds);
    feed_stream(whole, 0, N);
    vg_corr_set_finish(whole, &ctx);
    int n_whole = n_got;
    cr_assert_gt(n_whole, 10);
    static Got ref[4096];
    memcpy(ref, got, sizeof(Got) * (size_t)n_whole);
    char seen[8] = "";
    for (int i = 0; i < n_whole; i++)
        if (!strchr(seen, ref[i].rule[0]) && strlen(seen) < 7)
            seen[strlen(seen)] = ref[i].rule[0];
    cr_assert_geq(strlen(seen), 6, "rules that fired: %s", seen);
    vg_corr_set_free(whole);

    for (int cut = 1000; cut < N; cut += 3700) {
        n_got = 0;
        ctx.watermark = INT64_MIN;
        VgCorrSet *a = load(all_kinds);
        feed_stream(a, 0, cut);
        GByteArray *snap = g_byte_array_new();
        cr_assert_eq(vg_corr_set_snapshot(a, snap), VG_OK);
        vg_corr_set_free(a);
        VgCorrSet *b = load(all_kinds);
        GError *err = NULL;
        int dropped = -1;
        cr_assert_eq(vg_corr_set_restore(b, snap->data, snap->len, &dropped, &err), VG_OK, "%s",
                     err ? err->message : "");
        cr_assert_eq(dropped, 0);
        /* the restored set snapshots to the same bytes */
        GByteArray *again = g_byte_array_new();
        vg_corr_set_snapshot(b, again);
        cr_assert_eq(again->len, snap->len);
        cr_assert(!memcmp(again->data, snap->data, snap->len));
        feed_stream(b, cut, N);
        vg_corr_set_finish(b, &ctx);
        cr_assert_eq(n_got, n_whole, "cut at %d: %d alerts, whole run %d", cut, n_got, n_whole);
        for (int i = 0; i < n_got; i++)
            cr_assert(same_got(&got[i], &ref[i]), "cut at %d: alert %d differs (%s)", cut, i,
                      got[i].rule);
        vg_corr_set_free(b);
        g_byte_array_free(snap, TRUE);
        g_byte_array_free(again, TRUE);
    }
}

static GByteArray *some_snapshot(void)
{
    VgCorrSet *a = load(all_kinds);
    feed_stream(a, 0, 3000);
    GByteArray *snap = g_byte_array_new();
    vg_corr_set_snapshot(a, snap);
    vg_corr_set_free(a);
    return snap;
}

/* The lazy moves of groups used again (correlation-set.c) are settled in the snapshot: a, b,
 * c, then a again; after the restore b is the least recently used. */
Test(correlation_snapshot, order_of_use_is_kept, .init = setup, .fini = teardown)
{
    VgCorrSet *a = used_again(brute3);
    GByteArray *snap = g_byte_array_new();
    cr_assert_eq(vg_corr_set_snapshot(a, snap), VG_OK);
    vg_corr_set_free(a);
    VgCorrSet *b = load_lim(brute3, 3);
    GError *err = NULL;
    cr_assert_eq(vg_corr_set_restore(b, snap->data, snap->len, NULL, &err), VG_OK);
    match(b, "failed_login", (Ev){.t = 4, .ip = "d"});
    cr_assert(group_exists(b, "a") && group_exists(b, "c") && group_exists(b, "d"));
    cr_assert_not(group_exists(b, "b"));
    vg_corr_set_free(b);
    g_byte_array_free(snap, TRUE);
}

Test(correlation_snapshot, truncated_and_corrupt_are_refused, .init = setup, .fini = teardown)
{
    GByteArray *snap = some_snapshot();
    VgCorrSet *b = load(all_kinds);
    for (size_t len = 0; len < snap->len; len += 1 + len / 50) {
        GError *err = NULL;
        cr_assert_eq(vg_corr_set_restore(b, snap->data, len, NULL, &err), VG_EINVAL, "len %zu",
                     len);
        cr_assert(err && strstr(err->message, "correlation snapshot"));
        g_error_free(err);
    }
    /* flipped bytes: refused or accepted, never a crash (ASan build), and the set stays
     * usable either way */
    GRand *r = g_rand_new_with_seed(7);
    for (int k = 0; k < 300; k++) {
        GByteArray *c = g_byte_array_new();
        g_byte_array_append(c, snap->data, snap->len);
        for (int j = 0; j < 4; j++)
            c->data[g_rand_int_range(r, 0, (gint32)c->len)] ^= (uint8_t)g_rand_int_range(r, 1, 256);
        VgCorrSet *x = load(all_kinds);
        n_got = 0;
        GError *err = NULL;
        vg_corr_set_restore(x, c->data, c->len, NULL, &err);
        g_clear_error(&err);
        feed_stream(x, 3000, 3400);
        vg_corr_set_finish(x, &ctx);
        vg_corr_set_free(x);
        g_byte_array_free(c, TRUE);
    }
    g_rand_free(r);
    GError *err = NULL;
    cr_assert_eq(vg_corr_set_restore(b, "nonsense", 8, NULL, &err), VG_EINVAL);
    cr_assert(strstr(err->message, "another version"), "%s", err->message);
    g_error_free(err);
    vg_corr_set_free(b);
    g_byte_array_free(snap, TRUE);
}

Test(correlation_snapshot, changed_rule_state_is_left_out, .init = setup, .fini = teardown)
{
    GByteArray *snap = some_snapshot();
    /* same ids, one rule's threshold changed: its document digest differs */
    GString *y = g_string_new(all_kinds);
    g_string_replace(y, "condition: {gt: 2}", "condition: {gt: 3}", 1);
    VgCorrSet *b = load(y->str);
    int dropped = 0;
    GError *err = NULL;
    cr_assert_eq(vg_corr_set_restore(b, snap->data, snap->len, &dropped, &err), VG_OK);
    cr_assert_eq(dropped, 1);
    VgCorrStats st;
    vg_corr_set_stats(b, &st);
    cr_assert_gt(st.groups, 0);
    /* a set with events is not fresh */
    err = NULL;
    cr_assert_eq(vg_corr_set_restore(b, snap->data, snap->len, NULL, &err), VG_EINVAL);
    g_error_free(err);
    vg_corr_set_free(b);
    g_string_free(y, TRUE);
    g_byte_array_free(snap, TRUE);
}

/* test-decode-json.c — the vigil preset, user mappings, dotted look-ups, credentials,
 * `auto`, and every reason a JSON line is refused. */
#include "decode-test-util.h"

TestSuite(decode_json, .init = t_setup, .fini = t_teardown);

Test(decode_json, vigil_every_field)
{
    t_open("vigil", NULL);
    VgEvent ev;
    cr_assert_eq(t_decode(t_data_line("vigil.jsonl", 1), &ev), VG_BAD_NONE);
    T_INT(&ev, VG_F_TIME, 1772445600123LL);
    T_STR(&ev, VG_F_CLIENT_IP, "203.0.113.7");
    T_STR(&ev, VG_F_METHOD, "GET");
    T_STR(&ev, VG_F_SCHEME, "https");
    T_STR(&ev, VG_F_HOST, "api.example.com");
    T_STR(&ev, VG_F_PATH, "/v1/orders/12345");
    T_STR(&ev, VG_F_ENDPOINT, "GET /v1/orders/{id}");
    T_STR(&ev, VG_F_QUERY, "limit=50");
    T_INT(&ev, VG_F_STATUS, 200);
    T_INT(&ev, VG_F_BYTES_OUT, 5120);
    T_INT(&ev, VG_F_BYTES_IN, 310);
    T_LAT(&ev, 12.5);
    T_STR(&ev, VG_F_USER_AGENT, "curl/8.5.0");
    T_STR(&ev, VG_F_REFERER, "https://app.example.com/");
    T_STR(&ev, VG_F_TOKEN, "tok_live_9f1c2ab0");
    T_STR(&ev, VG_F_USER, "alice");
    T_STR(&ev, VG_F_REQUEST_ID, "r-1");
    cr_assert_eq(ev.decoder, t_dec);
    cr_assert_eq(ev.raw.len, strlen(t_data_line("vigil.jsonl", 1)));
}

Test(decode_json, vigil_types_and_query_split)
{
    t_open("vigil", NULL);
    VgEvent ev;
    cr_assert_eq(t_decode(t_data_line("vigil.jsonl", 2), &ev), VG_BAD_NONE);
    T_INT(&ev, VG_F_TIME, 1772445601000LL); /* epoch seconds */
    T_INT(&ev, VG_F_STATUS, 201);           /* "201" */
    T_LAT(&ev, 3.25);                       /* "3.25" */
    T_STR(&ev, VG_F_PATH, "/v1/customers/4711/orders");
    T_STR(&ev, VG_F_QUERY, "limit=10");
    T_STR(&ev, VG_F_ENDPOINT, "POST /v1/customers/{id}/orders");
    T_STR(&ev, VG_F_TOKEN, "user-77"); /* Bearer JWT -> sub */
    T_ABSENT(&ev, VG_F_SCHEME);
    T_ABSENT(&ev, VG_F_BYTES_OUT);
}

Test(decode_json, zero_copy_and_escapes)
{
    t_open("vigil", NULL);
    VgEvent ev;
    const char *line =
        "{\"time\":1772445600000,\"user_agent\":\"plain\",\"referer\":\"a\\\"b\\u00e9\","
        "\"status\":200,\"method\":404,\"endpoint\":\"GET /x/{id}\"}";
    cr_assert_eq(t_decode(line, &ev), VG_BAD_NONE);
    /* unescaped strings are views into the line itself */
    cr_assert(ev.user_agent.p > ev.raw.p && ev.user_agent.p < ev.raw.p + ev.raw.len);
    T_STR(&ev, VG_F_REFERER, "a\"b\xc3\xa9");
    T_STR(&ev, VG_F_METHOD, "404");           /* a number for a string field: its text */
    T_STR(&ev, VG_F_ENDPOINT, "GET /x/{id}"); /* a given endpoint wins */
}

Test(decode_json, aliases_and_alternative_time)
{
    t_open("vigil", NULL);
    VgEvent ev;
    cr_assert_eq(t_decode("{\"@timestamp\":\"2026-03-02T10:00:00Z\",\"c-ip\":\"1.2.3.4\","
                          "\"cs-method\":\"GET\",\"cs-uri-stem\":\"/a/1\",\"sc-status\":\"500\"}",
                          &ev),
                 VG_BAD_NONE);
    T_INT(&ev, VG_F_TIME, 1772445600000LL);
    T_STR(&ev, VG_F_CLIENT_IP, "1.2.3.4");
    T_STR(&ev, VG_F_ENDPOINT, "GET /a/{id}");
    T_INT(&ev, VG_F_STATUS, 500);
}

Test(decode_json, blanks_are_absent)
{
    t_open("vigil", NULL);
    VgEvent ev;
    cr_assert_eq(t_decode("{\"time\":\"2026-03-02T10:00:00Z\",\"user\":\"-\",\"referer\":\"\","
                          "\"bytes_out\":null,\"token\":\"REDACTED\",\"status\":\"-\"}",
                          &ev),
                 VG_BAD_NONE);
    T_ABSENT(&ev, VG_F_USER);
    T_ABSENT(&ev, VG_F_REFERER);
    T_ABSENT(&ev, VG_F_BYTES_OUT);
    T_ABSENT(&ev, VG_F_TOKEN);
    T_ABSENT(&ev, VG_F_STATUS);
}

Test(decode_json, bad_lines)
{
    t_open("vigil", NULL);
    VgEvent ev;
    const struct {
        const char *line;
        VgBadReason want;
    } cases[] = {
        {"{\"time\":1772445600", VG_BAD_JSON},
        {"[1,2,3]", VG_BAD_JSON},
        {"\"just a string\"", VG_BAD_JSON},
        {"", VG_BAD_JSON},
        {"{\"time\":1772445600} trailing", VG_BAD_JSON},
        {"{\"time\":1772445600,\"status\":tru}", VG_BAD_JSON},
        {"{\"time\":1772445600,\"x\":[1,2}", VG_BAD_JSON},
        {"not json at all", VG_BAD_JSON},
        {"{\"time\":1772445600,\"user\":\"\xff\xfe\"}", VG_BAD_UTF8},
        {"{\"time\":1772445600,\"x\":\"\xc3\x28\"}", VG_BAD_UTF8},
        {"{\"method\":\"GET\"}", VG_BAD_NO_TIME},
        {"{\"time\":\"yesterday\"}", VG_BAD_TIME},
        {"{\"time\":{\"a\":1}}", VG_BAD_TIME},
        {"{\"time\":1772445600,\"status\":\"abc\"}", VG_BAD_FIELD},
        {"{\"time\":1772445600,\"status\":1000}", VG_BAD_FIELD},
        {"{\"time\":1772445600,\"bytes_out\":\"lots\"}", VG_BAD_FIELD},
        {"{\"time\":1772445600,\"latency_ms\":[1]}", VG_BAD_FIELD},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        VgBadReason r = t_decode(cases[i].line, &ev);
        cr_assert_eq(r, cases[i].want, "line %zu: got %s, want %s", i, vg_bad_reason_name(r),
                     vg_bad_reason_name(cases[i].want));
    }
}

Test(decode_json, dotted_lookups)
{
    t_open("vigil", NULL);
    VgEvent ev;
    cr_assert_eq(t_decode("{\"time\":1772445600,\"request\":{\"headers\":{\"User-Agent\":\"ua/1\","
                          "\"x-forwarded-for\":[\"1.1.1.1\",\"2.2.2.2\"]},\"size\":12.5},"
                          "\"flat.key\":true,\"n\":null,\"obj\":{\"a\":1},\"esc\":\"q\\\"x\"}",
                          &ev),
                 VG_BAD_NONE);
    VgValue v;
    cr_assert(vg_event_lookup(&ev, "request.headers.user-agent", 26, &v, &t_arena));
    cr_assert_eq(v.kind, VG_V_STR);
    cr_assert(vg_str_eq_c(v.s, "ua/1"));
    cr_assert(vg_event_lookup(&ev, "request.headers.x-forwarded-for.1", 33, &v, &t_arena));
    cr_assert(vg_str_eq_c(v.s, "2.2.2.2"));
    cr_assert(vg_event_lookup(&ev, "request.size", 12, &v, &t_arena));
    cr_assert_eq(v.kind, VG_V_DOUBLE);
    cr_assert_float_eq(v.d, 12.5, 1e-9);
    cr_assert(vg_event_lookup(&ev, "flat.key", 8, &v, &t_arena));
    cr_assert_eq(v.kind, VG_V_BOOL);
    cr_assert_eq(v.i, 1);
    cr_assert(vg_event_lookup(&ev, "n", 1, &v, &t_arena));
    cr_assert_eq(v.kind, VG_V_NULL);
    cr_assert(vg_event_lookup(&ev, "obj", 3, &v, &t_arena));
    cr_assert(vg_str_eq_c(v.s, "{\"a\":1}"));
    cr_assert(vg_event_lookup(&ev, "esc", 3, &v, &t_arena));
    cr_assert(vg_str_eq_c(v.s, "q\"x"));
    cr_assert_not(vg_event_lookup(&ev, "request.headers.missing", 23, &v, &t_arena));
    cr_assert_not(vg_event_lookup(&ev, "request.size.deeper", 19, &v, &t_arena));

    /* a look-up works for any event of the batch, not only the last one decoded */
    VgEvent ev2;
    cr_assert_eq(t_decode("{\"time\":1772445601,\"other\":1}", &ev2), VG_BAD_NONE);
    cr_assert(vg_event_lookup(&ev, "request.headers.user-agent", 26, &v, &t_arena));
    cr_assert(vg_str_eq_c(v.s, "ua/1"));
    cr_assert(vg_event_lookup(&ev2, "other", 5, &v, &t_arena));
    cr_assert_eq(v.i, 1);
}

Test(decode_json, user_mapping)
{
    static const char *const map[] = {"client_ip", "downstream.ip", "token",       "auth.header",
                                      "time",      "ts_ms",         "c-useragent", "ua",
                                      "endpoint",  "route",         "latency_ms",  "timing.total",
                                      NULL};
    t_open("vigil", map);
    VgEvent ev;
    cr_assert_eq(
        t_decode("{\"ts_ms\":1772445600123,\"client_ip\":\"9.9.9.9\",\"downstream\":{"
                 "\"ip\":\"10.1.1.1\"},\"auth\":{\"header\":\"Basic YWxpY2U6czNjcmV0\"},"
                 "\"ua\":\"x/1\",\"method\":\"PUT\",\"path\":\"/v1/a/1\",\"route\":\"/v1/a/"
                 ":id\",\"timing.total\":\"7.5\"}",
                 &ev),
        VG_BAD_NONE);
    T_INT(&ev, VG_F_TIME, 1772445600123LL);
    T_STR(&ev, VG_F_CLIENT_IP, "10.1.1.1"); /* the mapping wins over the preset */
    T_STR(&ev, VG_F_TOKEN, "alice");        /* Basic -> user name */
    T_STR(&ev, VG_F_USER, "alice");
    T_STR(&ev, VG_F_USER_AGENT, "x/1");
    T_STR(&ev, VG_F_ENDPOINT, "PUT /v1/a/:id");
    T_LAT(&ev, 7.5);
}

Test(decode_json, user_mapping_errors)
{
    const VgDecoderOps *ops = vg_find_decoder("kong");
    VgInputConf conf = {.format = "kong", .max_line_bytes = 1000};
    conf.fields = g_array_new(FALSE, FALSE, sizeof(VgFieldMapping));
    VgFieldMapping m = {"clientip", "a.b"};
    g_array_append_val(conf.fields, m);
    GError *err = NULL;
    cr_assert_null(ops->create(ops, &conf, &err));
    cr_assert_not_null(err);
    cr_assert(strstr(err->message, "unknown field 'clientip'"), "%s", err->message);
    g_clear_error(&err);
    g_array_index(conf.fields, VgFieldMapping, 0) = (VgFieldMapping){"client_ip", "a..b"};
    cr_assert_null(ops->create(ops, &conf, &err));
    cr_assert(strstr(err->message, "client_ip"), "%s", err->message);
    g_clear_error(&err);
    /* text formats take no mapping */
    g_array_index(conf.fields, VgFieldMapping, 0) = (VgFieldMapping){"client_ip", "a.b"};
    ops = vg_find_decoder("nginx-combined");
    cr_assert_null(ops->create(ops, &conf, &err));
    cr_assert(strstr(err->message, "JSON"), "%s", err->message);
    g_clear_error(&err);
    g_array_free(conf.fields, TRUE);
}

Test(decode_json, credentials)
{
    t_open("vigil", NULL);
    VgEvent ev;
    const struct {
        const char *token, *want, *user;
    } cases[] = {
        {"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTc3In0.c2ln", "user-77", NULL},
        {"bearer   eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjQyfQ.c2ln", "42", NULL}, /* numeric sub */
        {"Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln", /* no sub: the raw token */
         "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln", NULL},
        {"Bearer eyJ.not-base64!.x", "eyJ.not-base64!.x", NULL},
        {"Bearer opaque-token-123", "opaque-token-123", NULL},
        {"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTc3In0.c2ln", "user-77", NULL}, /* bare JWT */
        {"Basic YWxpY2U6czNjcmV0", "alice", "alice"},
        {"Basic !!!", "!!!", NULL},
        {"ApiKey k-123", "k-123", NULL},
        {"plain-key", "plain-key", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *line = g_strdup_printf("{\"time\":1772445600,\"token\":\"%s\"}", cases[i].token);
        cr_assert_eq(t_decode(line, &ev), VG_BAD_NONE);
        g_free(line);
        T_STR(&ev, VG_F_TOKEN, cases[i].want);
        if (cases[i].user)
            T_STR(&ev, VG_F_USER, cases[i].user);
        else
            T_ABSENT(&ev, VG_F_USER);
    }
}

/* A JWT of subject sub (NULL: none), header and signature made distinct by n. */
static char *make_jwt(int n, const char *sub)
{
    char *payload = sub ? g_strdup_printf("{\"iss\":\"i\",\"sub\":\"%s\",\"iat\":%d}", sub, n)
                        : g_strdup_printf("{\"iss\":\"i\",\"iat\":%d}", n);
    char *p64 = g_base64_encode((const guchar *)payload, strlen(payload));
    g_strdelimit(p64, "=", '\0'); /* unpadded, as JWTs are */
    char *jwt = g_strdup_printf("eyJhbGciOiJIUzI1NiJ9.%s.sig%08d", p64, n);
    g_free(payload);
    g_free(p64);
    return jwt;
}

Test(decode_json, jwt_subjects_of_many_tokens)
{
    /* more distinct JWTs than the per-thread table of recent subjects has slots, each
     * seen three times in different orders: every sighting, first or repeated, evicted
     * or not, gives the token's own subject (or the raw token without one; a subject too
     * long for the table is not kept, but still read) */
    t_open("vigil", NULL);
    VgEvent ev;
    enum { N = 3000 };
    char *sub_long = g_strnfill(200, 'L');
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < N; k++) {
            int n = round == 1 ? N - 1 - k : (k * 7 + round) % N;
            char sub[16];
            g_snprintf(sub, sizeof sub, "user-%d", n);
            const char *want_sub = n % 97 == 0 ? NULL : n % 89 == 0 ? sub_long : sub;
            char *jwt = make_jwt(n, want_sub);
            char *line = g_strdup_printf("{\"time\":1772445600,\"token\":\"Bearer %s\"}", jwt);
            cr_assert_eq(t_decode(line, &ev), VG_BAD_NONE);
            T_STR(&ev, VG_F_TOKEN, want_sub ? want_sub : jwt);
            g_free(line);
            g_free(jwt);
        }
    g_free(sub_long);
}

Test(decode_json, auto_per_line)
{
    t_open("auto", NULL);
    VgEvent ev;
    const struct {
        const char *file;
        int line;
        const char *client_ip;
    } cases[] = {
        {"vigil.jsonl", 1, "203.0.113.7"},        {"kong.jsonl", 1, "192.168.65.1"},
        {"aws-apigw.jsonl", 2, "203.0.113.50"},   {"traefik.jsonl", 1, "192.168.1.10"},
        {"ecs.jsonl", 1, "203.0.113.5"},          {"ecs.jsonl", 2, "198.51.100.9"},
        {"nginx-combined.log", 1, "203.0.113.7"}, {"apache-combined.log", 1, "192.0.2.10"},
        {"envoy.log", 2, "203.0.113.9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        VgBadReason r = t_decode(t_data_line(cases[i].file, cases[i].line), &ev);
        cr_assert_eq(r, VG_BAD_NONE, "%s:%d: %s", cases[i].file, cases[i].line,
                     vg_bad_reason_name(r));
        T_STR(&ev, VG_F_CLIENT_IP, cases[i].client_ip);
        cr_assert(vg_event_has(&ev, VG_F_TIME));
    }
    /* dotted look-ups go to the sub-decoder that made the event */
    cr_assert_eq(t_decode(t_data_line("kong.jsonl", 1), &ev), VG_BAD_NONE);
    VgValue v;
    cr_assert(vg_event_lookup(&ev, "service.name", 12, &v, &t_arena));
    cr_assert(vg_str_eq_c(v.s, "example_service"));
    cr_assert_eq(t_decode("garbage line", &ev), VG_BAD_FORMAT);
    cr_assert_eq(t_decode("{broken", &ev), VG_BAD_JSON);
}

Test(decode_json, auto_mapping_applies_to_json)
{
    static const char *const map[] = {"user", "who", NULL};
    t_open("auto", map);
    VgEvent ev;
    cr_assert_eq(t_decode("{\"time\":1772445600,\"who\":\"carol\"}", &ev), VG_BAD_NONE);
    T_STR(&ev, VG_F_USER, "carol");
}

Test(decode_json, registry_names)
{
    const char *names[] = {"vigil", "nginx-combined", "apache-combined", "envoy",
                           "kong",  "aws-apigw",      "traefik",         "ecs",
                           "auto"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const VgDecoderOps *ops = vg_find_decoder(names[i]);
        cr_assert_not_null(ops, "%s not registered", names[i]);
        cr_assert_str_eq(ops->name, names[i]);
        cr_assert_not_null(ops->description);
    }
    cr_assert_eq(vg_decoders()[0], vg_decoder_ops_vigil()); /* the default comes first */
}

/* The decoder searches for backslashes once per run of strings and measures keys backwards
 * from their value: escapes in skipped fields and keys, whitespace around colons, and
 * plain strings after escaped ones must all read as written. */
Test(decode_json, escapes_spread_over_the_line_and_spaced_keys)
{
    t_open("vigil", NULL);
    VgEvent ev;
    const char *line = "{\"skipped\":\"x\\\\y\", \"k\\\"ey\" : \"v\",\"time\" :  1772445600000,"
                       "\"user_agent\"\t:\t\"plain\",\"referer\":\"r\\/1\",\"host\":\"h\","
                       "\"method\" : \"GET\"}";
    cr_assert_eq(t_decode(line, &ev), VG_BAD_NONE);
    T_INT(&ev, VG_F_TIME, 1772445600000LL);
    T_STR(&ev, VG_F_USER_AGENT, "plain");
    T_STR(&ev, VG_F_REFERER, "r/1");
    T_STR(&ev, VG_F_HOST, "h");
    T_STR(&ev, VG_F_METHOD, "GET");
    /* plain strings after an escaped one are still views into the line */
    cr_assert(ev.host.p > ev.raw.p && ev.host.p < ev.raw.p + ev.raw.len);
}

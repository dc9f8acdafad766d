/* test-decode-presets.c — each gateway preset on lines written exactly as the gateway
 * writes them (tests/data/formats/), every canonical field checked. */
#include "decode-test-util.h"

TestSuite(decode_presets, .init = t_setup, .fini = t_teardown);

static void decode_ok(const char *preset, const char *file, int no, VgEvent *ev)
{
    t_open(preset, NULL);
    VgBadReason r = t_decode(t_data_line(file, no), ev);
    cr_assert_eq(r, VG_BAD_NONE, "%s line %d: %s", file, no, vg_bad_reason_name(r));
}

Test(decode_presets, nginx_combined)
{
    VgEvent ev;
    decode_ok("nginx-combined", "nginx-combined.log", 1, &ev);
    T_INT(&ev, VG_F_TIME, 1772442000000LL); /* 10:00 +0100 = 09:00Z */
    T_STR(&ev, VG_F_CLIENT_IP, "203.0.113.7");
    T_STR(&ev, VG_F_METHOD, "GET");
    T_STR(&ev, VG_F_PATH, "/v1/customers/4711/orders");
    T_STR(&ev, VG_F_QUERY, "limit=50");
    T_STR(&ev, VG_F_ENDPOINT, "GET /v1/customers/{id}/orders");
    T_INT(&ev, VG_F_STATUS, 200);
    T_INT(&ev, VG_F_BYTES_OUT, 5120);
    T_STR(&ev, VG_F_REFERER, "https://app.example.com/");
    T_STR(&ev, VG_F_USER_AGENT, "Mozilla/5.0 (X11; Linux x86_64)");
    T_ABSENT(&ev, VG_F_USER);
    T_ABSENT(&ev, VG_F_TOKEN);
    T_ABSENT(&ev, VG_F_SCHEME);
    T_ABSENT(&ev, VG_F_HOST);
    T_ABSENT(&ev, VG_F_LATENCY_MS);
    T_ABSENT(&ev, VG_F_BYTES_IN);
    T_ABSENT(&ev, VG_F_REQUEST_ID);

    decode_ok("nginx-combined", "nginx-combined.log", 2, &ev);
    T_STR(&ev, VG_F_USER, "alice");
    T_ABSENT(&ev, VG_F_REFERER);
    T_LAT(&ev, 125.0); /* trailing $request_time in seconds */

    decode_ok("nginx-combined", "nginx-combined.log", 3, &ev);
    T_STR(&ev, VG_F_QUERY, "q=\"x\""); /* \x22 undone */
    T_STR(&ev, VG_F_USER_AGENT, "python-requests/2.31 \"quoted\"");

    decode_ok("nginx-combined", "nginx-combined.log", 4, &ev); /* TLS bytes as the request */
    T_ABSENT(&ev, VG_F_METHOD);
    T_ABSENT(&ev, VG_F_PATH);
    T_INT(&ev, VG_F_STATUS, 400);

    decode_ok("nginx-combined", "nginx-combined.log", 5, &ev); /* ingress-nginx */
    T_INT(&ev, VG_F_BYTES_IN, 310);
    T_LAT(&ev, 20.0);
    T_STR(&ev, VG_F_REQUEST_ID, "5d41402abc4b2a76b9719d911017c592");
    T_STR(&ev, VG_F_ENDPOINT, "GET /v1/users/{id}/profile");
}

Test(decode_presets, apache_combined)
{
    VgEvent ev;
    decode_ok("apache-combined", "apache-combined.log", 1, &ev);
    T_INT(&ev, VG_F_TIME, 1760129736000LL);
    T_STR(&ev, VG_F_CLIENT_IP, "192.0.2.10");
    T_STR(&ev, VG_F_USER, "frank");
    T_STR(&ev, VG_F_METHOD, "GET");
    T_STR(&ev, VG_F_PATH, "/apache_pb.gif");
    T_STR(&ev, VG_F_ENDPOINT, "GET /apache_pb.gif");
    T_INT(&ev, VG_F_STATUS, 200);
    T_INT(&ev, VG_F_BYTES_OUT, 2326);
    T_STR(&ev, VG_F_REFERER, "http://www.example.com/start.html");
    T_STR(&ev, VG_F_USER_AGENT, "Mozilla/4.08 [en] (Win98; I ;Nav)");
    decode_ok("apache-combined", "apache-combined.log", 2, &ev);
    T_INT(&ev, VG_F_BYTES_OUT, 0); /* %b "-" */
    T_STR(&ev, VG_F_USER_AGENT, "Say \"hi\" agent");
    T_STR(&ev, VG_F_ENDPOINT, "HEAD /v1/items/{id}");
    decode_ok("apache-combined", "apache-combined.log", 3, &ev); /* common log format */
    T_ABSENT(&ev, VG_F_USER_AGENT);
    T_INT(&ev, VG_F_BYTES_OUT, 512);
    decode_ok("apache-combined", "apache-combined.log", 4, &ev);
    T_LAT(&ev, 1.534); /* %D microseconds */
}

Test(decode_presets, text_bad_lines)
{
    t_open("nginx-combined", NULL);
    VgEvent ev;
    cr_assert_eq(t_decode("", &ev), VG_BAD_FORMAT);
    cr_assert_eq(t_decode("1.2.3.4 - - [02/Mar/2026:10:00:00 +0000] \"GET / HTTP/1.1\" abc 1", &ev),
                 VG_BAD_FORMAT);
    cr_assert_eq(t_decode("1.2.3.4 - - [02/Mar/2026:10:00:00 +0000] \"GET / HTTP/1.1 200 1", &ev),
                 VG_BAD_FORMAT);
    cr_assert_eq(t_decode("1.2.3.4 - - [02/Xyz/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1", &ev),
                 VG_BAD_TIME);
    cr_assert_eq(
        t_decode("1.2.3.4 - - [02/Mar/2026:10:00:00 +0000] \"GET /\xff HTTP/1.1\" 200 1", &ev),
        VG_BAD_UTF8);
    cr_assert_eq(t_decode("{\"time\":1}", &ev), VG_BAD_FORMAT);
    t_open("envoy", NULL);
    cr_assert_eq(t_decode("[2026-03-02T10:00:00Z] \"GET / HTTP/1.1\" 200", &ev), VG_BAD_FORMAT);
    cr_assert_eq(t_decode("[2026-99-02T10:00:00Z] \"GET / HTTP/1.1\" 200 - 0 0 1 - \"-\" \"-\" "
                          "\"-\" \"-\" \"-\"",
                          &ev),
                 VG_BAD_TIME);
    cr_assert_eq(t_decode("[2026-03-02T10:00:00Z] \"GET / HTTP/1.1\" 200 - x 0 1 - \"-\" \"-\" "
                          "\"-\" \"-\" \"-\"",
                          &ev),
                 VG_BAD_FORMAT);
}

Test(decode_presets, envoy_default)
{
    VgEvent ev;
    decode_ok("envoy", "envoy.log", 1, &ev); /* the example of Envoy's documentation */
    T_INT(&ev, VG_F_TIME, 1460751420310LL);
    T_STR(&ev, VG_F_METHOD, "POST");
    T_STR(&ev, VG_F_PATH, "/api/v1/locations");
    T_STR(&ev, VG_F_ENDPOINT, "POST /api/v1/locations");
    T_INT(&ev, VG_F_STATUS, 204);
    T_INT(&ev, VG_F_BYTES_IN, 154);
    T_INT(&ev, VG_F_BYTES_OUT, 0);
    T_LAT(&ev, 226.0);
    T_STR(&ev, VG_F_CLIENT_IP, "10.0.35.28");
    T_STR(&ev, VG_F_USER_AGENT, "nsq2http");
    T_STR(&ev, VG_F_REQUEST_ID, "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2");
    T_STR(&ev, VG_F_HOST, "locations");
    T_ABSENT(&ev, VG_F_QUERY);
    T_ABSENT(&ev, VG_F_TOKEN);
    decode_ok("envoy", "envoy.log", 2, &ev);
    T_STR(&ev, VG_F_CLIENT_IP, "203.0.113.9"); /* first X-Forwarded-For address */
    T_STR(&ev, VG_F_QUERY, "limit=50");
    T_STR(&ev, VG_F_ENDPOINT, "GET /v1/orders/{id}");
    decode_ok("envoy", "envoy.log", 3, &ev);
    T_ABSENT(&ev, VG_F_CLIENT_IP);
    T_ABSENT(&ev, VG_F_USER_AGENT);
    T_INT(&ev, VG_F_STATUS, 503);
    decode_ok("envoy", "envoy.log", 4, &ev);   /* Istio's default proxy format */
    T_STR(&ev, VG_F_CLIENT_IP, "10.244.0.11"); /* downstream remote address */
    T_INT(&ev, VG_F_BYTES_OUT, 5293);
    T_LAT(&ev, 35.0);
    T_STR(&ev, VG_F_HOST, "productpage:9080");
}

Test(decode_presets, kong)
{
    VgEvent ev;
    decode_ok("kong", "kong.jsonl", 1, &ev);
    T_INT(&ev, VG_F_TIME, 1726783839538LL);
    T_STR(&ev, VG_F_CLIENT_IP, "192.168.65.1");
    T_STR(&ev, VG_F_METHOD, "GET");
    T_STR(&ev, VG_F_SCHEME, "http");
    T_STR(&ev, VG_F_HOST, "localhost:8000");
    T_STR(&ev, VG_F_PATH, "/example-route/orders/12345");
    T_STR(&ev, VG_F_QUERY, "verbose=1");
    T_STR(&ev, VG_F_ENDPOINT, "GET /example-route/orders/{id}"); /* prefix route: templated */
    T_INT(&ev, VG_F_STATUS, 200);
    T_INT(&ev, VG_F_BYTES_OUT, 9982);
    T_INT(&ev, VG_F_BYTES_IN, 139);
    T_LAT(&ev, 173.0);
    T_STR(&ev, VG_F_USER_AGENT, "HTTPie/3.2.3");
    T_ABSENT(&ev, VG_F_REFERER);
    T_STR(&ev, VG_F_TOKEN, "6a4e2f10-2222-4333-8444-a55566667777"); /* the credential */
    T_STR(&ev, VG_F_USER, "acme-app");
    T_STR(&ev, VG_F_REQUEST_ID, "2f6946328ffc4946b8c9120704a4a155");
    VgValue v;
    cr_assert(vg_event_lookup(&ev, "route.name", 10, &v, &t_arena));
    cr_assert(vg_str_eq_c(v.s, "example_route"));
    cr_assert(vg_event_lookup(&ev, "request.headers.user-agent", 26, &v, &t_arena));
    cr_assert(vg_str_eq_c(v.s, "HTTPie/3.2.3"));

    decode_ok("kong", "kong.jsonl", 2, &ev); /* Kong 0.x/1.x: sizes as strings, JWT */
    T_INT(&ev, VG_F_BYTES_IN, 75);
    T_INT(&ev, VG_F_BYTES_OUT, 434);
    T_STR(&ev, VG_F_TOKEN, "user-77");
    T_STR(&ev, VG_F_SCHEME, "https");
    T_STR(&ev, VG_F_HOST, "api.example.com");
    T_STR(&ev, VG_F_REQUEST_ID, "req-abc-1");
    T_STR(&ev, VG_F_ENDPOINT, "POST /v1/users/{id}");
    T_ABSENT(&ev, VG_F_USER);
}

Test(decode_presets, kong_regex_route_wins)
{
    t_open("kong", NULL);
    VgEvent ev;
    cr_assert_eq(t_decode("{\"request\":{\"method\":\"GET\",\"uri\":\"/v1/users/bob/keys\"},"
                          "\"route\":{\"paths\":[\"~/v1/users/(?<name>[a-z]+)/keys$\"]},"
                          "\"started_at\":1726783839538,\"response\":{\"status\":200}}",
                          &ev),
                 VG_BAD_NONE);
    T_STR(&ev, VG_F_ENDPOINT, "GET /v1/users/{id}/keys");
    T_STR(&ev, VG_F_PATH, "/v1/users/bob/keys");
    /* a regex that is not plain path text around its groups is not a template */
    cr_assert_eq(t_decode("{\"request\":{\"method\":\"GET\",\"uri\":\"/v1/users/bob\"},"
                          "\"route\":{\"paths\":[\"~/v1/(users|people)/.*\"]},"
                          "\"started_at\":1726783839538}",
                          &ev),
                 VG_BAD_NONE);
    T_STR(&ev, VG_F_ENDPOINT, "GET /v1/users/bob");
    cr_assert_eq(t_decode("{\"request\":{\"method\":\"GET\"},\"started_at\":\"x\"}", &ev),
                 VG_BAD_TIME);
    cr_assert_eq(t_decode("{\"request\":{\"method\":\"GET\"}}", &ev), VG_BAD_NO_TIME);
}

Test(decode_presets, aws_apigw)
{
    VgEvent ev;
    decode_ok("aws-apigw", "aws-apigw.jsonl", 1, &ev); /* AWS's documented JSON example */
    T_INT(&ev, VG_F_TIME, 1772445600000LL);
    T_STR(&ev, VG_F_CLIENT_IP, "198.51.100.1");
    T_STR(&ev, VG_F_METHOD, "GET");
    T_STR(&ev, VG_F_ENDPOINT, "GET /pets/{petId}");
    T_INT(&ev, VG_F_STATUS, 200);
    T_INT(&ev, VG_F_BYTES_OUT, 1234);
    T_STR(&ev, VG_F_REQUEST_ID, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
    T_ABSENT(&ev, VG_F_USER); /* "-" */
    T_ABSENT(&ev, VG_F_PATH);
    decode_ok("aws-apigw", "aws-apigw.jsonl", 2, &ev);
    T_INT(&ev, VG_F_TIME, 1772445601234LL); /* requestTimeEpoch wins */
    T_STR(&ev, VG_F_PATH, "/prod/orders");
    T_STR(&ev, VG_F_ENDPOINT, "POST /orders");
    T_INT(&ev, VG_F_STATUS, 429);
    T_ABSENT(&ev, VG_F_BYTES_OUT); /* "-" */
    T_LAT(&ev, 18.0);
    T_STR(&ev, VG_F_USER_AGENT, "okhttp/4.12.0");
    T_STR(&ev, VG_F_TOKEN, "k7x2abcd9e");
    T_STR(&ev, VG_F_HOST, "abc123.execute-api.eu-west-1.amazonaws.com");
    VgValue v;
    cr_assert(vg_event_lookup(&ev, "stage", 5, &v, &t_arena));
    cr_assert(vg_str_eq_c(v.s, "prod"));
    decode_ok("aws-apigw", "aws-apigw.jsonl", 3, &ev); /* HTTP API: routeKey, flat claims */
    T_STR(&ev, VG_F_ENDPOINT, "GET /pets/{petId}");
    T_STR(&ev, VG_F_PATH, "/pets/7");
    T_STR(&ev, VG_F_TOKEN, "3f6a1c52-cognito-sub");
}

Test(decode_presets, traefik)
{
    VgEvent ev;
    decode_ok("traefik", "traefik.jsonl", 1, &ev);
    T_INT(&ev, VG_F_TIME, 1772445600123LL);
    T_STR(&ev, VG_F_CLIENT_IP, "192.168.1.10");
    T_STR(&ev, VG_F_METHOD, "GET");
    T_STR(&ev, VG_F_SCHEME, "https");
    T_STR(&ev, VG_F_HOST, "api.example.com");
    T_STR(&ev, VG_F_PATH, "/v1/orders/12345");
    T_STR(&ev, VG_F_QUERY, "limit=50");
    T_STR(&ev, VG_F_ENDPOINT, "GET /v1/orders/{id}");
    T_INT(&ev, VG_F_STATUS, 200);
    T_INT(&ev, VG_F_BYTES_OUT, 1024);
    T_INT(&ev, VG_F_BYTES_IN, 310);
    T_LAT(&ev, 12.5); /* Duration ns */
    T_STR(&ev, VG_F_USER_AGENT, "Mozilla/5.0");
    T_STR(&ev, VG_F_REFERER, "https://app.example.com/");
    T_STR(&ev, VG_F_REQUEST_ID, "7c1e2d3f");
    T_STR(&ev, VG_F_TOKEN, "alice"); /* Basic auth user */
    T_STR(&ev, VG_F_USER, "alice");
    decode_ok("traefik", "traefik.jsonl", 2, &ev);
    T_STR(&ev, VG_F_CLIENT_IP, "2001:db8::1"); /* from ClientAddr */
    T_STR(&ev, VG_F_USER, "bob");
    T_LAT(&ev, 0.8);
    T_ABSENT(&ev, VG_F_TOKEN);
    T_ABSENT(&ev, VG_F_SCHEME);
}

Test(decode_presets, ecs_nested_and_dotted)
{
    VgEvent ev;
    decode_ok("ecs", "ecs.jsonl", 1, &ev);
    T_INT(&ev, VG_F_TIME, 1772445600123LL);
    T_STR(&ev, VG_F_CLIENT_IP, "203.0.113.5");
    T_STR(&ev, VG_F_METHOD, "GET");
    T_STR(&ev, VG_F_SCHEME, "https");
    T_STR(&ev, VG_F_HOST, "api.example.com");
    T_STR(&ev, VG_F_PATH, "/v1/orders/12345");
    T_STR(&ev, VG_F_QUERY, "limit=50");
    T_STR(&ev, VG_F_ENDPOINT, "GET /v1/orders/{id}");
    T_INT(&ev, VG_F_STATUS, 200);
    T_INT(&ev, VG_F_BYTES_OUT, 5120);
    T_INT(&ev, VG_F_BYTES_IN, 0);
    T_LAT(&ev, 12.5);
    T_STR(&ev, VG_F_USER_AGENT, "curl/8.5.0");
    T_STR(&ev, VG_F_REFERER, "https://app.example.com/");
    T_STR(&ev, VG_F_USER, "alice");
    T_STR(&ev, VG_F_REQUEST_ID, "r-123");
    T_ABSENT(&ev, VG_F_TOKEN);
    decode_ok("ecs", "ecs.jsonl", 2, &ev);      /* flat dotted keys */
    T_STR(&ev, VG_F_CLIENT_IP, "198.51.100.9"); /* client.ip over source.ip */
    T_STR(&ev, VG_F_METHOD, "POST");
    T_STR(&ev, VG_F_PATH, "/v1/login");
    T_STR(&ev, VG_F_QUERY, "next=%2F");
    T_INT(&ev, VG_F_STATUS, 401);
    T_INT(&ev, VG_F_BYTES_OUT, 320);
    T_INT(&ev, VG_F_BYTES_IN, 512);
    T_LAT(&ev, 0.8);
    VgValue v;
    cr_assert(vg_event_lookup(&ev, "ecs.version", 11, &v, &t_arena));
    cr_assert(vg_str_eq_c(v.s, "8.11.0"));
}

Test(decode_presets, garbage_never_crashes)
{
    const char *presets[] = {"vigil", "nginx-combined", "apache-combined", "envoy",
                             "kong",  "aws-apigw",      "traefik",         "ecs",
                             "auto"};
    const char *lines[] = {"",
                           "{",
                           "}",
                           "{\"\":{}}",
                           "[",
                           "\"",
                           "{\"request\":[[[[[[]]]]]]}",
                           "{\"time\":1e999}",
                           "{\"started_at\":-1e308}",
                           "[]] [\"\" \"\"",
                           "1.2.3.4 - - [",
                           "[2026-03-02T10:00:00Z] \"",
                           "\xff\xff",
                           ("{\"request\":{\"headers\":{\"authorization\":\"Bearer eyJ.eyJ.\"}},"
                            "\"started_at\":1}")};
    for (size_t p = 0; p < sizeof presets / sizeof presets[0]; p++) {
        t_open(presets[p], NULL);
        for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
            VgEvent ev;
            VgBadReason r = t_decode(lines[i], &ev);
            cr_assert(r >= VG_BAD_NONE && r < VG_BAD__COUNT);
        }
    }
}

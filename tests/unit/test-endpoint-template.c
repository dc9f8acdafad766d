/* test-endpoint-template.c — which path segments become {id}, and which stay. */
#include "collectors/endpoint-template.h"

#include <criterion/criterion.h>

static VgArena arena;

static void setup(void)
{
    vg_arena_init(&arena, 0);
}
static void teardown(void)
{
    vg_arena_destroy(&arena);
}

static void check(const char *method, const char *path, const char *want)
{
    VgStr got = vg_endpoint_template(vg_cstr(method), vg_cstr(path), &arena);
    cr_assert(vg_str_eq_c(got, want), "%s %s -> '%.*s', want '%s'", method, path, (int)got.len,
              got.p, want);
}

TestSuite(endpoint_template, .init = setup, .fini = teardown);

Test(endpoint_template, ids)
{
    check("GET", "/v1/customers/4711/orders/9f1c2ab0e4d5", "GET /v1/customers/{id}/orders/{id}");
    check("GET", "/v1/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6", "GET /v1/orders/{id}");
    check("GET", "/v1/orders/3FA85F64-5717-4562-B3FC-2C963F66AFA6/items/1",
          "GET /v1/orders/{id}/items/{id}");
    check("GET", "/v1/users/507f1f77bcf86cd799439011", "GET /v1/users/{id}");
    check("GET", "/v1/users/jane.doe@example.com/profile", "GET /v1/users/{id}/profile");
    check("GET", "/v1/users/jane.doe%40example.com", "GET /v1/users/{id}");
    check("GET", "/v1/customers/cus_NffrFeUfNV2Hib", "GET /v1/customers/{id}");
    check("GET", "/files/aGVsbG8td29ybGQtMTIzNDU2Nzg5MA==", "GET /files/{id}");
    check("GET", "/s/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc123", "GET /s/{id}");
    check("DELETE", "/1/2/3", "DELETE /{id}/{id}/{id}");
}

Test(endpoint_template, kept)
{
    check("GET", "/", "GET /");
    check("GET", "/v1/health", "GET /v1/health");
    check("GET", "/v2/products/search", "GET /v2/products/search");
    check("GET", "/blog/release-notes-2024-03-final", "GET /blog/release-notes-2024-03-final");
    check("GET", "/deadbeefcafe", "GET /deadbeefcafe"); /* hex letters only: a word */
    check("GET", "/v1/abc1234", "GET /v1/abc1234");     /* short, not all hex */
    check("GET", "/static/app.min.js", "GET /static/app.min.js");
    check("GET", "/a//b/", "GET /a//b/");
    check("GET", "/user@", "GET /user@");
}

Test(endpoint_template, no_method_or_path)
{
    VgStr got = vg_endpoint_template(VG_STR_NULL, vg_cstr("/x/42"), &arena);
    cr_assert(vg_str_eq_c(got, "/x/{id}"));
    got = vg_endpoint_template(vg_cstr("GET"), VG_STR_NULL, &arena);
    cr_assert_null(got.p);
}

Test(endpoint_template, route_wins)
{
    VgStr got = vg_endpoint_from_route(vg_cstr("GET"), vg_cstr("/pets/{petId}"), &arena);
    cr_assert(vg_str_eq_c(got, "GET /pets/{petId}"));
    got = vg_endpoint_from_route(vg_cstr("GET"), vg_cstr("POST /pets"), &arena);
    cr_assert(vg_str_eq_c(got, "POST /pets"));
    got = vg_endpoint_from_route(vg_cstr("GET"), vg_cstr(""), &arena);
    cr_assert_null(got.p);
}

Test(endpoint_template, segment_rules)
{
    cr_assert(vg_path_segment_is_id("0", 1));
    cr_assert(vg_path_segment_is_id("12345678", 8));
    cr_assert(vg_path_segment_is_id("a1b2c3d4", 8));
    cr_assert_not(vg_path_segment_is_id("a1b2c3d", 7));
    cr_assert_not(vg_path_segment_is_id("orders", 6));
    cr_assert_not(vg_path_segment_is_id("", 0));
}

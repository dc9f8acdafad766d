/* Unit tests: personal-data redaction and the Luhn check (engine/privacy.c). */
#include "engine/privacy.h"

#include <criterion/criterion.h>

static char *redact(const char *s)
{
    GString *o = g_string_new(NULL);
    vg_redact_pii(o, s, strlen(s));
    return g_string_free(o, FALSE);
}

#define CHECK(in, want)                                                                            \
    do {                                                                                           \
        char *got = redact(in);                                                                    \
        cr_assert_str_eq(got, want, "redact(%s)", in);                                             \
        g_free(got);                                                                               \
    } while (0)

Test(privacy, luhn)
{
    cr_assert(vg_luhn_valid("4111111111111111", 16));
    cr_assert(vg_luhn_valid("79927398713", 11));
    cr_assert_not(vg_luhn_valid("4111111111111112", 16));
}

Test(privacy, redacts_personal_data_in_queries)
{
    CHECK("email=jane.doe@example.com&x=1", "email=[email]&x=1");
    CHECK("email=jane.doe%40example.com", "email=[email]");
    CHECK("card=4111111111111111", "card=[card]");
    CHECK("card=4111-1111-1111-1111", "card=[card]");
    CHECK("phone=%2B14155550123", "phone=[phone]");
    CHECK("phone=+44%2020%207946%200958", "phone=[phone]");
    CHECK("tel=415-555-0123", "tel=[phone]");
    CHECK("dob=1985-04-12", "dob=[date]");
    CHECK("dob=12.04.1985", "dob=[date]");
    CHECK("/v1/users/jane@example.com/orders", "/v1/users/[email]/orders");
}

Test(privacy, keeps_ids_and_ordinary_text)
{
    CHECK("/v1/customers/4711/orders/1234567890", "/v1/customers/4711/orders/1234567890");
    CHECK("limit=50&offset=100", "limit=50&offset=100");
    CHECK("card=4111111111111112", "card=4111111111111112"); /* fails Luhn */
    CHECK("from=2026-03-02", "from=2026-03-02");             /* a report date */
    CHECK("id=9f1c2b7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "id=9f1c2b7e-1c2d-4e5f-8a9b-0c1d2e3f4a5b");
    CHECK("", "");
}

/* sha256.h — SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) on the stack.
 *
 * GLib's GChecksum and GHmac allocate on every digest; token ids are computed for every new
 * token key, which in a flood of random tokens is every event, so the hot path uses this
 * instead. Everything else may keep using GLib. Tested against GLib in tests/unit/test-sha256.c.
 */
#ifndef VG_SHA256_H
#define VG_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t len; /* bytes hashed */
    uint8_t buf[64];
    size_t n; /* bytes in buf */
} VgSha256;

void vg_sha256_init(VgSha256 *s);
void vg_sha256_update(VgSha256 *s, const void *data, size_t len);
void vg_sha256_final(VgSha256 *s, uint8_t out[32]);

/* Whether blocks use the CPU's SHA instructions, which is the default where it has them.
 * Asking for them on a CPU without them gives the portable code; the result says which is
 * in use. For tests, which check both against GLib. */
bool vg_sha256_set_hw(bool on);

/* HMAC-SHA256(key, msg) into out. */
void vg_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    uint8_t out[32]);

/* An HMAC-SHA256 key made ready once: the states after its inner and its outer pad block,
 * so a MAC costs only the blocks of the message (two for one under 56 bytes, not four). */
typedef struct {
    uint32_t inner[8], outer[8];
} VgHmacKey;

void vg_hmac_key_init(VgHmacKey *k, const void *key, size_t key_len);
/* The same MAC as vg_hmac_sha256() with the key k was made from. */
void vg_hmac_sha256_keyed(const VgHmacKey *k, const void *msg, size_t msg_len, uint8_t out[32]);

#endif

/* sha256.h — SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) on the stack.
 *
 * GLib's GChecksum and GHmac allocate on every digest; token ids are computed for every new
 * token key, which in a flood of random tokens is every event, so the hot path uses this
 * instead. Everything else may keep using GLib. Tested against GLib in tests/unit/test-sha256.c.
 */
#ifndef VG_SHA256_H
#define VG_SHA256_H

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

/* HMAC-SHA256(key, msg) into out. */
void vg_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    uint8_t out[32]);

#endif

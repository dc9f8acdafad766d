/* util.c — small shared helpers: the error quark and a stable 64-bit hash. */
#include "engine/vg.h"

GQuark vg_error_quark(void)
{
    return g_quark_from_static_string("vigil-error");
}

/* A wyhash-style mix: fast on short keys (tokens, IPs, endpoints), stable everywhere since
 * ids and shard choices derive from it. Reads bytes with memcpy, so any alignment works. */
static inline uint64_t mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

uint64_t vg_hash64(const void *key, size_t len, uint64_t seed)
{
    const uint64_t s0 = 0xa0761d6478bd642full, s1 = 0xe7037ed1a0b428dbull,
                   s2 = 0x8ebc6af09c88c6e3ull, s3 = 0x589965cc75374cc3ull;
    const uint8_t *p = key;
    seed ^= mix(seed ^ s0, s1);
    uint64_t a, b;
    if (len <= 16) {
        if (len >= 4) {
            a = (rd32(p) << 32) | rd32(p + ((len >> 3) << 2));
            b = (rd32(p + len - 4) << 32) | rd32(p + len - 4 - ((len >> 3) << 2));
        } else if (len > 0) {
            a = ((uint64_t)p[0] << 16) | ((uint64_t)p[len >> 1] << 8) | p[len - 1];
            b = 0;
        } else {
            a = b = 0;
        }
    } else {
        size_t i = len;
        if (i > 48) {
            uint64_t see1 = seed, see2 = seed;
            do {
                seed = mix(rd64(p) ^ s1, rd64(p + 8) ^ seed);
                see1 = mix(rd64(p + 16) ^ s2, rd64(p + 24) ^ see1);
                see2 = mix(rd64(p + 32) ^ s3, rd64(p + 40) ^ see2);
                p += 48;
                i -= 48;
            } while (i > 48);
            seed ^= see1 ^ see2;
        }
        while (i > 16) {
            seed = mix(rd64(p) ^ s1, rd64(p + 8) ^ seed);
            i -= 16;
            p += 16;
        }
        a = rd64(p + i - 16);
        b = rd64(p + i - 8);
    }
    a ^= s1;
    b ^= seed;
    __uint128_t r = (__uint128_t)a * b;
    a = (uint64_t)r;
    b = (uint64_t)(r >> 64);
    return mix(a ^ s0 ^ len, b ^ s1);
}

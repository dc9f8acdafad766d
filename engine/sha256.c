/* sha256.c — see sha256.h. A straight reading of FIPS 180-4 section 6.2, with the block
 * function done by the CPU's SHA instructions where it has them (x86 SHA extensions: every
 * AMD Zen and Intel since Ice Lake). A token id costs two blocks once its key is made ready
 * (VgHmacKey); in the portable code a block is about 4,000 instructions, and where new
 * tokens keep coming there is one token id per event. */
#include "engine/sha256.h"

#include "engine/cpu.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define VG_SHA_X86 1
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

static inline uint32_t ror(uint32_t x, int n)
{
    return (x >> n) | (x << (32 - n));
}

static void block_portable(uint32_t h[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 =
            k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

#ifdef VG_SHA_X86
/* The same block with SHA256RNDS2 (two rounds), SHA256MSG1 and SHA256MSG2 (the message
 * schedule, four words at a time). The instructions keep the state as two vectors, ABEF and
 * CDGH (A in the top lane), so h is shuffled into that order and back. Four rounds per step
 * g use the schedule words W[4g..4g+3] in one vector; w[] holds the last four such vectors.
 * For g >= 4, W[g] = MSG2(MSG1(W[g-4], W[g-3]) + (W[g-2] W[g-1] shifted by one word), W[g-1]):
 * the MSG1 part is done a step early, once W[g-3] exists and W[g-4] is no longer needed. */
__attribute__((target("sha,sse4.1,ssse3"))) static void block_x86(uint32_t h[8], const uint8_t *p)
{
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bll, 0x0405060700010203ll);
    __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xB1);  /* BADC */
    __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1B); /* HGFE */
    __m128i s0 = _mm_alignr_epi8(t, s1, 8);                                        /* ABEF */
    s1 = _mm_blend_epi16(s1, t, 0xF0);                                             /* CDGH */
    const __m128i abef = s0, cdgh = s1;
    __m128i w[4];
    for (int g = 0; g < 16; g++) {
        if (g < 4)
            w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * g)), bswap);
        else
            w[g & 3] = _mm_sha256msg2_epu32(
                _mm_add_epi32(w[g & 3], _mm_alignr_epi8(w[(g - 1) & 3], w[(g - 2) & 3], 4)),
                w[(g - 1) & 3]);
        __m128i m = _mm_add_epi32(w[g & 3], _mm_loadu_si128((const __m128i *)&K[4 * g]));
        s1 = _mm_sha256rnds2_epu32(s1, s0, m);
        s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0E));
        if (g >= 3 && g < 15)
            w[(g - 3) & 3] = _mm_sha256msg1_epu32(w[(g - 3) & 3], w[(g - 2) & 3]);
    }
    s0 = _mm_add_epi32(s0, abef);
    s1 = _mm_add_epi32(s1, cdgh);
    t = _mm_shuffle_epi32(s0, 0x1B);  /* FEBA -> ABEF in lane order */
    s1 = _mm_shuffle_epi32(s1, 0xB1); /* GHCD */
    _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, s1, 0xF0));
    _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(s1, t, 8));
}
#endif

static VgCpuPath sha_path = VG_CPU_PATH(vg_cpu_sha);

bool vg_sha256_set_hw(bool on)
{
    return vg_cpu_path_set(&sha_path, on);
}

static void block(uint32_t h[8], const uint8_t *p)
{
#ifdef VG_SHA_X86
    if (vg_cpu_path_on(&sha_path)) {
        block_x86(h, p);
        return;
    }
#endif
    block_portable(h, p);
}

void vg_sha256_init(VgSha256 *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->len = 0;
    s->n = 0;
}

void vg_sha256_update(VgSha256 *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    s->len += len;
    if (s->n) {
        size_t take = 64 - s->n < len ? 64 - s->n : len;
        memcpy(s->buf + s->n, p, take);
        s->n += take;
        p += take;
        len -= take;
        if (s->n < 64)
            return;
        block(s->h, s->buf);
        s->n = 0;
    }
    for (; len >= 64; p += 64, len -= 64)
        block(s->h, p);
    memcpy(s->buf, p, len);
    s->n = len;
}

void vg_sha256_final(VgSha256 *s, uint8_t out[32])
{
    uint64_t bits = s->len * 8;
    s->buf[s->n++] = 0x80;
    if (s->n > 56) {
        memset(s->buf + s->n, 0, 64 - s->n);
        block(s->h, s->buf);
        s->n = 0;
    }
    memset(s->buf + s->n, 0, 56 - s->n);
    for (int i = 0; i < 8; i++)
        s->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    block(s->h, s->buf);
    for (int i = 0; i < 8; i++) {
        out[4 * i] = (uint8_t)(s->h[i] >> 24);
        out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
        out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
        out[4 * i + 3] = (uint8_t)s->h[i];
    }
}

/* The state after one block of key ^ pad. */
static void pad_state(const uint8_t k0[64], uint8_t pad, uint32_t out[8])
{
    uint8_t b[64];
    for (int i = 0; i < 64; i++)
        b[i] = k0[i] ^ pad;
    VgSha256 s;
    vg_sha256_init(&s);
    block(s.h, b);
    memcpy(out, s.h, sizeof s.h);
}

void vg_hmac_key_init(VgHmacKey *k, const void *key, size_t key_len)
{
    uint8_t k0[64] = {0};
    if (key_len > 64) { /* a long key is replaced by its digest */
        VgSha256 s;
        vg_sha256_init(&s);
        vg_sha256_update(&s, key, key_len);
        vg_sha256_final(&s, k0);
    } else if (key_len) {
        memcpy(k0, key, key_len);
    }
    pad_state(k0, 0x36, k->inner);
    pad_state(k0, 0x5c, k->outer);
}

/* A hash that has taken one block already (the state st). */
static void resume(VgSha256 *s, const uint32_t st[8])
{
    memcpy(s->h, st, sizeof s->h);
    s->len = 64;
    s->n = 0;
}

void vg_hmac_sha256_keyed(const VgHmacKey *k, const void *msg, size_t msg_len, uint8_t out[32])
{
    uint8_t inner[32];
    VgSha256 s;
    resume(&s, k->inner);
    vg_sha256_update(&s, msg, msg_len);
    vg_sha256_final(&s, inner);
    resume(&s, k->outer);
    vg_sha256_update(&s, inner, 32);
    vg_sha256_final(&s, out);
}

void vg_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
                    uint8_t out[32])
{
    VgHmacKey k;
    vg_hmac_key_init(&k, key, key_len);
    vg_hmac_sha256_keyed(&k, msg, msg_len, out);
}

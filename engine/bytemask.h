/* bytemask.h — which bytes of a short string are of a kind, as the bits of one word.
 *
 * Walking a short field byte by byte to find its slashes or its digit runs costs a branch
 * per byte, and the branches follow the data. With SSE2 (every x86-64 CPU), 16 bytes are
 * compared at once into a 16-bit mask, and up to 64 bytes make one 64-bit word; the rest
 * is bit arithmetic. Only the string's own bytes are read: whole blocks of 16, then the
 * last 16 bytes again for the tail (or a zeroed copy when the string is shorter than 16).
 * Callers keep their byte loop for longer strings and where SSE2 is missing
 * (VG_BYTEMASK is then 0).
 */
#ifndef VG_BYTEMASK_H
#define VG_BYTEMASK_H

#include "engine/vg.h"

#ifdef __SSE2__
#include <emmintrin.h>
#define VG_BYTEMASK 1

/* Bit i set where p[i] is '/', for the 16 bytes at p. */
static inline unsigned vg_mask16_slash(const char *p)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('/')));
}

/* Bit i set where p[i] is an ASCII digit (signed compares: bytes >= 0x80 are below '0'). */
static inline unsigned vg_mask16_digit(const char *p)
{
    __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
    return (unsigned)_mm_movemask_epi8(_mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8('0' - 1)),
                                                     _mm_cmplt_epi8(x, _mm_set1_epi8('9' + 1))));
}

/* Bit i set where m16 says so of s[i], for s[0 .. n), 0 < n <= 64. m16 gives the mask of
 * the 16 bytes at its argument (vg_mask16_slash, vg_mask16_digit). */
static inline uint64_t vg_bytemask64(const char *s, size_t n, unsigned (*m16)(const char *))
{
    uint64_t m = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        m |= (uint64_t)m16(s + i) << i;
    if (i == n)
        return m;
    if (n >= 16) /* the last 16 bytes, of which the top n - i are new */
        return m | (uint64_t)(m16(s + n - 16) >> (16 - (n - i))) << i;
    char b[16] = {0};
    memcpy(b, s, n);
    return m16(b) & ((1u << n) - 1);
}

/* The first set bit of m at or after bit i (i may be 64 or more), or n when there is none. */
static inline size_t vg_bytemask_next(uint64_t m, size_t i, size_t n)
{
    m = i < 64 ? m >> i << i : 0;
    return m ? (size_t)__builtin_ctzll(m) : n;
}

/* The length of the longest run of set bits in m. */
static inline uint32_t vg_bytemask_longest_run(uint64_t m)
{
    uint32_t k = 0;
    for (; m; k++)
        m &= m << 1;
    return k;
}
#else
#define VG_BYTEMASK 0
#endif

#endif

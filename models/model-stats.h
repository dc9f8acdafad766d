/* model-stats.h — the numbers behind the baselines: time-decayed EWMA mean and variance,
 * count-aware tail probabilities (Poisson, negative binomial, normal) in log space,
 * HyperLogLog with an exact small set in front, and a tiny latency sketch.
 *
 * Everything here is pure arithmetic on caller-owned state: no allocation, no clock, no
 * globals, so results are bit-identical for the same inputs on every run and thread.
 */
#ifndef VG_MODEL_STATS_H
#define VG_MODEL_STATS_H

#include "engine/vg.h"

#include <math.h>

/* ---- EWMA ---------------------------------------------------------------------------- */

/* Per-bucket smoothing factor for a half-life given in buckets: 1 - 2^(-1/h). */
double vg_ewma_alpha(double half_life_buckets);

/* One update of an exponentially weighted mean and variance (West's incremental form,
 * which for alpha = 1/n is exactly the running population variance). */
static inline void vg_ewma_step(double *mean, double *var, double x, double alpha)
{
    double diff = x - *mean;
    double incr = alpha * diff;
    *mean += incr;
    *var = (1.0 - alpha) * (*var + diff * incr);
}

/* k updates with x = 0 at a constant alpha, in closed form: with b = (1-alpha)^k,
 * mean' = b mean and var' = b (var + mean^2 (1 - b)). */
static inline void vg_ewma_zeros(double *mean, double *var, double alpha, double k)
{
    double b = pow(1.0 - alpha, k);
    *var = b * (*var + *mean * *mean * (1.0 - b));
    *mean *= b;
}

/* ---- tails (natural log of probabilities) ---------------------------------------------- */

/* log P(X >= k) and log P(X <= k) for X ~ Poisson(lambda). */
double vg_log_poisson_sf(double k, double lambda);
double vg_log_poisson_cdf(double k, double lambda);
/* The same for a negative binomial with the given mean and variance (var > mean); falls
 * back to Poisson when var <= mean. */
double vg_log_negbin_sf(double k, double mean, double var);
double vg_log_negbin_cdf(double k, double mean, double var);
/* log P(Z >= z) for a standard normal. */
double vg_log_normal_sf(double z);

/* log of the regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 - P. */
double vg_log_gamma_p(double a, double x);
double vg_log_gamma_q(double a, double x);
/* log of the regularized incomplete beta function I_x(a, b). */
double vg_log_beta_inc(double x, double a, double b);

/* ---- distinct counts -------------------------------------------------------------------- */

#define VG_HLL_P 8
#define VG_HLL_M (1u << VG_HLL_P)
/* Relative standard error of the estimate: 1.04 / sqrt(m). */
#define VG_HLL_STDERR (1.04 / 16.0)

typedef struct {
    uint8_t reg[VG_HLL_M];
} VgHll;

/* Adds a 32-bit hash (values are already hashed when they reach a distinct counter). */
static inline void vg_hll_add(VgHll *h, uint32_t v)
{
    uint32_t idx = v >> (32 - VG_HLL_P);
    uint32_t w = (v << VG_HLL_P) | (1u << (VG_HLL_P - 1));
    uint8_t rank = (uint8_t)(__builtin_clz(w) + 1);
    if (rank > h->reg[idx])
        h->reg[idx] = rank;
}
double vg_hll_estimate(const VgHll *h);

/* A distinct counter in 16 bytes: up to 3 values exactly; then a HyperLogLog from a pool
 * (the owner hands one over when asked); when the pool is empty, linear counting over the
 * 96 bits the exact values used. */
enum { VG_DIST_EXACT = 0, VG_DIST_HLL = 1, VG_DIST_LINEAR = 2 };
typedef struct {
    uint32_t v[3];
    uint8_t mode, n;
    uint16_t pad;
} VgDistinct;

/* Estimate for a counter in EXACT or LINEAR mode (HLL mode: vg_hll_estimate). */
double vg_distinct_small_estimate(const VgDistinct *d);
/* Switches a full exact counter to linear counting (keeps its 3 values). */
void vg_distinct_to_linear(VgDistinct *d);
static inline void vg_distinct_linear_add(VgDistinct *d, uint32_t v)
{
    uint32_t bit = v % 96u;
    d->v[bit >> 5] |= 1u << (bit & 31);
}

/* ---- latency sketch --------------------------------------------------------------------- */

/* 3 bins per octave from 1 ms to ~65 s: a quantile read from it is within ~26%. */
#define VG_LSKETCH_BINS 48
typedef struct {
    uint32_t n[VG_LSKETCH_BINS];
} VgLatSketch;

/* floor(3 log2 ms), clamped to the bins, from the double's exponent and two comparisons of
 * its mantissa m in [1, 2) with the first doubles whose 3 log2 reaches 1 and 2 (2^(1/3),
 * 2^(2/3), rounded up): a log2() call per event was 1 % of a replay. */
static inline int vg_lsketch_bin(double ms)
{
    if (!(ms > 1.0))
        return 0;
    if (ms >= 0x1p16)
        return VG_LSKETCH_BINS - 1;
    uint64_t u;
    memcpy(&u, &ms, sizeof u);
    int e = (int)(u >> 52) - 1023;
    u = (u & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1023) << 52);
    double m;
    memcpy(&m, &u, sizeof m);
    int b = 3 * e + (m >= 0x1.428a2f98d728bp+0) + (m >= 0x1.965fea53d6e3dp+0);
    return b < VG_LSKETCH_BINS ? b : VG_LSKETCH_BINS - 1;
}
/* The q-quantile (0..1) of what was added, as the geometric middle of its bin; 0 if empty. */
double vg_lsketch_quantile(const VgLatSketch *s, double q);

#endif

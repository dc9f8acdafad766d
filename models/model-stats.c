/* model-stats.c — tail probabilities, HyperLogLog and the latency sketch.
 *
 * Tails are computed in log space because the interesting ones are tiny: a token that sends
 * 412 requests against a baseline of 35 has P(X >= 412) around 1e-250, and the alert should
 * still be able to say how strong the evidence is. The incomplete gamma and beta functions
 * use the classic series and continued fractions (modified Lentz), each used on the side of
 * its argument where it converges fast; lgamma_r is the reentrant libm function, so several
 * worker threads may call in here at once.
 */
#include "models/model-stats.h"

#include <float.h>

#define CF_EPS    1e-15
#define CF_TINY   1e-300
#define CF_MAX_IT 100000

double vg_ewma_alpha(double half_life_buckets)
{
    if (!(half_life_buckets > 0))
        return 1.0;
    return 1.0 - exp2(-1.0 / half_life_buckets);
}

static double lgam(double x)
{
    int sign;
    return lgamma_r(x, &sign);
}

/* log(1 - e^l) for l <= 0, accurate at both ends. */
static double log1m_exp(double l)
{
    if (l >= 0)
        return -INFINITY;
    return l > -0.693 ? log(-expm1(l)) : log1p(-exp(l));
}

/* Series for P(a, x), good for x < a + 1. Returns log P. */
static double gamma_p_series(double a, double x)
{
    double ap = a, sum = 1.0 / a, del = sum;
    for (int n = 0; n < CF_MAX_IT; n++) {
        ap += 1.0;
        del *= x / ap;
        sum += del;
        if (fabs(del) < fabs(sum) * CF_EPS)
            break;
    }
    return a * log(x) - x - lgam(a) + log(sum);
}

/* Continued fraction for Q(a, x), good for x >= a + 1. Returns log Q. */
static double gamma_q_cf(double a, double x)
{
    double b = x + 1.0 - a, c = 1.0 / CF_TINY, d = 1.0 / b, h = d;
    for (int i = 1; i < CF_MAX_IT; i++) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < CF_TINY)
            d = CF_TINY;
        c = b + an / c;
        if (fabs(c) < CF_TINY)
            c = CF_TINY;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < CF_EPS)
            break;
    }
    return a * log(x) - x - lgam(a) + log(h);
}

double vg_log_gamma_p(double a, double x)
{
    if (x <= 0)
        return -INFINITY;
    if (x < a + 1.0)
        return gamma_p_series(a, x);
    return log1m_exp(gamma_q_cf(a, x));
}

double vg_log_gamma_q(double a, double x)
{
    if (x <= 0)
        return 0.0;
    if (x < a + 1.0)
        return log1m_exp(gamma_p_series(a, x));
    return gamma_q_cf(a, x);
}

/* Continued fraction of the incomplete beta function (Lentz). */
static double beta_cf(double x, double a, double b)
{
    double qab = a + b, qap = a + 1.0, qam = a - 1.0;
    double c = 1.0, d = 1.0 - qab * x / qap;
    if (fabs(d) < CF_TINY)
        d = CF_TINY;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m < CF_MAX_IT; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < CF_TINY)
            d = CF_TINY;
        c = 1.0 + aa / c;
        if (fabs(c) < CF_TINY)
            c = CF_TINY;
        d = 1.0 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if (fabs(d) < CF_TINY)
            d = CF_TINY;
        c = 1.0 + aa / c;
        if (fabs(c) < CF_TINY)
            c = CF_TINY;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < CF_EPS)
            break;
    }
    return h;
}

double vg_log_beta_inc(double x, double a, double b)
{
    if (x <= 0)
        return -INFINITY;
    if (x >= 1)
        return 0.0;
    double lbt = lgam(a + b) - lgam(a) - lgam(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1.0) / (a + b + 2.0))
        return lbt + log(beta_cf(x, a, b)) - log(a);
    return log1m_exp(lbt + log(beta_cf(1.0 - x, b, a)) - log(b));
}

double vg_log_poisson_sf(double k, double lambda)
{
    if (k <= 0)
        return 0.0;
    if (!(lambda > 0))
        return -INFINITY;
    return vg_log_gamma_p(k, lambda); /* P(X >= k) = P(k, lambda) */
}

double vg_log_poisson_cdf(double k, double lambda)
{
    if (k < 0)
        return -INFINITY;
    if (!(lambda > 0))
        return 0.0;
    return vg_log_gamma_q(k + 1.0, lambda); /* P(X <= k) = Q(k + 1, lambda) */
}

/* NB(r, p) with mean m = r(1-p)/p and variance v = m/p: p = m/v, r = m^2/(v - m). */
double vg_log_negbin_sf(double k, double mean, double var)
{
    if (!(var > mean * (1.0 + 1e-9)))
        return vg_log_poisson_sf(k, mean);
    if (k <= 0)
        return 0.0;
    double p = mean / var, r = mean * mean / (var - mean);
    return vg_log_beta_inc(1.0 - p, k, r); /* P(X >= k) = I_{1-p}(k, r) */
}

double vg_log_negbin_cdf(double k, double mean, double var)
{
    if (!(var > mean * (1.0 + 1e-9)))
        return vg_log_poisson_cdf(k, mean);
    if (k < 0)
        return -INFINITY;
    double p = mean / var, r = mean * mean / (var - mean);
    return vg_log_beta_inc(p, r, k + 1.0); /* P(X <= k) = I_p(r, k + 1) */
}

double vg_log_normal_sf(double z)
{
    if (z < 25.0)
        return log(0.5 * erfc(z / M_SQRT2));
    /* Mills ratio asymptotics: phi(z)/z (1 - 1/z^2 + 3/z^4) */
    double z2 = z * z;
    return -0.5 * z2 - log(z) - 0.5 * log(2.0 * M_PI) + log1p(-1.0 / z2 + 3.0 / (z2 * z2));
}

/* The HLL's bias constant for VG_HLL_M registers. */
static double hll_alpha(void)
{
    return 0.7213 / (1.0 + 1.079 / VG_HLL_M);
}

static unsigned hll_zeros(const VgHll *h)
{
    unsigned zeros = 0;
    for (unsigned i = 0; i < VG_HLL_M; i++)
        zeros += h->reg[i] == 0;
    return zeros;
}

double vg_hll_estimate(const VgHll *h)
{
    const double m = VG_HLL_M;
    /* Small sets (most of them: an entry's HLL lives one bucket) end in linear counting,
     * which needs only the count of empty registers. Each empty register adds 1 to the sum
     * below, so with alpha m / 2.5 of them the raw estimate is at most 2.5 m whatever the
     * others hold (one more, so that rounding can not matter), and the sum of VG_HLL_M
     * table look-ups can be left out. The result is the same. */
    unsigned zeros = hll_zeros(h);
    if (zeros >= hll_alpha() * m / 2.5 + 1)
        return m * log(m / zeros);
    double sum = 0;
    static const double inv_pow2[33] = {
        1.0,     0x1p-1,  0x1p-2,  0x1p-3,  0x1p-4,  0x1p-5,  0x1p-6,  0x1p-7,  0x1p-8,
        0x1p-9,  0x1p-10, 0x1p-11, 0x1p-12, 0x1p-13, 0x1p-14, 0x1p-15, 0x1p-16, 0x1p-17,
        0x1p-18, 0x1p-19, 0x1p-20, 0x1p-21, 0x1p-22, 0x1p-23, 0x1p-24, 0x1p-25, 0x1p-26,
        0x1p-27, 0x1p-28, 0x1p-29, 0x1p-30, 0x1p-31, 0x1p-32};
    for (unsigned i = 0; i < VG_HLL_M; i++)
        sum += inv_pow2[h->reg[i] < 32 ? h->reg[i] : 32];
    double e = hll_alpha() * m * m / sum;
    if (e <= 2.5 * m && zeros > 0)
        e = m * log(m / zeros); /* linear counting for small cardinalities */
    return e;
}

double vg_distinct_small_estimate(const VgDistinct *d)
{
    if (d->mode == VG_DIST_EXACT)
        return d->n;
    int set =
        __builtin_popcount(d->v[0]) + __builtin_popcount(d->v[1]) + __builtin_popcount(d->v[2]);
    int zeros = 96 - set;
    if (zeros == 0)
        zeros = 1; /* saturated: the largest value it can tell */
    return 96.0 * log(96.0 / zeros);
}

void vg_distinct_to_linear(VgDistinct *d)
{
    uint32_t v[3] = {d->v[0], d->v[1], d->v[2]};
    int n = d->mode == VG_DIST_EXACT ? d->n : 0;
    memset(d->v, 0, sizeof d->v);
    d->mode = VG_DIST_LINEAR;
    for (int i = 0; i < n; i++)
        vg_distinct_linear_add(d, v[i]);
}

double vg_lsketch_quantile(const VgLatSketch *s, double q)
{
    uint64_t total = 0;
    for (int i = 0; i < VG_LSKETCH_BINS; i++)
        total += s->n[i];
    if (!total)
        return 0;
    double want = q * (double)total;
    uint64_t cum = 0;
    for (int i = 0; i < VG_LSKETCH_BINS; i++) {
        cum += s->n[i];
        if ((double)cum >= want && s->n[i])
            return exp2((i + 0.5) / 3.0);
    }
    return exp2((VG_LSKETCH_BINS - 0.5) / 3.0);
}

/* test-model-stats.c — the arithmetic of the models against closed forms and known values:
 * EWMA mean/variance, idle-gap decay, Poisson / negative binomial / normal tails, HLL error,
 * the latency sketch. Reference values were computed by summing the exact pmf in Python. */
#include "models/model-stats.h"

#include <criterion/criterion.h>

#define REL(a, b, tol)                                                                             \
    cr_assert(fabs((double)(a) - (double)(b)) <= (tol)*fabs((double)(b)), "%.12g vs %.12g", (a),   \
              (b))

Test(model_ewma, alpha_from_half_life)
{
    double a = vg_ewma_alpha(60);
    /* after 60 steps the weight of the past has halved */
    REL(pow(1 - a, 60), 0.5, 1e-12);
}

Test(model_ewma, cumulative_start_is_exact_mean_and_variance)
{
    double xs[] = {3, 7, 1, 9, 4, 4, 10};
    double mean = 0, var = 0;
    for (int i = 0; i < 7; i++)
        vg_ewma_step(&mean, &var, xs[i], 1.0 / (i + 1));
    double m = 0, v = 0;
    for (int i = 0; i < 7; i++)
        m += xs[i] / 7;
    for (int i = 0; i < 7; i++)
        v += (xs[i] - m) * (xs[i] - m) / 7;
    REL(mean, m, 1e-12);
    REL(var, v, 1e-12);
}

Test(model_ewma, constant_alpha_matches_weighted_sums)
{
    /* EW mean = sum w_i x_i with w_i = a (1-a)^(n-1-i) on a zero start; check the mean and
     * that the variance of a constant input decays to zero */
    double a = 0.1, mean = 0, var = 0, ref = 0;
    double xs[] = {5, 8, 2, 9, 9, 1, 0, 4};
    for (int i = 0; i < 8; i++)
        vg_ewma_step(&mean, &var, xs[i], a);
    for (int i = 0; i < 8; i++)
        ref += a * pow(1 - a, 7 - i) * xs[i];
    REL(mean, ref, 1e-12);
    mean = 10, var = 4;
    for (int i = 0; i < 500; i++)
        vg_ewma_step(&mean, &var, 10, a);
    cr_assert(var < 1e-20);
}

Test(model_ewma, idle_gap_closed_form_equals_steps)
{
    double a = vg_ewma_alpha(60);
    for (int k = 1; k <= 400; k *= 3) {
        double m1 = 37.5, v1 = 12.25, m2 = m1, v2 = v1;
        for (int i = 0; i < k; i++)
            vg_ewma_step(&m1, &v1, 0, a);
        vg_ewma_zeros(&m2, &v2, a, k);
        REL(m2, m1, 1e-9);
        REL(v2, v1, 1e-9);
    }
    /* one half-life of silence halves the mean */
    double m = 100, v = 0;
    vg_ewma_zeros(&m, &v, a, 60);
    REL(m, 50.0, 1e-9);
}

Test(model_tails, poisson_known_values)
{
    REL(exp(vg_log_poisson_sf(20, 5)), 3.452135820536384e-07, 1e-9);
    REL(exp(vg_log_poisson_sf(10, 10)), 0.5420702855281477, 1e-9);
    REL(exp(vg_log_poisson_sf(1, 0.5)), 0.3934693402873666, 1e-9);
    REL(exp(vg_log_poisson_cdf(20, 5)),
        1 - 3.452135820536384e-07 + exp(-5) * pow(5, 20) / tgamma(21), 1e-9);
    /* deep tail, far below double's range: log space */
    REL(vg_log_poisson_sf(412, 35), -642.6993383633846, 1e-9);
    cr_assert_eq(vg_log_poisson_sf(0, 3), 0);
}

Test(model_tails, negative_binomial_known_values)
{
    REL(exp(vg_log_negbin_sf(40, 10, 30)), 0.0001857780716830796, 1e-8);
    REL(exp(vg_log_negbin_cdf(2, 10, 30)), 0.04526748971193422, 1e-8);
    /* heavier than Poisson with the same mean */
    cr_assert(vg_log_negbin_sf(40, 10, 30) > vg_log_poisson_sf(40, 10));
    /* no overdispersion: Poisson */
    REL(vg_log_negbin_sf(20, 5, 5), vg_log_poisson_sf(20, 5), 1e-12);
}

Test(model_tails, normal_known_values)
{
    REL(exp(vg_log_normal_sf(5)), 2.866515718791946e-07, 1e-9);
    REL(exp(vg_log_normal_sf(30)), 4.906713927148764e-198, 1e-6);
    REL(exp(vg_log_normal_sf(0)), 0.5, 1e-12);
}

static uint32_t rnd32(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t x = *s;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (uint32_t)x;
}

Test(model_hll, error_within_bound)
{
    uint64_t seed = 42;
    const int ns[] = {10, 100, 1000, 10000, 100000};
    for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
        double worst = 0;
        for (int rep = 0; rep < 10; rep++) {
            VgHll h;
            memset(&h, 0, sizeof h);
            for (int i = 0; i < ns[t]; i++) {
                uint32_t v = rnd32(&seed);
                vg_hll_add(&h, v);
                vg_hll_add(&h, v); /* duplicates do not count */
            }
            double err = fabs(vg_hll_estimate(&h) - ns[t]) / ns[t];
            if (err > worst)
                worst = err;
        }
        /* 3.5 standard errors over 10 repetitions */
        cr_assert(worst <= 3.5 * VG_HLL_STDERR, "n=%d worst error %.3f", ns[t], worst);
    }
}

/* The estimate as the HyperLogLog paper writes it: the raw estimate from every register,
 * and linear counting below 2.5 m when a register is empty. */
static double hll_formula(const VgHll *h)
{
    double m = VG_HLL_M, sum = 0;
    int zeros = 0;
    for (unsigned i = 0; i < VG_HLL_M; i++) {
        sum += ldexp(1.0, -(int)h->reg[i]);
        zeros += h->reg[i] == 0;
    }
    double e = 0.7213 / (1.0 + 1.079 / m) * m * m / sum;
    return e <= 2.5 * m && zeros > 0 ? m * log(m / zeros) : e;
}

/* vg_hll_estimate() leaves the sum out while enough registers are empty: the same value at
 * every size, through the cut-over from linear counting to the raw estimate (a raw
 * estimate above 2.5 m, near 600 values here). Taking the short cut whenever a register is
 * empty fails at n = 593. */
Test(model_hll, estimate_is_the_formula_at_every_size)
{
    uint64_t seed = 9;
    for (int rep = 0; rep < 4; rep++) {
        VgHll h;
        memset(&h, 0, sizeof h);
        bool raw_seen = false;
        for (int n = 0; n <= 1200; n++) {
            double want = hll_formula(&h), got = vg_hll_estimate(&h);
            cr_assert(got == want, "n=%d: %.17g, the formula gives %.17g", n, got, want);
            raw_seen = raw_seen || want > 2.5 * VG_HLL_M;
            vg_hll_add(&h, rnd32(&seed));
        }
        cr_assert(raw_seen);
    }
}

Test(model_hll, small_sets_are_exact_then_linear)
{
    VgDistinct d;
    memset(&d, 0, sizeof d);
    d.v[0] = 11, d.v[1] = 22, d.n = 2;
    cr_assert_eq(vg_distinct_small_estimate(&d), 2);
    d.v[2] = 33, d.n = 3;
    vg_distinct_to_linear(&d);
    cr_assert_eq(d.mode, VG_DIST_LINEAR);
    double e = vg_distinct_small_estimate(&d);
    cr_assert(e >= 2.9 && e <= 3.2, "%g", e);
    uint64_t s = 7;
    for (int i = 0; i < 40; i++)
        vg_distinct_linear_add(&d, rnd32(&s));
    e = vg_distinct_small_estimate(&d);
    cr_assert(e > 30 && e < 60, "%g", e);
}

/* The bin is floor(3 log2 ms) worked out exactly (log2l, 64-bit mantissa), clamped to the
 * bins: at and around every bin edge 2^(k/3), for the edges' neighbouring doubles, for
 * decimal latencies as logs carry them, and below 1 ms, NaN and far above the last bin. */
static int bin_exact(double ms)
{
    if (!(ms > 1.0))
        return 0;
    long double b = floorl(3.0L * log2l((long double)ms));
    return b < VG_LSKETCH_BINS ? (int)b : VG_LSKETCH_BINS - 1;
}

Test(model_sketch, latency_bin_is_floor_of_three_log2)
{
    for (int k = 0; k <= 3 * VG_LSKETCH_BINS; k++) {
        double edge = (double)powl(2.0L, k / 3.0L), x = edge;
        for (int i = 0; i < 4; i++)
            x = nextafter(x, 0);
        for (int i = 0; i < 9; i++, x = nextafter(x, INFINITY))
            cr_assert_eq(vg_lsketch_bin(x), bin_exact(x), "%a (edge %d)", x, k);
    }
    for (int i = 0; i <= 2000000; i++) {
        double ms = i / 1000.0; /* 0 .. 2000 ms in steps of 1 µs */
        cr_assert_eq(vg_lsketch_bin(ms), bin_exact(ms), "%.3f", ms);
    }
    const double odd[] = {0, -1, 1, 1e-300, 65535.9, 65536, 1e9, INFINITY, NAN};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        cr_assert_eq(vg_lsketch_bin(odd[i]), bin_exact(odd[i]), "%g", odd[i]);
}

Test(model_sketch, latency_quantile)
{
    VgLatSketch s;
    memset(&s, 0, sizeof s);
    for (int i = 1; i <= 1000; i++)
        s.n[vg_lsketch_bin(i)]++;
    double q = vg_lsketch_quantile(&s, 0.95);
    cr_assert(q > 950 / 1.3 && q < 950 * 1.3, "%g", q);
}

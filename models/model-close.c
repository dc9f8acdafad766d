/* model-close.c — what happens when a key's bucket closes: catch up over idle buckets,
 * test the bucket against the key's baseline (or, for a new key, against the population
 * of its kind), fold it into the baseline, and queue an alert when it is improbable.
 *
 * The tests, in order of preference for each metric type:
 *   counts and distinct counts: Poisson upper tail; negative binomial when the baseline's
 *     variance exceeds `overdispersion` times its mean (bursty keys); a z-score only when the
 *     expected count is large (`z_min_mean`), where the normal approximation is sound;
 *   5xx share: the 5xx count against baseline share × this bucket's requests (Poisson);
 *   sums (bytes) and means (latency): z-score with a floor on the standard deviation
 *     relative to the mean, since these have no natural count model.
 * Every test also needs the value to reach a minimum volume, an effect size (ratio and
 * difference to the baseline) and to exceed the seasonal envelope (`seasonal_factor` × the
 * key's decayed peak): significance alone is cheap on big keys, and an hourly batch that
 * the key has done before is not news. The threshold on p is fixed per test
 * (`p_threshold`, 1e-7 by default) rather than divided by the number of keys tested in the
 * bucket: that number depends on how keys are sharded across workers, and a fixed small p
 * keeps the expected false alarms from chance under 0.01 per bucket for 1e5 tests.
 *
 * Determinism: a close uses only the key's own state and the population folded up to the
 * previous bucket (population histograms are integer counts per bucket, so the order in
 * which keys add to them does not matter). Alerts raised by closes are queued and emitted
 * when the bucket is closed for all keys, sorted by (bucket, kind, metric, key), so the
 * output order does not depend on table layout or on which event triggered a close.
 */
#include "models/model-int.h"

static void catch_up(const VgModels *m, VgEwma *w, VgMetricType type, uint32_t gap)
{
    if (!gap)
        return;
    if (type == VG_MT_COUNT || type == VG_MT_DISTINCT || type == VG_MT_SUM) {
        double mean = w->mean, var = w->var;
        unsigned n = w->flags & VG_EW_NMASK;
        uint32_t k = gap;
        /* warm-up: cumulative mean while 1/(n+1) > alpha, then the closed form */
        while (k > 0 && 1.0 / (n + 1) > m->alpha) {
            vg_ewma_step(&mean, &var, 0.0, 1.0 / (n + 1));
            n++;
            k--;
        }
        if (k > 0) {
            /* vg_ewma_zeros with (1-alpha)^k from the table for short gaps */
            double b = k < VG_POW_TABLE ? m->pow_keep[k] : pow(1.0 - m->alpha, k);
            var = b * (var + mean * mean * (1.0 - b));
            mean *= b;
        }
        n = n + k > VG_EW_NMASK ? VG_EW_NMASK : n + k;
        w->mean = (float)mean;
        w->var = (float)var;
        w->flags = (uint8_t)((w->flags & VG_EW_ALERTED) | n);
    }
    w->peak =
        (float)(w->peak * (gap < VG_POW_TABLE ? m->pow_seasonal[gap] : pow(m->beta_seasonal, gap)));
    w->hist = gap >= 8 ? 0 : (uint8_t)(w->hist << gap);
    if (gap >= m->cooldown_b)
        w->flags &= (uint8_t)~VG_EW_ALERTED;
}

static double count_logp_up(const VgModels *m, double x, double mu, double var)
{
    if (mu < 0.05)
        mu = 0.05;
    if (mu >= m->conf.z_min_mean) {
        double sd = sqrt(var > mu ? var : mu);
        return vg_log_normal_sf((x - 0.5 - mu) / sd);
    }
    if (var > m->conf.overdispersion * mu)
        return vg_log_negbin_sf(floor(x), mu, var);
    return vg_log_poisson_sf(floor(x), mu);
}

static double count_logp_down(const VgModels *m, double x, double mu, double var)
{
    if (mu >= m->conf.z_min_mean) {
        double sd = sqrt(var > mu ? var : mu);
        return vg_log_normal_sf((mu - x - 0.5) / sd);
    }
    if (var > m->conf.overdispersion * mu)
        return vg_log_negbin_cdf(ceil(x), mu, var);
    return vg_log_poisson_cdf(ceil(x), mu);
}

/* The test against the key's own baseline. n_req: requests in the bucket (for shares). */
static VgVerdict test_own(const VgModels *m, VgModelMetric mi, const VgEwma *w, double x,
                          double n_req)
{
    const VgMetricConf *mc = &m->conf.metric[mi];
    VgMetricType type = vg_metric_info[mi].type;
    VgVerdict v = {.tested = true, .logp = 0, .model_kind = "ewma"};
    double mu = w->mean > 0 ? w->mean : 0, var = w->var > 0 ? w->var : 0;
    v.expected = mu;
    v.sd = sqrt(var);
    double log_thr = log(m->conf.p_threshold);

    if (type == VG_MT_SHARE) {
        double share = mu < 0.002 ? 0.002 : mu;
        double e = share * n_req;
        v.expected = e;
        v.sd = sqrt(e);
        v.score = (x - e) / sqrt(e > 1 ? e : 1);
        v.model_kind = "ewma-binomial";
        if ((mc->direction & VG_DIR_UP) && x >= mc->min_volume && x >= mc->min_ratio * e &&
            x - e >= mc->min_delta &&
            x / (n_req > 0 ? n_req : 1) > m->conf.seasonal_factor * w->peak) {
            v.logp = vg_log_poisson_sf(floor(x), e);
            v.anomalous = v.logp <= log_thr;
        }
        return v;
    }
    if (type == VG_MT_COUNT || type == VG_MT_DISTINCT) {
        double sd_eff = sqrt(var > mu ? var : (mu > 1 ? mu : 1));
        v.score = (x - mu) / sd_eff;
        v.model_kind = mu >= m->conf.z_min_mean            ? "ewma-z"
                       : var > m->conf.overdispersion * mu ? "ewma-negbin"
                                                           : "ewma-poisson";
        if ((mc->direction & VG_DIR_UP) && x >= mc->min_volume && x >= mc->min_ratio * mu &&
            x - mu >= mc->min_delta && x > m->conf.seasonal_factor * w->peak) {
            v.logp = count_logp_up(m, x, mu, var);
            v.anomalous = v.logp <= log_thr;
        } else if ((mc->direction & VG_DIR_DOWN) && mu >= mc->min_volume &&
                   mu >= mc->min_ratio * x && mu - x >= mc->min_delta) {
            v.logp = count_logp_down(m, x, mu, var);
            v.anomalous = v.logp <= log_thr;
            v.down = true;
        }
        return v;
    }
    /* sums and means: z-score with a floor on the deviation */
    /* sizes are heavy-tailed: the deviation is at least half the mean */
    double rel = type == VG_MT_SUM ? 0.5 : 0.1, abs_floor = type == VG_MT_SUM ? 1024 : 5;
    double sd_eff = v.sd;
    if (sd_eff < rel * mu)
        sd_eff = rel * mu;
    if (sd_eff < abs_floor)
        sd_eff = abs_floor;
    v.score = (x - mu) / sd_eff;
    v.model_kind = "ewma-z";
    if ((mc->direction & VG_DIR_UP) && x >= mc->min_volume && x >= mc->min_ratio * mu &&
        x - mu >= mc->min_delta && x > m->conf.seasonal_factor * w->peak) {
        v.logp = vg_log_normal_sf(v.score);
        v.anomalous = v.logp <= log_thr;
    } else if ((mc->direction & VG_DIR_DOWN) && mu >= mc->min_volume && mu >= mc->min_ratio * x &&
               mu - x >= mc->min_delta) {
        v.score = (mu - x) / sd_eff;
        v.logp = vg_log_normal_sf(v.score);
        v.anomalous = v.logp <= log_thr;
        v.down = true;
    }
    return v;
}

/* A new key: compared with a high quantile of what keys of its kind do per bucket. */
static VgVerdict test_population(const VgModels *m, VgKindState *ks, VgModelMetric mi, double x)
{
    const VgMetricConf *mc = &m->conf.metric[mi];
    const VgPop *p = &ks->pop[mi];
    VgVerdict v = {.population = true, .model_kind = "population"};
    if (p->total < m->conf.population_min_weight)
        return v;
    v.tested = true;
    /* the same for every new key of the bucket: worked out once (it is >= 1 once asked) */
    if (!ks->pop_q[mi])
        ks->pop_q[mi] = vg_pop_quantile(p, m->conf.population_quantile);
    double q = ks->pop_q[mi];
    double lam = q > 1 ? q : 1;
    v.expected = lam;
    v.sd = sqrt(lam);
    v.score = (x - lam) / v.sd;
    if ((mc->direction & VG_DIR_UP) && x >= mc->min_volume &&
        x >= m->conf.population_factor * lam && x - lam >= mc->min_delta) {
        v.logp = vg_log_poisson_sf(floor(x), lam);
        v.anomalous = v.logp <= log(m->conf.p_threshold);
    }
    return v;
}

double vg_pop_quantile(const VgPop *p, double q)
{
    if (!(p->total > 0))
        return 0;
    double want = q * p->total, cum = 0;
    for (int i = 0; i < VG_POP_BINS; i++) {
        cum += p->w[i];
        if (cum >= want && p->w[i] > 0)
            return i == 0 ? 1.0 : exp2(i / 4.0); /* upper edge of bin i */
    }
    return exp2((VG_POP_BINS - 1) / 4.0);
}

/* ---- closing ------------------------------------------------------------------------------- */

static void pop_add(VgKindState *ks, VgModelMetric mi, uint32_t b, double x)
{
    VgPopHist *h = &ks->hist[b & 3][mi];
    if (h->bucket != b) {
        memset(h, 0, sizeof *h);
        h->bucket = b;
    }
    h->n[vg_pop_bin(x)]++;
    h->total++;
}

static double distinct_value(const VgModels *m, const VgDistinct *d)
{
    if (d->mode == VG_DIST_HLL)
        return round(vg_hll_estimate(&m->hll[d->v[0]]));
    return round(vg_distinct_small_estimate(d));
}

static bool has_hll(const VgKindState *ks, VgEntryHead *e)
{
    for (int mi = VG_MM_D_IPS; mi < VG_MM__COUNT; mi++)
        if (ks->layout.dist_off[mi] && vg_entry_dist(ks, e, mi)->mode == VG_DIST_HLL)
            return true;
    return false;
}

void vg_models_release_slot(VgModels *m, VgKindState *ks, VgEntryHead *e)
{
    if (has_hll(ks, e))
        vg_models_hll_flush(m); /* before its HLLs go back to the pool */
    const VgLayout *L = &ks->layout;
    for (int mi = 0; mi < VG_MM__COUNT; mi++) {
        if (!L->dist_off[mi])
            continue;
        VgDistinct *d = vg_entry_dist(ks, e, mi);
        if (d->mode == VG_DIST_HLL) {
            m->hll_free[m->n_hll_free++] = d->v[0];
            m->stats.hll_in_use--;
        }
    }
    if (e->sample) {
        m->sample_free[m->n_sample_free++] = e->sample - 1;
        e->sample = 0;
    }
    memset((uint8_t *)e + L->slot_off, 0, L->slot_size);
    e->req = 0;
    e->slot_bucket = VG_NO_BUCKET;
}

void vg_models_close_entry(VgModels *m, VgKindState *ks, uint32_t ei, uint32_t b, VgDetectCtx *ctx)
{
    (void)ctx;
    VgModelKind k = (VgModelKind)(ks - m->kind);
    VgEntryHead *e = vg_table_entry(&ks->table, ei);
    const VgLayout *L = &ks->layout;
    if (has_hll(ks, e))
        vg_models_hll_flush(m); /* its estimates need every add */
    uint32_t gap = b > e->closed + 1 ? b - e->closed - 1 : 0;
    bool may_alert = m->started && b >= m->first_bucket + (uint32_t)m->conf.start_buckets;
    double n_req = e->req;
    VgEwma *ew = vg_entry_ewma(ks, e);
    m->stats.buckets_closed++;

    for (int mi = 0; mi < VG_MM__COUNT; mi++) {
        if (L->midx[mi] < 0)
            continue;
        VgEwma *w = &ew[L->midx[mi]];
        VgMetricType type = vg_metric_info[mi].type;
        catch_up(m, w, type, gap);

        double x;
        switch (mi) {
        case VG_MM_REQUESTS:
            x = n_req;
            break;
        case VG_MM_LAT_MEAN: {
            float *acc = vg_entry_acc(ks, e, mi);
            if (acc[1] < m->conf.min_requests_latency)
                continue;
            x = acc[0] / acc[1];
            break;
        }
        case VG_MM_LAT_P95:
            if (n_req < m->conf.min_requests_latency)
                continue;
            x = vg_lsketch_quantile((const VgLatSketch *)((uint8_t *)e + L->sketch_off), 0.95);
            break;
        case VG_MM_5XX:
            if (n_req < 1)
                continue;
            x = *vg_entry_acc(ks, e, mi);
            break;
        default:
            x = L->dist_off[mi] ? distinct_value(m, vg_entry_dist(ks, e, mi))
                                : *vg_entry_acc(ks, e, mi);
        }

        unsigned n = w->flags & VG_EW_NMASK;
        VgVerdict v = {0};
        bool countish = type == VG_MT_COUNT || type == VG_MT_DISTINCT;
        if (n >= m->conf.warmup_buckets || (n == VG_EW_NMASK)) {
            v = test_own(m, mi, w, x, n_req);
        } else if (countish && m->conf.kind[k].population) {
            v = test_population(m, ks, mi, x);
        }
        if (v.tested)
            m->stats.tests++;

        /* fold into the baseline, winsorized when anomalous */
        double upd = type == VG_MT_SHARE ? x / n_req : x;
        if (v.anomalous) {
            double mu = v.population ? v.expected * m->conf.population_factor : w->mean;
            double var = w->var;
            double sd = sqrt(var > mu ? var : (mu > 1 ? mu : 1));
            if (type == VG_MT_SHARE) {
                upd = w->mean; /* a storm is not a new normal */
            } else if (v.population) {
                upd = upd < mu ? upd : mu;
            } else if (v.down) {
                double lo = mu - m->conf.winsor_sigma * sd;
                upd = upd > lo ? upd : lo;
            } else {
                double hi = mu + m->conf.winsor_sigma * sd;
                upd = upd < hi ? upd : hi;
            }
        }
        VgEwma before = *w; /* what the test saw, for the alert text */
        double mean = w->mean, var = w->var;
        double alpha = 1.0 / (n + 1) > m->alpha ? 1.0 / (n + 1) : m->alpha;
        vg_ewma_step(&mean, &var, upd, alpha);
        w->mean = (float)mean;
        w->var = (float)var;
        w->flags = (uint8_t)((w->flags & VG_EW_ALERTED) | (n < VG_EW_NMASK ? n + 1 : n));
        /* the envelope remembers what the key did, anomalous or not: a pattern seen once
         * (and alerted on) is not news the next time within the seasonal half-life */
        double pk = w->peak * m->beta_seasonal;
        double pv = type == VG_MT_SHARE ? x / n_req : x;
        w->peak = (float)(pv > pk ? pv : pk);

        if (countish && m->conf.kind[k].population)
            pop_add(ks, mi, b, x);

        /* persistence and cooldown */
        unsigned nmask = (1u << m->conf.persist_n) - 1;
        w->hist = (uint8_t)(((w->hist << 1) | v.anomalous) & nmask);
        if (w->flags & VG_EW_ALERTED) {
            uint16_t since = (uint16_t)((uint16_t)b - w->last_alert);
            if (since >= m->cooldown_b)
                w->flags &= (uint8_t)~VG_EW_ALERTED;
        }
        if (v.anomalous && may_alert && __builtin_popcount(w->hist) >= m->conf.persist_m &&
            !(w->flags & VG_EW_ALERTED)) {
            w->flags |= VG_EW_ALERTED;
            w->last_alert = (uint16_t)b;
            vg_models_queue_alert(m, ks, k, mi, e, b, &v, x, n_req, &before);
        }
    }
    /* activity bits for eviction: bit 0 is this bucket */
    uint32_t shift = b - e->closed;
    e->activity = (shift >= 32 ? 0 : e->activity << shift) | 1u;
    e->closed = b;
    vg_models_release_slot(m, ks, e);
}

/* A key active in b-1 and silent in b: "traffic stopped" (requests, direction down). */
static void test_silence(VgModels *m, VgKindState *ks, VgEntryHead *e, uint32_t b)
{
    VgModelKind k = (VgModelKind)(ks - m->kind);
    int idx = ks->layout.midx[VG_MM_REQUESTS];
    if (idx < 0)
        return;
    VgEwma w = vg_entry_ewma(ks, e)[idx];
    uint32_t gap = b > e->closed ? b - e->closed : 0; /* b itself is empty too */
    if (gap > 1)
        catch_up(m, &w, VG_MT_COUNT, gap - 1);
    if ((w.flags & VG_EW_NMASK) < m->conf.warmup_buckets)
        return;
    VgVerdict v = test_own(m, VG_MM_REQUESTS, &w, 0, 0);
    m->stats.tests++;
    if (!v.anomalous || !v.down)
        return;
    if (!(m->started && b >= m->first_bucket + (uint32_t)m->conf.start_buckets))
        return;
    VgEwma *real = &vg_entry_ewma(ks, e)[idx];
    if ((real->flags & VG_EW_ALERTED) && (uint16_t)((uint16_t)b - real->last_alert) < m->cooldown_b)
        return;
    real->flags |= VG_EW_ALERTED;
    real->last_alert = (uint16_t)b;
    vg_models_queue_alert(m, ks, k, VG_MM_REQUESTS, e, b, &v, 0, 0, &w);
}

/* How many entries ahead of its close an entry of a dirty list is asked for. */
enum { CLOSE_AHEAD = 8 };

void vg_models_close_bucket(VgModels *m, uint32_t b, VgDetectCtx *ctx)
{
    for (int k = 0; k < VG_MK__COUNT; k++) {
        if (!m->conf.kind[k].enabled)
            continue;
        VgKindState *ks = &m->kind[k];
        VgModelTable *t = &ks->table;
        VgDirtyList *l = &t->dirty[b & 3];
        if (l->bucket == b) {
            bool all = l->n == UINT32_MAX;
            uint32_t n = all ? t->n_entries : l->n;
            for (uint32_t i = 0; i < n; i++) {
                uint32_t ei = all ? i : l->idx[i];
                /* the list is in the order the entries opened the bucket, scattered over
                 * the table: each would be a miss by the time it is closed */
                if (!all && i + CLOSE_AHEAD < n)
                    vg_table_prefetch_entry(t, l->idx[i + CLOSE_AHEAD]);
                VgEntryHead *e = vg_table_entry(t, ei);
                if (e->hash && e->slot_bucket == b)
                    vg_models_close_entry(m, ks, ei, b, ctx);
            }
        }
        if (m->conf.metric[VG_MM_REQUESTS].direction & VG_DIR_DOWN) {
            VgDirtyList *pl = &t->dirty[(b - 1) & 3];
            if (pl->bucket == b - 1) {
                bool all = pl->n == UINT32_MAX;
                uint32_t n = all ? t->n_entries : pl->n;
                for (uint32_t i = 0; i < n; i++) {
                    VgEntryHead *e = vg_table_entry(t, all ? i : pl->idx[i]);
                    if (e->hash && e->last_active == b - 1 && e->slot_bucket == VG_NO_BUCKET)
                        test_silence(m, ks, e, b);
                }
            }
        }
        /* the list of b-1 is done (b's stays for the silence test of b+1) */
        VgDirtyList *old = &t->dirty[(b - 1) & 3];
        if (old->bucket == b - 1) {
            old->n = 0;
            old->bucket = VG_NO_BUCKET;
        }
    }
    /* fold the population of bucket b: every kind's closes are done, so with shards the
     * histograms of all of them can be summed first (a kind's closes read only its own
     * population, which is why folding after the loop changes nothing) */
    vg_models_sync_pop(m, b);
    for (int k = 0; k < VG_MK__COUNT; k++) {
        if (!m->conf.kind[k].enabled)
            continue;
        VgKindState *ks = &m->kind[k];
        for (int mi = 0; mi < VG_MM__COUNT; mi++) {
            VgPopHist *h = &ks->hist[b & 3][mi];
            if (h->bucket != b || !h->total)
                continue;
            VgPop *p = &ks->pop[mi];
            ks->pop_q[mi] = 0;
            float keep = (float)(1.0 - m->alpha_pop);
            p->total = 0;
            for (int i = 0; i < VG_POP_BINS; i++) {
                p->w[i] = p->w[i] * keep + (float)h->n[i];
                p->total += p->w[i];
            }
            memset(h, 0, sizeof *h);
            h->bucket = VG_NO_BUCKET;
        }
    }
    vg_models_emit_pending(m, b, ctx);
}

/* sigma-test.c — one SigTest against one event, the general way.
 *
 * Everything a test can ask is handled here: values of any kind (strings, numbers,
 * booleans, null, dotted fields the decoder looks up), patterns on text and on numbers,
 * numeric comparisons, date parts, CIDR ranges, regular expressions (after their literal
 * and digit-run pre-checks) and field references. sigma-eval.c answers the common cases
 * (a string test on a scanned field, a number on an integer field) on a short path of its
 * own and comes here for the rest. Nothing here allocates: numbers compared as text are
 * formatted into stack buffers, and the decoder's dotted look-ups use the caller's arena.
 *
 * Case-insensitive matching folds ASCII letters only (A-Z); other bytes compare as they
 * are. Rule literals were folded when the rule was loaded.
 */
#include "rules/sigma.h"

#include "engine/privacy.h"

#include "engine/decoder.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <time.h>

bool sig_field_is_scannable(int id)
{
    return id == SIG_FIELD_RAW ||
           (id >= 0 && id < VG_F__COUNT && vg_field_info[id].type == VG_FT_STR);
}

void sig_field_get(const SigField *f, const VgEvent *ev, VgArena *arena, VgValue *out)
{
    if (f->id >= 0 && f->id < VG_F__COUNT) {
        vg_event_get(ev, (VgFieldId)f->id, out);
        return;
    }
    memset(out, 0, sizeof *out);
    if (f->id == SIG_FIELD_RAW) {
        if (ev->raw.p) {
            out->kind = VG_V_STR;
            out->s = ev->raw;
        }
        return;
    }
    /* a dotted source path: the decoder that made the event knows it (resolved to
     * VG_F_EXTRA at load time, so no name comparison against canonical fields here) */
    if (ev->decoder && ev->decoder->ops->lookup)
        ev->decoder->ops->lookup(ev->decoder, ev, f->name, f->name_len, out, arena);
}

/* Text of a value for string comparisons; false when there is none. */
static bool value_text(const VgValue *v, char *buf, size_t cap, VgStr *out)
{
    switch (v->kind) {
    case VG_V_STR:
        *out = v->s.p ? v->s : vg_str("", 0);
        return true;
    case VG_V_INT:
        *out = vg_str(buf, (size_t)snprintf(buf, cap, "%lld", (long long)v->i));
        return true;
    case VG_V_DOUBLE:
        *out = vg_str(buf, (size_t)snprintf(buf, cap, "%.15g", v->d));
        return true;
    case VG_V_BOOL:
        *out = v->i ? VG_STR_LIT("true") : VG_STR_LIT("false");
        return true;
    default:
        return false;
    }
}

static inline bool eq_bytes(const char *h, const char *lit, size_t n, bool cased)
{
    if (cased)
        return memcmp(h, lit, n) == 0;
    for (size_t i = 0; i < n; i++)
        if (sig_fold[(uint8_t)h[i]] != (uint8_t)lit[i])
            return false;
    return true;
}

static bool find_bytes(const char *h, size_t hn, const char *lit, size_t n, bool cased)
{
    if (n == 0)
        return true;
    if (n > hn)
        return false;
    if (cased)
        return memmem(h, hn, lit, n) != NULL;
    uint8_t first = (uint8_t)lit[0];
    if (sig_fold[first] == first && (first < 'a' || first > 'z')) { /* nothing else folds to it */
        const char *p = h, *last = h + (hn - n);
        while (p <= last && (p = memchr(p, first, (size_t)(last - p) + 1)) != NULL) {
            if (eq_bytes(p + 1, lit + 1, n - 1, false))
                return true;
            p++;
        }
        return false;
    }
    for (size_t i = 0; i + n <= hn; i++)
        if (sig_fold[(uint8_t)h[i]] == first && eq_bytes(h + i + 1, lit + 1, n - 1, false))
            return true;
    return false;
}

/* Bytes of one UTF-8 character starting at p (1 for anything malformed). */
static inline size_t utf8_step(const char *p, size_t left)
{
    uint8_t b = (uint8_t)*p;
    size_t n = b < 0xC0 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : b < 0xF8 ? 4 : 1;
    return n <= left ? n : 1;
}

/* `*` and `?` (one character) with a single back-track point: correct for these two
 * wildcards, and linear in practice. */
static bool glob_match(const SigPattern *p, const char *h, size_t hn)
{
    int ti = 0, star = -1;
    size_t hi = 0, star_hi = 0;
    for (;;) {
        if (ti < p->n_toks) {
            const SigTok *t = &p->toks[ti];
            if (t->kind == SIG_TOK_STAR) {
                if (ti == p->n_toks - 1)
                    return true;
                star = ++ti;
                star_hi = hi;
                continue;
            }
            if (t->kind == SIG_TOK_QMARK) {
                if (hi < hn) {
                    hi += utf8_step(h + hi, hn - hi);
                    ti++;
                    continue;
                }
            } else if (hi + t->len <= hn && eq_bytes(h + hi, p->lit + t->off, t->len, p->cased)) {
                hi += t->len;
                ti++;
                continue;
            }
        } else if (hi == hn) {
            return true;
        }
        if (star < 0 || star_hi >= hn)
            return false;
        star_hi += utf8_step(h + star_hi, hn - star_hi);
        hi = star_hi;
        ti = star;
    }
}

bool sig_pat_direct(const SigPattern *p, const char *h, size_t hn)
{
    switch (p->kind) {
    case SIG_PAT_EXACT:
        return hn == p->lit_len && eq_bytes(h, p->lit, hn, p->cased);
    case SIG_PAT_PREFIX:
        return hn >= p->lit_len && eq_bytes(h, p->lit, p->lit_len, p->cased);
    case SIG_PAT_SUFFIX:
        return hn >= p->lit_len && eq_bytes(h + hn - p->lit_len, p->lit, p->lit_len, p->cased);
    case SIG_PAT_CONTAINS:
        return find_bytes(h, hn, p->lit, p->lit_len, p->cased);
    case SIG_PAT_ANY:
        return true;
    default:
        return glob_match(p, h, hn);
    }
}

static bool pat_value(const SigPattern *p, const SigTest *t, const VgValue *v,
                      const VgRuleScratch *s)
{
    if (v->kind == VG_V_STR) {
        const char *h = v->s.p ? v->s.p : "";
        if (s->scanned && sig_field_is_scannable(t->field.id))
            return sig_pat_scanned(p, h, v->s.len, s);
        return sig_pat_direct(p, h, v->s.len);
    }
    if (p->kind == SIG_PAT_EXACT && p->has_num) {
        if (v->kind == VG_V_INT)
            return p->num_is_int ? v->i == p->num_i : (double)v->i == p->num_d;
        if (v->kind == VG_V_DOUBLE)
            return v->d == p->num_d;
    }
    char buf[48];
    VgStr txt;
    if (!value_text(v, buf, sizeof buf, &txt))
        return false;
    return sig_pat_direct(p, txt.p, txt.len);
}

static bool num_of(const VgValue *v, SigNum *out)
{
    switch (v->kind) {
    case VG_V_INT:
        out->is_int = true;
        out->i = v->i;
        out->d = (double)v->i;
        return true;
    case VG_V_DOUBLE:
        out->is_int = false;
        out->d = v->d;
        return true;
    case VG_V_STR:
        return sig_parse_number(v->s.p, v->s.len, out);
    default:
        return false;
    }
}

static bool num_cmp(const SigNum *have, const SigNum *want)
{
    int c;
    if (have->is_int && want->is_int)
        c = have->i < want->i ? -1 : have->i > want->i;
    else
        c = have->d < want->d ? -1 : have->d > want->d;
    return sig_cmp_holds(c, want->cmp);
}

static int digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

/* A date out of a value: ms since the epoch (numbers), or ISO 8601 text read as written
 * (the specification says the date parts do no time zone conversion). */
static bool tm_of(const VgValue *v, struct tm *tm)
{
    memset(tm, 0, sizeof *tm);
    if (v->kind == VG_V_INT || v->kind == VG_V_DOUBLE) {
        int64_t ms = v->kind == VG_V_INT ? v->i : (int64_t)v->d;
        int64_t sec = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
        time_t t = (time_t)sec;
        return gmtime_r(&t, tm) != NULL;
    }
    if (v->kind != VG_V_STR || v->s.len < 10)
        return false;
    const char *p = v->s.p;
    int y = digits(p, 4), mo = digits(p + 5, 2), d = digits(p + 8, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || p[4] != '-' || p[7] != '-')
        return false;
    int h = 0, mi = 0;
    if (v->s.len >= 16 && (p[10] == 'T' || p[10] == ' ') && p[13] == ':') {
        h = digits(p + 11, 2);
        mi = digits(p + 14, 2);
        if (h < 0 || h > 23 || mi < 0 || mi > 59)
            return false;
    }
    /* normalise through timegm to get the weekday and day of year */
    tm->tm_year = y - 1900;
    tm->tm_mon = mo - 1;
    tm->tm_mday = d;
    tm->tm_hour = h;
    tm->tm_min = mi;
    time_t t = timegm(tm);
    return gmtime_r(&t, tm) != NULL;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ISO 8601 week number (1-53). */
static int iso_week(const struct tm *tm)
{
    int wday = (tm->tm_wday + 6) % 7; /* Monday 0 */
    int w = (tm->tm_yday - wday + 10) / 7;
    if (w < 1) {
        int py = tm->tm_year + 1900 - 1;
        int pdays = leap(py) ? 366 : 365;
        struct tm prev = *tm;
        prev.tm_yday = tm->tm_yday + pdays;
        prev.tm_year--;
        return iso_week(&prev);
    }
    int days = leap(tm->tm_year + 1900) ? 366 : 365;
    if (tm->tm_yday - wday + 3 >= days) /* the Thursday of this week is next year */
        return 1;
    return w;
}

static bool date_part(const VgValue *v, int part, SigNum *out)
{
    struct tm tm;
    if (!tm_of(v, &tm))
        return false;
    int r;
    switch (part) {
    case SIG_DATE_MINUTE:
        r = tm.tm_min;
        break;
    case SIG_DATE_HOUR:
        r = tm.tm_hour;
        break;
    case SIG_DATE_DAY:
        r = tm.tm_mday;
        break;
    case SIG_DATE_WEEK:
        r = iso_week(&tm);
        break;
    case SIG_DATE_MONTH:
        r = tm.tm_mon + 1;
        break;
    default:
        r = tm.tm_year + 1900;
        break;
    }
    out->is_int = true;
    out->i = r;
    out->d = r;
    return true;
}

static bool ip_of(const VgValue *v, SigCidr *ip)
{
    char buf[64];
    if (v->kind != VG_V_STR || v->s.len == 0 || v->s.len >= sizeof buf)
        return false;
    memcpy(buf, v->s.p, v->s.len);
    buf[v->s.len] = '\0';
    memset(ip, 0, sizeof *ip);
    if (inet_pton(AF_INET, buf, ip->addr) == 1) {
        ip->family = 4;
        return true;
    }
    if (inet_pton(AF_INET6, buf, ip->addr) != 1)
        return false;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    if (!memcmp(ip->addr, mapped, 12)) { /* ::ffff:a.b.c.d is an IPv4 address */
        memmove(ip->addr, ip->addr + 12, 4);
        memset(ip->addr + 4, 0, 12);
        ip->family = 4;
        return true;
    }
    ip->family = 6;
    return true;
}

static bool in_cidr(const SigCidr *ip, const SigCidr *net)
{
    if (ip->family != net->family)
        return false;
    int full = net->prefix / 8, rest = net->prefix % 8;
    if (memcmp(ip->addr, net->addr, (size_t)full))
        return false;
    if (!rest)
        return true;
    uint8_t mask = (uint8_t)(0xFF << (8 - rest));
    return (ip->addr[full] & mask) == net->addr[full];
}

/* re|luhn (a vigil extension to Sigma's modifiers): card numbers are told from other
 * long digit runs by their check digit, which no regular expression can compute. A match
 * counts only when its digits (separators ignored) are 12 to 19 and pass the Luhn check;
 * otherwise the search goes on after that match (never inside it: a digit run's tail is
 * not another card number). */
static bool luhn_match(const char *p, size_t n)
{
    char d[20];
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%' && i + 2 < n) { /* a percent-escaped separator (%20), not digits */
            i += 2;
            continue;
        }
        if (p[i] >= '0' && p[i] <= '9') {
            if (nd == sizeof d)
                return false;
            d[nd++] = p[i];
        }
    }
    return nd >= 12 && vg_luhn_valid(d, nd);
}

static bool re_value(pcre2_code *re, bool luhn, const VgValue *v, VgRuleScratch *s)
{
    char buf[48];
    VgStr txt;
    if (!value_text(v, buf, sizeof buf, &txt))
        return false;
    const char *p = txt.p ? txt.p : "";
    PCRE2_SIZE start = 0;
    while (start <= txt.len) {
        int rc = pcre2_match(re, (PCRE2_SPTR)p, txt.len, start, 0, s->md, s->set->mctx);
        if (rc < 0)
            return false;
        if (!luhn)
            return true;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
        if (luhn_match(p + ov[0], ov[1] - ov[0]))
            return true;
        start = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
    }
    return false;
}

static bool fieldref_value(const SigTest *t, int i, const VgValue *v, VgRuleScratch *s)
{
    VgValue other;
    sig_field_get(&t->refs[i], s->ev, s->arena, &other);
    char b1[48], b2[48];
    VgStr a, b;
    if (!value_text(v, b1, sizeof b1, &a) || !value_text(&other, b2, sizeof b2, &b))
        return false;
    const SigPattern *p = &t->pats[i];
    const char *ap = a.p ? a.p : "", *bp = b.p ? b.p : "";
    if (!p->cased) { /* fold both sides: compare byte by byte through the table */
        switch (p->kind) {
        case SIG_PAT_EXACT:
            if (a.len != b.len)
                return false;
            break;
        case SIG_PAT_CONTAINS:
            for (size_t x = 0; x + b.len <= a.len; x++) {
                size_t y = 0;
                while (y < b.len && sig_fold[(uint8_t)ap[x + y]] == sig_fold[(uint8_t)bp[y]])
                    y++;
                if (y == b.len)
                    return true;
            }
            return false;
        default:
            if (a.len < b.len)
                return false;
            break;
        }
        const char *from = p->kind == SIG_PAT_SUFFIX ? ap + a.len - b.len : ap;
        for (size_t y = 0; y < b.len; y++)
            if (sig_fold[(uint8_t)from[y]] != sig_fold[(uint8_t)bp[y]])
                return false;
        return true;
    }
    switch (p->kind) {
    case SIG_PAT_EXACT:
        return a.len == b.len && !memcmp(ap, bp, a.len);
    case SIG_PAT_PREFIX:
        return a.len >= b.len && !memcmp(ap, bp, b.len);
    case SIG_PAT_SUFFIX:
        return a.len >= b.len && !memcmp(ap + a.len - b.len, bp, b.len);
    default:
        return find_bytes(ap, a.len, bp, b.len, true);
    }
}

/* The longest run of ASCII digits in the value (numbers count whole), once per field and
 * event. */
static uint32_t digit_run(const SigTest *t, const VgValue *v, VgRuleScratch *s)
{
    int f = t->field.id;
    bool cache = f >= 0 && f < SIG_N_SCAN_FIELDS;
    if (cache && s->drun_gen[f] == s->gen)
        return s->drun[f];
    char buf[48];
    VgStr txt;
    uint32_t best = value_text(v, buf, sizeof buf, &txt) ? sig_digit_run(txt.p, txt.len, 1) : 0;
    if (cache) {
        s->drun_gen[f] = s->gen;
        s->drun[f] = best;
    }
    return best;
}

static bool test_one(const SigTest *t, int i, const VgValue *v, VgRuleScratch *s)
{
    switch (t->kind) {
    case SIG_T_STR:
        return pat_value(&t->pats[i], t, v, s);
    case SIG_T_NUM: {
        SigNum have;
        bool ok = t->datepart ? date_part(v, t->datepart, &have) : num_of(v, &have);
        return ok && num_cmp(&have, &t->nums[i]);
    }
    case SIG_T_CIDR: {
        SigCidr ip;
        return ip_of(v, &ip) && in_cidr(&ip, &t->cidrs[i]);
    }
    case SIG_T_RE:
        if (s->scanned && t->re_lits && t->re_lits[i] && v->kind == VG_V_STR &&
            sig_field_is_scannable(t->field.id)) {
            /* the regex cannot match without one of its literals */
            bool any = false;
            for (int k = 0; k < t->re_n_lits[i] && !any; k++)
                any = s->lit_found[t->re_lits[i][k]] == s->gen;
            if (!any)
                return false;
        }
        if (s->scanned && t->re_shape && t->re_shape[i] >= 0 && v->kind == VG_V_STR &&
            sig_field_is_scannable(t->field.id) && s->lit_found[t->re_shape[i]] != s->gen)
            return false; /* nor without its shape */
        if (t->re_min_digits && t->re_min_digits[i] > 0 &&
            digit_run(t, v, s) < (uint32_t)t->re_min_digits[i])
            return false;
        if (t->re_need && t->re_need[i] && v->kind == VG_V_STR) {
            bool any = false;
            for (guint k = 0; k < t->re_need[i]->len && !any; k++) {
                const GString *g = t->re_need[i]->pdata[k];
                any = find_bytes(v->s.p ? v->s.p : "", v->s.len, g->str, g->len, false);
            }
            if (!any)
                return false;
        }
        return re_value(t->res[i], t->re_luhn, v, s);
    case SIG_T_FIELDREF:
        return fieldref_value(t, i, v, s);
    default:
        return false;
    }
}

bool sig_test_slow(const SigTest *t, VgRuleScratch *s)
{
    VgValue v;
    sig_field_get(&t->field, s->ev, s->arena, &v);
    if (t->kind == SIG_T_NULL)
        return v.kind == VG_V_NONE || v.kind == VG_V_NULL;
    if (t->kind == SIG_T_EXISTS)
        return (v.kind != VG_V_NONE) == t->exists;
    if (v.kind == VG_V_NONE || v.kind == VG_V_NULL)
        return false;
    for (int i = 0; i < t->n; i++) {
        bool m = test_one(t, i, &v, s);
        if (t->all) {
            if (!m)
                return false;
        } else if (m) {
            return !t->neg;
        }
    }
    return t->all || t->neg;
}

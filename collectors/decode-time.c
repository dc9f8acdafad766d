/* decode-time.c — see decode-time.h.
 *
 * The scanners work on (pointer, length) and never read past it, because a timestamp is
 * usually a view into the middle of a line. Digits are read with small fixed-width helpers;
 * any deviation from the form returns false rather than guessing.
 */
#include "collectors/decode-time.h"

#include <math.h>

int64_t vg_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    /* Shift the year to start in March so the leap day is the last day of the year; then
     * a 400-year era has a fixed number of days (146097). */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
    static const unsigned dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

static inline bool digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads exactly w digits at p[*i]; false when fewer are there. */
static bool fixed(const char *p, size_t n, size_t *i, int w, int *out)
{
    if (*i + (size_t)w > n)
        return false;
    int v = 0;
    for (int k = 0; k < w; k++) {
        char c = p[*i + (size_t)k];
        if (!digit(c))
            return false;
        v = v * 10 + (c - '0');
    }
    *i += (size_t)w;
    *out = v;
    return true;
}

static inline void trim(const char **p, size_t *n)
{
    while (*n && (**p == ' ' || **p == '\t')) {
        (*p)++;
        (*n)--;
    }
    while (*n && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t'))
        (*n)--;
}

static bool compose(int64_t y, int mo, int d, int h, int mi, int s, int frac_ms, int off_min,
                    int64_t *ms)
{
    if (mo < 1 || mo > 12 || d < 1 || (unsigned)d > days_in_month(y, (unsigned)mo) || h > 23 ||
        mi > 59 || s > 60)
        return false;
    int64_t days = vg_days_from_civil(y, (unsigned)mo, (unsigned)d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + s - (int64_t)off_min * 60;
    *ms = secs * 1000 + frac_ms;
    return true;
}

/* Offset at p[*i..n): Z, +HH:MM, +HHMM, +HH (or nothing: UTC). Must end the text. */
static bool offset(const char *p, size_t n, size_t i, int *off_min)
{
    *off_min = 0;
    if (i == n)
        return true;
    if (p[i] == 'Z' || p[i] == 'z')
        return i + 1 == n;
    if (p[i] != '+' && p[i] != '-')
        return false;
    int sign = p[i] == '-' ? -1 : 1, oh, om = 0;
    i++;
    if (!fixed(p, n, &i, 2, &oh))
        return false;
    if (i < n && p[i] == ':')
        i++;
    if (i < n && !fixed(p, n, &i, 2, &om))
        return false;
    if (i != n || oh > 23 || om > 59)
        return false;
    *off_min = sign * (oh * 60 + om);
    return true;
}

/* The date and minute of the last ISO timestamp this thread parsed: log lines arrive in
 * time order, so consecutive lines nearly always share them and skip the civil-date
 * arithmetic. */
static _Thread_local struct {
    char key[16];
    bool valid;
    int64_t minute_ms;
} iso_cache;

bool vg_time_parse_iso8601(const char *p, size_t n, int64_t *ms)
{
    trim(&p, &n);
    size_t i = 0;
    int s = 0, frac = 0, off;
    int64_t minute_ms;
    if (n >= 16 && iso_cache.valid && memcmp(p, iso_cache.key, 16) == 0) {
        /* the shape nearly every gateway writes, "...T10:00:05.123Z", read without loops:
         * seconds, milliseconds and the 'Z' at their fixed places */
        if (n == 24 && p[16] == ':' && p[19] == '.' && (p[23] == 'Z' || p[23] == 'z')) {
            unsigned s1 = (unsigned)(p[17] - '0'), s0 = (unsigned)(p[18] - '0');
            unsigned f2 = (unsigned)(p[20] - '0'), f1 = (unsigned)(p[21] - '0');
            unsigned f0 = (unsigned)(p[22] - '0'); /* a byte below '0' wraps above 9 */
            if (s1 <= 9 && s0 <= 9 && f2 <= 9 && f1 <= 9 && f0 <= 9 && s1 * 10 + s0 <= 60) {
                *ms =
                    iso_cache.minute_ms + (int64_t)(s1 * 10 + s0) * 1000 + f2 * 100 + f1 * 10 + f0;
                return true;
            }
        }
        minute_ms = iso_cache.minute_ms;
        i = 16;
    } else {
        int y, mo, d, h, mi;
        if (!fixed(p, n, &i, 4, &y) || i >= n || p[i++] != '-' || !fixed(p, n, &i, 2, &mo) ||
            i >= n || p[i++] != '-' || !fixed(p, n, &i, 2, &d))
            return false;
        if (i >= n || (p[i] != 'T' && p[i] != 't' && p[i] != ' '))
            return false;
        i++;
        if (!fixed(p, n, &i, 2, &h) || i >= n || p[i++] != ':' || !fixed(p, n, &i, 2, &mi))
            return false;
        if (!compose(y, mo, d, h, mi, 0, 0, 0, &minute_ms))
            return false;
        memcpy(iso_cache.key, p, 16);
        iso_cache.minute_ms = minute_ms;
        iso_cache.valid = true;
    }
    if (i < n && p[i] == ':') {
        i++;
        if (!fixed(p, n, &i, 2, &s) || s > 60)
            return false;
        if (i < n && (p[i] == '.' || p[i] == ',')) {
            i++;
            size_t start = i;
            int k = 0;
            while (i < n && digit(p[i])) {
                if (k < 3) {
                    frac = frac * 10 + (p[i] - '0');
                    k++;
                }
                i++;
            }
            if (i == start)
                return false;
            while (k++ < 3)
                frac *= 10;
        }
    }
    if (!offset(p, n, i, &off))
        return false;
    *ms = minute_ms + (int64_t)s * 1000 + frac - (int64_t)off * 60000;
    return true;
}

static int month_from_name(const char *m)
{
    static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
    char a = (char)(m[0] | 0x20), b = (char)(m[1] | 0x20), c = (char)(m[2] | 0x20);
    for (int k = 0; k < 12; k++)
        if (names[k * 3] == a && names[k * 3 + 1] == b && names[k * 3 + 2] == c)
            return k + 1;
    return 0;
}

bool vg_time_parse_clf(const char *p, size_t n, int64_t *ms)
{
    trim(&p, &n);
    if (n && p[0] == '[' && p[n - 1] == ']') {
        p++;
        n -= 2;
    }
    size_t i = 0;
    int d, y, h, mi, s, frac = 0, off = 0;
    if (!fixed(p, n, &i, 2, &d) || i + 5 > n || p[i] != '/' || p[i + 4] != '/')
        return false;
    int mo = month_from_name(p + i + 1);
    i += 5;
    if (!mo || !fixed(p, n, &i, 4, &y) || i >= n || p[i++] != ':' || !fixed(p, n, &i, 2, &h) ||
        i >= n || p[i++] != ':' || !fixed(p, n, &i, 2, &mi) || i >= n || p[i++] != ':' ||
        !fixed(p, n, &i, 2, &s))
        return false;
    if (i < n && p[i] == '.') { /* some servers add milliseconds */
        i++;
        int k = 0;
        while (i < n && digit(p[i])) {
            if (k < 3) {
                frac = frac * 10 + (p[i] - '0');
                k++;
            }
            i++;
        }
        while (k++ < 3)
            frac *= 10;
    }
    if (i < n) {
        if (p[i] != ' ')
            return false;
        while (i < n && p[i] == ' ')
            i++;
        if (!offset(p, n, i, &off))
            return false;
    }
    return compose(y, mo, d, h, mi, s, frac, off, ms);
}

bool vg_time_from_epoch_int(int64_t v, int64_t *ms)
{
    if (v == INT64_MIN)
        return false;
    int64_t a = v < 0 ? -v : v;
    if (a < 100000000000LL)
        *ms = v * 1000;
    else if (a < 100000000000000LL)
        *ms = v;
    else if (a < 100000000000000000LL)
        *ms = v / 1000;
    else
        *ms = v / 1000000;
    return true;
}

bool vg_time_from_epoch_double(double v, int64_t *ms)
{
    if (!isfinite(v) || fabs(v) >= 9e18)
        return false;
    double a = fabs(v);
    double m = a < 1e11 ? v * 1000.0 : a < 1e14 ? v : a < 1e17 ? v / 1e3 : v / 1e6;
    /* truncate toward minus infinity so 1.9999 s is 1999 ms; add a hair for binary
     * fractions (1700000000.123 is stored as ...122999) */
    *ms = (int64_t)floor(m + 1e-6);
    return true;
}

bool vg_time_parse_epoch(const char *p, size_t n, int64_t *ms)
{
    trim(&p, &n);
    size_t i = 0;
    bool neg = false;
    if (i < n && (p[i] == '-' || p[i] == '+'))
        neg = p[i++] == '-';
    size_t start = i;
    int64_t ip = 0;
    while (i < n && digit(p[i])) {
        if (ip > (INT64_MAX - (p[i] - '0')) / 10)
            return false;
        ip = ip * 10 + (p[i] - '0');
        i++;
    }
    if (i == start)
        return false;
    if (i == n) {
        int64_t v = neg ? -ip : ip;
        return vg_time_from_epoch_int(v, ms);
    }
    if (p[i] != '.')
        return false;
    i++;
    /* seconds with a fraction: keep milliseconds exactly, without float rounding */
    int frac = 0, k = 0;
    size_t fstart = i;
    while (i < n && digit(p[i])) {
        if (k < 3) {
            frac = frac * 10 + (p[i] - '0');
            k++;
        }
        i++;
    }
    if (i != n || i == fstart)
        return false;
    while (k++ < 3)
        frac *= 10;
    if (ip < 100000000000LL) {
        int64_t v = ip * 1000 + frac;
        *ms = neg ? -v : v;
        return true;
    }
    return vg_time_from_epoch_int(neg ? -ip : ip, ms); /* ms/us/ns with a fraction */
}

bool vg_time_parse(const char *p, size_t n, int64_t *ms)
{
    trim(&p, &n);
    if (n >= 10 && digit(p[0]) && p[4] == '-')
        return vg_time_parse_iso8601(p, n, ms);
    if (n >= 11 && (p[2] == '/' || (p[0] == '[' && p[3] == '/')))
        return vg_time_parse_clf(p, n, ms);
    return vg_time_parse_epoch(p, n, ms);
}

/* privacy.c — personal-data redaction for alert text (see privacy.h).
 *
 * The text is cut into words at URL delimiters; each word is percent-decoded for the few
 * characters that matter (@ + / space) and classified: an e-mail address, a date of birth
 * (a plausible calendar date with a year from 1900 to 2015 — later dates in URLs are more
 * often report dates than birthdays), a card number (13-19 digits, Luhn-valid, separators
 * allowed), or a phone number (8-15 digits with a leading '+', or 9-15 digits written in
 * groups with separators). Plain digit runs are left alone: they are usually object ids,
 * which analysts need to see.
 */
#include "engine/privacy.h"

#include <ctype.h>

bool vg_luhn_valid(const char *d, size_t n)
{
    int sum = 0;
    bool dbl = false;
    for (size_t i = n; i-- > 0;) {
        int v = d[i] - '0';
        if (dbl) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
        dbl = !dbl;
    }
    return n > 0 && sum % 10 == 0;
}

static bool is_delim(unsigned char c)
{
    return c == '/' || c == '?' || c == '&' || c == '=' || c == ';' || c == ',' || c == '"' ||
           c == '\'' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' ||
           c == '|' || c == '#' || c == '\t' || c == '\n';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes w into buf (at most cap-1 bytes); returns the decoded length. */
static size_t decode(const char *w, size_t n, char *buf, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        if (w[i] == '%' && i + 2 < n && hexval(w[i + 1]) >= 0 && hexval(w[i + 2]) >= 0) {
            buf[o++] = (char)(hexval(w[i + 1]) * 16 + hexval(w[i + 2]));
            i += 2;
        } else {
            buf[o++] = w[i];
        }
    }
    buf[o] = '\0';
    return o;
}

static bool is_email(const char *s, size_t n)
{
    const char *at = memchr(s, '@', n);
    if (!at || at == s)
        return false;
    const char *dom = at + 1, *end = s + n;
    const char *dot = NULL;
    for (const char *p = dom; p < end; p++) {
        if (*p == '.')
            dot = p;
        else if (!isalnum((unsigned char)*p) && *p != '-')
            return false;
    }
    return dot && dot > dom && end - dot >= 3;
}

static int num(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool plausible(int y, int m, int d)
{
    return y >= 1900 && y <= 2015 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static bool is_birth_date(const char *s, size_t n)
{
    if (n != 10)
        return false;
    char a = s[4], b = s[7];
    if ((a == '-' || a == '/' || a == '.') && a == b) /* YYYY-MM-DD */
        return plausible(num(s, 4), num(s + 5, 2), num(s + 8, 2));
    a = s[2], b = s[5];
    if ((a == '-' || a == '/' || a == '.') && a == b) { /* DD.MM.YYYY or MM/DD/YYYY */
        int x = num(s, 2), y = num(s + 3, 2), yr = num(s + 6, 4);
        return plausible(yr, y, x) || plausible(yr, x, y);
    }
    return false;
}

typedef enum { W_NONE, W_EMAIL, W_DATE, W_CARD, W_PHONE } WordKind;

static WordKind classify(const char *w, size_t n)
{
    char buf[256];
    if (n >= sizeof buf)
        return W_NONE;
    size_t len = decode(w, n, buf, sizeof buf);
    if (memchr(buf, '@', len))
        return is_email(buf, len) ? W_EMAIL : W_NONE;
    if (is_birth_date(buf, len))
        return W_DATE;
    char digits[32];
    size_t nd = 0, groups = 0;
    bool plus = false, in_group = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (isdigit((unsigned char)c)) {
            if (nd >= sizeof digits)
                return W_NONE;
            digits[nd++] = c;
            if (!in_group)
                groups++;
            in_group = true;
        } else if (c == '+' && nd == 0 && !plus) {
            plus = true;
        } else if (c == '-' || c == ' ' || c == '.' || c == '(' || c == ')' || c == '+') {
            in_group = false;
        } else {
            return W_NONE;
        }
    }
    if (nd >= 13 && nd <= 19 && vg_luhn_valid(digits, nd))
        return W_CARD;
    if (plus && nd >= 8 && nd <= 15)
        return W_PHONE;
    if (groups >= 3 && nd >= 9 && nd <= 15)
        return W_PHONE;
    return W_NONE;
}

int vg_redact_pii(GString *out, const char *s, size_t len)
{
    static const char *marker[] = {NULL, "[email]", "[date]", "[card]", "[phone]"};
    int n = 0;
    size_t i = 0;
    while (i < len) {
        if (is_delim((unsigned char)s[i])) {
            g_string_append_c(out, s[i++]);
            continue;
        }
        size_t j = i;
        while (j < len && !is_delim((unsigned char)s[j]))
            j++;
        WordKind k = classify(s + i, j - i);
        if (k == W_NONE) {
            g_string_append_len(out, s + i, (gssize)(j - i));
        } else {
            g_string_append(out, marker[k]);
            n++;
        }
        i = j;
    }
    return n;
}

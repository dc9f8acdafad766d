/* sigma-string.c — Sigma string values: the escape table, wildcards and the value
 * transformations (base64, base64offset, utf16*, windash, expand).
 *
 * A rule value is read once into a SigStr: its bytes plus a parallel marker saying which
 * bytes are the wildcards `*` and `?`. Transformations then work on those (an encoding
 * must not encode a wildcard; windash must not touch one), and only at the end does
 * sigma-value.c turn the result into a pattern. Keeping the marker apart from the bytes
 * means a literal `*` (written `\*`) can never be mistaken for a wildcard later.
 *
 * The escape rules are the specification's (sigma-rules-specification.md, "Escape
 * Character"), read left to right:
 *   `\*` and `\?`  -> a plain `*` / `?`
 *   `\\`           -> a plain `\` (so `\\*` is a backslash then a wildcard, `\\\*` a
 *                     backslash then a plain star, `\\\\` two backslashes)
 *   `\` + other    -> the backslash stays, and so does the other character
 *   trailing `\`   -> stays
 */
#include "rules/sigma.h"

#include "engine/config.h"

/* ASCII case folding: A-Z to a-z, every other byte to itself. */
#define FOLD1(c)  (uint8_t)((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))
#define FOLD4(c)  FOLD1(c), FOLD1((c) + 1), FOLD1((c) + 2), FOLD1((c) + 3)
#define FOLD16(c) FOLD4(c), FOLD4((c) + 4), FOLD4((c) + 8), FOLD4((c) + 12)
#define FOLD64(c) FOLD16(c), FOLD16((c) + 16), FOLD16((c) + 32), FOLD16((c) + 48)
const uint8_t sig_fold[256] = {FOLD64(0), FOLD64(64), FOLD64(128), FOLD64(192)};

static void str_alloc(SigStr *s, size_t cap)
{
    s->s = g_malloc(cap + 1);
    s->wild = g_malloc0(cap + 1);
    s->len = 0;
}

static void str_push(SigStr *s, char c, uint8_t wild)
{
    s->s[s->len] = c;
    s->wild[s->len] = wild;
    s->len++;
    s->s[s->len] = '\0';
}

void sig_str_parse(SigStr *out, const char *text, size_t len)
{
    str_alloc(out, len);
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '\\' && i + 1 < len) {
            char d = text[i + 1];
            if (d == '*' || d == '?' || d == '\\') {
                str_push(out, d, 0);
                i++;
                continue;
            }
            str_push(out, '\\', 0);
            continue;
        }
        if (c == '*' || c == '?')
            str_push(out, c, (uint8_t)c);
        else
            str_push(out, c, 0);
    }
    out->s[out->len] = '\0';
}

void sig_str_plain(SigStr *out, const char *text, size_t len)
{
    str_alloc(out, len);
    for (size_t i = 0; i < len; i++)
        str_push(out, text[i], 0);
    out->s[out->len] = '\0';
}

void sig_str_copy(SigStr *out, const SigStr *in)
{
    str_alloc(out, in->len);
    memcpy(out->s, in->s, in->len);
    memcpy(out->wild, in->wild, in->len);
    out->len = in->len;
    out->s[out->len] = '\0';
}

void sig_str_clear(SigStr *s)
{
    g_free(s->s);
    g_free(s->wild);
    memset(s, 0, sizeof *s);
}

bool sig_str_has_wild(const SigStr *s)
{
    for (size_t i = 0; i < s->len; i++)
        if (s->wild[i])
            return true;
    return false;
}

void sig_str_wrap(SigStr *s, bool star_front, bool star_back)
{
    bool front = star_front && !(s->len && s->wild[0] == '*');
    bool back = star_back && !(s->len && s->wild[s->len - 1] == '*');
    SigStr n;
    str_alloc(&n, s->len + 2);
    if (front)
        str_push(&n, '*', '*');
    for (size_t i = 0; i < s->len; i++)
        str_push(&n, s->s[i], s->wild[i]);
    if (back)
        str_push(&n, '*', '*');
    sig_str_clear(s);
    *s = n;
}

static void vals_replace(GArray *vals, GArray *next)
{
    for (guint i = 0; i < vals->len; i++)
        sig_str_clear(&g_array_index(vals, SigStr, i));
    g_array_set_size(vals, 0);
    g_array_append_vals(vals, next->data, next->len);
    g_array_free(next, TRUE);
}

static void vals_abort(GArray *next)
{
    for (guint i = 0; i < next->len; i++)
        sig_str_clear(&g_array_index(next, SigStr, i));
    g_array_free(next, TRUE);
}

/* base64offset: the value may sit at any byte offset of a longer encoded string. For a
 * shift of i bytes (0..2) encode i filler bytes plus the value, then drop the leading
 * characters that depend on the filler (0, 2 or 3) and the trailing ones that depend on
 * whatever follows (none, 3 or 2, by the total length modulo 3, padding included). */
static void b64_offset_variant(const SigStr *v, int shift, SigStr *out)
{
    static const int start_drop[3] = {0, 2, 3};
    static const int end_drop[3] = {0, 3, 2};
    size_t n = v->len + (size_t)shift;
    guchar *buf = g_malloc(n + 1);
    memset(buf, ' ', (size_t)shift);
    memcpy(buf + shift, v->s, v->len);
    char *enc = g_base64_encode(buf, n);
    size_t elen = strlen(enc);
    size_t from = (size_t)start_drop[shift], drop = (size_t)end_drop[n % 3];
    size_t keep = elen > from + drop ? elen - from - drop : 0;
    sig_str_plain(out, enc + from, keep);
    g_free(enc);
    g_free(buf);
}

bool sig_str_base64(GArray *vals, bool offsets, const VgConfNode *n, GError **err)
{
    GArray *next = g_array_new(FALSE, TRUE, sizeof(SigStr));
    for (guint i = 0; i < vals->len; i++) {
        const SigStr *v = &g_array_index(vals, SigStr, i);
        if (sig_str_has_wild(v)) {
            vg_conf_error(err, n,
                          "%s cannot encode a wildcard; escape * and ? (\\*, \\?) or "
                          "use contains after it",
                          offsets ? "base64offset" : "base64");
            vals_abort(next);
            return false;
        }
        if (v->len == 0) {
            vg_conf_error(err, n, "%s of an empty value", offsets ? "base64offset" : "base64");
            vals_abort(next);
            return false;
        }
        for (int shift = 0; shift < (offsets ? 3 : 1); shift++) {
            SigStr o;
            if (offsets) {
                b64_offset_variant(v, shift, &o);
            } else {
                char *enc = g_base64_encode((const guchar *)v->s, v->len);
                sig_str_plain(&o, enc, strlen(enc));
                g_free(enc);
            }
            g_array_append_val(next, o);
        }
    }
    vals_replace(vals, next);
    return true;
}

/* kind: 0 utf16le (and wide), 1 utf16be, 2 utf16 (byte order mark FF FE, then LE). A
 * wildcard stays one wildcard; it stands for the encoded characters it covers. */
bool sig_str_utf16(GArray *vals, int kind, const VgConfNode *n, GError **err)
{
    GArray *next = g_array_new(FALSE, TRUE, sizeof(SigStr));
    for (guint i = 0; i < vals->len; i++) {
        const SigStr *v = &g_array_index(vals, SigStr, i);
        SigStr o;
        str_alloc(&o, v->len * 4 + 2);
        if (kind == 2) {
            str_push(&o, (char)0xFF, 0);
            str_push(&o, (char)0xFE, 0);
        }
        for (size_t j = 0; j < v->len;) {
            if (v->wild[j]) {
                str_push(&o, v->s[j], v->wild[j]);
                j++;
                continue;
            }
            /* decode one UTF-8 character of the literal */
            size_t k = j;
            while (k < v->len && !v->wild[k])
                k++;
            const char *end;
            if (!g_utf8_validate(v->s + j, (gssize)(k - j), &end)) {
                vg_conf_error(err, n, "utf16: the value is not valid UTF-8");
                sig_str_clear(&o);
                vals_abort(next);
                return false;
            }
            for (const char *p = v->s + j; p < v->s + k; p = g_utf8_next_char(p)) {
                gunichar c = g_utf8_get_char(p);
                uint16_t units[2];
                int nu = 1;
                if (c >= 0x10000) {
                    c -= 0x10000;
                    units[0] = (uint16_t)(0xD800 + (c >> 10));
                    units[1] = (uint16_t)(0xDC00 + (c & 0x3FF));
                    nu = 2;
                } else {
                    units[0] = (uint16_t)c;
                }
                for (int u = 0; u < nu; u++) {
                    char lo = (char)(units[u] & 0xFF), hi = (char)(units[u] >> 8);
                    str_push(&o, kind == 1 ? hi : lo, 0);
                    str_push(&o, kind == 1 ? lo : hi, 0);
                }
            }
            j = k;
        }
        g_array_append_val(next, o);
    }
    vals_replace(vals, next);
    return true;
}

/* windash: every `-`, `/`, en dash, em dash and horizontal bar of the value may be written
 * as any of the five, so the value becomes every combination (5^k for k dashes). */
static const char *const dashes[5] = {"-", "/", "\xE2\x80\x93", "\xE2\x80\x94", "\xE2\x80\x95"};

static int dash_at(const SigStr *v, size_t j)
{
    if (v->wild[j])
        return 0;
    if (v->s[j] == '-' || v->s[j] == '/')
        return 1;
    if (j + 2 < v->len && (uint8_t)v->s[j] == 0xE2 && (uint8_t)v->s[j + 1] == 0x80 &&
        (uint8_t)v->s[j + 2] >= 0x93 && (uint8_t)v->s[j + 2] <= 0x95 && !v->wild[j + 1] &&
        !v->wild[j + 2])
        return 3;
    return 0;
}

bool sig_str_windash(GArray *vals, const VgConfNode *n, GError **err)
{
    GArray *next = g_array_new(FALSE, TRUE, sizeof(SigStr));
    for (guint i = 0; i < vals->len; i++) {
        const SigStr *v = &g_array_index(vals, SigStr, i);
        int k = 0;
        for (size_t j = 0; j < v->len;) {
            int w = dash_at(v, j);
            k += w ? 1 : 0;
            j += w ? (size_t)w : 1;
        }
        size_t combos = 1;
        for (int d = 0; d < k; d++) {
            combos *= 5;
            if (combos + next->len > SIG_MAX_ALTERNATIVES) {
                vg_conf_error(err, n,
                              "windash: the value has %d dashes, which would make "
                              "more than %d alternatives",
                              k, SIG_MAX_ALTERNATIVES);
                vals_abort(next);
                return false;
            }
        }
        for (size_t c = 0; c < combos; c++) {
            SigStr o;
            str_alloc(&o, v->len * 3);
            size_t sel = c;
            for (size_t j = 0; j < v->len;) {
                int w = dash_at(v, j);
                if (!w) {
                    str_push(&o, v->s[j], v->wild[j]);
                    j++;
                    continue;
                }
                const char *dsh = dashes[sel % 5];
                sel /= 5;
                for (const char *p = dsh; *p; p++)
                    str_push(&o, *p, 0);
                j += (size_t)w;
            }
            g_array_append_val(next, o);
        }
    }
    vals_replace(vals, next);
    return true;
}

/* expand: `%name%` is replaced by each value configured for the placeholder (values may
 * use wildcards); `\%` is a plain percent sign. Several placeholders in one value give
 * every combination. An unknown placeholder is an error: the specification says a tool
 * that cannot resolve one must reject the rule. */
bool sig_str_expand(GArray *vals, GHashTable *placeholders, const VgConfNode *n, GError **err)
{
    GArray *next = g_array_new(FALSE, TRUE, sizeof(SigStr));
    for (guint i = 0; i < vals->len; i++) {
        /* partial results for this value */
        GArray *cur = g_array_new(FALSE, TRUE, sizeof(SigStr));
        SigStr seed;
        str_alloc(&seed, 0);
        g_array_append_val(cur, seed);
        const SigStr *v = &g_array_index(vals, SigStr, i);
        for (size_t j = 0; j < v->len; j++) {
            const char *name = NULL;
            size_t name_len = 0;
            SigStr piece;
            GPtrArray *subst = NULL;
            if (!v->wild[j] && v->s[j] == '\\' && j + 1 < v->len && v->s[j + 1] == '%') {
                sig_str_plain(&piece, "%", 1);
                j++;
            } else if (!v->wild[j] && v->s[j] == '%') {
                size_t k = j + 1;
                while (k < v->len && !(v->s[k] == '%' && !v->wild[k]))
                    k++;
                if (k == v->len) {
                    vg_conf_error(err, n,
                                  "expand: unterminated placeholder (%%name%%; "
                                  "write \\%% for a plain percent sign)");
                    goto fail;
                }
                name = v->s + j + 1;
                name_len = k - j - 1;
                char *key = g_strndup(name, name_len);
                subst = placeholders ? g_hash_table_lookup(placeholders, key) : NULL;
                g_free(key);
                if (!subst) {
                    /* not an error in the rule: it waits for its list. The code VG_ENOENT
                     * lets the loader report it as an inactive rule, not a broken one. */
                    vg_conf_error(err, n,
                                  "rule inactive: placeholder %%%.*s%% has no values (set "
                                  "rules: expand: %.*s: [...] in the config to enable it)",
                                  (int)name_len, name, (int)name_len, name);
                    if (err && *err)
                        (*err)->code = VG_ENOENT;
                    goto fail;
                }
                j = k;
                memset(&piece, 0, sizeof piece);
            } else {
                str_alloc(&piece, 1);
                str_push(&piece, v->s[j], v->wild[j]);
            }
            /* append piece (or each substitution) to every partial result */
            GArray *grown = g_array_new(FALSE, TRUE, sizeof(SigStr));
            guint nsub = subst ? subst->len : 1;
            if ((size_t)cur->len * nsub > SIG_MAX_ALTERNATIVES) {
                vg_conf_error(err, n, "expand: more than %d alternatives", SIG_MAX_ALTERNATIVES);
                vals_abort(grown);
                sig_str_clear(&piece);
                goto fail;
            }
            for (guint c = 0; c < cur->len; c++) {
                const SigStr *base = &g_array_index(cur, SigStr, c);
                for (guint s = 0; s < nsub; s++) {
                    SigStr add;
                    if (subst) {
                        const char *t = subst->pdata[s];
                        sig_str_parse(&add, t, strlen(t));
                    } else {
                        sig_str_copy(&add, &piece);
                    }
                    SigStr o;
                    str_alloc(&o, base->len + add.len);
                    for (size_t x = 0; x < base->len; x++)
                        str_push(&o, base->s[x], base->wild[x]);
                    for (size_t x = 0; x < add.len; x++)
                        str_push(&o, add.s[x], add.wild[x]);
                    sig_str_clear(&add);
                    g_array_append_val(grown, o);
                }
            }
            sig_str_clear(&piece);
            vals_abort(cur);
            cur = grown;
            continue;
        fail:
            vals_abort(cur);
            vals_abort(next);
            return false;
        }
        if (next->len + cur->len > SIG_MAX_ALTERNATIVES) {
            vg_conf_error(err, n, "expand: more than %d alternatives", SIG_MAX_ALTERNATIVES);
            vals_abort(cur);
            vals_abort(next);
            return false;
        }
        g_array_append_vals(next, cur->data, cur->len);
        g_array_free(cur, TRUE);
    }
    vals_replace(vals, next);
    return true;
}

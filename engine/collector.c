/* collector.c — line batches and bad-reason names (see collector.h, decoder.h). */
#include "engine/collector.h"

static const char *bad_names[VG_BAD__COUNT] = {
    [VG_BAD_NONE] = "none",         [VG_BAD_JSON] = "invalid_json", [VG_BAD_UTF8] = "invalid_utf8",
    [VG_BAD_FORMAT] = "bad_format", [VG_BAD_NO_TIME] = "no_time",   [VG_BAD_TIME] = "bad_time",
    [VG_BAD_TOO_LONG] = "too_long", [VG_BAD_GZIP] = "bad_gzip",     [VG_BAD_FIELD] = "bad_field",
};

const char *vg_bad_reason_name(VgBadReason r)
{
    return r >= 0 && r < VG_BAD__COUNT && bad_names[r] ? bad_names[r] : "unknown";
}

void vg_line_batch_init(VgLineBatch *b, uint32_t max_lines, size_t buf_bytes)
{
    memset(b, 0, sizeof(*b));
    b->max_lines = max_lines ? max_lines : 1024;
    b->cap = buf_bytes + VG_LINE_PADDING;
    b->buf = g_malloc(b->cap);
    b->lines = g_new(VgLineRef, b->max_lines);
    b->partition = -1;
}

void vg_line_batch_clear(VgLineBatch *b)
{
    b->len = 0;
    b->n = 0;
}

void vg_line_batch_reserve(VgLineBatch *b, size_t n)
{
    if (n + VG_LINE_PADDING > b->cap) {
        b->cap = n + VG_LINE_PADDING;
        b->buf = g_realloc(b->buf, b->cap);
    }
}

void vg_line_batch_add(VgLineBatch *b, const char *p, size_t len, uint64_t line_no, int64_t offset,
                       VgBadReason bad)
{
    g_assert(b->n < b->max_lines);
    size_t need = b->len + len + 1;
    if (need + VG_LINE_PADDING > b->cap) /* at least doubled, so appends stay amortised */
        vg_line_batch_reserve(b, MAX(need, 2 * b->cap));
    memcpy(b->buf + b->len, p, len);
    b->buf[b->len + len] = '\n'; /* lines stay newline-separated, like the input */
    b->lines[b->n++] = (VgLineRef){(uint32_t)b->len, (uint32_t)len, (uint8_t)bad, line_no, offset};
    b->len += len + 1;
}

void vg_line_batch_claim(VgLineBatch *b, size_t off, size_t len, uint64_t line_no, int64_t offset,
                         VgBadReason bad)
{
    g_assert(b->n < b->max_lines && off + len + VG_LINE_PADDING <= b->cap &&
             off + len <= UINT32_MAX);
    b->lines[b->n++] = (VgLineRef){(uint32_t)off, (uint32_t)len, (uint8_t)bad, line_no, offset};
}

void vg_line_batch_free(VgLineBatch *b)
{
    g_free(b->buf);
    g_free(b->lines);
    memset(b, 0, sizeof(*b));
}

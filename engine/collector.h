/* collector.h — transports that bring raw log lines in (file, gzip, stdin, Kafka).
 *
 * A collector knows where bytes come from, not what they mean. It fills a VgLineBatch: one
 * buffer holding many lines (without their newlines) plus one VgLineRef per line. Lines it
 * cannot pass on whole (over the length limit, a truncated gzip stream) are still handed
 * over, flagged with their bad reason, so that they are counted and dead-lettered rather
 * than dropped silently.
 */
#ifndef VG_COLLECTOR_H
#define VG_COLLECTOR_H

#include "engine/decoder.h"

typedef struct {
    uint32_t off, len; /* bytes of the line: vg_line_bytes() */
    uint8_t bad;       /* VgBadReason found by the collector, else VG_BAD_NONE */
    uint64_t line_no;  /* 1-based line number within the source */
    int64_t offset;    /* Kafka offset, or -1 */
} VgLineRef;

typedef struct {
    char *buf; /* line bytes; cap always leaves VG_LINE_PADDING readable bytes past len */
    size_t len, cap;
    VgLineRef *lines;
    uint32_t n, max_lines;
    const char *source; /* name of the source of these lines: path, "-", "kafka:topic/3" */
    int32_t partition;  /* -1 outside Kafka */
} VgLineBatch;

/* The bytes of line l of b (l->len of them, and VG_LINE_PADDING readable bytes past). */
static inline const char *vg_line_bytes(const VgLineBatch *b, const VgLineRef *l)
{
    return b->buf + l->off;
}

void vg_line_batch_init(VgLineBatch *b, uint32_t max_lines, size_t buf_bytes);
/* Empties b (source and partition stay). */
void vg_line_batch_clear(VgLineBatch *b);
/* Grows buf so that it has room for n bytes of text (and the padding). */
void vg_line_batch_reserve(VgLineBatch *b, size_t n);
/* Appends a line (copying it); grows the buffer if needed. */
void vg_line_batch_add(VgLineBatch *b, const char *p, size_t len, uint64_t line_no, int64_t offset,
                       VgBadReason bad);
/* Appends the line buf[off .. off + len) that a collector read into buf itself; it sets len
 * past its lines before it returns the batch. */
void vg_line_batch_claim(VgLineBatch *b, size_t off, size_t len, uint64_t line_no, int64_t offset,
                         VgBadReason bad);
void vg_line_batch_free(VgLineBatch *b);

typedef struct VgCollector VgCollector;

typedef struct VgCollectorOps {
    const char *name;
    /* next() appends lines to b (which the caller cleared) up to b->max_lines. Returns VG_OK
     * when it added lines, VG_EAGAIN when there is nothing now (a followed file, a quiet
     * topic), VG_EOF at the end of a finite source, VG_EIO on a read error (err set). */
    int (*next)(VgCollector *c, VgLineBatch *b, GError **err);
    /* Bytes consumed and total (0 when unknown), for progress bars. May be NULL. */
    void (*progress)(VgCollector *c, uint64_t *done, uint64_t *total);
    void (*close)(VgCollector *c);
} VgCollectorOps;

struct VgCollector {
    const VgCollectorOps *ops;
};

#endif

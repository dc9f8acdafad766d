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
    /* Where the lines are: buf (copied there), or a collector's own buffer when it lent
     * them (vg_line_batch_lend). */
    const char *text;
    char *buf; /* copied lines; cap always leaves VG_LINE_PADDING readable bytes past len */
    size_t len, cap;
    VgLineRef *lines;
    uint32_t n, max_lines;
    /* Set by a caller that is done with the batch before it asks the collector for more
     * lines or closes it: a collector may then lend it lines instead of copying them. */
    bool may_borrow;
    const char *source; /* name of the source of these lines: path, "-", "kafka:topic/3" */
    int32_t partition;  /* -1 outside Kafka */
} VgLineBatch;

/* The bytes of line l of b (l->len of them, and VG_LINE_PADDING readable bytes past). */
static inline const char *vg_line_bytes(const VgLineBatch *b, const VgLineRef *l)
{
    return b->text + l->off;
}

void vg_line_batch_init(VgLineBatch *b, uint32_t max_lines, size_t buf_bytes);
/* Empties b (may_borrow, source and partition stay). */
void vg_line_batch_clear(VgLineBatch *b);
/* Appends a line (copying it); grows the buffer if needed. Not in a batch of lent lines. */
void vg_line_batch_add(VgLineBatch *b, const char *p, size_t len, uint64_t line_no, int64_t offset,
                       VgBadReason bad);
/* Appends the line base[off .. off + len) without copying it (b->may_borrow): its bytes
 * must stay as they are, with VG_LINE_PADDING readable bytes past them, until the caller
 * asks the collector for more or closes it. All lines of a batch are lent from one base,
 * or all copied. */
void vg_line_batch_lend(VgLineBatch *b, const char *base, size_t off, size_t len, uint64_t line_no,
                        int64_t offset, VgBadReason bad);
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

/* sink-util.h — small helpers the sinks and the delivery layer share (internal to
 * engine/sinks/): JSON lines, writing a buffer to a descriptor, numbers for log values.
 */
#ifndef VG_SINK_UTIL_H
#define VG_SINK_UTIL_H

#include "engine/sink.h"

/* Formats v in buf (for vg_log's string values); returns buf. */
const char *vg_sinks_u64(char buf[24], uint64_t v);

/* Appends recs as JSON lines (json + '\n' each) to buf. */
void vg_sinks_json_lines(GString *buf, const VgAlertRecord *const *recs, size_t n);

/* Writes all of p to fd, retrying short writes and EINTR. VG_OK, or VG_EIO with errno set.
 * Sockets are written with send(MSG_NOSIGNAL): a closed peer is EPIPE, not SIGPIPE. */
int vg_sinks_write_all(int fd, const char *p, size_t len, bool is_socket);

/* Monotonic clock in milliseconds (delivery backoff; never used for detection). */
int64_t vg_sinks_now_ms(void);

#endif

/* vg.h — the few types every part of vigil shares.
 *
 * VgStr is a view: a pointer and a length into bytes that someone else owns (the read
 * buffer of a batch, a per-worker arena, a rule). Views are how an event carries its
 * fields without copying them; whoever holds a view must not outlive its owner, which for
 * events means: not past the batch.
 *
 * Errors: functions return 0 (VG_OK) on success and a negative VG_E* code on failure.
 * Messages for people (config and rule errors with file, line and reason) travel in a
 * GError in the VG_ERROR domain.
 */
#ifndef VG_H
#define VG_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const char *p; /* NULL means absent; a present empty string has p != NULL, len 0 */
    uint32_t len;
} VgStr;

#define VG_STR_NULL   ((VgStr){NULL, 0})
#define VG_STR_LIT(s) ((VgStr){(s), (uint32_t)(sizeof(s) - 1)})

/* A hint that the cache line holding p will be needed soon. Not __builtin_prefetch: GCC 12
 * (Debian's) deletes it where nothing else reads what fed its address (ipa-modref with
 * dead-code elimination: the stage-0 prefetch of vg_models_prefetch, every prefetch of the
 * parallel pipeline's walk and most of the models' were gone from the binary). An asm
 * statement is never deleted. */
static inline void vg_prefetch(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("prefetcht0 %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p);
    __asm__ volatile("" : : "r"(p) : "memory");
#endif
}

/* A hint that the cache line holding p will be written soon: fetched for ownership, so a
 * line another core read last is taken from it before the store waits for that. x86 only
 * where vg_cpu_prefetchw() says so (older Intel CPUs do not have the instruction). */
static inline void vg_prefetch_write(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p, 1);
    __asm__ volatile("" : : "r"(p) : "memory");
#endif
}

/* vg_prefetch() for every cache line that bytes p[0 .. n - 1] touch (p need not be aligned). */
static inline void vg_prefetch_range(const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)63, end = (uintptr_t)p + n;
    for (; a < end; a += 64)
        vg_prefetch((const void *)a);
}

static inline VgStr vg_str(const char *p, size_t len)
{
    return (VgStr){p, (uint32_t)len};
}
static inline VgStr vg_cstr(const char *s)
{
    return s ? (VgStr){s, (uint32_t)strlen(s)} : VG_STR_NULL;
}
static inline bool vg_str_present(VgStr s)
{
    return s.p != NULL;
}
static inline bool vg_str_eq(VgStr a, VgStr b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}
static inline bool vg_str_eq_c(VgStr a, const char *c)
{
    return vg_str_eq(a, vg_cstr(c));
}

enum {
    VG_OK = 0,
    VG_EINVAL = -1,  /* bad argument or input */
    VG_EIO = -2,     /* I/O error (errno tells more) */
    VG_EFULL = -3,   /* a bounded resource is full: apply back-pressure */
    VG_EAGAIN = -4,  /* nothing now, try later */
    VG_ENOENT = -5,  /* no such thing */
    VG_EOF = -6,     /* end of input */
    VG_ECONFIG = -7, /* configuration or rule error (see the GError) */
};

#define VG_ERROR (vg_error_quark())
GQuark vg_error_quark(void);

/* 64-bit hash of bytes (wyhash-style mixing); stable across runs and machines, so it may
 * be used for sharding and for deterministic ids. */
uint64_t vg_hash64(const void *p, size_t len, uint64_t seed);

#define VG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define VG_LIKELY(x)    __builtin_expect(!!(x), 1)
#define VG_UNLIKELY(x)  __builtin_expect(!!(x), 0)

#endif

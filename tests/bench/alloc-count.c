/* alloc-count — an LD_PRELOAD library that counts heap allocations (benchmarks only).
 *
 * Why: the hot path must not allocate per event (DESIGN.md, "Fast"). scripts/bench checks
 * it by running `vigil replay` on N and on 2N lines under this library and dividing the
 * difference of the two counts by N: start-up, rule compilation and per-key state cost
 * the same in both runs or grow with new keys, while an allocation per event shows up as
 * ~1 per event or more.
 *
 * How: malloc, calloc, realloc, free and the aligned allocators are defined here and
 * forward to glibc's own entry points (__libc_malloc and friends), so nothing has to be
 * looked up with dlsym (which itself allocates). Counters are atomic (vigil has worker
 * threads). A thread-local flag keeps allocations made by this library (backtrace()
 * loading libgcc_s) out of the counts. GLib's g_malloc goes through malloc; run with
 * G_SLICE=always-malloc so that g_slice does too.
 *
 * Environment:
 *   ALLOC_COUNT_OUT=FILE           where the counts go at exit (default standard error):
 *                                  "alloc-count allocs=N reallocs=R frees=F bytes=B"
 *   ALLOC_COUNT_TRACE_EVERY=K      also write a backtrace of every K-th allocation ...
 *   ALLOC_COUNT_TRACE_AFTER=N      ... that comes after the first N (skip start-up)
 *   ALLOC_COUNT_TRACE_MAX=M        at most M backtraces (default 200)
 * Backtraces are backtrace_symbols_fd() lines: `binary(+0xOFFSET)` for static functions of
 * a PIE, which `addr2line -f -e binary 0xOFFSET` names.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_memalign(size_t align, size_t size);

static atomic_ulong n_allocs, n_reallocs, n_frees, n_bytes;
static _Thread_local int in_hook;
static unsigned long trace_every, trace_after, trace_max = 200;
static atomic_ulong n_traced;
static int out_fd = 2;

static unsigned long env_ulong(const char *name, unsigned long dflt)
{
    const char *v = getenv(name);
    return v && *v ? strtoul(v, NULL, 10) : dflt;
}

__attribute__((constructor)) static void alloc_count_init(void)
{
    in_hook = 1;
    trace_every = env_ulong("ALLOC_COUNT_TRACE_EVERY", 0);
    trace_after = env_ulong("ALLOC_COUNT_TRACE_AFTER", 0);
    trace_max = env_ulong("ALLOC_COUNT_TRACE_MAX", trace_max);
    const char *path = getenv("ALLOC_COUNT_OUT");
    if (path && *path) {
        int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0)
            out_fd = fd;
    }
    in_hook = 0;
}

__attribute__((destructor)) static void alloc_count_report(void)
{
    char line[160];
    in_hook = 1;
    int n = snprintf(line, sizeof line, "alloc-count allocs=%lu reallocs=%lu frees=%lu bytes=%lu\n",
                     atomic_load(&n_allocs), atomic_load(&n_reallocs), atomic_load(&n_frees),
                     atomic_load(&n_bytes));
    if (n > 0 && write(out_fd, line, (size_t)n) < 0)
        _exit(3);
}

static void maybe_trace(unsigned long nth, size_t size)
{
    if (!trace_every || nth <= trace_after || (nth - trace_after) % trace_every)
        return;
    if (atomic_fetch_add(&n_traced, 1) >= trace_max)
        return;
    void *frames[24];
    int saved = errno;
    int depth = backtrace(frames, 24);
    char head[80];
    int n = snprintf(head, sizeof head, "--- alloc #%lu size %zu\n", nth, size);
    if (n > 0 && write(out_fd, head, (size_t)n) >= 0)
        backtrace_symbols_fd(frames + 2, depth > 2 ? depth - 2 : 0, out_fd);
    errno = saved;
}

static void counted(size_t size, int is_realloc)
{
    if (in_hook)
        return;
    in_hook = 1;
    unsigned long nth = atomic_fetch_add(&n_allocs, 1) + 1;
    if (is_realloc)
        atomic_fetch_add(&n_reallocs, 1);
    atomic_fetch_add(&n_bytes, size);
    maybe_trace(nth, size);
    in_hook = 0;
}

void *malloc(size_t size)
{
    counted(size, 0);
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    counted(n * size, 0);
    return __libc_calloc(n, size);
}

void *realloc(void *ptr, size_t size)
{
    counted(size, 1);
    return __libc_realloc(ptr, size);
}

void free(void *ptr)
{
    if (ptr && !in_hook)
        atomic_fetch_add(&n_frees, 1);
    __libc_free(ptr);
}

void *memalign(size_t align, size_t size)
{
    counted(size, 0);
    return __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
    counted(size, 0);
    return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)))
        return EINVAL;
    counted(size, 0);
    void *p = __libc_memalign(align, size);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

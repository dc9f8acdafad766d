/* cpu.h — what the CPU offers beyond the x86-64 baseline the build targets, for the few
 * hot spots that pick a faster path at run time (SHA-256 blocks, base64, prefetching for a
 * write). Each answer is worked out once (cpuid) and is false on other architectures. */
#ifndef VG_CPU_H
#define VG_CPU_H

#include <stdatomic.h>
#include <stdbool.h>

/* SSSE3 and SSE4.1 (every x86-64 CPU since about 2008). */
bool vg_cpu_sse41(void);
/* The SHA extensions (SHA256RNDS2, ...), with SSE4.1. */
bool vg_cpu_sha(void);
/* PREFETCHW (vg_prefetch_write()): AMD since the K6, Intel since Broadwell. */
bool vg_cpu_prefetchw(void);

/* A choice between a portable path and one that a CPU feature makes faster: the fast one
 * by default where the CPU has the feature; tests turn it off to check the other too. */
typedef struct {
    bool (*has)(void); /* the feature, vg_cpu_sha say */
    atomic_int on;     /* -1 until first asked */
} VgCpuPath;

#define VG_CPU_PATH(has)                                                                           \
    {                                                                                              \
        (has), -1                                                                                  \
    }

static inline bool vg_cpu_path_on(VgCpuPath *p)
{
    int v = atomic_load_explicit(&p->on, memory_order_relaxed);
    if (v < 0) {
        v = p->has();
        atomic_store_explicit(&p->on, v, memory_order_relaxed);
    }
    return v;
}

/* Asks for the fast path (on) or the portable one; returns whether the fast one is in
 * force (never on a CPU without the feature). */
bool vg_cpu_path_set(VgCpuPath *p, bool on);

#endif

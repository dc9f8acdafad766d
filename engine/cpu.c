/* cpu.c — see cpu.h. */
#include "engine/cpu.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>

enum { F_SSE41 = 1, F_SHA = 2, F_PREFETCHW = 4, F_KNOWN = 0x100 };

static unsigned features(void)
{
    static _Atomic unsigned f; /* 0: not read yet */
    unsigned v = f;
    if (v)
        return v;
    unsigned a, b, c, d;
    v = F_KNOWN;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1)) {
        v |= F_SSE41;
        if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA))
            v |= F_SHA;
    }
    if (__get_cpuid(0x80000001, &a, &b, &c, &d) && (c & bit_PRFCHW))
        v |= F_PREFETCHW;
    f = v; /* every thread computes the same value */
    return v;
}

bool vg_cpu_sse41(void)
{
    return features() & F_SSE41;
}

bool vg_cpu_sha(void)
{
    return features() & F_SHA;
}

bool vg_cpu_prefetchw(void)
{
    return features() & F_PREFETCHW;
}
#else
bool vg_cpu_sse41(void)
{
    return false;
}

bool vg_cpu_sha(void)
{
    return false;
}

bool vg_cpu_prefetchw(void)
{
    return false;
}
#endif

bool vg_cpu_path_set(VgCpuPath *p, bool on)
{
    on = on && p->has();
    atomic_store_explicit(&p->on, on, memory_order_relaxed);
    return on;
}

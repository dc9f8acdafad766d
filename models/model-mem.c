/* model-mem.c — zeroed arrays whose pages cost nothing until they are used.
 *
 * The models size their pools and sketches from models.memory_budget at creation (the
 * HLL pool alone is 5 % of it: 6.6 MB with the default 128 MiB) and fill them as keys
 * come. Allocated with calloc, such an array is lazily zeroed only while malloc maps it
 * fresh from the kernel; but glibc raises its mapping threshold (up to 32 MiB) every time
 * a mapped block is freed, and from then on a large calloc is carved from the heap and
 * cleared with memset, which touches every page. In `vigil run` with one pipeline per
 * Kafka partition that cost about 10 MiB of RSS per partition before its first event
 * (48 fresh pipelines of the default budget: 580 MiB; mapped directly: 230 MiB,
 * tests/bench/bench-snapshot -k). So arrays of 64 KiB or more are mapped here, whatever
 * malloc did before; smaller ones, and all of them under AddressSanitizer (so overruns
 * are caught), come from the heap.
 */
#include "models/model-int.h"

#include <sys/mman.h>

#define MAP_AT_LEAST ((size_t)64 << 10)

void *vg_models_zalloc(size_t n)
{
#ifndef VG_MODELS_FROM_HEAP
    if (n >= MAP_AT_LEAST) {
        void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            g_error("models: cannot map %zu bytes", n);
        return p;
    }
#endif
    return g_malloc0(n ? n : 1);
}

void vg_models_zfree(void *p, size_t n)
{
    if (!p)
        return;
#ifndef VG_MODELS_FROM_HEAP
    if (n >= MAP_AT_LEAST) {
        munmap(p, n);
        return;
    }
#else
    (void)n;
#endif
    g_free(p);
}

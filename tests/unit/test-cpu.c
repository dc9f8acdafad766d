/* test-cpu.c — the choice between a portable path and a faster one (cpu.h). */
#include "engine/cpu.h"

#include <criterion/criterion.h>

static bool yes(void)
{
    return true;
}

static bool no(void)
{
    return false;
}

Test(cpu, the_fast_path_is_the_default_only_where_the_feature_is)
{
    VgCpuPath with = VG_CPU_PATH(yes), without = VG_CPU_PATH(no);
    cr_assert(vg_cpu_path_on(&with));
    cr_assert(!vg_cpu_path_on(&without));
    cr_assert(!vg_cpu_path_set(&with, false));
    cr_assert(!vg_cpu_path_on(&with));
    cr_assert(vg_cpu_path_set(&with, true));
    cr_assert(vg_cpu_path_on(&with));
    cr_assert(!vg_cpu_path_set(&without, true), "asked for, but the CPU has no such thing");
    cr_assert(!vg_cpu_path_on(&without));
}

Test(cpu, sha_comes_with_sse41)
{
    cr_assert(!vg_cpu_sha() || vg_cpu_sse41());
    cr_log_info("SSE4.1: %d, SHA: %d, PREFETCHW: %d", vg_cpu_sse41(), vg_cpu_sha(),
                vg_cpu_prefetchw());
}

/* cpu-path-test-util.h — for units with a portable path and a faster one the CPU may offer
 * (engine/cpu.h): run a check on both, through the unit's switch. */
#ifndef VG_CPU_PATH_TEST_UTIL_H
#define VG_CPU_PATH_TEST_UTIL_H

#include <criterion/criterion.h>
#include <stdbool.h>

/* check("portable"), then check(fast) where set_fast(true) says the CPU has that path;
 * the fast path is left on. */
static inline void tu_both_paths(bool (*set_fast)(bool), const char *fast,
                                 void (*check)(const char *way))
{
    set_fast(false);
    check("portable");
    if (set_fast(true))
        check(fast);
    else
        cr_log_warn("this CPU has no %s: only the portable code was tested", fast);
}

#endif

/* rules.h — analysts' rules: Sigma detection and correlation rules, and built-in checks. */
#ifndef VG_RULES_H
#define VG_RULES_H

#include "engine/detector.h"

void vg_rules_register(void);

#endif

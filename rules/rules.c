/* rules.c — registers the rule detectors with the engine. */
#include "rules/rules.h"

#include "engine/registry.h"

void vg_rules_register(void)
{
}

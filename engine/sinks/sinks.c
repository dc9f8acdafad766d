/* sinks.c — registers this library's sinks with the engine. */
#include "engine/sinks/sinks.h"

#include "engine/registry.h"

void vg_sinks_register(void)
{
}

/* collectors.c — registers this library's decoders with the engine. */
#include "collectors/collectors.h"

#include "collectors/decoders.h"
#include "engine/registry.h"

void vg_collectors_register(void)
{
    vg_decoders_register_all();
}

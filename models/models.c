/* models.c — registers the model detector with the engine. */
#include "models/models.h"

#include "engine/registry.h"

void vg_models_register(void)
{
}

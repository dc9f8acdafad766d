/* models.h — statistical baselines (per token, endpoint, token×endpoint, client IP). */
#ifndef VG_MODELS_H
#define VG_MODELS_H

#include "engine/detector.h"

void vg_models_register(void);

#endif

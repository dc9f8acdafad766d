/* builtin.h — checks built into the engine, needing no rule file. */
#ifndef VG_BUILTIN_H
#define VG_BUILTIN_H

#include "engine/detector.h"

extern const VgDetectorOps vg_builtin_detector_ops;

#endif

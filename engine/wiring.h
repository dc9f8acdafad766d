/* wiring.h — registers every library's decoders, detectors and sinks (call once). */
#ifndef VG_WIRING_H
#define VG_WIRING_H

void vg_register_all(void);

#endif

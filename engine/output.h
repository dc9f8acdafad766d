/* output.h — where the alert stage sends rendered alerts.
 *
 * The engine does not know sinks; it knows one VgAlertOutput, filled in by whoever wires
 * the process together (the delivery layer in engine/sinks/, or a test). push() must copy
 * what it keeps: the record's strings live only for the call.
 */
#ifndef VG_OUTPUT_H
#define VG_OUTPUT_H

#include "engine/sink.h"

typedef struct {
    void *user;
    /* Takes one record. VG_OK, or VG_EFULL when the spool is full: the pipeline then stops
     * reading input (back-pressure) and retries the flush. */
    int (*push)(void *user, const VgAlertRecord *rec);
    /* End of a batch: deliver what was pushed (or spool it). */
    int (*flush)(void *user);
} VgAlertOutput;

#endif

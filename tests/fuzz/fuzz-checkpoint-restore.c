/* fuzz-checkpoint-restore.c — the restore parsers of checkpoints: the checkpoint file
 * (CRC, lengths, zlib, offsets), then its state as a pipeline snapshot (alert stage,
 * rules with correlation windows, models) into a pipeline built from the defaults plus
 * a correlation rule. The CRC would stop most mutations at the door, so the input is also
 * given straight to the pipeline restore. After a restore that succeeded, a few events
 * run through the pipeline, so state that parses but would misbehave shows up too. */
#include "engine/checkpoint.h"
#include "engine/pipeline.h"
#include "engine/settings.h"
#include "engine/wiring.h"

#include <stdio.h>
#include <stdlib.h>

static VgPipeline *fresh(void)
{
    static VgSettings *s;
    if (!s) {
        vg_register_all();
        GError *err = NULL;
        s = vg_settings_load(NULL, &err);
        if (!s)
            abort();
    }
    GError *err = NULL;
    VgAlertOutput out = {0};
    VgPipeline *p = vg_pipeline_new(s, out, NULL, NULL, &err);
    if (!p) {
        fprintf(stderr, "%s\n", err->message);
        abort();
    }
    return p;
}

static void run_some(VgPipeline *p)
{
    static const char *lines[] = {
        "{\"time\":\"2026-03-02T10:00:00Z\",\"client_ip\":\"10.0.0.1\",\"method\":\"GET\","
        "\"scheme\":\"http\",\"path\":\"/v1/x/1\",\"status\":200,\"token\":\"tk_1\"}",
        "{\"time\":\"2026-03-02T10:05:00Z\",\"client_ip\":\"10.0.0.2\",\"method\":\"POST\","
        "\"path\":\"/v1/login\",\"status\":401,\"token\":\"tk_2\"}",
    };
    VgLineBatch b;
    vg_line_batch_init(&b, 8, 4096);
    b.source = "fuzz";
    for (size_t i = 0; i < G_N_ELEMENTS(lines); i++)
        vg_line_batch_add(&b, lines[i], strlen(lines[i]), i + 1, -1, VG_BAD_NONE);
    vg_pipeline_process(p, &b);
    vg_pipeline_finish(p);
    vg_line_batch_free(&b);
}

static void try_state(const uint8_t *data, size_t size)
{
    VgPipeline *p = fresh();
    GError *err = NULL;
    if (vg_pipeline_restore(p, data, size, &err) == VG_OK)
        run_some(p);
    g_clear_error(&err);
    vg_pipeline_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *err = NULL;
    VgCheckpoint *c = vg_checkpoint_decode(data, size, &err);
    g_clear_error(&err);
    if (c) {
        try_state(c->state->data, c->state->len);
        vg_checkpoint_free(c);
    }
    try_state(data, size);
    return 0;
}

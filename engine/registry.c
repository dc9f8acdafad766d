/* registry.c — see registry.h. Fixed small arrays: there are a handful of each kind. */
#include "engine/registry.h"

#define MAX_OPS 32

static const VgDecoderOps *decoders[MAX_OPS + 1];
static const VgDetectorOps *detectors[MAX_OPS + 1];
static const VgSinkOps *sinks[MAX_OPS + 1];
static const VgConfSection *sections[MAX_OPS + 1];

static void add(const void **arr, const void *ops)
{
    int i = 0;
    while (arr[i] && arr[i] != ops)
        i++;
    g_assert(i < MAX_OPS);
    arr[i] = ops;
}

void vg_register_decoder(const VgDecoderOps *ops)
{
    add((const void **)decoders, ops);
}
void vg_register_detector(const VgDetectorOps *ops)
{
    add((const void **)detectors, ops);
}
void vg_register_sink(const VgSinkOps *ops)
{
    add((const void **)sinks, ops);
}

void vg_register_conf_section(const VgConfSection *sec)
{
    if (vg_find_conf_section(sec->name))
        return;
    add((const void **)sections, sec);
}

const VgConfSection *vg_find_conf_section(const char *name)
{
    for (int i = 0; sections[i]; i++)
        if (!strcmp(sections[i]->name, name))
            return sections[i];
    return NULL;
}

const VgConfSection *const *vg_conf_sections(void)
{
    return sections;
}

const VgDecoderOps *vg_find_decoder(const char *name)
{
    for (int i = 0; decoders[i]; i++)
        if (!strcmp(decoders[i]->name, name))
            return decoders[i];
    return NULL;
}

const VgSinkOps *vg_find_sink(const char *name)
{
    for (int i = 0; sinks[i]; i++)
        if (!strcmp(sinks[i]->name, name))
            return sinks[i];
    return NULL;
}

const VgDecoderOps *const *vg_decoders(void)
{
    return decoders;
}
const VgDetectorOps *const *vg_detectors(void)
{
    return detectors;
}
const VgSinkOps *const *vg_sinks(void)
{
    return sinks;
}

/* wiring.c — the one place that knows every library: registers their tables. */
#include "engine/wiring.h"

#include "collectors/collectors.h"
#include "engine/sinks/sinks.h"
#include "models/models.h"
#include "engine/registry.h"
#include "rules/builtin.h"
#include "rules/rules.h"

void vg_register_all(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    vg_collectors_register();
    vg_sinks_register();
    vg_register_detector(&vg_builtin_detector_ops);
    vg_rules_register();
    vg_models_register();
}

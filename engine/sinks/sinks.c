/* sinks.c — registers this library's sinks with the engine. */
#include "engine/sinks/sinks.h"

#include "engine/registry.h"

void vg_sinks_register(void)
{
    vg_register_sink(&vg_sink_stdout_ops);
    vg_register_sink(&vg_sink_file_ops);
    vg_register_sink(&vg_sink_redis_ops);
    vg_register_sink(&vg_sink_syslog_ops);
}

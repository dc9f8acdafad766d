/* cli-stubs.c — commands whose implementation has not landed yet say so plainly.
 * The stubs are weak symbols: a cli-*.c file that defines the command replaces them. */
#include "engine/cli.h"

#include <stdio.h>

static int not_yet(const char *cmd)
{
    fprintf(stderr, "vigil %s: not available in this build yet\n", cmd);
    return VG_EXIT_FAIL;
}

__attribute__((weak)) int vg_cmd_run(int argc, char **argv)
{
    (void)argc, (void)argv;
    return not_yet("run");
}
__attribute__((weak)) int vg_cmd_check(int argc, char **argv)
{
    (void)argc, (void)argv;
    return not_yet("check");
}
__attribute__((weak)) int vg_cmd_explain(int argc, char **argv)
{
    (void)argc, (void)argv;
    return not_yet("explain");
}
__attribute__((weak)) int vg_cmd_test_rules(int argc, char **argv)
{
    (void)argc, (void)argv;
    return not_yet("test-rules");
}
__attribute__((weak)) int vg_cmd_config(int argc, char **argv)
{
    (void)argc, (void)argv;
    return not_yet("config");
}

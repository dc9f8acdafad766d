/* main.c — the vigil command: dispatches to one of the commands in cli-*.c. */
#include "engine/cli.h"
#include "engine/wiring.h"

#include <locale.h>
#include <stdio.h>

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} Command;

static const Command commands[] = {
    {"replay", vg_cmd_replay, "Replay log files in event time; alerts to the sinks"},
    {"run", vg_cmd_run, "Run as a daemon on Kafka, files or stdin (vigil run -c vigil.yml)"},
    {"check", vg_cmd_check, "Validate a configuration and its rules"},
    {"explain", vg_cmd_explain, "Show how each log line is read and judged, as JSON"},
    {"test-rules", vg_cmd_test_rules, "Show which rule and selection matched each event"},
    {"config", vg_cmd_config, "Print the effective configuration (--dump)"},
};

static void usage(FILE *f)
{
    fprintf(f, "Usage: vigil COMMAND [OPTION…]\n\n"
               "vigil reads API access logs, keeps a baseline per token, endpoint and client,\n"
               "runs Sigma rules and raises alerts to Redis, syslog or files.\n\nCommands:\n");
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-12s %s\n", "version", "Print the version");
    fprintf(f, "\nRun 'vigil COMMAND --help' for a command's options.\n"
               "Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.\n");
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "C.UTF-8");
    vg_register_all();
    if (argc < 2) {
        usage(stderr);
        return VG_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return VG_EXIT_OK;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("vigil %s\n", VIGIL_VERSION);
        return VG_EXIT_OK;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
        if (!strcmp(cmd, commands[i].name)) {
            /* the command sees itself as argv[0], as GOptionContext expects */
            char *prog = g_strdup_printf("vigil %s", cmd);
            argv[1] = prog;
            int rc = commands[i].fn(argc - 1, argv + 1);
            g_free(prog);
            return rc;
        }
    }
    fprintf(stderr, "vigil: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return VG_EXIT_USAGE;
}

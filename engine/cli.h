/* cli.h — the vigil commands and what they share: loading settings with command-line
 * overrides, reading files through the pipeline, the progress bar and the summary line.
 * Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error. */
#ifndef VG_CLI_H
#define VG_CLI_H

#include "engine/pipeline.h"

enum { VG_EXIT_OK = 0, VG_EXIT_FAIL = 1, VG_EXIT_USAGE = 2 };

int vg_cmd_replay(int argc, char **argv);
int vg_cmd_check(int argc, char **argv);
int vg_cmd_explain(int argc, char **argv);
int vg_cmd_run(int argc, char **argv);
int vg_cmd_test_rules(int argc, char **argv);
int vg_cmd_config(int argc, char **argv);

/* Options most commands take. */
typedef struct {
    char *config;   /* -c FILE */
    char *format;   /* --format F */
    char **rules;   /* --rules PATH (repeatable) */
    gboolean quiet; /* --quiet: no progress bar, no summary */
} VgCliCommon;

/* Adds the common options to a GOptionContext's main group. */
void vg_cli_add_common(GOptionContext *ctx, VgCliCommon *c);
/* Loads settings (c->config or defaults) and applies the overrides. On error prints the
 * message to stderr and returns NULL (exit code 2). */
VgSettings *vg_cli_settings(const VgCliCommon *c);

/* Where vg_cli_read_files() puts lines: batch() gives a cleared batch to fill (NULL: it
 * takes no more), submit() hands over a filled one (never empty), events() counts the
 * events judged so far for the progress bar (NULL: no progress bar). */
typedef struct {
    void *user;
    VgLineBatch *(*batch)(void *user);
    void (*submit)(void *user, VgLineBatch *b);
    uint64_t (*events)(void *user);
} VgCliLineSink;

/* The lines of files (or "-") read in order, a batch at a time: what vg_cli_read_files()
 * reads with, for callers that pull batches themselves (the parallel replay's workers). A
 * file that cannot be opened or read is logged and skipped; close() reports the first such
 * error. Not thread-safe: one caller at a time. */
typedef struct VgCliFiles VgCliFiles;
/* *stop set to nonzero ends the reading early (next() answers VG_EOF). */
VgCliFiles *vg_cli_files_open(char **files, const VgSettings *s, volatile int *stop);
/* Appends up to b->max_lines lines (input.max_line_bytes each at most) to b, cleared by the
 * caller: VG_OK with lines added, VG_EOF with none at the end. */
int vg_cli_files_next(VgCliFiles *f, VgLineBatch *b);
/* Bytes read so far and the files' total (0 when unknown). */
void vg_cli_files_progress(VgCliFiles *f, uint64_t *done, uint64_t *total);
/* Frees f: VG_OK, or VG_EIO with err (the first error) when a file could not be read. */
int vg_cli_files_close(VgCliFiles *f, GError **err);

/* Reads every file (or "-") in order into the sink's batches, lines cut at
 * input.max_line_bytes. Returns VG_OK, or VG_EIO when a file could not be read (the others
 * are still read; err holds the first error). *stop set to nonzero ends the read early. */
int vg_cli_read_files(char **files, const VgSettings *s, const VgCliLineSink *sink, bool quiet,
                      volatile int *stop, GError **err);

/* Feeds every file (or "-") through the pipeline in order, in batches of
 * engine.batch_lines, lines cut at input.max_line_bytes. Shows a progress bar on a
 * terminal unless quiet. Returns VG_OK, or VG_EIO when a file could not be read (the others
 * are still read; err holds the first error). *stop set to nonzero ends the read early. */
int vg_cli_feed_files(VgPipeline *p, char **files, const VgSettings *s, bool quiet,
                      volatile int *stop, GError **err);
/* Prints the summary line on stderr. */
void vg_cli_summary(const char *cmd, VgPipeline *p, double elapsed_s);
/* The same from counters (the parallel pipeline sums its workers'). */
void vg_cli_summary_of(const char *cmd, const VgPipelineStats *st, const VgAlertStats *as,
                       double elapsed_s);
/* Whether every module section of s (those `vigil config --dump` shows: sinks, the
 * registered ones such as kafka, metrics and checkpoint, the detectors') loads as the
 * module loads it; prints each error as file:line:col: reason, except one equal to said
 * (an error already printed; NULL: none). */
bool vg_cli_sections_valid(const VgSettings *s, const char *said);
/* Prints the usage error and returns VG_EXIT_USAGE. */
int vg_cli_usage_error(GOptionContext *ctx, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#endif

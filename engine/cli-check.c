/* cli-check.c — `vigil check -c FILE`: validate a configuration and its rules.
 *
 * Builds everything `run` would build (settings, decoder, every detector with its rules,
 * the sinks' configuration) and loads every module section as `vigil config --dump` does
 * (so also those only `run` reads: metrics, kafka, checkpoint) without reading input or
 * connecting anywhere, and reports every error with its file, line and column. Exit 0
 * when all is well, 2 otherwise.
 */
#include "engine/cli.h"

#include "engine/log.h"
#include "engine/output.h"
#include "rules/rules.h"

#include <stdio.h>

static int null_push(void *u, const VgAlertRecord *r)
{
    (void)u;
    (void)r;
    return VG_OK;
}

int vg_cmd_check(int argc, char **argv)
{
    VgCliCommon c = {0};
    GOptionContext *ctx = g_option_context_new("");
    g_option_context_set_summary(
        ctx, "Validate a configuration file and every rule it loads. Errors are printed as\n"
             "file:line:column: reason; the exit code is 0 when everything is valid, 2 if not.");
    vg_cli_add_common(ctx, &c);
    GError *err = NULL;
    int rc = VG_EXIT_USAGE;
    VgSettings *s = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        rc = vg_cli_usage_error(ctx, "%s", err->message);
        goto out;
    }
    if (!(s = vg_cli_settings(&c)))
        goto out;

    /* rules: report every error, not just the first */
    const VgConfNode *paths_node = vg_conf_get(s->rules, "paths");
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    if (paths_node && paths_node->kind == VG_NODE_SEQ) {
        for (guint i = 0; i < paths_node->items->len; i++)
            g_ptr_array_add(paths, g_strdup(((VgConfNode *)paths_node->items->pdata[i])->value));
    } else if (paths_node && paths_node->kind == VG_NODE_SCALAR) {
        g_ptr_array_add(paths, g_strdup(paths_node->value));
    } else {
        for (const char *const *d = vg_rules_default_paths(); d && *d; d++)
            g_ptr_array_add(paths, g_strdup(*d));
    }
    g_ptr_array_add(paths, NULL);
    GPtrArray *errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    VgRulesLoadOpts lo = {.expand = vg_conf_get(s->rules, "expand")};
    VgRuleSet *set = vg_rule_set_load((const char *const *)paths->pdata, &lo, errors);
    guint broken = 0;
    for (guint i = 0; i < errors->len; i++) {
        const GError *e = errors->pdata[i];
        /* a rule waiting for its rules.expand list is reported, not counted as broken */
        fprintf(stderr, "%s%s\n", e->code == VG_ENOENT ? "note: " : "", e->message);
        broken += e->code != VG_ENOENT;
    }
    int n_rules = vg_rule_set_size(set), n_corr = vg_rule_set_n_correlations(set);
    vg_rule_set_free(set);
    g_ptr_array_free(paths, TRUE);
    bool ok = broken == 0;
    g_ptr_array_free(errors, TRUE);

    /* everything else: build the pipeline as run would (its rule warnings were just
     * printed above, so only errors are logged now) */
    vg_log_set_level(VG_LOG_ERROR);
    VgAlertOutput out = {.push = null_push};
    VgPipeline *p = vg_pipeline_new(s, out, NULL, NULL, &err);
    if (!p) {
        fprintf(stderr, "%s\n", err->message);
        ok = false;
    }
    /* and every module section as its module loads it, those only `run` reads (metrics,
     * kafka, checkpoint) included, also after a pipeline error (whose section is then
     * not named twice) */
    if (!vg_cli_sections_valid(s, p ? NULL : err->message))
        ok = false;
    vg_pipeline_free(p);
    if (ok)
        printf("ok: %s: %d detection rules, %d correlation rules\n",
               c.config ? c.config : "built-in defaults", n_rules, n_corr);
    rc = ok ? VG_EXIT_OK : VG_EXIT_USAGE;
out:
    g_clear_error(&err);
    vg_settings_free(s);
    g_option_context_free(ctx);
    g_free(c.config);
    g_free(c.format);
    g_strfreev(c.rules);
    return rc;
}

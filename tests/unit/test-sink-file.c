/* test-sink-file.c — the file sink: JSON lines, reopen on SIGHUP (logrotate), a path that
 * is not writable yet (spooled, then delivered once it is). */
#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "engine/sinks/delivery.h"
#include "engine/sinks/sinks.h"

static char *dir;

static void setup(void)
{
    vg_sinks_register();
    dir = g_dir_make_tmp("vg-file-XXXXXX", NULL);
}

static void teardown(void)
{
    char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    g_free(cmd);
    g_free(dir);
}

TestSuite(file, .init = setup, .fini = teardown);

static VgDelivery *make(const char *path)
{
    char *t = g_strdup_printf("sinks:\n  - type: file\n    path: %s\nspool:\n  dir: %s/spool\n"
                              "  retry_min: 1ms\n  retry_max: 2ms\n",
                              path, dir);
    GError *err = NULL;
    VgConfNode *root = vg_conf_load_string(t, strlen(t), "t.yml", &err);
    VgDelivery *d = vg_delivery_new(vg_conf_get(root, "sinks"), vg_conf_get(root, "spool"), &err);
    cr_assert(d, "%s", err ? err->message : "");
    vg_conf_node_free(root);
    g_free(t);
    return d;
}

static void push(VgDelivery *d, int from, int to)
{
    for (int i = from; i < to; i++) {
        char json[32];
        snprintf(json, sizeof json, "{\"n\":%d}", i);
        VgAlertRecord r = {.json = json, .json_len = strlen(json), .id = json};
        cr_assert_eq(vg_delivery_push(d, &r), VG_OK);
    }
    cr_assert_eq(vg_delivery_flush(d), VG_OK);
}

static void assert_file(const char *path, const char *want)
{
    gchar *data = NULL;
    cr_assert(g_file_get_contents(path, &data, NULL, NULL), "%s missing", path);
    cr_assert_str_eq(data, want);
    g_free(data);
}

Test(file, json_lines_and_reopen_for_logrotate)
{
    char *path = g_build_filename(dir, "alerts.json", NULL);
    char *rotated = g_build_filename(dir, "alerts.json.1", NULL);
    VgDelivery *d = make(path);
    push(d, 0, 2);
    assert_file(path, "{\"n\":0}\n{\"n\":1}\n");
    cr_assert_eq(g_rename(path, rotated), 0);
    push(d, 2, 3); /* before SIGHUP: still into the renamed file */
    vg_delivery_reopen(d);
    push(d, 3, 4);
    assert_file(rotated, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
    assert_file(path, "{\"n\":3}\n");
    vg_delivery_free(d);
    g_free(path);
    g_free(rotated);
}

Test(file, not_writable_yet_is_spooled_then_delivered)
{
    char *sub = g_build_filename(dir, "later", NULL);
    char *path = g_build_filename(sub, "alerts.json", NULL);
    VgDelivery *d = make(path);
    push(d, 0, 3);
    VgSinkStats st;
    vg_delivery_stats(d, 0, &st);
    cr_assert(st.down);
    cr_assert_eq(st.spool_records, 3);
    cr_assert_eq(g_mkdir(sub, 0700), 0);
    g_usleep(5000);
    push(d, 3, 4);
    assert_file(path, "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
    vg_delivery_free(d);
    g_free(path);
    g_free(sub);
}

Test(file, path_is_required)
{
    const char *t = "sinks:\n  - type: file\n";
    VgConfNode *root = vg_conf_load_string(t, strlen(t), "t.yml", NULL);
    GError *err = NULL;
    cr_assert_null(vg_delivery_new(vg_conf_get(root, "sinks"), NULL, &err));
    cr_assert(strstr(err->message, "option 'path' is required"), "%s", err->message);
    g_error_free(err);
    vg_conf_node_free(root);
}

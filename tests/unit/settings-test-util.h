/* settings-test-util.h — settings from YAML text, for tests that build pipelines. */
#ifndef VG_SETTINGS_TEST_UTIL_H
#define VG_SETTINGS_TEST_UTIL_H

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "engine/settings.h"
#include "engine/wiring.h"

/* The settings yaml gives, loaded as vigil.yml would be (from a temporary file, removed);
 * registers the modules first. Fails the test when they do not load. */
static inline VgSettings *settings_from_yaml(const char *yaml)
{
    vg_register_all();
    char *path = g_build_filename(g_get_tmp_dir(), "vigil-test-XXXXXX.yml", NULL);
    int fd = g_mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert(g_file_set_contents(path, yaml, -1, NULL));
    GError *err = NULL;
    VgSettings *s = vg_settings_load(path, &err);
    cr_assert_not_null(s, "%s", err ? err->message : "");
    g_unlink(path);
    g_free(path);
    return s;
}

#endif

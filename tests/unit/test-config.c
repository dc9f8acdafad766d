/* Unit tests: the YAML tree and option tables (engine/config.c, engine/settings.c). */
#include "engine/config.h"
#include "engine/settings.h"
#include "settings-test-util.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct {
    bool on;
    int64_t n;
    double ratio;
    char *name;
    int64_t window_ms;
    int64_t budget;
    char **list;
    const VgConfNode *sub;
} Opts;

static const VgConfOption opts[] = {
    {"on", VG_CT_BOOL, offsetof(Opts, on), "false", 0, 0, NULL, 0, NULL, "a switch"},
    {"n", VG_CT_INT, offsetof(Opts, n), "7", 1, 100, NULL, 0, NULL, "a number"},
    {"ratio", VG_CT_DOUBLE, offsetof(Opts, ratio), "0.5", 0, 1, NULL, 0, NULL, "a ratio"},
    {"name", VG_CT_STRING, offsetof(Opts, name), "x", 0, 0, "x|y|z", VG_CO_SECRET, "VG_TEST_NAME",
     "a name"},
    {"window", VG_CT_DURATION, offsetof(Opts, window_ms), "5m", 0, 0, NULL, 0, NULL, "a span"},
    {"budget", VG_CT_SIZE, offsetof(Opts, budget), "64MiB", 0, 0, NULL, 0, NULL, "bytes"},
    {"list", VG_CT_STRLIST, offsetof(Opts, list), NULL, 0, 0, NULL, 0, NULL, "a list"},
    {"sub", VG_CT_NODE, offsetof(Opts, sub), NULL, 0, 0, NULL, 0, NULL, "a subtree"},
    {NULL},
};

static VgConfNode *parse(const char *y)
{
    GError *e = NULL;
    VgConfNode *n = vg_conf_load_string(y, strlen(y), "t.yml", &e);
    cr_assert_not_null(n, "parse failed: %s", e ? e->message : "");
    return n;
}

Test(config, defaults_without_a_file)
{
    Opts o = {0};
    cr_assert_eq(vg_conf_apply(opts, &o, NULL, NULL), VG_OK);
    cr_assert_eq(o.n, 7);
    cr_assert_float_eq(o.ratio, 0.5, 1e-12);
    cr_assert_str_eq(o.name, "x");
    cr_assert_eq(o.window_ms, 300000);
    cr_assert_eq(o.budget, 64 * 1048576);
    cr_assert_null(o.list);
    vg_conf_clear(opts, &o);
}

Test(config, values_units_and_lists)
{
    VgConfNode *n = parse("on: yes\nn: 42\nratio: 0.25\nname: z\nwindow: 250ms\n"
                          "budget: 2GiB\nlist: [a, b]\nsub: {k: v}\n");
    Opts o = {0};
    GError *e = NULL;
    cr_assert_eq(vg_conf_apply(opts, &o, n, &e), VG_OK, "%s", e ? e->message : "");
    cr_assert(o.on);
    cr_assert_eq(o.n, 42);
    cr_assert_eq(o.window_ms, 250);
    cr_assert_eq(o.budget, 2LL * 1073741824);
    cr_assert_str_eq(o.list[0], "a");
    cr_assert_str_eq(o.list[1], "b");
    cr_assert_null(o.list[2]);
    cr_assert_str_eq(vg_conf_get(o.sub, "k")->value, "v");
    vg_conf_clear(opts, &o);
    vg_conf_node_free(n);
}

static void expect_error(const char *yaml, const char *needle)
{
    VgConfNode *n = parse(yaml);
    Opts o = {0};
    GError *e = NULL;
    cr_assert_eq(vg_conf_apply(opts, &o, n, &e), VG_ECONFIG, "accepted: %s", yaml);
    cr_assert_not_null(e);
    cr_assert(strstr(e->message, needle), "message '%s' lacks '%s'", e->message, needle);
    g_error_free(e);
    vg_conf_clear(opts, &o);
    vg_conf_node_free(n);
}

Test(config, errors_name_file_line_and_reason)
{
    expect_error("n: 5\nbogus: 1\n", "t.yml:2:1: unknown option 'bogus'");
    expect_error("n: 500\n", "t.yml:1:4: n must be between 1 and 100");
    expect_error("n: five\n", "'five' is not a whole number");
    expect_error("name: w\n", "name must be one of x|y|z");
    expect_error("window: 5 parsecs\n", "is not a duration");
    expect_error("on: maybe\n", "is not true or false");
    expect_error("n: [1]\n", "expected a single value");
}

Test(config, yaml_errors_and_duplicates)
{
    GError *e = NULL;
    const char *bad = "a: [1, 2\n";
    cr_assert_null(vg_conf_load_string(bad, strlen(bad), "b.yml", &e));
    cr_assert(strstr(e->message, "b.yml:"), "%s", e->message);
    g_clear_error(&e);
    const char *dup = "a: 1\nb: 2\na: 3\n";
    cr_assert_null(vg_conf_load_string(dup, strlen(dup), "d.yml", &e));
    cr_assert(strstr(e->message, "d.yml:3:1: duplicate key 'a' (first at line 1)"), "%s",
              e->message);
    g_clear_error(&e);
    const char *alias = "a: &x 1\nb: *x\n";
    cr_assert_null(vg_conf_load_string(alias, strlen(alias), "a.yml", &e));
    cr_assert(strstr(e->message, "aliases"), "%s", e->message);
    g_clear_error(&e);
}

Test(config, environment_overrides_and_secret_masking)
{
    setenv("VG_TEST_NAME", "y", 1);
    Opts o = {0};
    cr_assert_eq(vg_conf_apply(opts, &o, NULL, NULL), VG_OK);
    cr_assert_str_eq(o.name, "y");
    GString *d = g_string_new(NULL);
    vg_conf_dump(opts, &o, d, 0);
    cr_assert(strstr(d->str, "name: \"********\""), "%s", d->str);
    cr_assert(strstr(d->str, "window: 5m"), "%s", d->str);
    g_string_free(d, TRUE);
    vg_conf_clear(opts, &o);
    unsetenv("VG_TEST_NAME");
}

Test(config, multi_document_streams)
{
    const char *y = "title: a\n---\ntitle: b\n---\n";
    GError *e = NULL;
    GPtrArray *docs = vg_conf_load_documents(y, strlen(y), "m.yml", &e);
    cr_assert_not_null(docs);
    cr_assert_geq(docs->len, 2);
    cr_assert_str_eq(vg_conf_get(docs->pdata[1], "title")->value, "b");
    cr_assert_eq(vg_conf_get(docs->pdata[1], "title")->line, 3);
    g_ptr_array_free(docs, TRUE);
}

Test(settings, unknown_section_and_overrides)
{
    char path[] = "/tmp/vg-settings-XXXXXX";
    int fd = mkstemp(path);
    const char *y = "input:\n  format: kong\nengine:\n  workers: 2\nbogus: {}\n";
    cr_assert_eq(write(fd, y, strlen(y)), (ssize_t)strlen(y));
    close(fd);
    GError *e = NULL;
    cr_assert_null(vg_settings_load(path, &e));
    cr_assert(strstr(e->message, ":5:1: unknown section 'bogus'"), "%s", e->message);
    g_clear_error(&e);

    fd = open(path, O_WRONLY | O_TRUNC);
    y = "input:\n  format: kong\nengine:\n  workers: 2\n";
    cr_assert_eq(write(fd, y, strlen(y)), (ssize_t)strlen(y));
    close(fd);
    VgSettings *s = vg_settings_load(path, &e);
    cr_assert_not_null(s, "%s", e ? e->message : "");
    cr_assert_str_eq(s->input.format, "kong");
    cr_assert_eq(s->engine.workers, 2);
    cr_assert_eq(s->alerts.cooldown_ms, 600000);
    const char *paths[] = {"/a", "/b", NULL};
    vg_settings_override_list(s, "rules", "paths", paths);
    const VgConfNode *p = vg_conf_get(s->rules, "paths");
    cr_assert_not_null(p);
    cr_assert_eq(p->items->len, 2);
    vg_settings_free(s);
    unlink(path);
}

/* A derived copy: one value set as if the file said so, the original untouched, the
 * other sections carried over; an engine section that rejects the value names the setter. */
Test(settings, derive_a_copy_with_one_value)
{
    GError *e = NULL;
    VgSettings *s = settings_from_yaml(
        "engine:\n  workers: 2\nmodels:\n  memory_budget: 64MiB\n  half_life: 1h\n");
    VgSettings *d = vg_settings_derive(s, "models", "memory_budget", "1048576", "test", &e);
    cr_assert_not_null(d, "%s", e ? e->message : "");
    cr_assert_str_eq(vg_conf_get(d->models, "memory_budget")->value, "1048576");
    cr_assert_str_eq(vg_conf_get(d->models, "half_life")->value, "1h");
    cr_assert_str_eq(vg_conf_get(s->models, "memory_budget")->value, "64MiB");
    cr_assert_eq(d->engine.workers, 2);
    vg_settings_free(d);

    d = vg_settings_derive(s, "engine", "workers", "many", "the test", &e);
    cr_assert_null(d);
    cr_assert(strstr(e->message, "the test"), "%s", e->message);
    g_clear_error(&e);
    vg_settings_free(s);

    /* from the built-in defaults (no file): the section is created */
    s = vg_settings_load(NULL, &e);
    d = vg_settings_derive(s, "models", "memory_budget", "2MiB", "test", &e);
    cr_assert_not_null(d, "%s", e ? e->message : "");
    cr_assert_str_eq(vg_conf_get(d->models, "memory_budget")->value, "2MiB");
    cr_assert_null(s->models);
    vg_settings_free(d);
    vg_settings_free(s);
}

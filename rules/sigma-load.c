/* sigma-load.c — reading Sigma YAML into a rule set.
 *
 * Paths are files or directories; a directory contributes every *.yml and *.yaml below
 * it, in sorted order, so the same tree always gives the same rule order (and the same
 * alerts). Each file may hold several documents. A document is
 *   - a correlation rule if it has `correlation:` (handed to correlation-*.c),
 *   - a filter if it has `filter:` (its condition is AND NOT'ed onto the rules it names,
 *     sigma-filters-specification.md),
 *   - a detection rule if it has `detection:`,
 * and anything else is an error. Sigma 1's `action: global/reset/repeat` multi-document
 * rules are rejected with a message (the specification dropped them); a document that is
 * empty (a stray `---`) is ignored.
 *
 * Every problem becomes one GError "file:line:col: reason" in the caller's list and the
 * document is left out; nothing a rule author writes can stop the other rules from
 * loading. References are checked once everything is read: duplicate ids and names, the
 * `rules:` of filters and of correlations (a correlation naming an unknown rule is dropped
 * alone, with its location).
 *
 * The logsource is informational: vigil reads API access logs, i.e. what Sigma calls
 * `category: webserver` or `category: proxy` (any product). Rules written for other log
 * sources are loaded too; their fields are simply absent from API events.
 */
#include "rules/embedded.h"
#include "rules/sigma.h"

#include "engine/alert.h"
#include "rules/correlation.h"

#include <stdarg.h>

typedef struct {
    char *path;
    char *ruleset;
    const VgEmbeddedFile *embedded; /* read from the binary instead of the disk */
    /* read before anything is compiled (read_file), so that a shared set is keyed by the
     * very bytes it is built from */
    const char *text;
    gsize len;
    char *owned;      /* text, when read from the disk */
    GError *read_err; /* the file could not be read */
} FileEnt;

typedef struct {
    SigDetection *det;
    char **refs; /* NULL-terminated */
    int *lines, *cols;
    const char *file;
} PendingFilter;

typedef struct {
    VgCorrRule *rule;
    char **refs;
    int *lines, *cols;
    const char *file;
    int doc_line;
} PendingCorr;

typedef struct {
    GPtrArray *errors;
    SigCompileOpts co;
    VgRuleSet *set;
    GHashTable *by_id;   /* id -> index + 1 (detection rules) */
    GHashTable *by_name; /* name -> index + 1 */
    GArray *filters;     /* PendingFilter */
    GArray *corrs;       /* PendingCorr */
} Loader;

static void push_err(Loader *L, GError *e)
{
    if (e)
        g_ptr_array_add(L->errors, e);
}

static void push_msg(Loader *L, const VgConfNode *n, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void push_msg(Loader *L, const VgConfNode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    GError *e = NULL;
    vg_conf_error(&e, n, "%s", msg);
    g_free(msg);
    push_err(L, e);
}

/* ---- files ---- */

static bool is_rule_file(const char *name)
{
    return name[0] != '.' && (g_str_has_suffix(name, ".yml") || g_str_has_suffix(name, ".yaml"));
}

/* GPtrArray's sort passes pointers to the elements. */
static gint cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void collect_dir(Loader *L, const char *dir, GArray *files, int depth)
{
    GError *e = NULL;
    GDir *d = g_dir_open(dir, 0, &e);
    if (!d) {
        g_ptr_array_add(L->errors, g_error_new(VG_ERROR, VG_ECONFIG, "%s: %s", dir, e->message));
        g_error_free(e);
        return;
    }
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(name));
    g_dir_close(d);
    g_ptr_array_sort(names, cmp_names);
    char *base = g_path_get_basename(dir);
    for (guint i = 0; i < names->len; i++) {
        const char *nm = names->pdata[i];
        char *p = g_build_filename(dir, nm, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR)) {
            if (nm[0] != '.' && depth < 16)
                collect_dir(L, p, files, depth + 1);
            g_free(p);
        } else if (is_rule_file(nm)) {
            FileEnt f = {.path = p, .ruleset = g_strdup(base)};
            g_array_append_val(files, f);
        } else {
            g_free(p);
        }
    }
    g_free(base);
    g_ptr_array_free(names, TRUE);
}

/* "embedded:" names every compiled-in pack file, "embedded:api" those of one pack. */
static void collect_embedded(Loader *L, const char *which, GArray *files)
{
    size_t n = strlen(which);
    bool any = false;
    for (const VgEmbeddedFile *e = vg_embedded_packs; e->path; e++) {
        if (n && !(strncmp(e->path, which, n) == 0 && e->path[n] == '/'))
            continue;
        const char *slash = strchr(e->path, '/');
        FileEnt f = {
            .path = g_strconcat("embedded:", e->path, NULL),
            .ruleset = slash ? g_strndup(e->path, (gsize)(slash - e->path)) : g_strdup("embedded"),
            .embedded = e,
        };
        g_array_append_val(files, f);
        any = true;
    }
    if (!any)
        g_ptr_array_add(
            L->errors,
            g_error_new(VG_ERROR, VG_ECONFIG, "embedded:%s: no such compiled-in rule pack", which));
}

static void collect(Loader *L, const char *path, GArray *files)
{
    if (g_str_has_prefix(path, "embedded:")) {
        collect_embedded(L, path + strlen("embedded:"), files);
    } else if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        collect_dir(L, path, files, 0);
    } else if (g_file_test(path, G_FILE_TEST_EXISTS)) {
        char *base = g_path_get_basename(path);
        char *dot = strrchr(base, '.');
        if (dot && dot != base)
            *dot = '\0';
        FileEnt f = {.path = g_strdup(path), .ruleset = base};
        g_array_append_val(files, f);
    } else {
        g_ptr_array_add(L->errors, g_error_new(VG_ERROR, VG_ECONFIG,
                                               "%s: no such rule file or directory", path));
    }
}

/* ---- documents ---- */

static bool get_str(Loader *L, const VgConfNode *doc, const char *key, bool required, char **out)
{
    const VgConfNode *n = vg_conf_get(doc, key);
    *out = NULL;
    if (!n || vg_conf_is_null(n)) {
        if (required)
            push_msg(L, doc, "%s is missing", key);
        return !required;
    }
    if (n->kind != VG_NODE_SCALAR || !*n->value) {
        push_msg(L, n, "%s must be a non-empty string", key);
        return false;
    }
    *out = g_strdup(n->value);
    return true;
}

/* Scalars of a list (or one scalar) with their locations; false if some item is not a
 * plain value. */
static bool ref_list(Loader *L, const VgConfNode *n, const char *what, char ***refs, int **lines,
                     int **cols)
{
    GPtrArray *r = g_ptr_array_new();
    GArray *ln = g_array_new(FALSE, FALSE, sizeof(int)),
           *cl = g_array_new(FALSE, FALSE, sizeof(int));
    bool ok = true;
    guint cnt = n->kind == VG_NODE_SEQ ? n->items->len : 1;
    for (guint i = 0; i < cnt; i++) {
        const VgConfNode *it = n->kind == VG_NODE_SEQ ? n->items->pdata[i] : n;
        if (it->kind != VG_NODE_SCALAR || !*it->value) {
            push_msg(L, it, "%s must list rule ids or names", what);
            ok = false;
            break;
        }
        g_ptr_array_add(r, g_strdup(it->value));
        g_array_append_val(ln, it->line);
        g_array_append_val(cl, it->col);
    }
    if (ok && r->len == 0) {
        push_msg(L, n, "%s is empty", what);
        ok = false;
    }
    g_ptr_array_add(r, NULL);
    *refs = (char **)g_ptr_array_free(r, FALSE);
    *lines = (int *)g_array_free(ln, FALSE);
    *cols = (int *)g_array_free(cl, FALSE);
    return ok;
}

void sig_rule_free(SigRule *r)
{
    if (!r)
        return;
    g_free(r->id);
    g_free(r->name);
    g_free(r->title);
    g_free(r->ruleset);
    g_free(r->file);
    g_strfreev(r->tags);
    sig_detection_clear(&r->det);
    g_free(r->filters);
    g_free(r->guard);
    g_free(r);
}

static void load_rule(Loader *L, const VgConfNode *doc, const FileEnt *f)
{
    SigRule *r = g_new0(SigRule, 1);
    r->file = g_strdup(doc->file);
    r->line = doc->line;
    r->ruleset = g_strdup(f->ruleset);
    r->severity = VG_SEV_MEDIUM; /* a rule without a level */
    if (!get_str(L, doc, "title", true, &r->title) || !get_str(L, doc, "id", false, &r->id) ||
        !get_str(L, doc, "name", false, &r->name))
        goto fail;
    const VgConfNode *n = vg_conf_get(doc, "level");
    if (n && !vg_conf_is_null(n)) {
        int sev = n->kind == VG_NODE_SCALAR ? vg_severity_from_name(n->value) : -1;
        if (sev < 0) {
            push_msg(L, n, "level must be informational, low, medium, high or critical");
            goto fail;
        }
        r->severity = sev;
    }
    n = vg_conf_get(doc, "logsource");
    if (n && n->kind != VG_NODE_MAP && !vg_conf_is_null(n)) {
        push_msg(L, n, "logsource must be a mapping (category, product, service)");
        goto fail;
    }
    GPtrArray *tags = g_ptr_array_new();
    n = vg_conf_get(doc, "tags");
    for (guint i = 0; n && n->kind == VG_NODE_SEQ && i < n->items->len; i++) {
        const VgConfNode *t = n->items->pdata[i];
        if (t->kind == VG_NODE_SCALAR)
            g_ptr_array_add(tags, g_strdup(t->value));
    }
    g_ptr_array_add(tags, NULL);
    r->tags = (char **)g_ptr_array_free(tags, FALSE);

    const VgConfNode *det = vg_conf_get(doc, "detection");
    GError *e = NULL;
    if (!sig_detection_compile(&r->det, det, NULL, vg_conf_get(det, "condition"), &L->co, &e)) {
        push_err(L, e);
        goto fail;
    }
    if (r->id && g_hash_table_contains(L->by_id, r->id)) {
        const SigRule *o =
            L->set->rules->pdata[GPOINTER_TO_INT(g_hash_table_lookup(L->by_id, r->id)) - 1];
        GError *d = NULL;
        vg_conf_error(&d, vg_conf_get(doc, "id"),
                      "duplicate id '%s' (already used by \"%s\" at "
                      "%s:%d); this rule is skipped",
                      r->id, o->title, o->file, o->line);
        push_err(L, d);
        goto fail;
    }
    if (r->name && g_hash_table_contains(L->by_name, r->name)) {
        push_msg(L, vg_conf_get(doc, "name"), "duplicate name '%s'; this rule is skipped", r->name);
        goto fail;
    }
    int idx = (int)L->set->rules->len;
    g_ptr_array_add(L->set->rules, r);
    if (r->id)
        g_hash_table_insert(L->by_id, r->id, GINT_TO_POINTER(idx + 1));
    if (r->name)
        g_hash_table_insert(L->by_name, r->name, GINT_TO_POINTER(idx + 1));
    return;
fail:
    sig_rule_free(r);
}

static void load_filter(Loader *L, const VgConfNode *doc)
{
    char *title = NULL;
    if (!get_str(L, doc, "title", true, &title))
        return;
    g_free(title);
    const VgConfNode *body = vg_conf_get(doc, "filter");
    if (body->kind != VG_NODE_MAP) {
        push_msg(L, body, "filter must be a mapping with rules, selections and a condition");
        return;
    }
    const VgConfNode *rules = vg_conf_get(body, "rules");
    if (!rules) {
        push_msg(L, body,
                 "filter: rules is missing (the ids or names of the rules to "
                 "filter)");
        return;
    }
    PendingFilter pf = {.file = doc->file};
    if (!ref_list(L, rules, "filter: rules", &pf.refs, &pf.lines, &pf.cols)) {
        g_strfreev(pf.refs);
        g_free(pf.lines);
        g_free(pf.cols);
        return;
    }
    static const char *const skip[] = {"rules", NULL};
    pf.det = g_new0(SigDetection, 1);
    GError *e = NULL;
    if (!sig_detection_compile(pf.det, body, skip, vg_conf_get(body, "condition"), &L->co, &e)) {
        push_err(L, e);
        g_free(pf.det);
        g_strfreev(pf.refs);
        g_free(pf.lines);
        g_free(pf.cols);
        return;
    }
    g_array_append_val(L->filters, pf);
}

static void load_corr(Loader *L, const VgConfNode *doc)
{
    GError *e = NULL;
    VgCorrRule *r = vg_corr_rule_parse(doc, &e);
    if (!r) {
        push_err(L, e);
        return;
    }
    PendingCorr pc = {.rule = r, .file = doc->file, .doc_line = doc->line};
    const VgConfNode *rules = vg_conf_get(vg_conf_get(doc, "correlation"), "rules");
    if (rules && !ref_list(L, rules, "correlation: rules", &pc.refs, &pc.lines, &pc.cols)) {
        vg_corr_rule_free(r);
        g_strfreev(pc.refs);
        g_free(pc.lines);
        g_free(pc.cols);
        return;
    }
    g_array_append_val(L->corrs, pc);
}

static void load_doc(Loader *L, const VgConfNode *doc, const FileEnt *f)
{
    if (vg_conf_is_null(doc))
        return; /* an empty document (a stray `---`) */
    if (doc->kind != VG_NODE_MAP) {
        push_msg(L, doc, "a Sigma document must be a mapping (title, detection, ...)");
        return;
    }
    if (doc->keys->len == 0)
        return;
    const VgConfNode *action = vg_conf_get(doc, "action");
    if (action) {
        push_msg(L, action,
                 "action: %s belongs to Sigma 1 multi-document rules, which Sigma 2 removed; "
                 "write each rule as a complete document",
                 action->kind == VG_NODE_SCALAR ? action->value : "...");
        return;
    }
    if (vg_conf_get(doc, "correlation"))
        load_corr(L, doc);
    else if (vg_conf_get(doc, "filter"))
        load_filter(L, doc);
    else if (vg_conf_get(doc, "detection"))
        load_rule(L, doc, f);
    else
        push_msg(L, doc, "not a Sigma rule: no detection, correlation or filter section");
}

static void load_text(Loader *L, const char *text, size_t len, const FileEnt *f)
{
    GError *e = NULL;
    GPtrArray *docs = vg_conf_load_documents(text, len, f->path, &e);
    if (!docs) {
        push_err(L, e);
        return;
    }
    for (guint i = 0; i < docs->len; i++)
        load_doc(L, docs->pdata[i], f);
    g_ptr_array_free(docs, TRUE);
}

static void read_file(FileEnt *f)
{
    if (f->embedded) {
        f->text = f->embedded->text;
        f->len = f->embedded->len;
        return;
    }
    GError *e = NULL;
    if (!g_file_get_contents(f->path, &f->owned, &f->len, &e)) {
        f->read_err = g_error_new(VG_ERROR, VG_ECONFIG, "%s: %s", f->path, e->message);
        g_error_free(e);
        return;
    }
    f->text = f->owned;
}

static void load_file(Loader *L, FileEnt *f)
{
    if (f->read_err) /* reported in its turn, as if read just now */
        push_err(L, g_steal_pointer(&f->read_err));
    else
        load_text(L, f->text, f->len, f);
}

static void file_clear(FileEnt *f)
{
    g_free(f->path);
    g_free(f->ruleset);
    g_free(f->owned);
    if (f->read_err)
        g_error_free(f->read_err);
}

/* ---- references and assembly ---- */

static int resolve_det(void *user, const char *ref)
{
    Loader *L = user;
    gpointer v = g_hash_table_lookup(L->by_id, ref);
    if (!v)
        v = g_hash_table_lookup(L->by_name, ref);
    return v ? GPOINTER_TO_INT(v) - 1 : -1;
}

static void ref_error(Loader *L, const char *file, int line, int col, const char *fmt,
                      const char *a, const char *b)
{
    char *msg = g_strdup_printf(fmt, a, b);
    g_ptr_array_add(L->errors,
                    g_error_new(VG_ERROR, VG_ECONFIG, "%s:%d:%d: %s", file, line, col, msg));
    g_free(msg);
}

static void attach_filters(Loader *L)
{
    for (guint i = 0; i < L->filters->len; i++) {
        PendingFilter *pf = &g_array_index(L->filters, PendingFilter, i);
        g_ptr_array_add(L->set->filters, pf->det);
        for (int k = 0; pf->refs[k]; k++) {
            int idx = resolve_det(L, pf->refs[k]);
            if (idx < 0) {
                ref_error(L, pf->file, pf->lines[k], pf->cols[k],
                          "filter: no detection rule has the id or name '%s'%s", pf->refs[k],
                          "; the filter does not apply to it");
                continue;
            }
            SigRule *r = L->set->rules->pdata[idx];
            r->filters = g_renew(SigDetection *, r->filters, r->n_filters + 1);
            r->filters[r->n_filters++] = pf->det;
        }
        g_strfreev(pf->refs);
        g_free(pf->lines);
        g_free(pf->cols);
    }
}

static void pending_corr_clear(PendingCorr *pc)
{
    vg_corr_rule_free(pc->rule);
    g_strfreev(pc->refs);
    g_clear_pointer(&pc->lines, g_free);
    g_clear_pointer(&pc->cols, g_free);
    pc->rule = NULL;
    pc->refs = NULL;
}

static bool corr_known(Loader *L, const char *ref)
{
    if (resolve_det(L, ref) >= 0)
        return true;
    for (guint i = 0; i < L->corrs->len; i++) {
        const PendingCorr *pc = &g_array_index(L->corrs, PendingCorr, i);
        const char *id = pc->rule ? vg_corr_rule_id(pc->rule) : NULL;
        const char *name = pc->rule ? vg_corr_rule_name(pc->rule) : NULL;
        if ((id && !strcmp(id, ref)) || (name && !strcmp(name, ref)))
            return true;
    }
    return false;
}

/* Drops correlations that name unknown rules (repeatedly: dropping one may orphan a chain)
 * or reuse a detection rule's id, then builds the correlation set. */
static void build_corr(Loader *L, int64_t max_groups)
{
    for (guint i = 0; i < L->corrs->len; i++) {
        PendingCorr *pc = &g_array_index(L->corrs, PendingCorr, i);
        const char *id = vg_corr_rule_id(pc->rule);
        if (id && resolve_det(L, id) >= 0) {
            ref_error(L, pc->file, pc->doc_line, 1,
                      "correlation '%s': id '%s' is already used by a detection rule",
                      vg_corr_rule_title(pc->rule), id);
            pending_corr_clear(pc);
        }
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (guint i = 0; i < L->corrs->len; i++) {
            PendingCorr *pc = &g_array_index(L->corrs, PendingCorr, i);
            for (int k = 0; pc->rule && pc->refs && pc->refs[k]; k++) {
                if (corr_known(L, pc->refs[k]))
                    continue;
                ref_error(L, pc->file, pc->lines[k], pc->cols[k],
                          "correlation '%s': no rule has the id or name '%s'; the "
                          "correlation is skipped",
                          vg_corr_rule_title(pc->rule), pc->refs[k]);
                pending_corr_clear(pc);
                changed = true;
            }
        }
    }
    GPtrArray *rules = g_ptr_array_new();
    for (guint i = 0; i < L->corrs->len; i++) {
        PendingCorr *pc = &g_array_index(L->corrs, PendingCorr, i);
        if (pc->rule)
            g_ptr_array_add(rules, pc->rule);
        pc->rule = NULL; /* owned by the set (or freed by it on failure) from here */
        pending_corr_clear(pc);
    }
    if (rules->len) {
        VgCorrLimits lim = {.max_groups = max_groups};
        GError *e = NULL;
        L->set->corr_proto =
            vg_corr_set_new(rules, (int)L->set->rules->len, resolve_det, L, &lim, &e);
        if (!L->set->corr_proto)
            push_err(L, e);
    }
    g_ptr_array_free(rules, TRUE);
}

static GHashTable *placeholders(Loader *L, const VgConfNode *expand)
{
    GHashTable *t =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
    if (!expand || vg_conf_is_null(expand))
        return t;
    if (expand->kind != VG_NODE_MAP) {
        push_msg(L, expand, "expand must map placeholder names to lists of values");
        return t;
    }
    for (guint i = 0; i < expand->keys->len; i++) {
        const VgConfNode *k = expand->keys->pdata[i], *v = expand->items->pdata[i];
        GPtrArray *vals = g_ptr_array_new_with_free_func(g_free);
        guint cnt = v->kind == VG_NODE_SEQ ? v->items->len : 1;
        for (guint j = 0; j < cnt; j++) {
            const VgConfNode *it = v->kind == VG_NODE_SEQ ? v->items->pdata[j] : v;
            if (it->kind != VG_NODE_SCALAR) {
                push_msg(L, it, "expand: %s: values must be plain strings", k->value);
                continue;
            }
            g_ptr_array_add(vals, g_strdup(it->value));
        }
        if (vals->len == 0) {
            push_msg(L, k, "expand: %s has no values", k->value);
            g_ptr_array_unref(vals);
            continue;
        }
        g_hash_table_replace(t, g_strdup(k->value), vals);
    }
    return t;
}

static void loader_begin(Loader *L, const VgRulesLoadOpts *opts, GPtrArray *errors)
{
    memset(L, 0, sizeof *L);
    L->errors = errors;
    L->set = g_new0(VgRuleSet, 1);
    L->set->refs = 1;
    L->set->rules = g_ptr_array_new_with_free_func((GDestroyNotify)sig_rule_free);
    L->set->filters = g_ptr_array_new();
    L->by_id = g_hash_table_new(g_str_hash, g_str_equal);
    L->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    L->filters = g_array_new(FALSE, TRUE, sizeof(PendingFilter));
    L->corrs = g_array_new(FALSE, TRUE, sizeof(PendingCorr));
    L->co.placeholders = placeholders(L, opts ? opts->expand : NULL);
}

static void loader_free(Loader *L)
{
    g_hash_table_destroy(L->co.placeholders);
    g_hash_table_destroy(L->by_id);
    g_hash_table_destroy(L->by_name);
    g_array_free(L->filters, TRUE); /* emptied by loader_end, or never filled */
    g_array_free(L->corrs, TRUE);
}

static VgRuleSet *loader_end(Loader *L, const VgRulesLoadOpts *opts)
{
    attach_filters(L);
    build_corr(L, opts ? opts->max_groups : 0);
    int mx = 1;
    for (guint i = 0; i < L->set->rules->len; i++)
        mx = MAX(mx, ((SigRule *)L->set->rules->pdata[i])->det.n_idents);
    for (guint i = 0; i < L->set->filters->len; i++)
        mx = MAX(mx, ((SigDetection *)L->set->filters->pdata[i])->n_idents);
    L->set->max_idents = mx;
    L->set->mctx = pcre2_match_context_create(NULL);
    /* a pathological expression gives up (no match) instead of stalling the pipeline */
    pcre2_set_match_limit(L->set->mctx, 100000);
    sig_prefilter_build(L->set);
    loader_free(L);
    return L->set;
}

/* The key of what collect() found: the files' names and bytes, and the errors so far
 * (paths that are missing, `expand` lists that are wrong). */
static void key_files(const Loader *L, const char *const *paths, const VgRulesLoadOpts *opts,
                      const GArray *files, guint first_error)
{
    GChecksum *k = sig_key_new(paths, opts);
    for (guint i = 0; i < files->len; i++) {
        const FileEnt *f = &g_array_index(files, FileEnt, i);
        sig_key_add(k, f->path, strlen(f->path));
        sig_key_add(k, f->ruleset, strlen(f->ruleset));
        if (f->read_err)
            sig_key_add(k, f->read_err->message, strlen(f->read_err->message));
        sig_key_add(k, f->text, f->text ? f->len : 0);
    }
    sig_key_add_errors(k, L->errors, first_error);
    gsize n = sizeof L->set->key;
    g_checksum_get_digest(k, L->set->key, &n);
    g_checksum_free(k);
}

static VgRuleSet *load(const char *const *paths, const VgRulesLoadOpts *opts, GPtrArray *errors,
                       bool share)
{
    guint first_error = errors->len;
    Loader L;
    loader_begin(&L, opts, errors);
    GArray *files = g_array_new(FALSE, TRUE, sizeof(FileEnt));
    g_array_set_clear_func(files, (GDestroyNotify)file_clear);
    for (int i = 0; paths && paths[i]; i++)
        collect(&L, paths[i], files);
    for (guint i = 0; i < files->len; i++)
        read_file(&g_array_index(files, FileEnt, i));
    VgRuleSet *set = NULL;
    if (share) {
        key_files(&L, paths, opts, files, first_error);
        set = sig_share_find(L.set->key);
    }
    if (set) { /* built already: its findings, as if found again */
        sig_rule_set_destroy(L.set);
        loader_free(&L);
        g_ptr_array_remove_range(errors, first_error, errors->len - first_error);
        for (guint i = 0; i < set->load_errors->len; i++)
            g_ptr_array_add(errors, g_error_copy(set->load_errors->pdata[i]));
    } else {
        for (guint i = 0; i < files->len; i++)
            load_file(&L, &g_array_index(files, FileEnt, i));
        set = loader_end(&L, opts);
        if (share) {
            set->load_errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
            for (guint i = first_error; i < errors->len; i++)
                g_ptr_array_add(set->load_errors, g_error_copy(errors->pdata[i]));
            set = sig_share_add(set);
        }
    }
    g_array_free(files, TRUE);
    return set;
}

VgRuleSet *vg_rule_set_load(const char *const *paths, const VgRulesLoadOpts *opts,
                            GPtrArray *errors)
{
    return load(paths, opts, errors, false);
}

VgRuleSet *vg_rule_set_load_shared(const char *const *paths, const VgRulesLoadOpts *opts,
                                   GPtrArray *errors)
{
    return load(paths, opts, errors, true);
}

VgRuleSet *sig_rule_set_load_text(const char *text, size_t len, const char *name,
                                  const VgRulesLoadOpts *opts, GPtrArray *errors)
{
    Loader L;
    loader_begin(&L, opts, errors);
    FileEnt f = {.path = (char *)name, .ruleset = (char *)name};
    load_text(&L, text, len, &f);
    return loader_end(&L, opts);
}

void sig_rule_set_destroy(VgRuleSet *set)
{
    vg_corr_set_free(set->corr_proto);
    g_ptr_array_free(set->rules, TRUE);
    for (guint i = 0; i < set->filters->len; i++) {
        sig_detection_clear(set->filters->pdata[i]);
        g_free(set->filters->pdata[i]);
    }
    g_ptr_array_free(set->filters, TRUE);
    sig_prefilter_free(set->pf);
    g_free(set->unguarded);
    pcre2_match_context_free(set->mctx);
    if (set->load_errors)
        g_ptr_array_free(set->load_errors, TRUE);
    g_free(set);
}

int vg_rule_set_size(const VgRuleSet *set)
{
    return set ? (int)set->rules->len : 0;
}

int vg_rule_set_n_correlations(const VgRuleSet *set)
{
    return set && set->corr_proto ? vg_corr_set_size(set->corr_proto) : 0;
}

const char *vg_rule_set_rule_id(const VgRuleSet *set, int i)
{
    const SigRule *r = set->rules->pdata[i];
    return r->id ? r->id : r->title;
}

const char *vg_rule_set_rule_title(const VgRuleSet *set, int i)
{
    return ((const SigRule *)set->rules->pdata[i])->title;
}

/* collector-kafka-conf.c — the `kafka:` section of vigil.yml, and the librdkafka
 * configuration built from it.
 *
 * The section has a few keys of its own (brokers, topics, group, ...) and one open map,
 * `properties`, passed to librdkafka as they are, so that whatever the operator's cluster
 * needs (TLS files, SASL mechanisms, fetch sizes) can be said without vigil knowing it.
 * Two things are vigil's and may not be overridden there: where the group and brokers
 * come from (one place, the top-level keys) and offset management (vigil commits only
 * what is processed and delivered; auto-commit would break that promise silently).
 *
 * Secrets: a value may be "${NAME}" (anywhere in it; "$${" is a literal "${") or
 * "@/path/to/file" (the whole value; "@@" escapes a leading @), so vigil.yml itself can
 * be world-readable. Resolution happens twice: once at load, to report a missing variable
 * or file with the config's file:line:col before the daemon starts, and again when the
 * consumer is built, so a rotated secret file is read fresh on restart. No message ever
 * carries a value: librdkafka's own "invalid value" messages quote it, so for those we
 * say only which property was refused.
 */
#include "collectors/collector-kafka-int.h"

#include <stddef.h>

const VgConfOption vg_kafka_options[] = {
    {"brokers", VG_CT_STRING, offsetof(VgKafkaConf, brokers), NULL, 0, 0, NULL, VG_CO_REQUIRED,
     "VIGIL_KAFKA_BROKERS", "bootstrap servers, host:port[,host:port...]"},
    {"topics", VG_CT_STRLIST, offsetof(VgKafkaConf, topics), NULL, 0, 0, NULL, VG_CO_REQUIRED, NULL,
     "topics to consume; a name starting with ^ is a regular expression"},
    {"group", VG_CT_STRING, offsetof(VgKafkaConf, group), "vigil", 0, 0, NULL, 0,
     "VIGIL_KAFKA_GROUP", "consumer group id: vigil processes in one group share partitions"},
    {"client_id", VG_CT_STRING, offsetof(VgKafkaConf, client_id), "vigil", 0, 0, NULL, 0, NULL,
     "client.id shown in the brokers' logs and metrics"},
    {"start", VG_CT_STRING, offsetof(VgKafkaConf, start), "earliest", 0, 0, "earliest|latest", 0,
     NULL, "where a group without committed offsets starts reading"},
    {"commit_interval", VG_CT_DURATION, offsetof(VgKafkaConf, commit_interval_ms), "5s", 0, 3600,
     NULL, VG_CO_RELOAD, NULL,
     "how often processed offsets are committed (also on rebalance and shutdown)"},
    {"poll_timeout", VG_CT_DURATION, offsetof(VgKafkaConf, poll_timeout_ms), "100ms", 0, 60, NULL,
     0, NULL, "how long a read waits for a first message before the loop does other work"},
    {"batch_bytes", VG_CT_SIZE, offsetof(VgKafkaConf, batch_bytes), "4MiB", 4096, 1 << 30, NULL, 0,
     NULL, "a batch ends after this many payload bytes"},
    {"merge_bytes", VG_CT_SIZE, offsetof(VgKafkaConf, merge_bytes), "64MiB", 0, 1 << 30, NULL, 0,
     NULL,
     "read ahead while partitions are out of step, to judge them in event-time order "
     "(0: in arrival order)"},
    {"merge_wait", VG_CT_DURATION, offsetof(VgKafkaConf, merge_wait_ms), "1s", 0, 60, NULL, 0, NULL,
     "how long after a partition ran empty the merge still waits for it when it is behind "
     "the others (0: never waits)"},
    {"idle_timeout", VG_CT_DURATION, offsetof(VgKafkaConf, idle_timeout_ms), "30s", 0, 86400, NULL,
     0, NULL, "a partition quiet this long stops holding the event-time watermark back (0: never)"},
    {"stall_timeout", VG_CT_DURATION, offsetof(VgKafkaConf, stall_timeout_ms), "30s", 0, 3600, NULL,
     0, NULL,
     "a partition whose leader has messages that librdkafka has not fetched for this long "
     "restarts the consumer (0: never)"},
    {"fetch_nice", VG_CT_INT, offsetof(VgKafkaConf, fetch_nice), "10", 0, 19, NULL, 0, NULL,
     "nice value added to librdkafka's fetching threads, so that fetching ahead yields the CPU "
     "to the pipeline (0: the pipeline's priority)"},
    {"properties", VG_CT_NODE, offsetof(VgKafkaConf, properties), NULL, 0, 0, NULL, VG_CO_SECRET,
     NULL,
     "librdkafka properties (security.protocol, sasl.*, ssl.*, fetch.*); values may use "
     "${ENV} or @/path/to/file"},
    {NULL, 0, 0, NULL, 0, 0, NULL, 0, NULL, NULL},
};

/* Properties vigil sets itself, and where to say them instead. */
static const struct {
    const char *name, *instead;
} reserved[] = {
    {"bootstrap.servers", "kafka.brokers"},
    {"metadata.broker.list", "kafka.brokers"},
    {"group.id", "kafka.group"},
    {"client.id", "kafka.client_id"},
    {"auto.offset.reset", "kafka.start"},
    {"enable.auto.commit", "nothing: vigil commits processed offsets itself"},
    {"enable.auto.offset.store", "nothing: vigil stores processed offsets itself"},
    {"enable.partition.eof", "nothing"},
};

bool vg_kafka_property_is_secret(const char *name)
{
    static const char *const words[] = {
        "password", "secret", "key", "token", "credential", "jaas", "oauthbearer.config"};
    for (size_t i = 0; i < G_N_ELEMENTS(words); i++)
        if (strstr(name, words[i]))
            return true;
    return false;
}

/* Calls fn for every leaf of the properties map, with its dotted name. */
typedef bool (*LeafFn)(void *user, const char *name, const VgConfNode *value, GError **err);

static bool walk(const VgConfNode *map, const char *prefix, LeafFn fn, void *user, GError **err)
{
    for (guint i = 0; i < map->keys->len; i++) {
        const VgConfNode *k = map->keys->pdata[i], *v = map->items->pdata[i];
        char *name = prefix ? g_strconcat(prefix, ".", k->value, NULL) : g_strdup(k->value);
        bool ok;
        if (v->kind == VG_NODE_MAP) {
            ok = walk(v, name, fn, user, err);
        } else if (v->kind == VG_NODE_SEQ) {
            vg_conf_error(err, v, "property '%s': write a list as one comma-separated value", name);
            ok = false;
        } else {
            ok = fn(user, name, v, err);
        }
        g_free(name);
        if (!ok)
            return false;
    }
    return true;
}

/* The value of a property with ${ENV} and @file resolved. *secret is set when the value
 * came from outside the config file. NULL and err (never quoting the value) on error. */
static char *resolve(const char *name, const VgConfNode *n, bool *secret, GError **err)
{
    const char *v = n->value ? n->value : "";
    bool from_file = v[0] == '@' && v[1] != '@';
    if (v[0] == '@' && v[1] == '@')
        v++;
    else if (from_file)
        v++;
    GString *out = g_string_new(NULL);
    *secret = from_file;
    for (const char *p = v; *p;) {
        if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
            g_string_append(out, "${");
            p += 3;
            continue;
        }
        if (p[0] != '$' || p[1] != '{') {
            g_string_append_c(out, *p++);
            continue;
        }
        const char *end = strchr(p + 2, '}');
        size_t len = end ? (size_t)(end - p - 2) : 0;
        bool valid = len > 0 && (g_ascii_isalpha(p[2]) || p[2] == '_');
        for (size_t i = 0; valid && i < len; i++)
            valid = g_ascii_isalnum(p[2 + i]) || p[2 + i] == '_';
        if (!valid) {
            vg_conf_error(err, n, "property '%s': malformed ${NAME} reference", name);
            goto fail;
        }
        char *var = g_strndup(p + 2, len);
        const char *val = g_getenv(var);
        if (!val) {
            vg_conf_error(err, n, "property '%s': environment variable %s is not set", name, var);
            g_free(var);
            goto fail;
        }
        g_free(var);
        g_string_append(out, val);
        *secret = true;
        p = end + 1;
    }
    if (from_file) {
        char *text = NULL;
        gsize len = 0;
        GError *ferr = NULL;
        if (!g_file_get_contents(out->str, &text, &len, &ferr)) {
            vg_conf_error(err, n, "property '%s': cannot read secret file: %s", name,
                          ferr->message);
            g_error_free(ferr);
            goto fail;
        }
        if (len && text[len - 1] == '\n')
            text[--len] = '\0';
        if (len && text[len - 1] == '\r')
            text[--len] = '\0';
        if (strlen(text) != len) {
            vg_conf_error(err, n, "property '%s': secret file holds a NUL byte", name);
            g_free(text);
            goto fail;
        }
        g_string_assign(out, text);
        memset(text, 0, len);
        g_free(text);
    }
    return g_string_free(out, FALSE);
fail:
    g_string_free(out, TRUE);
    return NULL;
}

static bool check_leaf(void *user, const char *name, const VgConfNode *n, GError **err)
{
    (void)user;
    for (size_t i = 0; i < G_N_ELEMENTS(reserved); i++) {
        if (!strcmp(name, reserved[i].name)) {
            vg_conf_error(err, n, "property '%s' is set by vigil (use %s)", name,
                          reserved[i].instead);
            return false;
        }
    }
    bool secret;
    char *v = resolve(name, n, &secret, err);
    if (!v)
        return false;
    memset(v, 0, strlen(v));
    g_free(v);
    return true;
}

int vg_kafka_conf_load(VgKafkaConf *conf, const VgConfNode *section, GError **err)
{
    memset(conf, 0, sizeof *conf);
    int rc = vg_conf_apply(vg_kafka_options, conf, section, err);
    if (rc != VG_OK)
        return rc;
    const VgConfNode *topics = vg_conf_get(section, "topics");
    if (!conf->topics || !conf->topics[0])
        return vg_conf_error(err, topics ? topics : section,
                             "kafka.topics must name at least one topic");
    for (char **t = conf->topics; *t; t++)
        if (!**t)
            return vg_conf_error(err, topics, "empty topic name");
    if (!*conf->brokers)
        return vg_conf_error(err, section, "kafka.brokers is empty");
    const VgConfNode *props = conf->properties;
    if (props && !vg_conf_is_null(props)) {
        if (props->kind != VG_NODE_MAP)
            return vg_conf_error(err, props, "kafka.properties must be a mapping");
        if (!walk(props, NULL, check_leaf, NULL, err))
            return VG_ECONFIG;
    }
    return VG_OK;
}

void vg_kafka_conf_clear(VgKafkaConf *conf)
{
    if (!conf)
        return;
    vg_conf_clear(vg_kafka_options, conf);
    conf->properties = NULL;
}

typedef struct {
    GString *out;
    int indent;
} DumpCtx;

static bool dump_leaf(void *user, const char *name, const VgConfNode *n, GError **err)
{
    (void)err;
    DumpCtx *d = user;
    const char *v = n->value ? n->value : "";
    /* a reference (${NAME}, @file) shows where the secret comes from, not the secret; a
     * literal secret is masked */
    bool show = !vg_kafka_property_is_secret(name) || (v[0] == '@' && v[1] != '@') ||
                (strstr(v, "${") && !strstr(v, "$${"));
    g_string_append_printf(d->out, "%*s%s: ", d->indent, "", name);
    if (!show) {
        g_string_append(d->out, "\"********\"\n");
        return true;
    }
    g_string_append_c(d->out, '"');
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            g_string_append_c(d->out, '\\');
        g_string_append_c(d->out, *v);
    }
    g_string_append(d->out, "\"\n");
    return true;
}

void vg_kafka_conf_dump(const VgKafkaConf *conf, GString *out, int indent)
{
    /* everything but properties through the table; properties leaf by leaf */
    for (const VgConfOption *o = vg_kafka_options; o->key; o++) {
        if (o->type != VG_CT_NODE) {
            VgConfOption one[2] = {*o, {0}};
            vg_conf_dump(one, conf, out, indent);
        }
    }
    g_string_append_printf(out, "%*sproperties:", indent, "");
    const VgConfNode *p = conf->properties;
    if (!p || p->kind != VG_NODE_MAP || !p->keys->len) {
        g_string_append(out, " {}\n");
        return;
    }
    g_string_append_c(out, '\n');
    DumpCtx d = {out, indent + 2};
    walk(p, NULL, dump_leaf, &d, NULL);
}

typedef struct {
    rd_kafka_conf_t *rk;
    GPtrArray *secrets;
} BuildCtx;

static bool set_prop(rd_kafka_conf_t *rk, const char *name, const char *value, bool hide,
                     const VgConfNode *at, GError **err)
{
    char errstr[512];
    if (rd_kafka_conf_set(rk, name, value, errstr, sizeof errstr) == RD_KAFKA_CONF_OK)
        return true;
    if (hide)
        vg_conf_error(err, at, "property '%s': librdkafka refused the value (not shown)", name);
    else if (at)
        vg_conf_error(err, at, "property '%s': %s", name, errstr);
    else
        g_set_error(err, VG_ERROR, VG_ECONFIG, "kafka: %s", errstr);
    return false;
}

static bool build_leaf(void *user, const char *name, const VgConfNode *n, GError **err)
{
    BuildCtx *b = user;
    bool from_outside;
    char *v = resolve(name, n, &from_outside, err);
    if (!v)
        return false;
    bool hide = from_outside || vg_kafka_property_is_secret(name);
    bool ok = set_prop(b->rk, name, v, hide, n, err);
    if (hide && *v && b->secrets)
        g_ptr_array_add(b->secrets, g_strdup(v));
    memset(v, 0, strlen(v));
    g_free(v);
    return ok;
}

rd_kafka_conf_t *vg_kafka_conf_build(const VgKafkaConf *conf, GPtrArray *secrets, GError **err)
{
    rd_kafka_conf_t *rk = rd_kafka_conf_new();
    const struct {
        const char *name, *value;
    } fixed[] = {
        {"bootstrap.servers", conf->brokers}, {"group.id", conf->group},
        {"client.id", conf->client_id},       {"auto.offset.reset", conf->start},
        {"enable.auto.commit", "false"},      {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++) {
        if (fixed[i].value && !set_prop(rk, fixed[i].name, fixed[i].value, false, NULL, err))
            goto fail;
    }
    /* Defaults of ours that `properties:` may override. librdkafka stops prefetching once its
     * consumer queue holds queued.min.messages (100,000) or queued.max.messages.kbytes (64 MiB),
     * and 2.0 resumes only when its broker thread next wakes, up to a second after the queue
     * ran dry. 100,000 one-line messages is a third of a second of vigil's work, so reading a
     * backlog stalled again and again; with a million the byte bound is the one that applies
     * (64 MiB is about 150,000 access-log lines). A message held costs about three times its
     * payload (its share of the decompressed batch, librdkafka's message object, 2.0.2's
     * guessed zstd buffer): README, Deployment with Kafka, "Memory for a backlog". */
    if (!set_prop(rk, "queued.min.messages", "1000000", false, NULL, err))
        goto fail;
    const VgConfNode *props = conf->properties;
    if (props && props->kind == VG_NODE_MAP) {
        BuildCtx b = {rk, secrets};
        if (!walk(props, NULL, build_leaf, &b, err))
            goto fail;
    }
    return rk;
fail:
    rd_kafka_conf_destroy(rk);
    return NULL;
}

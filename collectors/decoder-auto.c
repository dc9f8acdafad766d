/* decoder-auto.c — `--format auto`: pick the decoder per line.
 *
 * A line whose first non-blank byte is '{' is JSON; it goes to the JSON preset whose
 * signature key it contains, looked for in this order:
 *   "RequestMethod" -> traefik, "started_at" -> kong, "httpMethod" -> aws-apigw,
 *   "@timestamp" with an "http" key or "http." prefix -> ecs, anything else -> vigil.
 * A line starting with '[' is Envoy's default format; any other line is read as combined
 * (nginx rules for the fields after the user agent). The user's `fields:` mapping applies
 * to every JSON preset. Each event keeps the sub-decoder that made it, so dotted look-ups
 * go straight to the right format.
 *
 * The signature check costs a few memmem() calls per JSON line; a site that knows its
 * format should name it.
 */
#include "collectors/decoder-json.h"
#include "collectors/decoders.h"

enum { SUB_VIGIL, SUB_TRAEFIK, SUB_KONG, SUB_AWS, SUB_ECS, SUB_COMBINED, SUB_ENVOY, SUB_N };

typedef struct {
    VgDecoder base;
    VgDecoder *sub[SUB_N];
} VgAutoDecoder;

static bool has(const char *line, size_t len, const char *needle)
{
    return memmem(line, len, needle, strlen(needle)) != NULL;
}

static VgBadReason auto_decode(VgDecoder *dec, const char *line, size_t len, VgEvent *ev,
                               VgArena *arena)
{
    VgAutoDecoder *d = (VgAutoDecoder *)dec;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    VgDecoder *s;
    if (i < len && line[i] == '{') {
        if (has(line, len, "\"RequestMethod\""))
            s = d->sub[SUB_TRAEFIK];
        else if (has(line, len, "\"started_at\""))
            s = d->sub[SUB_KONG];
        else if (has(line, len, "\"httpMethod\""))
            s = d->sub[SUB_AWS];
        else if (has(line, len, "\"@timestamp\"") &&
                 (has(line, len, "\"http\"") || has(line, len, "\"http.")))
            s = d->sub[SUB_ECS];
        else
            s = d->sub[SUB_VIGIL];
    } else if (i < len && line[i] == '[') {
        s = d->sub[SUB_ENVOY];
    } else {
        s = d->sub[SUB_COMBINED];
    }
    return s->ops->decode(s, line, len, ev, arena);
}

static void auto_destroy(VgDecoder *dec)
{
    VgAutoDecoder *d = (VgAutoDecoder *)dec;
    if (!d)
        return;
    for (int i = 0; i < SUB_N; i++)
        if (d->sub[i])
            d->sub[i]->ops->destroy(d->sub[i]);
    g_free(d);
}

static VgDecoder *auto_create(const VgDecoderOps *ops, const VgInputConf *conf, GError **err)
{
    const VgDecoderOps *subs[SUB_N] = {
        [SUB_VIGIL] = &vg_decoder_vigil.ops, [SUB_TRAEFIK] = &vg_decoder_traefik.ops,
        [SUB_KONG] = &vg_decoder_kong.ops,   [SUB_AWS] = &vg_decoder_aws_apigw.ops,
        [SUB_ECS] = &vg_decoder_ecs.ops,     [SUB_COMBINED] = &vg_decoder_nginx_combined,
        [SUB_ENVOY] = &vg_decoder_envoy,
    };
    VgAutoDecoder *d = g_new0(VgAutoDecoder, 1);
    d->base.ops = ops;
    VgInputConf text_conf = {0};
    if (conf)
        text_conf = *conf;
    text_conf.fields = NULL; /* the mapping is for the JSON presets */
    for (int i = 0; i < SUB_N; i++) {
        d->sub[i] = subs[i]->create(subs[i], i >= SUB_COMBINED ? &text_conf : conf, err);
        if (!d->sub[i])
            goto fail;
    }
    return &d->base;
fail:
    auto_destroy(&d->base);
    return NULL;
}

const VgDecoderOps vg_decoder_auto = {
    .name = "auto",
    .description = "per line: JSON (preset recognised by its keys), Envoy or combined text",
    .create = auto_create,
    .decode = auto_decode,
    .lookup = NULL, /* events keep the sub-decoder that made them */
    .destroy = auto_destroy,
};

/* decoders.c — registers the log-format presets (see decoders.h). */
#include "collectors/decoders.h"

#include "collectors/decoder-json.h"
#include "engine/registry.h"

const VgDecoderOps *vg_decoder_ops_vigil(void)
{
    return &vg_decoder_vigil.ops;
}
const VgDecoderOps *vg_decoder_ops_kong(void)
{
    return &vg_decoder_kong.ops;
}
const VgDecoderOps *vg_decoder_ops_aws_apigw(void)
{
    return &vg_decoder_aws_apigw.ops;
}
const VgDecoderOps *vg_decoder_ops_traefik(void)
{
    return &vg_decoder_traefik.ops;
}
const VgDecoderOps *vg_decoder_ops_ecs(void)
{
    return &vg_decoder_ecs.ops;
}

void vg_decoders_register_all(void)
{
    vg_register_decoder(&vg_decoder_vigil.ops); /* first: the default */
    vg_register_decoder(&vg_decoder_nginx_combined);
    vg_register_decoder(&vg_decoder_apache_combined);
    vg_register_decoder(&vg_decoder_envoy);
    vg_register_decoder(&vg_decoder_kong.ops);
    vg_register_decoder(&vg_decoder_aws_apigw.ops);
    vg_register_decoder(&vg_decoder_traefik.ops);
    vg_register_decoder(&vg_decoder_ecs.ops);
    vg_register_decoder(&vg_decoder_auto);
}

bool vg_decoder_text_conf_ok(const VgDecoderOps *ops, const VgInputConf *conf, GError **err)
{
    if (conf && conf->fields && conf->fields->len) {
        g_set_error(err, VG_ERROR, VG_ECONFIG,
                    "input.fields: a field mapping applies to JSON formats; format '%s' is "
                    "text (use format vigil, a JSON preset, or auto)",
                    ops->name);
        return false;
    }
    return true;
}

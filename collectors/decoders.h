/* decoders.h — every log-format preset this library provides, and their registration.
 *
 * vg_decoders_register_all() adds them to the engine's registry (engine/registry.h);
 * collectors.c calls it. The ops tables are exported for tests and benchmarks, which may
 * use a preset without the registry.
 *
 *   vigil            JSON with the canonical field names (the default)      decoder-vigil.c
 *   nginx-combined   text, NCSA combined (+ $request_time, ingress-nginx)   decoder-combined.c
 *   apache-combined  text, NCSA combined / common                           decoder-combined.c
 *   envoy            text, Envoy's default access-log format (and Istio's)  decoder-envoy.c
 *   kong             JSON, Kong file-log / http-log                         decoder-kong.c
 *   aws-apigw        JSON, API Gateway $context access logs                 decoder-aws-apigw.c
 *   traefik          JSON, Traefik access log                               decoder-traefik.c
 *   ecs              JSON, Elastic Common Schema                            decoder-ecs.c
 *   auto             per line: JSON (preset recognised by its keys) or text decoder-auto.c
 */
#ifndef VG_DECODERS_H
#define VG_DECODERS_H

#include "engine/decoder.h"

extern const VgDecoderOps vg_decoder_nginx_combined, vg_decoder_apache_combined, vg_decoder_envoy,
    vg_decoder_auto;

/* The JSON presets' ops (their VgJsonPreset starts with the ops). */
const VgDecoderOps *vg_decoder_ops_vigil(void);
const VgDecoderOps *vg_decoder_ops_kong(void);
const VgDecoderOps *vg_decoder_ops_aws_apigw(void);
const VgDecoderOps *vg_decoder_ops_traefik(void);
const VgDecoderOps *vg_decoder_ops_ecs(void);

void vg_decoders_register_all(void);

/* For text presets' create(): a `fields:` mapping applies to JSON only; false with err set
 * when one is given. */
bool vg_decoder_text_conf_ok(const VgDecoderOps *ops, const VgInputConf *conf, GError **err);

#endif

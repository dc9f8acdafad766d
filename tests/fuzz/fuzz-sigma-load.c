/* fuzz-sigma-load.c — Sigma YAML in, rule set out: load (with every error collected),
 * evaluate one event whose fields and raw line come from the input, with the prefilter and
 * without (the same matches), free. Nothing a rule file says may crash, hang or leak; the
 * corpus (tests/fuzz/corpus/fuzz-sigma-load/) holds rules of every shape the loader knows
 * plus what the fuzzer found. */
#include "rules/sigma.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char expand[] = "admins: [root, 'adm_*']\nrevoked: [k1]\n";
    GPtrArray *edocs = vg_conf_load_documents(expand, sizeof expand - 1, "expand", NULL);
    VgRulesLoadOpts lo = {.expand = edocs->pdata[0], .max_groups = 100};
    GPtrArray *errors = g_ptr_array_new_with_free_func((GDestroyNotify)g_error_free);
    VgRuleSet *set = sig_rule_set_load_text((const char *)data, size, "fuzz.yml", &lo, errors);

    /* an event made of the input: every matcher gets bytes it did not expect */
    VgEvent ev;
    vg_event_reset(&ev);
    size_t half = size / 2;
    VgStr a = vg_str((const char *)data, half), b = vg_str((const char *)data + half, size - half);
    vg_event_set_str(&ev, VG_F_PATH, a);
    vg_event_set_str(&ev, VG_F_QUERY, b);
    vg_event_set_str(&ev, VG_F_USER_AGENT, b);
    vg_event_set_str(&ev, VG_F_CLIENT_IP, a);
    vg_event_set_str(&ev, VG_F_TOKEN, a);
    ev.raw = vg_str((const char *)data, size);
    ev.status = (int32_t)size;
    ev.time_ms = (int64_t)size * 1000003;
    vg_event_mark(&ev, VG_F_STATUS);
    vg_event_mark(&ev, VG_F_TIME);
    VgArena arena;
    vg_arena_init(&arena, 4096);
    int matches[2];
    for (int pf = 0; pf < 2; pf++) {
        VgRuleScratch *s = vg_rule_scratch_new(set);
        vg_rule_scratch_set_prefilter(s, pf);
        /* twice: the second time the prefilter replays what it recalls of the user agent */
        matches[pf] = vg_rule_set_eval(set, s, &ev, &arena, true, NULL, NULL);
        if (vg_rule_set_eval(set, s, &ev, &arena, true, NULL, NULL) != matches[pf])
            abort();
        vg_rule_scratch_free(s);
    }
    if (matches[0] != matches[1]) /* the prefilter's guards (literals, shapes) lost a match */
        abort();
    vg_arena_destroy(&arena);
    vg_rule_set_free(set);
    g_ptr_array_free(errors, TRUE);
    g_ptr_array_free(edocs, TRUE);
    return 0;
}

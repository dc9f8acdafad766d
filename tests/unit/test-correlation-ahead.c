/* test-correlation-ahead.c — test-correlation.c again, with every match() fed the event's
 * keys worked out ahead (vg_corr_set_keys, then the prefetch hints and
 * vg_corr_set_on_match_keyed), as both pipelines feed the correlations: the same alerts,
 * figures and statistics either way, including keys too long to be worked out ahead. */
#define CORR_KEYS_AHEAD 1
#include "test-correlation.c"

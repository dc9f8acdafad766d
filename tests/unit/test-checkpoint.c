/* test-checkpoint.c — the checkpoint file: round trip, CRC and length checks, atomic
 * replacement, the missing-file case, and the periodic writer's bookkeeping. */
#include "engine/checkpoint.h"

#include <criterion/criterion.h>
#include <glib/gstdio.h>
#include <unistd.h>

static VgCheckpoint *sample(void)
{
    VgCheckpoint *c = vg_checkpoint_new("vigil");
    c->created_ms = 1772445600000;
    vg_checkpoint_add_offset(c, "access", 0, 1234);
    vg_checkpoint_add_offset(c, "access", 5, 0);
    vg_checkpoint_add_offset(c, "other", 2, 99);
    for (int i = 0; i < 100000; i++)
        g_byte_array_append(c->state, (const guint8 *)"\0\1\2\3", 1 + (i % 4));
    return c;
}

Test(checkpoint, encode_decode_round_trip)
{
    VgCheckpoint *c = sample();
    GByteArray *b = g_byte_array_new();
    cr_assert_eq(vg_checkpoint_encode(c, b), VG_OK);
    cr_assert_lt(b->len, c->state->len / 4, "zlib: %u of %u", b->len, c->state->len);
    GError *err = NULL;
    VgCheckpoint *d = vg_checkpoint_decode(b->data, b->len, &err);
    cr_assert(d, "%s", err ? err->message : "");
    cr_assert_str_eq(d->group, "vigil");
    cr_assert_eq(d->created_ms, c->created_ms);
    cr_assert_eq(d->offsets->len, 3);
    cr_assert_eq(vg_checkpoint_offset(d, "access", 0), 1234);
    cr_assert_eq(vg_checkpoint_offset(d, "access", 5), 0);
    cr_assert_eq(vg_checkpoint_offset(d, "other", 2), 99);
    cr_assert_eq(vg_checkpoint_offset(d, "other", 0), -1);
    cr_assert_eq(d->state->len, c->state->len);
    cr_assert(!memcmp(d->state->data, c->state->data, c->state->len));
    vg_checkpoint_free(d);
    vg_checkpoint_free(c);
    g_byte_array_free(b, TRUE);
}

/* The state is deflated where it lies, after the head (no payload copy): incompressible
 * and empty states, and an encoding appended to bytes already in the output buffer. */
Test(checkpoint, state_is_streamed_exactly)
{
    for (int kind = 0; kind < 2; kind++) {
        VgCheckpoint *c = vg_checkpoint_new("g");
        vg_checkpoint_add_offset(c, "t", 7, 42);
        uint64_t x = 88172645463325252ull;
        for (int i = 0; kind == 0 && i < 3 << 20; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift: nothing for zlib to find */
            guint8 byte = (guint8)x;
            g_byte_array_append(c->state, &byte, 1);
        }
        GByteArray *b = g_byte_array_new();
        g_byte_array_append(b, (const guint8 *)"prefix", 6);
        cr_assert_eq(vg_checkpoint_encode(c, b), VG_OK);
        cr_assert(!memcmp(b->data, "prefix", 6));
        GError *err = NULL;
        VgCheckpoint *d = vg_checkpoint_decode(b->data + 6, b->len - 6, &err);
        cr_assert(d, "%s", err ? err->message : "");
        cr_assert_eq(vg_checkpoint_offset(d, "t", 7), 42);
        cr_assert_eq(d->state->len, c->state->len);
        cr_assert(!c->state->len || !memcmp(d->state->data, c->state->data, c->state->len));
        vg_checkpoint_free(d);
        vg_checkpoint_free(c);
        g_byte_array_free(b, TRUE);
    }
}

Test(checkpoint, corruption_is_refused_with_a_reason)
{
    VgCheckpoint *c = sample();
    GByteArray *b = g_byte_array_new();
    vg_checkpoint_encode(c, b);
    GError *err = NULL;
    /* every truncation */
    for (guint len = 0; len < b->len; len += 1 + len / 20) {
        cr_assert_null(vg_checkpoint_decode(b->data, len, &err));
        cr_assert(err && strstr(err->message, "checkpoint: "));
        g_clear_error(&err);
    }
    /* a flipped bit anywhere after the magic: the CRC or the header checks catch it */
    for (guint at = 8; at < b->len; at += 1 + at / 10) {
        b->data[at] ^= 0x10;
        cr_assert_null(vg_checkpoint_decode(b->data, b->len, &err), "flip at %u", at);
        g_clear_error(&err);
        b->data[at] ^= 0x10;
    }
    b->data[7] = 9; /* another format version */
    cr_assert_null(vg_checkpoint_decode(b->data, b->len, &err));
    cr_assert(strstr(err->message, "another version"), "%s", err->message);
    g_clear_error(&err);
    cr_assert_null(vg_checkpoint_decode("hello world, not a checkpoint", 29, &err));
    cr_assert(strstr(err->message, "not a vigil checkpoint"), "%s", err->message);
    g_clear_error(&err);
    vg_checkpoint_free(c);
    g_byte_array_free(b, TRUE);
}

Test(checkpoint, files_are_replaced_atomically)
{
    char *dir = g_dir_make_tmp("vigil-ckpt-XXXXXX", NULL);
    char *path = g_build_filename(dir, "state.ckpt", NULL);
    GError *err = NULL;
    cr_assert_null(vg_checkpoint_read_file(path, &err));
    cr_assert_eq(err->code, VG_ENOENT);
    g_clear_error(&err);

    VgCheckpointConf conf = {.path = path, .interval_ms = 3600000, .restore = true};
    VgCheckpointer *w = vg_checkpointer_new(&conf);
    cr_assert_not(vg_checkpointer_due(w));
    VgCheckpoint *c = sample();
    cr_assert_eq(vg_checkpointer_save(w, c, &err), VG_OK);
    vg_checkpoint_add_offset(c, "third", 1, 7);
    cr_assert_eq(vg_checkpointer_save(w, c, &err), VG_OK);
    char *tmp = g_strdup_printf("%s.tmp", path);
    cr_assert_not(g_file_test(tmp, G_FILE_TEST_EXISTS), "temp file left behind");
    VgCheckpoint *d = vg_checkpoint_read_file(path, &err);
    cr_assert(d, "%s", err ? err->message : "");
    cr_assert_eq(vg_checkpoint_offset(d, "third", 1), 7);
    vg_checkpoint_free(d);

    /* a corrupt file on disk: VG_EINVAL naming the file */
    gchar *bytes;
    gsize len;
    g_file_get_contents(path, &bytes, &len, NULL);
    bytes[len / 2] ^= 1;
    g_file_set_contents(path, bytes, (gssize)len, NULL);
    cr_assert_null(vg_checkpoint_read_file(path, &err));
    cr_assert_eq(err->code, VG_EINVAL);
    cr_assert(strstr(err->message, "CRC"), "%s", err->message);
    g_clear_error(&err);
    g_free(bytes);

    /* a directory that does not exist: an error, and nothing is written */
    char *bad = g_build_filename(dir, "missing", "state.ckpt", NULL);
    VgCheckpointConf conf2 = {.path = bad, .interval_ms = 1000};
    VgCheckpointer *w2 = vg_checkpointer_new(&conf2);
    cr_assert_eq(vg_checkpointer_save(w2, c, &err), VG_EIO);
    cr_assert(strstr(err->message, "cannot open"), "%s", err->message);
    g_clear_error(&err);
    vg_checkpointer_free(w2);

    vg_checkpoint_free(c);
    vg_checkpointer_free(w);
    g_unlink(path);
    g_rmdir(dir);
    g_free(bad);
    g_free(tmp);
    g_free(path);
    g_free(dir);
}

Test(checkpoint, config_defaults)
{
    VgCheckpointConf conf = {0};
    GError *err = NULL;
    cr_assert_eq(vg_checkpoint_conf_load(&conf, NULL, &err), VG_OK, "%s", err ? err->message : "");
    cr_assert(!conf.path || !conf.path[0]);
    cr_assert_eq(conf.interval_ms, 60000);
    cr_assert(conf.restore);
    vg_checkpoint_conf_clear(&conf);
}

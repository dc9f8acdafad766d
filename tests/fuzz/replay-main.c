/* replay-main.c — runs a libFuzzer target over files, without libFuzzer.
 *
 * Each argument is a file or a directory of files; every file is fed once to
 * LLVMFuzzerTestOneInput. CI runs the fuzz targets this way over the committed corpus
 * (under ASan+UBSan in the sanitizer build), so a crash the fuzzer once found stays fixed.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    char *buf;
    gsize len;
    if (!g_file_get_contents(path, &buf, &len, NULL)) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
    g_free(buf);
    return 0;
}

int main(int argc, char **argv)
{
    int n = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        if (g_file_test(argv[i], G_FILE_TEST_IS_DIR)) {
            GDir *d = g_dir_open(argv[i], 0, NULL);
            const char *name;
            while (d && (name = g_dir_read_name(d))) {
                char *p = g_build_filename(argv[i], name, NULL);
                bad += run_file(p);
                n++;
                g_free(p);
            }
            if (d)
                g_dir_close(d);
        } else {
            bad += run_file(argv[i]);
            n++;
        }
    }
    printf("replayed %d inputs\n", n);
    return bad ? 1 : 0;
}

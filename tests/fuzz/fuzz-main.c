/* fuzz-main.c - a plain main for the libFuzzer targets, so that every build replays
 * their corpora as ordinary tests (as systemd's src/fuzz/fuzz-main.c does).
 *
 * Usage: fuzz-X FILE|DIR...  Each file is passed once to LLVMFuzzerTestOneInput. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz-main: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return -1;
    }
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    return 0;
}

static int run_path(const char *path, unsigned *count)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "fuzz-main: '%s': %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    struct dirent *de;
    int ret = 0;
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.')
            continue;
        char child[4096];
        snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
        if (run_path(child, count) < 0)
            ret = -1;
    }
    closedir(dir);
    return ret;
}

int main(int argc, char **argv)
{
    unsigned count = 0;
    int ret = 0;
    for (int i = 1; i < argc; i++)
        if (run_path(argv[i], &count) < 0)
            ret = 1;
    printf("fuzz-main: replayed %u inputs\n", count);
    return ret;
}

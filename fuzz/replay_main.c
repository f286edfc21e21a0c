/*
 * replay_main.c - runs a libFuzzer target over saved inputs, without libFuzzer.
 *
 *   fuzz_decode DIR|FILE...
 *
 * Linked with a fuzz_*.c target in ordinary builds, so the checked-in corpus and
 * every crash reproducer run as a regression test (SQLite's fuzzcheck idea). A
 * directory's regular files run in name order; dot files are skipped. A finding
 * aborts the process, so a run that gets to the end has no failures. Exit status:
 * 0 when every argument was read (an existing but empty directory is fine), 1 when
 * an argument or a file could not be read.
 */
#ifndef _GNU_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "core/file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads the whole file and runs it. Returns 0, or -1 if it cannot be read. */
static int run_file(const char *path)
{
    uint8_t *buf;
    size_t len;
    int rc = sl_file_read(path, &buf, &len);
    if (rc != SL_OK) {
        fprintf(stderr, "%s: %s\n", path, rc == SL_ENOMEM ? "out of memory" : strerror(errno));
        return -1;
    }
    /* An exact-size copy, as libFuzzer gives, so over-reads reach ASan's redzone. */
    uint8_t *exact = malloc(len ? len : 1);
    if (exact == NULL) {
        fprintf(stderr, "%s: out of memory\n", path);
        free(buf);
        return -1;
    }
    if (len) memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular, non-dot file of dir in name order. Adds to *passed and
 * *failed; returns the number of inputs found. */
static size_t run_dir(const char *dir, int *passed, int *failed)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;

    if (d == NULL) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        (*failed)++;
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*names));
            if (nn == NULL) abort();
            names = nn;
        }
        size_t len = strlen(dir) + 1 + strlen(e->d_name) + 1;
        names[n] = malloc(len);
        if (names[n] == NULL) abort();
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 0) qsort(names, n, sizeof(*names), cmp_str);

    size_t found = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            found++;
            if (run_file(names[i]) == 0)
                (*passed)++;
            else
                (*failed)++;
        }
        free(names[i]);
    }
    free(names);
    return found;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "%s: %s\n", argv[i], strerror(errno));
            failed++;
        } else if (S_ISDIR(st.st_mode)) {
            if (run_dir(argv[i], &passed, &failed) == 0)
                printf("%s: no inputs to replay\n", argv[i]);
        } else if (run_file(argv[i]) == 0) {
            passed++;
        } else {
            failed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

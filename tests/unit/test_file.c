/* Unit tests for core/file.c: whole files with a NUL after them, empty files,
 * input longer than fstat said (a FIFO, read while a writer fills it), and a
 * missing file. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/error.h"
#include "core/file.h"

static char dir[64];

static void path_of(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", dir, name);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK_EQ_INT(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_regular_and_empty(void)
{
    char p[128];
    uint8_t *buf;
    size_t len;
    path_of(p, sizeof(p), "text");
    write_file(p, "user:4096:salt", 14);
    CHECK_EQ_INT(sl_file_read(p, &buf, &len), SL_OK);
    CHECK_EQ_INT(len, 14);
    CHECK(buf && memcmp(buf, "user:4096:salt", 15) == 0); /* with its NUL */
    free(buf);

    path_of(p, sizeof(p), "empty");
    write_file(p, "", 0);
    CHECK_EQ_INT(sl_file_read(p, &buf, &len), SL_OK);
    CHECK_EQ_INT(len, 0);
    CHECK(buf && buf[0] == '\0');
    free(buf);

    path_of(p, sizeof(p), "missing");
    errno = 0;
    CHECK_EQ_INT(sl_file_read(p, &buf, &len), SL_EIO);
    CHECK_EQ_INT(errno, ENOENT);
    CHECK(buf == NULL && len == 0);
}

enum { FIFO_BYTES = 10000 }; /* past the 4 KiB first guess: the buffer grows twice */

static void *fill_fifo(void *arg)
{
    int fd = open(arg, O_WRONLY);
    for (int i = 0; fd >= 0 && i < FIFO_BYTES; i++) {
        uint8_t b = (uint8_t)(i * 7);
        if (write(fd, &b, 1) != 1) break;
    }
    if (fd >= 0) close(fd);
    return NULL;
}

static void test_longer_than_fstat(void)
{
    char p[128];
    path_of(p, sizeof(p), "fifo");
    CHECK_EQ_INT(mkfifo(p, 0600), 0);
    pthread_t th;
    pthread_create(&th, NULL, fill_fifo, p);
    uint8_t *buf;
    size_t len;
    CHECK_EQ_INT(sl_file_read(p, &buf, &len), SL_OK);
    pthread_join(th, NULL);
    CHECK_EQ_INT(len, FIFO_BYTES);
    long wrong = 0;
    for (size_t i = 0; buf && i < len; i++)
        wrong += buf[i] != (uint8_t)(i * 7);
    CHECK_EQ_INT(wrong, 0);
    CHECK(buf && buf[len] == '\0');
    free(buf);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sl_test_file.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_regular_and_empty);
    RUN(test_longer_than_fstat);
    const char *names[] = {"text", "empty", "fifo"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char p[128];
        path_of(p, sizeof(p), names[i]);
        unlink(p);
    }
    rmdir(dir);
    return check_summary();
}

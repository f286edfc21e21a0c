/* file.c - see file.h. */
#include "core/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

/* A bigger buffer with the first len bytes of old; old is wiped and freed.
 * NULL (old untouched) when out of memory. */
static uint8_t *grow(uint8_t *old, size_t len, size_t cap)
{
    uint8_t *n = malloc(cap);
    if (!n) return NULL;
    memcpy(n, old, len);
    explicit_bzero(old, len);
    free(old);
    return n;
}

int sl_file_read(const char *path, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    /* read(2), not stdio: no library buffer keeps a copy of what was read. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return SL_EIO;
    struct stat st;
    size_t cap = 4096;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size < SIZE_MAX / 2)
        cap = (size_t)st.st_size + 1; /* + 1: the NUL, and EOF seen without growing */
    uint8_t *buf = malloc(cap);
    size_t n = 0; /* the loop grows before it reads, so it ends with n < cap: room for the NUL */
    int rc = buf ? SL_OK : SL_ENOMEM;
    while (rc == SL_OK) {
        if (n == cap) {
            uint8_t *bigger = cap <= SIZE_MAX / 2 ? grow(buf, n, cap * 2) : NULL;
            if (!bigger) {
                rc = SL_ENOMEM;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) rc = SL_EIO;
        if (got <= 0) break;
        n += (size_t)got;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    if (rc != SL_OK) {
        if (buf) explicit_bzero(buf, n);
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return SL_OK;
}

/* fdtable.c - see fdtable.h. */
#include "core/fdtable.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

unsigned sl_fdtable_reserve(unsigned n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n) n = (unsigned)rl.rlim_cur;
    if (n == 0) return 0;
    /* Any descriptor will do as the original; an eventfd needs no file system. */
    int fd = eventfd(0, EFD_CLOEXEC);
    if (fd < 0) return 0;
    /* The lowest free descriptor at or above n - 1: the table must reach it. */
    int high = fcntl(fd, F_DUPFD_CLOEXEC, (int)(n - 1));
    close(fd);
    if (high < 0) return 0;
    close(high);
    return n;
}

/* test_fdtable.c - sl_fdtable_reserve grows the descriptor table (FDSize in
 * /proc/self/status), respects the soft RLIMIT_NOFILE, and leaves nothing open. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "check.h"
#include "core/fdtable.h"

static unsigned fd_size(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned n = 0;
    if (!f) return 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "FDSize: %u", &n) == 1) break;
    fclose(f);
    return n;
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d) return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static void test_grows_and_leaves_nothing_open(void)
{
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    unsigned want = 4096;
    if (rl.rlim_cur < want) want = (unsigned)rl.rlim_cur;
    int before = open_fds();
    if (want > 256) CHECK(fd_size() < want); /* a fresh process starts small */
    CHECK_EQ_INT(sl_fdtable_reserve(4096), want);
    CHECK(fd_size() >= want);
    CHECK_EQ_INT(open_fds(), before);
}

static void test_soft_limit_caps_it(void)
{
    struct rlimit rl, low;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    low = rl;
    low.rlim_cur = 512;
    if (rl.rlim_max < 512) return; /* cannot set it up here */
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    CHECK_EQ_INT(sl_fdtable_reserve(1u << 20), 512);
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
}

int main(void)
{
    RUN(test_grows_and_leaves_nothing_open);
    RUN(test_soft_limit_caps_it);
    return check_summary();
}

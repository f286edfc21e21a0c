/* proc.c - broker CPU and RSS from /proc/PID/stat and /proc/PID/status. */
#include "proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static bool read_cpu(int pid, double *cpu_s)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* "pid (comm) state ppid ..."; comm may hold spaces and ')', so start after
     * the last ')'. Field 3 (state) follows it; utime is field 14. */
    char *p = strrchr(buf, ')');
    if (!p) return false;
    p++;
    unsigned long long utime = 0, stime = 0;
    int field = 2;
    char *save = NULL;
    for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        field++;
        if (field == 14)
            utime = strtoull(tok, NULL, 10);
        else if (field == 15) {
            stime = strtoull(tok, NULL, 10);
            break;
        }
    }
    if (field != 15) return false;
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0) hz = 100;
    *cpu_s = (double)(utime + stime) / (double)hz;
    return true;
}

static bool read_rss(int pid, long *rss_kb)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return false;
    bool ok = false;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            *rss_kb = strtol(line + 6, NULL, 10);
            ok = true;
            break;
        }
    }
    fclose(f);
    return ok;
}

void proc_sample(int pid, struct proc_sample *out)
{
    memset(out, 0, sizeof(*out));
    if (pid <= 0) return;
    out->ok = read_cpu(pid, &out->cpu_s) && read_rss(pid, &out->rss_kb);
}

bool proc_exists(int pid)
{
    double cpu;
    return pid > 0 && read_cpu(pid, &cpu);
}

double proc_self_cpu(void)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0.0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

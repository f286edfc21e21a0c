/* proc.c - broker CPU and RSS from /proc/PID/stat and /proc/PID/status. */
#include "proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <dirent.h>
#include <unistd.h>

static bool read_cpu_path(const char *path, double *cpu_s)
{
    char buf[1024];
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

static bool read_cpu(int pid, double *cpu_s)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    return read_cpu_path(path, cpu_s);
}

/* VmRSS (required), Threads and Cpus_allowed_list (best effort) of a status file. */
static bool read_status(const char *path, long *rss_kb, int *threads, char *cpus, size_t cpus_len)
{
    char line[512];
    FILE *f = fopen(path, "r");
    if (!f) return false;
    bool ok = false;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            *rss_kb = strtol(line + 6, NULL, 10);
            ok = true;
        } else if (strncmp(line, "Threads:", 8) == 0) {
            *threads = (int)strtol(line + 8, NULL, 10);
        } else if (strncmp(line, "Cpus_allowed_list:", 18) == 0) {
            const char *v = line + 18;
            while (*v == ' ' || *v == '\t')
                v++;
            snprintf(cpus, cpus_len, "%.*s", (int)strcspn(v, "\n"), v);
        }
    }
    fclose(f);
    return ok;
}

void proc_sample(int pid, struct proc_sample *out)
{
    memset(out, 0, sizeof(*out));
    if (pid <= 0) return;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    out->ok = read_cpu(pid, &out->cpu_s) &&
              read_status(path, &out->rss_kb, &out->threads, out->cpus, sizeof(out->cpus));
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

void proc_self_cpus(char *buf, size_t len)
{
    long rss = 0;
    int threads = 0;
    buf[0] = '\0';
    (void)read_status("/proc/self/status", &rss, &threads, buf, len);
}

void proc_threads_sample(int pid, struct proc_threads *out)
{
    memset(out, 0, sizeof(*out));
    if (pid <= 0) return;
    char path[96];
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && out->n < PROC_MAX_THREADS) {
        char *end;
        long tid = strtol(e->d_name, &end, 10);
        if (*end || tid <= 0) continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%ld/stat", pid, tid);
        double cpu;
        if (!read_cpu_path(path, &cpu)) continue;
        out->tid[out->n] = (int)tid;
        out->cpu_s[out->n] = cpu;
        out->n++;
    }
    closedir(d);
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

int proc_threads_delta(const struct proc_threads *t0, const struct proc_threads *t1, double *out,
                       int max)
{
    int n = 0;
    for (int i = 0; i < t1->n && n < max; i++)
        for (int j = 0; j < t0->n; j++)
            if (t0->tid[j] == t1->tid[i]) {
                out[n++] = t1->cpu_s[i] - t0->cpu_s[j];
                break;
            }
    qsort(out, (size_t)n, sizeof(*out), cmp_desc);
    return n;
}

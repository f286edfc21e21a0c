/*
 * proc.h - what the broker process costs, read from /proc (Linux).
 *
 * CPU: fields 14 and 15 of /proc/PID/stat (utime, stime, in clock ticks, usually
 * 10 ms), summed over all threads. Memory: VmRSS from /proc/PID/status. Threads
 * and Cpus_allowed_list also come from /proc/PID/status, so a report can show
 * how the broker actually ran (a `threads` setting, a taskset pinning).
 */
#ifndef SL_BENCH_PROC_H
#define SL_BENCH_PROC_H

#include <stdbool.h>
#include <stddef.h>

struct proc_sample {
    bool ok;
    double cpu_s; /* user + system since the process started */
    long rss_kb;
    int threads;   /* Threads: of /proc/PID/status, 0 when unknown */
    char cpus[64]; /* Cpus_allowed_list, "" when unknown */
};

/* CPU seconds of each thread (/proc/PID/task/TID/stat), to show how a broker's
 * load spreads over its threads. */
#define PROC_MAX_THREADS 64
struct proc_threads {
    int n;
    int tid[PROC_MAX_THREADS];
    double cpu_s[PROC_MAX_THREADS];
};

/* Fills *out (ok = false when the process cannot be read). */
void proc_sample(int pid, struct proc_sample *out);
bool proc_exists(int pid);
void proc_threads_sample(int pid, struct proc_threads *out);
/* CPU seconds each thread present in both samples used between them, largest
 * first, at most max; returns how many. */
int proc_threads_delta(const struct proc_threads *t0, const struct proc_threads *t1, double *out,
                       int max);
/* User + system CPU seconds of this process. */
double proc_self_cpu(void);
/* Cpus_allowed_list of this process ("" when unknown). */
void proc_self_cpus(char *buf, size_t len);

#endif

/*
 * proc.h - what the broker process costs, read from /proc (Linux).
 *
 * CPU: fields 14 and 15 of /proc/PID/stat (utime, stime, in clock ticks, usually
 * 10 ms), summed over all threads. Memory: VmRSS from /proc/PID/status.
 */
#ifndef SL_BENCH_PROC_H
#define SL_BENCH_PROC_H

#include <stdbool.h>

struct proc_sample {
    bool ok;
    double cpu_s; /* user + system since the process started */
    long rss_kb;
};

/* Fills *out (ok = false when the process cannot be read). */
void proc_sample(int pid, struct proc_sample *out);
bool proc_exists(int pid);
/* User + system CPU seconds of this process. */
double proc_self_cpu(void);

#endif

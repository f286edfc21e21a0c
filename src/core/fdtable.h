/*
 * fdtable.h - grow the process's file descriptor table ahead of need.
 *
 * Linux doubles a process's descriptor table when a new descriptor does not fit,
 * and when several threads share the table it first waits for an RCU grace
 * period (expand_fdtable: synchronize_rcu), which stalls the thread that is
 * accepting for milliseconds: measured here at 9 to 28 ms for the CONNECT of the
 * connection that crossed 256, 512, 1024 and 2048 descriptors. Grown while the
 * process still has one thread, the table needs no grace period, and the kernel
 * never shrinks it.
 */
#ifndef SL_CORE_FDTABLE_H
#define SL_CORE_FDTABLE_H

/* Grows the table to hold descriptors below n, or below the soft RLIMIT_NOFILE
 * if that is lower. Call it before starting threads. Returns the count the
 * table now holds at least (0 if it could not tell); nothing is left open. */
unsigned sl_fdtable_reserve(unsigned n);

#endif

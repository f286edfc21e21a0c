/*
 * scenario_conn.c - connection storm: open -c N connections at --rate per second
 * (0: as fast as --max-pending handshakes per thread allow), hold them -d seconds,
 * and report connects/s, failures, and what the broker's memory grew by.
 *
 *   b0: broker before any connection
 *   b_up: when every connection is ready (or failed)
 *   b1: at the end of the hold (bytes per connection use this one: steady state)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "conn.h"
#include "core/error.h"
#include "loop.h"

int scenario_conn_run(const struct bench_opts *o, struct conn_result *r)
{
    struct run_ctl ctl;
    struct loop *loops = NULL;
    uint32_t nloops = 0;
    int ret = 1;

    memset(r, 0, sizeof(*r));
    stats_counts_init(&r->c);
    run_ctl_init(&ctl);

    loops = calloc(o->threads, sizeof(*loops));
    if (!loops) goto oom;
    for (; nloops < o->threads; nloops++) {
        if (loop_init(&loops[nloops], nloops, o, &ctl) != SL_OK) {
            nloops++;
            goto oom;
        }
    }
    for (uint32_t i = 0; i < o->conns; i++) {
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) goto oom;
        conn_idle_init(c, i);
        c->gindex = i;
        if (loop_add(&loops[i % nloops], c) != SL_OK) {
            free(c);
            goto oom;
        }
    }

    proc_sample(o->broker_pid, &r->b0);
    double self0 = proc_self_cpu();
    int64_t t0 = bench_now();
    for (uint32_t i = 0; i < nloops; i++) {
        struct loop *l = &loops[i];
        if (o->rate > 0) {
            /* Loop i opens connections i, i + T, i + 2T ...: the same spacing overall. */
            l->open_interval_ns = 1e9 * (double)nloops / o->rate;
            l->open_t0 = t0 + (int64_t)(1e9 * (double)i / o->rate);
        } else {
            l->open_t0 = t0;
        }
    }
    for (uint32_t i = 0; i < nloops; i++)
        if (loop_start(&loops[i]) != SL_OK) {
            snprintf(r->err, sizeof(r->err), "cannot start thread");
            goto out;
        }

    struct loop_totals t;
    for (;;) {
        loops_sum(loops, nloops, &t);
        if (t.ready + t.failed >= o->conns || bench_interrupted) break;
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    proc_sample(o->broker_pid, &r->b_up);
    r->bench_connect_cpu_s = proc_self_cpu() - self0;

    int64_t hold_start = bench_now();
    if (!bench_interrupted) (void)loop_sleep_until(hold_start + (int64_t)(o->duration * 1e9));
    r->hold_s = (double)(bench_now() - hold_start) / 1e9;
    proc_sample(o->broker_pid, &r->b1);
    r->interrupted = bench_interrupted;
    loops_quit(&ctl, loops, nloops);

    for (uint32_t i = 0; i < nloops; i++)
        stats_counts_merge(&r->c, &loops[i].c);
    snprintf(r->err, sizeof(r->err), "%s", loops_first_error(loops, nloops));
    if (r->c.ready && r->c.last_ready_ns > r->c.first_open_ns) {
        r->connect_s = (double)(r->c.last_ready_ns - r->c.first_open_ns) / 1e9;
        r->connect_rate = (double)r->c.ready / r->connect_s;
    }
    r->bench_cpu_s = proc_self_cpu();
    ret = 0;
    goto out;

oom:
    snprintf(r->err, sizeof(r->err), "out of memory");
    ret = 1;
out:
    loops_free(&ctl, loops, nloops);
    return ret;
}

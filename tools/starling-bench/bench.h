/*
 * bench.h - what the parts of starling-bench share: the options, the run control
 * that the main thread uses to steer the loop threads, and the counters a scenario
 * reports.
 *
 * Threads and time:
 *
 *   main thread          loop threads (--threads, each its own epoll set)
 *   -----------          ------------------------------------------------
 *   create conns  ---->  open, CONNECT, SUBSCRIBE          phase SETUP
 *   wait: all ready
 *   set t_go/t_ms/t_me,
 *   phase = GO    ---->  publish from t_go                 phase GO
 *                        |-- warmup --|---- measured ----|-- drain --|
 *                        t_go         t_ms               t_me
 *   sample broker at t_ms and t_me; watch counters until every expected
 *   delivery arrived (or --drain ran out)
 *   phase = QUIT  ---->  DISCONNECT, close, exit           phase QUIT
 *   join, merge counters, report
 *
 * Each loop owns its connections and its counters; the main thread reads only the
 * relaxed atomic snapshot (struct loop_snap) until the loops have been joined.
 *
 * The payload of every PUBLISH starts with a fixed header (host byte order: the
 * bench talks only to itself through the broker):
 *
 *   offset 0   u64  sequence number, per publisher, from 0
 *   offset 8   u32  publisher index
 *   offset 12  u64  send time, CLOCK_MONOTONIC ns
 *   offset 20  filler up to -s bytes
 */
#ifndef SL_BENCH_H
#define SL_BENCH_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "stats.h"
#include "proc.h"

#define BENCH_HDR_SIZE 20
#define BENCH_NS       1000000000LL

enum bench_scenario { BENCH_PUBSUB, BENCH_CONN };

struct bench_opts {
    enum bench_scenario scenario;
    char host[64];      /* as given, for the report */
    uint32_t host_addr; /* network byte order, always 127.x.x.x */
    uint16_t port;
    uint8_t version; /* 4 (3.1.1) or 5 */
    uint32_t threads;
    int broker_pid; /* 0: no broker sampling */
    bool json;
    uint32_t source_addrs;  /* 0: let the kernel choose */
    double connect_timeout; /* s, per connection handshake */
    uint32_t max_pending;   /* handshakes in progress per thread */
    uint16_t keepalive;     /* s */
    uint32_t sndbuf;        /* publisher SO_SNDBUF; 0: kernel autotuning */

    /* pubsub */
    uint32_t publishers, subscribers;
    uint8_t qos;
    uint32_t payload;
    double rate;     /* pubsub: msg/s per publisher; conn: connections/s; 0: unlimited */
    double duration; /* s; pubsub: measured interval, conn: hold time */
    uint64_t count;  /* messages per publisher; 0: duration mode */
    const char *topic_pattern;
    const char *filter_pattern;
    uint32_t window;
    double warmup;
    double drain;

    /* conn */
    uint32_t conns;
};

static inline int64_t bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * BENCH_NS + ts.tv_nsec;
}

enum run_phase { PHASE_SETUP = 0, PHASE_GO = 1, PHASE_QUIT = 2 };

struct run_ctl {
    _Atomic int phase;
    int64_t t_go; /* publishing starts; written before phase = GO (release) */
    int64_t t_ms; /* measured interval starts */
    /* Measured interval ends; publishers stop sending here. INT64_MAX with -n
     * until all is sent. The main thread moves it earlier on SIGINT. */
    _Atomic int64_t t_me;
    /* Client ids: "sb<pid-hex>" + role letter + index, at most 23 bytes as 3.1.1
     * servers may require [MQTT-3.1.3-5]. */
    char id_prefix[12];
};

/* Counters of one loop thread, summed over all loops for the report. */
struct bench_counts {
    uint64_t published;     /* PUBLISH packets written to the output buffer */
    uint64_t published_win; /* ... with a send time inside the measured interval */
    uint64_t expected;      /* sum over publishers of published x matching subscribers */
    uint64_t acked;         /* QoS 1/2 flows completed (PUBACK / PUBCOMP) */
    uint64_t rejected;      /* v5 PUBACK/PUBREC reason >= 0x80 */
    uint64_t abandoned;     /* in flight when the connection failed */
    uint64_t received;      /* PUBLISH packets received by subscribers */
    uint64_t received_win;  /* ... received inside the measured interval */
    uint64_t unique;        /* distinct (subscriber, publisher, seq) received */
    uint64_t duplicates;    /* the same (subscriber, publisher, seq) again */
    uint64_t reordered;     /* seq below the highest seen for (subscriber, publisher) */
    uint64_t foreign;       /* payload without our header, or an unexpected publisher */
    uint64_t qos2_resent;   /* QoS 2 PUBLISH for a packet id still awaiting PUBREL */
    uint64_t ready;         /* connections through CONNACK (and SUBACK) */
    uint64_t failed;        /* connections that failed before being ready */
    uint64_t closed;        /* ready connections lost before the end */
    uint64_t proto_errors;  /* unexpected packets or ids from the broker */
    uint64_t downgraded;    /* SUBACK granted a lower QoS than asked */
    int64_t first_open_ns, last_ready_ns;
    int64_t last_publish_ns, last_delivery_ns;
    struct stats_hist lat;      /* end-to-end latency, messages sent in the interval */
    struct stats_hist conn_lat; /* socket() to CONNACK */
};

/* In stats.c (declared here, next to the struct they work on). */
void stats_counts_init(struct bench_counts *c);
void stats_counts_merge(struct bench_counts *dst, const struct bench_counts *src);

struct pubsub_result {
    struct bench_counts c;
    uint64_t lost;               /* expected - unique, when positive */
    double measured_s;           /* rate window */
    double publish_s, deliver_s; /* the times the rates divide by */
    double publish_rate, delivery_rate;
    double cpu_window_s;          /* wall time of the broker CPU samples */
    uint64_t cpu_msgs;            /* deliveries the broker CPU is divided by */
    struct proc_sample b0, b1;    /* broker at the start and end of the interval */
    struct proc_threads bt0, bt1; /* ... and its threads' CPU */
    double bench_cpu_s;           /* this process, user + system, whole run */
    double bench_cpu_window_s;    /* ... over the broker CPU window */
    bool incomplete;              /* --drain ran out before every expected message arrived */
    bool stalled;                 /* -n: no progress for --drain seconds */
    bool interrupted;
    uint32_t matched_pairs;
    char err[256]; /* first error seen by any loop */
};

struct conn_result {
    struct bench_counts c;
    double connect_s; /* first open to last CONNACK */
    double connect_rate;
    double hold_s;
    struct proc_sample b0, b_up, b1; /* before, all connected, end of hold */
    double bench_connect_cpu_s;      /* this process while connecting (b0 to b_up) */
    double bench_cpu_s;
    bool interrupted;
    char err[256];
};

/* Both return 0 when the run completed (the report says whether it passed), 1 on
 * a run-time failure (err says why), 2 on bad arguments found late (patterns). */
int scenario_pubsub_run(const struct bench_opts *o, struct pubsub_result *r);
int scenario_conn_run(const struct bench_opts *o, struct conn_result *r);

/* Set by SIGINT/SIGTERM: the scenarios stop early and still report. */
extern volatile sig_atomic_t bench_interrupted;

#endif

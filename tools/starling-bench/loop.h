/*
 * loop.h - one bench thread: an epoll set, the connections it owns, its counters.
 *
 * One iteration:
 *   epoll_wait (timeout: 0 if a publisher can send now, else the next rate tick,
 *               never more than 10 ms so phase changes are seen)
 *   -> reads/writes of ready connections (level-triggered, one read each)
 *   -> open more connections (pacing: --rate, --max-pending)
 *   -> publishers queue what they may send now
 *   -> one send() per connection with pending output (the flush list)
 *   -> once a second: keepalive and handshake deadlines
 *   -> publish the counter snapshot for the main thread
 * Connections never move between loops; nothing here takes a lock.
 */
#ifndef SL_BENCH_LOOP_H
#define SL_BENCH_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bench.h"
#include "conn.h"

#define LOOP_READ_CHUNK (256u * 1024u)
#define LOOP_BIG_PACKET (64u * 1024u) /* larger packets are read into the carry */

/* What the main thread may read while the loop runs. */
struct loop_snap {
    _Atomic uint64_t published, expected, received, unique, acked;
    _Atomic uint64_t inflight; /* publisher flows + subscriber QoS 2 awaiting PUBREL */
    _Atomic uint64_t blocked;  /* connections with unsent output */
    _Atomic uint64_t pubs_sent_all;
    _Atomic uint64_t ready, failed, closed;
    _Atomic int64_t last_delivery_ns;
};

struct loop {
    uint32_t id;
    int epfd;
    pthread_t tid;
    bool started;
    const struct bench_opts *o;
    struct run_ctl *ctl;

    struct conn **conns; /* owned; opened in this order */
    uint32_t nconns, conns_cap;
    uint32_t next_open;
    uint32_t handshaking;
    double open_interval_ns; /* 0: no rate limit */
    int64_t open_t0;

    struct conn **pubs; /* the publishers among conns */
    uint32_t npubs, pubs_cap;
    int64_t pub_wake; /* earliest time a publisher wants to run */

    struct conn *dirty; /* flush list */
    uint8_t *scratch;
    size_t scratch_cap;

    /* Counters and state kept by this thread only. */
    struct bench_counts c;
    uint64_t inflight; /* as in loop_snap */
    uint64_t blocked;
    uint64_t pubs_sent_all;
    char first_err[200];
    uint64_t nerrors;

    struct loop_snap snap;
};

int loop_init(struct loop *l, uint32_t id, const struct bench_opts *o, struct run_ctl *ctl);
/* Takes ownership of c (freed by loop_destroy). Before loop_start only. */
int loop_add(struct loop *l, struct conn *c);
int loop_start(struct loop *l);
void loop_join(struct loop *l);
void loop_destroy(struct loop *l);

/* For the scenarios (main thread). */
struct loop_totals {
    uint64_t published, expected, received, unique, acked, inflight, blocked;
    uint64_t pubs_sent_all, ready, failed, closed;
};
void loops_sum(struct loop *loops, uint32_t n, struct loop_totals *t);
/* Zeroes ctl for a run: no end time yet, client ids prefixed by this process. */
void run_ctl_init(struct run_ctl *ctl);
/* phase = QUIT, then joins every started loop. */
void loops_quit(struct run_ctl *ctl, struct loop *loops, uint32_t n);
/* loops_quit, then loop_destroy on each, then frees the array (NULL is fine). */
void loops_free(struct run_ctl *ctl, struct loop *loops, uint32_t n);
/* The first error any loop recorded, or "" (after the loops were joined). */
const char *loops_first_error(const struct loop *loops, uint32_t n);
/* Sleeps until t (CLOCK_MONOTONIC ns) or until bench_interrupted; false if
 * interrupted. */
bool loop_sleep_until(int64_t t);

/* For conn.c. */
void loop_mark_dirty(struct loop *l, struct conn *c);
int loop_update_events(struct loop *l, struct conn *c);
void loop_error(struct loop *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif

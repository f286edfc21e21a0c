/*
 * worker.h - one thread, one epoll loop, the connections and sessions it owns.
 *
 * Loop iteration:
 *
 *   epoll_wait (timeout = next timer tick)
 *     -> accept on this worker's SO_REUSEPORT sockets
 *     -> read + handle packets of ready clients (publishes route immediately:
 *        local subscribers get the message queued on their connection, remote
 *        ones get an item in this worker's outbox for their home worker)
 *     -> inbox: deliveries and connections handed over by other workers
 *     -> timers (CONNECT deadline, keepalive)
 *   end of iteration ("before sleep"):
 *     -> push outbox batches (one CAS + at most one eventfd write per batch),
 *        or run a small batch in the destination's place (below)
 *     -> store commit; release held acks that are now durable
 *     -> flush every client with output: one writev each
 *     -> free clients closed during the iteration
 *
 * Working in another worker's place. A worker's state (its clients, sessions,
 * timers, lists) belongs to whoever holds its lock: its own thread from the
 * moment epoll_wait returns until it sleeps again. While it sleeps, another
 * worker with a small batch for it takes the lock (trylock: nobody ever waits
 * for another worker's lock) and runs the batch itself: the earlier items in
 * the inbox first, then the batch, then the flushes, exactly as the sleeper
 * would have done. At moderate rates that saves the sleeper's wake-up (an
 * eventfd write, a second thread scheduled, an eventfd read), the largest cost
 * of a delivery across workers. Large batches still go through the inbox, so
 * under load both cores work. What only the owner may do (free closed clients)
 * is left to it, and it is woken when anything is left or its sleep would
 * oversleep a timer added meanwhile.
 */
#ifndef SL_BROKER_WORKER_H
#define SL_BROKER_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/msg_home.h"
#include "broker/session.h"
#include "core/inbox.h"
#include "core/mpstack.h"
#include "core/timer_wheel.h"

struct client;
struct server;
struct sl_msg;

enum item_kind { ITEM_DELIVER, ITEM_ADOPT };

struct item {
    uint8_t kind;
    struct delivery d;       /* DELIVER: how (owns d.ids) */
    struct session *session; /* DELIVER: a reference */
    struct sl_msg *msg;      /* DELIVER: a reference */
    struct client *client;   /* ADOPT */
};

#define BATCH_ITEMS 256

/* Items a worker may run in sleeping destinations' places per iteration, all
 * destinations together; a larger batch always goes through the inbox. */
#define DIRECT_MAX_ITEMS 32

/* QoS 0 deliveries are dropped (and counted) rather than posted to a worker that
 * already has this many items waiting: a worker that cannot keep up must not
 * make the others queue for it without bound. (QoS 1/2 deliveries in transit
 * count towards their session's back-pressure instead.) 256k items ~ 8 MiB. */
#define INBOX_QOS0_LIMIT (256u * 1024u)

/* Allocated by the worker that fills it, emptied by the one it is for, then
 * sent back to be filled again (batch_done): no malloc or free per batch. */
struct batch {
    struct sl_mpstack_node link; /* in an inbox, its home's batch_returns or spare list */
    struct worker *home;
    uint32_t n;
    struct item items[BATCH_ITEMS];
};

/* Emptied batches a worker keeps for reuse; more go back to malloc. */
#define BATCH_SPARES 8

/* Counters written only under their worker's lock and read by the $SYS publisher (sys.c)
 * on worker 0. Relaxed atomics updated with a load and a store, not a locked
 * add: there is one writer at a time, and the hot path pays nothing on x86. */
struct worker_stats {
    _Atomic uint64_t msgs_received;    /* PUBLISH from clients */
    _Atomic uint64_t msgs_sent;        /* PUBLISH to clients */
    _Atomic uint64_t msgs_dropped;     /* queue full, slow consumer */
    _Atomic uint64_t packets_received; /* control packets of any type */
    _Atomic uint64_t packets_sent;
    _Atomic uint64_t bytes_received;
    _Atomic uint64_t bytes_sent;
    _Atomic uint64_t clients_connected; /* past CONNECT, not closed */
    _Atomic uint64_t sessions;          /* in this worker's session table */
};

static inline void stat_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void stat_sub(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) - n,
                          memory_order_relaxed);
}

static inline uint64_t stat_get(_Atomic uint64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

struct worker {
    struct server *srv;
    int idx;
    pthread_t thread;
    pthread_mutex_t lock;    /* see "Working in another worker's place" */
    uint64_t sleep_until_ms; /* under lock: when its epoll_wait times out; UINT64_MAX never */
    int epfd;
    struct sl_inbox inbox;
    atomic_uint inbox_pending;   /* items pushed to this worker, not yet run */
    struct sl_msg_home msg_home; /* messages this worker allocated come back here */
    struct sl_wheel wheel;
    uint64_t now_ms;

    int *listen_fds; /* one per bound address (srv->nsocks), set up by the server */

    struct client *clients; /* all clients owned here */
    size_t nclients;
    struct client *flush_head;
    struct client *held_head;
    struct client *closed_head;

    struct session_table sessions;

    uint8_t *scratch;               /* read buffer, SCRATCH_SIZE */
    struct batch **outbox;          /* per destination worker */
    struct sl_mpstack_node *spares; /* emptied batches of this worker's, ready to fill */
    uint32_t nspares;
    struct sl_mpstack batch_returns; /* its batches, emptied by other workers */

    /* publish routing scratch, reused */
    struct topic_match_vec {
        struct topic_match *v;
        size_t n, cap;
    } matches;

    struct worker_stats stats;
    struct sl_timer sys_timer;    /* worker 0: $SYS updates (sys.c) */
    struct sl_timer retain_timer; /* worker 0: expired retained messages freed */
    bool destroying;              /* worker_destroy runs: nothing new is routed */
};

#define WORKER_SCRATCH_SIZE 65536

int worker_init(struct worker *w, struct server *srv, int idx);
int worker_start(struct worker *w);

/* One loop iteration: wait up to max_wait_ms (-1: until an event or timer),
 * handle events, timers, and the end-of-iteration work. worker_start's thread
 * calls it forever; tests and fuzzers call it directly, single-threaded. */
void worker_run_once(struct worker *w, int max_wait_ms);
/* After every worker thread has exited: closes clients (no wills), ends
 * sessions, frees the worker. Then, once all are destroyed, drain_leftovers
 * drops what other workers left in this one's inbox. */
void worker_destroy(struct worker *w);
void worker_drain_leftovers(struct worker *w);

/* Hands an item to worker dst (batched until the end of this iteration). */
void worker_post(struct worker *w, int dst, const struct item *it);

/* Puts c on the flush list / held list (idempotent). */
void worker_want_flush(struct worker *w, struct client *c);
void worker_want_release(struct worker *w, struct client *c);

/* Monotonic milliseconds. */
uint64_t worker_clock_ms(void);

#endif

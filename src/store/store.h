/*
 * store.h - where durable broker state goes, and when acknowledgements may leave.
 *
 * The broker never sends an acknowledgement that confirms state (CONNACK of a
 * persistent session, PUBACK, PUBREC, SUBACK, UNSUBACK) straight to the socket.
 * It asks the store for a *ticket* covering everything written so far, parks the
 * ack with that ticket, and releases parked acks in order once the store reports
 * the ticket durable (client.c: client_send_held / client_release_held). A
 * group-committing engine (one fsync per batch) plugs in behind these two calls
 * without touching the packet handlers.
 *
 * Engines: "memory" (store_memory.c) keeps nothing beyond the broker's own
 * structures - Mosquitto's `persistence false` - and so every ticket is durable
 * as soon as it is issued. The embedded durable engine comes with the store issue
 * and adds the record operations (sessions, subscriptions, retained, queued and
 * inflight messages) at the points documented in docs/architecture.md.
 *
 * Each worker calls its store with its own index; engines may keep per-worker
 * logs so that no lock is shared on the hot path.
 */
#ifndef SL_STORE_STORE_H
#define SL_STORE_STORE_H

#include <stdint.h>

struct sl_store;

struct sl_store_ops {
    const char *name;
    /* A ticket covering every record the worker has written so far. */
    uint64_t (*ticket)(struct sl_store *st, int worker);
    /* Once per loop iteration: starts or completes a group commit for the worker;
     * returns the highest ticket known durable. */
    uint64_t (*commit)(struct sl_store *st, int worker);
    void (*close)(struct sl_store *st);
};

struct sl_store {
    const struct sl_store_ops *ops;
};

/* The memory-only engine. NULL on allocation failure. */
struct sl_store *sl_store_memory_open(void);

static inline void sl_store_close(struct sl_store *st)
{
    if (st) st->ops->close(st);
}

#endif

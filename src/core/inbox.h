/*
 * inbox.h - a multi-producer, single-consumer queue of nodes with an eventfd
 * wake-up: how workers hand each other work.
 *
 * Producers push whole nodes (the broker pushes one node per *batch* of items, so
 * the atomic operation and the wake-up are paid per batch, not per message).
 * Internally it is a core/mpstack.h stack: push is one CAS; the consumer takes
 * the whole stack with one exchange and reverses it, so nodes come out in push
 * order (FIFO per producer, which keeps each publisher's messages in order).
 *
 * Wake-up: only the push that finds the stack empty writes the eventfd. The
 * consumer reads the eventfd before taking the stack, so a push racing with a
 * take either lands in this take or finds the stack empty and writes again.
 */
#ifndef SL_CORE_INBOX_H
#define SL_CORE_INBOX_H

#include <stdbool.h>

#include "core/mpstack.h"

struct sl_inbox {
    struct sl_mpstack stack;
    int efd; /* eventfd, non-blocking; register it for EPOLLIN */
};

int sl_inbox_init(struct sl_inbox *ib);
void sl_inbox_destroy(struct sl_inbox *ib);

/* Any thread. Takes ownership of node until the consumer takes it. */
void sl_inbox_push(struct sl_inbox *ib, struct sl_mpstack_node *node);

/* Wakes the consumer without pushing (e.g. to make it notice a stop flag). */
void sl_inbox_wake(struct sl_inbox *ib);

/* Consumer only. Clears the eventfd and returns every pushed node in push order
 * (linked by next), or NULL. */
struct sl_mpstack_node *sl_inbox_take(struct sl_inbox *ib);

/* "Consumer" in these two means the thread that owns the queue, or one that the
 * owner has excluded by other means (the broker's worker lock) and that works in
 * its place. sl_inbox_grab takes like sl_inbox_take but leaves the eventfd
 * alone, saving the read: a grab that empties the stack can only leave the
 * owner one wake-up that finds nothing, never a missed one. */
struct sl_mpstack_node *sl_inbox_grab(struct sl_inbox *ib);
bool sl_inbox_empty(struct sl_inbox *ib);

#endif

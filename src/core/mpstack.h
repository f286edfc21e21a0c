/*
 * mpstack.h - a stack that any thread pushes onto and one owner empties at
 * once: the workers' inboxes (core/inbox.h), and how blocks go back to the
 * thread that allocated them (broker/msg_home.h, the workers' batches).
 *
 * Push is one compare-and-swap; take is one exchange that returns every node,
 * newest first. The owner never pops single nodes, so the ABA problem of
 * lock-free stacks cannot arise.
 */
#ifndef SL_CORE_MPSTACK_H
#define SL_CORE_MPSTACK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct sl_mpstack_node {
    struct sl_mpstack_node *next;
};

struct sl_mpstack {
    _Atomic(struct sl_mpstack_node *) head;
};

static inline void sl_mpstack_init(struct sl_mpstack *s)
{
    atomic_init(&s->head, NULL);
}

/* Any thread. Returns whether the stack was empty before. */
static inline bool sl_mpstack_push(struct sl_mpstack *s, struct sl_mpstack_node *n)
{
    struct sl_mpstack_node *head = atomic_load_explicit(&s->head, memory_order_relaxed);
    do {
        n->next = head;
    } while (!atomic_compare_exchange_weak_explicit(&s->head, &head, n, memory_order_release,
                                                    memory_order_relaxed));
    return head == NULL;
}

/* The owner: every node pushed so far, newest first (linked by next), or NULL.
 * Costs one load when the stack is empty. */
static inline struct sl_mpstack_node *sl_mpstack_take(struct sl_mpstack *s)
{
    if (!atomic_load_explicit(&s->head, memory_order_relaxed)) return NULL;
    return atomic_exchange_explicit(&s->head, NULL, memory_order_acquire);
}

#endif

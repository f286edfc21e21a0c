/* msg_home.c - see msg_home.h. */
#include "broker/msg_home.h"

#include <stdlib.h>

#include "broker/msg.h"
#include "core/container_of.h"
#include "core/inbox.h"

static _Thread_local struct sl_msg_home *self;

void sl_msg_home_init(struct sl_msg_home *h, struct sl_inbox *wake)
{
    sl_mpstack_init(&h->returned);
    atomic_init(&h->returned_bytes, 0);
    h->wake = wake;
}

void sl_msg_home_enter(struct sl_msg_home *h)
{
    self = h;
}

struct sl_msg_home *sl_msg_home_self(void)
{
    return self;
}

static size_t msg_bytes(const struct sl_msg *m)
{
    return sizeof(*m) + sl_msg_size(m);
}

void sl_msg_home_collect(struct sl_msg_home *h)
{
    struct sl_mpstack_node *n = sl_mpstack_take(&h->returned);
    if (!n) return;
    size_t bytes = 0;
    while (n) {
        struct sl_mpstack_node *next = n->next;
        struct sl_msg *m = sl_container_of(n, struct sl_msg, returned);
        bytes += msg_bytes(m);
        free(m);
        n = next;
    }
    atomic_fetch_sub_explicit(&h->returned_bytes, bytes, memory_order_relaxed);
}

void sl_msg_home_free(struct sl_msg *m)
{
    struct sl_msg_home *h = m->home;
    if (!h || !self || h == self) {
        free(m);
        return;
    }
    /* Counted before it is pushed, so that the owner never subtracts a message
     * not yet added; woken after, so that it finds the message. */
    size_t bytes = msg_bytes(m);
    size_t before = atomic_fetch_add_explicit(&h->returned_bytes, bytes, memory_order_relaxed);
    (void)sl_mpstack_push(&h->returned, &m->returned);
    if (before < SL_MSG_RETURN_WAKE_BYTES && before + bytes >= SL_MSG_RETURN_WAKE_BYTES)
        sl_inbox_wake(h->wake);
}

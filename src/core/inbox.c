/* inbox.c - see inbox.h. */
#include "core/inbox.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/error.h"

int sl_inbox_init(struct sl_inbox *ib)
{
    sl_mpstack_init(&ib->stack);
    ib->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    return ib->efd < 0 ? SL_EIO : SL_OK;
}

void sl_inbox_destroy(struct sl_inbox *ib)
{
    if (ib->efd >= 0) close(ib->efd);
    ib->efd = -1;
}

void sl_inbox_wake(struct sl_inbox *ib)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already non-zero: the consumer will wake. */
    while (write(ib->efd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

void sl_inbox_push(struct sl_inbox *ib, struct sl_mpstack_node *node)
{
    if (sl_mpstack_push(&ib->stack, node)) sl_inbox_wake(ib);
}

struct sl_mpstack_node *sl_inbox_take(struct sl_inbox *ib)
{
    uint64_t v;
    while (read(ib->efd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
    return sl_inbox_grab(ib);
}

bool sl_inbox_empty(struct sl_inbox *ib)
{
    return atomic_load_explicit(&ib->stack.head, memory_order_relaxed) == NULL;
}

struct sl_mpstack_node *sl_inbox_grab(struct sl_inbox *ib)
{
    struct sl_mpstack_node *n = sl_mpstack_take(&ib->stack), *fifo = NULL;
    while (n) { /* newest first: reverse into push order */
        struct sl_mpstack_node *next = n->next;
        n->next = fifo;
        fifo = n;
        n = next;
    }
    return fifo;
}

/* Unit tests for core/inbox.c: several producer threads, one consumer; every
 * node arrives once and each producer's nodes arrive in push order, also when
 * the consumer sometimes grabs without reading the eventfd (as a worker running
 * in a sleeping worker's place does). */
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "check.h"
#include "core/inbox.h"

enum { PRODUCERS = 4, PER_PRODUCER = 50000 };

struct node {
    struct sl_mpstack_node link;
    int producer;
    int seq;
};

static struct sl_inbox inbox;

static void *produce(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < PER_PRODUCER; i++) {
        struct node *n = malloc(sizeof(*n));
        n->producer = id;
        n->seq = i;
        sl_inbox_push(&inbox, &n->link);
    }
    return NULL;
}

static bool readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

/* grab takes in push order and leaves the eventfd as it was: at worst one
 * wake-up that finds nothing, never a pushed node without a wake-up. */
static void test_grab_keeps_wakeup(void)
{
    struct node a = {.seq = 1}, b = {.seq = 2}, c = {.seq = 3};
    CHECK_EQ_INT(sl_inbox_init(&inbox), 0);
    CHECK(sl_inbox_empty(&inbox));
    CHECK(!readable(inbox.efd));
    sl_inbox_push(&inbox, &a.link);
    sl_inbox_push(&inbox, &b.link);
    CHECK(!sl_inbox_empty(&inbox));
    struct sl_mpstack_node *n = sl_inbox_grab(&inbox);
    CHECK(n == &a.link && n->next == &b.link && b.link.next == NULL);
    CHECK(sl_inbox_empty(&inbox));
    CHECK(readable(inbox.efd)); /* the owner still wakes once */
    CHECK(sl_inbox_take(&inbox) == NULL);
    CHECK(!readable(inbox.efd));
    sl_inbox_push(&inbox, &c.link); /* empty again: this push must wake */
    CHECK(readable(inbox.efd));
    CHECK(sl_inbox_take(&inbox) == &c.link);
    sl_inbox_destroy(&inbox);
}

static void test_mpsc_order_and_completeness(void)
{
    CHECK_EQ_INT(sl_inbox_init(&inbox), 0);
    pthread_t th[PRODUCERS];
    for (int i = 0; i < PRODUCERS; i++)
        pthread_create(&th[i], NULL, produce, (void *)(intptr_t)i);
    int next[PRODUCERS] = {0};
    long total = 0, disorder = 0;
    for (unsigned round = 0; total < (long)PRODUCERS * PER_PRODUCER; round++) {
        struct sl_mpstack_node *n;
        if (round % 3 == 2) {
            n = sl_inbox_grab(&inbox); /* in the owner's place: no sleep, no eventfd read */
        } else {
            /* Sleep on the eventfd as a worker does: no wake-up may be lost. */
            struct pollfd p = {.fd = inbox.efd, .events = POLLIN};
            if (poll(&p, 1, 5000) == 0) break; /* a lost wake-up: fail below, not hang */
            n = sl_inbox_take(&inbox);
        }
        while (n) {
            struct node *x = (struct node *)n;
            n = n->next;
            if (x->seq != next[x->producer]) disorder++;
            next[x->producer] = x->seq + 1;
            total++;
            free(x);
        }
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ_INT(total, (long)PRODUCERS * PER_PRODUCER);
    CHECK_EQ_INT(disorder, 0);
    CHECK(sl_inbox_take(&inbox) == NULL);
    sl_inbox_destroy(&inbox);
}

int main(void)
{
    RUN(test_grab_keeps_wakeup);
    RUN(test_mpsc_order_and_completeness);
    return check_summary();
}

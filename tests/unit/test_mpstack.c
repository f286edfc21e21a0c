/* test_mpstack.c - core/mpstack.h: pushes from several threads while the owner
 * takes; every node comes out exactly once, newest first within a take. */
#include <pthread.h>
#include <stdlib.h>

#include "check.h"
#include "core/mpstack.h"

static void test_take_returns_newest_first(void)
{
    struct sl_mpstack s;
    struct sl_mpstack_node n[3];
    sl_mpstack_init(&s);
    CHECK(sl_mpstack_take(&s) == NULL);
    for (int i = 0; i < 3; i++)
        sl_mpstack_push(&s, &n[i]);
    struct sl_mpstack_node *t = sl_mpstack_take(&s);
    CHECK(t == &n[2] && t->next == &n[1] && t->next->next == &n[0] && n[0].next == NULL);
    CHECK(sl_mpstack_take(&s) == NULL);
}

#define PER_THREAD 200000
struct node {
    struct sl_mpstack_node link;
    int seen;
};
struct producer {
    struct sl_mpstack *s;
    struct node *nodes;
};

static void *produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < PER_THREAD; i++)
        sl_mpstack_push(p->s, &p->nodes[i].link);
    return NULL;
}

static long drain(struct sl_mpstack *s)
{
    long n = 0;
    for (struct sl_mpstack_node *x = sl_mpstack_take(s); x; x = x->next, n++)
        ((struct node *)x)->seen++;
    return n;
}

static void test_two_producers_nothing_lost_or_doubled(void)
{
    struct sl_mpstack s;
    sl_mpstack_init(&s);
    struct node *nodes = calloc(2 * PER_THREAD, sizeof(*nodes));
    CHECK(nodes != NULL);
    struct producer p[2] = {{&s, nodes}, {&s, nodes + PER_THREAD}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, produce, &p[i]) == 0);
    long taken = 0;
    while (taken < 2 * PER_THREAD)
        taken += drain(&s); /* the owner takes while they push */
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_INT(taken + drain(&s), 2 * PER_THREAD);
    int wrong = 0;
    for (int i = 0; i < 2 * PER_THREAD; i++)
        wrong += nodes[i].seen != 1;
    CHECK_EQ_INT(wrong, 0);
    free(nodes);
}

int main(void)
{
    RUN(test_take_returns_newest_first);
    RUN(test_two_producers_nothing_lost_or_doubled);
    return check_summary();
}

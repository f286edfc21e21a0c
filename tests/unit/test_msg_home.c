/* test_msg_home.c - a message whose last reference is dropped on another
 * worker's thread goes back to the thread that allocated it, which frees it;
 * a sleeping home is woken once enough has piled up; threads without a home
 * free at once. */
#include <poll.h>
#include <pthread.h>
#include <string.h>

#include "broker/msg.h"
#include "broker/msg_home.h"
#include "check.h"
#include "core/error.h"
#include "core/inbox.h"

static struct sl_msg *msg(size_t payload)
{
    static const uint8_t zeros[4096];
    return sl_msg_new((const uint8_t *)"a/b", 3, zeros, payload, 0, false);
}

static bool woken(struct sl_inbox *ib)
{
    struct pollfd p = {.fd = ib->efd, .events = POLLIN};
    return poll(&p, 1, 0) == 1;
}

struct other {
    struct sl_msg_home *home; /* the other thread's home (NULL: none) */
    struct sl_msg **msgs;
    int n;
};

static void *unref_there(void *arg)
{
    struct other *o = arg;
    sl_msg_home_enter(o->home);
    for (int i = 0; i < o->n; i++)
        sl_msg_unref(o->msgs[i]);
    sl_msg_home_enter(NULL);
    return NULL;
}

static void unref_on_other_thread(struct sl_msg_home *there, struct sl_msg **msgs, int n)
{
    struct other o = {there, msgs, n};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, unref_there, &o) == 0);
    pthread_join(t, NULL);
}

/* Two worker homes, a and b, each with the inbox that wakes it; this thread
 * allocates for a. */
struct homes {
    struct sl_inbox ib_a, ib_b;
    struct sl_msg_home a, b;
};

static void homes_open(struct homes *h)
{
    CHECK_EQ_INT(sl_inbox_init(&h->ib_a), SL_OK);
    CHECK_EQ_INT(sl_inbox_init(&h->ib_b), SL_OK);
    sl_msg_home_init(&h->a, &h->ib_a);
    sl_msg_home_init(&h->b, &h->ib_b);
    sl_msg_home_enter(&h->a);
}

static void homes_close(struct homes *h)
{
    sl_msg_home_enter(NULL);
    sl_inbox_destroy(&h->ib_a);
    sl_inbox_destroy(&h->ib_b);
}

static void test_last_unref_elsewhere_goes_home(void)
{
    struct homes h;
    homes_open(&h);
    struct sl_msg_home *a = &h.a, *b = &h.b;
    struct sl_msg *m[4];
    for (int i = 0; i < 4; i++)
        m[i] = msg(10);
    CHECK(m[0]->home == a && sl_msg_home_self() == a);
    sl_msg_ref(m[0]);
    unref_on_other_thread(b, m, 4);
    /* m[0] still has our reference; the other three came back. */
    CHECK(atomic_load(&a->returned.head) != NULL);
    CHECK_EQ_INT(atomic_load(&a->returned_bytes), 3 * (sizeof(struct sl_msg) + 3 + 10));
    CHECK(!woken(&h.ib_a)); /* far below the wake-up threshold */
    sl_msg_home_collect(a);
    CHECK(atomic_load(&a->returned.head) == NULL);
    CHECK_EQ_INT(atomic_load(&a->returned_bytes), 0);
    sl_msg_unref(m[0]); /* at home: freed at once */
    CHECK(atomic_load(&a->returned.head) == NULL);
    CHECK(atomic_load(&b->returned.head) == NULL);
    homes_close(&h);
}

static void test_pile_up_wakes_home_once(void)
{
    struct homes h;
    homes_open(&h);
    enum { N = 200 }; /* 200 x ~4 KiB: past SL_MSG_RETURN_WAKE_BYTES */
    struct sl_msg *m[N];
    for (int i = 0; i < N; i++)
        m[i] = msg(4096);
    unref_on_other_thread(&h.b, m, 40);
    CHECK(!woken(&h.ib_a)); /* 40 x 4 KiB: still below */
    unref_on_other_thread(&h.b, m + 40, N - 40);
    CHECK(woken(&h.ib_a));
    CHECK(sl_inbox_take(&h.ib_a) == NULL); /* the wake-up carries no work */
    sl_msg_home_collect(&h.a);
    CHECK_EQ_INT(atomic_load(&h.a.returned_bytes), 0);
    homes_close(&h);
}

static void test_without_a_home_frees_at_once(void)
{
    struct homes h;
    homes_open(&h);
    struct sl_msg *m = msg(1);
    unref_on_other_thread(NULL, &m, 1); /* a thread that is no worker */
    CHECK(atomic_load(&h.a.returned.head) == NULL);
    homes_close(&h);
    struct sl_msg *orphan = msg(1); /* made where there is no home */
    CHECK(orphan->home == NULL);
    sl_msg_unref(orphan);
}

int main(void)
{
    RUN(test_last_unref_elsewhere_goes_home);
    RUN(test_pile_up_wakes_home_once);
    RUN(test_without_a_home_frees_at_once);
    return check_summary();
}

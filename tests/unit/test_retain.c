/* Unit tests for broker/retain.c's expiry sweep: expired retained messages are
 * freed and their empty topic levels pruned, others stay and still match, the
 * sweep takes nothing while none is due, and a replaced message's deadline no
 * longer counts. */
#include <string.h>

#include "broker/msg.h"
#include "broker/retain.h"
#include "broker/trie.h"
#include "check.h"

static struct sl_msg *msg(const char *topic, uint64_t expiry_ms)
{
    struct sl_bytes none = {0};
    return sl_msg_new_props((const uint8_t *)topic, strlen(topic), (const uint8_t *)"v", 1, 0, true,
                            none, expiry_ms);
}

static void set(struct retain_store *r, const char *topic, uint64_t expiry_ms)
{
    struct sl_msg *m = msg(topic, expiry_ms);
    CHECK(m != NULL);
    CHECK_EQ_INT(retain_set(r, m), 0);
    sl_msg_unref(m); /* the store keeps its own reference */
}

static void count_hit(void *arg, struct sl_msg *m)
{
    (*(int *)arg)++;
    sl_msg_unref(m);
}

static int matches(struct retain_store *r, const char *filter)
{
    int hits = 0;
    retain_match(r, (const uint8_t *)filter, strlen(filter), count_hit, &hits);
    return hits;
}

static void test_sweep(void)
{
    struct retain_store r;
    CHECK_EQ_INT(retain_init(&r), 0);
    CHECK_EQ_INT(retain_expire(&r, 1000), 0); /* empty store */
    set(&r, "a/b", 100);
    set(&r, "a/c", 200);
    set(&r, "a/b/d", 0);
    set(&r, "x/y/z", 100);
    set(&r, "keep", 0);
    CHECK_EQ_INT(r.count, 5);
    CHECK_EQ_INT(r.expiring, 3);
    CHECK_EQ_INT(atomic_load(&r.next_expiry_ms), 100);

    CHECK_EQ_INT(retain_expire(&r, 99), 0); /* nothing due */
    CHECK_EQ_INT(r.count, 5);

    CHECK_EQ_INT(retain_expire(&r, 100), 2); /* a/b and x/y/z */
    CHECK_EQ_INT(r.count, 3);
    CHECK_EQ_INT(r.expiring, 1);
    CHECK_EQ_INT(atomic_load(&r.next_expiry_ms), 200);
    CHECK_EQ_INT(matches(&r, "#"), 3);
    CHECK_EQ_INT(matches(&r, "a/b"), 0);
    CHECK_EQ_INT(matches(&r, "a/b/d"), 1); /* a/b's level stays: it has a child */
    /* x/y/z had nothing under it: x, x/y and x/y/z are gone. */
    CHECK(trie_child(r.root, (const uint8_t *)"x", 1) == NULL);
    CHECK(trie_child(r.root, (const uint8_t *)"a", 1) != NULL);

    /* Replaced without a deadline: nothing is left to expire. */
    set(&r, "a/c", 0);
    CHECK_EQ_INT(r.expiring, 0);
    CHECK_EQ_INT(atomic_load(&r.next_expiry_ms), 0);
    CHECK_EQ_INT(retain_expire(&r, 1000000), 0);
    CHECK_EQ_INT(matches(&r, "#"), 3);

    /* Removed by an empty retained message: its deadline goes with it. */
    set(&r, "t", 300);
    CHECK_EQ_INT(r.expiring, 1);
    struct sl_bytes none = {0};
    struct sl_msg *empty = sl_msg_new_props((const uint8_t *)"t", 1, NULL, 0, 0, true, none, 0);
    CHECK_EQ_INT(retain_set(&r, empty), 0);
    sl_msg_unref(empty);
    CHECK_EQ_INT(r.expiring, 0);
    CHECK_EQ_INT(r.count, 3);
    retain_destroy(&r);
}

int main(void)
{
    RUN(test_sweep);
    return check_summary();
}

/* test_bench_seen.c - starling-bench's shared-group record (tools/starling-bench/
 * seen.c): each sequence number is new exactly once, whichever thread marks it,
 * including across chunk boundaries and for members that run far apart. */
#include <pthread.h>
#include <stdlib.h>

#include "check.h"
#include "seen.h"

static void test_first_then_again(void)
{
    struct seen *s = calloc(1, sizeof(*s));
    CHECK(s != NULL);
    CHECK(seen_mark(s, 0) == SEEN_FIRST);
    CHECK(seen_mark(s, 0) == SEEN_AGAIN);
    CHECK(seen_mark(s, 63) == SEEN_FIRST);
    CHECK(seen_mark(s, 64) == SEEN_FIRST);
    /* Either side of a chunk boundary, and far ahead: no window to slide. */
    CHECK(seen_mark(s, SEEN_CHUNK_BITS - 1) == SEEN_FIRST);
    CHECK(seen_mark(s, SEEN_CHUNK_BITS) == SEEN_FIRST);
    CHECK(seen_mark(s, 5 * SEEN_CHUNK_BITS + 7) == SEEN_FIRST);
    /* A late message far behind the newest is still new, once. */
    CHECK(seen_mark(s, 1) == SEEN_FIRST);
    CHECK(seen_mark(s, 1) == SEEN_AGAIN);
    CHECK(seen_mark(s, SEEN_CHUNK_BITS) == SEEN_AGAIN);
    CHECK_EQ_INT(seen_count(s), 7);
    seen_free(s);
    CHECK_EQ_INT(seen_count(s), 0);
    free(s);
}

static void test_beyond_the_range_is_untracked(void)
{
    struct seen *s = calloc(1, sizeof(*s));
    CHECK(s != NULL);
    uint64_t limit = SEEN_CHUNK_BITS * SEEN_CHUNKS;
    CHECK(seen_mark(s, limit) == SEEN_UNTRACKED);
    CHECK(seen_mark(s, UINT64_MAX) == SEEN_UNTRACKED);
    CHECK(seen_mark(s, limit - 1) == SEEN_FIRST);
    CHECK_EQ_INT(seen_count(s), 1);
    seen_free(s);
    free(s);
}

/* Two threads mark the same range, one upwards and one downwards, so they meet
 * in the middle and race for every chunk's first allocation: every number must
 * be FIRST for exactly one of them. */
#define RACE_N (3 * SEEN_CHUNK_BITS / 2)
struct racer {
    struct seen *s;
    int down;
    uint64_t first, again;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    for (uint64_t i = 0; i < RACE_N; i++) {
        uint64_t seq = r->down ? RACE_N - 1 - i : i;
        if (seen_mark(r->s, seq) == SEEN_FIRST)
            r->first++;
        else
            r->again++;
    }
    return NULL;
}

static void test_two_threads_each_number_new_once(void)
{
    struct seen *s = calloc(1, sizeof(*s));
    CHECK(s != NULL);
    struct racer a = {.s = s, .down = 0}, b = {.s = s, .down = 1};
    pthread_t ta, tb;
    CHECK(pthread_create(&ta, NULL, race, &a) == 0);
    CHECK(pthread_create(&tb, NULL, race, &b) == 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    CHECK_EQ_INT(a.first + b.first, RACE_N);
    CHECK_EQ_INT(a.again + b.again, RACE_N);
    CHECK_EQ_INT(seen_count(s), RACE_N);
    seen_free(s);
    free(s);
}

int main(void)
{
    RUN(test_first_then_again);
    RUN(test_beyond_the_range_is_untracked);
    RUN(test_two_threads_each_number_new_once);
    return check_summary();
}

/* Unit tests for core/outq.c with a fake writer that takes a limited number of
 * bytes per call, checking the bytes come out whole and in order and that
 * references are released exactly once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/error.h"
#include "core/outq.h"

struct sink {
    uint8_t buf[1 << 20];
    size_t len;
    size_t per_call; /* bytes accepted per call; 0 = EAGAIN */
    int calls;
};

static ssize_t sink_writev(void *ctx, const struct iovec *iov, int n)
{
    struct sink *s = ctx;
    s->calls++;
    if (s->per_call == 0) {
        errno = EAGAIN;
        return -1;
    }
    size_t left = s->per_call, done = 0;
    for (int i = 0; i < n && left; i++) {
        size_t k = iov[i].iov_len < left ? iov[i].iov_len : left;
        memcpy(s->buf + s->len, iov[i].iov_base, k);
        s->len += k;
        done += k;
        left -= k;
    }
    return (ssize_t)done;
}

static int released;
static void release(void *owner)
{
    released++;
    free(owner);
}

static void test_order_with_partial_writes(void)
{
    static struct sink s;
    struct sl_outq q = {0};
    uint8_t expect[40000];
    size_t elen = 0;
    released = 0;
    for (int i = 0; i < 200; i++) {
        uint8_t small[17];
        memset(small, i, sizeof(small));
        CHECK_EQ_INT(sl_outq_append(&q, small, sizeof(small)), 0);
        memcpy(expect + elen, small, sizeof(small));
        elen += sizeof(small);
        if (i % 50 == 0) {
            uint8_t *big = malloc(3000);
            memset(big, 0xA0 + i / 50, 3000);
            memcpy(expect + elen, big, 3000);
            elen += 3000;
            CHECK_EQ_INT(sl_outq_append_ref(&q, big, 3000, release, big), 0);
        }
    }
    CHECK_EQ_INT(q.bytes, elen);
    s.len = 0;
    s.per_call = 0;
    CHECK_EQ_INT(sl_outq_flush(&q, sink_writev, &s), SL_AGAIN);
    s.per_call = 333; /* odd size: splits segments mid-way */
    int rc;
    int rounds = 0;
    while ((rc = sl_outq_flush(&q, sink_writev, &s)) == SL_AGAIN && rounds++ < 1000)
        ;
    CHECK_EQ_INT(rc, SL_OK);
    CHECK_EQ_INT(s.len, elen);
    CHECK_MEM(s.buf, expect, elen);
    CHECK_EQ_INT(q.bytes, 0);
    CHECK(q.head == NULL && q.tail == NULL);
    CHECK_EQ_INT(released, 4);
}

static void test_reserve_commit_and_clear(void)
{
    struct sl_outq q = {0};
    released = 0;
    uint8_t *p = sl_outq_reserve(&q, 5);
    memcpy(p, "hello", 5);
    sl_outq_commit(&q, 5);
    p = sl_outq_reserve(&q, 100000); /* larger than a segment */
    CHECK(p != NULL);
    memset(p, 'x', 100000);
    sl_outq_commit(&q, 100000);
    char *owner = malloc(8);
    sl_outq_append_ref(&q, owner, 8, release, owner);
    CHECK_EQ_INT(q.bytes, 100013);
    sl_outq_clear(&q);
    CHECK_EQ_INT(q.bytes, 0);
    CHECK_EQ_INT(released, 1);
}

static ssize_t fail_writev(void *ctx, const struct iovec *iov, int n)
{
    errno = EPIPE;
    return -1;
}

static void test_write_error(void)
{
    struct sl_outq q = {0};
    sl_outq_append(&q, "x", 1);
    CHECK_EQ_INT(sl_outq_flush(&q, fail_writev, NULL), SL_EIO);
    sl_outq_clear(&q);
}

int main(void)
{
    RUN(test_order_with_partial_writes);
    RUN(test_reserve_commit_and_clear);
    RUN(test_write_error);
    sl_outq_cache_drain();
    return check_summary();
}

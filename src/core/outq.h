/*
 * outq.h - a connection's pending output: a chain of segments written with one
 * writev per flush.
 *
 *   head -> [inline bytes: headers, acks, small payloads...] -> [ref: big payload]
 *        -> [inline ...] -> tail
 *
 * Small pieces are copied into inline segments (a copy of a few dozen bytes is
 * cheaper than an iovec and a reference); large payloads are referenced with a
 * release callback (the broker passes the shared message and its unref), so a
 * fan-out to many subscribers shares one copy of the payload.
 * An empty queue holds no memory: idle connections cost nothing here.
 */
#ifndef SL_CORE_OUTQ_H
#define SL_CORE_OUTQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Payloads at least this large are referenced instead of copied. */
#define SL_OUTQ_REF_MIN 2048u
/* Default size of an inline segment. */
#define SL_OUTQ_SEG_SIZE 16384u

struct sl_outseg;

struct sl_outq {
    struct sl_outseg *head, *tail;
    size_t bytes; /* not yet written */
};

/* Copies n bytes. SL_OK or SL_ENOMEM. */
int sl_outq_append(struct sl_outq *q, const void *p, size_t n);

/* Returns room for n bytes at the tail (valid until the next call on q); the caller
 * writes them and then calls sl_outq_commit(q, n). NULL on allocation failure. */
uint8_t *sl_outq_reserve(struct sl_outq *q, size_t n);
void sl_outq_commit(struct sl_outq *q, size_t n);

/* Queues a reference to p[0..n). release(owner) runs once the bytes are written
 * or the queue is cleared; on SL_ENOMEM it has already run. */
int sl_outq_append_ref(struct sl_outq *q, const void *p, size_t n, void (*release)(void *),
                       void *owner);

/* Writes as much as the writer takes. writer returns bytes written or -1 with
 * errno. Returns SL_OK when the queue is empty, SL_AGAIN when the writer would
 * block, SL_EIO on error. */
typedef ssize_t (*sl_writev_fn)(void *ctx, const struct iovec *iov, int iovcnt);
int sl_outq_flush(struct sl_outq *q, sl_writev_fn writer, void *ctx);

/* Drops everything (releasing references). */
void sl_outq_clear(struct sl_outq *q);

/* Frees the calling thread's cache of spare segments (up to 64 x 16 KiB per
 * thread, kept to avoid allocator churn). Call before a thread that used output
 * queues exits, and at process end. */
void sl_outq_cache_drain(void);

#endif

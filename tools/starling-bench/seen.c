/* seen.c - a bit per sequence number, shared by the members of a group (seen.h). */
#include "seen.h"

#include <stdlib.h>

enum seen_mark seen_mark(struct seen *s, uint64_t seq)
{
    uint64_t ci = seq / SEEN_CHUNK_BITS;
    if (ci >= SEEN_CHUNKS) return SEEN_UNTRACKED;
    uint64_t *chunk = atomic_load_explicit(&s->chunk[ci], memory_order_acquire);
    if (!chunk) {
        uint64_t *fresh = calloc(SEEN_CHUNK_BITS / 64, sizeof(uint64_t));
        if (!fresh) return SEEN_UNTRACKED;
        uint64_t *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&s->chunk[ci], &expected, fresh,
                                                    memory_order_acq_rel, memory_order_acquire)) {
            chunk = fresh;
        } else {
            free(fresh); /* another member's thread got there first */
            chunk = expected;
        }
    }
    uint64_t off = seq % SEEN_CHUNK_BITS;
    uint64_t bit = 1ull << (off % 64);
    _Atomic uint64_t *word = (_Atomic uint64_t *)&chunk[off / 64];
    uint64_t old = atomic_fetch_or_explicit(word, bit, memory_order_relaxed);
    return (old & bit) ? SEEN_AGAIN : SEEN_FIRST;
}

uint64_t seen_count(const struct seen *s)
{
    uint64_t n = 0;
    for (uint32_t ci = 0; ci < SEEN_CHUNKS; ci++) {
        const uint64_t *chunk = atomic_load_explicit(&s->chunk[ci], memory_order_acquire);
        for (uint64_t i = 0; chunk && i < SEEN_CHUNK_BITS / 64; i++)
            n += (uint64_t)__builtin_popcountll(chunk[i]);
    }
    return n;
}

void seen_free(struct seen *s)
{
    for (uint32_t ci = 0; ci < SEEN_CHUNKS; ci++) {
        free(atomic_load_explicit(&s->chunk[ci], memory_order_relaxed));
        atomic_store_explicit(&s->chunk[ci], NULL, memory_order_relaxed);
    }
}

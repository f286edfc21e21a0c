/*
 * seen.h - the sequence numbers of one publisher that a shared-subscription group
 * has received: one bit per sequence number, set by several loop threads at once.
 *
 * The members of a group ($share/GROUP/FILTER) are dealt over the loop threads,
 * and the broker hands each message to one member. A member can fall far behind
 * another (its socket buffer, its queue in the broker), so a late message may
 * arrive thousands of sequence numbers after a later one reached a sibling. The
 * sliding window that a plain subscriber uses (struct pair) would count it as a
 * duplicate; a bit per sequence number cannot be fooled that way, and one atomic
 * fetch-or both records a delivery and says whether it was the first.
 *
 * Bits live in chunks of SEEN_CHUNK_BITS, allocated zeroed on first use and
 * published with a compare-and-swap (the loser frees its copy), so memory grows
 * with the messages actually published: 1 bit per message and group.
 */
#ifndef SL_BENCH_SEEN_H
#define SL_BENCH_SEEN_H

#include <stdatomic.h>
#include <stdint.h>

#define SEEN_CHUNK_BITS (1ull << 22) /* 512 KiB of bits */
#define SEEN_CHUNKS     1024         /* 2^32 sequence numbers per publisher */

struct seen {
    _Atomic(uint64_t *) chunk[SEEN_CHUNKS];
};

enum seen_mark {
    SEEN_FIRST,    /* not seen before: now recorded */
    SEEN_AGAIN,    /* already recorded: a duplicate */
    SEEN_UNTRACKED /* beyond 2^32, or no memory for its chunk: not recorded */
};

/* Records seq; safe to call from any thread. */
enum seen_mark seen_mark(struct seen *s, uint64_t seq);
/* How many sequence numbers are recorded (after the writers have stopped). */
uint64_t seen_count(const struct seen *s);
/* Frees the chunks, not s itself. */
void seen_free(struct seen *s);

#endif

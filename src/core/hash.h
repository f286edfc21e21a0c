/*
 * hash.h - the string hash for in-memory tables and worker selection.
 *
 * FNV-1a over the bytes, then murmur3's 32-bit finalizer. The finalizer matters:
 * raw FNV-1a low bits depend only on the low bits of each byte (with 2 workers
 * a choice by the low bit would be the parity of the id's bytes, and "node-aa",
 * "node-bb", ... would all land on one worker).
 *
 * Tables index with the low bits (a mask); the worker is chosen from the high
 * bits (sl_hash_pick). Were it hash % N, a worker's own table would only ever
 * see ids whose low bits are its index: with 16 workers, one bucket in 16 used.
 */
#ifndef SL_CORE_HASH_H
#define SL_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t sl_hash(const uint8_t *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 16777619u;
    }
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

/* One of n (n >= 1) for hash h, from its high bits (multiply-shift), so the
 * choice is independent of the low bits that tables index with. */
static inline uint32_t sl_hash_pick(uint32_t h, uint32_t n)
{
    return (uint32_t)(((uint64_t)h * n) >> 32);
}

#endif

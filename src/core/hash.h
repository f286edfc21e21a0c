/*
 * hash.h - the string hash for in-memory tables and worker selection.
 *
 * FNV-1a over the bytes, then murmur3's 32-bit finalizer. The finalizer matters:
 * tables index with the low bits (mask) and the worker is hash % N, and raw FNV-1a
 * low bits depend only on the low bits of each byte (with 2 workers the choice
 * would be the parity of the id's bytes, and "node-aa", "node-bb", ... would all
 * land on one worker).
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

#endif

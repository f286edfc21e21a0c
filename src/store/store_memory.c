/*
 * store_memory.c - the memory-only engine (persistence false): state lives in the
 * broker's own structures and nothing is written anywhere, so every ticket is 0
 * and every commit reports "all durable".
 */
#include <stdint.h>
#include <stdlib.h>

#include "store/store.h"

static uint64_t mem_ticket(struct sl_store *st, int worker)
{
    return 0;
}

static uint64_t mem_commit(struct sl_store *st, int worker)
{
    return UINT64_MAX;
}

static void mem_close(struct sl_store *st)
{
    free(st);
}

static const struct sl_store_ops memory_ops = {
    .name = "memory",
    .ticket = mem_ticket,
    .commit = mem_commit,
    .close = mem_close,
};

struct sl_store *sl_store_memory_open(void)
{
    struct sl_store *st = calloc(1, sizeof(*st));
    if (st) st->ops = &memory_ops;
    return st;
}

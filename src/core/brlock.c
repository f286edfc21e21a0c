/* brlock.c - see brlock.h. */
#include "core/brlock.h"

#include <stdlib.h>

#include "core/error.h"
#include "core/rwlock.h"

static _Thread_local unsigned thread_slot;

int sl_brlock_init(struct sl_brlock *b, unsigned n)
{
    if (n == 0) n = 1;
    b->slots = aligned_alloc(_Alignof(struct sl_brlock_slot), n * sizeof(*b->slots));
    b->n = 0;
    if (!b->slots) return SL_ENOMEM;
    for (; b->n < n; b->n++) {
        if (sl_rwlock_init(&b->slots[b->n].lock) != 0) {
            sl_brlock_destroy(b);
            return SL_ENOMEM;
        }
    }
    return SL_OK;
}

void sl_brlock_destroy(struct sl_brlock *b)
{
    for (unsigned i = 0; i < b->n; i++)
        pthread_rwlock_destroy(&b->slots[i].lock);
    free(b->slots);
    b->slots = NULL;
    b->n = 0;
}

void sl_brlock_thread_slot(unsigned i)
{
    thread_slot = i;
}

unsigned sl_brlock_rdlock(struct sl_brlock *b)
{
    unsigned s = thread_slot % b->n;
    pthread_rwlock_rdlock(&b->slots[s].lock);
    return s;
}

void sl_brlock_rdunlock(struct sl_brlock *b, unsigned slot)
{
    pthread_rwlock_unlock(&b->slots[slot].lock);
}

void sl_brlock_wrlock(struct sl_brlock *b)
{
    for (unsigned i = 0; i < b->n; i++)
        pthread_rwlock_wrlock(&b->slots[i].lock);
}

void sl_brlock_wrunlock(struct sl_brlock *b)
{
    for (unsigned i = b->n; i-- > 0;)
        pthread_rwlock_unlock(&b->slots[i].lock);
}

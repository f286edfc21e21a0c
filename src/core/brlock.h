/*
 * brlock.h - a read-write lock whose readers on different threads share no
 * cache line: one read-write lock per reader slot, and writers take them all.
 *
 * Every PUBLISH matches the topic tree under its read lock. With one
 * pthread_rwlock, each read lock and unlock is an atomic write to the same
 * line, which bounces between the cores of the workers publishing: with 50
 * publishers on two workers that was a tenth of the broker's CPU (perf, QoS 0
 * fan-in), and it grows with the cores. Here each worker reads through its own
 * slot (a line it alone writes, unless a writer comes), and SUBSCRIBE or
 * UNSUBSCRIBE, which are rare beside publishes, lock every slot in order.
 *
 * Slots are writer-preferring (core/rwlock.h), so a writer waiting on one slot
 * holds back new readers there; writers take slots in index order, so two
 * writers cannot deadlock. A thread reads through slot sl_brlock_thread_slot()
 * chose (modulo the count; 0 by default), and a read lock must not be taken
 * again by a thread that holds it, as with the single lock it replaces.
 */
#ifndef SL_CORE_BRLOCK_H
#define SL_CORE_BRLOCK_H

#include <pthread.h>

struct sl_brlock_slot {
    _Alignas(64) pthread_rwlock_t lock;
};

struct sl_brlock {
    unsigned n;
    struct sl_brlock_slot *slots;
};

/* n reader slots (at least 1). SL_OK or SL_ENOMEM. */
int sl_brlock_init(struct sl_brlock *b, unsigned n);
void sl_brlock_destroy(struct sl_brlock *b);

/* This thread reads through slot i (modulo each lock's count) from now on. */
void sl_brlock_thread_slot(unsigned i);

/* Returns the slot to hand to sl_brlock_rdunlock. */
unsigned sl_brlock_rdlock(struct sl_brlock *b);
void sl_brlock_rdunlock(struct sl_brlock *b, unsigned slot);
void sl_brlock_wrlock(struct sl_brlock *b);
void sl_brlock_wrunlock(struct sl_brlock *b);

#endif

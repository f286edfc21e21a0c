/*
 * rwlock.h - read-write lock setup shared by the broker's read-mostly structures.
 *
 * glibc's default rwlock prefers readers: with publishes matching on every worker
 * all the time, a SUBSCRIBE (writer) could wait indefinitely. Writer preference
 * bounds that wait; readers still run concurrently between writes.
 */
#ifndef SL_CORE_RWLOCK_H
#define SL_CORE_RWLOCK_H

#include <pthread.h>

static inline int sl_rwlock_init(pthread_rwlock_t *l)
{
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(l, &a);
    pthread_rwlockattr_destroy(&a);
    return rc;
}

#endif

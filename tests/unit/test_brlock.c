/* test_brlock.c - core/brlock.h: readers in different slots do not exclude
 * each other, a writer excludes readers in every slot, and under churn a
 * reader never sees a half-made write. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "check.h"
#include "core/brlock.h"
#include "core/error.h"

static struct sl_brlock lock;
static atomic_int stage;

static void nap(void)
{
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

static void *reader_slot1(void *arg)
{
    (void)arg;
    sl_brlock_thread_slot(1);
    unsigned s = sl_brlock_rdlock(&lock);
    atomic_store(&stage, 1); /* got it while slot 0 is read-held */
    sl_brlock_rdunlock(&lock, s);
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    sl_brlock_wrlock(&lock);
    atomic_store(&stage, 2);
    sl_brlock_wrunlock(&lock);
    return NULL;
}

static void test_slots_and_writer(void)
{
    CHECK_EQ_INT(sl_brlock_init(&lock, 2), SL_OK);
    sl_brlock_thread_slot(0);
    unsigned s0 = sl_brlock_rdlock(&lock);
    CHECK_EQ_INT(s0, 0);

    pthread_t r, w;
    CHECK(pthread_create(&r, NULL, reader_slot1, NULL) == 0);
    pthread_join(r, NULL);
    CHECK_EQ_INT(atomic_load(&stage), 1);

    CHECK(pthread_create(&w, NULL, writer, NULL) == 0);
    nap();
    CHECK_EQ_INT(atomic_load(&stage), 1); /* the writer waits for slot 0 */
    sl_brlock_rdunlock(&lock, s0);
    pthread_join(w, NULL);
    CHECK_EQ_INT(atomic_load(&stage), 2);
    sl_brlock_destroy(&lock);
}

/* A writer keeps x == y only outside its critical section; readers in three
 * slots (more threads than slots: two share one) must always see them equal. */
static long x, y;
static atomic_int stop;
static atomic_long torn;

static void *churn_reader(void *arg)
{
    sl_brlock_thread_slot((unsigned)(long)arg);
    while (!atomic_load(&stop)) {
        unsigned s = sl_brlock_rdlock(&lock);
        if (x != y) atomic_fetch_add(&torn, 1);
        sl_brlock_rdunlock(&lock, s);
    }
    return NULL;
}

static void test_no_torn_reads(void)
{
    CHECK_EQ_INT(sl_brlock_init(&lock, 3), SL_OK);
    pthread_t r[4];
    for (long i = 0; i < 4; i++)
        CHECK(pthread_create(&r[i], NULL, churn_reader, (void *)i) == 0);
    for (int i = 0; i < 20000; i++) {
        sl_brlock_wrlock(&lock);
        x++;
        y++;
        sl_brlock_wrunlock(&lock);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < 4; i++)
        pthread_join(r[i], NULL);
    CHECK_EQ_INT(atomic_load(&torn), 0);
    CHECK_EQ_INT(x, 20000);
    sl_brlock_destroy(&lock);
}

int main(void)
{
    RUN(test_slots_and_writer);
    RUN(test_no_torn_reads);
    return check_summary();
}

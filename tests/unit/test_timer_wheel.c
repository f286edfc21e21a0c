/* Unit tests for core/timer_wheel.c. */
#include <stdlib.h>

#include "check.h"
#include "core/timer_wheel.h"

struct probe {
    struct sl_timer t;
    int fired;
    uint64_t at;
};

static void on_fire(struct sl_timer *t, uint64_t now)
{
    struct probe *p = (struct probe *)t;
    p->fired++;
    p->at = now;
}

static void test_fires_at_or_after_expiry(void)
{
    struct sl_wheel w;
    sl_wheel_init(&w, 1000, 100);
    struct probe p = {.t.fire = on_fire};
    sl_wheel_add(&w, &p.t, 1250);
    CHECK_EQ_INT(w.count, 1);
    CHECK_EQ_INT(sl_wheel_advance(&w, 1200), 0);
    CHECK_EQ_INT(p.fired, 0);
    CHECK_EQ_INT(sl_wheel_advance(&w, 1299), 0); /* rounded up to tick 13 = 1300 */
    CHECK_EQ_INT(sl_wheel_advance(&w, 1300), 1);
    CHECK_EQ_INT(p.fired, 1);
    CHECK(p.at >= 1250);
    CHECK(!p.t.armed);
    CHECK_EQ_INT(w.count, 0);
}

static void test_past_expiry_fires_next_tick(void)
{
    struct sl_wheel w;
    sl_wheel_init(&w, 5000, 100);
    struct probe p = {.t.fire = on_fire};
    sl_wheel_add(&w, &p.t, 10); /* already past */
    CHECK_EQ_INT(sl_wheel_advance(&w, 5099), 0);
    CHECK_EQ_INT(sl_wheel_advance(&w, 5100), 1);
}

static void test_delete_and_rearm(void)
{
    struct sl_wheel w;
    sl_wheel_init(&w, 0, 10);
    struct probe a = {.t.fire = on_fire}, b = {.t.fire = on_fire};
    sl_wheel_add(&w, &a.t, 50);
    sl_wheel_add(&w, &b.t, 50);
    sl_wheel_del(&w, &a.t);
    sl_wheel_del(&w, &a.t);      /* harmless twice */
    sl_wheel_add(&w, &b.t, 200); /* re-arm moves it */
    CHECK_EQ_INT(w.count, 1);
    CHECK_EQ_INT(sl_wheel_advance(&w, 100), 0);
    CHECK_EQ_INT(sl_wheel_advance(&w, 200), 1);
    CHECK_EQ_INT(a.fired, 0);
    CHECK_EQ_INT(b.fired, 1);
}

static void test_beyond_one_revolution(void)
{
    struct sl_wheel w;
    sl_wheel_init(&w, 0, 10);
    struct probe p = {.t.fire = on_fire};
    uint64_t far = (uint64_t)SL_WHEEL_SLOTS * 10 * 3 + 55; /* three turns and a bit */
    sl_wheel_add(&w, &p.t, far);
    for (uint64_t now = 10; now < far; now += 10)
        sl_wheel_advance(&w, now);
    CHECK_EQ_INT(p.fired, 0);
    sl_wheel_advance(&w, far + 10);
    CHECK_EQ_INT(p.fired, 1);
}

static void test_long_stall_fires_everything_due(void)
{
    struct sl_wheel w;
    sl_wheel_init(&w, 0, 10);
    enum { N = 2000 };
    struct probe *p = calloc(N, sizeof(*p));
    for (int i = 0; i < N; i++) {
        p[i].t.fire = on_fire;
        sl_wheel_add(&w, &p[i].t, (uint64_t)(i + 1) * 7);
    }
    /* Jump far past all of them at once (more than one revolution). */
    size_t fired = sl_wheel_advance(&w, 1000000);
    CHECK_EQ_INT(fired, N);
    int all = 1;
    for (int i = 0; i < N; i++)
        all &= p[i].fired == 1;
    CHECK(all);
    CHECK_EQ_INT(w.count, 0);
    free(p);
}

struct rearm {
    struct sl_timer t;
    struct sl_wheel *w;
    int fired;
};

static void on_rearm(struct sl_timer *t, uint64_t now)
{
    struct rearm *r = (struct rearm *)t;
    if (++r->fired < 3) sl_wheel_add(r->w, t, now + 30);
}

static void test_callback_rearms(void)
{
    struct sl_wheel w;
    sl_wheel_init(&w, 0, 10);
    struct rearm r = {.t.fire = on_rearm, .w = &w};
    sl_wheel_add(&w, &r.t, 30);
    for (uint64_t now = 10; now <= 200; now += 10)
        sl_wheel_advance(&w, now);
    CHECK_EQ_INT(r.fired, 3);
    CHECK_EQ_INT(w.count, 0);
}

static void test_timeout_hint(void)
{
    struct sl_wheel w;
    sl_wheel_init(&w, 1000, 100);
    CHECK_EQ_INT(sl_wheel_timeout_ms(&w, 1000), -1);
    struct probe p = {.t.fire = on_fire};
    sl_wheel_add(&w, &p.t, 5000);
    int t = sl_wheel_timeout_ms(&w, 1030);
    CHECK(t >= 0 && t <= 100);
}

int main(void)
{
    RUN(test_fires_at_or_after_expiry);
    RUN(test_past_expiry_fires_next_tick);
    RUN(test_delete_and_rearm);
    RUN(test_beyond_one_revolution);
    RUN(test_long_stall_fires_everything_due);
    RUN(test_callback_rearms);
    RUN(test_timeout_hint);
    return check_summary();
}

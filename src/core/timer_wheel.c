/* timer_wheel.c - see timer_wheel.h for the structure and its invariants. */
#include "core/timer_wheel.h"

#include <string.h>

#define SLOT_MASK (SL_WHEEL_SLOTS - 1u)

void sl_wheel_init(struct sl_wheel *w, uint64_t now_ms, uint32_t tick_ms)
{
    memset(w, 0, sizeof(*w));
    w->tick_ms = tick_ms ? tick_ms : 1;
    w->tick = now_ms / w->tick_ms;
}

static void unlink_timer(struct sl_wheel *w, struct sl_timer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        w->slots[t->expires_tick & SLOT_MASK] = t->next;
    if (t->next) t->next->prev = t->prev;
    t->next = t->prev = NULL;
    t->armed = false;
    w->count--;
}

void sl_wheel_add(struct sl_wheel *w, struct sl_timer *t, uint64_t expires_ms)
{
    if (t->armed) unlink_timer(w, t);
    /* Round up, and never into a tick already processed: such a timer would wait
     * a whole revolution. */
    uint64_t tick = (expires_ms + w->tick_ms - 1) / w->tick_ms;
    if (tick <= w->tick) tick = w->tick + 1;
    t->expires_tick = tick;
    struct sl_timer **head = &w->slots[tick & SLOT_MASK];
    t->prev = NULL;
    t->next = *head;
    if (*head) (*head)->prev = t;
    *head = t;
    t->armed = true;
    w->count++;
}

void sl_wheel_del(struct sl_wheel *w, struct sl_timer *t)
{
    if (t->armed) unlink_timer(w, t);
}

size_t sl_wheel_advance(struct sl_wheel *w, uint64_t now_ms)
{
    uint64_t target = now_ms / w->tick_ms;
    size_t fired = 0;
    if (target <= w->tick) return 0;
    /* After a long stall, one pass over every slot is enough: each timer compares
     * its own absolute tick with the target. */
    uint64_t steps = target - w->tick;
    if (steps > SL_WHEEL_SLOTS) steps = SL_WHEEL_SLOTS;
    for (uint64_t i = 1; i <= steps && w->count > 0; i++) {
        uint64_t slot = (target - steps + i) & SLOT_MASK;
        struct sl_timer *t = w->slots[slot];
        while (t) {
            struct sl_timer *next = t->next;
            if (t->expires_tick <= target) {
                unlink_timer(w, t);
                fired++;
                /* The callback may re-arm t (into another slot, or this one with a
                 * later tick: then it sits before 'next' and is not revisited) or
                 * free it; 'next' was read before the call. It must not free
                 * other timers of this slot; the broker never does. */
                t->fire(t, now_ms);
            }
            t = next;
        }
    }
    w->tick = target;
    return fired;
}

int sl_wheel_timeout_ms(const struct sl_wheel *w, uint64_t now_ms)
{
    if (w->count == 0) return -1;
    uint64_t next_ms = (w->tick + 1) * w->tick_ms;
    return next_ms > now_ms ? (int)(next_ms - now_ms) : 0;
}

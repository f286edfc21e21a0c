/*
 * timer_wheel.h - a hashed timing wheel (Varghese & Lauck), one per worker.
 *
 * Timers are intrusive (embedded in their owner) so arming one never allocates.
 * Time is in milliseconds from any monotonic origin; the wheel rounds expiries up
 * to its tick (100 ms in the broker: keepalive and deadlines are whole seconds).
 *
 *   slots[expiry_tick & mask] -> doubly linked list of timers
 *
 * A timer further away than one revolution stays in its slot until the wheel has
 * gone round enough times (each timer keeps its absolute expiry tick). Add, delete
 * and re-arm are O(1); advancing costs O(ticks passed + timers in those slots).
 */
#ifndef SL_CORE_TIMER_WHEEL_H
#define SL_CORE_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/container_of.h"

#define SL_WHEEL_SLOTS 512u

struct sl_timer {
    struct sl_timer *next, *prev; /* NULL prev and next: not armed */
    uint64_t expires_tick;
    bool armed;
    void (*fire)(struct sl_timer *t, uint64_t now_ms); /* set by the owner */
};

/* The owner's struct, from its embedded timer t (a `fire` callback's argument). */
#define sl_timer_owner(t, type, member) sl_container_of(t, type, member)

struct sl_wheel {
    struct sl_timer *slots[SL_WHEEL_SLOTS];
    uint64_t tick;    /* last tick processed */
    uint32_t tick_ms; /* length of one tick */
    size_t count;     /* armed timers */
};

void sl_wheel_init(struct sl_wheel *w, uint64_t now_ms, uint32_t tick_ms);

/* Arms (or re-arms) t to fire at or after expires_ms, not before. */
void sl_wheel_add(struct sl_wheel *w, struct sl_timer *t, uint64_t expires_ms);

/* Disarms t; harmless when t is not armed. */
void sl_wheel_del(struct sl_wheel *w, struct sl_timer *t);

/* Fires, in no particular order within a tick, every timer whose expiry has been
 * reached by now_ms. A timer is disarmed before its callback runs, so the
 * callback may re-arm it or free its owner. Returns the number fired. */
size_t sl_wheel_advance(struct sl_wheel *w, uint64_t now_ms);

/* Milliseconds until the next tick boundary when timers are armed, else -1:
 * a suitable epoll_wait timeout. */
int sl_wheel_timeout_ms(const struct sl_wheel *w, uint64_t now_ms);

#endif

/*
 * subids.h - the MQTT 5 Subscription Identifiers one delivery carries: those of
 * every subscription of the receiving session that matched (5.0 §3.3.4).
 *
 * Almost every delivery has none or one, so one lives inline and only more
 * allocate. The holder owns the array; moving a struct subids moves ownership.
 */
#ifndef SL_BROKER_SUBIDS_H
#define SL_BROKER_SUBIDS_H

#include <stdint.h>
#include <stdlib.h>

#include "core/error.h"

struct subids {
    uint32_t n;
    union {
        uint32_t one;   /* n == 1 */
        uint32_t *many; /* n >= 2 */
    } u;
};

static inline uint32_t subids_get(const struct subids *x, uint32_t i)
{
    return x->n == 1 ? x->u.one : x->u.many[i];
}

static inline void subids_free(struct subids *x)
{
    if (x->n >= 2) free(x->u.many);
    x->n = 0;
}

/* Adds id unless already there. SL_OK or SL_ENOMEM (x unchanged). */
static inline int subids_add(struct subids *x, uint32_t id)
{
    for (uint32_t i = 0; i < x->n; i++)
        if (subids_get(x, i) == id) return SL_OK;
    if (x->n == 0) {
        x->u.one = id;
    } else if (x->n == 1) {
        uint32_t *v = malloc(2 * sizeof(*v));
        if (!v) return SL_ENOMEM;
        v[0] = x->u.one;
        v[1] = id;
        x->u.many = v;
    } else {
        uint32_t *v = realloc(x->u.many, (x->n + 1) * sizeof(*v));
        if (!v) return SL_ENOMEM;
        v[x->n] = id;
        x->u.many = v;
    }
    x->n++;
    return SL_OK;
}

#endif

/*
 * msg.h - one application message, immutable once built and shared by reference
 * between every subscriber, queue and retained slot that holds it.
 *
 *   [struct sl_msg | topic bytes | payload bytes]   one allocation
 *
 * The reference count is atomic because workers hand messages to each other. QoS
 * and retain here are those the publisher sent; each delivery carries its own.
 */
#ifndef SL_BROKER_MSG_H
#define SL_BROKER_MSG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_msg {
    atomic_uint refs;
    uint8_t qos;
    bool retain;
    uint16_t topic_len;
    uint32_t payload_len;
    const uint8_t *topic;   /* -> data */
    const uint8_t *payload; /* -> data + topic_len */
    uint8_t data[];
};

/* New message with one reference (the caller's). NULL on allocation failure. */
struct sl_msg *sl_msg_new(const uint8_t *topic, size_t topic_len, const uint8_t *payload,
                          size_t payload_len, uint8_t qos, bool retain);

static inline struct sl_msg *sl_msg_ref(struct sl_msg *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}

void sl_msg_unref(struct sl_msg *m);

/* void* form of sl_msg_unref, for sl_outq_append_ref. */
void sl_msg_release(void *m);

/* Bytes a message accounts for in queue limits. */
static inline size_t sl_msg_size(const struct sl_msg *m)
{
    return (size_t)m->topic_len + m->payload_len;
}

#endif

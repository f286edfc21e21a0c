/*
 * msg.h - one application message, immutable once built and shared by reference
 * between every subscriber, queue and retained slot that holds it.
 *
 *   [struct sl_msg | topic bytes | property bytes | payload bytes]   one allocation
 *
 * The property bytes are the MQTT 5 properties that travel with the message to 5.0
 * subscribers, encoded as on the wire and in the publisher's order: Payload
 * Format Indicator, Content Type, Response Topic, Correlation Data, User
 * Properties. Message Expiry is kept as an absolute deadline instead (the
 * remaining interval is written per delivery), and Topic Alias and Subscription
 * Identifier are per connection or per subscriber, never stored.
 *
 * The reference count is atomic because workers hand messages to each other; the
 * last reference sends the message home to be freed (msg_home.h). QoS and
 * retain here are those the publisher sent; each delivery carries its own.
 */
#ifndef SL_BROKER_MSG_H
#define SL_BROKER_MSG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mpstack.h"
#include "proto/bytes.h"

struct sl_msg_home;

struct sl_msg {
    atomic_uint refs;
    uint8_t qos;
    bool retain;
    uint16_t topic_len;
    uint32_t payload_len;
    uint32_t props_len;
    uint32_t expiry_interval_s; /* a will's Message Expiry Interval: starts when published */
    uint64_t expiry_ms;         /* worker_clock_ms() deadline; 0: never expires */
    union {
        const uint8_t *topic;            /* -> data, while referenced */
        struct sl_mpstack_node returned; /* after the last unref: msg_home.h */
    };
    struct sl_msg_home *home; /* the worker whose thread allocated it; NULL: none */
    uint8_t data[];
};

/* data + topic_len + props_len */
static inline const uint8_t *sl_msg_payload(const struct sl_msg *m)
{
    return m->data + m->topic_len + m->props_len;
}

/* New message with one reference (the caller's). NULL on allocation failure. */
struct sl_msg *sl_msg_new(const uint8_t *topic, size_t topic_len, const uint8_t *payload,
                          size_t payload_len, uint8_t qos, bool retain);

/* The same for a 5.0 PUBLISH or will: of its (validated) property block, the
 * entries that travel with the message - all but Message Expiry Interval, Topic
 * Alias, Subscription Identifier and Will Delay Interval - are copied in, in
 * order; expiry_ms is the deadline (0: none). */
struct sl_msg *sl_msg_new_props(const uint8_t *topic, size_t topic_len, const uint8_t *payload,
                                size_t payload_len, uint8_t qos, bool retain,
                                struct sl_bytes props_block, uint64_t expiry_ms);

/* The forwarded property bytes, props_len of them. */
static inline const uint8_t *sl_msg_props(const struct sl_msg *m)
{
    return m->data + m->topic_len;
}

/* True once the message's Message Expiry Interval has passed: it is not
 * delivered any more [MQTT-3.3.2-5]. */
static inline bool sl_msg_expired(const struct sl_msg *m, uint64_t now_ms)
{
    return m->expiry_ms && now_ms >= m->expiry_ms;
}

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
    return (size_t)m->topic_len + m->props_len + m->payload_len;
}

#endif

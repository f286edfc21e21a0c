/* msg.c - see msg.h. */
#include "broker/msg.h"

#include <stdlib.h>
#include <string.h>

#include "broker/msg_home.h"
#include "proto/bytes.h"
#include "proto/props.h"

struct sl_msg *sl_msg_new(const uint8_t *topic, size_t topic_len, const uint8_t *payload,
                          size_t payload_len, uint8_t qos, bool retain)
{
    struct sl_bytes none = {NULL, 0};
    return sl_msg_new_props(topic, topic_len, payload, payload_len, qos, retain, none, 0);
}

/* Copies the forwarded entries of block to out (room for block.len). */
static size_t forward_props(struct sl_bytes block, uint8_t *out)
{
    struct sl_props_iter it;
    struct sl_prop v;
    size_t n = 0;
    sl_props_iter_init(&it, block);
    for (;;) {
        const uint8_t *start = it.p;
        if (!sl_props_iter_next(&it, &v)) break;
        if (v.id == SL_PROP_MESSAGE_EXPIRY_INTERVAL || v.id == SL_PROP_TOPIC_ALIAS ||
            v.id == SL_PROP_SUBSCRIPTION_IDENTIFIER || v.id == SL_PROP_WILL_DELAY_INTERVAL)
            continue;
        size_t len = (size_t)(it.p - start);
        memcpy(out + n, start, len);
        n += len;
    }
    return n;
}

struct sl_msg *sl_msg_new_props(const uint8_t *topic, size_t topic_len, const uint8_t *payload,
                                size_t payload_len, uint8_t qos, bool retain,
                                struct sl_bytes props_block, uint64_t expiry_ms)
{
    /* Room for the whole block: what is not forwarded is at most a few bytes,
     * and filtering in place saves a second copy. */
    struct sl_msg *m = malloc(sizeof(*m) + topic_len + props_block.len + payload_len);
    if (!m) return NULL;
    atomic_init(&m->refs, 1);
    m->qos = qos;
    m->retain = retain;
    m->topic_len = (uint16_t)topic_len;
    m->payload_len = (uint32_t)payload_len;
    m->expiry_ms = expiry_ms;
    m->expiry_interval_s = 0;
    if (topic_len) memcpy(m->data, topic, topic_len);
    size_t props_len = props_block.len ? forward_props(props_block, m->data + topic_len) : 0;
    m->props_len = (uint32_t)props_len;
    if (payload_len) memcpy(m->data + topic_len + props_len, payload, payload_len);
    m->topic = m->data;
    m->home = sl_msg_home_self();
    return m;
}

void sl_msg_unref(struct sl_msg *m)
{
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) sl_msg_home_free(m);
}

void sl_msg_release(void *m)
{
    sl_msg_unref(m);
}

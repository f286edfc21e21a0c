/* msg.c - see msg.h. */
#include "broker/msg.h"

#include <stdlib.h>
#include <string.h>

struct sl_msg *sl_msg_new(const uint8_t *topic, size_t topic_len, const uint8_t *payload,
                          size_t payload_len, uint8_t qos, bool retain)
{
    struct sl_msg *m = malloc(sizeof(*m) + topic_len + payload_len);
    if (!m) return NULL;
    atomic_init(&m->refs, 1);
    m->qos = qos;
    m->retain = retain;
    m->topic_len = (uint16_t)topic_len;
    m->payload_len = (uint32_t)payload_len;
    if (topic_len) memcpy(m->data, topic, topic_len);
    if (payload_len) memcpy(m->data + topic_len, payload, payload_len);
    m->topic = m->data;
    m->payload = m->data + topic_len;
    return m;
}

void sl_msg_unref(struct sl_msg *m)
{
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) free(m);
}

void sl_msg_release(void *m)
{
    sl_msg_unref(m);
}

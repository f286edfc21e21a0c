/* send.c - see send.h. */
#include "broker/send.h"

#include <stdlib.h>
#include <string.h>

#include "broker/client.h"
#include "broker/msg.h"
#include "core/error.h"
#include "proto/encode.h"
#include "proto/frame.h"
#include "broker/worker.h"

static void count(struct client *c)
{
    stat_add(&c->w->stats.packets_sent, 1);
}

int send_publish(struct client *c, struct sl_msg *m, uint8_t qos, bool retain, bool dup,
                 uint16_t pid)
{
    count(c);
    size_t props_len = 0; /* MQTT 5 properties arrive with issue 4 */
    uint32_t remaining =
        sl_publish_remaining(c->version, m->topic_len, qos, props_len, m->payload_len);
    bool by_ref = m->payload_len >= SL_OUTQ_REF_MIN;
    size_t head_room = SL_PUBLISH_HEAD_MAX + m->topic_len + 2 + 5;
    size_t room = head_room + (by_ref ? 0 : m->payload_len);
    uint8_t *p = client_reserve(c, room);
    if (!p) return SL_ENOMEM;
    uint8_t *start = p;
    p += sl_encode_publish_head(p, qos, retain, dup, remaining, m->topic_len);
    memcpy(p, m->topic, m->topic_len);
    p += m->topic_len;
    if (qos > 0) p += sl_encode_u16(p, pid);
    if (c->version == SL_MQTT_5) *p++ = 0; /* empty property block */
    if (!by_ref) {
        if (m->payload_len) memcpy(p, m->payload, m->payload_len);
        p += m->payload_len;
    }
    client_commit(c, (size_t)(p - start));
    if (by_ref) return client_send_ref(c, m->payload, m->payload_len, sl_msg_ref(m));
    return SL_OK;
}

int send_connack(struct client *c, bool session_present, uint8_t rc)
{
    count(c);
    uint8_t b[SL_CONNACK311_SIZE];
    sl_encode_connack311(b, session_present, rc);
    return client_send_held(c, b, sizeof(b));
}

void send_connack_refuse(struct client *c, uint8_t rc)
{
    count(c);
    if (c->version == SL_MQTT_5) {
        /* CONNACK, flags 0, reason, empty properties */
        const uint8_t b[5] = {0x20, 0x03, 0x00, rc, 0x00};
        client_send(c, b, sizeof(b));
    } else {
        uint8_t b[SL_CONNACK311_SIZE];
        sl_encode_connack311(b, false, rc);
        client_send(c, b, sizeof(b));
    }
    c->close_after_flush = true;
}

int send_ack(struct client *c, uint8_t type, uint16_t pid)
{
    count(c);
    uint8_t b[SL_ACK311_SIZE];
    sl_encode_ack311(b, type, pid);
    if (type == SL_PT_PUBREL) return client_send(c, b, sizeof(b));
    return client_send_held(c, b, sizeof(b));
}

int send_ack_after(struct client *c, uint8_t type, uint16_t pid, struct session *blocker)
{
    count(c);
    uint8_t b[SL_ACK311_SIZE];
    sl_encode_ack311(b, type, pid);
    return client_send_held_after(c, b, sizeof(b), blocker);
}

int send_suback(struct client *c, uint16_t pid, const uint8_t *codes, size_t n)
{
    count(c);
    size_t size = sl_encode_suback_size(c->version, n);
    uint8_t stackbuf[256];
    uint8_t *b = size <= sizeof(stackbuf) ? stackbuf : malloc(size);
    if (!b) return SL_ENOMEM;
    sl_encode_suback(b, c->version, pid, codes, n);
    int rc = client_send_held(c, b, size);
    if (b != stackbuf) free(b);
    return rc;
}

int send_unsuback(struct client *c, uint16_t pid)
{
    count(c);
    uint8_t b[SL_UNSUBACK311_SIZE];
    sl_encode_unsuback311(b, pid);
    return client_send_held(c, b, sizeof(b));
}

int send_pingresp(struct client *c)
{
    count(c);
    uint8_t b[SL_PINGRESP_SIZE];
    sl_encode_pingresp(b);
    return client_send(c, b, sizeof(b));
}

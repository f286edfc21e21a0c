/* send.c - see send.h. */
#include "broker/send.h"

#include <stdlib.h>
#include <string.h>

#include "broker/client.h"
#include "broker/config.h"
#include "broker/msg.h"
#include "broker/server.h"
#include "broker/session.h"
#include "broker/topic_alias.h"
#include "broker/worker.h"
#include "core/error.h"
#include "proto/encode.h"
#include "proto/frame.h"
#include "proto/props.h"
#include "proto/reason.h"
#include "proto/varint.h"

static void count(struct client *c)
{
    stat_add(&c->w->stats.packets_sent, 1);
}

/* ---- PUBLISH ------------------------------------------------------------ */

/* The per-delivery 5.0 properties written before the message's own: Message
 * Expiry Interval (remaining), Topic Alias; the Subscription Identifiers come
 * after them. Sizes first, so the packet can be checked before anything is
 * written or an alias is given out. */
static size_t subids_size(const struct delivery *d)
{
    size_t n = 0;
    for (uint32_t i = 0; d && i < d->ids.n; i++)
        n += 1 + sl_varint_size(subids_get(&d->ids, i));
    return n;
}

static uint32_t remaining_expiry(const struct sl_msg *m, uint64_t now_ms)
{
    if (m->expiry_ms <= now_ms) return 0;
    return (uint32_t)((m->expiry_ms - now_ms + 999) / 1000);
}

int send_publish(struct client *c, struct sl_msg *m, const struct delivery *d, bool dup,
                 uint16_t pid)
{
    uint8_t qos = d->qos;
    bool v5 = c->version == SL_MQTT_5;
    size_t props_len = 0;
    uint16_t alias = 0;
    size_t topic_len = m->topic_len;
    uint32_t remaining;
    if (!v5) {
        remaining = sl_publish_remaining(c->version, topic_len, qos, 0, m->payload_len);
        if (remaining == UINT32_MAX) return SL_ETOOBIG;
    } else {
        props_len = m->props_len + subids_size(d) + (m->expiry_ms ? 5 : 0);
        /* The worst case (topic and an alias) must fit the client's limit: a
         * message that does not is not sent to it at all [MQTT-3.1.2-25]. */
        remaining = sl_publish_remaining(c->version, topic_len, qos, props_len + 3, m->payload_len);
        if (remaining == UINT32_MAX ||
            (c->max_packet && 1 + sl_varint_size(remaining) + (size_t)remaining > c->max_packet))
            return SL_ETOOBIG;
    }

    /* Room for the worst case (topic, and an alias) before an alias is given
     * out: an alias assigned to a PUBLISH that never goes out would leave the
     * client with aliases it was never told. */
    bool by_ref = m->payload_len >= SL_OUTQ_REF_MIN;
    size_t room =
        SL_PUBLISH_HEAD_MAX + topic_len + 2 + 5 + 3 + props_len + (by_ref ? 0 : m->payload_len);
    uint8_t *p = client_reserve(c, room);
    if (!p) return SL_ENOMEM;
    if (v5 && c->aliases) {
        bool send_topic = true;
        alias = topic_alias_out(c->aliases, m->topic, m->topic_len, &send_topic);
        if (!send_topic) topic_len = 0;
        if (alias) props_len += 3;
    }
    if (v5) remaining = sl_publish_remaining(c->version, topic_len, qos, props_len, m->payload_len);
    count(c);
    uint8_t *start = p;
    p +=
        sl_encode_publish_head(p, qos, m->retain && d->retain, dup, remaining, (uint16_t)topic_len);
    memcpy(p, m->topic, topic_len);
    p += topic_len;
    if (qos > 0) p += sl_encode_u16(p, pid);
    if (v5) {
        p += sl_varint_encode(p, (uint32_t)props_len);
        if (m->expiry_ms) {
            *p++ = SL_PROP_MESSAGE_EXPIRY_INTERVAL;
            uint32_t left = remaining_expiry(m, c->w->now_ms);
            p[0] = (uint8_t)(left >> 24);
            p[1] = (uint8_t)(left >> 16);
            p[2] = (uint8_t)(left >> 8);
            p[3] = (uint8_t)left;
            p += 4;
        }
        if (alias) {
            *p++ = SL_PROP_TOPIC_ALIAS;
            p += sl_encode_u16(p, alias);
        }
        if (m->props_len) memcpy(p, sl_msg_props(m), m->props_len);
        p += m->props_len;
        for (uint32_t i = 0; i < d->ids.n; i++) {
            *p++ = SL_PROP_SUBSCRIPTION_IDENTIFIER;
            p += sl_varint_encode(p, subids_get(&d->ids, i));
        }
    }
    if (!by_ref) {
        if (m->payload_len) memcpy(p, sl_msg_payload(m), m->payload_len);
        p += m->payload_len;
    }
    client_commit(c, (size_t)(p - start));
    if (by_ref) return client_send_ref(c, sl_msg_payload(m), m->payload_len, sl_msg_ref(m));
    return SL_OK;
}

/* ---- 5.0 packets of the common shape --------------------------------------- */

/* Adds a Reason String unless the packet would then pass the client's Maximum
 * Packet Size [MQTT-3.1.2-26]; base is the packet's size without it. */
static void add_reason_string(const struct client *c, struct sl_props *props, const char *why,
                              size_t base)
{
    if (!why || !*why) return;
    size_t len = strlen(why);
    if (len > 1024) len = 1024;
    if (c->max_packet && base + 3 + len + 4 > c->max_packet) return;
    sl_props_set_bytes(props, SL_PROP_REASON_STRING, (const uint8_t *)why, len);
}

/* Where a packet goes: straight into the output, or the held path. */
enum send_mode { DIRECT, HELD };

/* Writes one 5.0 packet into the output or the held path. */
static int emit5(struct client *c, uint8_t first, const uint8_t *head, size_t head_len,
                 const struct sl_props *props, const uint8_t *tail, size_t tail_len,
                 enum send_mode mode, struct session *blocker, bool qos1_in)
{
    size_t size = sl_encode_packet5_size(head_len, props, tail_len);
    uint8_t stackbuf[512];
    uint8_t *b = size <= sizeof(stackbuf) ? stackbuf : malloc(size);
    if (!b) {
        if (blocker) session_unref(blocker);
        return SL_ENOMEM;
    }
    sl_encode_packet5(b, first, head, head_len, props, tail, tail_len);
    int rc;
    if (mode == DIRECT)
        rc = client_send(c, b, size);
    else
        rc = client_send_held_after(c, b, size, blocker, qos1_in);
    if (b != stackbuf) free(b);
    return rc;
}

/* ---- CONNACK ------------------------------------------------------------- */

int send_connack(struct client *c, bool session_present, uint8_t rc, const struct sl_props *props)
{
    count(c);
    if (c->version == SL_MQTT_5) {
        const uint8_t head[2] = {session_present ? 1 : 0, rc};
        struct sl_props empty;
        sl_props_init(&empty);
        return emit5(c, SL_PT_CONNACK << 4, head, 2, props ? props : &empty, NULL, 0, HELD, NULL,
                     false);
    }
    uint8_t b[SL_CONNACK311_SIZE];
    sl_encode_connack311(b, session_present, rc);
    return client_send_held(c, b, sizeof(b));
}

/* The 3.1.1 return code closest to a 5.0 refusal. */
static uint8_t connack311_code(uint8_t rc)
{
    switch (rc) {
    case SL_RC_UNSUPPORTED_PROTOCOL_VERSION:
        return 1;
    case SL_RC_CLIENT_ID_NOT_VALID:
        return 2;
    case SL_RC_BAD_USERNAME_OR_PASSWORD:
        return 4;
    case SL_RC_NOT_AUTHORIZED:
    case SL_RC_BANNED:
    case SL_RC_BAD_AUTHENTICATION_METHOD:
        return 5;
    default:
        return 3; /* server unavailable */
    }
}

void send_connack_refuse(struct client *c, uint8_t rc, const char *why, struct sl_props *props)
{
    count(c);
    if (c->version == SL_MQTT_5) {
        const uint8_t head[2] = {0, rc};
        struct sl_props local;
        if (!props) {
            sl_props_init(&local);
            props = &local;
        }
        add_reason_string(c, props, why, sl_encode_packet5_size(2, props, 0));
        emit5(c, SL_PT_CONNACK << 4, head, 2, props, NULL, 0, DIRECT, NULL, false);
    } else {
        uint8_t b[SL_CONNACK311_SIZE];
        sl_encode_connack311(b, false, connack311_code(rc));
        client_send(c, b, sizeof(b));
    }
    c->close_after_flush = true;
}

/* ---- PUBACK, PUBREC, PUBREL, PUBCOMP ---------------------------------------- */

static int ack(struct client *c, uint8_t type, uint16_t pid, uint8_t reason, enum send_mode mode,
               struct session *blocker)
{
    count(c);
    uint8_t first = (uint8_t)(type << 4 | (type == SL_PT_PUBREL ? 0x02 : 0));
    bool qos1_in = type == SL_PT_PUBACK;
    if (c->version == SL_MQTT_5 && reason != 0) {
        const uint8_t head[3] = {(uint8_t)(pid >> 8), (uint8_t)pid, reason};
        struct sl_props props;
        sl_props_init(&props);
        if (reason >= 0x80 && c->problem_info)
            add_reason_string(c, &props, sl_reason_name_in(type, reason),
                              sl_encode_packet5_size(3, &props, 0));
        /* Reason code and no properties: the property length may be left out. */
        return emit5(c, first, head, 3, props.present ? &props : NULL, NULL, 0, mode, blocker,
                     qos1_in);
    }
    uint8_t b[SL_ACK311_SIZE];
    sl_encode_ack311(b, type, pid); /* 5.0 with reason 0 has the same short form */
    if (mode == DIRECT) return client_send(c, b, sizeof(b));
    return client_send_held_after(c, b, sizeof(b), blocker, qos1_in);
}

int send_ack(struct client *c, uint8_t type, uint16_t pid, uint8_t reason)
{
    return ack(c, type, pid, reason, type == SL_PT_PUBREL ? DIRECT : HELD, NULL);
}

int send_ack_after(struct client *c, uint8_t type, uint16_t pid, uint8_t reason,
                   struct session *blocker)
{
    return ack(c, type, pid, reason, HELD, blocker);
}

/* ---- SUBACK, UNSUBACK ------------------------------------------------------ */

int send_suback(struct client *c, uint16_t pid, const uint8_t *codes, size_t n)
{
    count(c);
    /* sl_encode_suback writes the 5.0 form (empty properties) too. */
    size_t size = sl_encode_suback_size(c->version, n);
    uint8_t stackbuf[256];
    uint8_t *b = size <= sizeof(stackbuf) ? stackbuf : malloc(size);
    if (!b) return SL_ENOMEM;
    sl_encode_suback(b, c->version, pid, codes, n);
    int rc = client_send_held(c, b, size);
    if (b != stackbuf) free(b);
    return rc;
}

int send_unsuback(struct client *c, uint16_t pid, const uint8_t *codes, size_t n)
{
    count(c);
    if (c->version == SL_MQTT_5) {
        const uint8_t head[2] = {(uint8_t)(pid >> 8), (uint8_t)pid};
        struct sl_props props;
        sl_props_init(&props);
        return emit5(c, SL_PT_UNSUBACK << 4, head, 2, &props, codes, n, HELD, NULL, false);
    }
    uint8_t b[SL_UNSUBACK311_SIZE];
    sl_encode_unsuback311(b, pid);
    return client_send_held(c, b, sizeof(b));
}

int send_pingresp(struct client *c)
{
    count(c);
    uint8_t b[SL_PINGRESP_SIZE];
    sl_encode_pingresp(b);
    /* Behind acks still held for durability, in the order the requests came:
     * a PINGREQ sent right after CONNECT must not be answered before the
     * CONNACK, the first packet a client gets [MQTT-3.2.0-1]. */
    if (c->held) return client_send_held(c, b, sizeof(b));
    return client_send(c, b, sizeof(b));
}

/* ---- DISCONNECT, AUTH ------------------------------------------------------- */

int send_disconnect(struct client *c, uint8_t reason, const char *why)
{
    count(c);
    const uint8_t head[1] = {reason};
    struct sl_props props;
    sl_props_init(&props);
    add_reason_string(c, &props, why ? why : sl_reason_name_in(SL_PT_DISCONNECT, reason),
                      sl_encode_packet5_size(1, &props, 0));
    return emit5(c, SL_PT_DISCONNECT << 4, head, 1, &props, NULL, 0, DIRECT, NULL, false);
}

int send_auth(struct client *c, uint8_t reason, const struct sl_props *props)
{
    count(c);
    const uint8_t head[1] = {reason};
    return emit5(c, SL_PT_AUTH << 4, head, 1, props, NULL, 0, DIRECT, NULL, false);
}

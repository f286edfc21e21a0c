/*
 * handle_publish.c - PUBLISH from a client.
 *
 * QoS 0: route. QoS 1: route, then PUBACK [MQTT-4.3.2-2]. QoS 2: the broker
 * takes ownership on the first PUBLISH with a packet id (route it, remember the
 * id), answers PUBREC, and treats repeats of that id as duplicates until PUBREL
 * [MQTT-4.3.3-2] (the spec's "Method B": deliver first, remember the id).
 *
 * 5.0 adds, in this order: the property block (malformed 0x81, protocol error
 * 0x82; a client may not send a Subscription Identifier [MQTT-3.3.4-6]); the
 * topic alias (0x94 past Topic Alias Maximum [MQTT-3.3.2-9], 0x82 for an
 * unknown one [MQTT-3.3.2-12]); Maximum QoS and Retain Available (0x9B, 0x9A
 * [MQTT-3.2.2-11] [MQTT-3.2.2-14]); the Receive Maximum (0x93 [MQTT-3.3.4-8]);
 * the Payload Format Indicator (0x99 in the ack). Acks carry 0x10 when nobody
 * matched.
 *
 * The PUBACK/PUBREC waits while a receiving session is congested
 * (back-pressure, docs/architecture.md).
 */
#include <string.h>

#include "broker/client.h"
#include "broker/config.h"
#include "broker/handlers.h"
#include "broker/msg.h"
#include "broker/route.h"
#include "broker/send.h"
#include "broker/server.h"
#include "broker/session.h"
#include "broker/topic_alias.h"
#include "broker/worker.h"
#include "core/error.h"
#include "core/log.h"
#include "proto/decode.h"
#include "proto/frame.h"
#include "proto/props.h"
#include "proto/reason.h"
#include "proto/utf8.h"

/* The 5.0 checks up to routing. Resolves a topic alias into p->topic. Returns
 * SL_OK, or client_fail()'s error. */
static int check5(struct client *c, struct sl_publish *p, struct sl_props *props)
{
    const struct sl_config *cfg = c->w->srv->cfg;
    uint8_t reason;
    if (sl_props_parse(p->props.ptr, p->props.len, SL_PT_PUBLISH, props, &reason) != SL_OK)
        return client_fail(c, reason);
    if (sl_props_has(props, SL_PROP_SUBSCRIPTION_IDENTIFIER))
        return client_fail(c, SL_RC_PROTOCOL_ERROR); /* [MQTT-3.3.4-6] */
    if (sl_props_has(props, SL_PROP_TOPIC_ALIAS)) {
        uint16_t alias = props->topic_alias;
        if (alias > cfg->max_topic_alias || !c->aliases)
            return client_fail(c, SL_RC_TOPIC_ALIAS_INVALID); /* [MQTT-3.3.2-9] */
        if (p->topic.len) {
            if (topic_alias_in_set(c->aliases, alias, p->topic.ptr, p->topic.len) != SL_OK)
                return SL_ENOMEM;
        } else if (!topic_alias_in_get(c->aliases, alias, &p->topic.ptr, &p->topic.len)) {
            return client_fail(c, SL_RC_PROTOCOL_ERROR); /* [MQTT-3.3.2-12] */
        }
    } else if (p->topic.len == 0) {
        return client_fail(c, SL_RC_PROTOCOL_ERROR); /* no topic and no alias */
    }
    return SL_OK;
}

/* Inbound QoS 1/2 not acknowledged yet, against our Receive Maximum. */
static bool over_receive_maximum(struct client *c)
{
    uint32_t max = c->w->srv->cfg->max_inflight_messages;
    if (max == 0 || max > 65535) max = 65535;
    return (uint32_t)c->qos1_in + c->session->qos2_in_n >= max;
}

int handle_publish(struct client *c, uint8_t flags, const uint8_t *body, size_t len)
{
    const struct sl_config *cfg = c->w->srv->cfg;
    struct sl_publish p;
    int rc = sl_decode_publish(body, len, flags, c->version, &p);
    if (rc != SL_OK) return rc;
    bool v5 = c->version == SL_MQTT_5;
    struct sl_props props; /* read only for 5.0: not even cleared for older clients */
    if (v5 && (rc = check5(c, &p, &props)) != SL_OK) return rc;
    uint32_t expiry_s = v5 ? props.message_expiry_interval : 0;
    if (p.qos > cfg->max_qos) {
        sl_notice("client %s sent QoS %u above max_qos", c->session->id, p.qos);
        return client_fail(c, SL_RC_QOS_NOT_SUPPORTED);
    }
    if (p.retain && !cfg->retain_available) {
        /* MQTT 3.1.1 has no way to refuse a retained message but closing. */
        sl_notice("client %s sent a retained message but retain_available is false",
                  c->session->id);
        return client_fail(c, SL_RC_RETAIN_NOT_SUPPORTED);
    }
    stat_add(&c->w->stats.msgs_received, 1);

    /* $SYS/ belongs to the broker (sys.c): a client's message there is
     * acknowledged as usual but not delivered or retained, as in Mosquitto. */
    bool deliver = !(p.topic.len >= 5 && memcmp(p.topic.ptr, "$SYS/", 5) == 0);
    uint8_t reason = SL_RC_SUCCESS;
    if (v5 && sl_props_has(&props, SL_PROP_PAYLOAD_FORMAT_INDICATOR) &&
        props.payload_format_indicator == 1 && !sl_utf8_valid(p.payload.ptr, p.payload.len)) {
        reason = SL_RC_PAYLOAD_FORMAT_INVALID; /* 5.0 §3.3.2.3.2: the receiver MAY check */
        deliver = false;
    }
    struct session *blocker = NULL;
    if (p.qos == 2) {
        bool dup;
        if (v5 && !session_qos2_in_pending(c->session, p.packet_id) && over_receive_maximum(c))
            return client_fail(c, SL_RC_RECEIVE_MAXIMUM_EXCEEDED);
        rc = session_qos2_in_mark(c->session, p.packet_id, &dup);
        if (rc != SL_OK) return rc;
        deliver = deliver && !dup;
    } else if (p.qos == 1) {
        if (v5 && over_receive_maximum(c)) return client_fail(c, SL_RC_RECEIVE_MAXIMUM_EXCEEDED);
        c->qos1_in++;
    }
    if (deliver) {
        /* A Message Expiry Interval of 0 is treated as none, as Mosquitto does.
         * Before 5.0 p.props is empty. */
        uint64_t expiry = expiry_s ? c->w->now_ms + (uint64_t)expiry_s * 1000 : 0;
        struct sl_msg *m = sl_msg_new_props(p.topic.ptr, p.topic.len, p.payload.ptr, p.payload.len,
                                            p.qos, p.retain, p.props, expiry);
        if (!m) return SL_ENOMEM;
        size_t matched;
        blocker = route_publish(c->w, m, c->session, &matched);
        sl_msg_unref(m);
        if (matched == 0) reason = SL_RC_NO_MATCHING_SUBSCRIBERS;
    }
    /* A congested subscriber holds this ack back: a publisher with an inflight
     * window slows to the subscriber's pace instead of overflowing its queue. */
    if (p.qos == 1) return send_ack_after(c, SL_PT_PUBACK, p.packet_id, reason, blocker);
    if (p.qos == 2) {
        /* A PUBREC of 0x80 or more ends the exchange: no PUBREL follows, and
         * the id is free again (5.0 §4.3.3). */
        if (reason >= 0x80) session_qos2_in_clear(c->session, p.packet_id);
        return send_ack_after(c, SL_PT_PUBREC, p.packet_id, reason, blocker);
    }
    return SL_OK;
}

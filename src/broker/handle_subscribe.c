/*
 * handle_subscribe.c - SUBSCRIBE: add each filter to the session, answer SUBACK
 * with one code per filter in order [MQTT-3.8.4-5] [MQTT-3.9.3-1], then send the
 * retained messages each filter matches, with the retain flag set
 * [MQTT-3.3.1-6] [MQTT-3.3.1-8] - also on a re-subscription [MQTT-3.8.4-3].
 *
 * 5.0: subscription options No Local, Retain As Published and Retain Handling
 * (0 send retained, 1 only for a new subscription, 2 never [MQTT-3.3.1-9..11]),
 * a Subscription Identifier for every filter of the packet, and per-filter
 * reason codes: a bad filter is refused with 0x8F and the others go on.
 * Shared subscriptions ($share/GROUP/FILTER) get no retained messages
 * (5.0 §4.8.2) and may not have No Local [MQTT-3.8.3-4].
 */
#include <stdlib.h>

#include "broker/client.h"
#include "broker/config.h"
#include "broker/handlers.h"
#include "broker/msg.h"
#include "broker/retain.h"
#include "broker/send.h"
#include "broker/server.h"
#include "broker/session.h"
#include "broker/topic_tree.h"
#include "broker/worker.h"
#include "core/error.h"
#include "core/log.h"
#include "proto/decode.h"
#include "proto/frame.h"
#include "proto/props.h"
#include "proto/reason.h"
#include "proto/topic.h"

#define OPT_QOS             0x03
#define OPT_NO_LOCAL        0x04
#define OPT_RETAIN_AS_PUB   0x08
#define OPT_RETAIN_HANDLING 0x30

struct retained_ctx {
    struct session *s;
    uint8_t granted;
    uint32_t subid;
    uint64_t now_ms;
};

static void send_retained(void *arg, struct sl_msg *m)
{
    struct retained_ctx *ctx = arg;
    /* Runs under the retained store's read lock; session_deliver only queues. */
    if (!sl_msg_expired(m, ctx->now_ms)) {
        struct delivery d = {.qos = m->qos < ctx->granted ? m->qos : ctx->granted, .retain = true};
        if (ctx->subid) subids_add(&d.ids, ctx->subid);
        session_deliver(ctx->s, m, &d);
    }
    sl_msg_unref(m);
}

/* One filter: its SUBACK code. *send_retained says whether retained messages
 * follow; SL_EPROTO-style errors come back through *fail. */
static uint8_t subscribe_one(struct client *c, struct sl_bytes f, uint8_t opts, uint32_t subid,
                             bool *retained, int *fail)
{
    const struct sl_config *cfg = c->w->srv->cfg;
    bool v5 = c->version == SL_MQTT_5;
    bool shared;
    *retained = false;
    if (!sl_topic_sub_filter_valid(f.ptr, f.len, &shared)) {
        if (v5) return SL_RC_TOPIC_FILTER_INVALID;
        /* MQTT 3.1.1 has no per-filter refusal for syntax: a protocol
         * violation closes the connection [MQTT-4.7.1-1] [MQTT-4.8.0-1]. */
        sl_notice("client %s: invalid topic filter in SUBSCRIBE", c->session->id);
        *fail = SL_EMALFORMED;
        return SL_RC_UNSPECIFIED_ERROR;
    }
    if (shared && (opts & OPT_NO_LOCAL)) {
        *fail = client_fail(c, SL_RC_PROTOCOL_ERROR); /* [MQTT-3.8.3-4] */
        return SL_RC_UNSPECIFIED_ERROR;
    }
    uint8_t qos = opts & OPT_QOS;
    if (qos > cfg->max_qos) qos = cfg->max_qos;
    uint8_t flags = 0;
    if (v5 && (opts & OPT_NO_LOCAL)) flags |= TOPIC_SUB_NO_LOCAL;
    if (v5 && (opts & OPT_RETAIN_AS_PUB)) flags |= TOPIC_SUB_RAP;
    bool existed;
    if (session_subscribe(c->session, f.ptr, f.len, qos, flags, subid, &existed) != SL_OK)
        return SL_RC_UNSPECIFIED_ERROR;
    uint8_t rh = v5 ? (uint8_t)((opts & OPT_RETAIN_HANDLING) >> 4) : 0;
    *retained = !shared && (rh == 0 || (rh == 1 && !existed));
    return qos;
}

int handle_subscribe(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_subscribe sub;
    int rc = sl_decode_subscribe(body, len, c->version, &sub);
    if (rc != SL_OK) return rc;
    uint32_t subid = 0;
    if (c->version == SL_MQTT_5) {
        struct sl_props props;
        uint8_t reason;
        if (sl_props_parse(sub.props.ptr, sub.props.len, SL_PT_SUBSCRIBE, &props, &reason) != SL_OK)
            return client_fail(c, reason);
        if (props.subscription_identifier_count > 1)
            return client_fail(c, SL_RC_PROTOCOL_ERROR); /* one per SUBSCRIBE (5.0 §3.8.2.1.2) */
        subid = props.subscription_identifier;
    }

    /* Codes, then one bit per filter for "send retained". */
    size_t need = sub.count * 2;
    uint8_t stackcodes[128];
    uint8_t *codes = need <= sizeof(stackcodes) ? stackcodes : malloc(need);
    if (!codes) return SL_ENOMEM;
    uint8_t *retained = codes + sub.count;

    struct sl_sub_iter it;
    struct sl_bytes f;
    uint8_t opts;
    uint32_t i = 0;
    sl_sub_iter_init(&it, sub.list, true);
    while (sl_sub_iter_next(&it, &f, &opts)) {
        bool r;
        int fail = SL_OK;
        codes[i] = subscribe_one(c, f, opts, subid, &r, &fail);
        if (fail != SL_OK) {
            rc = fail;
            goto out;
        }
        retained[i++] = r;
    }
    rc = send_suback(c, sub.packet_id, codes, i);
    if (rc != SL_OK) goto out;

    sl_sub_iter_init(&it, sub.list, true);
    for (i = 0; sl_sub_iter_next(&it, &f, &opts); i++) {
        if (!retained[i]) continue;
        struct retained_ctx ctx = {c->session, codes[i], subid, c->w->now_ms};
        retain_match(&c->w->srv->retained, f.ptr, f.len, send_retained, &ctx);
    }
out:
    if (codes != stackcodes) free(codes);
    return rc;
}

/*
 * handle_subscribe.c - SUBSCRIBE: add each filter to the session, answer SUBACK
 * with one code per filter in order [MQTT-3.8.4-5] [MQTT-3.9.3-1], then send the
 * retained messages each filter matches, with the retain flag set
 * [MQTT-3.3.1-6] [MQTT-3.3.1-8] - also on a re-subscription [MQTT-3.8.4-3].
 */
#include <stdlib.h>

#include "broker/client.h"
#include "broker/handlers.h"
#include "broker/msg.h"
#include "broker/retain.h"
#include "broker/send.h"
#include "broker/server.h"
#include "broker/session.h"
#include "broker/worker.h"
#include "core/error.h"
#include "core/log.h"
#include "proto/decode.h"
#include "proto/topic.h"

#define SUBACK_FAILURE 0x80
#define MAX_QOS        2

struct retained_ctx {
    struct session *s;
    uint8_t granted;
};

static void send_retained(void *arg, struct sl_msg *m)
{
    struct retained_ctx *ctx = arg;
    /* Runs under the retained store's read lock; session_deliver only queues. */
    uint8_t qos = m->qos < ctx->granted ? m->qos : ctx->granted;
    session_deliver(ctx->s, m, qos, true);
    sl_msg_unref(m);
}

int handle_subscribe(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_subscribe sub;
    int rc = sl_decode_subscribe(body, len, c->version, &sub);
    if (rc != SL_OK) return rc;

    uint8_t stackcodes[64];
    uint8_t *codes = sub.count <= sizeof(stackcodes) ? stackcodes : malloc(sub.count);
    if (!codes) return SL_ENOMEM;

    struct sl_sub_iter it;
    struct sl_bytes f;
    uint8_t opts;
    uint32_t i = 0;
    sl_sub_iter_init(&it, sub.list, true);
    while (sl_sub_iter_next(&it, &f, &opts)) {
        if (!sl_topic_filter_valid(f.ptr, f.len)) {
            /* MQTT 3.1.1 has no per-filter refusal for syntax: a protocol
             * violation closes the connection [MQTT-4.7.1-1] [MQTT-4.8.0-1]. */
            sl_notice("client %s: invalid topic filter in SUBSCRIBE", c->session->id);
            rc = SL_EMALFORMED;
            goto out;
        }
        uint8_t qos = opts & 0x03;
        if (qos > MAX_QOS) qos = MAX_QOS;
        codes[i++] =
            session_subscribe(c->session, f.ptr, f.len, qos) == SL_OK ? qos : SUBACK_FAILURE;
    }
    rc = send_suback(c, sub.packet_id, codes, i);
    if (rc != SL_OK) goto out;

    sl_sub_iter_init(&it, sub.list, true);
    for (i = 0; sl_sub_iter_next(&it, &f, &opts); i++) {
        if (codes[i] == SUBACK_FAILURE) continue;
        struct retained_ctx ctx = {c->session, codes[i]};
        retain_match(&c->w->srv->retained, f.ptr, f.len, send_retained, &ctx);
    }
out:
    if (codes != stackcodes) free(codes);
    return rc;
}

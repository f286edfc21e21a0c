/*
 * handle_publish.c - PUBLISH from a client.
 *
 * QoS 0: route. QoS 1: route, then PUBACK [MQTT-4.3.2-2]. QoS 2: the broker
 * takes ownership on the first PUBLISH with a packet id (route it, remember the
 * id), answers PUBREC, and treats repeats of that id as duplicates until PUBREL
 * [MQTT-4.3.3-2] (the spec's "Method B": deliver first, remember the id).
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
#include "broker/worker.h"
#include "core/error.h"
#include "core/log.h"
#include "proto/decode.h"
#include "proto/frame.h"

int handle_publish(struct client *c, uint8_t flags, const uint8_t *body, size_t len)
{
    struct sl_publish p;
    int rc = sl_decode_publish(body, len, flags, c->version, &p);
    if (rc != SL_OK) return rc;
    if (p.retain && !c->w->srv->cfg->retain_available) {
        /* MQTT 3.1.1 has no way to refuse a retained message but closing. */
        sl_notice("client %s sent a retained message but retain_available is false",
                  c->session->id);
        return SL_EPROTO;
    }
    stat_add(&c->w->stats.msgs_received, 1);

    /* $SYS/ belongs to the broker (sys.c): a client's message there is
     * acknowledged as usual but not delivered or retained, as in Mosquitto. */
    bool deliver = !(p.topic.len >= 5 && memcmp(p.topic.ptr, "$SYS/", 5) == 0);
    struct session *blocker = NULL;
    if (p.qos == 2) {
        bool dup;
        rc = session_qos2_in_mark(c->session, p.packet_id, &dup);
        if (rc != SL_OK) return rc;
        deliver = deliver && !dup;
    }
    if (deliver) {
        struct sl_msg *m =
            sl_msg_new(p.topic.ptr, p.topic.len, p.payload.ptr, p.payload.len, p.qos, p.retain);
        if (!m) return SL_ENOMEM;
        blocker = route_publish(c->w, m);
        sl_msg_unref(m);
    }
    /* A congested subscriber holds this ack back: a publisher with an inflight
     * window slows to the subscriber's pace instead of overflowing its queue. */
    if (p.qos == 1) return send_ack_after(c, SL_PT_PUBACK, p.packet_id, blocker);
    if (p.qos == 2) return send_ack_after(c, SL_PT_PUBREC, p.packet_id, blocker);
    return SL_OK;
}

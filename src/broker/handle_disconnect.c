/* handle_disconnect.c - DISCONNECT: a clean end; the will is discarded
 * [MQTT-3.14.4-3] [MQTT-3.1.2-10] - in 5.0 only for reason 0x00: 0x04 Disconnect
 * with Will Message and the error codes keep it. A 5.0 DISCONNECT may also change the Session
 * Expiry Interval, but not from 0 to something else [MQTT-3.14.2-2]. */
#include "broker/client.h"
#include "broker/handlers.h"
#include "broker/session.h"
#include "core/error.h"
#include "proto/decode.h"
#include "proto/frame.h"
#include "proto/props.h"
#include "proto/reason.h"

int handle_disconnect(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_disconnect d;
    int rc = sl_decode_disconnect(body, len, c->version, &d);
    if (rc != SL_OK) return rc;
    if (c->version == SL_MQTT_5) {
        struct sl_props props;
        uint8_t reason;
        if (!sl_reason_allowed(SL_PT_DISCONNECT, d.reason))
            return client_fail(c, SL_RC_PROTOCOL_ERROR);
        if (sl_props_parse(d.props.ptr, d.props.len, SL_PT_DISCONNECT, &props, &reason) != SL_OK)
            return client_fail(c, reason);
        struct session *s = c->session;
        if (s && sl_props_has(&props, SL_PROP_SESSION_EXPIRY_INTERVAL)) {
            if (s->expiry_s == 0 && props.session_expiry_interval != 0)
                return client_fail(c, SL_RC_PROTOCOL_ERROR);
            s->expiry_s = props.session_expiry_interval;
        }
    }
    /* Only a valid DISCONNECT with 0x00 discards the will [MQTT-3.14.4-3]: one
     * refused above is a protocol error, 0x04 asks for the will, and any other
     * reason (the client reporting an error) keeps it too [MQTT-3.1.2-8]. */
    c->disconnected = c->version != SL_MQTT_5 || d.reason == SL_RC_NORMAL_DISCONNECTION;
    client_close(c, "disconnected");
    return SL_OK;
}

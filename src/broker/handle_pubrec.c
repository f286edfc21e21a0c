/* handle_pubrec.c - PUBREC from a subscriber: first half of QoS 2 delivery done;
 * answer PUBREL [MQTT-4.3.3-1]. An unknown id still gets PUBREL (5.0: with 0x92
 * Packet Identifier not found), so a client that lost track can finish the
 * flow. A 5.0 PUBREC of 0x80 or more ends the delivery: no PUBREL. */
#include "broker/client.h"
#include "broker/handlers.h"
#include "broker/send.h"
#include "broker/session.h"
#include "core/error.h"
#include "proto/decode.h"
#include "proto/frame.h"
#include "proto/reason.h"

int handle_pubrec(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_ack a;
    int rc = sl_decode_ack(body, len, c->version, &a);
    if (rc == SL_OK) rc = handle_ack_props(c, SL_PT_PUBREC, &a);
    if (rc != SL_OK) return rc;
    bool known = session_on_pubrec(c->session, a.packet_id, a.reason);
    if (a.reason >= 0x80) return SL_OK;
    return send_ack(c, SL_PT_PUBREL, a.packet_id,
                    known ? SL_RC_SUCCESS : SL_RC_PACKET_ID_NOT_FOUND);
}

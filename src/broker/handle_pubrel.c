/* handle_pubrel.c - PUBREL from a publisher: forget the QoS 2 id and answer
 * PUBCOMP, also for an id we do not know [MQTT-4.3.3-2]: the receiver MUST
 * respond to PUBREL with PUBCOMP with the same packet id (5.0: reason 0x92
 * Packet Identifier not found for an unknown one). */
#include "broker/client.h"
#include "broker/handlers.h"
#include "broker/send.h"
#include "broker/session.h"
#include "core/error.h"
#include "proto/decode.h"
#include "proto/frame.h"
#include "proto/reason.h"

int handle_pubrel(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_ack a;
    int rc = sl_decode_ack(body, len, c->version, &a);
    if (rc == SL_OK) rc = handle_ack_props(c, SL_PT_PUBREL, &a);
    if (rc != SL_OK) return rc;
    bool known = session_qos2_in_clear(c->session, a.packet_id);
    return send_ack(c, SL_PT_PUBCOMP, a.packet_id,
                    known ? SL_RC_SUCCESS : SL_RC_PACKET_ID_NOT_FOUND);
}

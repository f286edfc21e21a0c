/* handle_pubrel.c - PUBREL from a publisher: forget the QoS 2 id and answer
 * PUBCOMP, also for an id we do not know [MQTT-4.3.3-2]: the receiver MUST
 * respond to PUBREL with PUBCOMP with the same packet id. */
#include "broker/client.h"
#include "broker/handlers.h"
#include "broker/send.h"
#include "broker/session.h"
#include "core/error.h"
#include "proto/decode.h"
#include "proto/frame.h"

int handle_pubrel(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_ack a;
    int rc = sl_decode_ack(body, len, c->version, &a);
    if (rc != SL_OK) return rc;
    session_qos2_in_clear(c->session, a.packet_id);
    return send_ack(c, SL_PT_PUBCOMP, a.packet_id);
}

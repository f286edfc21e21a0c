/* handle_pubrec.c - PUBREC from a subscriber: first half of QoS 2 delivery done;
 * answer PUBREL [MQTT-4.3.3-1]. An unknown id still gets PUBREL, so a client
 * that lost track can finish the flow. */
#include "broker/client.h"
#include "broker/handlers.h"
#include "broker/send.h"
#include "broker/session.h"
#include "core/error.h"
#include "proto/decode.h"
#include "proto/frame.h"

int handle_pubrec(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_ack a;
    int rc = sl_decode_ack(body, len, c->version, &a);
    if (rc != SL_OK) return rc;
    session_on_pubrec(c->session, a.packet_id);
    return send_ack(c, SL_PT_PUBREL, a.packet_id);
}

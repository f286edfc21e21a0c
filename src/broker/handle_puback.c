/* handle_puback.c - PUBACK from a subscriber: QoS 1 delivery complete, whatever
 * the 5.0 reason code says (the message is not sent again either way). */
#include "broker/client.h"
#include "broker/handlers.h"
#include "broker/session.h"
#include "core/error.h"
#include "proto/decode.h"
#include "proto/frame.h"

int handle_puback(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_ack a;
    int rc = sl_decode_ack(body, len, c->version, &a);
    if (rc == SL_OK) rc = handle_ack_props(c, SL_PT_PUBACK, &a);
    if (rc != SL_OK) return rc;
    session_on_puback(c->session, a.packet_id);
    return SL_OK;
}

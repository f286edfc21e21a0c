/* handle_pubcomp.c - PUBCOMP from a subscriber: QoS 2 delivery complete. */
#include "broker/client.h"
#include "broker/handlers.h"
#include "broker/session.h"
#include "core/error.h"
#include "proto/decode.h"
#include "proto/frame.h"

int handle_pubcomp(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_ack a;
    int rc = sl_decode_ack(body, len, c->version, &a);
    if (rc == SL_OK) rc = handle_ack_props(c, SL_PT_PUBCOMP, &a);
    if (rc != SL_OK) return rc;
    session_on_pubcomp(c->session, a.packet_id);
    return SL_OK;
}

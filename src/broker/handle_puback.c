/* handle_puback.c - PUBACK from a subscriber: QoS 1 delivery complete. */
#include "broker/client.h"
#include "broker/handlers.h"
#include "broker/session.h"
#include "core/error.h"
#include "proto/decode.h"

int handle_puback(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_ack a;
    int rc = sl_decode_ack(body, len, c->version, &a);
    if (rc != SL_OK) return rc;
    session_on_puback(c->session, a.packet_id);
    return SL_OK;
}

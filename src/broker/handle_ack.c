/* handle_ack.c - what the four publish acknowledgements share in 5.0: their
 * reason code must be one the packet may carry, and their property block must
 * parse (malformed 0x81, protocol error 0x82). */
#include "broker/client.h"
#include "broker/handlers.h"
#include "core/error.h"
#include "proto/frame.h"
#include "proto/props.h"
#include "proto/reason.h"

int handle_ack_props(struct client *c, uint8_t type, const struct sl_ack *a)
{
    if (c->version != SL_MQTT_5) return SL_OK;
    if (!sl_reason_allowed(type, a->reason)) return client_fail(c, SL_RC_PROTOCOL_ERROR);
    struct sl_props props;
    uint8_t reason;
    if (sl_props_parse(a->props.ptr, a->props.len, type, &props, &reason) != SL_OK)
        return client_fail(c, reason);
    return SL_OK;
}

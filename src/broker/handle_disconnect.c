/* handle_disconnect.c - DISCONNECT: a clean end; the will is discarded
 * [MQTT-3.14.4-3] [MQTT-3.1.2-10]. */
#include "broker/client.h"
#include "broker/handlers.h"
#include "core/error.h"
#include "proto/decode.h"

int handle_disconnect(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_disconnect d;
    int rc = sl_decode_disconnect(body, len, c->version, &d);
    if (rc != SL_OK) return rc;
    c->disconnected = true;
    client_close(c, "disconnected");
    return SL_OK;
}

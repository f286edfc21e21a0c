/* handle_pingreq.c - PINGREQ: answer PINGRESP [MQTT-3.12.4-1]. The keepalive
 * clock was already reset by the read path for any packet. */
#include "broker/client.h"
#include "broker/handlers.h"
#include "broker/send.h"
#include "core/error.h"

int handle_pingreq(struct client *c, const uint8_t *body, size_t len)
{
    if (len != 0) return SL_EMALFORMED;
    return send_pingresp(c);
}

/* handle_unsubscribe.c - UNSUBSCRIBE: remove each filter (an unknown one is not
 * an error) and answer UNSUBACK with the same packet id [MQTT-3.10.4-4]
 * [MQTT-3.10.4-5]. */
#include "broker/client.h"
#include "broker/handlers.h"
#include "broker/send.h"
#include "broker/session.h"
#include "core/error.h"
#include "proto/decode.h"

int handle_unsubscribe(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_unsubscribe u;
    int rc = sl_decode_unsubscribe(body, len, c->version, &u);
    if (rc != SL_OK) return rc;
    struct sl_sub_iter it;
    struct sl_bytes f;
    uint8_t opts;
    sl_sub_iter_init(&it, u.list, false);
    while (sl_sub_iter_next(&it, &f, &opts))
        session_unsubscribe(c->session, f.ptr, f.len);
    return send_unsuback(c, u.packet_id);
}

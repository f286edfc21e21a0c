/* handle_unsubscribe.c - UNSUBSCRIBE: remove each filter (an unknown one is not
 * an error) and answer UNSUBACK with the same packet id [MQTT-3.10.4-4]
 * [MQTT-3.10.4-5]; in 5.0 with one reason code per filter: 0x00, 0x11 No
 * subscription existed, 0x8F Topic Filter invalid [MQTT-3.11.3-1]. */
#include <stdlib.h>

#include "broker/client.h"
#include "broker/handlers.h"
#include "broker/send.h"
#include "broker/session.h"
#include "core/error.h"
#include "proto/decode.h"
#include "proto/frame.h"
#include "proto/props.h"
#include "proto/reason.h"
#include "proto/topic.h"

int handle_unsubscribe(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_unsubscribe u;
    int rc = sl_decode_unsubscribe(body, len, c->version, &u);
    if (rc != SL_OK) return rc;
    if (c->version == SL_MQTT_5) {
        struct sl_props props;
        uint8_t reason;
        if (sl_props_parse(u.props.ptr, u.props.len, SL_PT_UNSUBSCRIBE, &props, &reason) != SL_OK)
            return client_fail(c, reason);
    }
    uint8_t stackcodes[64];
    uint8_t *codes = u.count <= sizeof(stackcodes) ? stackcodes : malloc(u.count);
    if (!codes) return SL_ENOMEM;
    struct sl_sub_iter it;
    struct sl_bytes f;
    uint8_t opts;
    uint32_t i = 0;
    sl_sub_iter_init(&it, u.list, false);
    while (sl_sub_iter_next(&it, &f, &opts)) {
        if (!sl_topic_sub_filter_valid(f.ptr, f.len, NULL))
            codes[i++] = SL_RC_TOPIC_FILTER_INVALID;
        else
            codes[i++] = session_unsubscribe(c->session, f.ptr, f.len)
                             ? SL_RC_SUCCESS
                             : SL_RC_NO_SUBSCRIPTION_EXISTED;
    }
    rc = send_unsuback(c, u.packet_id, codes, i);
    if (codes != stackcodes) free(codes);
    return rc;
}

/*
 * frame.c - the fixed header: parse, check against the packet-type table, encode.
 *
 *   byte 0      7..4 packet type   3..0 flags
 *   bytes 1..4  remaining length (varint, minimal, at most 4 bytes)
 *
 * Fixed flags for what a client may send a server (3.1.1 Table 2.2, 5.0 Table 2-2):
 *
 *   CONNECT 0000  PUBLISH dup/qos/retain  PUBACK 0000  PUBREC 0000  PUBREL 0010
 *   PUBCOMP 0000  SUBSCRIBE 0010  UNSUBSCRIBE 0010  PINGREQ 0000  DISCONNECT 0000
 *   AUTH 0000 (5.0 only)
 *
 * Invariants: sl_frame_parse reads at most 5 bytes and never past buf[len); it
 * looks at nothing but the header, so a caller can refuse an oversized packet
 * before buffering its body.
 */
#include "proto/frame.h"

#include "core/error.h"
#include "proto/varint.h"

int sl_frame_parse(const uint8_t *buf, size_t len, struct sl_frame *f)
{
    uint32_t remaining;
    size_t used;

    if (len < 2) return SL_NEED_MORE;
    int rc = sl_varint_decode(buf + 1, len - 1, &remaining, &used);
    if (rc != SL_OK) return rc; /* SL_NEED_MORE, or SL_EMALFORMED [MQTT-1.5.5-1] */
    f->type = (uint8_t)(buf[0] >> 4);
    f->flags = (uint8_t)(buf[0] & 0x0f);
    f->header_len = (uint8_t)(1 + used);
    f->remaining = remaining;
    return SL_OK;
}

int sl_frame_check_server_inbound(const struct sl_frame *f, uint8_t version)
{
    uint8_t want;

    switch (f->type) {
    case SL_PT_PUBLISH:
        return SL_OK; /* dup/qos/retain: sl_decode_publish checks them */
    case SL_PT_PUBREL:
        want = 0x2; /* [MQTT-3.6.1-1] */
        break;
    case SL_PT_SUBSCRIBE:
        want = 0x2; /* [MQTT-3.8.1-1] */
        break;
    case SL_PT_UNSUBSCRIBE:
        want = 0x2; /* [MQTT-3.10.1-1] */
        break;
    case SL_PT_CONNECT:
    case SL_PT_PUBACK:
    case SL_PT_PUBREC:
    case SL_PT_PUBCOMP:
    case SL_PT_DISCONNECT:
        want = 0x0;
        break;
    case SL_PT_PINGREQ:
        /* No variable header and no payload (3.1.1 §3.12.2-3, 5.0 §3.12.2-3); it has
         * no decoder, so its length is checked here. */
        if (f->remaining != 0) return SL_EMALFORMED;
        want = 0x0;
        break;
    case SL_PT_AUTH:
        if (version != SL_MQTT_5)
            return SL_EMALFORMED; /* reserved type before 5.0 (3.1.1 Table 2.1) */
        want = 0x0;
        break;
    default:
        /* 0 is reserved in every version; CONNACK, SUBACK, UNSUBACK and PINGRESP
         * go only from server to client (3.1.1 Table 2.1, 5.0 Table 2-1). */
        return SL_EMALFORMED;
    }
    if (f->flags != want) return SL_EMALFORMED; /* [MQTT-2.2.2-1] [MQTT-2.2.2-2] */
    return SL_OK;
}

size_t sl_frame_encode(uint8_t *out, uint8_t byte0, uint32_t remaining)
{
    out[0] = byte0;
    return 1 + sl_varint_encode(out + 1, remaining);
}

/*
 * frame.h - the MQTT fixed header: where one control packet ends.
 *
 *   byte 0      packet type (high nibble) | flags (low nibble)
 *   bytes 1..4  remaining length (varint)
 *   then        'remaining length' bytes of variable header + payload
 *
 * sl_frame_parse reads only the fixed header, so a caller can check the size
 * against its limit before buffering the body.
 */
#ifndef SL_PROTO_FRAME_H
#define SL_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum sl_ptype {
    SL_PT_RESERVED = 0,
    SL_PT_CONNECT = 1,
    SL_PT_CONNACK = 2,
    SL_PT_PUBLISH = 3,
    SL_PT_PUBACK = 4,
    SL_PT_PUBREC = 5,
    SL_PT_PUBREL = 6,
    SL_PT_PUBCOMP = 7,
    SL_PT_SUBSCRIBE = 8,
    SL_PT_SUBACK = 9,
    SL_PT_UNSUBSCRIBE = 10,
    SL_PT_UNSUBACK = 11,
    SL_PT_PINGREQ = 12,
    SL_PT_PINGRESP = 13,
    SL_PT_DISCONNECT = 14,
    SL_PT_AUTH = 15 /* MQTT 5.0 only; reserved before */
};

/* Protocol levels as carried in CONNECT. */
enum sl_version { SL_MQTT_31 = 3, SL_MQTT_311 = 4, SL_MQTT_5 = 5 };

struct sl_frame {
    uint8_t type;       /* enum sl_ptype */
    uint8_t flags;      /* low nibble of byte 0 */
    uint8_t header_len; /* 2..5: bytes of the fixed header */
    uint32_t remaining; /* body length */
};

/* Parses the fixed header at buf[0..len). SL_OK, SL_NEED_MORE (header incomplete),
 * or SL_EMALFORMED (remaining length longer than 4 bytes or not minimal). It does
 * not look at the type or flags: see sl_frame_check_server_inbound. */
int sl_frame_parse(const uint8_t *buf, size_t len, struct sl_frame *f);

/* Checks the type is one a client may send to a server at this protocol version and
 * that the flags are the fixed ones for that type [MQTT-2.2.2-1] [MQTT-2.2.2-2]:
 * PUBREL, SUBSCRIBE, UNSUBSCRIBE must have 0010 [MQTT-3.6.1-1] [MQTT-3.8.1-1]
 * [MQTT-3.10.1-1], other non-PUBLISH types 0000. PUBLISH flags are checked by its
 * decoder. Reserved types 0 and 15 (before 5.0) fail. Server-to-client types
 * (CONNACK, SUBACK, UNSUBACK, PINGRESP) fail. PINGREQ, which has no decoder, also
 * fails unless its remaining length is 0. Returns SL_OK or SL_EMALFORMED. */
int sl_frame_check_server_inbound(const struct sl_frame *f, uint8_t version);

/* Writes a fixed header (byte0, then remaining as varint); returns bytes (2..5). */
size_t sl_frame_encode(uint8_t *out, uint8_t byte0, uint32_t remaining);

#endif

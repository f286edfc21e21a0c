/*
 * encode.c - encoders for the packets a broker and a client send.
 *
 * Two steps (coreMQTT's shape): a _size function or a constant gives the exact
 * byte count, the caller provides a buffer of at least that size, and the
 * writer cannot fail. Each writer returns the bytes it wrote, which equals the
 * size the matching _size function returns for the same arguments.
 *
 * Invariants: fixed headers carry the fixed flags of 3.1.1 Table 2.2 and a
 * minimal remaining length; no encoder reads its inputs beyond the lengths given;
 * nothing is allocated. Strings are written as given: checking that they are
 * valid UTF-8 and at most 65,535 bytes is the caller's job.
 */
#include "proto/encode.h"

#include <string.h>

#include "proto/frame.h"
#include "proto/props.h"
#include "proto/varint.h"

size_t sl_encode_u16(uint8_t *out, uint16_t v)
{
    out[0] = (uint8_t)(v >> 8);
    out[1] = (uint8_t)(v & 0xff);
    return 2;
}

/* u16 length, then the bytes. Copying 0 bytes from NULL is skipped: it is
 * undefined behaviour for memcpy even with a zero length. */
static size_t put_bin(uint8_t *out, const uint8_t *p, size_t len)
{
    sl_encode_u16(out, (uint16_t)len);
    if (len > 0) memcpy(out + 2, p, len);
    return 2 + len;
}

/* Total size of a packet whose body is 'body' bytes. */
static size_t packet_size(size_t body)
{
    return 1 + sl_varint_size((uint32_t)body) + body;
}

size_t sl_encode_connack311(uint8_t *out, bool session_present, uint8_t rc)
{
    out[0] = SL_PT_CONNACK << 4;
    out[1] = 2;
    out[2] = session_present ? 1 : 0; /* bits 7-1 reserved [MQTT-3.2.2-1..3] */
    out[3] = rc;
    return SL_CONNACK311_SIZE;
}

size_t sl_encode_ack311(uint8_t *out, uint8_t type, uint16_t packet_id)
{
    /* PUBREL's flags are 0010 [MQTT-3.6.1-1]; PUBACK, PUBREC, PUBCOMP 0000. */
    out[0] = (uint8_t)((type << 4) | (type == SL_PT_PUBREL ? 0x2 : 0x0));
    out[1] = 2;
    sl_encode_u16(out + 2, packet_id);
    return SL_ACK311_SIZE;
}

static size_t suback_body(uint8_t version, size_t ncodes)
{
    return 2 + (version == SL_MQTT_5 ? 1 : 0) + ncodes;
}

size_t sl_encode_suback_size(uint8_t version, size_t ncodes)
{
    return packet_size(suback_body(version, ncodes));
}

size_t sl_encode_suback(uint8_t *out, uint8_t version, uint16_t packet_id, const uint8_t *codes,
                        size_t ncodes)
{
    size_t n = sl_frame_encode(out, SL_PT_SUBACK << 4, (uint32_t)suback_body(version, ncodes));

    n += sl_encode_u16(out + n, packet_id);         /* [MQTT-3.8.4-2] */
    if (version == SL_MQTT_5) out[n++] = 0;         /* property length: none */
    if (ncodes > 0) memcpy(out + n, codes, ncodes); /* in filter order [MQTT-3.8.4-6] */
    return n + ncodes;
}

size_t sl_encode_unsuback311(uint8_t *out, uint16_t packet_id)
{
    out[0] = SL_PT_UNSUBACK << 4;
    out[1] = 2;
    sl_encode_u16(out + 2, packet_id); /* [MQTT-3.11.2-1] */
    return SL_UNSUBACK311_SIZE;
}

size_t sl_encode_pingresp(uint8_t *out)
{
    out[0] = SL_PT_PINGRESP << 4;
    out[1] = 0;
    return SL_PINGRESP_SIZE;
}

uint32_t sl_publish_remaining(uint8_t version, size_t topic_len, uint8_t qos, size_t props_len,
                              size_t payload_len)
{
    /* Each input is at most SL_VARINT_MAX, so the 64-bit sum cannot wrap; any
     * total over SL_VARINT_MAX comes back as UINT32_MAX, which every caller's
     * size check rejects. */
    uint64_t n;

    if (topic_len > SL_VARINT_MAX || payload_len > SL_VARINT_MAX ||
        (version == SL_MQTT_5 && props_len > SL_VARINT_MAX))
        return UINT32_MAX;
    n = 2 + (uint64_t)topic_len + (qos > 0 ? 2 : 0) + (uint64_t)payload_len;
    if (version == SL_MQTT_5) n += sl_varint_size((uint32_t)props_len) + (uint64_t)props_len;
    return n > SL_VARINT_MAX ? UINT32_MAX : (uint32_t)n;
}

size_t sl_encode_publish_head(uint8_t *out, uint8_t qos, bool retain, bool dup, uint32_t remaining,
                              uint16_t topic_len)
{
    uint8_t b0 = (uint8_t)((SL_PT_PUBLISH << 4) | ((qos & 0x3) << 1));
    size_t n;

    if (dup) b0 |= 0x08;
    if (retain) b0 |= 0x01;
    n = sl_frame_encode(out, b0, remaining);
    return n + sl_encode_u16(out + n, topic_len);
}

/* The CONNECT body, in the order the decoder reads it. */
static size_t connect_body(const struct sl_connect_params *p)
{
    bool v5 = p->version == SL_MQTT_5;
    size_t n = 2 + (p->version == SL_MQTT_31 ? 6 : 4) + 1 + 1 + 2;

    if (v5) n += 1; /* empty property block */
    n += 2 + p->client_id_len;
    if (p->will_topic != NULL) n += (v5 ? 1 : 0) + 2 + p->will_topic_len + 2 + p->will_payload_len;
    if (p->username != NULL) n += 2 + p->username_len;
    if (p->password != NULL) n += 2 + p->password_len;
    return n;
}

size_t sl_encode_connect_size(const struct sl_connect_params *p)
{
    return packet_size(connect_body(p));
}

size_t sl_encode_connect(uint8_t *out, const struct sl_connect_params *p)
{
    bool v5 = p->version == SL_MQTT_5;
    bool will = p->will_topic != NULL;
    uint8_t flags = 0;
    size_t n = sl_frame_encode(out, SL_PT_CONNECT << 4, (uint32_t)connect_body(p));

    /* 3.1 names itself "MQIsdp" at level 3; 3.1.1 and 5.0 "MQTT". [MQTT-3.1.2-1] */
    if (p->version == SL_MQTT_31)
        n += put_bin(out + n, (const uint8_t *)"MQIsdp", 6);
    else
        n += put_bin(out + n, (const uint8_t *)"MQTT", 4);
    out[n++] = p->version;

    if (p->clean_start) flags |= 0x02;
    if (will) /* will QoS and retain only with a will [MQTT-3.1.2-13] [MQTT-3.1.2-15] */
        flags |= (uint8_t)(0x04 | ((p->will_qos & 0x3) << 3) | (p->will_retain ? 0x20 : 0));
    if (p->password != NULL) flags |= 0x40;
    if (p->username != NULL) flags |= 0x80;
    out[n++] = flags; /* bit 0 reserved, 0 [MQTT-3.1.2-3] */
    n += sl_encode_u16(out + n, p->keepalive);
    if (v5) out[n++] = 0; /* CONNECT properties: none */

    n += put_bin(out + n, p->client_id, p->client_id_len);
    if (will) {
        if (v5) out[n++] = 0; /* will properties: none */
        n += put_bin(out + n, p->will_topic, p->will_topic_len);
        n += put_bin(out + n, p->will_payload, p->will_payload_len);
    }
    if (p->username != NULL) n += put_bin(out + n, p->username, p->username_len);
    if (p->password != NULL) n += put_bin(out + n, p->password, p->password_len);
    return n;
}

static size_t subscribe1_body(uint8_t version, size_t filter_len)
{
    return 2 + (version == SL_MQTT_5 ? 1 : 0) + 2 + filter_len + 1;
}

size_t sl_encode_subscribe1_size(uint8_t version, size_t filter_len)
{
    return packet_size(subscribe1_body(version, filter_len));
}

size_t sl_encode_subscribe1(uint8_t *out, uint8_t version, uint16_t packet_id,
                            const uint8_t *filter, size_t filter_len, uint8_t options)
{
    /* SUBSCRIBE's flags are 0010 [MQTT-3.8.1-1]. */
    size_t n = sl_frame_encode(out, (SL_PT_SUBSCRIBE << 4) | 0x2,
                               (uint32_t)subscribe1_body(version, filter_len));

    n += sl_encode_u16(out + n, packet_id);
    if (version == SL_MQTT_5) out[n++] = 0; /* properties: none */
    n += put_bin(out + n, filter, filter_len);
    out[n++] = options;
    return n;
}

size_t sl_encode_disconnect311(uint8_t *out)
{
    out[0] = SL_PT_DISCONNECT << 4;
    out[1] = 0;
    return SL_DISCONNECT311_SIZE;
}

size_t sl_encode_packet5_size(size_t head_len, const struct sl_props *props, size_t tail_len)
{
    size_t body = head_len + (props ? sl_props_block_size(props) : 0) + tail_len;
    return packet_size(body);
}

size_t sl_encode_packet5(uint8_t *out, uint8_t first_byte, const uint8_t *head, size_t head_len,
                         const struct sl_props *props, const uint8_t *tail, size_t tail_len)
{
    /* The property size is walked once here, not again by sl_props_block_encode. */
    size_t props_len = props ? sl_props_size(props) : 0;
    size_t body =
        head_len + (props ? sl_varint_size((uint32_t)props_len) + props_len : 0) + tail_len;
    uint8_t *p = out;
    *p++ = first_byte;
    p += sl_varint_encode(p, (uint32_t)body);
    if (head_len) memcpy(p, head, head_len);
    p += head_len;
    if (props) {
        p += sl_varint_encode(p, (uint32_t)props_len);
        p += sl_props_encode(p, props);
    }
    if (tail_len) memcpy(p, tail, tail_len);
    p += tail_len;
    return (size_t)(p - out);
}

/*
 * encode.h - encoders for the packets a broker (and the client library) sends.
 *
 * Two steps, as in coreMQTT: the caller learns the size first (fixed sizes are
 * constants, variable ones have a _size function), provides a buffer that fits,
 * and the writer cannot fail. All return the number of bytes written.
 *
 * PUBLISH is encoded in pieces so that the broker can share one message's topic
 * and payload between subscribers and only vary the head and the packet id:
 *
 *   [fixed header][topic len][topic][packet id if QoS>0][v5 props][payload]
 *    \________ head ________/        \__ mid __/
 */
#ifndef SL_PROTO_ENCODE_H
#define SL_PROTO_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest head: 1 + 4 (varint) + 2 (topic length). */
#define SL_PUBLISH_HEAD_MAX 7

/* CONNACK before 5.0 is 4 bytes: 20 02 flags rc. [MQTT-3.2.2-1..6] */
#define SL_CONNACK311_SIZE 4
size_t sl_encode_connack311(uint8_t *out, bool session_present, uint8_t rc);

/* PUBACK/PUBREC/PUBREL/PUBCOMP before 5.0: 4 bytes. PUBREL gets flags 0010
 * [MQTT-3.6.1-1]. type is enum sl_ptype. */
#define SL_ACK311_SIZE 4
size_t sl_encode_ack311(uint8_t *out, uint8_t type, uint16_t packet_id);

/* SUBACK: one return code per filter, in order [MQTT-3.8.4-6]. (5.0: props empty) */
size_t sl_encode_suback_size(uint8_t version, size_t ncodes);
size_t sl_encode_suback(uint8_t *out, uint8_t version, uint16_t packet_id, const uint8_t *codes,
                        size_t ncodes);

/* UNSUBACK before 5.0: 4 bytes, b0 02 pid. [MQTT-3.11.2-1] */
#define SL_UNSUBACK311_SIZE 4
size_t sl_encode_unsuback311(uint8_t *out, uint16_t packet_id);

/* PINGRESP: d0 00. */
#define SL_PINGRESP_SIZE 2
size_t sl_encode_pingresp(uint8_t *out);

/* PUBLISH. remaining = sl_publish_remaining(...); head bytes come from
 * sl_encode_publish_head (fixed header + topic length); the caller then emits the
 * topic, sl_encode_u16(packet id) if qos > 0, properties (5.0), payload.
 * sl_publish_remaining counts, in 5.0, the property length varint as well as
 * props_len bytes; props_len is ignored before 5.0. A total above SL_VARINT_MAX
 * (the packet cannot be encoded) comes back as UINT32_MAX, so a caller's size
 * check rejects it. */
uint32_t sl_publish_remaining(uint8_t version, size_t topic_len, uint8_t qos, size_t props_len,
                              size_t payload_len);
size_t sl_encode_publish_head(uint8_t *out, uint8_t qos, bool retain, bool dup, uint32_t remaining,
                              uint16_t topic_len);

/* Big-endian u16 into out[0..2). */
size_t sl_encode_u16(uint8_t *out, uint16_t v);

/* Client-side: CONNECT (3.1.1/3.1 and 5.0 with empty property blocks),
 * SUBSCRIBE with one filter, DISCONNECT. For the client library and the bench. */
struct sl_connect_params {
    uint8_t version;
    bool clean_start;
    uint16_t keepalive;
    const uint8_t *client_id;
    size_t client_id_len;
    const uint8_t *username; /* NULL: no user name */
    size_t username_len;
    const uint8_t *password; /* NULL: no password */
    size_t password_len;
    const uint8_t *will_topic; /* NULL: no will */
    size_t will_topic_len;
    const uint8_t *will_payload;
    size_t will_payload_len;
    uint8_t will_qos;
    bool will_retain;
};
size_t sl_encode_connect_size(const struct sl_connect_params *p);
size_t sl_encode_connect(uint8_t *out, const struct sl_connect_params *p);

size_t sl_encode_subscribe1_size(uint8_t version, size_t filter_len);
size_t sl_encode_subscribe1(uint8_t *out, uint8_t version, uint16_t packet_id,
                            const uint8_t *filter, size_t filter_len, uint8_t options);

/*
 * MQTT 5.0 packets other than PUBLISH share one shape (CONNACK, PUBACK..PUBCOMP,
 * SUBACK, UNSUBACK, DISCONNECT, AUTH):
 *
 *   [first byte][remaining][head][property block][tail]
 *
 * head is the fixed part (CONNACK flags + reason, packet id + reason, reason),
 * tail the per-filter reason codes of SUBACK/UNSUBACK. props NULL leaves the
 * property block out entirely, for the short forms 5.0 allows (an ack with
 * reason 0 and no properties is 2 bytes of head; see 5.0 §3.4.2.1).
 */
struct sl_props;
size_t sl_encode_packet5_size(size_t head_len, const struct sl_props *props, size_t tail_len);
size_t sl_encode_packet5(uint8_t *out, uint8_t first_byte, const uint8_t *head, size_t head_len,
                         const struct sl_props *props, const uint8_t *tail, size_t tail_len);

#define SL_DISCONNECT311_SIZE 2
size_t sl_encode_disconnect311(uint8_t *out);

#endif

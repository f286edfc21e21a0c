/*
 * decode.h - decoders for each MQTT control packet.
 *
 * Each decoder takes the packet body (the bytes after the fixed header, exactly
 * 'remaining length' of them), the fixed-header flags where they matter, and the
 * protocol level of the connection. It fills a struct of views into that body:
 * nothing is copied or allocated, so the views live as long as the body buffer.
 * Every read is bounds-checked against body_len; trailing bytes are an error.
 *
 * Returns SL_OK, SL_EMALFORMED (the caller closes the connection), for CONNECT
 * also SL_EVERSION (answer CONNACK "unacceptable protocol version", then close),
 * and for a 5.0 SUBSCRIBE SL_EPROTO (below).
 *
 * MQTT 5.0: property blocks are length-checked and returned as raw views
 * ('props'); the property codec (proto/props.c, issue 4) interprets them. Before
 * 5.0 the views are empty.
 */
#ifndef SL_PROTO_DECODE_H
#define SL_PROTO_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/bytes.h"

struct sl_connect {
    uint8_t version; /* SL_MQTT_31 / SL_MQTT_311 / SL_MQTT_5 */
    bool clean_start;
    uint16_t keepalive;
    struct sl_bytes props; /* v5 CONNECT properties */
    struct sl_bytes client_id;
    bool will;
    uint8_t will_qos;
    bool will_retain;
    struct sl_bytes will_props; /* v5 will properties */
    struct sl_bytes will_topic;
    struct sl_bytes will_payload;
    bool has_username;
    struct sl_bytes username;
    bool has_password;
    struct sl_bytes password;
};

/* Checks, in this order: protocol name "MQTT" (level 4, 5) or "MQIsdp" (level 3),
 * else SL_EMALFORMED [MQTT-3.1.2-1]; protocol level 3/4/5, else SL_EVERSION
 * [MQTT-3.1.2-2]; reserved flag bit 0 is 0 [MQTT-3.1.2-3]; will flags consistent
 * [MQTT-3.1.2-11] [MQTT-3.1.2-13] [MQTT-3.1.2-15], will QoS != 3 [MQTT-3.1.2-14];
 * before 5.0, password flag needs the user name flag [MQTT-3.1.2-22]; client id,
 * will topic and user name are valid UTF-8 [MQTT-3.1.3-4] [MQTT-1.5.3-1]; the will
 * topic is a valid topic name [MQTT-3.1.3-10]; the password is binary data.
 * "MQTT" at a level other than 4/5, or "MQIsdp" at a level other than 3, is
 * SL_EVERSION. On SL_EVERSION (and any error after the level byte) out->version
 * holds the level the client sent, so the caller can pick the CONNACK form. */
int sl_decode_connect(const uint8_t *body, size_t len, struct sl_connect *out);

struct sl_publish {
    uint8_t qos;
    bool dup;
    bool retain;
    struct sl_bytes topic; /* may be empty only in 5.0 (topic alias) */
    uint16_t packet_id;    /* 0 when qos == 0 */
    struct sl_bytes props;
    struct sl_bytes payload;
};

/* flags: low nibble of the fixed header. QoS 3 is malformed [MQTT-3.3.1-4]; DUP set
 * with QoS 0 is malformed [MQTT-3.3.1-2]; the topic is valid UTF-8 without
 * wildcards [MQTT-3.3.2-1] [MQTT-3.3.2-2] and, before 5.0, non-empty
 * [MQTT-4.7.3-1]; QoS > 0 needs a non-zero packet id [MQTT-2.3.1-1]. */
int sl_decode_publish(const uint8_t *body, size_t len, uint8_t flags, uint8_t version,
                      struct sl_publish *out);

/* PUBACK, PUBREC, PUBREL, PUBCOMP: packet id != 0 [MQTT-2.3.1-1]; before 5.0 the
 * body is exactly 2 bytes; in 5.0 an optional reason code (default 0) and
 * optional properties follow. */
struct sl_ack {
    uint16_t packet_id;
    uint8_t reason;
    struct sl_bytes props;
};
int sl_decode_ack(const uint8_t *body, size_t len, uint8_t version, struct sl_ack *out);

/* SUBSCRIBE: packet id != 0; v5 properties; at least one (filter, options) pair
 * [MQTT-3.8.3-3]; each filter valid UTF-8 and non-empty; options: before 5.0 only
 * the QoS bits may be set and QoS != 3 [MQTT-3-8.3-4]; in 5.0 bits 6-7 zero
 * [MQTT-3.8.3-5], and QoS 3 or Retain Handling 3 give SL_EPROTO (a Protocol
 * Error, 0x82, where everything else parsed). Filter *syntax* (wildcard
 * placement) is not checked here: 5.0 answers it per filter with a reason code.
 * Use sl_sub_iter to walk the validated list. */
struct sl_subscribe {
    uint16_t packet_id;
    struct sl_bytes props;
    struct sl_bytes list; /* raw: (u16 len, filter, u8 options)+ */
    uint32_t count;
};
int sl_decode_subscribe(const uint8_t *body, size_t len, uint8_t version, struct sl_subscribe *out);

/* UNSUBSCRIBE: packet id != 0; v5 properties; at least one filter [MQTT-3.10.3-2],
 * each valid UTF-8 and non-empty. Walk with sl_sub_iter (options are 0). */
struct sl_unsubscribe {
    uint16_t packet_id;
    struct sl_bytes props;
    struct sl_bytes list; /* raw: (u16 len, filter)+ */
    uint32_t count;
};
int sl_decode_unsubscribe(const uint8_t *body, size_t len, uint8_t version,
                          struct sl_unsubscribe *out);

/* Iterates a list that the decoder already validated. */
struct sl_sub_iter {
    const uint8_t *p, *end;
    bool has_options;
};
void sl_sub_iter_init(struct sl_sub_iter *it, struct sl_bytes list, bool has_options);
/* Returns false at the end. options may be NULL; it gets 0 for UNSUBSCRIBE. */
bool sl_sub_iter_next(struct sl_sub_iter *it, struct sl_bytes *filter, uint8_t *options);

/* DISCONNECT: before 5.0 the body is empty; in 5.0 optional reason + properties. */
struct sl_disconnect {
    uint8_t reason;
    struct sl_bytes props;
};
int sl_decode_disconnect(const uint8_t *body, size_t len, uint8_t version,
                         struct sl_disconnect *out);

/* AUTH (5.0 only): the same shape as a 5.0 DISCONNECT - an optional reason
 * (default 0x00 Success) and optional properties (5.0 §3.15.2). */
int sl_decode_auth(const uint8_t *body, size_t len, struct sl_disconnect *out);

/* Client-side decoders (client library, bench). */
struct sl_connack {
    bool session_present;
    uint8_t code; /* 3.1.1 return code or 5.0 reason code */
    struct sl_bytes props;
};
int sl_decode_connack(const uint8_t *body, size_t len, uint8_t version, struct sl_connack *out);

struct sl_suback { /* also UNSUBACK in 5.0 */
    uint16_t packet_id;
    struct sl_bytes props;
    struct sl_bytes codes; /* one byte per filter */
};
int sl_decode_suback(const uint8_t *body, size_t len, uint8_t version, struct sl_suback *out);

#endif

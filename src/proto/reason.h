/*
 * reason.h - MQTT 5.0 Reason Codes (5.0 §2.4, Table 2-6).
 *
 * A reason code is one unsigned byte: below 0x80 success, 0x80 and above
 * failure. CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, DISCONNECT and AUTH carry
 * one; SUBACK and UNSUBACK carry one per topic filter. The same value can have
 * a different name per packet (0x00 is "Success", "Normal disconnection" or
 * "Granted QoS 0").
 *
 * These are protocol values, not errors: functions still return enum sl_err
 * (core/error.h), and a caller maps an error to the code it sends. The table
 * behind these functions is Table 2-6; each packet's own table (5.0 §3.2.2.2,
 * §3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1, §3.9.3, §3.11.3, §3.14.2.1,
 * §3.15.2.1) lists the same codes for that packet. Direction is not modelled:
 * a code allowed in DISCONNECT may in practice only make sense from one side
 * (0x04 from a Client, 0x8B from a Server).
 */
#ifndef SL_PROTO_REASON_H
#define SL_PROTO_REASON_H

#include <stdbool.h>
#include <stdint.h>

enum sl_reason {
    SL_RC_SUCCESS = 0x00,
    SL_RC_NORMAL_DISCONNECTION = 0x00, /* DISCONNECT */
    SL_RC_GRANTED_QOS_0 = 0x00,        /* SUBACK */
    SL_RC_GRANTED_QOS_1 = 0x01,
    SL_RC_GRANTED_QOS_2 = 0x02,
    SL_RC_DISCONNECT_WITH_WILL = 0x04,
    SL_RC_NO_MATCHING_SUBSCRIBERS = 0x10,
    SL_RC_NO_SUBSCRIPTION_EXISTED = 0x11,
    SL_RC_CONTINUE_AUTHENTICATION = 0x18,
    SL_RC_REAUTHENTICATE = 0x19,
    SL_RC_UNSPECIFIED_ERROR = 0x80,
    SL_RC_MALFORMED_PACKET = 0x81,
    SL_RC_PROTOCOL_ERROR = 0x82,
    SL_RC_IMPLEMENTATION_SPECIFIC_ERROR = 0x83,
    SL_RC_UNSUPPORTED_PROTOCOL_VERSION = 0x84,
    SL_RC_CLIENT_ID_NOT_VALID = 0x85,
    SL_RC_BAD_USERNAME_OR_PASSWORD = 0x86,
    SL_RC_NOT_AUTHORIZED = 0x87,
    SL_RC_SERVER_UNAVAILABLE = 0x88,
    SL_RC_SERVER_BUSY = 0x89,
    SL_RC_BANNED = 0x8A,
    SL_RC_SERVER_SHUTTING_DOWN = 0x8B,
    SL_RC_BAD_AUTHENTICATION_METHOD = 0x8C,
    SL_RC_KEEP_ALIVE_TIMEOUT = 0x8D,
    SL_RC_SESSION_TAKEN_OVER = 0x8E,
    SL_RC_TOPIC_FILTER_INVALID = 0x8F,
    SL_RC_TOPIC_NAME_INVALID = 0x90,
    SL_RC_PACKET_ID_IN_USE = 0x91,
    SL_RC_PACKET_ID_NOT_FOUND = 0x92,
    SL_RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93,
    SL_RC_TOPIC_ALIAS_INVALID = 0x94,
    SL_RC_PACKET_TOO_LARGE = 0x95,
    SL_RC_MESSAGE_RATE_TOO_HIGH = 0x96,
    SL_RC_QUOTA_EXCEEDED = 0x97,
    SL_RC_ADMINISTRATIVE_ACTION = 0x98,
    SL_RC_PAYLOAD_FORMAT_INVALID = 0x99,
    SL_RC_RETAIN_NOT_SUPPORTED = 0x9A,
    SL_RC_QOS_NOT_SUPPORTED = 0x9B,
    SL_RC_USE_ANOTHER_SERVER = 0x9C,
    SL_RC_SERVER_MOVED = 0x9D,
    SL_RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E,
    SL_RC_CONNECTION_RATE_EXCEEDED = 0x9F,
    SL_RC_MAXIMUM_CONNECT_TIME = 0xA0,
    SL_RC_SUBSCRIPTION_IDS_NOT_SUPPORTED = 0xA1,
    SL_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2
};

/* The spec's name for code, e.g. "Malformed Packet"; 0x00 is "Success". A code
 * the spec does not define gives "unknown reason code". Never NULL; static. */
const char *sl_reason_name(uint8_t code);

/* As sl_reason_name, but the name that code has in packet_type (enum sl_ptype):
 * 0x00 is "Normal disconnection" in DISCONNECT and "Granted QoS 0" in SUBACK.
 * Falls back to sl_reason_name when the code is not used in that packet. */
const char *sl_reason_name_in(uint8_t packet_type, uint8_t code);

/* True if 5.0 lets packet_type (enum sl_ptype: CONNACK, PUBACK, PUBREC, PUBREL,
 * PUBCOMP, SUBACK, UNSUBACK, DISCONNECT, AUTH) carry code. False for any other
 * packet type and for undefined codes. A sender MUST use one of its packet's
 * codes: [MQTT-3.2.2-8] [MQTT-3.4.2-1] [MQTT-3.5.2-1] [MQTT-3.6.2-1]
 * [MQTT-3.7.2-1] [MQTT-3.9.3-2] [MQTT-3.11.3-2] [MQTT-3.14.2-1] [MQTT-3.15.2-1]. */
bool sl_reason_allowed(uint8_t packet_type, uint8_t code);

#endif

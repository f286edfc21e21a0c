/*
 * reason.c - names of the MQTT 5.0 reason codes and the packets that may carry
 * each, as one table transcribed from 5.0 §2.4 Table 2-6.
 *
 * One row per (code, name): 0x00 has three rows because it has three names. A
 * row's 'packets' is a bit set over enum sl_ptype. The per-packet tables in
 * chapter 3 (§3.2.2.2, §3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1, §3.9.3,
 * §3.11.3, §3.14.2.1, §3.15.2.1) list the same codes; tests/unit/test_reason.c
 * restates those per packet, so a transcription slip here fails a test.
 */
#include "proto/reason.h"

#include <stddef.h>

#include "proto/frame.h"

#define P(t) (1u << SL_PT_##t)

/* Packet sets that recur in Table 2-6. */
#define ACKS_OK                                                                                    \
    (P(CONNACK) | P(PUBACK) | P(PUBREC) | P(PUBREL) | P(PUBCOMP) | P(UNSUBACK) | P(AUTH))
#define GENERAL_ERR (P(CONNACK) | P(PUBACK) | P(PUBREC) | P(SUBACK) | P(UNSUBACK) | P(DISCONNECT))
#define CONN_DISC   (P(CONNACK) | P(DISCONNECT))

struct reason_row {
    uint8_t code;
    uint16_t packets; /* bit (1 << enum sl_ptype) */
    const char *name;
};

static const struct reason_row rows[] = {
    {0x00, ACKS_OK, "Success"},
    {0x00, P(DISCONNECT), "Normal disconnection"},
    {0x00, P(SUBACK), "Granted QoS 0"},
    {0x01, P(SUBACK), "Granted QoS 1"},
    {0x02, P(SUBACK), "Granted QoS 2"},
    {0x04, P(DISCONNECT), "Disconnect with Will Message"},
    {0x10, P(PUBACK) | P(PUBREC), "No matching subscribers"},
    {0x11, P(UNSUBACK), "No subscription existed"},
    {0x18, P(AUTH), "Continue authentication"},
    {0x19, P(AUTH), "Re-authenticate"},
    {0x80, GENERAL_ERR, "Unspecified error"},
    {0x81, CONN_DISC, "Malformed Packet"},
    {0x82, CONN_DISC, "Protocol Error"},
    {0x83, GENERAL_ERR, "Implementation specific error"},
    {0x84, P(CONNACK), "Unsupported Protocol Version"},
    {0x85, P(CONNACK), "Client Identifier not valid"},
    {0x86, P(CONNACK), "Bad User Name or Password"},
    {0x87, GENERAL_ERR, "Not authorized"},
    {0x88, P(CONNACK), "Server unavailable"},
    {0x89, CONN_DISC, "Server busy"},
    {0x8A, P(CONNACK), "Banned"},
    {0x8B, P(DISCONNECT), "Server shutting down"},
    {0x8C, CONN_DISC, "Bad authentication method"},
    {0x8D, P(DISCONNECT), "Keep Alive timeout"},
    {0x8E, P(DISCONNECT), "Session taken over"},
    {0x8F, P(SUBACK) | P(UNSUBACK) | P(DISCONNECT), "Topic Filter invalid"},
    {0x90, P(CONNACK) | P(PUBACK) | P(PUBREC) | P(DISCONNECT), "Topic Name invalid"},
    {0x91, P(PUBACK) | P(PUBREC) | P(SUBACK) | P(UNSUBACK), "Packet Identifier in use"},
    {0x92, P(PUBREL) | P(PUBCOMP), "Packet Identifier not found"},
    {0x93, P(DISCONNECT), "Receive Maximum exceeded"},
    {0x94, P(DISCONNECT), "Topic Alias invalid"},
    {0x95, CONN_DISC, "Packet too large"},
    {0x96, P(DISCONNECT), "Message rate too high"},
    {0x97, P(CONNACK) | P(PUBACK) | P(PUBREC) | P(SUBACK) | P(DISCONNECT), "Quota exceeded"},
    {0x98, P(DISCONNECT), "Administrative action"},
    {0x99, P(CONNACK) | P(PUBACK) | P(PUBREC) | P(DISCONNECT), "Payload format invalid"},
    {0x9A, CONN_DISC, "Retain not supported"},
    {0x9B, CONN_DISC, "QoS not supported"},
    {0x9C, CONN_DISC, "Use another server"},
    {0x9D, CONN_DISC, "Server moved"},
    {0x9E, P(SUBACK) | P(DISCONNECT), "Shared Subscriptions not supported"},
    {0x9F, CONN_DISC, "Connection rate exceeded"},
    {0xA0, P(DISCONNECT), "Maximum connect time"},
    {0xA1, P(SUBACK) | P(DISCONNECT), "Subscription Identifiers not supported"},
    {0xA2, P(SUBACK) | P(DISCONNECT), "Wildcard Subscriptions not supported"},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

/* The packet-type bit, or 0 for a type outside enum sl_ptype (so nothing
 * matches it). */
static uint16_t type_bit(uint8_t packet_type)
{
    return packet_type <= SL_PT_AUTH ? (uint16_t)(1u << packet_type) : 0;
}

const char *sl_reason_name(uint8_t code)
{
    for (size_t i = 0; i < NROWS; i++)
        if (rows[i].code == code) return rows[i].name;
    return "unknown reason code";
}

/* The row for code in packet_type, or NULL when that packet does not use it. */
static const struct reason_row *row_in(uint8_t packet_type, uint8_t code)
{
    uint16_t bit = type_bit(packet_type);

    for (size_t i = 0; i < NROWS; i++)
        if (rows[i].code == code && (rows[i].packets & bit)) return &rows[i];
    return NULL;
}

const char *sl_reason_name_in(uint8_t packet_type, uint8_t code)
{
    const struct reason_row *r = row_in(packet_type, code);
    return r != NULL ? r->name : sl_reason_name(code);
}

bool sl_reason_allowed(uint8_t packet_type, uint8_t code)
{
    return row_in(packet_type, code) != NULL;
}

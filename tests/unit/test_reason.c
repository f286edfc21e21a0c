/*
 * test_reason.c - MQTT 5.0 reason codes: names, and which packet may carry
 * which code. The per-packet lists below are restated from each packet's own
 * table in chapter 3 of the spec (not from Table 2-6, which reason.c
 * transcribes), and every (packet type, code) pair is checked against them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "proto/frame.h"
#include "proto/reason.h"

#define CODES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

static const struct {
    uint8_t type;
    const uint8_t *codes;
    size_t n;
} per_packet[] = {
    /* 5.0 §3.2.2.2 Connect Reason Code values */
    {SL_PT_CONNACK, CODES(0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A,
                          0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F)},
    /* §3.4.2.1 PUBACK and §3.5.2.1 PUBREC Reason Codes */
    {SL_PT_PUBACK, CODES(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99)},
    {SL_PT_PUBREC, CODES(0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99)},
    /* §3.6.2.1 PUBREL and §3.7.2.1 PUBCOMP Reason Codes */
    {SL_PT_PUBREL, CODES(0x00, 0x92)},
    {SL_PT_PUBCOMP, CODES(0x00, 0x92)},
    /* §3.9.3 Subscribe Reason Codes */
    {SL_PT_SUBACK, CODES(0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2)},
    /* §3.11.3 Unsubscribe Reason Codes */
    {SL_PT_UNSUBACK, CODES(0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91)},
    /* §3.14.2.1 Disconnect Reason Code values */
    {SL_PT_DISCONNECT, CODES(0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8B, 0x8C, 0x8D, 0x8E,
                             0x8F, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C,
                             0x9D, 0x9E, 0x9F, 0xA0, 0xA1, 0xA2)},
    /* §3.15.2.1 Authenticate Reason Codes */
    {SL_PT_AUTH, CODES(0x00, 0x18, 0x19)},
};

#define NPACKETS (sizeof(per_packet) / sizeof(per_packet[0]))

static bool listed(uint8_t type, uint8_t code)
{
    for (size_t i = 0; i < NPACKETS; i++) {
        if (per_packet[i].type != type) continue;
        for (size_t k = 0; k < per_packet[i].n; k++)
            if (per_packet[i].codes[k] == code) return true;
    }
    return false;
}

/* Every packet type 0..17 and every code: allowed exactly when listed. Types
 * without a reason code (CONNECT, PUBLISH, SUBSCRIBE, ...) allow none. */
static void test_allowed_matches_packet_tables(void)
{
    int mismatches = 0, allowed = 0;

    for (unsigned type = 0; type <= 17; type++) {
        for (unsigned code = 0; code <= 0xff; code++) {
            bool want = listed((uint8_t)type, (uint8_t)code);
            bool got = sl_reason_allowed((uint8_t)type, (uint8_t)code);
            if (want != got) {
                fprintf(stderr, "type %u code 0x%02x: want %d got %d\n", type, code, want, got);
                mismatches++;
            }
            allowed += got;
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    /* 22 + 9 + 9 + 2 + 2 + 12 + 7 + 30 + 3 */
    CHECK_EQ_INT(allowed, 96);
}

static void test_allowed_spot_checks(void)
{
    CHECK(sl_reason_allowed(SL_PT_CONNACK, SL_RC_SUCCESS));
    CHECK(sl_reason_allowed(SL_PT_CONNACK, SL_RC_UNSUPPORTED_PROTOCOL_VERSION));
    CHECK(!sl_reason_allowed(SL_PT_CONNACK, SL_RC_TOPIC_ALIAS_INVALID)); /* DISCONNECT only */
    CHECK(!sl_reason_allowed(SL_PT_CONNACK, SL_RC_KEEP_ALIVE_TIMEOUT));
    CHECK(!sl_reason_allowed(SL_PT_CONNACK, SL_RC_SERVER_SHUTTING_DOWN));
    CHECK(sl_reason_allowed(SL_PT_DISCONNECT, SL_RC_NORMAL_DISCONNECTION));
    CHECK(sl_reason_allowed(SL_PT_DISCONNECT, SL_RC_DISCONNECT_WITH_WILL));
    CHECK(!sl_reason_allowed(SL_PT_DISCONNECT, SL_RC_UNSUPPORTED_PROTOCOL_VERSION));
    CHECK(!sl_reason_allowed(SL_PT_DISCONNECT, SL_RC_PACKET_ID_IN_USE));
    CHECK(sl_reason_allowed(SL_PT_SUBACK, SL_RC_GRANTED_QOS_2));
    CHECK(!sl_reason_allowed(SL_PT_UNSUBACK, SL_RC_GRANTED_QOS_1));
    CHECK(!sl_reason_allowed(SL_PT_SUBACK, SL_RC_NO_SUBSCRIPTION_EXISTED));
    CHECK(sl_reason_allowed(SL_PT_UNSUBACK, SL_RC_NO_SUBSCRIPTION_EXISTED));
    CHECK(sl_reason_allowed(SL_PT_PUBREC, SL_RC_NO_MATCHING_SUBSCRIBERS));
    CHECK(!sl_reason_allowed(SL_PT_PUBREL, SL_RC_NO_MATCHING_SUBSCRIBERS));
    CHECK(sl_reason_allowed(SL_PT_PUBCOMP, SL_RC_PACKET_ID_NOT_FOUND));
    CHECK(!sl_reason_allowed(SL_PT_PUBACK, SL_RC_PACKET_ID_NOT_FOUND));
    CHECK(!sl_reason_allowed(SL_PT_PUBREL, SL_RC_UNSPECIFIED_ERROR));
    CHECK(sl_reason_allowed(SL_PT_AUTH, SL_RC_CONTINUE_AUTHENTICATION));
    CHECK(sl_reason_allowed(SL_PT_AUTH, SL_RC_REAUTHENTICATE));
    CHECK(!sl_reason_allowed(SL_PT_AUTH, SL_RC_UNSPECIFIED_ERROR));
    CHECK(!sl_reason_allowed(SL_PT_CONNECT, SL_RC_SUCCESS));
    CHECK(!sl_reason_allowed(SL_PT_PUBLISH, SL_RC_SUCCESS));
    CHECK(!sl_reason_allowed(SL_PT_PINGRESP, SL_RC_SUCCESS));
    CHECK(!sl_reason_allowed(200, SL_RC_SUCCESS));
    CHECK(!sl_reason_allowed(SL_PT_DISCONNECT, 0xA3)); /* past the last code */
    CHECK(!sl_reason_allowed(SL_PT_DISCONNECT, 0x03));
}

static void test_enum_values(void)
{
    CHECK_EQ_INT(SL_RC_SUCCESS, 0x00);
    CHECK_EQ_INT(SL_RC_DISCONNECT_WITH_WILL, 0x04);
    CHECK_EQ_INT(SL_RC_NO_MATCHING_SUBSCRIBERS, 0x10);
    CHECK_EQ_INT(SL_RC_REAUTHENTICATE, 0x19);
    CHECK_EQ_INT(SL_RC_MALFORMED_PACKET, 0x81);
    CHECK_EQ_INT(SL_RC_PROTOCOL_ERROR, 0x82);
    CHECK_EQ_INT(SL_RC_BANNED, 0x8A);
    CHECK_EQ_INT(SL_RC_TOPIC_ALIAS_INVALID, 0x94);
    CHECK_EQ_INT(SL_RC_CONNECTION_RATE_EXCEEDED, 0x9F);
    CHECK_EQ_INT(SL_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED, 0xA2);
}

static bool name_is(const char *got, const char *want)
{
    return got != NULL && strcmp(got, want) == 0;
}

static void test_names(void)
{
    CHECK(name_is(sl_reason_name(0x00), "Success"));
    CHECK(name_is(sl_reason_name(0x01), "Granted QoS 1"));
    CHECK(name_is(sl_reason_name(0x04), "Disconnect with Will Message"));
    CHECK(name_is(sl_reason_name(0x11), "No subscription existed"));
    CHECK(name_is(sl_reason_name(0x18), "Continue authentication"));
    CHECK(name_is(sl_reason_name(0x81), "Malformed Packet"));
    CHECK(name_is(sl_reason_name(0x82), "Protocol Error"));
    CHECK(name_is(sl_reason_name(0x86), "Bad User Name or Password"));
    CHECK(name_is(sl_reason_name(0x8E), "Session taken over"));
    CHECK(name_is(sl_reason_name(0x91), "Packet Identifier in use"));
    CHECK(name_is(sl_reason_name(0x9E), "Shared Subscriptions not supported"));
    CHECK(name_is(sl_reason_name(0xA0), "Maximum connect time"));
    CHECK(name_is(sl_reason_name(0xA2), "Wildcard Subscriptions not supported"));
    CHECK(name_is(sl_reason_name(0x03), "unknown reason code"));
    CHECK(name_is(sl_reason_name(0x7F), "unknown reason code"));
    CHECK(name_is(sl_reason_name(0xA3), "unknown reason code"));
    CHECK(name_is(sl_reason_name(0xFF), "unknown reason code"));

    /* 0x00 by packet */
    CHECK(name_is(sl_reason_name_in(SL_PT_DISCONNECT, 0x00), "Normal disconnection"));
    CHECK(name_is(sl_reason_name_in(SL_PT_SUBACK, 0x00), "Granted QoS 0"));
    CHECK(name_is(sl_reason_name_in(SL_PT_PUBACK, 0x00), "Success"));
    CHECK(name_is(sl_reason_name_in(SL_PT_AUTH, 0x00), "Success"));
    /* not used in that packet: the plain name */
    CHECK(name_is(sl_reason_name_in(SL_PT_CONNACK, 0x04), "Disconnect with Will Message"));
    CHECK(name_is(sl_reason_name_in(99, 0x00), "Success"));
    CHECK(name_is(sl_reason_name_in(SL_PT_SUBACK, 0x55), "unknown reason code"));

    /* Every code some packet allows has a name; no other code does. */
    int bad = 0;
    for (unsigned code = 0; code <= 0xff; code++) {
        bool used = false;
        for (unsigned type = 0; type <= 15; type++)
            used |= listed((uint8_t)type, (uint8_t)code);
        bool named = !name_is(sl_reason_name((uint8_t)code), "unknown reason code");
        if (used != named) bad++;
    }
    CHECK_EQ_INT(bad, 0);
}

int main(void)
{
    RUN(test_allowed_matches_packet_tables);
    RUN(test_allowed_spot_checks);
    RUN(test_enum_values);
    RUN(test_names);
    return check_summary();
}

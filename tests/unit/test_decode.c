/*
 * test_decode.c - packet decoders, table-driven: one row per body, the version and
 * flags it is decoded under, and the expected result. Each body is copied into a
 * heap block of exactly its size, so under ASan a read one byte past the end
 * faults (picohttpparser's guard-page idea).
 */
#include <stdlib.h>

#include "check.h"
#include "core/error.h"
#include "proto/decode.h"
#include "proto/frame.h"

#define BODY(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define EMPTY     NULL, 0

/* Length-prefixed strings used below. */
#define MQTT_NAME   0x00, 0x04, 'M', 'Q', 'T', 'T'
#define MQISDP_NAME 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p'
#define S_ABC       0x00, 0x03, 'a', 'b', 'c'
#define S_A_B       0x00, 0x03, 'a', '/', 'b'
#define S_T_X       0x00, 0x03, 't', '/', 'x'
#define S_HI        0x00, 0x02, 'h', 'i'
#define S_USER      0x00, 0x04, 'u', 's', 'e', 'r'
#define S_PASS      0x00, 0x03, 'p', 0x00, 0xff /* binary: NUL and 0xff are fine */

enum kind { CONNECT, PUBLISH, ACK, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT, CONNACK, SUBACK };

/* Keeps the decoded struct of the last decode_copy() for field checks. */
static union {
    struct sl_connect connect;
    struct sl_publish publish;
    struct sl_ack ack;
    struct sl_subscribe subscribe;
    struct sl_unsubscribe unsubscribe;
    struct sl_disconnect disconnect;
    struct sl_connack connack;
    struct sl_suback suback;
} last;

static int decode(enum kind k, const uint8_t *b, size_t len, uint8_t version, uint8_t flags)
{
    switch (k) {
    case CONNECT:
        return sl_decode_connect(b, len, &last.connect);
    case PUBLISH:
        return sl_decode_publish(b, len, flags, version, &last.publish);
    case ACK:
        return sl_decode_ack(b, len, version, &last.ack);
    case SUBSCRIBE:
        return sl_decode_subscribe(b, len, version, &last.subscribe);
    case UNSUBSCRIBE:
        return sl_decode_unsubscribe(b, len, version, &last.unsubscribe);
    case DISCONNECT:
        return sl_decode_disconnect(b, len, version, &last.disconnect);
    case CONNACK:
        return sl_decode_connack(b, len, version, &last.connack);
    case SUBACK:
        return sl_decode_suback(b, len, version, &last.suback);
    }
    return -100;
}

/* Decodes from an exact-size heap copy. The copy stays alive until the next call,
 * so the views in 'last' can be checked. */
static uint8_t *copy_buf;
static int decode_copy(enum kind k, const uint8_t *b, size_t len, uint8_t version, uint8_t flags)
{
    free(copy_buf);
    copy_buf = NULL;
    if (len > 0) {
        copy_buf = malloc(len);
        memcpy(copy_buf, b, len);
    }
    return decode(k, copy_buf, len, version, flags);
}

static bool view_is(struct sl_bytes v, const char *s, size_t n)
{
    return v.len == n && (n == 0 || memcmp(v.ptr, s, n) == 0);
}
#define VIEW_IS(v, lit) view_is((v), (lit), sizeof(lit) - 1)

struct vec {
    const char *name;
    enum kind kind;
    uint8_t version, flags;
    const uint8_t *body;
    size_t len;
    int rc; /* or OK_STRICT: SL_OK, and every proper prefix is malformed */
};
#define OK_STRICT 100

static const struct vec vecs[] = {
    /* ---- CONNECT ---- */
    {"connect 3.1 MQIsdp", CONNECT, 0, 0, BODY(MQISDP_NAME, 3, 0x02, 0x00, 0x3c, S_ABC), OK_STRICT},
    {"connect 3.1.1 minimal", CONNECT, 0, 0, BODY(MQTT_NAME, 4, 0x02, 0x00, 0x3c, S_ABC),
     OK_STRICT},
    {"connect 3.1.1 empty client id", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0x02, 0x00, 0x00, 0x00, 0x00), OK_STRICT},
    {"connect 3.1.1 everything", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0xf6, 0x00, 0x0a, S_ABC, S_T_X, S_HI, S_USER, S_PASS), OK_STRICT},
    {"connect 5.0 props + will props", CONNECT, 0, 0,
     BODY(MQTT_NAME, 5, 0xce, 0x00, 0x1e, 0x05, 0x11, 0x00, 0x00, 0x00, 0x0a, S_ABC, 0x02, 0x01,
          0x01, S_T_X, S_HI, S_USER, S_PASS),
     OK_STRICT},
    {"connect 5.0 empty props", CONNECT, 0, 0, BODY(MQTT_NAME, 5, 0x02, 0x00, 0x3c, 0x00, S_ABC),
     OK_STRICT},
    {"connect 5.0 password without user name", CONNECT, 0, 0,
     BODY(MQTT_NAME, 5, 0x42, 0x00, 0x3c, 0x00, S_ABC, S_PASS), OK_STRICT},
    {"connect bad protocol name", CONNECT, 0, 0,
     BODY(0x00, 0x04, 'M', 'Q', 'T', 'X', 4, 0x02, 0x00, 0x3c, S_ABC), SL_EMALFORMED},
    {"connect lower-case name", CONNECT, 0, 0,
     BODY(0x00, 0x04, 'm', 'q', 't', 't', 4, 0x02, 0x00, 0x3c, S_ABC), SL_EMALFORMED},
    {"connect empty name", CONNECT, 0, 0, BODY(0x00, 0x00, 4, 0x02, 0x00, 0x3c, S_ABC),
     SL_EMALFORMED},
    {"connect level 6", CONNECT, 0, 0, BODY(MQTT_NAME, 6, 0x02, 0x00, 0x3c, S_ABC), SL_EVERSION},
    {"connect level 6, rest garbage", CONNECT, 0, 0, BODY(MQTT_NAME, 6, 0xff), SL_EVERSION},
    {"connect MQTT level 3", CONNECT, 0, 0, BODY(MQTT_NAME, 3, 0x02, 0x00, 0x3c, S_ABC),
     SL_EVERSION},
    {"connect MQIsdp level 4", CONNECT, 0, 0, BODY(MQISDP_NAME, 4, 0x02, 0x00, 0x3c, S_ABC),
     SL_EVERSION},
    {"connect level 0", CONNECT, 0, 0, BODY(MQTT_NAME, 0, 0x02, 0x00, 0x3c, S_ABC), SL_EVERSION},
    {"connect reserved flag", CONNECT, 0, 0, BODY(MQTT_NAME, 4, 0x03, 0x00, 0x3c, S_ABC),
     SL_EMALFORMED},
    {"connect will qos without will", CONNECT, 0, 0, BODY(MQTT_NAME, 4, 0x0a, 0x00, 0x3c, S_ABC),
     SL_EMALFORMED},
    {"connect will retain without will", CONNECT, 0, 0, BODY(MQTT_NAME, 4, 0x22, 0x00, 0x3c, S_ABC),
     SL_EMALFORMED},
    {"connect will qos 3", CONNECT, 0, 0, BODY(MQTT_NAME, 4, 0x1e, 0x00, 0x3c, S_ABC, S_T_X, S_HI),
     SL_EMALFORMED},
    {"connect 3.1.1 password without user name", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0x42, 0x00, 0x3c, S_ABC, S_PASS), SL_EMALFORMED},
    {"connect 3.1 password without user name", CONNECT, 0, 0,
     BODY(MQISDP_NAME, 3, 0x42, 0x00, 0x3c, S_ABC, S_PASS), SL_EMALFORMED},
    {"connect client id overlong NUL", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0x02, 0x00, 0x3c, 0x00, 0x02, 0xc0, 0x80), SL_EMALFORMED},
    {"connect client id with U+0000", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0x02, 0x00, 0x3c, 0x00, 0x02, 'a', 0x00), SL_EMALFORMED},
    {"connect client id surrogate", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0x02, 0x00, 0x3c, 0x00, 0x03, 0xed, 0xa0, 0x80), SL_EMALFORMED},
    {"connect wildcard will topic #", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0x06, 0x00, 0x3c, S_ABC, 0x00, 0x03, 'a', '/', '#', S_HI), SL_EMALFORMED},
    {"connect wildcard will topic +", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0x06, 0x00, 0x3c, S_ABC, 0x00, 0x01, '+', S_HI), SL_EMALFORMED},
    {"connect empty will topic", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0x06, 0x00, 0x3c, S_ABC, 0x00, 0x00, S_HI), SL_EMALFORMED},
    {"connect will topic invalid utf-8", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0x06, 0x00, 0x3c, S_ABC, 0x00, 0x01, 0xff, S_HI), SL_EMALFORMED},
    {"connect user name invalid utf-8", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0x82, 0x00, 0x3c, S_ABC, 0x00, 0x01, 0x80), SL_EMALFORMED},
    {"connect trailing byte", CONNECT, 0, 0, BODY(MQTT_NAME, 4, 0x02, 0x00, 0x3c, S_ABC, 0x00),
     SL_EMALFORMED},
    {"connect user name announced, absent", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0x82, 0x00, 0x3c, S_ABC), SL_EMALFORMED},
    {"connect user name present, not announced", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0x02, 0x00, 0x3c, S_ABC, S_USER), SL_EMALFORMED},
    {"connect client id longer than body", CONNECT, 0, 0,
     BODY(MQTT_NAME, 4, 0x02, 0x00, 0x3c, 0x00, 0x05, 'a'), SL_EMALFORMED},
    {"connect empty body", CONNECT, 0, 0, EMPTY, SL_EMALFORMED},
    {"connect 5.0 missing props", CONNECT, 0, 0, BODY(MQTT_NAME, 5, 0x02, 0x00, 0x3c),
     SL_EMALFORMED},
    {"connect 5.0 props past end", CONNECT, 0, 0, BODY(MQTT_NAME, 5, 0x02, 0x00, 0x3c, 0x09, S_ABC),
     SL_EMALFORMED},
    {"connect 5.0 props length not minimal", CONNECT, 0, 0,
     BODY(MQTT_NAME, 5, 0x02, 0x00, 0x3c, 0x80, 0x00, S_ABC), SL_EMALFORMED},
    {"connect 5.0 will props past end", CONNECT, 0, 0,
     BODY(MQTT_NAME, 5, 0x06, 0x00, 0x3c, 0x00, S_ABC, 0x7f, S_T_X, S_HI), SL_EMALFORMED},
    {"connect 3.1.1 body in 5.0 (no props)", CONNECT, 0, 0,
     BODY(MQTT_NAME, 5, 0x02, 0x00, 0x3c, S_ABC), SL_EMALFORMED},

    /* ---- PUBLISH ---- */
    {"publish qos 0", PUBLISH, 4, 0x0, BODY(S_A_B, 'h', 'e', 'l', 'l', 'o'), SL_OK},
    {"publish qos 0 retain", PUBLISH, 4, 0x1, BODY(S_A_B), SL_OK},
    {"publish qos 1", PUBLISH, 4, 0x2, BODY(S_A_B, 0x00, 0x0a, 'x'), SL_OK},
    {"publish qos 2 dup retain", PUBLISH, 4, 0xd, BODY(S_A_B, 0xff, 0xff), SL_OK},
    {"publish 3.1 qos 1", PUBLISH, 3, 0x2, BODY(S_A_B, 0x00, 0x01), SL_OK},
    {"publish qos 3", PUBLISH, 4, 0x6, BODY(S_A_B, 0x00, 0x0a), SL_EMALFORMED},
    {"publish qos 3 v5", PUBLISH, 5, 0x7, BODY(S_A_B, 0x00, 0x0a, 0x00), SL_EMALFORMED},
    {"publish dup with qos 0", PUBLISH, 4, 0x8, BODY(S_A_B), SL_EMALFORMED},
    {"publish qos 1 packet id 0", PUBLISH, 4, 0x2, BODY(S_A_B, 0x00, 0x00), SL_EMALFORMED},
    {"publish qos 2 packet id 0", PUBLISH, 5, 0x4, BODY(S_A_B, 0x00, 0x00, 0x00), SL_EMALFORMED},
    {"publish qos 1 no packet id", PUBLISH, 4, 0x2, BODY(S_A_B, 0x01), SL_EMALFORMED},
    {"publish topic with +", PUBLISH, 4, 0x0, BODY(0x00, 0x03, 'a', '/', '+'), SL_EMALFORMED},
    {"publish topic #", PUBLISH, 4, 0x0, BODY(0x00, 0x01, '#'), SL_EMALFORMED},
    {"publish topic with # v5", PUBLISH, 5, 0x0, BODY(0x00, 0x02, '#', 'a', 0x00), SL_EMALFORMED},
    {"publish empty topic v4", PUBLISH, 4, 0x0, BODY(0x00, 0x00, 'x'), SL_EMALFORMED},
    {"publish empty topic v3", PUBLISH, 3, 0x0, BODY(0x00, 0x00, 'x'), SL_EMALFORMED},
    {"publish empty topic v5 (alias)", PUBLISH, 5, 0x0, BODY(0x00, 0x00, 0x03, 0x23, 0x00, 0x01),
     SL_OK},
    {"publish topic invalid utf-8", PUBLISH, 4, 0x0, BODY(0x00, 0x02, 0xc3, 0x28), SL_EMALFORMED},
    {"publish topic with U+0000", PUBLISH, 4, 0x0, BODY(0x00, 0x02, 'a', 0x00), SL_EMALFORMED},
    {"publish topic past end", PUBLISH, 4, 0x0, BODY(0x00, 0x04, 'a', '/', 'b'), SL_EMALFORMED},
    {"publish no topic length", PUBLISH, 4, 0x0, BODY(0x00), SL_EMALFORMED},
    {"publish empty body", PUBLISH, 4, 0x0, EMPTY, SL_EMALFORMED},
    {"publish v5 props", PUBLISH, 5, 0x2, BODY(S_A_B, 0x00, 0x07, 0x02, 0x01, 0x01, 'p'), SL_OK},
    {"publish v5 no props length", PUBLISH, 5, 0x0, BODY(S_A_B), SL_EMALFORMED},
    {"publish v5 props past end", PUBLISH, 5, 0x0, BODY(S_A_B, 0x05, 0x01, 0x01), SL_EMALFORMED},
    {"publish v5 props length 5 bytes", PUBLISH, 5, 0x0, BODY(S_A_B, 0xff, 0xff, 0xff, 0xff, 0x01),
     SL_EMALFORMED},

    /* ---- PUBACK / PUBREC / PUBREL / PUBCOMP ---- */
    {"ack v4", ACK, 4, 0, BODY(0x12, 0x34), OK_STRICT},
    {"ack v3", ACK, 3, 0, BODY(0x00, 0x01), OK_STRICT},
    {"ack v4 packet id 0", ACK, 4, 0, BODY(0x00, 0x00), SL_EMALFORMED},
    {"ack v4 3 bytes", ACK, 4, 0, BODY(0x00, 0x01, 0x00), SL_EMALFORMED},
    {"ack v4 4 bytes", ACK, 4, 0, BODY(0x00, 0x01, 0x00, 0x00), SL_EMALFORMED},
    {"ack v4 1 byte", ACK, 4, 0, BODY(0x01), SL_EMALFORMED},
    {"ack v4 empty", ACK, 4, 0, EMPTY, SL_EMALFORMED},
    {"ack v5 2 bytes", ACK, 5, 0, BODY(0x00, 0x01), SL_OK},
    {"ack v5 reason", ACK, 5, 0, BODY(0x00, 0x01, 0x10), SL_OK},
    {"ack v5 reason + empty props", ACK, 5, 0, BODY(0x00, 0x01, 0x92, 0x00), SL_OK},
    {"ack v5 reason + props", ACK, 5, 0, BODY(0x00, 0x01, 0x80, 0x04, 0x1f, 0x00, 0x01, 'x'),
     SL_OK},
    {"ack v5 packet id 0", ACK, 5, 0, BODY(0x00, 0x00, 0x10), SL_EMALFORMED},
    {"ack v5 props past end", ACK, 5, 0, BODY(0x00, 0x01, 0x80, 0x05, 0x1f, 0x00), SL_EMALFORMED},
    {"ack v5 trailing after props", ACK, 5, 0, BODY(0x00, 0x01, 0x00, 0x00, 0xee), SL_EMALFORMED},
    {"ack v5 1 byte", ACK, 5, 0, BODY(0x01), SL_EMALFORMED},

    /* ---- SUBSCRIBE ---- */
    {"subscribe one", SUBSCRIBE, 4, 0, BODY(0x00, 0x0a, S_A_B, 0x01), SL_OK},
    {"subscribe three", SUBSCRIBE, 4, 0,
     BODY(0x00, 0x0a, S_A_B, 0x00, 0x00, 0x01, '#', 0x02, 0x00, 0x03, '+', '/', 'x', 0x01), SL_OK},
    {"subscribe bad syntax is not checked", SUBSCRIBE, 4, 0,
     BODY(0x00, 0x0a, 0x00, 0x05, 'a', '/', '#', '/', 'b', 0x00), SL_OK},
    {"subscribe no filters", SUBSCRIBE, 4, 0, BODY(0x00, 0x0a), SL_EMALFORMED},
    {"subscribe packet id 0", SUBSCRIBE, 4, 0, BODY(0x00, 0x00, S_A_B, 0x01), SL_EMALFORMED},
    {"subscribe v4 options bit 2", SUBSCRIBE, 4, 0, BODY(0x00, 0x0a, S_A_B, 0x04), SL_EMALFORMED},
    {"subscribe v4 options bit 7", SUBSCRIBE, 4, 0, BODY(0x00, 0x0a, S_A_B, 0x80), SL_EMALFORMED},
    {"subscribe v3 options bit 4", SUBSCRIBE, 3, 0, BODY(0x00, 0x0a, S_A_B, 0x10), SL_EMALFORMED},
    {"subscribe qos 3", SUBSCRIBE, 4, 0, BODY(0x00, 0x0a, S_A_B, 0x03), SL_EMALFORMED},
    {"subscribe second qos 3", SUBSCRIBE, 4, 0, BODY(0x00, 0x0a, S_A_B, 0x01, S_T_X, 0x03),
     SL_EMALFORMED},
    {"subscribe empty filter", SUBSCRIBE, 4, 0, BODY(0x00, 0x0a, 0x00, 0x00, 0x01), SL_EMALFORMED},
    {"subscribe filter invalid utf-8", SUBSCRIBE, 4, 0, BODY(0x00, 0x0a, 0x00, 0x01, 0xfe, 0x01),
     SL_EMALFORMED},
    {"subscribe missing options", SUBSCRIBE, 4, 0, BODY(0x00, 0x0a, S_A_B), SL_EMALFORMED},
    {"subscribe filter past end", SUBSCRIBE, 4, 0, BODY(0x00, 0x0a, 0x00, 0x09, 'a', 0x01),
     SL_EMALFORMED},
    {"subscribe lone length byte", SUBSCRIBE, 4, 0, BODY(0x00, 0x0a, S_A_B, 0x01, 0x00),
     SL_EMALFORMED},
    {"subscribe v5 all options", SUBSCRIBE, 5, 0, BODY(0x00, 0x0a, 0x00, S_A_B, 0x2e), SL_OK},
    {"subscribe v5 props", SUBSCRIBE, 5, 0, BODY(0x00, 0x0a, 0x02, 0x0b, 0x01, S_A_B, 0x01), SL_OK},
    {"subscribe v5 retain handling 3", SUBSCRIBE, 5, 0, BODY(0x00, 0x0a, 0x00, S_A_B, 0x30),
     SL_EPROTO},
    {"subscribe v5 bit 6", SUBSCRIBE, 5, 0, BODY(0x00, 0x0a, 0x00, S_A_B, 0x40), SL_EMALFORMED},
    {"subscribe v5 bit 7", SUBSCRIBE, 5, 0, BODY(0x00, 0x0a, 0x00, S_A_B, 0x80), SL_EMALFORMED},
    {"subscribe v5 qos 3", SUBSCRIBE, 5, 0, BODY(0x00, 0x0a, 0x00, S_A_B, 0x07), SL_EPROTO},
    {"subscribe v5 no filters", SUBSCRIBE, 5, 0, BODY(0x00, 0x0a, 0x00), SL_EMALFORMED},
    {"subscribe v5 props past end", SUBSCRIBE, 5, 0, BODY(0x00, 0x0a, 0x08, S_A_B, 0x01),
     SL_EMALFORMED},

    /* ---- UNSUBSCRIBE ---- */
    {"unsubscribe two", UNSUBSCRIBE, 4, 0, BODY(0x00, 0x0b, S_A_B, 0x00, 0x01, '#'), SL_OK},
    {"unsubscribe v5", UNSUBSCRIBE, 5, 0, BODY(0x00, 0x0b, 0x00, S_A_B), SL_OK},
    {"unsubscribe no filters", UNSUBSCRIBE, 4, 0, BODY(0x00, 0x0b), SL_EMALFORMED},
    {"unsubscribe v5 no filters", UNSUBSCRIBE, 5, 0, BODY(0x00, 0x0b, 0x00), SL_EMALFORMED},
    {"unsubscribe packet id 0", UNSUBSCRIBE, 4, 0, BODY(0x00, 0x00, S_A_B), SL_EMALFORMED},
    {"unsubscribe empty filter", UNSUBSCRIBE, 4, 0, BODY(0x00, 0x0b, 0x00, 0x00), SL_EMALFORMED},
    {"unsubscribe invalid utf-8", UNSUBSCRIBE, 4, 0, BODY(0x00, 0x0b, 0x00, 0x01, 0x80),
     SL_EMALFORMED},
    {"unsubscribe filter past end", UNSUBSCRIBE, 4, 0, BODY(0x00, 0x0b, 0x00, 0x04, 'a', 'b'),
     SL_EMALFORMED},
    {"unsubscribe trailing byte", UNSUBSCRIBE, 4, 0, BODY(0x00, 0x0b, S_A_B, 0x00), SL_EMALFORMED},

    /* ---- DISCONNECT ---- */
    {"disconnect v4", DISCONNECT, 4, 0, EMPTY, SL_OK},
    {"disconnect v4 with body", DISCONNECT, 4, 0, BODY(0x00), SL_EMALFORMED},
    {"disconnect v5 empty", DISCONNECT, 5, 0, EMPTY, SL_OK},
    {"disconnect v5 reason", DISCONNECT, 5, 0, BODY(0x04), SL_OK},
    {"disconnect v5 reason + empty props", DISCONNECT, 5, 0, BODY(0x8e, 0x00), SL_OK},
    {"disconnect v5 props", DISCONNECT, 5, 0, BODY(0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x00),
     SL_OK},
    {"disconnect v5 props past end", DISCONNECT, 5, 0, BODY(0x00, 0x05, 0x11), SL_EMALFORMED},
    {"disconnect v5 trailing", DISCONNECT, 5, 0, BODY(0x00, 0x00, 0xff), SL_EMALFORMED},

    /* ---- CONNACK ---- */
    {"connack v4", CONNACK, 4, 0, BODY(0x00, 0x00), OK_STRICT},
    {"connack v4 session present", CONNACK, 4, 0, BODY(0x01, 0x00), OK_STRICT},
    {"connack v4 refused", CONNACK, 4, 0, BODY(0x00, 0x05), OK_STRICT},
    {"connack v4 reserved flag bit", CONNACK, 4, 0, BODY(0x02, 0x00), SL_EMALFORMED},
    {"connack v4 reserved flag bit 7", CONNACK, 4, 0, BODY(0x80, 0x00), SL_EMALFORMED},
    {"connack v4 3 bytes", CONNACK, 4, 0, BODY(0x00, 0x00, 0x00), SL_EMALFORMED},
    {"connack v5", CONNACK, 5, 0, BODY(0x00, 0x00, 0x00), OK_STRICT},
    {"connack v5 props", CONNACK, 5, 0, BODY(0x01, 0x00, 0x03, 0x21, 0x00, 0x0a), OK_STRICT},
    {"connack v5 no props", CONNACK, 5, 0, BODY(0x00, 0x00), SL_EMALFORMED},
    {"connack v5 trailing", CONNACK, 5, 0, BODY(0x00, 0x00, 0x00, 0x00), SL_EMALFORMED},
    {"connack v5 reserved flag bit", CONNACK, 5, 0, BODY(0x04, 0x00, 0x00), SL_EMALFORMED},

    /* ---- SUBACK (and 5.0 UNSUBACK) ---- */
    {"suback v4", SUBACK, 4, 0, BODY(0x00, 0x0a, 0x00, 0x01, 0x80), SL_OK},
    {"suback v4 no codes", SUBACK, 4, 0, BODY(0x00, 0x0a), SL_EMALFORMED},
    {"suback v4 packet id 0", SUBACK, 4, 0, BODY(0x00, 0x00, 0x01), SL_EMALFORMED},
    {"suback v5", SUBACK, 5, 0, BODY(0x00, 0x0a, 0x00, 0x02), OK_STRICT},
    {"suback v5 props", SUBACK, 5, 0, BODY(0x00, 0x0a, 0x03, 0x1f, 0x00, 0x00, 0x87, 0x00), SL_OK},
    {"suback v5 no codes", SUBACK, 5, 0, BODY(0x00, 0x0a, 0x00), SL_EMALFORMED},
    {"suback v5 props past end", SUBACK, 5, 0, BODY(0x00, 0x0a, 0x04, 0x00), SL_EMALFORMED},
};

static void test_vectors(void)
{
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        const struct vec *v = &vecs[i];
        int want = v->rc == OK_STRICT ? SL_OK : v->rc;
        int rc = decode_copy(v->kind, v->body, v->len, v->version, v->flags);
        if (rc != want) {
            fprintf(stderr, "  '%s': got %d (%s), want %d\n", v->name, rc, sl_strerror(rc), want);
            CHECK_EQ_INT(rc, want);
        }
    }
}

/* Truncating a valid body must never produce SL_OK for fixed-layout packets, and
 * never read out of bounds for any packet. */
static void test_truncations(void)
{
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        const struct vec *v = &vecs[i];
        for (size_t n = 0; n < v->len; n++) {
            int rc = decode_copy(v->kind, v->body, n, v->version, v->flags);
            if (v->rc == OK_STRICT && rc == SL_OK) {
                fprintf(stderr, "  '%s' cut to %zu bytes decoded\n", v->name, n);
                CHECK(rc != SL_OK);
            }
        }
    }
}

static void test_connect_31(void)
{
    CHECK_EQ_INT(decode_copy(CONNECT, BODY(MQISDP_NAME, 3, 0x02, 0x00, 0x3c, S_ABC), 0, 0), SL_OK);
    const struct sl_connect *c = &last.connect;
    CHECK_EQ_INT(c->version, SL_MQTT_31);
    CHECK(c->clean_start);
    CHECK_EQ_INT(c->keepalive, 60);
    CHECK(VIEW_IS(c->client_id, "abc"));
    CHECK(!c->will && !c->has_username && !c->has_password);
    CHECK_EQ_INT(c->props.len, 0);
}

static void test_connect_311_everything(void)
{
    CHECK_EQ_INT(
        decode_copy(CONNECT,
                    BODY(MQTT_NAME, 4, 0xf6, 0x01, 0x02, S_ABC, S_T_X, S_HI, S_USER, S_PASS), 0, 0),
        SL_OK);
    const struct sl_connect *c = &last.connect;
    CHECK_EQ_INT(c->version, SL_MQTT_311);
    CHECK(c->clean_start);
    CHECK_EQ_INT(c->keepalive, 0x0102);
    CHECK(VIEW_IS(c->client_id, "abc"));
    CHECK(c->will);
    CHECK_EQ_INT(c->will_qos, 2);
    CHECK(c->will_retain);
    CHECK(VIEW_IS(c->will_topic, "t/x"));
    CHECK(VIEW_IS(c->will_payload, "hi"));
    CHECK(c->has_username && VIEW_IS(c->username, "user"));
    CHECK(c->has_password && VIEW_IS(c->password, "p\0\xff"));
    CHECK_EQ_INT(c->props.len, 0);
    CHECK_EQ_INT(c->will_props.len, 0);
}

static void test_connect_5_props(void)
{
    CHECK_EQ_INT(decode_copy(CONNECT,
                             BODY(MQTT_NAME, 5, 0xce, 0x00, 0x1e, 0x05, 0x11, 0x00, 0x00, 0x00,
                                  0x0a, S_ABC, 0x02, 0x01, 0x01, S_T_X, S_HI, S_USER, S_PASS),
                             0, 0),
                 SL_OK);
    const struct sl_connect *c = &last.connect;
    CHECK_EQ_INT(c->version, SL_MQTT_5);
    CHECK(c->clean_start);
    CHECK_EQ_INT(c->keepalive, 30);
    CHECK(VIEW_IS(c->props, "\x11\x00\x00\x00\x0a"));
    CHECK(VIEW_IS(c->client_id, "abc"));
    CHECK(c->will && c->will_qos == 1 && !c->will_retain);
    CHECK(VIEW_IS(c->will_props, "\x01\x01"));
    CHECK(VIEW_IS(c->will_topic, "t/x"));
    CHECK(VIEW_IS(c->will_payload, "hi"));
    CHECK(VIEW_IS(c->username, "user"));
    CHECK(VIEW_IS(c->password, "p\0\xff"));
}

static void test_connect_version_reported(void)
{
    CHECK_EQ_INT(decode_copy(CONNECT, BODY(MQTT_NAME, 6, 0x02), 0, 0), SL_EVERSION);
    CHECK_EQ_INT(last.connect.version, 6);
    CHECK_EQ_INT(decode_copy(CONNECT, BODY(MQTT_NAME, 5, 0x01, 0, 0, 0, S_ABC), 0, 0),
                 SL_EMALFORMED);
    CHECK_EQ_INT(last.connect.version, 5);
}

static void test_publish_fields(void)
{
    CHECK_EQ_INT(decode_copy(PUBLISH, BODY(S_A_B, 'h', 'e', 'l', 'l', 'o'), 4, 0x0), SL_OK);
    struct sl_publish *p = &last.publish;
    CHECK(p->qos == 0 && !p->dup && !p->retain);
    CHECK(VIEW_IS(p->topic, "a/b"));
    CHECK_EQ_INT(p->packet_id, 0);
    CHECK(VIEW_IS(p->payload, "hello"));
    CHECK_EQ_INT(p->props.len, 0);

    CHECK_EQ_INT(decode_copy(PUBLISH, BODY(S_A_B, 0xff, 0xfe, 'x'), 4, 0xd), SL_OK);
    CHECK(p->qos == 2 && p->dup && p->retain);
    CHECK_EQ_INT(p->packet_id, 0xfffe);
    CHECK(VIEW_IS(p->payload, "x"));

    CHECK_EQ_INT(decode_copy(PUBLISH, BODY(S_A_B, 0x00, 0x07), 4, 0x3), SL_OK);
    CHECK(p->qos == 1 && p->retain && p->packet_id == 7 && p->payload.len == 0);

    CHECK_EQ_INT(decode_copy(PUBLISH, BODY(S_A_B, 0x00, 0x07, 0x02, 0x01, 0x01, 'p'), 5, 0x2),
                 SL_OK);
    CHECK(p->qos == 1 && p->packet_id == 7);
    CHECK(VIEW_IS(p->props, "\x01\x01"));
    CHECK(VIEW_IS(p->payload, "p"));

    CHECK_EQ_INT(decode_copy(PUBLISH, BODY(0x00, 0x00, 0x03, 0x23, 0x00, 0x01), 5, 0x0), SL_OK);
    CHECK_EQ_INT(p->topic.len, 0);
    CHECK(VIEW_IS(p->props, "\x23\x00\x01"));
    CHECK_EQ_INT(p->payload.len, 0);
}

static void test_ack_fields(void)
{
    struct sl_ack *a = &last.ack;
    CHECK_EQ_INT(decode_copy(ACK, BODY(0x12, 0x34), 4, 0), SL_OK);
    CHECK(a->packet_id == 0x1234 && a->reason == 0 && a->props.len == 0);
    CHECK_EQ_INT(decode_copy(ACK, BODY(0x12, 0x34), 5, 0), SL_OK);
    CHECK(a->packet_id == 0x1234 && a->reason == 0 && a->props.len == 0);
    CHECK_EQ_INT(decode_copy(ACK, BODY(0x00, 0x01, 0x10), 5, 0), SL_OK);
    CHECK(a->packet_id == 1 && a->reason == 0x10 && a->props.len == 0);
    CHECK_EQ_INT(decode_copy(ACK, BODY(0x00, 0x02, 0x92, 0x00), 5, 0), SL_OK);
    CHECK(a->packet_id == 2 && a->reason == 0x92 && a->props.len == 0);
    CHECK_EQ_INT(decode_copy(ACK, BODY(0x00, 0x03, 0x80, 0x04, 0x1f, 0x00, 0x01, 'x'), 5, 0),
                 SL_OK);
    CHECK(a->packet_id == 3 && a->reason == 0x80);
    CHECK(VIEW_IS(a->props, "\x1f\x00\x01x"));
}

static void test_subscribe_iterate(void)
{
    static const char *want_f[] = {"a/b", "#", "+/x"};
    static const uint8_t want_o[] = {0, 2, 1};
    CHECK_EQ_INT(decode_copy(SUBSCRIBE,
                             BODY(0x00, 0x0a, S_A_B, 0x00, 0x00, 0x01, '#', 0x02, 0x00, 0x03, '+',
                                  '/', 'x', 0x01),
                             4, 0),
                 SL_OK);
    struct sl_subscribe *s = &last.subscribe;
    CHECK_EQ_INT(s->packet_id, 10);
    CHECK_EQ_INT(s->count, 3);
    CHECK_EQ_INT(s->props.len, 0);

    struct sl_sub_iter it;
    struct sl_bytes f;
    uint8_t o;
    uint32_t n = 0;
    sl_sub_iter_init(&it, s->list, true);
    while (sl_sub_iter_next(&it, &f, &o)) {
        CHECK(n < 3);
        if (n >= 3) break;
        CHECK(view_is(f, want_f[n], strlen(want_f[n])));
        CHECK_EQ_INT(o, want_o[n]);
        n++;
    }
    CHECK_EQ_INT(n, s->count);
    CHECK(!sl_sub_iter_next(&it, &f, &o)); /* stays at the end */
}

static void test_subscribe_v5_fields(void)
{
    CHECK_EQ_INT(
        decode_copy(SUBSCRIBE, BODY(0x00, 0x0a, 0x02, 0x0b, 0x01, S_A_B, 0x2e, S_T_X, 0x00), 5, 0),
        SL_OK);
    struct sl_subscribe *s = &last.subscribe;
    CHECK_EQ_INT(s->count, 2);
    CHECK(VIEW_IS(s->props, "\x0b\x01"));
    struct sl_sub_iter it;
    struct sl_bytes f;
    uint8_t o;
    sl_sub_iter_init(&it, s->list, true);
    CHECK(sl_sub_iter_next(&it, &f, &o));
    CHECK(VIEW_IS(f, "a/b"));
    CHECK_EQ_INT(o, 0x2e); /* QoS 2, No Local, Retain As Published, Retain Handling 2 */
    CHECK(sl_sub_iter_next(&it, &f, NULL)); /* options may be NULL */
    CHECK(VIEW_IS(f, "t/x"));
    CHECK(!sl_sub_iter_next(&it, &f, &o));
}

static void test_unsubscribe_iterate(void)
{
    CHECK_EQ_INT(decode_copy(UNSUBSCRIBE, BODY(0x00, 0x0b, S_A_B, 0x00, 0x01, '#'), 4, 0), SL_OK);
    struct sl_unsubscribe *u = &last.unsubscribe;
    CHECK_EQ_INT(u->packet_id, 11);
    CHECK_EQ_INT(u->count, 2);
    struct sl_sub_iter it;
    struct sl_bytes f;
    uint8_t o = 99;
    sl_sub_iter_init(&it, u->list, false);
    CHECK(sl_sub_iter_next(&it, &f, &o));
    CHECK(VIEW_IS(f, "a/b"));
    CHECK_EQ_INT(o, 0);
    CHECK(sl_sub_iter_next(&it, &f, &o));
    CHECK(VIEW_IS(f, "#"));
    CHECK(!sl_sub_iter_next(&it, &f, &o));
}

/* The iterator stays inside its list even when misused. */
static void test_iter_misuse(void)
{
    struct sl_sub_iter it;
    struct sl_bytes f;
    uint8_t o;
    struct sl_bytes empty = {NULL, 0};
    sl_sub_iter_init(&it, empty, true);
    CHECK(!sl_sub_iter_next(&it, &f, &o));

    /* An UNSUBSCRIBE list walked as if it had options: the last item is short. */
    CHECK_EQ_INT(decode_copy(UNSUBSCRIBE, BODY(0x00, 0x0b, S_A_B), 4, 0), SL_OK);
    sl_sub_iter_init(&it, last.unsubscribe.list, true);
    CHECK(!sl_sub_iter_next(&it, &f, &o));

    const uint8_t junk[] = {0x00, 0x05, 'a'};
    struct sl_bytes j = {junk, sizeof(junk)};
    sl_sub_iter_init(&it, j, false);
    CHECK(!sl_sub_iter_next(&it, &f, &o));
    struct sl_bytes one = {junk, 1};
    sl_sub_iter_init(&it, one, false);
    CHECK(!sl_sub_iter_next(&it, &f, &o));
}

static void test_disconnect_fields(void)
{
    struct sl_disconnect *d = &last.disconnect;
    CHECK_EQ_INT(decode_copy(DISCONNECT, EMPTY, 5, 0), SL_OK);
    CHECK(d->reason == 0 && d->props.len == 0);
    CHECK_EQ_INT(decode_copy(DISCONNECT, BODY(0x04), 5, 0), SL_OK);
    CHECK(d->reason == 4 && d->props.len == 0);
    CHECK_EQ_INT(decode_copy(DISCONNECT, BODY(0x00, 0x05, 0x11, 0x00, 0x00, 0x00, 0x3c), 5, 0),
                 SL_OK);
    CHECK(d->reason == 0);
    CHECK(VIEW_IS(d->props, "\x11\x00\x00\x00\x3c"));
}

static void test_connack_suback_fields(void)
{
    struct sl_connack *c = &last.connack;
    CHECK_EQ_INT(decode_copy(CONNACK, BODY(0x01, 0x00), 4, 0), SL_OK);
    CHECK(c->session_present && c->code == 0 && c->props.len == 0);
    CHECK_EQ_INT(decode_copy(CONNACK, BODY(0x00, 0x05), 3, 0), SL_OK);
    CHECK(!c->session_present && c->code == 5);
    CHECK_EQ_INT(decode_copy(CONNACK, BODY(0x01, 0x86, 0x03, 0x21, 0x00, 0x0a), 5, 0), SL_OK);
    CHECK(c->session_present && c->code == 0x86);
    CHECK(VIEW_IS(c->props, "\x21\x00\x0a"));

    struct sl_suback *s = &last.suback;
    CHECK_EQ_INT(decode_copy(SUBACK, BODY(0x00, 0x0a, 0x00, 0x01, 0x80), 4, 0), SL_OK);
    CHECK(s->packet_id == 10 && s->props.len == 0);
    CHECK(VIEW_IS(s->codes, "\x00\x01\x80"));
    CHECK_EQ_INT(decode_copy(SUBACK, BODY(0x00, 0x0b, 0x03, 0x1f, 0x00, 0x00, 0x87, 0x00), 5, 0),
                 SL_OK);
    CHECK(s->packet_id == 11);
    CHECK(VIEW_IS(s->props, "\x1f\x00\x00"));
    CHECK(VIEW_IS(s->codes, "\x87\x00"));
}

/* A long string and a maximum-length (65,535-byte) topic are read exactly. */
static void test_long_fields(void)
{
    size_t tlen = 65535, len = 2 + tlen + 2;
    uint8_t *b = malloc(len);
    b[0] = 0xff;
    b[1] = 0xff;
    memset(b + 2, 'x', tlen);
    b[2 + tlen] = 'p';
    b[3 + tlen] = 'q';
    CHECK_EQ_INT(decode_copy(PUBLISH, b, len, 4, 0), SL_OK);
    CHECK_EQ_INT(last.publish.topic.len, tlen);
    CHECK(VIEW_IS(last.publish.payload, "pq"));
    b[100] = '#';
    CHECK_EQ_INT(decode_copy(PUBLISH, b, len, 4, 0), SL_EMALFORMED);
    free(b);
}

int main(void)
{
    RUN(test_vectors);
    RUN(test_truncations);
    RUN(test_connect_31);
    RUN(test_connect_311_everything);
    RUN(test_connect_5_props);
    RUN(test_connect_version_reported);
    RUN(test_publish_fields);
    RUN(test_ack_fields);
    RUN(test_subscribe_iterate);
    RUN(test_subscribe_v5_fields);
    RUN(test_unsubscribe_iterate);
    RUN(test_iter_misuse);
    RUN(test_disconnect_fields);
    RUN(test_connack_suback_fields);
    RUN(test_long_fields);
    free(copy_buf);
    return check_summary();
}

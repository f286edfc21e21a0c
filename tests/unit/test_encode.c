/*
 * test_encode.c - encoders write the exact bytes the spec prescribes, their _size
 * functions agree with what they write, and their output decodes back to the same
 * values through frame.c and decode.c.
 */
#include <stdlib.h>

#include "check.h"
#include "core/error.h"
#include "proto/decode.h"
#include "proto/encode.h"
#include "proto/frame.h"
#include "proto/varint.h"

#define BYTES(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})
#define U(s)       (const uint8_t *)(s), (sizeof(s) - 1)

/* Encoded output must equal want; and the encoder must not write past n. */
static void check_bytes(const uint8_t *out, size_t n, const uint8_t *want, size_t want_len)
{
    CHECK_EQ_INT(n, want_len);
    if (n == want_len) CHECK_MEM(out, want, n);
}

/* Splits a packet into frame + body and checks the frame covers it exactly. */
static const uint8_t *frame_of(const uint8_t *pkt, size_t n, struct sl_frame *f)
{
    CHECK_EQ_INT(sl_frame_parse(pkt, n, f), SL_OK);
    CHECK_EQ_INT(f->header_len + f->remaining, n);
    return pkt + f->header_len;
}

static void test_connack311(void)
{
    uint8_t out[SL_CONNACK311_SIZE + 1];
    out[SL_CONNACK311_SIZE] = 0xee;
    check_bytes(out, sl_encode_connack311(out, false, 0), BYTES(0x20, 0x02, 0x00, 0x00));
    check_bytes(out, sl_encode_connack311(out, true, 0), BYTES(0x20, 0x02, 0x01, 0x00));
    check_bytes(out, sl_encode_connack311(out, false, 5), BYTES(0x20, 0x02, 0x00, 0x05));
    CHECK_EQ_INT(out[SL_CONNACK311_SIZE], 0xee);

    struct sl_frame f;
    struct sl_connack c;
    sl_encode_connack311(out, true, 0);
    const uint8_t *body = frame_of(out, SL_CONNACK311_SIZE, &f);
    CHECK_EQ_INT(f.type, SL_PT_CONNACK);
    CHECK_EQ_INT(sl_decode_connack(body, f.remaining, 4, &c), SL_OK);
    CHECK(c.session_present && c.code == 0);
}

static void test_ack311(void)
{
    static const struct {
        uint8_t type, b0;
    } t[] = {
        {SL_PT_PUBACK, 0x40}, {SL_PT_PUBREC, 0x50}, {SL_PT_PUBREL, 0x62}, {SL_PT_PUBCOMP, 0x70}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        uint8_t out[SL_ACK311_SIZE];
        size_t n = sl_encode_ack311(out, t[i].type, 0xbeef);
        const uint8_t want[] = {t[i].b0, 0x02, 0xbe, 0xef};
        check_bytes(out, n, want, sizeof(want));

        /* Round trip, including the server-inbound flag check ([MQTT-3.6.1-1]). */
        struct sl_frame f;
        struct sl_ack a;
        const uint8_t *body = frame_of(out, n, &f);
        CHECK_EQ_INT(f.type, t[i].type);
        CHECK_EQ_INT(sl_frame_check_server_inbound(&f, 4), SL_OK);
        CHECK_EQ_INT(sl_decode_ack(body, f.remaining, 4, &a), SL_OK);
        CHECK_EQ_INT(a.packet_id, 0xbeef);
        CHECK_EQ_INT(sl_decode_ack(body, f.remaining, 5, &a), SL_OK); /* 5.0 short form */
        CHECK(a.packet_id == 0xbeef && a.reason == 0);
    }
}

static void test_suback(void)
{
    const uint8_t codes[] = {0x00, 0x01, 0x02, 0x80};
    uint8_t out[16];

    CHECK_EQ_INT(sl_encode_suback_size(4, 4), 8);
    check_bytes(out, sl_encode_suback(out, 4, 0x0102, codes, 4),
                BYTES(0x90, 0x06, 0x01, 0x02, 0x00, 0x01, 0x02, 0x80));
    CHECK_EQ_INT(sl_encode_suback_size(5, 4), 9);
    check_bytes(out, sl_encode_suback(out, 5, 0x0102, codes, 4),
                BYTES(0x90, 0x07, 0x01, 0x02, 0x00, 0x00, 0x01, 0x02, 0x80));
    CHECK_EQ_INT(sl_encode_suback_size(3, 1), 5);
    check_bytes(out, sl_encode_suback(out, 3, 7, codes + 3, 1),
                BYTES(0x90, 0x03, 0x00, 0x07, 0x80));

    for (uint8_t v = 3; v <= 5; v++) {
        struct sl_frame f;
        struct sl_suback s;
        size_t n = sl_encode_suback(out, v, 0x0a0b, codes, 4);
        CHECK_EQ_INT(n, sl_encode_suback_size(v, 4));
        const uint8_t *body = frame_of(out, n, &f);
        CHECK_EQ_INT(f.type, SL_PT_SUBACK);
        CHECK_EQ_INT(sl_decode_suback(body, f.remaining, v, &s), SL_OK);
        CHECK_EQ_INT(s.packet_id, 0x0a0b);
        CHECK_EQ_INT(s.props.len, 0);
        CHECK_EQ_INT(s.codes.len, 4);
        CHECK_MEM(s.codes.ptr, codes, 4);
    }
}

/* A SUBACK large enough to need a two-byte remaining length. */
static void test_suback_large(void)
{
    size_t ncodes = 300;
    uint8_t *codes = malloc(ncodes), *out;
    for (size_t i = 0; i < ncodes; i++)
        codes[i] = (uint8_t)(i % 3);
    size_t size = sl_encode_suback_size(5, ncodes);
    CHECK_EQ_INT(size, 1 + 2 + 2 + 1 + ncodes);
    out = malloc(size);
    CHECK_EQ_INT(sl_encode_suback(out, 5, 9, codes, ncodes), size);
    struct sl_frame f;
    struct sl_suback s;
    const uint8_t *body = frame_of(out, size, &f);
    CHECK_EQ_INT(f.header_len, 3);
    CHECK_EQ_INT(sl_decode_suback(body, f.remaining, 5, &s), SL_OK);
    CHECK_EQ_INT(s.codes.len, ncodes);
    CHECK_MEM(s.codes.ptr, codes, ncodes);
    free(out);
    free(codes);
}

static void test_unsuback_pingresp_disconnect(void)
{
    uint8_t out[4];
    check_bytes(out, sl_encode_unsuback311(out, 0x1234), BYTES(0xb0, 0x02, 0x12, 0x34));
    check_bytes(out, sl_encode_pingresp(out), BYTES(0xd0, 0x00));
    check_bytes(out, sl_encode_disconnect311(out), BYTES(0xe0, 0x00));
    CHECK_EQ_INT(SL_UNSUBACK311_SIZE, 4);
    CHECK_EQ_INT(SL_PINGRESP_SIZE, 2);
    CHECK_EQ_INT(SL_DISCONNECT311_SIZE, 2);

    struct sl_frame f;
    struct sl_disconnect d;
    sl_encode_disconnect311(out);
    const uint8_t *body = frame_of(out, 2, &f);
    CHECK_EQ_INT(sl_frame_check_server_inbound(&f, 4), SL_OK);
    CHECK_EQ_INT(sl_decode_disconnect(body, f.remaining, 4, &d), SL_OK);
}

static void test_u16(void)
{
    uint8_t out[2];
    check_bytes(out, sl_encode_u16(out, 0), BYTES(0x00, 0x00));
    check_bytes(out, sl_encode_u16(out, 0xff01), BYTES(0xff, 0x01));
}

static void test_publish_remaining(void)
{
    CHECK_EQ_INT(sl_publish_remaining(4, 3, 0, 0, 5), 2 + 3 + 5);
    CHECK_EQ_INT(sl_publish_remaining(4, 3, 1, 99, 5), 2 + 3 + 2 + 5); /* props ignored */
    CHECK_EQ_INT(sl_publish_remaining(3, 3, 2, 0, 0), 2 + 3 + 2);
    CHECK_EQ_INT(sl_publish_remaining(5, 3, 0, 0, 5), 2 + 3 + 1 + 5);
    CHECK_EQ_INT(sl_publish_remaining(5, 3, 1, 127, 0), 2 + 3 + 2 + 1 + 127);
    CHECK_EQ_INT(sl_publish_remaining(5, 3, 1, 128, 0), 2 + 3 + 2 + 2 + 128);
    CHECK_EQ_INT(sl_publish_remaining(4, 0, 0, 0, SL_VARINT_MAX - 2), SL_VARINT_MAX);
    /* Over the limit: a value no size check lets through. */
    CHECK_EQ_INT(sl_publish_remaining(4, 0, 0, 0, SL_VARINT_MAX - 1), UINT32_MAX);
    CHECK_EQ_INT(sl_publish_remaining(5, 0, 0, SL_VARINT_MAX, 0), UINT32_MAX);
    CHECK_EQ_INT(sl_publish_remaining(5, 10, 2, (size_t)-1, 10), UINT32_MAX);
    CHECK_EQ_INT(sl_publish_remaining(4, 10, 2, 0, (size_t)-1), UINT32_MAX);
}

static void test_publish_head(void)
{
    uint8_t out[SL_PUBLISH_HEAD_MAX];
    check_bytes(out, sl_encode_publish_head(out, 0, false, false, 10, 3),
                BYTES(0x30, 0x0a, 0x00, 0x03));
    check_bytes(out, sl_encode_publish_head(out, 1, true, false, 10, 3),
                BYTES(0x33, 0x0a, 0x00, 0x03));
    check_bytes(out, sl_encode_publish_head(out, 2, true, true, 200, 0x0102),
                BYTES(0x3d, 0xc8, 0x01, 0x01, 0x02));
    check_bytes(out, sl_encode_publish_head(out, 1, false, true, SL_VARINT_MAX, 0xffff),
                BYTES(0x3a, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff));
}

/* Builds a whole PUBLISH the way the broker does, then decodes it. */
static size_t build_publish(uint8_t *out, uint8_t version, uint8_t qos, bool retain, bool dup,
                            const char *topic, uint16_t pid, const uint8_t *props, size_t props_len,
                            const char *payload)
{
    size_t tlen = strlen(topic), plen = strlen(payload), n;
    uint32_t rem = sl_publish_remaining(version, tlen, qos, props_len, plen);

    n = sl_encode_publish_head(out, qos, retain, dup, rem, (uint16_t)tlen);
    memcpy(out + n, topic, tlen);
    n += tlen;
    if (qos > 0) n += sl_encode_u16(out + n, pid);
    if (version == 5) {
        n += sl_varint_encode(out + n, (uint32_t)props_len);
        if (props_len) memcpy(out + n, props, props_len);
        n += props_len;
    }
    memcpy(out + n, payload, plen);
    return n + plen;
}

static void test_publish_round_trip(void)
{
    static const struct {
        uint8_t version, qos;
        bool retain, dup;
        const char *topic;
        uint16_t pid;
        size_t props_len;
        const char *payload;
    } t[] = {
        {4, 0, false, false, "a/b", 0, 0, "hello"},
        {4, 1, true, false, "sensors/temp", 7, 0, ""},
        {4, 2, false, true, "x", 0xffff, 0, "payload"},
        {3, 1, false, false, "legacy", 1, 0, "v3.1"},
        {5, 0, false, false, "a/b", 0, 0, "hello"},
        {5, 1, true, true, "a/b", 42, 3, "with props"},
        {5, 2, false, false, "", 9, 3, "alias only"},
    };
    const uint8_t props[3] = {0x23, 0x00, 0x01}; /* topic alias 1 */

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        uint8_t out[128];
        struct sl_frame f;
        struct sl_publish p;
        size_t n = build_publish(out, t[i].version, t[i].qos, t[i].retain, t[i].dup, t[i].topic,
                                 t[i].pid, props, t[i].props_len, t[i].payload);
        const uint8_t *body = frame_of(out, n, &f);
        CHECK_EQ_INT(f.type, SL_PT_PUBLISH);
        CHECK_EQ_INT(sl_frame_check_server_inbound(&f, t[i].version), SL_OK);
        CHECK_EQ_INT(sl_decode_publish(body, f.remaining, f.flags, t[i].version, &p), SL_OK);
        CHECK(p.qos == t[i].qos && p.retain == t[i].retain && p.dup == t[i].dup);
        CHECK_EQ_INT(p.topic.len, strlen(t[i].topic));
        CHECK_MEM(p.topic.ptr, t[i].topic, p.topic.len);
        CHECK_EQ_INT(p.packet_id, t[i].qos ? t[i].pid : 0);
        CHECK_EQ_INT(p.props.len, t[i].version == 5 ? t[i].props_len : 0);
        CHECK_EQ_INT(p.payload.len, strlen(t[i].payload));
        CHECK_MEM(p.payload.ptr, t[i].payload, p.payload.len);
    }
}

static void test_publish_exact_bytes(void)
{
    uint8_t out[64];
    size_t n = build_publish(out, 4, 1, false, false, "a/b", 10, NULL, 0, "hi");
    check_bytes(out, n, BYTES(0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0a, 'h', 'i'));
    n = build_publish(out, 5, 0, true, false, "a/b", 0, NULL, 0, "hi");
    check_bytes(out, n, BYTES(0x31, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 'h', 'i'));
}

static void test_connect_exact_bytes(void)
{
    uint8_t out[128];
    struct sl_connect_params p = {0};
    p.version = 4;
    p.clean_start = true;
    p.keepalive = 60;
    p.client_id = (const uint8_t *)"abc";
    p.client_id_len = 3;
    const uint8_t want311[] = {0x10, 0x0f, 0x00, 0x04, 'M',  'Q', 'T', 'T', 0x04,
                               0x02, 0x00, 0x3c, 0x00, 0x03, 'a', 'b', 'c'};
    CHECK_EQ_INT(sl_encode_connect_size(&p), sizeof(want311));
    check_bytes(out, sl_encode_connect(out, &p), want311, sizeof(want311));

    p.version = 3;
    const uint8_t want31[] = {0x10, 0x11, 0x00, 0x06, 'M',  'Q',  'I', 's', 'd', 'p',
                              0x03, 0x02, 0x00, 0x3c, 0x00, 0x03, 'a', 'b', 'c'};
    CHECK_EQ_INT(sl_encode_connect_size(&p), sizeof(want31));
    check_bytes(out, sl_encode_connect(out, &p), want31, sizeof(want31));

    p.version = 5;
    p.clean_start = false;
    p.will_topic = (const uint8_t *)"t/x";
    p.will_topic_len = 3;
    p.will_payload = (const uint8_t *)"hi";
    p.will_payload_len = 2;
    p.will_qos = 1;
    p.will_retain = true;
    p.username = (const uint8_t *)"u";
    p.username_len = 1;
    p.password = (const uint8_t *)"pw";
    p.password_len = 2;
    const uint8_t want5[] = {0x10, 0x21, 0x00, 0x04, 'M',  'Q',  'T',  'T',  0x05, 0xec, 0x00, 0x3c,
                             0x00, 0x00, 0x03, 'a',  'b',  'c',  0x00, 0x00, 0x03, 't',  '/',  'x',
                             0x00, 0x02, 'h',  'i',  0x00, 0x01, 'u',  0x00, 0x02, 'p',  'w'};
    CHECK_EQ_INT(sl_encode_connect_size(&p), sizeof(want5));
    check_bytes(out, sl_encode_connect(out, &p), want5, sizeof(want5));
}

static void test_connect_round_trip(void)
{
    static const uint8_t versions[] = {3, 4, 5};
    for (size_t vi = 0; vi < 3; vi++) {
        for (int variant = 0; variant < 4; variant++) {
            struct sl_connect_params p = {0};
            p.version = versions[vi];
            p.clean_start = variant & 1;
            p.keepalive = (uint16_t)(variant * 1000);
            p.client_id = (const uint8_t *)"client-\xc3\xa9";
            p.client_id_len = 9;
            if (variant >= 1) {
                p.will_topic = (const uint8_t *)"will/topic";
                p.will_topic_len = 10;
                p.will_payload = (const uint8_t *)"\x00\x01\x02";
                p.will_payload_len = 3;
                p.will_qos = (uint8_t)(variant % 3);
                p.will_retain = variant == 2;
            }
            if (variant >= 2) {
                p.username = (const uint8_t *)"user";
                p.username_len = 4;
            }
            if (variant >= 3) {
                p.password = (const uint8_t *)"";
                p.password_len = 0;
            }

            uint8_t out[128];
            size_t size = sl_encode_connect_size(&p), n = sl_encode_connect(out, &p);
            CHECK_EQ_INT(n, size);
            struct sl_frame f;
            struct sl_connect c;
            const uint8_t *body = frame_of(out, n, &f);
            CHECK_EQ_INT(f.type, SL_PT_CONNECT);
            CHECK_EQ_INT(sl_frame_check_server_inbound(&f, 0), SL_OK);
            CHECK_EQ_INT(sl_decode_connect(body, f.remaining, &c), SL_OK);
            CHECK_EQ_INT(c.version, p.version);
            CHECK(c.clean_start == p.clean_start);
            CHECK_EQ_INT(c.keepalive, p.keepalive);
            CHECK_EQ_INT(c.client_id.len, p.client_id_len);
            CHECK_MEM(c.client_id.ptr, p.client_id, p.client_id_len);
            CHECK(c.will == (p.will_topic != NULL));
            CHECK_EQ_INT(c.will_qos, p.will_qos);
            CHECK(c.will_retain == p.will_retain);
            if (c.will) {
                CHECK_EQ_INT(c.will_topic.len, p.will_topic_len);
                CHECK_MEM(c.will_topic.ptr, p.will_topic, p.will_topic_len);
                CHECK_EQ_INT(c.will_payload.len, p.will_payload_len);
                CHECK_MEM(c.will_payload.ptr, p.will_payload, p.will_payload_len);
            }
            CHECK(c.has_username == (p.username != NULL));
            CHECK(c.has_password == (p.password != NULL));
            CHECK_EQ_INT(c.password.len, 0);
            CHECK_EQ_INT(c.props.len, 0);
            CHECK_EQ_INT(c.will_props.len, 0);
        }
    }
}

/* 5.0 allows a password without a user name; the encoder writes what it is given,
 * and the decoder refuses it before 5.0. [MQTT-3.1.2-22] */
static void test_connect_password_only(void)
{
    struct sl_connect_params p = {0};
    p.client_id = (const uint8_t *)"c";
    p.client_id_len = 1;
    p.password = (const uint8_t *)"tok";
    p.password_len = 3;
    for (uint8_t v = 3; v <= 5; v++) {
        uint8_t out[64];
        struct sl_frame f;
        struct sl_connect c;
        p.version = v;
        size_t n = sl_encode_connect(out, &p);
        const uint8_t *body = frame_of(out, n, &f);
        CHECK_EQ_INT(sl_decode_connect(body, f.remaining, &c), v == 5 ? SL_OK : SL_EMALFORMED);
    }
}

static void test_subscribe1(void)
{
    uint8_t out[64];
    CHECK_EQ_INT(sl_encode_subscribe1_size(4, 3), 10);
    check_bytes(out, sl_encode_subscribe1(out, 4, 0x0a, U("a/#"), 1),
                BYTES(0x82, 0x08, 0x00, 0x0a, 0x00, 0x03, 'a', '/', '#', 0x01));
    CHECK_EQ_INT(sl_encode_subscribe1_size(5, 3), 11);
    check_bytes(out, sl_encode_subscribe1(out, 5, 0x0a, U("a/#"), 0x2e),
                BYTES(0x82, 0x09, 0x00, 0x0a, 0x00, 0x00, 0x03, 'a', '/', '#', 0x2e));

    for (uint8_t v = 3; v <= 5; v++) {
        struct sl_frame f;
        struct sl_subscribe s;
        struct sl_sub_iter it;
        struct sl_bytes filt;
        uint8_t opt;
        uint8_t options = v == 5 ? 0x1d : 0x02;
        size_t n = sl_encode_subscribe1(out, v, 77, U("+/x/#"), options);
        CHECK_EQ_INT(n, sl_encode_subscribe1_size(v, 5));
        const uint8_t *body = frame_of(out, n, &f);
        CHECK_EQ_INT(sl_frame_check_server_inbound(&f, v), SL_OK);
        CHECK_EQ_INT(sl_decode_subscribe(body, f.remaining, v, &s), SL_OK);
        CHECK_EQ_INT(s.packet_id, 77);
        CHECK_EQ_INT(s.count, 1);
        sl_sub_iter_init(&it, s.list, true);
        CHECK(sl_sub_iter_next(&it, &filt, &opt));
        CHECK(filt.len == 5 && memcmp(filt.ptr, "+/x/#", 5) == 0);
        CHECK_EQ_INT(opt, options);
        CHECK(!sl_sub_iter_next(&it, &filt, &opt));
    }
}

/* A filter long enough to need a two-byte remaining length. */
static void test_subscribe1_long(void)
{
    size_t flen = 200;
    uint8_t filter[200], out[256];
    memset(filter, 'f', flen);
    size_t n = sl_encode_subscribe1(out, 4, 1, filter, flen, 0);
    CHECK_EQ_INT(n, sl_encode_subscribe1_size(4, flen));
    CHECK_EQ_INT(n, 1 + 2 + 2 + 2 + flen + 1);
    struct sl_frame f;
    struct sl_subscribe s;
    const uint8_t *body = frame_of(out, n, &f);
    CHECK_EQ_INT(sl_decode_subscribe(body, f.remaining, 4, &s), SL_OK);
}

int main(void)
{
    RUN(test_connack311);
    RUN(test_ack311);
    RUN(test_suback);
    RUN(test_suback_large);
    RUN(test_unsuback_pingresp_disconnect);
    RUN(test_u16);
    RUN(test_publish_remaining);
    RUN(test_publish_head);
    RUN(test_publish_round_trip);
    RUN(test_publish_exact_bytes);
    RUN(test_connect_exact_bytes);
    RUN(test_connect_round_trip);
    RUN(test_connect_password_only);
    RUN(test_subscribe1);
    RUN(test_subscribe1_long);
    return check_summary();
}

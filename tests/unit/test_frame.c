/* test_frame.c - fixed header parsing, the client->server type/flags table, encoding. */
#include "check.h"
#include "core/error.h"
#include "proto/frame.h"

static void test_parse(void)
{
    static const struct {
        size_t len;
        uint8_t b[6];
        int rc;
        uint8_t type, flags, header_len;
        uint32_t remaining;
    } vecs[] = {
        {2, {0x10, 0x00}, SL_OK, 1, 0, 2, 0},
        {2, {0xc0, 0x00}, SL_OK, 12, 0, 2, 0},
        {2, {0x3b, 0x7f}, SL_OK, 3, 0xb, 2, 127},
        {3, {0x82, 0x80, 0x01}, SL_OK, 8, 2, 3, 128},
        {3, {0x30, 0xff, 0x7f}, SL_OK, 3, 0, 3, 16383},
        {4, {0x30, 0x80, 0x80, 0x01}, SL_OK, 3, 0, 4, 16384},
        {5, {0x30, 0xff, 0xff, 0xff, 0x7f}, SL_OK, 3, 0, 5, 268435455},
        {6, {0x62, 0x02, 0x00, 0x01, 0xaa, 0xbb}, SL_OK, 6, 2, 2, 2}, /* body follows */
        {0, {0}, SL_NEED_MORE, 0, 0, 0, 0},
        {1, {0x30}, SL_NEED_MORE, 0, 0, 0, 0},
        {2, {0x30, 0x80}, SL_NEED_MORE, 0, 0, 0, 0},
        {4, {0x30, 0xff, 0xff, 0xff}, SL_NEED_MORE, 0, 0, 0, 0},
        {3, {0x30, 0x80, 0x00}, SL_EMALFORMED, 0, 0, 0, 0},             /* non-minimal */
        {5, {0x30, 0x80, 0x80, 0x80, 0x00}, SL_EMALFORMED, 0, 0, 0, 0}, /* non-minimal */
        {5, {0x30, 0xff, 0xff, 0xff, 0xff}, SL_EMALFORMED, 0, 0, 0, 0}, /* fifth byte */
        {6, {0x30, 0xff, 0xff, 0xff, 0xff, 0x01}, SL_EMALFORMED, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        struct sl_frame f = {0};
        int rc = sl_frame_parse(vecs[i].b, vecs[i].len, &f);
        if (rc != vecs[i].rc) fprintf(stderr, "  parse vector %zu\n", i);
        CHECK_EQ_INT(rc, vecs[i].rc);
        if (rc != SL_OK) continue;
        CHECK_EQ_INT(f.type, vecs[i].type);
        CHECK_EQ_INT(f.flags, vecs[i].flags);
        CHECK_EQ_INT(f.header_len, vecs[i].header_len);
        CHECK_EQ_INT(f.remaining, vecs[i].remaining);
    }
}

/* The expected verdict, written out from 3.1.1 Table 2.1/2.2 and 5.0 Table 2-1/2-2:
 * -1 = type never valid client->server, -2 = any flags (PUBLISH), else the flags. */
static int allowed_flags(uint8_t type, uint8_t version)
{
    switch (type) {
    case 1:
        return 0x0; /* CONNECT */
    case 2:
        return -1; /* CONNACK: server to client */
    case 3:
        return -2; /* PUBLISH: decoder checks */
    case 4:
        return 0x0; /* PUBACK */
    case 5:
        return 0x0; /* PUBREC */
    case 6:
        return 0x2; /* PUBREL [MQTT-3.6.1-1] */
    case 7:
        return 0x0; /* PUBCOMP */
    case 8:
        return 0x2; /* SUBSCRIBE [MQTT-3.8.1-1] */
    case 9:
        return -1; /* SUBACK */
    case 10:
        return 0x2; /* UNSUBSCRIBE [MQTT-3.10.1-1] */
    case 11:
        return -1; /* UNSUBACK */
    case 12:
        return 0x0; /* PINGREQ */
    case 13:
        return -1; /* PINGRESP */
    case 14:
        return 0x0; /* DISCONNECT */
    case 15:
        return version == 5 ? 0x0 : -1; /* AUTH: 5.0 only */
    default:
        return -1; /* 0: reserved */
    }
}

static void test_check_server_inbound_table(void)
{
    static const uint8_t versions[] = {3, 4, 5};
    int ok_count = 0;
    for (size_t v = 0; v < sizeof(versions) / sizeof(versions[0]); v++) {
        for (uint8_t type = 0; type < 16; type++) {
            for (uint8_t flags = 0; flags < 16; flags++) {
                struct sl_frame f = {type, flags, 2, 0};
                int a = allowed_flags(type, versions[v]);
                int want = (a == -2 || a == flags) ? SL_OK : SL_EMALFORMED;
                int got = sl_frame_check_server_inbound(&f, versions[v]);
                if (got != want)
                    fprintf(stderr, "  v%u type %u flags %x: got %d want %d\n", versions[v], type,
                            flags, got, want);
                CHECK_EQ_INT(got, want);
                ok_count += got == SL_OK;
            }
        }
    }
    /* Per version: PUBLISH 16 + 9 other types with one flag value; AUTH in 5.0. */
    CHECK_EQ_INT(ok_count, (16 + 9) * 3 + 1);
}

static void test_check_named_cases(void)
{
    struct sl_frame f;

    f = (struct sl_frame){SL_PT_PUBREL, 0x0, 2, 2};
    CHECK_EQ_INT(sl_frame_check_server_inbound(&f, 4), SL_EMALFORMED); /* 3.1.1 needs 0010 */
    f = (struct sl_frame){SL_PT_SUBSCRIBE, 0x0, 2, 5};
    CHECK_EQ_INT(sl_frame_check_server_inbound(&f, 4), SL_EMALFORMED);
    f = (struct sl_frame){SL_PT_SUBSCRIBE, 0x2, 2, 5};
    CHECK_EQ_INT(sl_frame_check_server_inbound(&f, 5), SL_OK);
    f = (struct sl_frame){SL_PT_PUBLISH, 0xf, 2, 5}; /* QoS 3 + DUP: decoder's job */
    CHECK_EQ_INT(sl_frame_check_server_inbound(&f, 4), SL_OK);
    f = (struct sl_frame){SL_PT_AUTH, 0x0, 2, 0};
    CHECK_EQ_INT(sl_frame_check_server_inbound(&f, 4), SL_EMALFORMED);
    CHECK_EQ_INT(sl_frame_check_server_inbound(&f, 5), SL_OK);
    f = (struct sl_frame){SL_PT_CONNACK, 0x0, 2, 2};
    CHECK_EQ_INT(sl_frame_check_server_inbound(&f, 5), SL_EMALFORMED);
}

/* PINGREQ has no body and no decoder: the frame check refuses a body. */
static void test_pingreq_length(void)
{
    struct sl_frame f = {SL_PT_PINGREQ, 0x0, 2, 0};
    CHECK_EQ_INT(sl_frame_check_server_inbound(&f, 4), SL_OK);
    f.remaining = 1;
    CHECK_EQ_INT(sl_frame_check_server_inbound(&f, 4), SL_EMALFORMED);
    CHECK_EQ_INT(sl_frame_check_server_inbound(&f, 5), SL_EMALFORMED);
}

static void test_encode(void)
{
    static const struct {
        uint8_t byte0;
        uint32_t remaining;
        size_t len;
        uint8_t b[5];
    } vecs[] = {
        {0xc0, 0, 2, {0xc0, 0x00}},
        {0x30, 127, 2, {0x30, 0x7f}},
        {0x30, 128, 3, {0x30, 0x80, 0x01}},
        {0x82, 16384, 4, {0x82, 0x80, 0x80, 0x01}},
        {0x30, 268435455, 5, {0x30, 0xff, 0xff, 0xff, 0x7f}},
    };
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        uint8_t out[5];
        struct sl_frame f;
        CHECK_EQ_INT(sl_frame_encode(out, vecs[i].byte0, vecs[i].remaining), vecs[i].len);
        CHECK_MEM(out, vecs[i].b, vecs[i].len);
        CHECK_EQ_INT(sl_frame_parse(out, vecs[i].len, &f), SL_OK);
        CHECK_EQ_INT(f.remaining, vecs[i].remaining);
        CHECK_EQ_INT(f.header_len, vecs[i].len);
        CHECK_EQ_INT((f.type << 4) | f.flags, vecs[i].byte0);
    }
}

int main(void)
{
    RUN(test_parse);
    RUN(test_check_server_inbound_table);
    RUN(test_check_named_cases);
    RUN(test_pingreq_length);
    RUN(test_encode);
    return check_summary();
}

/* test_varint.c - Variable Byte Integer: boundaries, minimality, truncation. */
#include "check.h"
#include "core/error.h"
#include "proto/varint.h"

struct vec {
    uint32_t value;
    size_t len;
    uint8_t bytes[4];
};

/* Every boundary where the encoding grows by a byte. */
static const struct vec good[] = {
    {0, 1, {0x00}},
    {1, 1, {0x01}},
    {127, 1, {0x7f}},
    {128, 2, {0x80, 0x01}},
    {321, 2, {0xc1, 0x02}},
    {16383, 2, {0xff, 0x7f}},
    {16384, 3, {0x80, 0x80, 0x01}},
    {2097151, 3, {0xff, 0xff, 0x7f}},
    {2097152, 4, {0x80, 0x80, 0x80, 0x01}},
    {268435455, 4, {0xff, 0xff, 0xff, 0x7f}},
};

static void test_decode_boundaries(void)
{
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint32_t v = 12345;
        size_t used = 99;
        CHECK_EQ_INT(sl_varint_decode(good[i].bytes, good[i].len, &v, &used), SL_OK);
        CHECK_EQ_INT(v, good[i].value);
        CHECK_EQ_INT(used, good[i].len);
    }
}

static void test_decode_ignores_following_bytes(void)
{
    const uint8_t b[] = {0x80, 0x01, 0xff, 0xff};
    uint32_t v;
    size_t used;
    CHECK_EQ_INT(sl_varint_decode(b, sizeof(b), &v, &used), SL_OK);
    CHECK_EQ_INT(v, 128);
    CHECK_EQ_INT(used, 2);
}

static void test_encode_and_size(void)
{
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint8_t out[4] = {0};
        CHECK_EQ_INT(sl_varint_size(good[i].value), good[i].len);
        CHECK_EQ_INT(sl_varint_encode(out, good[i].value), good[i].len);
        CHECK_MEM(out, good[i].bytes, good[i].len);
    }
    CHECK_EQ_INT(SL_VARINT_MAX, 268435455u);
}

static void test_round_trip_sweep(void)
{
    static const uint32_t edges[] = {0, 127, 128, 16383, 16384, 2097151, 2097152, SL_VARINT_MAX};
    for (size_t e = 0; e < sizeof(edges) / sizeof(edges[0]); e++) {
        for (int d = -3; d <= 3; d++) {
            int64_t x = (int64_t)edges[e] + d;
            if (x < 0 || x > SL_VARINT_MAX) continue;
            uint8_t out[4];
            uint32_t v;
            size_t used, n = sl_varint_encode(out, (uint32_t)x);
            CHECK_EQ_INT(sl_varint_decode(out, n, &v, &used), SL_OK);
            CHECK_EQ_INT(v, x);
            CHECK_EQ_INT(used, n);
        }
    }
}

/* [MQTT-1.5.5-1]: only the minimal encoding; never a fifth byte. */
static void test_decode_malformed(void)
{
    static const struct {
        size_t len;
        uint8_t bytes[5];
    } bad[] = {
        {2, {0x80, 0x00}},                   /* 0 in two bytes */
        {2, {0xff, 0x00}},                   /* 127 in two bytes */
        {3, {0x80, 0x80, 0x00}},             /* 0 in three bytes */
        {3, {0xff, 0xff, 0x00}},             /* 16383 in three bytes */
        {4, {0x80, 0x80, 0x80, 0x00}},       /* 0 in four bytes */
        {4, {0xff, 0xff, 0xff, 0xff}},       /* continuation on the fourth byte */
        {5, {0xff, 0xff, 0xff, 0xff, 0x7f}}, /* five bytes */
        {5, {0x80, 0x80, 0x80, 0x80, 0x01}}, /* five bytes */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t v;
        size_t used;
        CHECK_EQ_INT(sl_varint_decode(bad[i].bytes, bad[i].len, &v, &used), SL_EMALFORMED);
    }
}

static void test_decode_need_more(void)
{
    const uint8_t b[] = {0xff, 0xff, 0xff, 0x7f};
    uint32_t v;
    size_t used;
    CHECK_EQ_INT(sl_varint_decode(b, 0, &v, &used), SL_NEED_MORE);
    CHECK_EQ_INT(sl_varint_decode(NULL, 0, &v, &used), SL_NEED_MORE);
    for (size_t n = 1; n < 4; n++)
        CHECK_EQ_INT(sl_varint_decode(b, n, &v, &used), SL_NEED_MORE);
    CHECK_EQ_INT(sl_varint_decode(b, 4, &v, &used), SL_OK);
}

static void test_encode_never_exceeds_four_bytes(void)
{
    uint8_t out[8];
    memset(out, 0xaa, sizeof(out));
    CHECK_EQ_INT(sl_varint_encode(out, UINT32_MAX), 4); /* out of range: still 4 bytes */
    CHECK_EQ_INT(out[4], 0xaa);
    CHECK_EQ_INT(sl_varint_size(UINT32_MAX), 4);
}

int main(void)
{
    RUN(test_decode_boundaries);
    RUN(test_decode_ignores_following_bytes);
    RUN(test_encode_and_size);
    RUN(test_round_trip_sweep);
    RUN(test_decode_malformed);
    RUN(test_decode_need_more);
    RUN(test_encode_never_exceeds_four_bytes);
    return check_summary();
}

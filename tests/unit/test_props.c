/*
 * test_props.c - the MQTT 5.0 property codec, table-driven.
 *
 * samples[] restates 5.0 Table 2-4 on its own (one valid entry per property and
 * the contexts that may carry it), so a slip in props.c's table shows up as a
 * disagreement here. Every input is parsed from a heap copy of exactly its size
 * (the copy stays alive until the next parse), so under ASan a read one byte
 * past the block faults.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "core/error.h"
#include "proto/frame.h"
#include "proto/props.h"
#include "proto/reason.h"
#include "proto/varint.h"

#define B(...) (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__})

/* Contexts, as bits. */
#define X(t)      (1u << SL_PT_##t)
#define WILL      (1u << SL_PROPS_WILL)
#define PUB_WILL  (X(PUBLISH) | WILL)
#define ALL_CTX   0x1ffffu /* 0 .. 16 */
#define HAS_PROPS (ALL_CTX & ~(X(RESERVED) | X(PINGREQ) | X(PINGRESP)))
#define REASON_STR                                                                                 \
    (X(CONNACK) | X(PUBACK) | X(PUBREC) | X(PUBREL) | X(PUBCOMP) | X(SUBACK) | X(UNSUBACK) |       \
     X(DISCONNECT) | X(AUTH))

/* One valid entry per property, with the contexts that allow it and those
 * where it may repeat (5.0 §2.2.2.2 Table 2-4 and the packet sections). */
static const struct sample {
    uint8_t id;
    const uint8_t *bytes;
    size_t len;
    uint32_t contexts;
    uint32_t repeats;
} samples[] = {
    {0x01, B(0x01, 0x01), PUB_WILL, 0},
    {0x02, B(0x02, 0x00, 0x00, 0x01, 0x2c), PUB_WILL, 0},
    {0x03, B(0x03, 0x00, 0x04, 't', 'e', 'x', 't'), PUB_WILL, 0},
    {0x08, B(0x08, 0x00, 0x03, 'r', '/', '1'), PUB_WILL, 0},
    {0x09, B(0x09, 0x00, 0x03, 0x00, 0xff, 0x01), PUB_WILL, 0}, /* binary: NUL, 0xff fine */
    {0x0b, B(0x0b, 0x05), X(PUBLISH) | X(SUBSCRIBE), X(PUBLISH)},
    {0x11, B(0x11, 0x00, 0x00, 0x0e, 0x10), X(CONNECT) | X(CONNACK) | X(DISCONNECT), 0},
    {0x12, B(0x12, 0x00, 0x02, 'i', 'd'), X(CONNACK), 0},
    {0x13, B(0x13, 0x00, 0x3c), X(CONNACK), 0},
    {0x15, B(0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M'), X(CONNECT) | X(CONNACK) | X(AUTH), 0},
    {0x16, B(0x16, 0x00, 0x02, 0x01, 0x02), X(CONNECT) | X(CONNACK) | X(AUTH), 0},
    {0x17, B(0x17, 0x00), X(CONNECT), 0},
    {0x18, B(0x18, 0x00, 0x00, 0x00, 0x05), WILL, 0},
    {0x19, B(0x19, 0x01), X(CONNECT), 0},
    {0x1a, B(0x1a, 0x00, 0x02, 'r', 'i'), X(CONNACK), 0},
    {0x1c, B(0x1c, 0x00, 0x02, 's', 'r'), X(CONNACK) | X(DISCONNECT), 0},
    {0x1f, B(0x1f, 0x00, 0x02, 'o', 'k'), REASON_STR, 0},
    {0x21, B(0x21, 0x00, 0x0a), X(CONNECT) | X(CONNACK), 0},
    {0x22, B(0x22, 0x00, 0x05), X(CONNECT) | X(CONNACK), 0},
    {0x23, B(0x23, 0x00, 0x01), X(PUBLISH), 0},
    {0x24, B(0x24, 0x01), X(CONNACK), 0},
    {0x25, B(0x25, 0x00), X(CONNACK), 0},
    {0x26, B(0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v'), HAS_PROPS, HAS_PROPS},
    {0x27, B(0x27, 0x00, 0x00, 0x10, 0x00), X(CONNECT) | X(CONNACK), 0},
    {0x28, B(0x28, 0x01), X(CONNACK), 0},
    {0x29, B(0x29, 0x00), X(CONNACK), 0},
    {0x2a, B(0x2a, 0x01), X(CONNACK), 0},
};

#define NSAMPLES (sizeof(samples) / sizeof(samples[0]))

static const struct sample *sample_of(uint8_t id)
{
    for (size_t i = 0; i < NSAMPLES; i++)
        if (samples[i].id == id) return &samples[i];
    return NULL;
}

/* ---- parsing from an exact-size heap copy ---- */

static uint8_t *copy_;
static struct sl_props last;
static uint8_t last_reason;

static int parse(const uint8_t *b, size_t len, uint8_t ctx)
{
    free(copy_);
    copy_ = NULL;
    if (len > 0) {
        copy_ = malloc(len);
        if (copy_ == NULL) abort();
        memcpy(copy_, b, len);
    }
    last_reason = 0xee;
    return sl_props_parse(copy_, len, ctx, &last, &last_reason);
}

/* Concatenation buffer for building blocks. */
struct buf {
    uint8_t b[1024];
    size_t n;
};

static void put(struct buf *w, const uint8_t *b, size_t len)
{
    if (w->n + len > sizeof(w->b)) abort();
    memcpy(w->b + w->n, b, len);
    w->n += len;
}

static void put_sample(struct buf *w, uint8_t id)
{
    const struct sample *s = sample_of(id);
    put(w, s->bytes, s->len);
}

/* ---- tests ---- */

static void test_table_info(void)
{
    int defined = 0;

    for (unsigned id = 0; id <= 0xff; id++) {
        const struct sl_prop_info *info = sl_prop_info((uint8_t)id);
        const struct sample *s = sample_of((uint8_t)id);
        CHECK((info != NULL) == (s != NULL));
        if (info == NULL || s == NULL) continue;
        defined++;
        CHECK_EQ_INT(info->contexts, s->contexts);
        CHECK_EQ_INT(info->repeats, s->repeats);
        for (unsigned ctx = 0; ctx <= 20; ctx++)
            CHECK(sl_prop_allowed((uint8_t)ctx, (uint8_t)id) ==
                  (ctx <= 16 && ((s->contexts >> ctx) & 1)));
    }
    CHECK_EQ_INT(defined, 27);
    CHECK(strcmp(sl_prop_info(0x01)->name, "Payload Format Indicator") == 0);
    CHECK(strcmp(sl_prop_info(0x0b)->name, "Subscription Identifier") == 0);
    CHECK(strcmp(sl_prop_info(0x26)->name, "User Property") == 0);
    CHECK(strcmp(sl_prop_info(0x2a)->name, "Shared Subscription Available") == 0);
    CHECK_EQ_INT(sl_prop_info(0x01)->type, SL_PROPTYPE_BYTE);
    CHECK_EQ_INT(sl_prop_info(0x02)->type, SL_PROPTYPE_U32);
    CHECK_EQ_INT(sl_prop_info(0x03)->type, SL_PROPTYPE_UTF8);
    CHECK_EQ_INT(sl_prop_info(0x09)->type, SL_PROPTYPE_BINARY);
    CHECK_EQ_INT(sl_prop_info(0x0b)->type, SL_PROPTYPE_VARINT);
    CHECK_EQ_INT(sl_prop_info(0x13)->type, SL_PROPTYPE_U16);
    CHECK_EQ_INT(sl_prop_info(0x26)->type, SL_PROPTYPE_PAIR);
}

/* Every property parses alone in each context that allows it, and anywhere
 * else is a Malformed Packet (5.0 §2.2.2.2). */
static void test_every_id_in_every_context(void)
{
    for (size_t i = 0; i < NSAMPLES; i++) {
        const struct sample *s = &samples[i];
        for (uint8_t ctx = 0; ctx <= SL_PROPS_WILL; ctx++) {
            struct buf w = {.n = 0};
            bool allowed = (s->contexts >> ctx) & 1;
            /* Authentication Data needs a Method in CONNECT (5.0 §3.1.2.11.10). */
            if (s->id == 0x16 && ctx == SL_PT_CONNECT) put_sample(&w, 0x15);
            put(&w, s->bytes, s->len);
            int rc = parse(w.b, w.n, ctx);
            if (allowed) {
                CHECK_EQ_INT(rc, SL_OK);
                CHECK_EQ_INT(last_reason, SL_RC_SUCCESS);
                CHECK(sl_props_has(&last, s->id));
            } else {
                CHECK_EQ_INT(rc, SL_EMALFORMED);
                CHECK_EQ_INT(last_reason, SL_RC_MALFORMED_PACKET);
                CHECK_EQ_INT(last.present, 0);
            }
            if (rc != (allowed ? SL_OK : SL_EMALFORMED))
                fprintf(stderr, "  id 0x%02x context %u\n", s->id, ctx);
        }
    }
}

/* Twice in one block: a Protocol Error except User Property (anywhere) and
 * Subscription Identifier (PUBLISH). */
static void test_duplicates(void)
{
    for (size_t i = 0; i < NSAMPLES; i++) {
        const struct sample *s = &samples[i];
        for (uint8_t ctx = 0; ctx <= SL_PROPS_WILL; ctx++) {
            struct buf w = {.n = 0};
            if (!((s->contexts >> ctx) & 1)) continue;
            if (s->id == 0x16 && ctx == SL_PT_CONNECT) put_sample(&w, 0x15);
            put(&w, s->bytes, s->len);
            put(&w, s->bytes, s->len);
            int rc = parse(w.b, w.n, ctx);
            if ((s->repeats >> ctx) & 1) {
                CHECK_EQ_INT(rc, SL_OK);
                if (s->id == 0x26) CHECK_EQ_INT(last.user_count, 2);
                if (s->id == 0x0b) CHECK_EQ_INT(last.subscription_identifier_count, 2);
            } else {
                CHECK_EQ_INT(rc, SL_EPROTO);
                CHECK_EQ_INT(last_reason, SL_RC_PROTOCOL_ERROR);
            }
        }
    }
    /* not adjacent */
    CHECK_EQ_INT(parse(B(0x21, 0x00, 0x01, 0x11, 0, 0, 0, 1, 0x21, 0x00, 0x02), SL_PT_CONNECT),
                 SL_EPROTO);
    /* User Property three times, interleaved with others */
    CHECK_EQ_INT(
        parse(B(0x26, 0, 1, 'a', 0, 0, 0x1f, 0, 0, 0x26, 0, 1, 'a', 0, 0, 0x26, 0, 0, 0, 0),
              SL_PT_PUBACK),
        SL_OK);
    CHECK_EQ_INT(last.user_count, 3);
}

static void test_unknown_ids(void)
{
    static const uint8_t ids[] = {0x00, 0x04, 0x05, 0x0a, 0x0c, 0x10, 0x14,
                                  0x1b, 0x1d, 0x20, 0x2b, 0x7f, 0x80, 0xff};
    for (size_t i = 0; i < sizeof(ids); i++) {
        for (uint8_t ctx = 0; ctx <= SL_PROPS_WILL; ctx++) {
            CHECK_EQ_INT(parse((const uint8_t[]){ids[i], 0x00}, 2, ctx), SL_EMALFORMED);
            CHECK_EQ_INT(last_reason, SL_RC_MALFORMED_PACKET);
            CHECK_EQ_INT(parse((const uint8_t[]){ids[i]}, 1, ctx), SL_EMALFORMED);
        }
    }
    /* A two-byte identifier (varint 128): defined by no 5.0 property. */
    CHECK_EQ_INT(parse(B(0x80, 0x01, 0x00), SL_PT_PUBLISH), SL_EMALFORMED);
    /* Unknown after a valid one. */
    CHECK_EQ_INT(parse(B(0x23, 0x00, 0x01, 0x2b, 0x00), SL_PT_PUBLISH), SL_EMALFORMED);
}

static void test_empty_block(void)
{
    for (uint8_t ctx = 0; ctx <= SL_PROPS_WILL; ctx++) {
        CHECK_EQ_INT(parse(NULL, 0, ctx), SL_OK);
        CHECK_EQ_INT(last.present, 0);
        CHECK_EQ_INT(last_reason, SL_RC_SUCCESS);
        CHECK_EQ_INT(sl_props_size(&last), 0);
    }
    uint8_t reason = 0;
    struct sl_props p;
    CHECK_EQ_INT(sl_props_parse(NULL, 0, 17, &p, &reason), SL_EINVAL);
    CHECK_EQ_INT(reason, SL_RC_IMPLEMENTATION_SPECIFIC_ERROR);
    CHECK_EQ_INT(sl_props_parse(NULL, 0, 255, &p, NULL), SL_EINVAL);
    CHECK_EQ_INT(sl_props_parse(NULL, 0, SL_PT_PUBLISH, &p, NULL), SL_OK); /* reason optional */
}

/* Every proper prefix of every sample is cut short. */
static void test_truncation(void)
{
    for (size_t i = 0; i < NSAMPLES; i++) {
        const struct sample *s = &samples[i];
        uint8_t ctx = (s->contexts & X(PUBLISH))   ? SL_PT_PUBLISH
                      : (s->contexts & X(CONNACK)) ? SL_PT_CONNACK
                      : (s->contexts & WILL)       ? SL_PROPS_WILL
                                                   : SL_PT_CONNECT;
        for (size_t n = 1; n < s->len; n++) {
            CHECK_EQ_INT(parse(s->bytes, n, ctx), SL_EMALFORMED);
            CHECK_EQ_INT(last_reason, SL_RC_MALFORMED_PACKET);
        }
        CHECK_EQ_INT(parse(s->bytes, s->len, ctx), SL_OK);
    }
    /* A string or binary length past the end, by one. */
    CHECK_EQ_INT(parse(B(0x03, 0x00, 0x03, 'a', 'b'), SL_PT_PUBLISH), SL_EMALFORMED);
    CHECK_EQ_INT(parse(B(0x09, 0xff, 0xff, 0x00), SL_PT_PUBLISH), SL_EMALFORMED);
    CHECK_EQ_INT(parse(B(0x26, 0x00, 0x01, 'a', 0x00, 0x02, 'b'), SL_PT_PUBLISH), SL_EMALFORMED);
    CHECK_EQ_INT(parse(B(0x26, 0x00, 0x01, 'a'), SL_PT_PUBLISH), SL_EMALFORMED);
    CHECK_EQ_INT(parse(B(0x26, 0x00, 0x01, 'a', 0x00), SL_PT_PUBLISH), SL_EMALFORMED);
    /* Zero-length strings and binary are fine (not the Response Topic). */
    CHECK_EQ_INT(parse(B(0x03, 0x00, 0x00, 0x09, 0x00, 0x00, 0x26, 0, 0, 0, 0), SL_PT_PUBLISH),
                 SL_OK);
    CHECK_EQ_INT(last.content_type.len, 0);
    CHECK_EQ_INT(last.correlation_data.len, 0);
}

/* Strings and both halves of a pair are MQTT UTF-8: Malformed otherwise
 * [MQTT-1.5.4-1] [MQTT-1.5.4-2] [MQTT-1.5.7-1]. */
static void test_invalid_utf8(void)
{
    const struct {
        const uint8_t *b;
        size_t n;
    } bad[] = {
        {B(0x00)},                   /* U+0000 */
        {B('a', 0x00, 'b')},         /* U+0000 inside */
        {B(0xc0, 0x80)},             /* overlong NUL */
        {B(0xed, 0xa0, 0x80)},       /* U+D800 surrogate */
        {B(0xe2, 0x82)},             /* cut short */
        {B(0x80)},                   /* lone continuation */
        {B(0xf4, 0x90, 0x80, 0x80)}, /* above U+10FFFF */
        {B(0xff)},
    };
    static const uint8_t str_ids[] = {0x03, 0x08, 0x12, 0x15, 0x1a, 0x1c, 0x1f};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        for (size_t k = 0; k < sizeof(str_ids); k++) {
            uint8_t id = str_ids[k];
            uint8_t ctx = (sample_of(id)->contexts & X(PUBLISH)) ? SL_PT_PUBLISH : SL_PT_CONNACK;
            struct buf w = {.n = 0};
            put(&w, (const uint8_t[]){id, 0x00, (uint8_t)bad[i].n}, 3);
            put(&w, bad[i].b, bad[i].n);
            CHECK_EQ_INT(parse(w.b, w.n, ctx), SL_EMALFORMED);
            CHECK_EQ_INT(last_reason, SL_RC_MALFORMED_PACKET);
        }
        /* pair: bad name, then bad value */
        struct buf w = {.n = 0};
        put(&w, (const uint8_t[]){0x26, 0x00, (uint8_t)bad[i].n}, 3);
        put(&w, bad[i].b, bad[i].n);
        put(&w, B(0x00, 0x01, 'v'));
        CHECK_EQ_INT(parse(w.b, w.n, SL_PT_PUBLISH), SL_EMALFORMED);
        w.n = 0;
        put(&w, B(0x26, 0x00, 0x01, 'k'));
        put(&w, (const uint8_t[]){0x00, (uint8_t)bad[i].n}, 2);
        put(&w, bad[i].b, bad[i].n);
        CHECK_EQ_INT(parse(w.b, w.n, SL_PT_DISCONNECT), SL_EMALFORMED);
    }
    /* Binary data may hold anything. */
    CHECK_EQ_INT(parse(B(0x09, 0x00, 0x03, 0x00, 0xc0, 0xff), SL_PT_PUBLISH), SL_OK);
    CHECK_EQ_INT(parse(B(0x16, 0x00, 0x02, 0xed, 0xa0), SL_PT_AUTH), SL_OK);
    /* Valid multi-byte UTF-8, incl. a BOM and U+10FFFF. */
    CHECK_EQ_INT(parse(B(0x1f, 0x00, 0x09, 0xef, 0xbb, 0xbf, 0xc3, 0xa9, 0xf4, 0x8f, 0xbf, 0xbf),
                       SL_PT_DISCONNECT),
                 SL_OK);
    CHECK_EQ_INT(last.reason_string.len, 9);
}

/* Subscription Identifier: a Variable Byte Integer, 1 .. 268,435,455. */
static void test_subscription_id_varint(void)
{
    const struct {
        const uint8_t *b;
        size_t n;
        int rc;
        uint32_t value;
    } cases[] = {
        {B(0x0b, 0x01), SL_OK, 1},
        {B(0x0b, 0x7f), SL_OK, 127},
        {B(0x0b, 0x80, 0x01), SL_OK, 128},
        {B(0x0b, 0xff, 0x7f), SL_OK, 16383},
        {B(0x0b, 0x80, 0x80, 0x01), SL_OK, 16384},
        {B(0x0b, 0xff, 0xff, 0x7f), SL_OK, 2097151},
        {B(0x0b, 0x80, 0x80, 0x80, 0x01), SL_OK, 2097152},
        {B(0x0b, 0xff, 0xff, 0xff, 0x7f), SL_OK, 268435455},
        {B(0x0b, 0x00), SL_EPROTO, 0},                             /* 0: 5.0 §3.3.2.3.8 */
        {B(0x0b, 0x80, 0x00), SL_EMALFORMED, 0},                   /* not minimal [MQTT-1.5.5-1] */
        {B(0x0b, 0x81, 0x00), SL_EMALFORMED, 0},                   /* 1, not minimal */
        {B(0x0b, 0xff, 0xff, 0xff, 0xff, 0x01), SL_EMALFORMED, 0}, /* five bytes */
        {B(0x0b, 0xff, 0xff, 0xff, 0xff), SL_EMALFORMED, 0},       /* fourth says "more" */
        {B(0x0b, 0x80), SL_EMALFORMED, 0},                         /* cut short */
        {B(0x0b), SL_EMALFORMED, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int k = 0; k < 2; k++) {
            uint8_t ctx = k ? SL_PT_SUBSCRIBE : SL_PT_PUBLISH;
            int rc = parse(cases[i].b, cases[i].n, ctx);
            CHECK_EQ_INT(rc, cases[i].rc);
            if (rc != cases[i].rc) fprintf(stderr, "  case %zu ctx %u\n", i, ctx);
            if (rc == SL_OK) {
                uint32_t id = 0;
                struct sl_props_iter it;
                CHECK_EQ_INT(last.subscription_identifier, cases[i].value);
                CHECK_EQ_INT(last.subscription_identifier_count, 1);
                sl_props_iter_repeated(&it, &last);
                CHECK(sl_props_next_subscription_id(&it, &id));
                CHECK_EQ_INT(id, cases[i].value);
                CHECK(!sl_props_next_subscription_id(&it, &id));
                /* re-encodes to the same bytes */
                uint8_t out[8];
                CHECK_EQ_INT(sl_props_size(&last), cases[i].n);
                CHECK_EQ_INT(sl_props_encode(out, &last), cases[i].n);
                CHECK_MEM(out, cases[i].b, cases[i].n);
            } else {
                CHECK_EQ_INT(last_reason,
                             rc == SL_EPROTO ? SL_RC_PROTOCOL_ERROR : SL_RC_MALFORMED_PACKET);
            }
        }
    }
    /* Several in PUBLISH, kept in order. */
    CHECK_EQ_INT(parse(B(0x0b, 0x07, 0x0b, 0x80, 0x01, 0x0b, 0x07), SL_PT_PUBLISH), SL_OK);
    CHECK_EQ_INT(last.subscription_identifier_count, 3);
    CHECK_EQ_INT(last.subscription_identifier, 7);
    struct sl_props_iter it;
    uint32_t got[3] = {0}, id;
    size_t n = 0;
    sl_props_iter_repeated(&it, &last);
    while (n < 3 && sl_props_next_subscription_id(&it, &id))
        got[n++] = id;
    CHECK_EQ_INT(n, 3);
    CHECK(got[0] == 7 && got[1] == 128 && got[2] == 7);
}

/* Values the spec rules out though the type allows them. */
static void test_value_ranges(void)
{
    const struct {
        const uint8_t *b;
        size_t n;
        uint8_t ctx;
        int rc;
        uint8_t reason;
    } cases[] = {
        {B(0x01, 0x00), SL_PT_PUBLISH, SL_OK, 0},
        {B(0x01, 0x01), SL_PROPS_WILL, SL_OK, 0},
        {B(0x01, 0x02), SL_PT_PUBLISH, SL_EPROTO, 0x82},
        {B(0x01, 0xff), SL_PROPS_WILL, SL_EPROTO, 0x82},
        {B(0x17, 0x01), SL_PT_CONNECT, SL_OK, 0},
        {B(0x17, 0x02), SL_PT_CONNECT, SL_EPROTO, 0x82}, /* 5.0 §3.1.2.11.7 */
        {B(0x19, 0x00), SL_PT_CONNECT, SL_OK, 0},
        {B(0x19, 0x02), SL_PT_CONNECT, SL_EPROTO, 0x82}, /* 5.0 §3.1.2.11.6 */
        {B(0x24, 0x00), SL_PT_CONNACK, SL_OK, 0},
        {B(0x24, 0x02), SL_PT_CONNACK, SL_EPROTO, 0x82}, /* 5.0 §3.2.2.3.4 */
        {B(0x25, 0x01), SL_PT_CONNACK, SL_OK, 0},
        {B(0x25, 0x02), SL_PT_CONNACK, SL_EPROTO, 0x82}, /* 5.0 §3.2.2.3.5 */
        {B(0x28, 0x00), SL_PT_CONNACK, SL_OK, 0},
        {B(0x28, 0x07), SL_PT_CONNACK, SL_EPROTO, 0x82},
        {B(0x29, 0x01), SL_PT_CONNACK, SL_OK, 0},
        {B(0x29, 0x80), SL_PT_CONNACK, SL_EPROTO, 0x82},
        {B(0x2a, 0x00), SL_PT_CONNACK, SL_OK, 0},
        {B(0x2a, 0x02), SL_PT_CONNACK, SL_EPROTO, 0x82},
        {B(0x21, 0x00, 0x01), SL_PT_CONNECT, SL_OK, 0},
        {B(0x21, 0xff, 0xff), SL_PT_CONNACK, SL_OK, 0},
        {B(0x21, 0x00, 0x00), SL_PT_CONNECT, SL_EPROTO, 0x82}, /* 5.0 §3.1.2.11.3 */
        {B(0x21, 0x00, 0x00), SL_PT_CONNACK, SL_EPROTO, 0x82}, /* 5.0 §3.2.2.3.3 */
        {B(0x27, 0x00, 0x00, 0x00, 0x01), SL_PT_CONNECT, SL_OK, 0},
        {B(0x27, 0xff, 0xff, 0xff, 0xff), SL_PT_CONNACK, SL_OK, 0},
        {B(0x27, 0x00, 0x00, 0x00, 0x00), SL_PT_CONNECT, SL_EPROTO, 0x82}, /* §3.1.2.11.4 */
        {B(0x27, 0x00, 0x00, 0x00, 0x00), SL_PT_CONNACK, SL_EPROTO, 0x82}, /* §3.2.2.3.6 */
        {B(0x23, 0x00, 0x01), SL_PT_PUBLISH, SL_OK, 0},
        {B(0x23, 0xff, 0xff), SL_PT_PUBLISH, SL_OK, 0},
        {B(0x23, 0x00, 0x00), SL_PT_PUBLISH, SL_EPROTO, 0x94}, /* [MQTT-3.3.2-8], §3.3.4 */
        /* No range rules: any value. */
        {B(0x22, 0x00, 0x00), SL_PT_CONNECT, SL_OK, 0},
        {B(0x13, 0x00, 0x00), SL_PT_CONNACK, SL_OK, 0},
        {B(0x11, 0xff, 0xff, 0xff, 0xff), SL_PT_DISCONNECT, SL_OK, 0},
        {B(0x02, 0x00, 0x00, 0x00, 0x00), SL_PT_PUBLISH, SL_OK, 0},
        {B(0x18, 0xff, 0xff, 0xff, 0xff), SL_PROPS_WILL, SL_OK, 0},
        /* Response Topic: a Topic Name [MQTT-3.3.2-14] [MQTT-4.7.3-1]. */
        {B(0x08, 0x00, 0x03, 'a', '/', 'b'), SL_PT_PUBLISH, SL_OK, 0},
        {B(0x08, 0x00, 0x03, 'a', '/', '+'), SL_PT_PUBLISH, SL_EPROTO, 0x82},
        {B(0x08, 0x00, 0x01, '#'), SL_PROPS_WILL, SL_EPROTO, 0x82},
        {B(0x08, 0x00, 0x00), SL_PT_PUBLISH, SL_EPROTO, 0x82},
        /* Authentication Data needs a Method in CONNECT (5.0 §3.1.2.11.10) ... */
        {B(0x16, 0x00, 0x01, 0x07), SL_PT_CONNECT, SL_EPROTO, 0x82},
        {B(0x16, 0x00, 0x01, 0x07, 0x15, 0x00, 0x01, 'm'), SL_PT_CONNECT, SL_OK, 0},
        /* ... which the spec says of CONNECT only. */
        {B(0x16, 0x00, 0x01, 0x07), SL_PT_CONNACK, SL_OK, 0},
        {B(0x16, 0x00, 0x01, 0x07), SL_PT_AUTH, SL_OK, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = parse(cases[i].b, cases[i].n, cases[i].ctx);
        CHECK_EQ_INT(rc, cases[i].rc);
        CHECK_EQ_INT(last_reason, cases[i].reason);
        if (rc != cases[i].rc || last_reason != cases[i].reason) fprintf(stderr, "  case %zu\n", i);
    }
}

/* Malformed wins over a Protocol Error earlier in the block (5.0 §1.2). */
static void test_malformed_beats_protocol_error(void)
{
    CHECK_EQ_INT(parse(B(0x23, 0x00, 0x00, 0x03, 0x00, 0x05, 'a'), SL_PT_PUBLISH), SL_EMALFORMED);
    CHECK_EQ_INT(last_reason, SL_RC_MALFORMED_PACKET);
    CHECK_EQ_INT(parse(B(0x01, 0x01, 0x01, 0x01, 0x99), SL_PT_PUBLISH), SL_EMALFORMED);
    CHECK_EQ_INT(parse(B(0x01, 0x05, 0x12, 0x00, 0x00), SL_PT_PUBLISH), SL_EMALFORMED);
    /* the first Protocol Error's reason is the one reported */
    CHECK_EQ_INT(parse(B(0x23, 0x00, 0x00, 0x01, 0x02), SL_PT_PUBLISH), SL_EPROTO);
    CHECK_EQ_INT(last_reason, SL_RC_TOPIC_ALIAS_INVALID);
    CHECK_EQ_INT(parse(B(0x01, 0x02, 0x23, 0x00, 0x00), SL_PT_PUBLISH), SL_EPROTO);
    CHECK_EQ_INT(last_reason, SL_RC_PROTOCOL_ERROR);
    CHECK_EQ_INT(last.present, 0); /* cleared on failure */
}

/* A block with every property a context allows, in canonical order (singles
 * by identifier, then the repeated entries), parses and encodes back to the
 * same bytes. */
static size_t build_full(struct buf *w, uint8_t ctx)
{
    size_t users = 0;

    w->n = 0;
    for (size_t i = 0; i < NSAMPLES; i++) {
        const struct sample *s = &samples[i];
        if (!((s->contexts >> ctx) & 1) || s->id == 0x26 || s->id == 0x0b) continue;
        put(w, s->bytes, s->len);
    }
    if (sl_prop_allowed(ctx, 0x26)) {
        put(w, B(0x26, 0x00, 0x01, 'z', 0x00, 0x01, '1'));
        users++;
    }
    if (sl_prop_allowed(ctx, 0x0b)) put(w, B(0x0b, 0x80, 0x01));
    if (sl_prop_allowed(ctx, 0x26)) {
        put(w, B(0x26, 0x00, 0x01, 'a', 0x00, 0x00));
        put(w, B(0x26, 0x00, 0x01, 'z', 0x00, 0x01, '2')); /* same name again */
        users += 2;
    }
    if (ctx == SL_PT_PUBLISH) put(w, B(0x0b, 0x01));
    return users;
}

/* The next User Property is (name, value). */
static bool next_user_is(struct sl_props_iter *it, const char *name, const char *value)
{
    struct sl_bytes k = {NULL, 0}, v = {NULL, 0};

    if (!sl_props_next_user(it, &k, &v)) return false;
    return k.len == strlen(name) && (k.len == 0 || memcmp(k.ptr, name, k.len) == 0) &&
           v.len == strlen(value) && (v.len == 0 || memcmp(v.ptr, value, v.len) == 0);
}

static void test_round_trip_every_context(void)
{
    for (uint8_t ctx = 0; ctx <= SL_PROPS_WILL; ctx++) {
        struct buf w;
        size_t users = build_full(&w, ctx);
        uint8_t out[1024], blk[1040];
        size_t used = 0;

        CHECK_EQ_INT(parse(w.b, w.n, ctx), SL_OK);
        CHECK_EQ_INT(last.user_count, users);
        CHECK_EQ_INT(sl_props_size(&last), w.n);
        CHECK_EQ_INT(sl_props_encode(out, &last), w.n);
        CHECK_MEM(out, w.b, w.n);

        /* with the length prefix */
        size_t bn = sl_props_block_size(&last);
        CHECK_EQ_INT(bn, sl_varint_size((uint32_t)w.n) + w.n);
        CHECK_EQ_INT(sl_props_block_encode(blk, &last), bn);
        struct sl_props again;
        uint8_t reason = 0xee;
        CHECK_EQ_INT(sl_props_block_parse(blk, bn, ctx, &again, &used, &reason), SL_OK);
        CHECK_EQ_INT(used, bn);
        CHECK_EQ_INT(reason, 0);
        CHECK_EQ_INT(again.present, last.present);
        CHECK_EQ_INT(sl_props_size(&again), w.n);

        /* user properties in order */
        if (users > 0) {
            struct sl_props_iter it;
            struct sl_bytes k, v;
            sl_props_iter_repeated(&it, &last);
            CHECK(next_user_is(&it, "z", "1"));
            CHECK(next_user_is(&it, "a", ""));
            CHECK(next_user_is(&it, "z", "2"));
            CHECK(!sl_props_next_user(&it, &k, &v));
        }
    }
}

static bool bytes_is(struct sl_bytes b, const char *s)
{
    return b.len == strlen(s) && (b.len == 0 || memcmp(b.ptr, s, b.len) == 0);
}

static void test_decoded_values(void)
{
    struct buf w;

    build_full(&w, SL_PT_CONNACK);
    CHECK_EQ_INT(parse(w.b, w.n, SL_PT_CONNACK), SL_OK);
    CHECK_EQ_INT(last.session_expiry_interval, 3600);
    CHECK(bytes_is(last.assigned_client_identifier, "id"));
    CHECK_EQ_INT(last.server_keep_alive, 60);
    CHECK(bytes_is(last.authentication_method, "SCRAM"));
    CHECK(last.authentication_data.len == 2 && last.authentication_data.ptr[1] == 2);
    CHECK(bytes_is(last.response_information, "ri"));
    CHECK(bytes_is(last.server_reference, "sr"));
    CHECK(bytes_is(last.reason_string, "ok"));
    CHECK_EQ_INT(last.receive_maximum, 10);
    CHECK_EQ_INT(last.topic_alias_maximum, 5);
    CHECK_EQ_INT(last.maximum_qos, 1);
    CHECK_EQ_INT(last.retain_available, 0);
    CHECK(sl_props_has(&last, SL_PROP_RETAIN_AVAILABLE)); /* present though 0 */
    CHECK_EQ_INT(last.maximum_packet_size, 4096);
    CHECK_EQ_INT(last.wildcard_subscription_available, 1);
    CHECK_EQ_INT(last.subscription_identifier_available, 0);
    CHECK_EQ_INT(last.shared_subscription_available, 1);
    CHECK(!sl_props_has(&last, SL_PROP_TOPIC_ALIAS));

    build_full(&w, SL_PT_PUBLISH);
    CHECK_EQ_INT(parse(w.b, w.n, SL_PT_PUBLISH), SL_OK);
    CHECK_EQ_INT(last.payload_format_indicator, 1);
    CHECK_EQ_INT(last.message_expiry_interval, 300);
    CHECK(bytes_is(last.content_type, "text"));
    CHECK(bytes_is(last.response_topic, "r/1"));
    CHECK(last.correlation_data.len == 3 && last.correlation_data.ptr[0] == 0);
    CHECK_EQ_INT(last.topic_alias, 1);
    CHECK_EQ_INT(last.subscription_identifier_count, 2);
    CHECK_EQ_INT(last.subscription_identifier, 128);

    build_full(&w, SL_PROPS_WILL);
    CHECK_EQ_INT(parse(w.b, w.n, SL_PROPS_WILL), SL_OK);
    CHECK_EQ_INT(last.will_delay_interval, 5);

    build_full(&w, SL_PT_CONNECT);
    CHECK_EQ_INT(parse(w.b, w.n, SL_PT_CONNECT), SL_OK);
    CHECK_EQ_INT(last.request_problem_information, 0);
    CHECK_EQ_INT(last.request_response_information, 1);

    /* generic iterator: every entry, in wire order */
    struct sl_props_iter it;
    struct sl_prop v;
    size_t n = 0;
    uint8_t prev = 0;
    sl_props_iter_init(&it, (struct sl_bytes){copy_, w.n});
    while (sl_props_iter_next(&it, &v)) {
        if (v.id != 0x26) CHECK(v.id > prev);
        if (v.id != 0x26) prev = v.id;
        n++;
    }
    CHECK_EQ_INT(n, 8 + 3); /* 8 singles, 3 user properties */
}

/* Out of canonical order: encoding sorts the singles, keeps repeated order. */
static void test_reorder(void)
{
    uint8_t out[64];
    CHECK_EQ_INT(parse(B(0x26, 0, 1, 'b', 0, 0, 0x23, 0x00, 0x02, 0x0b, 0x03, 0x01, 0x01, 0x26, 0,
                         1, 'a', 0, 0),
                       SL_PT_PUBLISH),
                 SL_OK);
    static const uint8_t want[] = {0x01, 0x01, 0x23, 0x00, 0x02, 0x26, 0,   1, 'b', 0,
                                   0,    0x0b, 0x03, 0x26, 0,    1,    'a', 0, 0};
    CHECK_EQ_INT(sl_props_size(&last), sizeof(want));
    CHECK_EQ_INT(sl_props_encode(out, &last), sizeof(want));
    CHECK_MEM(out, want, sizeof(want));
}

static void test_block_parse(void)
{
    struct sl_props p;
    size_t used = 99;
    uint8_t reason;

    /* trailing bytes after the block are the caller's (e.g. a payload) */
    static const uint8_t b1[] = {0x03, 0x23, 0x00, 0x07, 'x', 'y'};
    CHECK_EQ_INT(sl_props_block_parse(b1, sizeof(b1), SL_PT_PUBLISH, &p, &used, &reason), SL_OK);
    CHECK_EQ_INT(used, 4);
    CHECK_EQ_INT(p.topic_alias, 7);
    /* length past the end */
    static const uint8_t b2[] = {0x04, 0x23, 0x00, 0x07};
    CHECK_EQ_INT(sl_props_block_parse(b2, sizeof(b2), SL_PT_PUBLISH, &p, &used, &reason),
                 SL_EMALFORMED);
    CHECK_EQ_INT(reason, SL_RC_MALFORMED_PACKET);
    CHECK_EQ_INT(used, 0);
    /* length not minimal, five bytes, missing */
    static const uint8_t b3[] = {0x80, 0x00};
    CHECK_EQ_INT(sl_props_block_parse(b3, sizeof(b3), SL_PT_PUBLISH, &p, &used, &reason),
                 SL_EMALFORMED);
    static const uint8_t b4[] = {0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK_EQ_INT(sl_props_block_parse(b4, sizeof(b4), SL_PT_PUBLISH, &p, &used, &reason),
                 SL_EMALFORMED);
    CHECK_EQ_INT(sl_props_block_parse(NULL, 0, SL_PT_PUBLISH, &p, &used, &reason), SL_EMALFORMED);
    /* empty block */
    static const uint8_t b5[] = {0x00};
    CHECK_EQ_INT(sl_props_block_parse(b5, 1, SL_PT_PUBACK, &p, &used, &reason), SL_OK);
    CHECK_EQ_INT(used, 1);
    /* protocol error inside passes through */
    static const uint8_t b6[] = {0x03, 0x23, 0x00, 0x00};
    CHECK_EQ_INT(sl_props_block_parse(b6, sizeof(b6), SL_PT_PUBLISH, &p, &used, &reason),
                 SL_EPROTO);
    CHECK_EQ_INT(reason, SL_RC_TOPIC_ALIAS_INVALID);
}

static void test_builder(void)
{
    struct sl_props p, q;
    uint8_t store_buf[64], out[128], reason;
    struct sl_props_store st = {store_buf, sizeof(store_buf)};
    static const uint8_t ct[] = "application/json";

    sl_props_init(&p);
    CHECK_EQ_INT(sl_props_size(&p), 0);
    CHECK_EQ_INT(sl_props_set_int(&p, SL_PROP_MESSAGE_EXPIRY_INTERVAL, 60), SL_OK);
    CHECK_EQ_INT(sl_props_set_int(&p, SL_PROP_PAYLOAD_FORMAT_INDICATOR, 1), SL_OK);
    CHECK_EQ_INT(sl_props_set_int(&p, SL_PROP_TOPIC_ALIAS, 3), SL_OK);
    CHECK_EQ_INT(sl_props_set_bytes(&p, SL_PROP_CONTENT_TYPE, ct, sizeof(ct) - 1), SL_OK);
    CHECK_EQ_INT(sl_props_add_user(&p, &st, (const uint8_t *)"k1", 2, (const uint8_t *)"v1", 2),
                 SL_OK);
    CHECK_EQ_INT(sl_props_add_subscription_id(&p, &st, 300), SL_OK);
    CHECK_EQ_INT(sl_props_add_user(&p, &st, (const uint8_t *)"k0", 2, NULL, 0), SL_OK);
    CHECK_EQ_INT(p.user_count, 2);
    CHECK_EQ_INT(p.subscription_identifier, 300);

    static const uint8_t want[] = {
        0x01, 0x01,                   /* Payload Format Indicator */
        0x02, 0x00, 0x00, 0x00, 0x3c, /* Message Expiry Interval */
        0x03, 0x00, 0x10, 'a',  'p',  'p',  'l',  'i', 'c', 'a',
        't',  'i',  'o',  'n',  '/',  'j',  's',  'o', 'n', /* Content Type */
        0x23, 0x00, 0x03,                                   /* Topic Alias */
        0x26, 0x00, 0x02, 'k',  '1',  0x00, 0x02, 'v', '1', /* User Property */
        0x0b, 0xac, 0x02,                                   /* Subscription Identifier 300 */
        0x26, 0x00, 0x02, 'k',  '0',  0x00, 0x00,           /* User Property */
    };
    CHECK_EQ_INT(sl_props_size(&p), sizeof(want));
    CHECK_EQ_INT(sl_props_encode(out, &p), sizeof(want));
    CHECK_MEM(out, want, sizeof(want));
    CHECK_EQ_INT(sl_props_parse(out, sizeof(want), SL_PT_PUBLISH, &q, &reason), SL_OK);
    CHECK_EQ_INT(q.present, p.present);

    /* replace and clear */
    CHECK_EQ_INT(sl_props_set_int(&p, SL_PROP_TOPIC_ALIAS, 9), SL_OK);
    CHECK_EQ_INT(p.topic_alias, 9);
    CHECK_EQ_INT(sl_props_size(&p), sizeof(want));
    sl_props_clear(&p, SL_PROP_TOPIC_ALIAS);
    CHECK(!sl_props_has(&p, SL_PROP_TOPIC_ALIAS));
    CHECK_EQ_INT(p.topic_alias, 0);
    CHECK_EQ_INT(sl_props_size(&p), sizeof(want) - 3);
    sl_props_clear(&p, SL_PROP_USER_PROPERTY); /* repeated: no effect */
    CHECK_EQ_INT(p.user_count, 2);
    sl_props_clear(&p, 0x7f); /* unknown: no effect */

    /* refused values */
    CHECK_EQ_INT(sl_props_set_int(&p, SL_PROP_TOPIC_ALIAS, 0), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_int(&p, SL_PROP_TOPIC_ALIAS, 0x10000), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_int(&p, SL_PROP_PAYLOAD_FORMAT_INDICATOR, 2), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_int(&p, SL_PROP_MAXIMUM_QOS, 0x100), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_int(&p, SL_PROP_RECEIVE_MAXIMUM, 0), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_int(&p, SL_PROP_MAXIMUM_PACKET_SIZE, 0), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_int(&p, SL_PROP_SUBSCRIPTION_IDENTIFIER, 5), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_int(&p, SL_PROP_CONTENT_TYPE, 5), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_int(&p, 0x04, 5), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_bytes(&p, SL_PROP_REASON_STRING, (const uint8_t *)"a\0b", 3),
                 SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_bytes(&p, SL_PROP_RESPONSE_TOPIC, (const uint8_t *)"a/#", 3),
                 SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_bytes(&p, SL_PROP_RESPONSE_TOPIC, NULL, 0), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_bytes(&p, SL_PROP_TOPIC_ALIAS, (const uint8_t *)"x", 1), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_bytes(&p, SL_PROP_USER_PROPERTY, (const uint8_t *)"x", 1), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_bytes(&p, SL_PROP_CORRELATION_DATA, NULL, 1), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_bytes(&p, SL_PROP_CORRELATION_DATA, out, 0x10000), SL_EINVAL);
    CHECK_EQ_INT(sl_props_set_bytes(&p, SL_PROP_CORRELATION_DATA, (const uint8_t *)"\0\xff", 2),
                 SL_OK); /* binary */
    CHECK_EQ_INT(sl_props_add_subscription_id(&p, &st, 0), SL_EINVAL);
    CHECK_EQ_INT(sl_props_add_subscription_id(&p, &st, SL_VARINT_MAX + 1), SL_EINVAL);
    CHECK_EQ_INT(sl_props_add_user(&p, &st, (const uint8_t *)"\xc0\x80", 2, NULL, 0), SL_EINVAL);
    CHECK_EQ_INT(
        sl_props_add_user(&p, &st, (const uint8_t *)"k", 1, (const uint8_t *)"\xed\xa0\x80", 3),
        SL_EINVAL);
    CHECK_EQ_INT(sl_props_add_user(&p, NULL, (const uint8_t *)"k", 1, NULL, 0), SL_EINVAL);
    CHECK_EQ_INT(sl_props_add_user(&p, &st, NULL, 1, NULL, 0), SL_EINVAL);
    CHECK_EQ_INT(sl_props_add_user(&p, &st, (const uint8_t *)"k", 1, NULL, 1), SL_EINVAL);
    CHECK_EQ_INT(sl_props_add_user(&p, &st, out, 0x10000, NULL, 0), SL_EINVAL);

    /* store full: refused, nothing changed */
    size_t before = p.repeated.len;
    uint8_t big[64];
    memset(big, 'x', sizeof(big));
    CHECK_EQ_INT(sl_props_add_user(&p, &st, big, sizeof(big), NULL, 0), SL_ETOOBIG);
    CHECK_EQ_INT(p.repeated.len, before);
    CHECK_EQ_INT(p.user_count, 2);
}

/* Appending to a parsed block copies its repeated entries into the store
 * first, in order, and leaves the other entries to the named fields. */
static void test_builder_after_parse(void)
{
    uint8_t store_buf[64], out[128];
    struct sl_props_store st = {store_buf, sizeof(store_buf)};

    CHECK_EQ_INT(parse(B(0x26, 0, 1, 'a', 0, 1, '1', 0x23, 0x00, 0x05, 0x0b, 0x02, 0x26, 0, 1, 'b',
                         0, 1, '2'),
                       SL_PT_PUBLISH),
                 SL_OK);
    CHECK_EQ_INT(sl_props_add_user(&last, &st, (const uint8_t *)"c", 1, (const uint8_t *)"3", 1),
                 SL_OK);
    CHECK(last.repeated.ptr == store_buf);
    CHECK_EQ_INT(last.user_count, 3);
    CHECK_EQ_INT(last.subscription_identifier_count, 1);
    sl_props_clear(&last, SL_PROP_TOPIC_ALIAS); /* as a broker does before forwarding */
    CHECK_EQ_INT(sl_props_add_subscription_id(&last, &st, 9), SL_OK);

    static const uint8_t want[] = {0x26, 0, 1,   'a',  0, 1, '1', 0x0b, 0x02, 0x26, 0,    1,   'b',
                                   0,    1, '2', 0x26, 0, 1, 'c', 0,    1,    '3',  0x0b, 0x09};
    CHECK_EQ_INT(sl_props_size(&last), sizeof(want));
    CHECK_EQ_INT(sl_props_encode(out, &last), sizeof(want));
    CHECK_MEM(out, want, sizeof(want));

    /* too small a store for the copy: refused, p unchanged */
    CHECK_EQ_INT(parse(B(0x26, 0, 1, 'a', 0, 1, '1', 0x26, 0, 1, 'b', 0, 1, '2'), SL_PT_PUBACK),
                 SL_OK);
    struct sl_props_store tiny = {store_buf, 8};
    CHECK_EQ_INT(sl_props_add_user(&last, &tiny, (const uint8_t *)"c", 1, NULL, 0), SL_ETOOBIG);
    CHECK(last.repeated.ptr == copy_);
    CHECK_EQ_INT(last.user_count, 2);
}

/* The encoder covers every type: a builder block of each single property
 * parses back to the same value. */
static void test_builder_every_type(void)
{
    for (size_t i = 0; i < NSAMPLES; i++) {
        const struct sample *s = &samples[i];
        struct sl_props p, q;
        uint8_t out[64], reason;
        uint8_t ctx;
        int rc;

        if (s->id == 0x26 || s->id == 0x0b) continue;
        for (ctx = 0; !((s->contexts >> ctx) & 1); ctx++)
            ;
        CHECK_EQ_INT(
            parse(s->bytes, s->len, ctx == SL_PT_CONNECT && s->id == 0x16 ? SL_PT_AUTH : ctx),
            SL_OK);
        sl_props_init(&p);
        switch (sl_prop_info(s->id)->type) {
        case SL_PROPTYPE_UTF8:
        case SL_PROPTYPE_BINARY:
            rc = sl_props_set_bytes(&p, s->id, s->bytes + 3, s->len - 3);
            break;
        case SL_PROPTYPE_BYTE:
            rc = sl_props_set_int(&p, s->id, s->bytes[1]);
            break;
        case SL_PROPTYPE_U16:
            rc = sl_props_set_int(&p, s->id, (uint32_t)s->bytes[1] << 8 | s->bytes[2]);
            break;
        default:
            rc = sl_props_set_int(&p, s->id,
                                  (uint32_t)s->bytes[1] << 24 | (uint32_t)s->bytes[2] << 16 |
                                      (uint32_t)s->bytes[3] << 8 | s->bytes[4]);
            break;
        }
        CHECK_EQ_INT(rc, SL_OK);
        CHECK_EQ_INT(sl_props_encode(out, &p), s->len);
        CHECK_MEM(out, s->bytes, s->len);
        if (s->id == 0x16) ctx = SL_PT_AUTH;
        CHECK_EQ_INT(sl_props_parse(out, s->len, ctx, &q, &reason), SL_OK);
    }
}

int main(void)
{
    RUN(test_table_info);
    RUN(test_every_id_in_every_context);
    RUN(test_duplicates);
    RUN(test_unknown_ids);
    RUN(test_empty_block);
    RUN(test_truncation);
    RUN(test_invalid_utf8);
    RUN(test_subscription_id_varint);
    RUN(test_value_ranges);
    RUN(test_malformed_beats_protocol_error);
    RUN(test_round_trip_every_context);
    RUN(test_decoded_values);
    RUN(test_reorder);
    RUN(test_block_parse);
    RUN(test_builder);
    RUN(test_builder_after_parse);
    RUN(test_builder_every_type);
    free(copy_);
    return check_summary();
}

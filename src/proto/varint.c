/*
 * varint.c - MQTT Variable Byte Integer: decode, size, encode.
 *
 *   value 0 .. 127              1 byte   0xxxxxxx
 *   value 128 .. 16,383         2 bytes  1xxxxxxx 0xxxxxxx
 *   value 16,384 .. 2,097,151   3 bytes  1xxxxxxx 1xxxxxxx 0xxxxxxx
 *   value 2,097,152 .. 268,435,455  4 bytes
 *
 * Invariants: the decoder never reads past buf[len) nor past the fourth byte;
 * it accepts only the minimal encoding, which is the same as "a multi-byte
 * encoding never ends in 0x00". The encoder always writes the minimal form and
 * never more than 4 bytes, whatever value it is given.
 */
#include "proto/varint.h"

#include "core/error.h"

int sl_varint_decode(const uint8_t *buf, size_t len, uint32_t *value, size_t *used)
{
    uint32_t v = 0;

    for (size_t i = 0; i < 4; i++) {
        if (i >= len) return SL_NEED_MORE;
        uint8_t b = buf[i];
        v |= (uint32_t)(b & 0x7f) << (7 * i);
        if ((b & 0x80) == 0) {
            /* A last byte of 0 after a continuation adds nothing: the value had a
             * shorter encoding. [MQTT-1.5.5-1] */
            if (i > 0 && b == 0) return SL_EMALFORMED;
            *value = v;
            *used = i + 1;
            return SL_OK;
        }
    }
    /* The fourth byte still says "more follows": a fifth byte is never valid.
     * (3.1.1 §2.2.3: at most four bytes.) */
    return SL_EMALFORMED;
}

size_t sl_varint_size(uint32_t value)
{
    if (value < 128u) return 1;
    if (value < 16384u) return 2;
    if (value < 2097152u) return 3;
    return 4;
}

size_t sl_varint_encode(uint8_t *out, uint32_t value)
{
    size_t n = 0;

    do {
        uint8_t b = (uint8_t)(value & 0x7f);
        value >>= 7;
        if (value != 0 && n < 3) b |= 0x80;
        out[n++] = b;
    } while (value != 0 && n < 4);
    return n;
}

/*
 * varint.h - MQTT Variable Byte Integer (the "remaining length" encoding).
 *
 * 7 bits per byte, least significant group first, high bit = "more follows".
 * At most 4 bytes, so values 0..268,435,455. Decoding rejects a fifth byte and a
 * non-minimal encoding (e.g. 0x80 0x00 for 0) [MQTT-1.5.5-1].
 */
#ifndef SL_PROTO_VARINT_H
#define SL_PROTO_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define SL_VARINT_MAX 268435455u

/* Decodes from buf[0..len). Returns SL_OK and sets *value and *used,
 * SL_NEED_MORE if the buffer ends inside the integer, SL_EMALFORMED otherwise. */
int sl_varint_decode(const uint8_t *buf, size_t len, uint32_t *value, size_t *used);

/* Bytes the minimal encoding of value takes (1..4). value <= SL_VARINT_MAX. */
size_t sl_varint_size(uint32_t value);

/* Writes the minimal encoding into out (room for 4 bytes); returns bytes written. */
size_t sl_varint_encode(uint8_t *out, uint32_t value);

#endif

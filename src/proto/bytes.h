/*
 * bytes.h - a borrowed (pointer, length) view into a caller's buffer.
 * Decoders return these instead of copies: no per-field allocation.
 */
#ifndef SL_PROTO_BYTES_H
#define SL_PROTO_BYTES_H

#include <stddef.h>
#include <stdint.h>

struct sl_bytes {
    const uint8_t *ptr;
    size_t len;
};

#endif

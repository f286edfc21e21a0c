/*
 * utf8.h - validation of MQTT UTF-8 Encoded Strings.
 *
 * Valid means well-formed UTF-8 (no overlong forms, no code points above U+10FFFF)
 * with no UTF-16 surrogates U+D800..U+DFFF [MQTT-1.5.3-1] and no U+0000
 * [MQTT-1.5.3-2]. Other control characters and non-characters are allowed
 * (the spec says SHOULD NOT, not MUST NOT).
 */
#ifndef SL_PROTO_UTF8_H
#define SL_PROTO_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool sl_utf8_valid(const uint8_t *s, size_t len);

#endif

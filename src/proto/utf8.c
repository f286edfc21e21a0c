/*
 * utf8.c - validation of MQTT UTF-8 Encoded Strings (3.1.1 §1.5.3, 5.0 §1.5.4).
 *
 * Well-formed sequences, as in the Unicode table "Well-Formed UTF-8 Byte
 * Sequences" (RFC 3629 §4):
 *
 *   U+0000..U+007F     00..7F
 *   U+0080..U+07FF     C2..DF  80..BF
 *   U+0800..U+0FFF     E0      A0..BF  80..BF
 *   U+1000..U+CFFF     E1..EC  80..BF  80..BF
 *   U+D000..U+D7FF     ED      80..9F  80..BF      (A0..BF would be surrogates)
 *   U+E000..U+FFFF     EE..EF  80..BF  80..BF
 *   U+10000..U+3FFFF   F0      90..BF  80..BF  80..BF
 *   U+40000..U+FFFFF   F1..F3  80..BF  80..BF  80..BF
 *   U+100000..U+10FFFF F4      80..8F  80..BF  80..BF
 *
 * Narrowing the second byte's range after E0, ED, F0 and F4 is what rejects
 * overlong forms, surrogates and code points above U+10FFFF; C0, C1 and F5..FF
 * never start a sequence. On top of that MQTT forbids U+0000.
 *
 * Invariant: never reads past s[len); a sequence cut short by len is invalid.
 */
#include "proto/utf8.h"

bool sl_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t c = s[i];
        uint8_t lo = 0x80, hi = 0xbf; /* range of the second byte */
        size_t n;                     /* continuation bytes */

        if (c == 0x00) return false; /* [MQTT-1.5.3-2] */
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong [MQTT-1.5.3-1] */
            else if (c == 0xed)
                hi = 0x9f; /* U+D800..U+DFFF [MQTT-1.5.3-1] */
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong [MQTT-1.5.3-1] */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF [MQTT-1.5.3-1] */
        } else {
            return false; /* 80..C1 or F5..FF: not a lead byte [MQTT-1.5.3-1] */
        }
        if (len - i <= n) return false; /* truncated sequence [MQTT-1.5.3-1] */
        if (s[i + 1] < lo || s[i + 1] > hi) return false;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xc0) != 0x80) return false;
        i += n + 1;
    }
    return true;
}

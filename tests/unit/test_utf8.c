/* test_utf8.c - MQTT UTF-8 validation (3.1.1 §1.5.3). */
#include "check.h"
#include "proto/utf8.h"

struct vec {
    const char *name;
    size_t len;
    const char *s;
    bool valid;
};

#define V(name, lit, ok)                                                                           \
    {                                                                                              \
        name, sizeof(lit) - 1, lit, ok                                                             \
    }

static const struct vec vecs[] = {
    V("empty", "", true),
    V("ascii", "hello/world", true),
    V("control chars other than NUL", "\x01\x1f\x7f", true),
    V("2-byte U+0080", "\xc2\x80", true),
    V("2-byte U+07FF", "\xdf\xbf", true),
    V("3-byte U+0800", "\xe0\xa0\x80", true),
    V("3-byte U+D7FF", "\xed\x9f\xbf", true),
    V("3-byte U+E000", "\xee\x80\x80", true),
    V("3-byte U+FFFF (non-character, allowed)", "\xef\xbf\xbf", true),
    V("BOM U+FEFF kept [MQTT-1.5.3-3]", "\xef\xbb\xbf", true),
    V("4-byte U+10000", "\xf0\x90\x80\x80", true),
    V("4-byte U+1F600", "\xf0\x9f\x98\x80", true),
    V("4-byte U+10FFFF", "\xf4\x8f\xbf\xbf", true),
    V("mixed", "a\xc3\xa9/\xe2\x82\xac/\xf0\x9f\x98\x80", true),

    V("U+0000 [MQTT-1.5.3-2]", "a\0b", false),
    V("U+0000 alone", "\0", false),
    V("overlong NUL C0 80", "\xc0\x80", false),
    V("overlong C1 BF", "\xc1\xbf", false),
    V("overlong 3-byte U+007F", "\xe0\x81\xbf", false),
    V("overlong 3-byte U+07FF", "\xe0\x9f\xbf", false),
    V("overlong 4-byte U+FFFF", "\xf0\x8f\xbf\xbf", false),
    V("surrogate U+D800", "\xed\xa0\x80", false),
    V("surrogate U+DBFF", "\xed\xaf\xbf", false),
    V("surrogate U+DC00", "\xed\xb0\x80", false),
    V("surrogate U+DFFF", "\xed\xbf\xbf", false),
    V("U+110000", "\xf4\x90\x80\x80", false),
    V("lead F5", "\xf5\x80\x80\x80", false),
    V("lead F8 (5-byte form)", "\xf8\x88\x80\x80\x80", false),
    V("lead FF", "\xff", false),
    V("lone continuation", "\x80", false),
    V("continuation after ascii", "a\xbf", false),
    V("truncated 2-byte", "\xc3", false),
    V("truncated 3-byte (1 of 2)", "\xe2\x82", false),
    V("truncated 3-byte (0 of 2)", "\xe2", false),
    V("truncated 4-byte", "\xf0\x9f\x98", false),
    V("truncated 4-byte then ascii",
      "\xf0\x9f\x98"
      "a",
      false),
    V("bad second continuation", "\xe2\x28\xa1", false),
    V("bad third continuation", "\xf0\x9f\x98\x28", false),
};

static void test_vectors(void)
{
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        bool got = sl_utf8_valid((const uint8_t *)vecs[i].s, vecs[i].len);
        if (got != vecs[i].valid) {
            fprintf(stderr, "  utf8 vector '%s': got %d\n", vecs[i].name, got);
            CHECK(got == vecs[i].valid);
        }
    }
}

static void test_null_pointer_empty(void)
{
    CHECK(sl_utf8_valid(NULL, 0));
}

/* The length bounds the read: a valid prefix of an invalid buffer is valid. */
static void test_length_bounds(void)
{
    const uint8_t s[] = {'a', 'b', 0xff};
    CHECK(sl_utf8_valid(s, 2));
    CHECK(!sl_utf8_valid(s, 3));
    const uint8_t e[] = {0xe2, 0x82, 0xac};
    CHECK(!sl_utf8_valid(e, 2));
    CHECK(sl_utf8_valid(e, 3));
}

/* Every 2-byte lead with every second byte: valid exactly for C2..DF x 80..BF. */
static void test_exhaustive_two_byte(void)
{
    for (int a = 0x80; a <= 0xff; a++) {
        for (int b = 0; b <= 0xff; b++) {
            uint8_t s[2] = {(uint8_t)a, (uint8_t)b};
            bool want = a >= 0xc2 && a <= 0xdf && b >= 0x80 && b <= 0xbf;
            if (sl_utf8_valid(s, 2) != want) {
                fprintf(stderr, "  %02x %02x\n", a, b);
                CHECK(!"two-byte table");
            }
        }
    }
}

/* All of U+0001..U+10FFFF except surrogates, encoded here, must validate. */
static void test_every_code_point(void)
{
    for (uint32_t cp = 1; cp <= 0x10ffff; cp++) {
        uint8_t s[4];
        size_t n;
        if (cp < 0x80) {
            s[0] = (uint8_t)cp;
            n = 1;
        } else if (cp < 0x800) {
            s[0] = (uint8_t)(0xc0 | (cp >> 6));
            s[1] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 2;
        } else if (cp < 0x10000) {
            s[0] = (uint8_t)(0xe0 | (cp >> 12));
            s[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            s[2] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 3;
        } else {
            s[0] = (uint8_t)(0xf0 | (cp >> 18));
            s[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
            s[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
            s[3] = (uint8_t)(0x80 | (cp & 0x3f));
            n = 4;
        }
        bool want = !(cp >= 0xd800 && cp <= 0xdfff);
        if (sl_utf8_valid(s, n) != want) {
            fprintf(stderr, "  U+%04" PRIX32 "\n", cp);
            CHECK(!"code point");
            return;
        }
    }
}

int main(void)
{
    RUN(test_vectors);
    RUN(test_null_pointer_empty);
    RUN(test_length_bounds);
    RUN(test_exhaustive_two_byte);
    RUN(test_every_code_point);
    return check_summary();
}

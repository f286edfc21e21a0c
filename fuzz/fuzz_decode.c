/*
 * fuzz_decode.c - libFuzzer target for the MQTT codec (src/proto).
 *
 * Input layout:
 *
 *   byte 0      protocol level to start with: 3 + byte % 3 (3.1, 3.1.1, 5.0)
 *   bytes 1..   a stream of MQTT packets, read the way a broker reads a socket
 *
 * Each packet goes through sl_frame_parse, sl_frame_check_server_inbound and the
 * decoder for its type (the client-side ones too, for CONNACK, SUBACK and
 * UNSUBACK). A CONNECT that decodes switches the level, as a broker would. Its
 * body is copied into a heap block of exactly its size, so ASan catches a
 * decoder reading even one byte past it.
 *
 * Beyond "does not crash", the target checks properties and aborts if one fails:
 *   - a fixed header re-encodes to the same bytes;
 *   - what a decoder accepts obeys the rules it claims (valid UTF-8, non-zero
 *     packet ids, counts that match the iterator);
 *   - encoders rebuild the exact bytes of what was decoded wherever they can
 *     express it (PUBLISH, CONNECT without properties, 3.1.1 acks, CONNACK,
 *     SUBACK, one-filter SUBSCRIBE, DISCONNECT, PINGRESP);
 *   - sl_utf8_valid agrees with a naive code-point decoder;
 *   - sl_topic_matches agrees with a naive level-by-level matcher on decoded
 *     topic names and filters.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "proto/decode.h"
#include "proto/encode.h"
#include "proto/frame.h"
#include "proto/topic.h"
#include "proto/utf8.h"
#include "proto/varint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c)                                                                                  \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

/* ---- reference UTF-8 validator: decode code points the long way ---- */

static bool ref_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t n;
        uint8_t c = s[i];
        if (c < 0x80) {
            cp = c;
            n = 0;
        } else if ((c & 0xe0) == 0xc0) {
            cp = c & 0x1f;
            n = 1;
        } else if ((c & 0xf0) == 0xe0) {
            cp = c & 0x0f;
            n = 2;
        } else if ((c & 0xf8) == 0xf0) {
            cp = c & 0x07;
            n = 3;
        } else {
            return false;
        }
        if (len - i <= n) return false; /* cut short */
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        static const uint32_t min_for_len[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0)
            return false;
        i += n + 1;
    }
    return true;
}

/* ---- reference topic matcher: split into levels, compare recursively ---- */

#define MAX_LEVELS 300

struct level {
    const uint8_t *p;
    size_t n;
};

static size_t split(const uint8_t *s, size_t len, struct level *out)
{
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == '/') {
            out[count].p = s + start;
            out[count].n = i - start;
            count++;
            start = i + 1;
        }
    }
    return count;
}

static bool level_is(struct level l, char c)
{
    return l.n == 1 && l.p[0] == (uint8_t)c;
}

static bool ref_levels(const struct level *f, size_t nf, const struct level *n, size_t nn)
{
    if (nf == 0) return nn == 0;
    if (level_is(f[0], '#')) return true; /* this level and below, or the parent when nn == 0 */
    if (nn == 0) return false;
    if (!level_is(f[0], '+') && (f[0].n != n[0].n || memcmp(f[0].p, n[0].p, f[0].n) != 0))
        return false;
    return ref_levels(f + 1, nf - 1, n + 1, nn - 1);
}

/* Both inputs at most 256 bytes, so at most 257 levels each. */
static bool ref_match(const uint8_t *f, size_t flen, const uint8_t *name, size_t nlen)
{
    struct level fl[MAX_LEVELS], nl[MAX_LEVELS];
    size_t nf = split(f, flen, fl), nn = split(name, nlen, nl);
    if (nlen > 0 && name[0] == '$' && (level_is(fl[0], '+') || level_is(fl[0], '#'))) return false;
    return ref_levels(fl, nf, nl, nn);
}

/* A few names and filters to match decoded ones against. */
static const char *const fixed_names[] = {"a", "a/b", "/", "$SYS/x", "", "a//b", "sport/tennis"};
static const char *const fixed_filters[] = {"#", "+", "a/#", "+/+", "$SYS/#", "a/+/b", "/#"};

/* The remembered last topic and filter, as copies (bodies are freed per packet). */
struct memo {
    uint8_t topic[256];
    size_t topic_len;
    bool have_topic;
    uint8_t filter[256];
    size_t filter_len;
    bool have_filter;
};

static void check_match(const uint8_t *f, size_t flen, const uint8_t *n, size_t nlen)
{
    if (flen > 256 || nlen > 256 || !sl_topic_filter_valid(f, flen)) return;
    ASSERT(sl_topic_matches(f, flen, n, nlen) == ref_match(f, flen, n, nlen));
}

static void on_topic(struct memo *m, struct sl_bytes t)
{
    ASSERT(sl_utf8_valid(t.ptr, t.len));
    if (t.len == 0 || t.len > 256) return;
    ASSERT(sl_topic_name_valid(t.ptr, t.len));
    ASSERT(sl_topic_filter_valid(t.ptr, t.len)); /* a name is also a filter */
    ASSERT(sl_topic_matches(t.ptr, t.len, t.ptr, t.len));
    ASSERT(sl_topic_matches((const uint8_t *)"#", 1, t.ptr, t.len) == (t.ptr[0] != '$'));
    for (size_t i = 0; i < sizeof(fixed_filters) / sizeof(fixed_filters[0]); i++)
        check_match((const uint8_t *)fixed_filters[i], strlen(fixed_filters[i]), t.ptr, t.len);
    if (m->have_filter) check_match(m->filter, m->filter_len, t.ptr, t.len);
    memcpy(m->topic, t.ptr, t.len);
    m->topic_len = t.len;
    m->have_topic = true;
}

static void on_filter(struct memo *m, struct sl_bytes f)
{
    ASSERT(f.len > 0 && sl_utf8_valid(f.ptr, f.len));
    if (f.len > 256) return;
    bool valid = sl_topic_filter_valid(f.ptr, f.len);
    if (sl_topic_name_valid(f.ptr, f.len)) ASSERT(valid);
    if (!valid) return;
    for (size_t i = 0; i < sizeof(fixed_names) / sizeof(fixed_names[0]); i++)
        check_match(f.ptr, f.len, (const uint8_t *)fixed_names[i], strlen(fixed_names[i]));
    if (m->have_topic) check_match(f.ptr, f.len, m->topic, m->topic_len);
    memcpy(m->filter, f.ptr, f.len);
    m->filter_len = f.len;
    m->have_filter = true;
}

/* Encoded packet 'enc' must carry the same body as the decoded one. */
static void same_body(const uint8_t *enc, size_t enc_len, const uint8_t *body, size_t blen)
{
    struct sl_frame f;
    ASSERT(sl_frame_parse(enc, enc_len, &f) == SL_OK);
    ASSERT(f.header_len + f.remaining == enc_len);
    ASSERT(f.remaining == blen);
    ASSERT(blen == 0 || memcmp(enc + f.header_len, body, blen) == 0);
}

static void fuzz_connect(const uint8_t *body, size_t blen, uint8_t *version)
{
    struct sl_connect c;
    int rc = sl_decode_connect(body, blen, &c);
    if (rc == SL_EVERSION) {
        /* Only a known name with a level that does not go with it. */
        ASSERT(blen >= 7);
        size_t nl = (size_t)(body[0] << 8 | body[1]);
        ASSERT((nl == 4 || nl == 6) && blen >= 2 + nl + 1);
        uint8_t level = body[2 + nl];
        ASSERT(level == c.version);
        if (nl == 4)
            ASSERT(memcmp(body + 2, "MQTT", 4) == 0 && level != 4 && level != 5);
        else
            ASSERT(memcmp(body + 2, "MQIsdp", 6) == 0 && level != 3);
    }
    if (rc != SL_OK) return;
    ASSERT(c.version >= 3 && c.version <= 5);
    ASSERT(sl_utf8_valid(c.client_id.ptr, c.client_id.len));
    ASSERT(!c.will || sl_topic_name_valid(c.will_topic.ptr, c.will_topic.len));
    ASSERT(c.will || (c.will_qos == 0 && !c.will_retain));
    ASSERT(c.will_qos < 3);
    ASSERT(!c.has_username || sl_utf8_valid(c.username.ptr, c.username.len));
    ASSERT(c.version == 5 || !c.has_password || c.has_username);
    ASSERT(c.version == 5 || (c.props.len == 0 && c.will_props.len == 0));
    *version = c.version;

    /* Re-encode with the client encoder. It writes empty property blocks, so the
     * bytes match exactly only without properties; otherwise decode it again. */
    static const uint8_t empty[1] = {0};
    struct sl_connect_params p = {0};
    p.version = c.version;
    p.clean_start = c.clean_start;
    p.keepalive = c.keepalive;
    p.client_id = c.client_id.ptr;
    p.client_id_len = c.client_id.len;
    if (c.will) {
        p.will_topic = c.will_topic.ptr;
        p.will_topic_len = c.will_topic.len;
        p.will_payload = c.will_payload.len ? c.will_payload.ptr : empty;
        p.will_payload_len = c.will_payload.len;
        p.will_qos = c.will_qos;
        p.will_retain = c.will_retain;
    }
    if (c.has_username) {
        p.username = c.username.len ? c.username.ptr : empty;
        p.username_len = c.username.len;
    }
    if (c.has_password) {
        p.password = c.password.len ? c.password.ptr : empty;
        p.password_len = c.password.len;
    }
    size_t size = sl_encode_connect_size(&p);
    uint8_t *enc = malloc(size);
    ASSERT(enc != NULL);
    ASSERT(sl_encode_connect(enc, &p) == size);
    if (c.props.len == 0 && c.will_props.len == 0) {
        same_body(enc, size, body, blen);
    } else {
        struct sl_frame f;
        struct sl_connect c2;
        ASSERT(sl_frame_parse(enc, size, &f) == SL_OK);
        ASSERT(sl_decode_connect(enc + f.header_len, f.remaining, &c2) == SL_OK);
        ASSERT(c2.version == c.version && c2.keepalive == c.keepalive);
        ASSERT(c2.clean_start == c.clean_start && c2.will == c.will);
        ASSERT(c2.client_id.len == c.client_id.len);
        ASSERT(c2.will_payload.len == c.will_payload.len);
        ASSERT(c2.password.len == c.password.len && c2.username.len == c.username.len);
    }
    free(enc);
}

static void fuzz_publish(const uint8_t *body, size_t blen, const struct sl_frame *fr, uint8_t byte0,
                         uint8_t version, struct memo *m)
{
    struct sl_publish p;
    if (sl_decode_publish(body, blen, fr->flags, version, &p) != SL_OK) return;
    ASSERT(p.qos < 3 && (p.qos > 0 || !p.dup));
    ASSERT((p.qos == 0) == (p.packet_id == 0));
    ASSERT(version == 5 || (p.topic.len > 0 && p.props.len == 0));
    on_topic(m, p.topic);

    /* Rebuild the packet the way the broker sends one: head, topic, id, props,
     * payload. It must be the bytes we read. */
    uint32_t rem = sl_publish_remaining(version, p.topic.len, p.qos, p.props.len, p.payload.len);
    ASSERT(rem == fr->remaining);
    size_t total = fr->header_len + (size_t)rem, n;
    uint8_t *enc = malloc(total);
    ASSERT(enc != NULL);
    n = sl_encode_publish_head(enc, p.qos, p.retain, p.dup, rem, (uint16_t)p.topic.len);
    ASSERT(n == (size_t)fr->header_len + 2 && n <= SL_PUBLISH_HEAD_MAX);
    ASSERT(enc[0] == byte0);
    if (p.topic.len) memcpy(enc + n, p.topic.ptr, p.topic.len);
    n += p.topic.len;
    if (p.qos > 0) n += sl_encode_u16(enc + n, p.packet_id);
    if (version == 5) {
        n += sl_varint_encode(enc + n, (uint32_t)p.props.len);
        if (p.props.len) memcpy(enc + n, p.props.ptr, p.props.len);
        n += p.props.len;
    }
    if (p.payload.len) memcpy(enc + n, p.payload.ptr, p.payload.len);
    n += p.payload.len;
    ASSERT(n == total);
    same_body(enc, total, body, blen);
    free(enc);
}

static void fuzz_ack(const uint8_t *body, size_t blen, uint8_t type, uint8_t version)
{
    struct sl_ack a;
    if (sl_decode_ack(body, blen, version, &a) != SL_OK) return;
    ASSERT(a.packet_id != 0);
    if (version < 5) {
        uint8_t enc[SL_ACK311_SIZE];
        ASSERT(blen == 2);
        if (type == SL_PT_UNSUBACK)
            ASSERT(sl_encode_unsuback311(enc, a.packet_id) == SL_UNSUBACK311_SIZE);
        else
            ASSERT(sl_encode_ack311(enc, type, a.packet_id) == SL_ACK311_SIZE);
        same_body(enc, sizeof(enc), body, blen);
    } else {
        ASSERT(blen >= 2);
        ASSERT(blen > 2 || a.reason == 0);
        ASSERT(blen < 4 || a.props.len + sl_varint_size((uint32_t)a.props.len) == blen - 3);
    }
}

static void fuzz_subscribe(const uint8_t *body, size_t blen, uint8_t version, struct memo *m)
{
    struct sl_subscribe s;
    struct sl_sub_iter it;
    struct sl_bytes f, first = {0};
    uint8_t opt, first_opt = 0;
    uint32_t count = 0;
    size_t bytes = 0;

    if (sl_decode_subscribe(body, blen, version, &s) != SL_OK) return;
    ASSERT(s.packet_id != 0 && s.count > 0);
    sl_sub_iter_init(&it, s.list, true);
    while (sl_sub_iter_next(&it, &f, &opt)) {
        ASSERT((opt & 3) != 3);
        ASSERT(version == 5 ? (opt & 0xc0) == 0 && (opt & 0x30) != 0x30 : (opt & 0xfc) == 0);
        on_filter(m, f);
        if (count == 0) {
            first = f;
            first_opt = opt;
        }
        bytes += 2 + f.len + 1;
        count++;
    }
    ASSERT(count == s.count && bytes == s.list.len);

    if (count == 1 && s.props.len == 0) {
        size_t size = sl_encode_subscribe1_size(version, first.len);
        uint8_t *enc = malloc(size);
        ASSERT(enc != NULL);
        ASSERT(sl_encode_subscribe1(enc, version, s.packet_id, first.ptr, first.len, first_opt) ==
               size);
        same_body(enc, size, body, blen);
        free(enc);
    }
}

static void fuzz_unsubscribe(const uint8_t *body, size_t blen, uint8_t version, struct memo *m)
{
    struct sl_unsubscribe u;
    struct sl_sub_iter it;
    struct sl_bytes f;
    uint8_t opt;
    uint32_t count = 0;
    size_t bytes = 0;

    if (sl_decode_unsubscribe(body, blen, version, &u) != SL_OK) return;
    ASSERT(u.packet_id != 0 && u.count > 0);
    sl_sub_iter_init(&it, u.list, false);
    while (sl_sub_iter_next(&it, &f, &opt)) {
        ASSERT(opt == 0);
        on_filter(m, f);
        bytes += 2 + f.len;
        count++;
    }
    ASSERT(count == u.count && bytes == u.list.len);
}

static void fuzz_disconnect(const uint8_t *body, size_t blen, uint8_t version)
{
    struct sl_disconnect d;
    if (sl_decode_disconnect(body, blen, version, &d) != SL_OK) return;
    if (version < 5) {
        uint8_t enc[SL_DISCONNECT311_SIZE];
        ASSERT(sl_encode_disconnect311(enc) == SL_DISCONNECT311_SIZE);
        same_body(enc, sizeof(enc), body, blen);
    } else {
        ASSERT(blen > 0 || d.reason == 0);
    }
}

static void fuzz_connack(const uint8_t *body, size_t blen, uint8_t version)
{
    struct sl_connack c;
    if (sl_decode_connack(body, blen, version, &c) != SL_OK) return;
    if (version < 5) {
        uint8_t enc[SL_CONNACK311_SIZE];
        ASSERT(sl_encode_connack311(enc, c.session_present, c.code) == SL_CONNACK311_SIZE);
        same_body(enc, sizeof(enc), body, blen);
    }
}

static void fuzz_suback(const uint8_t *body, size_t blen, uint8_t version)
{
    struct sl_suback s;
    if (sl_decode_suback(body, blen, version, &s) != SL_OK) return;
    ASSERT(s.packet_id != 0 && s.codes.len > 0);
    if (s.props.len == 0) {
        size_t size = sl_encode_suback_size(version, s.codes.len);
        uint8_t *enc = malloc(size);
        ASSERT(enc != NULL);
        ASSERT(sl_encode_suback(enc, version, s.packet_id, s.codes.ptr, s.codes.len) == size);
        same_body(enc, size, body, blen);
        free(enc);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct memo m;
    uint8_t version;
    const uint8_t *p;
    size_t left;

    if (size < 1) return 0;
    version = (uint8_t)(3 + data[0] % 3);
    p = data + 1;
    left = size - 1;
    memset(&m, 0, sizeof(m));

    /* The validator against the reference, on the raw stream (bounded). */
    ASSERT(sl_utf8_valid(p, left < 512 ? left : 512) == ref_utf8_valid(p, left < 512 ? left : 512));

    while (left > 0) {
        struct sl_frame f;
        int rc = sl_frame_parse(p, left, &f);
        if (rc != SL_OK) {
            ASSERT(rc == SL_NEED_MORE || rc == SL_EMALFORMED);
            break;
        }
        ASSERT(f.header_len >= 2 && f.header_len <= 5 && f.remaining <= SL_VARINT_MAX);
        ASSERT(f.type == (p[0] >> 4) && f.flags == (p[0] & 0x0f));
        uint8_t hdr[5];
        ASSERT(sl_frame_encode(hdr, p[0], f.remaining) == f.header_len);
        ASSERT(memcmp(hdr, p, f.header_len) == 0);
        if (f.remaining > left - f.header_len)
            break; /* the rest of the stream is a partial packet */

        int inbound = sl_frame_check_server_inbound(&f, version);
        ASSERT(inbound == SL_OK || inbound == SL_EMALFORMED);

        /* An exact-size copy, so an over-read of the body hits ASan's redzone. */
        size_t blen = f.remaining;
        uint8_t *body = NULL;
        if (blen > 0) {
            body = malloc(blen);
            ASSERT(body != NULL);
            memcpy(body, p + f.header_len, blen);
        }

        switch (f.type) {
        case SL_PT_CONNECT:
            fuzz_connect(body, blen, &version);
            break;
        case SL_PT_PUBLISH:
            fuzz_publish(body, blen, &f, p[0], version, &m);
            break;
        case SL_PT_PUBACK:
        case SL_PT_PUBREC:
        case SL_PT_PUBREL:
        case SL_PT_PUBCOMP:
            fuzz_ack(body, blen, f.type, version);
            break;
        case SL_PT_SUBSCRIBE:
            fuzz_subscribe(body, blen, version, &m);
            break;
        case SL_PT_UNSUBSCRIBE:
            fuzz_unsubscribe(body, blen, version, &m);
            break;
        case SL_PT_DISCONNECT:
            fuzz_disconnect(body, blen, version);
            break;
        case SL_PT_CONNACK:
            fuzz_connack(body, blen, version);
            break;
        case SL_PT_SUBACK:
            fuzz_suback(body, blen, version);
            break;
        case SL_PT_UNSUBACK:
            if (version == 5)
                fuzz_suback(body, blen, version); /* same shape in 5.0 */
            else
                fuzz_ack(body, blen, f.type, version); /* just a packet id */
            break;
        case SL_PT_PINGREQ:
            ASSERT((inbound == SL_OK) == (f.flags == 0 && blen == 0));
            break;
        case SL_PT_PINGRESP:
            ASSERT(inbound == SL_EMALFORMED); /* server to client only */
            if (p[0] == 0xd0 && blen == 0) {
                uint8_t enc[SL_PINGRESP_SIZE];
                ASSERT(sl_encode_pingresp(enc) == SL_PINGRESP_SIZE);
                ASSERT(memcmp(enc, p, SL_PINGRESP_SIZE) == 0);
            }
            break;
        default:
            break;
        }
        free(body);
        p += f.header_len + blen;
        left -= f.header_len + blen;
    }
    return 0;
}

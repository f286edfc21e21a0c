/*
 * decode.c - one decoder per MQTT control packet, over a complete packet body.
 *
 * A decoder gets exactly the 'remaining length' bytes that follow the fixed
 * header and fills a struct of views into them. The body layouts it accepts
 * (u16 = big-endian 16 bits, str = u16 length + UTF-8, bin = u16 length + bytes,
 * props = varint length + bytes, only at protocol level 5):
 *
 *   CONNECT      str name, u8 level, u8 flags, u16 keepalive, [props],
 *                str client id, [[will props] str will topic, bin will payload],
 *                [str user name], [bin password]
 *   PUBLISH      str topic, [u16 packet id if QoS > 0], [props], payload...
 *   PUBACK..     u16 packet id                           (before 5.0)
 *   PUBCOMP      u16 packet id [u8 reason [props]]       (5.0)
 *   SUBSCRIBE    u16 packet id, [props], (str filter, u8 options)+
 *   UNSUBSCRIBE  u16 packet id, [props], (str filter)+
 *   DISCONNECT   nothing (before 5.0) | [u8 reason [props]] (5.0)
 *   CONNACK      u8 ack flags, u8 code, [props]
 *   SUBACK       u16 packet id, [props], u8 code+          (also UNSUBACK in 5.0)
 *
 * Invariants: every read goes through struct reader, which knows how many
 * bytes are left, so no decoder can read outside body[0..len); a decoder that
 * finishes with bytes left over fails; nothing is allocated or copied, and the
 * output struct is zeroed first, so fields for absent parts are empty views.
 * Only SL_OK, SL_EMALFORMED and (CONNECT) SL_EVERSION are returned: the body is
 * complete, so running out of bytes is malformed, never "need more". The version
 * argument selects the 5.0 layout when it is SL_MQTT_5 and the 3.1/3.1.1 layout
 * otherwise.
 */
#include "proto/decode.h"

#include <string.h>

#include "core/error.h"
#include "proto/frame.h"
#include "proto/topic.h"
#include "proto/utf8.h"
#include "proto/varint.h"

struct reader {
    const uint8_t *p;
    size_t left;
};

static void reader_init(struct reader *r, const uint8_t *body, size_t len)
{
    r->p = body;
    r->left = len;
}

/* Callers have checked n <= r->left. Adding 0 to a null body is avoided: it is
 * undefined behaviour in C and UBSan says so. */
static void skip(struct reader *r, size_t n)
{
    if (n > 0) {
        r->p += n;
        r->left -= n;
    }
}

static bool read_u8(struct reader *r, uint8_t *v)
{
    if (r->left < 1) return false;
    *v = r->p[0];
    skip(r, 1);
    return true;
}

static bool read_u16(struct reader *r, uint16_t *v)
{
    if (r->left < 2) return false;
    *v = (uint16_t)((r->p[0] << 8) | r->p[1]);
    skip(r, 2);
    return true;
}

/* Binary Data: u16 length, then that many bytes. */
static bool read_bin(struct reader *r, struct sl_bytes *v)
{
    uint16_t n;

    if (!read_u16(r, &n) || n > r->left) return false;
    v->ptr = r->p;
    v->len = n;
    skip(r, n);
    return true;
}

/* UTF-8 Encoded String: Binary Data whose bytes are valid MQTT UTF-8. */
static bool read_str(struct reader *r, struct sl_bytes *v)
{
    /* [MQTT-1.5.3-1] [MQTT-1.5.3-2] */
    return read_bin(r, v) && sl_utf8_valid(v->ptr, v->len);
}

/* 5.0 property block: varint length, then that many bytes, returned raw. */
static bool read_props(struct reader *r, struct sl_bytes *v)
{
    uint32_t n;
    size_t used;

    if (sl_varint_decode(r->p, r->left, &n, &used) != SL_OK)
        return false; /* cut short, 5 bytes or not minimal [MQTT-1.5.5-1] */
    skip(r, used);
    if (n > r->left) return false;
    v->ptr = r->p;
    v->len = n;
    skip(r, n);
    return true;
}

static bool bytes_eq(struct sl_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.len == n && memcmp(b.ptr, s, n) == 0;
}

int sl_decode_connect(const uint8_t *body, size_t len, struct sl_connect *out)
{
    struct reader r;
    struct sl_bytes name;
    uint8_t level, flags;

    memset(out, 0, sizeof(*out));
    reader_init(&r, body, len);

    if (!read_bin(&r, &name) || !read_u8(&r, &level)) return SL_EMALFORMED;
    /* The caller answers SL_EVERSION with a CONNACK in the client's dialect, so
     * the level is reported even when it is not one we speak. */
    out->version = level;
    if (bytes_eq(name, "MQTT")) {
        if (level != SL_MQTT_311 && level != SL_MQTT_5) return SL_EVERSION; /* [MQTT-3.1.2-2] */
    } else if (bytes_eq(name, "MQIsdp")) {
        if (level != SL_MQTT_31) return SL_EVERSION; /* [MQTT-3.1.2-2] */
    } else {
        return SL_EMALFORMED; /* [MQTT-3.1.2-1] */
    }

    if (!read_u8(&r, &flags)) return SL_EMALFORMED;
    if (flags & 0x01) return SL_EMALFORMED; /* reserved [MQTT-3.1.2-3] */
    out->clean_start = (flags & 0x02) != 0;
    out->will = (flags & 0x04) != 0;
    out->will_qos = (uint8_t)((flags >> 3) & 0x03);
    out->will_retain = (flags & 0x20) != 0;
    out->has_password = (flags & 0x40) != 0;
    out->has_username = (flags & 0x80) != 0;
    if (!out->will && (out->will_qos != 0 || out->will_retain))
        return SL_EMALFORMED; /* [MQTT-3.1.2-11] [MQTT-3.1.2-13] [MQTT-3.1.2-15] */
    if (out->will_qos == 3) return SL_EMALFORMED; /* [MQTT-3.1.2-14] */
    if (level != SL_MQTT_5 && out->has_password && !out->has_username)
        return SL_EMALFORMED; /* [MQTT-3.1.2-22]; 5.0 allows it (5.0 §3.1.2.9) */

    if (!read_u16(&r, &out->keepalive)) return SL_EMALFORMED;
    if (level == SL_MQTT_5 && !read_props(&r, &out->props)) return SL_EMALFORMED;

    /* Payload, in this order. [MQTT-3.1.3-1] */
    if (!read_str(&r, &out->client_id)) return SL_EMALFORMED; /* [MQTT-3.1.3-3] [MQTT-3.1.3-4] */
    if (out->will) {
        /* [MQTT-3.1.2-9] */
        if (level == SL_MQTT_5 && !read_props(&r, &out->will_props)) return SL_EMALFORMED;
        if (!read_str(&r, &out->will_topic)) return SL_EMALFORMED; /* [MQTT-3.1.3-10] */
        if (!sl_topic_name_valid(out->will_topic.ptr, out->will_topic.len))
            return SL_EMALFORMED; /* a will is published: [MQTT-3.3.2-2] [MQTT-4.7.3-1] */
        if (!read_bin(&r, &out->will_payload)) return SL_EMALFORMED;
    }
    if (out->has_username && !read_str(&r, &out->username))
        return SL_EMALFORMED; /* [MQTT-3.1.2-19] [MQTT-3.1.3-11] */
    if (out->has_password && !read_bin(&r, &out->password))
        return SL_EMALFORMED; /* [MQTT-3.1.2-21] */
    /* Bytes left over are a field the flags did not announce.
     * [MQTT-3.1.2-11] [MQTT-3.1.2-18] [MQTT-3.1.2-20] */
    if (r.left != 0) return SL_EMALFORMED;
    return SL_OK;
}

int sl_decode_publish(const uint8_t *body, size_t len, uint8_t flags, uint8_t version,
                      struct sl_publish *out)
{
    struct reader r;

    memset(out, 0, sizeof(*out));
    reader_init(&r, body, len);

    out->retain = (flags & 0x01) != 0;
    out->qos = (uint8_t)((flags >> 1) & 0x03);
    out->dup = (flags & 0x08) != 0;
    if (out->qos == 3) return SL_EMALFORMED;             /* [MQTT-3.3.1-4] */
    if (out->dup && out->qos == 0) return SL_EMALFORMED; /* [MQTT-3.3.1-2] */

    if (!read_str(&r, &out->topic)) return SL_EMALFORMED; /* [MQTT-3.3.2-1] */
    if (out->topic.len == 0) {
        /* 5.0: an empty topic means "use the topic alias" (5.0 §3.3.2.3.4); the
         * broker checks that an alias is present. */
        if (version != SL_MQTT_5) return SL_EMALFORMED; /* [MQTT-4.7.3-1] */
    } else if (!sl_topic_name_valid(out->topic.ptr, out->topic.len)) {
        return SL_EMALFORMED; /* [MQTT-3.3.2-2] */
    }
    if (out->qos > 0) {
        if (!read_u16(&r, &out->packet_id)) return SL_EMALFORMED;
        if (out->packet_id == 0) return SL_EMALFORMED; /* [MQTT-2.3.1-1] */
    }
    if (version == SL_MQTT_5 && !read_props(&r, &out->props)) return SL_EMALFORMED;
    /* The rest, possibly nothing, is the application message. */
    out->payload.ptr = r.p;
    out->payload.len = r.left;
    return SL_OK;
}

int sl_decode_ack(const uint8_t *body, size_t len, uint8_t version, struct sl_ack *out)
{
    struct reader r;

    memset(out, 0, sizeof(*out));
    reader_init(&r, body, len);

    if (!read_u16(&r, &out->packet_id)) return SL_EMALFORMED;
    if (out->packet_id == 0) return SL_EMALFORMED; /* [MQTT-2.3.1-1] */
    /* Before 5.0 the remaining length is exactly 2 (3.1.1 §3.4.1 .. §3.7.1). */
    if (version != SL_MQTT_5) return r.left == 0 ? SL_OK : SL_EMALFORMED;

    /* 5.0 §3.4.2.1: remaining length 2 means reason 0x00 and no properties; 3
     * means a reason and no properties; 4 or more carries a property block that
     * must end the packet. */
    if (r.left == 0) return SL_OK;
    (void)read_u8(&r, &out->reason);
    if (r.left == 0) return SL_OK;
    if (!read_props(&r, &out->props) || r.left != 0) return SL_EMALFORMED;
    return SL_OK;
}

/* Shared by SUBSCRIBE and UNSUBSCRIBE: u16 packet id, 5.0 properties, then a
 * non-empty list of (filter [, options]). Sets *list and *count. */
static int decode_sub_list(const uint8_t *body, size_t len, uint8_t version, bool has_options,
                           uint16_t *packet_id, struct sl_bytes *props, struct sl_bytes *list,
                           uint32_t *count)
{
    struct reader r;

    reader_init(&r, body, len);
    if (!read_u16(&r, packet_id)) return SL_EMALFORMED;
    if (*packet_id == 0) return SL_EMALFORMED; /* [MQTT-2.3.1-1] */
    if (version == SL_MQTT_5 && !read_props(&r, props)) return SL_EMALFORMED;
    if (r.left == 0) return SL_EMALFORMED; /* [MQTT-3.8.3-3] [MQTT-3.10.3-2] */

    list->ptr = r.p;
    list->len = r.left;
    bool proto_err = false;
    while (r.left > 0) {
        struct sl_bytes filter;
        uint8_t opt;

        if (!read_str(&r, &filter)) return SL_EMALFORMED; /* [MQTT-3.8.3-1] [MQTT-3.10.3-1] */
        if (filter.len == 0) return SL_EMALFORMED;        /* [MQTT-4.7.3-1] */
        if (has_options) {
            if (!read_u8(&r, &opt)) return SL_EMALFORMED;
            if (version != SL_MQTT_5) {
                if ((opt & 0x03) == 3) return SL_EMALFORMED; /* [MQTT-3-8.3-4] */
                if (opt & 0xfc) return SL_EMALFORMED;        /* [MQTT-3-8.3-4] */
            } else {
                if (opt & 0xc0) return SL_EMALFORMED; /* [MQTT-3.8.3-5] */
                /* QoS 3 and Retain Handling 3 parse, but are Protocol Errors
                 * (5.0 §3.8.3.1); a malformation later in the packet wins. */
                if ((opt & 0x03) == 3 || ((opt >> 4) & 0x03) == 3) proto_err = true;
            }
        }
        (*count)++;
    }
    return proto_err ? SL_EPROTO : SL_OK;
}

int sl_decode_subscribe(const uint8_t *body, size_t len, uint8_t version, struct sl_subscribe *out)
{
    memset(out, 0, sizeof(*out));
    return decode_sub_list(body, len, version, true, &out->packet_id, &out->props, &out->list,
                           &out->count);
}

int sl_decode_unsubscribe(const uint8_t *body, size_t len, uint8_t version,
                          struct sl_unsubscribe *out)
{
    memset(out, 0, sizeof(*out));
    return decode_sub_list(body, len, version, false, &out->packet_id, &out->props, &out->list,
                           &out->count);
}

void sl_sub_iter_init(struct sl_sub_iter *it, struct sl_bytes list, bool has_options)
{
    it->p = list.ptr;
    it->end = list.len > 0 ? list.ptr + list.len : list.ptr;
    it->has_options = has_options;
}

bool sl_sub_iter_next(struct sl_sub_iter *it, struct sl_bytes *filter, uint8_t *options)
{
    /* The list was validated by its decoder; the checks below only keep a
     * misused iterator (wrong has_options, foreign list) inside the buffer. */
    size_t left, need;

    if (it->p == NULL || it->p >= it->end) return false;
    left = (size_t)(it->end - it->p);
    if (left < 2) return false;
    filter->len = (size_t)((it->p[0] << 8) | it->p[1]);
    need = 2 + filter->len + (it->has_options ? 1 : 0);
    if (need > left) return false;
    filter->ptr = it->p + 2;
    if (options != NULL) *options = it->has_options ? it->p[2 + filter->len] : 0;
    it->p += need;
    return true;
}

int sl_decode_disconnect(const uint8_t *body, size_t len, uint8_t version,
                         struct sl_disconnect *out)
{
    struct reader r;

    memset(out, 0, sizeof(*out));
    reader_init(&r, body, len);
    /* Before 5.0: no variable header and no payload (3.1.1 §3.14.2, §3.14.3). */
    if (version != SL_MQTT_5) return len == 0 ? SL_OK : SL_EMALFORMED;

    /* 5.0 §3.14.2.1-2: length 0 means reason 0x00; below 2, no properties. */
    if (r.left == 0) return SL_OK;
    (void)read_u8(&r, &out->reason);
    if (r.left == 0) return SL_OK;
    if (!read_props(&r, &out->props) || r.left != 0) return SL_EMALFORMED;
    return SL_OK;
}

int sl_decode_auth(const uint8_t *body, size_t len, struct sl_disconnect *out)
{
    return sl_decode_disconnect(body, len, SL_MQTT_5, out);
}

int sl_decode_connack(const uint8_t *body, size_t len, uint8_t version, struct sl_connack *out)
{
    struct reader r;
    uint8_t ack_flags;

    memset(out, 0, sizeof(*out));
    reader_init(&r, body, len);
    if (!read_u8(&r, &ack_flags) || !read_u8(&r, &out->code)) return SL_EMALFORMED;
    if (ack_flags & 0xfe)
        return SL_EMALFORMED; /* bits 7-1 reserved, 0 (3.1.1 §3.2.2.1, 5.0 §3.2.2.1) */
    out->session_present = (ack_flags & 0x01) != 0;
    /* 5.0 always carries a property length (5.0 §3.2.2.3). */
    if (version == SL_MQTT_5 && !read_props(&r, &out->props)) return SL_EMALFORMED;
    if (r.left != 0)
        return SL_EMALFORMED; /* before 5.0 the body is exactly 2 bytes (3.1.1 §3.2.1) */
    return SL_OK;
}

int sl_decode_suback(const uint8_t *body, size_t len, uint8_t version, struct sl_suback *out)
{
    struct reader r;

    memset(out, 0, sizeof(*out));
    reader_init(&r, body, len);
    if (!read_u16(&r, &out->packet_id)) return SL_EMALFORMED;
    /* It echoes the SUBSCRIBE's, which is never 0. [MQTT-2.3.1-7] [MQTT-2.3.1-1] */
    if (out->packet_id == 0) return SL_EMALFORMED;
    if (version == SL_MQTT_5 && !read_props(&r, &out->props)) return SL_EMALFORMED;
    /* One code per filter, and a SUBSCRIBE has at least one. [MQTT-3.8.4-5] */
    if (r.left == 0) return SL_EMALFORMED;
    out->codes.ptr = r.p;
    out->codes.len = r.left;
    return SL_OK;
}

/*
 * props.c - the MQTT 5.0 property codec, driven by one table.
 *
 * rows[] below is 5.0 §2.2.2.2 Table 2-4, indexed by identifier: name, data
 * type, the contexts (packet types, plus SL_PROPS_WILL) that may carry the
 * property, those where it may repeat, and the struct sl_props field that
 * holds a single-instance value. Parsing, encoding, the builder and the
 * iterators all read it; nothing else knows a property's type or packets.
 *
 * Parsing is one pass over the block. read_entry() does what can make a block
 * unparseable (Malformed Packet): identifier, bounds, Variable Byte Integer
 * form, UTF-8. check_entry() does what makes a parsed block unacceptable
 * (Protocol Error): repeats and value ranges. The first Protocol Error is
 * remembered and the pass goes on, so that a later malformed entry still wins:
 * a Protocol Error is one found after the packet has been parsed (5.0 §1.2).
 *
 * Invariants: no read outside block[0..len) (every read goes through struct
 * reader); nothing is allocated or copied - strings are views into the block;
 * single-instance values are encoded back in ascending identifier order and
 * repeated entries (User Property, Subscription Identifier) in their original
 * order, so parse + encode of a block in that order gives the same bytes.
 */
#include "proto/props.h"

#include <string.h>

#include "core/error.h"
#include "proto/encode.h"
#include "proto/frame.h"
#include "proto/reason.h"
#include "proto/topic.h"
#include "proto/utf8.h"
#include "proto/varint.h"

/* ---- the table ---- */

#define C(t)   (1u << SL_PT_##t)
#define WILL   (1u << SL_PROPS_WILL)
#define ACKS   (C(PUBACK) | C(PUBREC) | C(PUBREL) | C(PUBCOMP))
#define APPMSG (C(PUBLISH) | WILL) /* Application Message properties */

/* User Property: every context that has properties (Table 2-4). */
#define USER_CTX                                                                                   \
    (C(CONNECT) | C(CONNACK) | C(PUBLISH) | WILL | ACKS | C(SUBSCRIBE) | C(SUBACK) |               \
     C(UNSUBSCRIBE) | C(UNSUBACK) | C(DISCONNECT) | C(AUTH))

struct row {
    struct sl_prop_info info;
    bool in_repeated; /* kept in sl_props.repeated, not a field */
    uint16_t offset;  /* of the field in struct sl_props, when !in_repeated */
};

#define ROW(id, name, type, ctx, field)                                                            \
    [id] = {{name, SL_PROPTYPE_##type, ctx, 0}, false, offsetof(struct sl_props, field)}
#define REPEATED(id, name, type, ctx, repeats)                                                     \
    [id] = {{name, SL_PROPTYPE_##type, ctx, repeats}, true, 0}

static const struct row rows[SL_PROP_ID_MAX + 1] = {
    ROW(SL_PROP_PAYLOAD_FORMAT_INDICATOR, "Payload Format Indicator", BYTE, APPMSG,
        payload_format_indicator),
    ROW(SL_PROP_MESSAGE_EXPIRY_INTERVAL, "Message Expiry Interval", U32, APPMSG,
        message_expiry_interval),
    ROW(SL_PROP_CONTENT_TYPE, "Content Type", UTF8, APPMSG, content_type),
    ROW(SL_PROP_RESPONSE_TOPIC, "Response Topic", UTF8, APPMSG, response_topic),
    ROW(SL_PROP_CORRELATION_DATA, "Correlation Data", BINARY, APPMSG, correlation_data),
    /* Several in PUBLISH, one per matching subscription (5.0 §3.3.2.3.8); at
     * most one in SUBSCRIBE (5.0 §3.8.2.1.2). */
    REPEATED(SL_PROP_SUBSCRIPTION_IDENTIFIER, "Subscription Identifier", VARINT,
             C(PUBLISH) | C(SUBSCRIBE), C(PUBLISH)),
    ROW(SL_PROP_SESSION_EXPIRY_INTERVAL, "Session Expiry Interval", U32,
        C(CONNECT) | C(CONNACK) | C(DISCONNECT), session_expiry_interval),
    ROW(SL_PROP_ASSIGNED_CLIENT_IDENTIFIER, "Assigned Client Identifier", UTF8, C(CONNACK),
        assigned_client_identifier),
    ROW(SL_PROP_SERVER_KEEP_ALIVE, "Server Keep Alive", U16, C(CONNACK), server_keep_alive),
    ROW(SL_PROP_AUTHENTICATION_METHOD, "Authentication Method", UTF8,
        C(CONNECT) | C(CONNACK) | C(AUTH), authentication_method),
    ROW(SL_PROP_AUTHENTICATION_DATA, "Authentication Data", BINARY,
        C(CONNECT) | C(CONNACK) | C(AUTH), authentication_data),
    ROW(SL_PROP_REQUEST_PROBLEM_INFORMATION, "Request Problem Information", BYTE, C(CONNECT),
        request_problem_information),
    ROW(SL_PROP_WILL_DELAY_INTERVAL, "Will Delay Interval", U32, WILL, will_delay_interval),
    ROW(SL_PROP_REQUEST_RESPONSE_INFORMATION, "Request Response Information", BYTE, C(CONNECT),
        request_response_information),
    ROW(SL_PROP_RESPONSE_INFORMATION, "Response Information", UTF8, C(CONNACK),
        response_information),
    ROW(SL_PROP_SERVER_REFERENCE, "Server Reference", UTF8, C(CONNACK) | C(DISCONNECT),
        server_reference),
    ROW(SL_PROP_REASON_STRING, "Reason String", UTF8,
        C(CONNACK) | ACKS | C(SUBACK) | C(UNSUBACK) | C(DISCONNECT) | C(AUTH), reason_string),
    ROW(SL_PROP_RECEIVE_MAXIMUM, "Receive Maximum", U16, C(CONNECT) | C(CONNACK), receive_maximum),
    ROW(SL_PROP_TOPIC_ALIAS_MAXIMUM, "Topic Alias Maximum", U16, C(CONNECT) | C(CONNACK),
        topic_alias_maximum),
    ROW(SL_PROP_TOPIC_ALIAS, "Topic Alias", U16, C(PUBLISH), topic_alias),
    ROW(SL_PROP_MAXIMUM_QOS, "Maximum QoS", BYTE, C(CONNACK), maximum_qos),
    ROW(SL_PROP_RETAIN_AVAILABLE, "Retain Available", BYTE, C(CONNACK), retain_available),
    /* "allowed to appear multiple times" wherever it is allowed, e.g. 5.0
     * §3.1.2.11.8, §3.3.2.3.7. */
    REPEATED(SL_PROP_USER_PROPERTY, "User Property", PAIR, USER_CTX, USER_CTX),
    ROW(SL_PROP_MAXIMUM_PACKET_SIZE, "Maximum Packet Size", U32, C(CONNECT) | C(CONNACK),
        maximum_packet_size),
    ROW(SL_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, "Wildcard Subscription Available", BYTE,
        C(CONNACK), wildcard_subscription_available),
    ROW(SL_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, "Subscription Identifier Available", BYTE,
        C(CONNACK), subscription_identifier_available),
    ROW(SL_PROP_SHARED_SUBSCRIPTION_AVAILABLE, "Shared Subscription Available", BYTE, C(CONNACK),
        shared_subscription_available),
};

/* The row for id, or NULL. Gaps in the table have no name. */
static const struct row *row_of(uint8_t id)
{
    if (id > SL_PROP_ID_MAX || rows[id].info.name == NULL) return NULL;
    return &rows[id];
}

const struct sl_prop_info *sl_prop_info(uint8_t id)
{
    const struct row *r = row_of(id);
    return r ? &r->info : NULL;
}

static uint32_t context_bit(uint8_t context)
{
    return context <= SL_PROPS_WILL ? 1u << context : 0;
}

bool sl_prop_allowed(uint8_t context, uint8_t id)
{
    const struct row *r = row_of(id);
    return r != NULL && (r->info.contexts & context_bit(context)) != 0;
}

static uint64_t id_bit(uint8_t id)
{
    return (uint64_t)1 << id;
}

/* ---- value rules beyond the data type ---- */

/* SL_RC_SUCCESS if an integer value is allowed for id, else the reason code a
 * receiver answers with. */
static uint8_t int_value_reason(uint8_t id, uint32_t v)
{
    switch (id) {
    case SL_PROP_PAYLOAD_FORMAT_INDICATOR:
        /* Only 0 and 1 are defined (5.0 §3.3.2.3.2, §3.1.3.2.3). The spec names
         * no reason for other values; anything outside the defined set is "data
         * that is not allowed by the protocol", a Protocol Error (5.0 §1.2). */
    case SL_PROP_REQUEST_PROBLEM_INFORMATION:       /* 5.0 §3.1.2.11.7 */
    case SL_PROP_REQUEST_RESPONSE_INFORMATION:      /* 5.0 §3.1.2.11.6 */
    case SL_PROP_MAXIMUM_QOS:                       /* 5.0 §3.2.2.3.4 */
    case SL_PROP_RETAIN_AVAILABLE:                  /* 5.0 §3.2.2.3.5 */
    case SL_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:   /* 5.0 §3.2.2.3.11 */
    case SL_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE: /* 5.0 §3.2.2.3.12 */
    case SL_PROP_SHARED_SUBSCRIPTION_AVAILABLE:     /* 5.0 §3.2.2.3.13 */
        return v <= 1 ? SL_RC_SUCCESS : SL_RC_PROTOCOL_ERROR;
    case SL_PROP_RECEIVE_MAXIMUM:         /* 5.0 §3.1.2.11.3, §3.2.2.3.3 */
    case SL_PROP_MAXIMUM_PACKET_SIZE:     /* 5.0 §3.1.2.11.4, §3.2.2.3.6 */
    case SL_PROP_SUBSCRIPTION_IDENTIFIER: /* 5.0 §3.3.2.3.8, §3.8.2.1.2 */
        return v != 0 ? SL_RC_SUCCESS : SL_RC_PROTOCOL_ERROR;
    case SL_PROP_TOPIC_ALIAS:
        /* [MQTT-3.3.2-8]; "a Topic Alias value of 0 ... is a Protocol Error, the
         * receiver uses DISCONNECT with Reason Code 0x94" (5.0 §3.3.4). */
        return v != 0 ? SL_RC_SUCCESS : SL_RC_TOPIC_ALIAS_INVALID;
    default:
        return SL_RC_SUCCESS;
    }
}

/* The same for string values. Only the Response Topic has a rule beyond UTF-8:
 * it is used as a Topic Name, so no wildcards [MQTT-3.3.2-14] and at least one
 * character [MQTT-4.7.3-1]. */
static uint8_t bytes_value_reason(uint8_t id, struct sl_bytes s)
{
    if (id == SL_PROP_RESPONSE_TOPIC && !sl_topic_name_valid(s.ptr, s.len))
        return SL_RC_PROTOCOL_ERROR;
    return SL_RC_SUCCESS;
}

/* ---- reading one entry ---- */

struct reader {
    const uint8_t *p;
    size_t left;
};

static void skip(struct reader *r, size_t n)
{
    if (n > 0) { /* never add to a null pointer (UB; UBSan reports it) */
        r->p += n;
        r->left -= n;
    }
}

static bool read_u8(struct reader *r, uint32_t *v)
{
    if (r->left < 1) return false;
    *v = r->p[0];
    skip(r, 1);
    return true;
}

static bool read_u16(struct reader *r, uint32_t *v)
{
    if (r->left < 2) return false;
    *v = (uint32_t)r->p[0] << 8 | r->p[1];
    skip(r, 2);
    return true;
}

static bool read_u32(struct reader *r, uint32_t *v)
{
    if (r->left < 4) return false;
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    skip(r, 4);
    return true;
}

static bool read_varint(struct reader *r, uint32_t *v)
{
    size_t used;

    /* Cut short (SL_NEED_MORE), a fifth byte, or not the minimal form: all
     * malformed inside a complete block [MQTT-1.5.5-1]. */
    if (sl_varint_decode(r->p, r->left, v, &used) != SL_OK) return false;
    skip(r, used);
    return true;
}

/* Binary Data: u16 length, then that many bytes (5.0 §1.5.6). */
static bool read_bin(struct reader *r, struct sl_bytes *v)
{
    uint32_t n;

    if (!read_u16(r, &n) || n > r->left) return false;
    v->ptr = r->p;
    v->len = n;
    skip(r, n);
    return true;
}

/* UTF-8 Encoded String: Binary Data whose bytes are MQTT UTF-8. validate is
 * false only when re-reading bytes this codec already checked. */
static bool read_str(struct reader *r, struct sl_bytes *v, bool validate)
{
    /* [MQTT-1.5.4-1] ill-formed or surrogates, [MQTT-1.5.4-2] U+0000 */
    return read_bin(r, v) && (!validate || sl_utf8_valid(v->ptr, v->len));
}

/*
 * Reads the entry at p[0..left): sets *v and *used. False if the bytes cannot
 * be parsed: an identifier 5.0 does not define, a value cut short, a bad
 * Variable Byte Integer, or (with validate) a string that is not MQTT UTF-8.
 */
static bool read_entry(const uint8_t *p, size_t left, bool validate, struct sl_prop *v,
                       size_t *used)
{
    struct reader r = {p, left};
    const struct row *row;
    uint32_t id;
    bool ok = false;

    memset(v, 0, sizeof(*v));
    /* The identifier is a Variable Byte Integer, but every 5.0 identifier is
     * below 0x80, so one byte decides: a byte with the continuation bit would
     * start an identifier of 128 or more, which is undefined anyway. */
    if (!read_u8(&r, &id)) return false;
    row = row_of((uint8_t)id);
    if (row == NULL) return false; /* 5.0 §2.2.2.2 */
    v->id = (uint8_t)id;

    switch (row->info.type) {
    case SL_PROPTYPE_BYTE:
        ok = read_u8(&r, &v->num);
        break;
    case SL_PROPTYPE_U16:
        ok = read_u16(&r, &v->num);
        break;
    case SL_PROPTYPE_U32:
        ok = read_u32(&r, &v->num);
        break;
    case SL_PROPTYPE_VARINT:
        ok = read_varint(&r, &v->num);
        break;
    case SL_PROPTYPE_UTF8:
        ok = read_str(&r, &v->a, validate);
        break;
    case SL_PROPTYPE_BINARY:
        ok = read_bin(&r, &v->a);
        break;
    case SL_PROPTYPE_PAIR:
        /* both halves are UTF-8 Encoded Strings [MQTT-1.5.7-1] */
        ok = read_str(&r, &v->a, validate) && read_str(&r, &v->b, validate);
        break;
    }
    if (!ok) return false;
    *used = left - r.left;
    return true;
}

/* ---- moving values between struct sl_prop and struct sl_props ---- */

static void store_value(struct sl_props *p, const struct row *r, const struct sl_prop *v)
{
    void *f = (char *)p + r->offset;

    switch (r->info.type) {
    case SL_PROPTYPE_BYTE:
        *(uint8_t *)f = (uint8_t)v->num;
        break;
    case SL_PROPTYPE_U16:
        *(uint16_t *)f = (uint16_t)v->num;
        break;
    case SL_PROPTYPE_U32:
        *(uint32_t *)f = v->num;
        break;
    case SL_PROPTYPE_UTF8:
    case SL_PROPTYPE_BINARY:
        *(struct sl_bytes *)f = v->a;
        break;
    default: /* VARINT and PAIR are only repeated properties */
        break;
    }
}

static void load_value(const struct sl_props *p, const struct row *r, uint8_t id, struct sl_prop *v)
{
    const void *f = (const char *)p + r->offset;

    memset(v, 0, sizeof(*v));
    v->id = id;
    switch (r->info.type) {
    case SL_PROPTYPE_BYTE:
        v->num = *(const uint8_t *)f;
        break;
    case SL_PROPTYPE_U16:
        v->num = *(const uint16_t *)f;
        break;
    case SL_PROPTYPE_U32:
        v->num = *(const uint32_t *)f;
        break;
    case SL_PROPTYPE_UTF8:
    case SL_PROPTYPE_BINARY:
        v->a = *(const struct sl_bytes *)f;
        break;
    default:
        break;
    }
}

/* Bookkeeping for one repeated entry (the bytes stay where they are). */
static void count_repeated(struct sl_props *p, const struct sl_prop *v)
{
    if (v->id == SL_PROP_USER_PROPERTY) {
        p->user_count++;
    } else {
        if (p->subscription_identifier_count++ == 0) p->subscription_identifier = v->num;
    }
    p->present |= id_bit(v->id);
}

/* ---- parsing ---- */

static void set_reason(uint8_t *reason, uint8_t code)
{
    if (reason != NULL) *reason = code;
}

/* SL_RC_SUCCESS, or the reason why entry v breaks a rule in this context, given
 * the entries before it (in *p). */
static uint8_t check_entry(const struct sl_props *p, const struct row *r, const struct sl_prop *v,
                           uint32_t ctx)
{
    /* "It is a Protocol Error to include the <property> more than once", said
     * of each single-instance property in its packet's section (e.g. 5.0
     * §3.1.2.11.2); User Property may repeat, and Subscription Identifier in
     * PUBLISH (5.0 §3.3.2.3.8). */
    if ((p->present & id_bit(v->id)) && !(r->info.repeats & ctx)) return SL_RC_PROTOCOL_ERROR;
    switch (r->info.type) {
    case SL_PROPTYPE_UTF8:
        return bytes_value_reason(v->id, v->a);
    case SL_PROPTYPE_PAIR:
    case SL_PROPTYPE_BINARY:
        return SL_RC_SUCCESS;
    default:
        return int_value_reason(v->id, v->num);
    }
}

int sl_props_parse(const uint8_t *block, size_t len, uint8_t context, struct sl_props *out,
                   uint8_t *reason)
{
    uint32_t ctx = context_bit(context);
    uint8_t proto = SL_RC_SUCCESS; /* the first Protocol Error, if any */
    struct reader r = {block, len};

    memset(out, 0, sizeof(*out));
    if (ctx == 0) {
        set_reason(reason, SL_RC_IMPLEMENTATION_SPECIFIC_ERROR);
        return SL_EINVAL;
    }
    /* A block's length is a Variable Byte Integer (5.0 §2.2.2.1). */
    if (len > SL_VARINT_MAX) goto malformed;

    while (r.left > 0) {
        struct sl_prop v;
        const struct row *row;
        size_t used;

        if (!read_entry(r.p, r.left, true, &v, &used)) goto malformed;
        row = &rows[v.id];
        /* "A Control Packet which contains an Identifier which is not valid for
         * its packet type ... is a Malformed Packet" (5.0 §2.2.2.2). */
        if (!(row->info.contexts & ctx)) goto malformed;
        if (proto == SL_RC_SUCCESS) proto = check_entry(out, row, &v, ctx);
        if (row->in_repeated) {
            count_repeated(out, &v);
        } else {
            store_value(out, row, &v);
            out->present |= id_bit(v.id);
        }
        skip(&r, used);
    }

    /* "It is a Protocol Error to include Authentication Data if there is no
     * Authentication Method" (5.0 §3.1.2.11.10, said of CONNECT only). */
    if (proto == SL_RC_SUCCESS && context == SL_PT_CONNECT &&
        sl_props_has(out, SL_PROP_AUTHENTICATION_DATA) &&
        !sl_props_has(out, SL_PROP_AUTHENTICATION_METHOD))
        proto = SL_RC_PROTOCOL_ERROR;

    if (proto != SL_RC_SUCCESS) {
        memset(out, 0, sizeof(*out));
        set_reason(reason, proto);
        return SL_EPROTO;
    }
    if (out->user_count > 0 || out->subscription_identifier_count > 0) {
        out->repeated.ptr = block;
        out->repeated.len = len;
    }
    set_reason(reason, SL_RC_SUCCESS);
    return SL_OK;

malformed:
    memset(out, 0, sizeof(*out));
    set_reason(reason, SL_RC_MALFORMED_PACKET);
    return SL_EMALFORMED;
}

int sl_props_block_parse(const uint8_t *buf, size_t len, uint8_t context, struct sl_props *out,
                         size_t *used, uint8_t *reason)
{
    uint32_t n;
    size_t prefix;
    int rc;

    *used = 0;
    if (context_bit(context) == 0) return sl_props_parse(NULL, 0, context, out, reason);
    /* cut short, five bytes or not minimal [MQTT-1.5.5-1] */
    if (sl_varint_decode(buf, len, &n, &prefix) != SL_OK || n > len - prefix) {
        memset(out, 0, sizeof(*out));
        set_reason(reason, SL_RC_MALFORMED_PACKET);
        return SL_EMALFORMED;
    }
    rc = sl_props_parse(n > 0 ? buf + prefix : NULL, n, context, out, reason);
    if (rc == SL_OK) *used = prefix + n;
    return rc;
}

/* ---- iterating ---- */

void sl_props_iter_init(struct sl_props_iter *it, struct sl_bytes block)
{
    it->p = block.ptr;
    it->left = block.ptr != NULL ? block.len : 0;
}

void sl_props_iter_repeated(struct sl_props_iter *it, const struct sl_props *p)
{
    sl_props_iter_init(it, p->repeated);
}

bool sl_props_iter_next(struct sl_props_iter *it, struct sl_prop *out)
{
    size_t used;

    if (it->left == 0 || !read_entry(it->p, it->left, false, out, &used)) return false;
    it->p += used;
    it->left -= used;
    return true;
}

bool sl_props_next_user(struct sl_props_iter *it, struct sl_bytes *name, struct sl_bytes *value)
{
    struct sl_prop v;

    while (sl_props_iter_next(it, &v)) {
        if (v.id == SL_PROP_USER_PROPERTY) {
            *name = v.a;
            *value = v.b;
            return true;
        }
    }
    return false;
}

bool sl_props_next_subscription_id(struct sl_props_iter *it, uint32_t *id)
{
    struct sl_prop v;

    while (sl_props_iter_next(it, &v)) {
        if (v.id == SL_PROP_SUBSCRIPTION_IDENTIFIER) {
            *id = v.num;
            return true;
        }
    }
    return false;
}

/* ---- encoding ---- */

/* Bytes of an entry: identifier (one byte) plus its value. */
static size_t entry_size(uint8_t type, const struct sl_prop *v)
{
    switch (type) {
    case SL_PROPTYPE_BYTE:
        return 1 + 1;
    case SL_PROPTYPE_U16:
        return 1 + 2;
    case SL_PROPTYPE_U32:
        return 1 + 4;
    case SL_PROPTYPE_VARINT:
        return 1 + sl_varint_size(v->num);
    case SL_PROPTYPE_UTF8:
    case SL_PROPTYPE_BINARY:
        return 1 + 2 + v->a.len;
    case SL_PROPTYPE_PAIR:
        return 1 + 2 + v->a.len + 2 + v->b.len;
    }
    return 0;
}

static size_t put_bytes(uint8_t *out, struct sl_bytes b)
{
    sl_encode_u16(out, (uint16_t)b.len);
    if (b.len > 0) memcpy(out + 2, b.ptr, b.len);
    return 2 + b.len;
}

static size_t write_entry(uint8_t *out, uint8_t type, const struct sl_prop *v)
{
    size_t n = 1;

    out[0] = v->id;
    switch (type) {
    case SL_PROPTYPE_BYTE:
        out[n++] = (uint8_t)v->num;
        break;
    case SL_PROPTYPE_U16:
        n += sl_encode_u16(out + n, (uint16_t)v->num);
        break;
    case SL_PROPTYPE_U32:
        n += sl_encode_u16(out + n, (uint16_t)(v->num >> 16));
        n += sl_encode_u16(out + n, (uint16_t)v->num);
        break;
    case SL_PROPTYPE_VARINT:
        n += sl_varint_encode(out + n, v->num);
        break;
    case SL_PROPTYPE_UTF8:
    case SL_PROPTYPE_BINARY:
        n += put_bytes(out + n, v->a);
        break;
    case SL_PROPTYPE_PAIR:
        n += put_bytes(out + n, v->a);
        n += put_bytes(out + n, v->b);
        break;
    }
    return n;
}

/* Walks the entries sl_props_encode writes, in its order: present
 * single-instance properties by ascending identifier, then the repeated
 * entries as they stand in p->repeated. */
struct out_cursor {
    const struct sl_props *p;
    uint8_t next_id;
    struct sl_props_iter it;
};

static void out_cursor_init(struct out_cursor *c, const struct sl_props *p)
{
    c->p = p;
    c->next_id = 1;
    sl_props_iter_repeated(&c->it, p);
}

/* Sets *v and *type for the next entry; false at the end. */
static bool out_cursor_next(struct out_cursor *c, struct sl_prop *v, uint8_t *type)
{
    while (c->next_id <= SL_PROP_ID_MAX) {
        uint8_t id = c->next_id++;
        const struct row *r = row_of(id);
        if (r == NULL || r->in_repeated || !sl_props_has(c->p, id)) continue;
        load_value(c->p, r, id, v);
        *type = r->info.type;
        return true;
    }
    while (sl_props_iter_next(&c->it, v)) {
        if (!rows[v->id].in_repeated) continue; /* a parsed block's other entries */
        *type = rows[v->id].info.type;
        return true;
    }
    return false;
}

size_t sl_props_size(const struct sl_props *p)
{
    struct out_cursor c;
    struct sl_prop v;
    uint8_t type;
    size_t n = 0;

    out_cursor_init(&c, p);
    while (out_cursor_next(&c, &v, &type))
        n += entry_size(type, &v);
    return n;
}

size_t sl_props_encode(uint8_t *out, const struct sl_props *p)
{
    struct out_cursor c;
    struct sl_prop v;
    uint8_t type;
    size_t n = 0;

    out_cursor_init(&c, p);
    while (out_cursor_next(&c, &v, &type))
        n += write_entry(out + n, type, &v);
    return n;
}

size_t sl_props_block_size(const struct sl_props *p)
{
    size_t n = sl_props_size(p);
    return sl_varint_size((uint32_t)n) + n;
}

size_t sl_props_block_encode(uint8_t *out, const struct sl_props *p)
{
    size_t size = sl_props_size(p);
    size_t n = sl_varint_encode(out, (uint32_t)size);
    return n + sl_props_encode(out + n, p);
}

/* ---- building ---- */

void sl_props_init(struct sl_props *p)
{
    memset(p, 0, sizeof(*p));
}

/* True if the block stays within SL_VARINT_MAX bytes when 'add' bytes are
 * added and 'drop' bytes (an entry being replaced) go. */
static bool fits(const struct sl_props *p, size_t drop, size_t add)
{
    size_t now = sl_props_size(p) - drop;
    return add <= SL_VARINT_MAX && now <= SL_VARINT_MAX - add;
}

/* Size of the entry id has now, or 0 if absent. */
static size_t current_size(const struct sl_props *p, const struct row *r, uint8_t id)
{
    struct sl_prop old;

    if (!sl_props_has(p, id)) return 0;
    load_value(p, r, id, &old);
    return entry_size(r->info.type, &old);
}

static int set_value(struct sl_props *p, const struct row *r, const struct sl_prop *v)
{
    if (!fits(p, current_size(p, r, v->id), entry_size(r->info.type, v))) return SL_ETOOBIG;
    store_value(p, r, v);
    p->present |= id_bit(v->id);
    return SL_OK;
}

int sl_props_set_int(struct sl_props *p, uint8_t id, uint32_t value)
{
    const struct row *r = row_of(id);
    struct sl_prop v = {.id = id, .num = value};

    if (r == NULL || r->in_repeated) return SL_EINVAL;
    switch (r->info.type) {
    case SL_PROPTYPE_BYTE:
        if (value > 0xff) return SL_EINVAL;
        break;
    case SL_PROPTYPE_U16:
        if (value > 0xffff) return SL_EINVAL;
        break;
    case SL_PROPTYPE_U32:
        break;
    default:
        return SL_EINVAL;
    }
    if (int_value_reason(id, value) != SL_RC_SUCCESS) return SL_EINVAL;
    return set_value(p, r, &v);
}

int sl_props_set_bytes(struct sl_props *p, uint8_t id, const uint8_t *s, size_t len)
{
    const struct row *r = row_of(id);
    struct sl_prop v = {.id = id, .a = {len > 0 ? s : NULL, len}};

    if (r == NULL || r->in_repeated || len > 0xffff || (len > 0 && s == NULL)) return SL_EINVAL;
    if (r->info.type == SL_PROPTYPE_UTF8) {
        if (!sl_utf8_valid(s, len) || bytes_value_reason(id, v.a) != SL_RC_SUCCESS)
            return SL_EINVAL;
    } else if (r->info.type != SL_PROPTYPE_BINARY) {
        return SL_EINVAL;
    }
    return set_value(p, r, &v);
}

void sl_props_clear(struct sl_props *p, uint8_t id)
{
    const struct row *r = row_of(id);
    struct sl_prop zero;

    if (r == NULL || r->in_repeated) return;
    memset(&zero, 0, sizeof(zero));
    store_value(p, r, &zero);
    p->present &= ~id_bit(id);
}

/* Makes p->repeated live at the start of st->buf, copying the repeated entries
 * out of a parsed block the first time. */
static int own_repeated(struct sl_props *p, const struct sl_props_store *st)
{
    struct sl_props_iter it;
    struct sl_prop v;
    size_t n = 0;

    if (p->repeated.len > 0 && p->repeated.ptr == st->buf) return SL_OK;
    sl_props_iter_repeated(&it, p);
    for (;;) {
        const uint8_t *start = it.p;
        size_t before = it.left;
        if (!sl_props_iter_next(&it, &v)) break;
        if (!rows[v.id].in_repeated) continue;
        if (before - it.left > st->cap - n) return SL_ETOOBIG;
        memcpy(st->buf + n, start, before - it.left);
        n += before - it.left;
    }
    p->repeated.ptr = st->buf;
    p->repeated.len = n;
    return SL_OK;
}

/* Appends entry v (of a repeated property) to p's repeated entries in st. */
static int add_repeated(struct sl_props *p, struct sl_props_store *st, const struct sl_prop *v)
{
    size_t need = entry_size(rows[v->id].info.type, v);
    int rc;

    if (st == NULL || st->buf == NULL) return SL_EINVAL;
    if (!fits(p, 0, need)) return SL_ETOOBIG;
    rc = own_repeated(p, st);
    if (rc != SL_OK) return rc;
    if (need > st->cap - p->repeated.len) return SL_ETOOBIG;
    write_entry(st->buf + p->repeated.len, rows[v->id].info.type, v);
    p->repeated.len += need;
    count_repeated(p, v);
    return SL_OK;
}

int sl_props_add_user(struct sl_props *p, struct sl_props_store *st, const uint8_t *name,
                      size_t name_len, const uint8_t *value, size_t value_len)
{
    struct sl_prop v = {.id = SL_PROP_USER_PROPERTY,
                        .a = {name_len > 0 ? name : NULL, name_len},
                        .b = {value_len > 0 ? value : NULL, value_len}};

    if (name_len > 0xffff || value_len > 0xffff || (name_len > 0 && name == NULL) ||
        (value_len > 0 && value == NULL))
        return SL_EINVAL;
    if (!sl_utf8_valid(name, name_len) || !sl_utf8_valid(value, value_len))
        return SL_EINVAL; /* [MQTT-1.5.7-1] */
    return add_repeated(p, st, &v);
}

int sl_props_add_subscription_id(struct sl_props *p, struct sl_props_store *st, uint32_t id)
{
    struct sl_prop v = {.id = SL_PROP_SUBSCRIPTION_IDENTIFIER, .num = id};

    if (id == 0 || id > SL_VARINT_MAX) return SL_EINVAL; /* 5.0 §3.3.2.3.8 */
    return add_repeated(p, st, &v);
}

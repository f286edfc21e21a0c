/*
 * props.h - the MQTT 5.0 property codec (5.0 §2.2.2).
 *
 * A property block is a sequence of (identifier, value) entries; on the wire it
 * follows a Variable Byte Integer length, which decode.c already checks and
 * hands out as a view ('props' in its structs). This codec interprets such a
 * block for one packet type ("context") and encodes one back:
 *
 *   entry   = id (one byte in 5.0) value
 *   value   = u8 | u16 | u32 (big-endian) | varint | str | bin | str str
 *   str/bin = u16 length, bytes (str: MQTT UTF-8, 5.0 §1.5.4)
 *
 * Everything follows one table in props.c: per identifier its name, data type,
 * the contexts that may carry it and those where it may repeat. The contexts are
 * the packet types (enum sl_ptype) plus SL_PROPS_WILL for CONNECT's Will
 * Properties, which have their own set (5.0 §3.1.3.2).
 *
 * Ownership: struct sl_props holds views (struct sl_bytes) into the parsed block
 * or into buffers given to the builder functions; it owns nothing and is freed
 * by forgetting it. It lives as long as the bytes it points to.
 *
 * Repeated properties - User Property everywhere it is allowed, Subscription
 * Identifier in PUBLISH - are not copied out: 'repeated' is a view of encoded
 * entries in wire order, with counts, and the iterators below walk it. After a
 * parse that found any, it is the whole block (the iterators skip the other
 * entries); after a builder call it is the caller's struct sl_props_store. Their order is kept
 * through parse and encode, as [MQTT-3.3.2-18] and [MQTT-3.1.3-10] need.
 */
#ifndef SL_PROTO_PROPS_H
#define SL_PROTO_PROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/bytes.h"

/* Property identifiers, 5.0 §2.2.2.2 Table 2-4. */
enum sl_prop_id {
    SL_PROP_PAYLOAD_FORMAT_INDICATOR = 0x01,
    SL_PROP_MESSAGE_EXPIRY_INTERVAL = 0x02,
    SL_PROP_CONTENT_TYPE = 0x03,
    SL_PROP_RESPONSE_TOPIC = 0x08,
    SL_PROP_CORRELATION_DATA = 0x09,
    SL_PROP_SUBSCRIPTION_IDENTIFIER = 0x0B,
    SL_PROP_SESSION_EXPIRY_INTERVAL = 0x11,
    SL_PROP_ASSIGNED_CLIENT_IDENTIFIER = 0x12,
    SL_PROP_SERVER_KEEP_ALIVE = 0x13,
    SL_PROP_AUTHENTICATION_METHOD = 0x15,
    SL_PROP_AUTHENTICATION_DATA = 0x16,
    SL_PROP_REQUEST_PROBLEM_INFORMATION = 0x17,
    SL_PROP_WILL_DELAY_INTERVAL = 0x18,
    SL_PROP_REQUEST_RESPONSE_INFORMATION = 0x19,
    SL_PROP_RESPONSE_INFORMATION = 0x1A,
    SL_PROP_SERVER_REFERENCE = 0x1C,
    SL_PROP_REASON_STRING = 0x1F,
    SL_PROP_RECEIVE_MAXIMUM = 0x21,
    SL_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,
    SL_PROP_TOPIC_ALIAS = 0x23,
    SL_PROP_MAXIMUM_QOS = 0x24,
    SL_PROP_RETAIN_AVAILABLE = 0x25,
    SL_PROP_USER_PROPERTY = 0x26,
    SL_PROP_MAXIMUM_PACKET_SIZE = 0x27,
    SL_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28,
    SL_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29,
    SL_PROP_SHARED_SUBSCRIPTION_AVAILABLE = 0x2A
};
#define SL_PROP_ID_MAX 0x2A

/* Data types, 5.0 §1.5. */
enum sl_prop_type {
    SL_PROPTYPE_BYTE = 1, /* Byte */
    SL_PROPTYPE_U16,      /* Two Byte Integer */
    SL_PROPTYPE_U32,      /* Four Byte Integer */
    SL_PROPTYPE_VARINT,   /* Variable Byte Integer */
    SL_PROPTYPE_UTF8,     /* UTF-8 Encoded String */
    SL_PROPTYPE_BINARY,   /* Binary Data */
    SL_PROPTYPE_PAIR      /* UTF-8 String Pair */
};

/* The context for CONNECT's Will Properties; the others are enum sl_ptype. */
#define SL_PROPS_WILL 16

/* One row of the table. */
struct sl_prop_info {
    const char *name;  /* the spec's name, "Payload Format Indicator" */
    uint8_t type;      /* enum sl_prop_type */
    uint32_t contexts; /* bit (1 << context) for each context that may carry it */
    uint32_t repeats;  /* the contexts where it may appear more than once */
};

/* The row for id, or NULL if 5.0 defines no such property. */
const struct sl_prop_info *sl_prop_info(uint8_t id);

/* True if the property may appear in that context (enum sl_ptype or SL_PROPS_WILL). */
bool sl_prop_allowed(uint8_t context, uint8_t id);

/*
 * A parsed (or built) property block. 'present' has bit (1 << id) for each
 * property that is there; a field whose bit is clear is 0 / an empty view and
 * means "absent", not "zero" (read the spec's default for it). Single-instance
 * values live in the named fields; the repeated ones live in 'repeated'.
 */
struct sl_props {
    uint64_t present;

    uint8_t payload_format_indicator;          /* 0x01: 0 or 1 */
    uint8_t request_problem_information;       /* 0x17: 0 or 1 */
    uint8_t request_response_information;      /* 0x19: 0 or 1 */
    uint8_t maximum_qos;                       /* 0x24: 0 or 1 */
    uint8_t retain_available;                  /* 0x25: 0 or 1 */
    uint8_t wildcard_subscription_available;   /* 0x28: 0 or 1 */
    uint8_t subscription_identifier_available; /* 0x29: 0 or 1 */
    uint8_t shared_subscription_available;     /* 0x2A: 0 or 1 */
    uint16_t server_keep_alive;                /* 0x13 */
    uint16_t receive_maximum;                  /* 0x21: > 0 */
    uint16_t topic_alias_maximum;              /* 0x22 */
    uint16_t topic_alias;                      /* 0x23: > 0 */
    uint32_t message_expiry_interval;          /* 0x02 */
    uint32_t session_expiry_interval;          /* 0x11 */
    uint32_t will_delay_interval;              /* 0x18 */
    uint32_t maximum_packet_size;              /* 0x27: > 0 */

    struct sl_bytes content_type;               /* 0x03 */
    struct sl_bytes response_topic;             /* 0x08: a valid topic name */
    struct sl_bytes correlation_data;           /* 0x09: binary */
    struct sl_bytes assigned_client_identifier; /* 0x12 */
    struct sl_bytes authentication_method;      /* 0x15 */
    struct sl_bytes authentication_data;        /* 0x16: binary */
    struct sl_bytes response_information;       /* 0x1A */
    struct sl_bytes server_reference;           /* 0x1C */
    struct sl_bytes reason_string;              /* 0x1F */

    /* Repeated entries (see the file comment). subscription_identifier is a
     * copy of the first Subscription Identifier, for SUBSCRIBE where there is
     * at most one; the encoder reads only 'repeated'. */
    uint32_t user_count;
    uint32_t subscription_identifier_count;
    uint32_t subscription_identifier; /* 0x0B: 1 .. SL_VARINT_MAX */
    struct sl_bytes repeated;
};

static inline bool sl_props_has(const struct sl_props *p, uint8_t id)
{
    return id <= SL_PROP_ID_MAX && (p->present >> id) & 1u;
}

/*
 * Parses block[0..len) - the property bytes, without the length prefix - as
 * the properties of 'context' (enum sl_ptype, or SL_PROPS_WILL). Fills *out
 * with views into block. Returns:
 *
 *   SL_OK          *reason = 0x00
 *   SL_EMALFORMED  *reason = 0x81 Malformed Packet: the bytes cannot be parsed.
 *                  A value cut short, a bad Variable Byte Integer
 *                  [MQTT-1.5.5-1], ill-formed UTF-8 or U+0000 in a string or
 *                  string pair [MQTT-1.5.4-1] [MQTT-1.5.4-2] [MQTT-1.5.7-1], and
 *                  - as 5.0 §2.2.2.2 says - an identifier that is unknown or not
 *                  valid for the context.
 *   SL_EPROTO      *reason = 0x82 Protocol Error, or 0x94 Topic Alias invalid
 *                  for a Topic Alias of 0 (5.0 §3.3.4): parsed, but a value or
 *                  a repeat is not allowed. The rules and where the spec gives
 *                  them are in props.c, next to each check.
 *   SL_EINVAL      context is not one of the above (a caller bug); *reason = 0x83.
 *
 * A block that is both malformed and breaks a protocol rule is SL_EMALFORMED:
 * a Protocol Error is found "after the packet has been parsed" (5.0 §1.2).
 * reason may be NULL. On failure *out is cleared.
 *
 * Direction is the caller's: e.g. a Client must not send a Subscription
 * Identifier in PUBLISH [MQTT-3.3.4-6], which a server checks after parsing.
 */
int sl_props_parse(const uint8_t *block, size_t len, uint8_t context, struct sl_props *out,
                   uint8_t *reason);

/*
 * Reads the length prefix at buf[0..len), then parses that many bytes as above.
 * *used gets prefix + block bytes on SL_OK, else 0. A length that is not a valid Variable Byte
 * Integer or runs past len is SL_EMALFORMED (0x81).
 */
int sl_props_block_parse(const uint8_t *buf, size_t len, uint8_t context, struct sl_props *out,
                         size_t *used, uint8_t *reason);

/*
 * Encoding, in two steps as in encode.h: learn the size, then write into a
 * buffer that fits; writing cannot fail. The single-instance properties come
 * in ascending identifier order, then the repeated entries in their order.
 * sl_props_size is the block without its length prefix; sl_props_block_size
 * adds the prefix (never more than SL_VARINT_MAX + 4 for props made by
 * sl_props_parse or the builder below).
 */
size_t sl_props_size(const struct sl_props *p);
size_t sl_props_encode(uint8_t *out, const struct sl_props *p);
size_t sl_props_block_size(const struct sl_props *p);
size_t sl_props_block_encode(uint8_t *out, const struct sl_props *p);

/*
 * Builder. Values are checked as the parser checks them, so a block built here
 * parses again in a context that allows its properties (the context rules -
 * one Subscription Identifier in SUBSCRIBE, no Authentication Data without a
 * Method in CONNECT - are the caller's). Each returns SL_OK,
 * SL_EINVAL (wrong type for id, not a property, or a value the parser would
 * reject) or SL_ETOOBIG (no room, or the block would pass SL_VARINT_MAX bytes).
 */

/* An empty block. */
void sl_props_init(struct sl_props *p);

/* Byte, Two/Four Byte Integer properties. Not Subscription Identifier: use
 * sl_props_add_subscription_id. */
int sl_props_set_int(struct sl_props *p, uint8_t id, uint32_t value);

/* UTF-8 string and binary properties. Borrows s[0..len): it must outlive p. */
int sl_props_set_bytes(struct sl_props *p, uint8_t id, const uint8_t *s, size_t len);

/* Removes a single-instance property. Repeated ones cannot be removed one by
 * one: rebuild them into a fresh store. */
void sl_props_clear(struct sl_props *p, uint8_t id);

/* Caller-owned room for encoded repeated entries. Entries cost 5 + name_len +
 * value_len bytes (User Property) or 1 + 1..4 (Subscription Identifier). */
struct sl_props_store {
    uint8_t *buf;
    size_t cap;
};

/* Append one User Property / Subscription Identifier, after those already in p
 * (more than one Subscription Identifier is for PUBLISH only; SUBSCRIBE has one).
 * If p->repeated is not in st yet (after a parse, say), its repeated entries
 * are first copied there, in order. The name and value bytes are copied; st
 * must outlive p and must not overlap the block p was parsed from. */
int sl_props_add_user(struct sl_props *p, struct sl_props_store *st, const uint8_t *name,
                      size_t name_len, const uint8_t *value, size_t value_len);
int sl_props_add_subscription_id(struct sl_props *p, struct sl_props_store *st, uint32_t id);

/*
 * Iterators over encoded entries (a parsed block, or p->repeated). They trust
 * that the bytes were validated by sl_props_parse or written by this codec; on
 * anything else they stop early but never read outside the view.
 */
struct sl_prop {
    uint8_t id;
    uint32_t num;      /* Byte, Two/Four Byte and Variable Byte Integer */
    struct sl_bytes a; /* string, binary, or a pair's name */
    struct sl_bytes b; /* a pair's value */
};

struct sl_props_iter {
    const uint8_t *p;
    size_t left;
};

void sl_props_iter_init(struct sl_props_iter *it, struct sl_bytes block);
/* Over p->repeated: User Properties and Subscription Identifiers in order. */
void sl_props_iter_repeated(struct sl_props_iter *it, const struct sl_props *p);
/* Every entry, in wire order. False at the end. */
bool sl_props_iter_next(struct sl_props_iter *it, struct sl_prop *out);
/* Only User Properties / only Subscription Identifiers, in wire order. */
bool sl_props_next_user(struct sl_props_iter *it, struct sl_bytes *name, struct sl_bytes *value);
bool sl_props_next_subscription_id(struct sl_props_iter *it, uint32_t *id);

#endif

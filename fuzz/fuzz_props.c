/*
 * fuzz_props.c - libFuzzer target for the MQTT 5.0 property codec
 * (src/proto/props.c).
 *
 * Input layout:
 *
 *   byte 0      context: byte % 17 (enum sl_ptype 0..15, 16 = SL_PROPS_WILL)
 *   bytes 1..   a property block, without its length prefix
 *
 * The block is copied into a heap block of exactly its size, so ASan catches a
 * read even one byte past it. The target aborts when one of these fails:
 *   - sl_props_parse agrees, in every context, with ref_parse below: a second,
 *     naive parser with its own copy of Table 2-4 and of the value rules,
 *     written per identifier instead of from a table (same result code and
 *     reason code, so the Malformed/Protocol Error split is checked too);
 *   - a failed parse leaves an empty struct;
 *   - a parsed block encodes to exactly as many bytes as it had, re-parses to
 *     the same values, encodes again to the same bytes, and its entries are a
 *     permutation of the input's entries; when the input was already in
 *     canonical order (singles by identifier, then repeated ones) the encoding
 *     is byte-identical to the input;
 *   - the same block with its length prefix round-trips through
 *     sl_props_block_encode / sl_props_block_parse;
 *   - rebuilding it with the builder API gives the same encoding;
 *   - wrapped in a whole packet of the context's type, the decoder in decode.h
 *     accepts it and hands back the same block, which parses the same way.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "proto/decode.h"
#include "proto/frame.h"
#include "proto/props.h"
#include "proto/reason.h"
#include "proto/varint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ASSERT(c)                                                                                  \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

#define NCTX 17

/* ---- the reference parser ---- */

#define CB(t) (1u << (t))

/* Table 2-4, per identifier. Types: 'b' Byte, '2' Two Byte Integer, '4' Four
 * Byte Integer, 'v' Variable Byte Integer, 's' UTF-8 string, 'd' Binary Data,
 * 'p' UTF-8 String Pair. */
static bool ref_prop(uint8_t id, char *type, uint32_t *ctx)
{
    const uint32_t connect = CB(1), connack = CB(2), publish = CB(3), acks = 0xf0,
                   subscribe = CB(8), suback = CB(9), unsubscribe = CB(10), unsuback = CB(11),
                   disconnect = CB(14), auth = CB(15), will = CB(SL_PROPS_WILL);

    switch (id) {
    case 0x01:
        *type = 'b';
        *ctx = publish | will;
        return true;
    case 0x02:
        *type = '4';
        *ctx = publish | will;
        return true;
    case 0x03:
    case 0x08:
        *type = 's';
        *ctx = publish | will;
        return true;
    case 0x09:
        *type = 'd';
        *ctx = publish | will;
        return true;
    case 0x0b:
        *type = 'v';
        *ctx = publish | subscribe;
        return true;
    case 0x11:
        *type = '4';
        *ctx = connect | connack | disconnect;
        return true;
    case 0x12:
    case 0x1a:
        *type = 's';
        *ctx = connack;
        return true;
    case 0x13:
        *type = '2';
        *ctx = connack;
        return true;
    case 0x15:
        *type = 's';
        *ctx = connect | connack | auth;
        return true;
    case 0x16:
        *type = 'd';
        *ctx = connect | connack | auth;
        return true;
    case 0x17:
    case 0x19:
        *type = 'b';
        *ctx = connect;
        return true;
    case 0x18:
        *type = '4';
        *ctx = will;
        return true;
    case 0x1c:
        *type = 's';
        *ctx = connack | disconnect;
        return true;
    case 0x1f:
        *type = 's';
        *ctx = connack | acks | suback | unsuback | disconnect | auth;
        return true;
    case 0x21:
    case 0x22:
        *type = '2';
        *ctx = connect | connack;
        return true;
    case 0x23:
        *type = '2';
        *ctx = publish;
        return true;
    case 0x24:
    case 0x25:
    case 0x28:
    case 0x29:
    case 0x2a:
        *type = 'b';
        *ctx = connack;
        return true;
    case 0x26:
        *type = 'p';
        *ctx = connect | connack | publish | will | acks | subscribe | suback | unsubscribe |
               unsuback | disconnect | auth;
        return true;
    case 0x27:
        *type = '4';
        *ctx = connect | connack;
        return true;
    }
    return false;
}

/* Decodes code points the long way. */
static bool ref_utf8(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint32_t cp;
        size_t extra;
        uint8_t c = s[i];
        if (c < 0x80) {
            cp = c;
            extra = 0;
        } else if ((c & 0xe0) == 0xc0) {
            cp = c & 0x1f;
            extra = 1;
        } else if ((c & 0xf0) == 0xe0) {
            cp = c & 0x0f;
            extra = 2;
        } else if ((c & 0xf8) == 0xf0) {
            cp = c & 0x07;
            extra = 3;
        } else {
            return false;
        }
        if (i + extra >= len) return false;
        for (size_t k = 1; k <= extra; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        static const uint32_t least[4] = {0, 0x80, 0x800, 0x10000};
        if (cp == 0 || cp < least[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += extra + 1;
    }
    return true;
}

struct ref_entry {
    uint8_t id;
    uint32_t num;
    const uint8_t *s;
    size_t slen;
};

struct ref_result {
    int rc;
    uint8_t reason;
};

/* Reads a u16-length string at b[*i..n). */
static bool ref_field(const uint8_t *b, size_t n, size_t *i, const uint8_t **s, size_t *len)
{
    if (n - *i < 2) return false;
    *len = (size_t)b[*i] << 8 | b[*i + 1];
    *i += 2;
    if (n - *i < *len) return false;
    *s = b + *i;
    *i += *len;
    return true;
}

static struct ref_result ref_parse(const uint8_t *b, size_t n, uint8_t ctx)
{
    struct ref_result res = {SL_OK, 0x00};
    struct ref_entry *e = malloc((n + 1) * sizeof(*e));
    size_t count = 0, i = 0;
    uint64_t seen = 0;

    ASSERT(e != NULL);
    /* Pass 1: can the bytes be parsed at all? */
    while (i < n) {
        struct ref_entry *x = &e[count++];
        char type;
        uint32_t allowed;
        const uint8_t *s2;
        size_t l2;

        x->id = b[i++];
        x->num = 0;
        x->s = NULL;
        x->slen = 0;
        if (!ref_prop(x->id, &type, &allowed) || !(allowed & CB(ctx))) goto malformed;
        switch (type) {
        case 'b':
            if (n - i < 1) goto malformed;
            x->num = b[i++];
            break;
        case '2':
            if (n - i < 2) goto malformed;
            x->num = (uint32_t)b[i] << 8 | b[i + 1];
            i += 2;
            break;
        case '4':
            if (n - i < 4) goto malformed;
            x->num = (uint32_t)b[i] << 24 | (uint32_t)b[i + 1] << 16 | (uint32_t)b[i + 2] << 8 |
                     b[i + 3];
            i += 4;
            break;
        case 'v': {
            size_t k = 0;
            uint32_t mult = 1;
            for (;;) {
                if (k == 4 || i >= n) goto malformed;
                uint8_t c = b[i++];
                x->num += (uint32_t)(c & 0x7f) * mult;
                mult *= 128;
                k++;
                if (!(c & 0x80)) break;
            }
            static const uint32_t least[5] = {0, 0, 128, 16384, 2097152};
            if (x->num < least[k]) goto malformed; /* not minimal */
            break;
        }
        case 's':
            if (!ref_field(b, n, &i, &x->s, &x->slen) || !ref_utf8(x->s, x->slen)) goto malformed;
            break;
        case 'd':
            if (!ref_field(b, n, &i, &x->s, &x->slen)) goto malformed;
            break;
        case 'p':
            if (!ref_field(b, n, &i, &x->s, &x->slen) || !ref_utf8(x->s, x->slen)) goto malformed;
            if (!ref_field(b, n, &i, &s2, &l2) || !ref_utf8(s2, l2)) goto malformed;
            break;
        }
    }
    /* Pass 2: the first rule broken, in order. */
    for (size_t k = 0; k < count; k++) {
        const struct ref_entry *x = &e[k];
        bool repeats = x->id == 0x26 || (x->id == 0x0b && ctx == SL_PT_PUBLISH);
        uint8_t bad = 0;

        if ((seen >> x->id) & 1 && !repeats) {
            bad = 0x82;
        } else {
            switch (x->id) {
            case 0x01:
            case 0x17:
            case 0x19:
            case 0x24:
            case 0x25:
            case 0x28:
            case 0x29:
            case 0x2a:
                bad = x->num > 1 ? 0x82 : 0;
                break;
            case 0x0b:
            case 0x21:
            case 0x27:
                bad = x->num == 0 ? 0x82 : 0;
                break;
            case 0x23:
                bad = x->num == 0 ? 0x94 : 0;
                break;
            case 0x08:
                bad = x->slen == 0 || memchr(x->s, '+', x->slen) || memchr(x->s, '#', x->slen)
                          ? 0x82
                          : 0;
                break;
            }
        }
        if (bad) {
            res.rc = SL_EPROTO;
            res.reason = bad;
            goto out;
        }
        seen |= (uint64_t)1 << x->id;
    }
    if (ctx == SL_PT_CONNECT && (seen >> 0x16) & 1 && !((seen >> 0x15) & 1)) {
        res.rc = SL_EPROTO;
        res.reason = 0x82;
    }
    goto out;
malformed:
    res.rc = SL_EMALFORMED;
    res.reason = 0x81;
out:
    free(e);
    return res;
}

/* ---- comparing two parsed blocks ---- */

static uint32_t get_int(const struct sl_props *p, uint8_t id)
{
    switch (id) {
    case 0x01:
        return p->payload_format_indicator;
    case 0x02:
        return p->message_expiry_interval;
    case 0x0b:
        return p->subscription_identifier;
    case 0x11:
        return p->session_expiry_interval;
    case 0x13:
        return p->server_keep_alive;
    case 0x17:
        return p->request_problem_information;
    case 0x18:
        return p->will_delay_interval;
    case 0x19:
        return p->request_response_information;
    case 0x21:
        return p->receive_maximum;
    case 0x22:
        return p->topic_alias_maximum;
    case 0x23:
        return p->topic_alias;
    case 0x24:
        return p->maximum_qos;
    case 0x25:
        return p->retain_available;
    case 0x27:
        return p->maximum_packet_size;
    case 0x28:
        return p->wildcard_subscription_available;
    case 0x29:
        return p->subscription_identifier_available;
    case 0x2a:
        return p->shared_subscription_available;
    }
    return 0;
}

static struct sl_bytes get_bytes(const struct sl_props *p, uint8_t id)
{
    switch (id) {
    case 0x03:
        return p->content_type;
    case 0x08:
        return p->response_topic;
    case 0x09:
        return p->correlation_data;
    case 0x12:
        return p->assigned_client_identifier;
    case 0x15:
        return p->authentication_method;
    case 0x16:
        return p->authentication_data;
    case 0x1a:
        return p->response_information;
    case 0x1c:
        return p->server_reference;
    case 0x1f:
        return p->reason_string;
    }
    return (struct sl_bytes){NULL, 0};
}

static bool same_bytes(struct sl_bytes a, struct sl_bytes b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool is_repeated_id(uint8_t id)
{
    return id == SL_PROP_USER_PROPERTY || id == SL_PROP_SUBSCRIPTION_IDENTIFIER;
}

/* Next User Property or Subscription Identifier. */
static bool next_repeated(struct sl_props_iter *it, struct sl_prop *v)
{
    while (sl_props_iter_next(it, v))
        if (is_repeated_id(v->id)) return true;
    return false;
}

static void same_props(const struct sl_props *a, const struct sl_props *b)
{
    struct sl_props_iter ia, ib;
    struct sl_prop va, vb;

    ASSERT(a->present == b->present);
    for (uint8_t id = 1; id <= SL_PROP_ID_MAX; id++) {
        ASSERT(get_int(a, id) == get_int(b, id));
        ASSERT(same_bytes(get_bytes(a, id), get_bytes(b, id)));
    }
    ASSERT(a->user_count == b->user_count);
    ASSERT(a->subscription_identifier_count == b->subscription_identifier_count);
    sl_props_iter_repeated(&ia, a);
    sl_props_iter_repeated(&ib, b);
    for (;;) {
        bool more = next_repeated(&ia, &va);
        ASSERT(more == next_repeated(&ib, &vb));
        if (!more) break;
        ASSERT(va.id == vb.id && va.num == vb.num);
        ASSERT(same_bytes(va.a, vb.a) && same_bytes(va.b, vb.b));
    }
}

/* ---- entries as raw byte ranges ---- */

struct span {
    const uint8_t *p;
    size_t n;
    uint8_t id;
};

/* Splits a valid block into its entries; returns how many. */
static size_t split_entries(const uint8_t *b, size_t n, struct span *out)
{
    struct sl_props_iter it;
    struct sl_prop v;
    size_t count = 0;

    sl_props_iter_init(&it, (struct sl_bytes){b, n});
    for (;;) {
        const uint8_t *start = it.p;
        size_t before = it.left;
        if (!sl_props_iter_next(&it, &v)) break;
        out[count].p = start;
        out[count].n = before - it.left;
        out[count].id = v.id;
        count++;
    }
    ASSERT(it.left == 0); /* a valid block is all entries */
    return count;
}

static int cmp_span(const void *x, const void *y)
{
    const struct span *a = x, *b = y;
    size_t n = a->n < b->n ? a->n : b->n;
    int c = memcmp(a->p, b->p, n);
    if (c != 0) return c;
    return a->n < b->n ? -1 : a->n > b->n;
}

/* Singles in ascending identifier order, then only repeated entries. */
static bool canonical(const struct span *e, size_t count)
{
    uint8_t last_single = 0;
    bool in_repeated = false;

    for (size_t i = 0; i < count; i++) {
        if (is_repeated_id(e[i].id)) {
            in_repeated = true;
        } else {
            if (in_repeated || e[i].id <= last_single) return false;
            last_single = e[i].id;
        }
    }
    return true;
}

/* ---- the checks on a block that parsed ---- */

static void check_rebuild(const struct sl_props *p, const uint8_t *enc, size_t size)
{
    struct sl_props q;
    struct sl_props_iter it;
    struct sl_prop v;
    uint8_t *store = malloc(size + 1), *enc2 = malloc(size + 1);
    struct sl_props_store st = {store, size};

    ASSERT(store != NULL && enc2 != NULL);
    sl_props_init(&q);
    for (uint8_t id = 1; id <= SL_PROP_ID_MAX; id++) {
        const struct sl_prop_info *info = sl_prop_info(id);
        if (info == NULL || is_repeated_id(id) || !sl_props_has(p, id)) continue;
        if (info->type == SL_PROPTYPE_UTF8 || info->type == SL_PROPTYPE_BINARY) {
            struct sl_bytes s = get_bytes(p, id);
            ASSERT(sl_props_set_bytes(&q, id, s.ptr, s.len) == SL_OK);
        } else {
            ASSERT(sl_props_set_int(&q, id, get_int(p, id)) == SL_OK);
        }
    }
    sl_props_iter_repeated(&it, p);
    while (next_repeated(&it, &v)) {
        if (v.id == SL_PROP_USER_PROPERTY)
            ASSERT(sl_props_add_user(&q, &st, v.a.ptr, v.a.len, v.b.ptr, v.b.len) == SL_OK);
        else
            ASSERT(sl_props_add_subscription_id(&q, &st, v.num) == SL_OK);
    }
    ASSERT(sl_props_size(&q) == size);
    ASSERT(sl_props_encode(enc2, &q) == size);
    ASSERT(size == 0 || memcmp(enc, enc2, size) == 0);
    free(store);
    free(enc2);
}

static void check_parsed(const uint8_t *block, size_t n, uint8_t ctx, const struct sl_props *p)
{
    size_t size = sl_props_size(p);
    uint8_t *enc, *enc2, *blk;
    struct sl_props q, r;
    uint8_t reason;
    size_t used, ne, ni;
    struct span *ein, *eout;

    /* Every entry re-encodes at its own length (lengths are explicit and
     * varints minimal), so the block keeps its size. */
    ASSERT(size == n);
    ASSERT(p->user_count <= n / 5 && p->subscription_identifier_count <= n / 2);
    for (uint8_t id = 0; id <= SL_PROP_ID_MAX; id++)
        if (sl_props_has(p, id)) ASSERT(sl_prop_allowed(ctx, id));

    enc = malloc(size + 1);
    enc2 = malloc(size + 1);
    ASSERT(enc != NULL && enc2 != NULL);
    ASSERT(sl_props_encode(enc, p) == size);
    ASSERT(sl_props_parse(enc, size, ctx, &q, &reason) == SL_OK && reason == 0);
    same_props(p, &q);
    ASSERT(sl_props_encode(enc2, &q) == size);
    ASSERT(size == 0 || memcmp(enc, enc2, size) == 0);

    /* The encoding is a permutation of the input's entries, and the input
     * itself when that was canonical. */
    ein = malloc((n + 1) * sizeof(*ein));
    eout = malloc((n + 1) * sizeof(*eout));
    ASSERT(ein != NULL && eout != NULL);
    ni = split_entries(block, n, ein);
    ne = split_entries(enc, size, eout);
    ASSERT(ni == ne);
    ASSERT(canonical(eout, ne));
    if (canonical(ein, ni)) ASSERT(size == 0 || memcmp(enc, block, n) == 0);
    qsort(ein, ni, sizeof(*ein), cmp_span);
    qsort(eout, ne, sizeof(*eout), cmp_span);
    for (size_t i = 0; i < ni; i++)
        ASSERT(ein[i].n == eout[i].n && memcmp(ein[i].p, eout[i].p, ein[i].n) == 0);
    free(ein);
    free(eout);

    /* With the length prefix. */
    size_t bsize = sl_props_block_size(p);
    ASSERT(bsize == sl_varint_size((uint32_t)n) + n);
    blk = malloc(bsize);
    ASSERT(blk != NULL);
    ASSERT(sl_props_block_encode(blk, p) == bsize);
    ASSERT(sl_props_block_parse(blk, bsize, ctx, &r, &used, &reason) == SL_OK);
    ASSERT(used == bsize);
    same_props(p, &r);
    free(blk);

    check_rebuild(p, enc, size);
    free(enc);
    free(enc2);
}

/* ---- through the packet decoders ---- */

/* Appends bytes to a bounded scratch buffer. */
struct out {
    uint8_t *b;
    size_t n;
};

static void put(struct out *o, const void *p, size_t n)
{
    if (n > 0) memcpy(o->b + o->n, p, n);
    o->n += n;
}

static void put_block(struct out *o, const uint8_t *block, size_t n)
{
    uint8_t v[4];
    put(o, v, sl_varint_encode(v, (uint32_t)n));
    put(o, block, n);
}

/* A body that carries one property block: head, the block, tail. The bytes
 * around the block are the smallest valid ones for each packet. */
struct frame_around {
    const char *head, *tail;
    size_t head_len, tail_len;
};

#define AROUND(h, t)                                                                               \
    {                                                                                              \
        .head = (h), .tail = (t), .head_len = sizeof(h) - 1, .tail_len = sizeof(t) - 1             \
    }
#define MQTT5 "\x00\x04MQTT\x05"
#define ACK   AROUND("\x00\x01\x00", "") /* packet id 1, reason 0x00 */

static const struct frame_around around[NCTX] = {
    /* clean start, keepalive 60 | client id "c" */
    [SL_PT_CONNECT] = AROUND(MQTT5 "\x02\x00\x3c", "\x00\x01"
                                                   "c"),
    /* will flag, keepalive 60, empty CONNECT properties, client id "c" | will
     * topic "w", empty payload */
    [SL_PROPS_WILL] = AROUND(MQTT5 "\x06\x00\x3c\x00\x00\x01"
                                   "c",
                             "\x00\x01"
                             "w\x00\x00"),
    [SL_PT_CONNACK] = AROUND("\x00\x00", ""),
    [SL_PT_PUBLISH] = AROUND("\x00\x01"
                             "t",
                             "x"),
    [SL_PT_PUBACK] = ACK,
    [SL_PT_PUBREC] = ACK,
    [SL_PT_PUBREL] = ACK,
    [SL_PT_PUBCOMP] = ACK,
    [SL_PT_SUBSCRIBE] = AROUND("\x00\x01", "\x00\x01"
                                           "a\x00"),
    [SL_PT_UNSUBSCRIBE] = AROUND("\x00\x01", "\x00\x01"
                                             "a"),
    [SL_PT_SUBACK] = AROUND("\x00\x01", "\x00"),
    [SL_PT_UNSUBACK] = AROUND("\x00\x01", "\x00"),
    [SL_PT_DISCONNECT] = AROUND("\x00", ""),
    /* AUTH is not driven through sl_decode_auth here; the other types carry no
     * properties. Their head is NULL. */
};

static void via_packet(const uint8_t *block, size_t n, uint8_t ctx, int rc,
                       const struct sl_props *p)
{
    const struct frame_around *a = &around[ctx];
    uint8_t *scratch, *body;
    struct out o;
    struct sl_bytes view = {NULL, 0};
    struct sl_props q;
    uint8_t reason;
    int drc = SL_EINVAL;
    union {
        struct sl_connect c;
        struct sl_publish pub;
        struct sl_ack ack;
        struct sl_subscribe sub;
        struct sl_unsubscribe unsub;
        struct sl_suback suback;
        struct sl_disconnect disc;
        struct sl_connack connack;
    } u;

    if (a->head == NULL) return;
    scratch = malloc(n + 64);
    ASSERT(scratch != NULL);
    o.b = scratch;
    o.n = 0;
    put(&o, a->head, a->head_len);
    put_block(&o, block, n);
    put(&o, a->tail, a->tail_len);
    body = malloc(o.n); /* exact size, for ASan */
    ASSERT(body != NULL);
    memcpy(body, scratch, o.n);
    free(scratch);

    switch (ctx) {
    case SL_PT_CONNECT:
    case SL_PROPS_WILL:
        drc = sl_decode_connect(body, o.n, &u.c);
        view = ctx == SL_PT_CONNECT ? u.c.props : u.c.will_props;
        break;
    case SL_PT_CONNACK:
        drc = sl_decode_connack(body, o.n, SL_MQTT_5, &u.connack);
        view = u.connack.props;
        break;
    case SL_PT_PUBLISH:
        drc = sl_decode_publish(body, o.n, 0, SL_MQTT_5, &u.pub);
        view = u.pub.props;
        break;
    case SL_PT_SUBSCRIBE:
        drc = sl_decode_subscribe(body, o.n, SL_MQTT_5, &u.sub);
        view = u.sub.props;
        break;
    case SL_PT_UNSUBSCRIBE:
        drc = sl_decode_unsubscribe(body, o.n, SL_MQTT_5, &u.unsub);
        view = u.unsub.props;
        break;
    case SL_PT_SUBACK:
    case SL_PT_UNSUBACK:
        drc = sl_decode_suback(body, o.n, SL_MQTT_5, &u.suback);
        view = u.suback.props;
        break;
    case SL_PT_DISCONNECT:
        drc = sl_decode_disconnect(body, o.n, SL_MQTT_5, &u.disc);
        view = u.disc.props;
        break;
    default:
        drc = sl_decode_ack(body, o.n, SL_MQTT_5, &u.ack);
        view = u.ack.props;
        break;
    }
    ASSERT(drc == SL_OK);
    ASSERT(view.len == n && (n == 0 || memcmp(view.ptr, block, n) == 0));
    ASSERT(sl_props_parse(view.ptr, view.len, ctx, &q, &reason) == rc);
    if (rc == SL_OK) same_props(p, &q);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t ctx, reason;
    uint8_t *block = NULL;
    size_t n;
    struct sl_props p;
    int rc = SL_OK;

    if (size < 1) return 0;
    ctx = data[0] % NCTX;
    n = size - 1;
    if (n > 0) {
        block = malloc(n);
        ASSERT(block != NULL);
        memcpy(block, data + 1, n);
    }

    for (uint8_t c = 0; c < NCTX; c++) {
        struct ref_result want = ref_parse(block, n, c);
        reason = 0xee;
        int got = sl_props_parse(block, n, c, &p, &reason);
        ASSERT(got == want.rc && reason == want.reason);
        if (got != SL_OK) {
            struct sl_props empty;
            memset(&empty, 0, sizeof(empty));
            ASSERT(memcmp(&p, &empty, sizeof(p)) == 0);
        }
        if (c == ctx) rc = got;
    }

    ASSERT(sl_props_parse(block, n, ctx, &p, &reason) == rc);
    if (rc == SL_OK) check_parsed(block, n, ctx, &p);
    via_packet(block, n, ctx, rc, &p);
    free(block);
    return 0;
}

/* conn.c - the bench client state machine; buffers and states in conn.h. */
#include "conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "loop.h"
#include "proto/decode.h"
#include "proto/encode.h"
#include "proto/frame.h"
#include "proto/props.h"
#include "proto/varint.h"
#include "seen.h"

/* A publisher stops queueing at 64 KB pending: enough for one large send(), small
 * enough that a full socket never leaves much in user space. */
#define GEN_LIMIT (64u * 1024u)
/* Replies may grow wbuf to this before reading pauses. */
#define WBUF_CAP (4u * 1024u * 1024u)

enum pub_slot { SLOT_FREE = 0, SLOT_WAIT_PUBACK, SLOT_WAIT_PUBREC, SLOT_WAIT_PUBCOMP };

static const char *role_name(const struct conn *c)
{
    switch (c->role) {
    case CONN_PUB:
        return "publisher";
    case CONN_SUB:
        return "subscriber";
    default:
        return "connection";
    }
}

static uint32_t wbuf_cap(const struct conn *c)
{
    return WBUF_CAP + (c->pub ? c->pub->tmpl_len : 0);
}

/* Makes room for need more bytes at wlen: compacts, then grows up to the cap. */
static bool wbuf_reserve(struct conn *c, size_t need)
{
    if (c->wcap - c->wlen >= need) return true;
    if (c->woff > 0) {
        memmove(c->wbuf, c->wbuf + c->woff, c->wlen - c->woff);
        c->wlen -= c->woff;
        c->woff = 0;
        if (c->wcap - c->wlen >= need) return true;
    }
    size_t want = (size_t)c->wlen + need;
    if (want > wbuf_cap(c)) return false;
    size_t ncap = c->wcap ? c->wcap : 512;
    while (ncap < want)
        ncap *= 2;
    if (ncap > wbuf_cap(c)) ncap = wbuf_cap(c);
    uint8_t *nb = realloc(c->wbuf, ncap);
    if (!nb) return false;
    c->wbuf = nb;
    c->wcap = (uint32_t)ncap;
    return true;
}

static bool carry_reserve(struct conn *c, size_t need)
{
    if (c->carry_cap >= need) return true;
    size_t ncap = c->carry_cap ? c->carry_cap : 256;
    while (ncap < need)
        ncap *= 2;
    if (ncap > UINT32_MAX) return false;
    uint8_t *nb = realloc(c->carry, ncap);
    if (!nb) return false;
    c->carry = nb;
    c->carry_cap = (uint32_t)ncap;
    return true;
}

static void mark_sent_all(struct conn *c)
{
    if (c->pub && !c->pub->sent_all) {
        c->pub->sent_all = true;
        c->loop->pubs_sent_all++;
    }
}

/* Records the error, closes the socket and takes the connection out of every
 * count it was in. Safe to call twice. */
static void conn_fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void conn_fail(struct conn *c, const char *fmt, ...)
{
    struct loop *l = c->loop;
    if (c->state == CS_FAILED || c->state == CS_CLOSED) return;
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    loop_error(l, "%s %u: %s", role_name(c), c->index, msg);

    if (c->state == CS_READY) {
        l->c.closed++;
    } else {
        l->c.failed++;
        if (c->state != CS_NEW) l->handshaking--;
    }
    if (c->pub) {
        mark_sent_all(c);
        l->c.abandoned += c->pub->inflight;
        l->inflight -= c->pub->inflight;
        c->pub->inflight = 0;
    }
    if (c->sub) {
        l->inflight -= c->sub->qos2_inflight;
        c->sub->qos2_inflight = 0;
    }
    if (c->out_armed) l->blocked--;
    c->out_armed = false;
    if (c->fd >= 0) close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->in_epoll = false;
    c->woff = c->wlen = 0;
    c->state = CS_FAILED;
}

static void set_out(struct conn *c, bool on)
{
    if (c->out_armed == on) return;
    c->out_armed = on;
    if (on)
        c->loop->blocked++;
    else
        c->loop->blocked--;
    if (loop_update_events(c->loop, c) != 0) conn_fail(c, "epoll_ctl: %s", strerror(errno));
}

static void queue_bytes(struct conn *c, const uint8_t *p, size_t n)
{
    memcpy(c->wbuf + c->wlen, p, n);
    c->wlen += (uint32_t)n;
    loop_mark_dirty(c->loop, c);
}

/* Room was reserved by the parse loop (16 bytes per packet handled). */
static void queue_ack(struct conn *c, uint8_t type, uint16_t pid)
{
    c->wlen += (uint32_t)sl_encode_ack311(c->wbuf + c->wlen, type, pid);
    loop_mark_dirty(c->loop, c);
}

int conn_pub_init(struct conn *c, const struct bench_opts *o, const char *topic, uint32_t index,
                  uint32_t nmatch, uint32_t npubs)
{
    c->fd = -1;
    struct pub_state *p = calloc(1, sizeof(*p));
    if (!p) return SL_ENOMEM;
    c->pub = p;
    c->role = CONN_PUB;
    c->index = index;
    p->nmatch = nmatch;
    if (o->rate > 0) p->offset_ns = (int64_t)((double)index * (1e9 / o->rate) / (double)npubs);

    size_t tlen = strlen(topic);
    bool props = o->version == SL_MQTT_5; /* 5.0: an empty property block, 1 byte */
    uint32_t rem = sl_publish_remaining(o->version, tlen, o->qos, 0, o->payload);
    if (rem > SL_VARINT_MAX || tlen > UINT16_MAX) return SL_ETOOBIG;
    size_t total = 1 + sl_varint_size(rem) + (size_t)rem;
    p->tmpl = calloc(1, total);
    if (!p->tmpl) return SL_ENOMEM;
    uint8_t *w = p->tmpl;
    w += sl_encode_publish_head(w, o->qos, false, false, rem, (uint16_t)tlen);
    memcpy(w, topic, tlen);
    w += tlen;
    if (o->qos) {
        p->pid_off = (uint32_t)(w - p->tmpl);
        w += 2;
    }
    if (props) *w++ = 0;
    p->payload_off = (uint32_t)(w - p->tmpl);
    /* Filler after our header: a readable pattern, not zeros, so a broker that
     * compressed or mangled payloads would show. */
    for (size_t i = BENCH_HDR_SIZE; i < o->payload; i++)
        w[i] = (uint8_t)('a' + i % 26);
    w += o->payload;
    if ((size_t)(w - p->tmpl) != total) return SL_EINVAL;
    p->tmpl_len = (uint32_t)total;

    if (o->qos) {
        p->slot = calloc(o->window, 1);
        p->free_ids = calloc(o->window, sizeof(uint16_t));
        if (!p->slot || !p->free_ids) return SL_ENOMEM;
    }
    return SL_OK;
}

int conn_sub_init(struct conn *c, const struct bench_opts *o, const char *filter, uint32_t index,
                  const uint32_t *pubs, struct seen *seen, uint32_t npubs)
{
    c->fd = -1;
    struct sub_state *s = calloc(1, sizeof(*s));
    if (!s) return SL_ENOMEM;
    c->sub = s;
    c->role = CONN_SUB;
    c->index = index;
    s->filter = strdup(filter);
    s->pubs = pubs;
    s->seen = seen;
    s->npubs = npubs;
    s->pairs = npubs ? calloc(npubs, sizeof(struct pair)) : NULL;
    if (!s->filter || (npubs && !s->pairs)) return SL_ENOMEM;
    if (o->qos == 2) {
        s->qos2_wait = calloc(65536 / 64, sizeof(uint64_t));
        if (!s->qos2_wait) return SL_ENOMEM;
    }
    return SL_OK;
}

void conn_idle_init(struct conn *c, uint32_t index)
{
    c->role = CONN_IDLE;
    c->index = index;
    c->fd = -1;
}

static void conn_ready(struct conn *c, int64_t now)
{
    struct loop *l = c->loop;
    c->state = CS_READY;
    l->handshaking--;
    l->c.ready++;
    stats_hist_add(&l->c.conn_lat, (uint64_t)(now - c->t_open));
    if (now > l->c.last_ready_ns) l->c.last_ready_ns = now;
}

int conn_open(struct conn *c, int64_t now)
{
    struct loop *l = c->loop;
    const struct bench_opts *o = l->o;
    c->t_open = c->last_tx = now;
    if (l->c.first_open_ns == 0 || now < l->c.first_open_ns) l->c.first_open_ns = now;
    l->handshaking++;
    c->state = CS_CONNECTING;

    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        conn_fail(c, "socket: %s", strerror(errno));
        return -1;
    }
    c->fd = fd;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (c->role == CONN_PUB && o->sndbuf) {
        /* Loopback autotuning grows a send buffer to 4 MB: 50 000 small messages
         * queued in our kernel, not in the broker. A bounded buffer keeps the
         * publish rate at what the broker reads (--sndbuf). */
        int sz = (int)o->sndbuf;
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
    }
    if (o->source_addrs) {
        /* Choose the port at connect(), per (source, destination) pair: that is
         * what lets N source addresses hold N times the ephemeral range. */
        (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f000001u + c->gindex % o->source_addrs);
        if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0) {
            conn_fail(c, "bind 127.0.0.%u: %s", 1 + c->gindex % o->source_addrs, strerror(errno));
            return -1;
        }
    }

    char id[32];
    char letter = c->role == CONN_PUB ? 'p' : c->role == CONN_SUB ? 's' : 'c';
    int idlen = snprintf(id, sizeof(id), "%s%c%u", l->ctl->id_prefix, letter, c->index);
    struct sl_connect_params cp = {
        .version = o->version,
        .clean_start = true,
        .keepalive = o->keepalive,
        .client_id = (const uint8_t *)id,
        .client_id_len = (size_t)idlen,
    };
    size_t n = sl_encode_connect_size(&cp);
    if (!wbuf_reserve(c, n)) {
        conn_fail(c, "out of memory");
        return -1;
    }
    c->wlen += (uint32_t)sl_encode_connect(c->wbuf + c->wlen, &cp);

    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons(o->port)};
    dst.sin_addr.s_addr = o->host_addr;
    if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 && errno != EINPROGRESS) {
        int e = errno;
        conn_fail(c, "connect to %s:%u: %s%s", o->host, o->port, strerror(e),
                  e == EADDRNOTAVAIL ? " (out of ephemeral ports? try --source-addrs)" : "");
        return -1;
    }
    /* On loopback the handshake usually completes inside connect(): send the
     * CONNECT at once, which saves a writability round per connection. A socket
     * still connecting refuses it with EAGAIN; then writability means connected
     * (or failed: SO_ERROR says which). */
    c->state = CS_WAIT_CONNACK;
    conn_flush(c, now);
    if (c->state == CS_FAILED) return -1;
    if (c->out_armed)
        c->state = CS_CONNECTING;
    else if (loop_update_events(l, c) != 0)
        conn_fail(c, "epoll_ctl: %s", strerror(errno));
    return c->state == CS_FAILED ? -1 : 0;
}

/* Reads the v5 CONNACK properties for the limits the bench must obey
 * (MQTT 5.0 section 3.2.2.3). Returns 0, or -1 if the block does not parse. */
static int connack_props(struct conn *c, struct sl_bytes props)
{
    struct sl_props p;

    if (sl_props_parse(props.ptr, props.len, SL_PT_CONNACK, &p, NULL) != SL_OK) return -1;
    if (sl_props_has(&p, SL_PROP_RECEIVE_MAXIMUM)) c->recv_max = p.receive_maximum;
    if (sl_props_has(&p, SL_PROP_MAXIMUM_QOS)) c->max_qos = p.maximum_qos;
    if (sl_props_has(&p, SL_PROP_MAXIMUM_PACKET_SIZE)) c->max_packet = p.maximum_packet_size;
    return 0;
}

static int on_connack(struct conn *c, const uint8_t *body, size_t len, int64_t now)
{
    const struct bench_opts *o = c->loop->o;
    struct sl_connack ca;
    if (c->state != CS_WAIT_CONNACK) {
        conn_fail(c, "unexpected CONNACK");
        return -1;
    }
    int rc = sl_decode_connack(body, len, o->version, &ca);
    if (rc != SL_OK) {
        conn_fail(c, "bad CONNACK: %s", sl_strerror(rc));
        return -1;
    }
    if (ca.code != 0) {
        conn_fail(c, "CONNACK refused the connection: code 0x%02x", ca.code);
        return -1;
    }
    c->recv_max = 65535;
    c->max_qos = 2;
    c->max_packet = 0;
    if (o->version == SL_MQTT_5 && connack_props(c, ca.props) != 0) {
        conn_fail(c, "malformed CONNACK properties");
        return -1;
    }
    if (c->role != CONN_IDLE && o->qos > c->max_qos) {
        conn_fail(c, "broker allows QoS %u at most (-q %u)", c->max_qos, o->qos);
        return -1;
    }
    if (c->pub) {
        struct pub_state *p = c->pub;
        if (c->max_packet && p->tmpl_len > c->max_packet) {
            conn_fail(c, "PUBLISH of %u bytes is over the broker's Maximum Packet Size %u",
                      p->tmpl_len, c->max_packet);
            return -1;
        }
        if (o->qos) {
            p->window = o->window < c->recv_max ? o->window : c->recv_max;
            for (uint32_t i = 0; i < p->window; i++)
                p->free_ids[i] = (uint16_t)(i + 1);
            p->free_head = 0;
            p->free_count = p->window;
        }
    }
    if (c->role == CONN_SUB) {
        size_t flen = strlen(c->sub->filter);
        size_t n = sl_encode_subscribe1_size(o->version, flen);
        if (!wbuf_reserve(c, n)) {
            conn_fail(c, "out of memory");
            return -1;
        }
        c->wlen += (uint32_t)sl_encode_subscribe1(c->wbuf + c->wlen, o->version, 1,
                                                  (const uint8_t *)c->sub->filter, flen, o->qos);
        loop_mark_dirty(c->loop, c);
        c->state = CS_WAIT_SUBACK;
        return 0;
    }
    conn_ready(c, now);
    return 0;
}

static int on_suback(struct conn *c, const uint8_t *body, size_t len, int64_t now)
{
    const struct bench_opts *o = c->loop->o;
    struct sl_suback sa;
    if (c->state != CS_WAIT_SUBACK) {
        conn_fail(c, "unexpected SUBACK");
        return -1;
    }
    int rc = sl_decode_suback(body, len, o->version, &sa);
    if (rc != SL_OK || sa.packet_id != 1 || sa.codes.len != 1) {
        conn_fail(c, "bad SUBACK (%s, id %u, %zu codes)", sl_strerror(rc), sa.packet_id,
                  sa.codes.len);
        return -1;
    }
    uint8_t code = sa.codes.ptr[0];
    if (code >= 0x80) {
        conn_fail(c, "SUBACK refused filter '%s': 0x%02x", c->sub->filter, code);
        return -1;
    }
    if (code < o->qos) c->loop->c.downgraded++;
    conn_ready(c, now);
    return 0;
}

/* A first delivery of seq to the subscriber of pr: unique, and reordered when
 * a later sequence came before it. */
static void count_first(struct loop *l, struct pair *pr, uint64_t seq)
{
    l->c.unique++;
    if (seq + 1 < pr->max_next)
        l->c.reordered++;
    else
        pr->max_next = seq + 1;
}

/* Delivery bookkeeping for (subscriber, publisher): unique, duplicate, reordered. */
static void pair_record(struct loop *l, struct pair *pr, uint64_t seq)
{
    if (seq < pr->base) {
        l->c.duplicates++;
        return;
    }
    if (seq >= pr->base + PAIR_WINDOW) {
        uint64_t nb = seq - PAIR_WINDOW + 1;
        if (nb - pr->base >= PAIR_WINDOW) {
            memset(pr->bits, 0, sizeof(pr->bits));
        } else {
            for (uint64_t s = pr->base; s < nb; s++)
                pr->bits[(s % PAIR_WINDOW) / 64] &= ~(1ull << (s % 64));
        }
        pr->base = nb;
    }
    uint64_t *w = &pr->bits[(seq % PAIR_WINDOW) / 64];
    uint64_t bit = 1ull << (seq % 64);
    if (*w & bit) {
        l->c.duplicates++;
        return;
    }
    *w |= bit;
    count_first(l, pr, seq);
}

/* The same for a member of a shared group: whether the message is new is the
 * group's question (seen.h); the order is the member's own. */
static void group_record(struct loop *l, struct pair *pr, struct seen *g, uint64_t seq,
                         uint32_t pubi)
{
    switch (seen_mark(g, seq)) {
    case SEEN_AGAIN:
        l->c.duplicates++;
        return;
    case SEEN_UNTRACKED:
        l->c.foreign++;
        loop_error(l,
                   "sequence %llu of publisher %u: beyond what the shared-group "
                   "accounting holds, or out of memory",
                   (unsigned long long)seq, pubi);
        return;
    case SEEN_FIRST:
        break;
    }
    count_first(l, pr, seq);
}

static void sub_record(struct conn *c, struct sl_bytes payload, int64_t now)
{
    struct loop *l = c->loop;
    struct sub_state *s = c->sub;
    if (payload.len < BENCH_HDR_SIZE) {
        l->c.foreign++;
        return;
    }
    uint64_t seq, sent;
    uint32_t pubi;
    memcpy(&seq, payload.ptr, 8);
    memcpy(&pubi, payload.ptr + 8, 4);
    memcpy(&sent, payload.ptr + 12, 8);

    /* Binary search: pubs is sorted. */
    uint32_t lo = 0, hi = s->npubs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->pubs[mid] < pubi)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == s->npubs || s->pubs[lo] != pubi) {
        l->c.foreign++;
        return;
    }
    int64_t t_me = atomic_load_explicit(&l->ctl->t_me, memory_order_relaxed);
    l->c.received++;
    l->c.last_delivery_ns = now;
    if (now >= l->ctl->t_ms && now < t_me) l->c.received_win++;
    if ((int64_t)sent >= l->ctl->t_ms && (int64_t)sent < t_me)
        stats_hist_add(&l->c.lat, now > (int64_t)sent ? (uint64_t)(now - (int64_t)sent) : 0);
    if (s->seen)
        group_record(l, &s->pairs[lo], &s->seen[lo], seq, pubi);
    else
        pair_record(l, &s->pairs[lo], seq);
}

static int on_publish(struct conn *c, const struct sl_frame *f, const uint8_t *body, int64_t now)
{
    struct loop *l = c->loop;
    struct sl_publish pk;
    int rc = sl_decode_publish(body, f->remaining, f->flags, l->o->version, &pk);
    if (rc != SL_OK) {
        conn_fail(c, "malformed PUBLISH from the broker: %s", sl_strerror(rc));
        return -1;
    }
    /* A subscriber may get PUBLISH before its SUBACK (MQTT 3.1.1 section 3.8.4);
     * a connection that never subscribed should get none. */
    if (c->role != CONN_SUB) {
        l->c.proto_errors++;
        loop_error(l, "%s %u: PUBLISH on a connection without subscriptions", role_name(c),
                   c->index);
        return 0;
    }
    struct sub_state *s = c->sub;
    switch (pk.qos) {
    case 0:
        sub_record(c, pk.payload, now);
        break;
    case 1:
        sub_record(c, pk.payload, now);
        queue_ack(c, SL_PT_PUBACK, pk.packet_id);
        break;
    default: {
        if (!s->qos2_wait) { /* subscribed at QoS < 2, yet QoS 2 arrived */
            l->c.proto_errors++;
            loop_error(l, "subscriber %u: QoS 2 PUBLISH on a QoS %u subscription", c->index,
                       l->o->qos);
            s->qos2_wait = calloc(65536 / 64, sizeof(uint64_t));
            if (!s->qos2_wait) {
                conn_fail(c, "out of memory");
                return -1;
            }
        }
        uint64_t *w = &s->qos2_wait[pk.packet_id / 64];
        uint64_t bit = 1ull << (pk.packet_id % 64);
        if (*w & bit) {
            /* Same id before PUBREL: a resend, not a new message [MQTT-4.3.3-2]. */
            l->c.qos2_resent++;
        } else {
            *w |= bit;
            s->qos2_inflight++;
            l->inflight++;
            sub_record(c, pk.payload, now);
        }
        queue_ack(c, SL_PT_PUBREC, pk.packet_id);
        break;
    }
    }
    return 0;
}

static void free_id(struct conn *c, uint16_t pid)
{
    struct pub_state *p = c->pub;
    p->slot[pid - 1] = SLOT_FREE;
    p->free_ids[(p->free_head + p->free_count) % p->window] = pid;
    p->free_count++;
    p->inflight--;
    c->loop->inflight--;
}

static const char *ptype_name(uint8_t t)
{
    static const char *names[] = {"RESERVED",  "CONNECT",  "CONNACK",     "PUBLISH",
                                  "PUBACK",    "PUBREC",   "PUBREL",      "PUBCOMP",
                                  "SUBSCRIBE", "SUBACK",   "UNSUBSCRIBE", "UNSUBACK",
                                  "PINGREQ",   "PINGRESP", "DISCONNECT",  "AUTH"};
    return names[t & 15];
}

/* PUBACK, PUBREC, PUBCOMP for a publisher; PUBREL for a QoS 2 subscriber. */
static int on_ack(struct conn *c, const struct sl_frame *f, const uint8_t *body)
{
    struct loop *l = c->loop;
    struct sl_ack a;
    int rc = sl_decode_ack(body, f->remaining, l->o->version, &a);
    if (rc != SL_OK) {
        conn_fail(c, "malformed %s: %s", ptype_name(f->type), sl_strerror(rc));
        return -1;
    }
    if (f->type == SL_PT_PUBREL) {
        struct sub_state *s = c->sub;
        if (s && s->qos2_wait) {
            uint64_t *w = &s->qos2_wait[a.packet_id / 64];
            uint64_t bit = 1ull << (a.packet_id % 64);
            if (*w & bit) {
                *w &= ~bit;
                s->qos2_inflight--;
                l->inflight--;
            }
        }
        /* Unknown ids are answered too [MQTT-4.3.3-11]. */
        queue_ack(c, SL_PT_PUBCOMP, a.packet_id);
        return 0;
    }

    struct pub_state *p = c->pub;
    uint8_t want = f->type == SL_PT_PUBACK   ? SLOT_WAIT_PUBACK
                   : f->type == SL_PT_PUBREC ? SLOT_WAIT_PUBREC
                                             : SLOT_WAIT_PUBCOMP;
    if (!p || !p->slot || a.packet_id == 0 || a.packet_id > p->window ||
        p->slot[a.packet_id - 1] != want) {
        l->c.proto_errors++;
        loop_error(l, "%s %u: %s for packet id %u, which is not waiting for one", role_name(c),
                   c->index, ptype_name(f->type), a.packet_id);
        return 0;
    }
    switch (f->type) {
    case SL_PT_PUBACK:
        if (a.reason >= 0x80)
            l->c.rejected++;
        else
            l->c.acked++;
        free_id(c, a.packet_id);
        break;
    case SL_PT_PUBREC:
        if (a.reason >= 0x80) { /* the flow ends here in 5.0 */
            l->c.rejected++;
            free_id(c, a.packet_id);
            break;
        }
        p->slot[a.packet_id - 1] = SLOT_WAIT_PUBCOMP;
        queue_ack(c, SL_PT_PUBREL, a.packet_id);
        break;
    default: /* PUBCOMP */
        l->c.acked++;
        free_id(c, a.packet_id);
        break;
    }
    return 0;
}

static int on_disconnect(struct conn *c, const uint8_t *body, size_t len)
{
    struct sl_disconnect d = {0};
    if (sl_decode_disconnect(body, len, c->loop->o->version, &d) != SL_OK) d.reason = 0xff;
    conn_fail(c, "DISCONNECT from the broker, reason 0x%02x", d.reason);
    return -1;
}

static int conn_dispatch(struct conn *c, const struct sl_frame *f, const uint8_t *body, int64_t now)
{
    switch (f->type) {
    case SL_PT_PUBLISH:
        return on_publish(c, f, body, now);
    case SL_PT_PUBACK:
    case SL_PT_PUBREC:
    case SL_PT_PUBREL:
    case SL_PT_PUBCOMP:
        return on_ack(c, f, body);
    case SL_PT_CONNACK:
        return on_connack(c, body, f->remaining, now);
    case SL_PT_SUBACK:
        return on_suback(c, body, f->remaining, now);
    case SL_PT_PINGRESP:
        return 0;
    case SL_PT_DISCONNECT:
        return on_disconnect(c, body, f->remaining);
    default:
        conn_fail(c, "unexpected %s from the broker", ptype_name(f->type));
        return -1;
    }
}

static void pause_input(struct conn *c)
{
    if (c->in_paused) return;
    c->in_paused = true;
    if (loop_update_events(c->loop, c) != 0) conn_fail(c, "epoll_ctl: %s", strerror(errno));
}

/* Handles every complete packet in buf[0..len); returns the bytes consumed. Stops
 * early when replies have no room (input paused) or the connection failed. */
static size_t conn_parse(struct conn *c, const uint8_t *buf, size_t len, int64_t now)
{
    size_t off = 0;
    while (off < len) {
        struct sl_frame f;
        int rc = sl_frame_parse(buf + off, len - off, &f);
        if (rc == SL_NEED_MORE) break;
        if (rc != SL_OK) {
            conn_fail(c, "malformed fixed header from the broker");
            break;
        }
        size_t total = f.header_len + (size_t)f.remaining;
        if (len - off < total) break;
        if (!wbuf_reserve(c, 16)) {
            pause_input(c);
            break;
        }
        if (conn_dispatch(c, &f, buf + off + f.header_len, now) < 0) break;
        off += total;
    }
    return off;
}

static void keep_tail(struct conn *c, const uint8_t *p, size_t n)
{
    if (n == 0) {
        c->carry_len = 0;
        return;
    }
    if (!carry_reserve(c, n)) {
        conn_fail(c, "out of memory");
        return;
    }
    memmove(c->carry, p, n);
    c->carry_len = (uint32_t)n;
}

static bool recv_failed(struct conn *c, ssize_t n)
{
    if (n > 0) return false;
    if (n == 0) {
        conn_fail(c, "connection closed by the broker");
        return true;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
    conn_fail(c, "recv: %s", strerror(errno));
    return true;
}

/* A packet larger than LOOP_BIG_PACKET: read the rest of it into the carry. */
static void read_big(struct conn *c, size_t total)
{
    if (!carry_reserve(c, total)) {
        conn_fail(c, "out of memory for a %zu-byte packet", total);
        return;
    }
    ssize_t n = recv(c->fd, c->carry + c->carry_len, total - c->carry_len, 0);
    if (recv_failed(c, n)) return;
    c->carry_len += (uint32_t)n;
    if (c->carry_len < total) return;
    size_t used = conn_parse(c, c->carry, total, bench_now());
    if (c->fd >= 0 && used == total) c->carry_len = 0;
}

static void conn_read(struct conn *c)
{
    struct loop *l = c->loop;
    if (c->carry_len >= 2) {
        struct sl_frame f;
        if (sl_frame_parse(c->carry, c->carry_len, &f) == SL_OK) {
            size_t total = f.header_len + (size_t)f.remaining;
            if (total > LOOP_BIG_PACKET) {
                read_big(c, total);
                return;
            }
        }
    }
    /* Not paused, so the carry holds at most one incomplete packet under
     * LOOP_BIG_PACKET: it fits in front of the read chunk. */
    if (c->carry_len) memcpy(l->scratch, c->carry, c->carry_len);
    ssize_t n = recv(c->fd, l->scratch + c->carry_len, LOOP_READ_CHUNK, 0);
    if (recv_failed(c, n)) return;
    size_t len = c->carry_len + (size_t)n;
    size_t used = conn_parse(c, l->scratch, len, bench_now());
    if (c->fd >= 0) keep_tail(c, l->scratch + used, len - used);
}

/* After a pause: handle the complete packets left in the carry. */
static void resume_input(struct conn *c, int64_t now)
{
    c->in_paused = false;
    if (loop_update_events(c->loop, c) != 0) {
        conn_fail(c, "epoll_ctl: %s", strerror(errno));
        return;
    }
    size_t used = conn_parse(c, c->carry, c->carry_len, now);
    if (c->fd >= 0) keep_tail(c, c->carry + used, c->carry_len - used);
}

void conn_flush(struct conn *c, int64_t now)
{
    if (c->fd < 0 || c->state == CS_CONNECTING) return;
    if (c->woff < c->wlen) {
        ssize_t n;
        do
            n = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                set_out(c, true);
            else
                conn_fail(c, "send: %s", strerror(errno));
            return;
        }
        c->woff += (uint32_t)n;
        c->last_tx = now;
        if (c->woff < c->wlen) {
            set_out(c, true); /* partial: the socket is full */
            return;
        }
    }
    c->woff = c->wlen = 0;
    set_out(c, false);
    if (c->in_paused && c->fd >= 0) resume_input(c, now);
}

void conn_on_event(struct conn *c, uint32_t ev, int64_t now)
{
    if (c->fd < 0) return;
    if (c->state == CS_CONNECTING) {
        int err = 0;
        socklen_t sl = sizeof(err);
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0) err = errno;
        if (err) {
            conn_fail(c, "connect to %s:%u: %s%s", c->loop->o->host, c->loop->o->port,
                      strerror(err),
                      err == EADDRNOTAVAIL ? " (out of ephemeral ports? try --source-addrs)" : "");
            return;
        }
        if (!(ev & EPOLLOUT)) return;
        c->state = CS_WAIT_CONNACK;
        conn_flush(c, now);
        return;
    }
    if ((ev & EPOLLIN) && !c->in_paused) {
        conn_read(c);
    } else if (ev & (EPOLLERR | EPOLLHUP)) {
        int err = 0;
        socklen_t sl = sizeof(err);
        (void)getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
        conn_fail(c, "connection lost: %s", err ? strerror(err) : "hang-up");
        return;
    }
    if (c->fd >= 0 && (ev & EPOLLOUT)) conn_flush(c, now);
}

int64_t conn_publish(struct conn *c, int64_t now)
{
    struct pub_state *p = c->pub;
    struct loop *l = c->loop;
    const struct bench_opts *o = l->o;
    if (c->state != CS_READY || p->sent_all) return INT64_MAX;
    if (now < l->ctl->t_go) return l->ctl->t_go;
    int64_t t_me = atomic_load_explicit(&l->ctl->t_me, memory_order_relaxed);
    if (now >= t_me) {
        mark_sent_all(c);
        return INT64_MAX;
    }
    if (c->out_armed) return INT64_MAX; /* EPOLLOUT wakes us */

    uint64_t n = o->count ? o->count - p->seq : UINT64_MAX;
    int64_t start = l->ctl->t_go + p->offset_ns;
    double ns_per_msg = o->rate > 0 ? 1e9 / o->rate : 0;
    if (o->rate > 0) {
        if (now < start) return start;
        uint64_t due = (uint64_t)((double)(now - start) / ns_per_msg) + 1;
        if (due <= p->seq) return start + (int64_t)((double)p->seq * ns_per_msg);
        if (due - p->seq < n) n = due - p->seq;
    }
    if (o->qos) {
        uint32_t room = p->window - p->inflight;
        if (room == 0) return INT64_MAX; /* an acknowledgement wakes us */
        if (room < n) n = room;
    }
    uint32_t pending = c->wlen - c->woff;
    uint64_t fit = pending >= GEN_LIMIT ? 0 : (GEN_LIMIT - pending) / p->tmpl_len;
    if (fit == 0 && pending == 0) fit = 1; /* one packet larger than GEN_LIMIT */
    if (fit == 0) return now;              /* after this iteration's flush */
    if (fit < n) n = fit;
    if (!wbuf_reserve(c, (size_t)n * p->tmpl_len)) {
        conn_fail(c, "out of memory");
        return INT64_MAX;
    }

    now = bench_now(); /* the send time stamped into these messages */
    uint8_t *w = c->wbuf + c->wlen;
    uint64_t stamp = (uint64_t)now;
    for (uint64_t i = 0; i < n; i++) {
        memcpy(w, p->tmpl, p->tmpl_len);
        if (o->qos) {
            uint16_t pid = p->free_ids[p->free_head];
            p->free_head = (p->free_head + 1) % p->window;
            p->free_count--;
            p->slot[pid - 1] = o->qos == 1 ? SLOT_WAIT_PUBACK : SLOT_WAIT_PUBREC;
            sl_encode_u16(w + p->pid_off, pid);
        }
        uint8_t *h = w + p->payload_off;
        memcpy(h, &p->seq, 8);
        memcpy(h + 8, &c->index, 4);
        memcpy(h + 12, &stamp, 8);
        p->seq++;
        w += p->tmpl_len;
    }
    c->wlen += (uint32_t)(n * p->tmpl_len);
    if (o->qos) {
        p->inflight += (uint32_t)n;
        l->inflight += n;
    }
    l->c.published += n;
    l->c.expected += n * p->nmatch;
    if (now >= l->ctl->t_ms && now < t_me) l->c.published_win += n;
    l->c.last_publish_ns = now;
    loop_mark_dirty(l, c);

    if (o->count && p->seq >= o->count) {
        mark_sent_all(c);
        return INT64_MAX;
    }
    if (o->qos && p->inflight == p->window) return INT64_MAX;
    if (o->rate > 0) return start + (int64_t)((double)p->seq * ns_per_msg);
    return now;
}

void conn_tick(struct conn *c, int64_t now)
{
    const struct bench_opts *o = c->loop->o;
    if (c->fd < 0) return;
    if (c->state != CS_READY) {
        if (now - c->t_open > (int64_t)(o->connect_timeout * 1e9)) {
            const char *what = c->state == CS_CONNECTING     ? "TCP connect"
                               : c->state == CS_WAIT_CONNACK ? "CONNACK"
                                                             : "SUBACK";
            conn_fail(c, "no %s within %.0f s", what, o->connect_timeout);
        }
        return;
    }
    /* PINGREQ at half the keepalive when nothing else was sent [MQTT-3.1.2-23]. */
    if (o->keepalive && now - c->last_tx >= (int64_t)o->keepalive * BENCH_NS / 2 &&
        wbuf_reserve(c, 2)) {
        static const uint8_t pingreq[2] = {0xc0, 0x00};
        queue_bytes(c, pingreq, 2);
        c->last_tx = now; /* one ping per half period even if the send waits */
    }
}

void conn_close(struct conn *c)
{
    if (c->fd < 0) return;
    int unsent = 0;
    if (ioctl(c->fd, SIOCOUTQ, &unsent) != 0) unsent = 0;
    if (c->wlen > c->woff || unsent > 0) {
        /* Output the broker never read: reset the connection. A plain close()
         * would let the kernel deliver it after we exit, into the next run. */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        (void)setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    } else if (c->state == CS_READY) {
        uint8_t d[SL_DISCONNECT311_SIZE];
        size_t n = sl_encode_disconnect311(d);
        (void)send(c->fd, d, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    close(c->fd);
    c->fd = -1;
    c->state = CS_CLOSED;
}

void conn_free(struct conn *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    free(c->wbuf);
    free(c->carry);
    if (c->pub) {
        free(c->pub->tmpl);
        free(c->pub->slot);
        free(c->pub->free_ids);
        free(c->pub);
    }
    if (c->sub) {
        free(c->sub->filter);
        free(c->sub->pairs);
        free(c->sub->qos2_wait);
        free(c->sub);
    }
}

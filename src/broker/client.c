/* client.c - see client.h for the life cycle and the read-buffer strategy. */
#include "broker/client.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "broker/auth.h"
#include "broker/config.h"
#include "broker/handlers.h"
#include "broker/msg.h"
#include "broker/route.h"
#include "broker/server.h"
#include "broker/send.h"
#include "broker/session.h"
#include "broker/topic_alias.h"
#include "broker/worker.h"
#include "core/error.h"
#include "core/log.h"
#include "proto/decode.h"
#include "proto/frame.h"
#include "proto/reason.h"
#include "store/store.h"

/* dispatch(): the CONNECT belongs to a session homed on another worker. */
#define HANDOFF 100

/* The largest CONNECT accepted: fixed header (5), variable header (10), five
 * fields of at most 2 + 65,535 bytes (client id, will topic, will payload, user
 * name, password) and, for 5.0, up to 64 KiB each of CONNECT and will
 * properties - more than any real client sends, and a bound on what a peer can
 * make the broker buffer before it knows who the peer is. */
#define CONNECT_MAX_SIZE (5 + 10 + 5 * (2 + 65535) + 2 * (4 + 65536))

/* Reads per readiness event before letting other connections run. */
#define READS_PER_EVENT 4

static void on_timer(struct sl_timer *t, uint64_t now_ms);

static void link_client(struct worker *w, struct client *c)
{
    c->w = w;
    c->prev = NULL;
    c->next = w->clients;
    if (w->clients) w->clients->prev = c;
    w->clients = c;
    w->nclients++;
}

static void unlink_client(struct worker *w, struct client *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        w->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    w->nclients--;
}

static int watch(struct client *c, int op, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    int rc = epoll_ctl(c->w->epfd, op, c->conn.fd, &ev);
    if (rc == 0 && op == EPOLL_CTL_ADD) c->watched = true;
    return rc;
}

struct client *client_new(struct worker *w, int fd, const struct sl_peer *peer, uint16_t listener)
{
    struct client *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return NULL;
    }
    c->conn.tp = &sl_tcp_transport;
    c->conn.fd = fd;
    c->state = CLIENT_CONNECTING;
    c->version = SL_MQTT_311;
    c->listener = listener;
    c->timer.fire = on_timer;
    c->last_rx_ms = w->now_ms;
    c->peer = *peer;
    link_client(w, c);
    client_arm_keepalive(c);
    /* Read before watching: a client speaks first, and its CONNECT has usually
     * arrived by now (always, where the listener defers accept until data). That
     * saves an epoll round, and a hand-off to the client id's home worker then
     * never touches this worker's epoll set. */
    client_on_readable(c);
    if (c->state == CLIENT_CLOSED || c->w != w) return c;
    if (watch(c, EPOLL_CTL_ADD, EPOLLIN) < 0) {
        sl_error("epoll_ctl: %s", strerror(errno));
        client_close(c, "cannot watch the socket");
    }
    return c;
}

void client_arm_keepalive(struct client *c)
{
    struct worker *w = c->w;
    if (c->state == CLIENT_CONNECTING || c->state == CLIENT_AUTHENTICATING) {
        sl_wheel_add(&w->wheel, &c->timer,
                     c->last_rx_ms + (uint64_t)w->srv->cfg->connect_timeout * 1000);
    } else if (c->keepalive) {
        sl_wheel_add(&w->wheel, &c->timer, c->last_rx_ms + (uint64_t)c->keepalive * 1500);
    } else {
        sl_wheel_del(&w->wheel, &c->timer);
    }
}

static void on_timer(struct sl_timer *t, uint64_t now_ms)
{
    struct client *c = sl_timer_owner(t, struct client, timer);
    if (c->state == CLIENT_CONNECTING || c->state == CLIENT_AUTHENTICATING) {
        client_close(c, "no CONNECT in time");
        return;
    }
    uint64_t limit = (uint64_t)c->keepalive * 1500; /* [MQTT-3.1.2-24] */
    if (now_ms - c->last_rx_ms >= limit)
        client_disconnect(c, SL_RC_KEEP_ALIVE_TIMEOUT, "keepalive timeout");
    else
        client_arm_keepalive(c);
}

/* ---- input -------------------------------------------------------------- */

/* Home worker of the client id in a CONNECT body; this worker when the CONNECT
 * is bad (it is refused here) or has no id (one is assigned here). */
static int home_for_connect(struct client *c, const uint8_t *body, size_t len)
{
    struct sl_connect cn;
    if (sl_decode_connect(body, len, &cn) != SL_OK || cn.client_id.len == 0) return c->w->idx;
    return server_home_of(c->w->srv, cn.client_id.ptr, cn.client_id.len);
}

static int dispatch(struct client *c, const struct sl_frame *f, const uint8_t *body)
{
    size_t len = f->remaining;
    stat_add(&c->w->stats.packets_received, 1);
    if (c->state == CLIENT_CONNECTING) {
        if (f->type != SL_PT_CONNECT) return SL_EPROTO; /* [MQTT-3.1.0-1] */
        if (home_for_connect(c, body, len) != c->w->idx) return HANDOFF;
        return handle_connect(c, body, len);
    }
    if (c->state == CLIENT_AUTHENTICATING) {
        /* Between CONNECT and CONNACK only the exchange may go on (5.0 §4.12). */
        if (f->type == SL_PT_AUTH) return handle_auth(c, body, len);
        if (f->type == SL_PT_DISCONNECT) return handle_disconnect(c, body, len);
        return SL_EPROTO;
    }
    switch (f->type) {
    case SL_PT_CONNECT:
        return SL_EPROTO; /* a second CONNECT [MQTT-3.1.0-2] */
    case SL_PT_PUBLISH:
        return handle_publish(c, f->flags, body, len);
    case SL_PT_PUBACK:
        return handle_puback(c, body, len);
    case SL_PT_PUBREC:
        return handle_pubrec(c, body, len);
    case SL_PT_PUBREL:
        return handle_pubrel(c, body, len);
    case SL_PT_PUBCOMP:
        return handle_pubcomp(c, body, len);
    case SL_PT_SUBSCRIBE:
        return handle_subscribe(c, body, len);
    case SL_PT_UNSUBSCRIBE:
        return handle_unsubscribe(c, body, len);
    case SL_PT_PINGREQ:
        return handle_pingreq(c, body, len);
    case SL_PT_DISCONNECT:
        return handle_disconnect(c, body, len);
    case SL_PT_AUTH:
        return handle_auth(c, body, len);
    default:
        return SL_EPROTO; /* reserved types (AUTH before 5.0 fails the frame check) */
    }
}

/* Handles every complete packet in buf; returns the bytes consumed. Sets
 * *handoff when the connection must move to another worker (the CONNECT and
 * everything after it are left unconsumed). */
static size_t parse(struct client *c, const uint8_t *buf, size_t len, size_t *need, bool *handoff)
{
    uint32_t max = c->w->srv->cfg->max_packet_size;
    size_t off = 0;
    *need = 0;
    while (off < len && c->state != CLIENT_CLOSED && !c->close_after_flush) {
        struct sl_frame f;
        int rc = sl_frame_parse(buf + off, len - off, &f);
        if (rc == SL_NEED_MORE) break;
        if (rc != SL_OK) {
            client_close(c, "malformed remaining length");
            break;
        }
        /* Type and flags are checked as soon as the fixed header is in, so garbage
         * (an HTTP request, say) is refused without waiting for a body. */
        if (sl_frame_check_server_inbound(&f, c->version) != SL_OK) {
            client_close(c, "invalid packet type or flags"); /* [MQTT-2.2.2-2] */
            break;
        }
        size_t total = (size_t)f.header_len + f.remaining;
        /* Checked before buffering the body, so a peer cannot make us hold more
         * than max_packet_size for it - nor, before CONNECT, more than the
         * largest CONNECT there can be. */
        if (c->state == CLIENT_CONNECTING && total > CONNECT_MAX_SIZE) {
            client_close(c, "first packet larger than any CONNECT");
            break;
        }
        if (max && total > max) {
            client_disconnect(c, SL_RC_PACKET_TOO_LARGE, "packet larger than max_packet_size");
            break;
        }
        if (len - off < total) {
            *need = total;
            break;
        }
        rc = dispatch(c, &f, buf + off + f.header_len);
        if (rc == HANDOFF) {
            *handoff = true;
            break;
        }
        off += total;
        if (rc < 0) {
            const char *peer = SL_PEER_STR(&c->peer);
            sl_info("closing %s (%s): %s", c->session ? c->session->id : peer, peer,
                    sl_strerror(rc));
            uint8_t reason = c->dc_reason;
            if (!reason)
                reason = rc == SL_EMALFORMED ? SL_RC_MALFORMED_PACKET
                         : rc == SL_ENOMEM   ? SL_RC_UNSPECIFIED_ERROR
                                             : SL_RC_PROTOCOL_ERROR;
            client_disconnect(c, reason, sl_strerror(rc));
            break;
        }
    }
    return off;
}

static bool rbuf_reserve(struct client *c, size_t want)
{
    if (c->rcap >= want) return true;
    if (want > UINT32_MAX) return false; /* beyond any packet size (268 MB) */
    uint8_t *b = realloc(c->rbuf, want);
    if (!b) return false;
    c->rbuf = b;
    c->rcap = (uint32_t)want;
    return true;
}

/* Capacity for a partial packet: what it needs, grown at most 64 KiB past the
 * bytes actually received, so a claimed size alone never allocates. */
static size_t rbuf_target(const struct client *c, size_t have, size_t need)
{
    size_t step = have + WORKER_SCRATCH_SIZE;
    if (need == 0) need = have + 4096;
    return need < step ? need : step;
}

static void hand_off(struct client *c)
{
    struct worker *w = c->w;
    const uint8_t *body;
    struct sl_frame f;
    sl_frame_parse(c->rbuf, c->rlen, &f);
    body = c->rbuf + f.header_len;
    int dst = home_for_connect(c, body, f.remaining);
    if (c->watched) epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->conn.fd, NULL);
    c->watched = false;
    sl_wheel_del(&w->wheel, &c->timer);
    unlink_client(w, c);
    c->w = NULL;
    struct item it = {.kind = ITEM_ADOPT, .client = c};
    worker_post(w, dst, &it);
}

/* Handles what sits in c->rbuf; keeps the unconsumed rest at its front. */
static void process_rbuf(struct client *c)
{
    size_t need;
    bool handoff = false;
    size_t used = parse(c, c->rbuf, c->rlen, &need, &handoff);
    if (c->state == CLIENT_CLOSED) return;
    memmove(c->rbuf, c->rbuf + used, c->rlen - used);
    c->rlen -= used;
    if (handoff) {
        hand_off(c);
        return;
    }
    if (c->rlen == 0) {
        free(c->rbuf); /* idle connections hold no read buffer */
        c->rbuf = NULL;
        c->rcap = 0;
    } else if (!rbuf_reserve(c, rbuf_target(c, c->rlen, need))) {
        client_close(c, "out of memory");
    }
}

void client_on_readable(struct client *c)
{
    struct worker *w = c->w;
    for (int round = 0; round < READS_PER_EVENT; round++) {
        if (c->state == CLIENT_CLOSED || c->close_after_flush || !c->w) return;
        uint8_t *dst;
        size_t room;
        if (c->rlen) {
            if (c->rcap == c->rlen && !rbuf_reserve(c, rbuf_target(c, c->rlen, 0))) {
                client_close(c, "out of memory");
                return;
            }
            dst = c->rbuf + c->rlen;
            room = c->rcap - c->rlen;
        } else {
            dst = w->scratch;
            room = WORKER_SCRATCH_SIZE;
        }
        ssize_t n = c->conn.tp->read(&c->conn, dst, room);
        if (n == 0) {
            client_close(c, "closed by peer");
            return;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) client_close(c, "read error");
            return;
        }
        c->last_rx_ms = w->now_ms;
        stat_add(&w->stats.bytes_received, (uint64_t)n);
        if (c->rlen) {
            c->rlen += (uint32_t)n;
            process_rbuf(c);
        } else {
            size_t need;
            bool handoff = false;
            size_t used = parse(c, dst, (size_t)n, &need, &handoff);
            if (c->state == CLIENT_CLOSED || c->close_after_flush) return;
            if (used < (size_t)n) {
                size_t rest = (size_t)n - used;
                if (!rbuf_reserve(c, handoff ? rest : rbuf_target(c, rest, need))) {
                    client_close(c, "out of memory");
                    return;
                }
                memcpy(c->rbuf, dst + used, rest);
                c->rlen = (uint32_t)rest;
                if (handoff) {
                    hand_off(c);
                    return;
                }
            }
        }
        if ((size_t)n < room) return; /* the socket is drained */
    }
}

void client_adopt(struct worker *w, struct client *c)
{
    link_client(w, c);
    if (watch(c, EPOLL_CTL_ADD, EPOLLIN) < 0) {
        sl_error("epoll_ctl: %s", strerror(errno));
        c->state = CLIENT_CLOSED;
        c->conn.tp->close(&c->conn);
        atomic_fetch_sub(&w->srv->conns[c->listener], 1);
        unlink_client(w, c);
        c->closed_next = w->closed_head;
        w->closed_head = c;
        return;
    }
    client_arm_keepalive(c);
    process_rbuf(c);
}

/* ---- close -------------------------------------------------------------- */

void client_close(struct client *c, const char *why)
{
    struct worker *w = c->w;
    if (c->state == CLIENT_CLOSED) return;
    bool was_connected = c->state == CLIENT_CONNECTED;
    c->state = CLIENT_CLOSED;
    if (was_connected) stat_sub(&w->stats.clients_connected, 1);
    /* No EPOLL_CTL_DEL: closing the socket below takes it out of the epoll set,
     * as it is never duplicated; events already taken for it are why c itself
     * is freed only at the end of the iteration. */
    sl_wheel_del(&w->wheel, &c->timer);
    /* Best effort for what is already queued (a refusing CONNACK, say). */
    if (c->out.bytes) client_flush(c);
    c->conn.tp->close(&c->conn);
    atomic_fetch_sub(&w->srv->conns[c->listener], 1);

    struct session *s = c->session;
    if (was_connected && w->srv->cfg->connection_messages)
        sl_notice("Client %s disconnected: %s.", s ? s->id : "?", why);
    else
        sl_debug("connection from %s closed: %s", SL_PEER_STR(&c->peer), why);
    /* The will goes unless the client sent DISCONNECT [MQTT-3.1.2-8]
     * [MQTT-3.1.2-10] (5.0: with reason 0x00, handle_disconnect.c). */
    struct sl_msg *will = c->will;
    c->will = NULL;
    if (c->disconnected) {
        sl_msg_unref(will);
        will = NULL;
    }
    if (s) {
        s->client = NULL;
        session_set_online(s, false, w->now_ms);
        c->session = NULL;
        session_detach(s, will, c->will_delay_s); /* takes the will */
    } else if (will) {
        route_publish_will(w, will);
    }
    unlink_client(w, c);
    c->closed_next = w->closed_head;
    w->closed_head = c;
}

void client_disconnect(struct client *c, uint8_t reason, const char *why)
{
    if (c->state == CLIENT_CONNECTED && c->version == SL_MQTT_5 && !c->awaiting_connack &&
        !c->close_after_flush)
        send_disconnect(c, reason, why);
    client_close(c, why);
}

int client_fail(struct client *c, uint8_t reason)
{
    c->dc_reason = reason;
    return reason == SL_RC_MALFORMED_PACKET ? SL_EMALFORMED : SL_EPROTO;
}

void client_free(struct client *c)
{
    sl_outq_clear(&c->out);
    topic_aliases_free(c->aliases);
    auth_exchange_free(c->auth);
    if (c->conn.fd >= 0) c->conn.tp->close(&c->conn);
    sl_msg_unref(c->will);
    for (uint32_t i = 0; c->held && i < c->held->n; i++)
        if (c->held->v[i].blocker) session_unref(c->held->v[i].blocker);
    free(c->rbuf);
    free(c->held);
    free(c);
}

/* ---- output ------------------------------------------------------------- */

int client_send(struct client *c, const void *p, size_t n)
{
    int rc = sl_outq_append(&c->out, p, n);
    worker_want_flush(c->w, c);
    return rc;
}

uint8_t *client_reserve(struct client *c, size_t n)
{
    return sl_outq_reserve(&c->out, n);
}

void client_commit(struct client *c, size_t n)
{
    sl_outq_commit(&c->out, n);
    worker_want_flush(c->w, c);
}

int client_send_ref(struct client *c, const void *p, size_t n, struct sl_msg *owner)
{
    int rc = sl_outq_append_ref(&c->out, p, n, sl_msg_release, owner);
    worker_want_flush(c->w, c);
    return rc;
}

int client_send_held(struct client *c, const void *p, size_t n)
{
    return client_send_held_after(c, p, n, NULL, false);
}

static uint8_t *held_bytes(struct held_acks *h)
{
    return (uint8_t *)(h->v + h->cap_n);
}

/* Room in c->held for one more ack of n bytes. False on ENOMEM, nothing changed. */
static bool held_reserve(struct client *c, size_t n)
{
    struct held_acks *h = c->held;
    uint32_t count = h ? h->n : 0, cap_n = h ? h->cap_n : 0;
    uint32_t len = h ? h->len : 0, cap = h ? h->cap : 0;
    if (h && count < cap_n && len + n <= cap) return true;
    if (n > UINT32_MAX / 4 || len + n > UINT32_MAX / 4) return false;
    uint32_t new_n = cap_n;
    if (count == cap_n) new_n = cap_n ? cap_n * 2 : 8; /* the entries are full */
    uint32_t new_cap = cap ? cap : 64;
    while (new_cap < len + n)
        new_cap *= 2;
    struct held_acks *g = malloc(sizeof(*g) + new_n * sizeof(g->v[0]) + new_cap);
    if (!g) return false;
    g->n = count;
    g->cap_n = new_n;
    g->len = len;
    g->cap = new_cap;
    if (h) {
        memcpy(g->v, h->v, count * sizeof(g->v[0]));
        memcpy(held_bytes(g), held_bytes(h), len);
        free(h);
    }
    c->held = g;
    return true;
}

int client_send_held_after(struct client *c, const void *p, size_t n, struct session *blocker,
                           bool qos1_in)
{
    struct worker *w = c->w;
    int rc = SL_ENOMEM;
    if (!held_reserve(c, n)) goto out;
    struct held_acks *hs = c->held;
    memcpy(held_bytes(hs) + hs->len, p, n);
    hs->len += (uint32_t)n;
    struct held_ack *h = &hs->v[hs->n++];
    h->ticket = w->srv->store->ops->ticket(w->srv->store, w->idx);
    h->end = hs->len;
    h->blocker = blocker;
    h->since_ms = w->now_ms;
    h->qos1_in = qos1_in;
    blocker = NULL;
    worker_want_release(w, c);
    rc = SL_OK;
out:
    if (blocker) session_unref(blocker);
    return rc;
}

/* May this held ack go? Drops the blocker reference once it may. */
static bool held_ready(struct held_ack *h, uint64_t durable, uint64_t now_ms)
{
    if (h->ticket > durable) return false;
    if (h->blocker) {
        if (session_congested(h->blocker, now_ms) && now_ms < h->since_ms + HELD_ACK_MAX_WAIT_MS)
            return false;
        session_unref(h->blocker);
        h->blocker = NULL;
    }
    return true;
}

void client_release_held(struct client *c, uint64_t durable)
{
    struct held_acks *hs = c->held;
    uint32_t k = 0;
    while (hs && k < hs->n && held_ready(&hs->v[k], durable, c->w->now_ms))
        k++;
    if (k == 0) return;
    uint32_t bytes = hs->v[k - 1].end;
    for (uint32_t i = 0; i < k; i++)
        if (hs->v[i].qos1_in && c->qos1_in) c->qos1_in--;
    if (client_send(c, held_bytes(hs), bytes) != SL_OK) {
        client_close(c, "out of memory");
        return;
    }
    if (k == hs->n) {
        free(hs);
        c->held = NULL;
    } else {
        memmove(held_bytes(hs), held_bytes(hs) + bytes, hs->len - bytes);
        hs->len -= bytes;
        for (uint32_t i = k; i < hs->n; i++) {
            hs->v[i - k] = hs->v[i];
            hs->v[i - k].end -= bytes;
        }
        hs->n -= k;
    }
    if (c->awaiting_connack) {
        /* The CONNACK was the first held ack and is out: the session may send. */
        c->awaiting_connack = false;
        if (c->session) session_resume(c->session);
    }
}

static ssize_t conn_writev(void *ctx, const struct iovec *iov, int iovcnt)
{
    struct sl_conn *cn = ctx;
    return cn->tp->writev(cn, iov, iovcnt);
}

void client_flush(struct client *c)
{
    if (c->conn.fd < 0) return;
    size_t before = c->out.bytes;
    int rc = sl_outq_flush(&c->out, conn_writev, &c->conn);
    if (c->w) stat_add(&c->w->stats.bytes_sent, before - c->out.bytes);
    if (c->state == CLIENT_CLOSED) return; /* the final flush from client_close */
    if (rc == SL_AGAIN) {
        /* A refused client is not read any more: wait for writability only, or
         * level-triggered EPOLLIN would spin on whatever it still sends. */
        uint32_t ev = c->close_after_flush ? EPOLLOUT : EPOLLIN | EPOLLOUT;
        if (!c->epollout && watch(c, EPOLL_CTL_MOD, ev) == 0) c->epollout = true;
        return;
    }
    if (rc != SL_OK) {
        client_close(c, "write error");
        return;
    }
    if (c->epollout && watch(c, EPOLL_CTL_MOD, EPOLLIN) == 0) c->epollout = false;
    if (c->close_after_flush) client_close(c, "connection refused");
}

void client_on_writable(struct client *c)
{
    if (c->state != CLIENT_CLOSED) client_flush(c);
}

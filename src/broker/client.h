/*
 * client.h - one network connection and its MQTT protocol state, owned by one
 * worker at a time.
 *
 * Life cycle:
 *
 *   accept -> CONNECTING --CONNECT--> (moved to the session's home worker)
 *          [-> AUTHENTICATING --AUTH ... --> ]   5.0 enhanced authentication
 *          -> CONNECTED --DISCONNECT / error / keepalive / takeover--> CLOSED
 *
 * Closing only unlinks (epoll, timer, session, flush lists) and publishes the
 * will; the struct is freed at the end of the worker's loop iteration, so a
 * handler or a pending event holding a pointer never sees freed memory.
 *
 * Reading: bytes are read into the worker's scratch buffer and packets parsed
 * from there; only an incomplete tail is copied into the client's own buffer, so
 * an idle connection holds no read buffer at all.
 */
#ifndef SL_BROKER_CLIENT_H
#define SL_BROKER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/outq.h"
#include "core/timer_wheel.h"
#include "net/conn.h"
#include "net/peer.h"

struct session;
struct sl_msg;
struct worker;
struct topic_aliases;
struct auth_exchange;

enum client_state {
    CLIENT_CONNECTING,
    CLIENT_AUTHENTICATING, /* 5.0: CONNECT in, AUTH exchange under way, no CONNACK yet */
    CLIENT_CONNECTED,
    CLIENT_CLOSED
};

struct held_ack {
    uint64_t ticket;
    uint32_t end;            /* offset in the held bytes just past this ack */
    struct session *blocker; /* back-pressure: wait while it is congested (a reference) */
    uint64_t since_ms;
    bool qos1_in; /* a PUBACK: releasing it frees a slot of the Receive Maximum */
};

/* Acks waiting for their store ticket (and for congested subscribers), in one
 * block allocated only while any are held: the entries, then their bytes. */
struct held_acks {
    uint32_t n, cap_n;   /* entries, room for entries */
    uint32_t len, cap;   /* bytes, room for bytes */
    struct held_ack v[]; /* cap_n entries, then cap bytes */
};

/* Longest a publisher's ack waits for a congested subscriber: past this, the
 * message stays queued or is dropped by the queue limit as usual. */
#define HELD_ACK_MAX_WAIT_MS 2000

struct client {
    /* Fields are ordered to leave no padding: every connection has one. */
    struct sl_conn conn;
    struct worker *w;
    struct session *session;
    enum client_state state;
    uint8_t version;   /* protocol level from CONNECT */
    uint8_t dc_reason; /* 5.0: reason the error path puts in its DISCONNECT; 0: derived */
    uint16_t listener; /* index into the configured listeners */
    bool disconnected; /* DISCONNECT received: no will */
    bool close_after_flush;
    bool watched;  /* in its worker's epoll set */
    bool epollout; /* EPOLLOUT armed after a partial write */
    bool on_flush_list;
    bool on_held_list;
    bool awaiting_connack; /* CONNACK held: nothing else may be sent before it */
    bool problem_info;     /* 5.0 Request Problem Information (default 1): reason strings */
    uint16_t keepalive;
    uint16_t recv_max;     /* 5.0: the client's Receive Maximum: caps our window; 0: none */
    uint16_t qos1_in;      /* inbound QoS 1 whose PUBACK is not out yet */
    struct sl_peer peer;   /* remote address, for logs */
    uint32_t max_packet;   /* 5.0: the client's Maximum Packet Size; 0: none */
    uint32_t will_delay_s; /* 5.0: Will Delay Interval */
    uint64_t last_rx_ms;
    struct sl_timer timer; /* CONNECT deadline, then keepalive */

    uint8_t *rbuf; /* incomplete packet bytes; NULL when none */
    uint32_t rlen, rcap;

    struct sl_outq out;

    struct held_acks *held; /* NULL when no ack is held */

    struct sl_msg *will;           /* NULL: no will */
    struct topic_aliases *aliases; /* 5.0: NULL until the first alias either way */
    struct auth_exchange *auth;    /* 5.0 enhanced authentication, during CONNECT or re-auth */

    struct client *prev, *next; /* worker's client list */
    struct client *flush_next;  /* worker's list of clients with output */
    struct client *held_next;   /* worker's list of clients with held acks */
    struct client *closed_next; /* worker's deferred-free list */
};

/* A freshly accepted connection on w, with a CONNECT deadline. What it has sent
 * is read and handled at once; then it is registered with w's epoll, unless
 * that already closed it or handed it to its home worker. NULL (fd closed) only
 * when it could not be allocated; a client closed here was counted out by
 * client_close. */
struct client *client_new(struct worker *w, int fd, const struct sl_peer *peer, uint16_t listener);

/* Takes over a client handed from another worker (the CONNECT is in rbuf). */
void client_adopt(struct worker *w, struct client *c);

/* Readable: reads and handles complete packets. */
void client_on_readable(struct client *c);
/* Writable after a partial write. */
void client_on_writable(struct client *c);

/* Closes the connection (see the life cycle above). The will is published unless
 * the client sent DISCONNECT (c->disconnected) [MQTT-3.1.2-8]. */
void client_close(struct client *c, const char *why);

/* The same after telling a 5.0 client why: DISCONNECT with reason and, as
 * Reason String, why (5.0 §3.14). Before 5.0, or before the CONNACK went out
 * [MQTT-3.14.0-1], it only closes. */
void client_disconnect(struct client *c, uint8_t reason, const char *why);

/* For handlers: records the reason code for the DISCONNECT that the error path
 * sends and returns the error that closes the connection. */
int client_fail(struct client *c, uint8_t reason);

/* (Re)arms the timer: the CONNECT deadline before CONNECT, then 1.5 x keepalive
 * of silence [MQTT-3.1.2-24]. */
void client_arm_keepalive(struct client *c);

/* Output. Queues bytes and puts the client on the worker's flush list. */
int client_send(struct client *c, const void *p, size_t n);
uint8_t *client_reserve(struct client *c, size_t n);
void client_commit(struct client *c, size_t n);
int client_send_ref(struct client *c, const void *p, size_t n, struct sl_msg *owner);

/* An acknowledgement that confirms state: parked with the current store ticket
 * and released in order once it is durable (store/store.h). */
int client_send_held(struct client *c, const void *p, size_t n);
/* The same, and also not before blocker (reference taken over; may be NULL) is
 * no longer congested or HELD_ACK_MAX_WAIT_MS have passed. qos1_in marks a
 * PUBACK, which counts towards the Receive Maximum until it goes out. */
int client_send_held_after(struct client *c, const void *p, size_t n, struct session *blocker,
                           bool qos1_in);
/* Moves held acks whose ticket is <= durable into the output queue. */
void client_release_held(struct client *c, uint64_t durable);

/* Writes pending output; on a partial write arms EPOLLOUT. */
void client_flush(struct client *c);

/* Final free; only the worker's deferred-free pass calls it. */
void client_free(struct client *c);

#endif

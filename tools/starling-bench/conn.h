/*
 * conn.h - one bench client connection: its socket, buffers and MQTT state machine.
 *
 *   NEW --open--> CONNECTING --TCP up--> WAIT_CONNACK --CONNACK-->
 *        publisher / idle:                          READY
 *        subscriber:  --SUBSCRIBE--> WAIT_SUBACK --SUBACK--> READY
 *   any state --error or close by the broker--> FAILED
 *   READY --phase QUIT--> DISCONNECT sent, CLOSED
 *
 * Buffers. Input is read into the loop's shared scratch buffer (256 KB per read)
 * and parsed in place; only the tail of an incomplete packet is kept per
 * connection ('carry'), and a packet over 64 KB is read straight into the carry.
 * Output ('wbuf', data in [woff, wlen)) is appended during an iteration and sent
 * with one send() per connection at its end (loop_flush). A publisher generates
 * only while less than 64 KB (or one packet) is pending, and never while the
 * socket is full (EPOLLOUT armed), so nothing is buffered without bound. Replies
 * (PUBACK, PUBREC, PUBREL, PUBCOMP) may grow wbuf up to a hard cap; at the cap
 * the connection stops reading until its output drains.
 *
 * QoS 1/2 publishing uses packet ids 1..window only: slot[pid - 1] holds the
 * flow state and a FIFO ring holds the free ids, so an acknowledgement finds its
 * message in O(1) and no id is reused while in flight.
 */
#ifndef SL_BENCH_CONN_H
#define SL_BENCH_CONN_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
struct bench_opts;
struct seen;

enum conn_role { CONN_PUB, CONN_SUB, CONN_IDLE };

enum conn_state {
    CS_NEW,
    CS_CONNECTING,
    CS_WAIT_CONNACK,
    CS_WAIT_SUBACK,
    CS_READY,
    CS_FAILED,
    CS_CLOSED
};

/* (subscriber, publisher) delivery record: a sliding window of PAIR_WINDOW seqs.
 * Seqs below 'base' count as duplicates when they come again; a seq further than
 * the window ahead slides it (what falls out unseen stays missing: lost). */
#define PAIR_WINDOW 512
struct pair {
    uint64_t base;                   /* seqs < base are settled */
    uint64_t max_next;               /* highest seq seen + 1 */
    uint64_t bits[PAIR_WINDOW / 64]; /* bit (seq % PAIR_WINDOW) for seq in window */
};

struct pub_state {
    uint8_t *tmpl; /* the whole PUBLISH packet; patched per message */
    uint32_t tmpl_len;
    uint32_t pid_off;     /* packet id offset, QoS > 0 */
    uint32_t payload_off; /* our payload header */
    uint32_t nmatch;      /* subscribers whose filter matches the topic */
    uint64_t seq;         /* next sequence number */
    int64_t offset_ns;    /* rate schedule: staggers publishers inside 1/rate */
    bool sent_all;        /* -n count reached, or t_me passed */
    uint32_t window;      /* min(-w, broker's Receive Maximum) */
    uint32_t inflight;
    uint8_t *slot;      /* [window]: enum pub_slot */
    uint16_t *free_ids; /* ring of free packet ids */
    uint32_t free_head, free_count;
};

struct sub_state {
    char *filter;
    uint32_t npubs;
    const uint32_t *pubs; /* sorted indices of matching publishers (may be shared) */
    struct pair *pairs;   /* [npubs], parallel to pubs */
    struct seen *seen;    /* shared subscription: the group's [npubs]; NULL otherwise */
    uint64_t *qos2_wait;  /* 65536-bit set: QoS 2 ids awaiting PUBREL (QoS 2 only) */
    uint32_t qos2_inflight;
};

struct conn {
    int fd;
    uint8_t role;   /* enum conn_role */
    uint8_t state;  /* enum conn_state */
    bool out_armed; /* EPOLLOUT wanted: the socket was full (or connecting) */
    bool in_paused; /* EPOLLIN off: wbuf at its cap */
    bool dirty;     /* on the loop's flush list */
    bool in_epoll;
    uint32_t epmask; /* events currently registered */
    uint32_t index;  /* publisher, subscriber or connection index */
    uint32_t gindex; /* index over all connections: source address choice */
    struct loop *loop;
    struct conn *dirty_next;

    uint8_t *wbuf;
    uint32_t woff, wlen, wcap;
    uint8_t *carry;
    uint32_t carry_len, carry_cap;

    int64_t t_open;      /* socket() time */
    int64_t last_tx;     /* last send, for keepalive */
    uint16_t recv_max;   /* v5 CONNACK Receive Maximum (65535 when absent) */
    uint8_t max_qos;     /* v5 CONNACK Maximum QoS (2 when absent) */
    uint32_t max_packet; /* v5 CONNACK Maximum Packet Size (0: none) */

    struct pub_state *pub;
    struct sub_state *sub;
};

/* Role set-up before the run (they allocate; SL_OK or SL_ENOMEM/SL_ETOOBIG).
 * topic/filter are copied; pubs and seen (NULL unless the filter is shared) are
 * borrowed and must outlive the connection. */
int conn_pub_init(struct conn *c, const struct bench_opts *o, const char *topic, uint32_t index,
                  uint32_t nmatch, uint32_t npubs);
int conn_sub_init(struct conn *c, const struct bench_opts *o, const char *filter, uint32_t index,
                  const uint32_t *pubs, struct seen *seen, uint32_t npubs);
void conn_idle_init(struct conn *c, uint32_t index);

/* Creates the socket, starts connect() and queues CONNECT. On failure the
 * connection is FAILED (counted and reported) and -1 is returned. */
int conn_open(struct conn *c, int64_t now);
/* epoll events for this connection. */
void conn_on_event(struct conn *c, uint32_t events, int64_t now);
/* Queues the PUBLISH packets that the schedule, window and buffer allow now.
 * Returns when it wants to run next: <= now (as soon as possible), a time, or
 * INT64_MAX (only after an event: ack, writable). */
int64_t conn_publish(struct conn *c, int64_t now);
/* One send() of the pending output. */
void conn_flush(struct conn *c, int64_t now);
/* Once a second: keepalive PINGREQ, handshake deadline. */
void conn_tick(struct conn *c, int64_t now);
/* End of run: DISCONNECT if connected, close. */
void conn_close(struct conn *c);
/* Frees buffers (not the struct, nor shared 'pubs' arrays). */
void conn_free(struct conn *c);

#endif

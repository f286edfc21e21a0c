/*
 * session.h - MQTT session state, owned by one worker: its "home".
 *
 * A session's home is fixed by its client identifier: worker hash(id) % N. A
 * connection that presents that id is moved to the home worker at CONNECT, so all
 * session state (subscriptions list, inflight window, queue, QoS 2 receive state,
 * takeover) is touched by one thread only and needs no lock. Other workers reach
 * a session only through the home worker's inbox (worker.h).
 *
 * Lifetime: the home worker's session table holds one reference; every inbox item
 * and every subscription collected by another worker's match holds one more
 * (taken under the topic tree's read lock, so a session still in the tree is
 * alive). session_end() unlinks the session everywhere and marks it dead;
 * deliveries still in flight to it are dropped when they arrive; the last unref
 * frees it.
 *
 * Outbound QoS 1/2 (broker -> subscriber):
 *
 *   deliver -> [queue, FIFO, bounded] -> [inflight window, in send order] -> ack
 *
 * A message enters the window only while fewer than max_inflight_messages are
 * unacknowledged and the queue ahead of it is empty, which keeps delivery in
 * order per publisher [MQTT-4.6.0-6].
 */
#ifndef SL_BROKER_SESSION_H
#define SL_BROKER_SESSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/subids.h"
#include "core/timer_wheel.h"

struct client;
struct sl_msg;
struct worker;

struct session_sub {
    uint8_t *filter; /* as subscribed: "$share/g/f" for a shared one */
    uint16_t len;
    uint8_t qos;
    uint8_t flags;  /* TOPIC_SUB_* (topic_tree.h) */
    uint32_t subid; /* 5.0 Subscription Identifier, 0 for none */
};

/* How one message goes to one session. */
struct delivery {
    uint8_t qos; /* min(publish, granted) */
    bool retain;
    bool shared;       /* through a shared subscription only: may move to another member */
    struct subids ids; /* owned */
};

enum inflight_state {
    INFL_PUBLISHED = 0, /* PUBLISH sent; waiting for PUBACK (QoS 1) or PUBREC (QoS 2) */
    INFL_RELEASED = 1   /* QoS 2: PUBREL sent; waiting for PUBCOMP */
};

struct inflight {
    struct sl_msg *msg; /* NULL once released (QoS 2 after PUBREC) */
    uint16_t pid;
    uint8_t state;
    struct delivery d;
};

struct queued {
    struct sl_msg *msg;
    struct delivery d;
};

/* Session Expiry Interval meaning "never" (5.0 §3.1.2.11.2). */
#define SESSION_EXPIRY_NEVER UINT32_MAX

struct session {
    /* Fields are ordered to leave no padding, and the id is stored inline: one
     * allocation per session, the size of the id. */
    atomic_uint refs;
    uint32_t id_hash;
    struct worker *home;
    struct client *client; /* connected client, or NULL */
    struct session *hnext; /* home worker's session table chain */
    /* Seconds the session outlives its connection: 0 ends it with the
     * connection (3.1.1 clean session, 5.0 default), SESSION_EXPIRY_NEVER keeps
     * it until persistent_client_expiration, if set. */
    uint32_t expiry_s;
    uint16_t id_len;
    uint16_t last_pid;     /* last packet id used towards the client */
    struct sl_timer timer; /* while offline: expiry, and a delayed will */
    uint64_t expire_at_ms; /* 0: does not expire */
    struct sl_msg *will;   /* 5.0 will waiting for its Will Delay Interval */
    uint64_t will_at_ms;

    struct session_sub *subs;
    uint32_t nsubs, subs_cap;

    struct inflight *infl; /* in the order sent */
    uint32_t infl_n, infl_cap;

    struct queued *q; /* ring */
    uint32_t q_head, q_n, q_cap;

    uint32_t qos2_in_n; /* bits set in qos2_in: counts towards the 5.0 Receive Maximum */
    size_t q_bytes;     /* bytes of the messages in q */
    uint8_t *qos2_in;   /* bitmap of inbound QoS 2 ids awaiting PUBREL; lazily 8 KiB */

    /* Back-pressure state, written by the home worker and read by any worker
     * (relaxed atomics: a slightly stale value only shifts when pressure starts). */
    atomic_uint pressure_len;     /* mirror of q_n */
    atomic_uint pressure_transit; /* QoS 1/2 deliveries on their way from other workers */
    _Atomic uint64_t progress_ms; /* last ack from the client, or its connect */
    atomic_bool pressure_online;  /* a client is attached */

    bool dead;
    char id[]; /* id_len bytes, then a NUL */
};

/* Per-worker table: client id -> session. */
struct session_table {
    struct session **slots;
    uint32_t cap, count;
};

uint32_t session_id_hash(const uint8_t *id, size_t len);

void session_table_destroy(struct session_table *t);
struct session *session_find(struct session_table *t, const uint8_t *id, size_t len);

/* A new session in w's table, with the table's reference. NULL on ENOMEM. */
struct session *session_create(struct worker *w, const uint8_t *id, size_t len, uint32_t expiry_s);

/* Ends the session: a delayed will is published [MQTT-3.1.3-9], subscriptions
 * out of the topic tree, queued and inflight messages dropped, out of the
 * table, marked dead, table reference dropped. */
void session_end(struct session *s);

/* Its connection is gone. will (NULL: none; the reference is taken over) is
 * published now, or after will_delay_s seconds if the session lives that long.
 * Shared-subscription messages not yet acknowledged go to other members of
 * their groups. Then the session ends (expiry 0) or its expiry starts. */
void session_detach(struct session *s, struct sl_msg *will, uint32_t will_delay_s);

/* A connection resumes the session: a delayed will is cancelled
 * [MQTT-3.1.3-9] and expiry stops. */
void session_attach(struct session *s, struct client *c);

static inline void session_ref(struct session *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}
void session_unref(struct session *s);

/* Subscriptions: both the session's own list and the topic tree. *existed
 * says whether the filter was already subscribed (5.0 Retain Handling 1). */
int session_subscribe(struct session *s, const uint8_t *filter, size_t len, uint8_t qos,
                      uint8_t flags, uint32_t subid, bool *existed);
bool session_unsubscribe(struct session *s, const uint8_t *filter, size_t len);

/* Delivers m as d says: straight out if connected and the window allows, else
 * queued within limits, else dropped (counted); an expired message is dropped.
 * Runs on the home worker. Does not consume the caller's reference to m; takes
 * over d->ids. */
void session_deliver(struct session *s, struct sl_msg *m, struct delivery *d);

/* Acknowledgements from the subscriber. Unknown ids are ignored (a client may
 * repeat an ack after reconnecting). session_on_pubrec returns false if the id
 * is unknown (the caller still answers PUBREL [MQTT-4.3.3-1]). */
void session_on_puback(struct session *s, uint16_t pid);
/* reason >= 0x80 (5.0) ends the QoS 2 delivery: no PUBREL follows. */
bool session_on_pubrec(struct session *s, uint16_t pid, uint8_t reason);
/* False if the id was not waiting for PUBCOMP. */
bool session_on_pubcomp(struct session *s, uint16_t pid);

/* On (re)connect of a persistent session: resend the window (PUBLISH with DUP,
 * or PUBREL) [MQTT-4.4.0-1], then move queued messages into the window. */
void session_resume(struct session *s);

/* Back-pressure [see docs/architecture.md, "Back-pressure"]: true when s has a
 * client attached, at least half of max_queued_messages queued (1000 when the
 * queue is unlimited), and its client acknowledged something within the last
 * SESSION_STALL_MS - a subscriber slower than its publishers, not a stuck one.
 * Any thread. */
#define SESSION_STALL_MS 500
bool session_congested(struct session *s, uint64_t now_ms);

/* QoS 1/2 deliveries posted to s's home from another worker count towards its
 * pressure until the home has queued or sent them. */
static inline void session_transit_add(struct session *s, int delta)
{
    atomic_fetch_add_explicit(&s->pressure_transit, (unsigned)delta, memory_order_relaxed);
}

/* True while a client is attached; any thread (the topic tree's shared groups
 * prefer such members). */
bool session_online_any(const struct session *s);

/* Attach/detach bookkeeping for the back-pressure state. */
void session_set_online(struct session *s, bool online, uint64_t now_ms);

/* Inbound QoS 2 ids (publisher -> broker). test_and_set returns true if the id
 * was already pending (a duplicate: do not deliver again). */
int session_qos2_in_mark(struct session *s, uint16_t pid, bool *was_set);
static inline bool session_qos2_in_pending(const struct session *s, uint16_t pid)
{
    return s->qos2_in && (s->qos2_in[pid >> 3] >> (pid & 7)) & 1u;
}
/* False if the id was not pending (5.0: PUBCOMP 0x92). */
bool session_qos2_in_clear(struct session *s, uint16_t pid);

#endif

/* session.c - see session.h for ownership and the delivery pipeline. */
#include "broker/session.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "broker/client.h"
#include "broker/config.h"
#include "broker/msg.h"
#include "broker/route.h"
#include "broker/send.h"
#include "broker/server.h"
#include "broker/topic_tree.h"
#include "broker/worker.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "proto/frame.h"
#include "proto/topic.h"

/* Output a QoS 0 message may find queued on its connection before it is dropped
 * instead: a subscriber that does not read cannot make the broker grow. QoS 1/2
 * are bounded by the inflight window and the session queue instead. */
#define QOS0_OUTPUT_LIMIT (8u << 20)

uint32_t session_id_hash(const uint8_t *id, size_t len)
{
    return sl_hash(id, len);
}

/* ---- per-worker table -------------------------------------------------- */

static bool table_grow(struct session_table *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : 64;
    struct session **slots = calloc(cap, sizeof(*slots));
    if (!slots) return false;
    for (uint32_t i = 0; i < t->cap; i++) {
        struct session *s = t->slots[i];
        while (s) {
            struct session *next = s->hnext;
            uint32_t b = s->id_hash & (cap - 1);
            s->hnext = slots[b];
            slots[b] = s;
            s = next;
        }
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return true;
}

struct session *session_find(struct session_table *t, const uint8_t *id, size_t len)
{
    if (!t->cap) return NULL;
    uint32_t h = session_id_hash(id, len);
    for (struct session *s = t->slots[h & (t->cap - 1)]; s; s = s->hnext)
        if (s->id_hash == h && s->id_len == len && memcmp(s->id, id, len) == 0) return s;
    return NULL;
}

static void table_remove(struct session_table *t, struct session *s)
{
    struct session **pp = &t->slots[s->id_hash & (t->cap - 1)];
    while (*pp && *pp != s)
        pp = &(*pp)->hnext;
    if (*pp) {
        *pp = s->hnext;
        t->count--;
        stat_sub(&s->home->stats.sessions, 1);
    }
}

static void on_timer(struct sl_timer *t, uint64_t now_ms);

struct session *session_create(struct worker *w, const uint8_t *id, size_t len, uint32_t expiry_s)
{
    struct session_table *t = &w->sessions;
    if (t->count >= t->cap / 2 && !table_grow(t)) return NULL;
    struct session *s = calloc(1, offsetof(struct session, id) + len + 1);
    if (!s) return NULL;
    memcpy(s->id, id, len);
    s->id[len] = '\0';
    s->id_len = (uint16_t)len;
    s->id_hash = session_id_hash(id, len);
    s->home = w;
    s->expiry_s = expiry_s;
    s->timer.fire = on_timer;
    atomic_init(&s->refs, 1);
    uint32_t b = s->id_hash & (t->cap - 1);
    s->hnext = t->slots[b];
    t->slots[b] = s;
    t->count++;
    stat_add(&w->stats.sessions, 1);
    return s;
}

static void session_free(struct session *s)
{
    sl_msg_unref(s->will);
    free(s->subs);
    free(s->infl);
    free(s->q);
    free(s->qos2_in);
    free(s);
}

void session_unref(struct session *s)
{
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) session_free(s);
}

static void publish_len(struct session *s)
{
    atomic_store_explicit(&s->pressure_len, s->q_n, memory_order_relaxed);
}

void session_set_online(struct session *s, bool online, uint64_t now_ms)
{
    atomic_store_explicit(&s->pressure_online, online, memory_order_relaxed);
    atomic_store_explicit(&s->progress_ms, now_ms, memory_order_relaxed);
}

bool session_online_any(const struct session *s)
{
    return atomic_load_explicit(&s->pressure_online, memory_order_relaxed);
}

static void progress(struct session *s)
{
    atomic_store_explicit(&s->progress_ms, s->home->now_ms, memory_order_relaxed);
}

bool session_congested(struct session *s, uint64_t now_ms)
{
    uint32_t max = s->home->srv->cfg->max_queued_messages;
    uint32_t hwm = max ? (max / 2 ? max / 2 : 1) : 1000;
    uint32_t len = atomic_load_explicit(&s->pressure_len, memory_order_relaxed) +
                   atomic_load_explicit(&s->pressure_transit, memory_order_relaxed);
    if (len < hwm) return false;
    if (!atomic_load_explicit(&s->pressure_online, memory_order_relaxed))
        return false; /* offline: waiting would never end; the queue limit applies */
    uint64_t last = atomic_load_explicit(&s->progress_ms, memory_order_relaxed);
    return now_ms < last + SESSION_STALL_MS;
}

/* Takes the oldest queued entry off the ring. */
static struct queued dequeue(struct session *s)
{
    struct queued e = s->q[s->q_head];
    s->q_head = (s->q_head + 1) % s->q_cap;
    s->q_n--;
    s->q_bytes -= sl_msg_size(e.msg);
    return e;
}

static void drop_messages(struct session *s)
{
    for (uint32_t i = 0; i < s->infl_n; i++) {
        sl_msg_unref(s->infl[i].msg);
        subids_free(&s->infl[i].d.ids);
    }
    s->infl_n = 0;
    while (s->q_n) {
        struct queued e = dequeue(s);
        sl_msg_unref(e.msg);
        subids_free(&e.d.ids);
    }
    publish_len(s);
}

static void publish_will(struct session *s)
{
    struct sl_msg *will = s->will;
    s->will = NULL;
    if (will) route_publish_will(s->home, will);
}

static void end(struct session *s, bool publish)
{
    struct topic_tree *tree = &s->home->srv->subs;
    sl_wheel_del(&s->home->wheel, &s->timer);
    if (publish)
        publish_will(s);
    else {
        sl_msg_unref(s->will);
        s->will = NULL;
    }
    for (uint32_t i = 0; i < s->nsubs; i++) {
        topic_tree_remove(tree, s->subs[i].filter, s->subs[i].len, s);
        free(s->subs[i].filter);
    }
    s->nsubs = 0;
    drop_messages(s);
    table_remove(&s->home->sessions, s);
    if (s->client) s->client->session = NULL;
    s->client = NULL;
    s->dead = true;
    atomic_store_explicit(&s->pressure_online, false, memory_order_relaxed);
    session_unref(s);
}

void session_end(struct session *s)
{
    end(s, true);
}

void session_table_destroy(struct session_table *t)
{
    for (uint32_t i = 0; i < t->cap; i++) {
        while (t->slots[i])
            end(t->slots[i], false); /* unlinks itself from the chain; no wills at shutdown */
    }
    free(t->slots);
    t->slots = NULL;
    t->cap = t->count = 0;
}

/* ---- subscriptions ------------------------------------------------------ */

int session_subscribe(struct session *s, const uint8_t *filter, size_t len, uint8_t qos,
                      uint8_t flags, uint32_t subid, bool *existed)
{
    *existed = false;
    /* Room and a copy first, so that a tree change is never left half-recorded. */
    if (s->nsubs == s->subs_cap) {
        uint32_t cap = s->subs_cap ? s->subs_cap * 2 : 4;
        struct session_sub *v = realloc(s->subs, cap * sizeof(*v));
        if (!v) return SL_ENOMEM;
        s->subs = v;
        s->subs_cap = cap;
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return SL_ENOMEM;
    memcpy(copy, filter, len);
    bool replaced;
    struct topic_match tm = {.session = s, .qos = qos, .flags = flags, .subid = subid};
    if (topic_tree_add(&s->home->srv->subs, filter, len, &tm, &replaced) != SL_OK) {
        free(copy);
        return SL_ENOMEM;
    }
    if (replaced) {
        /* Same filter again: the QoS is replaced [MQTT-3.8.4-3]. Only this case
         * searches the list, so N distinct filters cost O(N), not O(N^2). */
        free(copy);
        *existed = true;
        for (uint32_t i = 0; i < s->nsubs; i++) {
            if (s->subs[i].len == len && memcmp(s->subs[i].filter, filter, len) == 0) {
                s->subs[i].qos = qos;
                s->subs[i].flags = flags;
                s->subs[i].subid = subid;
            }
        }
        return SL_OK;
    }
    struct session_sub *sub = &s->subs[s->nsubs++];
    sub->filter = copy;
    sub->len = (uint16_t)len;
    sub->qos = qos;
    sub->flags = flags;
    sub->subid = subid;
    return SL_OK;
}

bool session_unsubscribe(struct session *s, const uint8_t *filter, size_t len)
{
    for (uint32_t i = 0; i < s->nsubs; i++) {
        if (s->subs[i].len == len && memcmp(s->subs[i].filter, filter, len) == 0) {
            topic_tree_remove(&s->home->srv->subs, filter, len, s);
            free(s->subs[i].filter);
            s->subs[i] = s->subs[--s->nsubs];
            return true;
        }
    }
    return false;
}

/* ---- outbound delivery -------------------------------------------------- */

/* The outbound window: max_inflight_messages, and in 5.0 no more than the
 * client's Receive Maximum [MQTT-3.3.4-9]. */
static uint32_t window(const struct session *s)
{
    uint32_t m = s->home->srv->cfg->max_inflight_messages;
    if (m == 0 || m > 65535) m = 65535;
    if (s->client && s->client->recv_max && s->client->recv_max < m) m = s->client->recv_max;
    return m;
}

static bool pid_in_use(const struct session *s, uint16_t pid)
{
    for (uint32_t i = 0; i < s->infl_n; i++)
        if (s->infl[i].pid == pid) return true;
    return false;
}

/* Distance from id a forward to id b on the ring 1..65535. */
static uint32_t ring_dist(uint16_t a, uint16_t b)
{
    return ((uint32_t)b + 65535u - a) % 65535u;
}

/* Ids are handed out in sequence and the window keeps send order, so every id in
 * flight lies on the ring between the oldest entry's id and the last one given.
 * The next id is therefore free - no scan - unless that range has come all the
 * way round; with at most 65,535 in flight a free one always exists. */
static uint16_t next_pid(struct session *s)
{
    for (;;) {
        uint16_t prev = s->last_pid;
        uint16_t c = (uint16_t)(prev == 65535 ? 1 : prev + 1);
        s->last_pid = c;
        if (s->infl_n == 0) return c;
        uint16_t oldest = s->infl[0].pid;
        if (ring_dist(oldest, c) > ring_dist(oldest, prev) || !pid_in_use(s, c)) return c;
    }
}

/* True when the client can take output now (connected and past its CONNACK). */
static bool online(const struct session *s)
{
    return s->client && !s->client->awaiting_connack;
}

static void dropped(struct session *s, const char *why)
{
    stat_add(&s->home->stats.msgs_dropped, 1);
    sl_debug("dropped message for %s: %s", s->id, why);
}

static void remove_inflight(struct session *s, uint32_t i)
{
    sl_msg_unref(s->infl[i].msg);
    subids_free(&s->infl[i].d.ids);
    /* Keep send order: resends on reconnect must go out in the original order
     * [MQTT-4.6.0-1]. The window is small, so the move is cheap. */
    memmove(&s->infl[i], &s->infl[i + 1], (s->infl_n - i - 1) * sizeof(*s->infl));
    s->infl_n--;
}

/* Counts a PUBLISH that went out, or the reason one did not. */
static void sent(struct session *s, int rc)
{
    if (rc == SL_OK)
        stat_add(&s->home->stats.msgs_sent, 1);
    else
        dropped(s, rc == SL_ETOOBIG ? "larger than the client's Maximum Packet Size"
                                    : "out of memory");
}

/* Sends m as a QoS 1/2 PUBLISH; takes over d->ids. */
static void send_inflight(struct session *s, struct sl_msg *m, struct delivery *d)
{
    if (s->infl_n == s->infl_cap) {
        uint32_t cap = s->infl_cap ? s->infl_cap * 2 : 8;
        struct inflight *v = realloc(s->infl, cap * sizeof(*v));
        if (!v) {
            subids_free(&d->ids);
            sent(s, SL_ENOMEM);
            return;
        }
        s->infl = v;
        s->infl_cap = cap;
    }
    /* The id first: next_pid reads the window, which must not yet include the
     * new (uninitialised) entry. */
    uint16_t pid = next_pid(s);
    struct inflight *f = &s->infl[s->infl_n++];
    f->msg = sl_msg_ref(m);
    f->pid = pid;
    f->state = INFL_PUBLISHED;
    f->d = *d;
    d->ids.n = 0;
    int rc = send_publish(s->client, m, &f->d, false, f->pid);
    /* Larger than the client's Maximum Packet Size: discarded as if delivered
     * [MQTT-3.1.2-25]. */
    if (rc == SL_ETOOBIG) remove_inflight(s, s->infl_n - 1);
    sent(s, rc);
}

static int enqueue(struct session *s, struct sl_msg *m, struct delivery *d)
{
    const struct sl_config *cfg = s->home->srv->cfg;
    size_t size = sl_msg_size(m);
    if ((cfg->max_queued_messages && s->q_n >= cfg->max_queued_messages) ||
        (cfg->max_queued_bytes && s->q_bytes + size > cfg->max_queued_bytes))
        return SL_ETOOBIG;
    if (s->q_n == s->q_cap) {
        uint32_t cap = s->q_cap ? s->q_cap * 2 : 8;
        struct queued *v = malloc(cap * sizeof(*v));
        if (!v) return SL_ENOMEM;
        for (uint32_t i = 0; i < s->q_n; i++)
            v[i] = s->q[(s->q_head + i) % s->q_cap];
        free(s->q);
        s->q = v;
        s->q_cap = cap;
        s->q_head = 0;
    }
    struct queued *e = &s->q[(s->q_head + s->q_n) % s->q_cap];
    e->msg = sl_msg_ref(m);
    e->d = *d;
    d->ids.n = 0;
    s->q_n++;
    s->q_bytes += size;
    publish_len(s);
    return SL_OK;
}

/* A QoS 0 PUBLISH straight out; takes over d->ids. */
static void send_now(struct session *s, struct sl_msg *m, struct delivery *d)
{
    sent(s, send_publish(s->client, m, d, false, 0));
    subids_free(&d->ids);
}

void session_deliver(struct session *s, struct sl_msg *m, struct delivery *d)
{
    if (s->dead || sl_msg_expired(m, s->home->now_ms)) {
        subids_free(&d->ids);
        return;
    }
    if (online(s)) {
        if (d->qos == 0) {
            if (s->client->out.bytes > QOS0_OUTPUT_LIMIT) {
                subids_free(&d->ids);
                dropped(s, "slow consumer (QoS 0)");
                return;
            }
            send_now(s, m, d);
            return;
        }
        if (s->q_n == 0 && s->infl_n < window(s)) {
            send_inflight(s, m, d);
            return;
        }
    } else if (d->qos == 0 && !s->client && !s->home->srv->cfg->queue_qos0_messages) {
        subids_free(&d->ids);
        return; /* offline and QoS 0: not queued unless configured */
    }
    /* Offline, window full, or waiting for the CONNACK to go out: queue. */
    int rc = enqueue(s, m, d);
    if (rc != SL_OK) {
        subids_free(&d->ids);
        dropped(s, rc == SL_ETOOBIG ? "queue full" : "out of memory");
    }
}

/* Moves queued messages into the window while it has room. */
static void pump(struct session *s)
{
    while (s->q_n && online(s)) {
        struct queued *head = &s->q[s->q_head];
        if (head->d.qos > 0 && s->infl_n >= window(s)) break;
        struct queued e = dequeue(s);
        if (sl_msg_expired(e.msg, s->home->now_ms)) {
            subids_free(&e.d.ids); /* never delivered once expired [MQTT-3.3.2-5] */
        } else if (e.d.qos == 0) {
            send_now(s, e.msg, &e.d);
        } else {
            send_inflight(s, e.msg, &e.d);
        }
        sl_msg_unref(e.msg);
    }
    publish_len(s);
}

static struct inflight *find_inflight(struct session *s, uint16_t pid, uint32_t *index)
{
    /* Acks usually come in order: the oldest entry first. */
    for (uint32_t i = 0; i < s->infl_n; i++) {
        if (s->infl[i].pid == pid) {
            *index = i;
            return &s->infl[i];
        }
    }
    return NULL;
}

void session_on_puback(struct session *s, uint16_t pid)
{
    uint32_t i;
    struct inflight *f = find_inflight(s, pid, &i);
    if (!f || f->d.qos != 1) return;
    progress(s);
    remove_inflight(s, i);
    pump(s);
}

bool session_on_pubrec(struct session *s, uint16_t pid, uint8_t reason)
{
    uint32_t i;
    struct inflight *f = find_inflight(s, pid, &i);
    if (!f || f->d.qos != 2) return false;
    progress(s);
    if (reason >= 0x80 && f->state == INFL_PUBLISHED) {
        /* Refused by the subscriber: the flow ends here, no PUBREL (5.0 §4.3.3). */
        remove_inflight(s, i);
        pump(s);
        return true;
    }
    if (f->state == INFL_PUBLISHED) {
        /* The subscriber owns the message now; only the id remains [MQTT-4.3.3-1]. */
        f->state = INFL_RELEASED;
        sl_msg_unref(f->msg);
        f->msg = NULL;
    }
    return true;
}

bool session_on_pubcomp(struct session *s, uint16_t pid)
{
    uint32_t i;
    struct inflight *f = find_inflight(s, pid, &i);
    if (!f || f->d.qos != 2 || f->state != INFL_RELEASED) return false;
    progress(s);
    remove_inflight(s, i);
    pump(s);
    return true;
}

void session_resume(struct session *s)
{
    if (!online(s)) return;
    for (uint32_t i = 0; i < s->infl_n;) {
        struct inflight *f = &s->infl[i];
        if (f->state == INFL_PUBLISHED) {
            if (send_publish(s->client, f->msg, &f->d, true, f->pid) == SL_ETOOBIG) {
                remove_inflight(s, i); /* the new connection allows less */
                continue;
            }
        } else {
            send_ack(s->client, SL_PT_PUBREL, f->pid, 0);
        }
        i++;
    }
    pump(s);
}

/* ---- connection loss, expiry, delayed will -------------------------------- */

/* Shared-subscription messages this session has not acknowledged go to other
 * members of their groups (5.0 §4.8.2); what no other member can take stays. */
static void hand_shared_away(struct session *s)
{
    for (uint32_t i = 0; i < s->infl_n;) {
        struct inflight *f = &s->infl[i];
        if (f->d.shared && f->state == INFL_PUBLISHED &&
            route_shared_elsewhere(s->home, s, f->msg)) {
            remove_inflight(s, i);
            continue;
        }
        i++;
    }
    for (uint32_t k = s->q_n; k > 0; k--) {
        struct queued e = dequeue(s);
        if (e.d.shared && route_shared_elsewhere(s->home, s, e.msg)) {
            sl_msg_unref(e.msg);
            subids_free(&e.d.ids);
            continue;
        }
        /* Put it back at the tail: after k rounds the order is unchanged. */
        s->q_bytes += sl_msg_size(e.msg);
        s->q[(s->q_head + s->q_n) % s->q_cap] = e;
        s->q_n++;
    }
    publish_len(s);
}

static void arm(struct session *s)
{
    uint64_t at = s->expire_at_ms;
    if (s->will && (!at || s->will_at_ms < at)) at = s->will_at_ms;
    if (at)
        sl_wheel_add(&s->home->wheel, &s->timer, at);
    else
        sl_wheel_del(&s->home->wheel, &s->timer);
}

static void on_timer(struct sl_timer *t, uint64_t now_ms)
{
    struct session *s = sl_timer_owner(t, struct session, timer);
    if (s->will && now_ms >= s->will_at_ms) publish_will(s);
    if (s->expire_at_ms && now_ms >= s->expire_at_ms) {
        sl_info("session %s expired", s->id);
        session_end(s);
        return;
    }
    arm(s);
}

void session_detach(struct session *s, struct sl_msg *will, uint32_t will_delay_s)
{
    const struct sl_config *cfg = s->home->srv->cfg;
    uint64_t now = s->home->now_ms;
    sl_msg_unref(s->will); /* cannot be set while connected; defensive */
    s->will = will;
    s->will_at_ms = now + (uint64_t)will_delay_s * 1000;
    hand_shared_away(s);
    if (s->expiry_s == 0) {
        session_end(s); /* publishes the will: the session ends first [MQTT-3.1.2-6] */
        return;
    }
    /* "Never" lasts until persistent_client_expiration, if that is set. */
    uint64_t expiry =
        s->expiry_s == SESSION_EXPIRY_NEVER ? cfg->persistent_client_expiration : s->expiry_s;
    s->expire_at_ms = expiry ? now + expiry * 1000 : 0;
    if (s->will && will_delay_s == 0) publish_will(s);
    arm(s);
}

void session_attach(struct session *s, struct client *c)
{
    if (s->will) {
        /* Back before the Will Delay Interval passed: no will [MQTT-3.1.3-9]. */
        sl_msg_unref(s->will);
        s->will = NULL;
    }
    s->expire_at_ms = 0;
    sl_wheel_del(&s->home->wheel, &s->timer);
    s->client = c;
    session_set_online(s, true, s->home->now_ms);
}

/* ---- inbound QoS 2 ------------------------------------------------------ */

#define QOS2_BITMAP_BYTES (65536 / 8)

int session_qos2_in_mark(struct session *s, uint16_t pid, bool *was_set)
{
    if (!s->qos2_in) {
        s->qos2_in = calloc(1, QOS2_BITMAP_BYTES);
        if (!s->qos2_in) return SL_ENOMEM;
    }
    uint8_t bit = (uint8_t)(1u << (pid & 7));
    *was_set = (s->qos2_in[pid >> 3] & bit) != 0;
    if (!*was_set) s->qos2_in_n++;
    s->qos2_in[pid >> 3] |= bit;
    return SL_OK;
}

bool session_qos2_in_clear(struct session *s, uint16_t pid)
{
    uint8_t bit = (uint8_t)(1u << (pid & 7));
    if (!s->qos2_in || !(s->qos2_in[pid >> 3] & bit)) return false;
    s->qos2_in[pid >> 3] &= (uint8_t)~bit;
    s->qos2_in_n--;
    return true;
}

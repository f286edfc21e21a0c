/* session.c - see session.h for ownership and the delivery pipeline. */
#include "broker/session.h"

#include <stdlib.h>
#include <string.h>

#include "broker/client.h"
#include "broker/config.h"
#include "broker/msg.h"
#include "broker/send.h"
#include "broker/server.h"
#include "broker/topic_tree.h"
#include "broker/worker.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "proto/frame.h"

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

struct session *session_create(struct worker *w, const uint8_t *id, size_t len, bool clean)
{
    struct session_table *t = &w->sessions;
    if (t->count >= t->cap / 2 && !table_grow(t)) return NULL;
    struct session *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->id = malloc(len + 1);
    if (!s->id) {
        free(s);
        return NULL;
    }
    memcpy(s->id, id, len);
    s->id[len] = '\0';
    s->id_len = (uint16_t)len;
    s->id_hash = session_id_hash(id, len);
    s->home = w;
    s->clean = clean;
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
    free(s->subs);
    free(s->infl);
    free(s->q);
    free(s->qos2_in);
    free(s->id);
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

static void drop_messages(struct session *s)
{
    for (uint32_t i = 0; i < s->infl_n; i++)
        sl_msg_unref(s->infl[i].msg);
    s->infl_n = 0;
    while (s->q_n) {
        sl_msg_unref(s->q[s->q_head].msg);
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_n--;
    }
    s->q_bytes = 0;
    publish_len(s);
}

void session_end(struct session *s)
{
    struct topic_tree *tree = &s->home->srv->subs;
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

void session_table_destroy(struct session_table *t)
{
    for (uint32_t i = 0; i < t->cap; i++) {
        while (t->slots[i])
            session_end(t->slots[i]); /* unlinks itself from the chain */
    }
    free(t->slots);
    t->slots = NULL;
    t->cap = t->count = 0;
}

/* ---- subscriptions ------------------------------------------------------ */

int session_subscribe(struct session *s, const uint8_t *filter, size_t len, uint8_t qos)
{
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
    if (topic_tree_add(&s->home->srv->subs, filter, len, s, qos, &replaced) != SL_OK) {
        free(copy);
        return SL_ENOMEM;
    }
    if (replaced) {
        /* Same filter again: the QoS is replaced [MQTT-3.8.4-3]. Only this case
         * searches the list, so N distinct filters cost O(N), not O(N^2). */
        free(copy);
        for (uint32_t i = 0; i < s->nsubs; i++)
            if (s->subs[i].len == len && memcmp(s->subs[i].filter, filter, len) == 0)
                s->subs[i].qos = qos;
        return SL_OK;
    }
    struct session_sub *sub = &s->subs[s->nsubs++];
    sub->filter = copy;
    sub->len = (uint16_t)len;
    sub->qos = qos;
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

static uint32_t window(const struct session *s)
{
    uint32_t m = s->home->srv->cfg->max_inflight_messages;
    return (m == 0 || m > 65535) ? 65535 : m;
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

static int send_inflight(struct session *s, struct sl_msg *m, uint8_t qos, bool retain)
{
    if (s->infl_n == s->infl_cap) {
        uint32_t cap = s->infl_cap ? s->infl_cap * 2 : 8;
        struct inflight *v = realloc(s->infl, cap * sizeof(*v));
        if (!v) return SL_ENOMEM;
        s->infl = v;
        s->infl_cap = cap;
    }
    struct inflight *f = &s->infl[s->infl_n++];
    f->msg = sl_msg_ref(m);
    f->pid = next_pid(s);
    f->qos = qos;
    f->state = INFL_PUBLISHED;
    f->retain = retain;
    stat_add(&s->home->stats.msgs_sent, 1);
    return send_publish(s->client, m, qos, retain, false, f->pid);
}

static int enqueue(struct session *s, struct sl_msg *m, uint8_t qos, bool retain)
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
    e->qos = qos;
    e->retain = retain;
    s->q_n++;
    s->q_bytes += size;
    publish_len(s);
    return SL_OK;
}

static void dropped(struct session *s, const char *why)
{
    stat_add(&s->home->stats.msgs_dropped, 1);
    sl_debug("dropped message for %s: %s", s->id, why);
}

void session_deliver(struct session *s, struct sl_msg *m, uint8_t qos, bool retain)
{
    if (s->dead) return;
    if (online(s)) {
        if (qos == 0) {
            if (s->client->out.bytes > QOS0_OUTPUT_LIMIT) {
                dropped(s, "slow consumer (QoS 0)");
                return;
            }
            stat_add(&s->home->stats.msgs_sent, 1);
            if (send_publish(s->client, m, 0, retain, false, 0) != SL_OK)
                dropped(s, "out of memory");
            return;
        }
        if (s->q_n == 0 && s->infl_n < window(s)) {
            if (send_inflight(s, m, qos, retain) != SL_OK) dropped(s, "out of memory");
            return;
        }
    } else if (qos == 0 && !s->client && !s->home->srv->cfg->queue_qos0_messages) {
        return; /* offline and QoS 0: not queued unless configured */
    }
    /* Offline, window full, or waiting for the CONNACK to go out: queue. */
    int rc = enqueue(s, m, qos, retain);
    if (rc != SL_OK) dropped(s, rc == SL_ETOOBIG ? "queue full" : "out of memory");
}

/* Moves queued messages into the window while it has room. */
static void pump(struct session *s)
{
    while (s->q_n && online(s)) {
        struct queued *e = &s->q[s->q_head];
        if (e->qos > 0 && s->infl_n >= window(s)) break;
        s->q_head = (s->q_head + 1) % s->q_cap;
        s->q_n--;
        s->q_bytes -= sl_msg_size(e->msg);
        int rc;
        if (e->qos == 0) {
            stat_add(&s->home->stats.msgs_sent, 1);
            rc = send_publish(s->client, e->msg, 0, e->retain, false, 0);
        } else {
            rc = send_inflight(s, e->msg, e->qos, e->retain);
        }
        if (rc != SL_OK) dropped(s, "out of memory");
        sl_msg_unref(e->msg);
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

static void remove_inflight(struct session *s, uint32_t i)
{
    sl_msg_unref(s->infl[i].msg);
    /* Keep send order: resends on reconnect must go out in the original order
     * [MQTT-4.6.0-1]. The window is small, so the move is cheap. */
    memmove(&s->infl[i], &s->infl[i + 1], (s->infl_n - i - 1) * sizeof(*s->infl));
    s->infl_n--;
}

void session_on_puback(struct session *s, uint16_t pid)
{
    uint32_t i;
    struct inflight *f = find_inflight(s, pid, &i);
    if (!f || f->qos != 1) return;
    progress(s);
    remove_inflight(s, i);
    pump(s);
}

bool session_on_pubrec(struct session *s, uint16_t pid)
{
    uint32_t i;
    struct inflight *f = find_inflight(s, pid, &i);
    if (!f || f->qos != 2) return false;
    progress(s);
    if (f->state == INFL_PUBLISHED) {
        /* The subscriber owns the message now; only the id remains [MQTT-4.3.3-1]. */
        f->state = INFL_RELEASED;
        sl_msg_unref(f->msg);
        f->msg = NULL;
    }
    return true;
}

void session_on_pubcomp(struct session *s, uint16_t pid)
{
    uint32_t i;
    struct inflight *f = find_inflight(s, pid, &i);
    if (!f || f->qos != 2 || f->state != INFL_RELEASED) return;
    progress(s);
    remove_inflight(s, i);
    pump(s);
}

void session_resume(struct session *s)
{
    if (!online(s)) return;
    for (uint32_t i = 0; i < s->infl_n; i++) {
        struct inflight *f = &s->infl[i];
        if (f->state == INFL_PUBLISHED)
            send_publish(s->client, f->msg, f->qos, f->retain, true, f->pid);
        else
            send_ack(s->client, SL_PT_PUBREL, f->pid);
    }
    pump(s);
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
    s->qos2_in[pid >> 3] |= bit;
    return SL_OK;
}

void session_qos2_in_clear(struct session *s, uint16_t pid)
{
    if (s->qos2_in) s->qos2_in[pid >> 3] &= (uint8_t) ~(1u << (pid & 7));
}

/* route.c - see route.h. */
#include "broker/route.h"

#include <stdlib.h>

#include "broker/config.h"
#include "broker/msg.h"
#include "broker/retain.h"
#include "broker/server.h"
#include "broker/session.h"
#include "broker/topic_tree.h"
#include "broker/worker.h"
#include "core/log.h"
#include "proto/topic.h"

/* Runs under the topic tree's read lock: record, and pin remote sessions. */
static void collect(void *arg, const struct topic_match *m)
{
    struct worker *w = arg;
    struct topic_match_vec *v = &w->matches;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 64;
        struct topic_match *nv = realloc(v->v, cap * sizeof(*nv));
        if (!nv) return; /* out of memory: this subscriber misses the message */
        v->v = nv;
        v->cap = cap;
    }
    if (m->session->home != w) session_ref(m->session);
    v->v[v->n++] = *m;
}

static int by_session(const void *a, const void *b)
{
    const struct topic_match *x = a, *y = b;
    return (x->session > y->session) - (x->session < y->session);
}

/* Hands d (its ids included) to s, here or through s's home worker. */
static void deliver(struct worker *w, struct session *s, struct sl_msg *m, struct delivery *d)
{
    if (s->home == w) {
        session_deliver(s, m, d);
        return;
    }
    struct item it = {.kind = ITEM_DELIVER, .d = *d, .session = s, .msg = sl_msg_ref(m)};
    d->ids.n = 0;
    if (it.d.qos > 0) session_transit_add(s, 1);
    worker_post(w, s->home->idx, &it); /* takes over the reference collect() took */
}

struct session *route_publish(struct worker *w, struct sl_msg *m, struct session *from,
                              size_t *matched)
{
    struct session *blocker = NULL;
    struct server *srv = w->srv;
    size_t count = 0;
    if (m->retain && srv->cfg->retain_available && retain_set(&srv->retained, m) != 0)
        sl_warn("out of memory storing retained message");

    struct topic_match_vec *v = &w->matches;
    v->n = 0;
    size_t nodes = topic_tree_match(&srv->subs, m->topic, m->topic_len, collect, w);
    /* Sessions repeat only across filters: one filter (the usual fan-out) needs
     * no sort to merge them. */
    if (nodes > 1 && v->n > 1) qsort(v->v, v->n, sizeof(*v->v), by_session);

    for (size_t i = 0; i < v->n;) {
        struct session *s = v->v[i].session;
        struct delivery d = {.qos = 0, .retain = false, .shared = true};
        bool wanted = false;
        size_t j = i;
        for (; j < v->n && v->v[j].session == s; j++) {
            const struct topic_match *t = &v->v[j];
            if (j > i && s->home != w) session_unref(s); /* one reference per session */
            if (s == from && (t->flags & TOPIC_SUB_NO_LOCAL)) continue;
            wanted = true;
            if (t->qos > d.qos) d.qos = t->qos;
            /* Normal forwarding clears the retain flag [MQTT-3.3.1-9] unless the
             * subscription asked for Retain As Published [MQTT-3.3.1-13]. */
            if (t->flags & TOPIC_SUB_RAP) d.retain = true;
            if (!(t->flags & TOPIC_SUB_SHARED)) d.shared = false;
            if (t->subid && subids_add(&d.ids, t->subid) != SL_OK)
                sl_warn("out of memory for subscription identifiers");
        }
        i = j;
        if (!wanted) {
            if (s->home != w) session_unref(s);
            continue;
        }
        count++;
        if (m->qos < d.qos) d.qos = m->qos;
        d.retain = d.retain && m->retain;
        if (d.qos > 0 && !blocker && session_congested(s, w->now_ms)) {
            session_ref(s);
            blocker = s;
        }
        deliver(w, s, m, &d);
    }
    if (matched) *matched = count;
    return blocker;
}

void route_publish_will(struct worker *w, struct sl_msg *will)
{
    if (will->expiry_interval_s) will->expiry_ms = w->now_ms + will->expiry_interval_s * 1000ull;
    struct session *blocker = route_publish(w, will, NULL, NULL);
    if (blocker) session_unref(blocker); /* nobody waits for a will's ack */
    sl_msg_unref(will);
}

bool route_shared_elsewhere(struct worker *w, struct session *from, struct sl_msg *m)
{
    if (w->destroying) return false;
    struct topic_tree *tree = &w->srv->subs;
    for (uint32_t i = 0; i < from->nsubs; i++) {
        const struct session_sub *sub = &from->subs[i];
        const uint8_t *g, *f;
        size_t glen, flen;
        bool valid;
        if (!sl_topic_share_split(sub->filter, sub->len, &g, &glen, &f, &flen, &valid) || !valid ||
            !sl_topic_matches(f, flen, m->topic, m->topic_len))
            continue;
        w->matches.n = 0;
        if (!topic_tree_pick_shared(tree, sub->filter, sub->len, from, collect, w) ||
            w->matches.n == 0)
            continue;
        struct topic_match *t = &w->matches.v[0];
        struct delivery d = {.qos = m->qos < t->qos ? m->qos : t->qos,
                             .retain = (t->flags & TOPIC_SUB_RAP) && m->retain,
                             .shared = true};
        if (t->subid) subids_add(&d.ids, t->subid);
        deliver(w, t->session, m, &d);
        return true;
    }
    return false;
}

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

struct session *route_publish(struct worker *w, struct sl_msg *m)
{
    struct session *blocker = NULL;
    struct server *srv = w->srv;
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
        uint8_t granted = v->v[i].qos;
        size_t j = i + 1;
        for (; j < v->n && v->v[j].session == s; j++) {
            if (v->v[j].qos > granted) granted = v->v[j].qos;
            if (s->home != w) session_unref(s); /* one reference per session is enough */
        }
        uint8_t qos = m->qos < granted ? m->qos : granted;
        if (qos > 0 && !blocker && session_congested(s, w->now_ms)) {
            session_ref(s);
            blocker = s;
        }
        /* Normal forwarding clears the retain flag [MQTT-3.3.1-9]. */
        if (s->home == w) {
            session_deliver(s, m, qos, false);
        } else {
            struct item it = {.kind = ITEM_DELIVER,
                              .qos = qos,
                              .retain = false,
                              .session = s,
                              .msg = sl_msg_ref(m)};
            if (qos > 0) session_transit_add(s, 1);
            worker_post(w, s->home->idx, &it);
        }
        i = j;
    }
    return blocker;
}

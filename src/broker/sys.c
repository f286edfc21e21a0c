/*
 * sys.c - $SYS/broker/... statistics.
 *
 * Each worker counts into its own struct worker_stats (worker.h); worker 0 sums
 * them with relaxed loads every sys_interval seconds and publishes the results as
 * retained QoS 0 messages through the normal routing path, so a new subscriber to
 * $SYS/# gets the latest values at once. Counts read from other workers may be a
 * few messages stale; they are statistics, not accounting.
 */
#include "broker/sys.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "broker/config.h"
#include "broker/msg.h"
#include "broker/retain.h"
#include "broker/route.h"
#include "broker/server.h"
#include "broker/session.h"
#include "broker/worker.h"
#include "core/log.h"

static void publish(struct worker *w, const char *topic, const char *value)
{
    struct sl_msg *m = sl_msg_new((const uint8_t *)topic, strlen(topic), (const uint8_t *)value,
                                  strlen(value), 0, true);
    if (!m) return;
    struct session *blocker = route_publish(w, m, NULL, NULL); /* always NULL at QoS 0 */
    if (blocker) session_unref(blocker);
    sl_msg_unref(m);
}

static void publish_u64(struct worker *w, const char *topic, uint64_t v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRIu64, v);
    publish(w, topic, buf);
}

static void sys_publish(struct worker *w, uint64_t now_ms)
{
    struct server *srv = w->srv;
    struct worker_stats sum;
    memset(&sum, 0, sizeof(sum));
    for (int i = 0; i < srv->nworkers; i++) {
        struct worker_stats *s = &srv->workers[i].stats;
        stat_add(&sum.msgs_received, stat_get(&s->msgs_received));
        stat_add(&sum.msgs_sent, stat_get(&s->msgs_sent));
        stat_add(&sum.msgs_dropped, stat_get(&s->msgs_dropped));
        stat_add(&sum.packets_received, stat_get(&s->packets_received));
        stat_add(&sum.packets_sent, stat_get(&s->packets_sent));
        stat_add(&sum.bytes_received, stat_get(&s->bytes_received));
        stat_add(&sum.bytes_sent, stat_get(&s->bytes_sent));
        stat_add(&sum.clients_connected, stat_get(&s->clients_connected));
        stat_add(&sum.sessions, stat_get(&s->sessions));
    }
    unsigned slot = sl_brlock_rdlock(&srv->subs.lock);
    uint64_t subscriptions = srv->subs.count;
    sl_brlock_rdunlock(&srv->subs.lock, slot);
    pthread_rwlock_rdlock(&srv->retained.lock);
    uint64_t retained = srv->retained.count;
    pthread_rwlock_unlock(&srv->retained.lock);

    char version[64];
    snprintf(version, sizeof(version), "starling version %s", SL_VERSION);
    char uptime[48];
    snprintf(uptime, sizeof(uptime), "%" PRIu64 " seconds", (now_ms - srv->start_ms) / 1000);

    publish(w, "$SYS/broker/version", version);
    publish(w, "$SYS/broker/uptime", uptime);
    publish_u64(w, "$SYS/broker/clients/connected", stat_get(&sum.clients_connected));
    /* Mosquitto counts every known client, connected or holding a session. */
    publish_u64(w, "$SYS/broker/clients/total", stat_get(&sum.sessions));
    publish_u64(w, "$SYS/broker/messages/received", stat_get(&sum.packets_received));
    publish_u64(w, "$SYS/broker/messages/sent", stat_get(&sum.packets_sent));
    publish_u64(w, "$SYS/broker/publish/messages/received", stat_get(&sum.msgs_received));
    publish_u64(w, "$SYS/broker/publish/messages/sent", stat_get(&sum.msgs_sent));
    publish_u64(w, "$SYS/broker/publish/messages/dropped", stat_get(&sum.msgs_dropped));
    publish_u64(w, "$SYS/broker/bytes/received", stat_get(&sum.bytes_received));
    publish_u64(w, "$SYS/broker/bytes/sent", stat_get(&sum.bytes_sent));
    publish_u64(w, "$SYS/broker/subscriptions/count", subscriptions);
    publish_u64(w, "$SYS/broker/retained messages/count", retained);
}

static void on_sys_timer(struct sl_timer *t, uint64_t now_ms)
{
    struct worker *w = sl_timer_owner(t, struct worker, sys_timer);
    sys_publish(w, now_ms);
    sl_wheel_add(&w->wheel, &w->sys_timer, now_ms + (uint64_t)w->srv->cfg->sys_interval * 1000);
}

void sys_start(struct worker *w)
{
    if (w->idx != 0 || w->srv->cfg->sys_interval == 0) return;
    w->sys_timer.fire = on_sys_timer;
    sl_wheel_add(&w->wheel, &w->sys_timer, w->now_ms);
}

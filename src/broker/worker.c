/* worker.c - see worker.h for the loop. */
#include "broker/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "broker/client.h"
#include "broker/config.h"
#include "broker/msg.h"
#include "broker/retain.h"
#include "broker/server.h"
#include "broker/session.h"
#include "broker/sys.h"
#include "core/brlock.h"
#include "core/container_of.h"
#include "core/error.h"
#include "core/log.h"
#include "proto/reason.h"
#include "core/outq.h"
#include "net/listener.h"
#include "store/store.h"

/* epoll data for non-client fds; client pointers are never this small. */
#define TAG_INBOX         1u
#define TAG_LISTENER_BASE 16u
#define MAX_EVENTS        256
#define ACCEPTS_PER_EVENT 64
#define TICK_MS           100

uint64_t worker_clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int worker_init(struct worker *w, struct server *srv, int idx)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->lock, NULL);
    w->srv = srv;
    w->idx = idx;
    w->epfd = -1;
    w->inbox.efd = -1;
    w->now_ms = worker_clock_ms();
    sl_wheel_init(&w->wheel, w->now_ms, TICK_MS);
    w->scratch = malloc(WORKER_SCRATCH_SIZE);
    w->outbox = calloc((size_t)srv->nworkers, sizeof(*w->outbox));
    if (!w->scratch || !w->outbox) return SL_ENOMEM;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0 || sl_inbox_init(&w->inbox) != SL_OK) return SL_EIO;
    sl_msg_home_init(&w->msg_home, &w->inbox);
    sl_mpstack_init(&w->batch_returns);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_INBOX};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->inbox.efd, &ev) < 0) return SL_EIO;
    return SL_OK;
}

/* Registers this worker's listening sockets (opened by the server). */
static int watch_listeners(struct worker *w)
{
    for (size_t i = 0; i < w->srv->nsocks; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TAG_LISTENER_BASE + i};
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->listen_fds[i], &ev) < 0) return SL_EIO;
    }
    return SL_OK;
}

void worker_want_flush(struct worker *w, struct client *c)
{
    if (!c->on_flush_list) {
        c->on_flush_list = true;
        c->flush_next = w->flush_head;
        w->flush_head = c;
    }
}

void worker_want_release(struct worker *w, struct client *c)
{
    if (!c->on_held_list) {
        c->on_held_list = true;
        c->held_next = w->held_head;
        w->held_head = c;
    }
}

/* Releases what an item holds, for a delivery that will not happen. */
static void drop_item(struct worker *w, const struct item *it)
{
    if (it->kind == ITEM_DELIVER) {
        if (it->d.qos > 0) session_transit_add(it->session, -1);
        struct subids ids = it->d.ids;
        subids_free(&ids);
        sl_msg_unref(it->msg);
        session_unref(it->session);
        stat_add(&w->stats.msgs_dropped, 1);
    } else {
        client_free(it->client);
    }
}

static struct batch *batch_of(struct sl_mpstack_node *n)
{
    return sl_container_of(n, struct batch, link);
}

/* Keeps b for w's next batch, up to BATCH_SPARES. */
static void spare_keep(struct worker *w, struct batch *b)
{
    if (w->nspares == BATCH_SPARES) {
        free(b);
        return;
    }
    b->link.next = w->spares;
    w->spares = &b->link;
    w->nspares++;
}

static struct batch *batch_new(struct worker *w)
{
    if (!w->spares) {
        struct sl_mpstack_node *n = sl_mpstack_take(&w->batch_returns);
        while (n) {
            struct sl_mpstack_node *next = n->next;
            spare_keep(w, batch_of(n));
            n = next;
        }
    }
    struct batch *b;
    if (w->spares) {
        b = batch_of(w->spares);
        w->spares = w->spares->next;
        w->nspares--;
    } else if (!(b = malloc(sizeof(*b)))) {
        return NULL;
    }
    b->home = w;
    b->n = 0;
    return b;
}

/* b has been run by w: back to the worker that filled it. At moderate rates
 * every iteration that posts across workers would otherwise malloc a batch on
 * one thread and free it on another. */
static void batch_done(struct worker *w, struct batch *b)
{
    if (b->home == w)
        spare_keep(w, b);
    else
        (void)sl_mpstack_push(&b->home->batch_returns, &b->link);
}

/* Frees the batches w keeps or got back (no worker runs any more). */
static void batches_free(struct worker *w)
{
    struct sl_mpstack_node *lists[2] = {w->spares, sl_mpstack_take(&w->batch_returns)};
    for (int i = 0; i < 2; i++) {
        for (struct sl_mpstack_node *n = lists[i]; n;) {
            struct sl_mpstack_node *next = n->next;
            free(batch_of(n));
            n = next;
        }
    }
    w->spares = NULL;
    w->nspares = 0;
}

static void send_batch(struct worker *w, int dst, struct batch *b)
{
    struct worker *d = &w->srv->workers[dst];
    atomic_fetch_add_explicit(&d->inbox_pending, b->n, memory_order_relaxed);
    sl_inbox_push(&d->inbox, &b->link);
}

void worker_post(struct worker *w, int dst, const struct item *it)
{
    if (it->kind == ITEM_DELIVER && it->d.qos == 0 &&
        atomic_load_explicit(&w->srv->workers[dst].inbox_pending, memory_order_relaxed) >
            INBOX_QOS0_LIMIT) {
        drop_item(w, it); /* the destination worker is overloaded */
        return;
    }
    struct batch *b = w->outbox[dst];
    if (!b) {
        b = batch_new(w);
        if (!b) {
            drop_item(w, it);
            return;
        }
        w->outbox[dst] = b;
    }
    b->items[b->n++] = *it;
    if (b->n == BATCH_ITEMS) {
        send_batch(w, dst, b);
        w->outbox[dst] = NULL;
    }
}

static void run_item(struct worker *w, struct item *it)
{
    switch (it->kind) {
    case ITEM_DELIVER: {
        uint8_t qos = it->d.qos;
        session_deliver(it->session, it->msg, &it->d);
        if (qos > 0) session_transit_add(it->session, -1);
        sl_msg_unref(it->msg);
        session_unref(it->session);
        break;
    }
    case ITEM_ADOPT:
        client_adopt(w, it->client);
        break;
    }
}

/* Runs batches taken from w's inbox (w's lock held). */
static void run_inbox(struct worker *w, struct sl_mpstack_node *n)
{
    while (n) {
        struct sl_mpstack_node *next = n->next;
        struct batch *b = batch_of(n);
        for (uint32_t i = 0; i < b->n; i++)
            run_item(w, &b->items[i]);
        atomic_fetch_sub_explicit(&w->inbox_pending, b->n, memory_order_relaxed);
        batch_done(w, b);
        n = next;
    }
}

/* Accepts on this worker's socket k (of srv->nsocks), for listener li. */
static void accept_on(struct worker *w, size_t k)
{
    struct server *srv = w->srv;
    uint16_t li = srv->sock_listener[k];
    int limit = srv->cfg->listeners[li].max_connections;
    for (int i = 0; i < ACCEPTS_PER_EVENT; i++) {
        struct sl_peer peer;
        int fd = sl_listener_accept(w->listen_fds[k], &peer);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                sl_warn("accept: %s (raise ulimit -n)", strerror(errno));
            return;
        }
        int n = atomic_fetch_add(&srv->conns[li], 1);
        if (limit >= 0 && n >= limit) {
            atomic_fetch_sub(&srv->conns[li], 1);
            sl_notice("refusing %s: max_connections (%d) reached", SL_PEER_STR(&peer), limit);
            close(fd);
            continue;
        }
        if (!client_new(w, fd, &peer, li)) atomic_fetch_sub(&srv->conns[li], 1);
    }
}

static void release_held(struct worker *w)
{
    struct sl_store *st = w->srv->store;
    uint64_t durable = st->ops->commit(st, w->idx);
    struct client *c = w->held_head;
    w->held_head = NULL;
    while (c) {
        struct client *next = c->held_next;
        c->on_held_list = false;
        if (c->state != CLIENT_CLOSED) {
            client_release_held(c, durable);
            if (c->held) worker_want_release(w, c); /* not durable yet: next iteration */
        }
        c = next;
    }
}

static void flush_clients(struct worker *w)
{
    struct client *c;
    /* Pop one at a time: a flush can close a client, whose will can give other
     * clients output, which pushes them here again. */
    while ((c = w->flush_head)) {
        w->flush_head = c->flush_next;
        c->on_flush_list = false;
        if (c->state != CLIENT_CLOSED) client_flush(c);
    }
}

static void free_closed(struct worker *w)
{
    struct client *c = w->closed_head;
    w->closed_head = NULL;
    while (c) {
        struct client *next = c->closed_next;
        client_free(c);
        c = next;
    }
}

static bool has_outbox(const struct worker *w)
{
    for (int i = 0; i < w->srv->nworkers; i++)
        if (w->outbox[i]) return true;
    return false;
}

static void push_outbox(struct worker *w, bool direct);

/* What end_iteration does short of freeing closed clients, which only w's own
 * thread may do: its epoll_wait may hold events for them. */
static void finish_work(struct worker *w, bool direct)
{
    for (int round = 0; round < 8; round++) {
        push_outbox(w, direct);
        if (w->held_head) release_held(w);
        flush_clients(w);
        if (!w->flush_head && !has_outbox(w)) break;
    }
}

/* "Before sleep": everything produced this iteration leaves now. Repeats while
 * a step produced work for an earlier one (a will published during a flush). */
static void end_iteration(struct worker *w)
{
    finish_work(w, true);
    free_closed(w);
    sl_msg_home_collect(&w->msg_home);
}

/* w, holding d's lock while d sleeps, runs batch b (items for d) in d's place.
 * The nested finish does not work in a third worker's place: one level keeps
 * the lock order trivially acyclic (w holds its own lock and d's, and takes no
 * other). */
static void run_in_place_of(struct worker *w, struct worker *d, struct batch *b)
{
    if (d->now_ms < w->now_ms) d->now_ms = w->now_ms;
    if (!sl_inbox_empty(&d->inbox)) run_inbox(d, sl_inbox_grab(&d->inbox)); /* earlier items */
    for (uint32_t i = 0; i < b->n; i++)
        run_item(d, &b->items[i]);
    batch_done(w, b);
    finish_work(d, false);
    int t = sl_wheel_timeout_ms(&d->wheel, d->now_ms);
    bool timer_sooner = t >= 0 && d->now_ms + (uint64_t)t < d->sleep_until_ms;
    if (d->closed_head || d->held_head || d->flush_head || has_outbox(d) || timer_sooner)
        sl_inbox_wake(&d->inbox); /* what only d may do, or a sleep now too long */
}

/* direct: small batches may run in a sleeping destination's place, up to
 * DIRECT_MAX_ITEMS items in all, so that w's own clients never wait behind
 * much of other workers' work (a fan-out over many sleeping workers). */
static void push_outbox(struct worker *w, bool direct)
{
    uint32_t budget = direct ? DIRECT_MAX_ITEMS : 0;
    for (int i = 0; i < w->srv->nworkers; i++) {
        struct batch *b = w->outbox[i];
        if (!b) continue;
        w->outbox[i] = NULL;
        struct worker *d = &w->srv->workers[i];
        if (b->n <= budget && pthread_mutex_trylock(&d->lock) == 0) {
            budget -= b->n;
            run_in_place_of(w, d, b);
            pthread_mutex_unlock(&d->lock);
        } else {
            send_batch(w, i, b);
        }
    }
}

void worker_run_once(struct worker *w, int max_wait_ms)
{
    struct epoll_event evs[MAX_EVENTS];
    pthread_mutex_lock(&w->lock);
    uint64_t now = worker_clock_ms();
    int timeout = sl_wheel_timeout_ms(&w->wheel, now);
    if (w->held_head) timeout = 1; /* acks wait on the store or a congested session */
    if (timeout < 0 || (max_wait_ms >= 0 && timeout > max_wait_ms)) timeout = max_wait_ms;
    if (w->flush_head || has_outbox(w)) timeout = 0; /* end_iteration hit its round limit */
    w->sleep_until_ms = timeout < 0 ? UINT64_MAX : now + (uint64_t)timeout;
    pthread_mutex_unlock(&w->lock);
    int n = epoll_wait(w->epfd, evs, MAX_EVENTS, timeout);
    if (n < 0 && errno != EINTR) sl_error("epoll_wait: %s", strerror(errno));
    pthread_mutex_lock(&w->lock);
    w->now_ms = worker_clock_ms();
    for (int i = 0; i < n; i++) {
        uint64_t tag = evs[i].data.u64;
        if (tag == TAG_INBOX) {
            run_inbox(w, sl_inbox_take(&w->inbox));
        } else if (tag >= TAG_LISTENER_BASE && tag < TAG_LISTENER_BASE + w->srv->nsocks) {
            accept_on(w, (size_t)(tag - TAG_LISTENER_BASE));
        } else {
            struct client *c = evs[i].data.ptr;
            if (c->state == CLIENT_CLOSED || c->w != w)
                continue; /* closed or handed off earlier in this batch */
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) client_on_readable(c);
            if ((evs[i].events & EPOLLOUT) && c->state != CLIENT_CLOSED && c->w == w)
                client_on_writable(c);
        }
    }
    sl_wheel_advance(&w->wheel, w->now_ms);
    end_iteration(w);
    pthread_mutex_unlock(&w->lock);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    sl_msg_home_enter(&w->msg_home);
    sl_brlock_thread_slot((unsigned)w->idx); /* the topic tree's read lock */
    while (!atomic_load(&w->srv->stop))
        worker_run_once(w, -1);
    sl_outq_cache_drain();
    sl_msg_home_enter(NULL); /* what still comes back, server_destroy frees */
    return NULL;
}

/* Worker 0 frees expired retained messages once a second (retain_expire costs
 * one atomic load while none is due). */
#define RETAIN_SWEEP_MS 1000

static void on_retain_timer(struct sl_timer *t, uint64_t now_ms)
{
    struct worker *w = sl_timer_owner(t, struct worker, retain_timer);
    retain_expire(&w->srv->retained, now_ms);
    sl_wheel_add(&w->wheel, &w->retain_timer, now_ms + RETAIN_SWEEP_MS);
}

int worker_start(struct worker *w)
{
    if (watch_listeners(w) != SL_OK) return SL_EIO;
    sys_start(w);
    if (w->idx == 0) {
        w->retain_timer.fire = on_retain_timer;
        sl_wheel_add(&w->wheel, &w->retain_timer, w->now_ms + RETAIN_SWEEP_MS);
    }
    return pthread_create(&w->thread, NULL, worker_main, w) == 0 ? SL_OK : SL_EIO;
}

/* Runs on the main thread after every worker has stopped. */
void worker_destroy(struct worker *w)
{
    /* Connections first: the broker is going away, so no will is published
     * (Mosquitto does the same), and sessions end with the process. */
    w->destroying = true;
    while (w->clients) {
        struct client *c = w->clients;
        c->disconnected = true;
        client_disconnect(c, SL_RC_SERVER_SHUTTING_DOWN, "broker shutting down");
    }
    free_closed(w);
    for (int i = 0; w->outbox && i < w->srv->nworkers; i++) {
        if (w->outbox[i]) {
            send_batch(w, i, w->outbox[i]);
            w->outbox[i] = NULL;
        }
    }
    session_table_destroy(&w->sessions);
    free(w->matches.v);
    free(w->scratch);
    free(w->outbox);
    for (size_t i = 0; w->listen_fds && i < w->srv->nsocks; i++)
        if (w->listen_fds[i] >= 0) close(w->listen_fds[i]);
    free(w->listen_fds);
    if (w->epfd >= 0) close(w->epfd);
    pthread_mutex_destroy(&w->lock);
}

void worker_drain_leftovers(struct worker *w)
{
    struct sl_mpstack_node *n = sl_inbox_take(&w->inbox);
    while (n) {
        struct sl_mpstack_node *next = n->next;
        struct batch *b = batch_of(n);
        for (uint32_t i = 0; i < b->n; i++) {
            struct item *it = &b->items[i];
            if (it->kind == ITEM_DELIVER) {
                subids_free(&it->d.ids);
                sl_msg_unref(it->msg);
                session_unref(it->session);
            } else {
                struct client *c = it->client;
                c->conn.tp->close(&c->conn);
                client_free(c);
            }
        }
        free(b);
        n = next;
    }
    sl_inbox_destroy(&w->inbox);
    batches_free(w);
}

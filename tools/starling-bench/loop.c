/* loop.c - one bench thread's epoll loop; the iteration is described in loop.h. */
#include "loop.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/error.h"

#define LOOP_MAX_SLEEP_NS (10 * 1000 * 1000LL) /* phase changes are seen within 10 ms */
#define LOOP_EVENTS       256

int loop_init(struct loop *l, uint32_t id, const struct bench_opts *o, struct run_ctl *ctl)
{
    memset(l, 0, sizeof(*l));
    l->id = id;
    l->o = o;
    l->ctl = ctl;
    l->pub_wake = INT64_MAX;
    stats_counts_init(&l->c);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) return SL_EIO;
    l->scratch_cap = LOOP_READ_CHUNK + LOOP_BIG_PACKET;
    l->scratch = malloc(l->scratch_cap);
    return l->scratch ? SL_OK : SL_ENOMEM;
}

static int push(struct conn ***arr, uint32_t *n, uint32_t *cap, struct conn *c)
{
    if (*n == *cap) {
        uint32_t ncap = *cap ? *cap * 2 : 64;
        struct conn **na = realloc(*arr, ncap * sizeof(*na));
        if (!na) return SL_ENOMEM;
        *arr = na;
        *cap = ncap;
    }
    (*arr)[(*n)++] = c;
    return SL_OK;
}

int loop_add(struct loop *l, struct conn *c)
{
    c->loop = l;
    if (push(&l->conns, &l->nconns, &l->conns_cap, c) != SL_OK) return SL_ENOMEM;
    if (c->role == CONN_PUB) return push(&l->pubs, &l->npubs, &l->pubs_cap, c);
    return SL_OK;
}

void loop_mark_dirty(struct loop *l, struct conn *c)
{
    if (c->dirty) return;
    c->dirty = true;
    c->dirty_next = l->dirty;
    l->dirty = c;
}

int loop_update_events(struct loop *l, struct conn *c)
{
    uint32_t want = (c->in_paused ? 0 : EPOLLIN) | (c->out_armed ? EPOLLOUT : 0);
    if (c->fd < 0) return 0;
    if (c->in_epoll && want == c->epmask) return 0;
    struct epoll_event ev = {.events = want, .data.ptr = c};
    int op = c->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(l->epfd, op, c->fd, &ev) != 0) return -1;
    c->in_epoll = true;
    c->epmask = want;
    return 0;
}

void loop_error(struct loop *l, const char *fmt, ...)
{
    l->nerrors++;
    if (l->first_err[0]) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->first_err, sizeof(l->first_err), fmt, ap);
    va_end(ap);
}

/* Waits up to wait_ns with nanosecond resolution where the C library has
 * epoll_pwait2 (glibc 2.35, Linux 5.11); rate-limited publishers keep their
 * schedule smoother that way. Otherwise milliseconds, rounded up. */
static int loop_wait(struct loop *l, struct epoll_event *ev, int64_t wait_ns)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
    static _Atomic int no_pwait2;
    if (!atomic_load_explicit(&no_pwait2, memory_order_relaxed)) {
        struct timespec ts = {.tv_sec = wait_ns / BENCH_NS, .tv_nsec = wait_ns % BENCH_NS};
        int n = epoll_pwait2(l->epfd, ev, LOOP_EVENTS, &ts, NULL);
        if (n >= 0 || errno != ENOSYS) return n;
        atomic_store_explicit(&no_pwait2, 1, memory_order_relaxed);
    }
#endif
    return epoll_wait(l->epfd, ev, LOOP_EVENTS, (int)((wait_ns + 999999) / 1000000));
}

/* Opens connections while the pacing and the handshake limit allow. Returns
 * when the next one is due (INT64_MAX: all open, or waiting for handshakes). */
static int64_t loop_open_more(struct loop *l, int64_t now)
{
    while (l->next_open < l->nconns) {
        if (l->handshaking >= l->o->max_pending) return INT64_MAX;
        if (l->open_interval_ns > 0) {
            int64_t due = l->open_t0 + (int64_t)((double)l->next_open * l->open_interval_ns);
            if (due > now) return due;
        }
        struct conn *c = l->conns[l->next_open++];
        (void)conn_open(c, now); /* a failure is counted and reported */
    }
    return INT64_MAX;
}

static void loop_flush(struct loop *l, int64_t now)
{
    struct conn *c = l->dirty;
    l->dirty = NULL;
    while (c) {
        struct conn *next = c->dirty_next;
        c->dirty = false;
        c->dirty_next = NULL;
        if (!c->out_armed) /* else EPOLLOUT will send it */
            conn_flush(c, now);
        c = next;
    }
}

static void loop_snapshot(struct loop *l)
{
    struct loop_snap *s = &l->snap;
    atomic_store_explicit(&s->published, l->c.published, memory_order_relaxed);
    atomic_store_explicit(&s->expected, l->c.expected, memory_order_relaxed);
    atomic_store_explicit(&s->received, l->c.received, memory_order_relaxed);
    atomic_store_explicit(&s->unique, l->c.unique, memory_order_relaxed);
    atomic_store_explicit(&s->acked, l->c.acked, memory_order_relaxed);
    atomic_store_explicit(&s->inflight, l->inflight, memory_order_relaxed);
    atomic_store_explicit(&s->blocked, l->blocked + (l->dirty != NULL), memory_order_relaxed);
    atomic_store_explicit(&s->pubs_sent_all, l->pubs_sent_all, memory_order_relaxed);
    atomic_store_explicit(&s->ready, l->c.ready, memory_order_relaxed);
    atomic_store_explicit(&s->failed, l->c.failed, memory_order_relaxed);
    atomic_store_explicit(&s->closed, l->c.closed, memory_order_relaxed);
    atomic_store_explicit(&s->last_delivery_ns, l->c.last_delivery_ns, memory_order_release);
}

static void *loop_main(void *arg)
{
    struct loop *l = arg;
    struct epoll_event ev[LOOP_EVENTS];
    int64_t now = bench_now();
    int64_t next_tick = now + BENCH_NS;
    int64_t open_wake = now;

    for (;;) {
        int phase = atomic_load_explicit(&l->ctl->phase, memory_order_acquire);
        if (phase == PHASE_QUIT) break;
        int64_t wake = now + LOOP_MAX_SLEEP_NS;
        if (l->dirty) wake = now;
        if (phase == PHASE_GO && l->pub_wake < wake) wake = l->pub_wake;
        if (open_wake < wake) wake = open_wake;
        int64_t wait_ns = wake > now ? wake - now : 0;

        int n = loop_wait(l, ev, wait_ns);
        if (n < 0) {
            if (errno != EINTR) {
                loop_error(l, "epoll_wait: %s", strerror(errno));
                break;
            }
            n = 0;
        }
        now = bench_now();
        for (int i = 0; i < n; i++)
            conn_on_event(ev[i].data.ptr, ev[i].events, now);

        open_wake = loop_open_more(l, now);
        if (phase == PHASE_GO) {
            now = bench_now();
            int64_t pw = INT64_MAX;
            for (uint32_t i = 0; i < l->npubs; i++) {
                int64_t w = conn_publish(l->pubs[i], now);
                if (w < pw) pw = w;
            }
            l->pub_wake = pw;
        }
        loop_flush(l, now);
        if (now >= next_tick) {
            for (uint32_t i = 0; i < l->nconns; i++)
                conn_tick(l->conns[i], now);
            next_tick = now + BENCH_NS;
        }
        loop_snapshot(l);
    }
    for (uint32_t i = 0; i < l->nconns; i++)
        conn_close(l->conns[i]);
    return NULL;
}

int loop_start(struct loop *l)
{
    /* Signals go to the main thread, which decides what an interrupt means. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&l->tid, NULL, loop_main, l);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) return SL_EIO;
    l->started = true;
    return SL_OK;
}

void loop_join(struct loop *l)
{
    if (l->started) pthread_join(l->tid, NULL);
    l->started = false;
}

void loop_destroy(struct loop *l)
{
    for (uint32_t i = 0; i < l->nconns; i++) {
        conn_free(l->conns[i]);
        free(l->conns[i]);
    }
    free(l->conns);
    free(l->pubs);
    free(l->scratch);
    if (l->epfd >= 0) close(l->epfd);
    l->epfd = -1;
    l->conns = l->pubs = NULL;
    l->nconns = l->npubs = 0;
}

void loops_sum(struct loop *loops, uint32_t n, struct loop_totals *t)
{
    memset(t, 0, sizeof(*t));
    for (uint32_t i = 0; i < n; i++) {
        struct loop_snap *s = &loops[i].snap;
        t->published += atomic_load_explicit(&s->published, memory_order_relaxed);
        t->expected += atomic_load_explicit(&s->expected, memory_order_relaxed);
        t->received += atomic_load_explicit(&s->received, memory_order_relaxed);
        t->unique += atomic_load_explicit(&s->unique, memory_order_relaxed);
        t->acked += atomic_load_explicit(&s->acked, memory_order_relaxed);
        t->inflight += atomic_load_explicit(&s->inflight, memory_order_relaxed);
        t->blocked += atomic_load_explicit(&s->blocked, memory_order_relaxed);
        t->pubs_sent_all += atomic_load_explicit(&s->pubs_sent_all, memory_order_relaxed);
        t->ready += atomic_load_explicit(&s->ready, memory_order_relaxed);
        t->failed += atomic_load_explicit(&s->failed, memory_order_relaxed);
        t->closed += atomic_load_explicit(&s->closed, memory_order_relaxed);
    }
}

void loops_quit(struct run_ctl *ctl, struct loop *loops, uint32_t n)
{
    atomic_store_explicit(&ctl->phase, PHASE_QUIT, memory_order_release);
    for (uint32_t i = 0; i < n; i++)
        loop_join(&loops[i]);
}

void run_ctl_init(struct run_ctl *ctl)
{
    memset(ctl, 0, sizeof(*ctl));
    atomic_store(&ctl->t_me, INT64_MAX);
    snprintf(ctl->id_prefix, sizeof(ctl->id_prefix), "sb%x", (unsigned)getpid() & 0xfffffffu);
}

void loops_free(struct run_ctl *ctl, struct loop *loops, uint32_t n)
{
    if (!loops) return;
    loops_quit(ctl, loops, n);
    for (uint32_t i = 0; i < n; i++)
        loop_destroy(&loops[i]);
    free(loops);
}

const char *loops_first_error(const struct loop *loops, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (loops[i].first_err[0]) return loops[i].first_err;
    return "";
}

bool loop_sleep_until(int64_t t)
{
    for (;;) {
        if (bench_interrupted) return false;
        int64_t now = bench_now();
        if (now >= t) return true;
        int64_t step = t - now;
        if (step > 50 * 1000 * 1000LL)
            step = 50 * 1000 * 1000LL; /* look at the interrupt flag now and then */
        struct timespec ts = {.tv_sec = step / BENCH_NS, .tv_nsec = step % BENCH_NS};
        nanosleep(&ts, NULL);
    }
}

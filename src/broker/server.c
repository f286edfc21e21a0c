/* server.c - see server.h. */
#include "broker/server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/config.h"
#include "broker/session.h"
#include "broker/worker.h"
#include "core/error.h"
#include "core/fdtable.h"
#include "core/hash.h"
#include "core/log.h"
#include "net/listener.h"
#include "store/store.h"
#include "auth/scram.h"
#include "broker/session.h"

int server_home_of(const struct server *srv, const uint8_t *id, size_t len)
{
    return (int)sl_hash_pick(session_id_hash(id, len), (uint32_t)srv->nworkers);
}

static int worker_count(const struct sl_config *cfg)
{
    if (cfg->threads > 0) return cfg->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Binds the sockets of one listener: one per address its bind address resolves
 * to, in every worker (SO_REUSEPORT). Port 0 becomes the port the kernel gave
 * the first socket, for all of them. */
static int open_listener(struct server *srv, size_t li)
{
    const struct sl_listener_conf *lc = &srv->cfg->listeners[li];
    char err[256];
    struct sl_listen_addr *addrs;
    int naddrs = sl_listener_resolve(lc->bind_address, lc->port, &addrs, err, sizeof(err));
    if (naddrs < 0) {
        sl_error("%s", err);
        return SL_EINVAL;
    }
    int rc = SL_OK;
    uint16_t port = lc->port;
    size_t first = srv->nsocks;
    for (int ai = 0; ai < naddrs && rc == SL_OK; ai++) {
        struct sl_listen_addr *a = &addrs[ai];
        if (port != lc->port) sl_listen_addr_set_port(a, port);
        /* Also for port 0: it tells whether the address family is usable. */
        if (sl_listener_check_free(a, err, sizeof(err)) < 0) {
            if (errno == EAFNOSUPPORT && naddrs > 1) { /* e.g. ::1 with IPv6 disabled */
                sl_warn("%s: skipped", err);
                continue;
            }
            sl_error("%s", err);
            rc = SL_EIO;
            break;
        }
        size_t k = srv->nsocks;
        uint16_t *sl = realloc(srv->sock_listener, (k + 1) * sizeof(*sl));
        if (!sl) {
            rc = SL_ENOMEM;
            break;
        }
        srv->sock_listener = sl;
        sl[k] = (uint16_t)li;
        for (int wi = 0; wi < srv->nworkers && rc == SL_OK; wi++) {
            struct worker *w = &srv->workers[wi];
            int *fds = realloc(w->listen_fds, (k + 1) * sizeof(*fds));
            if (fds) {
                fds[k] = -1;
                w->listen_fds = fds;
            } else {
                rc = SL_ENOMEM;
            }
        }
        if (rc != SL_OK) break;
        srv->nsocks = k + 1; /* every worker has slot k: -1 until opened */
        for (int wi = 0; wi < srv->nworkers && rc == SL_OK; wi++) {
            int fd = sl_listener_open(a, srv->cfg->set_tcp_nodelay, err, sizeof(err));
            if (fd < 0) {
                sl_error("%s", err);
                rc = SL_EIO;
                break;
            }
            srv->workers[wi].listen_fds[k] = fd;
            if (port == 0) {
                port = sl_listener_port(fd);
                sl_listen_addr_set_port(a, port);
            }
        }
        if (rc == SL_OK) sl_notice("listening on %s", a->text);
    }
    srv->ports[li] = port;
    free(addrs);
    if (rc == SL_OK && srv->nsocks == first) { /* every address skipped */
        sl_error("listener on port %u: no usable address", (unsigned)lc->port);
        rc = SL_EIO;
    }
    return rc;
}

static int open_listeners(struct server *srv)
{
    for (size_t li = 0; li < srv->cfg->nlisteners; li++) {
        int rc = open_listener(srv, li);
        if (rc != SL_OK) return rc;
    }
    return SL_OK;
}

int server_init(struct server *srv, const struct sl_config *cfg)
{
    memset(srv, 0, sizeof(*srv));
    srv->cfg = cfg;
    if (cfg->nlisteners > UINT16_MAX) { /* sock_listener holds listener indexes */
        sl_error("too many listeners (%zu; at most %u)", cfg->nlisteners, UINT16_MAX);
        return SL_EINVAL;
    }
    srv->nworkers = worker_count(cfg);
    srv->start_ms = worker_clock_ms();
    atomic_init(&srv->stop, false);
    if (topic_tree_init(&srv->subs, (unsigned)srv->nworkers) != SL_OK ||
        retain_init(&srv->retained) != SL_OK)
        return SL_ENOMEM;
    srv->subs.share_policy = cfg->shared_subscription_policy;
    srv->subs.member_online = session_online_any;
    if (cfg->scram_file) {
        char err[512];
        int rc = scram_creds_load(cfg->scram_file, &srv->scram, err, sizeof(err));
        if (rc != SL_OK) {
            sl_error("scram_file: %s", err);
            return rc;
        }
        sl_notice("loaded %zu SCRAM-SHA-256 credentials from %s", scram_creds_count(srv->scram),
                  cfg->scram_file);
    }
    srv->store = sl_store_memory_open();
    srv->workers = calloc((size_t)srv->nworkers, sizeof(*srv->workers));
    srv->conns = calloc(cfg->nlisteners, sizeof(*srv->conns));
    srv->ports = calloc(cfg->nlisteners, sizeof(*srv->ports));
    if (!srv->store || !srv->workers || !srv->conns || !srv->ports) return SL_ENOMEM;
    for (int i = 0; i < srv->nworkers; i++) {
        int rc = worker_init(&srv->workers[i], srv, i);
        if (rc != SL_OK) {
            sl_error("worker %d: %s", i, sl_strerror(rc));
            return rc;
        }
    }
    return open_listeners(srv);
}

static void stop_workers(struct server *srv, int started)
{
    atomic_store(&srv->stop, true);
    for (int i = 0; i < started; i++)
        sl_inbox_wake(&srv->workers[i].inbox);
    for (int i = 0; i < started; i++)
        pthread_join(srv->workers[i].thread, NULL);
}

int server_run(struct server *srv)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    /* Workers inherit this mask: only the main thread takes signals, in sigwait. */
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* While this is the only thread (fdtable.h). Up to 65,536 descriptors, 512 KiB
     * of kernel memory at most: past that, each doubling costs one stall. */
    sl_fdtable_reserve(65536);

    int started = 0;
    for (; started < srv->nworkers; started++) {
        if (worker_start(&srv->workers[started]) != SL_OK) {
            sl_error("cannot start worker %d", started);
            stop_workers(srv, started);
            return SL_EIO;
        }
    }
    sl_notice("Starling %s running with %d worker thread%s", SL_VERSION, srv->nworkers,
              srv->nworkers == 1 ? "" : "s");
    for (;;) {
        int sig;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGHUP) {
            /* Reopen the log file (logrotate). Config reload arrives with the
             * features that have reloadable state (passwords, ACLs, certificates). */
            const struct sl_config *cfg = srv->cfg;
            sl_log_close();
            sl_log_open(cfg->log_dest, cfg->log_file, cfg->log_types, cfg->log_timestamp);
            sl_notice("SIGHUP: log reopened");
            continue;
        }
        sl_notice("signal %d: shutting down", sig);
        break;
    }
    stop_workers(srv, srv->nworkers);
    return SL_OK;
}

void server_destroy(struct server *srv)
{
    if (srv->workers) {
        for (int i = 0; i < srv->nworkers; i++)
            worker_destroy(&srv->workers[i]);
        for (int i = 0; i < srv->nworkers; i++)
            worker_drain_leftovers(&srv->workers[i]);
        for (int i = 0; i < srv->nworkers; i++)
            sl_msg_home_collect(&srv->workers[i].msg_home);
        free(srv->workers);
    }
    if (srv->subs.root) topic_tree_destroy(&srv->subs);
    if (srv->retained.root) retain_destroy(&srv->retained);
    sl_store_close(srv->store);
    scram_creds_free(srv->scram);
    free(srv->conns);
    free(srv->ports);
    free(srv->sock_listener);
    memset(srv, 0, sizeof(*srv));
}

/*
 * server.h - the broker instance: configuration, workers, and the state all
 * workers share (subscriptions, retained messages, store).
 *
 * Shared state and its locks:
 *   subs      topic_tree, read-write lock (read per publish to collect matches)
 *   retained  retain_store, read-write lock
 *   conns     per-listener atomic connection counts (max_connections)
 * Everything else belongs to exactly one worker.
 */
#ifndef SL_BROKER_SERVER_H
#define SL_BROKER_SERVER_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/retain.h"
#include "broker/topic_tree.h"

struct scram_creds;
struct sl_config;
struct sl_store;
struct worker;

struct server {
    const struct sl_config *cfg;
    int nworkers;
    struct worker *workers;
    struct topic_tree subs;
    struct retain_store retained;
    struct sl_store *store;
    atomic_bool stop;
    atomic_int *conns;         /* per listener */
    uint16_t *ports;           /* per listener, as bound */
    size_t nsocks;             /* bound addresses, all listeners: each worker's listen_fds */
    uint16_t *sock_listener;   /* per bound address: its listener's index */
    uint64_t start_ms;         /* worker_clock_ms() at server_init, for $SYS uptime */
    struct scram_creds *scram; /* scram_file, loaded at start; NULL: none */
    const char *scram_nonce;   /* fixed SCRAM server nonce (fuzz_broker); NULL: random */
};

/* Opens listeners and prepares workers (not started). Errors are logged. */
int server_init(struct server *srv, const struct sl_config *cfg);

/* Starts the workers and blocks until SIGINT/SIGTERM. SIGHUP reopens the log. */
int server_run(struct server *srv);

void server_destroy(struct server *srv);

/* Worker that owns sessions with this client id. */
int server_home_of(const struct server *srv, const uint8_t *id, size_t len);

#endif

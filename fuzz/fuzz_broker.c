/*
 * fuzz_broker.c - the whole inbound path of the real broker under libFuzzer:
 * framing, every packet handler, sessions, routing between two workers,
 * retained messages, wills, held acks and output.
 *
 * One server (2 workers, small windows and queues so limits are reached) lives
 * for the whole run; nothing runs in threads: the target calls
 * worker_run_once() on both workers itself. An input is split at the marker
 * FF FE FD FC into up to 4 byte streams; each goes to its own connection (a
 * socketpair standing in for TCP), in order, and all stay open until the end
 * of the input, so one client's publishes reach another's subscriptions. The
 * broker's replies are read and discarded.
 *
 * For MQTT 5.0: clients may set 10 topic aliases (the default), CONNACK has
 * Response Information, and SCRAM-SHA-256 knows one user ("fuzz", password
 * "pencil"; the line comes from make_broker_seeds.py --scram-line) with a fixed
 * server nonce, so a seed can carry a whole exchange and runs are repeatable.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/scram.h"
#include "broker/client.h"
#include "broker/config.h"
#include "broker/server.h"
#include "broker/worker.h"
#include "core/log.h"
#include "core/outq.h"

static struct sl_config cfg;
static struct server srv;
static bool ready;

static void teardown(void)
{
    server_destroy(&srv);
    sl_outq_cache_drain();
    sl_config_free(&cfg);
    sl_log_close();
}

static void setup(void)
{
    char err[256];
    sl_log_open(0, NULL, 0, false); /* quiet */
    sl_config_init(&cfg);
    if (sl_config_load_string(&cfg, "fuzz",
                              "listener 0 127.0.0.1\n"
                              "threads 2\n"
                              "max_inflight_messages 3\n"
                              "max_queued_messages 10\n"
                              "queue_qos0_messages true\n"
                              "max_packet_size 65536\n"
                              "connection_messages false\n"
                              "response_information resp/%c\n",
                              err, sizeof(err)) != 0 ||
        sl_config_finish(&cfg, 0, false, err, sizeof(err)) != 0 || server_init(&srv, &cfg) != 0)
        abort();
    /* As scram_file would, without a file. */
    if (scram_creds_parse("fuzz",
                          "fuzz:4096:c3RhcmxpbmctZnV6ei1zYWx0:"
                          "H3vN7dbrNCcBAfCijtrA0IpEuLWSMxXNLnz8B75HyPw=:"
                          "dAU5u6URoddJIvYCKq2bj3PkYQ1EmY0rrMwOobQWcak=\n",
                          &srv.scram, err, sizeof(err)) != 0)
        abort();
    srv.scram_nonce = "fuzzservernonce";
    atexit(teardown);
    ready = true;
}

static void spin(int rounds, const int *peers, int npeers)
{
    uint8_t sink[65536];
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < srv.nworkers; i++)
            worker_run_once(&srv.workers[i], 0);
        for (int p = 0; p < npeers; p++)
            while (peers[p] >= 0 && read(peers[p], sink, sizeof(sink)) > 0)
                ;
    }
}

static const uint8_t MARK[4] = {0xff, 0xfe, 0xfd, 0xfc};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) setup();
    int peers[4] = {-1, -1, -1, -1};
    int npeers = 0;
    size_t off = 0;
    while (off <= size && npeers < 4) {
        const uint8_t *seg = data + off;
        size_t len = size - off;
        const uint8_t *m = len >= 4 ? memmem(seg, len, MARK, 4) : NULL;
        if (m) len = (size_t)(m - seg);
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) break;
        atomic_fetch_add(&srv.conns[0], 1);           /* as accept would */
        const struct sl_peer unknown = {.family = 0}; /* a socketpair has no address */
        if (!client_new(&srv.workers[npeers % srv.nworkers], sv[0], &unknown, 0)) {
            atomic_fetch_sub(&srv.conns[0], 1);
            close(sv[1]);
            break;
        }
        peers[npeers++] = sv[1];
        /* Feed in slices so that packets also arrive split across reads. */
        for (size_t done = 0; done < len;) {
            size_t slice = len - done < 700 ? len - done : 700;
            /* MSG_NOSIGNAL: the broker may have closed its end already (a
             * refused CONNECT, a 5.0 DISCONNECT); that must not be a SIGPIPE. */
            ssize_t w = send(sv[1], seg + done, slice, MSG_NOSIGNAL);
            if (w <= 0) break;
            done += (size_t)w;
            spin(2, peers, npeers);
        }
        spin(3, peers, npeers);
        if (!m) break;
        off += len + 4;
    }
    for (int p = 0; p < npeers; p++) {
        close(peers[p]);
        peers[p] = -1;
    }
    spin(4, peers, npeers);
    return 0;
}

/*
 * listener.h - listening sockets. Every worker gets its own socket per address
 * of each configured listener, bound with SO_REUSEPORT, so the kernel spreads
 * new connections over the workers and no thread hands accepted fds around.
 */
#ifndef SL_NET_LISTENER_H
#define SL_NET_LISTENER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "net/peer.h"

/* One address to listen on, as resolved from a configured bind address. */
struct sl_listen_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    char text[64]; /* "127.0.0.1:1883", "[::1]:1883" */
};

/* The addresses for host:port (host NULL = any address: 0.0.0.0 and ::, the
 * IPv6 socket IPv6-only, as Mosquitto binds them). A numeric IPv4
 * or IPv6 address gives itself; a host name gives every distinct address
 * getaddrinfo returns for it ("localhost": 127.0.0.1 and ::1), as Mosquitto
 * binds them. Returns the count (>= 1) with *out malloc'd, or -1 with a message
 * in err. */
int sl_listener_resolve(const char *host, uint16_t port, struct sl_listen_addr **out, char *err,
                        unsigned errlen);

/* Sets the port of a (to bind the others where port 0 put the first). */
void sl_listen_addr_set_port(struct sl_listen_addr *a, uint16_t port);

/* Opens a non-blocking listening TCP socket on a with SO_REUSEPORT, whose
 * accept waits for the client's first bytes (TCP_DEFER_ACCEPT, up to about a
 * second) and whose accepted sockets have TCP_NODELAY when nodelay. Returns the
 * fd, or -1 with errno and a message in err. */
int sl_listener_open(const struct sl_listen_addr *a, bool nodelay, char *err, unsigned errlen);

/* Whether a is free, by binding it without SO_REUSEPORT and closing at once: 0,
 * or -1 with errno and a message in err. Call it before the first
 * sl_listener_open of a fixed port, because SO_REUSEPORT would otherwise let a
 * second broker of the same user join the port and silently take half of the
 * new connections. */
int sl_listener_check_free(const struct sl_listen_addr *a, char *err, unsigned errlen);

/* The port a socket is bound to (to learn what port 0 became). */
uint16_t sl_listener_port(int fd);

/* Accepts one connection: non-blocking, close-on-exec; fills peer. Returns the
 * fd or -1 with errno (EAGAIN when none is pending). */
int sl_listener_accept(int lfd, struct sl_peer *peer);

#endif

/*
 * listener.h - listening sockets. Every worker gets its own socket per configured
 * listener, bound with SO_REUSEPORT, so the kernel spreads new connections over
 * the workers and no thread hands accepted fds around.
 */
#ifndef SL_NET_LISTENER_H
#define SL_NET_LISTENER_H

#include <stdint.h>

/* Opens a non-blocking listening TCP socket on addr:port (addr NULL = any IPv4
 * address; an address containing ':' is IPv6) with SO_REUSEPORT. Returns the fd, or
 * -1 with errno and a message in err. */
int sl_listener_open(const char *addr, uint16_t port, char *err, unsigned errlen);

/* Whether addr:port is free, by binding it without SO_REUSEPORT and closing at
 * once: 0, or -1 with errno and a message in err. Call it before the first
 * sl_listener_open of a fixed port, because SO_REUSEPORT would otherwise let a
 * second broker of the same user join the port and silently take half of the
 * new connections. */
int sl_listener_check_free(const char *addr, uint16_t port, char *err, unsigned errlen);

/* The port a socket is bound to (to learn what port 0 became). */
uint16_t sl_listener_port(int fd);

/* Accepts one connection: non-blocking, close-on-exec; fills peer as "ip:port".
 * Returns the fd or -1 with errno (EAGAIN when none is pending). */
int sl_listener_accept(int lfd, char *peer, unsigned peerlen);

#endif

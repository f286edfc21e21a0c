/*
 * conn.h - one vtable for every transport (TCP now; TLS, WebSocket and Unix
 * sockets later), so the broker never branches on the transport.
 *
 * read/writev follow read(2)/writev(2): bytes, 0 at end of stream (read), or -1
 * with errno (EAGAIN when the socket would block).
 */
#ifndef SL_NET_CONN_H
#define SL_NET_CONN_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

struct sl_conn;

struct sl_transport {
    const char *name;
    ssize_t (*read)(struct sl_conn *c, void *buf, size_t len);
    ssize_t (*writev)(struct sl_conn *c, const struct iovec *iov, int iovcnt);
    void (*close)(struct sl_conn *c);
};

struct sl_conn {
    const struct sl_transport *tp;
    int fd;
};

extern const struct sl_transport sl_tcp_transport;

#endif

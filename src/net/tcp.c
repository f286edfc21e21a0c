/* tcp.c - the plain TCP transport. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/conn.h"

static ssize_t tcp_read(struct sl_conn *c, void *buf, size_t len)
{
    ssize_t n;
    do {
        n = recv(c->fd, buf, len, 0);
    } while (n < 0 && errno == EINTR);
    return n;
}

static ssize_t tcp_writev(struct sl_conn *c, const struct iovec *iov, int iovcnt)
{
    /* sendmsg rather than writev: MSG_NOSIGNAL turns a peer reset into EPIPE
     * instead of a process-wide SIGPIPE. */
    struct msghdr mh = {.msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt};
    return sendmsg(c->fd, &mh, MSG_NOSIGNAL);
}

static void tcp_close(struct sl_conn *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
}

const struct sl_transport sl_tcp_transport = {
    .name = "tcp",
    .read = tcp_read,
    .writev = tcp_writev,
    .close = tcp_close,
};

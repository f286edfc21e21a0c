/* listener.c - see listener.h. */
#include "net/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int make_addr(const char *addr, uint16_t port, struct sockaddr_storage *ss, socklen_t *sslen,
                     char *err, unsigned errlen)
{
    memset(ss, 0, sizeof(*ss));
    if (addr && strchr(addr, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, addr, &a6->sin6_addr) != 1) {
            snprintf(err, errlen, "invalid IPv6 address '%s'", addr);
            errno = EINVAL;
            return -1;
        }
        *sslen = sizeof(*a6);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        if (!addr)
            a4->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, addr, &a4->sin_addr) != 1) {
            snprintf(err, errlen, "invalid IPv4 address '%s' (host names are not resolved)", addr);
            errno = EINVAL;
            return -1;
        }
        *sslen = sizeof(*a4);
    }
    return 0;
}

/* reuseport: join (or start) a group of sockets sharing the port. */
static int bind_socket(const char *addr, uint16_t port, bool reuseport, bool listening, char *err,
                       unsigned errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    if (make_addr(addr, port, &ss, &sslen, err, errlen) < 0) return -1;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if ((reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
        bind(fd, (struct sockaddr *)&ss, sslen) < 0 || (listening && listen(fd, 4096) < 0)) {
        int e = errno;
        snprintf(err, errlen, "cannot listen on %s:%u: %s%s", addr ? addr : "0.0.0.0", port,
                 strerror(e),
                 e == EADDRINUSE ? " (another broker, or another program, has this port)" : "");
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int sl_listener_check_free(const char *addr, uint16_t port, char *err, unsigned errlen)
{
    int fd = bind_socket(addr, port, false, false, err, errlen);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

int sl_listener_open(const char *addr, uint16_t port, char *err, unsigned errlen)
{
    return bind_socket(addr, port, true, true, err, errlen);
}

uint16_t sl_listener_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return 0;
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int sl_listener_accept(int lfd, char *peer, unsigned peerlen)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd;
    do {
        fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return -1;
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
        port = ntohs(a6->sin6_port);
    } else if (ss.ss_family == AF_INET) {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
        port = ntohs(a4->sin_port);
    }
    snprintf(peer, peerlen, "%s:%u", ip, port);
    return fd;
}

/* listener.c - see listener.h. */
#include "net/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void describe(struct sl_listen_addr *a)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &a6->sin6_addr, ip, sizeof(ip));
        port = ntohs(a6->sin6_port);
        snprintf(a->text, sizeof(a->text), "[%s]:%u", ip, port);
    } else {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)&a->ss;
        inet_ntop(AF_INET, &a4->sin_addr, ip, sizeof(ip));
        port = ntohs(a4->sin_port);
        snprintf(a->text, sizeof(a->text), "%s:%u", ip, port);
    }
}

void sl_listen_addr_set_port(struct sl_listen_addr *a, uint16_t port)
{
    if (a->ss.ss_family == AF_INET6)
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
    describe(a);
}

int sl_listener_resolve(const char *host, uint16_t port, struct sl_listen_addr **out, char *err,
                        unsigned errlen)
{
    *out = NULL;
    if (!host) { /* every address, both families, as Mosquitto */
        struct sl_listen_addr *v = calloc(2, sizeof(*v));
        if (!v) goto oom;
        struct sockaddr_in *a4 = (struct sockaddr_in *)&v[0].ss;
        a4->sin_family = AF_INET;
        a4->sin_addr.s_addr = htonl(INADDR_ANY);
        v[0].len = sizeof(*a4);
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&v[1].ss;
        a6->sin6_family = AF_INET6;
        a6->sin6_addr = in6addr_any;
        v[1].len = sizeof(*a6);
        sl_listen_addr_set_port(&v[0], port);
        sl_listen_addr_set_port(&v[1], port);
        *out = v;
        return 2;
    }
    /* No AI_ADDRCONFIG: it would hide ::1 on a host whose only IPv6 address is
     * the loopback, which is exactly where "localhost" listeners are common. */
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve bind address '%s': %s", host, gai_strerror(rc));
        errno = EINVAL;
        return -1;
    }
    size_t n = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        n++;
    struct sl_listen_addr *v = calloc(n ? n : 1, sizeof(*v));
    if (!v) {
        freeaddrinfo(res);
        goto oom;
    }
    size_t k = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            ai->ai_addrlen > sizeof(v[k].ss))
            continue;
        bool seen = false;
        for (size_t j = 0; j < k && !seen; j++)
            seen = v[j].len == ai->ai_addrlen && memcmp(&v[j].ss, ai->ai_addr, ai->ai_addrlen) == 0;
        if (seen) continue;
        memcpy(&v[k].ss, ai->ai_addr, ai->ai_addrlen);
        v[k].len = (socklen_t)ai->ai_addrlen;
        sl_listen_addr_set_port(&v[k], port);
        k++;
    }
    freeaddrinfo(res);
    if (k == 0) {
        free(v);
        snprintf(err, errlen, "bind address '%s' has no IPv4 or IPv6 address", host);
        errno = EINVAL;
        return -1;
    }
    *out = v;
    return (int)k;
oom:
    snprintf(err, errlen, "out of memory");
    errno = ENOMEM;
    return -1;
}

/* reuseport: join (or start) a group of sockets sharing the address.
 * listening: listen, deferring accept until the client's first bytes (MQTT
 * clients speak first: a CONNECT, a TLS ClientHello, an HTTP upgrade), so the
 * worker reads them at accept and a silent connection costs the kernel a
 * request socket, not the broker a client. One second: after it, a silent
 * connection is accepted anyway and connect_timeout closes it.
 * nodelay: TCP_NODELAY, which accepted sockets inherit on Linux. */
static int bind_socket(const struct sl_listen_addr *a, bool reuseport, bool listening, bool nodelay,
                       char *err, unsigned errlen)
{
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "cannot listen on %s: socket: %s", a->text, strerror(e));
        errno = e; /* the caller tells EAFNOSUPPORT apart */
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* An IPv6 socket takes only IPv6: "::" and "0.0.0.0" may both be listed. */
    if (a->ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (nodelay) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (listening) setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof(one));
    if ((reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
        bind(fd, (const struct sockaddr *)&a->ss, a->len) < 0 ||
        (listening && listen(fd, 4096) < 0)) {
        int e = errno;
        snprintf(err, errlen, "cannot listen on %s: %s%s", a->text, strerror(e),
                 e == EADDRINUSE ? " (another broker, or another program, has this port)" : "");
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int sl_listener_check_free(const struct sl_listen_addr *a, char *err, unsigned errlen)
{
    int fd = bind_socket(a, false, false, false, err, errlen);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

int sl_listener_open(const struct sl_listen_addr *a, bool nodelay, char *err, unsigned errlen)
{
    return bind_socket(a, true, true, nodelay, err, errlen);
}

uint16_t sl_listener_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0) return 0;
    if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

int sl_listener_accept(int lfd, struct sl_peer *peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd;
    do {
        fd = accept4(lfd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) return -1;
    sl_peer_set(peer, (struct sockaddr *)&ss);
    return fd;
}

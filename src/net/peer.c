/* peer.c - see peer.h. */
#include "net/peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

void sl_peer_set(struct sl_peer *p, const struct sockaddr *sa)
{
    memset(p, 0, sizeof(*p));
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
        memcpy(p->ip, &a4->sin_addr, 4);
        p->port = ntohs(a4->sin_port);
        p->family = 4;
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
        memcpy(p->ip, &a6->sin6_addr, 16);
        p->port = ntohs(a6->sin6_port);
        p->family = 6;
    }
}

const char *sl_peer_text(const struct sl_peer *p, char buf[SL_PEER_TEXT])
{
    char ip[INET6_ADDRSTRLEN];
    if (p->family == 0 || !inet_ntop(p->family == 4 ? AF_INET : AF_INET6, p->ip, ip, sizeof(ip))) {
        snprintf(buf, SL_PEER_TEXT, "?");
        return buf;
    }
    snprintf(buf, SL_PEER_TEXT, "%s:%u", ip, (unsigned)p->port);
    return buf;
}

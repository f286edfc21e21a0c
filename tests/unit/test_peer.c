/* Unit tests for net/peer.c: IPv4 and IPv6 peers written as "ip:port" (as the
 * log lines have always shown them), the longest fits, and anything else is
 * "?". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "check.h"
#include "net/peer.h"

/* The peer of an AF_INET or AF_INET6 socket address for ip and port. */
static struct sl_peer peer_of(int family, const char *ip, uint16_t port)
{
    struct sockaddr_storage ss = {.ss_family = (sa_family_t)family};
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (family == AF_INET) {
        a4->sin_port = htons(port);
        CHECK(inet_pton(AF_INET, ip, &a4->sin_addr) == 1);
    } else {
        a6->sin6_port = htons(port);
        CHECK(inet_pton(AF_INET6, ip, &a6->sin6_addr) == 1);
    }
    struct sl_peer p;
    sl_peer_set(&p, (struct sockaddr *)&ss);
    return p;
}

static void test_ipv4(void)
{
    struct sl_peer p = peer_of(AF_INET, "127.0.0.1", 1883);
    CHECK_EQ_INT(p.family, 4);
    CHECK(strcmp(SL_PEER_STR(&p), "127.0.0.1:1883") == 0);
}

static void test_ipv6(void)
{
    struct sl_peer p = peer_of(AF_INET6, "::1", 65535);
    CHECK_EQ_INT(p.family, 6);
    CHECK(strcmp(SL_PEER_STR(&p), "::1:65535") == 0);
    /* The longest text form an address takes, with the longest port. */
    p = peer_of(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535);
    char buf[SL_PEER_TEXT];
    CHECK(strcmp(sl_peer_text(&p, buf), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff:65535") == 0);
    CHECK(buf == sl_peer_text(&p, buf));
}

static void test_unknown(void)
{
    struct sockaddr_un u = {.sun_family = AF_UNIX};
    struct sl_peer p;
    memset(&p, 0x5a, sizeof(p));
    sl_peer_set(&p, (struct sockaddr *)&u);
    CHECK_EQ_INT(p.family, 0);
    CHECK_EQ_INT(p.port, 0);
    CHECK(strcmp(SL_PEER_STR(&p), "?") == 0);
    struct sl_peer zero = {0};
    CHECK(strcmp(SL_PEER_STR(&zero), "?") == 0);
}

int main(void)
{
    RUN(test_ipv4);
    RUN(test_ipv6);
    RUN(test_unknown);
    return check_summary();
}

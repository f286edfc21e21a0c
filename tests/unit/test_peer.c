/* Unit tests for net/peer.c: IPv4 and IPv6 peers written as "ip:port" (as the
 * log lines have always shown them), the longest fits, and anything else is
 * "?". */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "check.h"
#include "net/peer.h"

static void test_ipv4(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(1883)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    struct sl_peer p;
    sl_peer_set(&p, (struct sockaddr *)&a);
    CHECK_EQ_INT(p.family, 4);
    CHECK(strcmp(SL_PEER_STR(&p), "127.0.0.1:1883") == 0);
}

static void test_ipv6(void)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(65535)};
    inet_pton(AF_INET6, "::1", &a.sin6_addr);
    struct sl_peer p;
    sl_peer_set(&p, (struct sockaddr *)&a);
    CHECK_EQ_INT(p.family, 6);
    CHECK(strcmp(SL_PEER_STR(&p), "::1:65535") == 0);
    /* The longest text form an address takes, with the longest port. */
    memset(&a.sin6_addr, 0xff, 16);
    sl_peer_set(&p, (struct sockaddr *)&a);
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

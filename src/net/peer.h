/*
 * peer.h - a connection's remote address, kept in 20 bytes and written out as
 * text only when a log line needs it: every connection holds one, and the text
 * form (an IPv6 address and port can take 53 bytes) is for the few that are
 * logged.
 */
#ifndef SL_NET_PEER_H
#define SL_NET_PEER_H

#include <stdint.h>
#include <sys/socket.h>

struct sl_peer {
    uint8_t ip[16]; /* IPv4: the first 4 bytes */
    uint16_t port;
    uint8_t family; /* 4, 6, or 0 when unknown */
};

/* Room for any sl_peer_text, NUL included. */
#define SL_PEER_TEXT 56

/* Takes the address of an AF_INET or AF_INET6 socket address; any other
 * family gives an unknown peer. */
void sl_peer_set(struct sl_peer *p, const struct sockaddr *sa);

/* "ip:port" (as Mosquitto logs it, IPv6 too), or "?" when unknown, in buf;
 * returns buf. */
const char *sl_peer_text(const struct sl_peer *p, char buf[SL_PEER_TEXT]);

/* The text in a buffer that lives until the end of the enclosing block, for
 * log arguments. */
#define SL_PEER_STR(p) sl_peer_text((p), (char[SL_PEER_TEXT]){0})

#endif

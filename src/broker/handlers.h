/*
 * handlers.h - one handler per inbound packet type, one file each
 * (handle_connect.c, handle_publish.c, ...). client.c frames a packet, checks
 * the fixed-header flags and state, and calls the handler with the body.
 *
 * A handler returns SL_OK, or an error: the caller then closes the connection
 * (publishing the will), after a 5.0 DISCONNECT whose reason the handler set
 * with client_fail() or, by default, 0x81 for SL_EMALFORMED and 0x82 for the
 * rest. Only DISCONNECT closes its own connection.
 */
#ifndef SL_BROKER_HANDLERS_H
#define SL_BROKER_HANDLERS_H

#include <stddef.h>
#include <stdint.h>

#include "proto/decode.h"
#include "proto/props.h"

struct client;

int handle_connect(struct client *c, const uint8_t *body, size_t len);
int handle_publish(struct client *c, uint8_t flags, const uint8_t *body, size_t len);
int handle_puback(struct client *c, const uint8_t *body, size_t len);
int handle_pubrec(struct client *c, const uint8_t *body, size_t len);
int handle_pubrel(struct client *c, const uint8_t *body, size_t len);
int handle_pubcomp(struct client *c, const uint8_t *body, size_t len);
int handle_subscribe(struct client *c, const uint8_t *body, size_t len);
int handle_unsubscribe(struct client *c, const uint8_t *body, size_t len);
int handle_pingreq(struct client *c, const uint8_t *body, size_t len);
int handle_disconnect(struct client *c, const uint8_t *body, size_t len);
int handle_auth(struct client *c, const uint8_t *body, size_t len);

/* 5.0 checks of a PUBACK/PUBREC/PUBREL/PUBCOMP (handle_ack.c). */
int handle_ack_props(struct client *c, uint8_t type, const struct sl_ack *a);

/* Refuses the connection with a CONNACK and logs why; rc is the 5.0 reason
 * code (send_connack_refuse maps it for older clients). Returns SL_OK: the
 * connection closes once the CONNACK is written. */
int connect_refuse(struct client *c, uint8_t rc, const char *why);

/* A decoded CONNECT with its 5.0 property blocks interpreted. */
struct connect_info {
    struct sl_connect cn;
    struct sl_props props;  /* CONNECT properties (empty before 5.0) */
    struct sl_props wprops; /* Will Properties */
};

/* Decodes a CONNECT body and, for 5.0, its property blocks. SL_OK, or the
 * error with the 5.0 reason code for a refusing CONNACK in *reason. The AUTH
 * exchange decodes the CONNECT it kept again with it. */
int connect_decode(const uint8_t *body, size_t len, struct connect_info *ci, uint8_t *reason);

/* The second half of CONNECT, once enhanced authentication (if any) succeeded:
 * the session, the will, CONNACK. auth (may be NULL) is the Authentication
 * Method and Data for the CONNACK. handle_auth.c calls it too. */
int connect_accept(struct client *c, const struct connect_info *ci, const struct sl_props *auth);

#endif

/*
 * handlers.h - one handler per inbound packet type, one file each
 * (handle_connect.c, handle_publish.c, ...). client.c frames a packet, checks
 * the fixed-header flags and state, and calls the handler with the body.
 *
 * A handler returns SL_OK, or an error: the caller then closes the connection
 * (publishing the will). Only DISCONNECT closes its own connection.
 */
#ifndef SL_BROKER_HANDLERS_H
#define SL_BROKER_HANDLERS_H

#include <stddef.h>
#include <stdint.h>

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

#endif

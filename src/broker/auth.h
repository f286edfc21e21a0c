/*
 * auth.h - MQTT 5 enhanced authentication (5.0 §4.12): the AUTH exchange
 * around one built-in method, SCRAM-SHA-256 (auth/scram.h), during CONNECT and
 * for re-authentication on a live connection. handle_auth.c implements it.
 *
 *   CONNECT (method, client-first)  -> AUTH 0x18 (server-first)
 *   AUTH 0x18 (client-final)        -> CONNACK 0x00 (server-final) | CONNACK 0x87
 *   AUTH 0x19 (client-first)        -> AUTH 0x18 ... -> AUTH 0x00 | DISCONNECT 0x87
 */
#ifndef SL_BROKER_AUTH_H
#define SL_BROKER_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct sl_props;

#define AUTH_METHOD_SCRAM "SCRAM-SHA-256"

struct auth_exchange;
void auth_exchange_free(struct auth_exchange *a);

/* CONNECT carried an Authentication Method (props): refuses an unknown one
 * with CONNACK 0x8C (5.0 §4.12), else starts the exchange, keeping a copy
 * of the CONNECT to finish it with (connect_accept). */
int auth_begin(struct client *c, const uint8_t *body, size_t len, const struct sl_props *props);

#endif

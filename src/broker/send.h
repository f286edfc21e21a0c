/*
 * send.h - encoding what the broker sends into a client's output queue.
 * Acks that confirm state go through the held path (client_send_held).
 */
#ifndef SL_BROKER_SEND_H
#define SL_BROKER_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct client;
struct session;
struct sl_msg;

/* PUBLISH of a shared message: head and packet id vary, topic and payload are the
 * message's (large payloads referenced, not copied). */
int send_publish(struct client *c, struct sl_msg *m, uint8_t qos, bool retain, bool dup,
                 uint16_t pid);

/* CONNACK (held). Before 5.0: return code. */
int send_connack(struct client *c, bool session_present, uint8_t rc);
/* CONNACK that refuses the connection: sent directly, then the client closes. */
void send_connack_refuse(struct client *c, uint8_t rc);

/* PUBACK / PUBREC / PUBCOMP (held) and PUBREL (direct: it confirms nothing the
 * broker stores). type is enum sl_ptype. */
int send_ack(struct client *c, uint8_t type, uint16_t pid);
/* PUBACK/PUBREC held also until blocker is no longer congested (back-pressure;
 * the reference is taken over, NULL allowed). */
int send_ack_after(struct client *c, uint8_t type, uint16_t pid, struct session *blocker);

int send_suback(struct client *c, uint16_t pid, const uint8_t *codes, size_t n);
int send_unsuback(struct client *c, uint16_t pid);
int send_pingresp(struct client *c);

#endif

/*
 * send.h - encoding what the broker sends into a client's output queue, in the
 * form of the client's protocol version. Acks that confirm state go through the
 * held path (client_send_held).
 *
 * Reason Strings (5.0) are added to acks that report an error (reason >= 0x80)
 * when the client did not turn Request Problem Information off
 * [MQTT-3.1.2-29], and to DISCONNECT always; they are the reason code's name
 * unless the caller has something more specific. Properties that would push a
 * packet past the client's Maximum Packet Size are left out [MQTT-3.1.2-26].
 */
#ifndef SL_BROKER_SEND_H
#define SL_BROKER_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct client;
struct delivery;
struct session;
struct sl_msg;
struct sl_props;

/* PUBLISH of a shared message: head and packet id vary, topic and payload are the
 * message's (large payloads referenced, not copied). For 5.0: the message's
 * properties, the remaining Message Expiry Interval [MQTT-3.3.2-6], the
 * delivery's Subscription Identifiers and a topic alias when the client takes
 * them. SL_ETOOBIG, nothing sent, when the packet would exceed the client's
 * Maximum Packet Size [MQTT-3.1.2-25]. */
int send_publish(struct client *c, struct sl_msg *m, const struct delivery *d, bool dup,
                 uint16_t pid);

/* CONNACK (held). Before 5.0 rc is the return code and props is ignored. */
int send_connack(struct client *c, bool session_present, uint8_t rc, const struct sl_props *props);
/* CONNACK that refuses the connection: sent directly, then the client closes.
 * rc is the 5.0 reason code; before 5.0 it is mapped to a 3.1.1 return code.
 * props (5.0 only, may be NULL) gets a Reason String added. */
void send_connack_refuse(struct client *c, uint8_t rc, const char *why, struct sl_props *props);

/* PUBACK / PUBREC / PUBCOMP (held) and PUBREL (direct: it confirms nothing the
 * broker stores). type is enum sl_ptype; reason is the 5.0 reason code. */
int send_ack(struct client *c, uint8_t type, uint16_t pid, uint8_t reason);
/* PUBACK/PUBREC held also until blocker is no longer congested (back-pressure;
 * the reference is taken over, NULL allowed). */
int send_ack_after(struct client *c, uint8_t type, uint16_t pid, uint8_t reason,
                   struct session *blocker);

/* SUBACK: one code per filter. UNSUBACK: 5.0 has one per filter too; before 5.0
 * codes are ignored. */
int send_suback(struct client *c, uint16_t pid, const uint8_t *codes, size_t n);
int send_unsuback(struct client *c, uint16_t pid, const uint8_t *codes, size_t n);
int send_pingresp(struct client *c);

/* 5.0 only, sent directly. */
int send_disconnect(struct client *c, uint8_t reason, const char *why);
int send_auth(struct client *c, uint8_t reason, const struct sl_props *props);

#endif

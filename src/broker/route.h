/*
 * route.h - where a published message goes: retained store, then every matching
 * session, each once at the highest QoS its matching subscriptions grant
 * [MQTT-3.3.5-1] and with the Subscription Identifiers of all of them
 * [MQTT-3.3.4-3], except the publisher's own session where every match says No
 * Local [MQTT-3.8.3-3]; a shared group gives the message to one member.
 * Sessions homed on this worker get it directly; others through their home
 * worker's inbox.
 *
 * Back-pressure: for a QoS 1/2 message, route_publish reports one receiving
 * session that is congested (session_congested), so that the caller can hold the
 * publisher's acknowledgement until that session drains.
 */
#ifndef SL_BROKER_ROUTE_H
#define SL_BROKER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

struct sl_msg;
struct worker;
struct session;

/* Borrows m (takes its own references where it keeps it). from is the
 * publisher's session (NULL for wills and $SYS). *matched (may be NULL) gets
 * the number of sessions it went to. Returns a congested receiving session with
 * a new reference, or NULL; always NULL for QoS 0. */
struct session *route_publish(struct worker *w, struct sl_msg *m, struct session *from,
                              size_t *matched);

/* A will, published now: its Message Expiry Interval starts here. Consumes
 * the caller's reference. */
void route_publish_will(struct worker *w, struct sl_msg *will);

/* Gives m, which session 'from' received through a shared subscription but
 * will not acknowledge, to another member of a matching group of from's.
 * False when no other connected member exists. */
bool route_shared_elsewhere(struct worker *w, struct session *from, struct sl_msg *m);

#endif

/*
 * route.h - where a published message goes: retained store, then every matching
 * session, each once at the highest QoS its matching subscriptions grant
 * [MQTT-3.3.5-1]. Sessions homed on this worker get it directly; others through
 * their home worker's inbox.
 *
 * Back-pressure: for a QoS 1/2 message, route_publish reports one receiving
 * session that is congested (session_congested), so that the caller can hold the
 * publisher's acknowledgement until that session drains.
 */
#ifndef SL_BROKER_ROUTE_H
#define SL_BROKER_ROUTE_H

struct sl_msg;
struct worker;

struct session;

/* Borrows m (takes its own references where it keeps it). Returns a congested
 * receiving session with a new reference, or NULL; always NULL for QoS 0. */
struct session *route_publish(struct worker *w, struct sl_msg *m);

#endif

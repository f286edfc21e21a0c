/*
 * route.h - where a published message goes: retained store, then every matching
 * session, each once at the highest QoS its matching subscriptions grant
 * [MQTT-3.3.5-1]. Sessions homed on this worker get it directly; others through
 * their home worker's inbox.
 */
#ifndef SL_BROKER_ROUTE_H
#define SL_BROKER_ROUTE_H

struct sl_msg;
struct worker;

/* Borrows m (takes its own references where it keeps it). */
void route_publish(struct worker *w, struct sl_msg *m);

#endif

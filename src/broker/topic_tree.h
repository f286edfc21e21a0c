/*
 * topic_tree.h - every subscription of every session, for matching publishes.
 *
 * One tree for the whole broker behind a read-write lock: publishes from all
 * workers match concurrently under the read lock (which they hold only to
 * *collect* matches; delivery happens after unlock), and SUBSCRIBE/UNSUBSCRIBE
 * take the write lock briefly. A node's subscriber list is an array of
 * (session, qos) with one entry per session: a re-subscription replaces the QoS
 * [MQTT-3.8.4-3].
 *
 * Matching follows MQTT 4.7: '+' matches exactly one level, '#' the parent level
 * and any number below it, and a topic whose first level starts with '$' is not
 * matched by a filter whose first level is a wildcard [MQTT-4.7.2-1].
 */
#ifndef SL_BROKER_TOPIC_TREE_H
#define SL_BROKER_TOPIC_TREE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct session;
struct trie_node;

struct topic_tree {
    pthread_rwlock_t lock;
    struct trie_node *root;
    size_t count; /* subscriptions */
};

struct topic_match {
    struct session *session;
    uint8_t qos;
};

int topic_tree_init(struct topic_tree *t);
/* Frees the tree; sessions are not touched (the tree never owns them). */
void topic_tree_destroy(struct topic_tree *t);

/* Adds or replaces (*replaced = true) session's subscription to a valid filter.
 * SL_OK or SL_ENOMEM. */
int topic_tree_add(struct topic_tree *t, const uint8_t *filter, size_t len, struct session *s,
                   uint8_t qos, bool *replaced);

/* Removes it; false when there was none. */
bool topic_tree_remove(struct topic_tree *t, const uint8_t *filter, size_t len, struct session *s);

/* Calls visit(arg, match) for every subscription matching the topic name, under
 * the read lock: visit must only record the match (it may take a reference on
 * the session). A session subscribed by several matching filters is visited once
 * per filter; the caller merges (highest QoS wins [MQTT-3.3.5-1]). Returns how
 * many filters (trie nodes) had subscribers: with one, no session repeats. */
size_t topic_tree_match(struct topic_tree *t, const uint8_t *topic, size_t len,
                        void (*visit)(void *arg, const struct topic_match *m), void *arg);

#endif

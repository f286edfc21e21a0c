/*
 * topic_tree.h - every subscription of every session, for matching publishes.
 *
 * One tree for the whole broker behind a read-write lock with a reader slot per
 * worker (core/brlock.h): publishes from all workers match concurrently under
 * the read lock (which they hold only to *collect* matches; delivery happens
 * after unlock), and SUBSCRIBE/UNSUBSCRIBE take the write lock briefly. A node's subscriber list is
 * an array of (session, qos) with one entry per session: a re-subscription replaces the QoS
 * [MQTT-3.8.4-3].
 *
 * Matching follows MQTT 4.7: '+' matches exactly one level, '#' the parent level
 * and any number below it, and a topic whose first level starts with '$' is not
 * matched by a filter whose first level is a wildcard [MQTT-4.7.2-1].
 */
#ifndef SL_BROKER_TOPIC_TREE_H
#define SL_BROKER_TOPIC_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/brlock.h"

struct session;
struct trie_node;

/* topic_match.flags */
#define TOPIC_SUB_NO_LOCAL 0x01 /* 5.0 No Local: not to the publisher's own session */
#define TOPIC_SUB_RAP      0x02 /* 5.0 Retain As Published */
#define TOPIC_SUB_SHARED   0x04 /* set on matches picked from a shared group */

/* How a shared group picks its member for a message (docs/mqtt5.md). */
enum share_policy { SHARE_ROUND_ROBIN = 0, SHARE_RANDOM, SHARE_TOPIC_HASH };

struct topic_tree {
    struct sl_brlock lock;
    struct trie_node *root;
    size_t count; /* subscriptions, shared ones included */
    uint8_t share_policy;
    /* Shared groups prefer members for which this says true (connected ones);
     * NULL treats every member alike. Called under the read lock, any thread. */
    bool (*member_online)(const struct session *s);
};

/* One subscription: what topic_tree_add stores and what matching reports. */
struct topic_match {
    struct session *session;
    uint8_t qos;
    uint8_t flags;  /* TOPIC_SUB_* */
    uint32_t subid; /* 5.0 Subscription Identifier, 0 for none */
};

/* readers: reader slots of the lock, one per thread that matches (workers). */
int topic_tree_init(struct topic_tree *t, unsigned readers);
/* Frees the tree; sessions are not touched (the tree never owns them). */
void topic_tree_destroy(struct topic_tree *t);

/* Adds or replaces (*replaced = true) sub->session's subscription to a valid
 * filter. A filter "$share/GROUP/FILTER" (valid per sl_topic_share_split) joins
 * that group at FILTER's node instead: one member of each group gets each
 * message. SL_OK or SL_ENOMEM. */
int topic_tree_add(struct topic_tree *t, const uint8_t *filter, size_t len,
                   const struct topic_match *sub, bool *replaced);
/* Removes it (plain or shared, as added); false when there was none. */
bool topic_tree_remove(struct topic_tree *t, const uint8_t *filter, size_t len, struct session *s);

/* Calls visit(arg, match) for every subscription matching the topic name, under
 * the read lock, and for each matching shared group once, for the member it
 * picks (flag TOPIC_SUB_SHARED). visit must only record the match (it may take a
 * reference on the session). A session subscribed by several matching filters
 * is visited once per filter; the caller merges (highest QoS wins
 * [MQTT-3.3.5-1]). Returns how many filters (trie nodes and groups) had
 * subscribers: with one, no session repeats. */
size_t topic_tree_match(struct topic_tree *t, const uint8_t *topic, size_t len,
                        void (*visit)(void *arg, const struct topic_match *m), void *arg);

/* For a message that a shared group's member could not take: picks another
 * member of the group named by the shared filter, not 'exclude', that
 * member_online accepts, and visits it under the read lock as above. False when
 * there is none. */
bool topic_tree_pick_shared(struct topic_tree *t, const uint8_t *shared_filter, size_t len,
                            const struct session *exclude,
                            void (*visit)(void *arg, const struct topic_match *m), void *arg);

#endif

/*
 * retain.h - retained messages: at most one per topic name [MQTT-3.3.1-5].
 *
 * A trie of topic levels (trie.h) whose nodes hold the retained message of that
 * exact topic, behind a read-write lock: a SUBSCRIBE with a wildcard filter walks
 * the matching part of the tree under the read lock, taking a reference on each
 * message, and delivers after unlock.
 */
#ifndef SL_BROKER_RETAIN_H
#define SL_BROKER_RETAIN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct sl_msg;
struct trie_node;

struct retain_store {
    pthread_rwlock_t lock;
    struct trie_node *root;
    size_t count;
    size_t expiring; /* of count, those with a Message Expiry */
    /* No retained message expires before this (0: none expires); read without
     * the lock, so that a sweep with nothing due takes no lock. */
    _Atomic uint64_t next_expiry_ms;
};

int retain_init(struct retain_store *r);
void retain_destroy(struct retain_store *r);

/* Stores m (taking a new reference) under its topic, replacing any older one; an
 * empty payload removes the topic's message instead [MQTT-3.3.1-10]
 * [MQTT-3.3.1-11]. SL_OK or SL_ENOMEM. */
int retain_set(struct retain_store *r, struct sl_msg *m);

/* Removes the retained messages whose Message Expiry has passed (they are
 * already never delivered: this frees them), pruning the topic levels left
 * empty. Takes the write lock and walks the whole tree, but only when a message
 * is due: otherwise it is one atomic load. Returns how many it removed. */
size_t retain_expire(struct retain_store *r, uint64_t now_ms);

/* Calls found(arg, msg) with a new reference for each retained message whose topic
 * matches the valid filter ('$' rule included). Returns how many. */
size_t retain_match(struct retain_store *r, const uint8_t *filter, size_t len,
                    void (*found)(void *arg, struct sl_msg *m), void *arg);

#endif

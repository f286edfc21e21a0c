/*
 * trie.h - a tree with one node per topic level, shared by the subscription tree
 * (topic_tree.c) and the retained-message store (retain.c).
 *
 *   root ─ "sport" ─ "tennis" ─ "#"
 *        │         └ "+"
 *        └ "$SYS" ─ ...
 *
 * Each node's children sit in an open-addressing hash table keyed by the level
 * string (linear probing, backward-shift deletion, grown at 3/4 load), so a node
 * with 100k children costs O(1) per lookup and small nodes stay small. '+' and '#'
 * are ordinary children named "+" and "#", also kept as direct pointers (plus_kid,
 * hash_kid) because matching asks for them at every level of every publish. Nothing
 * here recurses: topics may have up to 65,535 levels, and a peer chooses them.
 *
 * Not thread-safe; the owners lock.
 */
#ifndef SL_BROKER_TRIE_H
#define SL_BROKER_TRIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trie_node {
    struct trie_node *parent;
    struct trie_node *plus_kid, *hash_kid; /* the "+" and "#" children, or NULL */
    struct trie_node **kids;               /* table of kcap slots, NULL = empty slot */
    uint32_t nkids, kcap;
    uint32_t hash;
    uint16_t level_len;
    void *value; /* the owner's */
    char level[];
};

struct trie_node *trie_root_new(void);

/* Child with this level name, or NULL. */
struct trie_node *trie_child(const struct trie_node *n, const uint8_t *level, size_t len);

/* The same with the level's hash already computed (trie_hash): matching hashes
 * each topic level once, not once per node it is looked up in. */
uint32_t trie_hash(const uint8_t *level, size_t len);
struct trie_node *trie_child_hashed(const struct trie_node *n, const uint8_t *level, size_t len,
                                    uint32_t hash);

/* Finds or creates the child. NULL on allocation failure. */
struct trie_node *trie_child_make(struct trie_node *n, const uint8_t *level, size_t len);

/* Removes n and then each ancestor that has no children and a NULL value, stopping
 * at the root. n itself must have no children and a NULL value. */
void trie_prune(struct trie_node *n);

/* Frees the whole tree; free_value (may be NULL) is called on each non-NULL value. */
void trie_free(struct trie_node *root, void (*free_value)(void *));

/* Splits a topic or filter into levels: returns the length of the level starting at
 * s (up to the next '/' or end). */
static inline size_t trie_level_len(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] != '/')
        i++;
    return i;
}

#endif

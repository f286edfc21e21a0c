/* trie.c - see trie.h. */
#include "broker/trie.h"

#include <stdlib.h>
#include <string.h>

#include "core/hash.h"

uint32_t trie_hash(const uint8_t *s, size_t len)
{
    return sl_hash(s, len);
}

struct trie_node *trie_root_new(void)
{
    return calloc(1, sizeof(struct trie_node));
}

static bool node_is(const struct trie_node *k, uint32_t h, const uint8_t *level, size_t len)
{
    return k->hash == h && k->level_len == len && memcmp(k->level, level, len) == 0;
}

struct trie_node *trie_child(const struct trie_node *n, const uint8_t *level, size_t len)
{
    if (n->nkids == 0) return NULL;
    return trie_child_hashed(n, level, len, trie_hash(level, len));
}

struct trie_node *trie_child_hashed(const struct trie_node *n, const uint8_t *level, size_t len,
                                    uint32_t h)
{
    if (n->nkids == 0) return NULL;
    uint32_t mask = n->kcap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        struct trie_node *k = n->kids[i];
        if (!k) return NULL;
        if (node_is(k, h, level, len)) return k;
    }
}

static void table_insert(struct trie_node **tab, uint32_t cap, struct trie_node *k)
{
    uint32_t mask = cap - 1;
    uint32_t i = k->hash & mask;
    while (tab[i])
        i = (i + 1) & mask;
    tab[i] = k;
}

static bool grow(struct trie_node *n)
{
    uint32_t cap = n->kcap ? n->kcap * 2 : 4;
    struct trie_node **tab = calloc(cap, sizeof(*tab));
    if (!tab) return false;
    for (uint32_t i = 0; i < n->kcap; i++)
        if (n->kids[i]) table_insert(tab, cap, n->kids[i]);
    free(n->kids);
    n->kids = tab;
    n->kcap = cap;
    return true;
}

struct trie_node *trie_child_make(struct trie_node *n, const uint8_t *level, size_t len)
{
    struct trie_node *k = trie_child(n, level, len);
    if (k) return k;
    if ((n->nkids + 1) * 4 > n->kcap * 3 && !grow(n)) return NULL;
    k = calloc(1, sizeof(*k) + len + 1);
    if (!k) return NULL;
    k->parent = n;
    k->hash = trie_hash(level, len);
    k->level_len = (uint16_t)len;
    memcpy(k->level, level, len);
    table_insert(n->kids, n->kcap, k);
    n->nkids++;
    if (len == 1 && level[0] == '+')
        n->plus_kid = k;
    else if (len == 1 && level[0] == '#')
        n->hash_kid = k;
    return k;
}

/* Linear-probing deletion by backward shift: no tombstones, so lookups never slow
 * down after many unsubscribes. */
static void table_remove(struct trie_node *n, struct trie_node *k)
{
    uint32_t mask = n->kcap - 1;
    uint32_t i = k->hash & mask;
    while (n->kids[i] != k)
        i = (i + 1) & mask;
    n->kids[i] = NULL;
    if (n->plus_kid == k) n->plus_kid = NULL;
    if (n->hash_kid == k) n->hash_kid = NULL;
    for (uint32_t j = (i + 1) & mask; n->kids[j]; j = (j + 1) & mask) {
        uint32_t home = n->kids[j]->hash & mask;
        /* Move kids[j] into the hole if its home is not cyclically in (i, j]. */
        bool in_range = (i < j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            n->kids[i] = n->kids[j];
            n->kids[j] = NULL;
            i = j;
        }
    }
    n->nkids--;
    if (n->nkids == 0) {
        free(n->kids);
        n->kids = NULL;
        n->kcap = 0;
    }
}

void trie_prune(struct trie_node *n)
{
    while (n->parent && n->nkids == 0 && n->value == NULL) {
        struct trie_node *p = n->parent;
        table_remove(p, n);
        free(n);
        n = p;
    }
}

void trie_free(struct trie_node *root, void (*free_value)(void *))
{
    if (!root) return;
    /* Post-order without recursion: descend to a leaf, free it, climb. */
    struct trie_node *n = root;
    while (n) {
        if (n->nkids) {
            struct trie_node *k = NULL;
            for (uint32_t i = 0; i < n->kcap && !k; i++)
                k = n->kids[i];
            table_remove(n, k);
            k->parent = n; /* still valid: we climb back through it */
            n = k;
            continue;
        }
        struct trie_node *p = (n == root) ? NULL : n->parent;
        if (n->value && free_value) free_value(n->value);
        free(n->kids);
        free(n);
        n = p;
    }
}

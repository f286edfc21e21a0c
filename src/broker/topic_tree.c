/*
 * topic_tree.c - see topic_tree.h.
 *
 * Matching walks the trie breadth-first level by level with an explicit frontier
 * (no recursion, see trie.h): for each node reached by the levels so far, the
 * next frontier gets its exact child and its '+' child, and its '#' child's
 * subscribers match immediately. The frontier is bounded by the number of trie
 * nodes, so its size is under the operator's and subscribers' control, never
 * the publisher's alone.
 */
#include "broker/topic_tree.h"

#include <stdlib.h>
#include <string.h>

#include "broker/trie.h"
#include "core/error.h"
#include "core/rwlock.h"

struct subs {
    struct topic_match *v;
    uint32_t n, cap;
};

int topic_tree_init(struct topic_tree *t)
{
    memset(t, 0, sizeof(*t));
    t->root = trie_root_new();
    if (!t->root) return SL_ENOMEM;
    if (sl_rwlock_init(&t->lock) != 0) {
        free(t->root);
        return SL_ENOMEM;
    }
    return SL_OK;
}

static void subs_free(void *p)
{
    struct subs *s = p;
    free(s->v);
    free(s);
}

void topic_tree_destroy(struct topic_tree *t)
{
    trie_free(t->root, subs_free);
    pthread_rwlock_destroy(&t->lock);
    t->root = NULL;
}

int topic_tree_add(struct topic_tree *t, const uint8_t *filter, size_t len, struct session *s,
                   uint8_t qos, bool *replaced)
{
    int rc = SL_ENOMEM;
    *replaced = false;
    pthread_rwlock_wrlock(&t->lock);
    struct trie_node *n = t->root;
    for (size_t off = 0;;) {
        size_t l = trie_level_len(filter + off, len - off);
        struct trie_node *k = trie_child_make(n, filter + off, l);
        if (!k) {
            trie_prune(n);
            goto out;
        }
        n = k;
        if (off + l >= len) break;
        off += l + 1; /* off == len: a trailing '/' makes one more, empty level */
    }
    struct subs *ss = n->value;
    if (!ss) {
        ss = calloc(1, sizeof(*ss));
        if (!ss) {
            trie_prune(n);
            goto out;
        }
        n->value = ss;
    }
    for (uint32_t i = 0; i < ss->n; i++) {
        if (ss->v[i].session == s) {
            ss->v[i].qos = qos;
            *replaced = true;
            rc = SL_OK;
            goto out;
        }
    }
    if (ss->n == ss->cap) {
        uint32_t cap = ss->cap ? ss->cap * 2 : 2;
        struct topic_match *v = realloc(ss->v, cap * sizeof(*v));
        if (!v) {
            if (ss->n == 0) {
                subs_free(ss);
                n->value = NULL;
                trie_prune(n);
            }
            goto out;
        }
        ss->v = v;
        ss->cap = cap;
    }
    ss->v[ss->n].session = s;
    ss->v[ss->n].qos = qos;
    ss->n++;
    t->count++;
    rc = SL_OK;
out:
    pthread_rwlock_unlock(&t->lock);
    return rc;
}

/* Walks the filter's levels to its node without creating anything. */
static struct trie_node *find_node(struct trie_node *n, const uint8_t *f, size_t len)
{
    for (size_t off = 0;;) {
        size_t l = trie_level_len(f + off, len - off);
        n = trie_child(n, f + off, l);
        if (!n || off + l >= len) return n;
        off += l + 1;
    }
}

bool topic_tree_remove(struct topic_tree *t, const uint8_t *filter, size_t len, struct session *s)
{
    bool found = false;
    pthread_rwlock_wrlock(&t->lock);
    struct trie_node *n = find_node(t->root, filter, len);
    struct subs *ss = n ? n->value : NULL;
    if (!ss) goto out;
    for (uint32_t i = 0; i < ss->n; i++) {
        if (ss->v[i].session == s) {
            /* Order within a node does not matter: swap-remove. */
            ss->v[i] = ss->v[--ss->n];
            found = true;
            t->count--;
            break;
        }
    }
    if (ss->n == 0) {
        subs_free(ss);
        n->value = NULL;
        trie_prune(n);
    }
out:
    pthread_rwlock_unlock(&t->lock);
    return found;
}

/* Returns 1 if the node had subscribers, for topic_tree_match's count. */
static size_t visit_all(const struct trie_node *n,
                        void (*visit)(void *arg, const struct topic_match *m), void *arg)
{
    const struct subs *ss = n ? n->value : NULL;
    if (!ss || ss->n == 0) return 0;
    for (uint32_t i = 0; i < ss->n; i++)
        visit(arg, &ss->v[i]);
    return 1;
}

/* A list of trie nodes; starts in caller-provided stack storage, moves to the
 * heap only for unusually wide matches. */
struct frontier {
    const struct trie_node **v;
    size_t n, cap;
    bool heap;
};

static void frontier_push(struct frontier *f, const struct trie_node *n)
{
    if (f->n == f->cap) {
        size_t cap = f->cap * 2;
        const struct trie_node **v = malloc(cap * sizeof(*v));
        if (!v) return; /* out of memory: fewer matches, never a crash */
        memcpy(v, f->v, f->n * sizeof(*v));
        if (f->heap) free(f->v);
        f->v = v;
        f->cap = cap;
        f->heap = true;
    }
    f->v[f->n++] = n;
}

size_t topic_tree_match(struct topic_tree *t, const uint8_t *topic, size_t len,
                        void (*visit)(void *arg, const struct topic_match *m), void *arg)
{
    size_t nodes = 0;
    const struct trie_node *store_a[32], *store_b[32];
    struct frontier fa = {store_a, 0, 32, false}, fb = {store_b, 0, 32, false};
    struct frontier *cur = &fa, *next = &fb;
    bool dollar = len > 0 && topic[0] == '$';

    pthread_rwlock_rdlock(&t->lock);
    frontier_push(cur, t->root);
    for (size_t off = 0;;) {
        size_t l = trie_level_len(topic + off, len - off);
        uint32_t h = trie_hash(topic + off, l); /* once per level, not per node */
        next->n = 0;
        for (size_t i = 0; i < cur->n; i++) {
            const struct trie_node *n = cur->v[i];
            if (!(off == 0 && dollar)) { /* [MQTT-4.7.2-1] */
                nodes += visit_all(n->hash_kid, visit, arg);
                if (n->plus_kid) frontier_push(next, n->plus_kid);
            }
            const struct trie_node *exact = trie_child_hashed(n, topic + off, l, h);
            if (exact) frontier_push(next, exact);
        }
        struct frontier *tmp = cur;
        cur = next;
        next = tmp;
        if (cur->n == 0 || off + l >= len) break;
        off += l + 1; /* off == len here means a trailing '/': one empty level */
    }
    /* Every level consumed: the nodes reached match, and so do their '#'
     * children ("sport/tennis/#" matches "sport/tennis"). */
    for (size_t i = 0; i < cur->n; i++) {
        nodes += visit_all(cur->v[i], visit, arg);
        nodes += visit_all(cur->v[i]->hash_kid, visit, arg);
    }
    pthread_rwlock_unlock(&t->lock);
    if (fa.heap) free(fa.v);
    if (fb.heap) free(fb.v);
    return nodes;
}

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

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "broker/trie.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/brlock.h"
#include "proto/topic.h"

/* A shared group "$share/NAME/filter" at the filter's node. */
struct share_group {
    uint8_t *name;
    uint16_t name_len;
    uint32_t n, cap;
    atomic_uint next; /* round-robin cursor, advanced under the read lock */
    struct topic_match *m;
};

/* A node's value: plain subscriptions, then shared groups. */
struct subs {
    struct topic_match *v;
    uint32_t n, cap;
    struct share_group **g;
    uint32_t ng, gcap;
};

int topic_tree_init(struct topic_tree *t, unsigned readers)
{
    memset(t, 0, sizeof(*t));
    t->root = trie_root_new();
    if (!t->root) return SL_ENOMEM;
    if (sl_brlock_init(&t->lock, readers) != SL_OK) {
        free(t->root);
        t->root = NULL; /* server_destroy destroys a tree that has a root */
        return SL_ENOMEM;
    }
    return SL_OK;
}

static void group_free(struct share_group *g)
{
    free(g->name);
    free(g->m);
    free(g);
}

static void subs_free(void *p)
{
    struct subs *s = p;
    for (uint32_t i = 0; i < s->ng; i++)
        group_free(s->g[i]);
    free(s->g);
    free(s->v);
    free(s);
}

void topic_tree_destroy(struct topic_tree *t)
{
    trie_free(t->root, subs_free);
    sl_brlock_destroy(&t->lock);
    t->root = NULL;
}

static bool grow(void **v, uint32_t *cap, uint32_t n, size_t size)
{
    if (n < *cap) return true;
    uint32_t c = *cap ? *cap * 2 : 2;
    void *nv = realloc(*v, c * size);
    if (!nv) return false;
    *v = nv;
    *cap = c;
    return true;
}

/* Adds to or replaces in a list with one entry per session. */
static int list_put(struct topic_match **v, uint32_t *n, uint32_t *cap,
                    const struct topic_match *sub, bool *replaced)
{
    for (uint32_t i = 0; i < *n; i++) {
        if ((*v)[i].session == sub->session) {
            (*v)[i] = *sub;
            *replaced = true;
            return SL_OK;
        }
    }
    if (!grow((void **)v, cap, *n, sizeof(**v))) return SL_ENOMEM;
    (*v)[(*n)++] = *sub;
    return SL_OK;
}

static bool list_del(struct topic_match *v, uint32_t *n, const struct session *s)
{
    for (uint32_t i = 0; i < *n; i++) {
        if (v[i].session == s) {
            v[i] = v[--*n]; /* order within a list does not matter */
            return true;
        }
    }
    return false;
}

static struct share_group *group_find(const struct subs *ss, const uint8_t *name, size_t len)
{
    for (uint32_t i = 0; i < ss->ng; i++)
        if (ss->g[i]->name_len == len && memcmp(ss->g[i]->name, name, len) == 0) return ss->g[i];
    return NULL;
}

/* Frees an empty value and prunes the node it hangs on. */
static void tidy(struct trie_node *n)
{
    struct subs *ss = n->value;
    if (ss && (ss->n || ss->ng)) return;
    if (ss) subs_free(ss);
    n->value = NULL;
    trie_prune(n);
}

static int add_group_member(struct subs *ss, const uint8_t *name, size_t name_len,
                            const struct topic_match *sub, bool *replaced)
{
    struct share_group *g = group_find(ss, name, name_len);
    if (!g) {
        if (!grow((void **)&ss->g, &ss->gcap, ss->ng, sizeof(*ss->g))) return SL_ENOMEM;
        g = calloc(1, sizeof(*g));
        if (!g || !(g->name = malloc(name_len))) {
            free(g);
            return SL_ENOMEM;
        }
        memcpy(g->name, name, name_len);
        g->name_len = (uint16_t)name_len;
        atomic_init(&g->next, 0);
        ss->g[ss->ng++] = g;
    }
    int rc = list_put(&g->m, &g->n, &g->cap, sub, replaced);
    if (rc != SL_OK && g->n == 0) {
        ss->g[--ss->ng] = NULL;
        group_free(g);
    }
    return rc;
}

int topic_tree_add(struct topic_tree *t, const uint8_t *filter, size_t len,
                   const struct topic_match *sub, bool *replaced)
{
    const uint8_t *group = NULL, *f = filter;
    size_t group_len = 0, flen = len;
    bool valid;
    if (!sl_topic_share_split(filter, len, &group, &group_len, &f, &flen, &valid)) {
        f = filter;
        flen = len;
    }
    int rc = SL_ENOMEM;
    *replaced = false;
    sl_brlock_wrlock(&t->lock);
    struct trie_node *n = t->root;
    for (size_t off = 0;;) {
        size_t l = trie_level_len(f + off, flen - off);
        struct trie_node *k = trie_child_make(n, f + off, l);
        if (!k) {
            tidy(n);
            goto out;
        }
        n = k;
        if (off + l >= flen) break;
        off += l + 1; /* off == len: a trailing '/' makes one more, empty level */
    }
    struct subs *ss = n->value;
    if (!ss) {
        ss = calloc(1, sizeof(*ss));
        if (!ss) {
            tidy(n);
            goto out;
        }
        n->value = ss;
    }
    struct topic_match m = *sub;
    m.flags &= (uint8_t)~TOPIC_SUB_SHARED;
    if (group)
        rc = add_group_member(ss, group, group_len, &m, replaced);
    else
        rc = list_put(&ss->v, &ss->n, &ss->cap, &m, replaced);
    if (rc == SL_OK && !*replaced) t->count++;
    tidy(n);
out:
    sl_brlock_wrunlock(&t->lock);
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

/* The node and (for a shared filter) the group a filter names; NULLs if absent. */
static struct subs *locate(struct topic_tree *t, const uint8_t *filter, size_t len,
                           struct trie_node **node, struct share_group **group)
{
    const uint8_t *gname, *f = filter;
    size_t glen, flen = len;
    bool valid;
    bool shared = sl_topic_share_split(filter, len, &gname, &glen, &f, &flen, &valid);
    *group = NULL;
    *node = NULL;
    if (shared && !valid) return NULL;
    if (!shared) {
        f = filter;
        flen = len;
    }
    struct trie_node *n = find_node(t->root, f, flen);
    struct subs *ss = n ? n->value : NULL;
    if (!ss) return NULL;
    *node = n;
    if (shared) {
        *group = group_find(ss, gname, glen);
        if (!*group) return NULL;
    }
    return ss;
}

bool topic_tree_remove(struct topic_tree *t, const uint8_t *filter, size_t len, struct session *s)
{
    bool found = false;
    struct trie_node *n;
    struct share_group *g;
    sl_brlock_wrlock(&t->lock);
    struct subs *ss = locate(t, filter, len, &n, &g);
    if (!ss) goto out;
    if (g) {
        found = list_del(g->m, &g->n, s);
        if (g->n == 0) {
            for (uint32_t i = 0; i < ss->ng; i++) {
                if (ss->g[i] == g) {
                    ss->g[i] = ss->g[--ss->ng];
                    break;
                }
            }
            group_free(g);
        }
    } else {
        found = list_del(ss->v, &ss->n, s);
    }
    if (found) t->count--;
    tidy(n);
out:
    sl_brlock_wrunlock(&t->lock);
    return found;
}

/* What a match walk carries besides the visitor: the topic, for the
 * topic_hash policy (hashed once, when first needed). */
struct walk {
    const struct topic_tree *t;
    const uint8_t *topic;
    size_t len;
    uint32_t hash;
    bool hashed;
    void (*visit)(void *arg, const struct topic_match *m);
    void *arg;
};

static uint32_t xorshift32(void)
{
    static _Thread_local uint32_t x;
    if (x == 0) x = (uint32_t)(uintptr_t)&x ^ 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
}

/* The member of g that gets this message: the policy's starting point, then
 * the first connected member from there; if none is, the starting point (its
 * session queues the message). exclude is skipped; NULL when nobody is left. */
static const struct topic_match *pick(struct walk *wk, struct share_group *g,
                                      const struct session *exclude)
{
    if (g->n == 0) return NULL;
    uint32_t start;
    switch (wk->t->share_policy) {
    case SHARE_RANDOM:
        start = xorshift32() % g->n;
        break;
    case SHARE_TOPIC_HASH:
        if (!wk->hashed) {
            wk->hash = sl_hash(wk->topic, wk->len);
            wk->hashed = true;
        }
        start = wk->hash % g->n;
        break;
    default:
        start = atomic_fetch_add_explicit(&g->next, 1, memory_order_relaxed) % g->n;
    }
    const struct topic_match *fallback = NULL;
    for (uint32_t k = 0; k < g->n; k++) {
        const struct topic_match *m = &g->m[(start + k) % g->n];
        if (m->session == exclude) continue;
        if (!wk->t->member_online || wk->t->member_online(m->session)) return m;
        if (!fallback) fallback = m;
    }
    return exclude ? NULL : fallback;
}

static void visit_shared(struct walk *wk, const struct topic_match *m)
{
    struct topic_match x = *m;
    x.flags |= TOPIC_SUB_SHARED;
    wk->visit(wk->arg, &x);
}

/* Returns how many lists (plain, groups) the node had, for topic_tree_match. */
static size_t visit_all(struct walk *wk, const struct trie_node *n)
{
    const struct subs *ss = n ? n->value : NULL;
    if (!ss) return 0;
    size_t lists = 0;
    if (ss->n) {
        for (uint32_t i = 0; i < ss->n; i++)
            wk->visit(wk->arg, &ss->v[i]);
        lists++;
    }
    for (uint32_t i = 0; i < ss->ng; i++) {
        const struct topic_match *m = pick(wk, ss->g[i], NULL);
        if (m) {
            visit_shared(wk, m);
            lists++;
        }
    }
    return lists;
}

bool topic_tree_pick_shared(struct topic_tree *t, const uint8_t *shared_filter, size_t len,
                            const struct session *exclude,
                            void (*visit)(void *arg, const struct topic_match *m), void *arg)
{
    struct walk wk = {.t = t, .topic = shared_filter, .len = len, .visit = visit, .arg = arg};
    struct trie_node *n;
    struct share_group *g;
    bool found = false;
    unsigned slot = sl_brlock_rdlock(&t->lock);
    if (locate(t, shared_filter, len, &n, &g) && g) {
        const struct topic_match *m = pick(&wk, g, exclude);
        if (m) {
            visit_shared(&wk, m);
            found = true;
        }
    }
    sl_brlock_rdunlock(&t->lock, slot);
    return found;
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
    struct walk wk = {.t = t, .topic = topic, .len = len, .visit = visit, .arg = arg};
    size_t nodes = 0;
    const struct trie_node *store_a[32], *store_b[32];
    struct frontier fa = {store_a, 0, 32, false}, fb = {store_b, 0, 32, false};
    struct frontier *cur = &fa, *next = &fb;
    bool dollar = len > 0 && topic[0] == '$';

    unsigned slot = sl_brlock_rdlock(&t->lock);
    frontier_push(cur, t->root);
    for (size_t off = 0;;) {
        size_t l = trie_level_len(topic + off, len - off);
        uint32_t h = trie_hash(topic + off, l); /* once per level, not per node */
        next->n = 0;
        for (size_t i = 0; i < cur->n; i++) {
            const struct trie_node *n = cur->v[i];
            if (!(off == 0 && dollar)) { /* [MQTT-4.7.2-1] */
                nodes += visit_all(&wk, n->hash_kid);
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
        nodes += visit_all(&wk, cur->v[i]);
        nodes += visit_all(&wk, cur->v[i]->hash_kid);
    }
    sl_brlock_rdunlock(&t->lock, slot);
    if (fa.heap) free(fa.v);
    if (fb.heap) free(fb.v);
    return nodes;
}

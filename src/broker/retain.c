/*
 * retain.c - see retain.h.
 *
 * The filter walk keeps an explicit stack of (node, filter offset) pairs instead
 * of recursing (topics may be 65,535 levels deep). '#' collects a whole subtree,
 * again with an explicit stack.
 *
 * Expired messages are filtered out where they are delivered; retain_expire
 * frees them. The store keeps a lower bound of the soonest deadline, so the
 * periodic call costs one atomic load until a message is due.
 */
#include "broker/retain.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "broker/msg.h"
#include "broker/trie.h"
#include "core/error.h"
#include "core/rwlock.h"

int retain_init(struct retain_store *r)
{
    memset(r, 0, sizeof(*r));
    r->root = trie_root_new();
    if (!r->root) return SL_ENOMEM;
    if (sl_rwlock_init(&r->lock) != 0) {
        free(r->root);
        r->root = NULL;
        return SL_ENOMEM;
    }
    return SL_OK;
}

void retain_destroy(struct retain_store *r)
{
    trie_free(r->root, sl_msg_release);
    pthread_rwlock_destroy(&r->lock);
    r->root = NULL;
}

/* Under the write lock: m, with a deadline, has been stored. */
static void note_expiry(struct retain_store *r, const struct sl_msg *m)
{
    r->expiring++;
    uint64_t next = atomic_load_explicit(&r->next_expiry_ms, memory_order_relaxed);
    if (next == 0 || m->expiry_ms < next)
        atomic_store_explicit(&r->next_expiry_ms, m->expiry_ms, memory_order_relaxed);
}

/* Under the write lock: m, stored until now, is gone. */
static void forget_expiry(struct retain_store *r, const struct sl_msg *m)
{
    if (!m->expiry_ms) return;
    if (--r->expiring == 0) atomic_store_explicit(&r->next_expiry_ms, 0, memory_order_relaxed);
}

int retain_set(struct retain_store *r, struct sl_msg *m)
{
    int rc = SL_OK;
    const uint8_t *t = m->topic;
    size_t len = m->topic_len;
    bool remove = m->payload_len == 0;

    pthread_rwlock_wrlock(&r->lock);
    struct trie_node *n = r->root;
    for (size_t off = 0;;) {
        size_t l = trie_level_len(t + off, len - off);
        struct trie_node *k = remove ? trie_child(n, t + off, l) : trie_child_make(n, t + off, l);
        if (!k) {
            if (!remove) {
                trie_prune(n);
                rc = SL_ENOMEM;
            }
            goto out;
        }
        n = k;
        if (off + l >= len) break;
        off += l + 1;
    }
    if (n->value) {
        forget_expiry(r, n->value);
        sl_msg_unref(n->value);
        n->value = NULL;
        r->count--;
    }
    if (remove) {
        if (n->nkids == 0) trie_prune(n);
    } else {
        n->value = sl_msg_ref(m);
        r->count++;
        if (m->expiry_ms) note_expiry(r, m);
    }
out:
    pthread_rwlock_unlock(&r->lock);
    return rc;
}

struct walk {
    const struct trie_node *node;
    size_t off; /* where the next filter level starts; SIZE_MAX: collect subtree */
};

struct stack {
    struct walk *v;
    size_t n, cap;
};

static bool push(struct stack *s, const struct trie_node *n, size_t off)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct walk *v = realloc(s->v, cap * sizeof(*v));
        if (!v) return false;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n].node = n;
    s->v[s->n].off = off;
    s->n++;
    return true;
}

static size_t emit(const struct trie_node *n, void (*found)(void *, struct sl_msg *), void *arg)
{
    if (!n->value) return 0;
    found(arg, sl_msg_ref(n->value));
    return 1;
}

size_t retain_match(struct retain_store *r, const uint8_t *f, size_t len,
                    void (*found)(void *arg, struct sl_msg *m), void *arg)
{
    struct stack st = {0};
    size_t hits = 0;

    pthread_rwlock_rdlock(&r->lock);
    push(&st, r->root, 0);
    while (st.n) {
        struct walk w = st.v[--st.n];
        const struct trie_node *n = w.node;
        if (w.off == SIZE_MAX) { /* inside a '#': everything below */
            hits += emit(n, found, arg);
            for (uint32_t i = 0; i < n->kcap; i++)
                if (n->kids[i]) push(&st, n->kids[i], SIZE_MAX);
            continue;
        }
        size_t off = w.off;
        size_t l = trie_level_len(f + off, len - off);
        bool last = off + l >= len;
        bool root_level = off == 0;
        if (l == 1 && f[off] == '#') {
            /* '#' matches the parent level too [MQTT-4.7.1-2] */
            if (!root_level) hits += emit(n, found, arg);
            for (uint32_t i = 0; i < n->kcap; i++) {
                const struct trie_node *k = n->kids[i];
                if (k && !(root_level && k->level_len && k->level[0] == '$')) /* [MQTT-4.7.2-1] */
                    push(&st, k, SIZE_MAX);
            }
        } else if (l == 1 && f[off] == '+') {
            for (uint32_t i = 0; i < n->kcap; i++) {
                const struct trie_node *k = n->kids[i];
                if (!k || (root_level && k->level_len && k->level[0] == '$')) continue;
                if (last)
                    hits += emit(k, found, arg);
                else
                    push(&st, k, off + l + 1);
            }
        } else {
            const struct trie_node *k = trie_child(n, f + off, l);
            if (k) {
                if (last)
                    hits += emit(k, found, arg);
                else
                    push(&st, k, off + l + 1);
            }
        }
    }
    pthread_rwlock_unlock(&r->lock);
    free(st.v);
    return hits;
}

size_t retain_expire(struct retain_store *r, uint64_t now_ms)
{
    uint64_t next = atomic_load_explicit(&r->next_expiry_ms, memory_order_relaxed);
    if (next == 0 || now_ms < next) return 0;

    /* Depth first with an explicit stack. Pruning a leaf frees it and only those
     * ancestors left without children, so no node still on the stack is freed:
     * ancestors are popped before their descendants are pushed. */
    struct trie_node **stack = NULL;
    size_t n = 0, cap = 0, removed = 0;
    uint64_t soonest = 0;
    bool complete = true;
    pthread_rwlock_wrlock(&r->lock);
    struct trie_node *node = r->root;
    for (;;) {
        struct sl_msg *m = node->value;
        bool pruned = false;
        if (m && m->expiry_ms) {
            if (sl_msg_expired(m, now_ms)) {
                node->value = NULL;
                forget_expiry(r, m);
                sl_msg_unref(m);
                r->count--;
                removed++;
                if (node->nkids == 0) {
                    trie_prune(node);
                    pruned = true;
                }
            } else if (soonest == 0 || m->expiry_ms < soonest) {
                soonest = m->expiry_ms;
            }
        }
        if (!pruned && node->nkids) {
            if (cap - n < node->nkids) {
                size_t c = cap ? cap * 2 : 64;
                while (c - n < node->nkids)
                    c *= 2;
                struct trie_node **v = realloc(stack, c * sizeof(*v));
                if (!v) {
                    complete = false; /* out of memory: try again at the next call */
                    break;
                }
                stack = v;
                cap = c;
            }
            for (uint32_t i = 0; i < node->kcap; i++)
                if (node->kids[i]) stack[n++] = node->kids[i];
        }
        if (n == 0) break;
        node = stack[--n];
    }
    /* A complete walk saw every message left: soonest is 0 exactly when none
     * has a deadline. An incomplete one looks again at the next call. */
    atomic_store_explicit(&r->next_expiry_ms, complete ? soonest : now_ms + 1,
                          memory_order_relaxed);
    pthread_rwlock_unlock(&r->lock);
    free(stack);
    return removed;
}

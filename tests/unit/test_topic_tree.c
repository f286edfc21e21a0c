/*
 * Unit tests for broker/topic_tree.c and broker/retain.c: fixed cases from the
 * spec, then a randomized comparison against the reference matcher in
 * proto/topic.c over many filters and topics.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/msg.h"
#include "broker/retain.h"
#include "broker/topic_tree.h"
#include "broker/trie.h"
#include "check.h"
#include "proto/topic.h"

/* Sessions are opaque to the tree: fake ones are just distinct addresses. */
static char fake_sessions[64];
#define S(i) ((struct session *)&fake_sessions[i])

struct hits {
    int n;
    int qos[64]; /* per fake session: highest qos seen, -1 = none */
    int count[64];
};

static void hits_reset(struct hits *h)
{
    h->n = 0;
    for (int i = 0; i < 64; i++) {
        h->qos[i] = -1;
        h->count[i] = 0;
    }
}

static void on_match(void *arg, const struct topic_match *m)
{
    struct hits *h = arg;
    int i = (int)((char *)m->session - fake_sessions);
    h->n++;
    h->count[i]++;
    if (m->qos > h->qos[i]) h->qos[i] = m->qos;
}

static void match(struct topic_tree *t, const char *topic, struct hits *h)
{
    hits_reset(h);
    topic_tree_match(t, (const uint8_t *)topic, strlen(topic), on_match, h);
}

static int add_sub(struct topic_tree *t, const char *f, int s, uint8_t qos, uint8_t flags,
                   uint32_t subid, bool *replaced)
{
    struct topic_match m = {.session = S(s), .qos = qos, .flags = flags, .subid = subid};
    return topic_tree_add(t, (const uint8_t *)f, strlen(f), &m, replaced);
}

static void add(struct topic_tree *t, const char *f, int s, uint8_t qos)
{
    bool replaced;
    CHECK_EQ_INT(add_sub(t, f, s, qos, 0, 0, &replaced), 0);
}

static void test_spec_examples(void)
{
    struct topic_tree t;
    struct hits h;
    topic_tree_init(&t, 2);
    add(&t, "sport/tennis/player1/#", 0, 0);
    add(&t, "sport/tennis/+", 1, 1);
    add(&t, "sport/+", 2, 2);
    add(&t, "+/+", 3, 0);
    add(&t, "/+", 4, 0);
    add(&t, "#", 5, 1);
    add(&t, "+/monitor/Clients", 6, 0);
    add(&t, "$SYS/#", 7, 0);

    match(&t, "sport/tennis/player1", &h);
    CHECK_EQ_INT(h.count[0], 1); /* '#' matches the parent level */
    CHECK_EQ_INT(h.count[1], 1);
    CHECK_EQ_INT(h.count[2], 0);
    CHECK_EQ_INT(h.count[5], 1);

    match(&t, "sport/tennis/player1/ranking/wimbledon", &h);
    CHECK_EQ_INT(h.count[0], 1);
    CHECK_EQ_INT(h.count[1], 0);

    match(&t, "sport", &h);
    CHECK_EQ_INT(h.count[2], 0); /* "sport/+" does not match "sport" */
    CHECK_EQ_INT(h.count[5], 1);

    match(&t, "sport/", &h);
    CHECK_EQ_INT(h.count[2], 1); /* ... but matches "sport/" */
    CHECK_EQ_INT(h.count[3], 1);

    match(&t, "/finance", &h);
    CHECK_EQ_INT(h.count[3], 1);
    CHECK_EQ_INT(h.count[4], 1);

    /* [MQTT-4.7.2-1] */
    match(&t, "$SYS/monitor/Clients", &h);
    CHECK_EQ_INT(h.count[5], 0);
    CHECK_EQ_INT(h.count[6], 0);
    CHECK_EQ_INT(h.count[7], 1);
    topic_tree_destroy(&t);
}

static void test_replace_and_remove(void)
{
    struct topic_tree t;
    struct hits h;
    bool replaced;
    topic_tree_init(&t, 2);
    add(&t, "a/b", 0, 0);
    CHECK_EQ_INT(add_sub(&t, "a/b", 0, 2, 0, 0, &replaced), 0);
    CHECK(replaced);
    CHECK_EQ_INT(t.count, 1);
    match(&t, "a/b", &h);
    CHECK_EQ_INT(h.n, 1);
    CHECK_EQ_INT(h.qos[0], 2);
    CHECK(topic_tree_remove(&t, (const uint8_t *)"a/b", 3, S(0)));
    CHECK(!topic_tree_remove(&t, (const uint8_t *)"a/b", 3, S(0)));
    CHECK(!topic_tree_remove(&t, (const uint8_t *)"x/y/z", 5, S(0)));
    match(&t, "a/b", &h);
    CHECK_EQ_INT(h.n, 0);
    CHECK_EQ_INT(t.root->nkids, 0); /* pruned back to an empty root */
    topic_tree_destroy(&t);
}

static void test_overlapping_reported_per_filter(void)
{
    struct topic_tree t;
    struct hits h;
    topic_tree_init(&t, 2);
    add(&t, "a/#", 0, 0);
    add(&t, "a/b", 0, 2);
    add(&t, "+/b", 0, 1);
    match(&t, "a/b", &h);
    CHECK_EQ_INT(h.count[0], 3); /* the router merges them into one delivery */
    CHECK_EQ_INT(h.qos[0], 2);
    topic_tree_destroy(&t);
}

static void test_deep_topic_no_recursion(void)
{
    /* 60,000 levels: a recursive matcher would need megabytes of stack. */
    enum { LEVELS = 30000 };
    size_t len = LEVELS * 2 - 1;
    char *f = malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        f[i] = (i % 2) ? '/' : 'x';
    f[len] = 0;
    struct topic_tree t;
    struct hits h;
    topic_tree_init(&t, 2);
    add(&t, f, 1, 1);
    f[0] = '+';
    add(&t, f, 2, 1);
    f[0] = 'x';
    match(&t, f, &h);
    CHECK_EQ_INT(h.count[1], 1);
    CHECK_EQ_INT(h.count[2], 1);
    topic_tree_destroy(&t);
    free(f);
}

/* Random filters and topics over a tiny alphabet so that they collide often. */
static uint32_t rng = 12345;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) % n;
}

static void random_name(char *out, bool filter)
{
    static const char *levels[] = {"a", "b", "", "$s", "c"};
    int n = 1 + (int)rnd(4);
    out[0] = 0;
    for (int i = 0; i < n; i++) {
        if (i) strcat(out, "/");
        uint32_t r = rnd(filter ? 8 : 5);
        if (filter && r == 5)
            strcat(out, "+");
        else if (filter && r >= 6) {
            strcat(out, "#");
            break;
        } else {
            /* '$' only means something at the first level */
            strcat(out, levels[r == 3 && i ? 0 : r]);
        }
    }
}

static void test_random_against_reference(void)
{
    enum { NFILTERS = 40, NTOPICS = 400 };
    char filters[NFILTERS][64];
    struct topic_tree t;
    topic_tree_init(&t, 2);
    for (int i = 0; i < NFILTERS; i++) {
        do
            random_name(filters[i], true);
        while (!sl_topic_filter_valid((const uint8_t *)filters[i], strlen(filters[i])));
        add(&t, filters[i], i, (uint8_t)(i % 3));
    }
    int mismatches = 0;
    for (int k = 0; k < NTOPICS; k++) {
        char topic[64];
        do
            random_name(topic, false);
        while (!sl_topic_name_valid((const uint8_t *)topic, strlen(topic)));
        struct hits h;
        match(&t, topic, &h);
        for (int i = 0; i < NFILTERS; i++) {
            bool want = sl_topic_matches((const uint8_t *)filters[i], strlen(filters[i]),
                                         (const uint8_t *)topic, strlen(topic));
            /* The same filter string may appear twice for different sessions;
             * each session has exactly one subscription here. */
            if ((h.count[i] == 1) != want) {
                if (mismatches++ < 5)
                    fprintf(stderr, "filter '%s' topic '%s': tree %d, reference %d\n", filters[i],
                            topic, h.count[i], want);
            }
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    topic_tree_destroy(&t);
}

/* ---- retained store ---- */

struct found {
    int n;
    char topics[32][32];
};

static void on_found(void *arg, struct sl_msg *m)
{
    struct found *f = arg;
    if (f->n < 32) {
        memcpy(f->topics[f->n], m->topic, m->topic_len);
        f->topics[f->n][m->topic_len] = 0;
    }
    f->n++;
    sl_msg_unref(m);
}

static void put(struct retain_store *r, const char *topic, const char *payload)
{
    struct sl_msg *m = sl_msg_new((const uint8_t *)topic, strlen(topic), (const uint8_t *)payload,
                                  strlen(payload), 1, true);
    CHECK_EQ_INT(retain_set(r, m), 0);
    sl_msg_unref(m);
}

static int count(struct retain_store *r, const char *filter)
{
    struct found f = {0};
    retain_match(r, (const uint8_t *)filter, strlen(filter), on_found, &f);
    return f.n;
}

static void test_retain(void)
{
    struct retain_store r;
    retain_init(&r);
    put(&r, "a", "1");
    put(&r, "a/b", "2");
    put(&r, "a/b/c", "3");
    put(&r, "a/x", "4");
    put(&r, "/lead", "5");
    put(&r, "$SYS/up", "6");
    CHECK_EQ_INT(r.count, 6);
    CHECK_EQ_INT(count(&r, "a"), 1);
    CHECK_EQ_INT(count(&r, "a/#"), 4); /* a, a/b, a/b/c, a/x */
    CHECK_EQ_INT(count(&r, "a/+"), 2);
    CHECK_EQ_INT(count(&r, "+/+"), 3); /* a/b, a/x, /lead */
    CHECK_EQ_INT(count(&r, "#"), 5);   /* not $SYS [MQTT-4.7.2-1] */
    CHECK_EQ_INT(count(&r, "+/up"), 0);
    CHECK_EQ_INT(count(&r, "$SYS/#"), 1);
    CHECK_EQ_INT(count(&r, "a/b/c/#"), 1);
    CHECK_EQ_INT(count(&r, "nothing/#"), 0);

    put(&r, "a/b", "replaced");
    CHECK_EQ_INT(r.count, 6);
    put(&r, "a/b", ""); /* empty payload deletes [MQTT-3.3.1-10] */
    CHECK_EQ_INT(r.count, 5);
    CHECK_EQ_INT(count(&r, "a/b"), 0);
    CHECK_EQ_INT(count(&r, "a/b/c"), 1); /* the child survives */
    put(&r, "never/stored", "");         /* deleting what is not there */
    CHECK_EQ_INT(r.count, 5);
    retain_destroy(&r);
}

/* ---- options and shared groups ---- */

struct last {
    int n;
    struct topic_match m[8];
};

static void on_last(void *arg, const struct topic_match *m)
{
    struct last *l = arg;
    if (l->n < 8) l->m[l->n] = *m;
    l->n++;
}

static void test_options_carried(void)
{
    struct topic_tree t;
    bool replaced;
    topic_tree_init(&t, 2);
    CHECK_EQ_INT(add_sub(&t, "a/+", 1, 1, TOPIC_SUB_NO_LOCAL | TOPIC_SUB_RAP, 42, &replaced), 0);
    struct last l = {0};
    topic_tree_match(&t, (const uint8_t *)"a/b", 3, on_last, &l);
    CHECK_EQ_INT(l.n, 1);
    CHECK_EQ_INT(l.m[0].flags, TOPIC_SUB_NO_LOCAL | TOPIC_SUB_RAP);
    CHECK_EQ_INT(l.m[0].subid, 42);
    /* A re-subscription replaces options and identifier too. */
    CHECK_EQ_INT(add_sub(&t, "a/+", 1, 2, 0, 7, &replaced), 0);
    CHECK(replaced);
    l.n = 0;
    topic_tree_match(&t, (const uint8_t *)"a/b", 3, on_last, &l);
    CHECK_EQ_INT(l.m[0].flags, 0);
    CHECK_EQ_INT(l.m[0].subid, 7);
    CHECK_EQ_INT(l.m[0].qos, 2);
    topic_tree_destroy(&t);
}

static bool online_table[64];
static bool fake_online(const struct session *s)
{
    return online_table[(const char *)s - fake_sessions];
}

static void test_shared_round_robin(void)
{
    struct topic_tree t;
    bool replaced;
    struct hits h;
    topic_tree_init(&t, 2);
    add(&t, "$share/g/s/#", 1, 1);
    add(&t, "$share/g/s/#", 2, 1);
    add(&t, "$share/g/s/#", 3, 1);
    add(&t, "$share/other/s/+", 4, 0);
    add(&t, "s/x", 5, 0); /* a plain subscription at another node */
    CHECK_EQ_INT(t.count, 5);
    int per[64] = {0};
    for (int i = 0; i < 30; i++) {
        struct last l = {0};
        size_t nodes = topic_tree_match(&t, (const uint8_t *)"s/x", 3, on_last, &l);
        /* one member of g, the member of other, and the plain subscriber */
        CHECK_EQ_INT(l.n, 3);
        CHECK_EQ_INT(nodes, 3);
        for (int k = 0; k < l.n && k < 8; k++) {
            int idx = (int)((char *)l.m[k].session - fake_sessions);
            per[idx]++;
            CHECK_EQ_INT((l.m[k].flags & TOPIC_SUB_SHARED) != 0, idx != 5);
        }
    }
    CHECK_EQ_INT(per[1], 10); /* round robin: an even split */
    CHECK_EQ_INT(per[2], 10);
    CHECK_EQ_INT(per[3], 10);
    CHECK_EQ_INT(per[4], 30);
    CHECK_EQ_INT(per[5], 30);

    /* Connected members first: with 2 offline, 1 and 3 share everything. */
    t.member_online = fake_online;
    memset(online_table, 0, sizeof(online_table));
    online_table[1] = online_table[3] = online_table[4] = true;
    memset(per, 0, sizeof(per));
    for (int i = 0; i < 20; i++) {
        hits_reset(&h);
        topic_tree_match(&t, (const uint8_t *)"s/y", 3, on_match, &h);
        for (int k = 0; k < 64; k++)
            per[k] += h.count[k];
    }
    CHECK_EQ_INT(per[2], 0);
    CHECK_EQ_INT(per[1] + per[3], 20);
    CHECK(per[1] >= 6 && per[3] >= 6);

    /* Nobody connected: a member still gets it (its session queues). */
    memset(online_table, 0, sizeof(online_table));
    hits_reset(&h);
    topic_tree_match(&t, (const uint8_t *)"s/y", 3, on_match, &h);
    CHECK_EQ_INT(h.count[1] + h.count[2] + h.count[3], 1);

    /* pick_shared: another connected member, never the excluded one. */
    online_table[1] = online_table[2] = true;
    for (int i = 0; i < 10; i++) {
        struct last l = {0};
        CHECK(topic_tree_pick_shared(&t, (const uint8_t *)"$share/g/s/#", 12, S(1), on_last, &l));
        CHECK_EQ_INT(l.n, 1);
        CHECK(l.m[0].session == S(2));
    }
    online_table[2] = false;
    struct last l = {0};
    CHECK(!topic_tree_pick_shared(&t, (const uint8_t *)"$share/g/s/#", 12, S(1), on_last, &l));
    CHECK(!topic_tree_pick_shared(&t, (const uint8_t *)"$share/nope/s/#", 15, S(1), on_last, &l));

    /* Remove: group by group, and the same filter unshared is another thing. */
    CHECK(!topic_tree_remove(&t, (const uint8_t *)"s/#", 3, S(1)));
    CHECK(topic_tree_remove(&t, (const uint8_t *)"$share/g/s/#", 12, S(1)));
    CHECK(!topic_tree_remove(&t, (const uint8_t *)"$share/g/s/#", 12, S(1)));
    CHECK(topic_tree_remove(&t, (const uint8_t *)"$share/g/s/#", 12, S(2)));
    CHECK(topic_tree_remove(&t, (const uint8_t *)"$share/g/s/#", 12, S(3)));
    CHECK(topic_tree_remove(&t, (const uint8_t *)"$share/other/s/+", 16, S(4)));
    CHECK_EQ_INT(t.count, 1);
    t.member_online = NULL;
    hits_reset(&h);
    topic_tree_match(&t, (const uint8_t *)"s/x", 3, on_match, &h);
    CHECK_EQ_INT(h.n, 1);
    CHECK_EQ_INT(add_sub(&t, "$share/g/s/#", 1, 1, 0, 0, &replaced), 0);
    CHECK(!replaced);
    CHECK_EQ_INT(add_sub(&t, "$share/g/s/#", 1, 2, 0, 0, &replaced), 0);
    CHECK(replaced);
    CHECK_EQ_INT(t.count, 2);
    topic_tree_destroy(&t);
}

static void test_shared_topic_hash(void)
{
    struct topic_tree t;
    topic_tree_init(&t, 2);
    t.share_policy = SHARE_TOPIC_HASH;
    for (int s = 1; s <= 4; s++)
        add(&t, "$share/g/#", s, 0);
    /* One topic always lands on the same member. */
    for (int topic = 0; topic < 20; topic++) {
        char name[16];
        snprintf(name, sizeof(name), "t/%d", topic);
        struct last first = {0};
        topic_tree_match(&t, (const uint8_t *)name, strlen(name), on_last, &first);
        for (int i = 0; i < 5; i++) {
            struct last l = {0};
            topic_tree_match(&t, (const uint8_t *)name, strlen(name), on_last, &l);
            CHECK(l.m[0].session == first.m[0].session);
        }
    }
    topic_tree_destroy(&t);
}

int main(void)
{
    RUN(test_spec_examples);
    RUN(test_replace_and_remove);
    RUN(test_overlapping_reported_per_filter);
    RUN(test_deep_topic_no_recursion);
    RUN(test_random_against_reference);
    RUN(test_retain);
    RUN(test_options_carried);
    RUN(test_shared_round_robin);
    RUN(test_shared_topic_hash);
    return check_summary();
}

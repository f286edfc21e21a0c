/* test_topic.c - topic name / filter validity and the reference matcher (MQTT 4.7). */
#include "check.h"
#include "proto/topic.h"

#define U(s) (const uint8_t *)(s), strlen(s)

struct valid_vec {
    const char *s;
    bool name_ok, filter_ok;
};

static const struct valid_vec valid_vecs[] = {
    {"", false, false}, /* [MQTT-4.7.3-1] */
    {"a", true, true},
    {"/", true, true},
    {"//", true, true},
    {"a/b/c", true, true},
    {"sport/tennis/player1", true, true},
    {"$SYS/broker/load", true, true},
    {" ", true, true},
    {"#", false, true},
    {"+", false, true},
    {"+/+", false, true},
    {"/+", false, true},
    {"+/", false, true},
    {"sport/tennis/#", false, true},
    {"sport/+/player1", false, true},
    {"+/tennis/#", false, true},
    {"/#", false, true},
    {"a//#", false, true},
    {"a/#/b", false, false}, /* '#' not last [MQTT-4.7.1-2] */
    {"a#", false, false},
    {"#a", false, false},
    {"a/#b", false, false},
    {"##", false, false},
    {"#/", false, false},
    {"a+", false, false}, /* '+' not the whole level [MQTT-4.7.1-3] */
    {"+a", false, false},
    {"a/+b/c", false, false},
    {"a/b+/c", false, false},
    {"++", false, false},
    {"sport+", false, false},
};

static void test_validity(void)
{
    for (size_t i = 0; i < sizeof(valid_vecs) / sizeof(valid_vecs[0]); i++) {
        const struct valid_vec *v = &valid_vecs[i];
        bool n = sl_topic_name_valid(U(v->s)), f = sl_topic_filter_valid(U(v->s));
        if (n != v->name_ok || f != v->filter_ok) {
            fprintf(stderr, "  '%s': name %d filter %d\n", v->s, n, f);
            CHECK(!"topic validity");
        }
    }
    CHECK(!sl_topic_name_valid(NULL, 0));
    CHECK(!sl_topic_filter_valid(NULL, 0));
    CHECK(!sl_topic_matches(NULL, 0, U("a"))); /* an empty filter matches nothing */
}

struct match_vec {
    const char *filter, *name;
    bool match;
};

static const struct match_vec match_vecs[] = {
    /* exact */
    {"a", "a", true},
    {"a", "b", false},
    {"a/b", "a/b", true},
    {"a/b", "a", false},
    {"a", "a/b", false},
    {"a/b", "a/bc", false},
    {"a/bc", "a/b", false},
    {"/", "/", true},
    {"/", "a", false},
    {"a/", "a", false},
    {"a", "a/", false},
    /* '#' */
    {"#", "a", true},
    {"#", "a/b/c", true},
    {"#", "/", true},
    {"#", "/finance", true},
    {"sport/tennis/#", "sport/tennis", true}, /* parent level [MQTT-4.7.1-2] */
    {"sport/tennis/#", "sport/tennis/player1", true},
    {"sport/tennis/#", "sport/tennis/player1/ranking", true},
    {"sport/tennis/#", "sport/tennis/", true},
    {"sport/tennis/#", "sport/tennisx", false},
    {"sport/tennis/#", "sport", false},
    {"a/#", "a", true},
    {"a/#", "a/", true},
    {"a/#", "ab", false},
    {"a/#", "b/a", false},
    {"/#", "/", true},
    {"/#", "/a/b", true},
    {"/#", "a", false},
    /* '+' */
    {"+", "a", true},
    {"+", "a/b", false},
    {"+", "/", false},
    {"+", "", true},           /* 5.0 empty topic: one empty level */
    {"+/+", "/finance", true}, /* '+' matches an empty level */
    {"/+", "/finance", true},
    {"+", "/finance", false},
    {"+/+", "/", true},
    {"+/+", "a", false},
    {"+/+", "a/b/c", false},
    {"sport/tennis/+", "sport/tennis/player1", true},
    {"sport/tennis/+", "sport/tennis/player2/ranking", false},
    {"sport/tennis/+", "sport/tennis", false},
    {"sport/tennis/+", "sport/tennis/", true},
    {"sport/+/player1", "sport/tennis/player1", true},
    {"sport/+/player1", "sport//player1", true},
    {"sport/+", "sport", false},
    {"sport/+", "sport/", true},
    {"+/tennis/#", "sport/tennis", true},
    {"+/tennis/#", "sport/tennis/x/y", true},
    {"+/tennis/#", "sport/golf/x", false},
    {"a/+/#", "a/b", true},
    {"a/+/#", "a", false},
    /* '$' topics [MQTT-4.7.2-1] */
    {"#", "$SYS/x", false},
    {"#", "$SYS", false},
    {"+/x", "$SYS/x", false},
    {"+", "$SYS", false},
    {"+/#", "$SYS/x", false},
    {"$SYS/#", "$SYS/x", true},
    {"$SYS/#", "$SYS", true},
    {"$SYS/+", "$SYS/x", true},
    {"$SYS/x", "$SYS/x", true},
    {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
    {"a/#", "a/$SYS", true}, /* '$' only matters at the first level */
    {"+/$x", "a/$x", true},
    {"#", "a$", true},
};

static void test_matches(void)
{
    for (size_t i = 0; i < sizeof(match_vecs) / sizeof(match_vecs[0]); i++) {
        const struct match_vec *v = &match_vecs[i];
        bool got = sl_topic_matches(U(v->filter), U(v->name));
        if (got != v->match) {
            fprintf(stderr, "  filter '%s' name '%s': got %d\n", v->filter, v->name, got);
            CHECK(!"topic match");
        }
    }
}

/* Overlapping filters: one name, many filters; the set that matches is exact. */
static void test_overlapping_filters(void)
{
    static const char *filters[] = {"#",     "a/#", "a/b/#", "a/+/c", "+/b/c",   "a/b/c",
                                    "+/+/+", "a/b", "a/+",   "+/#",   "a/b/c/#", "a/b/c/d"};
    static const bool want[] = {true, true,  true,  true, true, true,
                                true, false, false, true, true, false};
    int n = 0;
    for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        CHECK(sl_topic_filter_valid(U(filters[i])));
        bool got = sl_topic_matches(U(filters[i]), U("a/b/c"));
        if (got != want[i]) fprintf(stderr, "  overlap filter '%s': got %d\n", filters[i], got);
        CHECK(got == want[i]);
        n += got;
    }
    CHECK_EQ_INT(n, 9);
}

/* Every valid name matches itself and "#" (unless it starts with '$'). */
static void test_name_matches_itself(void)
{
    for (size_t i = 0; i < sizeof(valid_vecs) / sizeof(valid_vecs[0]); i++) {
        const char *s = valid_vecs[i].s;
        if (!valid_vecs[i].name_ok) continue;
        CHECK(sl_topic_matches(U(s), U(s)));
        CHECK(sl_topic_matches(U("#"), U(s)) == (s[0] != '$'));
    }
}

/* Shared subscriptions, 5.0 §4.8.2: "$share/GROUP/FILTER". */
static void test_shared_filters(void)
{
    static const struct {
        const char *f;
        bool shared, valid;
        const char *group, *filter;
    } v[] = {
        {"$share/g/a/b", true, true, "g", "a/b"},
        {"$share/grp/#", true, true, "grp", "#"},
        {"$share/g/+/x", true, true, "g", "+/x"},
        {"$share/g/", true, false, NULL, NULL},   /* empty filter */
        {"$share/g", true, false, NULL, NULL},    /* no filter at all */
        {"$share//a", true, false, NULL, NULL},   /* empty group */
        {"$share/g+/a", true, false, NULL, NULL}, /* wildcard in the group [MQTT-4.8.2-2] */
        {"$share/g#/a", true, false, NULL, NULL},
        {"$share/g/a/#/b", true, false, NULL, NULL}, /* the filter itself is invalid */
        {"$share", false, true, NULL, NULL},         /* an ordinary filter */
        {"$sharex/g/a", false, true, NULL, NULL},
        {"a/$share/g/b", false, true, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        const uint8_t *f = (const uint8_t *)v[i].f, *g, *ff;
        size_t len = strlen(v[i].f), glen, flen;
        bool valid, shared;
        CHECK_EQ_INT(sl_topic_share_split(f, len, &g, &glen, &ff, &flen, &valid), v[i].shared);
        if (v[i].shared) CHECK_EQ_INT(valid, v[i].valid);
        if (v[i].group) {
            CHECK(glen == strlen(v[i].group) && memcmp(g, v[i].group, glen) == 0);
            CHECK(flen == strlen(v[i].filter) && memcmp(ff, v[i].filter, flen) == 0);
        }
        CHECK_EQ_INT(sl_topic_sub_filter_valid(f, len, &shared), v[i].valid);
        CHECK_EQ_INT(shared, v[i].shared);
    }
}

int main(void)
{
    RUN(test_validity);
    RUN(test_matches);
    RUN(test_overlapping_filters);
    RUN(test_name_matches_itself);
    RUN(test_shared_filters);
    return check_summary();
}

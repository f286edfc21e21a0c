/* Unit tests for broker/topic_alias.c: inbound alias table, outbound assignment
 * with reuse and round-robin replacement. */
#include <string.h>

#include "broker/topic_alias.h"
#include "check.h"

#define T(s) (const uint8_t *)(s), strlen(s)

static void test_inbound(void)
{
    struct topic_aliases *ta = topic_aliases_new(3, 0);
    const uint8_t *t;
    size_t len;
    CHECK(ta != NULL);
    CHECK(!topic_alias_in_get(ta, 1, &t, &len)); /* never set */
    CHECK_EQ_INT(topic_alias_in_set(ta, 1, T("a/b")), 0);
    CHECK_EQ_INT(topic_alias_in_set(ta, 3, T("c")), 0);
    CHECK(topic_alias_in_get(ta, 1, &t, &len));
    CHECK(len == 3 && memcmp(t, "a/b", 3) == 0);
    CHECK_EQ_INT(topic_alias_in_set(ta, 1, T("x/y/z")), 0); /* re-pointed */
    CHECK(topic_alias_in_get(ta, 1, &t, &len));
    CHECK(len == 5 && memcmp(t, "x/y/z", 5) == 0);
    CHECK(!topic_alias_in_get(ta, 0, &t, &len)); /* out of range either side */
    CHECK(!topic_alias_in_get(ta, 4, &t, &len));
    CHECK(!topic_alias_in_get(NULL, 1, &t, &len));
    topic_aliases_free(ta);
}

static void test_outbound(void)
{
    struct topic_aliases *ta = topic_aliases_new(0, 2);
    bool send;
    CHECK_EQ_INT(topic_alias_out(ta, T("a"), &send), 1);
    CHECK(send); /* first use: topic and alias */
    CHECK_EQ_INT(topic_alias_out(ta, T("a"), &send), 1);
    CHECK(!send); /* then the alias alone */
    CHECK_EQ_INT(topic_alias_out(ta, T("b"), &send), 2);
    CHECK(send);
    /* Full: the next new topic re-points alias 1, then 2, round robin. */
    CHECK_EQ_INT(topic_alias_out(ta, T("c"), &send), 1);
    CHECK(send);
    CHECK_EQ_INT(topic_alias_out(ta, T("c"), &send), 1);
    CHECK(!send);
    CHECK_EQ_INT(topic_alias_out(ta, T("a"), &send), 2); /* "a" lost its alias */
    CHECK(send);
    CHECK_EQ_INT(topic_alias_out(ta, T("b"), &send), 1); /* and so did "b", then "c" */
    CHECK(send);
    topic_aliases_free(ta);

    ta = topic_aliases_new(5, 0); /* no outbound aliases: topic every time */
    CHECK_EQ_INT(topic_alias_out(ta, T("a"), &send), 0);
    CHECK(send);
    topic_aliases_free(ta);
    CHECK_EQ_INT(topic_alias_out(NULL, T("a"), &send), 0);
    CHECK(send);
}

int main(void)
{
    RUN(test_inbound);
    RUN(test_outbound);
    return check_summary();
}

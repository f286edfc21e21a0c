/*
 * topic.c - topic names, topic filters and the reference matcher (MQTT 4.7).
 *
 * A topic is a '/'-separated list of levels; a level may be empty, so "/" has
 * two empty levels and "a//b" three. Filters add two wildcards that must each
 * fill a whole level: '+' (exactly one level) and '#' (this level and every one
 * below, and also the parent: "a/#" matches "a"). Topics whose first character
 * is '$' are reserved for the server and are not reached by a leading wildcard.
 *
 * Invariants: inputs are byte strings already checked as MQTT UTF-8 (no NUL);
 * nothing here reads outside [ptr, ptr + len). UTF-8 continuation bytes are
 * never '/', '+' or '#', so working on bytes is exact.
 */
#include "proto/topic.h"

#include <string.h>

bool sl_topic_name_valid(const uint8_t *t, size_t len)
{
    if (len == 0) return false; /* [MQTT-4.7.3-1] */
    for (size_t i = 0; i < len; i++)
        if (t[i] == '+' || t[i] == '#') return false; /* [MQTT-3.3.2-2] [MQTT-4.7.1-1] */
    return true;
}

bool sl_topic_filter_valid(const uint8_t *f, size_t len)
{
    if (len == 0) return false; /* [MQTT-4.7.3-1] */
    for (size_t i = 0; i < len; i++) {
        bool level_start = i == 0 || f[i - 1] == '/';
        bool level_end = i + 1 == len || f[i + 1] == '/';

        if (f[i] == '#') {
            /* Alone in its level, and that level is the last. [MQTT-4.7.1-2] */
            if (!level_start || i + 1 != len) return false;
        } else if (f[i] == '+') {
            if (!level_start || !level_end) return false; /* [MQTT-4.7.1-3] */
        }
    }
    return true;
}

/* End of the level that starts at s[i]: the index of the next '/' or len. */
static size_t level_end(const uint8_t *s, size_t len, size_t i)
{
    while (i < len && s[i] != '/')
        i++;
    return i;
}

bool sl_topic_matches(const uint8_t *filter, size_t filter_len, const uint8_t *name,
                      size_t name_len)
{
    size_t fi = 0, ni = 0;
    bool name_left = true; /* a name level starts at ni */

    if (filter_len == 0) return false;
    /* [MQTT-4.7.2-1] */
    if (name_len > 0 && name[0] == '$' && (filter[0] == '+' || filter[0] == '#')) return false;

    for (;;) {
        size_t fe = level_end(filter, filter_len, fi);

        /* '#' takes the rest of the name, including none of it: the parent. */
        if (fe - fi == 1 && filter[fi] == '#') return true;
        if (!name_left) return false; /* the filter has a level the name lacks */

        size_t ne = level_end(name, name_len, ni);
        bool plus = fe - fi == 1 && filter[fi] == '+';

        if (!plus &&
            (fe - fi != ne - ni || (fe > fi && memcmp(filter + fi, name + ni, fe - fi) != 0)))
            return false;

        bool f_last = fe == filter_len, n_last = ne == name_len;
        if (f_last) return n_last;
        fi = fe + 1;
        if (n_last)
            name_left = false;
        else
            ni = ne + 1;
    }
}

bool sl_topic_share_split(const uint8_t *f, size_t len, const uint8_t **group, size_t *group_len,
                          const uint8_t **filter, size_t *filter_len, bool *valid)
{
    static const char prefix[] = "$share/";
    const size_t plen = sizeof(prefix) - 1;
    *valid = false;
    *group = *filter = NULL;
    *group_len = *filter_len = 0;
    if (len < plen || memcmp(f, prefix, plen) != 0) return false;
    size_t i = plen;
    while (i < len && f[i] != '/') {
        if (f[i] == '+' || f[i] == '#') return true; /* [MQTT-4.8.2-2] */
        i++;
    }
    if (i == plen || i >= len) return true; /* empty group, or no filter at all */
    *group = f + plen;
    *group_len = i - plen;
    *filter = f + i + 1;
    *filter_len = len - i - 1;
    *valid = sl_topic_filter_valid(*filter, *filter_len);
    return true;
}

bool sl_topic_sub_filter_valid(const uint8_t *f, size_t len, bool *shared)
{
    const uint8_t *g, *ff;
    size_t glen, flen;
    bool valid;
    bool is_shared = sl_topic_share_split(f, len, &g, &glen, &ff, &flen, &valid);
    if (shared) *shared = is_shared;
    return is_shared ? valid : sl_topic_filter_valid(f, len);
}

/*
 * topic.h - topic name and topic filter rules (MQTT 4.7), and a reference matcher.
 *
 * Inputs are assumed to be valid UTF-8 already (the decoders check that).
 * The broker's subscription trie (broker/topic_tree.c) is the fast path; the
 * matcher here is the executable definition it is tested against.
 */
#ifndef SL_PROTO_TOPIC_H
#define SL_PROTO_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A PUBLISH topic: at least one byte [MQTT-4.7.3-1], no '+' or '#' [MQTT-3.3.2-2]. */
bool sl_topic_name_valid(const uint8_t *t, size_t len);

/* A SUBSCRIBE/UNSUBSCRIBE filter: at least one byte [MQTT-4.7.3-1]; '#' only as the
 * whole last level [MQTT-4.7.1-2]; '+' only as a whole level [MQTT-4.7.1-3].
 * Shared-subscription syntax is not interpreted here. */
bool sl_topic_filter_valid(const uint8_t *f, size_t len);

/* Shared subscription "$share/GROUP/FILTER" (5.0 §4.8.2): true when f starts with
 * "$share/". *valid then says whether GROUP is at least one character without
 * '/', '+' or '#' and FILTER a valid filter [MQTT-4.8.2-1] [MQTT-4.8.2-2]; group and
 * filter get views into f. */
bool sl_topic_share_split(const uint8_t *f, size_t len, const uint8_t **group, size_t *group_len,
                          const uint8_t **filter, size_t *filter_len, bool *valid);

/* A filter as SUBSCRIBE and UNSUBSCRIBE carry it: a valid filter, or a valid
 * shared one. *shared (may be NULL) says whether it starts with "$share/". */
bool sl_topic_sub_filter_valid(const uint8_t *f, size_t len, bool *shared);

/* True if the (valid) filter matches the (valid) name. A name starting with '$' is
 * not matched by a filter whose first level is '+' or '#' [MQTT-4.7.2-1].
 * "a/#" also matches "a" (the parent level) [MQTT-4.7.1-2 non-normative example]. */
bool sl_topic_matches(const uint8_t *filter, size_t filter_len, const uint8_t *name,
                      size_t name_len);

#endif

/*
 * topic_alias.h - MQTT 5 Topic Aliases of one connection (5.0 §3.3.2.3.4).
 *
 * Inbound: the client maps alias -> topic with a PUBLISH carrying both, then
 * sends the alias with an empty topic. At most max_topic_alias of them
 * [MQTT-3.2.2-17]; the table is allocated on first use.
 *
 * Outbound: towards a client that announced Topic Alias Maximum, the broker
 * assigns aliases itself, at most min(that, max_topic_alias_broker). A topic
 * seen for the first time gets the next free alias (or, when all are taken,
 * the next one round-robin is re-pointed) and goes out with topic and alias;
 * later messages on it carry the alias and an empty topic. The table is
 * searched linearly by hash: max_topic_alias_broker is capped at 256.
 *
 * Aliases belong to the connection, not the session [MQTT-3.3.2-7]: a new
 * connection starts with none in either direction.
 */
#ifndef SL_BROKER_TOPIC_ALIAS_H
#define SL_BROKER_TOPIC_ALIAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct alias_entry {
    uint8_t *topic; /* NULL: unused */
    uint16_t len;
    uint32_t hash;
};

struct topic_aliases {
    uint16_t in_max, out_max;
    uint16_t out_used, out_next;
    struct alias_entry *in;  /* in_max entries, alias 1 at [0] */
    struct alias_entry *out; /* out_max entries */
};

/* NULL on allocation failure. Either maximum may be 0. */
struct topic_aliases *topic_aliases_new(uint16_t in_max, uint16_t out_max);
void topic_aliases_free(struct topic_aliases *ta);

/* Inbound. alias is 1..in_max (the caller checks). SL_OK or SL_ENOMEM. */
int topic_alias_in_set(struct topic_aliases *ta, uint16_t alias, const uint8_t *topic, size_t len);
/* False when the client never set this alias. */
bool topic_alias_in_get(const struct topic_aliases *ta, uint16_t alias, const uint8_t **topic,
                        size_t *len);

/* Outbound: the alias for topic, and whether the topic must be sent with it
 * (first use, or the alias was re-pointed). 0 when no alias is used (out_max 0
 * or no memory): send the topic alone. */
uint16_t topic_alias_out(struct topic_aliases *ta, const uint8_t *topic, size_t len,
                         bool *send_topic);

#endif

/* topic_alias.c - see topic_alias.h. */
#include "broker/topic_alias.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/hash.h"

struct topic_aliases *topic_aliases_new(uint16_t in_max, uint16_t out_max)
{
    struct topic_aliases *ta = calloc(1, sizeof(*ta));
    if (!ta) return NULL;
    ta->in_max = in_max;
    ta->out_max = out_max;
    if ((in_max && !(ta->in = calloc(in_max, sizeof(*ta->in)))) ||
        (out_max && !(ta->out = calloc(out_max, sizeof(*ta->out))))) {
        topic_aliases_free(ta);
        return NULL;
    }
    return ta;
}

void topic_aliases_free(struct topic_aliases *ta)
{
    if (!ta) return;
    for (uint16_t i = 0; ta->in && i < ta->in_max; i++)
        free(ta->in[i].topic);
    for (uint16_t i = 0; ta->out && i < ta->out_max; i++)
        free(ta->out[i].topic);
    free(ta->in);
    free(ta->out);
    free(ta);
}

static int entry_set(struct alias_entry *e, const uint8_t *topic, size_t len, uint32_t hash)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return SL_ENOMEM;
    memcpy(copy, topic, len);
    free(e->topic);
    e->topic = copy;
    e->len = (uint16_t)len;
    e->hash = hash;
    return SL_OK;
}

int topic_alias_in_set(struct topic_aliases *ta, uint16_t alias, const uint8_t *topic, size_t len)
{
    struct alias_entry *e = &ta->in[alias - 1];
    if (e->topic && e->len == len && memcmp(e->topic, topic, len) == 0) return SL_OK;
    return entry_set(e, topic, len, 0);
}

bool topic_alias_in_get(const struct topic_aliases *ta, uint16_t alias, const uint8_t **topic,
                        size_t *len)
{
    if (!ta || alias == 0 || alias > ta->in_max || !ta->in[alias - 1].topic) return false;
    *topic = ta->in[alias - 1].topic;
    *len = ta->in[alias - 1].len;
    return true;
}

uint16_t topic_alias_out(struct topic_aliases *ta, const uint8_t *topic, size_t len,
                         bool *send_topic)
{
    *send_topic = true;
    if (!ta || ta->out_max == 0) return 0;
    uint32_t h = sl_hash(topic, len);
    for (uint16_t i = 0; i < ta->out_used; i++) {
        const struct alias_entry *e = &ta->out[i];
        if (e->hash == h && e->len == len && memcmp(e->topic, topic, len) == 0) {
            *send_topic = false;
            return (uint16_t)(i + 1);
        }
    }
    uint16_t slot;
    if (ta->out_used < ta->out_max) {
        slot = ta->out_used;
    } else {
        slot = ta->out_next;
        ta->out_next = (uint16_t)((ta->out_next + 1) % ta->out_max);
    }
    if (entry_set(&ta->out[slot], topic, len, h) != SL_OK) return 0;
    if (slot == ta->out_used) ta->out_used++;
    return (uint16_t)(slot + 1);
}

/*
 * handle_connect.c - CONNECT, on the worker that is the home of the client id
 * (client.c moves the connection there first).
 *
 * Order of checks follows the spec: decode (malformed: close without CONNACK
 * [MQTT-3.1.4-1]); protocol level (CONNACK 1 [MQTT-3.1.2-2]); client identifier
 * (CONNACK 2 [MQTT-3.1.3-8] [MQTT-3.1.3-9]); keepalive against max_keepalive
 * (CONNACK 2, as Mosquitto does for clients before 5.0); authentication
 * (CONNACK 5); no memory for the session (CONNACK 3). Then the session: a connected client with the
 * same id is taken over [MQTT-3.1.4-2]; clean session discards the old state [MQTT-3.1.2-6],
 * otherwise it resumes [MQTT-3.1.2-4]. The CONNACK is held until the store has
 * the session, and nothing else is sent before it [MQTT-3.2.0-1].
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "broker/client.h"
#include "broker/config.h"
#include "broker/handlers.h"
#include "broker/msg.h"
#include "broker/send.h"
#include "broker/server.h"
#include "broker/session.h"
#include "broker/worker.h"
#include "core/error.h"
#include "core/log.h"
#include "proto/decode.h"
#include "proto/frame.h"

enum {
    CONNACK_ACCEPTED = 0,
    CONNACK_BAD_VERSION = 1,
    CONNACK_ID_REJECTED = 2,
    CONNACK_SERVER_UNAVAILABLE = 3,
    /* 4, bad user name or password, comes with the password providers */
    CONNACK_NOT_AUTHORIZED = 5,
    CONNACK5_UNSUPPORTED_VERSION = 0x84,
};

#define MQTT31_MAX_ID   23  /* MQTT 3.1 limits client ids to 23 characters */
#define ASSIGNED_ID_MAX 320 /* auto_id_prefix (<= 256, config.c) + 32 hex digits */

/* An id for a client that sent none [MQTT-3.1.3-6], chosen so that its home is
 * this worker: the connection is already here and never has to move. */
static size_t assign_id(struct worker *w, char *out, size_t outlen)
{
    const char *prefix = w->srv->cfg->auto_id_prefix ? w->srv->cfg->auto_id_prefix : "auto-";
    for (;;) {
        uint8_t rnd[16];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
            /* getrandom on Linux does not fail for 16 bytes once the pool is up;
             * fall back to the clock rather than refuse the client. */
            uint64_t t = worker_clock_ms() ^ (uint64_t)(uintptr_t)out;
            memcpy(rnd, &t, sizeof(t));
            memcpy(rnd + 8, &t, sizeof(t));
        }
        int n = snprintf(out, outlen, "%s", prefix);
        for (size_t i = 0; i < sizeof(rnd) && (size_t)n + 2 < outlen; i++)
            n += snprintf(out + n, outlen - (size_t)n, "%02x", rnd[i]);
        if (server_home_of(w->srv, (const uint8_t *)out, (size_t)n) == w->idx) return (size_t)n;
    }
}

static bool keepalive_allowed(const struct sl_config *cfg, uint16_t ka)
{
    if (cfg->max_keepalive == 65535) return true;
    return ka != 0 && ka <= cfg->max_keepalive;
}

static int refuse(struct client *c, uint8_t rc, const char *why)
{
    sl_notice("refused connection from %s: %s", c->peer, why);
    send_connack_refuse(c, rc);
    return SL_OK; /* the connection closes after the CONNACK is written */
}

int handle_connect(struct client *c, const uint8_t *body, size_t len)
{
    struct worker *w = c->w;
    const struct sl_config *cfg = w->srv->cfg;
    struct sl_connect cn;
    int rc = sl_decode_connect(body, len, &cn);

    if (rc == SL_EVERSION) {
        c->version = SL_MQTT_311;
        return refuse(c, CONNACK_BAD_VERSION, "unsupported protocol level");
    }
    if (rc != SL_OK) return rc;
    c->version = cn.version;
    if (cn.version == SL_MQTT_5)
        return refuse(c, CONNACK5_UNSUPPORTED_VERSION, "MQTT 5.0 is not supported yet");

    char idbuf[ASSIGNED_ID_MAX];
    const uint8_t *id = cn.client_id.ptr;
    size_t id_len = cn.client_id.len;
    if (cn.version == SL_MQTT_31 && (id_len == 0 || id_len > MQTT31_MAX_ID))
        return refuse(c, CONNACK_ID_REJECTED, "MQTT 3.1 client id must be 1-23 characters");
    if (id_len == 0) {
        if (!cn.clean_start) /* [MQTT-3.1.3-8] */
            return refuse(c, CONNACK_ID_REJECTED, "empty client id without clean session");
        if (!cfg->allow_zero_length_clientid)
            return refuse(c, CONNACK_ID_REJECTED, "empty client id not allowed");
        id_len = assign_id(w, idbuf, sizeof(idbuf));
        id = (const uint8_t *)idbuf;
    }
    if (!keepalive_allowed(cfg, cn.keepalive))
        return refuse(c, CONNACK_ID_REJECTED, "keepalive above max_keepalive");
    if (!cfg->allow_anonymous)
        /* No password provider exists yet (security issue): with anonymous access
         * off, nobody can be authenticated, so nobody gets in. */
        return refuse(c, CONNACK_NOT_AUTHORIZED, "allow_anonymous is false");
    if (cn.will && cn.will_retain && !cfg->retain_available) {
        sl_notice("refused connection from %s: retained will but retain_available is false",
                  c->peer);
        return SL_EPROTO;
    }

    struct sl_msg *will = NULL;
    if (cn.will) {
        will = sl_msg_new(cn.will_topic.ptr, cn.will_topic.len, cn.will_payload.ptr,
                          cn.will_payload.len, cn.will_qos, cn.will_retain);
        if (!will) return SL_ENOMEM;
    }

    /* Takeover: the old connection closes first (its will is published, since
     * it did not DISCONNECT), which also ends its session if that was clean. */
    struct session *s = session_find(&w->sessions, id, id_len);
    if (s && s->client) {
        sl_notice("client %.*s already connected, closing old connection", (int)id_len,
                  (const char *)id);
        client_close(s->client, "session taken over");
        s = session_find(&w->sessions, id, id_len);
    }
    bool present = false;
    if (s && cn.clean_start) {
        session_end(s);
        s = NULL;
    }
    if (s) {
        present = true;
    } else {
        s = session_create(w, id, id_len, cn.clean_start);
        if (!s) {
            sl_msg_unref(will);
            return refuse(c, CONNACK_SERVER_UNAVAILABLE, "out of memory for a new session");
        }
    }

    s->client = c;
    session_set_online(s, true, w->now_ms);
    c->session = s;
    c->will = will;
    c->keepalive = cn.keepalive;
    c->state = CLIENT_CONNECTED;
    stat_add(&w->stats.clients_connected, 1);
    c->awaiting_connack = true;
    client_arm_keepalive(c);

    if (cfg->connection_messages)
        sl_notice("New client connected from %s as %.*s (p%u, c%u, k%u, w%d).", c->peer,
                  (int)s->id_len, s->id, cn.version, cn.clean_start ? 1u : 0u, cn.keepalive,
                  w->idx);
    /* [MQTT-3.2.2-1] [MQTT-3.2.2-2]: session present only when resumed. */
    return send_connack(c, present, CONNACK_ACCEPTED);
}

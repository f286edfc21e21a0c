/*
 * handle_connect.c - CONNECT, on the worker that is the home of the client id
 * (client.c moves the connection there first).
 *
 * Order of checks follows the spec: decode (malformed: close without CONNACK
 * [MQTT-3.1.4-1]; 5.0 answers a bad property block with CONNACK 0x81/0x82);
 * protocol level (CONNACK 1 / 0x84 [MQTT-3.1.2-2]); server redirection (5.0
 * 0x9C/0x9D); client identifier (CONNACK 2 / 0x85 [MQTT-3.1.3-8]
 * [MQTT-3.1.3-9]); keepalive against max_keepalive (3.1.1: CONNACK 2, as
 * Mosquitto does; 5.0: Server Keep Alive instead); the will against
 * retain_available and max_qos; authentication (enhanced: handle_auth.c;
 * otherwise allow_anonymous, CONNACK 5 / 0x87); no memory for the session
 * (CONNACK 3 / 0x88). Then connect_accept: a connected client with the same id
 * is taken over [MQTT-3.1.4-2]; Clean Start discards the old state
 * [MQTT-3.1.2-6], otherwise it resumes [MQTT-3.1.2-4]. The CONNACK is held
 * until the store has the session, and nothing else is sent before it
 * [MQTT-3.2.0-1].
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "broker/auth.h"
#include "broker/client.h"
#include "broker/config.h"
#include "broker/handlers.h"
#include "broker/msg.h"
#include "broker/send.h"
#include "broker/server.h"
#include "broker/session.h"
#include "broker/topic_alias.h"
#include "broker/worker.h"
#include "core/error.h"
#include "core/log.h"
#include "proto/frame.h"
#include "proto/reason.h"

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

int connect_refuse(struct client *c, uint8_t rc, const char *why)
{
    sl_notice("refused connection from %s: %s", SL_PEER_STR(&c->peer), why);
    send_connack_refuse(c, rc, why, NULL);
    return SL_OK; /* the connection closes after the CONNACK is written */
}

/* A will the broker cannot take: 5.0 has a CONNACK code for it, 3.1.1 only
 * closing the connection. */
static int refuse_will(struct client *c, uint8_t rc, const char *why)
{
    if (c->version == SL_MQTT_5) return connect_refuse(c, rc, why);
    sl_notice("refused connection from %s: %s", SL_PEER_STR(&c->peer), why);
    return SL_EPROTO;
}

int connect_decode(const uint8_t *body, size_t len, struct connect_info *ci, uint8_t *reason)
{
    const struct sl_connect *cn = &ci->cn;
    int rc = sl_decode_connect(body, len, &ci->cn);
    sl_props_init(&ci->props);
    sl_props_init(&ci->wprops);
    *reason = rc == SL_OK ? SL_RC_SUCCESS : SL_RC_MALFORMED_PACKET;
    if (rc != SL_OK || cn->version != SL_MQTT_5) return rc;
    rc = sl_props_parse(cn->props.ptr, cn->props.len, SL_PT_CONNECT, &ci->props, reason);
    if (rc == SL_OK && cn->will)
        rc = sl_props_parse(cn->will_props.ptr, cn->will_props.len, SL_PROPS_WILL, &ci->wprops,
                            reason);
    /* "It is a Protocol Error to include Authentication Data if there is no
     * Authentication Method" (5.0 §3.1.2.11.10). */
    if (rc == SL_OK && sl_props_has(&ci->props, SL_PROP_AUTHENTICATION_DATA) &&
        !sl_props_has(&ci->props, SL_PROP_AUTHENTICATION_METHOD)) {
        *reason = SL_RC_PROTOCOL_ERROR;
        rc = SL_EPROTO;
    }
    return rc;
}

int handle_connect(struct client *c, const uint8_t *body, size_t len)
{
    struct worker *w = c->w;
    const struct sl_config *cfg = w->srv->cfg;
    struct connect_info ci;
    const struct sl_connect *cn = &ci.cn;
    uint8_t reason;
    int rc = connect_decode(body, len, &ci, &reason);

    if (rc == SL_EVERSION) {
        c->version = SL_MQTT_311;
        return connect_refuse(c, SL_RC_UNSUPPORTED_PROTOCOL_VERSION, "unsupported protocol level");
    }
    if (rc != SL_OK) {
        if (cn->version != SL_MQTT_5) return rc;
        /* 5.0 answers with the reason: "MAY send CONNACK 0x81" (5.0 §3.1.4). */
        c->version = SL_MQTT_5;
        return connect_refuse(c, reason, sl_reason_name(reason));
    }
    c->version = cn->version;
    if (cn->version == SL_MQTT_5) {
        if (cfg->server_reference) {
            struct sl_props p;
            sl_props_init(&p);
            sl_props_set_bytes(&p, SL_PROP_SERVER_REFERENCE, (const uint8_t *)cfg->server_reference,
                               strlen(cfg->server_reference));
            uint8_t code =
                cfg->server_reference_permanent ? SL_RC_SERVER_MOVED : SL_RC_USE_ANOTHER_SERVER;
            sl_notice("redirected %s to %s", SL_PEER_STR(&c->peer), cfg->server_reference);
            send_connack_refuse(c, code, "use another server", &p);
            return SL_OK;
        }
    } else if (cfg->server_reference) {
        return connect_refuse(c, SL_RC_SERVER_UNAVAILABLE,
                              "server_reference set: redirecting clients");
    }

    size_t id_len = cn->client_id.len;
    if (cn->version == SL_MQTT_31 && (id_len == 0 || id_len > MQTT31_MAX_ID))
        return connect_refuse(c, SL_RC_CLIENT_ID_NOT_VALID,
                              "MQTT 3.1 client id must be 1-23 characters");
    if (id_len == 0) {
        /* 3.1.1 needs clean session for it [MQTT-3.1.3-8]; 5.0 does not. */
        if (!cn->clean_start && cn->version != SL_MQTT_5)
            return connect_refuse(c, SL_RC_CLIENT_ID_NOT_VALID,
                                  "empty client id without clean session");
        if (!cfg->allow_zero_length_clientid)
            return connect_refuse(c, SL_RC_CLIENT_ID_NOT_VALID, "empty client id not allowed");
    }
    if (cn->version != SL_MQTT_5 && !keepalive_allowed(cfg, cn->keepalive))
        return connect_refuse(c, SL_RC_CLIENT_ID_NOT_VALID, "keepalive above max_keepalive");
    if (cn->will && cn->will_retain && !cfg->retain_available)
        return refuse_will(c, SL_RC_RETAIN_NOT_SUPPORTED,
                           "retained will but retain_available is false");
    if (cn->will && cn->will_qos > cfg->max_qos)
        return refuse_will(c, SL_RC_QOS_NOT_SUPPORTED, "will QoS above max_qos");
    if (sl_props_has(&ci.props, SL_PROP_AUTHENTICATION_METHOD))
        return auth_begin(c, body, len, &ci.props);
    if (!cfg->allow_anonymous)
        /* No password provider exists yet (security issue): with anonymous access
         * off, only enhanced authentication gets in. */
        return connect_refuse(c, SL_RC_NOT_AUTHORIZED, "allow_anonymous is false");
    return connect_accept(c, &ci, NULL);
}

/* The will as a message: 5.0 Will Properties travel with it like a PUBLISH's. */
static struct sl_msg *make_will(struct client *c, const struct connect_info *ci)
{
    const struct sl_connect *cn = &ci->cn;
    /* Before 5.0 will_props is empty. */
    struct sl_msg *m =
        sl_msg_new_props(cn->will_topic.ptr, cn->will_topic.len, cn->will_payload.ptr,
                         cn->will_payload.len, cn->will_qos, cn->will_retain, cn->will_props, 0);
    if (m && sl_props_has(&ci->wprops, SL_PROP_MESSAGE_EXPIRY_INTERVAL))
        m->expiry_interval_s = ci->wprops.message_expiry_interval;
    c->will_delay_s = ci->wprops.will_delay_interval;
    return m;
}

/* "%c" in response_information becomes the client id. */
static size_t response_info(const char *tmpl, const struct session *s, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = tmpl; *p && n < cap; p++) {
        if (p[0] == '%' && p[1] == 'c') {
            size_t k = s->id_len < cap - n ? s->id_len : cap - n;
            memcpy(out + n, s->id, k);
            n += k;
            p++;
        } else {
            out[n++] = *p;
        }
    }
    return n;
}

int connect_accept(struct client *c, const struct connect_info *ci, const struct sl_props *auth)
{
    struct worker *w = c->w;
    const struct sl_config *cfg = w->srv->cfg;
    const struct sl_connect *cn = &ci->cn;
    const struct sl_props *props = &ci->props;
    bool v5 = cn->version == SL_MQTT_5;

    char idbuf[ASSIGNED_ID_MAX];
    const uint8_t *id = cn->client_id.ptr;
    size_t id_len = cn->client_id.len;
    bool assigned = id_len == 0;
    if (assigned) {
        id_len = assign_id(w, idbuf, sizeof(idbuf));
        id = (const uint8_t *)idbuf;
    }

    struct sl_msg *will = NULL;
    if (cn->will && !(will = make_will(c, ci))) return SL_ENOMEM;

    /* Takeover: the old connection closes first (its will goes, since it did
     * not DISCONNECT; 5.0 tells it why [MQTT-3.1.4-3]), which also ends its
     * session if that expires with the connection. */
    struct session *s = session_find(&w->sessions, id, id_len);
    if (s && s->client) {
        sl_notice("client %.*s already connected, closing old connection", (int)id_len,
                  (const char *)id);
        client_disconnect(s->client, SL_RC_SESSION_TAKEN_OVER, "session taken over");
        s = session_find(&w->sessions, id, id_len);
    }
    uint32_t expiry = v5 ? props->session_expiry_interval /* absent: 0 */
                         : (cn->clean_start ? 0 : SESSION_EXPIRY_NEVER);
    bool present = false;
    if (s && cn->clean_start) {
        session_end(s); /* a delayed will of the old session goes now */
        s = NULL;
    }
    if (s) {
        present = true;
        s->expiry_s = expiry;
    } else {
        s = session_create(w, id, id_len, expiry);
        if (!s) {
            sl_msg_unref(will);
            return connect_refuse(c, SL_RC_SERVER_UNAVAILABLE, "out of memory for a new session");
        }
    }

    uint16_t keepalive = cn->keepalive;
    bool server_keepalive = v5 && !keepalive_allowed(cfg, keepalive);
    if (server_keepalive) keepalive = cfg->max_keepalive; /* [MQTT-3.2.2-21] */

    if (v5) {
        c->problem_info = !sl_props_has(props, SL_PROP_REQUEST_PROBLEM_INFORMATION) ||
                          props->request_problem_information;
        c->recv_max = sl_props_has(props, SL_PROP_RECEIVE_MAXIMUM) ? props->receive_maximum : 65535;
        c->max_packet = props->maximum_packet_size; /* absent: 0, no limit */
        uint16_t out_aliases = props->topic_alias_maximum;
        if (out_aliases > cfg->max_topic_alias_broker) out_aliases = cfg->max_topic_alias_broker;
        if ((cfg->max_topic_alias || out_aliases) &&
            !(c->aliases = topic_aliases_new(cfg->max_topic_alias, out_aliases))) {
            sl_msg_unref(will);
            return SL_ENOMEM;
        }
    }
    session_attach(s, c);
    c->session = s;
    c->will = will;
    c->keepalive = keepalive;
    c->state = CLIENT_CONNECTED;
    stat_add(&w->stats.clients_connected, 1);
    c->awaiting_connack = true;
    client_arm_keepalive(c);

    if (cfg->connection_messages)
        sl_notice("New client connected from %s as %.*s (p%u, c%u, k%u, w%d).",
                  SL_PEER_STR(&c->peer), (int)s->id_len, s->id, cn->version,
                  cn->clean_start ? 1u : 0u, keepalive, w->idx);
    if (!v5) /* [MQTT-3.2.2-1] [MQTT-3.2.2-2]: session present only when resumed. */
        return send_connack(c, present, SL_RC_SUCCESS, NULL);

    /* 5.0 CONNACK properties: what this server allows (5.0 §3.2.2.3). */
    struct sl_props p;
    if (auth)
        p = *auth;
    else
        sl_props_init(&p);
    uint32_t recv = cfg->max_inflight_messages;
    sl_props_set_int(&p, SL_PROP_RECEIVE_MAXIMUM, recv == 0 || recv > 65535 ? 65535 : recv);
    if (cfg->max_qos < 2) sl_props_set_int(&p, SL_PROP_MAXIMUM_QOS, cfg->max_qos);
    sl_props_set_int(&p, SL_PROP_RETAIN_AVAILABLE, cfg->retain_available ? 1 : 0);
    if (cfg->max_packet_size)
        sl_props_set_int(&p, SL_PROP_MAXIMUM_PACKET_SIZE, cfg->max_packet_size);
    if (assigned)
        sl_props_set_bytes(&p, SL_PROP_ASSIGNED_CLIENT_IDENTIFIER, (const uint8_t *)s->id,
                           s->id_len);
    if (cfg->max_topic_alias)
        sl_props_set_int(&p, SL_PROP_TOPIC_ALIAS_MAXIMUM, cfg->max_topic_alias);
    sl_props_set_int(&p, SL_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, 1);
    sl_props_set_int(&p, SL_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, 1);
    sl_props_set_int(&p, SL_PROP_SHARED_SUBSCRIPTION_AVAILABLE, 1);
    if (server_keepalive) sl_props_set_int(&p, SL_PROP_SERVER_KEEP_ALIVE, keepalive);
    char info[1024];
    if (cfg->response_information && props->request_response_information) {
        size_t n = response_info(cfg->response_information, s, info, sizeof(info));
        sl_props_set_bytes(&p, SL_PROP_RESPONSE_INFORMATION, (const uint8_t *)info, n);
    }
    return send_connack(c, present, SL_RC_SUCCESS, &p);
}

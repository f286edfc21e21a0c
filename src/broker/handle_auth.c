/*
 * handle_auth.c - MQTT 5 enhanced authentication (see auth.h): the AUTH packet,
 * during CONNECT and for re-authentication, around SCRAM-SHA-256.
 *
 * During CONNECT the connection is CLIENT_AUTHENTICATING: the CONNECT is kept
 * (a copy) and finished with connect_accept once the proof checks out, the
 * CONNACK carrying the server-final-message. A failure there is answered with
 * CONNACK 0x87 (or 0x82 for a protocol error) - DISCONNECT may not come
 * before a CONNACK [MQTT-3.14.0-1].
 *
 * Re-authentication (AUTH 0x19) is allowed only on a connection that
 * authenticated with the same method [MQTT-4.12.1-1], and must prove the same
 * user: a connection does not change identity half-way.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/scram.h"
#include "broker/auth.h"
#include "broker/client.h"
#include "broker/config.h"
#include "broker/handlers.h"
#include "broker/send.h"
#include "broker/server.h"
#include "broker/worker.h"
#include "core/error.h"
#include "core/log.h"
#include "proto/decode.h"
#include "proto/frame.h"
#include "proto/props.h"
#include "proto/reason.h"

struct auth_exchange {
    struct scram_server *scram; /* an exchange under way, or NULL */
    uint8_t *connect;           /* the CONNECT, until it is accepted */
    size_t connect_len;
    char *user; /* authenticated user; NULL until then */
};

void auth_exchange_free(struct auth_exchange *a)
{
    if (!a) return;
    scram_server_free(a->scram);
    free(a->connect);
    free(a->user);
    free(a);
}

static bool is_scram(struct sl_bytes m)
{
    return m.len == strlen(AUTH_METHOD_SCRAM) && memcmp(m.ptr, AUTH_METHOD_SCRAM, m.len) == 0;
}

/* AUTH (or CONNACK) properties: our method and, if any, data. */
static void method_props(struct sl_props *p, const uint8_t *data, size_t len)
{
    sl_props_init(p);
    sl_props_set_bytes(p, SL_PROP_AUTHENTICATION_METHOD, (const uint8_t *)AUTH_METHOD_SCRAM,
                       strlen(AUTH_METHOD_SCRAM));
    if (data) sl_props_set_bytes(p, SL_PROP_AUTHENTICATION_DATA, data, len);
}

/* Step 1 on a fresh exchange: AUTH 0x18 with the server-first-message. */
static int first_step(struct client *c, struct auth_exchange *a, struct sl_bytes data)
{
    scram_server_free(a->scram);
    a->scram = scram_server_new(c->w->srv->scram, c->w->srv->scram_nonce);
    if (!a->scram) return SL_ENOMEM;
    uint8_t *out;
    size_t outlen;
    int rc = scram_server_first(a->scram, data.ptr, data.len, &out, &outlen);
    if (rc != SL_OK) return rc;
    struct sl_props p;
    method_props(&p, out, outlen);
    rc = send_auth(c, SL_RC_CONTINUE_AUTHENTICATION, &p);
    free(out);
    return rc;
}

int auth_begin(struct client *c, const uint8_t *body, size_t len, const struct sl_props *props)
{
    if (!is_scram(props->authentication_method) || !c->w->srv->scram)
        return connect_refuse(c, SL_RC_BAD_AUTHENTICATION_METHOD,
                              "unsupported authentication method");
    struct auth_exchange *a = calloc(1, sizeof(*a));
    if (!a || !(a->connect = malloc(len ? len : 1))) {
        free(a);
        return SL_ENOMEM;
    }
    memcpy(a->connect, body, len);
    a->connect_len = len;
    c->auth = a;
    int rc = first_step(c, a, props->authentication_data);
    if (rc == SL_ENOMEM || rc == SL_EIO) return rc;
    if (rc != SL_OK)
        return connect_refuse(c, SL_RC_NOT_AUTHORIZED, "SCRAM client-first-message refused");
    c->state = CLIENT_AUTHENTICATING;
    return SL_OK;
}

/* Step 2. SL_OK: authenticated, *final is the server-final-message. */
static int final_step(struct auth_exchange *a, struct sl_bytes data, uint8_t **final, size_t *len)
{
    if (!a->scram) return SL_EPROTO;
    int rc = scram_server_final(a->scram, data.ptr, data.len, final, len);
    if (rc != SL_OK) return rc;
    const char *user = scram_server_user(a->scram);
    if (a->user && strcmp(a->user, user) != 0) {
        free(*final);
        return SL_EAUTH; /* re-authentication as somebody else */
    }
    if (!a->user && !(a->user = strdup(user))) {
        free(*final);
        return SL_ENOMEM;
    }
    scram_server_free(a->scram);
    a->scram = NULL;
    return SL_OK;
}

/* The AUTH that completes CONNECT's exchange. */
static int finish_connect(struct client *c, struct sl_bytes data)
{
    struct auth_exchange *a = c->auth;
    uint8_t *final;
    size_t flen;
    int rc = final_step(a, data, &final, &flen);
    if (rc == SL_ENOMEM) return rc;
    if (rc != SL_OK) return connect_refuse(c, SL_RC_NOT_AUTHORIZED, "SCRAM authentication failed");
    sl_info("client from %s authenticated as '%s' (SCRAM-SHA-256)", SL_PEER_STR(&c->peer), a->user);
    struct connect_info ci;
    uint8_t reason;
    rc = connect_decode(a->connect, a->connect_len, &ci, &reason);
    if (rc == SL_OK) {
        struct sl_props p;
        method_props(&p, final, flen);
        c->state = CLIENT_CONNECTING; /* connect_accept makes it CONNECTED */
        rc = connect_accept(c, &ci, &p);
    }
    free(final);
    free(a->connect); /* the CONNACK has its own copy of everything */
    a->connect = NULL;
    return rc;
}

int handle_auth(struct client *c, const uint8_t *body, size_t len)
{
    if (c->version != SL_MQTT_5) return SL_EPROTO;
    struct sl_disconnect d;
    struct sl_props props;
    uint8_t reason;
    int rc = sl_decode_auth(body, len, &d);
    if (rc != SL_OK) return rc;
    if (sl_props_parse(d.props.ptr, d.props.len, SL_PT_AUTH, &props, &reason) != SL_OK)
        return client_fail(c, reason);
    struct auth_exchange *a = c->auth;
    /* AUTH only continues an exchange this connection began with CONNECT, with
     * the same method [MQTT-4.12.0-5] (5.0 §4.12). */
    if (!a || !is_scram(props.authentication_method)) {
        if (c->state == CLIENT_AUTHENTICATING)
            return connect_refuse(c, SL_RC_PROTOCOL_ERROR, "AUTH with another method");
        return client_fail(c, SL_RC_PROTOCOL_ERROR);
    }
    if (c->state == CLIENT_AUTHENTICATING) {
        if (d.reason != SL_RC_CONTINUE_AUTHENTICATION)
            return connect_refuse(c, SL_RC_PROTOCOL_ERROR, "unexpected AUTH reason code");
        return finish_connect(c, props.authentication_data);
    }
    if (d.reason == SL_RC_REAUTHENTICATE) {
        rc = first_step(c, a, props.authentication_data);
        if (rc == SL_ENOMEM || rc == SL_EIO) return rc;
        if (rc != SL_OK) return client_fail(c, SL_RC_NOT_AUTHORIZED);
        return SL_OK;
    }
    if (d.reason != SL_RC_CONTINUE_AUTHENTICATION || !a->scram)
        return client_fail(c, SL_RC_PROTOCOL_ERROR);
    uint8_t *final;
    size_t flen;
    rc = final_step(a, props.authentication_data, &final, &flen);
    if (rc == SL_ENOMEM) return rc;
    if (rc != SL_OK) {
        sl_notice("client %s: re-authentication failed",
                  c->session ? c->session->id : SL_PEER_STR(&c->peer));
        return client_fail(c, SL_RC_NOT_AUTHORIZED);
    }
    struct sl_props p;
    method_props(&p, final, flen);
    rc = send_auth(c, SL_RC_SUCCESS, &p);
    free(final);
    return rc;
}

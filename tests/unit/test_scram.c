/*
 * test_scram.c - SCRAM-SHA-256 server (src/auth/scram.c): the RFC 7677 test
 * vector, full exchanges against a client written here from RFC 5802 alone,
 * every refusal of the two steps, and the credentials file parser.
 *
 * Every message is handed to the server as a heap copy of exactly its length
 * (no NUL after it), so under ASan a read one byte past the message faults.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "auth/scram.h"
#include "check.h"
#include "core/error.h"

/* RFC 7677 §3 */
#define RFC_USER         "user"
#define RFC_PASSWORD     "pencil"
#define RFC_CNONCE       "rOprNGfwEbeRWgbNEkqO"
#define RFC_SNONCE       "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_SALT64       "W22ZaJ0SNY7soEsUEjb6gQ=="
#define RFC_CLIENT_FIRST "n,,n=user,r=" RFC_CNONCE
#define RFC_SERVER_FIRST "r=" RFC_CNONCE RFC_SNONCE ",s=" RFC_SALT64 ",i=4096"
#define RFC_CLIENT_FINAL                                                                           \
    "c=biws,r=" RFC_CNONCE RFC_SNONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
#define RFC_SERVER_FINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

/* ---- helpers ---- */

static int step(struct scram_server *s, int final, const void *msg, size_t len, char **text)
{
    uint8_t *copy = malloc(len ? len : 1), *out = (uint8_t *)"x";
    size_t outlen = 99;
    int rc;

    if (len) memcpy(copy, msg, len);
    rc = final ? scram_server_final(s, copy, len, &out, &outlen)
               : scram_server_first(s, copy, len, &out, &outlen);
    free(copy);
    if (rc == SL_OK) {
        CHECK(out != NULL && outlen == strlen((char *)out));
    } else {
        CHECK(out == NULL && outlen == 0);
    }
    if (text != NULL)
        *text = (char *)out;
    else
        free(out);
    return rc;
}

static int first(struct scram_server *s, const char *msg, char **out)
{
    return step(s, 0, msg, strlen(msg), out);
}

static int final(struct scram_server *s, const char *msg, char **out)
{
    return step(s, 1, msg, strlen(msg), out);
}

static struct scram_creds *creds_of(const char *text)
{
    struct scram_creds *c = NULL;
    char err[256] = "";
    int rc = scram_creds_parse("t", text, &c, err, sizeof(err));
    if (rc != SL_OK) fprintf(stderr, "creds: %s\n", err);
    CHECK_EQ_INT(rc, SL_OK);
    return c;
}

/* A table with one user made by scram_make_entry. */
static struct scram_creds *creds_for(const char *user, const char *password, const char *salt64)
{
    uint8_t salt[64];
    int salt_len = 0;
    char line[512];

    if (salt64 != NULL) {
        size_t n = strlen(salt64);
        /* EVP_DecodeBlock counts the padding as output bytes. */
        salt_len = EVP_DecodeBlock(salt, (const uint8_t *)salt64, (int)n);
        salt_len -= (n > 0 && salt64[n - 1] == '=') + (n > 1 && salt64[n - 2] == '=');
    }
    CHECK_EQ_INT(scram_make_entry(user, (const uint8_t *)password, strlen(password), 4096,
                                  salt64 ? salt : NULL, (size_t)salt_len, line, sizeof(line)),
                 SL_OK);
    return creds_of(line);
}

/* ---- a client, from RFC 5802 §3 ---- */

struct scram_client {
    char *first_bare; /* client-first-message-bare */
    const char *gs2;  /* gs2 header */
    uint8_t server_sig[32];
};

static char *b64(const uint8_t *p, size_t n)
{
    char *s = malloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock((uint8_t *)s, p, (int)n);
    return s;
}

/* Escapes ',' and '=' as a saslname. */
static char *saslname(const char *name)
{
    char *s = malloc(strlen(name) * 3 + 1), *p = s;
    for (; *name; name++) {
        if (*name == ',')
            p += sprintf(p, "=2C");
        else if (*name == '=')
            p += sprintf(p, "=3D");
        else
            *p++ = *name;
    }
    *p = '\0';
    return s;
}

/* Returns the client-first-message (malloc'd). */
static char *scram_client_first(struct scram_client *c, const char *gs2, const char *user,
                                const char *cnonce)
{
    char *name = saslname(user), *msg;
    size_t n = strlen(name) + strlen(cnonce) + 8;

    c->gs2 = gs2;
    c->first_bare = malloc(n);
    snprintf(c->first_bare, n, "n=%s,r=%s", name, cnonce);
    msg = malloc(strlen(gs2) + n);
    sprintf(msg, "%s%s", gs2, c->first_bare);
    free(name);
    return msg;
}

/* Finds "k=" in a server-first-message; returns a malloc'd copy of its value. */
static char *attr(const char *msg, char k)
{
    for (const char *p = msg; *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : p + strlen(p)) {
        if (p[0] == k && p[1] == '=') {
            size_t n = strcspn(p + 2, ",");
            char *v = malloc(n + 1);
            memcpy(v, p + 2, n);
            v[n] = '\0';
            return v;
        }
    }
    return NULL;
}

/* Returns the client-final-message (malloc'd), with extra attributes ext
 * ("" or ",x=y") before the proof, and remembers the expected ServerSignature. */
static char *scram_client_final(struct scram_client *c, const char *server_first,
                                const char *password, const char *ext)
{
    char *nonce = attr(server_first, 'r'), *salt64 = attr(server_first, 's');
    char *iters = attr(server_first, 'i'), *cb = b64((const uint8_t *)c->gs2, strlen(c->gs2));
    uint8_t salt[128], salted[32], client_key[32], stored[32], server_key[32], sig[32], proof[32];
    unsigned len;
    int salt_len;
    char *without, *auth, *proof64, *msg;

    CHECK(nonce && salt64 && iters);
    salt_len = EVP_DecodeBlock(salt, (const uint8_t *)salt64, (int)strlen(salt64));
    if (salt64[strlen(salt64) - 1] == '=') salt_len--;
    if (salt64[strlen(salt64) - 2] == '=') salt_len--;
    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, salt_len, atoi(iters), EVP_sha256(),
                      32, salted);
    HMAC(EVP_sha256(), salted, 32, (const uint8_t *)"Client Key", 10, client_key, &len);
    SHA256(client_key, 32, stored);
    HMAC(EVP_sha256(), salted, 32, (const uint8_t *)"Server Key", 10, server_key, &len);

    without = malloc(strlen(cb) + strlen(nonce) + strlen(ext) + 8);
    sprintf(without, "c=%s,r=%s%s", cb, nonce, ext);
    auth = malloc(strlen(c->first_bare) + strlen(server_first) + strlen(without) + 3);
    sprintf(auth, "%s,%s,%s", c->first_bare, server_first, without);
    HMAC(EVP_sha256(), stored, 32, (const uint8_t *)auth, strlen(auth), sig, &len);
    for (int i = 0; i < 32; i++)
        proof[i] = client_key[i] ^ sig[i];
    HMAC(EVP_sha256(), server_key, 32, (const uint8_t *)auth, strlen(auth), c->server_sig, &len);
    proof64 = b64(proof, 32);
    msg = malloc(strlen(without) + strlen(proof64) + 4);
    sprintf(msg, "%s,p=%s", without, proof64);
    free(nonce);
    free(salt64);
    free(iters);
    free(cb);
    free(without);
    free(auth);
    free(proof64);
    return msg;
}

/* Checks the server-final-message against what the client expects. */
static bool scram_client_verify(const struct scram_client *c, const char *server_final)
{
    char *want = b64(c->server_sig, 32);
    bool ok = strncmp(server_final, "v=", 2) == 0 && strcmp(server_final + 2, want) == 0;
    free(want);
    return ok;
}

static void scram_client_free(struct scram_client *c)
{
    free(c->first_bare);
    c->first_bare = NULL;
}

/* A whole exchange; returns the rc of step 2 (step 1 must succeed). */
static int exchange(const struct scram_creds *creds, const char *gs2, const char *user,
                    const char *password, const char *ext)
{
    struct scram_server *s = scram_server_new(creds, NULL);
    struct scram_client c = {0};
    char *cf = scram_client_first(&c, gs2, user, "cn0nce"), *sf = NULL, *cfin, *sfin = NULL;
    int rc;

    CHECK(s != NULL);
    CHECK_EQ_INT(first(s, cf, &sf), SL_OK);
    CHECK(strcmp(scram_server_user(s), user) == 0);
    cfin = scram_client_final(&c, sf, password, ext);
    rc = final(s, cfin, &sfin);
    if (rc == SL_OK) {
        CHECK(scram_client_verify(&c, sfin));
        CHECK(scram_server_done(s));
    } else {
        CHECK(!scram_server_done(s));
    }
    free(cf);
    free(sf);
    free(cfin);
    free(sfin);
    scram_client_free(&c);
    scram_server_free(s);
    return rc;
}

/* ---- tests ---- */

static void test_rfc7677_vector(void)
{
    struct scram_creds *c = creds_for(RFC_USER, RFC_PASSWORD, RFC_SALT64);
    struct scram_server *s = scram_server_new(c, RFC_SNONCE);
    char *out = NULL;

    CHECK(s != NULL);
    CHECK(strcmp(scram_server_user(s), "") == 0);
    CHECK_EQ_INT(first(s, RFC_CLIENT_FIRST, &out), SL_OK);
    CHECK(out != NULL && strcmp(out, RFC_SERVER_FIRST) == 0);
    free(out);
    CHECK(strcmp(scram_server_user(s), "user") == 0);
    CHECK(!scram_server_done(s));
    CHECK_EQ_INT(final(s, RFC_CLIENT_FINAL, &out), SL_OK);
    CHECK(out != NULL && strcmp(out, RFC_SERVER_FINAL) == 0);
    free(out);
    CHECK(scram_server_done(s));
    scram_server_free(s);

    /* The client here agrees with the RFC, so the other tests mean something. */
    struct scram_client cl = {0};
    char *cf = scram_client_first(&cl, "n,,", RFC_USER, RFC_CNONCE);
    char *cfin = scram_client_final(&cl, RFC_SERVER_FIRST, RFC_PASSWORD, "");
    CHECK(strcmp(cf, RFC_CLIENT_FIRST) == 0);
    CHECK(strcmp(cfin, RFC_CLIENT_FINAL) == 0);
    CHECK(scram_client_verify(&cl, RFC_SERVER_FINAL));
    free(cf);
    free(cfin);
    scram_client_free(&cl);
    scram_creds_free(c);
}

static void test_exchanges(void)
{
    struct scram_creds *c = creds_of("# two users\n"
                                     "\n");
    CHECK_EQ_INT(scram_creds_count(c), 0);
    scram_creds_free(c);

    char text[1024], line[512];
    CHECK_EQ_INT(
        scram_make_entry("alice", (const uint8_t *)"secret", 6, 4096, NULL, 0, line, sizeof(line)),
        SL_OK);
    snprintf(text, sizeof(text), "%s\n", line);
    CHECK_EQ_INT(
        scram_make_entry("a,b=c", (const uint8_t *)"p,w=d", 5, 5000, NULL, 0, line, sizeof(line)),
        SL_OK);
    strcat(text, line);
    strcat(text, "\r\n");
    CHECK_EQ_INT(scram_make_entry("h\xc3\xa9llo", (const uint8_t *)"\xc3\xa9", 2, 4096, NULL, 0,
                                  line, sizeof(line)),
                 SL_OK);
    strcat(text, line);
    c = creds_of(text);
    CHECK_EQ_INT(scram_creds_count(c), 3);

    CHECK_EQ_INT(exchange(c, "n,,", "alice", "secret", ""), SL_OK);
    CHECK_EQ_INT(exchange(c, "y,,", "alice", "secret", ""), SL_OK);
    CHECK_EQ_INT(exchange(c, "n,a=alice,", "alice", "secret", ""), SL_OK);
    CHECK_EQ_INT(exchange(c, "n,,", "alice", "secret", ",x=ext,y=a=b"), SL_OK);
    CHECK_EQ_INT(exchange(c, "n,,", "a,b=c", "p,w=d", ""), SL_OK);
    CHECK_EQ_INT(exchange(c, "n,a=a=2Cb=3Dc,", "a,b=c", "p,w=d", ""), SL_OK);
    CHECK_EQ_INT(exchange(c, "n,,", "h\xc3\xa9llo", "\xc3\xa9", ""), SL_OK);

    /* Wrong password, and a right password for another user. */
    CHECK_EQ_INT(exchange(c, "n,,", "alice", "Secret", ""), SL_EAUTH);
    CHECK_EQ_INT(exchange(c, "n,,", "alice", "", ""), SL_EAUTH);
    CHECK_EQ_INT(exchange(c, "n,,", "a,b=c", "secret", ""), SL_EAUTH);
    /* Names are bytes: no case folding, no prefix match. */
    CHECK_EQ_INT(exchange(c, "n,,", "Alice", "secret", ""), SL_EAUTH);
    CHECK_EQ_INT(exchange(c, "n,,", "alic", "secret", ""), SL_EAUTH);
    CHECK_EQ_INT(exchange(c, "n,,", "alicee", "secret", ""), SL_EAUTH);

    /* The iteration count of the entry is what the server sends. */
    struct scram_server *s = scram_server_new(c, NULL);
    char *out = NULL;
    CHECK_EQ_INT(first(s, "n,,n=a=2Cb=3Dc,r=abc", &out), SL_OK);
    CHECK(out != NULL && strstr(out, ",i=5000") != NULL && strncmp(out, "r=abc", 5) == 0);
    CHECK(out != NULL && strlen(out) == strlen("r=abc,s=,i=5000") + 32 + 24);
    CHECK(strcmp(scram_server_user(s), "a,b=c") == 0);
    free(out);
    scram_server_free(s);
    scram_creds_free(c);
}

static void test_unknown_user(void)
{
    struct scram_creds *c = creds_for(RFC_USER, RFC_PASSWORD, RFC_SALT64);
    char *a = NULL, *b = NULL, *d = NULL, *sfin = (char *)"x";
    char *sa, *sb, *sd;

    for (int round = 0; round < 2; round++) {
        const struct scram_creds *table = round == 0 ? c : NULL;
        struct scram_server *s1 = scram_server_new(table, NULL), *s2 = scram_server_new(c, NULL),
                            *s3 = scram_server_new(table, NULL);
        CHECK_EQ_INT(first(s1, "n,,n=nobody,r=abc", &a), SL_OK);
        CHECK_EQ_INT(first(s2, "n,,n=nobody,r=xyz", &b), SL_OK);
        CHECK_EQ_INT(first(s3, "n,,n=nobody2,r=abc", &d), SL_OK);
        sa = attr(a, 's');
        sb = attr(b, 's');
        sd = attr(d, 's');
        /* Stable for one name, different between names, 16 bytes, 4096. */
        CHECK(strcmp(sa, sb) == 0);
        CHECK(strcmp(sa, sd) != 0);
        CHECK_EQ_INT(strlen(sa), 24);
        CHECK(strstr(a, ",i=4096") != NULL);
        CHECK(strcmp(scram_server_user(s1), "nobody") == 0);
        free(sa);
        free(sb);
        free(sd);
        free(b);
        free(d);

        /* Step 2 fails as a wrong password does. */
        struct scram_client cl = {0};
        char *cf = scram_client_first(&cl, "n,,", "nobody", "abc");
        char *cfin = scram_client_final(&cl, a, "pencil", "");
        CHECK_EQ_INT(final(s1, cfin, &sfin), SL_EAUTH);
        CHECK(sfin == NULL);
        CHECK(!scram_server_done(s1));
        free(cf);
        free(cfin);
        free(a);
        scram_client_free(&cl);
        scram_server_free(s1);
        scram_server_free(s2);
        scram_server_free(s3);
    }
    scram_creds_free(c);
}

/* Runs step 1 of the RFC exchange, then step 2 with msg. */
static int rfc_final(const struct scram_creds *c, const char *msg, size_t len)
{
    struct scram_server *s = scram_server_new(c, RFC_SNONCE);
    int rc;

    CHECK_EQ_INT(first(s, RFC_CLIENT_FIRST, NULL), SL_OK);
    rc = step(s, 1, msg, len, NULL);
    CHECK_EQ_INT(scram_server_done(s), rc == SL_OK);
    scram_server_free(s);
    return rc;
}

static int rfc_first(const struct scram_creds *c, const char *msg, size_t len)
{
    struct scram_server *s = scram_server_new(c, RFC_SNONCE);
    int rc = step(s, 0, msg, len, NULL);
    if (rc != SL_OK) {
        /* The exchange is over after any failure. */
        CHECK_EQ_INT(final(s, RFC_CLIENT_FINAL, NULL), SL_EPROTO);
    }
    scram_server_free(s);
    return rc;
}

#define FIRST(msg) rfc_first(c, msg, sizeof(msg) - 1)
#define FINAL(msg) rfc_final(c, msg, sizeof(msg) - 1)
#define NONCE      RFC_CNONCE RFC_SNONCE
#define RFC_PROOF  ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="

static void test_nonce_and_binding(void)
{
    struct scram_creds *c = creds_for(RFC_USER, RFC_PASSWORD, RFC_SALT64);

    CHECK_EQ_INT(FINAL(RFC_CLIENT_FINAL), SL_OK);
    /* Nonce: the server's part changed, cut short, extended, the client's alone. */
    CHECK_EQ_INT(FINAL("c=biws,r=" RFC_CNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1" RFC_PROOF),
                 SL_EAUTH);
    CHECK_EQ_INT(FINAL("c=biws,r=" RFC_CNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k" RFC_PROOF), SL_EAUTH);
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE "x" RFC_PROOF), SL_EAUTH);
    CHECK_EQ_INT(FINAL("c=biws,r=" RFC_CNONCE RFC_PROOF), SL_EAUTH);
    /* Channel binding: "y,," and "n,a=user," were not what step 1 got; empty. */
    CHECK_EQ_INT(FINAL("c=eSws,r=" NONCE RFC_PROOF), SL_EAUTH);
    CHECK_EQ_INT(FINAL("c=bixhPXVzZXIs,r=" NONCE RFC_PROOF), SL_EAUTH);
    CHECK_EQ_INT(FINAL("c=,r=" NONCE RFC_PROOF), SL_EAUTH);
    /* An extension changes the signed message, so the RFC proof is wrong now. */
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE ",x=1" RFC_PROOF), SL_EAUTH);
    /* Proof bits flipped. */
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE ",p=eHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
                 SL_EAUTH);
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVA="),
                 SL_EAUTH);
    scram_creds_free(c);
}

static void test_order(void)
{
    struct scram_creds *c = creds_for(RFC_USER, RFC_PASSWORD, RFC_SALT64);
    struct scram_server *s;

    /* Step 2 first. */
    s = scram_server_new(c, RFC_SNONCE);
    CHECK_EQ_INT(final(s, RFC_CLIENT_FINAL, NULL), SL_EPROTO);
    CHECK_EQ_INT(first(s, RFC_CLIENT_FIRST, NULL), SL_EPROTO);
    scram_server_free(s);

    /* Step 1 twice. */
    s = scram_server_new(c, RFC_SNONCE);
    CHECK_EQ_INT(first(s, RFC_CLIENT_FIRST, NULL), SL_OK);
    CHECK_EQ_INT(first(s, RFC_CLIENT_FIRST, NULL), SL_EPROTO);
    CHECK_EQ_INT(final(s, RFC_CLIENT_FINAL, NULL), SL_EPROTO);
    scram_server_free(s);

    /* Step 2 twice, after success and after failure. */
    s = scram_server_new(c, RFC_SNONCE);
    CHECK_EQ_INT(first(s, RFC_CLIENT_FIRST, NULL), SL_OK);
    CHECK_EQ_INT(final(s, RFC_CLIENT_FINAL, NULL), SL_OK);
    CHECK_EQ_INT(final(s, RFC_CLIENT_FINAL, NULL), SL_EPROTO);
    CHECK_EQ_INT(first(s, RFC_CLIENT_FIRST, NULL), SL_EPROTO);
    scram_server_free(s);

    s = scram_server_new(c, RFC_SNONCE);
    CHECK_EQ_INT(first(s, RFC_CLIENT_FIRST, NULL), SL_OK);
    CHECK_EQ_INT(final(s, "c=biws,r=x" RFC_PROOF, NULL), SL_EAUTH);
    CHECK_EQ_INT(final(s, RFC_CLIENT_FINAL, NULL), SL_EPROTO);
    scram_server_free(s);

    /* A server nonce must be printable ASCII without ','. */
    CHECK(scram_server_new(c, "") == NULL);
    CHECK(scram_server_new(c, "a,b") == NULL);
    CHECK(scram_server_new(c, "a b") == NULL);
    CHECK(scram_server_new(c, "\x7f") == NULL);
    s = scram_server_new(NULL, "~!");
    CHECK(s != NULL);
    scram_server_free(s);
    scram_server_free(NULL);
    scram_creds_free(c);
}

static void test_first_refused(void)
{
    struct scram_creds *c = creds_for(RFC_USER, RFC_PASSWORD, RFC_SALT64);

    CHECK_EQ_INT(FIRST(RFC_CLIENT_FIRST), SL_OK);
    CHECK_EQ_INT(FIRST("y,,n=user,r=abc"), SL_OK);
    CHECK_EQ_INT(FIRST("n,a=user,n=user,r=abc"), SL_OK);
    CHECK_EQ_INT(FIRST("n,,n=user,r=abc,x=1,y=a=b"), SL_OK);
    CHECK_EQ_INT(FIRST("n,,n=us=3Der=2C,r=!\"#$%&'()*+-./~"), SL_OK);

    /* Policy. */
    CHECK_EQ_INT(FIRST("p=tls-unique,,n=user,r=abc"), SL_EAUTH);
    CHECK_EQ_INT(FIRST("p=tls-server-end-point,a=user,n=user,r=abc"), SL_EAUTH);
    CHECK_EQ_INT(FIRST("n,a=admin,n=user,r=abc"), SL_EAUTH);
    CHECK_EQ_INT(FIRST("n,a=User,n=user,r=abc"), SL_EAUTH);
    CHECK_EQ_INT(FIRST("n,,m=ext,n=user,r=abc"), SL_EAUTH);

    /* Syntax. */
    CHECK_EQ_INT(FIRST(""), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n,"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n,,"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n,,n=user"), SL_EMALFORMED);             /* no r= */
    CHECK_EQ_INT(FIRST("n,,n=user,"), SL_EMALFORMED);            /* no r= */
    CHECK_EQ_INT(FIRST("n,,n=user,x=abc"), SL_EMALFORMED);       /* no r= */
    CHECK_EQ_INT(FIRST("n,,r=abc,n=user"), SL_EMALFORMED);       /* order */
    CHECK_EQ_INT(FIRST("n,,n=user,r="), SL_EMALFORMED);          /* empty nonce */
    CHECK_EQ_INT(FIRST("n,,n=user,r=a b"), SL_EMALFORMED);       /* not printable */
    CHECK_EQ_INT(FIRST("n,,n=user,r=a\x7f"), SL_EMALFORMED);     /* not printable */
    CHECK_EQ_INT(FIRST("n,,n=user,r=a\xc3\xa9"), SL_EMALFORMED); /* not ASCII */
    CHECK_EQ_INT(FIRST("n,,n=user,r=abc,"), SL_EMALFORMED);      /* empty extension */
    CHECK_EQ_INT(FIRST("n,,n=user,r=abc,x="), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n,,n=user,r=abc,1=a"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n,,n=,r=abc"), SL_EMALFORMED);        /* empty name */
    CHECK_EQ_INT(FIRST("n,,n=us=2cer,r=abc"), SL_EMALFORMED); /* escapes are upper case */
    CHECK_EQ_INT(FIRST("n,,n=us=41er,r=abc"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n,,n=user=,r=abc"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n,,n=user=2,r=abc"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n,,n=\xff,r=abc"), SL_EMALFORMED);     /* not UTF-8 */
    CHECK_EQ_INT(FIRST("n,,n=\xc0\xaf,r=abc"), SL_EMALFORMED); /* overlong */
    CHECK_EQ_INT(FIRST("N,,n=user,r=abc"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("ny,,n=user,r=abc"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST(",,n=user,r=abc"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("p=,,n=user,r=abc"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("p=a_b,,n=user,r=abc"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n,b=user,n=user,r=abc"), SL_EMALFORMED); /* not a= */
    CHECK_EQ_INT(FIRST("n,a=,n=user,r=abc"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n,a=u=3,n=user,r=abc"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n,,m=,n=user,r=abc"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n,,n=user,r=abc\0"), SL_EMALFORMED); /* NUL */
    CHECK_EQ_INT(FIRST("n,,n=us\0er,r=abc"), SL_EMALFORMED);
    CHECK_EQ_INT(FIRST("n,,\0"), SL_EMALFORMED);

    /* 64 KiB is the limit; a long nonce right at it is fine. */
    size_t big = SCRAM_MAX_MESSAGE + 1;
    char *m = malloc(big);
    memcpy(m, "n,,n=user,r=", 12);
    memset(m + 12, 'a', big - 12);
    CHECK_EQ_INT(rfc_first(c, m, big), SL_ETOOBIG);
    CHECK_EQ_INT(rfc_first(c, m, big - 1), SL_OK);
    free(m);
    scram_creds_free(c);
}

static void test_final_refused(void)
{
    struct scram_creds *c = creds_for(RFC_USER, RFC_PASSWORD, RFC_SALT64);

    CHECK_EQ_INT(FINAL(""), SL_EMALFORMED);
    CHECK_EQ_INT(FINAL("c=biws"), SL_EMALFORMED);
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE), SL_EMALFORMED);              /* no proof */
    CHECK_EQ_INT(FINAL("c=biws" RFC_PROOF), SL_EMALFORMED);             /* no r= */
    CHECK_EQ_INT(FINAL("r=" NONCE RFC_PROOF), SL_EMALFORMED);           /* no c= */
    CHECK_EQ_INT(FINAL("r=" NONCE ",c=biws" RFC_PROOF), SL_EMALFORMED); /* order */
    CHECK_EQ_INT(FINAL("c=biws" RFC_PROOF ",r=" NONCE), SL_EMALFORMED); /* proof not last */
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE RFC_PROOF ","), SL_EMALFORMED);
    CHECK_EQ_INT(FINAL(",c=biws,r=" NONCE RFC_PROOF), SL_EMALFORMED);
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE ",,p=x"), SL_EMALFORMED);
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE ",x" RFC_PROOF), SL_EMALFORMED); /* bad extension */
    CHECK_EQ_INT(FINAL("c=biws,r=" RFC_PROOF), SL_EMALFORMED);            /* empty nonce */
    CHECK_EQ_INT(FINAL("c=biws,r=a b" RFC_PROOF), SL_EMALFORMED);
    CHECK_EQ_INT(FINAL("c=biw,r=" NONCE RFC_PROOF), SL_EMALFORMED); /* c= not base64 */
    CHECK_EQ_INT(FINAL("c=bi=s,r=" NONCE RFC_PROOF), SL_EMALFORMED);
    CHECK_EQ_INT(FINAL("c= biws,r=" NONCE RFC_PROOF), SL_EMALFORMED);
    /* Proof: not base64, padding inside, wrong size, empty. */
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ"),
                 SL_EMALFORMED);
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndV*="),
                 SL_EMALFORMED);
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE ",p=dHzb=apWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="),
                 SL_EMALFORMED);
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=\n"),
                 SL_EMALFORMED);
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7A="),
                 SL_EMALFORMED);
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE ",p="), SL_EMALFORMED);
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=\0"),
                 SL_EMALFORMED);
    CHECK_EQ_INT(FINAL("c=biws,r=" NONCE "\0" RFC_PROOF), SL_EMALFORMED);

    char *m = malloc(SCRAM_MAX_MESSAGE + 1);
    memset(m, 'a', SCRAM_MAX_MESSAGE + 1);
    CHECK_EQ_INT(rfc_final(c, m, SCRAM_MAX_MESSAGE + 1), SL_ETOOBIG);
    CHECK_EQ_INT(rfc_final(c, m, SCRAM_MAX_MESSAGE), SL_EMALFORMED);
    free(m);
    scram_creds_free(c);
}

/* ---- credentials ---- */

#define KEY_A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" /* 32 zero bytes */
#define GOOD  "4096:c2FsdA==:" KEY_A ":" KEY_A

/* Parses text, expecting rc and an error message equal to want. */
static void creds_fail(const char *text, int rc, const char *want)
{
    struct scram_creds *c = (struct scram_creds *)1;
    char err[256] = "";

    CHECK_EQ_INT(scram_creds_parse("f.txt", text, &c, err, sizeof(err)), rc);
    CHECK(c == NULL);
    if (strcmp(err, want) != 0) {
        fprintf(stderr, "  got:  %s\n  want: %s\n", err, want);
        CHECK(strcmp(err, want) == 0);
    }
}

static void test_creds_errors(void)
{
    creds_fail("u:4096:c2FsdA==:" KEY_A "\n", SL_EINVAL,
               "f.txt:1: expected 5 fields separated by ':' "
               "(user:iterations:salt:StoredKey:ServerKey), found 4");
    creds_fail("# c\n\nu:" GOOD ":x\n", SL_EINVAL,
               "f.txt:3: expected 5 fields separated by ':' "
               "(user:iterations:salt:StoredKey:ServerKey), found 6");
    creds_fail("a:" GOOD "\n  \t\nb:4095:c2FsdA==:" KEY_A ":" KEY_A "\n", SL_EINVAL,
               "f.txt:3: iterations is below the minimum of 4096 (RFC 7677)");
    creds_fail("a:409x:c2FsdA==:" KEY_A ":" KEY_A, SL_EINVAL,
               "f.txt:1: iterations is not a number");
    creds_fail("a:-4096:c2FsdA==:" KEY_A ":" KEY_A, SL_EINVAL,
               "f.txt:1: iterations is not a number");
    creds_fail("a::c2FsdA==:" KEY_A ":" KEY_A, SL_EINVAL, "f.txt:1: iterations is empty");
    creds_fail("a:2147483648:c2FsdA==:" KEY_A ":" KEY_A, SL_EINVAL,
               "f.txt:1: iterations is above 2147483647");
    creds_fail("a:99999999999999999999999:c2FsdA==:" KEY_A ":" KEY_A, SL_EINVAL,
               "f.txt:1: iterations is above 2147483647");
    creds_fail("\r\na:4096:c2FsdA=:" KEY_A ":" KEY_A, SL_EINVAL,
               "f.txt:2: salt is not valid base64");
    creds_fail("a:4096::" KEY_A ":" KEY_A, SL_EINVAL, "f.txt:1: empty salt");
    creds_fail("a:4096:c2FsdA==:AAAA:" KEY_A, SL_EINVAL, "f.txt:1: StoredKey is 3 bytes, not 32");
    creds_fail("a:4096:c2FsdA==:" KEY_A ":AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
               SL_EINVAL, "f.txt:1: ServerKey is 36 bytes, not 32");
    creds_fail("a:4096:c2FsdA==:" KEY_A ":" KEY_A " ", SL_EINVAL,
               "f.txt:1: ServerKey is not valid base64");
    creds_fail("a:4096:c2FsdA==:!" KEY_A ":" KEY_A, SL_EINVAL,
               "f.txt:1: StoredKey is not valid base64");
    creds_fail("a:" GOOD "\nb:" GOOD "\n\n#a:\na:" GOOD "\nb:" GOOD "\n", SL_EINVAL,
               "f.txt:5: duplicate user 'a' (first on line 1)");
    creds_fail("b:" GOOD "\na:" GOOD "\nb:" GOOD "\na:" GOOD "\n", SL_EINVAL,
               "f.txt:3: duplicate user 'b' (first on line 1)");
    creds_fail(":" GOOD, SL_EINVAL, "f.txt:1: empty user name");
    creds_fail("a:b:" GOOD, SL_EINVAL, "f.txt:1: user name contains ':'");
    creds_fail("x\n" GOOD, SL_EINVAL,
               "f.txt:1: expected 5 fields separated by ':' "
               "(user:iterations:salt:StoredKey:ServerKey), found 1");
    creds_fail("a:" GOOD "\n\xff:" GOOD, SL_EINVAL, "f.txt:2: user name is not valid UTF-8");
    creds_fail("a\rb:" GOOD, SL_EINVAL, "f.txt:1: user name contains a line break");
    creds_fail(" # not a comment", SL_EINVAL,
               "f.txt:1: expected 5 fields separated by ':' "
               "(user:iterations:salt:StoredKey:ServerKey), found 1");

    /* Fine: comments, blank lines, CRLF, no final newline, spaces in names. */
    struct scram_creds *c = creds_of("#a:b\n\n \t \r\nb c:" GOOD "\r\n"
                                     "a,=b:" GOOD);
    CHECK_EQ_INT(scram_creds_count(c), 2);
    scram_creds_free(c);
    c = creds_of("");
    CHECK_EQ_INT(scram_creds_count(c), 0);
    scram_creds_free(c);
    CHECK_EQ_INT(scram_creds_count(NULL), 0);
    scram_creds_free(NULL);

    /* err may be NULL or short. */
    CHECK_EQ_INT(scram_creds_parse("f", ":", &c, NULL, 0), SL_EINVAL);
    char small[8];
    CHECK_EQ_INT(scram_creds_parse("f", ":", &c, small, sizeof(small)), SL_EINVAL);
    CHECK(strcmp(small, "f:1: ex") == 0);
}

static void test_creds_load(void)
{
    char path[] = "/tmp/test_scram_XXXXXX", err[512] = "", line[256];
    struct scram_creds *c = NULL;
    int fd = mkstemp(path);
    FILE *fp;

    CHECK(fd >= 0);
    fp = fdopen(fd, "w");
    CHECK_EQ_INT(
        scram_make_entry("user", (const uint8_t *)"pencil", 6, 4096, NULL, 0, line, sizeof(line)),
        SL_OK);
    fprintf(fp, "# made by the test\n%s\n", line);
    fclose(fp);
    CHECK_EQ_INT(scram_creds_load(path, &c, err, sizeof(err)), SL_OK);
    CHECK_EQ_INT(scram_creds_count(c), 1);
    CHECK_EQ_INT(exchange(c, "n,,", "user", "pencil", ""), SL_OK);
    CHECK_EQ_INT(exchange(c, "n,,", "user", "pencil2", ""), SL_EAUTH);
    scram_creds_free(c);

    /* A NUL byte (only a file can have one). */
    fp = fopen(path, "w");
    fprintf(fp, "%s\n", line);
    fwrite("x\0y\n", 1, 4, fp);
    fclose(fp);
    CHECK_EQ_INT(scram_creds_load(path, &c, err, sizeof(err)), SL_EINVAL);
    char want[600];
    snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
    CHECK(strcmp(err, want) == 0);
    CHECK(c == NULL);

    unlink(path);
    CHECK_EQ_INT(scram_creds_load(path, &c, err, sizeof(err)), SL_EIO);
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    CHECK(strcmp(err, want) == 0);
    CHECK(c == NULL);
    CHECK_EQ_INT(scram_creds_load("/", &c, err, sizeof(err)), SL_EIO);
    CHECK(c == NULL);
}

static void test_make_entry(void)
{
    char line[256], tiny[40];
    static const uint8_t salt[] = {1, 2, 3};

    /* RFC 7677's user as a file line: fixed salt, so fixed keys. */
    struct scram_creds *c = creds_for(RFC_USER, RFC_PASSWORD, RFC_SALT64);
    CHECK_EQ_INT(scram_creds_count(c), 1);
    scram_creds_free(c);
    uint8_t rfc_salt[16];
    EVP_DecodeBlock(rfc_salt, (const uint8_t *)RFC_SALT64, 24);
    CHECK_EQ_INT(scram_make_entry("user", (const uint8_t *)"pencil", 6, 4096, rfc_salt, 16, line,
                                  sizeof(line)),
                 SL_OK);
    CHECK(strncmp(line, "user:4096:" RFC_SALT64 ":", 10 + 24 + 1) == 0);
    CHECK_EQ_INT(strlen(line), 10 + 24 + 1 + 44 + 1 + 44);

    /* Random salts differ; a fixed one gives a fixed line. */
    char a[256], b[256];
    CHECK_EQ_INT(scram_make_entry("u", (const uint8_t *)"p", 1, 4096, NULL, 0, a, sizeof(a)),
                 SL_OK);
    CHECK_EQ_INT(scram_make_entry("u", (const uint8_t *)"p", 1, 4096, NULL, 0, b, sizeof(b)),
                 SL_OK);
    CHECK(strcmp(a, b) != 0);
    CHECK_EQ_INT(scram_make_entry("u", (const uint8_t *)"p", 1, 4096, salt, 3, a, sizeof(a)),
                 SL_OK);
    CHECK_EQ_INT(scram_make_entry("u", (const uint8_t *)"p", 1, 4096, salt, 3, b, sizeof(b)),
                 SL_OK);
    CHECK(strcmp(a, b) == 0);
    CHECK(strncmp(a, "u:4096:AQID:", 12) == 0);

    /* Round trip, with a password holding every byte but NUL... and NUL too. */
    uint8_t pw[256];
    for (int i = 0; i < 256; i++)
        pw[i] = (uint8_t)i;
    CHECK_EQ_INT(scram_make_entry("x", pw, sizeof(pw), 4097, salt, 3, line, sizeof(line)), SL_OK);
    c = creds_of(line);
    CHECK_EQ_INT(scram_creds_count(c), 1);
    scram_creds_free(c);

    /* Refusals. */
    CHECK_EQ_INT(scram_make_entry("u", pw, 1, 4095, NULL, 0, line, sizeof(line)), SL_EINVAL);
    CHECK_EQ_INT(scram_make_entry("u", pw, 1, 0, NULL, 0, line, sizeof(line)), SL_EINVAL);
    CHECK_EQ_INT(scram_make_entry("u", pw, 1, 2147483648u, NULL, 0, line, sizeof(line)), SL_EINVAL);
    CHECK_EQ_INT(scram_make_entry("", pw, 1, 4096, NULL, 0, line, sizeof(line)), SL_EINVAL);
    CHECK_EQ_INT(scram_make_entry("a:b", pw, 1, 4096, NULL, 0, line, sizeof(line)), SL_EINVAL);
    CHECK_EQ_INT(scram_make_entry("#a", pw, 1, 4096, NULL, 0, line, sizeof(line)), SL_EINVAL);
    CHECK_EQ_INT(scram_make_entry("a\nb", pw, 1, 4096, NULL, 0, line, sizeof(line)), SL_EINVAL);
    CHECK_EQ_INT(scram_make_entry("\xff", pw, 1, 4096, NULL, 0, line, sizeof(line)), SL_EINVAL);
    CHECK_EQ_INT(scram_make_entry("u", pw, 1, 4096, salt, 0, line, sizeof(line)), SL_EINVAL);
    CHECK_EQ_INT(scram_make_entry("u", pw, 1, 4096, salt, 3, tiny, sizeof(tiny)), SL_ETOOBIG);
    CHECK(tiny[0] == '\0');
    CHECK(scram_user_check("ok") == NULL);
    CHECK(scram_user_check("a:b") != NULL);

    CHECK(strcmp(sl_strerror(SL_EAUTH), "authentication failed") == 0);
}

int main(void)
{
    RUN(test_rfc7677_vector);
    RUN(test_exchanges);
    RUN(test_unknown_user);
    RUN(test_nonce_and_binding);
    RUN(test_order);
    RUN(test_first_refused);
    RUN(test_final_refused);
    RUN(test_creds_errors);
    RUN(test_creds_load);
    RUN(test_make_entry);
    return check_summary();
}

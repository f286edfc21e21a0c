/*
 * scram.c - SCRAM-SHA-256 server side and credentials table (see scram.h).
 *
 * Messages (RFC 5802 §7, the parts a server reads and writes):
 *
 *   client-first  = gs2-header client-first-bare
 *   gs2-header    = ("n" / "y" / "p=" cb-name) "," ["a=" saslname] ","
 *   client-first-bare = ["m=" value ","] "n=" saslname "," "r=" c-nonce ["," extensions]
 *   server-first  = "r=" c-nonce s-nonce "," "s=" salt-base64 "," "i=" iterations
 *   client-final  = "c=" base64(gs2-header) "," "r=" nonce ["," extensions] "," "p=" proof
 *   server-final  = "v=" base64(ServerSignature)
 *
 *   AuthMessage     = client-first-bare "," server-first "," client-final-without-proof
 *   ClientSignature = HMAC(StoredKey, AuthMessage)
 *   ClientKey       = ClientProof XOR ClientSignature;  ok iff SHA256(ClientKey) == StoredKey
 *   ServerSignature = HMAC(ServerKey, AuthMessage)
 *
 * A saslname escapes ',' as =2C and '=' as =3D; nonces are printable ASCII
 * (0x21..0x7e) without ','. Every message is split on ',' alone, since no
 * attribute value may hold a raw comma.
 *
 * Unknown users get a salt, a StoredKey and a ServerKey derived from their name
 * with HMAC under a per-process random secret, so both steps run the same code
 * and take the same time as for a real user with a wrong password, and two
 * attempts with one name see one salt. The `known` flag still decides, so a
 * derived key can never authenticate anyone.
 *
 * The table is an array sorted by user name (bytewise), searched with bsearch.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "auth/scram.h"
#include "core/error.h"
#include "core/file.h"
#include "proto/utf8.h"

#define NONCE_RANDOM_BYTES 24 /* 32 base64 characters, 192 bits */

/* ---- base64 and hashes ---- */

static size_t b64_len(size_t n)
{
    return 4 * ((n + 2) / 3);
}

/* out holds b64_len(n) + 1 bytes; returns the length written (NUL not counted). */
static size_t b64_encode(char *out, const uint8_t *in, size_t n)
{
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

static bool b64_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* Strict base64 (RFC 4648 with padding, the SCRAM grammar): whole groups of 4,
 * '=' only as the last one or two characters. EVP_DecodeBlock alone would skip
 * surrounding blanks and counts padding as output, so the shape is checked
 * here and the padding taken off. *out is malloc'd (at least one byte) and owned
 * by the caller. Returns SL_OK, SL_EMALFORMED or SL_ENOMEM. */
static int b64_decode(const char *in, size_t n, uint8_t **out, size_t *outlen)
{
    size_t pad = 0;
    uint8_t *buf;
    int got = 0;

    *out = NULL;
    *outlen = 0;
    if (n % 4 != 0 || n > INT_MAX) return SL_EMALFORMED;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '=') {
            if (i + 2 < n) return SL_EMALFORMED;
            pad++;
        } else if (pad > 0 || !b64_char(c)) {
            return SL_EMALFORMED;
        }
    }
    buf = malloc(n / 4 * 3 + 1);
    if (buf == NULL) return SL_ENOMEM;
    if (n > 0) got = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)n);
    if (got < 0 || (size_t)got < pad) {
        free(buf);
        return SL_EMALFORMED;
    }
    *out = buf;
    *outlen = (size_t)got - pad;
    return SL_OK;
}

/* out = HMAC-SHA-256(key, a || b); b may be empty. */
static int hmac2(const uint8_t *key, size_t keylen, const void *a, size_t alen, const void *b,
                 size_t blen, uint8_t out[SCRAM_KEY_LEN])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = NULL;
    OSSL_PARAM params[2];
    size_t n = 0;
    int rc = SL_EIO;

    if (mac == NULL) return SL_EIO;
    ctx = EVP_MAC_CTX_new(mac);
    params[0] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    if (ctx == NULL || EVP_MAC_init(ctx, key, keylen, params) != 1) goto out;
    if (EVP_MAC_update(ctx, a, alen) != 1) goto out;
    if (blen > 0 && EVP_MAC_update(ctx, b, blen) != 1) goto out;
    if (EVP_MAC_final(ctx, out, &n, SCRAM_KEY_LEN) != 1 || n != SCRAM_KEY_LEN) goto out;
    rc = SL_OK;
out:
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    return rc;
}

static int hmac(const uint8_t *key, size_t keylen, const void *msg, size_t len,
                uint8_t out[SCRAM_KEY_LEN])
{
    return hmac2(key, keylen, msg, len, NULL, 0, out);
}

static int sha256(const uint8_t *in, size_t n, uint8_t out[SCRAM_KEY_LEN])
{
    unsigned int len = 0;
    if (EVP_Digest(in, n, out, &len, EVP_sha256(), NULL) != 1 || len != SCRAM_KEY_LEN)
        return SL_EIO;
    return SL_OK;
}

/* ---- the per-process secret for unknown users ---- */

static pthread_once_t secret_once = PTHREAD_ONCE_INIT;
static uint8_t secret[32];
static bool secret_ok;

static void secret_init(void)
{
    secret_ok = RAND_bytes(secret, sizeof(secret)) == 1;
}

/* ---- credentials ---- */

struct scram_entry {
    char *user;
    uint8_t *salt;
    size_t salt_len;
    uint32_t iterations;
    unsigned line;
    uint8_t stored_key[SCRAM_KEY_LEN];
    uint8_t server_key[SCRAM_KEY_LEN];
};

struct scram_creds {
    struct scram_entry *e; /* sorted by user after parsing */
    size_t n, cap;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || errlen == 0) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

const char *scram_user_check(const char *user)
{
    size_t n = strlen(user);

    if (n == 0) return "empty user name";
    if (memchr(user, ':', n) != NULL) return "user name contains ':'";
    if (memchr(user, '\n', n) != NULL || memchr(user, '\r', n) != NULL)
        return "user name contains a line break";
    if (user[0] == '#') return "user name starts with '#' (a comment line)";
    if (!sl_utf8_valid((const uint8_t *)user, n)) return "user name is not valid UTF-8";
    return NULL;
}

/* Parses a decimal iteration count. Returns a reason or NULL. */
static const char *parse_iterations(const char *p, size_t n, uint32_t *out)
{
    uint64_t v = 0;

    if (n == 0) return "iterations is empty";
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return "iterations is not a number";
        v = v * 10 + (uint64_t)(p[i] - '0');
        if (v > SCRAM_MAX_ITERATIONS) return "iterations is above 2147483647";
    }
    if (v < SCRAM_MIN_ITERATIONS) return "iterations is below the minimum of 4096 (RFC 7677)";
    *out = (uint32_t)v;
    return NULL;
}

/* Decodes a 32-byte key field. Returns SL_OK, SL_EINVAL (why set), SL_ENOMEM. */
static int parse_key(const char *what, const char *p, size_t n, uint8_t key[SCRAM_KEY_LEN],
                     char *why, size_t whylen)
{
    uint8_t *buf;
    size_t len;
    int rc = b64_decode(p, n, &buf, &len);

    if (rc == SL_ENOMEM) return rc;
    if (rc != SL_OK) {
        set_err(why, whylen, "%s is not valid base64", what);
        return SL_EINVAL;
    }
    if (len != SCRAM_KEY_LEN) {
        set_err(why, whylen, "%s is %zu bytes, not %u", what, len, SCRAM_KEY_LEN);
        rc = SL_EINVAL;
    } else {
        memcpy(key, buf, SCRAM_KEY_LEN);
    }
    OPENSSL_cleanse(buf, len);
    free(buf);
    return rc;
}

/* The four fields after the user name: iterations, salt, StoredKey, ServerKey.
 * f[i] / fl[i] are views. Fills e (e->salt malloc'd on success). */
static int parse_fields(const char *const f[4], const size_t fl[4], struct scram_entry *e,
                        char *why, size_t whylen)
{
    const char *reason = parse_iterations(f[0], fl[0], &e->iterations);
    int rc;

    if (reason != NULL) {
        set_err(why, whylen, "%s", reason);
        return SL_EINVAL;
    }
    rc = b64_decode(f[1], fl[1], &e->salt, &e->salt_len);
    if (rc == SL_ENOMEM) return rc;
    if (rc != SL_OK || e->salt_len == 0) {
        set_err(why, whylen, rc != SL_OK ? "salt is not valid base64" : "empty salt");
        goto fail;
    }
    rc = parse_key("StoredKey", f[2], fl[2], e->stored_key, why, whylen);
    if (rc != SL_OK) goto fail;
    rc = parse_key("ServerKey", f[3], fl[3], e->server_key, why, whylen);
    if (rc != SL_OK) goto fail;
    return SL_OK;
fail:
    free(e->salt);
    e->salt = NULL;
    return rc == SL_ENOMEM ? rc : SL_EINVAL;
}

/* One non-blank, non-comment line. The user name is what precedes the fourth
 * ':' from the right, so a name with ':' in it is told apart from a line with
 * too few or too many fields. */
static int parse_line(const char *line, size_t len, struct scram_entry *e, char *why, size_t whylen)
{
    const char *f[4];
    size_t fl[4], colons = 0, end = len, user_len;
    const char *reason;
    int rc;

    memset(e, 0, sizeof(*e));
    for (size_t i = 0; i < len; i++)
        if (line[i] == ':') colons++;
    if (colons < 4) {
        set_err(why, whylen,
                "expected 5 fields separated by ':' "
                "(user:iterations:salt:StoredKey:ServerKey), found %zu",
                colons + 1);
        return SL_EINVAL;
    }
    for (int k = 3; k >= 0; k--) {
        size_t i = end;
        while (line[i - 1] != ':')
            i--;
        f[k] = line + i;
        fl[k] = end - i;
        end = i - 1;
    }
    user_len = end;
    rc = parse_fields(f, fl, e, why, whylen);
    if (colons > 4) {
        if (rc == SL_ENOMEM) return rc;
        if (rc == SL_OK) {
            set_err(why, whylen, "user name contains ':'");
            free(e->salt);
            e->salt = NULL;
        } else {
            set_err(why, whylen,
                    "expected 5 fields separated by ':' "
                    "(user:iterations:salt:StoredKey:ServerKey), found %zu",
                    colons + 1);
        }
        return SL_EINVAL;
    }
    if (rc != SL_OK) return rc;
    e->user = malloc(user_len + 1);
    if (e->user == NULL) {
        free(e->salt);
        e->salt = NULL;
        return SL_ENOMEM;
    }
    memcpy(e->user, line, user_len);
    e->user[user_len] = '\0';
    reason = scram_user_check(e->user);
    if (reason != NULL) {
        set_err(why, whylen, "%s", reason);
        free(e->user);
        free(e->salt);
        e->user = NULL;
        e->salt = NULL;
        return SL_EINVAL;
    }
    return SL_OK;
}

static void entry_wipe(struct scram_entry *e)
{
    OPENSSL_cleanse(e->stored_key, sizeof(e->stored_key));
    OPENSSL_cleanse(e->server_key, sizeof(e->server_key));
    free(e->user);
    free(e->salt);
}

void scram_creds_free(struct scram_creds *c)
{
    if (c == NULL) return;
    for (size_t i = 0; i < c->n; i++)
        entry_wipe(&c->e[i]);
    free(c->e);
    free(c);
}

size_t scram_creds_count(const struct scram_creds *c)
{
    return c == NULL ? 0 : c->n;
}

static int cmp_entry(const void *a, const void *b)
{
    const struct scram_entry *x = a, *y = b;
    int r = strcmp(x->user, y->user);
    if (r != 0) return r;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_key(const void *key, const void *elem)
{
    return strcmp(key, ((const struct scram_entry *)elem)->user);
}

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t') return false;
    return true;
}

/* The parser proper, over len bytes (which may hold NULs when read from a file). */
static int creds_parse(const char *name, const char *text, size_t len, struct scram_creds **out,
                       char *err, size_t errlen)
{
    struct scram_creds *c = calloc(1, sizeof(*c));
    size_t pos = 0;
    unsigned lineno = 0, dup_line = 0;
    const char *dup_user = NULL;
    unsigned dup_first = 0;
    char why[160];
    int rc = SL_OK;

    *out = NULL;
    if (c == NULL) return SL_ENOMEM;
    while (pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl != NULL ? (size_t)(nl - line) : len - pos;

        pos += n + (nl != NULL);
        lineno++;
        if (n > 0 && line[n - 1] == '\r') n--;
        if (blank(line, n) || line[0] == '#') continue;
        if (memchr(line, '\0', n) != NULL) {
            set_err(err, errlen, "%s:%u: NUL byte in line", name, lineno);
            rc = SL_EINVAL;
            goto out;
        }
        if (c->n == c->cap) {
            size_t ncap = c->cap ? c->cap * 2 : 16;
            struct scram_entry *ne = realloc(c->e, ncap * sizeof(*ne));
            if (ne == NULL) {
                rc = SL_ENOMEM;
                goto out;
            }
            c->e = ne;
            c->cap = ncap;
        }
        rc = parse_line(line, n, &c->e[c->n], why, sizeof(why));
        if (rc == SL_ENOMEM) goto out;
        if (rc != SL_OK) {
            set_err(err, errlen, "%s:%u: %s", name, lineno, why);
            goto out;
        }
        c->e[c->n].line = lineno;
        c->n++;
    }
    if (c->n > 1) qsort(c->e, c->n, sizeof(*c->e), cmp_entry);
    /* Report the duplicate met first in file order. */
    for (size_t i = 1; i < c->n; i++) {
        if (strcmp(c->e[i].user, c->e[i - 1].user) != 0) continue;
        if (dup_line == 0 || c->e[i].line < dup_line) {
            dup_line = c->e[i].line;
            dup_user = c->e[i].user;
            dup_first = c->e[i - 1].line;
        }
    }
    if (dup_line != 0) {
        set_err(err, errlen, "%s:%u: duplicate user '%s' (first on line %u)", name, dup_line,
                dup_user, dup_first);
        rc = SL_EINVAL;
    }
out:
    if (rc == SL_ENOMEM) set_err(err, errlen, "%s: out of memory", name);
    if (rc != SL_OK) {
        scram_creds_free(c);
        return rc;
    }
    *out = c;
    return SL_OK;
}

int scram_creds_parse(const char *name, const char *text, struct scram_creds **out, char *err,
                      size_t errlen)
{
    return creds_parse(name, text, strlen(text), out, err, errlen);
}

int scram_creds_load(const char *path, struct scram_creds **out, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    *out = NULL;
    int rc = sl_file_read(path, &buf, &len);
    if (rc != SL_OK) {
        set_err(err, errlen, "%s: %s", path, rc == SL_ENOMEM ? "out of memory" : strerror(errno));
        return rc;
    }
    rc = creds_parse(path, (const char *)buf, len, out, err, errlen);
    OPENSSL_cleanse(buf, len);
    free(buf);
    return rc;
}

/* ---- making an entry ---- */

int scram_make_entry(const char *user, const uint8_t *password, size_t pwlen, uint32_t iterations,
                     const uint8_t *salt, size_t salt_len, char *out, size_t outlen)
{
    uint8_t rsalt[SCRAM_SALT_LEN], salted[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN];
    uint8_t stored[SCRAM_KEY_LEN], server[SCRAM_KEY_LEN];
    char stored64[48], server64[48], *salt64 = NULL;
    int rc = SL_EINVAL, n;

    if (outlen > 0) out[0] = '\0';
    if (scram_user_check(user) != NULL) return SL_EINVAL;
    if (iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS) return SL_EINVAL;
    if (pwlen > INT_MAX || (salt != NULL && (salt_len == 0 || salt_len > INT_MAX / 2)))
        return SL_EINVAL;
    if (salt == NULL) {
        if (RAND_bytes(rsalt, sizeof(rsalt)) != 1) return SL_EIO;
        salt = rsalt;
        salt_len = sizeof(rsalt);
    }
    salt64 = malloc(b64_len(salt_len) + 1);
    if (salt64 == NULL) return SL_ENOMEM;
    rc = SL_EIO;
    if (PKCS5_PBKDF2_HMAC(password != NULL ? (const char *)password : "", (int)pwlen, salt,
                          (int)salt_len, (int)iterations, EVP_sha256(), sizeof(salted),
                          salted) != 1)
        goto out;
    if (hmac(salted, sizeof(salted), "Client Key", 10, client_key) != SL_OK) goto out;
    if (sha256(client_key, sizeof(client_key), stored) != SL_OK) goto out;
    if (hmac(salted, sizeof(salted), "Server Key", 10, server) != SL_OK) goto out;
    b64_encode(salt64, salt, salt_len);
    b64_encode(stored64, stored, sizeof(stored));
    b64_encode(server64, server, sizeof(server));
    n = snprintf(out, outlen, "%s:%u:%s:%s:%s", user, (unsigned)iterations, salt64, stored64,
                 server64);
    if (n < 0 || (size_t)n >= outlen) {
        if (outlen > 0) OPENSSL_cleanse(out, outlen);
        rc = SL_ETOOBIG;
        goto out;
    }
    rc = SL_OK;
out:
    OPENSSL_cleanse(salted, sizeof(salted));
    OPENSSL_cleanse(client_key, sizeof(client_key));
    OPENSSL_cleanse(stored, sizeof(stored));
    OPENSSL_cleanse(server, sizeof(server));
    free(salt64);
    return rc;
}

/* ---- the exchange ---- */

enum scram_state { ST_NEW, ST_FIRST, ST_DONE, ST_FAILED };

struct scram_server {
    const struct scram_creds *creds; /* borrowed, until step 1 */
    enum scram_state state;
    bool known;   /* the user is in the table */
    char *snonce; /* the server's part of the nonce */
    char *user;   /* decoded user name, NULL before step 1 */
    char *gs2;    /* gs2 header as received, for c= */
    size_t gs2_len;
    char *msg; /* client-first-bare "," server-first "," */
    size_t msg_len;
    size_t nonce_off; /* the full nonce inside msg */
    size_t nonce_len;
    uint8_t stored_key[SCRAM_KEY_LEN];
    uint8_t server_key[SCRAM_KEY_LEN];
};

/* printable = %x21-2B / %x2D-7E */
static bool printable(const char *p, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x21 || c > 0x7e || c == ',') return false;
    }
    return true;
}

static bool alpha(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

struct scram_server *scram_server_new(const struct scram_creds *creds, const char *server_nonce)
{
    struct scram_server *s = calloc(1, sizeof(*s));
    uint8_t raw[NONCE_RANDOM_BYTES];

    if (s == NULL) return NULL;
    s->creds = creds;
    if (server_nonce != NULL) {
        if (!printable(server_nonce, strlen(server_nonce))) goto fail;
        s->snonce = strdup(server_nonce);
        if (s->snonce == NULL) goto fail;
    } else {
        s->snonce = malloc(b64_len(sizeof(raw)) + 1);
        if (s->snonce == NULL || RAND_bytes(raw, sizeof(raw)) != 1) goto fail;
        b64_encode(s->snonce, raw, sizeof(raw));
    }
    return s;
fail:
    scram_server_free(s);
    return NULL;
}

void scram_server_free(struct scram_server *s)
{
    if (s == NULL) return;
    OPENSSL_cleanse(s->stored_key, sizeof(s->stored_key));
    OPENSSL_cleanse(s->server_key, sizeof(s->server_key));
    free(s->snonce);
    free(s->user);
    free(s->gs2);
    free(s->msg);
    free(s);
}

const char *scram_server_user(const struct scram_server *s)
{
    return s->user != NULL ? s->user : "";
}

int scram_server_done(const struct scram_server *s)
{
    return s->state == ST_DONE;
}

/* A view of the next ','-separated field of [*pos, end). Returns false when
 * there is none (*pos past the end). */
struct view {
    const char *p;
    size_t n;
};

static bool next_field(const char *buf, size_t len, size_t *pos, struct view *f)
{
    const char *comma;

    if (*pos > len) return false;
    f->p = buf + *pos;
    comma = memchr(f->p, ',', len - *pos);
    f->n = comma != NULL ? (size_t)(comma - f->p) : len - *pos;
    *pos += f->n + 1; /* past the comma, or past len at the end */
    return true;
}

static bool has_prefix(const struct view *f, const char *prefix)
{
    size_t n = strlen(prefix);
    return f->n >= n && memcmp(f->p, prefix, n) == 0;
}

/* attr-val = ALPHA "=" 1*value-char; value-char is anything but NUL and ','
 * (neither can be in a field). */
static bool ext_valid(const struct view *f)
{
    return f->n >= 3 && alpha(f->p[0]) && f->p[1] == '=';
}

/* Decodes a saslname: 1*(value-safe-char / "=2C" / "=3D"), UTF-8. *out is
 * malloc'd and NUL-terminated. Returns SL_OK, SL_EMALFORMED or SL_ENOMEM. */
static int saslname_decode(const char *p, size_t n, char **out)
{
    char *d;
    size_t j = 0;

    *out = NULL;
    if (n == 0) return SL_EMALFORMED;
    d = malloc(n + 1);
    if (d == NULL) return SL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '=') {
            d[j++] = p[i];
        } else if (n - i >= 3 && p[i + 1] == '2' && p[i + 2] == 'C') {
            d[j++] = ',';
            i += 2;
        } else if (n - i >= 3 && p[i + 1] == '3' && p[i + 2] == 'D') {
            d[j++] = '=';
            i += 2;
        } else {
            free(d);
            return SL_EMALFORMED;
        }
    }
    d[j] = '\0';
    if (!sl_utf8_valid((const uint8_t *)d, j)) {
        free(d);
        return SL_EMALFORMED;
    }
    *out = d;
    return SL_OK;
}

/* Checks shared by both steps. */
static int check_input(struct scram_server *s, enum scram_state want, const uint8_t *in,
                       size_t inlen)
{
    if (s->state != want) return SL_EPROTO;
    if (inlen > SCRAM_MAX_MESSAGE) return SL_ETOOBIG;
    if (inlen == 0 || memchr(in, '\0', inlen) != NULL) return SL_EMALFORMED;
    return SL_OK;
}

/* Salt, keys and iteration count for s->user: from the table, or derived. */
static int lookup_user(struct scram_server *s, uint8_t **salt, size_t *salt_len,
                       uint32_t *iterations)
{
    const struct scram_entry *e = NULL;
    size_t ulen = strlen(s->user);
    uint8_t derived[SCRAM_KEY_LEN];

    if (s->creds != NULL && s->creds->n > 0)
        e = bsearch(s->user, s->creds->e, s->creds->n, sizeof(*e), cmp_key);
    if (e != NULL) {
        *salt = malloc(e->salt_len);
        if (*salt == NULL) return SL_ENOMEM;
        memcpy(*salt, e->salt, e->salt_len);
        *salt_len = e->salt_len;
        *iterations = e->iterations;
        memcpy(s->stored_key, e->stored_key, SCRAM_KEY_LEN);
        memcpy(s->server_key, e->server_key, SCRAM_KEY_LEN);
        s->known = true;
        return SL_OK;
    }
    pthread_once(&secret_once, secret_init);
    if (!secret_ok) return SL_EIO;
    /* The labels end in NUL, so no user name can make one label look like another. */
    if (hmac2(secret, sizeof(secret), "scram salt", 11, s->user, ulen, derived) != SL_OK ||
        hmac2(secret, sizeof(secret), "scram stored", 13, s->user, ulen, s->stored_key) != SL_OK ||
        hmac2(secret, sizeof(secret), "scram server", 13, s->user, ulen, s->server_key) != SL_OK)
        return SL_EIO;
    *salt = malloc(SCRAM_SALT_LEN);
    if (*salt == NULL) return SL_ENOMEM;
    memcpy(*salt, derived, SCRAM_SALT_LEN);
    *salt_len = SCRAM_SALT_LEN;
    *iterations = SCRAM_MIN_ITERATIONS;
    s->known = false;
    return SL_OK;
}

/* Builds msg = bare "," server-first "," and *out = server-first. */
static int make_server_first(struct scram_server *s, const char *bare, size_t bare_len,
                             const struct view *cnonce, uint8_t **out, size_t *outlen)
{
    uint8_t *salt = NULL;
    size_t salt_len = 0, sf_len, snonce_len = strlen(s->snonce);
    uint32_t iterations = 0;
    char *salt64 = NULL, *sf = NULL;
    int rc = lookup_user(s, &salt, &salt_len, &iterations);

    if (rc != SL_OK) goto out;
    rc = SL_ENOMEM;
    salt64 = malloc(b64_len(salt_len) + 1);
    if (salt64 == NULL) goto out;
    b64_encode(salt64, salt, salt_len);
    /* "r=" nonce ",s=" salt ",i=" up to 10 digits */
    sf_len = 2 + cnonce->n + snonce_len + 3 + strlen(salt64) + 3 + 10;
    s->msg = malloc(bare_len + 1 + sf_len + 2);
    sf = malloc(sf_len + 1);
    if (s->msg == NULL || sf == NULL) goto out;
    sf_len = (size_t)snprintf(sf, sf_len + 1, "r=%.*s%s,s=%s,i=%u", (int)cnonce->n, cnonce->p,
                              s->snonce, salt64, (unsigned)iterations);
    memcpy(s->msg, bare, bare_len);
    s->msg[bare_len] = ',';
    memcpy(s->msg + bare_len + 1, sf, sf_len);
    s->msg[bare_len + 1 + sf_len] = ',';
    s->msg_len = bare_len + 1 + sf_len + 1;
    s->nonce_off = bare_len + 1 + 2;
    s->nonce_len = cnonce->n + snonce_len;
    *out = (uint8_t *)sf;
    *outlen = sf_len;
    sf = NULL;
    rc = SL_OK;
out:
    free(salt);
    free(salt64);
    free(sf);
    return rc;
}

int scram_server_first(struct scram_server *s, const uint8_t *in, size_t inlen, uint8_t **out,
                       size_t *outlen)
{
    const char *msg = (const char *)in;
    struct view flag, authz, f, cnonce;
    size_t pos = 0, gs2_len;
    char *authzid = NULL;
    bool cbind = false, mext = false;
    int rc;

    *out = NULL;
    *outlen = 0;
    rc = check_input(s, ST_NEW, in, inlen);
    if (rc != SL_OK) goto out;
    rc = SL_EMALFORMED;

    /* gs2-header: a comma after the flag and one after the optional authzid. */
    next_field(msg, inlen, &pos, &flag);
    if (!next_field(msg, inlen, &pos, &authz) || pos > inlen) goto out;
    if (flag.n == 1 && (flag.p[0] == 'n' || flag.p[0] == 'y')) {
        /* no channel binding: fine, we offer none */
    } else if (has_prefix(&flag, "p=") && flag.n > 2) {
        for (size_t i = 2; i < flag.n; i++) {
            char c = flag.p[i];
            if (!alpha(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-') goto out;
        }
        cbind = true;
    } else {
        goto out;
    }
    if (authz.n > 0) {
        if (!has_prefix(&authz, "a=")) goto out;
        rc = saslname_decode(authz.p + 2, authz.n - 2, &authzid);
        if (rc != SL_OK) goto out;
        rc = SL_EMALFORMED;
    }
    gs2_len = pos;

    /* client-first-message-bare */
    if (!next_field(msg, inlen, &pos, &f)) goto out;
    if (has_prefix(&f, "m=")) {
        if (f.n < 3) goto out;
        mext = true;
        if (!next_field(msg, inlen, &pos, &f)) goto out;
    }
    if (!has_prefix(&f, "n=")) goto out;
    rc = saslname_decode(f.p + 2, f.n - 2, &s->user);
    if (rc != SL_OK) goto out;
    rc = SL_EMALFORMED;
    if (!next_field(msg, inlen, &pos, &f) || !has_prefix(&f, "r=")) goto out;
    cnonce.p = f.p + 2;
    cnonce.n = f.n - 2;
    if (!printable(cnonce.p, cnonce.n)) goto out;
    while (next_field(msg, inlen, &pos, &f))
        if (!ext_valid(&f)) goto out;

    /* Syntax is fine; now what we refuse. */
    rc = SL_EAUTH;
    if (cbind || mext) goto out;
    if (authzid != NULL && strcmp(authzid, s->user) != 0) goto out;

    rc = SL_ENOMEM;
    s->gs2 = malloc(gs2_len);
    if (s->gs2 == NULL) goto out;
    memcpy(s->gs2, msg, gs2_len);
    s->gs2_len = gs2_len;
    rc = make_server_first(s, msg + gs2_len, inlen - gs2_len, &cnonce, out, outlen);
out:
    free(authzid);
    s->creds = NULL; /* not needed any more, and may go away */
    s->state = rc == SL_OK ? ST_FIRST : ST_FAILED;
    return rc;
}

int scram_server_final(struct scram_server *s, const uint8_t *in, size_t inlen, uint8_t **out,
                       size_t *outlen)
{
    const char *msg = (const char *)in;
    struct view cb, nonce, proof, f;
    size_t pos = 0, without_proof;
    const char *last_comma;
    uint8_t *cbind = NULL, *proof_raw = NULL, *auth = NULL;
    size_t cbind_len = 0, proof_len = 0;
    uint8_t sig[SCRAM_KEY_LEN], client_key[SCRAM_KEY_LEN], check[SCRAM_KEY_LEN];
    char *v = NULL;
    int rc;

    *out = NULL;
    *outlen = 0;
    rc = check_input(s, ST_FIRST, in, inlen);
    if (rc != SL_OK) goto out;
    rc = SL_EMALFORMED;

    /* The proof is the last attribute; what precedes its comma is signed. */
    last_comma = memrchr(msg, ',', inlen);
    if (last_comma == NULL) goto out;
    without_proof = (size_t)(last_comma - msg);
    proof.p = last_comma + 1;
    proof.n = inlen - without_proof - 1;
    if (!has_prefix(&proof, "p=")) goto out;

    next_field(msg, without_proof, &pos, &cb);
    if (!has_prefix(&cb, "c=")) goto out;
    if (!next_field(msg, without_proof, &pos, &nonce) || !has_prefix(&nonce, "r=")) goto out;
    if (!printable(nonce.p + 2, nonce.n - 2)) goto out;
    while (next_field(msg, without_proof, &pos, &f))
        if (!ext_valid(&f)) goto out;
    rc = b64_decode(cb.p + 2, cb.n - 2, &cbind, &cbind_len);
    if (rc != SL_OK) goto out;
    rc = b64_decode(proof.p + 2, proof.n - 2, &proof_raw, &proof_len);
    if (rc != SL_OK) goto out;
    rc = SL_EMALFORMED;
    if (proof_len != SCRAM_KEY_LEN) goto out;

    rc = SL_EAUTH;
    if (cbind_len != s->gs2_len || memcmp(cbind, s->gs2, cbind_len) != 0) goto out;
    if (nonce.n - 2 != s->nonce_len ||
        memcmp(nonce.p + 2, s->msg + s->nonce_off, s->nonce_len) != 0)
        goto out;

    rc = SL_ENOMEM;
    auth = malloc(s->msg_len + without_proof);
    if (auth == NULL) goto out;
    memcpy(auth, s->msg, s->msg_len);
    memcpy(auth + s->msg_len, msg, without_proof);
    rc = hmac(s->stored_key, SCRAM_KEY_LEN, auth, s->msg_len + without_proof, sig);
    if (rc != SL_OK) goto out;
    for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
        client_key[i] = proof_raw[i] ^ sig[i];
    rc = sha256(client_key, SCRAM_KEY_LEN, check);
    if (rc != SL_OK) goto out;
    /* Constant time, and the same work for unknown users (derived keys). */
    if ((CRYPTO_memcmp(check, s->stored_key, SCRAM_KEY_LEN) != 0) | !s->known) {
        rc = SL_EAUTH;
        goto out;
    }
    rc = hmac(s->server_key, SCRAM_KEY_LEN, auth, s->msg_len + without_proof, sig);
    if (rc != SL_OK) goto out;
    rc = SL_ENOMEM;
    v = malloc(2 + b64_len(SCRAM_KEY_LEN) + 1);
    if (v == NULL) goto out;
    v[0] = 'v';
    v[1] = '=';
    *outlen = 2 + b64_encode(v + 2, sig, SCRAM_KEY_LEN);
    *out = (uint8_t *)v;
    rc = SL_OK;
out:
    OPENSSL_cleanse(sig, sizeof(sig));
    OPENSSL_cleanse(client_key, sizeof(client_key));
    OPENSSL_cleanse(check, sizeof(check));
    free(cbind);
    free(proof_raw);
    free(auth);
    s->state = rc == SL_OK ? ST_DONE : ST_FAILED;
    return rc;
}

/*
 * fuzz_scram.c - libFuzzer target for the SCRAM-SHA-256 server and the
 * credentials parser (src/auth/scram.c).
 *
 * Input layout:
 *
 *   byte 0      mode: byte % 3
 *     0         the rest, up to a NUL, is a credentials file for scram_creds_parse
 *     1         the rest is client-first [NUL client-final]: a raw exchange with
 *               the fixed server nonce of RFC 7677, so the RFC's messages (a
 *               seed) authenticate
 *     2         the rest is client-first [NUL extensions]: a random server
 *               nonce; when step 1 accepts, the client-final is built here by an
 *               honest client with the user's password (any password for an
 *               unknown user) and the extensions before the proof
 *
 * The table holds two users: RFC 7677's ("user", "pencil") and "a,b=c" (a name
 * that needs both escapes). Their keys are computed here with OpenSSL directly,
 * and scram_make_entry must produce the same line.
 *
 * Every message is passed as a heap block of exactly its size. The target
 * aborts when one of these fails:
 *   - scram_server_first returns what ref_first, a second parser written from
 *     RFC 5802 §7 over an array of fields, expects (same result code, same
 *     decoded user name); its answer is exactly "r=" c-nonce s-nonce ",s=" salt
 *     ",i=" count (the table's for a known user; for an unknown one 16 bytes and
 *     4096), and the same input to a second exchange gives the same answer;
 *   - scram_server_final returns what ref_final expects: it checks syntax with
 *     its own base64 decoder, then the channel binding and nonce, then verifies
 *     the proof from the client's keys; on SL_OK the answer is
 *     "v=" base64(HMAC(ServerKey, AuthMessage)); after a failed step 1 it is
 *     SL_EPROTO;
 *   - an honest client with no extensions always authenticates a known user;
 *   - on any error the out pointer is NULL; scram_creds_parse fails only with
 *     SL_EINVAL and a "fuzz:LINE: ..." message.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "auth/scram.h"
#include "core/error.h"
#include "proto/utf8.h"

#define ASSERT(c)                                                                                  \
    do {                                                                                           \
        if (!(c)) abort();                                                                         \
    } while (0)

#define RFC_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the users, with keys computed here ---- */

static const uint8_t rfc_salt[16] = {0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
                                     0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81};
static const uint8_t abc_salt[3] = {1, 2, 3};

static struct user {
    const char *name, *password;
    const uint8_t *salt;
    size_t salt_len;
    uint32_t iterations;
    uint8_t client_key[32], stored_key[32], server_key[32];
} users[] = {
    {"user", "pencil", rfc_salt, sizeof(rfc_salt), 4096, {0}, {0}, {0}},
    {"a,b=c", "x", abc_salt, sizeof(abc_salt), 4097, {0}, {0}, {0}},
};
#define NUSERS (sizeof(users) / sizeof(users[0]))

static struct scram_creds *creds;

static char *b64(const uint8_t *p, size_t n)
{
    char *s = malloc(4 * ((n + 2) / 3) + 1);
    ASSERT(s != NULL);
    EVP_EncodeBlock((uint8_t *)s, p, (int)n);
    return s;
}

static void init(void)
{
    char text[1024] = "", line[512], made[512];
    unsigned len;

    for (size_t i = 0; i < NUSERS; i++) {
        struct user *u = &users[i];
        uint8_t salted[32];
        ASSERT(PKCS5_PBKDF2_HMAC(u->password, (int)strlen(u->password), u->salt, (int)u->salt_len,
                                 (int)u->iterations, EVP_sha256(), 32, salted) == 1);
        HMAC(EVP_sha256(), salted, 32, (const uint8_t *)"Client Key", 10, u->client_key, &len);
        SHA256(u->client_key, 32, u->stored_key);
        HMAC(EVP_sha256(), salted, 32, (const uint8_t *)"Server Key", 10, u->server_key, &len);
        char *s = b64(u->salt, u->salt_len), *k1 = b64(u->stored_key, 32),
             *k2 = b64(u->server_key, 32);
        snprintf(line, sizeof(line), "%s:%u:%s:%s:%s", u->name, (unsigned)u->iterations, s, k1, k2);
        free(s);
        free(k1);
        free(k2);
        ASSERT(scram_make_entry(u->name, (const uint8_t *)u->password, strlen(u->password),
                                u->iterations, u->salt, u->salt_len, made, sizeof(made)) == SL_OK);
        ASSERT(strcmp(line, made) == 0);
        strcat(text, line);
        strcat(text, "\n");
    }
    ASSERT(scram_creds_parse("init", text, &creds, NULL, 0) == SL_OK);
    ASSERT(scram_creds_count(creds) == NUSERS);
}

static const struct user *find_user(const char *name)
{
    for (size_t i = 0; i < NUSERS; i++)
        if (strcmp(users[i].name, name) == 0) return &users[i];
    return NULL;
}

/* ---- the reference parser ---- */

struct span {
    const uint8_t *p;
    size_t n;
};

/* Splits m on every ','; f holds n + 1 entries. Returns the count. */
static size_t split(const uint8_t *m, size_t n, struct span *f)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || m[i] == ',') {
            f[k].p = m + start;
            f[k].n = i - start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

static bool starts(const struct span *f, const char *prefix)
{
    size_t n = strlen(prefix);
    return f->n >= n && memcmp(f->p, prefix, n) == 0;
}

static bool is_alpha(uint8_t c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool ref_printable(const uint8_t *p, size_t n)
{
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x21 || p[i] > 0x7e || p[i] == ',') return false;
    return true;
}

static bool ref_ext(const struct span *f)
{
    return f->n >= 3 && is_alpha(f->p[0]) && f->p[1] == '=';
}

/* A saslname, decoded (malloc'd), or NULL when not valid. */
static char *ref_saslname(const uint8_t *p, size_t n)
{
    char *d;
    size_t i = 0, j = 0;

    if (n == 0) return NULL;
    d = malloc(n + 1);
    ASSERT(d != NULL);
    while (i < n) {
        if (n - i >= 3 && memcmp(p + i, "=2C", 3) == 0) {
            d[j++] = ',';
            i += 3;
        } else if (n - i >= 3 && memcmp(p + i, "=3D", 3) == 0) {
            d[j++] = '=';
            i += 3;
        } else if (p[i] == '=') {
            free(d);
            return NULL;
        } else {
            d[j++] = (char)p[i++];
        }
    }
    d[j] = '\0';
    if (!sl_utf8_valid((const uint8_t *)d, j)) {
        free(d);
        return NULL;
    }
    return d;
}

static int b64val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Strict base64, decoded by hand; out holds n / 4 * 3 bytes. */
static bool ref_b64(const uint8_t *p, size_t n, uint8_t *out, size_t *outlen)
{
    size_t j = 0;

    if (n % 4 != 0) return false;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            uint8_t c = p[i + k];
            if (c == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad > 0 || (v[k] = b64val(c)) < 0) {
                return false;
            }
        }
        uint32_t w =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[j++] = (uint8_t)(w >> 16);
        if (pad < 2) out[j++] = (uint8_t)(w >> 8);
        if (pad < 1) out[j++] = (uint8_t)w;
    }
    *outlen = j;
    return true;
}

static bool bad_input(const uint8_t *m, size_t n, int *rc)
{
    if (n > SCRAM_MAX_MESSAGE) {
        *rc = SL_ETOOBIG;
        return true;
    }
    if (n == 0 || memchr(m, '\0', n) != NULL) {
        *rc = SL_EMALFORMED;
        return true;
    }
    return false;
}

/* What step 1 should do with m; fills the exchange's state on SL_OK. */
struct ref {
    int rc;
    char *user;         /* decoded, when the syntax was fine */
    const uint8_t *gs2; /* gs2 header, inside the client-first */
    size_t gs2_len;
    const uint8_t *bare; /* client-first-bare */
    size_t bare_len;
    struct span cnonce;
};

static void ref_first(const uint8_t *m, size_t n, struct ref *r)
{
    struct span *f;
    size_t k, i = 2;
    char *authz = NULL;
    bool cbind = false, mext = false;

    memset(r, 0, sizeof(*r));
    if (bad_input(m, n, &r->rc)) return;
    r->rc = SL_EMALFORMED;
    f = malloc((n + 1) * sizeof(*f));
    ASSERT(f != NULL);
    k = split(m, n, f);
    if (k < 4) goto out;
    if (f[0].n == 1 && (f[0].p[0] == 'n' || f[0].p[0] == 'y')) {
    } else if (starts(&f[0], "p=") && f[0].n > 2) {
        for (size_t j = 2; j < f[0].n; j++) {
            uint8_t c = f[0].p[j];
            if (!is_alpha(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-') goto out;
        }
        cbind = true;
    } else {
        goto out;
    }
    if (f[1].n > 0) {
        if (!starts(&f[1], "a=")) goto out;
        authz = ref_saslname(f[1].p + 2, f[1].n - 2);
        if (authz == NULL) goto out;
    }
    if (starts(&f[i], "m=")) {
        if (f[i].n < 3) goto out;
        mext = true;
        i++;
    }
    if (i + 1 >= k || !starts(&f[i], "n=") || !starts(&f[i + 1], "r=")) goto out;
    r->user = ref_saslname(f[i].p + 2, f[i].n - 2);
    if (r->user == NULL) goto out;
    if (!ref_printable(f[i + 1].p + 2, f[i + 1].n - 2)) goto out;
    r->cnonce.p = f[i + 1].p + 2;
    r->cnonce.n = f[i + 1].n - 2;
    for (size_t j = i + 2; j < k; j++)
        if (!ref_ext(&f[j])) goto out;
    r->gs2 = m;
    r->gs2_len = (size_t)(f[2].p - m);
    r->bare = f[2].p;
    r->bare_len = n - r->gs2_len;
    if (cbind || mext || (authz != NULL && strcmp(authz, r->user) != 0))
        r->rc = SL_EAUTH;
    else
        r->rc = SL_OK;
out:
    if (r->rc == SL_EMALFORMED) {
        free(r->user);
        r->user = NULL;
    }
    free(authz);
    free(f);
}

/* RFC 5802 §3 AuthMessage: client-first-message-bare "," server-first-message ","
 * client-final-message-without-proof. Sets *len. */
static uint8_t *auth_message(const struct ref *r, const char *server_first, const uint8_t *without,
                             size_t without_len, size_t *len)
{
    size_t sf_len = strlen(server_first);
    *len = r->bare_len + 1 + sf_len + 1 + without_len;
    uint8_t *auth = malloc(*len);
    ASSERT(auth != NULL);
    memcpy(auth, r->bare, r->bare_len);
    auth[r->bare_len] = ',';
    memcpy(auth + r->bare_len + 1, server_first, sf_len);
    auth[r->bare_len + 1 + sf_len] = ',';
    memcpy(auth + r->bare_len + 2 + sf_len, without, without_len);
    return auth;
}

/* What step 2 should do with m after step 1 gave server_first; *sig is the
 * ServerSignature it expects on SL_OK. */
static int ref_final(const struct ref *r, const char *server_first, const uint8_t *m, size_t n,
                     uint8_t sig[32])
{
    const struct user *u = find_user(r->user);
    struct span *f, nonce;
    size_t k, cb_len, proof_len, without, auth_len;
    uint8_t *cb, *auth, proof[64], csig[32], ck[32], h[32];
    unsigned len;
    int rc = SL_EMALFORMED;

    if (bad_input(m, n, &rc)) return rc;
    f = malloc((n + 1) * sizeof(*f));
    cb = malloc(n + 1);
    ASSERT(f != NULL && cb != NULL);
    k = split(m, n, f);
    if (k < 3 || !starts(&f[0], "c=") || !starts(&f[1], "r=") || !starts(&f[k - 1], "p=")) goto out;
    if (!ref_printable(f[1].p + 2, f[1].n - 2)) goto out;
    for (size_t j = 2; j + 1 < k; j++)
        if (!ref_ext(&f[j])) goto out;
    if (!ref_b64(f[0].p + 2, f[0].n - 2, cb, &cb_len)) goto out;
    if (f[k - 1].n - 2 > 48 || !ref_b64(f[k - 1].p + 2, f[k - 1].n - 2, proof, &proof_len) ||
        proof_len != 32)
        goto out;
    rc = SL_EAUTH;
    if (cb_len != r->gs2_len || memcmp(cb, r->gs2, cb_len) != 0) goto out;
    nonce.p = (const uint8_t *)server_first + 2;
    nonce.n = strcspn(server_first + 2, ",");
    if (f[1].n - 2 != nonce.n || memcmp(f[1].p + 2, nonce.p, nonce.n) != 0) goto out;
    if (u == NULL) goto out;

    without = (size_t)(f[k - 1].p - 1 - m);
    auth = auth_message(r, server_first, m, without, &auth_len);
    HMAC(EVP_sha256(), u->stored_key, 32, auth, auth_len, csig, &len);
    for (int i = 0; i < 32; i++)
        ck[i] = proof[i] ^ csig[i];
    SHA256(ck, 32, h);
    if (memcmp(h, u->stored_key, 32) == 0) {
        HMAC(EVP_sha256(), u->server_key, 32, auth, auth_len, sig, &len);
        rc = SL_OK;
    }
    free(auth);
out:
    free(f);
    free(cb);
    return rc;
}

/* ---- the honest client ---- */

/* c= r= [ext] p= for the user's password (unknown users: RFC 7677's keys). */
static uint8_t *honest_final(const struct ref *r, const char *server_first, const uint8_t *ext,
                             size_t ext_len, size_t *out_len)
{
    const struct user *u = find_user(r->user);
    char *cb = b64(r->gs2, r->gs2_len), *proof64;
    size_t nonce_len = strcspn(server_first + 2, ","), auth_len;
    size_t without_len = 2 + strlen(cb) + 3 + nonce_len + (ext_len ? 1 + ext_len : 0);
    uint8_t *without = malloc(without_len), *auth, *msg, sig[32], proof[32];
    unsigned len;
    size_t p = 0;

    if (u == NULL) u = &users[0];
    ASSERT(without != NULL);
    p += (size_t)sprintf((char *)without, "c=%s,r=", cb);
    memcpy(without + p, server_first + 2, nonce_len);
    p += nonce_len;
    if (ext_len) {
        without[p++] = ',';
        memcpy(without + p, ext, ext_len);
        p += ext_len;
    }
    ASSERT(p == without_len);
    auth = auth_message(r, server_first, without, without_len, &auth_len);
    HMAC(EVP_sha256(), u->stored_key, 32, auth, auth_len, sig, &len);
    for (int i = 0; i < 32; i++)
        proof[i] = u->client_key[i] ^ sig[i];
    proof64 = b64(proof, 32);
    msg = malloc(without_len + 3 + strlen(proof64));
    ASSERT(msg != NULL);
    memcpy(msg, without, without_len);
    memcpy(msg + without_len, ",p=", 3);
    memcpy(msg + without_len + 3, proof64, strlen(proof64));
    *out_len = without_len + 3 + strlen(proof64);
    free(cb);
    free(proof64);
    free(without);
    free(auth);
    return msg;
}

/* ---- the target ---- */

static uint8_t *exact(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n ? n : 1);
    ASSERT(c != NULL);
    if (n) memcpy(c, p, n);
    return c;
}

static void fuzz_creds(const uint8_t *data, size_t size)
{
    size_t n = strnlen((const char *)data, size), lines = 1;
    char *text = malloc(n + 1), err[256] = "";
    struct scram_creds *c = NULL;

    ASSERT(text != NULL);
    memcpy(text, data, n);
    text[n] = '\0';
    for (size_t i = 0; i < n; i++)
        lines += text[i] == '\n';
    int rc = scram_creds_parse("fuzz", text, &c, err, sizeof(err));
    if (rc == SL_OK) {
        ASSERT(c != NULL && scram_creds_count(c) <= lines);
    } else {
        ASSERT(rc == SL_EINVAL && c == NULL);
        ASSERT(strncmp(err, "fuzz:", 5) == 0 && err[5] >= '1' && err[5] <= '9');
    }
    scram_creds_free(c);
    free(text);
}

/* Step 1 on a fresh exchange; checks it against ref_first. */
static int run_first(struct scram_server *s, const uint8_t *m, size_t n, bool fixed_nonce,
                     const struct ref *r, char **sf)
{
    uint8_t *in = exact(m, n), *out = (uint8_t *)"x";
    size_t out_len = 1;
    int rc = scram_server_first(s, in, n, &out, &out_len);

    free(in);
    ASSERT(rc == r->rc);
    *sf = (char *)out;
    if (rc != SL_OK) {
        ASSERT(out == NULL && out_len == 0);
        return rc;
    }
    ASSERT(strlen(*sf) == out_len);
    ASSERT(strcmp(scram_server_user(s), r->user) == 0);

    /* "r=" c-nonce s-nonce ",s=" salt ",i=" count */
    const struct user *u = find_user(r->user);
    const char *snonce = fixed_nonce ? RFC_SNONCE : NULL;
    size_t sn_len = fixed_nonce ? strlen(RFC_SNONCE) : 32;
    ASSERT(out_len > 2 + r->cnonce.n + sn_len && memcmp(out, "r=", 2) == 0);
    ASSERT(memcmp(out + 2, r->cnonce.p, r->cnonce.n) == 0);
    if (snonce != NULL) ASSERT(memcmp(out + 2 + r->cnonce.n, snonce, sn_len) == 0);
    ASSERT(ref_printable(out + 2 + r->cnonce.n, sn_len));
    const char *rest = *sf + 2 + r->cnonce.n + sn_len;
    if (u != NULL) {
        char *salt = b64(u->salt, u->salt_len), want[128];
        snprintf(want, sizeof(want), ",s=%s,i=%u", salt, (unsigned)u->iterations);
        ASSERT(strcmp(rest, want) == 0);
        free(salt);
    } else {
        ASSERT(strlen(rest) == 3 + 24 + 7 && memcmp(rest, ",s=", 3) == 0);
        ASSERT(strcmp(rest + 27, ",i=4096") == 0);
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scram_server *s, *twin;
    const uint8_t *a, *b = NULL, *nul;
    size_t a_len, b_len = 0;
    char *sf = NULL, *sf2 = NULL;
    uint8_t *fin = NULL, *out = (uint8_t *)"x", sig[32];
    size_t fin_len = 0, out_len = 1;
    struct ref r;
    int mode, rc;

    if (creds == NULL) init();
    if (size < 1) return 0;
    mode = data[0] % 3;
    data++;
    size--;
    if (mode == 0) {
        fuzz_creds(data, size);
        return 0;
    }
    a = data;
    a_len = size;
    nul = memchr(data, '\0', size);
    if (nul != NULL) {
        a_len = (size_t)(nul - data);
        b = nul + 1;
        b_len = size - a_len - 1;
    }

    ref_first(a, a_len, &r);
    s = scram_server_new(creds, mode == 1 ? RFC_SNONCE : NULL);
    ASSERT(s != NULL && strcmp(scram_server_user(s), "") == 0);
    rc = run_first(s, a, a_len, mode == 1, &r, &sf);
    if (rc == SL_OK && mode == 1) {
        /* Same input, same nonce: same answer (the unknown user's salt is stable). */
        twin = scram_server_new(creds, RFC_SNONCE);
        ASSERT(twin != NULL);
        ASSERT(run_first(twin, a, a_len, true, &r, &sf2) == SL_OK);
        ASSERT(strcmp(sf, sf2) == 0);
        free(sf2);
        scram_server_free(twin);
    }

    if (mode == 2 && rc == SL_OK) {
        fin = honest_final(&r, sf, b, b_len, &fin_len);
    } else if (b != NULL) {
        fin = exact(b, b_len);
        fin_len = b_len;
    }
    if (fin != NULL) {
        int want = rc == SL_OK ? ref_final(&r, sf, fin, fin_len, sig) : SL_EPROTO;
        int got = scram_server_final(s, fin, fin_len, &out, &out_len);
        ASSERT(got == want);
        if (mode == 2 && rc == SL_OK && b_len == 0 && find_user(r.user) != NULL &&
            fin_len <= SCRAM_MAX_MESSAGE)
            ASSERT(got == SL_OK);
        if (got == SL_OK) {
            char *v = b64(sig, 32);
            ASSERT(out_len == 2 + strlen(v) && memcmp(out, "v=", 2) == 0);
            ASSERT(strcmp((char *)out + 2, v) == 0);
            ASSERT(scram_server_done(s));
            free(v);
            free(out);
        } else {
            ASSERT(out == NULL && out_len == 0 && !scram_server_done(s));
        }
    }
    free(fin);
    free(sf);
    free(r.user);
    scram_server_free(s);
    return 0;
}

/*
 * scram.h - SCRAM-SHA-256 (RFC 5802, RFC 7677), the server side, for MQTT 5.0
 * enhanced authentication (Authentication Method "SCRAM-SHA-256").
 *
 * The exchange over MQTT:
 *
 *   client                                  broker
 *   CONNECT  Auth Data = client-first  -->  scram_server_first
 *            AUTH 0x18 = server-first  <--
 *   AUTH 0x18 Auth Data = client-final -->  scram_server_final
 *   CONNACK 0x00 Auth Data = server-final <--  (SL_OK)
 *   CONNACK 0x87                          <--  (SL_EAUTH)
 *
 * Only the salted keys are stored (StoredKey, ServerKey), never the password.
 * No channel binding is offered (no SCRAM-SHA-256-PLUS): "n" and "y" gs2 flags
 * are accepted, "p=" is refused.
 *
 * No SASLprep: user names and passwords are used as the UTF-8 bytes given, and
 * user names are compared bytewise. A client that applies SASLprep sends the
 * same bytes for ASCII names and passwords, which is what the tool and the
 * credentials file hold in practice.
 *
 * Credentials file, one user per line:
 *
 *   username:iterations:salt-base64:StoredKey-base64:ServerKey-base64
 *
 * iterations >= 4096 (RFC 7677 §4), keys are 32 bytes, the salt at least one
 * byte. '#' at the start of a line makes it a comment; lines of only spaces and
 * tabs are blank; a trailing '\r' is ignored. The user name is the raw name
 * (',' and '=' are fine: the client escapes them as =2C and =3D, and they are
 * decoded before the comparison); it may not be empty, contain ':' or start
 * with '#'.
 *
 * Thread safety: a loaded scram_creds is read-only and may be shared by every
 * worker. A scram_server is one exchange, used by one thread.
 */
#ifndef SL_AUTH_SCRAM_H
#define SL_AUTH_SCRAM_H

#include <stddef.h>
#include <stdint.h>

#define SCRAM_MECHANISM      "SCRAM-SHA-256"
#define SCRAM_MIN_ITERATIONS 4096u
#define SCRAM_MAX_ITERATIONS 2147483647u /* PKCS5_PBKDF2_HMAC takes an int */
#define SCRAM_KEY_LEN        32u         /* SHA-256 output */
#define SCRAM_SALT_LEN       16u         /* random salts made here */
#define SCRAM_MAX_MESSAGE    65536u      /* an MQTT Binary Data is at most 65,535 */

/* ---- credentials ---- */

struct scram_creds;

/* Loads a credentials file into *out (a new table the caller frees). Returns
 * SL_OK; SL_EINVAL with "path:line: message" in err for a bad line; SL_EIO when
 * the file cannot be read ("path: strerror"); SL_ENOMEM. err may be NULL. */
int scram_creds_load(const char *path, struct scram_creds **out, char *err, size_t errlen);

/* The same from a string; name stands for the path in messages. */
int scram_creds_parse(const char *name, const char *text, struct scram_creds **out, char *err,
                      size_t errlen);

/* Frees a table (NULL is fine); the keys are wiped first. */
void scram_creds_free(struct scram_creds *c);

size_t scram_creds_count(const struct scram_creds *c);

/* NULL when user may be stored in a credentials file, otherwise why not
 * ("empty user name", ...). */
const char *scram_user_check(const char *user);

/* Writes one credential line (no newline, NUL-terminated) for user/password
 * into out: SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations),
 * ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = SHA256(ClientKey),
 * ServerKey = HMAC(SaltedPassword, "Server Key"). salt NULL: 16 random bytes.
 * Returns SL_OK; SL_EINVAL for a user refused by scram_user_check, iterations
 * outside 4096..2^31-1 or an empty salt; SL_ETOOBIG when out is too small;
 * SL_EIO when OpenSSL fails (no randomness). */
int scram_make_entry(const char *user, const uint8_t *password, size_t pwlen, uint32_t iterations,
                     const uint8_t *salt, size_t salt_len, char *out, size_t outlen);

/* ---- one server-side exchange ---- */

struct scram_server;

/* A new exchange. creds is borrowed until scram_server_first returns (what the
 * exchange needs is copied then, so the table may be replaced between the two
 * steps); NULL means every user is unknown. server_nonce: NULL for a random one
 * (24 random bytes in base64), or a fixed string of printable ASCII without ','
 * (tests). Returns NULL when out of memory, the nonce is not valid or there is
 * no randomness. */
struct scram_server *scram_server_new(const struct scram_creds *creds, const char *server_nonce);

/* Frees an exchange (NULL is fine); keys and messages are wiped first. */
void scram_server_free(struct scram_server *s);

/* Step 1: the client-first-message in (in/inlen, not NUL-terminated, borrowed),
 * the server-first-message out: *out is malloc'd (NUL-terminated for logs, the
 * terminator not counted in *outlen) and the caller frees it.
 *   SL_OK          *out = "r=<nonce>,s=<salt>,i=<iterations>"
 *   SL_EMALFORMED  bad syntax, a NUL byte, an empty message, an escape in a name
 *                  other than =2C / =3D, a name that is not UTF-8
 *   SL_ETOOBIG     more than SCRAM_MAX_MESSAGE bytes
 *   SL_EAUTH       channel binding requested ("p="), an authzid other than the
 *                  user name, a mandatory extension ("m=")
 *   SL_EPROTO      called twice, or after a failed step
 *   SL_ENOMEM, SL_EIO (OpenSSL failed)
 * An unknown user is not revealed here: the answer carries a salt derived from
 * the name and a per-process secret (so it is the same on every attempt) and
 * 4096 iterations, and step 2 fails exactly as for a wrong password. On any
 * error *out is NULL and the exchange is over (later calls: SL_EPROTO). */
int scram_server_first(struct scram_server *s, const uint8_t *in, size_t inlen, uint8_t **out,
                       size_t *outlen);

/* Step 2: the client-final-message in, the server-final-message out (as above).
 *   SL_OK          authenticated; *out = "v=<ServerSignature base64>"
 *   SL_EAUTH       wrong proof, unknown user, nonce or channel binding mismatch
 *   SL_EMALFORMED  bad syntax, c= or p= not base64, a proof that is not 32 bytes
 *   SL_ETOOBIG, SL_EPROTO (before step 1, twice, after a failed step), SL_ENOMEM
 * On any error *out is NULL. */
int scram_server_final(struct scram_server *s, const uint8_t *in, size_t inlen, uint8_t **out,
                       size_t *outlen);

/* The user name claimed in step 1 (decoded), authenticated once step 2 returned
 * SL_OK; "" before step 1. Valid until scram_server_free. */
const char *scram_server_user(const struct scram_server *s);

/* 1 once scram_server_final returned SL_OK, else 0. */
int scram_server_done(const struct scram_server *s);

#endif

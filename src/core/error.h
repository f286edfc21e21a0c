/*
 * error.h - the one error enum of Starling.
 *
 * Functions return 0 (SL_OK) on success, a negative SL_E* on failure, and the
 * positive flow results SL_NEED_MORE / SL_AGAIN where "not yet" is not an error.
 * MQTT reason codes are a separate thing (proto/reason.h) mapped from these in
 * one place.
 */
#ifndef SL_CORE_ERROR_H
#define SL_CORE_ERROR_H

enum sl_err {
    SL_OK = 0,
    SL_NEED_MORE = 1, /* decoder: input ends before the item does */
    SL_AGAIN = 2,     /* I/O: would block */

    SL_ENOMEM = -1,       /* allocation failed or a memory limit was hit */
    SL_EMALFORMED = -2,   /* bytes do not follow the MQTT encoding rules */
    SL_EPROTO = -3,       /* well-formed, but breaks a protocol rule */
    SL_ETOOBIG = -4,      /* a size is over a configured limit */
    SL_EIO = -5,          /* socket or file error (errno says more) */
    SL_EINVAL = -6,       /* bad argument or configuration value */
    SL_ECLOSED = -7,      /* peer closed the connection */
    SL_EVERSION = -8,     /* CONNECT: protocol level we do not speak */
    SL_EUNSUPPORTED = -9, /* recognised, but not implemented (yet) */
    SL_EAUTH = -10        /* authentication failed (wrong proof, unknown user) */
};

/* Short constant name for logs: "malformed packet", ... */
const char *sl_strerror(int err);

#endif

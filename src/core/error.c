/* error.c - names for enum sl_err, for log lines. */
#include "core/error.h"

const char *sl_strerror(int err)
{
    switch (err) {
    case SL_OK:
        return "ok";
    case SL_NEED_MORE:
        return "need more input";
    case SL_AGAIN:
        return "would block";
    case SL_ENOMEM:
        return "out of memory";
    case SL_EMALFORMED:
        return "malformed packet";
    case SL_EPROTO:
        return "protocol error";
    case SL_ETOOBIG:
        return "too large";
    case SL_EIO:
        return "I/O error";
    case SL_EINVAL:
        return "invalid value";
    case SL_ECLOSED:
        return "connection closed";
    case SL_EVERSION:
        return "unsupported protocol version";
    case SL_EUNSUPPORTED:
        return "not supported";
    case SL_EAUTH:
        return "authentication failed";
    }
    return "unknown error";
}

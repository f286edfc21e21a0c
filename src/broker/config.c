/*
 * config.c - the Mosquitto-style config file parser.
 *
 * Syntax (as mosquitto.conf):
 *   - one directive per line: NAME [ARG...], separated by spaces or tabs;
 *   - a line whose first non-blank character is '#' is a comment; a '#' later in
 *     a line is an ordinary character (Mosquitto has no trailing comments either);
 *   - blank lines, leading and trailing blanks and a CR before the LF are ignored.
 * Directives that take a path or a free string (auto_id_prefix, include_dir,
 * log_dest file) take the rest of the line, so a path may hold spaces, as in
 * Mosquitto. The others take whole tokens and check their count.
 *
 * Every failure names its place: "FILE:LINE: message" in err, and the loader
 * returns SL_EINVAL (SL_EIO when a file cannot be read, SL_ENOMEM). Nothing is
 * silently ignored: a Mosquitto directive Starling lacks fails with "'X' is not
 * supported yet", anything else with "unknown directive 'X'".
 *
 * Mosquitto's rules kept here:
 *   - `port` and `bind_address` configure the "default listener", which exists
 *     only if one of them is given; sl_config_finish puts it first in listeners.
 *   - `max_connections` and `protocol` apply to the listener most recently opened
 *     by `listener` in the same file, or to the default listener before any.
 *   - The first log_dest (log_type) replaces the default set; later ones add to
 *     it, across included files too; `none` clears it.
 *   - include_dir reads DIR/ *.conf in strcmp order, from the main file only.
 *
 * Invariants: after any return, success or error, the config is consistent and
 * sl_config_free releases all of it. This file uses no broker code: it runs before
 * the broker exists.
 */
#include "broker/config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/log.h"

#define DEFAULT_PORT 1883
/* A config file is small; this bounds a mistaken `-c /dev/zero` or huge file. */
#define MAX_FILE_BYTES (16u << 20)
/* The prefix of generated client ids; longer is surely a mistake. */
#define MAX_AUTO_ID_PREFIX 256
/* No directive takes more than 2 tokens; a few more are kept for messages. */
#define MAX_ARGS 4

struct parser {
    struct sl_config *c;
    const char *name;  /* file name for messages */
    unsigned line;     /* 1-based; 0 before the first line */
    int depth;         /* 0: the main file; 1: a file from include_dir */
    long cur_listener; /* index that max_connections/protocol set; -1: default */
    char *err;
    size_t errlen;
};

struct line {
    char *name;           /* the directive */
    char *rest;           /* after the name, trimmed: "" when there is nothing */
    char *argv[MAX_ARGS]; /* tokens of rest, filled for token directives only */
    int argc;             /* may exceed MAX_ARGS: counted, not stored */
};

static int load_file(struct sl_config *c, const char *path, int depth, char *err, size_t errlen);

/* ------------------------------------------------------------------------------ */
/* Messages */

/* Replaces control characters so an echoed token cannot garble a terminal. */
static void sanitize(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

PRINTF_LIKE(5, 0)
static void vformat(char *err, size_t errlen, const char *prefix, unsigned line, const char *fmt,
                    va_list ap)
{
    if (err == NULL || errlen == 0) return;
    int n = prefix == NULL ? 0
            : line         ? snprintf(err, errlen, "%s:%u: ", prefix, line)
                           : snprintf(err, errlen, "%s: ", prefix);
    if (n >= 0 && (size_t)n < errlen) vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    sanitize(err);
}

/* "FILE:LINE: message" (or "FILE: message" before the first line); returns rc. */
PRINTF_LIKE(3, 4)
static int fail_rc(struct parser *p, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(p->err, p->errlen, p->name, p->line, fmt, ap);
    va_end(ap);
    return rc;
}

#define fail(p, ...) fail_rc((p), SL_EINVAL, __VA_ARGS__)

/* "WHERE: message", or just the message when where is NULL (sl_config_finish). */
PRINTF_LIKE(5, 6)
static int fail_at(char *err, size_t errlen, int rc, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(err, errlen, where, 0, fmt, ap);
    va_end(ap);
    return rc;
}

/* ------------------------------------------------------------------------------ */
/* Values */

/* Strict decimal: optional '-', digits only, no overflow, min <= v <= max. */
static bool parse_ll(const char *s, long long min, long long max, long long *out)
{
    bool neg = (*s == '-');
    if (neg) s++;
    if (*s == '\0') return false;
    unsigned long long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return false;
        unsigned d = (unsigned)(*s - '0');
        if (v > (9223372036854775807ULL - d) / 10) /* stays within LLONG_MAX */
            return false;
        v = v * 10 + d;
    }
    long long x = neg ? -(long long)v : (long long)v;
    if (x < min || x > max) return false;
    *out = x;
    return true;
}

static int parse_number(struct parser *p, const char *dir, const char *tok, long long min,
                        long long max, long long *out)
{
    if (!parse_ll(tok, min, max, out))
        return fail(p, "%s: '%s' is not a valid number (%lld..%lld)", dir, tok, min, max);
    return SL_OK;
}

/* true/false as Mosquitto documents them; also 1/0, which Mosquitto's parser has
 * always accepted, so existing files keep working. */
static int parse_bool(struct parser *p, const char *dir, const char *tok, bool *out)
{
    if (strcmp(tok, "true") == 0 || strcmp(tok, "1") == 0)
        *out = true;
    else if (strcmp(tok, "false") == 0 || strcmp(tok, "0") == 0)
        *out = false;
    else
        return fail(p, "%s: '%s' is not a valid boolean (true or false)", dir, tok);
    return SL_OK;
}

/* Well-formed UTF-8 without control characters: the prefix ends up in client ids,
 * which are MQTT UTF-8 strings [MQTT-1.5.3-1], [MQTT-1.5.3-2]. */
static bool printable_utf8(const unsigned char *s)
{
    while (*s) {
        unsigned ch = *s, need;
        unsigned cp;
        if (ch < 0x20 || ch == 0x7f) return false;
        if (ch < 0x80) {
            s++;
            continue;
        }
        if (ch >= 0xc2 && ch <= 0xdf)
            need = 1, cp = ch & 0x1f;
        else if (ch >= 0xe0 && ch <= 0xef)
            need = 2, cp = ch & 0x0f;
        else if (ch >= 0xf0 && ch <= 0xf4)
            need = 3, cp = ch & 0x07;
        else
            return false;
        for (unsigned i = 1; i <= need; i++) {
            if ((s[i] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
            return false;
        s += need + 1;
    }
    return true;
}

static struct sl_listener_conf *current_listener(struct parser *p)
{
    if (p->cur_listener < 0) return &p->c->default_listener;
    return &p->c->listeners[p->cur_listener];
}

/* ------------------------------------------------------------------------------ */
/* Directives with their own handler */

static int d_listener(struct parser *p, struct line *l)
{
    struct sl_config *c = p->c;
    long long port;
    char *addr = NULL;
    int rc = parse_number(p, "listener", l->argv[0], 0, 65535, &port);
    if (rc != SL_OK) return rc;
    if (l->argc == 2) {
        /* Mosquitto reads `listener 0 PATH` as a Unix socket; for Starling port 0
         * means "any free port", so say so rather than fail at bind time. */
        if (port == 0 && strchr(l->argv[1], '/') != NULL)
            return fail(p, "Unix socket listeners ('listener 0 PATH') are not supported yet");
        addr = strdup(l->argv[1]);
        if (addr == NULL) return fail_rc(p, SL_ENOMEM, "out of memory");
    }
    struct sl_listener_conf *ls = realloc(c->listeners, (c->nlisteners + 1) * sizeof(*ls));
    if (ls == NULL) {
        free(addr);
        return fail_rc(p, SL_ENOMEM, "out of memory");
    }
    c->listeners = ls;
    ls[c->nlisteners] = (struct sl_listener_conf){
        .bind_address = addr, .port = (uint16_t)port, .max_connections = -1};
    p->cur_listener = (long)c->nlisteners++;
    return SL_OK;
}

static int d_port(struct parser *p, struct line *l)
{
    long long port;
    int rc = parse_number(p, "port", l->argv[0], 0, 65535, &port);
    if (rc != SL_OK) return rc;
    p->c->default_listener.port = (uint16_t)port;
    p->c->default_listener_used = true;
    return SL_OK;
}

static int d_bind_address(struct parser *p, struct line *l)
{
    char *addr = strdup(l->argv[0]);
    if (addr == NULL) return fail_rc(p, SL_ENOMEM, "out of memory");
    free(p->c->default_listener.bind_address);
    p->c->default_listener.bind_address = addr;
    p->c->default_listener_used = true;
    return SL_OK;
}

static int d_max_connections(struct parser *p, struct line *l)
{
    long long n;
    int rc = parse_number(p, "max_connections", l->argv[0], -1, 2147483647, &n);
    if (rc == SL_OK) current_listener(p)->max_connections = (int)n;
    return rc;
}

static int d_protocol(struct parser *p, struct line *l)
{
    if (strcmp(l->argv[0], "mqtt") == 0)
        return SL_OK; /* the only protocol today: nothing to record */
    if (strcmp(l->argv[0], "websockets") == 0)
        return fail(p, "'protocol websockets' is not supported yet");
    return fail(p, "protocol: '%s' is not a valid protocol (mqtt or websockets)", l->argv[0]);
}

/* A string directive that takes the rest of the line as UTF-8 text. */
static int set_text(struct parser *p, struct line *l, char **dst, size_t max)
{
    if (strlen(l->rest) > max) return fail(p, "%s: longer than %zu bytes", l->name, max);
    if (!printable_utf8((const unsigned char *)l->rest))
        return fail(p, "%s: must be UTF-8 text without control characters", l->name);
    char *s = strdup(l->rest);
    if (s == NULL) return fail_rc(p, SL_ENOMEM, "out of memory");
    free(*dst);
    *dst = s;
    return SL_OK;
}

static int d_auto_id_prefix(struct parser *p, struct line *l)
{
    return set_text(p, l, &p->c->auto_id_prefix, MAX_AUTO_ID_PREFIX);
}

static int d_response_information(struct parser *p, struct line *l)
{
    return set_text(p, l, &p->c->response_information, 512);
}

static int d_server_reference(struct parser *p, struct line *l)
{
    return set_text(p, l, &p->c->server_reference, 1024);
}

static int d_scram_file(struct parser *p, struct line *l)
{
    return set_text(p, l, &p->c->scram_file, 4096);
}

static int d_shared_subscription_policy(struct parser *p, struct line *l)
{
    static const char *const names[] = {"round_robin", "random", "topic_hash"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(l->rest, names[i]) == 0) {
            p->c->shared_subscription_policy = (uint8_t)i; /* enum share_policy order */
            return SL_OK;
        }
    }
    return fail(p, "shared_subscription_policy: '%s' is not round_robin, random or topic_hash",
                l->rest);
}

/* persistent_client_expiration: Mosquitto's syntax, a number and one of
 * h d w m y (hours, days, weeks, months of 30 days, years of 365 days). */
static int d_persistent_client_expiration(struct parser *p, struct line *l)
{
    const char *v = l->rest;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    uint64_t unit = 0;
    if (end != v && end[0] != '\0' && end[1] == '\0') {
        switch (end[0]) {
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        case 'w':
            unit = 7 * 86400;
            break;
        case 'm':
            unit = 30 * 86400;
            break;
        case 'y':
            unit = 365 * 86400;
            break;
        default:
            break;
        }
    }
    if (v[0] == '-' || errno || unit == 0 || n == 0 || n > 1000000)
        return fail(p,
                    "persistent_client_expiration: '%s' is not a duration like 2h, 14d, 1w, 3m "
                    "or 1y",
                    v);
    p->c->persistent_client_expiration = n * unit;
    return SL_OK;
}

/* log_dest stderr|stdout|syslog|none|file PATH. PATH is the rest of the line. */
static int d_log_dest(struct parser *p, struct line *l)
{
    struct sl_config *c = p->c;
    char *what = l->rest, *arg = what + strcspn(what, " \t");
    if (*arg != '\0') {
        *arg++ = '\0';
        arg += strspn(arg, " \t");
    }
    bool is_file = strcmp(what, "file") == 0;
    if (is_file && *arg == '\0')
        return fail(p, "log_dest file: missing path (usage: log_dest file PATH)");
    if (!is_file && *arg != '\0')
        return fail(p, "log_dest: too many arguments (usage: log_dest %s)", what);

    unsigned bit;
    if (strcmp(what, "stderr") == 0)
        bit = SL_LOG_DEST_STDERR;
    else if (strcmp(what, "stdout") == 0)
        bit = SL_LOG_DEST_STDOUT;
    else if (strcmp(what, "syslog") == 0)
        bit = SL_LOG_DEST_SYSLOG;
    else if (is_file)
        bit = SL_LOG_DEST_FILE;
    else if (strcmp(what, "none") == 0)
        bit = 0;
    else if (strcmp(what, "topic") == 0 || strcmp(what, "dlt") == 0)
        return fail(p, "'log_dest %s' is not supported yet", what);
    else
        return fail(p,
                    "log_dest: '%s' is not a valid destination "
                    "(stderr, stdout, syslog, file PATH or none)",
                    what);

    if (is_file && c->log_file != NULL)
        return fail(p, "log_dest file: a log file is already set ('%s'); only one is supported",
                    c->log_file);
    if (is_file) {
        char *path = strdup(arg);
        if (path == NULL) return fail_rc(p, SL_ENOMEM, "out of memory");
        free(c->log_file);
        c->log_file = path;
    }
    if (!c->log_dest_seen || bit == 0) {
        c->log_dest = 0;
        if (!is_file) {
            /* `none`, or the first log_dest of the config: forget the old file. */
            free(c->log_file);
            c->log_file = NULL;
        }
    }
    c->log_dest_seen = true;
    c->log_dest |= bit;
    return SL_OK;
}

static int d_log_type(struct parser *p, struct line *l)
{
    static const struct {
        const char *name;
        unsigned bits;
    } types[] = {
        {"error", SL_LOG_ERR},
        {"warning", SL_LOG_WARNING},
        {"notice", SL_LOG_NOTICE},
        {"information", SL_LOG_INFO},
        {"debug", SL_LOG_DEBUG},
        /* Mosquitto's finer kinds, folded into the level Starling logs them at. */
        {"subscribe", SL_LOG_INFO},
        {"unsubscribe", SL_LOG_INFO},
        {"internal", SL_LOG_DEBUG},
        {"all", SL_LOG_ALL},
        {"none", 0},
    };
    struct sl_config *c = p->c;
    const char *v = l->argv[0];
    if (strcmp(v, "websockets") == 0) return fail(p, "'log_type websockets' is not supported yet");
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(v, types[i].name) != 0) continue;
        if (!c->log_type_seen || types[i].bits == 0) c->log_types = 0;
        c->log_type_seen = true;
        c->log_types |= types[i].bits;
        return SL_OK;
    }
    return fail(p,
                "log_type: '%s' is not a valid type (error, warning, notice, information, "
                "debug, subscribe, unsubscribe, all or none)",
                v);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int d_include_dir(struct parser *p, struct line *l)
{
    /* Only from the main file, like Mosquitto (which ignores a nested one); an
     * error rather than silence, and no include loops. */
    if (p->depth > 0) return fail(p, "include_dir is only allowed in the main config file");
    const char *dir = l->rest;
    DIR *d = opendir(dir);
    if (d == NULL)
        return fail(p, "include_dir: cannot open directory '%s': %s", dir, strerror(errno));

    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = SL_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        /* "x.conf": a bare ".conf" does not count, as in Mosquitto. */
        if (len <= 5 || strcmp(e->d_name + len - 5, ".conf") != 0) continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof(*nn));
            if (nn == NULL) {
                rc = fail_rc(p, SL_ENOMEM, "out of memory");
                goto out;
            }
            names = nn;
            cap = ncap;
        }
        if ((names[n] = strdup(e->d_name)) == NULL) {
            rc = fail_rc(p, SL_ENOMEM, "out of memory");
            goto out;
        }
        n++;
    }
    if (n > 1) qsort(names, n, sizeof(*names), cmp_names);

    size_t dlen = strlen(dir);
    const char *sep = (dlen > 0 && dir[dlen - 1] == '/') ? "" : "/";
    for (size_t i = 0; i < n && rc == SL_OK; i++) {
        size_t plen = dlen + strlen(sep) + strlen(names[i]) + 1;
        char *path = malloc(plen);
        if (path == NULL) {
            rc = fail_rc(p, SL_ENOMEM, "out of memory");
            break;
        }
        snprintf(path, plen, "%s%s%s", dir, sep, names[i]);
        /* The included file writes its own "FILE:LINE:" message. */
        rc = load_file(p->c, path, p->depth + 1, p->err, p->errlen);
        free(path);
    }
out:
    closedir(d);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* Mosquitto 2 accepts retry_interval and ignores it with a warning; so do we, so
 * that old files keep working. */
static int d_obsolete(struct parser *p, struct line *l)
{
    sl_warn("%s:%u: '%s' is obsolete (Mosquitto ignores it too); ignored", p->name, p->line,
            l->name);
    return SL_OK;
}

/* ------------------------------------------------------------------------------ */
/* Directive tables */

static const struct {
    const char *name;
    size_t offset;
} bool_directives[] = {
    {"allow_anonymous", offsetof(struct sl_config, allow_anonymous)},
    {"allow_zero_length_clientid", offsetof(struct sl_config, allow_zero_length_clientid)},
    {"queue_qos0_messages", offsetof(struct sl_config, queue_qos0_messages)},
    {"retain_available", offsetof(struct sl_config, retain_available)},
    {"set_tcp_nodelay", offsetof(struct sl_config, set_tcp_nodelay)},
    {"connection_messages", offsetof(struct sl_config, connection_messages)},
    {"server_reference_permanent", offsetof(struct sl_config, server_reference_permanent)},
    {"log_timestamp", offsetof(struct sl_config, log_timestamp)},
};

enum num_type { U8, U16, U32, U64, INT };

static const struct {
    const char *name;
    size_t offset;
    enum num_type type;
    long long min, max;
    long long min_nonzero; /* > 0: values 1..min_nonzero-1 are refused too */
} num_directives[] = {
    {"max_inflight_messages", offsetof(struct sl_config, max_inflight_messages), U32, 0, 65535, 0},
    {"max_queued_messages", offsetof(struct sl_config, max_queued_messages), U32, 0, 4294967295LL,
     0},
    {"max_queued_bytes", offsetof(struct sl_config, max_queued_bytes), U64, 0,
     9223372036854775807LL, 0},
    /* 268435460 = 268435455 (largest Remaining Length) + 5 (fixed header); a packet
     * is at least 2 bytes, but Mosquitto refuses limits under 20 as useless. */
    {"max_packet_size", offsetof(struct sl_config, max_packet_size), U32, 0, 268435460, 20},
    {"max_keepalive", offsetof(struct sl_config, max_keepalive), U16, 0, 65535, 0},
    {"threads", offsetof(struct sl_config, threads), INT, 0, 1024, 0},
    {"connect_timeout", offsetof(struct sl_config, connect_timeout), U32, 1, 3600, 0},
    /* Mosquitto: seconds between $SYS updates, 0 = none; 1 day caps a typo. */
    {"sys_interval", offsetof(struct sl_config, sys_interval), U32, 0, 86400, 0},
    {"max_qos", offsetof(struct sl_config, max_qos), U8, 0, 2, 0},
    {"max_topic_alias", offsetof(struct sl_config, max_topic_alias), U16, 0, 65535, 0},
    /* Outbound aliases are looked up linearly per PUBLISH (topic_alias.h). */
    {"max_topic_alias_broker", offsetof(struct sl_config, max_topic_alias_broker), U16, 0, 256, 0},
};

static const struct {
    const char *name;
    int (*fn)(struct parser *p, struct line *l);
    int min_args, max_args; /* -1, -1: takes the rest of the line (at least a byte) */
    const char *usage;      /* the arguments, for messages */
} func_directives[] = {
    {"listener", d_listener, 1, 2, "PORT [BIND_ADDRESS]"},
    {"port", d_port, 1, 1, "PORT"},
    {"bind_address", d_bind_address, 1, 1, "ADDRESS"},
    {"max_connections", d_max_connections, 1, 1, "N (-1 = unlimited)"},
    {"protocol", d_protocol, 1, 1, "mqtt"},
    {"auto_id_prefix", d_auto_id_prefix, -1, -1, "PREFIX"},
    {"log_dest", d_log_dest, -1, -1, "stderr|stdout|syslog|none|file PATH"},
    {"log_type", d_log_type, 1, 1, "error|warning|notice|information|debug|all|none"},
    {"include_dir", d_include_dir, -1, -1, "DIR"},
    {"retry_interval", d_obsolete, 0, 1, "SECONDS"},
    {"persistent_client_expiration", d_persistent_client_expiration, 1, 1,
     "DURATION (2h, 14d, ...)"},
    {"response_information", d_response_information, -1, -1, "TEXT (%c = client id)"},
    {"server_reference", d_server_reference, -1, -1, "SERVER[:PORT]"},
    {"shared_subscription_policy", d_shared_subscription_policy, 1, 1,
     "round_robin|random|topic_hash"},
    {"scram_file", d_scram_file, -1, -1, "PATH"},
};

/* Mosquitto directives of features Starling does not have yet (mosquitto.conf(5),
 * Mosquitto 2.0/2.1). Kept sorted; docs/config.md lists the same names. */
static const char *const unsupported[] = {
    "accept_protocol_versions",
    "acl_file",
    "address",
    "addresses",
    "allow_duplicate_messages",
    "auth_plugin",
    "auth_plugin_deny_special_chars",
    "autosave_interval",
    "autosave_on_changes",
    "bind_interface",
    "bridge_alpn",
    "bridge_attempt_unsubscribe",
    "bridge_bind_address",
    "bridge_cafile",
    "bridge_capath",
    "bridge_certfile",
    "bridge_ciphers",
    "bridge_ciphers_tls1.3",
    "bridge_identity",
    "bridge_insecure",
    "bridge_keyfile",
    "bridge_max_packet_size",
    "bridge_max_topic_alias",
    "bridge_outgoing_retain",
    "bridge_protocol_version",
    "bridge_psk",
    "bridge_receive_maximum",
    "bridge_reload_type",
    "bridge_require_ocsp",
    "bridge_session_expiry_interval",
    "bridge_tcp_keepalive",
    "bridge_tcp_user_timeout",
    "bridge_tls_version",
    "cafile",
    "capath",
    "certfile",
    "check_retain_source",
    "ciphers",
    "ciphers_tls1.3",
    "cleansession",
    "clientid",
    "clientid_prefixes",
    "connection",
    "crlfile",
    "dhparamfile",
    "disable_client_cert_date_checks",
    "enable_control_api",
    "global_max_clients",
    "global_max_connections",
    "global_plugin",
    "http_dir",
    "idle_timeout",
    "keepalive_interval",
    "keyfile",
    "local_cleansession",
    "local_clientid",
    "local_password",
    "local_username",
    "log_facility",
    "log_timestamp_format",
    "max_inflight_bytes",
    "maximum_qos",
    "memory_limit",
    "message_size_limit",
    "mount_point",
    "notification_topic",
    "notifications",
    "notifications_local_only",
    "password",
    "password_file",
    "per_listener_settings",
    "persistence",
    "persistence_file",
    "persistence_location",
    "pid_file",
    "plugin",
    "psk_file",
    "psk_hint",
    "remote_clientid",
    "remote_password",
    "remote_username",
    "require_certificate",
    "restart_timeout",
    "retained_persistence",
    "round_robin",
    "socket_domain",
    "start_type",
    "threshold",
    "tls_engine",
    "tls_engine_kpass_sha1",
    "tls_keyform",
    "tls_version",
    "topic",
    "try_private",
    "upgrade_outgoing_qos",
    "use_identity_as_username",
    "use_subject_as_username",
    "use_username_as_clientid",
    "user",
    "username",
    "websockets_headers_size",
    "websockets_log_level",
    "websockets_origin",
};

/* Families named by prefix: plugin_opt_KEY VALUE, auth_opt_KEY VALUE. */
static const char *const unsupported_prefixes[] = {"auth_opt_", "plugin_opt_"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool is_unsupported(const char *name)
{
    for (size_t i = 0; i < COUNT(unsupported); i++)
        if (strcmp(name, unsupported[i]) == 0) return true;
    for (size_t i = 0; i < COUNT(unsupported_prefixes); i++)
        if (strncmp(name, unsupported_prefixes[i], strlen(unsupported_prefixes[i])) == 0)
            return true;
    return false;
}

/* Splits l->rest into l->argv in place. */
static void tokenize(struct line *l)
{
    char *s = l->rest;
    l->argc = 0;
    while (*s != '\0') {
        char *end = s + strcspn(s, " \t");
        if (l->argc < MAX_ARGS) l->argv[l->argc] = s;
        l->argc++;
        if (*end == '\0') break;
        *end++ = '\0';
        s = end + strspn(end, " \t");
    }
}

/* Checks the argument count against min..max, with a message that shows usage. */
static int check_args(struct parser *p, struct line *l, int min, int max, const char *usage)
{
    if (l->argc < min) return fail(p, "%s: missing value (usage: %s %s)", l->name, l->name, usage);
    if (l->argc > max) {
        if (max < MAX_ARGS && l->argv[max][0] == '#')
            return fail(p,
                        "%s: too many arguments ('#' starts a comment only at the "
                        "beginning of a line)",
                        l->name);
        return fail(p, "%s: too many arguments (usage: %s %s)", l->name, l->name, usage);
    }
    return SL_OK;
}

static int dispatch(struct parser *p, struct line *l)
{
    struct sl_config *c = p->c;
    int rc;

    for (size_t i = 0; i < COUNT(func_directives); i++) {
        if (strcmp(l->name, func_directives[i].name) != 0) continue;
        if (func_directives[i].min_args < 0) {
            if (l->rest[0] == '\0')
                return fail(p, "%s: missing value (usage: %s %s)", l->name, l->name,
                            func_directives[i].usage);
        } else {
            tokenize(l);
            rc = check_args(p, l, func_directives[i].min_args, func_directives[i].max_args,
                            func_directives[i].usage);
            if (rc != SL_OK) return rc;
        }
        return func_directives[i].fn(p, l);
    }

    for (size_t i = 0; i < COUNT(bool_directives); i++) {
        if (strcmp(l->name, bool_directives[i].name) != 0) continue;
        tokenize(l);
        if ((rc = check_args(p, l, 1, 1, "true|false")) != SL_OK) return rc;
        return parse_bool(p, l->name, l->argv[0], (bool *)((char *)c + bool_directives[i].offset));
    }

    for (size_t i = 0; i < COUNT(num_directives); i++) {
        if (strcmp(l->name, num_directives[i].name) != 0) continue;
        tokenize(l);
        if ((rc = check_args(p, l, 1, 1, "N")) != SL_OK) return rc;
        long long v;
        long long lo = num_directives[i].min, hi = num_directives[i].max;
        long long nz = num_directives[i].min_nonzero;
        if (!parse_ll(l->argv[0], lo, hi, &v) || (v > 0 && v < nz)) {
            if (nz > 0)
                return fail(p, "%s: '%s' is not a valid number (0 or %lld..%lld)", l->name,
                            l->argv[0], nz, hi);
            return fail(p, "%s: '%s' is not a valid number (%lld..%lld)", l->name, l->argv[0], lo,
                        hi);
        }
        void *field = (char *)c + num_directives[i].offset;
        switch (num_directives[i].type) {
        case U8:
            *(uint8_t *)field = (uint8_t)v;
            break;
        case U16:
            *(uint16_t *)field = (uint16_t)v;
            break;
        case U32:
            *(uint32_t *)field = (uint32_t)v;
            break;
        case U64:
            *(uint64_t *)field = (uint64_t)v;
            break;
        case INT:
            *(int *)field = (int)v;
            break;
        }
        return SL_OK;
    }

    if (is_unsupported(l->name)) return fail(p, "'%s' is not supported yet", l->name);
    return fail(p, "unknown directive '%s'", l->name);
}

/* Parses text[0..len) in place (the caller owns the copy); stops at the first error. */
static int parse_text(struct sl_config *c, const char *name, char *text, size_t len, int depth,
                      char *err, size_t errlen)
{
    struct parser p = {
        .c = c, .name = name, .depth = depth, .cur_listener = -1, .err = err, .errlen = errlen};
    char *s = text, *end = text + len;

    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        char *eol = nl ? nl : end;
        p.line++;
        if (memchr(s, '\0', (size_t)(eol - s)) != NULL) return fail(&p, "line contains a NUL byte");
        *eol = '\0';

        char *e = eol;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            *--e = '\0';
        s += strspn(s, " \t");
        if (*s != '\0' && *s != '#') {
            struct line l = {.name = s};
            char *r = s + strcspn(s, " \t");
            if (*r != '\0') {
                *r++ = '\0';
                r += strspn(r, " \t");
            }
            l.rest = r;
            int rc = dispatch(&p, &l);
            if (rc != SL_OK) return rc;
        }
        s = eol + 1;
    }
    return SL_OK;
}

static int load_file(struct sl_config *c, const char *path, int depth, char *err, size_t errlen)
{
    int rc = SL_OK;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    struct stat st;

    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return fail_at(err, errlen, SL_EIO, path, "cannot open: %s", strerror(errno));
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = fail_at(err, errlen, SL_EINVAL, path, "is a directory, not a config file");
        goto out;
    }
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap + 1);
            if (nb == NULL) {
                rc = fail_at(err, errlen, SL_ENOMEM, path, "out of memory");
                goto out;
            }
            buf = nb;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = fail_at(err, errlen, SL_EIO, path, "cannot read: %s", strerror(errno));
            goto out;
        }
        if (n == 0) break;
        len += (size_t)n;
        if (len > MAX_FILE_BYTES) {
            rc = fail_at(err, errlen, SL_EINVAL, path, "larger than %u MiB; not a config file",
                         MAX_FILE_BYTES >> 20);
            goto out;
        }
    }
    buf[len] = '\0';
    rc = parse_text(c, path, buf, len, depth, err, errlen);
out:
    close(fd);
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------------------ */
/* Public functions */

void sl_config_init(struct sl_config *c)
{
    *c = (struct sl_config){
        .allow_anonymous = true,
        .allow_zero_length_clientid = true,
        /* NULL only if this strdup failed; sl_config_finish reports it. */
        .auto_id_prefix = strdup("auto-"),
        .max_inflight_messages = 20,
        .max_queued_messages = 1000,
        .max_queued_bytes = 0,
        .queue_qos0_messages = false,
        .max_packet_size = 0,
        .max_keepalive = 65535,
        .retain_available = true,
        .connect_timeout = 10,
        .sys_interval = 10,
        .threads = 0,
        .set_tcp_nodelay = false,
        .connection_messages = true,
        .max_qos = 2,
        .max_topic_alias = 10,
        .max_topic_alias_broker = 10,
        .log_dest = SL_LOG_DEST_STDERR,
        .log_types = SL_LOG_ERR | SL_LOG_WARNING | SL_LOG_NOTICE | SL_LOG_INFO,
        .log_timestamp = true,
        .default_listener = {.bind_address = NULL, .port = DEFAULT_PORT, .max_connections = -1},
    };
}

int sl_config_load_file(struct sl_config *c, const char *path, char *err, size_t errlen)
{
    return load_file(c, path, 0, err, errlen);
}

int sl_config_load_string(struct sl_config *c, const char *name, const char *text, char *err,
                          size_t errlen)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 1);
    if (copy == NULL) return fail_at(err, errlen, SL_ENOMEM, name, "out of memory");
    memcpy(copy, text, len + 1);
    int rc = parse_text(c, name, copy, len, 0, err, errlen);
    free(copy);
    return rc;
}

/* Puts l in front of c->listeners (the default listener comes first). */
static int prepend_listener(struct sl_config *c, struct sl_listener_conf l)
{
    struct sl_listener_conf *ls = realloc(c->listeners, (c->nlisteners + 1) * sizeof(*ls));
    if (ls == NULL) return SL_ENOMEM;
    memmove(ls + 1, ls, c->nlisteners * sizeof(*ls));
    ls[0] = l;
    c->listeners = ls;
    c->nlisteners++;
    return SL_OK;
}

int sl_config_finish(struct sl_config *c, int port_override, bool verbose, char *err, size_t errlen)
{
    int rc;

    if (c->auto_id_prefix == NULL) return fail_at(err, errlen, SL_ENOMEM, NULL, "out of memory");
    if (port_override > 65535)
        return fail_at(err, errlen, SL_EINVAL, NULL, "-p: '%d' is not a valid port (1..65535)",
                       port_override);

    struct sl_listener_conf *dl = &c->default_listener;
    if (c->default_listener_used) {
        /* `port`/`bind_address`: Mosquitto's default listener, all interfaces unless
         * bind_address says otherwise. */
        if ((rc = prepend_listener(c, *dl)) != SL_OK)
            return fail_at(err, errlen, rc, NULL, "out of memory");
        dl->bind_address = NULL; /* moved */
        c->default_listener_used = false;
        if (port_override > 0) c->listeners[0].port = (uint16_t)port_override;
    } else if (c->nlisteners == 0) {
        /* No listener at all: loopback only, the secure default (Mosquitto 2 does
         * the same, -p included). */
        char *lo = strdup("127.0.0.1");
        struct sl_listener_conf l = {
            .bind_address = lo,
            .port = (uint16_t)(port_override > 0 ? port_override : DEFAULT_PORT),
            .max_connections = dl->max_connections};
        if (lo == NULL || (rc = prepend_listener(c, l)) != SL_OK) {
            free(lo);
            return fail_at(err, errlen, SL_ENOMEM, NULL, "out of memory");
        }
    } else {
        if (dl->max_connections != -1)
            return fail_at(err, errlen, SL_EINVAL, NULL,
                           "max_connections before the first 'listener' of a file sets the "
                           "default listener, which is only started by 'port' or "
                           "'bind_address'; move it after a 'listener'");
        if (port_override > 0) c->listeners[0].port = (uint16_t)port_override;
    }
    dl->max_connections = -1;

    for (size_t i = 0; i < c->nlisteners; i++) {
        const struct sl_listener_conf *a = &c->listeners[i];
        for (size_t j = i + 1; j < c->nlisteners && a->port != 0; j++) {
            const struct sl_listener_conf *b = &c->listeners[j];
            bool same_addr = (a->bind_address == NULL && b->bind_address == NULL) ||
                             (a->bind_address && b->bind_address &&
                              strcmp(a->bind_address, b->bind_address) == 0);
            if (a->port == b->port && same_addr)
                return fail_at(err, errlen, SL_EINVAL, NULL, "listener %u %s is defined twice",
                               a->port, a->bind_address ? a->bind_address : "(all addresses)");
        }
    }

    if ((c->log_dest & SL_LOG_DEST_FILE) && (c->log_file == NULL || c->log_file[0] == '\0'))
        return fail_at(err, errlen, SL_EINVAL, NULL, "log_dest file needs a path");
    if (verbose) c->log_types = SL_LOG_ALL; /* -v overrides log_type, as in Mosquitto */
    return SL_OK;
}

void sl_config_free(struct sl_config *c)
{
    for (size_t i = 0; i < c->nlisteners; i++)
        free(c->listeners[i].bind_address);
    free(c->listeners);
    free(c->auto_id_prefix);
    free(c->log_file);
    free(c->response_information);
    free(c->server_reference);
    free(c->scram_file);
    free(c->default_listener.bind_address);
    *c = (struct sl_config){0};
}

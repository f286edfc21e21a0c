/*
 * config.h - the broker's settings, read from Mosquitto-style config files.
 *
 * Directive names and meanings follow mosquitto.conf where the concept exists, so
 * a Mosquitto user's file works unchanged. A directive of a feature Starling does
 * not have yet fails with "file:line: 'X' is not supported yet"; an unknown one with
 * "file:line: unknown directive 'X'". Nothing is silently ignored.
 */
#ifndef SL_BROKER_CONFIG_H
#define SL_BROKER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* log_dest bits */
#define SL_LOG_DEST_STDERR 0x1u
#define SL_LOG_DEST_STDOUT 0x2u
#define SL_LOG_DEST_FILE   0x4u
#define SL_LOG_DEST_SYSLOG 0x8u

struct sl_listener_conf {
    char *bind_address;  /* NULL: all addresses (0.0.0.0) */
    uint16_t port;       /* 0: pick a free port (tests); logged at start */
    int max_connections; /* -1: unlimited */
};

struct sl_config {
    struct sl_listener_conf *listeners; /* owned */
    size_t nlisteners;

    bool allow_anonymous;            /* default true (no auth providers yet) */
    bool allow_zero_length_clientid; /* default true */
    char *auto_id_prefix;            /* default "auto-" */
    uint32_t max_inflight_messages;  /* default 20; 0 = no limit (capped at 65535) */
    uint32_t max_queued_messages;    /* default 1000; 0 = no limit */
    uint64_t max_queued_bytes;       /* default 0 = no limit */
    bool queue_qos0_messages;        /* default false */
    uint32_t max_packet_size;        /* default 0 = protocol maximum */
    uint16_t max_keepalive;          /* default 65535 */
    bool retain_available;           /* default true */
    uint32_t connect_timeout;        /* seconds to complete CONNECT; default 10 */
    uint32_t sys_interval;           /* seconds between $SYS updates; 0 = off; default 10 */
    int threads;                     /* default 0 = online CPUs */
    bool set_tcp_nodelay;            /* default false */
    bool connection_messages;        /* default true: log connects/disconnects */
    /* MQTT 5.0 (docs/mqtt5.md) and Mosquitto's session/QoS limits. */
    uint8_t max_qos;                       /* default 2 */
    uint16_t max_topic_alias;              /* inbound aliases per connection; default 10 */
    uint16_t max_topic_alias_broker;       /* outbound aliases; default 10, at most 256 */
    uint64_t persistent_client_expiration; /* seconds; 0 = never (default) */
    char *response_information;            /* NULL: not sent; "%c" = client id */
    char *server_reference;                /* NULL: no redirection */
    bool server_reference_permanent;       /* 0x9D Server moved instead of 0x9C */
    uint8_t shared_subscription_policy;    /* enum share_policy (topic_tree.h) */
    char *scram_file;                      /* SCRAM-SHA-256 credentials; NULL: none */

    unsigned log_dest;  /* SL_LOG_DEST_* bits; default stderr */
    char *log_file;     /* for SL_LOG_DEST_FILE */
    unsigned log_types; /* SL_LOG_* level bits (core/log.h); default error|warning|notice|info */
    bool log_timestamp; /* default true */

    /* Parse state, read and written by config.c only (added with the parser): what
     * Mosquitto's rules need to remember between lines and between included files.
     * sl_config_finish consumes it; nothing else should look at it. */
    struct sl_listener_conf default_listener; /* set by `port`, `bind_address`, and a
                                               * `max_connections` before any `listener` */
    bool default_listener_used;               /* `port` or `bind_address` given: it is started */
    bool log_dest_seen;                       /* the first log_dest replaces the default set */
    bool log_type_seen;                       /* the first log_type replaces the default set */
};

/* Fills defaults. No listener yet: sl_config_finish adds 127.0.0.1:1883 if none. */
void sl_config_init(struct sl_config *c);

/* Reads one file (and what it includes). On error returns SL_EINVAL and writes a
 * "file:line: message" into err. */
int sl_config_load_file(struct sl_config *c, const char *path, char *err, size_t errlen);

/* Same, from a string; 'name' stands for the file name in messages. */
int sl_config_load_string(struct sl_config *c, const char *name, const char *text, char *err,
                          size_t errlen);

/* Applies command-line overrides and the defaults that depend on the whole file:
 * port_override > 0 replaces the default listener's port (like mosquitto -p);
 * no listener at all gives one on 127.0.0.1:1883 (loopback only: secure default). */
int sl_config_finish(struct sl_config *c, int port_override, bool verbose, char *err,
                     size_t errlen);

void sl_config_free(struct sl_config *c);

#endif

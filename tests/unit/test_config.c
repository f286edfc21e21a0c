/*
 * test_config.c - the config parser: defaults, every directive, every error class
 * with its exact "file:line:" message, include_dir, the listener rules and
 * sl_config_finish. Temporary files live under a mkdtemp directory that is removed
 * at the end.
 */
#include "broker/config.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/error.h"
#include "core/log.h"

static char err[512];
static char tmpdir[] = "/tmp/sl_test_config_XXXXXX";

/* Loads text as "t.conf" into a fresh config c (caller frees). */
static int load(struct sl_config *c, const char *text)
{
    sl_config_init(c);
    err[0] = '\0';
    return sl_config_load_string(c, "t.conf", text, err, sizeof(err));
}

/* Loads and finishes text (no -p, not verbose) into a fresh config c. */
static int load_finish(struct sl_config *c, const char *text)
{
    int rc = load(c, text);
    if (rc == SL_OK) rc = sl_config_finish(c, 0, false, err, sizeof(err));
    return rc;
}

/* True if loading text fails with SL_EINVAL and exactly the message want. */
static bool fails_with(const char *text, const char *want)
{
    struct sl_config c;
    int rc = load(&c, text);
    sl_config_free(&c);
    if (rc == SL_EINVAL && strcmp(err, want) == 0) return true;
    fprintf(stderr, "  input:    \"%s\"\n  want:     \"%s\"\n  got (%d): \"%s\"\n", text, want, rc,
            err);
    return false;
}

/* True if loading text succeeds; prints the error otherwise. */
static bool loads(const char *text)
{
    struct sl_config c;
    int rc = load(&c, text);
    sl_config_free(&c);
    if (rc != SL_OK) fprintf(stderr, "  input: \"%s\"\n  error: %s\n", text, err);
    return rc == SL_OK;
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        abort();
    }
    fwrite(text, 1, len, f);
    fclose(f);
}

static void write_text(const char *path, const char *text)
{
    write_file(path, text, strlen(text));
}

static char *path_in(const char *dir, const char *name)
{
    static char buf[4][512];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

/* ------------------------------------------------------------------------------ */

static void test_defaults(void)
{
    struct sl_config c;
    sl_config_init(&c);
    CHECK(c.listeners == NULL);
    CHECK_EQ_INT(c.nlisteners, 0);
    CHECK(c.allow_anonymous);
    CHECK(c.allow_zero_length_clientid);
    CHECK(c.auto_id_prefix != NULL && strcmp(c.auto_id_prefix, "auto-") == 0);
    CHECK_EQ_INT(c.max_inflight_messages, 20);
    CHECK_EQ_INT(c.max_queued_messages, 1000);
    CHECK_EQ_INT(c.max_queued_bytes, 0);
    CHECK(!c.queue_qos0_messages);
    CHECK_EQ_INT(c.max_packet_size, 0);
    CHECK_EQ_INT(c.max_keepalive, 65535);
    CHECK(c.retain_available);
    CHECK_EQ_INT(c.connect_timeout, 10);
    CHECK_EQ_INT(c.sys_interval, 10);
    CHECK_EQ_INT(c.threads, 0);
    CHECK(!c.set_tcp_nodelay);
    CHECK(c.connection_messages);
    CHECK_EQ_INT(c.log_dest, SL_LOG_DEST_STDERR);
    CHECK(c.log_file == NULL);
    CHECK_EQ_INT(c.log_types, SL_LOG_ERR | SL_LOG_WARNING | SL_LOG_NOTICE | SL_LOG_INFO);
    CHECK(c.log_timestamp);
    sl_config_free(&c);
    sl_config_free(&c); /* freeing twice is harmless: free leaves a zeroed struct */
}

static void test_empty_file_finish_defaults(void)
{
    struct sl_config c;
    CHECK_EQ_INT(load_finish(&c, ""), SL_OK);
    CHECK_EQ_INT(c.nlisteners, 1);
    if (c.nlisteners == 1) {
        CHECK(c.listeners[0].bind_address && strcmp(c.listeners[0].bind_address, "127.0.0.1") == 0);
        CHECK_EQ_INT(c.listeners[0].port, 1883);
        CHECK_EQ_INT(c.listeners[0].max_connections, -1);
    }
    CHECK_EQ_INT(c.log_types, SL_LOG_ERR | SL_LOG_WARNING | SL_LOG_NOTICE | SL_LOG_INFO);
    sl_config_free(&c);
}

static void test_comments_blank_lines_whitespace(void)
{
    struct sl_config c;
    const char *text = "# a comment\n"
                       "\n"
                       "   # an indented comment\n"
                       "\t \n"
                       "  allow_anonymous\t  false   \r\n"
                       "#allow_anonymous true\n"
                       "max_keepalive 60\t\n"
                       "retain_available false"; /* no final newline */
    CHECK_EQ_INT(load(&c, text), SL_OK);
    CHECK(!c.allow_anonymous);
    CHECK_EQ_INT(c.max_keepalive, 60);
    CHECK(!c.retain_available);
    sl_config_free(&c);

    /* Line numbers count comments and blank lines. */
    CHECK(fails_with("# one\n\n  # three\n\nbogus\n", "t.conf:5: unknown directive 'bogus'"));
    /* CRLF files: the CR is not part of the value. */
    CHECK(loads("allow_anonymous true\r\nmax_keepalive 5\r\n"));
    /* '#' is a comment only at the start of a line; later it is an argument. */
    CHECK(fails_with("allow_anonymous true # yes",
                     "t.conf:1: allow_anonymous: too many arguments ('#' starts a comment only "
                     "at the beginning of a line)"));
    CHECK(loads("\n\n\n"));
    CHECK(loads("#"));
}

static void test_unknown_and_unsupported(void)
{
    CHECK(fails_with("foo 1\n", "t.conf:1: unknown directive 'foo'"));
    CHECK(fails_with("Allow_anonymous true\n", "t.conf:1: unknown directive 'Allow_anonymous'"));
    CHECK(fails_with("listener 1883\nfoo\n", "t.conf:2: unknown directive 'foo'"));
    /* Control characters are not echoed raw. */
    CHECK(fails_with("fo\x01o\n", "t.conf:1: unknown directive 'fo?o'"));

    static const char *const names[] = {
        "password_file",
        "acl_file",
        "cafile",
        "capath",
        "certfile",
        "keyfile",
        "crlfile",
        "ciphers",
        "tls_version",
        "require_certificate",
        "use_identity_as_username",
        "use_subject_as_username",
        "psk_hint",
        "psk_file",
        "persistence",
        "persistence_location",
        "persistence_file",
        "autosave_interval",
        "autosave_on_changes",
        "per_listener_settings",
        "plugin",
        "auth_plugin",
        "connection",
        "address",
        "topic",
        "remote_username",
        "bridge_cafile",
        "http_dir",
        "websockets_log_level",
        "websockets_headers_size",
        "socket_domain",
        "mount_point",
        "user",
        "pid_file",
        "clientid_prefixes",
        "upgrade_outgoing_qos",
        "message_size_limit",
        "memory_limit",
        "check_retain_source",
        "allow_duplicate_messages",
        "max_inflight_bytes",
        "accept_protocol_versions",
        "use_username_as_clientid",
        "log_facility",
        "log_timestamp_format",
        "global_max_clients",
        "maximum_qos",
        "bind_interface",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char text[128], want[160];
        snprintf(text, sizeof(text), "%s something\n", names[i]);
        snprintf(want, sizeof(want), "t.conf:1: '%s' is not supported yet", names[i]);
        CHECK(fails_with(text, want));
    }
    CHECK(fails_with("plugin_opt_db /x\n", "t.conf:1: 'plugin_opt_db' is not supported yet"));
    CHECK(fails_with("auth_opt_key v\n", "t.conf:1: 'auth_opt_key' is not supported yet"));
    /* Even with no argument the message is about support, not syntax. */
    CHECK(fails_with("password_file\n", "t.conf:1: 'password_file' is not supported yet"));
}

static void test_booleans(void)
{
    static const struct {
        const char *name;
        size_t offset;
    } bools[] = {
        {"allow_anonymous", offsetof(struct sl_config, allow_anonymous)},
        {"allow_zero_length_clientid", offsetof(struct sl_config, allow_zero_length_clientid)},
        {"queue_qos0_messages", offsetof(struct sl_config, queue_qos0_messages)},
        {"retain_available", offsetof(struct sl_config, retain_available)},
        {"set_tcp_nodelay", offsetof(struct sl_config, set_tcp_nodelay)},
        {"connection_messages", offsetof(struct sl_config, connection_messages)},
        {"log_timestamp", offsetof(struct sl_config, log_timestamp)},
    };
    for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
        static const struct {
            const char *word;
            bool value;
        } vals[] = {{"true", true}, {"false", false}, {"1", true}, {"0", false}};
        for (size_t k = 0; k < 4; k++) {
            char text[128];
            struct sl_config c;
            snprintf(text, sizeof(text), "%s %s\n", bools[i].name, vals[k].word);
            CHECK_EQ_INT(load(&c, text), SL_OK);
            CHECK(*(bool *)((char *)&c + bools[i].offset) == vals[k].value);
            sl_config_free(&c);
        }
        char text[128], want[256];
        snprintf(text, sizeof(text), "%s yes\n", bools[i].name);
        snprintf(want, sizeof(want), "t.conf:1: %s: 'yes' is not a valid boolean (true or false)",
                 bools[i].name);
        CHECK(fails_with(text, want));
    }
    CHECK(fails_with("allow_anonymous TRUE",
                     "t.conf:1: allow_anonymous: 'TRUE' is not a valid boolean (true or false)"));
    CHECK(fails_with("allow_anonymous\n",
                     "t.conf:1: allow_anonymous: missing value (usage: allow_anonymous "
                     "true|false)"));
    CHECK(fails_with("allow_anonymous true false\n",
                     "t.conf:1: allow_anonymous: too many arguments (usage: allow_anonymous "
                     "true|false)"));
}

struct num_case {
    const char *name;
    size_t offset;
    int size; /* 2, 4, 8, or -4 for int */
    long long min, max;
};

static long long read_field(const struct sl_config *c, const struct num_case *n)
{
    const char *f = (const char *)c + n->offset;
    switch (n->size) {
    case 2:
        return *(const uint16_t *)f;
    case 4:
        return *(const uint32_t *)f;
    case 8:
        return (long long)*(const uint64_t *)f;
    default:
        return *(const int *)f;
    }
}

static void test_numbers(void)
{
    static const struct num_case nums[] = {
        {"max_inflight_messages", offsetof(struct sl_config, max_inflight_messages), 4, 0, 65535},
        {"max_queued_messages", offsetof(struct sl_config, max_queued_messages), 4, 0,
         4294967295LL},
        {"max_queued_bytes", offsetof(struct sl_config, max_queued_bytes), 8, 0,
         9223372036854775807LL},
        {"max_keepalive", offsetof(struct sl_config, max_keepalive), 2, 0, 65535},
        {"threads", offsetof(struct sl_config, threads), -4, 0, 1024},
        {"connect_timeout", offsetof(struct sl_config, connect_timeout), 4, 1, 3600},
        {"sys_interval", offsetof(struct sl_config, sys_interval), 4, 0, 86400},
    };
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        const struct num_case *n = &nums[i];
        long long ok[] = {n->min, n->max, (n->min + n->max) / 2};
        for (size_t k = 0; k < 3; k++) {
            char text[128];
            struct sl_config c;
            snprintf(text, sizeof(text), "%s %lld\n", n->name, ok[k]);
            CHECK_EQ_INT(load(&c, text), SL_OK);
            CHECK_EQ_INT(read_field(&c, n), ok[k]);
            sl_config_free(&c);
        }
        char bad_lo[32], bad_hi[32];
        snprintf(bad_lo, sizeof(bad_lo), "%lld", n->min - 1);
        if (n->max == 9223372036854775807LL)
            snprintf(bad_hi, sizeof(bad_hi), "9223372036854775808");
        else
            snprintf(bad_hi, sizeof(bad_hi), "%lld", n->max + 1);
        const char *bad[] = {bad_lo, bad_hi, "12x", "x", "+5",
                             "1.5",  "0x10", "--1", "-", "99999999999999999999999999"};
        for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
            char text[128], want[256];
            snprintf(text, sizeof(text), "%s %s\n", n->name, bad[k]);
            snprintf(want, sizeof(want), "t.conf:1: %s: '%s' is not a valid number (%lld..%lld)",
                     n->name, bad[k], n->min, n->max);
            CHECK(fails_with(text, want));
        }
        char text[128], want[256];
        snprintf(text, sizeof(text), "%s\n", n->name);
        snprintf(want, sizeof(want), "t.conf:1: %s: missing value (usage: %s N)", n->name, n->name);
        CHECK(fails_with(text, want));
    }
    /* The message of the brief, on line 3. */
    CHECK(fails_with("\n\nmax_inflight_messages -4\n",
                     "t.conf:3: max_inflight_messages: '-4' is not a valid number (0..65535)"));
    CHECK(loads("max_keepalive -0"));
}

static void test_max_packet_size(void)
{
    struct sl_config c;
    CHECK_EQ_INT(load(&c, "max_packet_size 0"), SL_OK);
    CHECK_EQ_INT(c.max_packet_size, 0);
    sl_config_free(&c);
    CHECK_EQ_INT(load(&c, "max_packet_size 20"), SL_OK);
    CHECK_EQ_INT(c.max_packet_size, 20);
    sl_config_free(&c);
    CHECK_EQ_INT(load(&c, "max_packet_size 268435460"), SL_OK);
    CHECK_EQ_INT(c.max_packet_size, 268435460);
    sl_config_free(&c);
    CHECK(fails_with("max_packet_size 19",
                     "t.conf:1: max_packet_size: '19' is not a valid number (0 or 20..268435460)"));
    CHECK(fails_with("max_packet_size 1",
                     "t.conf:1: max_packet_size: '1' is not a valid number (0 or 20..268435460)"));
    CHECK(fails_with("max_packet_size 268435461",
                     "t.conf:1: max_packet_size: '268435461' is not a valid number (0 or "
                     "20..268435460)"));
    CHECK(fails_with("max_packet_size -1",
                     "t.conf:1: max_packet_size: '-1' is not a valid number (0 or "
                     "20..268435460)"));
}

static void test_listener(void)
{
    struct sl_config c;
    CHECK_EQ_INT(load_finish(&c, "listener 1883\nlistener 0 127.0.0.1\nlistener 8883 ::1\n"),
                 SL_OK);
    CHECK_EQ_INT(c.nlisteners, 3);
    if (c.nlisteners == 3) {
        CHECK(c.listeners[0].bind_address == NULL);
        CHECK_EQ_INT(c.listeners[0].port, 1883);
        CHECK_EQ_INT(c.listeners[0].max_connections, -1);
        CHECK(strcmp(c.listeners[1].bind_address, "127.0.0.1") == 0);
        CHECK_EQ_INT(c.listeners[1].port, 0);
        CHECK(strcmp(c.listeners[2].bind_address, "::1") == 0);
        CHECK_EQ_INT(c.listeners[2].port, 8883);
    }
    sl_config_free(&c);

    CHECK(fails_with("listener 65536",
                     "t.conf:1: listener: '65536' is not a valid number (0..65535)"));
    CHECK(fails_with("listener -1", "t.conf:1: listener: '-1' is not a valid number (0..65535)"));
    CHECK(
        fails_with("listener mqtt", "t.conf:1: listener: 'mqtt' is not a valid number (0..65535)"));
    CHECK(fails_with("listener",
                     "t.conf:1: listener: missing value (usage: listener PORT [BIND_ADDRESS])"));
    CHECK(fails_with("listener 1883 0.0.0.0 extra",
                     "t.conf:1: listener: too many arguments (usage: listener PORT "
                     "[BIND_ADDRESS])"));
    CHECK(fails_with("listener 0 /run/starling.sock",
                     "t.conf:1: Unix socket listeners ('listener 0 PATH') are not supported yet"));

    /* The same port and address twice would fail at bind; say so early. */
    CHECK_EQ_INT(load(&c, "listener 1883\nlistener 1883\n"), SL_OK);
    CHECK_EQ_INT(sl_config_finish(&c, 0, false, err, sizeof(err)), SL_EINVAL);
    CHECK(strcmp(err, "listener 1883 (all addresses) is defined twice") == 0);
    sl_config_free(&c);
    CHECK_EQ_INT(load(&c, "listener 1883 127.0.0.1\nlistener 1884 127.0.0.1\nlistener 1883 "
                          "127.0.0.1\n"),
                 SL_OK);
    CHECK_EQ_INT(sl_config_finish(&c, 0, false, err, sizeof(err)), SL_EINVAL);
    CHECK(strcmp(err, "listener 1883 127.0.0.1 is defined twice") == 0);
    sl_config_free(&c);
    /* Port 0 twice is fine: the kernel picks two ports. */
    CHECK_EQ_INT(load_finish(&c, "listener 0 127.0.0.1\nlistener 0 127.0.0.1\n"), SL_OK);
    sl_config_free(&c);
}

static void test_port_and_bind_address(void)
{
    struct sl_config c;
    /* `port` alone: Mosquitto's default listener, on all addresses. */
    CHECK_EQ_INT(load_finish(&c, "port 1884\n"), SL_OK);
    CHECK_EQ_INT(c.nlisteners, 1);
    if (c.nlisteners == 1) {
        CHECK(c.listeners[0].bind_address == NULL);
        CHECK_EQ_INT(c.listeners[0].port, 1884);
    }
    sl_config_free(&c);

    /* `bind_address` alone: port 1883 on that address. */
    CHECK_EQ_INT(load_finish(&c, "bind_address 10.1.2.3\n"), SL_OK);
    CHECK_EQ_INT(c.nlisteners, 1);
    if (c.nlisteners == 1) {
        CHECK(strcmp(c.listeners[0].bind_address, "10.1.2.3") == 0);
        CHECK_EQ_INT(c.listeners[0].port, 1883);
    }
    sl_config_free(&c);

    /* With listeners too: the default listener comes first, whatever the order in
     * the file; port/bind_address after a listener still set the default one; the
     * last port wins. */
    CHECK_EQ_INT(load_finish(&c, "listener 8883\nport 1\nbind_address ::\nport 2\n"), SL_OK);
    CHECK_EQ_INT(c.nlisteners, 2);
    if (c.nlisteners == 2) {
        CHECK_EQ_INT(c.listeners[0].port, 2);
        CHECK(strcmp(c.listeners[0].bind_address, "::") == 0);
        CHECK_EQ_INT(c.listeners[1].port, 8883);
        CHECK(c.listeners[1].bind_address == NULL);
    }
    sl_config_free(&c);

    CHECK(fails_with("port 65536", "t.conf:1: port: '65536' is not a valid number (0..65535)"));
    CHECK(fails_with("port", "t.conf:1: port: missing value (usage: port PORT)"));
    CHECK(fails_with("bind_address", "t.conf:1: bind_address: missing value (usage: "
                                     "bind_address ADDRESS)"));
    CHECK(fails_with("bind_address a b", "t.conf:1: bind_address: too many arguments (usage: "
                                         "bind_address ADDRESS)"));
    /* Errors leave nothing leaked (ASan) even after a default listener was set. */
    CHECK(fails_with("bind_address 1.2.3.4\nbind_address 5.6.7.8\nbogus",
                     "t.conf:3: unknown directive 'bogus'"));
}

static void test_max_connections(void)
{
    struct sl_config c;
    /* After a listener: that listener. */
    CHECK_EQ_INT(load_finish(&c, "listener 1\nmax_connections 10\nlistener 2\nlistener 3\n"
                                 "max_connections 30\n"),
                 SL_OK);
    CHECK_EQ_INT(c.nlisteners, 3);
    if (c.nlisteners == 3) {
        CHECK_EQ_INT(c.listeners[0].max_connections, 10);
        CHECK_EQ_INT(c.listeners[1].max_connections, -1);
        CHECK_EQ_INT(c.listeners[2].max_connections, 30);
    }
    sl_config_free(&c);

    /* Before any listener, with none configured: the implicit loopback listener. */
    CHECK_EQ_INT(load_finish(&c, "max_connections 5\n"), SL_OK);
    CHECK_EQ_INT(c.nlisteners, 1);
    if (c.nlisteners == 1) {
        CHECK_EQ_INT(c.listeners[0].max_connections, 5);
        CHECK(strcmp(c.listeners[0].bind_address, "127.0.0.1") == 0);
    }
    sl_config_free(&c);

    /* Before any listener, with `port`: the default listener. */
    CHECK_EQ_INT(load_finish(&c, "max_connections 7\nport 1999\nlistener 2000\n"), SL_OK);
    CHECK_EQ_INT(c.nlisteners, 2);
    if (c.nlisteners == 2) {
        CHECK_EQ_INT(c.listeners[0].port, 1999);
        CHECK_EQ_INT(c.listeners[0].max_connections, 7);
        CHECK_EQ_INT(c.listeners[1].max_connections, -1);
    }
    sl_config_free(&c);

    /* Before any listener, with listeners but no default one: it would apply to
     * nothing, so it is an error rather than silence. */
    CHECK_EQ_INT(load(&c, "max_connections 7\nlistener 2000\n"), SL_OK);
    CHECK_EQ_INT(sl_config_finish(&c, 0, false, err, sizeof(err)), SL_EINVAL);
    const char *want = "max_connections before the first 'listener'";
    CHECK(strncmp(err, want, strlen(want)) == 0);
    sl_config_free(&c);

    CHECK_EQ_INT(load_finish(&c, "listener 1\nmax_connections -1\n"), SL_OK);
    CHECK_EQ_INT(c.listeners[0].max_connections, -1);
    sl_config_free(&c);
    CHECK(fails_with("listener 1\nmax_connections -2",
                     "t.conf:2: max_connections: '-2' is not a valid number (-1..2147483647)"));
    CHECK(fails_with("max_connections 2147483648",
                     "t.conf:1: max_connections: '2147483648' is not a valid number "
                     "(-1..2147483647)"));
}

static void test_protocol(void)
{
    CHECK(loads("protocol mqtt\nlistener 1\nprotocol mqtt\n"));
    CHECK(fails_with("listener 1\nprotocol websockets",
                     "t.conf:2: 'protocol websockets' is not supported yet"));
    CHECK(fails_with("protocol http",
                     "t.conf:1: protocol: 'http' is not a valid protocol (mqtt or websockets)"));
    CHECK(fails_with("protocol", "t.conf:1: protocol: missing value (usage: protocol mqtt)"));
}

static void test_auto_id_prefix(void)
{
    struct sl_config c;
    CHECK_EQ_INT(load(&c, "auto_id_prefix starling-\n"), SL_OK);
    CHECK(strcmp(c.auto_id_prefix, "starling-") == 0);
    sl_config_free(&c);
    /* The rest of the line, as in Mosquitto; last one wins. */
    CHECK_EQ_INT(load(&c, "auto_id_prefix a\nauto_id_prefix  my prefix \t\n"), SL_OK);
    CHECK(strcmp(c.auto_id_prefix, "my prefix") == 0);
    sl_config_free(&c);
    CHECK_EQ_INT(load(&c, "auto_id_prefix \xc3\xa9t\xc3\xa9-\n"), SL_OK);
    CHECK(strcmp(c.auto_id_prefix, "\xc3\xa9t\xc3\xa9-") == 0);
    sl_config_free(&c);

    CHECK(fails_with("auto_id_prefix", "t.conf:1: auto_id_prefix: missing value (usage: "
                                       "auto_id_prefix PREFIX)"));
    CHECK(fails_with("auto_id_prefix \xff", "t.conf:1: auto_id_prefix: must be UTF-8 text "
                                            "without control characters"));
    CHECK(fails_with("auto_id_prefix a\x01", "t.conf:1: auto_id_prefix: must be UTF-8 text "
                                             "without control characters"));
    CHECK(fails_with("auto_id_prefix \xed\xa0\x80", /* a UTF-16 surrogate */
                     "t.conf:1: auto_id_prefix: must be UTF-8 text without control "
                     "characters"));
    CHECK(fails_with("auto_id_prefix \xc0\xaf", /* overlong '/' */
                     "t.conf:1: auto_id_prefix: must be UTF-8 text without control "
                     "characters"));
    char text[400];
    memset(text, 'a', sizeof(text));
    memcpy(text, "auto_id_prefix ", 15);
    text[15 + 257] = '\0';
    CHECK(fails_with(text, "t.conf:1: auto_id_prefix: longer than 256 bytes"));
    text[15 + 256] = '\0';
    CHECK(loads(text));
}

static void test_log_dest(void)
{
    struct sl_config c;
    /* The first log_dest replaces the default (stderr)... */
    CHECK_EQ_INT(load(&c, "log_dest stdout\n"), SL_OK);
    CHECK_EQ_INT(c.log_dest, SL_LOG_DEST_STDOUT);
    sl_config_free(&c);
    /* ...later ones add. */
    CHECK_EQ_INT(load(&c, "log_dest stdout\nlog_dest syslog\nlog_dest stderr\n"), SL_OK);
    CHECK_EQ_INT(c.log_dest, SL_LOG_DEST_STDOUT | SL_LOG_DEST_SYSLOG | SL_LOG_DEST_STDERR);
    sl_config_free(&c);
    /* A file path is the rest of the line. */
    CHECK_EQ_INT(load(&c, "log_dest file /var/log/my logs/starling.log  \nlog_dest stderr\n"),
                 SL_OK);
    CHECK_EQ_INT(c.log_dest, SL_LOG_DEST_FILE | SL_LOG_DEST_STDERR);
    CHECK(c.log_file && strcmp(c.log_file, "/var/log/my logs/starling.log") == 0);
    sl_config_free(&c);
    /* none clears, including the file; later ones add again. */
    CHECK_EQ_INT(load(&c, "log_dest file /tmp/a.log\nlog_dest none\n"), SL_OK);
    CHECK_EQ_INT(c.log_dest, 0);
    CHECK(c.log_file == NULL);
    sl_config_free(&c);
    CHECK_EQ_INT(load(&c, "log_dest stdout\nlog_dest none\nlog_dest file /tmp/b.log\n"), SL_OK);
    CHECK_EQ_INT(c.log_dest, SL_LOG_DEST_FILE);
    CHECK(c.log_file && strcmp(c.log_file, "/tmp/b.log") == 0);
    sl_config_free(&c);

    CHECK(fails_with("log_dest", "t.conf:1: log_dest: missing value (usage: log_dest "
                                 "stderr|stdout|syslog|none|file PATH)"));
    CHECK(fails_with("log_dest file", "t.conf:1: log_dest file: missing path (usage: log_dest "
                                      "file PATH)"));
    CHECK(fails_with("log_dest file   \t", "t.conf:1: log_dest file: missing path (usage: "
                                           "log_dest file PATH)"));
    CHECK(fails_with("log_dest stderr stdout",
                     "t.conf:1: log_dest: too many arguments (usage: log_dest stderr)"));
    CHECK(fails_with("log_dest file /a\nlog_dest file /b",
                     "t.conf:2: log_dest file: a log file is already set ('/a'); only one is "
                     "supported"));
    CHECK(fails_with("log_dest topic", "t.conf:1: 'log_dest topic' is not supported yet"));
    CHECK(fails_with("log_dest dlt", "t.conf:1: 'log_dest dlt' is not supported yet"));
    CHECK(fails_with("log_dest console",
                     "t.conf:1: log_dest: 'console' is not a valid destination (stderr, "
                     "stdout, syslog, file PATH or none)"));
}

static void test_log_type(void)
{
    struct sl_config c;
    CHECK_EQ_INT(load(&c, "log_type error\n"), SL_OK);
    CHECK_EQ_INT(c.log_types, SL_LOG_ERR);
    sl_config_free(&c);
    CHECK_EQ_INT(load(&c, "log_type error\nlog_type warning\nlog_type debug\n"), SL_OK);
    CHECK_EQ_INT(c.log_types, SL_LOG_ERR | SL_LOG_WARNING | SL_LOG_DEBUG);
    sl_config_free(&c);
    CHECK_EQ_INT(load(&c, "log_type notice\nlog_type information\n"), SL_OK);
    CHECK_EQ_INT(c.log_types, SL_LOG_NOTICE | SL_LOG_INFO);
    sl_config_free(&c);
    CHECK_EQ_INT(load(&c, "log_type all\n"), SL_OK);
    CHECK_EQ_INT(c.log_types, SL_LOG_ALL);
    sl_config_free(&c);
    CHECK_EQ_INT(load(&c, "log_type all\nlog_type none\n"), SL_OK);
    CHECK_EQ_INT(c.log_types, 0);
    sl_config_free(&c);
    CHECK_EQ_INT(load(&c, "log_type none\nlog_type error\n"), SL_OK);
    CHECK_EQ_INT(c.log_types, SL_LOG_ERR);
    sl_config_free(&c);
    /* Mosquitto's finer kinds fold into a level. */
    CHECK_EQ_INT(load(&c, "log_type subscribe\nlog_type unsubscribe\n"), SL_OK);
    CHECK_EQ_INT(c.log_types, SL_LOG_INFO);
    sl_config_free(&c);
    CHECK_EQ_INT(load(&c, "log_type internal\n"), SL_OK);
    CHECK_EQ_INT(c.log_types, SL_LOG_DEBUG);
    sl_config_free(&c);

    CHECK(
        fails_with("log_type websockets", "t.conf:1: 'log_type websockets' is not supported yet"));
    CHECK(fails_with("log_type info",
                     "t.conf:1: log_type: 'info' is not a valid type (error, warning, notice, "
                     "information, debug, subscribe, unsubscribe, all or none)"));
    CHECK(fails_with("log_type", "t.conf:1: log_type: missing value (usage: log_type "
                                 "error|warning|notice|information|debug|all|none)"));
    CHECK(fails_with("log_type error warning",
                     "t.conf:1: log_type: too many arguments (usage: log_type "
                     "error|warning|notice|information|debug|all|none)"));
}

static void test_mqtt5_directives(void)
{
    struct sl_config c;
    sl_config_init(&c);
    CHECK_EQ_INT(c.max_qos, 2);
    CHECK_EQ_INT(c.max_topic_alias, 10);
    CHECK_EQ_INT(c.max_topic_alias_broker, 10);
    CHECK_EQ_INT(c.persistent_client_expiration, 0);
    CHECK_EQ_INT(c.shared_subscription_policy, 0);
    CHECK(c.response_information == NULL && c.server_reference == NULL && c.scram_file == NULL);
    sl_config_free(&c);
    CHECK_EQ_INT(load(&c, "max_qos 1\n"
                          "max_topic_alias 0\n"
                          "max_topic_alias_broker 256\n"
                          "persistent_client_expiration 2d\n"
                          "response_information reply/%c/x\n"
                          "server_reference other.example:1883\n"
                          "server_reference_permanent true\n"
                          "shared_subscription_policy topic_hash\n"
                          "scram_file /etc/starling/scram\n"),
                 0);
    CHECK_EQ_INT(c.max_qos, 1);
    CHECK_EQ_INT(c.max_topic_alias, 0);
    CHECK_EQ_INT(c.max_topic_alias_broker, 256);
    CHECK_EQ_INT(c.persistent_client_expiration, 2 * 86400);
    CHECK(strcmp(c.response_information, "reply/%c/x") == 0);
    CHECK(strcmp(c.server_reference, "other.example:1883") == 0);
    CHECK(c.server_reference_permanent);
    CHECK_EQ_INT(c.shared_subscription_policy, 2);
    CHECK(strcmp(c.scram_file, "/etc/starling/scram") == 0);
    sl_config_free(&c);

    const char *units[][2] = {
        {"1h", "3600"}, {"1w", "604800"}, {"1m", "2592000"}, {"1y", "31536000"}};
    for (size_t i = 0; i < 4; i++) {
        char text[64];
        snprintf(text, sizeof(text), "persistent_client_expiration %s\n", units[i][0]);
        CHECK_EQ_INT(load(&c, text), 0); /* load() initialises c */
        CHECK_EQ_INT(c.persistent_client_expiration, strtoull(units[i][1], NULL, 10));
        sl_config_free(&c);
    }
    CHECK(!loads("max_qos 3\n"));
    CHECK(!loads("max_topic_alias_broker 257\n"));
    CHECK(!loads("persistent_client_expiration 5x\n"));
    CHECK(!loads("persistent_client_expiration 0h\n"));
    CHECK(!loads("persistent_client_expiration 3600\n"));
    CHECK(!loads("persistent_client_expiration -1d\n"));
    CHECK(!loads("shared_subscription_policy sticky\n"));
    CHECK(!loads("response_information\n"));
}

static void test_obsolete(void)
{
    /* Mosquitto 2 warns about and ignores retry_interval; so do we. Silence the
     * warning for the test. */
    sl_log_open(0, NULL, 0, false);
    CHECK(loads("retry_interval 20\n"));
    sl_log_close();
}

static void test_finish_port_override(void)
{
    struct sl_config c;
    /* No listener: loopback on the -p port. */
    CHECK_EQ_INT(load(&c, ""), SL_OK);
    CHECK_EQ_INT(sl_config_finish(&c, 1999, false, err, sizeof(err)), SL_OK);
    CHECK_EQ_INT(c.nlisteners, 1);
    CHECK(strcmp(c.listeners[0].bind_address, "127.0.0.1") == 0);
    CHECK_EQ_INT(c.listeners[0].port, 1999);
    sl_config_free(&c);

    /* Listeners: -p sets the first one. */
    CHECK_EQ_INT(load(&c, "listener 8883 10.0.0.1\nlistener 8884\n"), SL_OK);
    CHECK_EQ_INT(sl_config_finish(&c, 1999, false, err, sizeof(err)), SL_OK);
    CHECK_EQ_INT(c.nlisteners, 2);
    CHECK_EQ_INT(c.listeners[0].port, 1999);
    CHECK(strcmp(c.listeners[0].bind_address, "10.0.0.1") == 0);
    CHECK_EQ_INT(c.listeners[1].port, 8884);
    sl_config_free(&c);

    /* A default listener: -p sets it, not the explicit one. */
    CHECK_EQ_INT(load(&c, "listener 8883\nport 1884\n"), SL_OK);
    CHECK_EQ_INT(sl_config_finish(&c, 1999, false, err, sizeof(err)), SL_OK);
    CHECK_EQ_INT(c.nlisteners, 2);
    CHECK_EQ_INT(c.listeners[0].port, 1999);
    CHECK_EQ_INT(c.listeners[1].port, 8883);
    sl_config_free(&c);

    /* 0 or negative: no override. */
    CHECK_EQ_INT(load(&c, "listener 8883\n"), SL_OK);
    CHECK_EQ_INT(sl_config_finish(&c, 0, false, err, sizeof(err)), SL_OK);
    CHECK_EQ_INT(c.listeners[0].port, 8883);
    sl_config_free(&c);

    CHECK_EQ_INT(load(&c, ""), SL_OK);
    CHECK_EQ_INT(sl_config_finish(&c, 65536, false, err, sizeof(err)), SL_EINVAL);
    CHECK(strcmp(err, "-p: '65536' is not a valid port (1..65535)") == 0);
    sl_config_free(&c);
}

static void test_finish_verbose_and_checks(void)
{
    struct sl_config c;
    CHECK_EQ_INT(load(&c, "log_type error\n"), SL_OK);
    CHECK_EQ_INT(sl_config_finish(&c, 0, true, err, sizeof(err)), SL_OK);
    CHECK_EQ_INT(c.log_types, SL_LOG_ALL);
    sl_config_free(&c);

    CHECK_EQ_INT(load(&c, "log_type error\n"), SL_OK);
    CHECK_EQ_INT(sl_config_finish(&c, 0, false, err, sizeof(err)), SL_OK);
    CHECK_EQ_INT(c.log_types, SL_LOG_ERR);
    sl_config_free(&c);

    /* A file destination set by a program without a path is caught. */
    sl_config_init(&c);
    c.log_dest = SL_LOG_DEST_FILE;
    CHECK_EQ_INT(sl_config_finish(&c, 0, false, err, sizeof(err)), SL_EINVAL);
    CHECK(strcmp(err, "log_dest file needs a path") == 0);
    sl_config_free(&c);

    /* err may be NULL or tiny. */
    sl_config_init(&c);
    CHECK_EQ_INT(sl_config_load_string(&c, "t.conf", "bogus\n", NULL, 0), SL_EINVAL);
    char small[8];
    CHECK_EQ_INT(sl_config_load_string(&c, "t.conf", "bogus\n", small, sizeof(small)), SL_EINVAL);
    CHECK(strcmp(small, "t.conf:") == 0);
    sl_config_free(&c);
}

static void test_load_file(void)
{
    struct sl_config c;
    char *path = path_in(tmpdir, "main.conf");
    const char text[] = "# shipped-like\r\nlistener 0 127.0.0.1\r\nallow_anonymous false\r\n";
    write_file(path, text, sizeof(text) - 1);
    sl_config_init(&c);
    CHECK_EQ_INT(sl_config_load_file(&c, path, err, sizeof(err)), SL_OK);
    CHECK_EQ_INT(c.nlisteners, 1);
    CHECK(!c.allow_anonymous);
    sl_config_free(&c);

    /* Messages carry the path as given. */
    const char bad[] = "listener 1\n\nthreads 2000\n";
    write_file(path, bad, sizeof(bad) - 1);
    sl_config_init(&c);
    CHECK_EQ_INT(sl_config_load_file(&c, path, err, sizeof(err)), SL_EINVAL);
    char want[600];
    snprintf(want, sizeof(want), "%s:3: threads: '2000' is not a valid number (0..1024)", path);
    CHECK(strcmp(err, want) == 0);
    sl_config_free(&c);

    /* A NUL byte is refused, not read as the end of the line. */
    const char nul[] = "listener 1\nallow_anonymous true\0junk\n";
    write_file(path, nul, sizeof(nul) - 1);
    sl_config_init(&c);
    CHECK_EQ_INT(sl_config_load_file(&c, path, err, sizeof(err)), SL_EINVAL);
    snprintf(want, sizeof(want), "%s:2: line contains a NUL byte", path);
    CHECK(strcmp(err, want) == 0);
    sl_config_free(&c);

    /* Missing file, directory. */
    char *missing = path_in(tmpdir, "missing.conf");
    sl_config_init(&c);
    CHECK_EQ_INT(sl_config_load_file(&c, missing, err, sizeof(err)), SL_EIO);
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", missing);
    CHECK(strcmp(err, want) == 0);
    CHECK_EQ_INT(sl_config_load_file(&c, tmpdir, err, sizeof(err)), SL_EINVAL);
    snprintf(want, sizeof(want), "%s: is a directory, not a config file", tmpdir);
    CHECK(strcmp(err, want) == 0);
    sl_config_free(&c);
    unlink(path);
}

static void test_include_dir(void)
{
    char dir[600], sub[700];
    snprintf(dir, sizeof(dir), "%s/conf.d", tmpdir);
    CHECK_EQ_INT(mkdir(dir, 0700), 0);
    /* strcmp order: "Z" < "a" < "b"; .txt and a bare ".conf" are not read. */
    write_text(path_in(dir, "b.conf"), "listener 3\nlog_dest syslog\n");
    write_text(path_in(dir, "a.conf"), "listener 2\nmax_connections 20\n");
    write_text(path_in(dir, "Z.conf"), "listener 1\n");
    write_text(path_in(dir, "c.txt"), "bogus\n");
    write_text(path_in(dir, ".conf"), "bogus\n");

    struct sl_config c;
    char text[800];
    snprintf(text, sizeof(text), "log_dest stdout\ninclude_dir %s\nlistener 4\n", dir);
    CHECK_EQ_INT(load_finish(&c, text), SL_OK);
    CHECK_EQ_INT(c.nlisteners, 4);
    if (c.nlisteners == 4) {
        CHECK_EQ_INT(c.listeners[0].port, 1);
        CHECK_EQ_INT(c.listeners[1].port, 2);
        CHECK_EQ_INT(c.listeners[1].max_connections, 20);
        CHECK_EQ_INT(c.listeners[2].port, 3);
        CHECK_EQ_INT(c.listeners[3].port, 4);
    }
    /* The first log_dest is in the main file; the included one adds to it. */
    CHECK_EQ_INT(c.log_dest, SL_LOG_DEST_STDOUT | SL_LOG_DEST_SYSLOG);
    sl_config_free(&c);

    /* A trailing slash is fine. */
    snprintf(text, sizeof(text), "include_dir %s/\n", dir);
    CHECK(loads(text));

    /* An error inside an included file names that file and line. */
    write_text(path_in(dir, "b.conf"), "listener 3\nbogus 1\n");
    snprintf(text, sizeof(text), "include_dir %s\n", dir);
    char want[900];
    snprintf(want, sizeof(want), "%s/b.conf:2: unknown directive 'bogus'", dir);
    CHECK(fails_with(text, want));

    /* max_connections before a listener in an included file sets the default
     * listener (the listener context is per file, as in Mosquitto). */
    write_text(path_in(dir, "b.conf"), "max_connections 9\n");
    snprintf(text, sizeof(text), "listener 5\ninclude_dir %s\n", dir);
    CHECK_EQ_INT(load(&c, text), SL_OK);
    CHECK_EQ_INT(sl_config_finish(&c, 0, false, err, sizeof(err)), SL_EINVAL);
    sl_config_free(&c);

    /* include_dir only from the main file. */
    write_text(path_in(dir, "b.conf"), "include_dir /tmp\n");
    snprintf(want, sizeof(want),
             "%s/b.conf:1: include_dir is only allowed in the main config "
             "file",
             dir);
    CHECK(fails_with(text, want));
    unlink(path_in(dir, "b.conf"));

    /* A directory named *.conf is not a config file. */
    snprintf(sub, sizeof(sub), "%s/d.conf", dir);
    CHECK_EQ_INT(mkdir(sub, 0700), 0);
    snprintf(text, sizeof(text), "include_dir %s\n", dir);
    snprintf(want, sizeof(want), "%s: is a directory, not a config file", sub);
    CHECK(fails_with(text, want));
    rmdir(sub);

    /* A directory that cannot be opened. */
    snprintf(text, sizeof(text), "\ninclude_dir %s/nope\n", dir);
    snprintf(want, sizeof(want),
             "t.conf:2: include_dir: cannot open directory '%s/nope': No "
             "such file or directory",
             dir);
    CHECK(fails_with(text, want));
    CHECK(fails_with("include_dir", "t.conf:1: include_dir: missing value (usage: include_dir "
                                    "DIR)"));

    /* An empty directory is fine. */
    char empty[700];
    snprintf(empty, sizeof(empty), "%s/empty", tmpdir);
    CHECK_EQ_INT(mkdir(empty, 0700), 0);
    snprintf(text, sizeof(text), "include_dir %s\n", empty);
    CHECK(loads(text));
    rmdir(empty);

    unlink(path_in(dir, "a.conf"));
    unlink(path_in(dir, "Z.conf"));
    unlink(path_in(dir, "c.txt"));
    unlink(path_in(dir, ".conf"));
    CHECK_EQ_INT(rmdir(dir), 0);
}

/* The shipped starling.conf must load and give the documented listener. The repo
 * root is found from this file's path, which works with CMake (absolute) and with
 * a compile from the root (relative). */
static void test_shipped_config(void)
{
    char path[1024];
    const char *self = __FILE__;
    const char *tail = strstr(self, "tests/unit/test_config.c");
    CHECK(tail != NULL);
    if (tail == NULL) return;
    snprintf(path, sizeof(path), "%.*sstarling.conf", (int)(tail - self), self);
    struct sl_config c;
    sl_config_init(&c);
    int rc = sl_config_load_file(&c, path, err, sizeof(err));
    if (rc != SL_OK) fprintf(stderr, "  %s\n", err);
    CHECK_EQ_INT(rc, SL_OK);
    CHECK_EQ_INT(sl_config_finish(&c, 0, false, err, sizeof(err)), SL_OK);
    CHECK_EQ_INT(c.nlisteners, 1);
    if (c.nlisteners == 1) {
        CHECK_EQ_INT(c.listeners[0].port, 1883);
        CHECK(c.listeners[0].bind_address && strcmp(c.listeners[0].bind_address, "127.0.0.1") == 0);
    }
    CHECK(c.allow_anonymous);
    CHECK_EQ_INT(c.log_dest, SL_LOG_DEST_STDERR);
    sl_config_free(&c);

    /* Every commented-out example ("#name value") must parse too once uncommented,
     * so the file cannot drift from the parser. include_dir names a directory that
     * need not exist here. */
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    if (f == NULL) return;
    char text[16384], line[512];
    size_t len = 0;
    int examples = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        const char *l = line;
        if (line[0] == '#' && line[1] >= 'a' && line[1] <= 'z') {
            if (strncmp(line, "#include_dir", 12) == 0) continue;
            l = line + 1;
            examples++;
        }
        size_t n = strlen(l);
        if (len + n < sizeof(text)) {
            memcpy(text + len, l, n);
            len += n;
        }
    }
    fclose(f);
    text[len] = '\0';
    CHECK(examples >= 20);
    CHECK(loads(text));
}

int main(void)
{
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_defaults);
    RUN(test_empty_file_finish_defaults);
    RUN(test_comments_blank_lines_whitespace);
    RUN(test_unknown_and_unsupported);
    RUN(test_booleans);
    RUN(test_numbers);
    RUN(test_max_packet_size);
    RUN(test_listener);
    RUN(test_port_and_bind_address);
    RUN(test_max_connections);
    RUN(test_protocol);
    RUN(test_auto_id_prefix);
    RUN(test_log_dest);
    RUN(test_log_type);
    RUN(test_obsolete);
    RUN(test_mqtt5_directives);
    RUN(test_finish_port_override);
    RUN(test_finish_verbose_and_checks);
    RUN(test_load_file);
    RUN(test_include_dir);
    RUN(test_shipped_config);
    if (rmdir(tmpdir) != 0) fprintf(stderr, "rmdir %s: %s\n", tmpdir, strerror(errno));
    return check_summary();
}

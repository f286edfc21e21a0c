/*
 * main.c - starling-bench: arguments, the scenario run, and the report (text or
 * one JSON object). Exit status: 0 the run passed, 1 it failed (loss at QoS >= 1,
 * duplicates at QoS 2, connection or protocol errors), 2 bad arguments.
 *
 * Safety rule of the project: the bench talks to loopback addresses only
 * (127.0.0.0/8); anything else is refused before a socket is opened.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"
#include "core/fdtable.h"
#include "proto/frame.h"

volatile sig_atomic_t bench_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    if (bench_interrupted) /* a second interrupt: stop now */
        _exit(130);
    bench_interrupted = 1;
}

static const char usage_text[] =
    "usage: starling-bench pubsub [options]    publishers -> broker -> subscribers\n"
    "       starling-bench conn [options]      connection storm\n"
    "       starling-bench --help\n"
    "\n"
    "Load generator for MQTT brokers (Starling, Mosquitto, ...). Talks to loopback\n"
    "addresses only. Exit status: 0 passed, 1 failed (messages lost at QoS >= 1,\n"
    "duplicates at QoS 2, connection or protocol errors), 2 bad arguments.\n"
    "\n"
    "Common options:\n"
    "  -h, --host HOST          broker address, 127.0.0.0/8 or 'localhost' only\n"
    "                           (default 127.0.0.1)\n"
    "  -p, --port PORT          broker port (default 1883)\n"
    "  -V, --mqtt-version 4|5   MQTT 3.1.1 or 5.0 (default 4); 5.0 sends empty\n"
    "                           property blocks and obeys the CONNACK's Receive\n"
    "                           Maximum, Maximum QoS and Maximum Packet Size\n"
    "      --threads N          epoll threads, connections dealt round-robin (default 2)\n"
    "      --pid PID            broker process: its CPU time (from /proc/PID/stat)\n"
    "                           over the measured interval, CPU us per delivered\n"
    "                           message, VmRSS, thread count and allowed CPUs\n"
    "                           (/proc/PID/status) are reported\n"
    "      --json               print one JSON object instead of the text report\n"
    "      --source-addrs N     bind sockets round-robin to 127.0.0.1 .. 127.0.0.N,\n"
    "                           for more connections than one address has ports\n"
    "  -k, --keepalive S        MQTT keepalive in seconds, PINGREQ at half (default 60)\n"
    "      --connect-timeout S  per connection, TCP connect to CONNACK/SUBACK (default 30)\n"
    "      --max-pending N      handshakes in progress per thread (default 128)\n"
    "      --help               this text\n"
    "\n"
    "pubsub: P publishers, each on its own topic pattern, S subscribers, each with\n"
    "one filter. Every message carries (sequence, publisher, send time), so each\n"
    "subscriber counts what it got from each publisher whose topic its filter\n"
    "matches: loss, duplicates, reordering, end-to-end latency.\n"
    "  -P, --publishers N       (default 1)\n"
    "  -S, --subscribers N      (default 1; 0 measures publishing alone)\n"
    "  -q, --qos 0|1|2          QoS of PUBLISH and SUBSCRIBE (default 0); full flows\n"
    "                           (PUBACK; PUBREC/PUBREL/PUBCOMP) on both sides\n"
    "  -s, --size BYTES         payload size, at least 20 (the bench header: u64\n"
    "                           sequence, u32 publisher, u64 send time) (default 64)\n"
    "  -r, --rate R             msg/s per publisher, 0 = as fast as the broker takes\n"
    "                           them (default 0)\n"
    "  -d, --duration S         measured interval (default 5)\n"
    "  -n, --count N            instead of -d: N messages per publisher; the interval\n"
    "                           runs from the first send to the last delivery\n"
    "      --warmup S           publishing before the measured interval, not counted\n"
    "                           in rates and latency (default 1; not with -n)\n"
    "      --drain S            after publishing stops, wait up to S for what is in\n"
    "                           flight before counting it lost (default 5)\n"
    "  -t, --topic PATTERN      publisher topic, %i = publisher index, %% = %\n"
    "                           (default bench/%i)\n"
    "  -T, --filter PATTERN     subscriber filter, %i = subscriber index\n"
    "                           (default bench/#); subscribers whose filter is the\n"
    "                           same '$share/GROUP/FILTER' are one shared group\n"
    "  -w, --window N           QoS 1/2 messages in flight per publisher (default 20,\n"
    "                           as Mosquitto's max_inflight_messages)\n"
    "      --sndbuf BYTES       publisher socket send buffer (SO_SNDBUF; default\n"
    "                           262144, 0 = kernel autotuning, which on loopback\n"
    "                           queues up to 4 MB in the bench's own kernel socket)\n"
    "\n"
    "  Shapes:  pairs   -P 100 -S 100 -t 'b/%i' -T 'b/%i'\n"
    "           fan-in  -P 50 -S 1          fan-out  -P 1 -S 50\n"
    "           shared  -P 1 -S 4 -T '$share/g/bench/#'   (one group of 4)\n"
    "\n"
    "  Counting: published = PUBLISH packets sent; expected = published x matching\n"
    "  subscribers, a shared group counting as one; lost = expected - distinct\n"
    "  deliveries (QoS 0: 'dropped'); duplicates = a (subscriber or group,\n"
    "  publisher, sequence) seen again; reordered = a sequence below the highest the\n"
    "  subscriber already saw from that publisher. Rates use the\n"
    "  measured interval (send time for published, receive time for delivered);\n"
    "  latency covers messages sent in it. Latency is receive time minus send time\n"
    "  of the message; at unlimited rate it includes queueing in the broker.\n"
    "  With -r the JSON also gives the offered rates (-r x publishers published,\n"
    "  -r x matching pairs delivered) to compare the delivered rate with.\n"
    "\n"
    "conn: open connections, hold them, close them.\n"
    "  -c, --connections N      (default 1000)\n"
    "  -r, --rate R             connections opened per second, 0 = as fast as\n"
    "                           --max-pending allows (default 0)\n"
    "  -d, --duration S         hold time once all are connected (default 5)\n"
    "  Reports connects/s (connections through CONNACK / time from the first\n"
    "  socket() to the last CONNACK), failures, connect latency (socket() to\n"
    "  CONNACK), and with --pid the broker's RSS before, when all are connected and\n"
    "  at the end of the hold, bytes per connection ((end of hold - before) /\n"
    "  connections), and broker CPU per connection while connecting.\n";

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("starling-bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n(see starling-bench --help)\n", stderr);
    exit(2);
}

static uint64_t parse_u64(const char *s, const char *opt, uint64_t min, uint64_t max)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+')
        usage_error("%s: expected a number from %llu to %llu, got '%s'", opt,
                    (unsigned long long)min, (unsigned long long)max, s ? s : "");
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        usage_error("%s: expected a number from %llu to %llu, got '%s'", opt,
                    (unsigned long long)min, (unsigned long long)max, s);
    return v;
}

static double parse_double(const char *s, const char *opt, double min, double max)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || errno || *end || !isfinite(v) || v < min || v > max)
        usage_error("%s: expected a number from %g to %g, got '%s'", opt, min, max, s);
    return v;
}

static void parse_host(struct bench_opts *o, const char *h)
{
    struct in_addr a;
    if (strlen(h) >= sizeof(o->host)) usage_error("-h: '%s' is too long", h);
    if (strcmp(h, "localhost") == 0) {
        a.s_addr = htonl(0x7f000001u);
    } else if (inet_pton(AF_INET, h, &a) != 1) {
        usage_error("-h: '%s' is not an IPv4 address; only loopback addresses (127.0.0.0/8 "
                    "or 'localhost') are allowed",
                    h);
    }
    if ((ntohl(a.s_addr) >> 24) != 127)
        usage_error("-h: %s is not a loopback address; starling-bench only talks to "
                    "127.0.0.0/8",
                    h);
    snprintf(o->host, sizeof(o->host), "%s", h);
    o->host_addr = a.s_addr;
}

enum {
    OPT_THREADS = 256,
    OPT_PID,
    OPT_JSON,
    OPT_WARMUP,
    OPT_SOURCE_ADDRS,
    OPT_DRAIN,
    OPT_CONNECT_TIMEOUT,
    OPT_MAX_PENDING,
    OPT_SNDBUF,
    OPT_HELP
};

/* Which scenario an option belongs to: 'a' all, 'p' pubsub, 'c' conn. */
static char opt_scope(int c)
{
    switch (c) {
    case 'P':
    case 'S':
    case 'q':
    case 's':
    case 'n':
    case 't':
    case 'T':
    case 'w':
    case OPT_WARMUP:
    case OPT_DRAIN:
    case OPT_SNDBUF:
        return 'p';
    case 'c':
        return 'c';
    default:
        return 'a';
    }
}

static const char *opt_name(int c, const struct option *longopts)
{
    static char buf[40];
    for (const struct option *lo = longopts; lo->name; lo++)
        if (lo->val == c) {
            if (c < 256)
                snprintf(buf, sizeof(buf), "-%c/--%s", c, lo->name);
            else
                snprintf(buf, sizeof(buf), "--%s", lo->name);
            return buf;
        }
    return "?";
}

static void parse_args(int argc, char **argv, struct bench_opts *o)
{
    static const struct option longopts[] = {
        {"host", required_argument, NULL, 'h'},
        {"port", required_argument, NULL, 'p'},
        {"mqtt-version", required_argument, NULL, 'V'},
        {"publishers", required_argument, NULL, 'P'},
        {"subscribers", required_argument, NULL, 'S'},
        {"qos", required_argument, NULL, 'q'},
        {"size", required_argument, NULL, 's'},
        {"rate", required_argument, NULL, 'r'},
        {"duration", required_argument, NULL, 'd'},
        {"count", required_argument, NULL, 'n'},
        {"topic", required_argument, NULL, 't'},
        {"filter", required_argument, NULL, 'T'},
        {"window", required_argument, NULL, 'w'},
        {"connections", required_argument, NULL, 'c'},
        {"keepalive", required_argument, NULL, 'k'},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"pid", required_argument, NULL, OPT_PID},
        {"json", no_argument, NULL, OPT_JSON},
        {"warmup", required_argument, NULL, OPT_WARMUP},
        {"source-addrs", required_argument, NULL, OPT_SOURCE_ADDRS},
        {"drain", required_argument, NULL, OPT_DRAIN},
        {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
        {"max-pending", required_argument, NULL, OPT_MAX_PENDING},
        {"sndbuf", required_argument, NULL, OPT_SNDBUF},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    const char *scen = argv[1];
    if (strcmp(scen, "pubsub") == 0)
        o->scenario = BENCH_PUBSUB;
    else if (strcmp(scen, "conn") == 0)
        o->scenario = BENCH_CONN;
    else
        usage_error("unknown scenario '%s': expected 'pubsub' or 'conn'", scen);

    bool seen_d = false, seen_warmup = false;
    optind = 2;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h:p:V:P:S:q:s:r:d:n:t:T:w:c:k:", longopts, NULL)) != -1) {
        if (c == '?') usage_error("unknown option '%s'", argv[optind - 1]);
        if (c == ':') usage_error("option '%s' needs a value", argv[optind - 1]);
        char scope = opt_scope(c);
        if ((scope == 'p' && o->scenario != BENCH_PUBSUB) ||
            (scope == 'c' && o->scenario != BENCH_CONN))
            usage_error("option %s does not apply to '%s'", opt_name(c, longopts), scen);
        switch (c) {
        case 'h':
            parse_host(o, optarg);
            break;
        case 'p':
            o->port = (uint16_t)parse_u64(optarg, "-p", 1, 65535);
            break;
        case 'V':
            o->version = (uint8_t)parse_u64(optarg, "-V", 4, 5);
            break;
        case 'P':
            o->publishers = (uint32_t)parse_u64(optarg, "-P", 1, 1000000);
            break;
        case 'S':
            o->subscribers = (uint32_t)parse_u64(optarg, "-S", 0, 1000000);
            break;
        case 'q':
            o->qos = (uint8_t)parse_u64(optarg, "-q", 0, 2);
            break;
        case 's':
            o->payload = (uint32_t)parse_u64(optarg, "-s", BENCH_HDR_SIZE, 268435455u - 65536u);
            break;
        case 'r':
            o->rate = parse_double(optarg, "-r", 0, 1e9);
            break;
        case 'd':
            o->duration = parse_double(optarg, "-d", 0.001, 1e7);
            seen_d = true;
            break;
        case 'n':
            o->count = parse_u64(optarg, "-n", 1, UINT64_MAX / 2);
            break;
        case 't':
            o->topic_pattern = optarg;
            break;
        case 'T':
            o->filter_pattern = optarg;
            break;
        case 'w':
            o->window = (uint32_t)parse_u64(optarg, "-w", 1, 65535);
            break;
        case 'c':
            o->conns = (uint32_t)parse_u64(optarg, "-c", 1, 10000000);
            break;
        case 'k':
            o->keepalive = (uint16_t)parse_u64(optarg, "-k", 0, 65535);
            break;
        case OPT_THREADS:
            o->threads = (uint32_t)parse_u64(optarg, "--threads", 1, 256);
            break;
        case OPT_PID:
            o->broker_pid = (int)parse_u64(optarg, "--pid", 1, 4194304);
            break;
        case OPT_JSON:
            o->json = true;
            break;
        case OPT_WARMUP:
            o->warmup = parse_double(optarg, "--warmup", 0, 1e6);
            seen_warmup = true;
            break;
        case OPT_SOURCE_ADDRS:
            o->source_addrs = (uint32_t)parse_u64(optarg, "--source-addrs", 1, 254);
            break;
        case OPT_DRAIN:
            o->drain = parse_double(optarg, "--drain", 0, 1e6);
            break;
        case OPT_CONNECT_TIMEOUT:
            o->connect_timeout = parse_double(optarg, "--connect-timeout", 0.1, 1e6);
            break;
        case OPT_MAX_PENDING:
            o->max_pending = (uint32_t)parse_u64(optarg, "--max-pending", 1, 1000000);
            break;
        case OPT_SNDBUF:
            o->sndbuf = (uint32_t)parse_u64(optarg, "--sndbuf", 0, 1u << 30);
            break;
        case OPT_HELP:
            fputs(usage_text, stdout);
            exit(0);
        }
    }
    if (optind < argc) usage_error("unexpected argument '%s'", argv[optind]);
    if (o->count && seen_d) usage_error("-d and -n exclude each other");
    if (o->count && seen_warmup)
        usage_error("--warmup does not apply with -n (every message is measured)");
    if (o->count) o->warmup = 0;
    if (o->broker_pid && !proc_exists(o->broker_pid))
        usage_error("--pid %d: no such process (or /proc/%d/stat unreadable)", o->broker_pid,
                    o->broker_pid);
}

/* Enough descriptors for every connection, raising the soft limit if needed,
 * and a descriptor table that holds them all from the start: grown later, by
 * one of the epoll threads, each doubling would stall that thread and its
 * handshakes for an RCU grace period (core/fdtable.h), which showed as 10 to
 * 16 ms connect latency tails against any broker. Called before any thread. */
static void check_fd_limit(uint64_t conns)
{
    struct rlimit rl;
    uint64_t need = conns + 64;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        fprintf(stderr,
                "starling-bench: %llu connections need %llu file descriptors; the limit "
                "is %llu (ulimit -n)\n",
                (unsigned long long)conns, (unsigned long long)need,
                (unsigned long long)rl.rlim_cur);
        exit(2);
    }
    (void)sl_fdtable_reserve(need > UINT_MAX ? UINT_MAX : (unsigned)need);
}

/* ---- report helpers ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void fmt_ns(char *buf, size_t len, uint64_t ns)
{
    if (ns < 1000000)
        snprintf(buf, len, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, len, "%.2f ms", (double)ns / 1e6);
    else
        snprintf(buf, len, "%.2f s", (double)ns / 1e9);
}

static void json_latency(FILE *f, const char *key, const struct stats_hist *h)
{
    fprintf(f,
            "\"%s\":{\"samples\":%llu,\"min\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
            "\"p999\":%.1f,\"max\":%.1f,\"mean\":%.1f}",
            key, (unsigned long long)h->n, h->n ? (double)h->min / 1e3 : 0.0,
            (double)stats_hist_percentile(h, 50) / 1e3, (double)stats_hist_percentile(h, 90) / 1e3,
            (double)stats_hist_percentile(h, 99) / 1e3,
            (double)stats_hist_percentile(h, 99.9) / 1e3, (double)h->max / 1e3,
            stats_hist_mean(h) / 1e3);
}

static void text_latency(FILE *f, const char *label, const struct stats_hist *h)
{
    char a[32], b[32], c[32], d[32], e[32];
    if (!h->n) {
        fprintf(f, "  %-13s no samples\n", label);
        return;
    }
    fmt_ns(a, sizeof(a), stats_hist_percentile(h, 50));
    fmt_ns(b, sizeof(b), stats_hist_percentile(h, 90));
    fmt_ns(c, sizeof(c), stats_hist_percentile(h, 99));
    fmt_ns(d, sizeof(d), stats_hist_percentile(h, 99.9));
    fmt_ns(e, sizeof(e), h->max);
    fprintf(f, "  %-13s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%llu samples)\n", label, a, b, c,
            d, e, (unsigned long long)h->n);
}

static const char *version_name(uint8_t v)
{
    return v == SL_MQTT_5 ? "5.0" : "3.1.1";
}

static void json_num_or_null(FILE *f, bool have, double v, int decimals)
{
    if (have)
        fprintf(f, "%.*f", decimals, v);
    else
        fputs("null", f);
}

/* How the broker and the bench ran: thread count and allowed CPUs (a taskset
 * pinning shows here), from the last good sample. */
static void json_proc_info(FILE *f, const struct proc_sample *b)
{
    char self[64];
    proc_self_cpus(self, sizeof(self));
    fprintf(f, ",\"broker_threads\":");
    json_num_or_null(f, b->ok && b->threads > 0, b->threads, 0);
    fprintf(f, ",\"broker_cpus_allowed\":");
    if (b->ok && b->cpus[0])
        json_str(f, b->cpus);
    else
        fputs("null", f);
    fprintf(f, ",\"bench_cpus_allowed\":");
    if (self[0])
        json_str(f, self);
    else
        fputs("null", f);
}

static void text_proc_info(FILE *f, const struct proc_sample *b)
{
    char self[64];
    proc_self_cpus(self, sizeof(self));
    if (b->ok)
        fprintf(f, "  %-13s broker %d thread%s on CPUs %s; bench on CPUs %s\n", "placement",
                b->threads, b->threads == 1 ? "" : "s", b->cpus[0] ? b->cpus : "?",
                self[0] ? self : "?");
}

/* ---- pubsub ---- */

/* Pass/fail and why; returns true when the run passed. */
static bool pubsub_verdict(const struct bench_opts *o, const struct pubsub_result *r, char *why,
                           size_t len)
{
    why[0] = '\0';
    size_t n = 0;
#define WHY(...) (n += (size_t)snprintf(why + n, n < len ? len - n : 0, __VA_ARGS__))
    if (o->qos >= 1 && r->lost) WHY("%s%llu lost", n ? ", " : "", (unsigned long long)r->lost);
    if (o->qos == 2 && r->c.duplicates)
        WHY("%s%llu duplicates at QoS 2", n ? ", " : "", (unsigned long long)r->c.duplicates);
    if (r->c.failed || r->c.closed)
        WHY("%sconnections: %llu failed, %llu lost", n ? ", " : "", (unsigned long long)r->c.failed,
            (unsigned long long)r->c.closed);
    if (r->c.proto_errors)
        WHY("%s%llu protocol errors", n ? ", " : "", (unsigned long long)r->c.proto_errors);
    if (r->stalled) WHY("%sno progress for %.0f s", n ? ", " : "", o->drain);
    if (o->qos >= 1 && r->c.rejected)
        WHY("%s%llu rejected by the broker", n ? ", " : "", (unsigned long long)r->c.rejected);
#undef WHY
    if (n >= len && len > 0) why[len - 1] = '\0';
    return n == 0;
}

static void pubsub_report_json(const struct bench_opts *o, const struct pubsub_result *r, bool ok,
                               const char *why)
{
    FILE *f = stdout;
    bool cpu = r->b0.ok && r->b1.ok;
    double cpu_s = cpu ? r->b1.cpu_s - r->b0.cpu_s : 0;
    fprintf(f, "{\"scenario\":\"pubsub\",\"host\":");
    json_str(f, o->host);
    fprintf(f,
            ",\"port\":%u,\"mqtt_version\":%u,\"qos\":%u,\"publishers\":%u,"
            "\"subscribers\":%u,\"pairs\":%u,\"payload_bytes\":%u,\"rate_per_publisher\":%g,"
            "\"window\":%u,\"threads\":%u,",
            o->port, o->version, o->qos, o->publishers, o->subscribers, r->matched_pairs,
            o->payload, o->rate, o->window, o->threads);
    fprintf(f, "\"topic\":");
    json_str(f, o->topic_pattern);
    fprintf(f, ",\"filter\":");
    json_str(f, o->filter_pattern);
    if (o->count)
        fprintf(f, ",\"mode\":\"count\",\"count\":%llu,\"duration_s\":null",
                (unsigned long long)o->count);
    else
        fprintf(f, ",\"mode\":\"duration\",\"count\":null,\"duration_s\":%g", o->duration);
    fprintf(f,
            ",\"warmup_s\":%g,\"drain_s\":%g,\"measured_s\":%.6f,\"publish_s\":%.6f,"
            "\"deliver_s\":%.6f,",
            o->warmup, o->drain, r->measured_s, r->publish_s, r->deliver_s);
    /* What the schedule asks for (-r): per publisher times publishers, and times
     * the matching subscribers for deliveries; null at unlimited rate. */
    fprintf(f, "\"offered_publish_rate\":");
    json_num_or_null(f, o->rate > 0, o->rate * o->publishers, 1);
    fprintf(f, ",\"offered_delivery_rate\":");
    json_num_or_null(f, o->rate > 0, o->rate * r->matched_pairs, 1);
    fprintf(f, ",");
    fprintf(f,
            "\"published\":%llu,\"published_measured\":%llu,\"publish_rate\":%.1f,"
            "\"delivered\":%llu,\"delivered_measured\":%llu,\"delivery_rate\":%.1f,"
            "\"expected\":%llu,\"unique\":%llu,",
            (unsigned long long)r->c.published, (unsigned long long)r->c.published_win,
            r->publish_rate, (unsigned long long)r->c.received,
            (unsigned long long)r->c.received_win, r->delivery_rate,
            (unsigned long long)r->c.expected, (unsigned long long)r->c.unique);
    if (o->qos >= 1)
        fprintf(f, "\"lost\":%llu,\"dropped\":null,", (unsigned long long)r->lost);
    else
        fprintf(f, "\"lost\":null,\"dropped\":%llu,", (unsigned long long)r->lost);
    fprintf(f,
            "\"duplicates\":%llu,\"reordered\":%llu,\"foreign\":%llu,\"qos2_resent\":%llu,"
            "\"acked\":%llu,\"rejected\":%llu,\"abandoned\":%llu,\"protocol_errors\":%llu,"
            "\"connections_failed\":%llu,\"connections_lost\":%llu,\"qos_downgraded\":%llu,",
            (unsigned long long)r->c.duplicates, (unsigned long long)r->c.reordered,
            (unsigned long long)r->c.foreign, (unsigned long long)r->c.qos2_resent,
            (unsigned long long)r->c.acked, (unsigned long long)r->c.rejected,
            (unsigned long long)r->c.abandoned, (unsigned long long)r->c.proto_errors,
            (unsigned long long)r->c.failed, (unsigned long long)r->c.closed,
            (unsigned long long)r->c.downgraded);
    json_latency(f, "latency_us", &r->c.lat);
    fprintf(f, ",\"broker_pid\":");
    json_num_or_null(f, o->broker_pid != 0, o->broker_pid, 0);
    fprintf(f, ",\"broker_cpu_s\":");
    json_num_or_null(f, cpu, cpu_s, 3);
    fprintf(f, ",\"broker_cpu_window_s\":%.3f,\"broker_cpu_us_per_msg\":", r->cpu_window_s);
    json_num_or_null(f, cpu && r->cpu_msgs, cpu_s * 1e6 / (double)(r->cpu_msgs ? r->cpu_msgs : 1),
                     3);
    fprintf(f, ",\"broker_cpu_cores\":");
    json_num_or_null(f, cpu && r->cpu_window_s > 0,
                     cpu_s / (r->cpu_window_s > 0 ? r->cpu_window_s : 1), 3);
    {
        double th[PROC_MAX_THREADS];
        int n = proc_threads_delta(&r->bt0, &r->bt1, th, PROC_MAX_THREADS);
        fprintf(f, ",\"broker_thread_cpu_s\":[");
        for (int i = 0; i < n; i++)
            fprintf(f, "%s%.2f", i ? "," : "", th[i]);
        fputc(']', f);
    }
    fprintf(f, ",\"broker_rss_kb_start\":");
    json_num_or_null(f, r->b0.ok, (double)r->b0.rss_kb, 0);
    fprintf(f, ",\"broker_rss_kb_end\":");
    json_num_or_null(f, r->b1.ok, (double)r->b1.rss_kb, 0);
    json_proc_info(f, &r->b1);
    fprintf(f,
            ",\"bench_cpu_s\":%.3f,\"bench_cpu_window_s\":%.3f,\"incomplete\":%s,\"stalled\":%s,"
            "\"interrupted\":%s,"
            "\"ok\":%s,\"failure\":",
            r->bench_cpu_s, r->bench_cpu_window_s, r->incomplete ? "true" : "false",
            r->stalled ? "true" : "false", r->interrupted ? "true" : "false",
            ok ? "true" : "false");
    json_str(f, why);
    fprintf(f, ",\"first_error\":");
    json_str(f, r->err);
    fprintf(f, "}\n");
}

static void pubsub_report_text(const struct bench_opts *o, const struct pubsub_result *r, bool ok,
                               const char *why)
{
    FILE *f = stdout;
    char rate[48];
    if (o->rate > 0)
        snprintf(rate, sizeof(rate), "%g msg/s per publisher", o->rate);
    else
        snprintf(rate, sizeof(rate), "unlimited");
    fprintf(f, "starling-bench pubsub  %s:%u  MQTT %s  QoS %u  %u -> %u (%u matching pairs)\n",
            o->host, o->port, version_name(o->version), o->qos, o->publishers, o->subscribers,
            r->matched_pairs);
    fprintf(f, "  payload %u B, rate %s", o->payload, rate);
    if (o->qos) fprintf(f, ", window %u", o->window);
    fprintf(f, ", %u threads, topic '%s', filter '%s'\n", o->threads, o->topic_pattern,
            o->filter_pattern);
    if (o->count)
        fprintf(f, "  %-13s %llu messages per publisher: sent in %.3f s, delivered in %.3f s\n",
                "count", (unsigned long long)o->count, r->publish_s, r->deliver_s);
    else
        fprintf(f, "  %-13s %.3f s (after %.1f s warm-up)\n", "measured", r->measured_s, o->warmup);
    fprintf(f, "  %-13s %llu  %.1f msg/s\n", "published",
            (unsigned long long)(o->count ? r->c.published : r->c.published_win), r->publish_rate);
    fprintf(f, "  %-13s %llu  %.1f msg/s\n", "delivered",
            (unsigned long long)(o->count ? r->c.received : r->c.received_win), r->delivery_rate);
    if (o->rate > 0)
        fprintf(f, "  %-13s %.1f msg/s published, %.1f msg/s delivered\n", "offered",
                o->rate * o->publishers, o->rate * r->matched_pairs);
    fprintf(f, "  %-13s published %llu, expected %llu, delivered %llu (%llu distinct)\n",
            "whole run", (unsigned long long)r->c.published, (unsigned long long)r->c.expected,
            (unsigned long long)r->c.received, (unsigned long long)r->c.unique);
    fprintf(f, "  %-13s %llu%s\n", o->qos ? "lost" : "dropped", (unsigned long long)r->lost,
            r->incomplete ? "  (drain time ran out)" : "");
    fprintf(f, "  %-13s duplicates %llu, reordered %llu", "order",
            (unsigned long long)r->c.duplicates, (unsigned long long)r->c.reordered);
    if (r->c.foreign) fprintf(f, ", foreign %llu", (unsigned long long)r->c.foreign);
    if (r->c.qos2_resent) fprintf(f, ", QoS 2 resends %llu", (unsigned long long)r->c.qos2_resent);
    fputc('\n', f);
    if (o->qos)
        fprintf(f, "  %-13s %llu acknowledged, %llu rejected, %llu abandoned\n", "flows",
                (unsigned long long)r->c.acked, (unsigned long long)r->c.rejected,
                (unsigned long long)r->c.abandoned);
    if (r->c.downgraded)
        fprintf(f, "  %-13s %llu subscriptions granted a lower QoS\n", "note",
                (unsigned long long)r->c.downgraded);
    text_latency(f, "latency", &r->c.lat);
    if (r->b0.ok && r->b1.ok) {
        double cpu = r->b1.cpu_s - r->b0.cpu_s;
        fprintf(f, "  %-13s cpu %.2f s in %.2f s (%.0f%% of a core)", "broker", cpu,
                r->cpu_window_s, r->cpu_window_s > 0 ? 100.0 * cpu / r->cpu_window_s : 0.0);
        if (r->cpu_msgs) fprintf(f, ", %.2f us/msg delivered", cpu * 1e6 / (double)r->cpu_msgs);
        double th[PROC_MAX_THREADS];
        int n = proc_threads_delta(&r->bt0, &r->bt1, th, PROC_MAX_THREADS);
        if (n > 1) {
            fprintf(f, " (threads");
            for (int i = 0; i < n; i++)
                fprintf(f, "%s%.2f", i ? " + " : " ", th[i]);
            fputc(')', f);
        }
        fprintf(f, "; rss %.1f -> %.1f MiB\n", (double)r->b0.rss_kb / 1024.0,
                (double)r->b1.rss_kb / 1024.0);
    } else if (o->broker_pid) {
        fprintf(f, "  %-13s pid %d could not be sampled\n", "broker", o->broker_pid);
    }
    fprintf(f,
            "  %-13s cpu %.2f s (user + system, whole run), %.2f s of it in the %.2f s measured\n",
            "bench", r->bench_cpu_s, r->bench_cpu_window_s, r->cpu_window_s);
    text_proc_info(f, &r->b1);
    if (r->err[0]) fprintf(f, "  %-13s %s\n", "first error", r->err);
    if (r->interrupted) fprintf(f, "  %-13s interrupted\n", "note");
    fprintf(f, "  %-13s %s%s%s\n", "result", ok ? "PASS" : "FAIL", ok ? "" : ": ", why);
}

static int run_pubsub(const struct bench_opts *o)
{
    struct pubsub_result *r = calloc(1, sizeof(*r));
    if (!r) {
        fputs("starling-bench: out of memory\n", stderr);
        return 1;
    }
    check_fd_limit((uint64_t)o->publishers + o->subscribers);
    int rc = scenario_pubsub_run(o, r);
    if (rc != 0) {
        fprintf(stderr, "starling-bench: %s\n", r->err);
        free(r);
        return rc;
    }
    char why[256];
    bool ok = pubsub_verdict(o, r, why, sizeof(why));
    if (o->json)
        pubsub_report_json(o, r, ok, why);
    else
        pubsub_report_text(o, r, ok, why);
    free(r);
    return ok ? 0 : 1;
}

/* ---- conn ---- */

static int run_conn(const struct bench_opts *o)
{
    struct conn_result *r = calloc(1, sizeof(*r));
    if (!r) {
        fputs("starling-bench: out of memory\n", stderr);
        return 1;
    }
    check_fd_limit(o->conns);
    int rc = scenario_conn_run(o, r);
    if (rc != 0) {
        fprintf(stderr, "starling-bench: %s\n", r->err);
        free(r);
        return rc;
    }
    bool ok = r->c.failed == 0 && r->c.closed == 0 && r->c.ready == o->conns;
    bool rss = r->b0.ok && r->b1.ok && r->b_up.ok;
    double per_conn =
        rss && r->c.ready ? (double)(r->b1.rss_kb - r->b0.rss_kb) * 1024.0 / (double)r->c.ready : 0;
    FILE *f = stdout;
    if (o->json) {
        fprintf(f, "{\"scenario\":\"conn\",\"host\":");
        json_str(f, o->host);
        fprintf(f,
                ",\"port\":%u,\"mqtt_version\":%u,\"connections\":%u,\"rate\":%g,"
                "\"threads\":%u,\"connected\":%llu,\"failed\":%llu,\"lost_during_hold\":%llu,"
                "\"connect_s\":%.6f,\"connect_rate\":%.1f,\"hold_s\":%.3f,",
                o->port, o->version, o->conns, o->rate, o->threads, (unsigned long long)r->c.ready,
                (unsigned long long)r->c.failed, (unsigned long long)r->c.closed, r->connect_s,
                r->connect_rate, r->hold_s);
        json_latency(f, "connect_latency_us", &r->c.conn_lat);
        fprintf(f, ",\"broker_pid\":");
        json_num_or_null(f, o->broker_pid != 0, o->broker_pid, 0);
        fprintf(f, ",\"broker_rss_kb_before\":");
        json_num_or_null(f, r->b0.ok, (double)r->b0.rss_kb, 0);
        fprintf(f, ",\"broker_rss_kb_connected\":");
        json_num_or_null(f, r->b_up.ok, (double)r->b_up.rss_kb, 0);
        fprintf(f, ",\"broker_rss_kb_after\":");
        json_num_or_null(f, r->b1.ok, (double)r->b1.rss_kb, 0);
        fprintf(f, ",\"broker_bytes_per_connection\":");
        json_num_or_null(f, rss && r->c.ready, per_conn, 0);
        fprintf(f, ",\"broker_connect_cpu_s\":");
        json_num_or_null(f, r->b0.ok && r->b_up.ok, r->b_up.cpu_s - r->b0.cpu_s, 3);
        fprintf(f, ",\"broker_cpu_us_per_connect\":");
        json_num_or_null(
            f, r->b0.ok && r->b_up.ok && r->c.ready,
            (r->b_up.cpu_s - r->b0.cpu_s) * 1e6 / (double)(r->c.ready ? r->c.ready : 1), 1);
        json_proc_info(f, &r->b1);
        fprintf(f, ",\"bench_connect_cpu_s\":%.3f,\"bench_cpu_us_per_connect\":",
                r->bench_connect_cpu_s);
        json_num_or_null(f, r->c.ready != 0,
                         r->bench_connect_cpu_s * 1e6 / (double)(r->c.ready ? r->c.ready : 1), 1);
        fprintf(f, ",\"bench_cpu_s\":%.3f,\"interrupted\":%s,\"ok\":%s,\"first_error\":",
                r->bench_cpu_s, r->interrupted ? "true" : "false", ok ? "true" : "false");
        json_str(f, r->err);
        fprintf(f, "}\n");
    } else {
        char rate[48];
        if (o->rate > 0)
            snprintf(rate, sizeof(rate), "%g/s", o->rate);
        else
            snprintf(rate, sizeof(rate), "unlimited");
        fprintf(f, "starling-bench conn  %s:%u  MQTT %s  %u connections  rate %s  %u threads\n",
                o->host, o->port, version_name(o->version), o->conns, rate, o->threads);
        fprintf(f, "  %-13s %llu of %u in %.3f s = %.1f connects/s\n", "connected",
                (unsigned long long)r->c.ready, o->conns, r->connect_s, r->connect_rate);
        fprintf(f, "  %-13s %llu failed, %llu lost during the %.1f s hold\n", "errors",
                (unsigned long long)r->c.failed, (unsigned long long)r->c.closed, r->hold_s);
        text_latency(f, "connect time", &r->c.conn_lat);
        if (rss) {
            fprintf(f, "  %-13s rss %.1f MiB before, %.1f MiB connected, %.1f MiB after hold",
                    "broker", (double)r->b0.rss_kb / 1024.0, (double)r->b_up.rss_kb / 1024.0,
                    (double)r->b1.rss_kb / 1024.0);
            if (r->c.ready) fprintf(f, " = %.0f bytes/connection", per_conn);
            fprintf(f, "; cpu %.2f s while connecting", r->b_up.cpu_s - r->b0.cpu_s);
            if (r->c.ready)
                fprintf(f, " (%.1f us/connection)",
                        (r->b_up.cpu_s - r->b0.cpu_s) * 1e6 / (double)r->c.ready);
            fputc('\n', f);
        } else if (o->broker_pid) {
            fprintf(f, "  %-13s pid %d could not be sampled\n", "broker", o->broker_pid);
        }
        fprintf(f, "  %-13s cpu %.2f s (user + system, whole run); %.2f s while connecting",
                "bench", r->bench_cpu_s, r->bench_connect_cpu_s);
        if (r->c.ready)
            fprintf(f, " (%.1f us/connection)", r->bench_connect_cpu_s * 1e6 / (double)r->c.ready);
        fputc('\n', f);
        text_proc_info(f, &r->b1);
        if (r->err[0]) fprintf(f, "  %-13s %s\n", "first error", r->err);
        fprintf(f, "  %-13s %s\n", "result", ok ? "PASS" : "FAIL");
    }
    free(r);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) usage_error("missing scenario: 'pubsub' or 'conn'");
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }

    struct bench_opts o = {
        .port = 1883,
        .version = SL_MQTT_311,
        .threads = 2,
        .connect_timeout = 30,
        .max_pending = 128,
        .keepalive = 60,
        .publishers = 1,
        .subscribers = 1,
        .qos = 0,
        .payload = 64,
        .rate = 0,
        .duration = 5,
        .topic_pattern = "bench/%i",
        .filter_pattern = "bench/#",
        .window = 20,
        .warmup = 1,
        .drain = 5,
        .conns = 1000,
        .sndbuf = 256 * 1024,
    };
    parse_host(&o, "127.0.0.1");
    parse_args(argc, argv, &o);

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    return o.scenario == BENCH_PUBSUB ? run_pubsub(&o) : run_conn(&o);
}

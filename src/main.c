/*
 * main.c - command line, configuration, logging, then the server until a signal.
 *
 *   starling [-c FILE] [-p PORT] [-v] [--test-config] [--help] [--version]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/config.h"
#include "broker/server.h"
#include "core/error.h"
#include "core/log.h"
#include "core/outq.h"

static void usage(FILE *f)
{
    fprintf(f, "Usage: starling [options]\n"
               "\n"
               "An MQTT 3.1/3.1.1 broker. Reads Mosquitto's configuration format.\n"
               "\n"
               "  -c, --config FILE  read the configuration from FILE\n"
               "  -p, --port PORT    listen on PORT (the default listener, 127.0.0.1\n"
               "                     unless the file sets bind_address)\n"
               "  -v, --verbose      log everything (log_type all)\n"
               "  -t, --test-config  check the configuration, print the result and exit\n"
               "  -h, --help         this text\n"
               "      --version      print the version and exit\n"
               "\n"
               "With no configuration Starling listens on 127.0.0.1:1883 and allows\n"
               "anonymous clients. See docs/config.md for every directive.\n");
}

static int parse_port(const char *s, int *port)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 1 || v > 65535) return SL_EINVAL;
    *port = (int)v;
    return SL_OK;
}

int main(int argc, char **argv)
{
    const char *conf_path = NULL;
    int port = 0;
    bool verbose = false, test_only = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-c") || !strcmp(a, "--config")) {
            if (++i >= argc) {
                fprintf(stderr, "starling: %s needs a file name\n", a);
                return 2;
            }
            conf_path = argv[i];
        } else if (!strcmp(a, "-p") || !strcmp(a, "--port")) {
            if (++i >= argc || parse_port(argv[i], &port) != SL_OK) {
                fprintf(stderr, "starling: %s needs a port number 1-65535\n", a);
                return 2;
            }
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            verbose = true;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--test-config")) {
            test_only = true;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--version")) {
            printf("starling %s\n", SL_VERSION);
            return 0;
        } else {
            fprintf(stderr, "starling: unknown option '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }

    struct sl_config cfg;
    char err[512];
    sl_config_init(&cfg);
    int rc = SL_OK;
    if (conf_path) rc = sl_config_load_file(&cfg, conf_path, err, sizeof(err));
    if (rc == SL_OK) rc = sl_config_finish(&cfg, port, verbose, err, sizeof(err));
    if (rc != SL_OK) {
        fprintf(stderr, "starling: %s\n", err);
        sl_config_free(&cfg);
        return 3;
    }
    if (test_only) {
        printf("%s: configuration OK\n", conf_path ? conf_path : "(defaults)");
        sl_config_free(&cfg);
        return 0;
    }
    if (sl_log_open(cfg.log_dest, cfg.log_file, cfg.log_types, cfg.log_timestamp) != SL_OK) {
        fprintf(stderr, "starling: cannot open log file %s\n", cfg.log_file);
        sl_config_free(&cfg);
        return 3;
    }

    struct server srv;
    rc = server_init(&srv, &cfg);
    if (rc == SL_OK) rc = server_run(&srv);
    server_destroy(&srv);
    sl_outq_cache_drain(); /* segments freed on this thread by server_destroy */
    sl_log_close();
    sl_config_free(&cfg);
    return rc == SL_OK ? 0 : 1;
}

/*
 * fuzz_config.c - libFuzzer target for the config parser.
 *
 * The input is a config file: a NUL-terminated copy goes through
 * sl_config_load_string, then sl_config_finish (with and without -p, -v), then
 * sl_config_free, so every path that allocates is also freed under ASan/LSan.
 * Inputs with a NUL byte are cut there, as a C string would be; the file loader's
 * NUL check is covered by the unit tests.
 *
 * include_dir in an input only opens and reads directories (*.conf files in them):
 * it writes nothing, so a fuzzed path is harmless. Logging is switched off so the
 * parser's warnings (retry_interval) do not flood the fuzzer's output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/config.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int quiet;
    if (!quiet) {
        sl_log_open(0, NULL, 0, false);
        quiet = 1;
    }

    char *text = malloc(size + 1);
    if (text == NULL) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    char err[256];
    struct sl_config c;
    sl_config_init(&c);
    int rc = sl_config_load_string(&c, "fuzz.conf", text, err, sizeof(err));
    if (rc == 0) {
        /* The first byte picks the command-line flags, so -p and -v get covered. */
        int port = size > 0 && (data[0] & 1) ? 1 + data[size - 1] * 257 : 0;
        bool verbose = size > 0 && (data[0] & 2);
        rc = sl_config_finish(&c, port, verbose, err, sizeof(err));
        if (rc == 0 && c.nlisteners == 0) abort(); /* finish always leaves at least one listener */
    }
    if (rc != 0 && memchr(err, '\0', sizeof(err)) == NULL)
        abort(); /* the message must be a terminated string */
    sl_config_free(&c);
    free(text);
    return 0;
}

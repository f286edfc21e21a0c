/*
 * main.c - starling-scram: makes one SCRAM-SHA-256 credential line for the
 * broker's scram_file.
 *
 *   starling-scram USERNAME [ITERATIONS] < password-file  >> scram_file
 *
 * The password is the first line of stdin, without its line ending (so
 * `echo secret | starling-scram alice` works); when stdin is a terminal it is
 * asked for without echo. Only the salted keys are printed, never the password:
 *
 *   username:iterations:salt-base64:StoredKey-base64:ServerKey-base64
 *
 * The salt is 16 random bytes, so two runs give different lines for one
 * password. Exit status: 0 a line was printed, 2 bad arguments or input.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "auth/scram.h"
#include "core/error.h"

#define USAGE_LINES                                                                                \
    "usage: starling-scram [--] USERNAME [ITERATIONS] < password\n"                                \
    "       starling-scram --help\n"

static const char help_text[] =
    "\n"
    "Prints one SCRAM-SHA-256 credential line for Starling's scram_file:\n"
    "\n"
    "  username:iterations:salt-base64:StoredKey-base64:ServerKey-base64\n"
    "\n"
    "The password is the first line of standard input (its trailing newline is\n"
    "removed; asked for without echo when stdin is a terminal) and must not be\n"
    "empty. ITERATIONS is the PBKDF2 count, at least 4096 (RFC 7677), default 4096.\n"
    "The salt is 16 random bytes. User names and passwords are used as the UTF-8\n"
    "bytes given (no SASLprep). Exit status: 0 done, 2 bad arguments or input.\n";

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "starling-scram: message" to stderr; returns the exit status 2. */
static int fail(const char *fmt, ...)
{
    va_list ap;

    fputs("starling-scram: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

/* Reads the first line of stdin into *line (malloc'd, *cap bytes, line ending
 * removed, *len bytes). */
static int read_password(char **line, size_t *cap, size_t *len)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    ssize_t n;

    *line = NULL;
    *cap = 0;
    if (tty) {
        fputs("Password: ", stderr);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    errno = 0;
    n = getline(line, cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (n < 0) {
        if (errno != 0) return fail("cannot read the password: %s", strerror(errno));
        return fail("%s", "no password on standard input");
    }
    if (n > 0 && (*line)[n - 1] == '\n') n--;
    if (n > 0 && (*line)[n - 1] == '\r') n--;
    (*line)[n] = '\0';
    *len = (size_t)n;
    return 0;
}

static int parse_iterations(const char *s, uint32_t *out)
{
    unsigned long long v = 0;

    if (*s == '\0') return fail("%s", "ITERATIONS is empty");
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return fail("ITERATIONS '%s' is not a number", s);
        v = v * 10 + (unsigned long long)(*p - '0');
        if (v > SCRAM_MAX_ITERATIONS) return fail("ITERATIONS %s is above 2147483647", s);
    }
    if (v < SCRAM_MIN_ITERATIONS)
        return fail("ITERATIONS %s is below the minimum of 4096 (RFC 7677)", s);
    *out = (uint32_t)v;
    return 0;
}

int main(int argc, char **argv)
{
    uint32_t iterations = SCRAM_MIN_ITERATIONS;
    char *password = NULL, out[1024];
    const char *why, *user;
    size_t pwlen = 0, pwcap = 0;
    int rc, arg = 1;

    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(USAGE_LINES, stdout);
        fputs(help_text, stdout);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--") == 0) arg = 2; /* a user name starting with '-' */
    if (argc - arg < 1 || argc - arg > 2 || (arg == 1 && argv[1][0] == '-')) {
        fputs(USAGE_LINES, stderr);
        return 2;
    }
    user = argv[arg];
    why = scram_user_check(user);
    if (why != NULL) return fail("%s", why);
    if (argc - arg == 2 && parse_iterations(argv[arg + 1], &iterations) != 0) return 2;

    rc = read_password(&password, &pwcap, &pwlen);
    if (rc != 0) goto out;
    if (pwlen == 0) {
        rc = fail("%s", "empty password refused");
        goto out;
    }
    rc = scram_make_entry(user, (const uint8_t *)password, pwlen, iterations, NULL, 0, out,
                          sizeof(out));
    if (rc == SL_ETOOBIG) {
        rc = fail("%s", "user name too long");
        goto out;
    }
    if (rc != SL_OK) {
        rc = fail("cannot make the entry: %s", sl_strerror(rc));
        goto out;
    }
    printf("%s\n", out);
    OPENSSL_cleanse(out, sizeof(out));
    rc = fflush(stdout) == 0 ? 0 : fail("cannot write: %s", strerror(errno));
out:
    if (password != NULL) {
        OPENSSL_cleanse(password, pwcap);
        free(password);
    }
    return rc;
}

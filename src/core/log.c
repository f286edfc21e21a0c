/*
 * log.c - leveled logging to stderr, stdout, a file and syslog.
 *
 * A line is
 *
 *     2026-11-26T05:39:47.123Z notice: listening on 127.0.0.1:1883\n
 *     '---- UTC, ms, if log_timestamp ---' '-level-' '--- message ----'
 *
 * formatted into a stack buffer (LINE_MAX_BYTES; longer messages are cut and end
 * in "...") and written with one write(2) per destination, so lines from several
 * worker threads never interleave: the file is opened O_APPEND, which makes each
 * write land whole at the end, and writes up to PIPE_BUF (4096 on Linux, above
 * our line size) to a pipe are atomic. Syslog gets the bare message; it stamps
 * time and priority itself.
 *
 * Invariants:
 * - Before sl_log_open (and after sl_log_close) lines go to stderr with types
 *   error|warning|notice|info, so start-up errors are visible.
 * - The types mask is an atomic read, so sl_log_enabled() costs a load and
 *   sl_debug() of a disabled level formats nothing.
 * - sl_log() holds the read side of a rwlock while it writes; sl_log_open and
 *   sl_log_close take the write side, so a reload (SIGHUP) never closes the file
 *   under a writer. Writers do not block each other.
 * - Control characters in the message (a client id or topic from the network can
 *   carry a '\n') are written as '?', so a peer cannot forge log lines.
 * - errno is preserved across sl_log(), so callers may log before using it.
 */
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"

/* Mirrors SL_LOG_DEST_* of broker/config.h; core may not include broker headers.
 * tests/unit/test_log.c checks that the two agree. */
#define DEST_STDERR 0x1u
#define DEST_STDOUT 0x2u
#define DEST_FILE   0x4u
#define DEST_SYSLOG 0x8u

#define DEFAULT_TYPES (SL_LOG_ERR | SL_LOG_WARNING | SL_LOG_NOTICE | SL_LOG_INFO)

/* 1 KiB holds a line with a maximal client id reference and topic excerpt; the rest
 * is cut. It is well under PIPE_BUF, which keeps pipe writes atomic. */
#define LINE_MAX_BYTES 1024

static pthread_rwlock_t lock = PTHREAD_RWLOCK_INITIALIZER;
static _Atomic unsigned types = DEFAULT_TYPES;
/* Below: written under the write lock, read under the read lock. */
static unsigned dests = DEST_STDERR;
static bool with_timestamp = true;
static int file_fd = -1;
static bool syslog_open;

static const char *level_word(unsigned level)
{
    switch (level) {
    case SL_LOG_ERR:
        return "error";
    case SL_LOG_WARNING:
        return "warning";
    case SL_LOG_NOTICE:
        return "notice";
    case SL_LOG_INFO:
        return "info";
    case SL_LOG_DEBUG:
        return "debug";
    }
    return "log";
}

static int syslog_priority(unsigned level)
{
    switch (level) {
    case SL_LOG_ERR:
        return LOG_ERR;
    case SL_LOG_WARNING:
        return LOG_WARNING;
    case SL_LOG_NOTICE:
        return LOG_NOTICE;
    case SL_LOG_INFO:
        return LOG_INFO;
    }
    return LOG_DEBUG;
}

/* One write; retries on EINTR and finishes a short write. Errors are dropped: there
 * is nowhere left to report a failure of the logger. */
static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* Writes "YYYY-MM-DDTHH:MM:SS.mmmZ " (25 bytes) into out; returns its length. */
static size_t format_timestamp(char *out, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    int m = snprintf(out + n, cap - n, ".%03ldZ ", ts.tv_nsec / 1000000);
    return m > 0 ? n + (size_t)m : n;
}

static void sanitize(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) s[i] = '?';
    }
}

bool sl_log_enabled(unsigned level)
{
    return (atomic_load_explicit(&types, memory_order_relaxed) & level) != 0;
}

void sl_log(unsigned level, const char *fmt, ...)
{
    if (!sl_log_enabled(level)) return;
    int saved_errno = errno;

    char line[LINE_MAX_BYTES];
    size_t stamp_len = 0, head;
    va_list ap;

    pthread_rwlock_rdlock(&lock);
    if (with_timestamp) stamp_len = format_timestamp(line, sizeof(line));
    head = stamp_len;
    head += (size_t)snprintf(line + head, sizeof(line) - head, "%s: ", level_word(level));

    /* Leave one byte for the '\n' in every case. */
    size_t room = sizeof(line) - head - 1;
    va_start(ap, fmt);
    int n = vsnprintf(line + head, room + 1, fmt, ap);
    va_end(ap);
    size_t msg_len = n < 0 ? 0 : (size_t)n;
    if (msg_len > room) {
        /* Cut: vsnprintf kept room bytes (plus NUL); mark the cut with "...".
         * room >= 3: the prefix is at most ~35 bytes of a 1 KiB buffer. */
        msg_len = room;
        memcpy(line + head + room - 3, "...", 3);
    }
    sanitize(line + head, msg_len);
    size_t len = head + msg_len;
    line[len++] = '\n';

    if (dests & DEST_STDERR) write_all(STDERR_FILENO, line, len);
    if (dests & DEST_STDOUT) write_all(STDOUT_FILENO, line, len);
    if ((dests & DEST_FILE) && file_fd >= 0) write_all(file_fd, line, len);
    if (dests & DEST_SYSLOG) {
        line[len - 1] = '\0';
        syslog(syslog_priority(level), "%s", line + stamp_len);
    }
    pthread_rwlock_unlock(&lock);
    errno = saved_errno;
}

int sl_log_open(unsigned dest, const char *file, unsigned new_types, bool timestamp)
{
    int fd = -1;
    if (dest & DEST_FILE) {
        if (file == NULL || file[0] == '\0') return SL_EINVAL;
        /* Opened before taking the lock: on failure the old settings stay, so a
         * reload with a bad path keeps logging where it did. */
        fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0) return SL_EIO;
    }

    pthread_rwlock_wrlock(&lock);
    int old_fd = file_fd;
    file_fd = fd;
    if ((dest & DEST_SYSLOG) && !syslog_open) {
        openlog("starling", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        syslog_open = true;
    } else if (!(dest & DEST_SYSLOG) && syslog_open) {
        closelog();
        syslog_open = false;
    }
    dests = dest;
    with_timestamp = timestamp;
    atomic_store_explicit(&types, new_types & SL_LOG_ALL, memory_order_relaxed);
    pthread_rwlock_unlock(&lock);

    if (old_fd >= 0) close(old_fd);
    return SL_OK;
}

void sl_log_close(void)
{
    pthread_rwlock_wrlock(&lock);
    int old_fd = file_fd;
    file_fd = -1;
    if (syslog_open) {
        closelog();
        syslog_open = false;
    }
    /* Back to the start-up settings: shutdown messages after this still show. */
    dests = DEST_STDERR;
    with_timestamp = true;
    atomic_store_explicit(&types, DEFAULT_TYPES, memory_order_relaxed);
    pthread_rwlock_unlock(&lock);

    if (old_fd >= 0) close(old_fd);
}

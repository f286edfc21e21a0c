/*
 * test_log.c - the logger: line format, level filtering, truncation, control
 * characters, reopen, failure to open, and whole lines under concurrent writers.
 * Logs go to files under a mkdtemp directory, removed at the end.
 */
#include "core/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/config.h"
#include "check.h"
#include "core/error.h"

static char tmpdir[] = "/tmp/sl_test_log_XXXXXX";
static char path_a[256], path_b[256];

/* Reads the whole file into a static buffer; "" if it does not exist. */
static const char *slurp(const char *path)
{
    static char buf[1 << 20];
    size_t n = 0;
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    return buf;
}

static void reset_file(const char *path)
{
    unlink(path);
}

static void test_dest_bits_match_config(void)
{
    /* log.c mirrors these values because core may not include broker headers. */
    CHECK_EQ_INT(SL_LOG_DEST_STDERR, 0x1);
    CHECK_EQ_INT(SL_LOG_DEST_STDOUT, 0x2);
    CHECK_EQ_INT(SL_LOG_DEST_FILE, 0x4);
    CHECK_EQ_INT(SL_LOG_DEST_SYSLOG, 0x8);
}

static void test_defaults_before_open(void)
{
    CHECK(sl_log_enabled(SL_LOG_ERR));
    CHECK(sl_log_enabled(SL_LOG_WARNING));
    CHECK(sl_log_enabled(SL_LOG_NOTICE));
    CHECK(sl_log_enabled(SL_LOG_INFO));
    CHECK(!sl_log_enabled(SL_LOG_DEBUG));
}

static void test_format_without_timestamp(void)
{
    reset_file(path_a);
    CHECK_EQ_INT(sl_log_open(SL_LOG_DEST_FILE, path_a, SL_LOG_ALL, false), SL_OK);
    sl_error("disk %s", "full");
    sl_warn("w");
    sl_notice("n %d", 3);
    sl_info("i");
    sl_debug("d");
    sl_log_close();
    CHECK(strcmp(slurp(path_a), "error: disk full\nwarning: w\nnotice: n 3\ninfo: i\n"
                                "debug: d\n") == 0);
    struct stat st;
    CHECK_EQ_INT(stat(path_a, &st), 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0640);
}

static void test_format_with_timestamp(void)
{
    reset_file(path_a);
    CHECK_EQ_INT(sl_log_open(SL_LOG_DEST_FILE, path_a, SL_LOG_INFO, true), SL_OK);
    sl_info("hello");
    sl_log_close();
    /* 2026-11-26T05:39:47.123Z info: hello */
    const char *s = slurp(path_a);
    CHECK_EQ_INT(strlen(s), 25 + 12);
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ ";
    for (size_t i = 0; i < 25 && s[i]; i++) {
        if (shape[i] == 'd')
            CHECK(s[i] >= '0' && s[i] <= '9');
        else
            CHECK(s[i] == shape[i]);
    }
    CHECK(strcmp(s + 25, "info: hello\n") == 0);
}

static void test_level_filter(void)
{
    reset_file(path_a);
    CHECK_EQ_INT(sl_log_open(SL_LOG_DEST_FILE, path_a, SL_LOG_ERR | SL_LOG_NOTICE, false), SL_OK);
    CHECK(sl_log_enabled(SL_LOG_ERR));
    CHECK(!sl_log_enabled(SL_LOG_WARNING));
    CHECK(!sl_log_enabled(SL_LOG_DEBUG));
    sl_info("no");
    sl_warn("no");
    sl_debug("no %d", 1);
    sl_error("yes");
    sl_notice("yes");
    sl_log_close();
    CHECK(strcmp(slurp(path_a), "error: yes\nnotice: yes\n") == 0);

    /* Types 0: nothing at all. */
    reset_file(path_a);
    CHECK_EQ_INT(sl_log_open(SL_LOG_DEST_FILE, path_a, 0, false), SL_OK);
    sl_error("no");
    sl_log_close();
    CHECK(strcmp(slurp(path_a), "") == 0);
}

static void test_truncation_and_control_chars(void)
{
    static char big[5000];
    memset(big, 'x', sizeof(big) - 1);
    reset_file(path_a);
    CHECK_EQ_INT(sl_log_open(SL_LOG_DEST_FILE, path_a, SL_LOG_ALL, false), SL_OK);
    sl_info("%s", big);
    sl_info("a\nb\rc\x1b[31md\te\x7f");
    sl_log_close();
    const char *s = slurp(path_a);
    const char *nl = strchr(s, '\n');
    CHECK(nl != NULL);
    if (nl == NULL) return;
    size_t first = (size_t)(nl - s) + 1;
    CHECK_EQ_INT(first, 1024); /* the whole line, '\n' included, fits 1 KiB */
    CHECK(strncmp(s, "info: xxx", 9) == 0);
    CHECK(strncmp(nl - 3, "...", 3) == 0);
    /* A peer-supplied '\n' cannot start a forged line; tabs stay. */
    CHECK(strcmp(nl + 1, "info: a?b?c?[31md\te?\n") == 0);
}

static void test_reopen_and_failure(void)
{
    reset_file(path_a);
    reset_file(path_b);
    CHECK_EQ_INT(sl_log_open(SL_LOG_DEST_FILE, path_a, SL_LOG_ALL, false), SL_OK);
    sl_info("one");
    CHECK_EQ_INT(sl_log_open(SL_LOG_DEST_FILE, path_b, SL_LOG_ALL, false), SL_OK);
    sl_info("two");

    /* A path that cannot be opened: SL_EIO, and the old settings stay. */
    char bad[300];
    snprintf(bad, sizeof(bad), "%s/no/such/dir/x.log", tmpdir);
    CHECK_EQ_INT(sl_log_open(SL_LOG_DEST_FILE, bad, SL_LOG_ERR, false), SL_EIO);
    CHECK(sl_log_enabled(SL_LOG_DEBUG));
    sl_info("three");
    /* A file destination without a path. */
    CHECK_EQ_INT(sl_log_open(SL_LOG_DEST_FILE, NULL, SL_LOG_ALL, false), SL_EINVAL);
    CHECK_EQ_INT(sl_log_open(SL_LOG_DEST_FILE, "", SL_LOG_ALL, false), SL_EINVAL);
    sl_log_close();

    CHECK(strcmp(slurp(path_a), "info: one\n") == 0);
    CHECK(strcmp(slurp(path_b), "info: two\ninfo: three\n") == 0);

    /* Appends, never truncates. */
    CHECK_EQ_INT(sl_log_open(SL_LOG_DEST_FILE, path_a, SL_LOG_ALL, false), SL_OK);
    sl_info("four");
    sl_log_close();
    CHECK(strcmp(slurp(path_a), "info: one\ninfo: four\n") == 0);

    /* After close: back to the start-up defaults. */
    CHECK(sl_log_enabled(SL_LOG_INFO));
    CHECK(!sl_log_enabled(SL_LOG_DEBUG));
}

static void test_errno_preserved(void)
{
    CHECK_EQ_INT(sl_log_open(0, NULL, SL_LOG_ALL, true), SL_OK); /* no destination */
    errno = ENOSPC;
    sl_info("x %d", 1);
    CHECK_EQ_INT(errno, ENOSPC);
    sl_log_close();
}

enum { THREADS = 8, LINES = 2000 };

static void *writer(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < LINES; i++)
        sl_info("thread %d line %d %s", t, i, "padding-padding-padding-padding-padding");
    return NULL;
}

static void test_concurrent_lines_whole(void)
{
    reset_file(path_a);
    CHECK_EQ_INT(sl_log_open(SL_LOG_DEST_FILE, path_a, SL_LOG_ALL, true), SL_OK);
    pthread_t th[THREADS];
    for (int t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, writer, (void *)(intptr_t)t);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    sl_log_close();

    /* Every line is whole, and each thread's lines are all there, in order. */
    int next[THREADS] = {0};
    int lines = 0, bad = 0;
    FILE *f = fopen(path_a, "r");
    CHECK(f != NULL);
    if (f == NULL) return;
    char line[256];
    while (fgets(line, sizeof(line), f) != NULL) {
        int t, i;
        char pad[64];
        lines++;
        if (strlen(line) < 26 ||
            sscanf(line + 25, "info: thread %d line %d %63s", &t, &i, pad) != 3 || t < 0 ||
            t >= THREADS || i != next[t] ||
            strcmp(pad, "padding-padding-padding-padding-padding") != 0) {
            bad++;
            continue;
        }
        next[t]++;
    }
    fclose(f);
    CHECK_EQ_INT(lines, THREADS * LINES);
    CHECK_EQ_INT(bad, 0);
    for (int t = 0; t < THREADS; t++)
        CHECK_EQ_INT(next[t], LINES);
}

int main(void)
{
    umask(022);
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(path_a, sizeof(path_a), "%s/a.log", tmpdir);
    snprintf(path_b, sizeof(path_b), "%s/b.log", tmpdir);

    RUN(test_dest_bits_match_config);
    RUN(test_defaults_before_open);
    RUN(test_format_without_timestamp);
    RUN(test_format_with_timestamp);
    RUN(test_level_filter);
    RUN(test_truncation_and_control_chars);
    RUN(test_reopen_and_failure);
    RUN(test_errno_preserved);
    RUN(test_concurrent_lines_whole);

    unlink(path_a);
    unlink(path_b);
    rmdir(tmpdir);
    return check_summary();
}

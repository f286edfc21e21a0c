/*
 * check.h - the unit-test harness: a few macros, no framework.
 *
 *   static void test_x(void) { CHECK(a == b); CHECK_EQ_INT(rc, SL_OK); }
 *   int main(void) { RUN(test_x); return check_summary(); }
 *
 * A failed CHECK prints file:line and the expression and carries on; the summary
 * prints "N passed, N failed" and the exit status is non-zero on any failure.
 */
#ifndef SL_TEST_CHECK_H
#define SL_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int check_failed_, check_passed_, check_cur_failed_;

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (!(expr)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #expr);               \
            check_cur_failed_ = 1;                                                                 \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                         \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (a_ != b_) {                                                                            \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", __FILE__, __LINE__,  \
                    #a, #b, a_, b_);                                                               \
            check_cur_failed_ = 1;                                                                 \
        }                                                                                          \
    } while (0)

#define CHECK_MEM(a, b, n)                                                                         \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0) {                                                          \
            fprintf(stderr, "%s:%d: CHECK failed: memory %s == %s\n", __FILE__, __LINE__, #a, #b); \
            check_cur_failed_ = 1;                                                                 \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        check_cur_failed_ = 0;                                                                     \
        fn();                                                                                      \
        if (check_cur_failed_) {                                                                   \
            check_failed_++;                                                                       \
            fprintf(stderr, "FAIL %s\n", #fn);                                                     \
        } else {                                                                                   \
            check_passed_++;                                                                       \
        }                                                                                          \
    } while (0)

static inline int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed_, check_failed_);
    return check_failed_ ? 1 : 0;
}

#endif

/*
 * stats.h - latency histogram with log-linear buckets (the HdrHistogram idea).
 *
 * Values are nanoseconds. Below 64 each value has its own bucket; above, every
 * power of two [2^e, 2^(e+1)) is split into 64 equal buckets, so a reported value
 * is within 1/128 (0.8%) of the true one. Values from 2^48 ns (78 h) up share the
 * last bucket. Fixed size (~22 KB), no allocation: adding a sample is a few
 * instructions, so every message can be recorded.
 *
 *   index:  0..63        v itself
 *           64*g + s     g = e - 5 (g >= 1), s = (v >> (e - 6)) - 64
 */
#ifndef SL_BENCH_STATS_H
#define SL_BENCH_STATS_H

#include <stdint.h>

#define STATS_SUB_BITS 6
#define STATS_SUB      (1u << STATS_SUB_BITS)
#define STATS_MAX_EXP  47
#define STATS_BUCKETS  ((STATS_MAX_EXP - STATS_SUB_BITS + 2) * STATS_SUB)

struct stats_hist {
    uint64_t n;
    uint64_t sum; /* ns; 10^9 samples of 10^9 ns still fit */
    uint64_t min, max;
    uint64_t b[STATS_BUCKETS];
};

void stats_hist_init(struct stats_hist *h);
void stats_hist_add(struct stats_hist *h, uint64_t v);
void stats_hist_merge(struct stats_hist *dst, const struct stats_hist *src);
/* p in [0, 100]. The middle of the bucket holding the p-th percentile sample,
 * clamped to [min, max]; 0 for an empty histogram. */
uint64_t stats_hist_percentile(const struct stats_hist *h, double p);
double stats_hist_mean(const struct stats_hist *h);

#endif

/* stats.c - the log-linear latency histogram; layout in stats.h. */
#include "stats.h"

#include <math.h>
#include <string.h>

#include "bench.h"

void stats_hist_init(struct stats_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

static unsigned bucket_of(uint64_t v)
{
    if (v < STATS_SUB) return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);
    if (e > STATS_MAX_EXP) return STATS_BUCKETS - 1;
    unsigned shift = e - STATS_SUB_BITS;
    return (e - STATS_SUB_BITS + 1) * STATS_SUB + (unsigned)((v >> shift) - STATS_SUB);
}

/* Middle of bucket i. */
static uint64_t bucket_value(unsigned i)
{
    if (i < STATS_SUB) return i;
    unsigned g = i / STATS_SUB, s = i % STATS_SUB;
    unsigned shift = g - 1;
    uint64_t lo = (uint64_t)(STATS_SUB + s) << shift;
    return lo + (((uint64_t)1 << shift) >> 1);
}

void stats_hist_add(struct stats_hist *h, uint64_t v)
{
    h->b[bucket_of(v)]++;
    h->n++;
    h->sum += v;
    if (v < h->min) h->min = v;
    if (v > h->max) h->max = v;
}

void stats_hist_merge(struct stats_hist *dst, const struct stats_hist *src)
{
    for (unsigned i = 0; i < STATS_BUCKETS; i++)
        dst->b[i] += src->b[i];
    dst->n += src->n;
    dst->sum += src->sum;
    if (src->min < dst->min) dst->min = src->min;
    if (src->max > dst->max) dst->max = src->max;
}

uint64_t stats_hist_percentile(const struct stats_hist *h, double p)
{
    if (h->n == 0) return 0;
    if (p >= 100.0) return h->max;
    uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)h->n);
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < STATS_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = bucket_value(i);
            if (v < h->min) v = h->min;
            if (v > h->max) v = h->max;
            return v;
        }
    }
    return h->max;
}

double stats_hist_mean(const struct stats_hist *h)
{
    return h->n ? (double)h->sum / (double)h->n : 0.0;
}

void stats_counts_init(struct bench_counts *c)
{
    memset(c, 0, sizeof(*c));
    stats_hist_init(&c->lat);
    stats_hist_init(&c->conn_lat);
}

static int64_t min_nonzero(int64_t a, int64_t b)
{
    if (a == 0) return b;
    if (b == 0) return a;
    return a < b ? a : b;
}

void stats_counts_merge(struct bench_counts *d, const struct bench_counts *s)
{
    d->published += s->published;
    d->published_win += s->published_win;
    d->expected += s->expected;
    d->acked += s->acked;
    d->rejected += s->rejected;
    d->abandoned += s->abandoned;
    d->received += s->received;
    d->received_win += s->received_win;
    d->unique += s->unique;
    d->duplicates += s->duplicates;
    d->reordered += s->reordered;
    d->foreign += s->foreign;
    d->qos2_resent += s->qos2_resent;
    d->ready += s->ready;
    d->failed += s->failed;
    d->closed += s->closed;
    d->proto_errors += s->proto_errors;
    d->downgraded += s->downgraded;
    d->first_open_ns = min_nonzero(d->first_open_ns, s->first_open_ns);
    if (s->last_ready_ns > d->last_ready_ns) d->last_ready_ns = s->last_ready_ns;
    if (s->last_publish_ns > d->last_publish_ns) d->last_publish_ns = s->last_publish_ns;
    if (s->last_delivery_ns > d->last_delivery_ns) d->last_delivery_ns = s->last_delivery_ns;
    stats_hist_merge(&d->lat, &s->lat);
    stats_hist_merge(&d->conn_lat, &s->conn_lat);
}

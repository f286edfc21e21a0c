/*
 * scenario_pubsub.c - P publishers -> S subscribers; the run is drawn in bench.h.
 *
 * Expected deliveries come from the patterns, not from the broker: publisher p
 * publishes on topic(p), subscriber s subscribes to filter(s), and every message of
 * p must reach every s whose filter matches topic(p) (proto/topic.c's matcher,
 * the executable definition of MQTT 4.7). So
 *
 *   expected = sum over p of published(p) x |{ s : filter(s) matches topic(p) }|
 *   lost     = expected - unique deliveries (QoS 0: reported as "dropped")
 *
 * Subscribers keep one struct pair per matching publisher (sorted, found by
 * binary search), which bounds memory by the number of matching pairs.
 *
 * Shared subscriptions: subscribers whose expanded filter is the same
 * "$share/GROUP/FILTER" form one group, and the broker gives each message to one
 * of them [MQTT-4.8.2]. A group counts once in the sum above (with FILTER as its
 * filter), and its members record deliveries in one struct seen per matching
 * publisher (seen.h), so that a message reaching two members is a duplicate.
 * Reordering is still judged per member: each gets an ordered subsequence.
 * Expanding a pattern is one-to-one in the index when it has %i, and constant
 * when it has not, so the members of a group are always neighbours.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "conn.h"
#include "core/error.h"
#include "loop.h"
#include "proto/topic.h"
#include "proto/utf8.h"
#include "seen.h"

/* struct pair is 80 bytes: 20 M pairs = 1.6 GB is where we stop. */
#define MAX_PAIRS 20000000ull
/* struct seen is 8 KiB before any message: 10,000 (group, publisher) = 80 MB. */
#define MAX_GROUP_PAIRS 10000ull

/* Expands %i (index) and %% in pat. Returns NULL on allocation failure. */
static char *expand(const char *pat, uint32_t i)
{
    size_t cap = 1;
    for (const char *p = pat; *p; p++)
        cap += (p[0] == '%' && p[1] == 'i') ? 11 : 1;
    char *out = malloc(cap), *w = out;
    if (!out) return NULL;
    for (const char *p = pat; *p; p++) {
        if (p[0] == '%' && p[1] == 'i') {
            w += sprintf(w, "%u", i);
            p++;
        } else if (p[0] == '%' && p[1] == '%') {
            *w++ = '%';
            p++;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    return out;
}

static bool pattern_ok(const char *pat, const char *opt, char *err, size_t errlen)
{
    for (const char *p = pat; *p; p++) {
        if (*p != '%') continue;
        if (p[1] == 'i' || p[1] == '%') {
            p++;
            continue;
        }
        snprintf(err, errlen, "%s '%s': only %%i and %%%% may follow '%%'", opt, pat);
        return false;
    }
    return true;
}

struct plan {
    uint32_t P, S;
    char **topics, **filters;
    uint32_t **lists; /* per subscriber; equal neighbours share one array */
    uint32_t *nlist;
    struct seen **seen;    /* per subscriber: [nlist], shared by a group; NULL if not shared */
    uint32_t *nmatch;      /* per publisher: matching subscribers, a group counting once */
    uint64_t pairs;        /* (subscriber or group, publisher) that must get every message */
    uint64_t member_pairs; /* (subscriber, publisher): struct pair records */
    uint64_t group_pairs;  /* (group, publisher): struct seen records */
};

/* Whether subscriber s has its neighbour's filter, and so shares its list and,
 * for a shared filter, is a member of the same group. */
static bool plan_repeats(const struct plan *pl, uint32_t s)
{
    return s > 0 && pl->filters[s] && pl->filters[s - 1] &&
           strcmp(pl->filters[s], pl->filters[s - 1]) == 0;
}

static void plan_free(struct plan *pl)
{
    for (uint32_t p = 0; pl->topics && p < pl->P; p++)
        free(pl->topics[p]);
    for (uint32_t s = 0; pl->filters && pl->lists && s < pl->S; s++) {
        if (plan_repeats(pl, s)) continue; /* its arrays are its neighbour's */
        if (pl->seen && pl->seen[s]) {
            for (uint32_t k = 0; k < pl->nlist[s]; k++)
                seen_free(&pl->seen[s][k]);
            free(pl->seen[s]);
        }
        free(pl->lists[s]);
    }
    for (uint32_t s = 0; pl->filters && s < pl->S; s++)
        free(pl->filters[s]);
    free(pl->topics);
    free(pl->filters);
    free(pl->lists);
    free(pl->nlist);
    free(pl->seen);
    free(pl->nmatch);
}

/* Returns 0, 1 (out of memory / too big) or 2 (bad pattern), with err set. */
static int plan_make(const struct bench_opts *o, struct plan *pl, char *err, size_t errlen)
{
    memset(pl, 0, sizeof(*pl));
    pl->P = o->publishers;
    pl->S = o->subscribers;
    if (!pattern_ok(o->topic_pattern, "-t", err, errlen) ||
        !pattern_ok(o->filter_pattern, "-T", err, errlen))
        return 2;
    pl->topics = calloc(pl->P, sizeof(char *));
    pl->filters = calloc(pl->S ? pl->S : 1, sizeof(char *));
    pl->lists = calloc(pl->S ? pl->S : 1, sizeof(uint32_t *));
    pl->nlist = calloc(pl->S ? pl->S : 1, sizeof(uint32_t));
    pl->seen = calloc(pl->S ? pl->S : 1, sizeof(struct seen *));
    pl->nmatch = calloc(pl->P, sizeof(uint32_t));
    if (!pl->topics || !pl->filters || !pl->lists || !pl->nlist || !pl->seen || !pl->nmatch)
        goto oom;

    for (uint32_t p = 0; p < pl->P; p++) {
        char *t = pl->topics[p] = expand(o->topic_pattern, p);
        if (!t) goto oom;
        size_t n = strlen(t);
        if (!sl_utf8_valid((const uint8_t *)t, n) || !sl_topic_name_valid((const uint8_t *)t, n) ||
            n > 65535) {
            snprintf(err, errlen, "-t: '%s' (publisher %u) is not a valid topic name", t, p);
            return 2;
        }
    }
    for (uint32_t s = 0; s < pl->S; s++) {
        char *f = pl->filters[s] = expand(o->filter_pattern, s);
        if (!f) goto oom;
        size_t n = strlen(f);
        if (!sl_utf8_valid((const uint8_t *)f, n) ||
            !sl_topic_sub_filter_valid((const uint8_t *)f, n, NULL) || n > 65535) {
            snprintf(err, errlen, "-T: '%s' (subscriber %u) is not a valid topic filter", f, s);
            return 2;
        }
    }

    for (uint32_t s = 0; s < pl->S; s++) {
        if (plan_repeats(pl, s)) {
            pl->lists[s] = pl->lists[s - 1];
            pl->nlist[s] = pl->nlist[s - 1];
            pl->seen[s] = pl->seen[s - 1];
        } else {
            /* A shared filter matches with its FILTER part. */
            const uint8_t *f = (const uint8_t *)pl->filters[s], *group, *sf;
            size_t flen = strlen(pl->filters[s]), glen, sflen;
            bool valid, shared = sl_topic_share_split(f, flen, &group, &glen, &sf, &sflen, &valid);
            if (shared) {
                f = sf;
                flen = sflen;
            }
            uint32_t n = 0, cap = 0;
            uint32_t *list = NULL;
            for (uint32_t p = 0; p < pl->P; p++) {
                if (!sl_topic_matches(f, flen, (const uint8_t *)pl->topics[p],
                                      strlen(pl->topics[p])))
                    continue;
                if (n == cap) {
                    cap = cap ? cap * 2 : 4;
                    uint32_t *nl = realloc(list, cap * sizeof(uint32_t));
                    if (!nl) {
                        free(list);
                        goto oom;
                    }
                    list = nl;
                }
                list[n++] = p; /* ascending: sorted for the binary search */
            }
            pl->lists[s] = list;
            pl->nlist[s] = n;
            if (shared) {
                pl->group_pairs += n;
                if (pl->group_pairs > MAX_GROUP_PAIRS) break; /* refused below */
                pl->seen[s] = calloc(n ? n : 1, sizeof(struct seen));
                if (!pl->seen[s]) goto oom;
            }
        }
        pl->member_pairs += pl->nlist[s];
        /* A group's later members repeat its first: the group counts once. */
        if (pl->seen[s] && plan_repeats(pl, s)) continue;
        pl->pairs += pl->nlist[s];
        for (uint32_t k = 0; k < pl->nlist[s]; k++)
            pl->nmatch[pl->lists[s][k]]++;
    }
    if (pl->member_pairs > MAX_PAIRS || pl->group_pairs > MAX_GROUP_PAIRS) {
        snprintf(err, errlen,
                 "%llu (subscriber, publisher) and %llu (shared group, publisher) pairs match: "
                 "over the %llu and %llu the loss accounting keeps; use narrower filters",
                 (unsigned long long)pl->member_pairs, (unsigned long long)pl->group_pairs,
                 MAX_PAIRS, MAX_GROUP_PAIRS);
        return 1;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return 1;
}

int scenario_pubsub_run(const struct bench_opts *o, struct pubsub_result *r)
{
    struct plan pl;
    struct run_ctl ctl;
    struct loop *loops = NULL;
    uint32_t nloops = 0;
    int ret = 1;

    memset(r, 0, sizeof(*r));
    stats_counts_init(&r->c);
    run_ctl_init(&ctl);

    ret = plan_make(o, &pl, r->err, sizeof(r->err));
    if (ret != 0) goto out;
    ret = 1;
    r->matched_pairs = (uint32_t)pl.pairs;

    loops = calloc(o->threads, sizeof(*loops));
    if (!loops) goto oom;
    for (; nloops < o->threads; nloops++) {
        if (loop_init(&loops[nloops], nloops, o, &ctl) != SL_OK) {
            nloops++; /* partly initialised: destroy it too */
            goto oom;
        }
    }

    /* Subscribers first, then publishers, dealt round-robin over the loops: with
     * two threads a 1 -> 1 run puts each end on its own thread. */
    uint32_t g = 0;
    for (uint32_t s = 0; s < pl.S; s++, g++) {
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) goto oom;
        c->gindex = g;
        if (conn_sub_init(c, o, pl.filters[s], s, pl.lists[s], pl.seen[s], pl.nlist[s]) != SL_OK ||
            loop_add(&loops[g % nloops], c) != SL_OK) {
            conn_free(c);
            free(c);
            goto oom;
        }
    }
    for (uint32_t p = 0; p < pl.P; p++, g++) {
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) goto oom;
        c->gindex = g;
        int rc = conn_pub_init(c, o, pl.topics[p], p, pl.nmatch[p], pl.P);
        if (rc == SL_OK && loop_add(&loops[g % nloops], c) != SL_OK) rc = SL_ENOMEM;
        if (rc != SL_OK) {
            conn_free(c);
            free(c);
        }
        if (rc == SL_ETOOBIG) {
            snprintf(r->err, sizeof(r->err),
                     "-s %u: the PUBLISH packet would be over the "
                     "MQTT maximum of %u bytes",
                     o->payload, 268435455u);
            ret = 2;
            goto out;
        }
        if (rc != SL_OK) goto oom;
    }

    for (uint32_t i = 0; i < nloops; i++)
        if (loop_start(&loops[i]) != SL_OK) {
            snprintf(r->err, sizeof(r->err), "cannot start thread");
            goto out;
        }

    /* Connect and subscribe. Each connection has its own handshake deadline
     * (conn_tick), so this ends. */
    uint32_t total = pl.P + pl.S;
    struct loop_totals t;
    for (;;) {
        loops_sum(loops, nloops, &t);
        if (t.ready + t.failed >= total || bench_interrupted) break;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (t.failed || bench_interrupted) {
        loops_quit(&ctl, loops, nloops);
        snprintf(r->err, sizeof(r->err), "%s%s (%llu of %u connections failed)",
                 bench_interrupted ? "interrupted during set-up" : "set-up failed: ",
                 bench_interrupted ? "" : loops_first_error(loops, nloops),
                 (unsigned long long)t.failed, total);
        r->interrupted = bench_interrupted;
        goto out;
    }

    /* Go. 20 ms ahead so every loop sees the phase before t_go. */
    int64_t drain_ns = (int64_t)(o->drain * 1e9);
    ctl.t_go = bench_now() + 20 * 1000 * 1000;
    ctl.t_ms = o->count ? ctl.t_go : ctl.t_go + (int64_t)(o->warmup * 1e9);
    int64_t t_me = o->count ? INT64_MAX : ctl.t_ms + (int64_t)(o->duration * 1e9);
    atomic_store_explicit(&ctl.t_me, t_me, memory_order_relaxed);
    atomic_store_explicit(&ctl.phase, PHASE_GO, memory_order_release);

    int64_t cpu_t0 = 0, cpu_t1 = 0;
    double self_t0 = 0, self_t1 = 0;
    int64_t drain_deadline = INT64_MAX;
    if (!o->count) {
        if (loop_sleep_until(ctl.t_ms)) {
            proc_sample(o->broker_pid, &r->b0);
            proc_threads_sample(o->broker_pid, &r->bt0);
            cpu_t0 = bench_now();
            self_t0 = proc_self_cpu();
            if (!loop_sleep_until(t_me)) {
                t_me = bench_now();
                atomic_store_explicit(&ctl.t_me, t_me, memory_order_relaxed);
            }
            proc_sample(o->broker_pid, &r->b1);
            proc_threads_sample(o->broker_pid, &r->bt1);
            cpu_t1 = bench_now();
            self_t1 = proc_self_cpu();
        } else {
            t_me = ctl.t_ms; /* interrupted in the warm-up: nothing measured */
            atomic_store_explicit(&ctl.t_me, t_me, memory_order_relaxed);
        }
        drain_deadline = t_me + drain_ns;
    } else {
        (void)loop_sleep_until(ctl.t_go);
        proc_sample(o->broker_pid, &r->b0);
        proc_threads_sample(o->broker_pid, &r->bt0);
        cpu_t0 = bench_now();
        self_t0 = proc_self_cpu();
    }

    /* Drain: wait for every expected delivery and acknowledgement. */
    uint64_t last_progress = UINT64_MAX;
    int64_t last_progress_t = bench_now();
    int64_t quiet_ns = drain_ns < BENCH_NS ? drain_ns : BENCH_NS;
    bool interrupt_seen = bench_interrupted;
    for (;;) {
        loops_sum(loops, nloops, &t);
        int64_t now = bench_now();
        bool all_sent = t.pubs_sent_all >= pl.P;
        if (all_sent && drain_deadline == INT64_MAX) drain_deadline = now + drain_ns;
        if (all_sent && t.inflight == 0 && t.blocked == 0 && t.unique >= t.expected) break;
        uint64_t progress = t.published + t.received + t.acked;
        if (progress != last_progress) {
            last_progress = progress;
            last_progress_t = now;
        }
        /* QoS 0: what has not come after a quiet second was dropped. */
        if (o->qos == 0 && all_sent && t.blocked == 0 && now - last_progress_t >= quiet_ns) break;
        if (t.closed + t.failed >= total)
            break; /* every connection is gone: nothing more can arrive */
        if (now >= drain_deadline) {
            r->incomplete = true;
            break;
        }
        if (o->count && !all_sent && now - last_progress_t >= drain_ns) {
            r->stalled = true;
            break;
        }
        if (bench_interrupted && !interrupt_seen) {
            interrupt_seen = true; /* stop publishing, still drain */
            if (atomic_load(&ctl.t_me) > now) atomic_store(&ctl.t_me, now);
            if (drain_deadline > now + drain_ns) drain_deadline = now + drain_ns;
        }
        struct timespec ts = {0, 2 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (o->count) {
        proc_sample(o->broker_pid, &r->b1);
        proc_threads_sample(o->broker_pid, &r->bt1);
        cpu_t1 = bench_now();
        self_t1 = proc_self_cpu();
    }
    r->interrupted = interrupt_seen;
    loops_quit(&ctl, loops, nloops);

    for (uint32_t i = 0; i < nloops; i++)
        stats_counts_merge(&r->c, &loops[i].c);
    snprintf(r->err, sizeof(r->err), "%s", loops_first_error(loops, nloops));
    r->lost = r->c.expected > r->c.unique ? r->c.expected - r->c.unique : 0;
    r->cpu_window_s = (double)(cpu_t1 - cpu_t0) / 1e9;
    r->bench_cpu_window_s = self_t1 - self_t0;
    if (o->count) {
        int64_t t_end = atomic_load(&ctl.t_me);
        r->publish_s = (double)(r->c.last_publish_ns - ctl.t_go) / 1e9;
        r->deliver_s = (double)(r->c.last_delivery_ns - ctl.t_go) / 1e9;
        if (t_end != INT64_MAX && r->c.last_publish_ns == 0) r->publish_s = 0;
        r->measured_s = r->deliver_s > r->publish_s ? r->deliver_s : r->publish_s;
        r->publish_rate = r->publish_s > 0 ? (double)r->c.published / r->publish_s : 0;
        r->delivery_rate = r->deliver_s > 0 ? (double)r->c.received / r->deliver_s : 0;
        r->cpu_msgs = r->c.received;
    } else {
        r->measured_s = (double)(atomic_load(&ctl.t_me) - ctl.t_ms) / 1e9;
        if (r->measured_s < 0) r->measured_s = 0;
        r->publish_s = r->deliver_s = r->measured_s;
        r->publish_rate = r->measured_s > 0 ? (double)r->c.published_win / r->measured_s : 0;
        r->delivery_rate = r->measured_s > 0 ? (double)r->c.received_win / r->measured_s : 0;
        r->cpu_msgs = r->c.received_win;
    }
    r->bench_cpu_s = proc_self_cpu();
    ret = 0;
    goto out;

oom:
    snprintf(r->err, sizeof(r->err), "out of memory");
    ret = 1;
out:
    loops_free(&ctl, loops, nloops);
    plan_free(&pl);
    return ret;
}

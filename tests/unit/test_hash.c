/* Unit test for core/hash.h: worker choice (sl_hash_pick) and table buckets (low
 * bits) must spread ids that differ in patterned ways, which raw FNV-1a does
 * not (with 2 workers it would reduce to the parity of the bytes), and one
 * worker's ids must still spread over all the buckets of its table. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/hash.h"

/* kind 0: "node-N"; 1: "dev-XXN" (doubled letter, as in node-aa, node-bb);
 * 2: "sensor/%08d"; 3: "unit-" + i written in base 5 with the digits 0 2 4 6 8.
 * Kind 3 is what an unmixed FNV-1a cannot spread: its low bit is the XOR of the
 * bytes' low bits, the same for all of these ids, so all would share a worker. */
static void make_id(char *id, size_t len, int kind, int i)
{
    if (kind == 3) {
        char digits[16];
        int n = 0;
        do {
            digits[n++] = (char)('0' + 2 * (i % 5));
            i /= 5;
        } while (i && n < 15);
        int k = snprintf(id, len, "unit-");
        while (n && (size_t)k + 1 < len)
            id[k++] = digits[--n];
        id[k] = 0;
    } else if (kind == 0)
        snprintf(id, len, "node-%d", i);
    else if (kind == 1)
        snprintf(id, len, "dev-%c%c%d", 'a' + i % 26, 'a' + i % 26, i / 26);
    else
        snprintf(id, len, "sensor/%08d", i);
}

static void spread(int kind, int n, unsigned buckets)
{
    static const char *names[] = {"node-N", "dev-XXN", "sensor/N", "unit-<even digits>"};
    const char *fmt = names[kind];
    int count[16] = {0};
    char id[64];
    for (int i = 0; i < n; i++) {
        make_id(id, sizeof(id), kind, i);
        count[sl_hash_pick(sl_hash((const uint8_t *)id, strlen(id)), buckets)]++;
    }
    for (unsigned b = 0; b < buckets; b++) {
        /* within +-35% of an even share */
        int even = n / (int)buckets;
        if (count[b] < even * 65 / 100 || count[b] > even * 135 / 100)
            fprintf(stderr, "%s over %u buckets: bucket %u has %d of %d\n", fmt, buckets, b,
                    count[b], n);
        CHECK(count[b] >= even * 65 / 100 && count[b] <= even * 135 / 100);
    }
}

static void test_worker_spread(void)
{
    for (unsigned w = 2; w <= 16; w *= 2) {
        spread(0, 4000, w);
        spread(1, 4000, w);
        spread(2, 4000, w);
        spread(3, 4000, w);
    }
    spread(0, 3000, 3);
    spread(0, 3000, 6);
}

/* The ids that land on worker 0 of n, in a table of 1024 buckets: nearly every
 * bucket is used (100,000 ids, so at least 6,250 per worker), as the choice of
 * worker and of bucket take different bits. */
static void test_buckets_within_a_worker(void)
{
    for (unsigned n = 2; n <= 16; n *= 2) {
        static unsigned char used[1024];
        memset(used, 0, sizeof(used));
        char id[64];
        for (int i = 0; i < 100000; i++) {
            make_id(id, sizeof(id), 0, i);
            uint32_t h = sl_hash((const uint8_t *)id, strlen(id));
            if (sl_hash_pick(h, n) == 0) used[h & 1023] = 1;
        }
        int k = 0;
        for (int b = 0; b < 1024; b++)
            k += used[b];
        if (k < 1000) fprintf(stderr, "%u workers: worker 0 uses %d of 1024 buckets\n", n, k);
        CHECK(k >= 1000);
    }
}

static void test_stable(void)
{
    /* Worker homes must not change between runs or builds of one version, so
     * the values are pinned (FNV-1a, then murmur3's fmix32). */
    CHECK_EQ_INT(sl_hash((const uint8_t *)"", 0), 2872998923u);
    CHECK_EQ_INT(sl_hash((const uint8_t *)"a", 1), 444641715u);
    CHECK_EQ_INT(sl_hash((const uint8_t *)"node-1", 6), 2865264164u);
    CHECK(sl_hash((const uint8_t *)"a", 1) != sl_hash((const uint8_t *)"b", 1));
}

int main(void)
{
    RUN(test_worker_spread);
    RUN(test_buckets_within_a_worker);
    RUN(test_stable);
    return check_summary();
}

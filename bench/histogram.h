/* SPDX-License-Identifier: MIT */
/*
 * histogram.h - a log-linear latency histogram, HdrHistogram-style.
 *
 * Values (nanoseconds, any uint64_t) below 2^HIST_SUB_BITS are counted
 * exactly; above, each power of two is split into 2^(HIST_SUB_BITS-1)
 * equal buckets, so a bucket is at most 1/128 of its lower bound wide and
 * any percentile read back is within 0.79 % of a recorded value (<= 1 %).
 * Recording is one bit scan and an increment: cheap enough to call per
 * message inside a timed loop. Not thread-safe: one histogram per thread,
 * merged afterwards.
 */
#ifndef RK_BENCH_HISTOGRAM_H
#define RK_BENCH_HISTOGRAM_H

#include <stdint.h>

#define HIST_SUB_BITS  8
#define HIST_SUB_COUNT (1u << HIST_SUB_BITS) /* exact values below this */
#define HIST_HALF      (HIST_SUB_COUNT / 2)  /* buckets per power of two */
#define HIST_NBUCKETS  (HIST_SUB_COUNT + (64 - HIST_SUB_BITS) * HIST_HALF)

struct hist {
	uint64_t count;
	uint64_t min, max;
	double sum;
	uint64_t bucket[HIST_NBUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t v);
void hist_record_n(struct hist *h, uint64_t v, uint64_t n);
void hist_merge(struct hist *dst, const struct hist *src);

/* The value at percentile p (0..100): the highest value equivalent to the
 * bucket holding that rank, clamped to [min, max]; 0 when empty. p >= 100
 * gives max exactly, p <= 0 min. */
uint64_t hist_percentile(const struct hist *h, double p);
double hist_mean(const struct hist *h);

/* Bucket geometry (exposed for the tests). */
unsigned hist_bucket_of(uint64_t v);
uint64_t hist_bucket_low(unsigned i);
uint64_t hist_bucket_high(unsigned i); /* inclusive */

#endif

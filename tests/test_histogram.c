/* SPDX-License-Identifier: MIT */
/* bench/histogram: log-linear latency histogram, <= 1 % relative error. */
#include <stdint.h>
#include <stdlib.h>

#include "../bench/histogram.h"
#include "testutil.h"

static struct hist *new_hist(void)
{
	struct hist *h = malloc(sizeof(*h));
	cr_assert_not_null(h);
	hist_init(h);
	return h;
}

Test(histogram, small_values_are_exact)
{
	for (uint64_t v = 0; v < HIST_SUB_COUNT; v++) {
		unsigned i = hist_bucket_of(v);
		cr_assert_eq(hist_bucket_low(i), v);
		cr_assert_eq(hist_bucket_high(i), v);
	}
}

Test(histogram, buckets_tile_the_range_without_gaps)
{
	for (unsigned i = 0; i + 1 < HIST_NBUCKETS; i++)
		cr_assert_eq(hist_bucket_high(i) + 1, hist_bucket_low(i + 1), "gap after bucket %u",
			     i);
	cr_assert_eq(hist_bucket_low(0), 0);
	cr_assert_eq(hist_bucket_high(HIST_NBUCKETS - 1), UINT64_MAX);
	cr_assert_eq(hist_bucket_of(UINT64_MAX), HIST_NBUCKETS - 1);
}

Test(histogram, every_value_lands_in_its_bucket_within_one_percent)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int n = 0; n < 200000; n++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t v = x >> (x % 64); /* all magnitudes */
		unsigned i = hist_bucket_of(v);
		cr_assert_lt(i, HIST_NBUCKETS);
		uint64_t lo = hist_bucket_low(i), hi = hist_bucket_high(i);
		cr_assert(lo <= v && v <= hi, "%llu not in [%llu, %llu]", (unsigned long long)v,
			  (unsigned long long)lo, (unsigned long long)hi);
		cr_assert_leq((double)(hi - lo), 0.01 * (double)lo, "bucket %u too wide", i);
	}
}

Test(histogram, percentiles_of_a_uniform_ramp)
{
	struct hist *h = new_hist();
	for (uint64_t v = 1; v <= 1000000; v++)
		hist_record(h, v * 10); /* 10 ns .. 10 ms */
	cr_assert_eq(h->count, 1000000);
	cr_assert_eq(h->min, 10);
	cr_assert_eq(h->max, 10000000);
	const double ps[] = { 1, 10, 50, 90, 99, 99.9, 99.99 };
	for (unsigned k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
		double exact = ps[k] / 100.0 * 1e7;
		double got = (double)hist_percentile(h, ps[k]);
		cr_assert_leq(got > exact ? got - exact : exact - got, 0.01 * exact,
			      "p%g = %.0f, exact %.0f", ps[k], got, exact);
	}
	cr_assert_eq(hist_percentile(h, 100), 10000000);
	cr_assert_eq(hist_percentile(h, 0), 10);
	cr_assert_float_eq(hist_mean(h), 5000005.0, 1e-3);
	free(h);
}

Test(histogram, percentile_of_one_sample_is_that_sample)
{
	struct hist *h = new_hist();
	cr_assert_eq(hist_percentile(h, 50), 0, "empty");
	hist_record(h, 123456789);
	cr_assert_eq(hist_percentile(h, 50), 123456789, "clamped to min/max");
	cr_assert_eq(hist_percentile(h, 99.9), 123456789);
	free(h);
}

Test(histogram, merge_is_the_same_as_recording_both)
{
	struct hist *a = new_hist(), *b = new_hist(), *both = new_hist();
	for (uint64_t v = 1; v < 50000; v++) {
		hist_record(v % 3 ? a : b, v * 7);
		hist_record(both, v * 7);
	}
	hist_record_n(a, 3, 5);
	hist_record_n(both, 3, 5);
	hist_merge(a, b);
	cr_assert_eq(a->count, both->count);
	cr_assert_eq(a->min, both->min);
	cr_assert_eq(a->max, both->max);
	for (unsigned i = 0; i < HIST_NBUCKETS; i++)
		cr_assert_eq(a->bucket[i], both->bucket[i]);
	cr_assert_eq(hist_percentile(a, 99), hist_percentile(both, 99));
	free(a);
	free(b);
	free(both);
}

/* SPDX-License-Identifier: MIT */
/* Log-linear latency histogram: see histogram.h for the error bound. */
#include "config.h"

#include <string.h>

#include "histogram.h"

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned hist_bucket_of(uint64_t v)
{
	if (v < HIST_SUB_COUNT)
		return (unsigned)v;
	/* msb >= HIST_SUB_BITS; keep the top HIST_SUB_BITS bits of v */
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - (HIST_SUB_BITS - 1);
	return HIST_SUB_COUNT + (shift - 1) * HIST_HALF + (unsigned)((v >> shift) - HIST_HALF);
}

uint64_t hist_bucket_low(unsigned i)
{
	if (i < HIST_SUB_COUNT)
		return i;
	unsigned shift = (i - HIST_SUB_COUNT) / HIST_HALF + 1;
	uint64_t sub = (i - HIST_SUB_COUNT) % HIST_HALF + HIST_HALF;
	return sub << shift;
}

uint64_t hist_bucket_high(unsigned i)
{
	if (i < HIST_SUB_COUNT)
		return i;
	unsigned shift = (i - HIST_SUB_COUNT) / HIST_HALF + 1;
	return hist_bucket_low(i) + ((1ull << shift) - 1);
}

void hist_record_n(struct hist *h, uint64_t v, uint64_t n)
{
	if (n == 0)
		return;
	h->bucket[hist_bucket_of(v)] += n;
	h->count += n;
	h->sum += (double)v * (double)n;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void hist_record(struct hist *h, uint64_t v)
{
	hist_record_n(h, v, 1);
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	if (src->count == 0)
		return;
	for (unsigned i = 0; i < HIST_NBUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	if (h->count == 0)
		return 0;
	if (p <= 0)
		return h->min;
	if (p >= 100)
		return h->max;
	/* rank of the sample at p, 1-based, rounded up: p50 of {1,2} is 1 */
	double want = p / 100.0 * (double)h->count;
	uint64_t rank = (uint64_t)want;
	if ((double)rank < want)
		rank++;
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_NBUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t v = hist_bucket_high(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

double hist_mean(const struct hist *h)
{
	return h->count ? h->sum / (double)h->count : 0.0;
}

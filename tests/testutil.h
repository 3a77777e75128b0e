/* SPDX-License-Identifier: MIT */
/* Shared helpers for the Criterion suites. */
#ifndef RK_TESTUTIL_H
#define RK_TESTUTIL_H

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef RK_TEST_MINICRIT
#include "minicrit.h"
#else
#include <criterion/criterion.h>
#endif

/*
 * Iteration counts for the stress tests. The counts the issues ask for run
 * in the plain build; sanitizer builds (10-50x slower) divide them by
 * RK_TEST_SANITIZED_DIVISOR so the whole CI fits its time. RK_TEST_SCALE
 * (a divisor) overrides both.
 */
static inline uint64_t rk_test_count(uint64_t n)
{
	const char *scale = getenv("RK_TEST_SCALE");
	const char *san = getenv("RK_TEST_SANITIZED");
	uint64_t div = 1;
	if (scale && *scale)
		div = strtoull(scale, NULL, 10);
	else if (san && *san)
		div = 20;
	if (div == 0)
		div = 1;
	return n / div ? n / div : 1;
}

/* Memory for a ring: aligned to a 128-byte line. aligned_alloc() wants the
 * size a multiple of the alignment (ASan enforces it), so round it up. */
static inline void *rk_test_alloc_lines(size_t size)
{
	return aligned_alloc(128, (size + 127) / 128 * 128);
}

/* Unique shared-memory object name for this process and tag. */
static inline const char *rk_test_shm_name(char *buf, size_t len, const char *tag)
{
	snprintf(buf, len, "rk-test-%s-%ld", tag, (long)getpid());
	return buf;
}

/*
 * Back-off for busy loops in the threaded tests: the CI machine may have
 * fewer free cores than threads, so after a short spin give the CPU away
 * instead of burning the other side's time slice.
 */
static inline void rk_test_backoff(unsigned *spins)
{
	if (++*spins < 64) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
		return;
	}
	*spins = 0;
	sched_yield();
}

/* splitmix64: the payload generator of the stress tests. */
static inline uint64_t rk_test_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Fill `len` bytes from a seed; returns their FNV-1a checksum. */
static inline uint64_t rk_test_fill(void *buf, size_t len, uint64_t seed)
{
	uint8_t *p = buf;
	uint64_t x = rk_test_mix(seed), h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++) {
		if (i % 8 == 0 && i)
			x = rk_test_mix(x);
		p[i] = (uint8_t)(x >> (8 * (i % 8)));
		h = (h ^ p[i]) * 0x100000001b3ull;
	}
	return h;
}

static inline uint64_t rk_test_checksum(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

#endif

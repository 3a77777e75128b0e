/* SPDX-License-Identifier: MIT */
/* Shared helpers for the Criterion suites. */
#ifndef RK_TESTUTIL_H
#define RK_TESTUTIL_H

#include <stdint.h>
#include <stdlib.h>

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

#endif

/* SPDX-License-Identifier: MIT */
/*
 * The host's hybrid logical clock: one per process, shared by every host
 * thread that sends or receives. Packed like the slot header's field:
 * 48-bit physical microseconds << 16 | 16-bit logical counter.
 */
#include "config.h"

#include <time.h>

#include <ringkernel/device.h>
#include <ringkernel/ringkernel.h>

static uint64_t hlc_clock;
static uint64_t hlc_clamped_count;

uint64_t rk_hlc_physical_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	return rk_hlc_pack(us, 0);
}

/* Send rule: max(clock + 1, now). Strictly increasing across all threads. */
uint64_t rk_hlc_now(void)
{
	uint64_t pt = rk_hlc_physical_now();
	uint64_t cur = __atomic_load_n(&hlc_clock, __ATOMIC_RELAXED), next;
	do
		next = pt > cur ? pt : cur + 1;
	while (!__atomic_compare_exchange_n(&hlc_clock, &cur, next, true, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED));
	return next;
}

/*
 * Receive rule: max(clock + 1, seen + 1, now). The skew rule: a timestamp
 * more than RK_HLC_MAX_SKEW (1 s) ahead of this host's physical clock is
 * clamped to now + 1 s and counted, so one runaway clock cannot drag this
 * one arbitrarily far into the future.
 */
uint64_t rk_hlc_observe(uint64_t seen)
{
	uint64_t pt = rk_hlc_physical_now();
	if (seen > pt + RK_HLC_MAX_SKEW) {
		seen = pt + RK_HLC_MAX_SKEW;
		__atomic_fetch_add(&hlc_clamped_count, 1, __ATOMIC_RELAXED);
	}
	uint64_t cur = __atomic_load_n(&hlc_clock, __ATOMIC_RELAXED), next;
	do {
		next = cur + 1;
		if (seen + 1 > next)
			next = seen + 1;
		if (pt > next)
			next = pt;
	} while (!__atomic_compare_exchange_n(&hlc_clock, &cur, next, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return next;
}

uint64_t rk_hlc_clamped(void)
{
	return __atomic_load_n(&hlc_clamped_count, __ATOMIC_RELAXED);
}

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

#include "internal.h"

static uint64_t hlc_clock;
static uint64_t hlc_clamped_count;

/*
 * The physical part, cheaply: a thread re-reads the wall clock only once
 * its cycle counter has moved RK_DEV_HLC_TSC_WINDOW on (about 30-130 us),
 * else it reuses its last reading; the logical counter keeps the clock
 * strictly increasing and causal meanwhile. So the physical part may lag
 * real time by that window, and a message costs no clock read.
 */
static __thread uint64_t pt_last __attribute__((tls_model("initial-exec")));
static __thread uint64_t pt_at __attribute__((tls_model("initial-exec")));

static uint64_t hlc_pt(void)
{
	return rk_dev_phys_hlc_cached(&pt_last, &pt_at);
}

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
	return rki_hlc_reserve(1);
}

/* n consecutive send timestamps at once (a burst); returns the first. */
uint64_t rki_hlc_reserve(unsigned n)
{
	uint64_t pt = hlc_pt();
	uint64_t cur = __atomic_load_n(&hlc_clock, __ATOMIC_RELAXED), first;
	do
		first = pt > cur ? pt : cur + 1;
	while (!__atomic_compare_exchange_n(&hlc_clock, &cur, first + n - 1, true, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED));
	return first;
}

/*
 * Receive rule: max(clock + 1, seen + 1, now). The skew rule: a timestamp
 * more than RK_HLC_MAX_SKEW (1 s) ahead of this host's physical clock is
 * clamped to now + 1 s and counted, so one runaway clock cannot drag this
 * one arbitrarily far into the future.
 */
uint64_t rk_hlc_observe(uint64_t seen)
{
	return rki_hlc_observe(seen);
}

uint64_t rki_hlc_observe(uint64_t seen)
{
	uint64_t pt = hlc_pt();
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

/* SPDX-License-Identifier: MIT */
/*
 * runtime/hlc.h - the host's hybrid logical clock, inline: every send and
 * receive ticks it, so its two rules cost no call. One clock per process,
 * shared by every host thread. Packed like the slot header's field:
 * 48-bit physical microseconds << 16 | 16-bit logical counter.
 *
 * The physical part, cheaply: a thread re-reads the wall clock only once
 * its cycle counter has moved RK_DEV_HLC_TSC_WINDOW on (about 30-130 us),
 * else it reuses its last reading; the logical counter keeps the clock
 * strictly increasing and causal meanwhile. So the physical part may lag
 * real time by that window, and a message costs no clock read.
 */
#ifndef RK_RUNTIME_HLC_H
#define RK_RUNTIME_HLC_H

#include <stdint.h>

#include <ringkernel/device.h>

/* hlc.c */
extern uint64_t rki_hlc_clock;
extern uint64_t rki_hlc_clamped_count;
extern __thread uint64_t rki_hlc_pt_last __attribute__((tls_model("initial-exec")));
extern __thread uint64_t rki_hlc_pt_at __attribute__((tls_model("initial-exec")));

static inline uint64_t rki_hlc_pt(void)
{
	return rk_dev_phys_hlc_cached(&rki_hlc_pt_last, &rki_hlc_pt_at);
}

/* Send rule, for n consecutive send timestamps at once (a burst):
 * max(clock + 1, now), strictly increasing across all threads. Returns
 * the first. */
static inline uint64_t rki_hlc_reserve(unsigned n)
{
	uint64_t pt = rki_hlc_pt();
	uint64_t cur = __atomic_load_n(&rki_hlc_clock, __ATOMIC_RELAXED), first;
	do
		first = pt > cur ? pt : cur + 1;
	while (!__atomic_compare_exchange_n(&rki_hlc_clock, &cur, first + n - 1, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return first;
}

/*
 * Receive rule: max(clock + 1, seen + 1, now). The skew rule: a timestamp
 * more than RK_HLC_MAX_SKEW (1 s) ahead of this host's physical clock is
 * clamped to now + 1 s and counted, so one runaway clock cannot drag this
 * one arbitrarily far into the future.
 */
static inline uint64_t rki_hlc_observe(uint64_t seen)
{
	uint64_t pt = rki_hlc_pt();
	if (__builtin_expect(seen > pt + RK_HLC_MAX_SKEW, 0)) {
		seen = pt + RK_HLC_MAX_SKEW;
		__atomic_fetch_add(&rki_hlc_clamped_count, 1, __ATOMIC_RELAXED);
	}
	uint64_t cur = __atomic_load_n(&rki_hlc_clock, __ATOMIC_RELAXED), next;
	do {
		next = cur + 1;
		if (seen + 1 > next)
			next = seen + 1;
		if (pt > next)
			next = pt;
	} while (!__atomic_compare_exchange_n(&rki_hlc_clock, &cur, next, true, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return next;
}

/*
 * The receive rule as a receiver of messages applies it, cheaply: the
 * clock becomes later than `seen`, and is left as it is when it already
 * is. `now` is left out: it changes no timestamp, since whatever reads the
 * clock (a send, rk_hlc_now) takes the max with `now` itself. The skew
 * rule is checked against this thread's last reading of the physical
 * clock, read again only when `seen` looks too far ahead of it.
 */
static inline void rki_hlc_merge(uint64_t seen)
{
	uint64_t pt = rki_hlc_pt_last;
	if (__builtin_expect(seen > pt + RK_HLC_MAX_SKEW, 0)) {
		pt = rki_hlc_pt();
		if (seen > pt + RK_HLC_MAX_SKEW) {
			seen = pt + RK_HLC_MAX_SKEW;
			__atomic_fetch_add(&rki_hlc_clamped_count, 1, __ATOMIC_RELAXED);
		}
	}
	uint64_t cur = __atomic_load_n(&rki_hlc_clock, __ATOMIC_RELAXED);
	while (cur <= seen && !__atomic_compare_exchange_n(&rki_hlc_clock, &cur, seen + 1, true,
							   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

#endif

/* SPDX-License-Identifier: MIT */
/* The host's hybrid logical clock (see hlc.h): its state and the public
 * entry points. */
#include "config.h"

#include <time.h>

#include <ringkernel/ringkernel.h>

#include "hlc.h"

uint64_t rki_hlc_clock;
uint64_t rki_hlc_clamped_count;
__thread uint64_t rki_hlc_pt_last __attribute__((tls_model("initial-exec")));
__thread uint64_t rki_hlc_pt_at __attribute__((tls_model("initial-exec")));

uint64_t rk_hlc_physical_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	return rk_hlc_pack(us, 0);
}

uint64_t rk_hlc_now(void)
{
	return rki_hlc_reserve(1);
}

uint64_t rk_hlc_observe(uint64_t seen)
{
	return rki_hlc_observe(seen);
}

uint64_t rk_hlc_clamped(void)
{
	return __atomic_load_n(&rki_hlc_clamped_count, __ATOMIC_RELAXED);
}

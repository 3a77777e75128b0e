/* SPDX-License-Identifier: MIT */
/*
 * shm/sys.h - the clock, deadlines, futexes and process liveness, in one
 * place (private to the project: shm/, runtime/ and the in-tree plugins).
 *
 * Time is uint64_t nanoseconds of CLOCK_MONOTONIC. A deadline is an
 * absolute time; RK_SYS_NEVER (UINT64_MAX) is "forever", and every helper
 * saturates instead of wrapping, so RK_FOREVER never becomes "now".
 */
#ifndef RK_SHM_SYS_H
#define RK_SHM_SYS_H

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#ifndef FUTEX_BITSET_MATCH_ANY
#define FUTEX_BITSET_MATCH_ANY 0xffffffff
#endif

#define RK_SYS_NEVER UINT64_MAX

static inline uint64_t rk_sys_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* now + rel, saturating: RK_SYS_NEVER for "forever" or an overflow. */
static inline uint64_t rk_sys_deadline_at(uint64_t now, uint64_t rel)
{
	return rel > RK_SYS_NEVER - now ? RK_SYS_NEVER : now + rel;
}

static inline uint64_t rk_sys_deadline(uint64_t rel)
{
	return rel == RK_SYS_NEVER ? RK_SYS_NEVER : rk_sys_deadline_at(rk_sys_now_ns(), rel);
}

/* Nanoseconds left until `deadline` (0 once passed; RK_SYS_NEVER stays). */
static inline uint64_t rk_sys_left(uint64_t deadline)
{
	if (deadline == RK_SYS_NEVER)
		return RK_SYS_NEVER;
	uint64_t now = rk_sys_now_ns();
	return deadline > now ? deadline - now : 0;
}

static inline struct timespec rk_sys_ts(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };
	return ts;
}

/* Shared (never FUTEX_PRIVATE) futexes: the other side may be another
 * process mapping the same region. */
static inline void rk_sys_futex_wake(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/*
 * Sleep while *word == expected, until the absolute CLOCK_MONOTONIC
 * `deadline` (RK_SYS_NEVER: no limit). 0 when woken or the value differed,
 * -ETIMEDOUT, -EINTR on a signal (callers re-check and loop), or the
 * kernel's error for a bad address.
 */
static inline int rk_sys_futex_wait_until(uint32_t *word, uint32_t expected, uint64_t deadline)
{
	struct timespec abs, *absp = NULL;
	if (deadline != RK_SYS_NEVER) {
		abs = rk_sys_ts(deadline);
		absp = &abs;
	}
	long ret = syscall(SYS_futex, word, FUTEX_WAIT_BITSET, expected, absp, NULL,
			   FUTEX_BITSET_MATCH_ANY);
	if (ret == 0)
		return 0;
	switch (errno) {
	case EAGAIN: return 0;
	case EINTR: return -EINTR;
	case ETIMEDOUT: return -ETIMEDOUT;
	default: return -errno;
	}
}

/*
 * True when process `pid` is gone: no such process, or a zombie (killed,
 * not yet reaped, which kill(pid, 0) still reports as present).
 */
bool rk_sys_pid_dead(pid_t pid);

/* This process's pid, cached (refreshed in a forked child). */
pid_t rk_sys_pid(void);

#endif /* RK_SHM_SYS_H */

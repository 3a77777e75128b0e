/* SPDX-License-Identifier: MIT */
/* runtime/lock.c - the slow paths of runtime/lock.h. */
#include <limits.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/ring.h>

#include "lock.h"

static void futex_wait(uint32_t *word, uint32_t expected, const struct timespec *rel)
{
	syscall(SYS_futex, word, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, expected, rel, NULL, 0);
}

static void futex_wake(uint32_t *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL, NULL, 0);
}

void rki_mutex_lock_slow(struct rki_mutex *m)
{
	/* Holds are short (no holder sleeps with the lock): spin a little
	 * before sleeping. */
	for (unsigned i = 0; i < 100; i++) {
		uint32_t free_ = 0;
		if (__atomic_load_n(&m->state, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&m->state, &free_, 1, false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
		RK_CPU_RELAX();
	}
	/* From here on the lock is taken as "held with sleepers" (2), so
	 * that the unlock which lets this thread in wakes the next one. */
	while (__atomic_exchange_n(&m->state, 2, __ATOMIC_ACQUIRE) != 0)
		futex_wait(&m->state, 2, NULL);
}

void rki_mutex_wake(struct rki_mutex *m)
{
	futex_wake(&m->state, 1);
}

void rki_cond_wake_all(struct rki_cond *c)
{
	futex_wake(&c->seq, INT_MAX);
}

void rki_cond_wait(struct rki_cond *c, struct rki_mutex *m, uint64_t timeout_ns)
{
	uint32_t seen = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);
	struct timespec rel = {
		.tv_sec = (time_t)(timeout_ns / 1000000000u),
		.tv_nsec = (long)(timeout_ns % 1000000000u),
	};
	c->waiters++;
	rki_mutex_unlock(m);
	futex_wait(&c->seq, seen, &rel);
	rki_mutex_lock(m);
	c->waiters--;
}

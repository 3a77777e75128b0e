/* SPDX-License-Identifier: MIT */
/*
 * runtime/lock.h - a kernel handle's receive lock and its wait, on private
 * futexes.
 *
 * Every receive and call takes the receive lock once: an uncontended
 * lock and unlock here are one atomic each and no call, where a pthread
 * mutex costs ~50 instructions through libc. The mutex is the classic
 * three-state futex lock (0 free, 1 held, 2 held with sleepers). The
 * condition is an event count: a broadcast, always made with the mutex
 * held, moves `seq`; a waiter reads `seq` with the mutex held and sleeps
 * only while it is unchanged, so no broadcast is missed.
 *
 * The words live in process-private memory (the rk_kernel handle), hence
 * FUTEX_PRIVATE_FLAG.
 */
#ifndef RK_RUNTIME_LOCK_H
#define RK_RUNTIME_LOCK_H

#include <stdbool.h>
#include <stdint.h>

struct rki_mutex {
	uint32_t state;
};

struct rki_cond {
	uint32_t seq;
	uint32_t waiters; /* under the mutex */
};

void rki_mutex_lock_slow(struct rki_mutex *m);
void rki_mutex_wake(struct rki_mutex *m);
void rki_cond_wake_all(struct rki_cond *c);
void rki_cond_wait(struct rki_cond *c, struct rki_mutex *m, uint64_t timeout_ns);

static inline void rki_mutex_lock(struct rki_mutex *m)
{
	uint32_t free_ = 0;
	if (!__atomic_compare_exchange_n(&m->state, &free_, 1, false, __ATOMIC_ACQUIRE,
					 __ATOMIC_RELAXED))
		rki_mutex_lock_slow(m);
}

static inline void rki_mutex_unlock(struct rki_mutex *m)
{
	if (__atomic_exchange_n(&m->state, 0, __ATOMIC_RELEASE) == 2)
		rki_mutex_wake(m);
}

/* Wake every waiter of c. The caller holds the mutex the waiters use. */
static inline void rki_cond_broadcast(struct rki_cond *c)
{
	__atomic_store_n(&c->seq, __atomic_load_n(&c->seq, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
	if (c->waiters)
		rki_cond_wake_all(c);
}

#endif

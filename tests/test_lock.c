/* SPDX-License-Identifier: MIT */
/*
 * The receive lock and its wait (runtime/lock.h): mutual exclusion under
 * contention, a condition that loses no broadcast, timed waits that come
 * back holding the lock. Stress runs carry sequence numbers: nothing lost,
 * duplicated or reordered.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../runtime/lock.h"
#include "testutil.h"

#define THREADS 4

static struct rki_mutex mu;
static struct rki_cond cv;

/* ---- mutual exclusion ------------------------------------------------------ */

static uint64_t counter; /* plain: only under mu */
static uint64_t *log_;	 /* (thread << 48 | seq), appended under mu */
static uint64_t log_len;
static uint64_t per_thread;

static void *exclusion_worker(void *arg)
{
	uint64_t t = (uint64_t)(uintptr_t)arg;
	for (uint64_t i = 0; i < per_thread; i++) {
		rki_mutex_lock(&mu);
		/* A read-modify-write in two steps: any overlap of two holders
		 * loses an increment. */
		uint64_t c = counter;
		if ((i & 63) == 0)
			sched_yield();
		counter = c + 1;
		log_[log_len++] = t << 48 | i;
		rki_mutex_unlock(&mu);
	}
	return NULL;
}

Test(lock, holders_never_overlap_and_every_entry_keeps_its_order, .timeout = 120)
{
	per_thread = rk_test_count(200000);
	log_ = calloc(THREADS * per_thread, sizeof(*log_));
	cr_assert_not_null(log_);
	pthread_t th[THREADS];
	for (uintptr_t t = 0; t < THREADS; t++)
		cr_assert_eq(pthread_create(&th[t], NULL, exclusion_worker, (void *)t), 0);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	cr_assert_eq(counter, THREADS * per_thread, "lost increments: %llu of %llu",
		     (unsigned long long)counter, (unsigned long long)(THREADS * per_thread));
	cr_assert_eq(log_len, THREADS * per_thread);
	uint64_t next[THREADS] = { 0 };
	for (uint64_t i = 0; i < log_len; i++) {
		uint64_t t = log_[i] >> 48, seq = log_[i] & ((1ull << 48) - 1);
		cr_assert_lt(t, THREADS);
		cr_assert_eq(seq, next[t], "thread %llu: entry %llu where %llu was due",
			     (unsigned long long)t, (unsigned long long)seq,
			     (unsigned long long)next[t]);
		next[t]++;
	}
	cr_assert_eq(mu.state, 0, "the lock is left held (%u)", mu.state);
	free(log_);
}

/* ---- the condition: a queue with sequence numbers --------------------------- */

#define QCAP 64
static uint64_t queue[QCAP];
static uint64_t q_head, q_tail; /* under mu */
static bool q_done;
static uint64_t total;
static uint64_t *taken;	   /* how often each sequence number was taken */
static uint64_t reordered; /* under mu */

static void *consumer(void *arg)
{
	uint64_t *last = arg; /* the last seq this consumer took, +1 */
	rki_mutex_lock(&mu);
	for (;;) {
		while (q_head == q_tail && !q_done)
			/* A long wait: a lost broadcast hangs the test. */
			rki_cond_wait(&cv, &mu, 60000000000ull);
		if (q_head == q_tail)
			break;
		uint64_t seq = queue[q_head++ % QCAP];
		rki_cond_broadcast(&cv); /* room for the producer */
		/* One producer, FIFO: each consumer sees increasing numbers. */
		if (seq + 1 <= *last)
			reordered++;
		*last = seq + 1;
		taken[seq]++;
	}
	rki_mutex_unlock(&mu);
	return NULL;
}

Test(lock, no_broadcast_is_lost_and_every_message_is_taken_once, .timeout = 120)
{
	total = rk_test_count(300000);
	taken = calloc(total, sizeof(*taken));
	cr_assert_not_null(taken);
	pthread_t th[THREADS - 1];
	uint64_t last[THREADS - 1] = { 0 };
	for (int t = 0; t < THREADS - 1; t++)
		cr_assert_eq(pthread_create(&th[t], NULL, consumer, &last[t]), 0);
	for (uint64_t seq = 0; seq < total; seq++) {
		rki_mutex_lock(&mu);
		while (q_tail - q_head == QCAP)
			rki_cond_wait(&cv, &mu, 60000000000ull);
		queue[q_tail++ % QCAP] = seq;
		rki_cond_broadcast(&cv);
		rki_mutex_unlock(&mu);
	}
	rki_mutex_lock(&mu);
	q_done = true;
	rki_cond_broadcast(&cv);
	rki_mutex_unlock(&mu);
	for (int t = 0; t < THREADS - 1; t++)
		pthread_join(th[t], NULL);
	cr_assert_eq(reordered, 0, "%llu messages came out of order",
		     (unsigned long long)reordered);
	for (uint64_t seq = 0; seq < total; seq++)
		cr_assert_eq(taken[seq], 1, "message %llu taken %llu times",
			     (unsigned long long)seq, (unsigned long long)taken[seq]);
	cr_assert_eq(cv.waiters, 0);
	free(taken);
}

/* ---- timed waits ------------------------------------------------------------ */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int holder_saw;

static void *try_take(void *arg)
{
	(void)arg;
	/* The main thread holds mu while this runs: the lock must wait. */
	rki_mutex_lock(&mu);
	holder_saw = 1;
	rki_mutex_unlock(&mu);
	return NULL;
}

Test(lock, a_timed_wait_returns_with_the_lock_held)
{
	rki_mutex_lock(&mu);
	uint64_t t0 = mono_ns();
	rki_cond_wait(&cv, &mu, 20000000ull);
	uint64_t waited = mono_ns() - t0;
	/* No broadcast came: it slept (a futex wait with a timeout, not a
	 * spin that returns at once) and holds the lock again. */
	cr_assert_geq(waited, 10000000ull, "came back after %llu ns", (unsigned long long)waited);
	cr_assert_neq(mu.state, 0, "the wait came back without the lock");
	cr_assert_eq(cv.waiters, 0);
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, try_take, NULL), 0);
	struct timespec ts = { 0, 20000000 };
	nanosleep(&ts, NULL);
	cr_assert_eq(__atomic_load_n(&holder_saw, __ATOMIC_RELAXED), 0,
		     "another thread took a held lock");
	rki_mutex_unlock(&mu);
	pthread_join(th, NULL);
	cr_assert_eq(holder_saw, 1);
	cr_assert_eq(mu.state, 0);
}

static int woken;

static void *sleeper(void *arg)
{
	(void)arg;
	rki_mutex_lock(&mu);
	while (!q_done)
		rki_cond_wait(&cv, &mu, 60000000000ull);
	woken++;
	rki_mutex_unlock(&mu);
	return NULL;
}

Test(lock, one_broadcast_wakes_every_waiter, .timeout = 60)
{
	pthread_t th[8];
	for (int t = 0; t < 8; t++)
		cr_assert_eq(pthread_create(&th[t], NULL, sleeper, NULL), 0);
	/* Every sleeper is waiting before the broadcast (or has not yet
	 * looked at q_done, and will see it set). */
	for (;;) {
		rki_mutex_lock(&mu);
		uint32_t w = cv.waiters;
		rki_mutex_unlock(&mu);
		if (w == 8)
			break;
		sched_yield();
	}
	rki_mutex_lock(&mu);
	q_done = true;
	rki_cond_broadcast(&cv);
	rki_mutex_unlock(&mu);
	for (int t = 0; t < 8; t++)
		pthread_join(th[t], NULL);
	cr_assert_eq(woken, 8);
	cr_assert_eq(cv.waiters, 0);
}

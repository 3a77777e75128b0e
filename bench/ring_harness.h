/* SPDX-License-Identifier: MIT */
/*
 * ring_harness.h - the two-thread ring throughput loop, instantiated once
 * per ring implementation so every ring's calls inline the same way.
 *
 * One producer and one consumer thread, each pinned to its own CPU when two
 * are available, move numbered messages for o->duration seconds; every
 * message carries its sequence number in its first 8 bytes and the consumer
 * checks it, so a broken ring cannot post a good figure. The figure is wall
 * time from the start line to the last message received, over the count.
 *
 *   RING_HARNESS(name, ctx_type, ENQ, DEQ)
 *     ENQ(ctx, src, payload, n) -> messages enqueued (0..n)
 *     DEQ(ctx, dst, payload, n) -> messages dequeued (0..n)
 *   defines: static double name_run(ctx_type *ctx, uint32_t payload,
 *                                    unsigned batch, double seconds)
 *   returning ns per message, or a negative errno.
 */
#ifndef RK_BENCH_RING_HARNESS_H
#define RK_BENCH_RING_HARNESS_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

#define RING_MAX_BATCH	  256
#define RING_MIN_MESSAGES 4096

struct ring_run {
	void *ctx;
	uint32_t payload;
	unsigned batch;
	int cpu_prod, cpu_cons;
	int ready, go;				/* start line */
	int stop __attribute__((aligned(128))); /* main -> producer */
	int done;				/* producer -> consumer: produced is final */
	uint64_t produced;
	uint64_t t_end, bad; /* consumer's */
};

static inline void ring_start_line(struct ring_run *r)
{
	__atomic_fetch_add(&r->ready, 1, __ATOMIC_ACQ_REL);
	while (!__atomic_load_n(&r->go, __ATOMIC_ACQUIRE))
		sched_yield();
}

static inline double ring_drive(struct ring_run *r, void *(*prod)(void *), void *(*cons)(void *),
				double seconds)
{
	pthread_t tp, tc;
	if (pthread_create(&tc, NULL, cons, r))
		return -EAGAIN;
	if (pthread_create(&tp, NULL, prod, r)) {
		__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
		pthread_join(tc, NULL);
		return -EAGAIN;
	}
	while (__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) < 2)
		sched_yield();
	uint64_t t0 = now_ns();
	__atomic_store_n(&r->go, 1, __ATOMIC_RELEASE);
	struct timespec ts = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
	nanosleep(&ts, NULL);
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	if (r->bad) {
		fprintf(stderr, "rk-bench: %llu messages out of sequence\n",
			(unsigned long long)r->bad);
		return -EBADMSG;
	}
	if (r->produced == 0)
		return -EAGAIN;
	return (double)(r->t_end - t0) / (double)r->produced;
}

#define RING_HARNESS(name, ctx_type, ENQ, DEQ)                                                    \
	static void *name##_producer(void *arg)                                                   \
	{                                                                                         \
		struct ring_run *r = arg;                                                         \
		ctx_type *ctx = r->ctx;                                                           \
		uint8_t *src = aligned_alloc(128, (size_t)RING_MAX_BATCH * r->payload);           \
		if (!src)                                                                         \
			abort();                                                                  \
		memset(src, 0xab, (size_t)RING_MAX_BATCH * r->payload);                           \
		pin_self(r->cpu_prod);                                                            \
		ring_start_line(r);                                                               \
		uint64_t seq = 0;                                                                 \
		unsigned spins = 0;                                                               \
		/* at least RING_MIN_MESSAGES, however late this thread got a CPU */              \
		while (seq < RING_MIN_MESSAGES || !__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) { \
			for (unsigned i = 0; i < r->batch; i++) {                                 \
				uint64_t s = seq + i;                                             \
				memcpy(src + (size_t)i * r->payload, &s, sizeof(s));              \
			}                                                                         \
			unsigned k = ENQ(ctx, src, r->payload, r->batch);                         \
			if (k == 0)                                                               \
				backoff(&spins);                                                  \
			seq += k;                                                                 \
		}                                                                                 \
		__atomic_store_n(&r->produced, seq, __ATOMIC_RELAXED);                            \
		__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);                                  \
		free(src);                                                                        \
		return NULL;                                                                      \
	}                                                                                         \
	static void *name##_consumer(void *arg)                                                   \
	{                                                                                         \
		struct ring_run *r = arg;                                                         \
		ctx_type *ctx = r->ctx;                                                           \
		uint8_t *dst = aligned_alloc(128, (size_t)RING_MAX_BATCH * r->payload);           \
		if (!dst)                                                                         \
			abort();                                                                  \
		memset(dst, 0, (size_t)RING_MAX_BATCH * r->payload);                              \
		pin_self(r->cpu_cons);                                                            \
		ring_start_line(r);                                                               \
		uint64_t seq = 0, bad = 0;                                                        \
		unsigned spins = 0;                                                               \
		for (;;) {                                                                        \
			unsigned k = DEQ(ctx, dst, r->payload, r->batch);                         \
			if (k == 0) {                                                             \
				if (__atomic_load_n(&r->done, __ATOMIC_ACQUIRE) &&                \
				    __atomic_load_n(&r->produced, __ATOMIC_RELAXED) == seq)       \
					break;                                                    \
				backoff(&spins);                                                  \
				continue;                                                         \
			}                                                                         \
			for (unsigned i = 0; i < k; i++) {                                        \
				uint64_t s;                                                       \
				memcpy(&s, dst + (size_t)i * r->payload, sizeof(s));              \
				bad += s != seq + i;                                              \
			}                                                                         \
			seq += k;                                                                 \
		}                                                                                 \
		r->t_end = now_ns();                                                              \
		r->bad = bad;                                                                     \
		free(dst);                                                                        \
		return NULL;                                                                      \
	}                                                                                         \
	static double name##_run(ctx_type *ctx, uint32_t payload, unsigned batch, double seconds) \
	{                                                                                         \
		struct ring_run *r = aligned_alloc(128, sizeof(struct ring_run));                 \
		if (!r)                                                                           \
			return -ENOMEM;                                                           \
		memset(r, 0, sizeof(*r));                                                         \
		r->ctx = ctx;                                                                     \
		r->payload = payload;                                                             \
		r->batch = batch;                                                                 \
		choose_cpus(&r->cpu_prod, &r->cpu_cons);                                          \
		double ns = ring_drive(r, name##_producer, name##_consumer, seconds);             \
		free(r);                                                                          \
		return ns;                                                                        \
	}

#endif

/* SPDX-License-Identifier: MIT */
/*
 * Rings under two or more threads: millions of messages with sequence
 * numbers and payload checksums (nothing lost, duplicated or reordered), the
 * multi-producer mode, and the futex parking paths of both sides.
 *
 * Worker threads never assert (a failing assertion must come from the test's
 * own thread): they record the first anomaly and the main thread checks it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ringkernel/error.h>
#include <ringkernel/msg.h>
#include <ringkernel/ring.h>

#include "testutil.h"

#define MAX_PRODUCERS 4
#define PAYLOAD	      40 /* + 64-byte header = 104 bytes in a 128-byte slot */
#define SLOT	      128
#define WAIT_NS	      (10 * 1000000000ull) /* no legitimate wait comes near this */

struct stress {
	struct rk_ring prod_r[MAX_PRODUCERS]; /* one handle per producer thread */
	struct rk_ring cons_r;
	void *mem;
	unsigned nprod;
	uint64_t per_producer;
	bool park; /* both sides park (spin 0) instead of polling */
	/* slow sides, in microseconds per message */
	unsigned prod_delay_us, cons_delay_us;
	/* consumer results */
	uint64_t received[MAX_PRODUCERS];
	uint64_t bad_seq, bad_sum, bad_read, bad_source, wait_fail;
	int stop; /* the consumer gave up: producers must not wait for it */
	char first_error[256];
};

__attribute__((format(printf, 2, 3))) static void note(struct stress *s, const char *fmt, ...)
{
	va_list ap;
	if (s->first_error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(s->first_error, sizeof(s->first_error), fmt, ap);
	va_end(ap);
}

#define ULL(x) ((unsigned long long)(x))

static void sleep_us(unsigned us)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)us * 1000 };
	nanosleep(&ts, NULL);
}

/* Payload seed: unique per (producer, seq). */
static uint64_t seed_of(unsigned p, uint64_t seq)
{
	return ((uint64_t)p << 56) ^ seq;
}

static void stress_setup(struct stress *s, uint32_t cap, uint32_t flags, unsigned nprod,
			 uint64_t total)
{
	size_t sz;
	memset(s, 0, sizeof(*s));
	cr_assert_eq(rk_ring_mem_size(cap, SLOT, &sz), 0);
	s->mem = rk_test_alloc_lines(sz);
	cr_assert_not_null(s->mem);
	cr_assert_eq(rk_ring_init(&s->cons_r, s->mem, sz, cap, SLOT, flags), 0);
	/* Every thread works through its own handle, as separate processes would. */
	for (unsigned i = 0; i < nprod; i++)
		cr_assert_eq(rk_ring_attach(&s->prod_r[i], s->mem, sz), 0);
	s->nprod = nprod;
	s->per_producer = total / nprod;
}

struct producer_arg {
	struct stress *s;
	unsigned id;
};

static void *producer(void *arg)
{
	struct producer_arg *pa = arg;
	struct stress *s = pa->s;
	struct rk_ring *r = &s->prod_r[pa->id];
	const bool mp = r->flags & RK_RING_MP;
	unsigned spins = 0;
	uint64_t seq = 0;
	while (seq < s->per_producer && !__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		uint64_t left = s->per_producer - seq, idx;
		unsigned want = left < 16 ? (unsigned)left : 16;
		if (s->prod_delay_us)
			want = 1;
		unsigned k =
			mp ? rk_ring_mp_reserve(r, want, &idx) : rk_ring_reserve(r, want, &idx);
		if (k == 0) {
			if (s->park) {
				if (rk_ring_wait_writable(r, 0, WAIT_NS) < 0)
					__atomic_fetch_add(&s->wait_fail, 1, __ATOMIC_RELAXED);
			} else {
				rk_test_backoff(&spins);
			}
			continue;
		}
		for (unsigned i = 0; i < k; i++) {
			uint8_t payload[PAYLOAD];
			struct rk_msg_hdr h = {
				.type = 7,
				.source = pa->id,
				.seq = seq + i,
			};
			h.correlation_id =
				rk_test_fill(payload, sizeof(payload), seed_of(pa->id, seq + i));
			rk_msg_write_parts(rk_ring_slot(r, idx + i), SLOT, &h, payload,
					   sizeof(payload));
		}
		if (mp)
			rk_ring_mp_commit(r, idx, k);
		else
			rk_ring_commit(r, k);
		seq += k;
		if (s->prod_delay_us)
			sleep_us(s->prod_delay_us);
	}
	return NULL;
}

static void consume(struct stress *s)
{
	struct rk_ring *r = &s->cons_r;
	uint64_t total = s->per_producer * s->nprod, got = 0;
	unsigned spins = 0;
	static rk_message m; /* 4 KiB: keep it off the stack */
	while (got < total) {
		uint64_t idx;
		unsigned k = rk_ring_peek(r, s->cons_delay_us ? 1 : 32, &idx);
		if (k == 0) {
			if (s->park) {
				if (rk_ring_wait_readable(r, 0, WAIT_NS) < 0) {
					__atomic_fetch_add(&s->wait_fail, 1, __ATOMIC_RELAXED);
					note(s,
					     "consumer wait timed out after %llu of %llu messages",
					     ULL(got), ULL(total));
					__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
					return;
				}
			} else {
				rk_test_backoff(&spins);
			}
			continue;
		}
		for (unsigned i = 0; i < k; i++) {
			if (rk_msg_read(rk_ring_slot(r, idx + i), SLOT, &m) < 0 ||
			    m.len != PAYLOAD || m.type != 7) {
				s->bad_read++;
				note(s, "message %llu unreadable (len %u type %u)", ULL(got + i),
				     m.len, m.type);
				continue;
			}
			if (m.source >= s->nprod) {
				s->bad_source++;
				note(s, "message %llu from unknown producer %llu", ULL(got + i),
				     ULL(m.source));
				continue;
			}
			unsigned p = (unsigned)m.source;
			if (m.seq != s->received[p]) {
				s->bad_seq++;
				note(s, "producer %u: got seq %llu, expected %llu", p, ULL(m.seq),
				     ULL(s->received[p]));
			}
			uint8_t want[PAYLOAD];
			uint64_t sum = rk_test_fill(want, sizeof(want), seed_of(p, m.seq));
			if (sum != m.correlation_id || rk_test_checksum(m.payload, m.len) != sum) {
				s->bad_sum++;
				note(s, "producer %u seq %llu: checksum mismatch", p, ULL(m.seq));
			}
			s->received[p] = m.seq + 1;
		}
		rk_ring_release(r, k);
		got += k;
		if (s->cons_delay_us)
			sleep_us(s->cons_delay_us);
	}
	/* Nothing beyond the total may show up. */
	uint64_t idx;
	if (rk_ring_peek(r, 1, &idx) != 0)
		note(s, "extra messages after %llu", ULL(total));
}

static void run_stress(struct stress *s)
{
	pthread_t t[MAX_PRODUCERS];
	struct producer_arg pa[MAX_PRODUCERS];
	for (unsigned i = 0; i < s->nprod; i++) {
		pa[i] = (struct producer_arg){ s, i };
		cr_assert_eq(pthread_create(&t[i], NULL, producer, &pa[i]), 0);
	}
	consume(s);
	for (unsigned i = 0; i < s->nprod; i++)
		pthread_join(t[i], NULL);
}

static void check_stress(struct stress *s)
{
	cr_assert_str_eq(s->first_error, "", "%s", s->first_error);
	cr_assert_eq(s->bad_read, 0);
	cr_assert_eq(s->bad_source, 0);
	cr_assert_eq(s->bad_seq, 0, "lost, duplicated or reordered messages");
	cr_assert_eq(s->bad_sum, 0, "corrupted payloads");
	cr_assert_eq(s->wait_fail, 0, "a wait timed out: lost wake-up?");
	for (unsigned p = 0; p < s->nprod; p++)
		cr_assert_eq(s->received[p], s->per_producer, "producer %u: %llu of %llu", p,
			     (unsigned long long)s->received[p],
			     (unsigned long long)s->per_producer);
	struct rk_ring_hdr *h = s->cons_r.hdr;
	cr_assert_eq(h->prod_tail, s->per_producer * s->nprod);
	cr_assert_eq(h->prod_tail, h->cons_head);
	cr_assert_eq(h->cons_waiting, 0);
	cr_assert_eq(h->prod_waiting, 0);
}

/* ---- throughput stress ------------------------------------------------------ */

Test(ring_mt, spsc_ten_million_in_order, .timeout = 240)
{
	static struct stress s;
	stress_setup(&s, 1024, 0, 1, rk_test_count(10000000));
	run_stress(&s);
	check_stress(&s);
	free(s.mem);
}

Test(ring_mt, spsc_small_ring_wraps_often, .timeout = 240)
{
	/* 4 slots: the producer is nearly always full, the consumer nearly
	 * always empty, so every boundary case of the index arithmetic runs;
	 * the indexes start just short of the 64-bit wrap. */
	static struct stress s;
	size_t sz;
	stress_setup(&s, 4, 0, 1, rk_test_count(2000000));
	cr_assert_eq(rk_ring_mem_size(4, SLOT, &sz), 0);
	cr_assert_eq(rk_ring_init_at(&s.cons_r, s.mem, sz, 4, SLOT, 0, UINT64_MAX - 1000), 0);
	cr_assert_eq(rk_ring_attach(&s.prod_r[0], s.mem, sz), 0);
	run_stress(&s);
	cr_assert_str_eq(s.first_error, "", "%s", s.first_error);
	cr_assert_eq(s.bad_seq + s.bad_sum + s.bad_read, 0);
	cr_assert_eq(s.received[0], s.per_producer);
	cr_assert_eq(s.cons_r.hdr->cons_head, UINT64_MAX - 1000 + s.per_producer);
	free(s.mem);
}

Test(ring_mt, mp_three_producers_keep_per_producer_order, .timeout = 240)
{
	static struct stress s;
	stress_setup(&s, 1024, RK_RING_MP, 3, rk_test_count(10000000));
	run_stress(&s);
	check_stress(&s);
	cr_assert_eq(s.cons_r.hdr->prod_head, s.cons_r.hdr->prod_tail);
	free(s.mem);
}

/* ---- parking ------------------------------------------------------------------- */

Test(ring_mt, consumer_parks_slow_producer_wakes_it, .timeout = 120)
{
	static struct stress s;
	stress_setup(&s, 64, 0, 1, 300);
	s.park = true;
	s.prod_delay_us = 300; /* far longer than a spin: the consumer sleeps */
	run_stress(&s);
	check_stress(&s);
	/* The bell only rings for a registered waiter: the futex path ran. */
	cr_assert_gt(s.cons_r.hdr->cons_bell, 10, "consumer parked %u times",
		     s.cons_r.hdr->cons_bell);
}

Test(ring_mt, producer_parks_on_full_ring_slow_consumer_wakes_it, .timeout = 120)
{
	static struct stress s;
	stress_setup(&s, 2, 0, 1, 300);
	s.park = true;
	s.cons_delay_us = 300;
	run_stress(&s);
	check_stress(&s);
	cr_assert_gt(s.cons_r.hdr->prod_bell, 10, "producer parked %u times",
		     s.cons_r.hdr->prod_bell);
}

Test(ring_mt, mp_producers_park_on_full_ring, .timeout = 120)
{
	static struct stress s;
	stress_setup(&s, 4, RK_RING_MP, 3, rk_test_count(60000));
	s.park = true;
	run_stress(&s);
	check_stress(&s);
}

/*
 * Ping-pong with both sides parked (spin 0) on every message: each message
 * is one park/wake race between the two threads. A lost wake-up shows as a
 * timed-out wait, not a hang.
 */
struct pingpong {
	struct rk_ring a_out, a_in; /* thread A's handles */
	struct rk_ring b_in, b_out; /* thread B's handles */
	uint64_t rounds;
	uint64_t b_errors, b_timeouts;
};

static void *pong(void *arg)
{
	struct pingpong *pp = arg;
	for (uint64_t i = 0; i < pp->rounds; i++) {
		uint64_t v;
		while (rk_ring_dequeue(&pp->b_in, &v, sizeof(v)) < 0) {
			if (rk_ring_wait_readable(&pp->b_in, 0, WAIT_NS) < 0) {
				pp->b_timeouts++;
				return NULL;
			}
		}
		if (v != i)
			pp->b_errors++;
		v = ~v;
		while (rk_ring_enqueue(&pp->b_out, &v, sizeof(v)) < 0)
			if (rk_ring_wait_writable(&pp->b_out, 0, WAIT_NS) < 0) {
				pp->b_timeouts++;
				return NULL;
			}
	}
	return NULL;
}

static void ping_pong(uint32_t flags)
{
	static struct pingpong pp;
	memset(&pp, 0, sizeof(pp));
	size_t sz;
	cr_assert_eq(rk_ring_mem_size(1, 64, &sz), 0);
	void *m1 = rk_test_alloc_lines(sz), *m2 = rk_test_alloc_lines(sz);
	cr_assert_eq(rk_ring_init(&pp.a_out, m1, sz, 1, 64, flags), 0);
	cr_assert_eq(rk_ring_attach(&pp.b_in, m1, sz), 0);
	cr_assert_eq(rk_ring_init(&pp.b_out, m2, sz, 1, 64, flags), 0);
	cr_assert_eq(rk_ring_attach(&pp.a_in, m2, sz), 0);
	pp.rounds = rk_test_count(20000);

	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, pong, &pp), 0);
	uint64_t a_errors = 0, a_timeouts = 0, done = 0;
	for (uint64_t i = 0; i < pp.rounds; i++, done++) {
		uint64_t v = i;
		while (rk_ring_enqueue(&pp.a_out, &v, sizeof(v)) < 0)
			if (rk_ring_wait_writable(&pp.a_out, 0, WAIT_NS) < 0)
				goto out;
		while (rk_ring_dequeue(&pp.a_in, &v, sizeof(v)) < 0) {
			if (rk_ring_wait_readable(&pp.a_in, 0, WAIT_NS) < 0) {
				a_timeouts++;
				goto out;
			}
		}
		if (v != ~i)
			a_errors++;
	}
out:
	pthread_join(t, NULL);
	cr_assert_eq(a_timeouts + pp.b_timeouts, 0, "lost wake-up after %llu rounds",
		     (unsigned long long)done);
	cr_assert_eq(done, pp.rounds);
	cr_assert_eq(a_errors + pp.b_errors, 0);
	/* Both sides really slept at least once. */
	cr_assert_gt(pp.a_out.hdr->cons_bell + pp.b_out.hdr->cons_bell, 0);
	free(m1);
	free(m2);
}

Test(ring_mt, ping_pong_both_sides_parked, .timeout = 120)
{
	ping_pong(0);
}

/* ---- RK_RING_ASYM: release publishes, membarrier on park ------------------------ */

Test(ring_mt, asym_ping_pong_both_sides_parked, .timeout = 120)
{
	ping_pong(RK_RING_ASYM);
}

Test(ring_mt, asym_spsc_ten_million_in_order, .timeout = 240)
{
	static struct stress s;
	stress_setup(&s, 1024, RK_RING_ASYM, 1, rk_test_count(10000000));
	run_stress(&s);
	check_stress(&s);
	free(s.mem);
}

Test(ring_mt, asym_mp_producers_park_on_full_ring, .timeout = 120)
{
	static struct stress s;
	stress_setup(&s, 4, RK_RING_MP | RK_RING_ASYM, 3, rk_test_count(60000));
	s.park = true;
	run_stress(&s);
	check_stress(&s);
}

Test(ring_mt, asym_consumer_parks_slow_producer_wakes_it, .timeout = 120)
{
	static struct stress s;
	stress_setup(&s, 64, RK_RING_ASYM, 1, 300);
	s.park = true;
	s.prod_delay_us = 300;
	run_stress(&s);
	check_stress(&s);
	cr_assert_gt(s.cons_r.hdr->cons_bell, 10, "consumer parked %u times",
		     s.cons_r.hdr->cons_bell);
}

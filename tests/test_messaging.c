/* SPDX-License-Identifier: MIT */
/* Messaging through real kernels: built-ins, user kernels, many kernels
 * and threads, calls, bursts, terminate accounting, the runtime fd. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "rt_common.h"

static void fill(uint8_t *p, uint32_t len, uint64_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (seed >> 8));
}

static void echo_round_trips(uint64_t n)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "echo", NULL);
	uint8_t buf[RK_DEFAULT_MAX_PAYLOAD];
	rk_message m;
	for (uint64_t i = 0; i < n; i++) {
		uint32_t len = (uint32_t)(i % (RK_DEFAULT_MAX_PAYLOAD + 1));
		fill(buf, len, i);
		int ret = rk_kernel_call(k, (uint32_t)i, buf, len, &m, 10 * SEC);
		cr_assert_eq(ret, 0, "round trip %llu: %s", (unsigned long long)i, rk_last_error());
		cr_assert_eq(m.type, (uint32_t)i);
		cr_assert_eq(m.len, len);
		cr_assert_arr_eq(m.payload, buf, len, "payload of round trip %llu",
				 (unsigned long long)i);
		cr_assert_eq(m.source, rk_kernel_id(k));
		cr_assert_eq(m.dest, 0);
		cr_assert(m.flags & RK_MSG_F_REPLY);
	}
	rk_kernel_status st = await_processed(k, n);
	cr_assert_eq(st.messages_processed, n);
	cr_assert_eq(st.messages_sent, n);
	cr_assert_eq(st.messages_received, n);
	cr_assert_eq(st.errors, 0);
	rk_runtime_metrics rm;
	rk_runtime_metrics(rt, &rm);
	cr_assert_eq(rm.messages_sent, n);
	cr_assert_eq(rm.messages_received, n);
	rk_runtime_shutdown(rt);
}

Test(messaging, echo_million_round_trips, .timeout = 600)
{
	echo_round_trips(rk_test_count(1000000));
}

/* The same through the plain-futex fallback (no io_uring), with a spin
 * budget of 0 so every wait really sleeps. */
Test(messaging, echo_round_trips_futex_fallback, .timeout = 300)
{
	setenv("RK_REACTOR", "futex", 1);
	setenv("RK_SPIN_NS", "0", 1);
	setenv("RK_CPU_SPIN_NS", "0", 1);
	echo_round_trips(rk_test_count(20000));
}

Test(messaging, echo_round_trips_uring_sleeping, .timeout = 300)
{
	setenv("RK_REACTOR", "uring", 1);
	setenv("RK_SPIN_NS", "0", 1);
	setenv("RK_CPU_SPIN_NS", "0", 1);
	echo_round_trips(rk_test_count(20000));
}

Test(messaging, add_f32_sums_by_value)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "add_f32", NULL);
	float v[5] = { 1.5f, 2.25f, -0.75f, 10.0f, 0.5f };
	rk_message m;
	cr_assert_eq(rk_kernel_call(k, 3, v, sizeof(v), &m, 5 * SEC), 0);
	cr_assert_eq(m.len, 4);
	cr_assert_eq(m.type, 3);
	float sum;
	memcpy(&sum, m.payload, 4);
	cr_assert_float_eq(sum, 13.5f, 1e-6f);
	cr_assert_eq(rk_kernel_call(k, 3, NULL, 0, &m, 5 * SEC), 0);
	memcpy(&sum, m.payload, 4);
	cr_assert_float_eq(sum, 0.0f, 1e-9f);
	float many[48];
	float expect = 0;
	for (int i = 0; i < 48; i++) {
		many[i] = (float)i * 0.5f;
		expect += many[i];
	}
	cr_assert_eq(rk_kernel_call(k, 3, many, sizeof(many), &m, 5 * SEC), 0);
	memcpy(&sum, m.payload, 4);
	cr_assert_float_eq(sum, expect, 1e-3f);
	rk_runtime_shutdown(rt);
}

Test(messaging, counter_state_persists)
{
	rk_runtime *rt = rt_open();
	rk_kernel *a = launch(rt, "counter", NULL);
	rk_kernel *b = launch(rt, "counter", NULL);
	rk_message m;
	uint64_t c;
	for (uint64_t i = 1; i <= 1000; i++) {
		cr_assert_eq(rk_kernel_call(a, 0, "x", 1, &m, 5 * SEC), 0);
		cr_assert_eq(m.len, 8);
		memcpy(&c, m.payload, 8);
		cr_assert_eq(c, i);
	}
	cr_assert_eq(rk_kernel_call(b, 0, NULL, 0, &m, 5 * SEC), 0);
	memcpy(&c, m.payload, 8);
	cr_assert_eq(c, 1, "kernels share state");
	rk_runtime_shutdown(rt);
}

Test(messaging, sink_never_replies)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "sink", NULL);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(rk_kernel_send(k, 1, &i, 4, SEC), 0);
	rk_kernel_status st;
	for (int t = 0; t < 5000; t++) {
		rk_kernel_status(k, &st);
		if (st.messages_processed == 100)
			break;
		usleep(1000);
	}
	cr_assert_eq(st.messages_processed, 100);
	rk_message m;
	cr_assert_eq(rk_kernel_receive(k, &m, 20000000), -ETIMEDOUT);
	cr_assert_eq(st.output_depth, 0);
	rk_runtime_shutdown(rt);
}

/* ---- 8 kernels, 4 host threads -------------------------------------------- */

struct worker_arg {
	rk_kernel *k[2];
	uint32_t tag;
	uint64_t n;
	int failures;
};

static void *drive(void *p)
{
	struct worker_arg *w = p;
	for (uint64_t i = 0; i < w->n; i++) {
		for (int j = 0; j < 2; j++) {
			uint64_t word[2] = { w->tag * 2u + (uint64_t)j, i };
			rk_message m;
			if (rk_kernel_call(w->k[j], w->tag, word, sizeof(word), &m, 10 * SEC) !=
				    0 ||
			    m.len != sizeof(word) || memcmp(m.payload, word, sizeof(word)) ||
			    m.source != rk_kernel_id(w->k[j]))
				w->failures++;
		}
	}
	return NULL;
}

Test(messaging, eight_kernels_four_threads_no_crosstalk, .timeout = 300)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k[8];
	for (int i = 0; i < 8; i++)
		k[i] = launch(rt, "echo", NULL);
	struct worker_arg w[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker_arg){
			{ k[2 * i], k[2 * i + 1] }, (uint32_t)i, rk_test_count(20000), 0
		};
		cr_assert_eq(pthread_create(&t[i], NULL, drive, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(w[i].failures, 0, "thread %d saw %d bad replies", i, w[i].failures);
	}
	for (int i = 0; i < 8; i++)
		cr_assert_eq(await_processed(k[i], w[0].n).messages_processed, w[0].n);
	rk_runtime_shutdown(rt);
}

/* Several threads call one kernel at once: each gets its own reply, the
 * others stay queued for their callers. */
struct caller_arg {
	rk_kernel *k;
	uint32_t tag;
	uint64_t n;
	int failures;
};

static void *call_many(void *p)
{
	struct caller_arg *c = p;
	for (uint64_t i = 0; i < c->n; i++) {
		uint64_t word[2] = { c->tag, i };
		rk_message m;
		if (rk_kernel_call(c->k, c->tag, word, sizeof(word), &m, 10 * SEC) != 0 ||
		    m.type != c->tag || memcmp(m.payload, word, sizeof(word)))
			c->failures++;
	}
	return NULL;
}

Test(messaging, concurrent_calls_get_their_own_replies, .timeout = 300)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "echo", NULL);
	struct caller_arg c[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		c[i] = (struct caller_arg){ k, (uint32_t)i + 1, rk_test_count(20000), 0 };
		pthread_create(&t[i], NULL, call_many, &c[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(c[i].failures, 0);
	}
	rk_runtime_shutdown(rt);
}

struct id_sender {
	rk_kernel *k;
	uint32_t thread, n;
	int ret;
};

/* Single sends and bursts of 8, each payload (thread, sequence). */
static void *send_ids(void *arg)
{
	struct id_sender *s = arg;
	rk_message *it = calloc(8, sizeof(*it));
	if (!it) {
		s->ret = -ENOMEM;
		return NULL;
	}
	for (uint32_t i = 0; i < s->n && s->ret == 0;) {
		if (i % 3 == 0) {
			uint32_t one[2] = { s->thread, i };
			s->ret = rk_kernel_send(s->k, 1, one, sizeof(one), 30 * SEC);
			i++;
			continue;
		}
		unsigned b = s->n - i < 8 ? s->n - i : 8, sent = 0;
		for (unsigned j = 0; j < b; j++) {
			uint32_t w[2] = { s->thread, i + j };
			it[j].type = 1;
			it[j].len = sizeof(w);
			memcpy(it[j].payload, w, sizeof(w));
		}
		while (sent < b && s->ret == 0) {
			unsigned got = 0;
			int ret = rk_kernel_send_burst(s->k, it + sent, b - sent, &got);
			sent += got;
			if (ret < 0 && ret != -EAGAIN)
				s->ret = ret;
			else if (got == 0)
				sched_yield();
		}
		i += b;
	}
	free(it);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Message ids stay unique within the runtime and never 0 with several
 * threads sending singly and in bursts (ids come to each thread in
 * blocks), and each thread's ids rise in its own send order. */
Test(messaging, message_ids_are_unique_across_threads, .timeout = 300)
{
	enum { THREADS = 4 };
	const uint32_t n = (uint32_t)rk_test_count(20000);
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_queue_capacity(&o, 1024);
	rk_kernel *k = launch(rt, "echo", &o);
	struct id_sender s[THREADS];
	pthread_t t[THREADS];
	for (uint32_t i = 0; i < THREADS; i++) {
		s[i] = (struct id_sender){ .k = k, .thread = i, .n = n };
		cr_assert_eq(pthread_create(&t[i], NULL, send_ids, &s[i]), 0);
	}
	uint64_t *ids = calloc((size_t)THREADS * n, sizeof(*ids));
	uint64_t last[THREADS] = { 0 };
	uint32_t next_seq[THREADS] = { 0 };
	cr_assert_not_null(ids);
	rk_message m;
	for (size_t got = 0; got < (size_t)THREADS * n; got++) {
		int ret = rk_kernel_receive(k, &m, 30 * SEC);
		cr_assert_eq(ret, 0, "reply %zu: %s", got, rk_last_error());
		uint32_t w[2];
		cr_assert_eq(m.len, sizeof(w));
		memcpy(w, m.payload, sizeof(w));
		cr_assert_lt(w[0], THREADS);
		cr_assert_eq(w[1], next_seq[w[0]], "thread %u: reply %u out of order", w[0], w[1]);
		next_seq[w[0]]++;
		cr_assert_neq(m.correlation_id, 0, "a message went out with id 0");
		cr_assert_gt(m.correlation_id, last[w[0]], "thread %u: ids not rising", w[0]);
		last[w[0]] = m.correlation_id;
		ids[got] = m.correlation_id;
	}
	for (uint32_t i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(s[i].ret, 0, "thread %u: %s", i, rk_strerror(s[i].ret));
	}
	qsort(ids, (size_t)THREADS * n, sizeof(*ids), cmp_u64);
	for (size_t i = 1; i < (size_t)THREADS * n; i++)
		cr_assert_neq(ids[i], ids[i - 1], "id %llu sent twice", (unsigned long long)ids[i]);
	free(ids);
	rk_runtime_shutdown(rt);
}

/* The kernel counts a request processed before its reply is published: a
 * status read after the reply came back counts it, with no wait. Sent
 * in bursts of up to 7, so that replies are published a batch at a time. */
Test(messaging, status_after_a_reply_counts_its_request, .timeout = 120)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "echo", NULL);
	const uint64_t rounds = rk_test_count(20000);
	uint64_t total = 0;
	for (uint64_t r = 0; r < rounds; r++) {
		uint32_t n = (uint32_t)(r % 7) + 1;
		for (uint32_t i = 0; i < n; i++)
			cr_assert_eq(rk_kernel_send(k, i, &r, sizeof(r), 5 * SEC), 0, "%s",
				     rk_last_error());
		rk_message m;
		for (uint32_t i = 0; i < n; i++) {
			cr_assert_eq(rk_kernel_receive(k, &m, 5 * SEC), 0, "%s", rk_last_error());
			cr_assert_eq(m.type, i);
		}
		total += n;
		rk_kernel_status st;
		cr_assert_eq(rk_kernel_status(k, &st), 0);
		cr_assert_eq(st.messages_processed, total,
			     "round %llu: %llu replies received, %llu requests counted processed",
			     (unsigned long long)r, (unsigned long long)total,
			     (unsigned long long)st.messages_processed);
		cr_assert_eq(st.messages_received, total);
	}
	rk_runtime_shutdown(rt);
}

Test(messaging, call_leaves_other_replies_queued)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "echo", NULL);
	for (uint32_t i = 0; i < 5; i++)
		cr_assert_eq(rk_kernel_send(k, 100 + i, &i, 4, SEC), 0);
	rk_message m;
	uint32_t x = 42;
	cr_assert_eq(rk_kernel_call(k, 7, &x, 4, &m, 5 * SEC), 0);
	cr_assert_eq(m.type, 7);
	for (uint32_t i = 0; i < 5; i++) {
		cr_assert_eq(rk_kernel_receive(k, &m, 5 * SEC), 0);
		cr_assert_eq(m.type, 100 + i, "queued reply lost or reordered");
	}
	cr_assert_eq(rk_kernel_try_receive(k, &m), -EAGAIN);
	rk_runtime_shutdown(rt);
}

Test(messaging, bursts_keep_order)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_queue_capacity(&o, 64);
	rk_kernel *k = launch(rt, "echo", &o);
	static rk_message in[256], out[256];
	for (uint32_t i = 0; i < 256; i++) {
		in[i].type = i;
		in[i].len = 8;
		uint64_t v = i * 1000003ull;
		memcpy(in[i].payload, &v, 8);
	}
	unsigned sent_total = 0, got_total = 0;
	while (got_total < 256) {
		unsigned sent = 0, got = 0;
		if (sent_total < 256) {
			int ret = rk_kernel_send_burst(k, in + sent_total, 256 - sent_total, &sent);
			cr_assert(ret == 0 || ret == -EAGAIN);
			cr_assert_leq(sent, 64);
			sent_total += sent;
		}
		int ret =
			rk_kernel_receive_burst(k, out + got_total, 256 - got_total, &got, 5 * SEC);
		cr_assert_eq(ret, 0, "%s", rk_last_error());
		got_total += got;
	}
	for (uint32_t i = 0; i < 256; i++) {
		cr_assert_eq(out[i].type, i);
		cr_assert_arr_eq(out[i].payload, in[i].payload, 8);
	}
	rk_runtime_shutdown(rt);
}

/* Bursts whose slots run over the end of a ring and on from its start: a
 * send burst filling 40 slots from input position 40 of 64, a receive of
 * 40 published replies from output position 40 (copying) and 120 (zero
 * copy). Each message's type and bytes come back as sent, in order. */
Test(messaging, bursts_cross_the_ring_wrap, .timeout = 60)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_queue_capacity(&o, 64);
	rk_kernel *k = launch(rt, "echo", &o);
	enum { N = 40 };
	static rk_message in[N], out[256];
	rk_msg_view v[256];
	for (uint32_t round = 0; round < 4; round++) {
		for (uint32_t i = 0; i < N; i++) {
			uint64_t seq = round * N + i, val = seq * 1000003ull + 7;
			in[i].type = (uint32_t)seq;
			in[i].len = 12;
			memcpy(in[i].payload, &val, 8);
			memcpy(in[i].payload + 8, &round, 4);
		}
		unsigned sent = 0, got = 0;
		cr_assert_eq(rk_kernel_send_burst(k, in, N, &sent), 0, "%s", rk_last_error());
		cr_assert_eq(sent, N);
		/* all N replies published before one receive takes them */
		rk_kernel_status st = await_status(k, rkt_output_depth, N, 10000);
		cr_assert_eq(st.output_depth, N, "%llu replies published of %u",
			     (unsigned long long)st.output_depth, N);
		bool zc = round >= 2;
		int ret = zc ? rk_kernel_receive_zc(k, v, 256, &got, 5 * SEC)
			     : rk_kernel_receive_burst(k, out, 256, &got, 5 * SEC);
		cr_assert_eq(ret, 0, "%s", rk_last_error());
		cr_assert_eq(got, N, "round %u: one receive took %u of %u", round, got, N);
		for (uint32_t i = 0; i < N; i++) {
			uint32_t type = zc ? v[i].type : out[i].type;
			uint32_t len = zc ? v[i].len : out[i].len;
			const uint8_t *p = zc ? v[i].payload : out[i].payload;
			cr_assert_eq(type, in[i].type, "round %u message %u came as type %u", round,
				     i, type);
			cr_assert_eq(len, 12);
			cr_assert_arr_eq(p, in[i].payload, 12, "round %u message %u", round, i);
		}
		if (zc)
			cr_assert_eq(rk_kernel_receive_zc_done(k), 0, "%s", rk_last_error());
	}
	rk_runtime_shutdown(rt);
}

/* ---- zero-copy receive --------------------------------------------------- */

struct numbered_sender {
	rk_kernel *k;
	uint64_t n;
	int ret;
};

/* Sends messages 0..n-1, each its sequence number as type and payload. */
static void *send_numbered(void *arg)
{
	struct numbered_sender *s = arg;
	for (uint64_t i = 0; i < s->n && s->ret == 0; i++) {
		uint8_t buf[24];
		fill(buf, sizeof(buf), i);
		memcpy(buf, &i, sizeof(i));
		s->ret = rk_kernel_send(s->k, (uint32_t)i, buf, sizeof(buf), 10 * SEC);
	}
	return NULL;
}

/* A sender thread's numbered stream comes back through zero-copy bursts:
 * nothing lost, duplicated or reordered, every byte as sent, read in place
 * and handed back in one step per burst. */
Test(messaging, zero_copy_bursts_keep_order_and_bytes, .timeout = 300)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_queue_capacity(&o, 64);
	rk_kernel *k = launch(rt, "echo", &o);
	struct numbered_sender s = { .k = k, .n = rk_test_count(200000) };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, send_numbered, &s), 0);
	rk_msg_view v[16];
	uint64_t next = 0, bursts = 0;
	while (next < s.n) {
		unsigned got = 0;
		int ret = rk_kernel_receive_zc(k, v, 16, &got, 10 * SEC);
		cr_assert_eq(ret, 0, "after %llu: %s", (unsigned long long)next, rk_last_error());
		cr_assert(got >= 1 && got <= 16, "got %u", got);
		for (unsigned i = 0; i < got; i++, next++) {
			uint64_t seq;
			uint8_t want[24];
			cr_assert_eq(v[i].len, sizeof(want));
			memcpy(&seq, v[i].payload, sizeof(seq));
			cr_assert_eq(seq, next, "message %llu came as %llu",
				     (unsigned long long)next, (unsigned long long)seq);
			cr_assert_eq(v[i].type, (uint32_t)next);
			fill(want, sizeof(want), next);
			memcpy(want, &next, sizeof(next));
			cr_assert_arr_eq(v[i].payload, want, sizeof(want));
			cr_assert_eq(v[i].source, rk_kernel_id(k));
			cr_assert(v[i].flags & RK_MSG_F_REPLY);
			cr_assert_neq(v[i].correlation_id, 0);
		}
		cr_assert_eq(rk_kernel_receive_zc_done(k), 0, "%s", rk_last_error());
		bursts++;
	}
	pthread_join(t, NULL);
	cr_assert_eq(s.ret, 0, "%s", rk_strerror(s.ret));
	rk_message m;
	cr_assert_eq(rk_kernel_receive(k, &m, 0), -EAGAIN, "a message beyond the stream");
	rk_kernel_status st = await_processed(k, s.n);
	cr_assert_eq(st.messages_received, s.n);
	cr_assert_leq(bursts, s.n);
	rk_runtime_shutdown(rt);
}

struct receiver {
	rk_kernel *k;
	rk_message m;
	int ret, done;
};

static void *receive_one(void *arg)
{
	struct receiver *r = arg;
	r->ret = rk_kernel_receive(r->k, &r->m, 30 * SEC);
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

struct caller {
	rk_kernel *k;
	int ret;
};

static void *call_deactivated(void *arg)
{
	struct caller *c = arg;
	rk_message m;
	uint32_t v = 1;
	c->ret = rk_kernel_call(c->k, 1, &v, sizeof(v), &m, 2 * SEC);
	return NULL;
}

/* A zero-copy receive holds its slots until it is done: a second one is
 * -EBUSY, other receivers wait their turn and then get the next message in
 * order, done without a receive is -EINVAL, and it is -EBUSY while a call
 * waits for its reply (that reply is the copying calls' to route). */
Test(messaging, zero_copy_receive_holds_the_reader_until_done, .timeout = 120)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "echo", NULL);
	rk_msg_view v[4];
	unsigned got = 7;
	cr_assert_eq(rk_kernel_receive_zc(k, NULL, 4, &got, 0), -EINVAL);
	cr_assert_eq(rk_kernel_receive_zc(k, v, 0, &got, 0), -EINVAL);
	cr_assert_eq(rk_kernel_receive_zc(NULL, v, 4, &got, 0), -EINVAL);
	cr_assert_eq(rk_kernel_receive_zc_done(NULL), -EINVAL);
	cr_assert_eq(rk_kernel_receive_zc_done(k), -EINVAL, "nothing held");
	cr_assert_eq(rk_kernel_receive_zc(k, v, 4, &got, 0), -EAGAIN);
	cr_assert_eq(got, 0);

	for (uint32_t i = 1; i <= 2; i++)
		cr_assert_eq(rk_kernel_send(k, i, &i, sizeof(i), 5 * SEC), 0);
	await_processed(k, 2);
	cr_assert_eq(rk_kernel_receive_zc(k, v, 1, &got, 5 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(got, 1);
	cr_assert_eq(v[0].type, 1);
	unsigned again = 9;
	cr_assert_eq(rk_kernel_receive_zc(k, v + 1, 1, &again, 0), -EBUSY);
	cr_assert_eq(again, 0);
	cr_assert(strstr(rk_last_error(), "not done"), "%s", rk_last_error());

	struct receiver r = { .k = k };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, receive_one, &r), 0);
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	cr_assert_eq(__atomic_load_n(&r.done, __ATOMIC_ACQUIRE), 0,
		     "a receiver took a message past held slots (ret %d, type %u)", r.ret,
		     r.m.type);
	uint32_t first;
	memcpy(&first, v[0].payload, sizeof(first));
	cr_assert_eq(first, 1, "the held slot changed under its view");
	cr_assert_eq(rk_kernel_receive_zc_done(k), 0);
	pthread_join(t, NULL);
	cr_assert_eq(r.ret, 0, "%s", rk_strerror(r.ret));
	cr_assert_eq(r.m.type, 2, "the next message in order");

	/* A call waiting for its reply: the zero-copy reader stands aside. */
	cr_assert_eq(rk_kernel_deactivate(k), 0);
	struct caller c = { .k = k };
	cr_assert_eq(pthread_create(&t, NULL, call_deactivated, &c), 0);
	int ret = -EAGAIN;
	for (int i = 0; i < 1000 && ret == -EAGAIN; i++) {
		ret = rk_kernel_receive_zc(k, v, 4, &got, 0);
		if (ret == -EAGAIN)
			nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	}
	cr_assert_eq(ret, -EBUSY, "%s", rk_strerror(ret));
	cr_assert(strstr(rk_last_error(), "rk_kernel_receive"), "%s", rk_last_error());
	pthread_join(t, NULL);
	cr_assert_eq(c.ret, -ETIMEDOUT, "%s", rk_strerror(c.ret));
	rk_runtime_shutdown(rt);
}

static void *receive_forever(void *arg)
{
	struct receiver *r = arg;
	r->ret = rk_kernel_receive(r->k, &r->m, RK_FOREVER);
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Terminate ends a receiver waiting behind a zero-copy receive that is
 * never done (-ESHUTDOWN, not a wait forever); the held slots and the
 * message behind them are still there once the holder is done. */
Test(messaging, terminate_ends_a_receiver_waiting_behind_a_zero_copy_hold, .timeout = 120)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "echo", NULL);
	for (uint32_t i = 1; i <= 2; i++)
		cr_assert_eq(rk_kernel_send(k, i, &i, sizeof(i), 5 * SEC), 0);
	await_processed(k, 2);
	rk_msg_view v[1];
	unsigned got = 0;
	cr_assert_eq(rk_kernel_receive_zc(k, v, 1, &got, 5 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(got, 1);

	struct receiver r = { .k = k };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, receive_forever, &r), 0);
	nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	cr_assert_eq(__atomic_load_n(&r.done, __ATOMIC_ACQUIRE), 0);
	cr_assert_eq(rk_kernel_terminate(k), 0, "%s", rk_last_error());
	for (int i = 0; i < 10000 && !__atomic_load_n(&r.done, __ATOMIC_ACQUIRE); i++)
		nanosleep(&(struct timespec){ 0, 1000 * 1000 }, NULL);
	cr_assert_eq(__atomic_load_n(&r.done, __ATOMIC_ACQUIRE), 1,
		     "terminate left a receiver waiting behind the held slots");
	pthread_join(t, NULL);
	cr_assert_eq(r.ret, -ESHUTDOWN, "%s", rk_strerror(r.ret));

	uint32_t first;
	memcpy(&first, v[0].payload, sizeof(first));
	cr_assert_eq(first, 1, "the held slot changed under its view");
	cr_assert_eq(rk_kernel_receive_zc_done(k), 0);
	rk_message m;
	cr_assert_eq(rk_kernel_receive(k, &m, 0), 0, "%s", rk_last_error());
	cr_assert_eq(m.type, 2, "the message behind the hold is still delivered");
	cr_assert_eq(rk_kernel_receive(k, &m, 0), -ESHUTDOWN);
	rk_runtime_shutdown(rt);
}

/* ---- terminate with messages in flight ------------------------------------ */

static int slow_echo(rk_ctx *ctx, const rk_message *in)
{
	struct timespec ts = { 0, 200000 };
	nanosleep(&ts, NULL);
	return rk_ctx_reply(ctx, in->type, in->payload, in->len);
}
RKT_KERNEL_CPU_OPENCL(slow_echo, slow_echo, rkt_slow_echo_cl, "slow_echo_dev_persistent")

Test(messaging, terminate_accounts_for_every_message, .timeout = 120)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_queue_capacity(&o, 4096);
	rk_kernel *k = launch(rt, "slow_echo", &o);
	const uint32_t n = 2000;
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(rk_kernel_send(k, 1, &i, 4, SEC), 0);
	usleep(20000);
	cr_assert_eq(rk_kernel_terminate(k), 0);
	rk_kernel_status st;
	rk_kernel_status(k, &st);
	/* Drain: replies first, then the inputs the kernel never processed. */
	uint32_t replies = 0, undelivered = 0, next = 0;
	rk_message m;
	int ret;
	while ((ret = rk_kernel_receive(k, &m, SEC)) == 0) {
		uint32_t v;
		memcpy(&v, m.payload, 4);
		cr_assert_eq(v, next++, "message %u out of order", v);
		if (m.flags & RK_MSG_F_UNDELIVERED)
			undelivered++;
		else
			replies++;
	}
	cr_assert_eq(ret, -ESHUTDOWN);
	cr_assert_eq(replies, st.messages_processed);
	cr_assert_eq(replies + undelivered, n, "%u replies + %u undelivered != %u sent", replies,
		     undelivered, n);
	cr_assert_gt(undelivered, 0, "the kernel was too fast for this test");
	rk_kernel_status(k, &st);
	cr_assert_eq(st.undelivered, undelivered);
	cr_assert_eq(st.state, RK_STATE_TERMINATED);
	rk_runtime_shutdown(rt);
}

/* The same with a built-in kernel (so every backend runs it): a backlog
 * queued while Launched, activation, and terminate right away. */
Test(messaging, terminate_with_backlog_accounts_for_every_message, .timeout = 120)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_queue_capacity(&o, 4096);
	rk_launch_options_without_auto_activate(&o);
	rk_kernel *k = launch(rt, "echo", &o);
	const uint32_t n = 4000;
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(rk_kernel_send(k, 1, &i, 4, SEC), 0);
	cr_assert_eq(rk_kernel_activate(k), 0);
	cr_assert_eq(rk_kernel_terminate(k), 0);
	rk_kernel_status st;
	rk_kernel_status(k, &st);
	uint32_t replies = 0, undelivered = 0, next = 0;
	rk_message m;
	int ret;
	while ((ret = rk_kernel_receive(k, &m, SEC)) == 0) {
		uint32_t v;
		memcpy(&v, m.payload, 4);
		cr_assert_eq(v, next++, "message %u out of order", v);
		if (m.flags & RK_MSG_F_UNDELIVERED)
			undelivered++;
		else
			replies++;
	}
	cr_assert_eq(ret, -ESHUTDOWN);
	cr_assert_eq(replies, st.messages_processed);
	cr_assert_eq(replies + undelivered, n, "%u replies + %u undelivered != %u sent", replies,
		     undelivered, n);
	rk_runtime_shutdown(rt);
}

/* ---- user kernels ------------------------------------------------------------ */

struct acc_state {
	uint64_t total;
	uint64_t calls;
};

static int accumulate(rk_ctx *ctx, const rk_message *in)
{
	struct acc_state *s = rk_ctx_state(ctx);
	uint64_t v = 0;
	if (in->len != 8)
		return -EINVAL;
	memcpy(&v, in->payload, 8);
	s->total += v;
	s->calls++;
	uint64_t out[3] = { s->total, s->calls, rk_ctx_kernel_id(ctx) };
	return rk_ctx_reply(ctx, 9, out, sizeof(out));
}

Test(messaging, registered_user_kernel_keeps_state)
{
	static const rk_kernel_def def = { .name = "accumulate", .cpu = accumulate };
	int ret = rk_register_kernel(&def);
	cr_assert_eq(ret, 0, "%s", rk_last_error());
	cr_assert_eq(rk_register_kernel(&def), -EEXIST);
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "accumulate", NULL);
	rk_message m;
	uint64_t expect = 0;
	for (uint64_t i = 1; i <= 100; i++) {
		cr_assert_eq(rk_kernel_call(k, 1, &i, 8, &m, 5 * SEC), 0);
		expect += i;
		uint64_t out[3];
		memcpy(out, m.payload, sizeof(out));
		cr_assert_eq(m.type, 9);
		cr_assert_eq(out[0], expect);
		cr_assert_eq(out[1], i);
		cr_assert_eq(out[2], rk_kernel_id(k));
	}
	/* A handler error is counted, not fatal. */
	cr_assert_eq(rk_kernel_send(k, 1, "bad", 3, SEC), 0);
	cr_assert_eq(rk_kernel_call(k, 1, &expect, 8, &m, 5 * SEC), 0);
	rk_kernel_status st;
	rk_kernel_status(k, &st);
	cr_assert_eq(st.errors, 1);
	rk_runtime_shutdown(rt);
}

/* Registered by RK_KERNEL before main(): a CPU-only kernel. */
static int shout(rk_ctx *ctx, const rk_message *in)
{
	char up[8];
	uint32_t n = in->len < sizeof(up) ? in->len : (uint32_t)sizeof(up);
	for (uint32_t i = 0; i < n; i++) {
		char c = ((const char *)in->payload)[i];
		up[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
	}
	return rk_ctx_reply(ctx, in->type + 1, up, n);
}
RK_KERNEL(shout, shout)

Test(messaging, static_registration_macro)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "shout", NULL);
	rk_message m;
	cr_assert_eq(rk_kernel_call(k, 5, "hi", 2, &m, 5 * SEC), 0);
	cr_assert_eq(m.type, 6);
	cr_assert_eq(m.len, 2);
	cr_assert_arr_eq(m.payload, "HI", 2);
	rk_runtime_shutdown(rt);
}

/* ---- the runtime fd in a real epoll loop ------------------------------------------ */

Test(messaging, runtime_fd_in_epoll_loop, .timeout = 120)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k[3];
	for (int i = 0; i < 3; i++)
		k[i] = launch(rt, "echo", NULL);
	int fd = rk_runtime_fd(rt);
	cr_assert_geq(fd, 0, "%s", rk_last_error());
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN };
	cr_assert_eq(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	/* Quiet: nothing to read. */
	cr_assert_eq(epoll_wait(ep, &ev, 1, 50), 0, "fd readable with no output");
	const int rounds = 200;
	int got = 0;
	for (int r = 0; r < rounds; r++) {
		int which = r % 3;
		cr_assert_eq(rk_kernel_send(k[which], 1, &r, 4, SEC), 0);
		int n = epoll_wait(ep, &ev, 1, 10000);
		cr_assert_eq(n, 1, "round %d: fd never became readable", r);
		for (int i = 0; i < 3; i++) {
			rk_message m;
			while (rk_kernel_try_receive(k[i], &m) == 0) {
				int v;
				memcpy(&v, m.payload, 4);
				cr_assert_eq(v, r);
				cr_assert_eq(i, which, "reply on the wrong kernel");
				got++;
			}
		}
	}
	cr_assert_eq(got, rounds);
	close(ep);
	rk_runtime_shutdown(rt);
}

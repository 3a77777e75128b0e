/* SPDX-License-Identifier: MIT */
/*
 * Hardening: blocked calls and the lifecycle under concurrency, and a
 * region that someone else scribbles on. Each test is a defect that the
 * runtime once had; the region is tampered with through the runtime's own
 * view of it (the unit's internal header), as another process mapping the
 * same memfd through /proc/PID/fd could.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rt_common.h"

#include "../runtime/internal.h"

static const char *const reactors[] = { "uring", "futex" };
#define NREACTORS 2

/* A runtime on the test backend with the given reactor. */
static rk_runtime *rt_with(const char *reactor)
{
	setenv("RK_REACTOR", reactor, 1);
	rk_runtime *rt = rt_open();
	unsetenv("RK_REACTOR");
	return rt;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/* Join within `secs` or fail: a thread still blocked is the defect. */
static void join_within(pthread_t t, unsigned secs, const char *what)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	int ret = pthread_timedjoin_np(t, NULL, &ts);
	cr_assert_eq(ret, 0, "%s: still blocked %u s after terminate", what, secs);
}

/* ---- blocked calls return when another thread terminates ------------------ */

enum op { OP_RECEIVE, OP_BURST, OP_CALL, OP_SEND };

struct blocked {
	rk_kernel *k;
	enum op op;
	uint64_t timeout;
	atomic_int started;
	int ret;
};

static void *blocked_main(void *arg)
{
	struct blocked *b = arg;
	rk_message m, burst[4];
	unsigned got;
	uint8_t p[8] = { 0 };
	atomic_store(&b->started, 1);
	switch (b->op) {
	case OP_RECEIVE: b->ret = rk_kernel_receive(b->k, &m, b->timeout); break;
	case OP_BURST: b->ret = rk_kernel_receive_burst(b->k, burst, 4, &got, b->timeout); break;
	case OP_CALL: b->ret = rk_kernel_call(b->k, 1, p, sizeof(p), &m, b->timeout); break;
	case OP_SEND:
		/* The kernel is deactivated with a full input ring: this blocks. */
		b->ret = rk_kernel_send(b->k, 1, p, sizeof(p), b->timeout);
		break;
	}
	return NULL;
}

static void terminate_wakes(enum op op, uint64_t timeout, const char *what)
{
	for (unsigned r = 0; r < NREACTORS; r++) {
		rk_runtime *rt = rt_with(reactors[r]);
		rk_launch_options o = rk_launch_options_default();
		rk_launch_options_with_queue_capacity(&o, 4);
		/* sink never replies: receive and call can only wait */
		rk_kernel *k = launch(rt, "sink", &o);
		if (op == OP_SEND) {
			cr_assert_eq(rk_kernel_deactivate(k), 0, "%s", rk_last_error());
			uint8_t p[8] = { 0 };
			for (int i = 0; i < 4; i++)
				cr_assert_eq(rk_kernel_try_send(k, 1, p, sizeof(p)), 0);
			cr_assert_eq(rk_kernel_try_send(k, 1, p, sizeof(p)), -EAGAIN);
		}
		struct blocked b = { .k = k, .op = op, .timeout = timeout };
		pthread_t t;
		cr_assert_eq(pthread_create(&t, NULL, blocked_main, &b), 0);
		while (!atomic_load(&b.started))
			usleep(1000);
		usleep(50000); /* well into its sleep */
		cr_assert_eq(rk_kernel_terminate(k), 0, "%s", rk_last_error());
		join_within(t, 10, what);
		if (op == OP_SEND || op == OP_CALL || op == OP_RECEIVE || op == OP_BURST)
			cr_assert_eq(b.ret, -ESHUTDOWN, "%s (%s reactor) returned %s", what,
				     reactors[r], rk_strerror(b.ret));
		rk_kernel_release(k);
		cr_assert_eq(rk_runtime_shutdown(rt), 0);
	}
}

Test(hardening, receive_forever_returns_on_terminate, .timeout = 60)
{
	terminate_wakes(OP_RECEIVE, RK_FOREVER, "receive(RK_FOREVER)");
}

Test(hardening, receive_with_timeout_returns_on_terminate, .timeout = 60)
{
	terminate_wakes(OP_RECEIVE, 600 * SEC, "receive(600 s)");
}

Test(hardening, receive_burst_returns_on_terminate, .timeout = 60)
{
	terminate_wakes(OP_BURST, RK_FOREVER, "receive_burst(RK_FOREVER)");
}

Test(hardening, call_returns_on_terminate, .timeout = 60)
{
	/* Undelivered inputs come back first: call's request is one of them,
	 * but it is not its reply, so call goes on to -ESHUTDOWN. */
	terminate_wakes(OP_CALL, RK_FOREVER, "call(RK_FOREVER)");
}

Test(hardening, send_on_full_ring_returns_on_terminate, .timeout = 60)
{
	terminate_wakes(OP_SEND, RK_FOREVER, "send(RK_FOREVER)");
}

/* ---- shutdown while a thread is blocked ---------------------------------------- */

Test(hardening, shutdown_while_receiving, .timeout = 60)
{
	for (unsigned r = 0; r < NREACTORS; r++) {
		rk_runtime *rt = rt_with(reactors[r]);
		rk_kernel *k = launch(rt, "sink", NULL);
		struct blocked b = { .k = k, .op = OP_RECEIVE, .timeout = RK_FOREVER };
		pthread_t t;
		cr_assert_eq(pthread_create(&t, NULL, blocked_main, &b), 0);
		while (!atomic_load(&b.started))
			usleep(1000);
		usleep(50000);
		cr_assert_eq(rk_runtime_shutdown(rt), 0, "%s", rk_last_error());
		join_within(t, 10, "receive during shutdown");
		cr_assert_eq(b.ret, -ESHUTDOWN, "%s reactor: %s", reactors[r], rk_strerror(b.ret));
	}
}

/* ---- terminate with senders blocked on a full ring ------------------------------ */

#define NSENDERS 6

struct sender {
	rk_kernel *k;
	unsigned who;
	uint64_t ok; /* sends that returned 0 */
};

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	for (uint64_t seq = 0;; seq++) {
		uint64_t p[2] = { s->who, seq };
		int ret = rk_kernel_send(s->k, 7, p, sizeof(p), RK_FOREVER);
		if (ret < 0) {
			cr_assert_eq(ret, -ESHUTDOWN, "sender %u: %s", s->who, rk_strerror(ret));
			break;
		}
		s->ok++;
	}
	return NULL;
}

struct drain {
	rk_kernel *k;
	uint8_t (*seen)[1 << 16];
	uint64_t back;
	int ret;
};

/* Receives (with a duplicate check) until the kernel says -ESHUTDOWN. */
static void *drain_main(void *arg)
{
	struct drain *d = arg;
	rk_message m;
	while ((d->ret = rk_kernel_receive(d->k, &m, 20 * SEC)) == 0) {
		uint64_t p[2];
		cr_assert_eq(m.len, sizeof(p));
		memcpy(p, m.payload, sizeof(p));
		cr_assert_lt(p[0], NSENDERS);
		cr_assert_lt(p[1], sizeof(d->seen[0]));
		cr_assert_eq(d->seen[p[0]][p[1]], 0, "message %llu of sender %llu twice",
			     (unsigned long long)p[1], (unsigned long long)p[0]);
		d->seen[p[0]][p[1]] = 1;
		d->back++;
	}
	return NULL;
}

/*
 * Every send that returned 0 comes back, as a reply or undelivered, before
 * receive says -ESHUTDOWN; nothing comes after it, and nothing twice. The
 * kernel runs with a tiny input ring, so at the moment of terminate senders
 * are everywhere in their send: parked, just woken, reserving.
 */
Test(hardening, terminate_accounts_for_every_blocked_send, .timeout = 240)
{
	static uint8_t seen[NSENDERS][1 << 16];
	unsigned rounds = (unsigned)rk_test_count(100);
	if (rounds < 4)
		rounds = 4;
	for (unsigned round = 0; round < rounds; round++) {
		rk_runtime *rt = rt_with(reactors[round % NREACTORS]);
		rk_launch_options o = rk_launch_options_default();
		rk_launch_options_with_input_capacity(&o, 4);
		rk_launch_options_with_output_capacity(&o, 256);
		rk_kernel *k = launch(rt, "echo", &o);
		memset(seen, 0, sizeof(seen));
		struct drain d = { .k = k, .seen = seen };
		pthread_t dt;
		cr_assert_eq(pthread_create(&dt, NULL, drain_main, &d), 0);
		struct sender s[NSENDERS];
		pthread_t t[NSENDERS];
		for (unsigned i = 0; i < NSENDERS; i++) {
			s[i] = (struct sender){ .k = k, .who = i };
			cr_assert_eq(pthread_create(&t[i], NULL, sender_main, &s[i]), 0);
		}
		usleep(2000 + 1000 * (round % 8));
		cr_assert_eq(rk_kernel_terminate(k), 0, "%s", rk_last_error());
		join_within(dt, 30, "the receiver");
		cr_assert_eq(d.ret, -ESHUTDOWN, "%s", rk_strerror(d.ret));
		uint64_t sent = 0;
		for (unsigned i = 0; i < NSENDERS; i++) {
			join_within(t[i], 10, "a sender");
			sent += s[i].ok;
		}
		rk_message m;
		cr_assert_eq(rk_kernel_receive(k, &m, 0), -ESHUTDOWN,
			     "round %u: a message came back after -ESHUTDOWN", round);
		for (unsigned i = 0; i < NSENDERS; i++)
			for (uint64_t q = 0; q < s[i].ok; q++)
				cr_assert_eq(seen[i][q], 1,
					     "round %u: sender %u's message %llu was sent but "
					     "did not come back before -ESHUTDOWN",
					     round, i, (unsigned long long)q);
		cr_assert_eq(d.back, sent, "round %u: %llu sent, %llu came back", round,
			     (unsigned long long)sent, (unsigned long long)d.back);
		rk_kernel_release(k);
		cr_assert_eq(rk_runtime_shutdown(rt), 0);
	}
}

/* ---- deactivate a kernel stalled on its output ------------------------------- */

Test(hardening, deactivate_a_kernel_stalled_on_output, .timeout = 60)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_output_capacity(&o, 4);
	rk_kernel *k = launch(rt, "echo", &o);
	for (uint32_t i = 0; i < 16; i++)
		cr_assert_eq(rk_kernel_send(k, i, &i, sizeof(i), 5 * SEC), 0);
	/* 4 replies fill the output; the fifth holds the kernel. */
	rk_kernel_status st;
	for (int t = 0; t < 5000; t++) {
		cr_assert_eq(rk_kernel_status(k, &st), 0);
		if (st.stalls > 0)
			break;
		usleep(1000);
	}
	cr_assert_gt(st.stalls, 0, "the kernel never stalled");
	uint64_t t0 = now_ns();
	cr_assert_eq(rk_kernel_deactivate(k), 0, "%s", rk_last_error());
	cr_assert_lt(now_ns() - t0, 5 * SEC, "deactivate waited for the stall to end");
	cr_assert_eq(rk_kernel_state(k), RK_STATE_DEACTIVATED);
	/* What it held goes out once there is room; nothing after it does. */
	rk_message m;
	uint32_t next = 0;
	while (rk_kernel_receive(k, &m, SEC / 5) == 0) {
		cr_assert_eq(m.type, next, "reply %u out of order", next);
		next++;
	}
	cr_assert_geq(next, 4);
	cr_assert_leq(next, 6, "a deactivated kernel went on consuming (%u replies)", next);
	cr_assert_eq(rk_kernel_activate(k), 0);
	for (; next < 16; next++) {
		cr_assert_eq(rk_kernel_receive(k, &m, 5 * SEC), 0, "reply %u: %s", next,
			     rk_last_error());
		cr_assert_eq(m.type, next);
	}
	cr_assert_eq(rk_runtime_shutdown(rt), 0);
}

struct parked_receive {
	rk_kernel *k;
	int ret;
	uint32_t type;
};

static void *receive_parked(void *arg)
{
	struct parked_receive *p = arg;
	rk_message m;
	p->ret = rk_kernel_receive(p->k, &m, 30 * SEC);
	p->type = m.type;
	return NULL;
}

/* Bell words per side: a loop on a host thread (cpu) rings the host's word
 * itself; a device (opencl, cuda, hip) never read-modify-writes a word the
 * host writes too: it rings its own word, and the plugin's bell thread
 * carries each ring to the host's. With a spin budget of 0 the host parks
 * whenever a reply is not there yet, and every reply still arrives. A
 * fast device may answer every call before the host parks, so one reply
 * is made while the host is known to be parked: the kernel is deactivated,
 * the request sent, and the kernel activated only once a receiver sleeps. */
Test(hardening, each_side_rings_its_own_bell_word, .timeout = 120)
{
	setenv("RK_SPIN_NS", "0", 1);
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "echo", NULL);
	uint32_t dev0 = __atomic_load_n(&k->out.hdr->cons_bell_dev, __ATOMIC_ACQUIRE);
	uint32_t host0 = __atomic_load_n(&k->out.hdr->cons_bell, __ATOMIC_ACQUIRE);
	for (uint32_t i = 0; i < 300; i++) {
		rk_message m;
		cr_assert_eq(rk_kernel_call(k, 5, &i, sizeof(i), &m, 10 * SEC), 0, "call %u: %s", i,
			     rk_last_error());
		uint32_t back;
		memcpy(&back, m.payload, sizeof(back));
		cr_assert_eq(back, i);
	}
	cr_assert_eq(rk_kernel_deactivate(k), 0, "%s", rk_last_error());
	cr_assert_eq(rk_kernel_send(k, 77, "x", 1, SEC), 0, "%s", rk_last_error());
	struct parked_receive p = { .k = k, .ret = 1 };
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, receive_parked, &p), 0);
	uint64_t t0 = now_ns();
	while (__atomic_load_n(&k->out.hdr->cons_waiting, __ATOMIC_SEQ_CST) == 0 &&
	       now_ns() - t0 < 20 * SEC)
		usleep(1000);
	cr_assert_neq(__atomic_load_n(&k->out.hdr->cons_waiting, __ATOMIC_SEQ_CST), 0,
		      "the receiver never parked with a spin budget of 0");
	cr_assert_eq(rk_kernel_activate(k), 0, "%s", rk_last_error());
	pthread_join(th, NULL);
	cr_assert_eq(p.ret, 0, "the parked receiver got no reply: %s", rk_strerror(p.ret));
	cr_assert_eq(p.type, 77);
	uint32_t dev = __atomic_load_n(&k->out.hdr->cons_bell_dev, __ATOMIC_ACQUIRE) - dev0;
	uint32_t host = __atomic_load_n(&k->out.hdr->cons_bell, __ATOMIC_ACQUIRE) - host0;
	const char *be = rk_runtime_backend_name(rt);
	cr_assert_gt(host, 0, "the host's bell never rang on %s", be);
	if (!strcmp(be, "cpu"))
		cr_assert_eq(dev, 0, "a host thread rang the device's word %u times", dev);
	else
		cr_assert_gt(dev, 0, "the %s device rang no bell word of its own", be);
	rk_kernel_terminate(k);
	rk_runtime_shutdown(rt);
	unsetenv("RK_SPIN_NS");
}

/* ---- the region is untrusted ------------------------------------------------------- */

/* The output ring's producer index set far ahead: receive says -EUCLEAN and
 * never hands out a stale slot. */
Test(hardening, output_index_far_ahead_is_corrupt, .timeout = 60)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "echo", NULL);
	uint32_t v = 5;
	rk_message m;
	cr_assert_eq(rk_kernel_call(k, 1, &v, sizeof(v), &m, 5 * SEC), 0);
	__atomic_fetch_add(&k->out.hdr->prod_tail, 1u << 20, __ATOMIC_SEQ_CST);
	int got = 0, ret;
	while ((ret = rk_kernel_receive(k, &m, SEC / 10)) == 0)
		got++;
	cr_assert_eq(got, 0, "%d stale slots were handed out", got);
	cr_assert_eq(ret, -EUCLEAN, "%s", rk_strerror(ret));
	cr_assert(strstr(rk_last_error(), "corrupt"), "%s", rk_last_error());
	cr_assert_eq(rk_kernel_receive(k, &m, 0), -EUCLEAN, "corrupt is sticky");
	rk_kernel_status st;
	cr_assert_eq(rk_kernel_status(k, &st), 0);
	cr_assert_geq(st.corrupt, 1, "the corrupt index was not counted");
	rk_kernel_terminate(k);
	rk_runtime_shutdown(rt);
}

/* Write `n` slots as the output ring's producer would: good replies
 * numbered from `first`, except those `bad` marks (1: magic cleared, 2: a
 * length past the slot), then publish them. */
static void produce_replies(struct rk_ring *o, const int *bad, unsigned n, uint32_t first)
{
	uint64_t tail = __atomic_load_n(&o->hdr->prod_tail, __ATOMIC_ACQUIRE);
	for (unsigned i = 0; i < n; i++) {
		rk_message m;
		memset(&m, 0, sizeof(m));
		m.type = 7;
		m.id = first + i;
		m.len = 64;
		for (unsigned b = 0; b < m.len; b++)
			m.payload[b] = (uint8_t)(first + i + b);
		void *slot = rk_ring_slot(o, tail + i);
		cr_assert_eq(rk_msg_write(slot, o->slot_size, &m), 0);
		struct rk_msg_hdr *h = slot;
		if (bad[i] == 1)
			h->magic = 0;
		else if (bad[i] == 2)
			h->len = o->slot_size; /* the header leaves less than that */
	}
	__atomic_store_n(&o->hdr->prod_tail, tail + n, __ATOMIC_SEQ_CST);
}

static void assert_reply(const rk_message *m, uint32_t id)
{
	cr_assert_eq(m->id, id);
	cr_assert_eq(m->type, 7);
	cr_assert_eq(m->len, 64);
	for (unsigned b = 0; b < m->len; b++)
		cr_assert_eq(m->payload[b], (uint8_t)(id + b), "reply %u byte %u", id, b);
}

/* Reply slots are checked before a byte of them is used: one with a bad
 * magic, or with a length past its slot, is dropped, and the good ones
 * around it arrive whole and in order, to receive, receive_burst and the
 * zero-copy receive alike. */
Test(hardening, malformed_reply_slots_are_dropped, .timeout = 60)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "echo", NULL);
	/* Deactivated, the kernel publishes nothing: the test is the producer. */
	cr_assert_eq(rk_kernel_deactivate(k), 0, "%s", rk_last_error());
	static const int bad[] = { 1, 0, 2, 0, 1 };
	rk_message m;
	produce_replies(&k->out, bad, 5, 100);
	cr_assert_eq(rk_kernel_receive(k, &m, 0), 0, "%s", rk_last_error());
	assert_reply(&m, 101);
	cr_assert_eq(rk_kernel_receive(k, &m, 0), 0, "%s", rk_last_error());
	assert_reply(&m, 103);
	cr_assert_eq(rk_kernel_receive(k, &m, 0), -EAGAIN);

	static rk_message burst[8];
	unsigned got = 0;
	produce_replies(&k->out, bad, 5, 200);
	cr_assert_eq(rk_kernel_receive_burst(k, burst, 8, &got, 0), 0, "%s", rk_last_error());
	cr_assert_eq(got, 2);
	assert_reply(&burst[0], 201);
	assert_reply(&burst[1], 203);
	cr_assert_eq(rk_kernel_receive(k, &m, 0), -EAGAIN);

	rk_msg_view v[8];
	produce_replies(&k->out, bad, 5, 300);
	cr_assert_eq(rk_kernel_receive_zc(k, v, 8, &got, 0), 0, "%s", rk_last_error());
	cr_assert_eq(got, 2);
	for (unsigned i = 0; i < 2; i++) {
		uint32_t id = 301 + 2 * i;
		cr_assert_eq(v[i].id, id);
		cr_assert_eq(v[i].len, 64);
		for (unsigned b = 0; b < 64; b++)
			cr_assert_eq(((const uint8_t *)v[i].payload)[b], (uint8_t)(id + b));
	}
	cr_assert_eq(rk_kernel_receive_zc_done(k), 0);
	/* Only malformed slots: nothing is returned, and they are handed back. */
	static const int all_bad[] = { 1, 2 };
	produce_replies(&k->out, all_bad, 2, 400);
	cr_assert_eq(rk_kernel_receive_zc(k, v, 8, &got, 0), -EAGAIN);
	cr_assert_eq(got, 0);
	cr_assert_eq(rk_ring_count(&k->out), 0);
	cr_assert_eq(rk_kernel_receive(k, &m, 0), -EAGAIN);
	cr_assert(!rk_ring_corrupt(&k->out), "a malformed slot is not a corrupt ring");
	rk_kernel_terminate(k);
	rk_runtime_shutdown(rt);
}

/* Someone flips the length of reply slots between 64 and far past the
 * slot while the host reads them. The length is read once: what it was
 * checked as is what is copied (a second read could copy gigabytes out of
 * the slot). Every message returned is whole and in order, the others are
 * dropped, to receive, receive_burst and the zero-copy receive alike. */
struct len_scribbler {
	struct rk_ring *r;
	atomic_int stop;
	atomic_ullong flips;
};

static void *scribble_lengths(void *arg)
{
	struct len_scribbler *s = arg;
	uint32_t cap = s->r->capacity;
	for (uint64_t i = 0; !atomic_load(&s->stop); i++) {
		struct rk_msg_hdr *h = rk_ring_slot(s->r, i % cap);
		__atomic_store_n(&h->len, (i / cap) & 1 ? 64u : 0x7ffffff0u, __ATOMIC_RELAXED);
		atomic_store_explicit(&s->flips, i + 1, memory_order_relaxed);
	}
	return NULL;
}

Test(hardening, reply_length_scribbled_while_read, .timeout = 120)
{
	const char *san = getenv("RK_TEST_SANITIZED");
	if (san && strstr(san, "thread"))
		cr_skip_test("the scribbler races with the reader by design (TSan would stop it)");
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_queue_capacity(&o, 16);
	rk_kernel *k = launch(rt, "echo", &o);
	cr_assert_eq(rk_kernel_deactivate(k), 0, "%s", rk_last_error());
	struct len_scribbler s = { .r = &k->out };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, scribble_lengths, &s), 0);
	/* On a loaded machine the scribbler may start late: the rounds begin
	 * once it flips. */
	unsigned spins = 0;
	while (atomic_load(&s.flips) == 0)
		rk_test_backoff(&spins);
	static const int good[16];
	static rk_message burst[16];
	rk_msg_view v[16];
	unsigned rounds = rk_test_count(20000), taken = 0;
	for (unsigned round = 0; round < rounds; round++) {
		uint32_t first = round * 16, next = first;
		produce_replies(&k->out, good, 16, first);
		for (;;) {
			unsigned got = 0;
			int ret;
			if (round % 3 == 0) {
				ret = rk_kernel_receive(k, &burst[0], 0);
				got = ret == 0;
			} else if (round % 3 == 1) {
				ret = rk_kernel_receive_burst(k, burst, 16, &got, 0);
			} else {
				ret = rk_kernel_receive_zc(k, v, 16, &got, 0);
				for (unsigned i = 0; ret == 0 && i < got; i++) {
					burst[i].id = v[i].id;
					burst[i].type = v[i].type;
					burst[i].len = v[i].len;
					cr_assert_leq(v[i].len, 64u, "round %u: a view of %u bytes",
						      round, v[i].len);
					memcpy(burst[i].payload, v[i].payload, v[i].len);
				}
				if (ret == 0)
					cr_assert_eq(rk_kernel_receive_zc_done(k), 0, "%s",
						     rk_last_error());
			}
			if (ret == -EAGAIN)
				break;
			cr_assert_eq(ret, 0, "round %u: %s", round, rk_last_error());
			for (unsigned i = 0; i < got; i++) {
				cr_assert_geq(burst[i].id, next,
					      "round %u: reply %llu out of order", round,
					      (unsigned long long)burst[i].id);
				cr_assert_lt(burst[i].id, first + 16);
				assert_reply(&burst[i], (uint32_t)burst[i].id);
				next = (uint32_t)burst[i].id + 1;
				taken++;
			}
		}
		cr_assert_eq(rk_ring_count(&k->out), 0, "round %u: slots left in the ring", round);
	}
	atomic_store(&s.stop, 1);
	pthread_join(t, NULL);
	cr_log_info("%u of %u replies taken whole, %llu length flips", taken, rounds * 16,
		    (unsigned long long)atomic_load(&s.flips));
	cr_assert(!rk_ring_corrupt(&k->out), "a malformed slot is not a corrupt ring");
	rk_kernel_terminate(k);
	rk_runtime_shutdown(rt);
}

/* The input ring's producer index moved behind the kernel's consumer: the
 * kernel must not take that as 2^64 new messages. */
Test(hardening, input_index_behind_the_consumer, .timeout = 60)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "echo", NULL);
	uint32_t v = 5;
	rk_message m;
	for (int i = 0; i < 3; i++)
		cr_assert_eq(rk_kernel_call(k, 1, &v, sizeof(v), &m, 5 * SEC), 0);
	await_processed(k, 3);
	__atomic_store_n(&k->in.hdr->prod_tail, 1, __ATOMIC_SEQ_CST);
	/* Ring the kernel's bell so it looks. */
	rk_ring_wake_consumer(&k->in);
	usleep(100000);
	int bogus = 0;
	while (rk_kernel_receive(k, &m, SEC / 10) == 0)
		bogus++;
	cr_assert_eq(bogus, 0, "the kernel produced %d replies to stale slots", bogus);
	rk_kernel_status st;
	cr_assert_eq(rk_kernel_status(k, &st), 0);
	cr_assert_eq(st.messages_processed, 3);
	cr_assert_geq(st.errors, 1, "the corrupt ring was not counted");
	rk_kernel_terminate(k);
	rk_runtime_shutdown(rt);
}

/* prod_tail bumped by 16 from outside: a send with a 1 s timeout returns
 * (an error), it does not wait for a turn that never comes. */
Test(hardening, send_timeout_holds_on_a_tampered_tail, .timeout = 60)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "sink", NULL);
	cr_assert_eq(rk_kernel_deactivate(k), 0);
	__atomic_fetch_add(&k->in.hdr->prod_tail, 16, __ATOMIC_SEQ_CST);
	struct blocked b = { .k = k, .op = OP_SEND, .timeout = SEC };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, blocked_main, &b), 0);
	join_within(t, 5, "send(1 s) on a tampered ring");
	cr_assert_eq(b.ret, -EUCLEAN, "%s", rk_strerror(b.ret));
	cr_assert_eq(rk_kernel_try_send(k, 1, &b, 8), -EUCLEAN);
	rk_kernel_terminate(k);
	rk_runtime_shutdown(rt);
}

/* prod_tail moved one back from outside: a send's turn never comes. Even
 * with RK_FOREVER the send gives up (its claim can never be published),
 * and terminate, which waits for the senders inside a send, still ends. */
Test(hardening, a_tail_moved_back_cannot_hold_a_send_forever, .timeout = 60)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "sink", NULL);
	cr_assert_eq(rk_kernel_deactivate(k), 0);
	uint32_t v = 1;
	cr_assert_eq(rk_kernel_send(k, 1, &v, sizeof(v), SEC), 0);
	__atomic_fetch_sub(&k->in.hdr->prod_tail, 1, __ATOMIC_SEQ_CST);
	struct blocked b = { .k = k, .op = OP_SEND, .timeout = RK_FOREVER };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, blocked_main, &b), 0);
	join_within(t, 20, "send(RK_FOREVER) behind a tail moved back");
	cr_assert_eq(b.ret, -EUCLEAN, "%s", rk_strerror(b.ret));
	cr_assert_eq(rk_kernel_terminate(k), 0, "%s", rk_last_error());
	rk_runtime_shutdown(rt);
}

/* An earlier claimant that is slow to publish (preempted: on a loaded host
 * that takes well over 100 ms, and a client in another process shares the
 * ring too) is not a tampered ring: a non-blocking send behind it waits
 * for its turn and succeeds, and the ring stays usable. */
struct slow_claim {
	rk_kernel *k;
	unsigned hold_ms;
	int claimed; /* atomic */
	int ret;
};

static void *slow_claimant(void *arg)
{
	struct slow_claim *c = arg;
	uint64_t idx;
	if (rk_ring_mp_reserve(&c->k->in, 1, &idx) != 1) {
		c->ret = -ENOSPC;
		__atomic_store_n(&c->claimed, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	__atomic_store_n(&c->claimed, 1, __ATOMIC_RELEASE);
	struct timespec ts = { c->hold_ms / 1000, (long)(c->hold_ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
	struct rk_msg_hdr h = { .type = 9, .id = 1 };
	rk_msg_write_parts(rk_ring_slot(&c->k->in, idx), c->k->in.slot_size, &h, "slow", 4);
	c->ret = rk_ring_mp_commit(&c->k->in, idx, 1);
	return NULL;
}

Test(hardening, a_slow_earlier_claimant_does_not_corrupt_the_ring, .timeout = 60)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "echo", NULL);
	cr_assert_eq(rk_kernel_deactivate(k), 0);
	struct slow_claim c = { .k = k, .hold_ms = 400 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, slow_claimant, &c), 0);
	while (!__atomic_load_n(&c.claimed, __ATOMIC_ACQUIRE))
		sched_yield();
	uint32_t v = 7;
	int ret = rk_kernel_try_send(k, 3, &v, sizeof(v));
	pthread_join(t, NULL);
	cr_assert_eq(c.ret, 0);
	cr_assert_eq(ret, 0, "a send behind a slow claimant: %s", rk_strerror(ret));
	cr_assert_not(rk_ring_corrupt(&k->in), "the ring was declared corrupt");
	cr_assert_eq(rk_kernel_activate(k), 0);
	/* Both messages, in claim order. */
	rk_message *m = malloc(sizeof(*m));
	cr_assert_eq(rk_kernel_receive(k, m, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(m->type, 9);
	cr_assert_eq(memcmp(m->payload, "slow", 4), 0);
	cr_assert_eq(rk_kernel_receive(k, m, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(m->type, 3);
	cr_assert_eq(memcmp(m->payload, &v, 4), 0);
	free(m);
	rk_kernel_terminate(k);
	rk_runtime_shutdown(rt);
}

/* ---- odds and ends ------------------------------------------------------------------ */

Test(hardening, route_status_of_a_huge_index)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_k2k(&o, true);
	rk_kernel *a = launch(rt, "forward", &o);
	rk_kernel *b = launch(rt, "echo", &o);
	cr_assert_eq(rk_kernel_connect(a, b), 0, "%s", rk_last_error());
	rk_route_status rs;
	cr_assert_eq(rk_kernel_route_status(a, 0xFFFFFFFFu, &rs), -ENOENT);
	cr_assert_eq(rk_kernel_route_status(a, 0x80000000u, &rs), -ENOENT);
	cr_assert_eq(rk_kernel_route_status(a, 1, &rs), -ENOENT);
	cr_assert_eq(rk_kernel_route_status(a, 0, &rs), 0);
	cr_assert_eq(rs.dest, rk_kernel_id(b));
	rk_runtime_shutdown(rt);
}

Test(hardening, builtin_replies_must_fit)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_kernel *k = NULL;
	static const struct {
		const char *name;
		uint32_t need;
	} b[] = { { "counter", 8 }, { "add_f32", 4 } };
	for (unsigned i = 0; i < 2; i++) {
		rk_launch_options_with_max_payload(&o, b[i].need - 1);
		cr_assert_eq(rk_runtime_launch(rt, b[i].name, &o, &k), -EINVAL, "%s", b[i].name);
		cr_assert(strstr(rk_last_error(), "too small"), "%s", rk_last_error());
	}
	rk_launch_options_with_max_payload(&o, 0);
	cr_assert_eq(rk_runtime_launch(rt, "echo", &o, &k), 0, "echo fits in 0 bytes");
	rk_launch_options_with_max_payload(&o, 8);
	rk_kernel *c = launch(rt, "counter", &o);
	rk_message m;
	cr_assert_eq(rk_kernel_call(c, 1, NULL, 0, &m, 5 * SEC), 0);
	cr_assert_eq(m.len, 8);
	rk_runtime_shutdown(rt);
}

/* forward into a kernel with smaller slots: every message reaches the host,
 * the ones too big for the receiver flagged RK_MSG_F_TOOBIG. */
Test(hardening, forward_into_smaller_slots_loses_nothing, .timeout = 60)
{
	rk_runtime *rt = rt_open();
	rk_launch_options big = rk_launch_options_default(), small;
	rk_launch_options_with_k2k(&big, true);
	rk_launch_options_with_max_payload(&big, 512);
	small = big;
	rk_launch_options_with_max_payload(&small, 64);
	rk_kernel *a = launch(rt, "forward", &big);
	rk_kernel *b = launch(rt, "echo", &small);
	cr_assert_eq(rk_kernel_connect(a, b), 0);
	uint8_t p[512];
	unsigned toobig = 0;
	for (uint32_t i = 0; i < 13; i++) {
		uint32_t len = 20 + i * 37; /* 20 .. 464 */
		memset(p, (int)i, len);
		rk_message m;
		cr_assert_eq(rk_kernel_send(a, i, p, len, 5 * SEC), 0);
		rk_kernel *from = len > 64 ? a : b;
		cr_assert_eq(rk_kernel_receive(from, &m, 5 * SEC), 0, "message %u (%u bytes): %s",
			     i, len, rk_last_error());
		cr_assert_eq(m.type, i);
		cr_assert_eq(m.len, len);
		cr_assert_eq(m.payload[len - 1], (uint8_t)i);
		if (len > 64) {
			cr_assert(m.flags & RK_MSG_F_TOOBIG, "message %u not flagged", i);
			toobig++;
		} else {
			cr_assert_not(m.flags & RK_MSG_F_TOOBIG);
		}
	}
	cr_assert_eq(toobig, 11);
	rk_runtime_shutdown(rt);
}

/*
 * K2K follows only what the runtime wrote in private memory: scribbling
 * over the sender's route section and the receiver's ring geometry in the
 * regions changes nothing (it once made the kernel write at a wild
 * address or fault on a read).
 */
Test(hardening, k2k_ignores_a_scribbled_region, .timeout = 60)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_k2k(&o, true);
	rk_kernel *a = launch(rt, "forward", &o);
	rk_kernel *b = launch(rt, "echo", &o);
	cr_assert_eq(rk_kernel_connect(a, b), 0);
	rk_message m;
	uint32_t v = 1;
	cr_assert_eq(rk_kernel_send(a, 1, &v, sizeof(v), 5 * SEC), 0);
	cr_assert_eq(rk_kernel_receive(b, &m, 5 * SEC), 0);
	/* Everything another process could write. */
	uint64_t *w = (uint64_t *)a->routes;
	for (size_t i = 0; i < sizeof(*a->routes) / 8; i++)
		__atomic_store_n(&w[i], 0x10000, __ATOMIC_RELAXED);
	struct rk_ring_hdr *h = b->inbound[0].hdr;
	__atomic_store_n(&h->capacity, 1u << 31, __ATOMIC_RELAXED);
	__atomic_store_n(&h->slot_size, 1u << 20, __ATOMIC_RELAXED);
	for (uint32_t i = 2; i < 200; i++) {
		cr_assert_eq(rk_kernel_send(a, i, &i, sizeof(i), 5 * SEC), 0);
		cr_assert_eq(rk_kernel_receive(b, &m, 5 * SEC), 0, "message %u: %s", i,
			     rk_last_error());
		cr_assert_eq(m.type, i);
		cr_assert_eq(*(uint32_t *)m.payload, i);
	}
	rk_runtime_shutdown(rt);
}

/*
 * The CPU backend starts its worker pool on the first launch. Several
 * threads making their first launches at once started it once each: two
 * threads then ran each worker's kernels, and a release freed a kernel one
 * of them was still running (a use-after-free the GPU check bundle's
 * "threads" step hit). Exactly RK_CPU_WORKERS pool threads must run.
 */
struct first_launch {
	rk_runtime *rt;
	pthread_barrier_t *go;
	int ret;
	rk_kernel *k;
};

static void *first_launch_main(void *arg)
{
	struct first_launch *f = arg;
	pthread_barrier_wait(f->go);
	f->ret = rk_runtime_launch(f->rt, "echo", NULL, &f->k);
	return NULL;
}

/* Threads of this process named like the CPU pool's workers. */
static unsigned pool_threads(void)
{
	unsigned n = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[300], comm[32] = "";
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, "rk-cpu-", 7))
			n++;
		fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

Test(hardening, concurrent_first_launches_start_one_pool, .timeout = 120)
{
	if (getenv("RK_TEST_BACKEND") && strcmp(getenv("RK_TEST_BACKEND"), "cpu"))
		cr_skip_test("the CPU backend's pool");
	setenv("RK_CPU_WORKERS", "2", 1);
	enum { NT = 8 };
	for (int round = 0; round < 20; round++) {
		rk_runtime *rt = rt_open();
		pthread_barrier_t go;
		pthread_barrier_init(&go, NULL, NT);
		struct first_launch f[NT];
		pthread_t t[NT];
		for (int i = 0; i < NT; i++) {
			f[i] = (struct first_launch){ .rt = rt, .go = &go };
			cr_assert_eq(pthread_create(&t[i], NULL, first_launch_main, &f[i]), 0);
		}
		for (int i = 0; i < NT; i++) {
			pthread_join(t[i], NULL);
			cr_assert_eq(f[i].ret, 0, "%s", rk_last_error());
		}
		pthread_barrier_destroy(&go);
		cr_assert_eq(pool_threads(), 2, "round %d: one pool of 2 workers", round);
		for (int i = 0; i < NT; i++) {
			rk_message m;
			cr_assert_eq(rk_kernel_call(f[i].k, 1, "p", 1, &m, 10 * SEC), 0);
		}
		cr_assert_eq(rk_runtime_shutdown(rt), 0);
	}
	unsetenv("RK_CPU_WORKERS");
}

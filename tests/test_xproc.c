/* SPDX-License-Identifier: MIT */
/*
 * Two processes, one region: the parent creates a named region with two
 * rings (parent -> child, child -> parent), a forked child opens it by name
 * with rk_region_open() and maps it at its own address, and both sides send
 * and receive at the same time, checking sequence numbers and checksums.
 *
 * The child never touches the parent's rk_region handle (closing it there
 * would unlink the name): it has only what rk_region_open() gave it. It
 * reports through its exit status.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/error.h>
#include <ringkernel/msg.h>
#include <ringkernel/region.h>
#include <ringkernel/ring.h>

#include "testutil.h"

#define SLOT	  128
#define PAYLOAD	  48
#define CAP	  1024
#define TO_CHILD  1
#define TO_PARENT 2
#define STALL_NS  (30 * 1000000000ull) /* no progress for this long = failure */

/* Child exit codes. */
enum {
	XP_OK = 0,
	XP_OPEN = 10,
	XP_FIND = 11,
	XP_ATTACH = 12,
	XP_READ = 20,
	XP_SEQ = 21,
	XP_SUM = 22,
	XP_STALL = 30,
};

static char name[64];

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct side {
	struct rk_ring tx, rx;
	uint64_t sent, received, total;
	uint64_t sender_id; /* goes into hdr.source; the peer checks it */
	uint64_t peer_id;
	rk_message *m;
};

static uint64_t seed_of(uint64_t sender, uint64_t seq)
{
	return (sender << 60) ^ seq;
}

/* Send what fits; returns how many. */
static unsigned pump_tx(struct side *s)
{
	uint64_t idx;
	uint64_t left = s->total - s->sent;
	unsigned k = rk_ring_reserve(&s->tx, left < 32 ? (unsigned)left : 32, &idx);
	for (unsigned i = 0; i < k; i++) {
		uint8_t payload[PAYLOAD];
		struct rk_msg_hdr h = { .type = 5, .source = s->sender_id, .seq = s->sent + i };
		h.correlation_id =
			rk_test_fill(payload, sizeof(payload), seed_of(s->sender_id, s->sent + i));
		rk_msg_write_parts(rk_ring_slot(&s->tx, idx + i), SLOT, &h, payload,
				   sizeof(payload));
	}
	if (k)
		rk_ring_commit(&s->tx, k);
	s->sent += k;
	return k;
}

/* Receive what is there; returns how many, or a negative X_* code. */
static int pump_rx(struct side *s)
{
	uint64_t idx;
	unsigned k = rk_ring_peek(&s->rx, 32, &idx);
	for (unsigned i = 0; i < k; i++) {
		if (rk_msg_read(rk_ring_slot(&s->rx, idx + i), SLOT, s->m) < 0 ||
		    s->m->len != PAYLOAD || s->m->source != s->peer_id)
			return -XP_READ;
		if (s->m->seq != s->received + i)
			return -XP_SEQ;
		uint8_t want[PAYLOAD];
		uint64_t sum = rk_test_fill(want, sizeof(want), seed_of(s->peer_id, s->m->seq));
		if (sum != s->m->correlation_id || memcmp(want, s->m->payload, PAYLOAD) != 0)
			return -XP_SUM;
	}
	if (k)
		rk_ring_release(&s->rx, k);
	s->received += k;
	return (int)k;
}

/* Both directions at once until everything is sent and received. */
static int exchange(struct side *s)
{
	unsigned spins = 0;
	uint64_t idle_since = 0; /* 0: made progress on the last turn */
	while (s->sent < s->total || s->received < s->total) {
		unsigned tx = s->sent < s->total ? pump_tx(s) : 0;
		int rx = pump_rx(s);
		if (rx < 0)
			return -rx;
		if (tx || rx) {
			idle_since = 0;
			continue;
		}
		uint64_t now = mono_ns();
		if (!idle_since)
			idle_since = now;
		else if (now - idle_since > STALL_NS)
			return XP_STALL;
		rk_test_backoff(&spins);
	}
	return XP_OK;
}

static int attach(rk_region *r, uint32_t id, struct rk_ring *ring)
{
	void *p;
	size_t sz;
	if (rk_region_find(r, RK_SECT_RING, id, &p, &sz) < 0)
		return XP_FIND;
	if (rk_ring_attach(ring, p, sz) < 0)
		return XP_ATTACH;
	return 0;
}

static int child_main(uint64_t total)
{
	rk_region *r;
	struct side s = { .total = total, .sender_id = 2, .peer_id = 1 };
	int ret;
	alarm(600); /* never outlive a wedged parent */
	if (rk_region_open(name, 0, &r) < 0) {
		fprintf(stderr, "child: %s\n", rk_last_error());
		return XP_OPEN;
	}
	if ((ret = attach(r, TO_PARENT, &s.tx)) || (ret = attach(r, TO_CHILD, &s.rx)))
		return ret;
	s.m = malloc(sizeof(*s.m));
	ret = exchange(&s);
	free(s.m);
	rk_region_close(r);
	return ret;
}

static rk_region *make_region(void)
{
	rk_region *r;
	size_t need, sizes[2];
	uint64_t off;
	void *p;
	struct rk_ring tmp;
	rk_test_shm_name(name, sizeof(name), "xproc");
	rk_region_unlink(name);
	cr_assert_eq(rk_ring_mem_size(CAP, SLOT, &need), 0);
	sizes[0] = sizes[1] = need;
	cr_assert_eq(rk_region_create(name, rk_region_size_for(sizes, 2), 0, &r), 0, "%s",
		     rk_last_error());
	for (uint32_t id = TO_CHILD; id <= TO_PARENT; id++) {
		cr_assert_eq(rk_region_alloc(r, RK_SECT_RING, id, need, &off), 0);
		cr_assert_eq(rk_region_find(r, RK_SECT_RING, id, &p, NULL), 0);
		cr_assert_eq(rk_ring_init(&tmp, p, need, CAP, SLOT, 0), 0);
	}
	return r;
}

static const char *child_error(int code)
{
	switch (code) {
	case XP_OK: return "ok";
	case XP_OPEN: return "rk_region_open failed";
	case XP_FIND: return "ring section not found";
	case XP_ATTACH: return "rk_ring_attach failed";
	case XP_READ: return "unreadable message";
	case XP_SEQ: return "sequence gap, duplicate or reorder";
	case XP_SUM: return "payload checksum mismatch";
	case XP_STALL: return "no progress";
	default: return "unexpected exit";
	}
}

Test(xproc, million_messages_each_way_between_processes, .timeout = 300)
{
	uint64_t total = rk_test_count(1000000);
	rk_region *r = make_region();
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(child_main(total));

	struct side s = { .total = total, .sender_id = 1, .peer_id = 2 };
	cr_assert_eq(attach(r, TO_CHILD, &s.tx), 0);
	cr_assert_eq(attach(r, TO_PARENT, &s.rx), 0);
	s.m = malloc(sizeof(*s.m));
	int ret = exchange(&s);
	free(s.m);
	if (ret != XP_OK)
		kill(pid, SIGKILL);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	rk_region_close(r);

	cr_assert_eq(ret, XP_OK, "parent: %s after %llu sent, %llu received", child_error(ret),
		     (unsigned long long)s.sent, (unsigned long long)s.received);
	cr_assert(WIFEXITED(st), "child died from signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	cr_assert_eq(WEXITSTATUS(st), XP_OK, "child: %s", child_error(WEXITSTATUS(st)));
	cr_assert_eq(s.sent, total);
	cr_assert_eq(s.received, total);
	cr_log_info("exchanged %llu messages each way", (unsigned long long)total);
}

/*
 * The same region, but every receive parks (spin 0) on the other process's
 * wake: the futex word lives in the shared mapping, so this only works with
 * shared (not process-private) futexes.
 */
static int child_pong(uint64_t rounds)
{
	rk_region *r;
	struct rk_ring rx, tx;
	int ret;
	alarm(300);
	if (rk_region_open(name, 0, &r) < 0)
		return XP_OPEN;
	if ((ret = attach(r, TO_CHILD, &rx)) || (ret = attach(r, TO_PARENT, &tx)))
		return ret;
	for (uint64_t i = 0; i < rounds; i++) {
		uint64_t v;
		while (rk_ring_dequeue(&rx, &v, sizeof(v)) < 0)
			if (rk_ring_wait_readable(&rx, 0, STALL_NS) < 0)
				return XP_STALL;
		if (v != i)
			return XP_SEQ;
		v = ~v;
		while (rk_ring_enqueue(&tx, &v, sizeof(v)) < 0)
			if (rk_ring_wait_writable(&tx, 0, STALL_NS) < 0)
				return XP_STALL;
	}
	rk_region_close(r);
	return XP_OK;
}

Test(xproc, parked_receivers_are_woken_across_processes, .timeout = 300)
{
	uint64_t rounds = rk_test_count(20000), done = 0;
	rk_region *r = make_region();
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(child_pong(rounds));

	struct rk_ring tx, rx;
	int ret = XP_OK;
	cr_assert_eq(attach(r, TO_CHILD, &tx), 0);
	cr_assert_eq(attach(r, TO_PARENT, &rx), 0);
	for (; done < rounds && ret == XP_OK; done++) {
		uint64_t v = done;
		while (ret == XP_OK && rk_ring_enqueue(&tx, &v, sizeof(v)) < 0)
			if (rk_ring_wait_writable(&tx, 0, STALL_NS) < 0)
				ret = XP_STALL;
		while (ret == XP_OK && rk_ring_dequeue(&rx, &v, sizeof(v)) < 0)
			if (rk_ring_wait_readable(&rx, 0, STALL_NS) < 0)
				ret = XP_STALL;
		if (ret == XP_OK && v != ~done)
			ret = XP_SEQ;
	}
	if (ret != XP_OK)
		kill(pid, SIGKILL);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	uint32_t parent_parks = rx.hdr->cons_bell, child_parks = tx.hdr->cons_bell;
	rk_region_close(r);
	cr_assert_eq(ret, XP_OK, "parent: %s after %llu rounds", child_error(ret),
		     (unsigned long long)done);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == XP_OK, "child: %s",
		  child_error(WIFEXITED(st) ? WEXITSTATUS(st) : -1));
	cr_assert_gt(parent_parks + child_parks, 0, "nobody ever parked");
	cr_log_info("%llu round trips; parent parked %u times, child %u times",
		    (unsigned long long)rounds, parent_parks, child_parks);
}

/* ---- a peer that dies ---------------------------------------------------------- */

/* The child attaches and then blocks or stops as told; it never returns. */
static void child_attach_then(int what)
{
	rk_region *r;
	struct rk_ring tx;
	uint64_t idx;
	if (rk_region_open(name, 0, &r) < 0 || attach(r, TO_PARENT, &tx) < 0)
		_exit(XP_OPEN);
	switch (what) {
	case 0: /* a producer that sends nothing and is killed */ pause(); break;
	case 1: /* an MP claimant that dies between reserve and commit */
		if (rk_ring_mp_reserve(&tx, 1, &idx) != 1)
			_exit(XP_ATTACH);
		/* what a half-written (or an earlier lap's) message looks like */
		memset(rk_ring_slot(&tx, idx), 0xab, rk_ring_slot_size(&tx));
		raise(SIGKILL);
		break;
	}
	_exit(XP_OK);
}

static rk_region *make_mp_region(void)
{
	rk_region *r;
	size_t need;
	uint64_t off;
	void *p;
	struct rk_ring tmp;
	rk_test_shm_name(name, sizeof(name), "xpeer");
	rk_region_unlink(name);
	cr_assert_eq(rk_ring_mem_size(CAP, SLOT, &need), 0);
	cr_assert_eq(rk_region_create(name, rk_region_size_for(&need, 1), 0, &r), 0, "%s",
		     rk_last_error());
	cr_assert_eq(rk_region_alloc(r, RK_SECT_RING, TO_PARENT, need, &off), 0);
	cr_assert_eq(rk_region_find(r, RK_SECT_RING, TO_PARENT, &p, NULL), 0);
	cr_assert_eq(rk_ring_init(&tmp, p, need, CAP, SLOT, RK_RING_MP), 0);
	return r;
}

/*
 * A consumer waiting forever on a ring whose producer process is killed:
 * with the peer named (rk_ring_set_peer) the wait ends with -EPIPE instead
 * of never.
 */
Test(xproc, a_wait_forever_ends_when_the_peer_dies, .timeout = 60)
{
	rk_region *r = make_mp_region();
	struct rk_ring rx;
	cr_assert_eq(attach(r, TO_PARENT, &rx), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		child_attach_then(0);
	rk_ring_set_peer(&rx, pid);
	cr_assert_eq(rk_ring_wait_readable(&rx, 0, 100000000ull), -ETIMEDOUT,
		     "the peer is alive: a plain timeout");
	kill(pid, SIGKILL); /* not reaped: a zombie is gone all the same */
	uint64_t t0 = mono_ns();
	cr_assert_eq(rk_ring_wait_readable(&rx, 0, UINT64_MAX), -EPIPE, "%s", rk_last_error());
	cr_assert_lt(mono_ns() - t0, 10 * 1000000000ull);
	cr_assert(strstr(rk_last_error(), "gone"), "%s", rk_last_error());
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert_eq(rk_ring_wait_readable(&rx, 0, UINT64_MAX), -EPIPE, "reaped: still -EPIPE");
	rk_region_close(r);
}

/*
 * An MP producer process dies between its reserve and its commit: the next
 * claimant's commit neither spins forever nor gives up. It takes the dead
 * claim over, publishes its slot zeroed (never what the dead process left
 * there), then publishes its own: the ring goes on.
 */
Test(xproc, a_claimant_that_died_before_commit_is_repaired, .timeout = 60)
{
	rk_region *r = make_mp_region();
	struct rk_ring tx, rx;
	cr_assert_eq(attach(r, TO_PARENT, &tx), 0);
	cr_assert_eq(attach(r, TO_PARENT, &rx), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		child_attach_then(1);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child status %d", st);
	uint64_t idx;
	cr_assert_eq(rk_ring_mp_reserve(&tx, 1, &idx), 1);
	cr_assert_eq(idx, 1, "the dead child holds slot 0");
	memset(rk_ring_slot(&tx, idx), 0x5a, rk_ring_slot_size(&tx));
	cr_assert_eq(rk_ring_mp_commit_timed(&tx, idx, 1, 10000000000ull), 0, "%s",
		     rk_last_error());
	cr_assert_eq(tx.repaired, 1, "repaired %llu, tail %llu", (unsigned long long)tx.repaired,
		     (unsigned long long)tx.hdr->prod_tail);
	cr_assert_eq(rk_ring_peek(&rx, 2, &idx), 2, "both slots are published");
	const uint8_t *dead = rk_ring_slot(&rx, idx), *mine = rk_ring_slot(&rx, idx + 1);
	for (uint32_t i = 0; i < rk_ring_slot_size(&rx); i++) {
		cr_assert_eq(dead[i], 0, "byte %u of the dead claim's slot", i);
		cr_assert_eq(mine[i], 0x5a, "byte %u of ours", i);
	}
	rk_ring_release(&rx, 2);
	/* and the ring goes on */
	cr_assert_eq(rk_ring_mp_reserve(&tx, 1, &idx), 1);
	cr_assert_eq(rk_ring_mp_commit(&tx, idx, 1), 0);
	cr_assert_eq(rk_ring_count(&rx), 1);
	rk_region_close(r);
}

/* A live claimant that is slow is not dead: the timeout is what ends it. */
Test(xproc, a_slow_claimant_is_not_dead, .timeout = 60)
{
	rk_region *r = make_mp_region();
	struct rk_ring tx;
	cr_assert_eq(attach(r, TO_PARENT, &tx), 0);
	uint64_t a, b;
	cr_assert_eq(rk_ring_mp_reserve(&tx, 1, &a), 1); /* ours, this process: alive */
	cr_assert_eq(rk_ring_mp_reserve(&tx, 1, &b), 1);
	cr_assert_eq(rk_ring_mp_commit_timed(&tx, b, 1, 20000000ull), -ETIMEDOUT);
	cr_assert_eq(rk_ring_mp_commit(&tx, a, 1), 0);
	cr_assert_eq(rk_ring_mp_commit(&tx, b, 1), 0);
	rk_region_close(r);
}

/* The other way round: a producer waiting forever for room on a ring whose
 * consumer process is killed gets -EPIPE. */
Test(xproc, a_producer_waiting_for_room_ends_when_the_consumer_dies, .timeout = 60)
{
	rk_region *r = make_mp_region();
	struct rk_ring tx;
	cr_assert_eq(attach(r, TO_PARENT, &tx), 0);
	uint8_t slot[SLOT] = { 0 };
	while (rk_ring_enqueue(&tx, slot, SLOT) == 0)
		;
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		child_attach_then(0); /* the consumer: it never reads */
	rk_ring_set_peer(&tx, pid);
	cr_assert_eq(rk_ring_wait_writable(&tx, 0, 50000000ull), -ETIMEDOUT);
	kill(pid, SIGKILL);
	cr_assert_eq(rk_ring_wait_writable(&tx, 0, UINT64_MAX), -EPIPE, "%s", rk_last_error());
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	rk_region_close(r);
}

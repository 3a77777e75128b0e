/* SPDX-License-Identifier: MIT */
/*
 * The completion engine: waits in io_uring and in the futex fallback, the
 * ring helpers on top of them, wakes from another thread and another
 * process, and the readiness fd's arming protocol.
 *
 * Every behaviour runs in both modes: reactor_uring (skips where io_uring
 * with IORING_OP_FUTEX_WAIT is unavailable) and reactor_futex (forced with
 * RK_REACTOR=futex). Each Test runs in its own process, so setenv is safe.
 */
#include <errno.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/error.h>
#include <ringkernel/region.h>
#include <ringkernel/ring.h>

#include "../runtime/log.h"
#include "../runtime/reactor.h"
#include "testutil.h"

#define MS  1000000ull
#define SEC 1000000000ull

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / SEC), .tv_nsec = (long)(ns % SEC) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* What a producer does after publishing: bump the bell, then a shared wake. */
static void ring_bell(uint32_t *word)
{
	__atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* A reactor in the mode the suite names; io_uring skips when absent. */
static struct rki_reactor *reactor_in(const char *mode)
{
	struct rki_reactor *re = NULL;
	setenv("RK_REACTOR", mode, 1);
	int ret = rki_reactor_create(&re);
	if (ret < 0 && !strcmp(mode, "uring") &&
	    (ret == -ENOSYS || ret == -EPERM || ret == -EOPNOTSUPP))
		cr_skip_test("io_uring futex waits unavailable here: %s", rk_last_error());
	cr_assert_eq(ret, 0, "create(%s): %s", mode, rk_last_error());
	cr_assert_not_null(re);
	return re;
}

/* One body, two Tests: reactor_uring::NAME and reactor_futex::NAME. */
#define BOTH_MODES(name)                                      \
	static void body_##name(struct rki_reactor *re);      \
	Test(reactor_uring, name, .timeout = 60)              \
	{                                                     \
		struct rki_reactor *re = reactor_in("uring"); \
		body_##name(re);                              \
		rki_reactor_destroy(re);                      \
	}                                                     \
	Test(reactor_futex, name, .timeout = 60)              \
	{                                                     \
		struct rki_reactor *re = reactor_in("futex"); \
		body_##name(re);                              \
		rki_reactor_destroy(re);                      \
	}                                                     \
	static void body_##name(struct rki_reactor *re)

/* A ring of 64-byte slots in heap memory. */
struct heap_ring {
	struct rk_ring r;
	void *mem;
};

static void heap_ring_init_flags(struct heap_ring *hr, uint32_t cap, uint32_t flags)
{
	size_t sz;
	cr_assert_eq(rk_ring_mem_size(cap, 64, &sz), 0);
	hr->mem = aligned_alloc(RK_LINE, (sz + RK_LINE - 1) / RK_LINE * RK_LINE);
	cr_assert_not_null(hr->mem);
	cr_assert_eq(rk_ring_init(&hr->r, hr->mem, sz, cap, 64, flags), 0, "%s", rk_last_error());
}

static void heap_ring_init(struct heap_ring *hr, uint32_t cap)
{
	heap_ring_init_flags(hr, cap, 0);
}

/* ---- mode selection ------------------------------------------------------- */

Test(reactor, auto_mode_uses_io_uring_here)
{
	struct rki_reactor *re = NULL;
	setenv("RK_REACTOR", "uring", 1);
	int ret = rki_reactor_create(&re);
	if (ret < 0)
		cr_skip_test("io_uring futex waits unavailable here: %s", rk_last_error());
	cr_assert_str_eq(rki_reactor_mode(re), "io_uring futex");
	rki_reactor_destroy(re);

	unsetenv("RK_REACTOR");
	cr_assert_eq(rki_reactor_create(&re), 0, "%s", rk_last_error());
	cr_assert_str_eq(rki_reactor_mode(re), "io_uring futex");
	rki_reactor_destroy(re);

	setenv("RK_REACTOR", "auto", 1);
	cr_assert_eq(rki_reactor_create(&re), 0, "%s", rk_last_error());
	cr_assert_str_eq(rki_reactor_mode(re), "io_uring futex");
	rki_reactor_destroy(re);
}

Test(reactor, futex_mode_is_forced_by_environment)
{
	struct rki_reactor *re = NULL;
	setenv("RK_REACTOR", "futex", 1);
	cr_assert_eq(rki_reactor_create(&re), 0, "%s", rk_last_error());
	cr_assert_str_eq(rki_reactor_mode(re), "futex");
	rki_reactor_destroy(re);
}

Test(reactor, unknown_mode_is_einval_with_a_message)
{
	struct rki_reactor *re = (struct rki_reactor *)&re; /* must be reset */
	setenv("RK_REACTOR", "bogus", 1);
	cr_assert_eq(rki_reactor_create(&re), -EINVAL);
	cr_assert_null(re);
	cr_assert_not_null(strstr(rk_last_error(), "RK_REACTOR=bogus"), "message: %s",
			   rk_last_error());
}

/* Make the syscall `nr` fail with ENOSYS in this (test) process and the
 * threads it starts from now on, as a seccomp profile or an old kernel
 * would. Filters stack. */
static void deny_syscall(long nr)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		cr_skip_test("cannot install a seccomp filter here: %s", strerror(errno));
}

/* Make shared FUTEX_WAIT / FUTEX_WAIT_BITSET fail with ENOSYS: what the
 * futex(2) fallback would use. Private waits (glibc's locks) still work;
 * pthread_join would not, so callers start no threads after this. */
static void deny_shared_futex_wait(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_futex, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAIT, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FUTEX_WAIT_BITSET, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		cr_skip_test("cannot install a seccomp filter here: %s", strerror(errno));
}

/* Run create with stderr captured; returns what it logged. */
static int create_logged(struct rki_reactor **re, char *log, size_t len)
{
	FILE *tmp = tmpfile();
	cr_assert_not_null(tmp);
	int saved = dup(2);
	cr_assert_geq(saved, 0);
	cr_assert_geq(dup2(fileno(tmp), 2), 0);
	int ret = rki_reactor_create(re);
	cr_assert_geq(dup2(saved, 2), 0);
	close(saved);
	rewind(tmp);
	size_t n = fread(log, 1, len - 1, tmp);
	log[n] = 0;
	fclose(tmp);
	return ret;
}

Test(reactor, blocked_io_uring_falls_back_and_says_so_once)
{
	char log[2048];
	struct rki_reactor *re = NULL;
	deny_syscall(SYS_io_uring_setup);
	setenv("RK_LOG", "info", 1);
	rki_log_init();

	unsetenv("RK_REACTOR");
	cr_assert_eq(create_logged(&re, log, sizeof(log)), 0, "%s", rk_last_error());
	cr_assert_str_eq(rki_reactor_mode(re), "futex");
	cr_assert_not_null(strstr(log, "info: reactor: io_uring unavailable"), "log: %s", log);
	/* The fallback still works: a wait times out, a changed word returns. */
	uint32_t word = 1;
	cr_assert_eq(rki_reactor_wait(re, &word, 1, 10 * MS), -ETIMEDOUT);
	cr_assert_eq(rki_reactor_wait(re, &word, 0, UINT64_MAX), 0);
	rki_reactor_destroy(re);

	cr_assert_eq(create_logged(&re, log, sizeof(log)), 0);
	cr_assert_str_eq(log, "", "said twice: %s", log);
	rki_reactor_destroy(re);

	/* Asked for by name, io_uring is an error, not a fallback. */
	re = NULL;
	setenv("RK_REACTOR", "uring", 1);
	cr_assert_eq(create_logged(&re, log, sizeof(log)), -ENOSYS);
	cr_assert_null(re);
	cr_assert_not_null(strstr(rk_last_error(), "RK_REACTOR=uring"), "%s", rk_last_error());
	cr_assert_not_null(strstr(rk_last_error(), "io_uring"), "%s", rk_last_error());
}

/* ---- rki_reactor_wait -------------------------------------------------------- */

BOTH_MODES(wait_on_unchanged_word_times_out)
{
	uint32_t word = 7;
	uint64_t t0 = now_ns();
	cr_assert_eq(rki_reactor_wait(re, &word, 7, 50 * MS), -ETIMEDOUT);
	uint64_t took = now_ns() - t0;
	/* No upper bound: a loaded CI host may be late, never early. */
	cr_assert_geq(took, 45 * MS, "returned after %llu ns", (unsigned long long)took);
	cr_assert_eq(rki_reactor_wait(re, &word, 7, 0), -ETIMEDOUT);
}

BOTH_MODES(wait_on_changed_word_returns_at_once)
{
	uint32_t word = 8;
	uint64_t t0 = now_ns();
	cr_assert_eq(rki_reactor_wait(re, &word, 7, UINT64_MAX), 0);
	cr_assert_eq(rki_reactor_wait(re, &word, 7, 0), 0);
	cr_assert_lt(now_ns() - t0, 1 * SEC);
}

struct bell_arg {
	uint32_t *word;
	uint64_t delay_ns;
};

static void *bell_after(void *p)
{
	struct bell_arg *a = p;
	sleep_ns(a->delay_ns);
	ring_bell(a->word);
	return NULL;
}

BOTH_MODES(wait_is_woken_by_another_threads_bell)
{
	uint32_t word = 0;
	struct bell_arg a = { &word, 30 * MS };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, bell_after, &a), 0);
	uint64_t t0 = now_ns();
	int ret = 0;
	/* A futex wait may return early (a bell for someone else); the
	 * contract is only: not -ETIMEDOUT before the wake, 0 after it. */
	while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 0 && ret == 0)
		ret = rki_reactor_wait(re, &word, 0, 20 * SEC);
	uint64_t took = now_ns() - t0;
	pthread_join(t, NULL);
	cr_assert_eq(ret, 0);
	cr_assert_eq(word, 1);
	cr_assert_lt(took, 20 * SEC);
}

/* A finite timeout too large for any clock must not wrap into "now". */
BOTH_MODES(huge_finite_timeout_does_not_wrap)
{
	uint32_t word = 0;
	struct bell_arg a = { &word, 20 * MS };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, bell_after, &a), 0);
	int ret = 0;
	while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 0 && ret == 0)
		ret = rki_reactor_wait(re, &word, 0, UINT64_MAX - 1);
	pthread_join(t, NULL);
	cr_assert_eq(ret, 0);
}

#define NWAITERS 4

struct waiter_arg {
	struct rki_reactor *re;
	uint32_t *word;
	int ret;
};

static void *waiter(void *p)
{
	struct waiter_arg *a = p;
	a->ret = 0;
	while (__atomic_load_n(a->word, __ATOMIC_ACQUIRE) == 0 && a->ret == 0)
		a->ret = rki_reactor_wait(a->re, a->word, 0, 20 * SEC);
	return NULL;
}

/* One thread gets the io_uring, the others sleep in futex(2): one wake
 * reaches them all. */
BOTH_MODES(concurrent_waiters_are_all_woken)
{
	uint32_t word = 0;
	pthread_t t[NWAITERS];
	struct waiter_arg a[NWAITERS];
	for (int i = 0; i < NWAITERS; i++) {
		a[i] = (struct waiter_arg){ re, &word, -1 };
		cr_assert_eq(pthread_create(&t[i], NULL, waiter, &a[i]), 0);
	}
	sleep_ns(50 * MS);
	ring_bell(&word);
	for (int i = 0; i < NWAITERS; i++) {
		pthread_join(t[i], NULL);
		cr_assert_eq(a[i].ret, 0, "waiter %d: %d", i, a[i].ret);
	}
}

/* ---- ring helpers --------------------------------------------------------------- */

struct feeder {
	struct rki_reactor *re;
	struct rk_ring *r;
	uint64_t n;
	int ret;
};

/*
 * Sequence-numbered messages with a pause every 512, so the consumer's short
 * spin runs out and it really parks. A full ring waits with the reactor too.
 */
static void *feed(void *p)
{
	struct feeder *f = p;
	uint8_t slot[64] = { 0 };
	f->ret = 0;
	for (uint64_t i = 0; i < f->n; i++) {
		memcpy(slot, &i, sizeof(i));
		while (rk_ring_enqueue(f->r, slot, sizeof(slot)) == -EAGAIN) {
			int ret = rki_reactor_wait_writable(f->re, f->r, 1000, 20 * SEC);
			if (ret < 0) {
				f->ret = ret;
				return NULL;
			}
		}
		if (i % 512 == 511)
			sleep_ns(200 * 1000);
	}
	return NULL;
}

BOTH_MODES(wait_readable_loses_nothing_from_a_slow_producer)
{
	struct heap_ring hr;
	heap_ring_init(&hr, 64);
	struct feeder f = { re, &hr.r, rk_test_count(100000), -1 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, feed, &f), 0);
	uint8_t slot[64];
	for (uint64_t want = 0; want < f.n; want++) {
		while (rk_ring_dequeue(&hr.r, slot, sizeof(slot)) == -EAGAIN)
			cr_assert_eq(rki_reactor_wait_readable(re, &hr.r, 1000, 20 * SEC), 0,
				     "stalled at message %llu", (unsigned long long)want);
		uint64_t seq;
		memcpy(&seq, slot, sizeof(seq));
		cr_assert_eq(seq, want, "got %llu, expected %llu", (unsigned long long)seq,
			     (unsigned long long)want);
	}
	pthread_join(t, NULL);
	cr_assert_eq(f.ret, 0);
	cr_assert_eq(rk_ring_dequeue(&hr.r, slot, sizeof(slot)), -EAGAIN);
	/* The bell moves only when a producer found the consumer parked. */
	uint32_t parks = __atomic_load_n(&hr.r.hdr->cons_bell, __ATOMIC_RELAXED);
	cr_assert_gt(parks, 0, "the consumer never parked");
	cr_log_info("%llu messages, %u wakes of a parked consumer", (unsigned long long)f.n, parks);
	cr_assert_eq(hr.r.hdr->cons_waiting, 0);
	cr_assert_eq(hr.r.hdr->prod_waiting, 0);
	free(hr.mem);
}

/*
 * Both sides park on every message (no spin), on RK_RING_ASYM rings: the
 * asymmetric handshake's race (a release publish landing while the other
 * side decides to sleep; the parker's membarrier must catch it) is hit on
 * every round trip, through both reactor modes. A lost wake-up stalls a
 * side until its 10 s timeout. (Symmetric rings: test_ring_mt.)
 */
struct ponger {
	struct rki_reactor *re;
	struct rk_ring *in, *out;
	uint64_t n;
	int ret;
};

static void *pong(void *p)
{
	struct ponger *g = p;
	uint8_t slot[64];
	g->ret = 0;
	for (uint64_t i = 0; i < g->n; i++) {
		while (rk_ring_dequeue(g->in, slot, sizeof(slot)) == -EAGAIN) {
			int ret = rki_reactor_wait_readable(g->re, g->in, 0, 10 * SEC);
			if (ret < 0) {
				g->ret = ret;
				return NULL;
			}
		}
		if (rk_ring_enqueue(g->out, slot, sizeof(slot)) != 0) {
			g->ret = -EOVERFLOW;
			return NULL;
		}
	}
	return NULL;
}

BOTH_MODES(asym_ping_pong_parking_every_time_loses_no_wakeup)
{
	struct heap_ring a, b;
	heap_ring_init_flags(&a, 8, RK_RING_ASYM);
	heap_ring_init_flags(&b, 8, RK_RING_ASYM);
	struct ponger g = { re, &a.r, &b.r, rk_test_count(20000), -1 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, pong, &g), 0);
	uint8_t slot[64] = { 0 };
	for (uint64_t i = 0; i < g.n; i++) {
		memcpy(slot, &i, sizeof(i));
		cr_assert_eq(rk_ring_enqueue(&a.r, slot, sizeof(slot)), 0);
		while (rk_ring_dequeue(&b.r, slot, sizeof(slot)) == -EAGAIN)
			cr_assert_eq(rki_reactor_wait_readable(re, &b.r, 0, 10 * SEC), 0,
				     "round trip %llu: a wake-up was lost", (unsigned long long)i);
		uint64_t seq;
		memcpy(&seq, slot, sizeof(seq));
		cr_assert_eq(seq, i, "got %llu, expected %llu", (unsigned long long)seq,
			     (unsigned long long)i);
	}
	pthread_join(t, NULL);
	cr_assert_eq(g.ret, 0, "the echo side: %d", g.ret);
	cr_assert_eq(a.r.hdr->cons_waiting, 0);
	cr_assert_eq(b.r.hdr->cons_waiting, 0);
	free(a.mem);
	free(b.mem);
}

BOTH_MODES(wait_readable_times_out_on_an_empty_ring)
{
	struct heap_ring hr;
	heap_ring_init(&hr, 8);
	uint64_t t0 = now_ns();
	cr_assert_eq(rki_reactor_wait_readable(re, &hr.r, 1000, 30 * MS), -ETIMEDOUT);
	cr_assert_geq(now_ns() - t0, 25 * MS);
	cr_assert_eq(hr.r.hdr->cons_waiting, 0, "left parked");
	free(hr.mem);
}

BOTH_MODES(wait_writable_times_out_on_a_full_ring)
{
	struct heap_ring hr;
	heap_ring_init(&hr, 4);
	uint8_t slot[64] = { 0 };
	for (int i = 0; i < 4; i++)
		cr_assert_eq(rk_ring_enqueue(&hr.r, slot, sizeof(slot)), 0);
	cr_assert_eq(rki_reactor_wait_writable(re, &hr.r, 0, 20 * MS), -ETIMEDOUT);
	cr_assert_eq(hr.r.hdr->prod_waiting, 0, "left parked");
	cr_assert_eq(rk_ring_dequeue(&hr.r, slot, sizeof(slot)), 0);
	cr_assert_eq(rki_reactor_wait_writable(re, &hr.r, 0, 0), 0);
	free(hr.mem);
}

/* ---- another process ------------------------------------------------------------ */

struct shared_ring {
	rk_region *reg;
	struct rk_ring r;
};

static void shared_ring_init(struct shared_ring *sr, uint32_t cap)
{
	size_t sz;
	void *mem;
	uint64_t off;
	cr_assert_eq(rk_ring_mem_size(cap, 64, &sz), 0);
	cr_assert_eq(
		rk_region_create(NULL, rk_region_size_for(&sz, 1), RK_REGION_UNLOCKED, &sr->reg), 0,
		"%s", rk_last_error());
	cr_assert_eq(rk_region_alloc(sr->reg, RK_SECT_RING, 0, sz, &off), 0, "%s", rk_last_error());
	cr_assert_eq(rk_region_find(sr->reg, RK_SECT_RING, 0, &mem, &sz), 0);
	cr_assert_eq(rk_ring_init(&sr->r, mem, sz, cap, 64, 0), 0);
}

/* Child: produce n sequence numbers in small, spaced batches. */
static int produce_spaced(struct rk_ring *r, uint64_t n)
{
	uint8_t slot[64] = { 0 };
	for (uint64_t i = 0; i < n; i++) {
		memcpy(slot, &i, sizeof(i));
		uint64_t t0 = now_ns();
		while (rk_ring_enqueue(r, slot, sizeof(slot)) == -EAGAIN) {
			if (now_ns() - t0 > 20 * SEC)
				return 1;
			sleep_ns(100 * 1000);
		}
		if (i % 16 == 15)
			sleep_ns(2 * MS);
	}
	return 0;
}

static void consume_in_order(struct rki_reactor *re, struct rk_ring *r, uint64_t n)
{
	uint8_t slot[64];
	for (uint64_t want = 0; want < n; want++) {
		while (rk_ring_dequeue(r, slot, sizeof(slot)) == -EAGAIN)
			cr_assert_eq(rki_reactor_wait_readable(re, r, 1000, 20 * SEC), 0,
				     "stalled at message %llu", (unsigned long long)want);
		uint64_t seq;
		memcpy(&seq, slot, sizeof(seq));
		cr_assert_eq(seq, want);
	}
}

BOTH_MODES(waiter_is_woken_by_another_process)
{
	struct shared_ring sr;
	shared_ring_init(&sr, 16);
	uint64_t n = 400;
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(produce_spaced(&sr.r, n));
	consume_in_order(re, &sr.r, n);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "producer status 0x%x", st);
	cr_assert_gt(__atomic_load_n(&sr.r.hdr->cons_bell, __ATOMIC_RELAXED), 0,
		     "the consumer never parked");
	rk_region_close(sr.reg);
}

/* The other direction: a process with its own reactor waits; we produce. */
BOTH_MODES(another_process_is_woken_by_us)
{
	struct shared_ring sr;
	shared_ring_init(&sr, 16);
	uint64_t n = 400;
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		/* A fresh reactor: an io_uring is not shared across fork. */
		struct rki_reactor *cre;
		if (rki_reactor_create(&cre) < 0)
			_exit(2);
		uint8_t slot[64];
		for (uint64_t want = 0; want < n; want++) {
			while (rk_ring_dequeue(&sr.r, slot, sizeof(slot)) == -EAGAIN)
				if (rki_reactor_wait_readable(cre, &sr.r, 1000, 20 * SEC) < 0)
					_exit(3);
			uint64_t seq;
			memcpy(&seq, slot, sizeof(seq));
			if (seq != want)
				_exit(4);
		}
		rki_reactor_destroy(cre);
		_exit(0);
	}
	cr_assert_eq(produce_spaced(&sr.r, n), 0);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "consumer status 0x%x", st);
	rk_region_close(sr.reg);
}

/* ---- readiness fd ------------------------------------------------------------------ */

static int epoll_on(int fd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	cr_assert_geq(ep, 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	cr_assert_eq(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	return ep;
}

/* 1 when readable within ms milliseconds, else 0. */
static int readable_within(int ep, int ms)
{
	struct epoll_event ev;
	int n;
	while ((n = epoll_wait(ep, &ev, 1, ms)) < 0 && errno == EINTR)
		;
	cr_assert_geq(n, 0);
	return n;
}

struct put_arg {
	struct rk_ring *r;
	uint64_t delay_ns;
	unsigned n;
};

static void *put_after(void *p)
{
	struct put_arg *a = p;
	uint8_t slot[64] = { 0 };
	sleep_ns(a->delay_ns);
	for (unsigned i = 0; i < a->n; i++)
		while (rk_ring_enqueue(a->r, slot, sizeof(slot)) == -EAGAIN)
			sleep_ns(MS);
	return NULL;
}

static unsigned drain(struct rk_ring *r)
{
	uint8_t slot[64];
	unsigned n = 0;
	while (rk_ring_dequeue(r, slot, sizeof(slot)) == 0)
		n++;
	return n;
}

BOTH_MODES(fd_turns_readable_on_data_and_quiet_after_drain_and_rearm)
{
	struct heap_ring hr;
	heap_ring_init(&hr, 16);
	int fd = rki_reactor_fd(re);
	cr_assert_geq(fd, 0);
	cr_assert_eq(rki_reactor_watch(re, &hr.r), 0, "%s", rk_last_error());
	cr_assert_eq(rki_reactor_watch(re, &hr.r), -EEXIST);
	int ep = epoll_on(fd);
	cr_assert_eq(readable_within(ep, 50), 0, "readable with nothing watched non-empty");

	/* Data from another thread while we sit in epoll_wait. */
	struct put_arg a = { &hr.r, 30 * MS, 3 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, put_after, &a), 0);
	cr_assert_eq(readable_within(ep, 20000), 1, "no readiness for new data");
	pthread_join(t, NULL);
	/* Signalled: the helper holds no park, producers make no syscall. */
	cr_assert_eq(__atomic_load_n(&hr.r.hdr->cons_waiting, __ATOMIC_SEQ_CST), 0);
	/* Level-triggered until rearmed, even with data left. */
	cr_assert_eq(readable_within(ep, 0), 1);

	cr_assert_eq(drain(&hr.r), 3);
	rki_reactor_rearm(re);
	cr_assert_eq(readable_within(ep, 100), 0, "readable after drain and rearm");

	/* New data after the rearm is seen again. */
	a.delay_ns = 10 * MS;
	a.n = 1;
	cr_assert_eq(pthread_create(&t, NULL, put_after, &a), 0);
	cr_assert_eq(readable_within(ep, 20000), 1, "no readiness after rearm");
	pthread_join(t, NULL);
	cr_assert_eq(drain(&hr.r), 1);
	rki_reactor_rearm(re);
	cr_assert_eq(readable_within(ep, 100), 0);

	rki_reactor_unwatch(re, &hr.r);
	cr_assert_eq(__atomic_load_n(&hr.r.hdr->cons_waiting, __ATOMIC_SEQ_CST), 0,
		     "unwatch left the ring parked");
	close(ep);
	free(hr.mem);
}

/* A rearm while a ring still holds data must not swallow the readiness. */
BOTH_MODES(rearm_with_data_left_signals_again)
{
	struct heap_ring hr;
	heap_ring_init(&hr, 16);
	uint8_t slot[64] = { 0 };
	cr_assert_eq(rk_ring_enqueue(&hr.r, slot, sizeof(slot)), 0);
	cr_assert_eq(rki_reactor_watch(re, &hr.r), 0);
	int ep = epoll_on(rki_reactor_fd(re));
	cr_assert_eq(readable_within(ep, 20000), 1, "data present before watch not seen");
	rki_reactor_rearm(re);
	cr_assert_eq(readable_within(ep, 20000), 1, "readiness lost by a premature rearm");
	close(ep);
	rki_reactor_unwatch(re, &hr.r);
	free(hr.mem);
}

/* Any of several watched rings; an unwatched one is ignored, and its
 * memory may go as soon as unwatch returns. */
BOTH_MODES(fd_watches_several_rings)
{
	enum { N = 5 };
	/* Our own reactor (same mode): this test destroys it with watches on. */
	(void)re;
	re = NULL;
	cr_assert_eq(rki_reactor_create(&re), 0, "%s", rk_last_error());
	struct heap_ring hr[N];
	for (int i = 0; i < N; i++) {
		heap_ring_init(&hr[i], 8);
		cr_assert_eq(rki_reactor_watch(re, &hr[i].r), 0);
	}
	int ep = epoll_on(rki_reactor_fd(re));
	cr_assert_eq(readable_within(ep, 30), 0);

	/* Unwatched while the helper sleeps on it: no park left behind. */
	rki_reactor_unwatch(re, &hr[0].r);
	cr_assert_eq(__atomic_load_n(&hr[0].r.hdr->cons_waiting, __ATOMIC_SEQ_CST), 0);
	uint8_t slot[64] = { 0 };
	cr_assert_eq(rk_ring_enqueue(&hr[0].r, slot, sizeof(slot)), 0);
	cr_assert_eq(readable_within(ep, 100), 0, "an unwatched ring signalled");
	free(hr[0].mem);

	for (int i = 1; i < N; i++) {
		struct put_arg a = { &hr[i].r, 5 * MS, 1 };
		pthread_t t;
		cr_assert_eq(pthread_create(&t, NULL, put_after, &a), 0);
		cr_assert_eq(readable_within(ep, 20000), 1, "ring %d not seen", i);
		pthread_join(t, NULL);
		cr_assert_eq(drain(&hr[i].r), 1);
		rki_reactor_rearm(re);
		cr_assert_eq(readable_within(ep, 50), 0, "ring %d: still readable", i);
	}
	close(ep);
	/* destroy unwatches the rest before they are freed. */
	rki_reactor_destroy(re);
	for (int i = 1; i < N; i++) {
		cr_assert_eq(hr[i].r.hdr->cons_waiting, 0);
		free(hr[i].mem);
	}
}

/* More rings than one futex_waitv takes (127 besides the control word):
 * the rest are polled, and still seen. */
BOTH_MODES(fd_watches_more_rings_than_futex_waitv_takes)
{
	enum { N = 130 };
	struct heap_ring *hr = calloc(N, sizeof(*hr));
	cr_assert_not_null(hr);
	for (int i = 0; i < N; i++) {
		heap_ring_init(&hr[i], 2);
		cr_assert_eq(rki_reactor_watch(re, &hr[i].r), 0);
	}
	int ep = epoll_on(rki_reactor_fd(re));
	cr_assert_eq(readable_within(ep, 30), 0);
	int which[] = { N - 1, 0, 127, 126 };
	for (unsigned k = 0; k < sizeof(which) / sizeof(which[0]); k++) {
		struct put_arg a = { &hr[which[k]].r, 5 * MS, 1 };
		pthread_t t;
		cr_assert_eq(pthread_create(&t, NULL, put_after, &a), 0);
		cr_assert_eq(readable_within(ep, 20000), 1, "ring %d not seen", which[k]);
		pthread_join(t, NULL);
		cr_assert_eq(drain(&hr[which[k]].r), 1);
		rki_reactor_rearm(re);
		cr_assert_eq(readable_within(ep, 30), 0);
	}
	close(ep);
	for (int i = 0; i < N; i++) {
		rki_reactor_unwatch(re, &hr[i].r);
		cr_assert_eq(hr[i].r.hdr->cons_waiting, 0);
		free(hr[i].mem);
	}
	free(hr);
}

/* No futex_waitv(2) (Linux < 5.16, or a seccomp profile): the helper polls
 * the rings, and readiness still arrives. */
Test(reactor, fd_works_without_futex_waitv, .timeout = 60)
{
	deny_syscall(SYS_futex_waitv);
	struct rki_reactor *re = reactor_in("futex");
	struct heap_ring hr;
	heap_ring_init(&hr, 8);
	cr_assert_eq(rki_reactor_watch(re, &hr.r), 0);
	int ep = epoll_on(rki_reactor_fd(re));
	cr_assert_eq(readable_within(ep, 30), 0);
	for (int k = 0; k < 3; k++) {
		struct put_arg a = { &hr.r, 5 * MS, 1 };
		pthread_t t;
		cr_assert_eq(pthread_create(&t, NULL, put_after, &a), 0);
		cr_assert_eq(readable_within(ep, 20000), 1, "round %d: not seen", k);
		pthread_join(t, NULL);
		cr_assert_eq(drain(&hr.r), 1);
		rki_reactor_rearm(re);
		cr_assert_eq(readable_within(ep, 30), 0);
	}
	close(ep);
	rki_reactor_destroy(re);
	cr_assert_eq(hr.r.hdr->cons_waiting, 0);
	free(hr.mem);
}

/*
 * The whole protocol under traffic: a consumer driven only by epoll (wait,
 * drain until -EAGAIN, rearm) gets every message of a bursty producer in
 * order. A lost readiness shows up as epoll_wait timing out.
 */
BOTH_MODES(epoll_driven_consumer_loses_no_readiness)
{
	struct heap_ring hr;
	heap_ring_init(&hr, 32);
	cr_assert_eq(rki_reactor_watch(re, &hr.r), 0);
	int ep = epoll_on(rki_reactor_fd(re));
	struct feeder f = { re, &hr.r, rk_test_count(50000), -1 };
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, feed, &f), 0);
	uint64_t want = 0, wakeups = 0;
	uint8_t slot[64];
	while (want < f.n) {
		cr_assert_eq(readable_within(ep, 20000), 1, "readiness lost at message %llu",
			     (unsigned long long)want);
		wakeups++;
		while (rk_ring_dequeue(&hr.r, slot, sizeof(slot)) == 0) {
			uint64_t seq;
			memcpy(&seq, slot, sizeof(seq));
			cr_assert_eq(seq, want);
			want++;
		}
		rki_reactor_rearm(re);
	}
	pthread_join(t, NULL);
	cr_assert_eq(f.ret, 0);
	cr_log_info("%llu messages, %llu epoll wake-ups", (unsigned long long)f.n,
		    (unsigned long long)wakeups);
	close(ep);
	rki_reactor_unwatch(re, &hr.r);
	cr_assert_eq(hr.r.hdr->cons_waiting, 0);
	free(hr.mem);
}

/*
 * Proof that io_uring mode sleeps in io_uring: with futex(2) waits denied,
 * a timeout and a wake from another process still work (the fallback would
 * have failed with -ENOSYS). Nothing here may start a thread.
 */
Test(reactor_uring, waits_sleep_in_io_uring_not_in_futex_wait, .timeout = 60)
{
	struct rki_reactor *re = reactor_in("uring");
	struct shared_ring sr;
	shared_ring_init(&sr, 16);
	uint32_t *word = &sr.r.hdr->cons_bell; /* any shared word will do */
	deny_shared_futex_wait();

	uint32_t v = __atomic_load_n(word, __ATOMIC_ACQUIRE);
	cr_assert_eq(rki_reactor_wait(re, word, v, 20 * MS), -ETIMEDOUT);

	uint64_t n = 200;
	fflush(NULL);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0)
		_exit(produce_spaced(&sr.r, n));
	consume_in_order(re, &sr.r, n);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "producer status 0x%x", st);
	cr_assert_gt(__atomic_load_n(&sr.r.hdr->cons_bell, __ATOMIC_RELAXED), v,
		     "the consumer never parked");
	rki_reactor_destroy(re);
	rk_region_close(sr.reg);
}

Test(reactor, misaligned_word_is_einval)
{
	struct rki_reactor *re = reactor_in("futex");
	uint32_t words[2] = { 0, 0 };
	uint32_t *odd = (uint32_t *)(void *)((char *)words + 1);
	cr_assert_eq(rki_reactor_wait(re, odd, 0, 0), -EINVAL);
	rki_reactor_destroy(re);
}

/*
 * The runtime's drain pattern: try each watched ring until -EAGAIN and
 * rearm after each -EAGAIN. While one ring is drained the helper may be
 * looking at another that still holds data; once all are drained and
 * rearmed, the fd must not turn readable again without new data (a stale
 * signal would make the next epoll_wait return before its reply).
 */
BOTH_MODES(no_stale_readiness_after_draining_several_rings)
{
	enum { N = 3 };
	struct heap_ring hr[N];
	for (int i = 0; i < N; i++) {
		heap_ring_init(&hr[i], 8);
		cr_assert_eq(rki_reactor_watch(re, &hr[i].r), 0);
	}
	int ep = epoll_on(rki_reactor_fd(re));
	uint8_t slot[64] = { 0 };
	uint64_t rounds = rk_test_count(2000);
	for (uint64_t r = 0; r < rounds; r++) {
		int which = (int)(r % N);
		cr_assert_eq(rk_ring_enqueue(&hr[which].r, slot, sizeof(slot)), 0);
		cr_assert_eq(readable_within(ep, 20000), 1, "round %llu: not readable",
			     (unsigned long long)r);
		for (int i = 0; i < N; i++) {
			drain(&hr[i].r);
			rki_reactor_rearm(re);
		}
		cr_assert_eq(readable_within(ep, 1), 0, "round %llu: stale readiness",
			     (unsigned long long)r);
	}
	close(ep);
	for (int i = 0; i < N; i++) {
		rki_reactor_unwatch(re, &hr[i].r);
		free(hr[i].mem);
	}
}

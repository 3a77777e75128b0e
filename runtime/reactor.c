/* SPDX-License-Identifier: MIT */
/*
 * The completion engine: where blocked host threads sleep.
 *
 * Waits. A waiter parks on a ring (cons_waiting/prod_waiting), re-checks it,
 * then sleeps on the ring's 32-bit bell word until the other side bumps it
 * and issues a shared FUTEX_WAKE. In "io_uring futex" mode the sleep is an
 * IORING_OP_FUTEX_WAIT SQE on the runtime's one io_uring, timed by the
 * wait's own EXT_ARG timeout (cancelled only when it fires), or by an
 * IORING_OP_LINK_TIMEOUT where the kernel has no EXT_ARG. The ring is single-owner: `uring_lock` is
 * taken with trylock, and a thread that finds it held sleeps in a plain FUTEX_WAIT_BITSET instead
 * (the same futex, so the same wake reaches it). That keeps waits independent -- no thread ever
 * reaps another's CQE -- at the price of concurrent waiters using futex(2). In "futex" mode (no
 * io_uring here, or RK_REACTOR=futex) every wait is the plain one.
 *
 * Futexes are shared, never FUTEX_PRIVATE: a bell may live in a region that
 * another process maps, and a private wait is never woken from there.
 *
 * Readiness fd. rki_reactor_fd() is an eventfd. A helper thread, started by
 * the first rki_reactor_watch(), sleeps on the bells of every watched ring
 * at once (IORING_OP_FUTEX_WAITV on a small io_uring of its own, else the
 * futex_waitv(2) syscall) plus a control word, `ctl`, that every change of
 * the watch state bumps. Arming protocol, all under `lock`:
 *
 *   armed   the fd is not signalled; the helper parks on all watched rings
 *           (cons_waiting++), re-checks them, and sleeps. Woken, it unparks
 *           and, under `lock`, checks the rings once more: if one is non-
 *           empty it writes the eventfd and clears `armed`.
 *   !armed  the fd is signalled; the helper sleeps on `ctl` only and holds
 *           no park, so producers see no waiter and make no syscall.
 *   rearm   (the user drained a ring: try_receive said -EAGAIN) if not
 *           armed, reads the eventfd back to zero, sets `armed`, bumps
 *           `ctl`; if armed, does nothing (the helper is watching). The
 *           helper re-checks every ring before sleeping, so data that
 *           arrived at any time after the signal re-signals: no readiness
 *           is lost. Because the signal decision is taken under `lock`, a
 *           drain followed by a rearm is never answered by a signal based
 *           on a look taken before the drain: no stale readiness.
 *
 * The helper never touches a ring handle's consumer-side cache (the user's
 * thread owns it): it reads only the shared indexes (rk_ring_count).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/error.h>
#include <ringkernel/ring.h>

#include "../shm/sys.h"
#include "log.h"
#include "reactor.h"

/*
 * uapi that liburing 2.3 and older kernel headers lack (Linux 6.7). The
 * values are ABI; define them here rather than depend on newer headers.
 */
#define RKI_IORING_OP_FUTEX_WAIT  51
#define RKI_IORING_OP_FUTEX_WAITV 53
#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 0x02
#endif
#ifndef FUTEX_WAITV_MAX
#define FUTEX_WAITV_MAX 128
#endif
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX_BITSET_MATCH_ANY
#define FUTEX_BITSET_MATCH_ANY 0xffffffff
#endif

/* Compiled against headers that have it, the struct must match ours. */
struct rki_futex_waitv {
	uint64_t val;
	uint64_t uaddr;
	uint32_t flags;
	uint32_t reserved;
};
_Static_assert(sizeof(struct rki_futex_waitv) == 24, "struct futex_waitv is 24 bytes");

enum rki_reactor_kind { RKI_REACTOR_URING, RKI_REACTOR_FUTEX };

/* Rings the helper sleeps on: futex_waitv's limit less the control word.
 * Beyond that the remaining rings are polled every RKI_POLL_NS. */
#define RKI_WAITV_RINGS (FUTEX_WAITV_MAX - 1)
#define RKI_POLL_NS	1000000u

/* CQE tags; a ring has at most one wait (and its timeout) in flight. */
#define RKI_TAG_WAIT	1u
#define RKI_TAG_TIMEOUT 2u
#define RKI_TAG_CANCEL	3u

struct rki_reactor {
	enum rki_reactor_kind kind;
	bool helper_uring_ok; /* kernel has IORING_OP_FUTEX_WAITV */

	/* The runtime's io_uring: whoever holds uring_lock owns it, SQ and CQ. */
	pthread_mutex_t uring_lock;
	struct io_uring uring;
	bool uring_live;    /* initialised (and must be torn down) */
	bool uring_broken;  /* a submit failed: waits use futex(2) from now on */
	bool uring_ext_arg; /* IORING_FEAT_EXT_ARG: the wait's own timeout */

	int efd; /* the readiness eventfd (nonblocking) */

	/* Watch state, under `lock`; see the arming protocol above. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct rk_ring **watch;
	unsigned nwatch, watch_cap;
	uint64_t watch_gen; /* bumped by each unwatch */
	uint64_t snap_gen;  /* watch_gen of the list the helper is parked on */
	bool helper_busy;   /* the helper holds parks on its snapshot */
	bool armed;
	bool stop;
	bool helper_started;
	pthread_t helper;
	/* Futex word the helper also sleeps on: bumped (seq_cst, then a wake)
	 * after every change of the state above. Read without the lock. */
	uint32_t ctl;
};

/* ---- futexes ------------------------------------------------------------- */

/*
 * A shared futex wait against an absolute deadline; a signal (EINTR)
 * retries unless the word changed. 0 (woken, or the value already
 * differed) or -ETIMEDOUT; other errors (a bad address) as they are.
 */
static int futex_wait_until(uint32_t *word, uint32_t expected, uint64_t deadline)
{
	for (;;) {
		int ret = rk_sys_futex_wait_until(word, expected, deadline);
		if (ret != -EINTR) {
			if (ret < 0 && ret != -ETIMEDOUT)
				return rk_error(ret, "futex wait on %p failed", (void *)word);
			return ret;
		}
		if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != expected)
			return 0;
	}
}

/* ---- io_uring waits ------------------------------------------------------ */

/* liburing 2.3 has no helper for it: fd = futex2 flags, addr = word,
 * off (addr2) = expected value, addr3 = bitset mask, futex_flags = 0. */
static void prep_futex_wait(struct io_uring_sqe *sqe, uint32_t *word, uint32_t expected)
{
	io_uring_prep_rw(RKI_IORING_OP_FUTEX_WAIT, sqe, FUTEX2_SIZE_U32, word, 0, expected);
	sqe->addr3 = FUTEX_BITSET_MATCH_ANY;
}

static void prep_futex_waitv(struct io_uring_sqe *sqe, struct rki_futex_waitv *wv, unsigned n)
{
	io_uring_prep_rw(RKI_IORING_OP_FUTEX_WAITV, sqe, 0, wv, n, 0);
}

/*
 * An SQE for a wait, with room behind it for its timeout; NULL when the SQ
 * is not empty, which only a stranded submission can cause.
 */
static struct io_uring_sqe *uring_get_sqe(struct io_uring *ring)
{
	if (io_uring_sq_ready(ring) != 0 || io_uring_sq_space_left(ring) < 2)
		return NULL;
	return io_uring_get_sqe(ring);
}

/*
 * Reap `want` completions, none left in flight (the word and the timespec
 * belong to the caller): the wait SQE's result, or io_uring_wait_cqe()'s
 * error (the ring is then unusable).
 */
static int uring_reap(struct io_uring *ring, unsigned want)
{
	int res = -EIO;
	while (want) {
		struct io_uring_cqe *cqe;
		int ret = io_uring_wait_cqe(ring, &cqe);
		if (ret == -EINTR)
			continue;
		if (ret < 0)
			return ret;
		if (cqe->user_data == RKI_TAG_WAIT)
			res = cqe->res;
		io_uring_cqe_seen(ring, cqe);
		want--;
	}
	return res;
}

/*
 * Submit the prepared wait SQE (linked to a timeout unless forever) and reap
 * both completions: neither may stay in flight once we return, since the
 * word and the timespec belong to the caller. Returns the wait SQE's result,
 * -ECANCELED meaning the timeout fired, or a submit/wait error (the ring
 * is then unusable: SQEs may be stranded in it).
 */
static int uring_submit_wait(struct io_uring *ring, struct io_uring_sqe *sqe, uint64_t timeout_ns)
{
	struct __kernel_timespec kts;
	unsigned want = 1;

	sqe->user_data = RKI_TAG_WAIT;
	if (timeout_ns != UINT64_MAX) {
		/* Callers made room for two: see uring_get_sqe(). */
		struct io_uring_sqe *tsqe = io_uring_get_sqe(ring);
		sqe->flags |= IOSQE_IO_LINK;
		kts.tv_sec = (long long)(timeout_ns / 1000000000u);
		kts.tv_nsec = (long long)(timeout_ns % 1000000000u);
		io_uring_prep_link_timeout(tsqe, &kts, 0);
		tsqe->user_data = RKI_TAG_TIMEOUT;
		want = 2;
	}
	/* One syscall: submit and sleep until both have completed. */
	int ret = io_uring_submit_and_wait(ring, want);
	if (ret == -EINTR) {
		/* The kernel submits before it waits; a re-submit finds
		 * nothing left (0) unless it did not get that far. */
		ret = io_uring_submit(ring);
		if (ret == 0)
			ret = (int)want;
	}
	if (ret < 0)
		return ret;
	if ((unsigned)ret != want)
		return -EIO;
	return uring_reap(ring, want);
}

/*
 * The same with the kernel's EXT_ARG timeout on the wait itself (one SQE,
 * one CQE: no linked timeout request to allocate, arm and cancel). When the
 * timeout fires first the futex wait is still in flight: it is cancelled
 * and both completions reaped before returning, as above. A signal is
 * treated the same way, as a spurious wake (callers re-check).
 */
static int uring_submit_wait_ext(struct io_uring *ring, struct io_uring_sqe *sqe,
				 uint64_t timeout_ns)
{
	struct __kernel_timespec kts = { .tv_sec = (long long)(timeout_ns / 1000000000u),
					 .tv_nsec = (long long)(timeout_ns % 1000000000u) };
	struct io_uring_cqe *cqe = NULL;
	uint64_t start = timeout_ns == UINT64_MAX ? 0 : rk_sys_now_ns();
	sqe->user_data = RKI_TAG_WAIT;
	int ret = io_uring_submit_and_wait_timeout(ring, &cqe, 1,
						   timeout_ns == UINT64_MAX ? NULL : &kts, NULL);
	if (ret >= 0 && cqe) {
		int res = cqe->user_data == RKI_TAG_WAIT ? cqe->res : -EIO;
		io_uring_cqe_seen(ring, cqe);
		return res;
	}
	/* No completion: the timeout or a signal (liburing 2.3 then returns
	 * what it submitted, later ones -ETIME or -EINTR). */
	if (ret < 0 && ret != -ETIME && ret != -EINTR)
		return ret;
	if (io_uring_sq_ready(ring) != 0)
		return -EIO; /* the wait was never submitted: the ring is stranded */
	struct io_uring_sqe *c = io_uring_get_sqe(ring);
	if (!c)
		return -EIO;
	io_uring_prep_cancel64(c, RKI_TAG_WAIT, 0);
	c->user_data = RKI_TAG_CANCEL;
	ret = io_uring_submit(ring);
	if (ret < 0)
		return ret;
	int res = uring_reap(ring, 2); /* the wait's and the cancel's */
	/* Woken meanwhile (0, or the word changed): a wake. Cancelled before
	 * the timeout was up (a signal): a spurious wake, callers re-check. */
	if (res == 0 || res == -EAGAIN)
		return res;
	if (timeout_ns != UINT64_MAX && rk_sys_now_ns() - start < timeout_ns)
		return 0;
	return timeout_ns == UINT64_MAX ? 0 : -ECANCELED;
}

static void uring_mark_broken(struct rki_reactor *re, int err)
{
	if (!re->uring_broken)
		rki_log_warn("reactor: io_uring wait failed (%s); using futex(2) waits from now on",
			     strerror(-err));
	re->uring_broken = true;
}

/* Called with uring_lock held. 1 when the ring handled the wait (*ret_p
 * set), 0 when the caller should do a plain futex wait instead. */
static int uring_wait_locked(struct rki_reactor *re, uint32_t *word, uint32_t expected,
			     uint64_t timeout_ns, int *ret_p)
{
	if (re->uring_broken)
		return 0;
	struct io_uring_sqe *sqe = uring_get_sqe(&re->uring);
	if (!sqe) {
		uring_mark_broken(re, -EBUSY);
		return 0;
	}
	prep_futex_wait(sqe, word, expected);
	int res = re->uring_ext_arg ? uring_submit_wait_ext(&re->uring, sqe, timeout_ns)
				    : uring_submit_wait(&re->uring, sqe, timeout_ns);
	switch (res) {
	case 0: /* woken */
	case -EAGAIN: /* *word != expected when the kernel looked */ *ret_p = 0; return 1;
	case -ECANCELED: /* the linked timeout fired */ *ret_p = -ETIMEDOUT; return 1;
	case -EFAULT: /* the caller's word: futex(2) reports it the same way */ return 0;
	default: uring_mark_broken(re, res); return 0;
	}
}

int rki_reactor_wait(struct rki_reactor *re, uint32_t *word, uint32_t expected, uint64_t timeout_ns)
{
	/* Checked here so that -EINVAL from the kernel means a bad SQE. */
	if ((uintptr_t)word % sizeof(*word))
		return rk_error(-EINVAL, "reactor: futex word %p is not 4-byte aligned",
				(void *)word);
	if (__atomic_load_n(word, __ATOMIC_ACQUIRE) != expected)
		return 0;
	if (timeout_ns == 0)
		return -ETIMEDOUT;
	/* The deadline is fixed before any sleep, so the fallback below gets
	 * the same budget however long it took to find the ring busy. */
	uint64_t deadline = rk_sys_deadline(timeout_ns);
	if (re->kind == RKI_REACTOR_URING && pthread_mutex_trylock(&re->uring_lock) == 0) {
		int ret, handled = uring_wait_locked(re, word, expected, timeout_ns, &ret);
		pthread_mutex_unlock(&re->uring_lock);
		if (handled)
			return ret;
	}
	return futex_wait_until(word, expected, deadline);
}

/* ---- blocking ring waits ------------------------------------------------ */

/* The sleep of rk_ring_wait(): the reactor's, io_uring where it can. */
int rki_reactor_sleep(void *arg, uint32_t *word, uint32_t expected, uint64_t deadline)
{
	return rki_reactor_wait(arg, word, expected, rk_sys_left(deadline));
}

int rki_reactor_wait_readable(struct rki_reactor *re, struct rk_ring *ring, uint64_t spin_ns,
			      uint64_t timeout_ns)
{
	struct rk_ring_sleep how = { .sleep = rki_reactor_sleep, .arg = re };
	return rk_ring_wait(ring, RK_RING_READABLE, spin_ns, timeout_ns, &how);
}

int rki_reactor_wait_writable(struct rki_reactor *re, struct rk_ring *ring, uint64_t spin_ns,
			      uint64_t timeout_ns)
{
	struct rk_ring_sleep how = { .sleep = rki_reactor_sleep, .arg = re };
	return rk_ring_wait(ring, RK_RING_WRITABLE, spin_ns, timeout_ns, &how);
}

/* ---- readiness fd: the helper thread --------------------------------------- */

/* Called with `lock` held: make the helper look at the state again. */
static void ctl_kick(struct rki_reactor *re)
{
	__atomic_fetch_add(&re->ctl, 1, __ATOMIC_SEQ_CST);
	rk_sys_futex_wake(&re->ctl);
}

static bool any_ready(struct rk_ring **rings, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (rk_ring_count(rings[i]) > 0)
			return true;
	return false;
}

struct helper {
	struct rki_reactor *re;
	struct io_uring uring;
	bool uring_ok;
	bool waitv_ok; /* futex_waitv(2) exists */
	struct rk_ring **snap;
	unsigned snap_cap;
	struct rki_futex_waitv wv[FUTEX_WAITV_MAX];
};

/* Sleep until any wv[i].uaddr != wv[i].val, a wake on one of them, or
 * timeout_ns. Every outcome just makes the helper look again. */
static void helper_sleep(struct helper *h, unsigned nw, uint64_t timeout_ns)
{
	if (h->uring_ok) {
		struct io_uring_sqe *sqe = uring_get_sqe(&h->uring);
		if (sqe) {
			prep_futex_waitv(sqe, h->wv, nw);
			int res = uring_submit_wait(&h->uring, sqe, timeout_ns);
			if (res >= 0 || res == -EAGAIN || res == -ECANCELED)
				return;
		}
		rki_log_warn("reactor: helper io_uring wait failed; using futex_waitv(2)");
		io_uring_queue_exit(&h->uring);
		h->uring_ok = false;
		return;
	}
	if (h->waitv_ok) {
		struct timespec abs, *absp = NULL;
		if (timeout_ns != UINT64_MAX) {
			abs = rk_sys_ts(rk_sys_deadline(timeout_ns));
			absp = &abs;
		}
		long ret = syscall(SYS_futex_waitv, h->wv, nw, 0, absp, CLOCK_MONOTONIC);
		if (ret >= 0 || errno == EAGAIN || errno == ETIMEDOUT || errno == EINTR)
			return;
		/* ENOSYS (Linux < 5.16, seccomp) or a refusal that would
		 * repeat forever: stop asking rather than spin. */
		rki_log_info("reactor: futex_waitv(2): %s; the readiness fd polls its rings "
			     "every %u us",
			     strerror(errno), RKI_POLL_NS / 1000);
		h->waitv_ok = false;
	}
	/* Degraded: sleep on the control word only; rings are polled. */
	uint64_t t = nw > 1 && timeout_ns > RKI_POLL_NS ? RKI_POLL_NS : timeout_ns;
	futex_wait_until((uint32_t *)(uintptr_t)h->wv[0].uaddr, (uint32_t)h->wv[0].val,
			 rk_sys_deadline(t));
}

static void helper_set(struct rki_futex_waitv *w, uint32_t *word, uint32_t val)
{
	w->val = val;
	w->uaddr = (uint64_t)(uintptr_t)word;
	w->flags = FUTEX2_SIZE_U32; /* shared: producers may be other processes */
	w->reserved = 0;
}

/* Copy the watch list under `lock`; false when out of memory. */
static bool helper_snapshot(struct helper *h, unsigned *n_p)
{
	struct rki_reactor *re = h->re;
	if (re->nwatch > h->snap_cap) {
		struct rk_ring **s = realloc(h->snap, re->nwatch * sizeof(*s));
		if (!s)
			return false;
		h->snap = s;
		h->snap_cap = re->nwatch;
	}
	if (re->nwatch)
		memcpy(h->snap, re->watch, re->nwatch * sizeof(*h->snap));
	*n_p = re->nwatch;
	return true;
}

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	struct rki_reactor *re = h->re;

	pthread_mutex_lock(&re->lock);
	for (;;) {
		if (re->stop)
			break;
		uint32_t c = __atomic_load_n(&re->ctl, __ATOMIC_SEQ_CST);
		unsigned n = 0;
		helper_set(&h->wv[0], &re->ctl, c);
		if (!re->armed || !helper_snapshot(h, &n)) {
			/* Signalled (or out of memory: retry soon): hold no
			 * park, so producers stay syscall-free, until the state
			 * changes. */
			uint64_t t = re->armed ? RKI_POLL_NS : UINT64_MAX;
			pthread_mutex_unlock(&re->lock);
			helper_sleep(h, 1, t);
			pthread_mutex_lock(&re->lock);
			continue;
		}
		re->snap_gen = re->watch_gen;
		re->helper_busy = true;
		pthread_mutex_unlock(&re->lock);

		unsigned nparked = n < RKI_WAITV_RINGS ? n : RKI_WAITV_RINGS;
		for (unsigned i = 0; i < nparked; i++) {
			uint32_t *bell;
			uint32_t v = rk_ring_park_consumer(h->snap[i], &bell);
			helper_set(&h->wv[1 + i], bell, v);
		}
		bool ready = any_ready(h->snap, n);
		if (!ready)
			helper_sleep(h, 1 + nparked, n > nparked ? RKI_POLL_NS : UINT64_MAX);
		for (unsigned i = 0; i < nparked; i++)
			rk_ring_unpark_consumer(h->snap[i]);

		pthread_mutex_lock(&re->lock);
		/*
		 * Decide under the lock, looking again: what we saw above may
		 * predate the user's drain, and the rearm that followed it
		 * (a no-op while armed) must not be undone by a stale signal.
		 * A drain-then-rearm either happens before this check (we see
		 * the ring empty) or its rearm comes after our signal (and
		 * clears it). Data that lands after this check finds us
		 * parked again on the next turn.
		 */
		if (re->armed && any_ready(h->snap, n)) {
			uint64_t one = 1;
			re->armed = false;
			/* Cannot fail but by overflow, which leaves it readable. */
			if (write(re->efd, &one, sizeof(one)) < 0)
				rki_log_debug("reactor: eventfd write: %s", strerror(errno));
		}
		/* Only now may unwatch let a ring of the snapshot go. */
		re->helper_busy = false;
		pthread_cond_broadcast(&re->cond);
	}
	pthread_mutex_unlock(&re->lock);
	if (h->uring_ok)
		io_uring_queue_exit(&h->uring);
	free(h->snap);
	free(h);
	return NULL;
}

/* Called with `lock` held. */
static int helper_start(struct rki_reactor *re)
{
	struct helper *h = calloc(1, sizeof(*h));
	if (!h)
		return rk_error(-ENOMEM, "reactor: no memory for the helper thread");
	h->re = re;
	h->waitv_ok = true;
	if (re->kind == RKI_REACTOR_URING && re->helper_uring_ok)
		h->uring_ok = io_uring_queue_init(4, &h->uring, 0) == 0;
	/* Signals are for the application's threads, not ours: start the
	 * helper with all of them blocked (it inherits the mask). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int ret = pthread_create(&re->helper, NULL, helper_main, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		if (h->uring_ok)
			io_uring_queue_exit(&h->uring);
		free(h);
		return rk_error(-ret, "reactor: cannot start the helper thread");
	}
	re->helper_started = true;
	return 0;
}

int rki_reactor_fd(struct rki_reactor *re)
{
	return re->efd;
}

int rki_reactor_watch(struct rki_reactor *re, struct rk_ring *ring)
{
	if (!ring || !ring->hdr)
		return rk_error(-EINVAL, "reactor: watch of a NULL ring");
	int ret = 0;
	pthread_mutex_lock(&re->lock);
	for (unsigned i = 0; i < re->nwatch; i++) {
		if (re->watch[i] == ring) {
			ret = rk_error(-EEXIST, "reactor: ring %p is already watched",
				       (void *)ring);
			goto out;
		}
	}
	if (re->nwatch == re->watch_cap) {
		unsigned cap = re->watch_cap ? re->watch_cap * 2 : 8;
		struct rk_ring **w = realloc(re->watch, cap * sizeof(*w));
		if (!w) {
			ret = rk_error(-ENOMEM, "reactor: no memory to watch %u rings", cap);
			goto out;
		}
		re->watch = w;
		re->watch_cap = cap;
	}
	if (!re->helper_started) {
		ret = helper_start(re);
		if (ret < 0)
			goto out;
	}
	re->watch[re->nwatch++] = ring;
	ctl_kick(re);
out:
	pthread_mutex_unlock(&re->lock);
	return ret;
}

void rki_reactor_unwatch(struct rki_reactor *re, struct rk_ring *ring)
{
	pthread_mutex_lock(&re->lock);
	for (unsigned i = 0; i < re->nwatch; i++) {
		if (re->watch[i] != ring)
			continue;
		re->watch[i] = re->watch[--re->nwatch];
		uint64_t gen = ++re->watch_gen;
		ctl_kick(re);
		/* The caller may free the ring once we return: wait until
		 * the helper has unparked from any list that still held it. */
		while (re->helper_busy && re->snap_gen < gen)
			pthread_cond_wait(&re->cond, &re->lock);
		break;
	}
	pthread_mutex_unlock(&re->lock);
}

void rki_reactor_rearm(struct rki_reactor *re)
{
	uint64_t v;
	pthread_mutex_lock(&re->lock);
	/* Only the helper writes the eventfd, and only as it disarms: armed
	 * means not signalled and already watching. The runtime rearms on
	 * every -EAGAIN, so that case must cost no syscall. */
	if (!re->armed) {
		/* Nonblocking: EAGAIN if someone read it already. */
		while (read(re->efd, &v, sizeof(v)) < 0 && errno == EINTR)
			;
		re->armed = true;
		ctl_kick(re);
	}
	pthread_mutex_unlock(&re->lock);
}

/* ---- set-up ------------------------------------------------------------------ */

const char *rki_reactor_mode(const struct rki_reactor *re)
{
	return re->kind == RKI_REACTOR_URING ? "io_uring futex" : "futex";
}

/* Once per process, and only counted once it could be seen. */
static void say_fallback_once(const char *why)
{
	static int said;
	if (rki_log_enabled(RK_LOG_INFO) && !__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		rki_log_info("reactor: %s; blocking waits use futex(2)", why);
}

/* 0 with the ring up, or why not (the message already set). */
static int uring_setup(struct rki_reactor *re)
{
	int ret = io_uring_queue_init(8, &re->uring, 0);
	if (ret < 0)
		return rk_error(ret, "io_uring unavailable: io_uring_queue_init: %s",
				strerror(-ret));
	struct io_uring_probe *p = io_uring_get_probe_ring(&re->uring);
	bool wait_ok = p && io_uring_opcode_supported(p, RKI_IORING_OP_FUTEX_WAIT) &&
		       io_uring_opcode_supported(p, IORING_OP_LINK_TIMEOUT);
	re->helper_uring_ok = p && io_uring_opcode_supported(p, RKI_IORING_OP_FUTEX_WAITV);
	if (p)
		io_uring_free_probe(p);
	if (!wait_ok) {
		io_uring_queue_exit(&re->uring);
		return rk_error(-EOPNOTSUPP, "io_uring has no IORING_OP_FUTEX_WAIT (Linux >= 6.7)");
	}
	re->uring_live = true;
	/* RK_REACTOR_LINKED_TIMEOUT=1: the linked-timeout wait even where the
	 * kernel has EXT_ARG (to compare the two). */
	const char *linked = getenv("RK_REACTOR_LINKED_TIMEOUT");
	re->uring_ext_arg =
		(re->uring.features & IORING_FEAT_EXT_ARG) && !(linked && !strcmp(linked, "1"));
	return 0;
}

int rki_reactor_create(struct rki_reactor **out)
{
	enum { WANT_AUTO, WANT_URING, WANT_FUTEX } want = WANT_AUTO;
	const char *env = getenv("RK_REACTOR");
	int ret;

	if (!out)
		return rk_error(-EINVAL, "reactor: NULL output pointer");
	*out = NULL;
	if (env && *env && strcmp(env, "auto") != 0) {
		if (!strcmp(env, "uring") || !strcmp(env, "io_uring"))
			want = WANT_URING;
		else if (!strcmp(env, "futex"))
			want = WANT_FUTEX;
		else
			return rk_error(-EINVAL, "RK_REACTOR=%s is not auto|uring|futex", env);
	}

	struct rki_reactor *re = calloc(1, sizeof(*re));
	if (!re)
		return rk_error(-ENOMEM, "reactor: out of memory");
	re->armed = true;
	re->kind = RKI_REACTOR_FUTEX;
	pthread_mutex_init(&re->uring_lock, NULL);
	pthread_mutex_init(&re->lock, NULL);
	pthread_cond_init(&re->cond, NULL);
	re->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (re->efd < 0) {
		int err = errno;
		ret = rk_error(-err, "reactor: eventfd: %s", strerror(err));
		goto err;
	}

	if (want != WANT_FUTEX) {
		ret = uring_setup(re);
		if (ret == 0) {
			re->kind = RKI_REACTOR_URING;
		} else if (want == WANT_URING) {
			/* Keep uring_setup's reason, say who asked. */
			char why[256];
			snprintf(why, sizeof(why), "%s", rk_last_error());
			ret = rk_error(ret, "RK_REACTOR=uring: %s", why);
			goto err;
		} else {
			say_fallback_once(rk_last_error());
			rk_clear_error();
		}
	}
	rki_log_debug("reactor: %s", rki_reactor_mode(re));
	*out = re;
	return 0;
err:
	if (re->efd >= 0)
		close(re->efd);
	pthread_cond_destroy(&re->cond);
	pthread_mutex_destroy(&re->lock);
	pthread_mutex_destroy(&re->uring_lock);
	free(re);
	return ret;
}

void rki_reactor_destroy(struct rki_reactor *re)
{
	if (!re)
		return;
	pthread_mutex_lock(&re->lock);
	re->stop = true;
	ctl_kick(re);
	bool started = re->helper_started;
	pthread_mutex_unlock(&re->lock);
	/* The helper unparks before it looks at `stop`: the rings are free. */
	if (started)
		pthread_join(re->helper, NULL);
	if (re->uring_live)
		io_uring_queue_exit(&re->uring);
	close(re->efd);
	free(re->watch);
	pthread_cond_destroy(&re->cond);
	pthread_mutex_destroy(&re->lock);
	pthread_mutex_destroy(&re->uring_lock);
	free(re);
}

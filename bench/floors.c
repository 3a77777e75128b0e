/* SPDX-License-Identifier: MIT */
/*
 * Floors: the fastest this machine can bounce a word between two threads.
 *
 *   cache-line  both threads spin on one shared line (the limit for any
 *               spin-mode round trip: two cache-line transfers)
 *   eventfd     each side blocks in read() on its own eventfd
 *   futex       each side blocks in FUTEX_WAIT on its own word
 *
 * Timed like rk's round trips: one clock read per round trip in the
 * initiating thread, into a histogram.
 */
#include "config.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ringkernel/ring.h>

#include "bench.h"

struct pp {
	uint64_t ping __attribute__((aligned(128)));
	uint64_t pong __attribute__((aligned(128)));
	uint32_t fping __attribute__((aligned(128)));
	uint32_t fpong __attribute__((aligned(128)));
	int efd_ping, efd_pong;
	int cpu;
	int stop;
};

/* ---- cache line ---------------------------------------------------------------- */

static void *cl_echo(void *arg)
{
	struct pp *p = arg;
	pin_self(p->cpu);
	uint64_t seen = 0;
	unsigned spins = 0;
	for (;;) {
		uint64_t v = __atomic_load_n(&p->ping, __ATOMIC_ACQUIRE);
		if (v == seen) {
			backoff(&spins);
			continue;
		}
		if (v == UINT64_MAX)
			return NULL;
		seen = v;
		spins = 0;
		__atomic_store_n(&p->pong, v, __ATOMIC_RELEASE);
	}
}

static struct pp *pp_new(void)
{
	struct pp *p = aligned_alloc(128, sizeof(struct pp));
	if (p) {
		memset(p, 0, sizeof(*p));
		p->efd_ping = p->efd_pong = -1;
	}
	return p;
}

int floor_cacheline(const struct bopts *o, struct hist *h)
{
	struct pp *p = pp_new();
	if (!p)
		return -ENOMEM;
	int me;
	choose_cpus(&me, &p->cpu);
	pthread_t t;
	if (pthread_create(&t, NULL, cl_echo, p)) {
		free(p);
		return -EAGAIN;
	}
	pin_self(me);
	uint64_t end = now_ns() + (uint64_t)(o->duration * 1e9);
	uint64_t seq = 0, t0 = now_ns();
	while (t0 < end) {
		++seq;
		__atomic_store_n(&p->ping, seq, __ATOMIC_RELEASE);
		unsigned spins = 0;
		while (__atomic_load_n(&p->pong, __ATOMIC_ACQUIRE) != seq)
			backoff(&spins);
		uint64_t t1 = now_ns();
		hist_record(h, t1 - t0);
		t0 = t1;
	}
	__atomic_store_n(&p->ping, UINT64_MAX, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	pin_self(-1);
	free(p);
	return 0;
}

/* ---- eventfd --------------------------------------------------------------------- */

static void *efd_echo(void *arg)
{
	struct pp *p = arg;
	for (;;) {
		uint64_t v;
		if (read(p->efd_ping, &v, sizeof(v)) != sizeof(v))
			continue;
		if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
			return NULL;
		v = 1;
		if (write(p->efd_pong, &v, sizeof(v)) != sizeof(v))
			return NULL;
	}
}

int floor_eventfd(const struct bopts *o, struct hist *h)
{
	struct pp *p = pp_new();
	if (!p)
		return -ENOMEM;
	p->efd_ping = eventfd(0, EFD_CLOEXEC);
	p->efd_pong = eventfd(0, EFD_CLOEXEC);
	int ret = 0;
	pthread_t t;
	if (p->efd_ping < 0 || p->efd_pong < 0) {
		ret = -errno;
		goto out;
	}
	if (pthread_create(&t, NULL, efd_echo, p)) {
		ret = -EAGAIN;
		goto out;
	}
	uint64_t end = now_ns() + (uint64_t)(o->duration * 1e9);
	uint64_t t0 = now_ns(), one = 1, v;
	while (t0 < end) {
		if (write(p->efd_ping, &one, sizeof(one)) != sizeof(one) ||
		    read(p->efd_pong, &v, sizeof(v)) != sizeof(v)) {
			ret = -EIO;
			break;
		}
		uint64_t t1 = now_ns();
		hist_record(h, t1 - t0);
		t0 = t1;
	}
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	if (write(p->efd_ping, &one, sizeof(one)) != sizeof(one))
		ret = -EIO;
	pthread_join(t, NULL);
out:
	if (p->efd_ping >= 0)
		close(p->efd_ping);
	if (p->efd_pong >= 0)
		close(p->efd_pong);
	free(p);
	return ret;
}

/* ---- futex ------------------------------------------------------------------------- */

/* Wait until *w != 0, then clear it (one waiter per word). */
static void fx_take(uint32_t *w)
{
	while (__atomic_exchange_n(w, 0, __ATOMIC_ACQ_REL) == 0)
		syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static void fx_give(uint32_t *w)
{
	__atomic_store_n(w, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *fx_echo(void *arg)
{
	struct pp *p = arg;
	for (;;) {
		fx_take(&p->fping);
		if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
			return NULL;
		fx_give(&p->fpong);
	}
}

int floor_futex(const struct bopts *o, struct hist *h)
{
	struct pp *p = pp_new();
	if (!p)
		return -ENOMEM;
	pthread_t t;
	if (pthread_create(&t, NULL, fx_echo, p)) {
		free(p);
		return -EAGAIN;
	}
	uint64_t end = now_ns() + (uint64_t)(o->duration * 1e9);
	uint64_t t0 = now_ns();
	while (t0 < end) {
		fx_give(&p->fping);
		fx_take(&p->fpong);
		uint64_t t1 = now_ns();
		hist_record(h, t1 - t0);
		t0 = t1;
	}
	__atomic_store_n(&p->stop, 1, __ATOMIC_RELEASE);
	fx_give(&p->fping);
	pthread_join(t, NULL);
	free(p);
	return 0;
}

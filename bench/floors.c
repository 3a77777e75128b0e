/* SPDX-License-Identifier: MIT */
/*
 * Floors: the fastest this machine can bounce a word between two threads.
 *
 *   cache-line  both threads spin on one shared line (the limit for any
 *               spin-mode round trip: two cache-line transfers)
 *   eventfd     each side blocks in read() on its own eventfd
 *   futex       each side blocks in FUTEX_WAIT on its own word
 *   ideal       a hand-written echo over two SPSC rings with the runtime's
 *               slot header and checks: the architecture's own limit
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

#include <ringkernel/msg.h>
#include <ringkernel/ring.h>

#include "bench.h"
#include "ideal.h"

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
	if (p->cpu >= 0)
		pin_self(p->cpu);
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

int floor_eventfd(const struct bopts *o, struct hist *h, int me, int echo)
{
	struct pp *p = pp_new();
	if (!p)
		return -ENOMEM;
	p->cpu = echo;
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
	if (me >= 0)
		pin_self(me);
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
	if (me >= 0)
		pin_self(-1);
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

/* ---- ideal: a hand-written echo over two SPSC rings ------------------------------ */

/*
 * The architecture's own limit: the same 64-byte slot header and checks
 * as the runtime, two SPSC rings, one spinning echo thread, nothing else
 * (no lifecycle, no correlation, no HLC, no counters). A round trip moves
 * the request slot, its index, the reply slot and its index.
 */
struct ideal {
	struct rk_ring tx, rx;	    /* the host's handles */
	struct rk_ring k_in, k_out; /* the echo thread's */
	void *mem[2];
	uint32_t payload;
	int cpu;
	int stop;
};

static void ideal_put(struct rk_ring *r, uint64_t id, const uint8_t *p, uint32_t len)
{
	unsigned spins = 0;
	while (!rk_ideal_try_put(r, id, id, p, len))
		backoff(&spins);
}

/* Up to 32 requests at once, answered in place, each side's index
 * published once per batch: what the runtime's loop does. */
static void *ideal_echo(void *arg)
{
	struct ideal *d = arg;
	unsigned spins = 0;
	pin_self(d->cpu);
	while (!__atomic_load_n(&d->stop, __ATOMIC_ACQUIRE)) {
		uint64_t in, out;
		unsigned n = rk_ring_peek(&d->k_in, 32, &in);
		if (n == 0) {
			backoff(&spins);
			continue;
		}
		spins = 0;
		while (rk_ring_reserve(&d->k_out, n, &out) < n)
			backoff(&spins);
		for (unsigned i = 0; i < n; i++) {
			const struct rk_msg_hdr *q = rk_ring_slot(&d->k_in, in + i);
			struct rk_msg_hdr *a = rk_ring_slot(&d->k_out, out + i);
			uint32_t len = q->len;
			if (q->magic != RK_MSG_MAGIC || q->version != RK_MSG_VERSION ||
			    len > d->k_in.slot_size - RK_MSG_HDR_SIZE)
				len = 0;
			a->magic = RK_MSG_MAGIC;
			a->version = RK_MSG_VERSION;
			a->type = q->type;
			a->len = len;
			a->id = q->id;
			a->correlation_id = q->id;
			rk_ring_copy_(a + 1, q + 1, len);
		}
		rk_ring_commit(&d->k_out, n);
		rk_ring_release(&d->k_in, n);
	}
	return NULL;
}

static int ideal_open(struct ideal *d, uint32_t payload, pthread_t *t, int *me)
{
	size_t sz;
	uint32_t slot = (RK_MSG_HDR_SIZE + payload + 63) / 64 * 64;
	memset(d, 0, sizeof(*d));
	d->payload = payload;
	if (rk_ring_mem_size(1024, slot, &sz) < 0)
		return -EINVAL;
	for (int i = 0; i < 2; i++)
		if (!(d->mem[i] = aligned_alloc(RK_LINE, (sz + RK_LINE - 1) / RK_LINE * RK_LINE)))
			return -ENOMEM;
	if (rk_ring_init(&d->tx, d->mem[0], sz, 1024, slot, 0) < 0 ||
	    rk_ring_init(&d->rx, d->mem[1], sz, 1024, slot, 0) < 0 ||
	    rk_ring_attach(&d->k_in, d->mem[0], sz) < 0 ||
	    rk_ring_attach(&d->k_out, d->mem[1], sz) < 0)
		return -EINVAL;
	choose_cpus(me, &d->cpu);
	if (pthread_create(t, NULL, ideal_echo, d))
		return -EAGAIN;
	pin_self(*me);
	return 0;
}

static void ideal_close(struct ideal *d, pthread_t t)
{
	__atomic_store_n(&d->stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	pin_self(-1);
	free(d->mem[0]);
	free(d->mem[1]);
}

static int ideal_new(uint32_t payload, struct ideal **d_p, pthread_t *t)
{
	struct ideal *d = aligned_alloc(RK_LINE, (sizeof(*d) + RK_LINE - 1) / RK_LINE * RK_LINE);
	int me, ret = d ? ideal_open(d, payload, t, &me) : -ENOMEM;
	if (ret < 0) {
		free(d);
		return ret;
	}
	*d_p = d;
	return 0;
}

int floor_ideal_roundtrip(const struct bopts *o, uint32_t payload, struct hist *h)
{
	struct ideal *d;
	uint8_t req[RK_MAX_PAYLOAD] = { 0 }, rep[RK_MAX_PAYLOAD];
	pthread_t t;
	int ret = ideal_new(payload, &d, &t);
	if (ret < 0)
		return ret;
	uint64_t end = now_ns() + (uint64_t)(o->duration * 1e9), t0 = now_ns(), seq = 0, id;
	while (t0 < end && ret == 0) {
		ideal_put(&d->tx, ++seq, req, payload);
		unsigned spins = 0;
		int got;
		while ((got = rk_ideal_take(&d->rx, &id, rep)) == 0)
			backoff(&spins);
		if (got < 0 || id != seq)
			ret = -EBADMSG;
		uint64_t t1 = now_ns();
		hist_record(h, t1 - t0);
		t0 = t1;
	}
	ideal_close(d, t);
	free(d);
	return ret;
}

int floor_ideal_throughput(const struct bopts *o, uint32_t payload, unsigned batch, double *mps)
{
	struct ideal *d;
	uint8_t req[RK_MAX_PAYLOAD] = { 0 }, rep[RK_MAX_PAYLOAD];
	pthread_t t;
	int ret = ideal_new(payload, &d, &t);
	if (ret < 0)
		return ret;
	uint64_t sent = 0, got = 0;
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(o->duration * 1e9);
	while (ret == 0) {
		bool stop = now_ns() >= end;
		if (stop && got == sent)
			break;
		/* the same window as the runtime's pipelined run: 512 in flight,
		 * a burst written and published at once */
		uint64_t idx;
		unsigned n = 0;
		if (!stop && sent - got + batch <= 512 &&
		    (n = rk_ring_reserve(&d->tx, batch, &idx))) {
			for (unsigned i = 0; i < n; i++) {
				struct rk_msg_hdr *h = rk_ring_slot(&d->tx, idx + i);
				h->magic = RK_MSG_MAGIC;
				h->version = RK_MSG_VERSION;
				h->type = 1;
				h->len = payload;
				h->id = ++sent;
				rk_ring_copy_(h + 1, req, payload);
			}
			rk_ring_commit(&d->tx, n);
		}
		n = rk_ring_peek(&d->rx, 256, &idx);
		for (unsigned i = 0; i < n; i++) {
			const struct rk_msg_hdr *h = rk_ring_slot(&d->rx, idx + i);
			uint32_t len = h->len;
			if (h->magic != RK_MSG_MAGIC || len > d->rx.slot_size - RK_MSG_HDR_SIZE)
				ret = -EBADMSG;
			else
				rk_ring_copy_(rep, h + 1, len);
		}
		if (n) {
			rk_ring_release(&d->rx, n);
			got += n;
		}
	}
	*mps = (double)got / ((double)(now_ns() - t0) / 1e9);
	ideal_close(d, t);
	free(d);
	return ret;
}

/* SPDX-License-Identifier: MIT */
/*
 * Peers measured in the same run, each compiled in only when configure
 * found it (HAVE_PEER_DPDK, HAVE_PEER_CK, HAVE_PEER_ZMQ):
 *
 *   DPDK rte_ring   SP/SC, on memory we allocate (rte_ring_init, no EAL),
 *                   burst element API with the payload as the element
 *   ck_ring         Concurrency Kit SPSC ring of payload-sized structs;
 *                   it has no burst call, so a batch is a loop of singles
 *   ZeroMQ          inproc PAIR sockets, an echo thread on the far side
 *
 * iceoryx, the peer between processes (xproc), has a file of its own:
 * iceoryx.c. The rings go through the same harness as ours
 * (ring_harness.h).
 *
 * Under ThreadSanitizer the peers are left out: they are not instrumented
 * (the rings synchronize with inline assembly and compiler barriers, ZeroMQ
 * inside its own library), so TSan would report their copies as races.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "ring_harness.h"

#define RING_SLOTS 1024u

#if defined(__SANITIZE_THREAD__)
#undef HAVE_PEER_DPDK
#undef HAVE_PEER_CK
#undef HAVE_PEER_ZMQ
#define PEER_ABSENT_WHY "left out under ThreadSanitizer"
#else
#define PEER_ABSENT_WHY "not found by configure"
#endif
const char *const peer_absent_why = PEER_ABSENT_WHY;

/* ---- DPDK rte_ring ------------------------------------------------------------------ */

#ifdef HAVE_PEER_DPDK
#include <rte_ring.h>
#include <rte_ring_elem.h>

const bool peer_have_dpdk = true;

struct dpdk_ctx {
	struct rte_ring *r;
	uint32_t esize;
};

static inline unsigned dpdk_enq(struct dpdk_ctx *c, const void *src, uint32_t len, unsigned n)
{
	(void)len;
	return rte_ring_enqueue_burst_elem(c->r, src, c->esize, n, NULL);
}

static inline unsigned dpdk_deq(struct dpdk_ctx *c, void *dst, uint32_t len, unsigned n)
{
	(void)len;
	return rte_ring_dequeue_burst_elem(c->r, dst, c->esize, n, NULL);
}

RING_HARNESS(dpdk, struct dpdk_ctx, dpdk_enq, dpdk_deq)

int peer_ring_dpdk(const struct bopts *o, uint32_t payload, unsigned batch, double *ns_per_msg)
{
	if (payload % 4)
		return -EINVAL;
	/* one more slot than ours: rte_ring keeps one empty */
	ssize_t sz = rte_ring_get_memsize_elem(payload, RING_SLOTS * 2);
	if (sz < 0)
		return (int)sz;
	size_t size = ((size_t)sz + 127) / 128 * 128;
	struct dpdk_ctx c = { aligned_alloc(128, size), payload };
	if (!c.r)
		return -ENOMEM;
	memset(c.r, 0, size);
	int ret = rte_ring_init(c.r, "rk-bench", RING_SLOTS * 2, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ret == 0) {
		double ns = dpdk_run(&c, payload, batch, o->duration);
		ret = ns < 0 ? (int)ns : 0;
		*ns_per_msg = ns;
	}
	free(c.r);
	return ret;
}
#else
const bool peer_have_dpdk = false;
int peer_ring_dpdk(const struct bopts *o, uint32_t payload, unsigned batch, double *ns_per_msg)
{
	return -ENOSYS;
}
#endif

/* ---- Concurrency Kit ck_ring ------------------------------------------------------------ */

#ifdef HAVE_PEER_CK
#include <ck_ring.h>

const bool peer_have_ck = true;

struct m64 {
	uint8_t b[64];
};
struct m1k {
	uint8_t b[1024];
};
CK_RING_PROTOTYPE(m64, m64)
CK_RING_PROTOTYPE(m1k, m1k)

struct ck_ctx {
	struct ck_ring ring __attribute__((aligned(128)));
	void *buf;
};

#define CK_LOOPS(T)                                                                              \
	static inline unsigned ck_enq_##T(struct ck_ctx *c, const void *src, uint32_t len,       \
					  unsigned n)                                            \
	{                                                                                        \
		unsigned i = 0;                                                                  \
		while (i < n &&                                                                  \
		       ck_ring_enqueue_spsc_##T(&c->ring, c->buf,                                \
						(struct T *)((uintptr_t)src + (size_t)i * len))) \
			i++;                                                                     \
		return i;                                                                        \
	}                                                                                        \
	static inline unsigned ck_deq_##T(struct ck_ctx *c, void *dst, uint32_t len, unsigned n) \
	{                                                                                        \
		unsigned i = 0;                                                                  \
		while (i < n &&                                                                  \
		       ck_ring_dequeue_spsc_##T(&c->ring, c->buf,                                \
						(struct T *)((uint8_t *)dst + (size_t)i * len))) \
			i++;                                                                     \
		return i;                                                                        \
	}                                                                                        \
	RING_HARNESS(ck_##T, struct ck_ctx, ck_enq_##T, ck_deq_##T)

CK_LOOPS(m64)
CK_LOOPS(m1k)

int peer_ring_ck(const struct bopts *o, uint32_t payload, unsigned batch, double *ns_per_msg)
{
	if (payload != 64 && payload != 1024)
		return -EINVAL;
	/* ck_ring holds size - 1 entries: give it one more power of two */
	unsigned slots = RING_SLOTS * 2;
	struct ck_ctx *c = aligned_alloc(128, sizeof(struct ck_ctx));
	if (!c)
		return -ENOMEM;
	memset(c, 0, sizeof(*c));
	c->buf = aligned_alloc(128, (size_t)slots * payload);
	if (!c->buf) {
		free(c);
		return -ENOMEM;
	}
	memset(c->buf, 0, (size_t)slots * payload);
	ck_ring_init(&c->ring, slots);
	double ns = payload == 64 ? ck_m64_run(c, payload, batch, o->duration)
				  : ck_m1k_run(c, payload, batch, o->duration);
	*ns_per_msg = ns;
	free(c->buf);
	free(c);
	return ns < 0 ? (int)ns : 0;
}
#else
const bool peer_have_ck = false;
int peer_ring_ck(const struct bopts *o, uint32_t payload, unsigned batch, double *ns_per_msg)
{
	return -ENOSYS;
}
#endif

/* ---- ZeroMQ inproc PAIR ---------------------------------------------------------------- */

#ifdef HAVE_PEER_ZMQ
#include <zmq.h>

const bool peer_have_zmq = true;

struct zq {
	void *ctx, *near, *far;
	uint32_t payload;
};

/* The far side: echo every message; an empty one ends it. */
static void *zmq_echo(void *arg)
{
	struct zq *z = arg;
	uint8_t *buf = malloc(z->payload ? z->payload : 1);
	for (;;) {
		int n = zmq_recv(z->far, buf, z->payload, 0);
		if (n <= 0)
			break;
		if (zmq_send(z->far, buf, (size_t)n, 0) < 0)
			break;
	}
	free(buf);
	return NULL;
}

static int zq_open(struct zq *z, uint32_t payload, pthread_t *t)
{
	memset(z, 0, sizeof(*z));
	z->payload = payload;
	z->ctx = zmq_ctx_new();
	if (!z->ctx)
		return -ENOMEM;
	z->near = zmq_socket(z->ctx, ZMQ_PAIR);
	z->far = zmq_socket(z->ctx, ZMQ_PAIR);
	if (!z->near || !z->far || zmq_bind(z->far, "inproc://rk-bench") ||
	    zmq_connect(z->near, "inproc://rk-bench"))
		return -EIO;
	if (pthread_create(t, NULL, zmq_echo, z))
		return -EAGAIN;
	return 0;
}

static void zq_close(struct zq *z, pthread_t t)
{
	zmq_send(z->near, "", 0, 0);
	pthread_join(t, NULL);
	zmq_close(z->near);
	zmq_close(z->far);
	zmq_ctx_term(z->ctx);
}

int peer_zmq_roundtrip(const struct bopts *o, uint32_t payload, struct hist *h)
{
	struct zq z;
	pthread_t t;
	int ret = zq_open(&z, payload, &t);
	if (ret < 0)
		return ret;
	uint8_t *buf = calloc(1, payload);
	uint64_t end = now_ns() + (uint64_t)(o->duration * 1e9);
	uint64_t t0 = now_ns();
	while (buf && t0 < end) {
		if (zmq_send(z.near, buf, payload, 0) < 0 ||
		    zmq_recv(z.near, buf, payload, 0) < 0) {
			ret = -EIO;
			break;
		}
		uint64_t t1 = now_ns();
		hist_record(h, t1 - t0);
		t0 = t1;
	}
	free(buf);
	zq_close(&z, t);
	return ret;
}

int peer_zmq_throughput(const struct bopts *o, uint32_t payload, unsigned batch, double *msgs_per_s)
{
	struct zq z;
	pthread_t t;
	int ret = zq_open(&z, payload, &t);
	if (ret < 0)
		return ret;
	uint8_t *buf = calloc(1, payload);
	const uint64_t window = 512;
	uint64_t sent = 0, got = 0;
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)(o->duration * 1e9);
	while (buf) {
		bool stop = now_ns() >= end;
		if (stop && got == sent)
			break;
		for (unsigned i = 0; !stop && i < batch && sent - got < window; i++) {
			if (zmq_send(z.near, buf, payload, ZMQ_DONTWAIT) < 0)
				break;
			sent++;
		}
		int flags = sent - got >= window || stop ? 0 : ZMQ_DONTWAIT;
		while (got < sent && zmq_recv(z.near, buf, payload, flags) >= 0) {
			got++;
			flags = ZMQ_DONTWAIT;
		}
	}
	*msgs_per_s = (double)got / ((double)(now_ns() - t0) / 1e9);
	free(buf);
	zq_close(&z, t);
	return ret;
}
#else
const bool peer_have_zmq = false;
int peer_zmq_roundtrip(const struct bopts *o, uint32_t payload, struct hist *h)
{
	return -ENOSYS;
}
int peer_zmq_throughput(const struct bopts *o, uint32_t payload, unsigned batch, double *msgs_per_s)
{
	return -ENOSYS;
}
#endif

/* SPDX-License-Identifier: MIT */
/*
 * Ring attach and the consumer (and single producer) on a ring header
 * another party wrote, and keeps rewriting.
 *
 * Input: u16 `extra`; the ring's memory, sizeof(struct rk_ring_hdr) + extra
 * bytes (zero past the end of the input), in a heap block of exactly that
 * size; then operations of 9 bytes each (u8 code, u64 value) that either
 * overwrite an index in the shared header, as a hostile or broken peer
 * would, or call the ring: peek + decode + release, dequeue burst/bulk,
 * enqueue burst/bulk, count, attach again.
 *
 * Checked: attach succeeds only for a header it can trust (oracle below),
 * and a refused header gets an errno and a message and is left as it was;
 * no call hands out more than it was asked for or than the ring holds; the
 * consumer's and producer's positions only advance, by what they handed
 * out, whatever the shared indexes say (no slot given out twice), and each
 * is published as it moves; copies carry exactly the slot's bytes; every
 * slot pointer lies in the ring (and ASan sees every access).
 *
 * Not exercised: enqueue on RK_RING_MP rings (a claimant waits for the
 * tail to reach its claim, which a hostile tail never does: a liveness
 * question for the ring's own tests, not a memory-safety one).
 */
#include <errno.h>
#include <stdbool.h>

#include <ringkernel/msg.h>
#include <ringkernel/ring.h>

#include "fuzz.h"

#define MAX_OPS 256

struct model {
	struct rk_ring r;
	uint64_t cons; /* next index the consumer will hand out */
	uint64_t prod; /* next index the producer will fill */
	uint8_t *mem;
	size_t size;
};

/* What attach must have seen to accept a header. */
static bool trustworthy(const struct rk_ring_hdr *h, size_t size)
{
	uint32_t cap = h->capacity, ss = h->slot_size;
	if (size < sizeof(*h) || h->magic != RK_RING_MAGIC || h->version != RK_LAYOUT_VERSION)
		return false;
	if (cap == 0 || cap > RK_RING_MAX_CAPACITY || (cap & (cap - 1)))
		return false;
	if (ss < RK_SLOT_ALIGN || ss > RK_SLOT_MAX || ss % RK_SLOT_ALIGN)
		return false;
	if (h->flags & ~RK_RING_FLAGS_ALL)
		return false;
	if (sizeof(*h) + (size_t)cap * ss > size)
		return false;
	return h->prod_tail - h->cons_head <= cap;
}

static int attach(struct model *mo)
{
	const struct rk_ring_hdr *h = (const struct rk_ring_hdr *)mo->mem;
	uint8_t *before = malloc(mo->size);
	memcpy(before, mo->mem, mo->size);
	bool ok = trustworthy(h, mo->size);
	uint64_t prod = h->prod_tail, cons = h->cons_head;
	struct rk_ring r;
	rk_clear_error();
	int ret = rk_ring_attach(&r, mo->mem, mo->size);
	if (ret < 0) {
		FUZZ_CHECK_FAILURE(ret, -EBADMSG, -EPROTONOSUPPORT, -ERANGE, -EINVAL, -EUCLEAN);
		FUZZ_CHECK(memcmp(before, mo->mem, mo->size) == 0, "refused attach wrote the ring");
	} else {
		FUZZ_CHECK(ok, "attach accepted an untrustworthy header");
		FUZZ_CHECK(rk_ring_capacity(&r) == h->capacity &&
				   rk_ring_slot_size(&r) == h->slot_size,
			   "geometry");
		mo->r = r;
		mo->cons = cons;
		mo->prod = prod;
	}
	free(before);
	return ret;
}

static struct rk_ring_hdr *hdr(struct model *mo)
{
	return (struct rk_ring_hdr *)mo->mem;
}

static void check_slot_ptr(struct model *mo, uint64_t idx)
{
	uint8_t *p = rk_ring_slot(&mo->r, idx);
	uint8_t *lo = mo->mem + sizeof(struct rk_ring_hdr);
	size_t span = (size_t)rk_ring_capacity(&mo->r) * rk_ring_slot_size(&mo->r);
	FUZZ_CHECK(p >= lo && p + rk_ring_slot_size(&mo->r) <= lo + span,
		   "slot %llu outside the ring", (unsigned long long)idx);
}

/* The consumer handed out k slots at idx: they are the next ones. */
static void consumed(struct model *mo, unsigned asked, unsigned k, uint64_t idx)
{
	FUZZ_CHECK(k <= asked && k <= rk_ring_capacity(&mo->r), "handed out %u of %u asked", k,
		   asked);
	if (k == 0)
		return;
	FUZZ_CHECK(idx == mo->cons, "consumer at %llu, expected %llu (a slot handed out twice?)",
		   (unsigned long long)idx, (unsigned long long)mo->cons);
}

static void op_peek(struct model *mo, uint64_t v)
{
	unsigned n = (unsigned)(v % 64) + 1;
	uint64_t idx = 0;
	unsigned k = rk_ring_peek(&mo->r, n, &idx);
	consumed(mo, n, k, idx);
	rk_message *m = malloc(sizeof(*m));
	for (unsigned i = 0; i < k; i++) {
		check_slot_ptr(mo, idx + i);
		rk_clear_error();
		int ret = rk_msg_read(rk_ring_slot(&mo->r, idx + i), rk_ring_slot_size(&mo->r), m);
		if (ret < 0)
			FUZZ_CHECK_FAILURE(ret, -EBADMSG, -EMSGSIZE);
		else
			FUZZ_CHECK(m->len <= rk_msg_capacity(rk_ring_slot_size(&mo->r)), "len");
	}
	free(m);
	if (k) {
		rk_ring_release(&mo->r, k);
		mo->cons += k;
		FUZZ_CHECK(hdr(mo)->cons_head == mo->cons, "release did not publish");
	}
}

static void op_dequeue(struct model *mo, uint64_t v, bool bulk)
{
	unsigned n = (unsigned)(v % 64) + 1;
	uint32_t ss = rk_ring_slot_size(&mo->r);
	uint32_t len = (uint32_t)((v >> 8) % (ss + 1));
	uint8_t *dst = malloc((size_t)n * len + 1);
	uint64_t at = mo->cons;
	unsigned k;
	if (bulk) {
		rk_clear_error();
		int ret = rk_ring_dequeue_bulk(&mo->r, dst, len, len, n);
		if (n > rk_ring_capacity(&mo->r))
			FUZZ_CHECK(ret == -EINVAL, "bulk dequeue of %u > capacity: %d", n, ret);
		else
			FUZZ_CHECK(ret == 0 || ret == -EAGAIN || ret == -EUCLEAN, "bulk: %d", ret);
		k = ret == 0 ? n : 0;
	} else {
		k = rk_ring_dequeue_burst(&mo->r, dst, len, len, n);
		FUZZ_CHECK(k <= n && k <= rk_ring_capacity(&mo->r), "dequeued %u of %u", k, n);
	}
	/* Nothing else touches the slots: the copies are their bytes. */
	for (unsigned i = 0; i < k; i++)
		FUZZ_CHECK(memcmp(dst + (size_t)i * len, rk_ring_slot(&mo->r, at + i), len) == 0,
			   "slot %u copied wrong", i);
	if (k) {
		mo->cons += k;
		FUZZ_CHECK(hdr(mo)->cons_head == mo->cons, "dequeue did not publish");
	}
	free(dst);
}

static void op_enqueue(struct model *mo, uint64_t v, bool bulk)
{
	if (rk_ring_capacity(&mo->r) == 0)
		return;
	unsigned n = (unsigned)(v % 16) + 1;
	uint32_t ss = rk_ring_slot_size(&mo->r);
	uint32_t len = (uint32_t)((v >> 8) % (ss + 1));
	uint8_t *src = malloc((size_t)n * len + 1);
	for (size_t i = 0; i < (size_t)n * len; i++)
		src[i] = (uint8_t)(i * 31 + v);
	uint64_t at = mo->prod;
	unsigned k;
	if (hdr(mo)->flags & RK_RING_MP) {
		/* Only bulk is defined on an MP ring, and it must refuse. */
		if (bulk)
			FUZZ_CHECK(rk_ring_enqueue_bulk(&mo->r, src, len, len, n) == -EINVAL,
				   "bulk enqueue on an MP ring");
		free(src);
		return;
	}
	if (bulk) {
		int ret = rk_ring_enqueue_bulk(&mo->r, src, len, len, n);
		if (n > rk_ring_capacity(&mo->r))
			FUZZ_CHECK(ret == -EINVAL, "bulk enqueue of %u > capacity: %d", n, ret);
		else
			FUZZ_CHECK(ret == 0 || ret == -EAGAIN || ret == -EUCLEAN, "bulk: %d", ret);
		k = ret == 0 ? n : 0;
	} else {
		k = rk_ring_enqueue_burst(&mo->r, src, len, len, n);
		FUZZ_CHECK(k <= n && k <= rk_ring_capacity(&mo->r), "enqueued %u of %u", k, n);
	}
	for (unsigned i = 0; i < k; i++) {
		check_slot_ptr(mo, at + i);
		FUZZ_CHECK(memcmp(rk_ring_slot(&mo->r, at + i), src + (size_t)i * len, len) == 0,
			   "slot %u written wrong", i);
	}
	if (k) {
		mo->prod += k;
		FUZZ_CHECK(hdr(mo)->prod_tail == mo->prod, "commit did not publish");
	}
	free(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	struct model mo = { 0 };
	mo.size = sizeof(struct rk_ring_hdr) + fuzz_u16(&in);
	void *mem = NULL;
	if (posix_memalign(&mem, RK_LINE, mo.size))
		return 0;
	mo.mem = mem;
	fuzz_take(&in, mo.mem, mo.size);
	if (attach(&mo) < 0) {
		free(mem);
		return 0;
	}
	uint32_t cap = rk_ring_capacity(&mo.r);
	struct rk_ring_hdr *h = hdr(&mo);
	for (int i = 0; i < MAX_OPS && in.left; i++) {
		uint8_t code = fuzz_u8(&in);
		uint64_t v = fuzz_u64(&in);
		switch (code % RING_OPS) {
		case OP_SET_PROD_TAIL: __atomic_store_n(&h->prod_tail, v, __ATOMIC_RELEASE); break;
		case OP_SET_CONS_HEAD: __atomic_store_n(&h->cons_head, v, __ATOMIC_RELEASE); break;
		case OP_SET_PROD_HEAD: __atomic_store_n(&h->prod_head, v, __ATOMIC_RELEASE); break;
		case OP_NEAR_PROD_TAIL: h->prod_tail = mo.cons + v % (2 * (uint64_t)cap + 1); break;
		case OP_NEAR_CONS_HEAD: h->cons_head = mo.prod - v % (2 * (uint64_t)cap + 1); break;
		case OP_PEEK_DECODE_RELEASE: op_peek(&mo, v); break;
		case OP_DEQUEUE_BURST: op_dequeue(&mo, v, false); break;
		case OP_DEQUEUE_BULK: op_dequeue(&mo, v, true); break;
		case OP_ENQUEUE_BURST: op_enqueue(&mo, v, false); break;
		case OP_ENQUEUE_BULK: op_enqueue(&mo, v, true); break;
		case OP_COUNT:
			FUZZ_CHECK(rk_ring_count(&mo.r) <= cap, "count above capacity");
			break;
		case OP_REATTACH:
			attach(&mo); /* a new handle on the ring as it is now */
			cap = rk_ring_capacity(&mo.r);
			break;
		case OP_POKE_SLOT: /* the peer rewrites a slot byte (a header's len, say) */
			mo.mem[sizeof(*h) + v % ((size_t)cap * rk_ring_slot_size(&mo.r))] =
				(uint8_t)(v >> 56);
			break;
		}
	}
	free(mem);
	return 0;
}

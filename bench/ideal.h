/* SPDX-License-Identifier: MIT */
/*
 * bench/ideal.h - the hand-written echo's slot handling, shared by the
 * floor ideal rows (floors.c) and rk-instr: our 64-byte slot header and the
 * checks a real reader makes, on plain SPSC rings, nothing else.
 */
#ifndef RK_BENCH_IDEAL_H
#define RK_BENCH_IDEAL_H

#include <ringkernel/msg.h>
#include <ringkernel/ring.h>

/* Write one message; 0 when the ring is full. */
static inline int rk_ideal_try_put(struct rk_ring *r, uint64_t id, uint64_t corr, const uint8_t *p,
				   uint32_t len)
{
	uint64_t idx;
	if (rk_ring_reserve(r, 1, &idx) == 0)
		return 0;
	struct rk_msg_hdr *h = rk_ring_slot(r, idx);
	h->magic = RK_MSG_MAGIC;
	h->version = RK_MSG_VERSION;
	h->type = 1;
	h->flags = corr ? RK_MSG_F_REPLY : 0;
	h->len = len;
	h->id = id;
	h->correlation_id = corr;
	rk_ring_copy_(h + 1, p, len);
	rk_ring_commit(r, 1);
	return 1;
}

/* Take one slot with a real reader's checks: 1, 0 when empty, -1 malformed. */
static inline int rk_ideal_take(struct rk_ring *r, uint64_t *id, uint8_t *p)
{
	uint64_t idx;
	if (rk_ring_peek(r, 1, &idx) == 0)
		return 0;
	const struct rk_msg_hdr *h = rk_ring_slot(r, idx);
	uint32_t len = h->len;
	if (h->magic != RK_MSG_MAGIC || h->version != RK_MSG_VERSION ||
	    len > r->slot_size - RK_MSG_HDR_SIZE)
		return -1;
	*id = h->id;
	rk_ring_copy_(p, h + 1, len);
	rk_ring_release(r, 1);
	return 1;
}

#endif

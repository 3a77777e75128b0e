/* SPDX-License-Identifier: MIT */
/* Ring behaviour: empty, full, bursts, wrap-around, reserve/commit. */
#include <errno.h>
#include <stdlib.h>

#include <ringkernel/ring.h>

#include "testutil.h"

static void *ring_mem(uint32_t cap, uint32_t slot, size_t *size)
{
	cr_assert_eq(rk_ring_mem_size(cap, slot, size), 0);
	void *m = aligned_alloc(RK_LINE, *size);
	cr_assert_not_null(m);
	return m;
}

Test(ring, empty_dequeue_is_eagain)
{
	struct rk_ring r;
	size_t sz;
	void *m = ring_mem(8, 64, &sz);
	cr_assert_eq(rk_ring_init(&r, m, sz, 8, 64, 0), 0);
	uint8_t buf[64];
	cr_assert_eq(rk_ring_dequeue(&r, buf, 64), -EAGAIN);
	cr_assert_eq(rk_ring_count(&r), 0);
	free(m);
}

Test(ring, full_enqueue_is_eagain_and_order_kept)
{
	struct rk_ring r;
	size_t sz;
	void *m = ring_mem(8, 64, &sz);
	cr_assert_eq(rk_ring_init(&r, m, sz, 8, 64, 0), 0);
	for (uint64_t i = 0; i < 8; i++)
		cr_assert_eq(rk_ring_enqueue(&r, &i, sizeof(i)), 0);
	uint64_t x = 99;
	cr_assert_eq(rk_ring_enqueue(&r, &x, sizeof(x)), -EAGAIN);
	cr_assert_eq(rk_ring_count(&r), 8);
	for (uint64_t i = 0; i < 8; i++) {
		cr_assert_eq(rk_ring_dequeue(&r, &x, sizeof(x)), 0);
		cr_assert_eq(x, i);
	}
	free(m);
}

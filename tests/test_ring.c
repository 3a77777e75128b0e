/* SPDX-License-Identifier: MIT */
/*
 * Ring behaviour on one thread: geometry checks, empty and full, burst
 * (as many as fit) versus bulk (all or nothing), wrap-around of the 64-bit
 * indexes, zero-copy reserve/commit and peek/release, attach validation and
 * the timeout side of parking. The threaded suites are test_ring_mt.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ringkernel/error.h>
#include <ringkernel/ring.h>

#include "testutil.h"

static void *ring_mem(uint32_t cap, uint32_t slot, size_t *size)
{
	cr_assert_eq(rk_ring_mem_size(cap, slot, size), 0);
	void *m = rk_test_alloc_lines(*size);
	cr_assert_not_null(m);
	return m;
}

static void *ring_new(struct rk_ring *r, uint32_t cap, uint32_t slot, uint32_t flags,
		      uint64_t start)
{
	size_t sz;
	void *m = ring_mem(cap, slot, &sz);
	cr_assert_eq(rk_ring_init_at(r, m, sz, cap, slot, flags, start), 0, "%s", rk_last_error());
	return m;
}

/* ---- geometry ------------------------------------------------------------ */

Test(ring, capacity_rounds_up_to_power_of_two)
{
	static const uint32_t in[] = { 1, 2, 3, 5, 8, 9, 1000, 1024, 1025, RK_RING_MAX_CAPACITY };
	static const uint32_t want[] = {
		1, 2, 4, 8, 8, 16, 1024, 1024, 2048, RK_RING_MAX_CAPACITY
	};
	for (unsigned i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		size_t sz;
		cr_assert_eq(rk_ring_mem_size(in[i], 64, &sz), 0);
		cr_assert_eq(sz,
			     sizeof(struct rk_ring_hdr) +
				     (size_t)want[i] * (64 + RK_RING_CLAIM_BYTES),
			     "capacity %u", in[i]);
		if (in[i] > 4096)
			continue; /* the big ones only check the arithmetic */
		struct rk_ring r;
		void *m = ring_new(&r, in[i], 64, 0, 0);
		cr_assert_eq(rk_ring_capacity(&r), want[i], "capacity %u became %u", in[i],
			     rk_ring_capacity(&r));
		cr_assert_eq(r.hdr->capacity, want[i]);
		cr_assert_eq(r.mask, want[i] - 1);
		free(m);
	}
}

Test(ring, zero_or_oversized_capacity_is_einval)
{
	size_t sz = 12345;
	rk_clear_error();
	cr_assert_eq(rk_ring_mem_size(0, 64, &sz), -EINVAL);
	cr_assert_str_neq(rk_last_error(), "");
	cr_assert_eq(rk_ring_mem_size(RK_RING_MAX_CAPACITY + 1, 64, &sz), -EINVAL);
	cr_assert_eq(rk_ring_mem_size(UINT32_MAX, 64, &sz), -EINVAL);
	cr_assert_eq(sz, 12345, "size written on failure");

	struct rk_ring r;
	void *m = ring_mem(8, 64, &sz);
	cr_assert_eq(rk_ring_init(&r, m, sz, 0, 64, 0), -EINVAL);
	cr_assert_eq(rk_ring_init(&r, m, sz, RK_RING_MAX_CAPACITY + 1, 64, 0), -EINVAL);
	free(m);
}

Test(ring, bad_slot_sizes_are_einval)
{
	static const uint32_t bad[] = { 0, 1, 32, 63, 65, 100, 4095, RK_SLOT_MAX + 64, UINT32_MAX };
	size_t sz;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(rk_ring_mem_size(8, bad[i], &sz), -EINVAL, "slot size %u", bad[i]);
	static const uint32_t good[] = { 64, 128, 192, 1024, RK_SLOT_MAX };
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert_eq(rk_ring_mem_size(8, good[i], &sz), 0, "slot size %u", good[i]);
		cr_assert_eq(sz, sizeof(struct rk_ring_hdr) + 8u * (good[i] + RK_RING_CLAIM_BYTES));
	}
}

Test(ring, init_checks_memory_and_flags)
{
	struct rk_ring r;
	size_t sz;
	void *m = ring_mem(8, 64, &sz);
	cr_assert_eq(rk_ring_init(&r, m, sz - 1, 8, 64, 0), -ENOSPC);
	cr_assert_eq(rk_ring_init(&r, (uint8_t *)m + 64, sz - 64, 1, 64, 0), -EINVAL,
		     "misaligned memory accepted");
	cr_assert_eq(rk_ring_init(&r, m, sz, 8, 64, 0x80), -EINVAL, "unknown flag accepted");
	cr_assert_eq(rk_ring_init(&r, NULL, sz, 8, 64, 0), -EINVAL);
	cr_assert_eq(rk_ring_init(&r, m, sz, 8, 64, RK_RING_MP), 0);
	cr_assert_eq(r.flags, RK_RING_MP);
	/* RK_RING_ASYM where the kernel has membarrier (6.x does) */
	cr_assert_eq(rk_ring_init(&r, m, sz, 8, 64, RK_RING_ASYM | RK_RING_MP), 0, "%s",
		     rk_last_error());
	struct rk_ring other;
	cr_assert_eq(rk_ring_attach(&other, m, sz), 0);
	cr_assert_eq(other.flags, RK_RING_ASYM | RK_RING_MP, "the flag travels with the ring");
	free(m);
}

/* ---- empty, full, burst, bulk -------------------------------------------- */

Test(ring, empty_dequeue_is_eagain)
{
	struct rk_ring r;
	void *m = ring_new(&r, 8, 64, 0, 0);
	uint8_t buf[64];
	memset(buf, 0x5a, sizeof(buf));
	cr_assert_eq(rk_ring_dequeue(&r, buf, 64), -EAGAIN);
	cr_assert_eq(rk_ring_dequeue_burst(&r, buf, 64, 64, 1), 0);
	cr_assert_eq(rk_ring_count(&r), 0);
	cr_assert_eq(buf[0], 0x5a, "dequeue from an empty ring wrote the buffer");
	free(m);
}

/* Every length a slot holds, through both copies (into the slot and out
 * of it): exactly the first len bytes arrive, and nothing past them is
 * written, on either side. Lengths 8..128 take the inline overlapping
 * moves, the rest the C library. */
Test(ring, every_length_copies_exactly_its_bytes)
{
	enum { SLOT = 512 };
	struct rk_ring r;
	void *m = ring_new(&r, 4, SLOT, 0, 0);
	uint8_t src[SLOT], dst[SLOT + 16];
	for (uint32_t len = 0; len <= SLOT; len++) {
		for (uint32_t i = 0; i < SLOT; i++)
			src[i] = (uint8_t)(i * 7 + len + 1);
		/* The slot gets a marker past len that the copy must not touch
		 * (reserve moves nothing: the enqueue writes the same slot). */
		uint64_t idx;
		cr_assert_eq(rk_ring_reserve(&r, 1, &idx), 1);
		memset(rk_ring_slot(&r, idx), 0xa5, SLOT);
		cr_assert_eq(rk_ring_enqueue(&r, src, len), 0, "len %u", len);
		const uint8_t *slot = rk_ring_slot(&r, idx);
		for (uint32_t i = len; i < SLOT; i++)
			cr_assert_eq(slot[i], 0xa5, "len %u: slot byte %u written", len, i);
		memset(dst, 0x3c, sizeof(dst));
		cr_assert_eq(rk_ring_dequeue(&r, dst, len), 0, "len %u", len);
		cr_assert_eq(memcmp(dst, src, len), 0, "len %u: bytes differ", len);
		for (uint32_t i = len; i < sizeof(dst); i++)
			cr_assert_eq(dst[i], 0x3c, "len %u: byte %u past the copy written", len, i);
	}
	free(m);
}

Test(ring, full_enqueue_is_eagain_and_order_kept)
{
	struct rk_ring r;
	void *m = ring_new(&r, 8, 64, 0, 0);
	for (uint64_t i = 0; i < 8; i++)
		cr_assert_eq(rk_ring_enqueue(&r, &i, sizeof(i)), 0);
	uint64_t x = 99;
	cr_assert_eq(rk_ring_enqueue(&r, &x, sizeof(x)), -EAGAIN);
	cr_assert_eq(rk_ring_count(&r), 8);
	for (uint64_t i = 0; i < 8; i++) {
		cr_assert_eq(rk_ring_dequeue(&r, &x, sizeof(x)), 0);
		cr_assert_eq(x, i);
	}
	cr_assert_eq(rk_ring_dequeue(&r, &x, sizeof(x)), -EAGAIN);
	free(m);
}

Test(ring, burst_enqueue_takes_as_many_as_fit)
{
	struct rk_ring r;
	void *m = ring_new(&r, 8, 64, 0, 0);
	uint64_t v[12];
	for (unsigned i = 0; i < 12; i++)
		v[i] = 100 + i;
	cr_assert_eq(rk_ring_enqueue_burst(&r, v, sizeof(v[0]), sizeof(v[0]), 5), 5);
	cr_assert_eq(rk_ring_enqueue_burst(&r, v + 5, sizeof(v[0]), sizeof(v[0]), 7), 3,
		     "burst must fill the 3 free slots");
	cr_assert_eq(rk_ring_count(&r), 8);
	cr_assert_eq(rk_ring_enqueue_burst(&r, v + 8, sizeof(v[0]), sizeof(v[0]), 4), 0);

	uint64_t out[12] = { 0 };
	cr_assert_eq(rk_ring_dequeue_burst(&r, out, sizeof(out[0]), sizeof(out[0]), 3), 3);
	cr_assert_eq(rk_ring_dequeue_burst(&r, out + 3, sizeof(out[0]), sizeof(out[0]), 12), 5,
		     "burst dequeue must return what is there");
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(out[i], 100 + i, "slot %u", i);
	cr_assert_eq(rk_ring_dequeue_burst(&r, out, sizeof(out[0]), sizeof(out[0]), 12), 0);
	free(m);
}

Test(ring, bulk_is_all_or_nothing)
{
	struct rk_ring r;
	void *m = ring_new(&r, 8, 64, 0, 0);
	uint64_t v[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];
	cr_assert_eq(rk_ring_enqueue_bulk(&r, v, sizeof(v[0]), sizeof(v[0]), 5), 0);
	cr_assert_eq(rk_ring_enqueue_bulk(&r, v, sizeof(v[0]), sizeof(v[0]), 4), -EAGAIN);
	cr_assert_eq(rk_ring_count(&r), 5, "a failed bulk enqueue must enqueue nothing");
	cr_assert_eq(rk_ring_enqueue_bulk(&r, v + 5, sizeof(v[0]), sizeof(v[0]), 3), 0);
	cr_assert_eq(rk_ring_count(&r), 8);

	memset(out, 0, sizeof(out));
	cr_assert_eq(rk_ring_dequeue_bulk(&r, out, sizeof(out[0]), sizeof(out[0]), 6), 0);
	cr_assert_eq(rk_ring_dequeue_bulk(&r, out + 6, sizeof(out[0]), sizeof(out[0]), 3), -EAGAIN);
	cr_assert_eq(rk_ring_count(&r), 2, "a failed bulk dequeue must dequeue nothing");
	cr_assert_eq(out[6], 0, "a failed bulk dequeue wrote the buffer");
	cr_assert_eq(rk_ring_dequeue_bulk(&r, out + 6, sizeof(out[0]), sizeof(out[0]), 2), 0);
	cr_assert_arr_eq(out, v, sizeof(v));

	/* Larger than the ring: can never succeed, so it is not "try again". */
	cr_assert_eq(rk_ring_enqueue_bulk(&r, v, sizeof(v[0]), sizeof(v[0]), 9), -EINVAL);
	cr_assert_eq(rk_ring_dequeue_bulk(&r, out, sizeof(out[0]), sizeof(out[0]), 9), -EINVAL);
	free(m);
}

Test(ring, bulk_enqueue_on_mp_ring_is_einval)
{
	struct rk_ring r;
	void *m = ring_new(&r, 8, 64, RK_RING_MP, 0);
	uint64_t v = 1;
	cr_assert_eq(rk_ring_enqueue_bulk(&r, &v, 0, sizeof(v), 1), -EINVAL);
	cr_assert_eq(rk_ring_count(&r), 0);
	free(m);
}

/* ---- wrap-around ---------------------------------------------------------- */

/*
 * Indexes start 20 short of UINT64_MAX, so within a few dozen messages they
 * wrap to 0: free/avail arithmetic, the mask and count() must not notice.
 * The burst sizes vary so the wrap happens at every position in a burst.
 */
Test(ring, indexes_wrap_past_uint64_max)
{
	struct rk_ring r;
	const uint64_t start = UINT64_MAX - 20;
	void *m = ring_new(&r, 8, 128, 0, start);
	cr_assert_eq(r.hdr->prod_tail, start);
	cr_assert_eq(rk_ring_count(&r), 0);

	uint8_t in[8][128], out[8][128];
	uint64_t sent = 0, got = 0;
	for (unsigned round = 0; round < 400; round++) {
		unsigned want = 1 + round % 8;
		for (unsigned i = 0; i < want; i++)
			rk_test_fill(in[i], sizeof(in[i]), sent + i);
		unsigned k = rk_ring_enqueue_burst(&r, in, sizeof(in[0]), sizeof(in[0]), want);
		cr_assert_eq(k, want < 8 - (sent - got) ? want : (unsigned)(8 - (sent - got)));
		sent += k;
		cr_assert_eq(rk_ring_count(&r), sent - got);
		unsigned take = 1 + (round * 7) % 8;
		unsigned n = rk_ring_dequeue_burst(&r, out, sizeof(out[0]), sizeof(out[0]), take);
		cr_assert_eq(n, take < sent - got ? take : (unsigned)(sent - got));
		for (unsigned i = 0; i < n; i++) {
			uint8_t want_bytes[128];
			rk_test_fill(want_bytes, sizeof(want_bytes), got + i);
			cr_assert_arr_eq(out[i], want_bytes, sizeof(want_bytes), "message %llu",
					 (unsigned long long)(got + i));
		}
		got += n;
	}
	cr_assert_gt(sent, 100);
	/* Both indexes went through zero. */
	cr_assert_lt(r.hdr->prod_tail, start, "producer index did not wrap");
	cr_assert_lt(r.hdr->cons_head, start, "consumer index did not wrap");
	cr_assert_eq(r.hdr->prod_tail - r.hdr->cons_head, sent - got);
	free(m);
}

Test(ring, full_ring_straddling_the_wrap)
{
	struct rk_ring r;
	/* 3 slots before the wrap, 5 after: full and empty both straddle it. */
	void *m = ring_new(&r, 8, 64, 0, UINT64_MAX - 2);
	for (uint64_t i = 0; i < 8; i++)
		cr_assert_eq(rk_ring_enqueue(&r, &i, sizeof(i)), 0);
	cr_assert_eq(r.hdr->prod_tail, 5, "producer index should have wrapped to 5");
	cr_assert_eq(rk_ring_count(&r), 8);
	uint64_t x = 77;
	cr_assert_eq(rk_ring_enqueue(&r, &x, sizeof(x)), -EAGAIN);
	for (uint64_t i = 0; i < 8; i++) {
		cr_assert_eq(rk_ring_dequeue(&r, &x, sizeof(x)), 0);
		cr_assert_eq(x, i);
	}
	cr_assert_eq(rk_ring_dequeue(&r, &x, sizeof(x)), -EAGAIN);
	cr_assert_eq(rk_ring_count(&r), 0);
	free(m);
}

Test(ring, mp_ring_wraps_too)
{
	struct rk_ring r;
	void *m = ring_new(&r, 4, 64, RK_RING_MP, UINT64_MAX - 1);
	for (uint64_t round = 0; round < 50; round++) {
		uint64_t v[3] = { round * 3, round * 3 + 1, round * 3 + 2 }, out[3];
		cr_assert_eq(rk_ring_enqueue_burst(&r, v, sizeof(v[0]), sizeof(v[0]), 3), 3);
		cr_assert_eq(rk_ring_enqueue_burst(&r, v, sizeof(v[0]), sizeof(v[0]), 3), 1,
			     "MP burst must take the one free slot");
		cr_assert_eq(rk_ring_dequeue_burst(&r, out, sizeof(out[0]), sizeof(out[0]), 3), 3);
		cr_assert_arr_eq(out, v, sizeof(v));
		cr_assert_eq(rk_ring_dequeue(&r, out, sizeof(out[0])), 0);
		cr_assert_eq(out[0], v[0]);
	}
	cr_assert_eq(r.hdr->prod_head, r.hdr->prod_tail);
	cr_assert_lt(r.hdr->prod_tail, 1000);
	free(m);
}

/* ---- zero copy -------------------------------------------------------------- */

Test(ring, reserve_commit_writes_in_place)
{
	struct rk_ring r;
	void *m = ring_new(&r, 8, 256, 0, 0);
	uint64_t idx;
	cr_assert_eq(rk_ring_reserve(&r, 3, &idx), 3);
	cr_assert_eq(idx, 0);
	for (unsigned i = 0; i < 3; i++)
		memset(rk_ring_slot(&r, idx + i), 'a' + (int)i, 256);
	/* Reserved but not committed: invisible to the consumer. */
	uint64_t cidx;
	cr_assert_eq(rk_ring_count(&r), 0);
	cr_assert_eq(rk_ring_peek(&r, 8, &cidx), 0);
	rk_ring_commit(&r, 3);
	cr_assert_eq(rk_ring_count(&r), 3);

	cr_assert_eq(rk_ring_peek(&r, 8, &cidx), 3);
	cr_assert_eq(cidx, 0);
	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *s = rk_ring_slot(&r, cidx + i);
		cr_assert_eq(s, (uint8_t *)r.slots + i * 256u, "peek must point into the ring");
		cr_assert_eq(s[0], 'a' + i);
		cr_assert_eq(s[255], 'a' + i);
	}
	free(m);
}

Test(ring, reserve_is_bounded_by_free_slots)
{
	struct rk_ring r;
	void *m = ring_new(&r, 4, 64, 0, 0);
	uint64_t idx;
	cr_assert_eq(rk_ring_reserve(&r, 3, &idx), 3);
	rk_ring_commit(&r, 3);
	cr_assert_eq(rk_ring_reserve(&r, 3, &idx), 1, "only one slot is free");
	cr_assert_eq(idx, 3);
	rk_ring_commit(&r, 1);
	cr_assert_eq(rk_ring_reserve(&r, 1, &idx), 0, "full ring reserved a slot");
	free(m);
}

Test(ring, peek_does_not_consume_release_does)
{
	struct rk_ring r;
	void *m = ring_new(&r, 8, 64, 0, 0);
	for (uint64_t i = 0; i < 5; i++)
		cr_assert_eq(rk_ring_enqueue(&r, &i, sizeof(i)), 0);
	uint64_t a, b;
	cr_assert_eq(rk_ring_peek(&r, 2, &a), 2);
	cr_assert_eq(rk_ring_peek(&r, 2, &b), 2);
	cr_assert_eq(a, b, "peek moved the consumer");
	cr_assert_eq(rk_ring_count(&r), 5);
	cr_assert_eq(*(uint64_t *)rk_ring_slot(&r, a), 0);
	rk_ring_release(&r, 2);
	cr_assert_eq(rk_ring_count(&r), 3);
	cr_assert_eq(rk_ring_peek(&r, 8, &a), 3);
	cr_assert_eq(*(uint64_t *)rk_ring_slot(&r, a), 2);
	rk_ring_release(&r, 3);
	cr_assert_eq(rk_ring_peek(&r, 8, &a), 0);
	/* Released slots are the producer's again. */
	cr_assert_eq(rk_ring_reserve(&r, 8, &b), 8);
	free(m);
}

Test(ring, mp_reserve_commit_publish_in_claim_order)
{
	struct rk_ring r;
	void *m = ring_new(&r, 8, 64, RK_RING_MP, 0);
	uint64_t a, b;
	cr_assert_eq(rk_ring_mp_reserve(&r, 2, &a), 2);
	cr_assert_eq(rk_ring_mp_reserve(&r, 10, &b), 6, "MP reserve takes what is free");
	cr_assert_eq(b, a + 2);
	uint64_t dummy;
	cr_assert_eq(rk_ring_mp_reserve(&r, 1, &dummy), 0);
	for (unsigned i = 0; i < 8; i++)
		*(uint64_t *)rk_ring_slot(&r, a + i) = 40 + i;
	rk_ring_mp_commit(&r, a, 2);
	cr_assert_eq(rk_ring_count(&r), 2);
	rk_ring_mp_commit(&r, b, 6);
	cr_assert_eq(rk_ring_count(&r), 8);
	uint64_t out[8];
	cr_assert_eq(rk_ring_dequeue_burst(&r, out, sizeof(out[0]), sizeof(out[0]), 8), 8);
	for (unsigned i = 0; i < 8; i++)
		cr_assert_eq(out[i], 40 + i);
	free(m);
}

/* ---- attach ------------------------------------------------------------------ */

Test(ring, attach_sees_the_same_ring)
{
	struct rk_ring p, c;
	size_t sz;
	void *m = ring_mem(16, 128, &sz);
	cr_assert_eq(rk_ring_init_at(&p, m, sz, 16, 128, 0, 1000), 0);
	for (uint64_t i = 0; i < 5; i++)
		cr_assert_eq(rk_ring_enqueue(&p, &i, sizeof(i)), 0);
	cr_assert_eq(rk_ring_attach(&c, m, sz), 0, "%s", rk_last_error());
	cr_assert_eq(rk_ring_capacity(&c), 16);
	cr_assert_eq(rk_ring_slot_size(&c), 128);
	cr_assert_eq(rk_ring_count(&c), 5);
	uint64_t x;
	for (uint64_t i = 0; i < 5; i++) {
		cr_assert_eq(rk_ring_dequeue(&c, &x, sizeof(x)), 0);
		cr_assert_eq(x, i);
	}
	cr_assert_eq(rk_ring_count(&p), 0);
	free(m);
}

static void expect_attach_fails(void *m, size_t sz, int err, const char *what)
{
	struct rk_ring r;
	rk_clear_error();
	cr_assert_eq(rk_ring_attach(&r, m, sz), err, "%s: got %s", what, rk_last_error());
	cr_assert_str_neq(rk_last_error(), "", "%s: no detail", what);
}

Test(ring, attach_rejects_bad_headers)
{
	struct rk_ring r;
	size_t sz;
	void *m = ring_mem(8, 64, &sz);
	struct rk_ring_hdr *h = m;

	cr_assert_eq(rk_ring_init(&r, m, sz, 8, 64, 0), 0);
	h->magic = 0xdeadbeef;
	expect_attach_fails(m, sz, -EBADMSG, "magic");

	cr_assert_eq(rk_ring_init(&r, m, sz, 8, 64, 0), 0);
	h->version = RK_LAYOUT_VERSION + 1;
	expect_attach_fails(m, sz, -EPROTONOSUPPORT, "version");

	cr_assert_eq(rk_ring_init(&r, m, sz, 8, 64, 0), 0);
	h->capacity = 6;
	expect_attach_fails(m, sz, -EBADMSG, "capacity 6");
	h->capacity = 0;
	expect_attach_fails(m, sz, -EBADMSG, "capacity 0");

	cr_assert_eq(rk_ring_init(&r, m, sz, 8, 64, 0), 0);
	h->slot_size = 96;
	expect_attach_fails(m, sz, -EBADMSG, "slot size 96");

	cr_assert_eq(rk_ring_init(&r, m, sz, 8, 64, 0), 0);
	h->capacity = 16; /* a valid shape that does not fit the memory */
	expect_attach_fails(m, sz, -ERANGE, "capacity beyond the section");

	cr_assert_eq(rk_ring_init(&r, m, sz, 8, 64, 0), 0);
	h->prod_tail = 9; /* 9 messages in an 8-slot ring */
	expect_attach_fails(m, sz, -EBADMSG, "incoherent indexes");

	cr_assert_eq(rk_ring_init(&r, m, sz, 8, 64, 0), 0);
	expect_attach_fails(m, sizeof(struct rk_ring_hdr) - 1, -ERANGE, "short section");
	free(m);
}

/* ---- parking: the single-threaded side ------------------------------------ */

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

Test(ring, wait_on_ready_ring_returns_at_once)
{
	struct rk_ring r;
	void *m = ring_new(&r, 2, 64, 0, 0);
	cr_assert_eq(rk_ring_wait_writable(&r, 0, 0), 0);
	uint64_t v = 1;
	cr_assert_eq(rk_ring_enqueue(&r, &v, sizeof(v)), 0);
	cr_assert_eq(rk_ring_wait_readable(&r, 0, 0), 0);
	free(m);
}

Test(ring, wait_times_out_after_the_timeout)
{
	struct rk_ring r;
	void *m = ring_new(&r, 1, 64, 0, 0);
	cr_assert_eq(rk_ring_wait_readable(&r, 0, 0), -ETIMEDOUT, "empty ring, no wait");
	uint64_t t0 = mono_ns();
	cr_assert_eq(rk_ring_wait_readable(&r, 0, 20 * 1000000ull), -ETIMEDOUT);
	uint64_t dt = mono_ns() - t0;
	cr_assert_geq(dt, 20 * 1000000ull, "returned after %llu ns", (unsigned long long)dt);
	cr_assert_lt(dt, 2000 * 1000000ull, "returned after %llu ns", (unsigned long long)dt);
	cr_assert_eq(r.hdr->cons_waiting, 0, "a timed-out waiter stayed registered");

	uint64_t v = 1;
	cr_assert_eq(rk_ring_enqueue(&r, &v, sizeof(v)), 0);
	t0 = mono_ns();
	cr_assert_eq(rk_ring_wait_writable(&r, 1000, 20 * 1000000ull), -ETIMEDOUT);
	cr_assert_geq(mono_ns() - t0, 20 * 1000000ull);
	cr_assert_eq(r.hdr->prod_waiting, 0);
	free(m);
}

/* ---- an index someone else wrote ------------------------------------------ */

/* A producer index far ahead of the consumer is not cached: no slot is
 * handed out, and not again on the next look (it once gave 200 stale
 * slots, 34 of them twice). */
Test(ring, producer_index_far_ahead_marks_the_ring_corrupt)
{
	struct rk_ring r;
	void *m = ring_new(&r, 8, 64, 0, 0);
	uint64_t v = 1, idx;
	cr_assert_eq(rk_ring_enqueue(&r, &v, 8), 0);
	cr_assert_eq(rk_ring_dequeue(&r, &v, 8), 0);
	r.hdr->prod_tail = 1000;
	cr_assert_eq(rk_ring_peek(&r, 8, &idx), 0);
	cr_assert(rk_ring_corrupt(&r));
	cr_assert(strstr(rk_last_error(), "corrupt"), "%s", rk_last_error());
	cr_assert_eq(rk_ring_peek(&r, 8, &idx), 0, "the impossible index was cached");
	cr_assert_eq(rk_ring_peek(&r, 1, &idx), 0);
	cr_assert_eq(r.corrupt_events, 3);
	free(m);
}

Test(ring, producer_index_behind_the_consumer_marks_the_ring_corrupt)
{
	struct rk_ring r;
	void *m = ring_new(&r, 8, 64, 0, 100);
	uint64_t v = 1, idx;
	for (int i = 0; i < 4; i++)
		cr_assert_eq(rk_ring_enqueue(&r, &v, 8), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(rk_ring_dequeue(&r, &v, 8), 0);
	r.hdr->prod_tail = 101; /* backwards: the consumer is at 104 */
	cr_assert_eq(rk_ring_peek(&r, 1, &idx), 0);
	cr_assert(rk_ring_corrupt(&r));
	cr_assert_eq(rk_ring_dequeue(&r, &v, 8), -EAGAIN);
	free(m);
}

/* A consumer index moved backwards or past the producer never lets a
 * producer overwrite unread slots (it once overwrote 999). */
Test(ring, consumer_index_out_of_range_never_overwrites)
{
	static const uint64_t bad[] = { 0, 2, 9, 1000, UINT64_MAX };
	for (unsigned b = 0; b < sizeof(bad) / sizeof(bad[0]); b++) {
		struct rk_ring r;
		void *m = ring_new(&r, 8, 64, 0, 0);
		uint64_t v = 0, idx;
		for (v = 0; v < 8; v++)
			cr_assert_eq(rk_ring_enqueue(&r, &v, 8), 0);
		/* the consumer took 4: cons_head 4 */
		struct rk_ring c;
		cr_assert_eq(
			rk_ring_attach(&c, m,
				       sizeof(struct rk_ring_hdr) + 8 * (64 + RK_RING_CLAIM_BYTES)),
			0);
		for (int i = 0; i < 4; i++)
			cr_assert_eq(rk_ring_dequeue(&c, &v, 8), 0);
		cr_assert_eq(rk_ring_reserve(&r, 1, &idx), 1); /* sees cons 4 */
		r.hdr->cons_head = bad[b];
		/* 4 free slots were seen; wanting more forces a fresh look */
		unsigned got = rk_ring_reserve(&r, 8, &idx);
		if (bad[b] < 4 || bad[b] > 8) {
			cr_assert(rk_ring_corrupt(&r), "cons_head %llu accepted",
				  (unsigned long long)bad[b]);
			cr_assert_leq(got, 4, "cons_head %llu: %u slots, 4 are unread",
				      (unsigned long long)bad[b], got);
		}
		free(m);
	}
}

/* The same for a multi-producer ring: the claim sees a corrupt consumer. */
Test(ring, mp_consumer_index_past_the_head_is_corrupt)
{
	struct rk_ring r;
	void *m = ring_new(&r, 8, 64, RK_RING_MP, 0);
	uint64_t v = 7, idx;
	cr_assert_eq(rk_ring_enqueue(&r, &v, 8), 0);
	r.hdr->cons_head = 50;
	/* A sender reads the consumer's index once the last value it saw
	 * shows no room: by then it has claimed only slots that were free. */
	unsigned claimed = 0;
	while (rk_ring_mp_reserve(&r, 1, &idx) == 1) {
		cr_assert_eq(rk_ring_mp_commit(&r, idx, 1), 0);
		cr_assert_lt(++claimed, 8, "claimed past the ring's free slots");
	}
	cr_assert_eq(claimed, 7);
	cr_assert(rk_ring_corrupt(&r));
	cr_assert_eq(rk_ring_wait_writable(&r, 0, 1000000000ull), -EUCLEAN);
	free(m);
}

/* An MP tail moved past our claim: commit fails at once, not never. */
Test(ring, mp_commit_after_a_tampered_tail_is_euclean)
{
	struct rk_ring r;
	void *m = ring_new(&r, 8, 64, RK_RING_MP, 0);
	uint64_t idx;
	cr_assert_eq(rk_ring_mp_reserve(&r, 1, &idx), 1);
	r.hdr->prod_tail = idx + 16;
	cr_assert_eq(rk_ring_mp_commit_timed(&r, idx, 1, 1000000000ull), -EUCLEAN);
	cr_assert(rk_ring_corrupt(&r));
	free(m);
}

/* An earlier claim that is never published: the timeout holds. */
Test(ring, mp_commit_waits_no_longer_than_its_timeout)
{
	struct rk_ring r;
	void *m = ring_new(&r, 8, 64, RK_RING_MP, 0);
	uint64_t a, b;
	cr_assert_eq(rk_ring_mp_reserve(&r, 1, &a), 1);
	cr_assert_eq(rk_ring_mp_reserve(&r, 1, &b), 1);
	uint64_t t0 = mono_ns();
	cr_assert_eq(rk_ring_mp_commit_timed(&r, b, 1, 50000000ull), -ETIMEDOUT);
	cr_assert_geq(mono_ns() - t0, 50000000ull);
	/* the claim is still ours: once a is in, b goes too */
	cr_assert_eq(rk_ring_mp_commit(&r, a, 1), 0);
	cr_assert_eq(rk_ring_mp_commit_timed(&r, b, 1, 0), 0);
	cr_assert_eq(r.hdr->prod_tail, 2);
	free(m);
}

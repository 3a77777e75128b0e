/* SPDX-License-Identifier: MIT */
/*
 * ringkernel/ring.h - lock-free rings of fixed-size slots on caller memory.
 *
 * A ring lives in memory the caller supplies (normally a region section);
 * struct rk_ring is a process-local handle onto it that caches the other
 * side's index. Single-producer rings are wait-free; RK_RING_MP rings let
 * several producers (threads or processes) claim slots with a CAS, DPDK-style,
 * and publish in claim order. There is always one consumer.
 *
 *   bulk  = all or nothing;  burst = as many as fit.
 *   reserve/commit and peek/release give zero-copy access to slots.
 *
 * Hot paths are inline and make no syscall; a futex wake is issued only when
 * the other side has parked (rk_ring_wait_*).
 */
#ifndef RINGKERNEL_RING_H
#define RINGKERNEL_RING_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <ringkernel/layout.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__x86_64__) || defined(__i386__)
#define RK_CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define RK_CPU_RELAX() __asm__ __volatile__("yield" ::: "memory")
#else
#define RK_CPU_RELAX() __asm__ __volatile__("" ::: "memory")
#endif

struct rk_ring {
	struct rk_ring_hdr *hdr;
	uint8_t *slots;
	uint32_t mask;
	uint32_t slot_size;
	uint32_t capacity;
	uint32_t flags;
	/* producer-local: next index to claim, cached consumer index */
	struct {
		uint64_t next;
		uint64_t cons_cache;
	} prod __attribute__((aligned(RK_LINE)));
	/* consumer-local: next index to read, cached producer index */
	struct {
		uint64_t next;
		uint64_t prod_cache;
	} cons __attribute__((aligned(RK_LINE)));
};

/* Bytes a ring of `capacity` (rounded up to a power of two) slots of
 * `slot_size` bytes needs. -EINVAL for 0, oversized or misaligned. */
int rk_ring_mem_size(uint32_t capacity, uint32_t slot_size, size_t *size_p);

/* Initialize a ring in `mem` (RK_LINE aligned, `size` bytes) and attach `r`
 * to it. `capacity` is rounded up to a power of two. */
int rk_ring_init(struct rk_ring *r, void *mem, size_t size, uint32_t capacity, uint32_t slot_size,
		 uint32_t flags);
/* The same, with both indexes starting at `start` (wrap-around testing). */
int rk_ring_init_at(struct rk_ring *r, void *mem, size_t size, uint32_t capacity,
		    uint32_t slot_size, uint32_t flags, uint64_t start);

/* Attach to a ring another party initialized. Validates everything read
 * from `mem`: magic, version, capacity, slot size, that it fits in `size`,
 * and that the indexes are coherent. */
int rk_ring_attach(struct rk_ring *r, void *mem, size_t size);

static inline uint32_t rk_ring_capacity(const struct rk_ring *r)
{
	return r->capacity;
}
static inline uint32_t rk_ring_slot_size(const struct rk_ring *r)
{
	return r->slot_size;
}

static inline void *rk_ring_slot(const struct rk_ring *r, uint64_t idx)
{
	return r->slots + (size_t)(idx & r->mask) * r->slot_size;
}

/* Messages in the ring as seen now (either side may call it). */
static inline uint32_t rk_ring_count(const struct rk_ring *r)
{
	uint64_t c = __atomic_load_n(&r->hdr->cons_head, __ATOMIC_ACQUIRE);
	uint64_t p = __atomic_load_n(&r->hdr->prod_tail, __ATOMIC_ACQUIRE);
	uint64_t n = p - c;
	return n > r->capacity ? r->capacity : (uint32_t)n;
}

/* An MP claimant waits for earlier claimants to publish: spins, then yields
 * (one of them may have been preempted between its reserve and commit).
 * Returns with prod_tail == idx, acquired. */
void rk_ring_mp_wait_turn_(struct rk_ring *r, uint64_t idx);

/* Wake the parked side; out of line because it makes a syscall. */
void rk_ring_wake_consumer_(struct rk_ring *r);
void rk_ring_wake_producer_(struct rk_ring *r);

/*
 * Parking handshake (Dekker): a publisher stores its index, then reads the
 * other side's waiting count; a parker increments its waiting count, then
 * re-reads the index. One of the two must see the other, or a wake-up is
 * lost. Two ways, chosen per ring at init:
 *  - symmetric (default): seq_cst store and load (on x86 one xchg per
 *    publish); parking costs a futex and nothing more.
 *  - RK_RING_ASYM: the publisher does a release store and a plain load,
 *    ordered only by the compiler; the parker, the rare side, calls
 *    membarrier(GLOBAL_EXPEDITED), a full barrier on every CPU running a
 *    process that loaded this library (each registers when it loads), so
 *    a publisher's store is visible before the parker re-reads, or its
 *    load comes after the parker's increment. Publishing is as cheap as in
 *    rings that cannot block; each park costs an IPI round (microseconds,
 *    more in a VM). For spin-mostly pipelines. A process that could not
 *    register publishes such rings seq_cst; -ENOTSUP at init where the
 *    kernel has no membarrier.
 * A device publisher (device.h) always uses seq_cst.
 */
extern int rk_ring_asym_fence_;

/* Publish `v` at *idx; returns the other side's waiting count. */
static inline uint32_t rk_ring_publish_(const struct rk_ring *r, uint64_t *idx, uint64_t v,
					uint32_t *waiting)
{
	if ((r->flags & RK_RING_ASYM) && __atomic_load_n(&rk_ring_asym_fence_, __ATOMIC_RELAXED)) {
		__atomic_store_n(idx, v, __ATOMIC_RELEASE);
		__atomic_signal_fence(__ATOMIC_SEQ_CST); /* the load stays after the store */
		return __atomic_load_n(waiting, __ATOMIC_RELAXED);
	}
	__atomic_store_n(idx, v, __ATOMIC_SEQ_CST);
	return __atomic_load_n(waiting, __ATOMIC_SEQ_CST);
}

static inline void rk_ring_publish_prod_(struct rk_ring *r, uint64_t v)
{
	if (__builtin_expect(rk_ring_publish_(r, &r->hdr->prod_tail, v, &r->hdr->cons_waiting) != 0,
			     0))
		rk_ring_wake_consumer_(r);
}

static inline void rk_ring_publish_cons_(struct rk_ring *r, uint64_t v)
{
	if (__builtin_expect(rk_ring_publish_(r, &r->hdr->cons_head, v, &r->hdr->prod_waiting) != 0,
			     0))
		rk_ring_wake_producer_(r);
}

/* ---- producer: reserve / commit ---------------------------------------- */

/*
 * Claim up to `n` slots starting at *idx_p; returns how many (0 when full).
 * Write them through rk_ring_slot(r, idx + i), then rk_ring_commit().
 * Single-producer rings only; MP rings use rk_ring_mp_reserve().
 */
static inline unsigned rk_ring_reserve(struct rk_ring *r, unsigned n, uint64_t *idx_p)
{
	uint64_t next = r->prod.next;
	uint64_t free = r->capacity - (next - r->prod.cons_cache);
	if (free < n) {
		r->prod.cons_cache = __atomic_load_n(&r->hdr->cons_head, __ATOMIC_ACQUIRE);
		free = r->capacity - (next - r->prod.cons_cache);
		if (free > r->capacity) /* corrupt consumer index: treat as full */
			free = 0;
	}
	*idx_p = next;
	return n < free ? n : (unsigned)free;
}

/* Publish `n` reserved slots. */
static inline void rk_ring_commit(struct rk_ring *r, unsigned n)
{
	r->prod.next += n;
	rk_ring_publish_prod_(r, r->prod.next);
}

/*
 * MP rings: claim with a CAS; every claimant must rk_ring_mp_commit() its
 * claim (commits publish in claim order).
 *
 * The head is read before the consumer index (acquire keeps that order), so
 * by the time cons_head is read other producers may have moved the head on
 * and the consumer may have passed the value we hold: head - cons then
 * "underflows". That is a stale head, not a full ring: re-read and retry.
 * Only an unchanged head with an impossible distance is a corrupt index.
 */
static inline unsigned rk_ring_mp_reserve(struct rk_ring *r, unsigned n, uint64_t *idx_p)
{
	struct rk_ring_hdr *h = r->hdr;
	uint64_t head = __atomic_load_n(&h->prod_head, __ATOMIC_ACQUIRE);
	unsigned k;
	for (;;) {
		uint64_t cons = __atomic_load_n(&h->cons_head, __ATOMIC_ACQUIRE);
		uint64_t used = head - cons;
		if (__builtin_expect(used > r->capacity, 0)) {
			uint64_t again = __atomic_load_n(&h->prod_head, __ATOMIC_ACQUIRE);
			if (again == head) /* corrupt consumer index: treat as full */
				return 0;
			head = again;
			continue;
		}
		uint64_t free = r->capacity - used;
		k = n < free ? n : (unsigned)free;
		if (k == 0)
			return 0;
		if (__atomic_compare_exchange_n(&h->prod_head, &head, head + k, true,
						__ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
			break;
	}
	*idx_p = head;
	return k;
}

static inline void rk_ring_mp_commit(struct rk_ring *r, uint64_t idx, unsigned n)
{
	/*
	 * Earlier claimants publish first: wait for the tail to reach us. The
	 * load is acquire so that their slot writes happen-before our release
	 * below; the consumer synchronizes with our store only, and must see
	 * every slot up to idx + n.
	 */
	if (__atomic_load_n(&r->hdr->prod_tail, __ATOMIC_ACQUIRE) != idx)
		rk_ring_mp_wait_turn_(r, idx);
	rk_ring_publish_prod_(r, idx + n);
}

/* ---- consumer: peek / release -------------------------------------------- */

/* Up to `n` readable slots starting at *idx_p; 0 when empty. */
static inline unsigned rk_ring_peek(struct rk_ring *r, unsigned n, uint64_t *idx_p)
{
	uint64_t next = r->cons.next;
	uint64_t avail = r->cons.prod_cache - next;
	if (avail < n) {
		r->cons.prod_cache = __atomic_load_n(&r->hdr->prod_tail, __ATOMIC_ACQUIRE);
		avail = r->cons.prod_cache - next;
		if (avail > r->capacity) /* corrupt producer index */
			avail = 0;
	}
	*idx_p = next;
	return n < avail ? n : (unsigned)avail;
}

/* Hand `n` peeked slots back to the producer. */
static inline void rk_ring_release(struct rk_ring *r, unsigned n)
{
	r->cons.next += n;
	rk_ring_publish_cons_(r, r->cons.next);
}

/* ---- copying enqueue / dequeue ------------------------------------------- */

/* Small elements (the common 64-256 B, multiples of 8) are copied inline
 * with 8-byte moves the compiler can widen: a call into the C library's
 * memcpy for each of them costs as much as the ring itself. */
static inline void rk_ring_copy_(void *dst, const void *src, uint32_t len)
{
	if (len <= 256 && (len & 7) == 0) {
		for (uint32_t i = 0; i < len; i += 8) {
			uint64_t v;
			memcpy(&v, (const uint8_t *)src + i, 8);
			memcpy((uint8_t *)dst + i, &v, 8);
		}
	} else {
		memcpy(dst, src, len);
	}
}

/* Copy `len` bytes (<= slot size; the caller checks) of `n` elements laid
 * out `stride` bytes apart. burst: as many as fit; returns the count. */
static inline unsigned rk_ring_enqueue_burst(struct rk_ring *r, const void *src, size_t stride,
					     uint32_t len, unsigned n)
{
	uint64_t idx;
	unsigned k = (r->flags & RK_RING_MP) ? rk_ring_mp_reserve(r, n, &idx)
					     : rk_ring_reserve(r, n, &idx);
	for (unsigned i = 0; i < k; i++)
		rk_ring_copy_(rk_ring_slot(r, idx + i), (const uint8_t *)src + (size_t)i * stride,
			      len);
	if (k) {
		if (r->flags & RK_RING_MP)
			rk_ring_mp_commit(r, idx, k);
		else
			rk_ring_commit(r, k);
	}
	return k;
}

/* Single element: 0 or -EAGAIN (full). */
static inline int rk_ring_enqueue(struct rk_ring *r, const void *src, uint32_t len)
{
	return rk_ring_enqueue_burst(r, src, 0, len, 1) ? 0 : -EAGAIN;
}

/* Copy out `len` bytes of up to `n` slots; returns the count. */
static inline unsigned rk_ring_dequeue_burst(struct rk_ring *r, void *dst, size_t stride,
					     uint32_t len, unsigned n)
{
	uint64_t idx;
	unsigned k = rk_ring_peek(r, n, &idx);
	for (unsigned i = 0; i < k; i++)
		rk_ring_copy_((uint8_t *)dst + (size_t)i * stride, rk_ring_slot(r, idx + i), len);
	if (k)
		rk_ring_release(r, k);
	return k;
}

static inline int rk_ring_dequeue(struct rk_ring *r, void *dst, uint32_t len)
{
	return rk_ring_dequeue_burst(r, dst, 0, len, 1) ? 0 : -EAGAIN;
}

/* bulk: all `n` or none; 0 or -EAGAIN. Single-producer rings (-EINVAL on
 * an MP ring). -EINVAL for `n` above the capacity: it could never succeed. */
int rk_ring_enqueue_bulk(struct rk_ring *r, const void *src, size_t stride, uint32_t len,
			 unsigned n);
int rk_ring_dequeue_bulk(struct rk_ring *r, void *dst, size_t stride, uint32_t len, unsigned n);

/* ---- parking ------------------------------------------------------------- */

/*
 * Sleep until the ring is readable (consumer) or writable (producer), up to
 * `timeout_ns` (UINT64_MAX = forever). Spins for `spin_ns` first. Returns 0,
 * or -ETIMEDOUT. Uses a shared futex on the ring's bell word, so the other
 * side may be another process.
 */
int rk_ring_wait_readable(struct rk_ring *r, uint64_t spin_ns, uint64_t timeout_ns);
int rk_ring_wait_writable(struct rk_ring *r, uint64_t spin_ns, uint64_t timeout_ns);

/*
 * The parking protocol, for callers that sleep elsewhere (io_uring):
 * prepare registers a waiter and returns the bell value to wait on; the
 * caller re-checks its condition, sleeps on `bell` while it still equals
 * the value, then calls done.
 */
uint32_t rk_ring_park_consumer(struct rk_ring *r, uint32_t **bell_p);
void rk_ring_unpark_consumer(struct rk_ring *r);
uint32_t rk_ring_park_producer(struct rk_ring *r, uint32_t **bell_p);
void rk_ring_unpark_producer(struct rk_ring *r);

#ifdef __cplusplus
}
#endif

#endif /* RINGKERNEL_RING_H */

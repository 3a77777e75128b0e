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
 *
 * The ring's memory is untrusted: another process (or a device) may write
 * anything there at any time. A handle keeps its geometry in private memory
 * (validated at init/attach) and checks every index it reads against what
 * it has already seen: an index that moves backwards, or more than
 * `capacity` ahead, marks the handle corrupt (rk_ring_corrupt(), sticky,
 * counted) and is never cached, so no slot is handed out twice and none is
 * read or written out of bounds. Callers map a corrupt ring to -EUCLEAN.
 *
 * Threads: a handle has a producer half and a consumer half. The consumer
 * half (peek/release, dequeue, wait READABLE) is used by one thread at a
 * time; so is the producer half of a single-producer ring (reserve/commit,
 * enqueue). On an RK_RING_MP ring any number of threads, each through the
 * same or its own handle, may claim and commit at once. Init and attach
 * come before either side's first use.
 */
#ifndef RINGKERNEL_RING_H
#define RINGKERNEL_RING_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sys/types.h>

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
	/* handle-local, never shared */
	uint64_t *claims;	 /* MP: who claimed each slot, (pid << 32 | idx) */
	uint32_t corrupt;	 /* sticky: an index read from the ring was impossible */
	uint32_t corrupt_events; /* how many such reads */
	pid_t peer;		 /* the other side's process, 0 = unknown (rk_ring_set_peer) */
	uint64_t repaired;	 /* MP: slots of dead claimants this handle published zeroed */
};

/* Every MP claim records its claimant here (8 bytes per slot, after the
 * slots), so that a waiter can tell a slow claimant from a dead one. */
#define RK_RING_CLAIM_BYTES 8u

/* Bytes a ring of `capacity` (rounded up to a power of two) slots of
 * `slot_size` bytes needs. -EINVAL for 0, oversized or misaligned. */
int rk_ring_mem_size(uint32_t capacity, uint32_t slot_size, size_t *size_p);

/* Initialize a ring in `mem` (RK_LINE aligned, `size` bytes) and attach `r`
 * to it. `capacity` is rounded up to a power of two. 0, -EINVAL (NULL,
 * misaligned, unknown flags, capacity or slot size out of range), -ENOSPC
 * (`size` too small: see rk_ring_mem_size()), -ENOTSUP (RK_RING_ASYM where
 * the kernel has no membarrier). */
int rk_ring_init(struct rk_ring *r, void *mem, size_t size, uint32_t capacity, uint32_t slot_size,
		 uint32_t flags);
/* The same, with both indexes starting at `start` (wrap-around testing). */
int rk_ring_init_at(struct rk_ring *r, void *mem, size_t size, uint32_t capacity,
		    uint32_t slot_size, uint32_t flags, uint64_t start);

/* Attach to a ring another party initialized. Validates everything read
 * from `mem`: magic, version, capacity, slot size, that it fits in `size`,
 * and that the indexes are coherent: 0, -EINVAL (NULL, misaligned),
 * -ERANGE (it does not fit in `size`), -EBADMSG (magic, geometry, flags,
 * indexes), -EPROTONOSUPPORT (another RK_LAYOUT_VERSION). */
int rk_ring_attach(struct rk_ring *r, void *mem, size_t size);

/* Geometry, from the handle's validated private copy. */
static inline uint32_t rk_ring_capacity(const struct rk_ring *r)
{
	return r->capacity;
}
static inline uint32_t rk_ring_slot_size(const struct rk_ring *r)
{
	return r->slot_size;
}

/* True once an impossible index was read from the ring (see above). */
static inline bool rk_ring_corrupt(const struct rk_ring *r)
{
	return __atomic_load_n(&r->corrupt, __ATOMIC_RELAXED) != 0;
}

/* Record that an impossible index was read (out of line: sets
 * rk_last_error() to -EUCLEAN's detail). */
void rk_ring_mark_corrupt(struct rk_ring *r, const char *which, uint64_t seen, uint64_t expect);

/*
 * The process on the other side, when it is another one (0: none or
 * unknown). Blocking waits then check every few milliseconds that it is
 * still alive and return -EPIPE once it is gone (killed, exited, or a
 * zombie), instead of sleeping forever. The pid is taken as it is: a
 * recycled pid within one wait is not detected.
 */
static inline void rk_ring_set_peer(struct rk_ring *r, pid_t pid)
{
	r->peer = pid;
}

/* The slot of index `idx` (free-running: masked here) in this mapping. */
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

/*
 * An MP claimant waits for earlier claimants to publish: spins, then yields
 * (one of them may have been preempted between its reserve and commit), up
 * to timeout_ns (UINT64_MAX = forever). 0 with prod_tail == idx, acquired;
 * -ETIMEDOUT; -EUCLEAN when the tail has moved past idx or backwards
 * (corrupt). A failed wait keeps the claim. When the claim it waits for
 * is a dead process's (seen dead twice, 2 ms apart), the waiter takes it
 * over: it fills those slots with zeros (no message has a zero magic) and
 * publishes them, counted in the handle's `repaired`, and goes on.
 */
int rk_ring_mp_wait_turn(struct rk_ring *r, uint64_t idx, uint64_t timeout_ns);
/* This process's pid as MP claims record it (kept current across fork). */
pid_t rk_ring_self_pid(void);

/* Wake the parked side; out of line because it makes a syscall. */
void rk_ring_wake_consumer(struct rk_ring *r);
void rk_ring_wake_producer(struct rk_ring *r);

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
/* 1 when this process is registered for the parkers' membarrier (its
 * RK_RING_ASYM publishes are release stores), 0 when they are seq_cst. */
int rk_ring_asym_fenced(void);

/* Publish `v` at *idx; returns the other side's waiting count. */
static inline uint32_t rk_ring_publish_(const struct rk_ring *r, uint64_t *idx, uint64_t v,
					uint32_t *waiting)
{
	if ((r->flags & RK_RING_ASYM) && rk_ring_asym_fenced()) {
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
		rk_ring_wake_consumer(r);
}

static inline void rk_ring_publish_cons_(struct rk_ring *r, uint64_t v)
{
	if (__builtin_expect(rk_ring_publish_(r, &r->hdr->cons_head, v, &r->hdr->prod_waiting) != 0,
			     0))
		rk_ring_wake_producer(r);
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
		/* A consumer index only moves forward, and never past ours. */
		uint64_t c = __atomic_load_n(&r->hdr->cons_head, __ATOMIC_ACQUIRE);
		if (__builtin_expect(c - r->prod.cons_cache > next - r->prod.cons_cache, 0))
			rk_ring_mark_corrupt(r, "consumer", c, r->prod.cons_cache);
		else
			r->prod.cons_cache = c;
		free = r->capacity - (next - r->prod.cons_cache);
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
	/*
	 * The consumer's line is read only when the last value seen (shared
	 * by the handle's threads: any value once read is a lower bound of
	 * the consumer index) does not show room: a sender that finds room
	 * does not pull the line the consumer writes. Acquire/release on the
	 * cached copy carries the consumer's release of those slots to every
	 * thread that claims them (plain moves on x86).
	 */
	uint64_t seen = __atomic_load_n(&r->prod.cons_cache, __ATOMIC_ACQUIRE);
	if (head - seen <= r->capacity && r->capacity - (head - seen) >= n) {
		if (__atomic_compare_exchange_n(&h->prod_head, &head, head + n, false,
						__ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
			k = n;
			goto claimed;
		}
	}
	for (;;) {
		uint64_t cons = __atomic_load_n(&h->cons_head, __ATOMIC_ACQUIRE);
		uint64_t used = head - cons;
		if (__builtin_expect(used > r->capacity, 0)) {
			uint64_t again = __atomic_load_n(&h->prod_head, __ATOMIC_ACQUIRE);
			if (again == head) { /* corrupt: treat as full */
				rk_ring_mark_corrupt(r, "consumer", cons, head);
				return 0;
			}
			head = again;
			continue;
		}
		uint64_t free = r->capacity - used;
		k = n < free ? n : (unsigned)free;
		if (k == 0)
			return 0;
		if (__atomic_compare_exchange_n(&h->prod_head, &head, head + k, true,
						__ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&r->prod.cons_cache, cons, __ATOMIC_RELEASE);
			break;
		}
	}
claimed:
	/* Tagged with the index, so a stale entry of an earlier lap is never
	 * taken for this claim. */
	__atomic_store_n(&r->claims[head & r->mask],
			 (uint64_t)(uint32_t)rk_ring_self_pid() << 32 | (uint32_t)head,
			 __ATOMIC_RELAXED);
	*idx_p = head;
	return k;
}

/*
 * Publish the claim of `n` slots at `idx` once every earlier claim is
 * published, waiting up to timeout_ns for that: 0, -ETIMEDOUT (an earlier
 * claimant has not published: preempted, or the tail was tampered with),
 * -EUCLEAN (the tail moved past idx or backwards). A failed commit keeps
 * the claim: retry it, or nothing claimed after it is ever published. An
 * earlier claim of a process that died is published zeroed on its behalf
 * (see rk_ring_mp_wait_turn): a dead producer does not stop the ring.
 * rk_ring_mp_commit() waits with no deadline (never -ETIMEDOUT).
 */
static inline int rk_ring_mp_commit_timed(struct rk_ring *r, uint64_t idx, unsigned n,
					  uint64_t timeout_ns)
{
	/*
	 * Earlier claimants publish first: wait for the tail to reach us. The
	 * load is acquire so that their slot writes happen-before our release
	 * below; the consumer synchronizes with our store only, and must see
	 * every slot up to idx + n.
	 */
	if (__atomic_load_n(&r->hdr->prod_tail, __ATOMIC_ACQUIRE) != idx) {
		int ret = rk_ring_mp_wait_turn(r, idx, timeout_ns);
		if (ret < 0)
			return ret;
	}
	rk_ring_publish_prod_(r, idx + n);
	return 0;
}

static inline int rk_ring_mp_commit(struct rk_ring *r, uint64_t idx, unsigned n)
{
	return rk_ring_mp_commit_timed(r, idx, n, UINT64_MAX);
}

/* ---- consumer: peek / release -------------------------------------------- */

/* Up to `n` readable slots starting at *idx_p; 0 when empty. */
static inline unsigned rk_ring_peek(struct rk_ring *r, unsigned n, uint64_t *idx_p)
{
	uint64_t next = r->cons.next;
	uint64_t avail = r->cons.prod_cache - next;
	if (avail < n) {
		/* A producer index only moves forward, at most `capacity`
		 * past ours; anything else is not cached. */
		uint64_t p = __atomic_load_n(&r->hdr->prod_tail, __ATOMIC_ACQUIRE);
		if (__builtin_expect(p - r->cons.prod_cache > r->capacity - avail, 0))
			rk_ring_mark_corrupt(r, "producer", p, r->cons.prod_cache);
		else
			r->cons.prod_cache = p;
		avail = r->cons.prod_cache - next;
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

/* Small elements are copied inline: a call into the C library's memcpy
 * for each of them costs as much as the ring itself. Any length from 8 to
 * 128 bytes is two fixed-size moves that overlap in the middle (the
 * compiler makes each a few vector loads and stores), with no loop and no
 * jump table. */
static inline void rk_ring_copy_(void *dst, const void *src, uint32_t len)
{
	uint8_t *d = (uint8_t *)dst;
	const uint8_t *s = (const uint8_t *)src;
	if (len > 128 || len < 8) {
		memcpy(d, s, len);
	} else if (len > 32) {
		if (len > 64) {
			memcpy(d, s, 64);
			memcpy(d + len - 64, s + len - 64, 64);
		} else {
			memcpy(d, s, 32);
			memcpy(d + len - 32, s + len - 32, 32);
		}
	} else if (len > 16) {
		memcpy(d, s, 16);
		memcpy(d + len - 16, s + len - 16, 16);
	} else {
		memcpy(d, s, 8);
		memcpy(d + len - 8, s + len - 8, 8);
	}
}

/* Copy `len` bytes (<= slot size; the caller checks) of `n` elements laid
 * out `stride` bytes apart. burst: as many as fit; returns the count (0 as
 * well when an MP commit failed: rk_last_error() says why). */
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
		if (!(r->flags & RK_RING_MP))
			rk_ring_commit(r, k);
		else if (rk_ring_mp_commit(r, idx, k) < 0)
			return 0; /* a dead claimant or a tampered tail: not published */
	}
	return k;
}

/* Single element: 0 or -EAGAIN (full, or its MP commit failed). */
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

/* Single element: 0 or -EAGAIN (empty). */
static inline int rk_ring_dequeue(struct rk_ring *r, void *dst, uint32_t len)
{
	return rk_ring_dequeue_burst(r, dst, 0, len, 1) ? 0 : -EAGAIN;
}

/* bulk: all `n` or none; 0 or -EAGAIN. Single-producer rings (-EINVAL on
 * an MP ring). -EINVAL for `n` above the capacity: it could never succeed. */
int rk_ring_enqueue_bulk(struct rk_ring *r, const void *src, size_t stride, uint32_t len,
			 unsigned n);
int rk_ring_dequeue_bulk(struct rk_ring *r, void *dst, size_t stride, uint32_t len, unsigned n);

/* ---- waiting --------------------------------------------------------------- */

/*
 * The one blocking wait. Until the ring is readable (the caller is its
 * consumer) or writable (its producer): spin for `spin_ns`, then park
 * (below) and sleep on the ring's bell, up to `timeout_ns` (UINT64_MAX =
 * forever, RK_NO_WAIT = look once). Returns 0 (ready), -ETIMEDOUT,
 * -EUCLEAN (the ring is corrupt), -EPIPE (the peer process of
 * rk_ring_set_peer() is gone), -EINVAL (NULL ring, bad `what`), or what
 * `how` ends it with.
 *
 * `how` (may be NULL) says how to sleep and when to give up:
 *   sleep   sleep while *word == expected until the absolute CLOCK_MONOTONIC
 *           deadline (UINT64_MAX: none): 0 (woken, or the word changed),
 *           -ETIMEDOUT, -EINTR, or an error that ends the wait. NULL: a
 *           shared futex(2) wait. Spurious returns are fine.
 *   closed  0 while the wait may go on, else the negative errno to return
 *           (the runtime: -ESHUTDOWN once the kernel is terminated). Asked
 *           before every sleep and after every wake; whoever closes must
 *           then wake the ring's waiters (rk_ring_wake_*_).
 * A ready ring wins over a closed one.
 */
struct rk_ring_sleep {
	int (*sleep)(void *arg, uint32_t *word, uint32_t expected, uint64_t deadline);
	int (*closed)(void *arg);
	void *arg;
};

#define RK_RING_READABLE 1
#define RK_RING_WRITABLE 2

int rk_ring_wait(struct rk_ring *r, int what, uint64_t spin_ns, uint64_t timeout_ns,
		 const struct rk_ring_sleep *how);

/* rk_ring_wait() with futex(2) sleeps and nothing that closes. */
int rk_ring_wait_readable(struct rk_ring *r, uint64_t spin_ns, uint64_t timeout_ns);
int rk_ring_wait_writable(struct rk_ring *r, uint64_t spin_ns, uint64_t timeout_ns);

/*
 * Become the ring's consumer: once its consumer has stopped for good (a
 * terminated kernel), its owner drains what is left through this handle.
 * Both indexes are read once and checked against the handle's private
 * capacity; -EUCLEAN (and the handle marked corrupt) if impossible,
 * -EINVAL for a NULL or unbound handle.
 */
int rk_ring_adopt_consumer(struct rk_ring *r);

/*
 * The parking protocol, for callers that sleep elsewhere (io_uring):
 * prepare registers a waiter and returns the bell value to wait on; the
 * caller re-checks its condition, sleeps on `bell` while it still equals
 * the value (a shared futex: the other side may be another process), then
 * calls unpark. Every park must be matched by one unpark.
 */
uint32_t rk_ring_park_consumer(struct rk_ring *r, uint32_t **bell_p);
void rk_ring_unpark_consumer(struct rk_ring *r);
uint32_t rk_ring_park_producer(struct rk_ring *r, uint32_t **bell_p);
void rk_ring_unpark_producer(struct rk_ring *r);

#ifdef __cplusplus
}
#endif

#endif /* RINGKERNEL_RING_H */

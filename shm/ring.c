/* SPDX-License-Identifier: MIT */
/* Ring set-up, validation, bulk operations and parking. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/error.h>
#include <ringkernel/ring.h>

/* ---- the asymmetric parking handshake (RK_RING_ASYM, see ring.h) ---------- */

int rk_ring_asym_fence_;      /* this process is registered: release publishes */
static int membarrier_global; /* membarrier GLOBAL_EXPEDITED works here */

static int membarrier(int cmd)
{
	return (int)syscall(SYS_membarrier, cmd, 0, 0);
}

/* Registered, this process's publishers are fenced by any parker's
 * membarrier; unregistered, they publish RK_RING_ASYM rings seq_cst. */
static void fence_register(void)
{
	int asym = membarrier_global && membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0;
	__atomic_store_n(&rk_ring_asym_fence_, asym, __ATOMIC_RELAXED);
}

/* A forked child is a new process: register it too. */
static void fence_atfork_child(void)
{
	fence_register();
}

__attribute__((constructor)) static void fence_init(void)
{
	int q = membarrier(MEMBARRIER_CMD_QUERY);
	membarrier_global = q > 0 && (q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
			    (q & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED);
	fence_register();
	if (membarrier_global)
		pthread_atfork(NULL, NULL, fence_atfork_child);
}

/* The parker's half on an RK_RING_ASYM ring: after its waiting count,
 * before it re-reads the index. */
static void park_membarrier(const struct rk_ring *r)
{
	if (r->flags & RK_RING_ASYM)
		(void)membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED);
}

static uint32_t round_pow2(uint32_t v)
{
	v--;
	v |= v >> 1;
	v |= v >> 2;
	v |= v >> 4;
	v |= v >> 8;
	v |= v >> 16;
	return v + 1;
}

static int check_geometry(uint32_t capacity, uint32_t slot_size)
{
	if (capacity == 0 || capacity > RK_RING_MAX_CAPACITY)
		return rk_error(-EINVAL, "ring capacity %u out of range 1..%u", capacity,
				RK_RING_MAX_CAPACITY);
	if (slot_size < RK_SLOT_ALIGN || slot_size > RK_SLOT_MAX || slot_size % RK_SLOT_ALIGN)
		return rk_error(-EINVAL, "slot size %u is not a multiple of %u in %u..%u",
				slot_size, RK_SLOT_ALIGN, RK_SLOT_ALIGN, RK_SLOT_MAX);
	return 0;
}

int rk_ring_mem_size(uint32_t capacity, uint32_t slot_size, size_t *size_p)
{
	int ret = check_geometry(capacity, slot_size);
	if (ret < 0)
		return ret;
	*size_p = sizeof(struct rk_ring_hdr) + (size_t)round_pow2(capacity) * slot_size;
	return 0;
}

static void bind_handle(struct rk_ring *r, struct rk_ring_hdr *h)
{
	r->hdr = h;
	r->slots = (uint8_t *)(h + 1);
	r->capacity = h->capacity;
	r->mask = h->capacity - 1;
	r->slot_size = h->slot_size;
	r->flags = h->flags;
	r->prod.next = __atomic_load_n(&h->prod_tail, __ATOMIC_ACQUIRE);
	r->prod.cons_cache = __atomic_load_n(&h->cons_head, __ATOMIC_ACQUIRE);
	r->cons.next = r->prod.cons_cache;
	r->cons.prod_cache = r->prod.next;
}

int rk_ring_init_at(struct rk_ring *r, void *mem, size_t size, uint32_t capacity,
		    uint32_t slot_size, uint32_t flags, uint64_t start)
{
	size_t need;
	if (!r || !mem)
		return rk_error(-EINVAL, "ring init: NULL handle or memory");
	if ((uintptr_t)mem % RK_LINE)
		return rk_error(-EINVAL, "ring memory %p is not %u-byte aligned", mem, RK_LINE);
	if (flags & ~RK_RING_FLAGS_ALL)
		return rk_error(-EINVAL, "unknown ring flags 0x%x", flags);
	if ((flags & RK_RING_ASYM) && !membarrier_global)
		return rk_error(-ENOTSUP, "RK_RING_ASYM needs membarrier(MEMBARRIER_CMD_GLOBAL_"
					  "EXPEDITED), which this kernel does not offer");
	int ret = rk_ring_mem_size(capacity, slot_size, &need);
	if (ret < 0)
		return ret;
	if (size < need)
		return rk_error(-ENOSPC, "ring of %u x %u bytes needs %zu bytes, got %zu",
				round_pow2(capacity), slot_size, need, size);
	struct rk_ring_hdr *h = mem;
	memset(h, 0, sizeof(*h));
	h->version = RK_LAYOUT_VERSION;
	h->capacity = round_pow2(capacity);
	h->slot_size = slot_size;
	h->flags = flags;
	h->start = start;
	h->prod_head = start;
	h->prod_tail = start;
	h->cons_head = start;
	__atomic_store_n(&h->magic, RK_RING_MAGIC, __ATOMIC_RELEASE);
	bind_handle(r, h);
	return 0;
}

int rk_ring_init(struct rk_ring *r, void *mem, size_t size, uint32_t capacity, uint32_t slot_size,
		 uint32_t flags)
{
	return rk_ring_init_at(r, mem, size, capacity, slot_size, flags, 0);
}

int rk_ring_attach(struct rk_ring *r, void *mem, size_t size)
{
	if (!r || !mem)
		return rk_error(-EINVAL, "ring attach: NULL handle or memory");
	if ((uintptr_t)mem % RK_LINE)
		return rk_error(-EINVAL, "ring memory %p is not %u-byte aligned", mem, RK_LINE);
	if (size < sizeof(struct rk_ring_hdr))
		return rk_error(-ERANGE, "ring section of %zu bytes is smaller than a ring header",
				size);
	struct rk_ring_hdr *h = mem;
	/* Read each untrusted field once. */
	uint32_t magic = __atomic_load_n(&h->magic, __ATOMIC_ACQUIRE);
	uint32_t version = h->version, cap = h->capacity, ss = h->slot_size, flags = h->flags;
	if (magic != RK_RING_MAGIC)
		return rk_error(-EBADMSG, "ring: bad magic 0x%08x", magic);
	if (version != RK_LAYOUT_VERSION)
		return rk_error(-EPROTONOSUPPORT, "ring: layout version %u, expected %u", version,
				RK_LAYOUT_VERSION);
	if (cap == 0 || cap > RK_RING_MAX_CAPACITY || (cap & (cap - 1)))
		return rk_error(-EBADMSG, "ring: capacity %u is not a power of two <= %u", cap,
				RK_RING_MAX_CAPACITY);
	if (ss < RK_SLOT_ALIGN || ss > RK_SLOT_MAX || ss % RK_SLOT_ALIGN)
		return rk_error(-EBADMSG, "ring: slot size %u invalid", ss);
	if (flags & ~RK_RING_FLAGS_ALL)
		return rk_error(-EBADMSG, "ring: unknown flags 0x%x", flags);
	size_t need = sizeof(*h) + (size_t)cap * ss;
	if (need > size)
		return rk_error(-ERANGE, "ring: %u slots of %u bytes overrun its %zu-byte section",
				cap, ss, size);
	uint64_t prod = __atomic_load_n(&h->prod_tail, __ATOMIC_ACQUIRE);
	uint64_t cons = __atomic_load_n(&h->cons_head, __ATOMIC_ACQUIRE);
	if (prod - cons > cap)
		return rk_error(-EBADMSG, "ring: indexes incoherent (producer %llu, consumer %llu)",
				(unsigned long long)prod, (unsigned long long)cons);
	/* The handle uses the validated copies, not the shared fields. */
	r->hdr = h;
	r->slots = (uint8_t *)(h + 1);
	r->capacity = cap;
	r->mask = cap - 1;
	r->slot_size = ss;
	r->flags = flags;
	r->prod.next = prod;
	r->prod.cons_cache = cons;
	r->cons.next = cons;
	r->cons.prod_cache = prod;
	return 0;
}

int rk_ring_enqueue_bulk(struct rk_ring *r, const void *src, size_t stride, uint32_t len,
			 unsigned n)
{
	uint64_t idx;
	if (r->flags & RK_RING_MP)
		return rk_error(-EINVAL, "bulk enqueue is for single-producer rings");
	if (n > r->capacity)
		return rk_error(-EINVAL, "bulk enqueue of %u into a ring of %u slots", n,
				r->capacity);
	if (rk_ring_reserve(r, n, &idx) < n)
		return -EAGAIN;
	for (unsigned i = 0; i < n; i++)
		memcpy(rk_ring_slot(r, idx + i), (const uint8_t *)src + (size_t)i * stride, len);
	if (n)
		rk_ring_commit(r, n);
	return 0;
}

int rk_ring_dequeue_bulk(struct rk_ring *r, void *dst, size_t stride, uint32_t len, unsigned n)
{
	uint64_t idx;
	if (n > r->capacity)
		return rk_error(-EINVAL, "bulk dequeue of %u from a ring of %u slots", n,
				r->capacity);
	if (rk_ring_peek(r, n, &idx) < n)
		return -EAGAIN;
	for (unsigned i = 0; i < n; i++)
		memcpy((uint8_t *)dst + (size_t)i * stride, rk_ring_slot(r, idx + i), len);
	if (n)
		rk_ring_release(r, n);
	return 0;
}

void rk_ring_mp_wait_turn_(struct rk_ring *r, uint64_t idx)
{
	/* A claimant that got preempted holds everyone after it; on a host with
	 * fewer cores than producers spinning would only delay its return. */
	for (unsigned spins = 0; __atomic_load_n(&r->hdr->prod_tail, __ATOMIC_ACQUIRE) != idx;
	     spins++) {
		if (spins < 128)
			RK_CPU_RELAX();
		else
			sched_yield();
	}
}

/* ---- parking ---------------------------------------------------------------- */

/* Shared (not private) futexes: the other side may be another process. */
static void futex_wake_all(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static int futex_wait(uint32_t *word, uint32_t val, const struct timespec *rel)
{
	long ret = syscall(SYS_futex, word, FUTEX_WAIT, val, rel, NULL, 0);
	return ret < 0 ? -errno : 0;
}

static void ring_bell(uint32_t *bell)
{
	__atomic_fetch_add(bell, 1, __ATOMIC_SEQ_CST);
	futex_wake_all(bell);
}

void rk_ring_wake_consumer_(struct rk_ring *r)
{
	ring_bell(&r->hdr->cons_bell);
}

void rk_ring_wake_producer_(struct rk_ring *r)
{
	ring_bell(&r->hdr->prod_bell);
}

/*
 * The fence after the waiting count is what makes the caller's re-check of
 * the index (an acquire load in rk_ring_peek/reserve) take part in the
 * Dekker handshake: without it C11 lets that load see an index older than
 * the publisher's seq_cst store even though the publisher saw no waiter
 * (in asymmetric mode, park_membarrier() does that for release stores).
 * (On x86 and arm64 the locked add already orders it; the fence is free
 * there and keeps the C11 argument honest elsewhere. GCC refuses fences
 * under TSan, which does not model store buffering anyway.)
 */
static inline void park_fence(void)
{
#if !defined(__SANITIZE_THREAD__)
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

uint32_t rk_ring_park_consumer(struct rk_ring *r, uint32_t **bell_p)
{
	__atomic_fetch_add(&r->hdr->cons_waiting, 1, __ATOMIC_SEQ_CST);
	park_fence();
	park_membarrier(r);
	*bell_p = &r->hdr->cons_bell;
	return __atomic_load_n(&r->hdr->cons_bell, __ATOMIC_SEQ_CST);
}

void rk_ring_unpark_consumer(struct rk_ring *r)
{
	__atomic_fetch_sub(&r->hdr->cons_waiting, 1, __ATOMIC_RELEASE);
}

uint32_t rk_ring_park_producer(struct rk_ring *r, uint32_t **bell_p)
{
	__atomic_fetch_add(&r->hdr->prod_waiting, 1, __ATOMIC_SEQ_CST);
	park_fence();
	park_membarrier(r);
	*bell_p = &r->hdr->prod_bell;
	return __atomic_load_n(&r->hdr->prod_bell, __ATOMIC_SEQ_CST);
}

void rk_ring_unpark_producer(struct rk_ring *r)
{
	__atomic_fetch_sub(&r->hdr->prod_waiting, 1, __ATOMIC_RELEASE);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int ring_ready(struct rk_ring *r, int readable)
{
	uint64_t idx;
	if (readable)
		return rk_ring_peek(r, 1, &idx) > 0;
	if (r->flags & RK_RING_MP) {
		/* As in rk_ring_mp_reserve: a head older than the consumer index
		 * means both moved on since, so report ready and let the caller
		 * retry rather than park on a stale view. */
		uint64_t head = __atomic_load_n(&r->hdr->prod_head, __ATOMIC_ACQUIRE);
		uint64_t cons = __atomic_load_n(&r->hdr->cons_head, __ATOMIC_ACQUIRE);
		if (head - cons > r->capacity)
			return __atomic_load_n(&r->hdr->prod_head, __ATOMIC_ACQUIRE) != head;
		return head - cons < r->capacity;
	}
	return rk_ring_reserve(r, 1, &idx) > 0;
}

static int ring_wait(struct rk_ring *r, int readable, uint64_t spin_ns, uint64_t timeout_ns)
{
	if (ring_ready(r, readable))
		return 0;
	uint64_t start = now_ns();
	uint64_t deadline = timeout_ns == UINT64_MAX || start + timeout_ns < start
				    ? UINT64_MAX
				    : start + timeout_ns;
	/* Saturating: a huge spin must not wrap into "park at once". */
	uint64_t spin_end = deadline;
	if (spin_ns < timeout_ns)
		spin_end = start + spin_ns < start ? UINT64_MAX : start + spin_ns;
	for (;;) {
		for (int i = 0; i < 64; i++) {
			if (ring_ready(r, readable))
				return 0;
			RK_CPU_RELAX();
		}
		uint64_t now = now_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		if (now < spin_end)
			continue;
		uint32_t *bell;
		uint32_t v = readable ? rk_ring_park_consumer(r, &bell)
				      : rk_ring_park_producer(r, &bell);
		int ret = 0;
		if (!ring_ready(r, readable)) {
			struct timespec rel, *relp = NULL;
			if (deadline != UINT64_MAX) {
				uint64_t left = deadline - now;
				rel.tv_sec = (time_t)(left / 1000000000u);
				rel.tv_nsec = (long)(left % 1000000000u);
				relp = &rel;
			}
			ret = futex_wait(bell, v, relp);
		}
		if (readable)
			rk_ring_unpark_consumer(r);
		else
			rk_ring_unpark_producer(r);
		if (ret == -ETIMEDOUT && !ring_ready(r, readable))
			return -ETIMEDOUT;
	}
}

int rk_ring_wait_readable(struct rk_ring *r, uint64_t spin_ns, uint64_t timeout_ns)
{
	return ring_wait(r, 1, spin_ns, timeout_ns);
}

int rk_ring_wait_writable(struct rk_ring *r, uint64_t spin_ns, uint64_t timeout_ns)
{
	return ring_wait(r, 0, spin_ns, timeout_ns);
}

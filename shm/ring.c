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
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/error.h>
#include <ringkernel/ring.h>

#include "sys.h"

/* ---- the asymmetric parking handshake (RK_RING_ASYM, see ring.h) ---------- */

static int asym_fence;	      /* this process is registered: release publishes */
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
	__atomic_store_n(&asym_fence, asym, __ATOMIC_RELAXED);
}

static pid_t self_pid; /* what MP claims record */

/* A forked child is a new process: register it too. */
static void fence_atfork_child(void)
{
	self_pid = getpid();
	if (membarrier_global)
		fence_register();
}

__attribute__((constructor)) static void fence_init(void)
{
	int q = membarrier(MEMBARRIER_CMD_QUERY);
	membarrier_global = q > 0 && (q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
			    (q & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED);
	self_pid = getpid();
	fence_register();
	pthread_atfork(NULL, NULL, fence_atfork_child);
}

pid_t rk_sys_pid(void)
{
	return self_pid;
}

pid_t rk_ring_self_pid(void)
{
	return self_pid;
}

int rk_ring_asym_fenced(void)
{
	return __atomic_load_n(&asym_fence, __ATOMIC_RELAXED);
}

bool rk_sys_pid_dead(pid_t pid)
{
	if (pid <= 0)
		return false;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	/* Still there (or not ours to signal): a zombie is dead all the same.
	 * /proc/PID/stat is "pid (comm) S ...": the state follows the last ')'. */
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *rp = strrchr(buf, ')');
	return rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X');
}

void rk_ring_mark_corrupt(struct rk_ring *r, const char *which, uint64_t seen, uint64_t expect)
{
	__atomic_store_n(&r->corrupt, 1, __ATOMIC_RELAXED);
	/* several threads may share a producer handle; status reads it */
	__atomic_fetch_add(&r->corrupt_events, 1, __ATOMIC_RELAXED);
	rk_error(-EUCLEAN,
		 "ring %p corrupt: %s index %llu is impossible (last seen %llu, capacity %u)",
		 (void *)r->hdr, which, (unsigned long long)seen, (unsigned long long)expect,
		 r->capacity);
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
	*size_p = sizeof(struct rk_ring_hdr) +
		  (size_t)round_pow2(capacity) * (slot_size + RK_RING_CLAIM_BYTES);
	return 0;
}

/* The handle of a ring just initialized: its geometry and indexes from
 * the caller's values, never read back from the shared header. */
static void bind_handle(struct rk_ring *r, struct rk_ring_hdr *h, uint32_t cap, uint32_t slot_size,
			uint32_t flags, uint64_t start)
{
	r->hdr = h;
	r->slots = (uint8_t *)(h + 1);
	r->capacity = cap;
	r->mask = cap - 1;
	r->slot_size = slot_size;
	r->flags = flags;
	r->claims = (uint64_t *)(r->slots + (size_t)cap * slot_size);
	r->corrupt = 0;
	r->corrupt_events = 0;
	r->peer = 0;
	r->repaired = 0;
	r->prod.next = start;
	r->prod.cons_cache = start;
	r->cons.next = start;
	r->cons.prod_cache = start;
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
	uint32_t cap = round_pow2(capacity);
	memset(h, 0, sizeof(*h));
	h->version = RK_LAYOUT_VERSION;
	h->capacity = cap;
	h->slot_size = slot_size;
	h->flags = flags;
	h->start = start;
	h->prod_head = start;
	h->prod_tail = start;
	h->cons_head = start;
	/* No claim yet: tags that no index near `start` matches. */
	memset((uint8_t *)(h + 1) + (size_t)cap * slot_size, 0xff,
	       (size_t)cap * RK_RING_CLAIM_BYTES);
	__atomic_store_n(&h->magic, RK_RING_MAGIC, __ATOMIC_RELEASE);
	bind_handle(r, h, cap, slot_size, flags, start);
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
	size_t need = sizeof(*h) + (size_t)cap * (ss + RK_RING_CLAIM_BYTES);
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
	r->claims = (uint64_t *)(r->slots + (size_t)cap * ss);
	r->corrupt = 0;
	r->corrupt_events = 0;
	r->peer = 0;
	r->repaired = 0;
	r->prod.next = prod;
	r->prod.cons_cache = cons;
	r->cons.next = cons;
	r->cons.prod_cache = prod;
	return 0;
}

int rk_ring_adopt_consumer(struct rk_ring *r)
{
	if (!r || !r->hdr)
		return rk_error(-EINVAL, "ring adopt: NULL handle");
	uint64_t prod = __atomic_load_n(&r->hdr->prod_tail, __ATOMIC_ACQUIRE);
	uint64_t cons = __atomic_load_n(&r->hdr->cons_head, __ATOMIC_ACQUIRE);
	if (prod - cons > r->capacity) {
		rk_ring_mark_corrupt(r, "consumer", cons, prod);
		return -EUCLEAN;
	}
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

/* Check the claimant every this often once a turn is slow. */
#define CLAIM_CHECK_NS 2000000u

/* The stamp a claim of slot `idx` by process `pid` leaves (ring.h). */
static inline uint64_t claim_stamp(pid_t pid, uint64_t idx)
{
	return (uint64_t)(uint32_t)pid << 32 | (uint32_t)idx;
}

/* Where the dead claim at `tail` ends: the next claim's stamp, at the
 * latest `idx` (the waiter's own). */
static uint64_t dead_claim_end(const struct rk_ring *r, uint64_t tail, uint64_t idx)
{
	uint64_t e = tail + 1;
	for (; e < idx; e++) {
		uint64_t c = __atomic_load_n(&r->claims[e & r->mask], __ATOMIC_ACQUIRE);
		if ((uint32_t)c == (uint32_t)e && (c >> 32) != 0)
			break;
	}
	return e;
}

/*
 * A process died holding slots [tail, end): nothing it wrote there can be
 * trusted (it may hold a message of an earlier lap, or half of one), and
 * everyone claimed after it waits. One waiter takes the claim over (a CAS
 * on its stamp), fills its slots with zeros, which no consumer takes for
 * a message, and publishes them. 1 when this waiter did it.
 */
static int repair_dead_claim(struct rk_ring *r, uint64_t tail, uint64_t end, uint64_t stamp)
{
	uint64_t mine = claim_stamp(self_pid, tail);
	if (!__atomic_compare_exchange_n(&r->claims[tail & r->mask], &stamp, mine, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return 0; /* another waiter has it */
	if (__atomic_load_n(&r->hdr->prod_tail, __ATOMIC_ACQUIRE) != tail)
		return 0;
	for (uint64_t i = tail; i < end; i++)
		memset(rk_ring_slot(r, i), 0, r->slot_size);
	__atomic_store_n(&r->hdr->prod_tail, end, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&r->repaired, end - tail, __ATOMIC_RELAXED);
	rk_ring_wake_consumer(r);
	return 1;
}

int rk_ring_mp_wait_turn(struct rk_ring *r, uint64_t idx, uint64_t timeout_ns)
{
	uint64_t dead_tail = UINT64_MAX, dead_end = 0;
	/* A claimant that got preempted holds everyone after it; on a host with
	 * fewer cores than producers spinning would only delay its return. */
	uint64_t deadline = 0, next_check = 0;
	for (unsigned spins = 0;; spins++) {
		uint64_t tail = __atomic_load_n(&r->hdr->prod_tail, __ATOMIC_ACQUIRE);
		if (tail == idx)
			return 0;
		/* Earlier claims are at most `capacity` behind ours. */
		if (idx - tail > r->capacity) {
			rk_ring_mark_corrupt(r, "producer tail", tail, idx);
			return -EUCLEAN;
		}
		if (spins < 128) {
			RK_CPU_RELAX();
			continue;
		}
		uint64_t now = rk_sys_now_ns();
		if (!deadline) {
			deadline = rk_sys_deadline_at(now, timeout_ns);
			next_check = now + CLAIM_CHECK_NS;
		}
		if (now >= next_check) {
			/* The claim the tail waits for starts at `tail`. */
			uint64_t c = __atomic_load_n(&r->claims[tail & r->mask], __ATOMIC_RELAXED);
			pid_t pid = (pid_t)(c >> 32);
			if ((uint32_t)c == (uint32_t)tail && rk_sys_pid_dead(pid)) {
				/* Seen dead twice, CLAIM_CHECK_NS apart, with the same
				 * extent: a live claimant between it and us has had
				 * time to stamp its claim, so the extent is the dead
				 * one's alone. */
				uint64_t end = dead_claim_end(r, tail, idx);
				if (dead_tail == tail && dead_end == end) {
					repair_dead_claim(r, tail, end, c);
					dead_tail = UINT64_MAX;
					continue;
				}
				dead_tail = tail;
				dead_end = end;
			} else {
				dead_tail = UINT64_MAX;
			}
			next_check = now + CLAIM_CHECK_NS;
		}
		if (now >= deadline)
			return rk_error(-ETIMEDOUT,
					"ring %p: an earlier claim (slot %llu) was not published "
					"in time",
					(void *)r->hdr, (unsigned long long)tail);
		sched_yield();
	}
}

/* ---- parking ---------------------------------------------------------------- */

static void ring_bell(uint32_t *bell)
{
	__atomic_fetch_add(bell, 1, __ATOMIC_SEQ_CST);
	rk_sys_futex_wake(bell);
}

void rk_ring_wake_consumer(struct rk_ring *r)
{
	ring_bell(&r->hdr->cons_bell);
}

void rk_ring_wake_producer(struct rk_ring *r)
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

/* The caller's condition; the consumer (producer) may refresh its own cache. */
static bool ring_ready(struct rk_ring *r, int what)
{
	uint64_t idx;
	if (what == RK_RING_READABLE)
		return rk_ring_peek(r, 1, &idx) > 0;
	if (r->flags & RK_RING_MP) {
		/* As in rk_ring_mp_reserve: a head older than the consumer index
		 * means both moved on since; say ready and let the claim retry.
		 * An unchanged head with an impossible distance is corrupt. */
		uint64_t head = __atomic_load_n(&r->hdr->prod_head, __ATOMIC_ACQUIRE);
		uint64_t cons = __atomic_load_n(&r->hdr->cons_head, __ATOMIC_ACQUIRE);
		if (head - cons > r->capacity) {
			if (__atomic_load_n(&r->hdr->prod_head, __ATOMIC_ACQUIRE) != head)
				return true;
			rk_ring_mark_corrupt(r, "consumer", cons, head);
			return false;
		}
		return head - cons < r->capacity;
	}
	return rk_ring_reserve(r, 1, &idx) > 0;
}

/* Looks at the ring before a wait first reads the clock. */
#define SPIN_FIRST 256

/* How often a wait with a peer process looks whether it is still there. */
#define PEER_CHECK_NS 20000000u

static int default_sleep(void *arg, uint32_t *word, uint32_t expected, uint64_t deadline)
{
	(void)arg;
	return rk_sys_futex_wait_until(word, expected, deadline);
}

static int wait_stop(struct rk_ring *r, const struct rk_ring_sleep *how)
{
	if (rk_ring_corrupt(r))
		return rk_error(-EUCLEAN, "ring %p is corrupt (an impossible index was read)",
				(void *)r->hdr);
	return how->closed ? how->closed(how->arg) : 0;
}

int rk_ring_wait(struct rk_ring *r, int what, uint64_t spin_ns, uint64_t timeout_ns,
		 const struct rk_ring_sleep *how)
{
	static const struct rk_ring_sleep plain = { .sleep = default_sleep };
	if (!r || !r->hdr || (what != RK_RING_READABLE && what != RK_RING_WRITABLE))
		return rk_error(-EINVAL, "ring wait: NULL ring or bad condition %d", what);
	if (!how)
		how = &plain;
	int (*sleep)(void *, uint32_t *, uint32_t, uint64_t) =
		how->sleep ? how->sleep : default_sleep;
	if (ring_ready(r, what))
		return 0;
	int ret = wait_stop(r, how);
	if (ret < 0)
		return ret;
	if (timeout_ns == 0)
		return -ETIMEDOUT;
	/* Most waits end within a microsecond: look a few hundred times
	 * before the first clock read, then read it every 64 looks. A
	 * spin budget of 0 means park at once. */
	for (int i = 0; spin_ns && i < SPIN_FIRST; i++) {
		if (ring_ready(r, what))
			return 0;
		RK_CPU_RELAX();
	}
	uint64_t start = rk_sys_now_ns();
	uint64_t deadline = rk_sys_deadline_at(start, timeout_ns);
	uint64_t spin_end = spin_ns < timeout_ns ? rk_sys_deadline_at(start, spin_ns) : deadline;
	for (;;) {
		/* At least one look per round, also with no spin budget: a wake
		 * ends a sleep, and only a look turns it into a return. */
		for (int i = 0; i < (spin_ns ? 64 : 1); i++) {
			if (ring_ready(r, what))
				return 0;
			RK_CPU_RELAX();
		}
		if ((ret = wait_stop(r, how)) < 0)
			return ret;
		uint64_t now = rk_sys_now_ns();
		if (now >= deadline)
			return ring_ready(r, what) ? 0 : -ETIMEDOUT;
		if (now < spin_end)
			continue;
		if (r->peer && rk_sys_pid_dead(r->peer))
			return ring_ready(r, what)
				       ? 0
				       : rk_error(-EPIPE, "ring %p: peer process %d is gone",
						  (void *)r->hdr, (int)r->peer);
		/* Park first, then re-check: the publisher stores its index,
		 * then reads *_waiting, so either it sees us parked and rings,
		 * or we see its index here. Whoever closes wakes us the same
		 * way, after closing. */
		uint32_t *bell;
		uint32_t v = what == RK_RING_READABLE ? rk_ring_park_consumer(r, &bell)
						      : rk_ring_park_producer(r, &bell);
		uint64_t until = deadline;
		if (r->peer && until - now > PEER_CHECK_NS)
			until = now + PEER_CHECK_NS;
		ret = 0;
		if (!ring_ready(r, what) && wait_stop(r, how) == 0)
			ret = sleep(how->arg, bell, v, until);
		if (what == RK_RING_READABLE)
			rk_ring_unpark_consumer(r);
		else
			rk_ring_unpark_producer(r);
		if (ret < 0 && ret != -ETIMEDOUT && ret != -EINTR)
			return ret;
	}
}

int rk_ring_wait_readable(struct rk_ring *r, uint64_t spin_ns, uint64_t timeout_ns)
{
	return rk_ring_wait(r, RK_RING_READABLE, spin_ns, timeout_ns, NULL);
}

int rk_ring_wait_writable(struct rk_ring *r, uint64_t spin_ns, uint64_t timeout_ns)
{
	return rk_ring_wait(r, RK_RING_WRITABLE, spin_ns, timeout_ns, NULL);
}

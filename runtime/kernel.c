/* SPDX-License-Identifier: MIT */
/* Kernel handles (spec: KernelHandle): messaging and status. Lifecycle is
 * runtime/lifecycle.c, K2K routes runtime/k2k.c. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ringkernel/device.h>

#include "../shm/msg_codec.h"
#include "../shm/sys.h"
#include "hlc.h"
#include "internal.h"
#include "log.h"

/* Spin this long before a blocking call sleeps (RK_SPIN_NS overrides). */
static uint64_t spin_ns(void)
{
	static uint64_t cached = UINT64_MAX;
	uint64_t v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	if (v == UINT64_MAX) {
		const char *e = getenv("RK_SPIN_NS");
		char *end;
		v = 20000;
		if (e && *e) {
			unsigned long long x = strtoull(e, &end, 10);
			if (*end == '\0' && x <= 1000000000ull)
				v = x;
			else
				rki_log_warn("RK_SPIN_NS=%s is not 0..1000000000; using 20000", e);
		}
		__atomic_store_n(&cached, v, __ATOMIC_RELAXED);
	}
	return v;
}

/* The state, without a call through the exported rk_kernel_state(). */
static inline rk_state state_of(const rk_kernel *k)
{
	if (__builtin_expect(k->att != NULL, 0))
		return rki_attached_state(k);
	return __atomic_load_n(&k->state, __ATOMIC_ACQUIRE);
}

/* An attached handle's waits end when the owner is gone (-EPIPE), the
 * kernel stopped (-ESHUTDOWN) or the owner took the slot back. */
static int attached_closed(rk_kernel *k)
{
	if (rki_attached_owner_gone(k)) {
		if (k->att->remote)
			return rk_error(-EPIPE,
					"kernel %llu: the connection to its runtime failed: %s",
					(unsigned long long)k->id, rki_remote_why(k));
		return rk_error(-EPIPE, "kernel %llu: its owner, process %d, is gone",
				(unsigned long long)k->id, (int)k->att->owner_pid);
	}
	if (__atomic_load_n(&k->ctrl->terminated, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&k->closing, __ATOMIC_SEQ_CST))
		return rk_error(-ESHUTDOWN, "kernel %llu terminated", (unsigned long long)k->id);
	if (__atomic_load_n(&k->att->slot->state, __ATOMIC_ACQUIRE) != RK_CLIENT_READY ||
	    __atomic_load_n(&k->att->slot->tag, __ATOMIC_RELAXED) != k->source)
		return rk_error(-ECONNRESET, "kernel %llu: the owner closed this client's slot",
				(unsigned long long)k->id);
	return 0;
}

/* ---- calls in flight ------------------------------------------------------ */

/*
 * Every call that may block counts itself as a user (k->inflight's low
 * half), so that release and shutdown free nothing while a thread is still
 * inside one: they first make every waiter return (terminate wakes them),
 * then wait for users to drain. Senders also count as senders (the high
 * half) and check k->closing after (seq_cst, Dekker with terminate): a
 * send either sees the kernel closing and fails, or terminate waits for it
 * to commit. A send enters as both at once (one RMW); a call leaves as a
 * sender once its request is committed, and as a user with its reply.
 */
static void enter(rk_kernel *k)
{
	__atomic_add_fetch(&k->inflight, RKI_INFLIGHT_USER, __ATOMIC_SEQ_CST);
}

static void leave(rk_kernel *k)
{
	__atomic_sub_fetch(&k->inflight, RKI_INFLIGHT_USER, __ATOMIC_SEQ_CST);
}

static __attribute__((noinline, cold)) int send_closing(rk_kernel *k)
{
	__atomic_sub_fetch(&k->inflight, RKI_INFLIGHT_USER | RKI_INFLIGHT_SENDER, __ATOMIC_SEQ_CST);
	return rk_error(-ESHUTDOWN, "kernel %llu is terminating", (unsigned long long)k->id);
}

/* Count in as a user and a sender at once, unless closing. */
static inline int user_send_enter(rk_kernel *k)
{
	__atomic_add_fetch(&k->inflight, RKI_INFLIGHT_USER | RKI_INFLIGHT_SENDER, __ATOMIC_SEQ_CST);
	if (__builtin_expect(__atomic_load_n(&k->closing, __ATOMIC_SEQ_CST) != 0, 0))
		return send_closing(k);
	return 0;
}

/* A call's request is committed: it stays a user until its reply. */
static void send_leave(rk_kernel *k)
{
	__atomic_sub_fetch(&k->inflight, RKI_INFLIGHT_SENDER, __ATOMIC_SEQ_CST);
}

static void user_send_leave(rk_kernel *k)
{
	__atomic_sub_fetch(&k->inflight, RKI_INFLIGHT_USER | RKI_INFLIGHT_SENDER, __ATOMIC_SEQ_CST);
}

/* The backend saw the kernel die (a trap): -EIO with its reason. */
static int kernel_failed(rk_kernel *k)
{
	return k->rt->has_kernel_error ? k->rt->ops->kernel_error(k->rt->pctx, k->pkernel) : 0;
}

/* rk_ring_sleep.closed for a sender: the kernel began to terminate. */
static int send_closed(void *arg)
{
	rk_kernel *k = arg;
	if (k->att)
		return attached_closed(k);
	int err = kernel_failed(k);
	if (err < 0)
		return err;
	if (__atomic_load_n(&k->closing, __ATOMIC_SEQ_CST))
		return rk_error(-ESHUTDOWN, "kernel %llu terminated while sending",
				(unsigned long long)k->id);
	return 0;
}

/* ... for the reader: the kernel has stopped (what is left is drained). */
static int recv_closed(void *arg)
{
	rk_kernel *k = arg;
	if (k->att) {
		int ret = attached_closed(k);
		/* A stopped kernel's last replies are still read first. */
		return ret == -ESHUTDOWN && rk_ring_count(&k->out) ? 0 : ret;
	}
	int err = kernel_failed(k);
	if (err < 0)
		return err;
	if (__atomic_load_n(&k->state, __ATOMIC_SEQ_CST) == RK_STATE_TERMINATED ||
	    __atomic_load_n(&k->abandoned, __ATOMIC_SEQ_CST))
		return -ESHUTDOWN;
	return 0;
}

static int kernel_sleep(void *arg, uint32_t *word, uint32_t expected, uint64_t deadline)
{
	rk_kernel *k = arg;
	return rki_reactor_sleep(k->rt->reactor, word, expected, deadline);
}

/* The one wait (rk_ring_wait) with the runtime's sleep and the kernel's
 * closed test: a waiter returns when its kernel is terminated. */
static int wait_ring(rk_kernel *k, struct rk_ring *r, int what, uint64_t timeout_ns)
{
	struct rk_ring_sleep how = {
		.sleep = kernel_sleep,
		.closed = what == RK_RING_WRITABLE ? send_closed : recv_closed,
		.arg = k,
	};
	return rk_ring_wait(r, what, spin_ns(), timeout_ns, &how);
}

/* ---- sending ---------------------------------------------------------------------- */

/* Every check, each failure with its error (0 when none fails). */
static __attribute__((noinline, cold)) int check_send_all(rk_kernel *k, const void *payload,
							  uint32_t len)
{
	if (!k || (len && !payload))
		return rk_error(-EINVAL, "send: NULL kernel or payload");
	if (len > k->opts.max_payload)
		return rk_error(-EMSGSIZE,
				"payload of %u bytes exceeds the kernel's max payload %u", len,
				k->opts.max_payload);
	/* An attached handle whose owner is known gone (a dead connection,
	 * for a remote one) takes nothing more. */
	if (__builtin_expect(k->att != NULL, 0) &&
	    __atomic_load_n(&k->att->owner_gone, __ATOMIC_RELAXED))
		return attached_closed(k);
	rk_state s = state_of(k);
	if (s == RK_STATE_TERMINATED)
		return rk_error(-ESHUTDOWN, "kernel %llu is terminated", (unsigned long long)k->id);
	if (s == RK_STATE_CREATED)
		return rk_error(-EPERM, "kernel %llu is not launched", (unsigned long long)k->id);
	return 0;
}

/* The common case inline: a handle of this process, launched, a payload
 * that fits. Anything else goes through every check. */
static inline int check_send(rk_kernel *k, const void *payload, uint32_t len)
{
	if (__builtin_expect(k && (payload || !len) && len <= k->opts.max_payload && !k->att, 1)) {
		rk_state s = __atomic_load_n(&k->state, __ATOMIC_ACQUIRE);
		if (__builtin_expect(s != RK_STATE_TERMINATED && s != RK_STATE_CREATED, 1))
			return 0;
	}
	return check_send_all(k, payload, len);
}

/*
 * Message ids, unique within a runtime and never 0, are handed to each
 * thread in blocks: senders on several threads then share no counter line
 * per message. A thread's block belongs to one runtime, named by a serial
 * no other runtime of the process gets (an address can be reused).
 */
#define RKI_ID_BLOCK 1024u

static __thread struct {
	uint64_t serial, next, end;
} id_block __attribute__((tls_model("initial-exec")));

static __attribute__((noinline)) uint64_t runtime_serial(rk_runtime *rt)
{
	static uint64_t serials;
	uint64_t s = __atomic_load_n(&rt->id_serial, __ATOMIC_RELAXED), mine;
	if (s != 0)
		return s;
	mine = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
	if (__atomic_compare_exchange_n(&rt->id_serial, &s, mine, false, __ATOMIC_RELAXED,
					__ATOMIC_RELAXED))
		return mine;
	return s; /* another thread named it first */
}

/* A new block for this thread, n ids of it taken. */
static __attribute__((noinline)) uint64_t new_id_block(rk_kernel *k, unsigned n)
{
	uint64_t serial = runtime_serial(k->rt);
	uint64_t take = n > RKI_ID_BLOCK ? n : RKI_ID_BLOCK;
	uint64_t first = __atomic_fetch_add(&k->rt->next_msg_id, take, __ATOMIC_RELAXED) + 1;
	id_block.serial = serial;
	id_block.next = first + n;
	id_block.end = first + take;
	return first;
}

/* n consecutive ids; returns the first. */
static inline uint64_t next_msg_ids(rk_kernel *k, unsigned n)
{
	uint64_t serial = __atomic_load_n(&k->rt->id_serial, __ATOMIC_RELAXED);
	if (__builtin_expect(serial != 0 && id_block.serial == serial &&
				     id_block.end - id_block.next >= n,
			     1)) {
		uint64_t id = id_block.next;
		id_block.next += n;
		return id;
	}
	return new_id_block(k, n);
}

static uint64_t next_msg_id(rk_kernel *k)
{
	return next_msg_ids(k, 1);
}

/*
 * A burst's walk over a ring's slots: from one slot to the next, wrapping at
 * the ring's end, with the ring's fields read once (a local the compiler
 * keeps in registers, not reloaded after each slot's stores).
 */
struct slot_walk {
	uint8_t *slot, *first, *end;
	uint32_t size;
};

static inline struct slot_walk walk_from(const struct rk_ring *r, uint64_t idx)
{
	return (struct slot_walk){
		.slot = rk_ring_slot(r, idx),
		.first = r->slots,
		.end = r->slots + ((size_t)r->mask + 1) * r->slot_size,
		.size = r->slot_size,
	};
}

static inline void walk_next(struct slot_walk *w)
{
	if ((w->slot += w->size) == w->end)
		w->slot = w->first;
}

/* Write a request into its slot d; len was checked against max_payload,
 * which fits the slot. The handle's fields come as arguments: a burst
 * reads them once, not again after each slot's stores. */
static inline __attribute__((always_inline)) void fill_hdr(struct rk_msg_hdr *d, uint64_t source,
							   uint64_t dest, bool stamp, uint64_t id,
							   uint32_t type, const void *payload,
							   uint32_t len, uint64_t hlc)
{
	*d = (struct rk_msg_hdr){
		.magic = RK_MSG_MAGIC,
		.version = RK_MSG_VERSION,
		.type = type,
		.len = len,
		.id = id,
		.source = source,
		.dest = dest,
		.hlc = hlc,
		.seq = id,
	};
	if (__builtin_expect(stamp, 0)) { /* profiling: queue wait from here */
		d->seq = rk_sys_now_ns();
		d->flags = RK_MSG_F_STAMPED;
	}
	if (len)
		rk_ring_copy_(d + 1, payload, len);
}

static inline __attribute__((always_inline)) void fill_slot(rk_kernel *k, uint64_t idx, uint64_t id,
							    uint32_t type, const void *payload,
							    uint32_t len, uint64_t hlc)
{
	fill_hdr(rk_ring_slot(&k->in, idx), k->source, k->id, k->stamp, id, type, payload, len,
		 hlc);
}

/* fill_slot() for slots idx.. of a burst, ids and timestamps consecutive;
 * built for `stamp` 0 and 1, so the plain burst never tests it. */
static inline __attribute__((always_inline)) void fill_burst(rk_kernel *k, uint64_t idx,
							     const rk_message *msgs, unsigned n,
							     uint64_t id, uint64_t hlc,
							     const bool stamp)
{
	struct slot_walk w = walk_from(&k->in, idx);
	uint64_t source = k->source, dest = k->id;
	for (const rk_message *m = msgs, *last = msgs + n; m != last;
	     m++, id++, hlc++, walk_next(&w))
		fill_hdr((struct rk_msg_hdr *)w.slot, source, dest, stamp, id, m->type, m->payload,
			 m->len, hlc);
}

static int ring_corrupt_error(rk_kernel *k, const char *which)
{
	return rk_error(-EUCLEAN,
			"kernel %llu: its %s ring is corrupt (an index in shared memory was "
			"changed from outside); the kernel must be terminated",
			(unsigned long long)k->id, which);
}

/*
 * How long a claim may wait for its turn to publish. Earlier claimants are
 * threads of this process, or of attached clients' processes, between
 * their reserve and their commit: a turn comes within microseconds, or
 * when a preempted claimant runs again, which on a loaded host can take
 * well over 100 ms. A claim cannot be given up (commits publish in claim
 * order), so giving up early would ruin a healthy ring. Only a tampered
 * tail (moved backwards) makes the turn never come, and terminate waits
 * for every sender to leave: so every send, a non-blocking one too (it
 * does not wait for room, only for its turn), waits up to 10 s.
 */
static uint64_t turn_budget(uint64_t timeout_ns)
{
	(void)timeout_ns;
	return 10000000000ull;
}

/* The claim can never be published: only a tampered tail holds an
 * in-process claim back, and the ring stays unusable. */
static __attribute__((noinline, cold)) int commit_failed(rk_kernel *k, int ret)
{
	__atomic_store_n(&k->in.corrupt, 1, __ATOMIC_RELAXED);
	return ret == -ETIMEDOUT ? ring_corrupt_error(k, "input") : ret;
}

/* n messages committed: counted, and told to an attached handle's owner. */
static inline void count_sent(rk_kernel *k, unsigned n)
{
	__atomic_fetch_add(&k->sent, n, __ATOMIC_RELAXED);
	if (__builtin_expect(k->att != NULL, 0)) {
		__atomic_store_n(&k->att->slot->sent, k->sent, __ATOMIC_RELAXED);
		if (k->att->remote)
			rki_remote_kick(k);
	}
}

/* Fill the claimed slot idx and publish it. */
static inline __attribute__((always_inline)) int send_claimed(rk_kernel *k, uint64_t idx,
							      uint64_t id, uint32_t type,
							      const void *payload, uint32_t len,
							      uint64_t budget_ns)
{
	fill_slot(k, idx, id, type, payload, len, rki_hlc_reserve(1));
	int ret = rk_ring_mp_commit_timed(&k->in, idx, 1, budget_ns);
	if (__builtin_expect(ret < 0, 0))
		return commit_failed(k, ret);
	count_sent(k, 1);
	return 0;
}

/* send_one() when the ring was full at first look: poll a backend that
 * runs on the host's time, then wait for room up to timeout_ns. */
static __attribute__((noinline)) int send_one_wait(rk_kernel *k, uint64_t id, uint32_t type,
						   const void *payload, uint32_t len,
						   uint64_t timeout_ns, uint64_t *deadline_p)
{
	uint64_t deadline = RK_SYS_NEVER, idx;
	bool waited = false;
	bool polled = false;
	while (rk_ring_mp_reserve(&k->in, 1, &idx) == 0) {
		if (rk_ring_corrupt(&k->in))
			return ring_corrupt_error(k, "input");
		if (!polled && k->rt->has_poll) {
			k->rt->ops->poll(k->rt->pctx, k->pkernel);
			polled = true;
			continue;
		}
		if (timeout_ns == 0)
			return rk_error(-EAGAIN, "kernel %llu input queue full (%u slots)",
					(unsigned long long)k->id, k->in.capacity);
		if (!waited) {
			deadline = rk_sys_deadline(timeout_ns);
			waited = true;
			if (deadline_p)
				*deadline_p = deadline;
		}
		uint64_t left = rk_sys_left(deadline);
		if (left == 0)
			return rk_error(-ETIMEDOUT, "kernel %llu input queue stayed full",
					(unsigned long long)k->id);
		int ret = wait_ring(k, &k->in, RK_RING_WRITABLE, left);
		if (ret < 0 && ret != -ETIMEDOUT)
			return ret;
	}
	return send_claimed(k, idx, id, type, payload, len,
			    turn_budget(waited ? rk_sys_left(deadline) : timeout_ns));
}

/* One message with a chosen id; blocks up to timeout_ns while the ring is
 * full. The caller is inside user_send_enter(). */
static inline __attribute__((always_inline)) int send_one(rk_kernel *k, uint64_t id, uint32_t type,
							  const void *payload, uint32_t len,
							  uint64_t timeout_ns, uint64_t *deadline_p)
{
	uint64_t idx;
	if (__builtin_expect(rk_ring_mp_reserve(&k->in, 1, &idx) != 0, 1))
		return send_claimed(k, idx, id, type, payload, len, turn_budget(timeout_ns));
	return send_one_wait(k, id, type, payload, len, timeout_ns, deadline_p);
}

int rk_kernel_send(rk_kernel *k, uint32_t type, const void *payload, uint32_t len,
		   uint64_t timeout_ns)
{
	int ret = check_send(k, payload, len);
	if (ret < 0)
		return ret;
	if ((ret = user_send_enter(k)) == 0) {
		ret = send_one(k, next_msg_id(k), type, payload, len, timeout_ns, NULL);
		user_send_leave(k); /* last: release may free k from here on */
	}
	return ret;
}

int rki_kernel_inject(rk_kernel *k, const rk_message *m, bool keep_source)
{
	uint64_t idx;
	if (m->len > k->opts.max_payload)
		return -EMSGSIZE;
	if (state_of(k) == RK_STATE_TERMINATED)
		return -ESHUTDOWN;
	rki_hlc_merge(m->hlc);
	int ret = user_send_enter(k);
	if (ret == 0) {
		if (rk_ring_mp_reserve(&k->in, 1, &idx) == 0) {
			ret = rk_ring_corrupt(&k->in) ? -EUCLEAN : -EAGAIN;
		} else {
			struct rk_msg_hdr *d = rk_ring_slot(&k->in, idx);
			*d = (struct rk_msg_hdr){
				.magic = RK_MSG_MAGIC,
				.version = RK_MSG_VERSION,
				.priority = m->priority,
				.type = m->type,
				.flags = m->flags & ~(uint32_t)RK_MSG_F_STAMPED,
				.len = m->len,
				.id = m->id,
				.correlation_id = m->correlation_id,
				.source = keep_source ? m->source : k->source,
				.dest = k->id,
				.hlc = m->hlc, /* carried unchanged, observed here */
				.seq = m->seq,
			};
			if (__builtin_expect(k->stamp, 0)) {
				d->seq = rk_sys_now_ns();
				d->flags |= RK_MSG_F_STAMPED;
			}
			if (m->len)
				rk_ring_copy_(d + 1, m->payload, m->len);
			ret = rk_ring_mp_commit_timed(&k->in, idx, 1, turn_budget(0));
			if (ret < 0)
				__atomic_store_n(&k->in.corrupt, 1, __ATOMIC_RELAXED);
			else
				__atomic_fetch_add(&k->sent, 1, __ATOMIC_RELAXED);
		}
		user_send_leave(k);
	}
	return ret;
}

int rk_kernel_try_send(rk_kernel *k, uint32_t type, const void *payload, uint32_t len)
{
	return rk_kernel_send(k, type, payload, len, RK_NO_WAIT);
}

int rk_kernel_send_burst(rk_kernel *k, const rk_message *msgs, unsigned n, unsigned *sent)
{
	if (!k || !msgs || !sent)
		return rk_error(-EINVAL, "rk_kernel_send_burst: NULL argument");
	*sent = 0;
	int ret = check_send(k, msgs, 0);
	if (ret < 0)
		return ret;
	/* Everything up to the first oversized message goes; it stops there. */
	const rk_message *m = msgs, *last = msgs + n;
	for (uint32_t max = k->opts.max_payload; m != last && m->len <= max; m++)
		;
	unsigned ok = (unsigned)(m - msgs);
	uint64_t idx;
	if ((ret = user_send_enter(k)) < 0)
		return ret;
	unsigned got = ok ? rk_ring_mp_reserve(&k->in, ok, &idx) : 0;
	if (got) {
		/* One id range and one clock tick range for the whole burst. */
		uint64_t id = next_msg_ids(k, got);
		uint64_t hlc = rki_hlc_reserve(got);
		if (__builtin_expect(k->stamp, 0))
			fill_burst(k, idx, msgs, got, id, hlc, true);
		else
			fill_burst(k, idx, msgs, got, id, hlc, false);
	}
	if (got && (ret = rk_ring_mp_commit_timed(&k->in, idx, got, turn_budget(0))) < 0) {
		/* as in send_one: the claim can never be published */
		__atomic_store_n(&k->in.corrupt, 1, __ATOMIC_RELAXED);
		got = 0;
	} else if (got) {
		count_sent(k, got);
	}
	*sent = got;
	/* The verdict before leaving: release may free k from then on. */
	if (rk_ring_corrupt(&k->in) && got == 0)
		ret = ring_corrupt_error(k, "input");
	else if (got == ok && ok < n)
		ret = rk_error(-EMSGSIZE, "message %u: payload of %u bytes exceeds max payload %u",
			       ok, msgs[ok].len, k->opts.max_payload);
	else if (got == 0 && n > 0)
		ret = rk_error(-EAGAIN, "kernel %llu input queue full", (unsigned long long)k->id);
	else
		ret = 0;
	user_send_leave(k);
	return ret;
}

/* ---- receiving ------------------------------------------------------------------------ */

/*
 * rk_msg_read() for a ring of this process: the handle's slot size was
 * validated when it was bound (64..RK_SLOT_MAX), so only the header is
 * checked here, in place (rki_msg_decode: its length read once), and the
 * common payload sizes move without a libc call.
 */
static inline int decode_slot(const struct rk_ring *r, uint64_t idx, rk_message *out)
{
	return rki_msg_decode(rk_ring_slot(r, idx), r->slot_size, out);
}

/*
 * Take one message off the output ring (recv_lock held). After terminate,
 * once the output ring is empty, the inputs the kernel never processed come
 * back flagged RK_MSG_F_UNDELIVERED: every message is accounted for.
 * 1 = got one, 0 = empty, <0 = a malformed slot (skipped, counted).
 */
static inline __attribute__((always_inline)) int take_one(rk_kernel *k, rk_message *out)
{
	uint64_t idx;
	struct rk_ring *r = &k->out;
	bool undelivered = false;
	if (rk_ring_peek(r, 1, &idx) == 0) {
		if (rk_ring_corrupt(r))
			return ring_corrupt_error(k, "output");
		if (state_of(k) != RK_STATE_TERMINATED || k->att)
			return 0; /* (the owner drains the input, not a client) */
		/* The kernel has stopped: the host now owns the input's consumer
		 * side. A corrupt ring returns nothing more (never a stale slot). */
		if (!k->input_drained) {
			k->input_drained = true;
			if (rk_ring_adopt_consumer(&k->in) < 0)
				rki_log_warn("kernel %llu: %s", (unsigned long long)k->id,
					     rk_last_error());
		}
		/* Sources in order: the input ring (0), then inbound route i (i + 1):
		 * what other kernels routed here and it never took. The count is
		 * the host's own, never the region's. */
		for (;;) {
			unsigned src = k->inbound_drained;
			r = src == 0 ? &k->in : &k->inbound[src - 1];
			if (!rk_ring_corrupt(r) && rk_ring_peek(r, 1, &idx) > 0)
				break;
			if (src >= k->ninbound)
				return 0;
			k->inbound_drained = src + 1;
			if (rk_ring_adopt_consumer(&k->inbound[src]) < 0)
				rki_log_warn("kernel %llu: %s", (unsigned long long)k->id,
					     rk_last_error());
		}
		undelivered = true;
	}
	int ret = decode_slot(r, idx, out);
	rk_ring_release(r, 1);
	if (ret < 0) {
		rki_log_warn("kernel %llu: dropped a malformed slot: %s", (unsigned long long)k->id,
			     rk_last_error());
		return ret;
	}
	if (k->source && out->dest != k->source)
		return -ENOMSG; /* for an earlier client of this slot: not ours */
	if (undelivered) {
		out->flags |= RK_MSG_F_UNDELIVERED;
		__atomic_fetch_add(&k->undelivered, 1, __ATOMIC_RELAXED);
	} else {
		rki_hlc_merge(out->hlc);
		/* one writer (the reader, under recv_lock): no RMW needed */
		__atomic_store_n(&k->received, k->received + 1, __ATOMIC_RELAXED);
		if (k->att)
			__atomic_store_n(&k->att->slot->received, k->received, __ATOMIC_RELAXED);
	}
	return 1;
}

static struct rki_call *find_call(rk_kernel *k, uint64_t corr)
{
	for (struct rki_call *c = k->calls; c; c = c->next)
		if (!c->done && c->id == corr)
			return c;
	return NULL;
}

static int stash_push(rk_kernel *k, const rk_message *m)
{
	if (k->stash_len == k->stash_cap) {
		unsigned cap = k->stash_cap ? k->stash_cap * 2 : 8;
		rk_message *s = realloc(k->stash, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		k->stash = s;
		k->stash_cap = cap;
	}
	k->stash[k->stash_len++] = *m;
	return 0;
}

void rki_kernel_return_undelivered(rk_kernel *k, const rk_message *m)
{
	rki_mutex_lock(&k->recv_lock);
	if (stash_push(k, m) < 0) {
		rki_log_error("kernel %llu: out of memory returning message %llu: it is lost",
			      (unsigned long long)k->id, (unsigned long long)m->id);
	} else {
		rk_message *u = &k->stash[k->stash_len - 1];
		u->flags |= RK_MSG_F_UNDELIVERED;
		if (k->source)
			u->dest = k->source; /* a remote handle's receive takes only its own */
		__atomic_fetch_add(&k->undelivered, 1, __ATOMIC_RELAXED);
	}
	rki_cond_broadcast(&k->recv_cond);
	rki_mutex_unlock(&k->recv_lock);
	/* A reader asleep on the ring looks at the stash when it wakes. */
	__atomic_add_fetch(&k->out.hdr->cons_bell, 1, __ATOMIC_SEQ_CST);
	rk_sys_futex_wake(&k->out.hdr->cons_bell);
}

static void stash_pop(rk_kernel *k, rk_message *out)
{
	*out = k->stash[0];
	memmove(k->stash, k->stash + 1, (k->stash_len - 1) * sizeof(*k->stash));
	k->stash_len--;
}

/* Route a message the reader took: to the call waiting for it, else to
 * whoever asked (`mine`), else into the stash. Returns 1 when it is ours. */
static inline int route(rk_kernel *k, rk_message *m, struct rki_call *self)
{
	if (m->correlation_id && !(m->flags & RK_MSG_F_UNDELIVERED)) {
		/* The caller's own reply, the common case: ids are unique in
		 * the runtime, so no other call can be waiting for it. */
		if (self && m->correlation_id == self->id)
			return 1;
		struct rki_call *c = find_call(k, m->correlation_id);
		if (c) {
			if (c == self)
				return 1;
			*c->reply = *m;
			c->done = true;
			rki_cond_broadcast(&k->recv_cond);
			return 0;
		}
	}
	if (!self)
		return 1; /* a plain receiver takes anything no call waits for */
	if (stash_push(k, m) < 0)
		rki_log_error("kernel %llu: out of memory stashing a reply: message %llu lost",
			      (unsigned long long)k->id, (unsigned long long)m->id);
	rki_cond_broadcast(&k->recv_cond);
	return 0;
}

/*
 * The reader found the output ring empty (recv_lock held): -ESHUTDOWN once
 * the kernel has stopped and everything was drained, 1 after giving a
 * backend that makes progress on the host's time its turn (once per empty
 * look: look again), 0 to go and wait.
 */
static inline __attribute__((always_inline)) int empty_look(rk_kernel *k, bool *polled)
{
	if (state_of(k) == RK_STATE_TERMINATED)
		return rk_error(-ESHUTDOWN, "kernel %llu is terminated and drained",
				(unsigned long long)k->id);
	if (__atomic_load_n(&k->abandoned, __ATOMIC_SEQ_CST))
		return rk_error(-ESHUTDOWN, "kernel %llu did not stop and was released",
				(unsigned long long)k->id);
	if (!*polled && k->rt->has_poll) {
		k->rt->ops->poll(k->rt->pctx, k->pkernel);
		*polled = true;
		return 1;
	}
	return 0;
}

/* A receive's deadline, read from the clock only when it first waits. */
struct rx_wait {
	uint64_t deadline;
	bool have_deadline;
};

/*
 * One wait of a receiver (recv_lock held on entry and exit): the reader
 * sleeps on the ring itself without the lock, a follower on recv_cond for
 * what the reader routes or for the reader's turn. 0: look again;
 * -EAGAIN for a non-blocking receive, -ETIMEDOUT, or what ends the wait
 * (a corrupt ring, a dead peer).
 */
static int wait_turn(rk_kernel *k, bool reader, struct rx_wait *w, uint64_t timeout_ns)
{
	if (timeout_ns == 0)
		return -EAGAIN;
	/* One clock read for the first wait (none for RK_FOREVER), one per
	 * wait after it. */
	uint64_t left = timeout_ns;
	if (!w->have_deadline) {
		w->deadline = rk_sys_deadline(timeout_ns);
		w->have_deadline = true;
	} else if ((left = rk_sys_left(w->deadline)) == 0) {
		return rk_error(-ETIMEDOUT, "no message from kernel %llu in time",
				(unsigned long long)k->id);
	}
	if (reader) {
		k->reader_active = true;
		rki_mutex_unlock(&k->recv_lock);
		int ret = wait_ring(k, &k->out, RK_RING_READABLE, left);
		rki_mutex_lock(&k->recv_lock);
		k->reader_active = false;
		rki_cond_broadcast(&k->recv_cond);
		/* Timed out or terminated: look again (a terminated kernel is
		 * drained first). A corrupt ring or a dead peer ends it. */
		return ret < 0 && ret != -ETIMEDOUT && ret != -ESHUTDOWN ? ret : 0;
	}
	/* The reader's turn is held by a zero-copy receive that may never be
	 * done: once the kernel has stopped, nothing else will wake us. */
	if (k->zc_held && (state_of(k) == RK_STATE_TERMINATED ||
			   __atomic_load_n(&k->abandoned, __ATOMIC_SEQ_CST)))
		return rk_error(-ESHUTDOWN,
				"kernel %llu has stopped; a zero-copy receive holds the rest "
				"(rk_kernel_receive_zc_done)",
				(unsigned long long)k->id);
	rki_cond_wait(&k->recv_cond, &k->recv_lock, left > 1000000000ull ? 1000000000ull : left);
	return 0;
}

/*
 * Receive for a plain receiver (self NULL) or a caller (self = its call).
 * Leader/follower: one thread at a time reads the ring (and may sleep on
 * it in the reactor); the others wait on recv_cond for what it routes.
 * `polled`: the caller gave the backend its poll since its last look at
 * the ring. recv_lock held on entry and exit.
 */
static inline __attribute__((always_inline)) int receive_locked_(rk_kernel *k, rk_message *out,
								 struct rki_call *self,
								 uint64_t timeout_ns, bool polled)
{
	struct rx_wait w = { 0 };
	for (;;) {
		if (self && self->done)
			return 0;
		if (!self && k->stash_len) {
			stash_pop(k, out);
			return 0;
		}
		bool reader = !k->reader_active;
		if (reader) {
			rk_message *m = self ? self->reply : out;
			/* A call's reply cannot be there before the kernel had a
			 * turn: a backend that runs on the host's time gets it
			 * before the first look, not after an empty one. */
			if (self && !polled && !w.have_deadline && k->rt->has_poll) {
				k->rt->ops->poll(k->rt->pctx, k->pkernel);
				polled = true;
			}
			int got = take_one(k, m);
			if (got == -EUCLEAN)
				return got;
			if (got < 0)
				continue;
			if (got == 1) {
				polled = false;
				if (route(k, m, self))
					return 0;
				continue;
			}
			int ret = empty_look(k, &polled);
			if (ret < 0)
				return ret;
			if (ret > 0)
				continue;
		}
		int ret = wait_turn(k, reader, &w, timeout_ns);
		if (ret < 0)
			return ret;
	}
}

/* A plain receiver's: out of line. rk_kernel_call() inlines its own. */
static __attribute__((noinline)) int receive_locked(rk_kernel *k, rk_message *out,
						    uint64_t timeout_ns, bool polled)
{
	return receive_locked_(k, out, NULL, timeout_ns, polled);
}

int rk_kernel_receive(rk_kernel *k, rk_message *out, uint64_t timeout_ns)
{
	if (!k || !out)
		return rk_error(-EINVAL, "receive: NULL kernel or out");
	enter(k);
	rki_mutex_lock(&k->recv_lock);
	int ret = receive_locked(k, out, timeout_ns, false);
	rki_mutex_unlock(&k->recv_lock);
	if (ret == -EAGAIN && k->rt->fd_used)
		rki_reactor_rearm(k->rt->reactor);
	leave(k); /* last: release may free k from here on */
	return ret;
}

int rk_kernel_try_receive(rk_kernel *k, rk_message *out)
{
	return rk_kernel_receive(k, out, RK_NO_WAIT);
}

/* `got` messages taken at once, the newest stamped `newest`: observe that
 * timestamp once and count them (recv_lock held). */
static void account_burst(rk_kernel *k, unsigned got, uint64_t newest)
{
	if (!got)
		return;
	rki_hlc_merge(newest);
	/* one writer (the reader, under recv_lock): no RMW needed */
	__atomic_store_n(&k->received, k->received + got, __ATOMIC_RELAXED);
	if (k->att)
		__atomic_store_n(&k->att->slot->received, k->received, __ATOMIC_RELAXED);
}

/*
 * Decode `avail` slots of the output ring from index idx into out: how
 * many were kept (a malformed slot is dropped, and on a client's handle
 * one for an earlier client of the slot), the newest stamp in *newest.
 * Built for owner handles and for clients (`client`: k->source set).
 */
static inline __attribute__((always_inline)) unsigned decode_burst(rk_kernel *k, uint64_t idx,
								   unsigned avail, rk_message *out,
								   uint64_t *newest,
								   const bool client)
{
	struct slot_walk w = walk_from(&k->out, idx);
	uint64_t source = k->source, top = 0;
	rk_message *m = out; /* the next one to fill */
	for (unsigned i = 0; i < avail; i++, walk_next(&w)) {
		if (rki_msg_decode(w.slot, w.size, m) < 0) {
			rki_log_warn("kernel %llu: dropped a malformed slot: %s",
				     (unsigned long long)k->id, rk_last_error());
			continue;
		}
		if (client && m->dest != source)
			continue; /* for an earlier client of this slot */
		if (m->hlc > top)
			top = m->hlc;
		m++;
	}
	*newest = top;
	return (unsigned)(m - out);
}

/*
 * A real burst (recv_lock held): with no call waiting for a reply and
 * nothing stashed, take up to n slots in one peek, decode them, hand them
 * back in one release and observe the newest timestamp once. 0 when the
 * ring is empty, -1 when someone waits on a correlation id or the kernel
 * has stopped (the caller then takes messages one by one).
 */
static int take_burst(rk_kernel *k, rk_message *out, unsigned n)
{
	struct rk_ring *r = &k->out;
	uint64_t idx, newest;
	if (k->calls || k->stash_len)
		return -1;
	unsigned avail = rk_ring_peek(r, n, &idx);
	if (avail == 0)
		return rk_ring_corrupt(r) || state_of(k) == RK_STATE_TERMINATED ? -1 : 0;
	unsigned got = k->source ? decode_burst(k, idx, avail, out, &newest, true)
				 : decode_burst(k, idx, avail, out, &newest, false);
	rk_ring_release(r, avail);
	account_burst(k, got, newest);
	return (int)got;
}

int rk_kernel_receive_burst(rk_kernel *k, rk_message *out, unsigned n, unsigned *got,
			    uint64_t timeout_ns)
{
	if (!k || !out || !got || n == 0)
		return rk_error(-EINVAL, "receive_burst: NULL argument or n = 0");
	*got = 0;
	enter(k);
	rki_mutex_lock(&k->recv_lock);
	int ret = 0, fast = k->reader_active ? -1 : take_burst(k, out, n);
	bool polled = false;
	/* A backend that runs on the host's time answers in its poll: give
	 * it that turn, then take the whole burst again (not one message and
	 * then the rest). The one poll of this empty look: receive_locked()
	 * below does not repeat it. */
	if (fast == 0 && k->rt->has_poll) {
		k->rt->ops->poll(k->rt->pctx, k->pkernel);
		polled = true;
		fast = take_burst(k, out, n);
	}
	if (fast > 0) {
		*got = (unsigned)fast;
	} else {
		ret = receive_locked(k, &out[0], timeout_ns, polled);
		if (ret == 0) {
			*got = 1;
			int more = k->reader_active ? -1 : take_burst(k, out + 1, n - 1);
			if (more > 0)
				*got += (unsigned)more;
			else
				while (*got < n && receive_locked(k, &out[*got], 0, false) == 0)
					(*got)++;
		}
	}
	rki_mutex_unlock(&k->recv_lock);
	if (ret == -EAGAIN && k->rt->fd_used)
		rki_reactor_rearm(k->rt->reactor);
	leave(k); /* last: release may free k from here on */
	return ret;
}

/* ---- zero-copy receive -------------------------------------------------------------- */

/*
 * Header-checked views of up to n slots at the head of the output ring
 * (recv_lock held, this thread the reader): 1 with *got views (*got may be
 * 0 when every slot was malformed or another client's: they are handed
 * back at once), 0 when the ring is empty.
 */
static int peek_views(rk_kernel *k, rk_msg_view *v, unsigned n, unsigned *got)
{
	struct rk_ring *r = &k->out;
	uint64_t idx, newest = 0;
	unsigned avail = rk_ring_peek(r, n, &idx), g = 0;
	if (avail == 0)
		return 0;
	struct slot_walk w = walk_from(r, idx);
	uint32_t size = w.size;
	uint64_t source = k->source; /* read once, not after each view's stores */
	for (unsigned i = 0; i < avail; i++, walk_next(&w)) {
		const uint8_t *slot = w.slot;
		const struct rk_msg_hdr *h = (const struct rk_msg_hdr *)slot;
		uint32_t len;
		if (__builtin_expect(!rki_msg_hdr_ok(h, size, &len), 0)) {
			rki_log_warn("kernel %llu: dropped a malformed slot: %s",
				     (unsigned long long)k->id,
				     rki_msg_bad(slot, size) < 0 ? rk_last_error() : "");
			continue;
		}
		/* Read once each (relaxed atomic loads, which the compiler may
		 * not repeat): the slot is shared and may change under us. */
		uint64_t hlc = __atomic_load_n(&h->hlc, __ATOMIC_RELAXED);
		uint64_t dest = __atomic_load_n(&h->dest, __ATOMIC_RELAXED);
		if (source && dest != source)
			continue; /* for an earlier client of this slot */
		v[g] = (rk_msg_view){
			.type = h->type,
			.len = len,
			.id = h->id,
			.correlation_id = h->correlation_id,
			.source = h->source,
			.dest = dest,
			.hlc = hlc,
			.flags = h->flags,
			.priority = h->priority,
			.seq = h->seq,
			.payload = slot + RK_MSG_HDR_SIZE,
		};
		if (hlc > newest)
			newest = hlc;
		g++;
	}
	account_burst(k, g, newest);
	if (g == 0) {
		rk_ring_release(r, avail);
	} else {
		k->zc_held = avail;
		k->reader_active = true; /* until rk_kernel_receive_zc_done() */
	}
	*got = g;
	return 1;
}

int rk_kernel_receive_zc(rk_kernel *k, rk_msg_view *v, unsigned n, unsigned *got,
			 uint64_t timeout_ns)
{
	if (!k || !v || !got || n == 0)
		return rk_error(-EINVAL, "rk_kernel_receive_zc: NULL argument or n = 0");
	*got = 0;
	struct rx_wait w = { 0 };
	bool polled = false;
	int ret = 0;
	enter(k);
	rki_mutex_lock(&k->recv_lock);
	if (k->zc_held) {
		ret = rk_error(-EBUSY,
			       "kernel %llu: the last zero-copy receive is not done "
			       "(rk_kernel_receive_zc_done)",
			       (unsigned long long)k->id);
		goto out;
	}
	for (;;) {
		/* What must come first is the copying calls' to deliver. */
		if (k->calls || k->stash_len) {
			ret = rk_error(-EBUSY,
				       "kernel %llu: a call waits for its reply, or replies are "
				       "queued for receivers: use rk_kernel_receive()",
				       (unsigned long long)k->id);
			break;
		}
		bool reader = !k->reader_active;
		if (reader) {
			ret = peek_views(k, v, n, got);
			if (ret > 0 && *got) {
				ret = 0;
				break;
			}
			if (ret > 0)
				continue; /* all dropped: look again */
			if (rk_ring_corrupt(&k->out)) {
				ret = ring_corrupt_error(k, "output");
				break;
			}
			if ((ret = empty_look(k, &polled)) < 0)
				break;
			if (ret > 0)
				continue;
		}
		if ((ret = wait_turn(k, reader, &w, timeout_ns)) < 0)
			break;
	}
out:
	rki_mutex_unlock(&k->recv_lock);
	if (ret == -EAGAIN && k->rt->fd_used)
		rki_reactor_rearm(k->rt->reactor);
	leave(k);
	return ret;
}

int rk_kernel_receive_zc_done(rk_kernel *k)
{
	if (!k)
		return rk_error(-EINVAL, "rk_kernel_receive_zc_done: NULL kernel");
	rki_mutex_lock(&k->recv_lock);
	unsigned held = k->zc_held;
	if (held) {
		rk_ring_release(&k->out, held);
		k->zc_held = 0;
		k->reader_active = false;
		rki_cond_broadcast(&k->recv_cond);
	}
	rki_mutex_unlock(&k->recv_lock);
	if (!held)
		return rk_error(-EINVAL, "kernel %llu: no zero-copy receive to finish",
				(unsigned long long)k->id);
	return 0;
}

int rk_kernel_call(rk_kernel *k, uint32_t type, const void *payload, uint32_t len,
		   rk_message *reply, uint64_t timeout_ns)
{
	if (!reply)
		return rk_error(-EINVAL, "rk_kernel_call: NULL reply");
	int ret = check_send(k, payload, len);
	if (ret < 0)
		return ret;
	/* The deadline is read from the clock only if the send has to wait. */
	uint64_t deadline = 0;
	struct rki_call call = { .id = next_msg_id(k), .reply = reply };
	/* A user until the reply is in, a sender until the request is
	 * committed: both counted in one step. */
	if ((ret = user_send_enter(k)) < 0)
		return ret;
	/* Registered before the request goes out: its reply may be read by
	 * another thread the moment the kernel answers. */
	rki_mutex_lock(&k->recv_lock);
	call.next = k->calls;
	k->calls = &call;
	/* Where the request fits at once (the common case), send it under
	 * the lock and go on to the reply: a non-blocking send never waits
	 * for recv_lock's holders. Only a full ring drops the lock to wait. */
	ret = send_one(k, call.id, type, payload, len, 0, NULL);
	if (ret == -EAGAIN && timeout_ns) {
		rki_mutex_unlock(&k->recv_lock);
		ret = send_one_wait(k, call.id, type, payload, len, timeout_ns, &deadline);
		rki_mutex_lock(&k->recv_lock);
	}
	send_leave(k);
	if (ret == 0)
		ret = receive_locked_(k, reply, &call,
				      deadline ? rk_sys_left(deadline) : timeout_ns, false);
	for (struct rki_call **p = &k->calls; *p; p = &(*p)->next) {
		if (*p == &call) {
			*p = call.next;
			break;
		}
	}
	rki_mutex_unlock(&k->recv_lock);
	leave(k);
	if (ret == -EAGAIN)
		ret = rk_error(-ETIMEDOUT, "no reply to call %llu in time",
			       (unsigned long long)call.id);
	return ret;
}

/* ---- status ------------------------------------------------------------------------ */

int rk_kernel_status_get(const rk_kernel *k, rk_kernel_status *out)
{
	if (!k || !out)
		return rk_error(-EINVAL, "rk_kernel_status: NULL kernel or out");
	memset(out, 0, sizeof(*out));
	out->id = k->id;
	out->state = state_of(k);
	out->input_depth = rk_ring_count(&k->in);
	out->output_depth = rk_ring_count(&k->out);
	out->messages_processed = __atomic_load_n(&k->ctrl->messages_processed, __ATOMIC_ACQUIRE);
	out->messages_sent = __atomic_load_n(&k->sent, __ATOMIC_RELAXED);
	out->messages_received = __atomic_load_n(&k->received, __ATOMIC_RELAXED);
	out->errors = __atomic_load_n(&k->ctrl->errors, __ATOMIC_ACQUIRE);
	out->uptime_ns = rki_now_ns() - k->launch_ns;
	out->undelivered = __atomic_load_n(&k->undelivered, __ATOMIC_RELAXED);
	out->heartbeat = __atomic_load_n(&k->ctrl->heartbeat, __ATOMIC_ACQUIRE);
	out->stalls = __atomic_load_n(&k->ctrl->stalls, __ATOMIC_ACQUIRE);
	out->hlc_clamped = __atomic_load_n(&k->ctrl->hlc_clamped, __ATOMIC_ACQUIRE);
	out->corrupt = __atomic_load_n(&k->in.corrupt_events, __ATOMIC_RELAXED) +
		       __atomic_load_n(&k->out.corrupt_events, __ATOMIC_RELAXED);
	return 0;
}

/* ---- profiling ---------------------------------------------------------------------- */

/* The upper bound of the bucket holding the q-th quantile (in 1/1000s). */
static uint64_t quantile(const uint64_t *hist, uint64_t total, unsigned permille)
{
	if (!total)
		return 0;
	uint64_t want = (total * permille + 999) / 1000, seen = 0;
	for (unsigned b = 0; b < RK_PROF_BUCKETS; b++) {
		seen += hist[b];
		if (seen >= want)
			return b + 1 < 64 ? (2ull << b) - 1 : UINT64_MAX;
	}
	return UINT64_MAX;
}

int rk_kernel_profile_get(const rk_kernel *k, rk_kernel_profile *out)
{
	if (!k || !out)
		return rk_error(-EINVAL, "rk_kernel_profile_get: NULL kernel or out");
	memset(out, 0, sizeof(*out));
	if (!k->profile) {
		if (k->att)
			return rk_error(-ENODATA, "kernel %llu: its owner does not profile it",
					(unsigned long long)k->id);
		if (k->rt->profiling)
			return rk_error(-ENOTSUP,
					"kernel %llu: backend %s runs its loop on the device, "
					"which has no clock to time it with here",
					(unsigned long long)k->id, k->rt->plugin.name);
		return rk_error(-ENODATA,
				"kernel %llu: profiling is off (rk_runtime_builder_profiling)",
				(unsigned long long)k->id);
	}
	/* Kernel-written, in shared memory: a copy, read word by word. */
	struct rk_profile p;
	const uint64_t *src = (const uint64_t *)(const void *)k->profile;
	uint64_t *dst = (uint64_t *)(void *)&p;
	for (size_t i = 0; i < sizeof(p) / 8; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_ACQUIRE);
	uint64_t nq = 0, nh = 0;
	for (unsigned b = 0; b < RK_PROF_BUCKETS; b++) {
		out->queue_wait_hist[b] = p.queue_wait[b];
		out->handler_hist[b] = p.handler[b];
		out->depth_hist[b] = p.depth[b];
		nq += p.queue_wait[b];
		nh += p.handler[b];
	}
	out->messages = p.messages;
	out->stamped = p.stamped;
	out->queue_wait_mean_ns = p.stamped ? p.queue_wait_ns / p.stamped : 0;
	out->queue_wait_p50_ns = quantile(p.queue_wait, nq, 500);
	out->queue_wait_p99_ns = quantile(p.queue_wait, nq, 990);
	out->handler_mean_ns = p.messages ? p.handler_ns / p.messages : 0;
	out->handler_p50_ns = quantile(p.handler, nh, 500);
	out->handler_p99_ns = quantile(p.handler, nh, 990);
	out->depth_samples = p.batches;
	out->depth_mean = p.batches ? (double)p.depth_sum / (double)p.batches : 0.0;
	out->depth_max = p.depth_max;
	out->stall_ns = p.stall_ns;
	return 0;
}

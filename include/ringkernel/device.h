/* SPDX-License-Identifier: MIT */
/*
 * ringkernel/device.h - the portable persistent kernel loop.
 *
 * One source, compiled as C for the CPU plugin, as CUDA under nvcc, as HIP
 * under hipcc, and as OpenCL C 1.2: the loop body stays in the C subset all
 * of them accept. Atomics, fences and back-off go only through
 * the RK_* macros below, which each toolchain defines at *system* scope
 * because the other side of every ring is the host (or another process).
 *
 * The loop: read the control block, mirror the desired state into the
 * observed one, drain the input ring while Active, run the handler, publish
 * replies, bump the heartbeat, exit on Terminate. A full output ring is
 * back-pressure: the kernel stalls (and counts it), it never drops.
 *
 * The includer chooses the handler: built-in kinds dispatch through
 * rk_dev_builtin(); a backend with user handlers defines RK_DEV_USER_HANDLER
 * before including this file.
 */
#ifndef RINGKERNEL_DEVICE_H
#define RINGKERNEL_DEVICE_H

#include <ringkernel/layout.h>

#if defined(__OPENCL_C_VERSION__)
typedef ulong rk_uptr; /* addresses in a ring's route table */
#else
#include <stdint.h>
typedef uintptr_t rk_uptr;
#endif

/* ---- per-toolchain primitives ------------------------------------------- */

#if defined(__OPENCL_C_VERSION__)
#define RK_UNLIKELY(x) (x)
#else
#define RK_UNLIKELY(x) __builtin_expect(!!(x), 0)
#endif

#if defined(__OPENCL_C_VERSION__)
#define RK_DEVFN     static inline
#define RK_DEVFN_HOT RK_DEVFN
#define RK_GLOBAL    __global
/* OpenCL 1.2 has no acquire/release loads: volatile access plus a global
 * fence; the plugin only uses devices where this is coherent with the host
 * (fine-grain SVM or zero-copy CPU memory, checked at probe time). */
#define RK_LOAD_ACQ32(p) (*(volatile RK_GLOBAL rk_u32 *)(p))
#define RK_LOAD_ACQ64(p) (*(volatile RK_GLOBAL rk_u64 *)(p))
#define RK_STORE_REL32(p, v) \
	(mem_fence(CLK_GLOBAL_MEM_FENCE), *(volatile RK_GLOBAL rk_u32 *)(p) = (v))
#define RK_STORE_REL64(p, v) \
	(mem_fence(CLK_GLOBAL_MEM_FENCE), *(volatile RK_GLOBAL rk_u64 *)(p) = (v))
#define RK_LOAD_SC32(p)	    (mem_fence(CLK_GLOBAL_MEM_FENCE), RK_LOAD_ACQ32(p))
#define RK_LOAD_SC64(p)	    (mem_fence(CLK_GLOBAL_MEM_FENCE), RK_LOAD_ACQ64(p))
#define RK_LOAD_RLX32(p)    RK_LOAD_ACQ32(p)
#define RK_LOAD_RLX64(p)    RK_LOAD_ACQ64(p)
#define RK_FENCE_ACQ()	    ((void)0)
#define RK_STORE_SC64(p, v) (RK_STORE_REL64(p, v), mem_fence(CLK_GLOBAL_MEM_FENCE))
#define RK_ATOMIC_INC32(p)  atomic_inc((volatile RK_GLOBAL uint *)(p))
#define RK_RELAX()	    ((void)0)
#elif defined(__CUDACC__) || defined(__HIPCC__)
#define RK_DEVFN     static __device__ __forceinline__
#define RK_DEVFN_HOT RK_DEVFN
#define RK_GLOBAL
/*
 * Every ring index, control-block word and bell is shared with the host
 * (pinned memory mapped into the device with cuMemHostRegister /
 * hipHostRegister), across PCIe or NVLink-C2C. Device (GPU) scope orders
 * accesses only among the GPU's own threads: the host would be free to see
 * a slot's payload after the index that publishes it. So every access that
 * synchronizes with the other side is an atomic at *system* scope, with
 * the C11 order the CPU branch uses (acquire, release, seq_cst). Plain
 * accesses in the loop (slot contents, immutable ring fields) are ordered
 * by these.
 */
#if defined(__HIPCC__)
/* clang's HIP builtins: system scope reaches the host through fine-grain
 * (host-registered) memory. */
#define RK_LOAD_ACQ32(p) __hip_atomic_load((p), __ATOMIC_ACQUIRE, __HIP_MEMORY_SCOPE_SYSTEM)
#define RK_LOAD_ACQ64(p) __hip_atomic_load((p), __ATOMIC_ACQUIRE, __HIP_MEMORY_SCOPE_SYSTEM)
#define RK_STORE_REL32(p, v) \
	__hip_atomic_store((p), (v), __ATOMIC_RELEASE, __HIP_MEMORY_SCOPE_SYSTEM)
#define RK_STORE_REL64(p, v) \
	__hip_atomic_store((p), (v), __ATOMIC_RELEASE, __HIP_MEMORY_SCOPE_SYSTEM)
#define RK_LOAD_SC32(p)	 __hip_atomic_load((p), __ATOMIC_SEQ_CST, __HIP_MEMORY_SCOPE_SYSTEM)
#define RK_LOAD_SC64(p)	 __hip_atomic_load((p), __ATOMIC_SEQ_CST, __HIP_MEMORY_SCOPE_SYSTEM)
/* A poll: relaxed, then one acquire fence once it saw something new (a
 * system-scope acquire load invalidates L2 on every idle turn). */
#define RK_LOAD_RLX32(p) __hip_atomic_load((p), __ATOMIC_RELAXED, __HIP_MEMORY_SCOPE_SYSTEM)
#define RK_LOAD_RLX64(p) __hip_atomic_load((p), __ATOMIC_RELAXED, __HIP_MEMORY_SCOPE_SYSTEM)
#define RK_FENCE_ACQ()	 __builtin_amdgcn_fence(__ATOMIC_ACQUIRE, "")
#define RK_STORE_SC64(p, v) \
	__hip_atomic_store((p), (v), __ATOMIC_SEQ_CST, __HIP_MEMORY_SCOPE_SYSTEM)
#define RK_ATOMIC_INC32(p) \
	__hip_atomic_fetch_add((p), 1u, __ATOMIC_SEQ_CST, __HIP_MEMORY_SCOPE_SYSTEM)
/* s_sleep N waits about 64 * N clocks: back off without a syscall. */
#define RK_RELAX() __builtin_amdgcn_s_sleep(2)
#elif defined(__CUDACC_VER_MAJOR__) && \
	(__CUDACC_VER_MAJOR__ > 12 || (__CUDACC_VER_MAJOR__ == 12 && __CUDACC_VER_MINOR__ >= 8))
/* nvcc >= 12.8 builtins: ld.acquire.sys / st.release.sys / fence.sc.sys
 * (sm_70+), what cuda::atomic_ref<T, cuda::thread_scope_system> emits,
 * without needing libcu++ headers (the minimal toolkit lacks them). */
#define RK_LOAD_ACQ32(p) __nv_atomic_load_n((p), __NV_ATOMIC_ACQUIRE, __NV_THREAD_SCOPE_SYSTEM)
#define RK_LOAD_ACQ64(p) __nv_atomic_load_n((p), __NV_ATOMIC_ACQUIRE, __NV_THREAD_SCOPE_SYSTEM)
#define RK_STORE_REL32(p, v) \
	__nv_atomic_store_n((p), (v), __NV_ATOMIC_RELEASE, __NV_THREAD_SCOPE_SYSTEM)
#define RK_STORE_REL64(p, v) \
	__nv_atomic_store_n((p), (v), __NV_ATOMIC_RELEASE, __NV_THREAD_SCOPE_SYSTEM)
#define RK_LOAD_SC32(p)	 __nv_atomic_load_n((p), __NV_ATOMIC_SEQ_CST, __NV_THREAD_SCOPE_SYSTEM)
#define RK_LOAD_SC64(p)	 __nv_atomic_load_n((p), __NV_ATOMIC_SEQ_CST, __NV_THREAD_SCOPE_SYSTEM)
/* A poll: ld.relaxed.sys, then one fence.acq_rel.sys once it saw something new. */
#define RK_LOAD_RLX32(p) __nv_atomic_load_n((p), __NV_ATOMIC_RELAXED, __NV_THREAD_SCOPE_SYSTEM)
#define RK_LOAD_RLX64(p) __nv_atomic_load_n((p), __NV_ATOMIC_RELAXED, __NV_THREAD_SCOPE_SYSTEM)
#define RK_FENCE_ACQ()	 __asm__ __volatile__("fence.acq_rel.sys;" ::: "memory")
#define RK_STORE_SC64(p, v) \
	__nv_atomic_store_n((p), (v), __NV_ATOMIC_SEQ_CST, __NV_THREAD_SCOPE_SYSTEM)
#define RK_ATOMIC_INC32(p) \
	__nv_atomic_fetch_add((p), 1u, __NV_ATOMIC_SEQ_CST, __NV_THREAD_SCOPE_SYSTEM)
#define RK_RELAX() __nanosleep(100)
#else
/* Older nvcc: volatile accesses (not cached in registers) ordered by
 * __threadfence_system(), the only fence that orders them for the host.
 * Acquire = load then fence; release = fence then store. */
#define RK_LOAD_ACQ32(p)     rk_cu_load_acq32_((volatile const rk_u32 *)(p))
#define RK_LOAD_ACQ64(p)     rk_cu_load_acq64_((volatile const rk_u64 *)(p))
#define RK_STORE_REL32(p, v) (__threadfence_system(), (void)(*(volatile rk_u32 *)(p) = (v)))
#define RK_STORE_REL64(p, v) (__threadfence_system(), (void)(*(volatile rk_u64 *)(p) = (v)))
#define RK_LOAD_SC32(p)	     (__threadfence_system(), RK_LOAD_ACQ32(p))
#define RK_LOAD_SC64(p)	     (__threadfence_system(), RK_LOAD_ACQ64(p))
#define RK_LOAD_RLX32(p)     (*(volatile const rk_u32 *)(p))
#define RK_LOAD_RLX64(p)     (*(volatile const rk_u64 *)(p))
#define RK_FENCE_ACQ()	     __threadfence_system()
#define RK_STORE_SC64(p, v)  (RK_STORE_REL64(p, v), __threadfence_system())
#define RK_ATOMIC_INC32(p)   atomicAdd_system((unsigned int *)(p), 1u)
#define RK_RELAX()	     __nanosleep(100)
static __device__ __forceinline__ rk_u32 rk_cu_load_acq32_(volatile const rk_u32 *p)
{
	rk_u32 v = *p;
	__threadfence_system();
	return v;
}
static __device__ __forceinline__ rk_u64 rk_cu_load_acq64_(volatile const rk_u64 *p)
{
	rk_u64 v = *p;
	__threadfence_system();
	return v;
}
#endif
#else /* host C: the CPU plugin */
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/ring.h> /* rk_ring_copy_() */
/* Two POSIX calls, declared here as libc declares them: a file built with
 * -std=c11 and no feature macro has them hidden, yet links them. Linux's
 * clockid_t is an int; the clock ids are its ABI. */
#ifdef __cplusplus
extern "C" {
#endif
extern long syscall(long number, ...);
extern int clock_gettime(int clock, struct timespec *ts);
#ifdef __cplusplus
}
#endif
#define RK_DEV_CLOCK_REALTIME	     0
#define RK_DEV_CLOCK_MONOTONIC	     1
#define RK_DEV_CLOCK_REALTIME_COARSE 5
#if defined(CLOCK_MONOTONIC) && defined(CLOCK_REALTIME_COARSE) && !defined(__cplusplus)
_Static_assert(CLOCK_REALTIME == RK_DEV_CLOCK_REALTIME &&
		       CLOCK_MONOTONIC == RK_DEV_CLOCK_MONOTONIC &&
		       CLOCK_REALTIME_COARSE == RK_DEV_CLOCK_REALTIME_COARSE,
	       "Linux clock ids");
#endif
#define RK_DEVFN     static inline
/* The per-message path: inlined into the drain loop on the host too. */
#define RK_DEVFN_HOT static inline __attribute__((always_inline))
#define RK_GLOBAL
#define RK_LOAD_ACQ32(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define RK_LOAD_ACQ64(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define RK_STORE_REL32(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define RK_STORE_REL64(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define RK_LOAD_SC32(p)	     __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define RK_LOAD_SC64(p)	     __atomic_load_n((p), __ATOMIC_SEQ_CST)
/* Host C: an acquire load costs what a relaxed one does (x86, and what
 * TSan can follow), so the poll stays acquire and needs no fence. */
#define RK_LOAD_RLX32(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define RK_LOAD_RLX64(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define RK_FENCE_ACQ()	     ((void)0)
#define RK_STORE_SC64(p, v)  __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define RK_ATOMIC_INC32(p)   __atomic_fetch_add((p), 1u, __ATOMIC_SEQ_CST)
#if defined(__x86_64__) || defined(__i386__)
#define RK_RELAX() __builtin_ia32_pause()
#else
#define RK_RELAX() __asm__ __volatile__("" ::: "memory")
#endif
#endif

/* What a send does while it waits for room: by default relax and wait
 * on (0). A backend that runs several kernels on one thread defines
 * RK_DEV_STALL(k) before including this file to say 1 instead: the send
 * then gives up (RK_DEV_WOULDBLOCK), its message stays unconsumed in the
 * ring, and the turn ends so that the thread can run the kernel that
 * drains the full ring (waiting in place would wait forever). Only
 * handlers that can be run again from the start of a message may be
 * stopped that way: the built-ins are (nothing they change comes before
 * the slot they need). */
#ifndef RK_DEV_STALL
#define RK_DEV_STALL(k) (RK_RELAX(), 0)
#endif

/* Wake a parked consumer. On the CPU the plugin supplies a futex wake;
 * GPUs cannot make a syscall, so they only bump the bell and the plugin's
 * poller issues the wake on their behalf. */
#if !defined(__OPENCL_C_VERSION__) && !defined(__CUDACC__) && !defined(__HIPCC__)
/* Shared futex: the waiter may be another process. */
#define RK_DEV_WAKE(bell) ((void)syscall(SYS_futex, (bell), FUTEX_WAKE, INT_MAX, NULL, NULL, 0))
#define RK_DEV_HOST	  1
/* A loop on a host thread rings the host's bell word itself. */
#define RK_DEV_RING(r, host_word, dev_word)	(RK_ATOMIC_INC32(host_word), RK_DEV_WAKE(host_word))
#define RK_DEV_RING_SHARED(host_word, dev_word) (RK_ATOMIC_INC32(host_word), RK_DEV_WAKE(host_word))
#else
#define RK_DEV_WAKE(bell)			((void)0)
/* A device never read-modify-writes a word the host writes too: the one
 * ringer of a ring's bell stores its own count in the device word (no read
 * back), several (K2K senders into one ring) add to it among themselves;
 * the plugin's bell thread carries each change to the host's word. */
#define RK_DEV_RING(r, host_word, dev_word)	RK_STORE_REL32((dev_word), ++(r)->bells)
#define RK_DEV_RING_SHARED(host_word, dev_word) ((void)RK_ATOMIC_INC32(dev_word))
#endif

/* Physical time for the hybrid logical clock, as a packed HLC (us << 16);
 * 0 where the device has no wall clock (the clock is then purely logical,
 * driven by what the kernel receives). */
#if defined(RK_DEV_HOST)
static inline rk_u64 rk_dev_phys_hlc(void)
{
	struct timespec ts;
	clock_gettime(RK_DEV_CLOCK_REALTIME, &ts);
	rk_u64 us = (rk_u64)ts.tv_sec * 1000000u + (rk_u64)ts.tv_nsec / 1000u;
	return (us & 0xffffffffffffull) << 16;
}
/* Cycles between two wall-clock reads of one thread's HLC: 2^17, about
 * 30-130 us at 1-4 GHz. Within it the last reading is reused (the
 * logical counter keeps timestamps increasing), so a message costs no
 * clock read; the physical part lags real time by at most the window. */
#define RK_DEV_HLC_TSC_WINDOW (1ull << 17)
static inline rk_u64 rk_dev_phys_hlc_cached(rk_u64 *pt, rk_u64 *at)
{
#if defined(__x86_64__) || defined(__i386__)
	rk_u64 t = __builtin_ia32_rdtsc();
	if (t - *at >= RK_DEV_HLC_TSC_WINDOW || *pt == 0) { /* a counter behind `at` too */
		*at = t;
		*pt = rk_dev_phys_hlc();
	}
	return *pt;
#else
	(void)at;
	struct timespec ts;
	clock_gettime(RK_DEV_CLOCK_REALTIME_COARSE, &ts);
	rk_u64 us = (rk_u64)ts.tv_sec * 1000000u + (rk_u64)ts.tv_nsec / 1000u;
	return *pt = (us & 0xffffffffffffull) << 16;
#endif
}
/* One reading per batch: the drain loop takes it before its messages (a
 * handler only runs there), and rk_dev_init() the first. */
#define RK_DEV_PHYS_HLC(k) ((k)->pt)
#else
#define RK_DEV_PHYS_HLC(k) ((rk_u64)0)
#endif

/* Counters that only the kernel writes: relaxed increments are enough, the
 * host reads them for status only. */
#define RK_DEV_ADD64(p, n) RK_STORE_REL64((p), RK_LOAD_ACQ64(p) + (n))

/* Profiling: a loop on host threads times what it does (struct rk_profile)
 * when the host gave it a profile; devices have no such clock here. */
#if defined(RK_DEV_HOST)
static inline rk_u64 rk_dev_now_ns(void)
{
	struct timespec ts;
	clock_gettime(RK_DEV_CLOCK_MONOTONIC, &ts);
	return (rk_u64)ts.tv_sec * 1000000000u + (rk_u64)ts.tv_nsec;
}

static inline rk_u32 rk_dev_bucket(rk_u64 v)
{
	rk_u32 b = v ? 63u - (rk_u32)__builtin_clzll(v) : 0;
	return b < RK_PROF_BUCKETS ? b : RK_PROF_BUCKETS - 1;
}
#endif

/* ---- kernel-side ring views ---------------------------------------------- */

/*
 * A ring as the kernel sees it. Geometry is bound once (the host built and
 * validated the ring) and never re-read; every index read from the ring is
 * checked against what the kernel already knows, because the ring's memory
 * is shared and anyone who maps it may write there. An impossible index
 * marks the ring corrupt: the kernel stops using it and counts an error.
 */
struct rk_dev_ring {
	RK_GLOBAL struct rk_ring_hdr *h;
	RK_GLOBAL rk_u8 *slots;
	rk_u32 mask;
	rk_u32 slot_size;
	rk_u64 next;  /* next index to read (input) or write (output) */
	rk_u64 cache; /* other side's index, last seen */
	rk_u64 pub;   /* output: the index last published (next may be ahead) */
	rk_u32 corrupt;
	rk_u32 bells; /* what this side last stored in its device bell word */
};

/* An outbound K2K route, bound from the private struct rk_k2k. */
struct rk_dev_route {
	rk_u64 dest;
	struct rk_dev_ring ring;	    /* the receiver's inbound ring; we produce */
	RK_GLOBAL struct rk_ring_hdr *bell; /* the receiver's input ring: its bell */
	rk_u32 index;			    /* entry in the tables */
};

/* What a kernel binds of its K2K routes and attached clients' rings. */
struct rk_dev_links {
	struct rk_dev_ring inbound[RK_MAX_ROUTES];
	struct rk_dev_route route[RK_MAX_ROUTES];
	rk_u64 client_tag[RK_MAX_CLIENTS]; /* the tag each client ring is bound for */
	struct rk_dev_ring client[RK_MAX_CLIENTS];
};

struct rk_dev_kernel {
	RK_GLOBAL struct rk_ctrl *ctrl;
	struct rk_dev_ring in, out;
	RK_GLOBAL struct rk_k2k *routes;   /* private route table; NULL without K2K */
	RK_GLOBAL struct rk_routes *stats; /* where route counters go (region) */
	rk_u32 ninbound;		   /* inbound rings bound so far */
	rk_u32 nbound;			   /* outbound routes bound so far */
	RK_GLOBAL rk_u8 *state;
	rk_u32 state_size;
	rk_u32 kind;
	rk_u64 id;
	rk_u64 hlc;	 /* kernel's clock: max of everything seen, ticks per send */
	rk_u64 next_seq; /* ids of messages this kernel sends */
	rk_u32 observed;
	rk_u64 pt, pt_at; /* the physical clock's last reading, and when (cycles) */
	rk_u32 unsent;	  /* replies written, not yet counted in ctrl (rk_dev_flush) */
	rk_u32 stalling;  /* a send is waiting (or gave up waiting) for room */
	rk_u32 blocked;	  /* the last turn ended on RK_DEV_WOULDBLOCK */
	rk_u32 turns;	  /* the heartbeat is published every RK_DEV_HEARTBEAT_TURNS */
	/* The counters only the kernel writes, kept here and stored to the
	 * control block (never read back: on a GPU a read crosses the bus). */
	rk_u64 processed, sent, beats;
	/* Attached clients' reply rings (struct rk_k2k_client): bound at
	 * start, rebound when a slot gets a new client. */
	rk_u32 nclients;
	rk_u32 client_dirty; /* bit i: client ring i has unpublished replies */
	rk_u32 cur_client;   /* the emit in progress: its client slot, or RK_DEV_NO_CLIENT */
	RK_GLOBAL struct rk_profile *prof; /* host loops with profiling on; else 0 */
	rk_u64 stall_t0;		   /* when the send waiting for room began */
	/* The route and client rings, apart: nothing takes the address of
	 * the part above, so a device compiler keeps it in registers (a
	 * pointer into it, or an array indexed at run time, would put all of
	 * it in local memory). On a device the entry sets `links` to a
	 * variable of its own before rk_dev_init(); on the host they live in
	 * `links_store`. */
	struct rk_dev_links *links;
#if defined(RK_DEV_HOST)
	struct rk_dev_links links_store;
#endif
};

#define RK_DEV_NO_CLIENT 0xffffffffu

/* A send found no room: start timing the stall (profiling only). */
RK_DEVFN void rk_dev_stall_begin(struct rk_dev_kernel *k)
{
#if defined(RK_DEV_HOST)
	if (k->prof && !k->stall_t0)
		k->stall_t0 = rk_dev_now_ns();
#else
	(void)k;
#endif
}

/* ... and it found room, or gave up for good. */
RK_DEVFN void rk_dev_stall_end(struct rk_dev_kernel *k)
{
#if defined(RK_DEV_HOST)
	if (k->stall_t0) {
		RK_DEV_ADD64(&k->prof->stall_ns, rk_dev_now_ns() - k->stall_t0);
		k->stall_t0 = 0;
	}
#else
	(void)k;
#endif
}

/* Bind with the given geometry (capacity a power of two, from memory the
 * host vouches for); indexes as they are now, checked. */
RK_DEVFN void rk_dev_ring_bind_geo(struct rk_dev_ring *r, RK_GLOBAL struct rk_ring_hdr *h,
				   int input, rk_u32 capacity, rk_u32 slot_size)
{
	r->h = h;
	r->slots = (RK_GLOBAL rk_u8 *)(h + 1);
	r->mask = capacity - 1;
	r->slot_size = slot_size;
	r->next = input ? RK_LOAD_ACQ64(&h->cons_head) : RK_LOAD_ACQ64(&h->prod_tail);
	r->cache = input ? RK_LOAD_ACQ64(&h->prod_tail) : RK_LOAD_ACQ64(&h->cons_head);
	r->pub = r->next;
	r->corrupt = capacity == 0 || (capacity & (capacity - 1)) != 0 ||
		     capacity > RK_RING_MAX_CAPACITY || slot_size < RK_SLOT_ALIGN ||
		     slot_size > RK_SLOT_MAX ||
		     (input ? r->cache - r->next : r->next - r->cache) > (rk_u64)capacity;
	/* A consumer rings the producers' bell, a producer the consumer's. */
	r->bells = input ? RK_LOAD_ACQ32(&h->prod_bell_dev) : RK_LOAD_ACQ32(&h->cons_bell_dev);
}

/* The kernel's own input and output rings: their geometry is read once,
 * when the kernel starts (the host validated it when it built the region). */
RK_DEVFN void rk_dev_ring_bind(struct rk_dev_ring *r, RK_GLOBAL struct rk_ring_hdr *h, int input)
{
	rk_dev_ring_bind_geo(r, h, input, h->capacity, h->slot_size);
}

/* The host validated capacity and slot size when it built the region; the
 * kernel trusts only its bound copies (mask, slot_size), never re-reads. */
RK_DEVFN RK_GLOBAL rk_u8 *rk_dev_slot(const struct rk_dev_ring *r, rk_u64 idx)
{
	return r->slots + (idx & r->mask) * r->slot_size;
}

/* Readable input slots, at most `max`. A producer index that moved
 * backwards or more than `capacity` ahead is never cached: the ring is
 * marked corrupt and yields nothing more. */
RK_DEVFN rk_u32 rk_dev_in_avail(struct rk_dev_ring *r, rk_u32 max)
{
	if (r->corrupt)
		return 0;
	rk_u64 avail = r->cache - r->next;
	if (avail == 0) {
		/* An idle poll is one relaxed read; the acquire is paid only
		 * when there is something to read. */
		rk_u64 p = RK_LOAD_RLX64(&r->h->prod_tail);
		if (p == r->next)
			return 0;
		if (p - r->next > (rk_u64)r->mask + 1) {
			r->corrupt = 1;
			return 0;
		}
		RK_FENCE_ACQ();
		r->cache = p;
		avail = p - r->next;
	}
	return avail < max ? (rk_u32)avail : max;
}

RK_DEVFN void rk_dev_in_release(struct rk_dev_ring *r, rk_u32 n)
{
	r->next += n;
	/* A producer parked on a full ring waits for this: the same Dekker
	 * handshake as publishing (seq_cst store, seq_cst read of waiters). */
	RK_STORE_SC64(&r->h->cons_head, r->next);
	if (RK_LOAD_SC32(&r->h->prod_waiting) != 0) {
		RK_DEV_RING(r, &r->h->prod_bell, &r->h->prod_bell_dev);
	}
}

/* 1 when an output slot is free. A consumer index only moves forward and
 * never past ours; an impossible one marks the ring corrupt (no room, ever:
 * unread slots are never overwritten). */
RK_DEVFN int rk_dev_out_has_room(struct rk_dev_ring *r)
{
	rk_u64 cap = (rk_u64)r->mask + 1;
	if (r->corrupt)
		return 0;
	if (r->next - r->cache < cap)
		return 1;
	rk_u64 c = RK_LOAD_ACQ64(&r->h->cons_head);
	if (c - r->cache > r->next - r->cache) {
		r->corrupt = 1;
		return 0;
	}
	r->cache = c;
	return r->next - c < cap;
}

/* Publish every slot written since the last publish: once per batch, not
 * per message (and before any wait for room, or the host could never make
 * any). */
RK_DEVFN void rk_dev_out_flush(struct rk_dev_ring *r)
{
	if (r->next == r->pub)
		return;
	r->pub = r->next;
	/* seq_cst store then seq_cst read of the waiting count: the Dekker
	 * half of the parking handshake (see ringkernel/ring.h). */
	RK_STORE_SC64(&r->h->prod_tail, r->next);
	if (RK_LOAD_SC32(&r->h->cons_waiting) != 0) {
		RK_DEV_RING(r, &r->h->cons_bell, &r->h->cons_bell_dev);
	}
}

RK_DEVFN void rk_dev_copy(RK_GLOBAL rk_u8 *dst, const RK_GLOBAL rk_u8 *src, rk_u32 n)
{
#if !defined(__OPENCL_C_VERSION__) && !defined(__CUDACC__) && !defined(__HIPCC__)
	rk_ring_copy_(dst, src, n); /* the common payloads inline, as the host's rings copy */
#else
	/* Payloads start 64 bytes into 64-byte aligned slots: 16 bytes per
	 * access (one bus transaction, not sixteen), the tail bytewise. */
	rk_u32 i = 0;
	if ((((rk_uptr)dst | (rk_uptr)src) & 15) == 0) {
		for (; i + 16 <= n; i += 16)
			*(RK_GLOBAL uint4 *)(dst + i) = *(const RK_GLOBAL uint4 *)(src + i);
	}
	for (; i < n; i++)
		dst[i] = src[i];
#endif
}

/* ---- hybrid logical clock ------------------------------------------------- */

#define RK_HLC_LOGICAL_BITS 16
#define RK_HLC_LOGICAL_MASK 0xffffull
/* A timestamp more than this far ahead of the local physical clock is
 * clamped to it (and counted): one bad clock must not drag every other
 * one into the future. 1 s, in packed units. */
#define RK_HLC_MAX_SKEW (1000000ull << RK_HLC_LOGICAL_BITS)

/*
 * Packed HLC rules (48-bit physical us << 16 | 16-bit logical): a send is
 * max(clock + 1, now); a receive of `seen` is max(clock + 1, seen + 1, now),
 * so whatever a kernel sends in answer is later than what it answered.
 */
RK_DEVFN rk_u64 rk_dev_hlc_tick(struct rk_dev_kernel *k, rk_u64 seen)
{
	rk_u64 pt = RK_DEV_PHYS_HLC(k);
#if defined(RK_DEV_HOST) /* pt is a reading: never 0 (rk_dev_init) */
	if (seen > pt + RK_HLC_MAX_SKEW) {
#else /* 0 where there is no wall clock: no skew rule */
	if (pt && seen > pt + RK_HLC_MAX_SKEW) {
#endif
		seen = pt + RK_HLC_MAX_SKEW;
		RK_DEV_ADD64(&k->ctrl->hlc_clamped, 1);
	}
	rk_u64 t = k->hlc + 1;
	if (seen + 1 > t)
		t = seen + 1;
	if (pt > t)
		t = pt;
	k->hlc = t;
	return t;
}

/* ---- sending from a kernel ---------------------------------------------- */

/* Why a send returned without sending. */
#define RK_DEV_OK	   0
#define RK_DEV_TERMINATING 1
#define RK_DEV_NOROUTE	   2 /* no route to that kernel */
#define RK_DEV_CLOSED	   3 /* the receiver terminated (or its ring is corrupt) */
#define RK_DEV_TOOBIG	   4 /* payload larger than the receiver's slots */
#define RK_DEV_WOULDBLOCK  5 /* no room, and RK_DEV_STALL said not to wait */

/* Store the counters, before any reply is published (release stores):
 * a reply the host can see is counted in messages_sent, and the request it
 * answers in messages_processed. */
RK_DEVFN void rk_dev_count(struct rk_dev_kernel *k)
{
	RK_STORE_REL64(&k->ctrl->messages_processed, k->processed);
	if (k->unsent) {
		k->sent += k->unsent;
		RK_STORE_REL64(&k->ctrl->messages_sent, k->sent);
		k->unsent = 0;
	}
}

/* Publish the batch's counters, then its replies. */
RK_DEVFN void rk_dev_flush(struct rk_dev_kernel *k)
{
	rk_dev_count(k);
	rk_dev_out_flush(&k->out);
	for (rk_u32 i = 0; k->client_dirty; i++) {
		if (k->client_dirty & (1u << i)) {
			k->client_dirty &= ~(1u << i);
			rk_dev_out_flush(&k->links->client[i]);
		}
	}
}

/*
 * Called while a send stalls on a full ring: 1 when the kernel must stop
 * (Terminate). A stalled kernel consumes nothing, so it also mirrors a
 * Deactivate (or a re-Activate) at once: deactivate returns while the
 * kernel waits for room, and the message it holds goes out once there is.
 */
RK_DEVFN int rk_dev_stalled(struct rk_dev_kernel *k)
{
	rk_u32 desired = RK_LOAD_ACQ32(&k->ctrl->desired);
	if (desired == RK_CTRL_TERMINATE)
		return 1;
	if (desired != k->observed) {
		k->observed = desired;
		RK_STORE_REL32(&k->ctrl->observed, desired);
	}
	return 0;
}

/*
 * Claim the next output slot and write its header; the caller writes the
 * `len` payload bytes at *payload_p (in place: no staging copy, and no
 * pointer into another address space, which OpenCL C forbids), then
 * rk_dev_emit_end() publishes it. A full ring stalls here until the host
 * makes room or asks the kernel to terminate; a stall is counted once per
 * full episode. Returns RK_DEV_OK, RK_DEV_TERMINATING, or RK_DEV_CLOSED
 * when the output ring is corrupt (nothing can be published on it again).
 */
/*
 * The reply ring of the client `tag` names, or 0 when there is none: no
 * such slot, the client left (its route is closed) or the tag is of an
 * earlier client of the slot. A slot's ring is rebound when its client
 * changes, after what was written for the previous one is published.
 */
RK_DEVFN struct rk_dev_ring *rk_dev_client_ring(struct rk_dev_kernel *k, rk_u64 tag)
{
	rk_u32 s = RK_CLIENT_SLOT(tag);
	if (s >= k->nclients)
		return 0;
	RK_GLOBAL struct rk_k2k_client *e = &k->routes->client[s];
	if (RK_LOAD_ACQ32(&e->state) != RK_ROUTE_OPEN || RK_LOAD_ACQ64(&e->tag) != tag)
		return 0;
	if (k->links->client_tag[s] != tag) {
		rk_dev_count(k);
		rk_dev_out_flush(&k->links->client[s]);
		k->client_dirty &= ~(1u << s);
		rk_dev_ring_bind_geo(&k->links->client[s],
				     (RK_GLOBAL struct rk_ring_hdr *)(rk_uptr)e->ring_addr, 0,
				     e->capacity, e->slot_size);
		k->links->client_tag[s] = tag;
	}
	return &k->links->client[s];
}

/* 1 while the client `tag` is still there to take a reply. */
RK_DEVFN int rk_dev_client_open(struct rk_dev_kernel *k, rk_u64 tag)
{
	RK_GLOBAL struct rk_k2k_client *e = &k->routes->client[RK_CLIENT_SLOT(tag)];
	return RK_LOAD_ACQ32(&e->state) == RK_ROUTE_OPEN && RK_LOAD_ACQ64(&e->tag) == tag;
}

/* Claim and fill a slot of `o`, the output ring (slot RK_DEV_NO_CLIENT)
 * or client slot `slot`'s ring. Inlined once for each: the output ring is
 * then always k->out itself, never a pointer that may be another ring. */
RK_DEVFN_HOT int rk_dev_emit_begin_on(struct rk_dev_kernel *k, struct rk_dev_ring *o, rk_u32 slot,
				      rk_u32 type, rk_u32 flags, rk_u64 corr, rk_u64 dest,
				      rk_u64 hlc, rk_u32 len, RK_GLOBAL rk_u8 **payload_p)
{
	k->cur_client = slot;
	if (RK_UNLIKELY(!rk_dev_out_has_room(o))) {
		rk_dev_flush(k);  /* the host can only make room from what it sees */
		if (!k->stalling) /* one count per episode, retries included */
			RK_DEV_ADD64(&k->ctrl->stalls, 1);
		k->stalling = 1;
		rk_dev_stall_begin(k);
		while (!rk_dev_out_has_room(o)) {
			if (o->corrupt) /* never publishes again: the reply is lost, counted */
				return RK_DEV_CLOSED;
			if (slot != RK_DEV_NO_CLIENT && !rk_dev_client_open(k, dest))
				return RK_DEV_CLOSED; /* it left while we waited */
			if (rk_dev_stalled(k))
				return RK_DEV_TERMINATING;
			if (RK_DEV_STALL(k))
				return RK_DEV_WOULDBLOCK;
		}
	}
	if (RK_UNLIKELY(k->stalling)) { /* the stall is over (its timing started with it) */
		k->stalling = 0;
		rk_dev_stall_end(k);
	}
	RK_GLOBAL struct rk_msg_hdr *h = (RK_GLOBAL struct rk_msg_hdr *)rk_dev_slot(o, o->next);
	h->magic = RK_MSG_MAGIC;
	h->version = RK_MSG_VERSION;
	h->priority = 0;
	h->type = type;
	h->flags = flags;
	h->len = len;
	h->id = (k->id << 40) | (++k->next_seq & 0xffffffffffull);
	h->correlation_id = corr;
	h->source = k->id;
	h->dest = dest;
	h->hlc = hlc;
	h->seq = k->next_seq;
	*payload_p = (RK_GLOBAL rk_u8 *)(h + 1);
	return RK_DEV_OK;
}

RK_DEVFN_HOT int rk_dev_emit_begin(struct rk_dev_kernel *k, rk_u32 type, rk_u32 flags, rk_u64 corr,
				   rk_u64 dest, rk_u64 hlc, rk_u32 len, RK_GLOBAL rk_u8 **payload_p)
{
	struct rk_dev_ring *c = 0;
	if (RK_CLIENT_IS_TAG(dest)) {
		/* A reply to an attached client goes to its own ring; one to a
		 * client that has gone is dropped (counted by the caller). */
		c = rk_dev_client_ring(k, dest);
		if (!c || len > c->slot_size - RK_MSG_HDR_SIZE)
			return RK_DEV_CLOSED;
#if !defined(RK_DEV_HOST)
		return rk_dev_emit_begin_on(k, c, RK_CLIENT_SLOT(dest), type, flags, corr, dest,
					    hlc, len, payload_p);
#endif
	}
#if defined(RK_DEV_HOST) /* k is in memory anyway: one copy for both */
	return rk_dev_emit_begin_on(k, c ? c : &k->out, c ? RK_CLIENT_SLOT(dest) : RK_DEV_NO_CLIENT,
				    type, flags, corr, dest, hlc, len, payload_p);
#else
	return rk_dev_emit_begin_on(k, &k->out, RK_DEV_NO_CLIENT, type, flags, corr, dest, hlc, len,
				    payload_p);
#endif
}

/* Written, published with the rest of the batch (rk_dev_flush): the slot
 * claimed on the output ring (slot RK_DEV_NO_CLIENT) or on client slot
 * `slot`'s ring. */
RK_DEVFN_HOT void rk_dev_emit_end_on(struct rk_dev_kernel *k, rk_u32 slot)
{
	if (slot == RK_DEV_NO_CLIENT) {
		k->out.next += 1;
	} else {
		k->links->client[slot].next += 1;
		k->client_dirty |= 1u << slot;
	}
	k->unsent += 1;
}

/* The same for the slot rk_dev_emit_begin() claimed. */
RK_DEVFN_HOT void rk_dev_emit_end(struct rk_dev_kernel *k)
{
	rk_dev_emit_end_on(k, k->cur_client);
}

/* Claim, fill with a copy of the payload, and end, on `o` (see
 * rk_dev_emit_begin_on): `slot` is known here, not read back. */
RK_DEVFN_HOT int rk_dev_emit_on(struct rk_dev_kernel *k, struct rk_dev_ring *o, rk_u32 slot,
				rk_u32 type, rk_u32 flags, rk_u64 corr, rk_u64 dest, rk_u64 hlc,
				const RK_GLOBAL rk_u8 *payload, rk_u32 len)
{
	RK_GLOBAL rk_u8 *p;
	int r = rk_dev_emit_begin_on(k, o, slot, type, flags, corr, dest, hlc, len, &p);
	if (r != RK_DEV_OK)
		return r;
	if (len)
		rk_dev_copy(p, payload, len);
	rk_dev_emit_end_on(k, slot);
	return RK_DEV_OK;
}

/* Publish one message on the output ring (or, for an attached client's
 * tag, on its ring), copying its payload. Each is inlined on its own, so
 * the common one ends its slot without looking up where it went. */
RK_DEVFN_HOT int rk_dev_emit(struct rk_dev_kernel *k, rk_u32 type, rk_u32 flags, rk_u64 corr,
			     rk_u64 dest, rk_u64 hlc, const RK_GLOBAL rk_u8 *payload, rk_u32 len)
{
	if (RK_CLIENT_IS_TAG(dest)) {
		/* as in rk_dev_emit_begin: to a client that has gone, dropped */
		struct rk_dev_ring *c = rk_dev_client_ring(k, dest);
		if (!c || len > c->slot_size - RK_MSG_HDR_SIZE)
			return RK_DEV_CLOSED;
		return rk_dev_emit_on(k, c, RK_CLIENT_SLOT(dest), type, flags, corr, dest, hlc,
				      payload, len);
	}
	return rk_dev_emit_on(k, &k->out, RK_DEV_NO_CLIENT, type, flags, corr, dest, hlc, payload,
			      len);
}

/* Reply to `in` (same correlation rules for every backend). */
RK_DEVFN_HOT int rk_dev_reply(struct rk_dev_kernel *k, const RK_GLOBAL struct rk_msg_hdr *in,
			      rk_u32 type, const RK_GLOBAL rk_u8 *payload, rk_u32 len)
{
	return rk_dev_emit(k, type, RK_MSG_F_REPLY, in->id, in->source, rk_dev_hlc_tick(k, in->hlc),
			   payload, len);
}

/* The same, writing the payload in place: begin, write *payload_p, end. */
RK_DEVFN int rk_dev_reply_begin(struct rk_dev_kernel *k, const RK_GLOBAL struct rk_msg_hdr *in,
				rk_u32 type, rk_u32 len, RK_GLOBAL rk_u8 **payload_p)
{
	return rk_dev_emit_begin(k, type, RK_MSG_F_REPLY, in->id, in->source,
				 rk_dev_hlc_tick(k, in->hlc), len, payload_p);
}

/*
 * Send over the route to `dest`: a full route is back-pressure, the kernel
 * stalls (counted once per episode) until the receiver makes room, the
 * receiver terminates (RK_DEV_CLOSED) or this kernel is told to terminate.
 * Never drops. The message keeps the given id, correlation and source, so
 * a forwarded message arrives unchanged.
 */
RK_DEVFN void rk_dev_bind_routes(struct rk_dev_kernel *k);

RK_DEVFN int rk_dev_send_k2k(struct rk_dev_kernel *k, rk_u64 dest, rk_u32 type, rk_u32 flags,
			     rk_u64 id, rk_u64 corr, rk_u64 source, rk_u64 hlc,
			     const RK_GLOBAL rk_u8 *payload, rk_u32 len)
{
	RK_GLOBAL struct rk_k2k *rt = k->routes;
	if (!rt)
		return RK_DEV_NOROUTE;
	rk_dev_bind_routes(k);
	rk_u32 i = 0;
	while (i < k->nbound && k->links->route[i].dest != dest)
		i++;
	if (i == k->nbound)
		return RK_DEV_NOROUTE;
	struct rk_dev_route *d = &k->links->route[i];
	struct rk_dev_ring *o = &d->ring;
	RK_GLOBAL rk_u32 *state = &rt->route[d->index].state;
	RK_GLOBAL struct rk_route *st = k->stats ? &k->stats->route[d->index] : 0;
	/* A closed route's ring may be gone: check before touching it. */
	if (RK_LOAD_ACQ32(state) != RK_ROUTE_OPEN || o->corrupt)
		return RK_DEV_CLOSED;
	if (len > o->slot_size - RK_MSG_HDR_SIZE)
		return RK_DEV_TOOBIG;
	/* We are the ring's only producer: our index is ours, never re-read. */
	if (!rk_dev_out_has_room(o)) {
		if (!k->stalling) { /* one count per episode, retries included */
			if (st)
				RK_DEV_ADD64(&st->stalls, 1);
			RK_DEV_ADD64(&k->ctrl->stalls, 1);
		}
		k->stalling = 1;
		rk_dev_stall_begin(k);
		while (!rk_dev_out_has_room(o)) {
			if (rk_dev_stalled(k))
				return RK_DEV_TERMINATING;
			if (RK_LOAD_ACQ32(state) != RK_ROUTE_OPEN || o->corrupt)
				return RK_DEV_CLOSED;
			if (RK_DEV_STALL(k))
				return RK_DEV_WOULDBLOCK;
		}
	}
	if (RK_UNLIKELY(k->stalling)) { /* the stall is over (its timing started with it) */
		k->stalling = 0;
		rk_dev_stall_end(k);
	}
	if (RK_LOAD_ACQ32(state) != RK_ROUTE_OPEN)
		return RK_DEV_CLOSED;
	RK_GLOBAL struct rk_msg_hdr *m = (RK_GLOBAL struct rk_msg_hdr *)rk_dev_slot(o, o->next);
	m->magic = RK_MSG_MAGIC;
	m->version = RK_MSG_VERSION;
	m->priority = 0;
	m->type = type;
	m->flags = flags;
	m->len = len;
	m->id = id;
	m->correlation_id = corr;
	m->source = source;
	m->dest = dest;
	m->hlc = hlc;
	m->seq = ++k->next_seq;
	if (len)
		rk_dev_copy((RK_GLOBAL rk_u8 *)(m + 1), payload, len);
	o->next += 1;
	RK_STORE_SC64(&o->h->prod_tail, o->next);
	if (st)
		RK_DEV_ADD64(&st->sent, 1);
	/* The receiver parks on its input ring's bell: ring it if parked. */
	RK_GLOBAL struct rk_ring_hdr *bell = d->bell;
	if (RK_LOAD_SC32(&bell->cons_waiting) != 0) {
		RK_DEV_RING_SHARED(&bell->cons_bell, &bell->cons_bell_dev);
	}
	return RK_DEV_OK;
}

/* A new message from this kernel to kernel `dest`, over the route to it:
 * what a handler calls (rk_ctx_send_k2k on the CPU). Returns RK_DEV_OK,
 * RK_DEV_TERMINATING, RK_DEV_NOROUTE, RK_DEV_CLOSED or RK_DEV_TOOBIG. The
 * payload is global memory (in OpenCL C: the input slot or k->state). */
RK_DEVFN int rk_dev_send(struct rk_dev_kernel *k, rk_u64 dest, rk_u32 type,
			 const RK_GLOBAL rk_u8 *payload, rk_u32 len)
{
	rk_u64 id = (k->id << 40) | ((k->next_seq + 1) & 0xffffffffffull);
	return rk_dev_send_k2k(k, dest, type, 0, id, 0, k->id, rk_dev_hlc_tick(k, 0), payload, len);
}

/* ---- built-in kernels ------------------------------------------------------- */

/*
 * echo: same type and payload back.   add_f32: one float, the sum.
 * counter: a u64, messages handled so far including this one (in state).
 * sink: nothing.   forward: with no K2K route, like echo.
 * `in` and `payload` point at the input slot, still owned by the kernel.
 */
#if defined(RK_DEV_HOST) /* inlined into the drain loop (see rk_dev_drain_) */
RK_DEVFN_HOT
#else
RK_DEVFN
#endif
int rk_dev_builtin(struct rk_dev_kernel *k, const RK_GLOBAL struct rk_msg_hdr *in,
		   const RK_GLOBAL rk_u8 *payload, rk_u32 len)
{
	/* Every reply leaves through the one emit below: on a device each
	 * emit is inlined with its stall path, once per call site. On the
	 * host the common echo goes straight out. */
#if defined(RK_DEV_HOST)
	if (k->kind == RK_KIND_ECHO)
		return rk_dev_reply(k, in, in->type, payload, len);
#endif
	rk_u32 flags = RK_MSG_F_REPLY, out_len = len;
	float sum = 0.0f;
	rk_u64 count = 0;
	switch (k->kind) {
	case RK_KIND_FORWARD:
		/* On over the first route, unchanged; with no route (or a closed
		 * one: the receiver terminated) back to the host like echo, so
		 * nothing is lost. */
		if (k->routes)
			rk_dev_bind_routes(k);
		if (k->nbound) {
			int r = rk_dev_send_k2k(k, k->links->route[0].dest, in->type, in->flags,
						in->id, in->correlation_id, in->source,
						rk_dev_hlc_tick(k, in->hlc), payload, len);
			if (r == RK_DEV_TOOBIG) /* larger than the receiver's slots: to the
						   host, flagged, rather than dropped */
				flags |= RK_MSG_F_TOOBIG;
			else if (r != RK_DEV_CLOSED)
				return r;
		}
		break;
	case RK_KIND_ECHO: break;
	case RK_KIND_ADD_F32: {
		/* The payload starts 64 bytes into a 64-aligned slot: float loads
		 * are aligned. The sum is written straight into the reply slot. */
		const RK_GLOBAL float *v = (const RK_GLOBAL float *)payload;
		for (rk_u32 i = 0; i < len / 4; i++)
			sum += v[i];
		out_len = 4;
		break;
	}
	case RK_KIND_COUNTER:
		count = *(RK_GLOBAL rk_u64 *)k->state + 1;
		out_len = 8;
		break;
	case RK_KIND_SINK:
	default: return RK_DEV_OK;
	}
	RK_GLOBAL rk_u8 *out;
	int r = rk_dev_emit_begin(k, in->type, flags, in->id, in->source,
				  rk_dev_hlc_tick(k, in->hlc), out_len, &out);
	if (r != RK_DEV_OK)
		return r;
	if (k->kind == RK_KIND_ADD_F32) {
		*(RK_GLOBAL float *)out = sum;
	} else if (k->kind == RK_KIND_COUNTER) {
		*(RK_GLOBAL rk_u64 *)k->state = count; /* counted only once the reply has a slot */
		*(RK_GLOBAL rk_u64 *)out = count;
	} else if (len) {
		rk_dev_copy(out, payload, len);
	}
	rk_dev_emit_end(k);
	return RK_DEV_OK;
}

/* ---- the loop ---------------------------------------------------------------- */

#define RK_DEV_BATCH 32u
/* Loop turns per heartbeat update (a power of two). */
#define RK_DEV_HEARTBEAT_TURNS 16u

/* What one turn of the loop did. */
#define RK_TURN_IDLE	  0 /* nothing to do: the caller may back off */
#define RK_TURN_BUSY	  1 /* processed messages */
#define RK_TURN_TERMINATE 2 /* Terminate observed: leave the loop */

/* `k2k`: the kernel's private route table (NULL without K2K), from its
 * launch arguments, never from the region. Device code sets k->links to
 * a struct rk_dev_links of its own first (RK_DEV_ENTRY does); on the host
 * rk_dev_init() points it at k->links_store. */
RK_DEVFN void rk_dev_init(struct rk_dev_kernel *k, RK_GLOBAL struct rk_ctrl *ctrl,
			  RK_GLOBAL struct rk_ring_hdr *in, RK_GLOBAL struct rk_ring_hdr *out,
			  RK_GLOBAL rk_u8 *state, rk_u32 state_size, RK_GLOBAL struct rk_k2k *k2k)
{
	k->ctrl = ctrl;
	rk_dev_ring_bind(&k->in, in, 1);
	rk_dev_ring_bind(&k->out, out, 0);
	k->state = state;
	k->state_size = state_size;
	k->kind = ctrl->kind;
	k->id = ctrl->kernel_id;
	k->hlc = 0;
	k->next_seq = 0;
	k->observed = 0xffffffffu;
	k->unsent = 0;
	k->stalling = 0;
	k->blocked = 0;
	k->turns = 0;
	k->pt = 0;
	k->pt_at = 0;
#if defined(RK_DEV_HOST)
	(void)rk_dev_phys_hlc_cached(&k->pt, &k->pt_at);
#endif
	k->processed = RK_LOAD_ACQ64(&ctrl->messages_processed);
	k->sent = RK_LOAD_ACQ64(&ctrl->messages_sent);
	k->beats = RK_LOAD_ACQ64(&ctrl->heartbeat);
	k->routes = k2k;
	k->stats = k2k ? (RK_GLOBAL struct rk_routes *)(rk_uptr)k2k->stats_addr : 0;
	k->ninbound = 0;
	k->nbound = 0;
	k->cur_client = RK_DEV_NO_CLIENT;
#if defined(RK_DEV_HOST)
	k->links = &k->links_store;
#endif
	k->client_dirty = 0;
	k->stall_t0 = 0;
#if defined(RK_DEV_HOST)
	k->prof = k2k && k2k->profile_addr ? (struct rk_profile *)(rk_uptr)k2k->profile_addr : 0;
#else
	k->prof = 0;
#endif
	k->nclients = k2k ? k2k->nclients : 0;
	if (k->nclients > RK_MAX_CLIENTS)
		k->nclients = RK_MAX_CLIENTS;
	for (rk_u32 i = 0; i < RK_MAX_CLIENTS; i++) {
		k->links->client_tag[i] = 0;
		k->links->client[i].corrupt = 1; /* unbound: no room, never written */
		k->links->client[i].next = k->links->client[i].pub = 0;
	}
}

/* Bind inbound rings the host has added since the last look. */
RK_DEVFN void rk_dev_bind_inbound(struct rk_dev_kernel *k)
{
	/* Looked at every turn: relaxed, and acquire only when it grew. */
	rk_u32 n = RK_LOAD_RLX32(&k->routes->ninbound);
	if (n > RK_MAX_ROUTES)
		n = RK_MAX_ROUTES;
	if (n > k->ninbound)
		RK_FENCE_ACQ();
	for (; k->ninbound < n; k->ninbound++) {
		RK_GLOBAL struct rk_k2k_ring *e = &k->routes->inbound[k->ninbound];
		rk_dev_ring_bind_geo(&k->links->inbound[k->ninbound],
				     (RK_GLOBAL struct rk_ring_hdr *)(rk_uptr)e->ring_addr, 1,
				     e->capacity, e->slot_size);
	}
}

/* Bind outbound routes the host has added since the last look. */
RK_DEVFN void rk_dev_bind_routes(struct rk_dev_kernel *k)
{
	rk_u32 n = RK_LOAD_RLX32(&k->routes->nroutes);
	if (n > RK_MAX_ROUTES)
		n = RK_MAX_ROUTES;
	if (n > k->nbound)
		RK_FENCE_ACQ();
	for (; k->nbound < n; k->nbound++) {
		RK_GLOBAL struct rk_k2k_ring *e = &k->routes->route[k->nbound];
		struct rk_dev_route *d = &k->links->route[k->nbound];
		d->dest = e->dest_id;
		d->index = k->nbound;
		d->bell = (RK_GLOBAL struct rk_ring_hdr *)(rk_uptr)e->bell_addr;
		rk_dev_ring_bind_geo(&d->ring,
				     (RK_GLOBAL struct rk_ring_hdr *)(rk_uptr)e->ring_addr, 0,
				     e->capacity, e->slot_size);
	}
}

/*
 * A handler every backend compiles: RK_DEV_HANDLER(name) { ... } sees the
 * kernel `k`, the request header `in` and its `payload` of `len` bytes
 * (already checked against the slot), and returns RK_DEV_OK, what a send
 * returned (RK_DEV_TERMINATING stops the batch), or another RK_DEV_* code
 * (counted in the kernel's errors). Replies go out with rk_dev_reply() or
 * rk_dev_reply_begin()/rk_dev_emit_end(), K2K with rk_dev_send(); the
 * persistent per-kernel scratch is k->state (k->state_size bytes). Give
 * the handler a distinctive name: device.h's own functions have locals
 * such as `h`, `k` and `r` that would hide a handler so named.
 */
#define RK_DEV_HANDLER(name)                                                              \
	RK_DEVFN int name(struct rk_dev_kernel *k, const RK_GLOBAL struct rk_msg_hdr *in, \
			  const RK_GLOBAL rk_u8 *payload, rk_u32 len)

#ifdef RK_DEV_USER_HANDLER
RK_DEV_HANDLER(RK_DEV_USER_HANDLER);
#define RK_DEV_DISPATCH(k, h, p, n)                                          \
	((k)->kind == RK_KIND_USER ? RK_DEV_USER_HANDLER((k), (h), (p), (n)) \
				   : rk_dev_builtin((k), (h), (p), (n)))
#else
#define RK_DEV_DISPATCH(k, h, p, n) rk_dev_builtin((k), (h), (p), (n))
#endif

#if defined(RK_DEV_HOST)
/* A profiled loop's dispatch: out of line, so the handlers are inlined
 * into the plain loop only. */
static __attribute__((noinline, cold, unused)) int
rk_dev_dispatch_prof(struct rk_dev_kernel *k, const struct rk_msg_hdr *h, const rk_u8 *p, rk_u32 n)
{
	return RK_DEV_DISPATCH(k, h, p, n);
}
#endif

/*
 * Process up to one batch from `r`. Returns how many were consumed, and
 * sets *stop when the kernel must terminate mid-batch (the message that saw
 * it stays in the ring: undelivered, returned to the host). On host threads
 * it is built twice, with profiling (`prof` 1: k->prof is set) and without,
 * so a loop without a profile tests for one neither per batch nor per
 * message.
 */
#if defined(RK_DEV_HOST)
static inline __attribute__((always_inline)) rk_u32
rk_dev_drain_(struct rk_dev_kernel *k, struct rk_dev_ring *r, int *stop, const int prof)
#else
RK_DEVFN rk_u32 rk_dev_drain(struct rk_dev_kernel *k, struct rk_dev_ring *r, int *stop)
#endif
{
	rk_u32 was = r->corrupt;
	rk_u32 n = rk_dev_in_avail(r, RK_DEV_BATCH);
	if (r->corrupt && !was) /* counted once; the ring is not read again */
		RK_DEV_ADD64(&k->ctrl->errors, 1);
	rk_u32 cap = r->slot_size - RK_MSG_HDR_SIZE;
	rk_u32 done = 0;
#if defined(RK_DEV_HOST)
	if (prof && n) { /* the depth this batch found */
		rk_u64 depth = r->cache - r->next;
		RK_DEV_ADD64(&k->prof->batches, 1);
		RK_DEV_ADD64(&k->prof->depth_sum, depth);
		RK_DEV_ADD64(&k->prof->depth[rk_dev_bucket(depth)], 1);
		if (depth > k->prof->depth_max)
			RK_STORE_REL64(&k->prof->depth_max, depth);
	}
	if (n) /* one clock reading for the batch's timestamps */
		(void)rk_dev_phys_hlc_cached(&k->pt, &k->pt_at);
#endif
	for (; done < n; done++, k->processed++) {
		const RK_GLOBAL struct rk_msg_hdr *h =
			(const RK_GLOBAL struct rk_msg_hdr *)rk_dev_slot(r, r->next + done);
		/* The slot is untrusted: one read of len (an atomic load, so the
		 * compiler cannot read it again later), checked against the slot.
		 * The cast drops const only for nvcc's load builtin. */
		rk_u32 len = RK_LOAD_RLX32((RK_GLOBAL rk_u32 *)&h->len);
		if (h->magic != RK_MSG_MAGIC || h->version != RK_MSG_VERSION || len > cap) {
			RK_DEV_ADD64(&k->ctrl->errors, 1);
			continue;
		}
#if defined(RK_DEV_HOST)
		rk_u64 t0 = 0, sent_at = 0;
		if (prof) {
			t0 = rk_dev_now_ns();
			sent_at = (h->flags & RK_MSG_F_STAMPED) ? h->seq : 0;
		}
		int ret = prof ? rk_dev_dispatch_prof(k, h, (const rk_u8 *)(h + 1), len)
			       : RK_DEV_DISPATCH(k, h, (const rk_u8 *)(h + 1), len);
		if (prof && ret != RK_DEV_WOULDBLOCK) {
			rk_u64 t1 = rk_dev_now_ns();
			RK_GLOBAL struct rk_profile *p = k->prof;
			RK_DEV_ADD64(&p->messages, 1);
			RK_DEV_ADD64(&p->handler_ns, t1 - t0);
			RK_DEV_ADD64(&p->handler[rk_dev_bucket(t1 - t0)], 1);
			if (sent_at && sent_at <= t0) { /* a stamp from the future is not timed */
				RK_DEV_ADD64(&p->stamped, 1);
				RK_DEV_ADD64(&p->queue_wait_ns, t0 - sent_at);
				RK_DEV_ADD64(&p->queue_wait[rk_dev_bucket(t0 - sent_at)], 1);
			}
		}
#else
		int ret = RK_DEV_DISPATCH(k, h, (const RK_GLOBAL rk_u8 *)(h + 1), len);
#endif
		if (ret == RK_DEV_TERMINATING) {
			*stop = 1;
			break;
		}
		if (ret == RK_DEV_WOULDBLOCK) { /* this one again, next turn */
			k->blocked = 1;
			break;
		}
		if (ret != RK_DEV_OK) /* a send the handler could not make */
			RK_DEV_ADD64(&k->ctrl->errors, 1);
		if (k->observed != RK_CTRL_ACTIVE) {
			/* Deactivated while a send stalled: this one is done,
			 * the rest of the batch waits for the next activate. */
			done++;
			k->processed++;
			break;
		}
	}
	if (done) {
		rk_dev_flush(k); /* the count, then the replies */
		rk_dev_in_release(r, done);
	}
	return done;
}

#if defined(RK_DEV_HOST)
/* Profiled loops are the rare ones: the copy for them stays out of line. */
static __attribute__((noinline, cold, unused)) rk_u32
rk_dev_drain_prof(struct rk_dev_kernel *k, struct rk_dev_ring *r, int *stop)
{
	return rk_dev_drain_(k, r, stop, 1);
}

RK_DEVFN rk_u32 rk_dev_drain(struct rk_dev_kernel *k, struct rk_dev_ring *r, int *stop)
{
	if (RK_UNLIKELY(k->prof != 0))
		return rk_dev_drain_prof(k, r, stop);
	return rk_dev_drain_(k, r, stop, 0);
}
#endif

/* 1 when a message waits on the input ring or an inbound route (seq_cst:
 * this is the parker's re-check in the Dekker handshake). */
RK_DEVFN int rk_dev_has_input(struct rk_dev_kernel *k)
{
	if (!k->in.corrupt && RK_LOAD_SC64(&k->in.h->prod_tail) != k->in.next)
		return 1;
	if (k->routes) {
		rk_dev_bind_inbound(k);
		for (rk_u32 i = 0; i < k->ninbound; i++)
			if (!k->links->inbound[i].corrupt &&
			    RK_LOAD_SC64(&k->links->inbound[i].h->prod_tail) !=
				    k->links->inbound[i].next)
				return 1;
	}
	return 0;
}

/* One turn: mirror the state, process up to one batch per ring. */
RK_DEVFN int rk_dev_turn(struct rk_dev_kernel *k)
{
	RK_GLOBAL struct rk_ctrl *c = k->ctrl;
	/* Relaxed: the acquire is paid when it changed (or says Terminate). */
	rk_u32 desired = RK_LOAD_RLX32(&c->desired);
	/* A store per turn would cross PCIe on a GPU: every few turns. */
	if ((++k->turns & (RK_DEV_HEARTBEAT_TURNS - 1)) == 0) {
		k->beats += RK_DEV_HEARTBEAT_TURNS;
		RK_STORE_REL64(&c->heartbeat, k->beats);
	}
	if (desired != k->observed || desired == RK_CTRL_TERMINATE)
		RK_FENCE_ACQ();
	if (desired == RK_CTRL_TERMINATE)
		return RK_TURN_TERMINATE;
	if (desired != k->observed) {
		k->observed = desired;
		RK_STORE_REL32(&c->observed, desired);
	}
	if (desired != RK_CTRL_ACTIVE)
		return RK_TURN_IDLE;
	int stop = 0;
	k->blocked = 0;
	rk_u32 done = rk_dev_drain(k, &k->in, &stop);
	if (k->routes) {
		rk_dev_bind_inbound(k);
		for (rk_u32 i = 0; i < k->ninbound && !stop; i++)
			done += rk_dev_drain(k, &k->links->inbound[i], &stop);
	}
	if (stop)
		return RK_TURN_TERMINATE;
	/* A turn that gave up for room is not idle: the work is still there. */
	return done || k->blocked ? RK_TURN_BUSY : RK_TURN_IDLE;
}

#ifdef RK_DEV_HOST
#include <errno.h>

#include <ringkernel/ringkernel.h>

/* A handler as RK_DEV_HANDLER() declares it, seen from host C. */
typedef int (*rk_dev_handler_fn)(struct rk_dev_kernel *k, const struct rk_msg_hdr *in,
				 const rk_u8 *payload, rk_u32 len);

/*
 * The handler context of a CPU kernel (rk_ctx in ringkernel.h) is the
 * library's own: its fields are in no installed header. These two calls
 * cross between the library and what was built against this header; each
 * takes sizeof(struct rk_dev_kernel) as the caller saw it, and refuses
 * (-EPROTO, rk_last_error() says why) a caller built against another
 * device.h, calling nothing.
 *
 * rk_ctx_invoke() (a plugin, once per request): call the CPU handler `fn`
 * on request `req` of kernel `k`, unpacked in `m` (m->len already checked
 * against the slot). Returns what `fn` returned; *terminating (when not
 * NULL) is set to 1 if a send of the handler saw Terminate, else 0.
 *
 * rk_ctx_run_dev_handler() (RK_DEV_ENTRY's C form, inside a CPU handler):
 * run the device handler `fn` on the context's request. Returns 0, or
 * -EIO for a handler result other than RK_DEV_OK / RK_DEV_TERMINATING.
 */
int rk_ctx_invoke(rk_cpu_handler fn, struct rk_dev_kernel *k, const struct rk_msg_hdr *req,
		  const rk_message *m, size_t kernel_size, int *terminating);
int rk_ctx_run_dev_handler(rk_ctx *ctx, rk_dev_handler_fn fn, size_t kernel_size);
#endif

/* Mark the kernel stopped: the host's terminate waits for this flag. */
RK_DEVFN void rk_dev_exit(struct rk_dev_kernel *k)
{
	RK_STORE_REL32(&k->ctrl->observed, RK_CTRL_TERMINATED);
	RK_STORE_REL32(&k->ctrl->terminated, 1u);
}

/* The whole persistent loop: turns until Terminate, relaxing when idle. */
RK_DEVFN void rk_dev_run(struct rk_dev_kernel *k)
{
	for (;;) {
		int t = rk_dev_turn(k);
		if (t == RK_TURN_TERMINATE)
			break;
		if (t == RK_TURN_IDLE)
			RK_RELAX();
	}
	rk_dev_exit(k);
}

/*
 * RK_DEV_ENTRY(name): what a backend launches to run handler `name` (the
 * file defines RK_DEV_USER_HANDLER as `name` before including this one).
 *  - OpenCL C: __kernel name_persistent(base, ctrl_off, in_off, out_off,
 *    state_off, state_size, k2k_addr), the region as one buffer, parts by
 *    offset, and the private route table's address (0 without K2K);
 *  - CUDA / HIP: extern "C" __global__ name_persistent(ctrl, in, out,
 *    state, state_size, k2k), device addresses;
 *  - host C: int name_cpu(rk_ctx *, const rk_message *), the CPU handler
 *    of the kernel's rk_kernel_def, calling the same function.
 * Only the first work-item / lane runs the loop: a ring has one consumer.
 */
#if defined(__OPENCL_C_VERSION__)
#define RK_DEV_ENTRY(name)                                                                     \
	__kernel void name##_persistent(__global uchar *base, ulong ctrl_off, ulong in_off,    \
					ulong out_off, ulong state_off, uint state_size,       \
					ulong k2k_addr)                                        \
	{                                                                                      \
		if (get_global_id(0) != 0)                                                     \
			return;                                                                \
		struct rk_dev_kernel k;                                                        \
		struct rk_dev_links links;                                                     \
		k.links = &links;                                                              \
		rk_dev_init(&k, (__global struct rk_ctrl *)(base + ctrl_off),                  \
			    (__global struct rk_ring_hdr *)(base + in_off),                    \
			    (__global struct rk_ring_hdr *)(base + out_off), base + state_off, \
			    state_size, (__global struct rk_k2k *)k2k_addr);                   \
		rk_dev_run(&k);                                                                \
	}
#elif defined(__CUDACC__) || defined(__HIPCC__)
#define RK_DEV_ENTRY(name)                                                                         \
	extern "C" __global__ void name##_persistent(struct rk_ctrl *ctrl, struct rk_ring_hdr *in, \
						     struct rk_ring_hdr *out, rk_u8 *state,        \
						     rk_u32 state_size, struct rk_k2k *k2k)        \
	{                                                                                          \
		if (blockIdx.x != 0 || threadIdx.x != 0)                                           \
			return;                                                                    \
		struct rk_dev_kernel k;                                                            \
		struct rk_dev_links links;                                                         \
		k.links = &links;                                                                  \
		rk_dev_init(&k, ctrl, in, out, state, state_size, k2k);                            \
		rk_dev_run(&k);                                                                    \
	}
#else
#define RK_DEV_ENTRY(name)                                                              \
	int name##_cpu(rk_ctx *ctx, const rk_message *m);                               \
	int name##_cpu(rk_ctx *ctx, const rk_message *m)                                \
	{                                                                               \
		(void)m;                                                                \
		return rk_ctx_run_dev_handler(ctx, name, sizeof(struct rk_dev_kernel)); \
	}
#endif

#endif /* RINGKERNEL_DEVICE_H */

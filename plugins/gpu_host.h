/* SPDX-License-Identifier: MIT */
/*
 * plugins/gpu_host.h - the host side of a GPU plugin, written once for
 * CUDA and HIP (plugins/gpu_host.c, compiled into each plugin), the way
 * UCX's uct/cuda/base and uct/rocm/base share their code.
 *
 * A vendor (plugins/cuda/cuda.c, plugins/hip/hip.c) loads its driver,
 * probes and opens the device, and fills a `struct gpu_vendor`: a dozen
 * driver calls behind function pointers. Everything that is the same on
 * both - launch, terminate, release, residency, dead-kernel detection, the
 * bell ringer, saving the caller's device - is here, and each rule is
 * stated once:
 *
 * - Caller's device: every driver call made on the caller's thread runs
 *   between gpu_enter() and gpu_leave(), which save the thread's current
 *   context (CUDA) or device (HIP), make ours current, and put the
 *   caller's back. The application's own current device is never changed.
 * - Residency: min(occupancy of the function actually launched x SMs, the
 *   hardware's concurrency limit: CUDA's 128 resident grids and
 *   CUDA_DEVICE_MAX_CONNECTIONS work queues, HIP's GPU_MAX_HW_QUEUES),
 *   less the kernels other runtimes of this process keep resident. A
 *   launch beyond it is -EBUSY naming the limit.
 * - Memory: a kernel's region and route table stay registered until its
 *   stream says the launch has completed. A kernel that never became
 *   resident, or still runs, keeps them (leaked, with a warning): a
 *   launch queued behind another kernel may still start, and it must not
 *   find its memory gone.
 * - Unregistering waits (HIP): hipHostUnregister synchronizes every stream
 *   of the device, persistent kernels included. Where the vendor says so,
 *   unregistering is deferred until no kernel of this plugin is resident
 *   in the process (see gpu_unpin in gpu_host.c).
 * - Dead kernels: the bell thread queries the kernel's stream; an error (a
 *   trap, an illegal address) marks the kernel failed. terminate then
 *   returns -EIO with "kernel trapped: <driver's string>" at once instead
 *   of timing out, and kernel_error reports it.
 * - A stream holds a hardware queue: a terminated kernel's stream is
 *   destroyed at terminate, with its residency slot.
 *
 * The file has two parts. The static inline helpers first (address
 * translation, descriptor checks, the bell ringer's pieces, the terminate
 * wait) are also the OpenCL plugin's, which includes this header but not
 * gpu_host.c; the GPU host's interface follows them.
 */
#ifndef RK_PLUGINS_GPU_HOST_H
#define RK_PLUGINS_GPU_HOST_H

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/plugin.h>

#include "../shm/sys.h"

static inline void gpu_sleep_ns(long ns)
{
	struct timespec ts = { 0, ns };
	nanosleep(&ts, NULL);
}

/* Device address of `host`, a pointer into the registered region. */
static inline uint64_t gpu_translate(const void *host, const void *base, uint64_t dev_base)
{
	return dev_base + (uint64_t)((const char *)host - (const char *)base);
}

/*
 * 0 when every pointer of the descriptor lies in its region. K2K routes
 * hold host virtual addresses (the runtime writes them); a plugin passes
 * `host_va` when it has checked, or will check (gpu_check_routes), that its
 * device dereferences those very addresses, else a kernel with routes is
 * refused.
 */
static inline int gpu_check_desc(const char *plugin, const struct rk_launch_desc *d, int host_va)
{
	const char *base = rk_region_base(d->region);
	size_t size = rk_region_size(d->region);
	const void *p[] = { d->ctrl, d->in, d->out, d->state };
	if (d->struct_size < sizeof(*d))
		return rk_error(-EINVAL, "%s: launch descriptor too old", plugin);
	for (unsigned i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		if ((const char *)p[i] < base || (const char *)p[i] >= base + size)
			return rk_error(-EINVAL, "%s: launch pointer outside the kernel's region",
					plugin);
	if (!host_va && d->k2k)
		return rk_error(-ENOTSUP,
				"%s: kernel-to-kernel routes need device addresses in the route "
				"table: not supported on this device yet",
				plugin);
	return 0;
}

/*
 * K2K on CUDA / HIP: the route table holds host addresses, and a sender
 * writes into the receiver's region. Both regions are registered with the
 * device; where the device sees registered memory at its host address
 * (unified addressing, the rule on 64-bit Linux, where the driver's
 * device pointer for it is the host pointer) those addresses are valid as
 * they are. Checked per region: a kernel with routes whose region the
 * device maps elsewhere is refused.
 */
static inline int gpu_check_routes(const char *plugin, const struct rk_launch_desc *d,
				   const void *host, uint64_t dev_base)
{
	if (d->k2k && dev_base != (uint64_t)(uintptr_t)host)
		return rk_error(-ENOTSUP,
				"%s: kernel-to-kernel routes need the device to see the region at "
				"its host address (device %#llx, host %p)",
				plugin, (unsigned long long)dev_base, host);
	return 0;
}

struct gpu_bells {
	struct rk_ring_hdr *in, *out;
	struct rk_k2k *k2k; /* attached clients' reply rings, or NULL */
	pthread_t thread;
	int running; /* atomic: 0 asks the thread to stop */
	int started;
};

/* Carry a ring of the device's bell word (which only the device writes) to
 * the host's (which only host threads write): bump it and wake its
 * sleepers. `seen` is the device word's value last carried. */
static inline void gpu_ring_bell(uint32_t *dev_word, uint32_t *bell, uint32_t *seen)
{
	uint32_t v = __atomic_load_n(dev_word, __ATOMIC_ACQUIRE);
	if (v != *seen) {
		*seen = v;
		__atomic_fetch_add(bell, 1, __ATOMIC_SEQ_CST);
		syscall(SYS_futex, bell, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	}
}

/* Wake a host side that parked although its condition already holds: the
 * device's half of the Dekker handshake may be weaker than seq_cst (OpenCL
 * 1.2 fences, for one), so the watcher re-checks the ring itself. */
static inline void gpu_unstick(uint32_t *waiting, uint32_t *bell, int ready)
{
	if (ready && __atomic_load_n(waiting, __ATOMIC_SEQ_CST) != 0) {
		__atomic_fetch_add(bell, 1, __ATOMIC_SEQ_CST);
		syscall(SYS_futex, bell, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	}
}

/* The same for the reply rings of attached clients (other processes,
 * parked on their ring's bell): the addresses are the owner's, from the
 * private route table. `seen` holds RK_MAX_CLIENTS bell values. */
static inline void gpu_client_bells(struct rk_k2k *t, uint32_t *seen)
{
	uint32_t n = t ? __atomic_load_n(&t->nclients, __ATOMIC_ACQUIRE) : 0;
	for (uint32_t i = 0; i < n && i < RK_MAX_CLIENTS; i++) {
		if (__atomic_load_n(&t->client[i].state, __ATOMIC_ACQUIRE) != RK_ROUTE_OPEN)
			continue;
		struct rk_ring_hdr *h = (struct rk_ring_hdr *)(uintptr_t)t->client[i].ring_addr;
		gpu_ring_bell(&h->cons_bell_dev, &h->cons_bell, &seen[i]);
		uint64_t p = __atomic_load_n(&h->prod_tail, __ATOMIC_SEQ_CST);
		uint64_t c = __atomic_load_n(&h->cons_head, __ATOMIC_SEQ_CST);
		gpu_unstick(&h->cons_waiting, &h->cons_bell, p != c);
	}
}

static void *gpu_bells_main(void *arg)
{
	struct gpu_bells *b = arg;
	uint32_t cons = __atomic_load_n(&b->out->cons_bell_dev, __ATOMIC_ACQUIRE);
	uint32_t prod = __atomic_load_n(&b->in->prod_bell_dev, __ATOMIC_ACQUIRE);
	uint32_t clients[RK_MAX_CLIENTS] = { 0 };
	while (__atomic_load_n(&b->running, __ATOMIC_ACQUIRE)) {
		/* The kernel rings out->cons_bell_dev after publishing to a
		 * parked host consumer, in->prod_bell_dev after freeing room for
		 * a parked host producer. */
		gpu_ring_bell(&b->out->cons_bell_dev, &b->out->cons_bell, &cons);
		gpu_ring_bell(&b->in->prod_bell_dev, &b->in->prod_bell, &prod);
		uint64_t op = __atomic_load_n(&b->out->prod_tail, __ATOMIC_SEQ_CST);
		uint64_t oc = __atomic_load_n(&b->out->cons_head, __ATOMIC_SEQ_CST);
		gpu_unstick(&b->out->cons_waiting, &b->out->cons_bell, op != oc);
		uint64_t ip = __atomic_load_n(&b->in->prod_head, __ATOMIC_SEQ_CST);
		uint64_t ic = __atomic_load_n(&b->in->cons_head, __ATOMIC_SEQ_CST);
		gpu_unstick(&b->in->prod_waiting, &b->in->prod_bell, ip - ic < b->in->capacity);
		gpu_client_bells(b->k2k, clients);
		gpu_sleep_ns(20000);
	}
	return NULL;
}

static inline int gpu_bells_start(struct gpu_bells *b, struct rk_ring_hdr *in,
				  struct rk_ring_hdr *out, struct rk_k2k *k2k)
{
	b->in = in;
	b->out = out;
	b->k2k = k2k;
	__atomic_store_n(&b->running, 1, __ATOMIC_RELEASE);
	int ret = pthread_create(&b->thread, NULL, gpu_bells_main, b);
	if (ret)
		return -ret;
	b->started = 1;
	return 0;
}

static inline void gpu_bells_stop(struct gpu_bells *b)
{
	if (!b->started)
		return;
	__atomic_store_n(&b->running, 0, __ATOMIC_RELEASE);
	pthread_join(b->thread, NULL);
	b->started = 0;
}

/* Wait for the device loop's terminated flag, up to timeout_ns. */
static inline int gpu_wait_terminated(const char *plugin, struct rk_ctrl *ctrl, uint64_t timeout_ns)
{
	uint64_t deadline = rk_sys_deadline(timeout_ns); /* saturates on RK_FOREVER */
	uint64_t hb0 = __atomic_load_n(&ctrl->heartbeat, __ATOMIC_ACQUIRE);
	while (!__atomic_load_n(&ctrl->terminated, __ATOMIC_ACQUIRE)) {
		if (rk_sys_now_ns() >= deadline) {
			uint64_t hb = __atomic_load_n(&ctrl->heartbeat, __ATOMIC_ACQUIRE);
			return rk_error(-ETIMEDOUT,
					"%s: kernel %llu did not stop (%s: heartbeat %llu -> %llu)",
					plugin, (unsigned long long)ctrl->kernel_id,
					hb == hb0 ? "hung, heartbeat frozen" : "alive, still busy",
					(unsigned long long)hb0, (unsigned long long)hb);
		}
		gpu_sleep_ns(50000);
	}
	return 0;
}

/* ---- the GPU host (plugins/gpu_host.c, CUDA and HIP) ---------------------- */

struct gpu_ctx;

/* What was current on the calling thread before gpu_enter(). */
struct gpu_saved {
	void *ctx;   /* CUDA: the caller's current context (NULL: none) */
	int device;  /* HIP: the caller's current device */
	int changed; /* enter() made another current: leave() puts this back */
};

/*
 * The vendor table. Driver calls return the driver's own code (CUresult,
 * hipError_t: 0 is success on both); error_string and error_errno turn
 * one into words and a negative errno.
 */
struct gpu_vendor {
	const char *name; /* "cuda", "hip": the prefix of every message */
	const char *code; /* "CUresult", "hipError_t" */
	int not_ready;	  /* stream_query's code while work is pending */
	/* 1: unregistering host memory waits for every stream of the device
	 * (ROCm's ihipHostUnregister calls SyncAllStreams). */
	int unregister_waits;
	/* Make c's device current on this thread, saving what was; put it back. */
	int (*enter)(const struct gpu_ctx *c, struct gpu_saved *s);
	void (*leave)(const struct gpu_saved *s);
	int (*host_register)(void *p, size_t size);
	int (*host_unregister)(void *p);
	int (*host_device_pointer)(void *p, uint64_t *dptr);
	int (*stream_create)(void **s);
	int (*stream_destroy)(void *s);
	int (*stream_query)(void *s);
	int (*stream_synchronize)(void *s);
	int (*launch)(void *fn, uint32_t grid, uint32_t block, void *stream, void **args);
	int (*module_load)(void **mod, const void *image);
	int (*module_unload)(void *mod);
	/* Look up `name` and finish loading it (lazy loading defers a
	 * function's load to its first launch otherwise). */
	int (*module_function)(void **fn, void *mod, const char *name);
	int (*occupancy)(int *blocks_per_sm, void *fn, uint32_t block);
	const char *(*error_string)(int r);
	int (*error_errno)(int r);
	/* The vendor's part of close (the CUDA primary context); may be NULL. */
	void (*close)(struct gpu_ctx *c);
};

struct gpu_module; /* a user image, loaded once per context */
struct gpu_kernel; /* one launch */

/* Per runtime: what open made. The vendor fills the first block, then
 * calls gpu_ctx_open(). */
struct gpu_ctx {
	const struct gpu_vendor *v;
	int device;	  /* the ordinal */
	int dev;	  /* CUDA: the CUdevice */
	void *handle;	  /* CUDA: the retained primary context */
	uint32_t sms;	  /* multiprocessors / compute units */
	uint32_t hw_max;  /* kernels the hardware runs at once; 0: no limit known */
	char hw_why[128]; /* which limit hw_max is, in words */

	void *mod, *fn; /* the embedded image and its rk_persistent */
	struct gpu_module *mods;
	struct gpu_kernel *kernels; /* launched and not released (gpu_lock) */
	unsigned live;		    /* kernels launched and not known stopped (gpu_lock) */
};

/* A driver code as a negative errno, with "<vendor>: <what>: <string>" in
 * rk_last_error(). */
int gpu_fail(const struct gpu_vendor *v, int r, const char *what);

/* Enter/leave c's device on the calling thread (see the rules above). */
int gpu_enter(const struct gpu_ctx *c, struct gpu_saved *s);
void gpu_leave(const struct gpu_ctx *c, const struct gpu_saved *s);

/* Open: load `image` and look up `entry` in it (the vendor's fields are
 * set); close frees everything open and the launches made. */
int gpu_ctx_open(struct gpu_ctx *c, const void *image, const char *entry);

/* The ops every GPU plugin shares (struct rk_plugin_ops). */
void gpu_host_close(void *ctx);
int gpu_host_residency(void *ctx, uint32_t block, uint32_t *max_p);
int gpu_host_launch(void *ctx, const struct rk_launch_desc *d, void **kernel_p);
void gpu_host_signal(void *ctx, void *kernel);
void gpu_host_poll(void *ctx, void *kernel);
int gpu_host_terminate(void *ctx, void *kernel, uint64_t timeout_ns);
void gpu_host_release(void *ctx, void *kernel);
int gpu_host_kernel_error(void *ctx, void *kernel);

/* Helpers for the vendors. */

/* The integer in environment variable `name` (secure_getenv: set-uid
 * programs see the default), `def` when unset or not a number in [lo, hi]. */
long gpu_env_long(const char *name, long def, long lo, long hi);

/* Targets of a clang offload bundle ("gfx90a", ...), space separated, in
 * out; 0, or -EINVAL when `image` is not a bundle. */
int gpu_bundle_targets(const void *image, size_t size, char *out, size_t out_len);

/* 1 when `isa` ("gfx90a:sramecc+:xnack-") has a code object among
 * `targets` (gpu_bundle_targets' list): the processor name must match, and
 * a target's features, where it names any, must be the device's. */
int gpu_isa_in(const char *isa, const char *targets);

/* A warning on stderr ("ringkernel: warn: cuda: ..."), unless RK_LOG=error. */
void gpu_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* RK_PLUGINS_GPU_HOST_H */

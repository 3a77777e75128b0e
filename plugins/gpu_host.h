/* SPDX-License-Identifier: MIT */
/*
 * plugins/gpu_host.h - host-side helpers shared by the CUDA and HIP
 * plugins (static functions, included by each plugin's one C file).
 *
 * - Address translation: the kernel's region is registered with the device
 *   as a whole; a host address inside it becomes device base + offset.
 * - Terminate: wait for ctrl->terminated with a timeout, telling a hung
 *   kernel (heartbeat frozen) from a busy one in the error.
 * - Bell ringer: a GPU cannot make the futex syscall, so the device loop
 *   only bumps a ring's bell (RK_DEV_WAKE is a no-op there). One host
 *   thread per kernel watches the bells of its input and output rings and
 *   issues the FUTEX_WAKE on the kernel's behalf.
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
	pthread_t thread;
	int running; /* atomic: 0 asks the thread to stop */
	int started;
};

static inline void gpu_ring_bell(uint32_t *bell, uint32_t *seen)
{
	uint32_t v = __atomic_load_n(bell, __ATOMIC_ACQUIRE);
	if (v != *seen) {
		*seen = v;
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

static void *gpu_bells_main(void *arg)
{
	struct gpu_bells *b = arg;
	uint32_t cons = __atomic_load_n(&b->out->cons_bell, __ATOMIC_ACQUIRE);
	uint32_t prod = __atomic_load_n(&b->in->prod_bell, __ATOMIC_ACQUIRE);
	while (__atomic_load_n(&b->running, __ATOMIC_ACQUIRE)) {
		/* The kernel bumps out->cons_bell after publishing to a parked
		 * host consumer, in->prod_bell after freeing room for a parked
		 * host producer. */
		gpu_ring_bell(&b->out->cons_bell, &cons);
		gpu_ring_bell(&b->in->prod_bell, &prod);
		uint64_t op = __atomic_load_n(&b->out->prod_tail, __ATOMIC_SEQ_CST);
		uint64_t oc = __atomic_load_n(&b->out->cons_head, __ATOMIC_SEQ_CST);
		gpu_unstick(&b->out->cons_waiting, &b->out->cons_bell, op != oc);
		uint64_t ip = __atomic_load_n(&b->in->prod_head, __ATOMIC_SEQ_CST);
		uint64_t ic = __atomic_load_n(&b->in->cons_head, __ATOMIC_SEQ_CST);
		gpu_unstick(&b->in->prod_waiting, &b->in->prod_bell, ip - ic < b->in->capacity);
		gpu_sleep_ns(20000);
	}
	return NULL;
}

static inline int gpu_bells_start(struct gpu_bells *b, struct rk_ring_hdr *in,
				  struct rk_ring_hdr *out)
{
	b->in = in;
	b->out = out;
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

#endif /* RK_PLUGINS_GPU_HOST_H */

/* SPDX-License-Identifier: MIT */
/*
 * rk-plugin-skeleton: a template for a third-party ringkernel backend.
 *
 * Copy this directory, rename "skeleton" to your backend's name (the file
 * must be rk-plugin-NAME.so and rk_plugin.name must be NAME), and replace
 * each part marked "YOUR DEVICE" with what your device does. As shipped it
 * is a complete, working backend: each kernel is one host thread running
 * the portable persistent loop of <ringkernel/device.h>, the same loop the
 * CPU, CUDA, HIP and OpenCL plugins run. It keeps no pool and no batching,
 * so every op is short enough to read as the op's contract.
 *
 * What the core does and what a plugin does:
 *  - The core builds one shared region per kernel (control block, input
 *    and output rings, state) and owns the lifecycle: it validates every
 *    transition, writes ctrl->desired and then calls signal(). A plugin
 *    never decides a state; its kernel only mirrors ctrl->desired into
 *    ctrl->observed (rk_dev_turn() does that) and sets ctrl->terminated
 *    when it leaves its loop (rk_dev_exit()).
 *  - Messages never pass through the plugin: the host writes the input
 *    ring and reads the output ring; the kernel reads and writes the same
 *    memory. The plugin's job is to make the kernel run, wake it when the
 *    core asks, and tell the core when it has stopped.
 *
 * Built out of tree against an installed ringkernel-c: see Makefile and
 * README.md next to this file.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/plugin.h> /* the ops table, rk_launch_desc, rk_error() */
#include <ringkernel/ring.h>   /* the parking protocol of the rings */
/* The portable loop. Compiled as host C it uses C11 atomics and futexes;
 * a device backend compiles this same header with its own toolchain
 * (nvcc, hipcc, an OpenCL compiler) into the image it launches. Without
 * RK_DEV_USER_HANDLER only the built-in kinds (echo, add_f32, counter,
 * forward, sink) run. */
#include <ringkernel/device.h>

#define SKELETON_VERSION "0.1.0"

/* Below the CPU plugin (100): installing this template never changes what
 * RK_BACKEND=auto picks. A real device backend takes its own rank (CUDA
 * 300, HIP 200, OpenCL 150: see RK_PRIORITY_* in plugin.h). */
#define SKELETON_PRIORITY 10

/* Kernels that can be resident at once. YOUR DEVICE: compute this from
 * the device (multiprocessors x resident blocks of `block` lanes each);
 * here it is a bound on host threads. */
#define SKELETON_MAX_KERNELS 256u

/* Idle turns spent spinning before the kernel thread parks, and the
 * longest it sleeps parked (a wake that was missed costs at most this). */
#define SKELETON_SPIN_TURNS 2048u
#define SKELETON_PARK_NS    1000000ull

/* Per runtime (open .. close). YOUR DEVICE: the device handle, its
 * context or queue, the loaded code image. */
struct skeleton_ctx {
	int device;
	uint32_t nkernels; /* atomic: resident kernels, for residency/-EBUSY */
};

/* Per kernel (launch .. release). */
struct skeleton_kernel {
	struct rk_dev_kernel k; /* the loop's state: bound rings, clock, counters */
	struct skeleton_ctx *ctx;
	pthread_t thread;
	uint32_t done; /* atomic futex word: 1 once the loop has exited */
	char name[64];
};

/* Shared futexes, not FUTEX_PRIVATE: the region may be mapped by other
 * processes (attached clients) that wait on the same words. */
static void futex_wake_all(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void futex_wait_ns(uint32_t *word, uint32_t expected, uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
	syscall(SYS_futex, word, FUTEX_WAIT, expected, &ts, NULL, 0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- the kernel ------------------------------------------------------------ */

/* Whether a turn of the loop has something to do: the core asked for
 * another state (Terminate included: the loop never mirrors it), or input
 * waits while Active. seq_cst loads: this is the parker's re-check. */
static int has_work(struct rk_dev_kernel *k)
{
	uint32_t desired = __atomic_load_n(&k->ctrl->desired, __ATOMIC_SEQ_CST);
	if (desired != k->observed)
		return 1;
	return desired == RK_CTRL_ACTIVE && rk_dev_has_input(k);
}

/*
 * Sleep until a producer publishes on the input ring, a K2K sender rings
 * it, or signal() is called: all three bump the input ring's consumer bell
 * and wake it, but only after they saw a parked consumer. Hence the
 * protocol: count ourselves as waiting (rk_ring_park_consumer), re-check,
 * then sleep while the bell still holds the value read before the check.
 *
 * YOUR DEVICE: a GPU kernel cannot sleep on a futex; it backs off in
 * place (RK_RELAX: __nanosleep, s_sleep) and this function does not exist.
 */
static void park(struct skeleton_kernel *sk)
{
	struct rk_ring_hdr *h = sk->k.in.h;
	struct rk_ring r = { .hdr = h, .flags = h->flags & RK_RING_ASYM };
	uint32_t *bell;
	uint32_t v = rk_ring_park_consumer(&r, &bell);
	if (!has_work(&sk->k))
		futex_wait_ns(bell, v, SKELETON_PARK_NS);
	rk_ring_unpark_consumer(&r);
}

/*
 * The kernel itself: turns of the portable loop until Terminate. Each turn
 * mirrors the state, drains up to one batch of input, runs the handler and
 * publishes the replies. YOUR DEVICE: this is the body of the kernel you
 * launch (RK_DEV_ENTRY in device.h generates it for CUDA, HIP and OpenCL:
 * init, rk_dev_run(), exit on the device's first lane).
 */
static void *kernel_thread(void *arg)
{
	struct skeleton_kernel *sk = arg;
	unsigned idle = 0;
	for (;;) {
		int t = rk_dev_turn(&sk->k);
		if (t == RK_TURN_TERMINATE)
			break;
		if (t == RK_TURN_BUSY) {
			idle = 0;
			continue;
		}
		if (++idle < SKELETON_SPIN_TURNS) {
			RK_RELAX();
			continue;
		}
		park(sk);
		idle = 0;
	}
	rk_dev_exit(&sk->k); /* ctrl->observed = Terminated, ctrl->terminated = 1 */
	__atomic_store_n(&sk->done, 1, __ATOMIC_RELEASE);
	futex_wake_all(&sk->done);
	return NULL;
}

/* ---- the ops ------------------------------------------------------------- */

/*
 * probe: may this backend run on `device`? Called by rk-info and by every
 * runtime that considers this backend, often in a process that will never
 * use it, so it must be cheap and leave nothing behind. 0 with *priority
 * set, or a negative errno (-ENODEV: no such device) with a reason a user
 * can act on in `why`. YOUR DEVICE: dlopen() the vendor driver here (never
 * link it: the plugin must load on machines without it), initialise it and
 * count devices; say which library or device node was missing.
 */
static int skeleton_probe(int device, int *priority, char *why, size_t why_len)
{
	if (device != 0) {
		snprintf(why, why_len, "the skeleton backend has one device, 0 (asked for %d)",
			 device);
		return -ENODEV;
	}
	*priority = SKELETON_PRIORITY;
	snprintf(why, why_len, "template backend: one host thread per kernel");
	return 0;
}

/* open: one per runtime. YOUR DEVICE: create the context/queue, load the
 * code image holding the persistent loop. Errors go through rk_error() so
 * that rk_last_error() tells the user why. */
static int skeleton_open(int device, void **ctx_p)
{
	struct skeleton_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return rk_error(-ENOMEM, "skeleton: out of memory");
	c->device = device;
	*ctx_p = c;
	return 0;
}

/* close: the core has terminated and released every kernel first. */
static void skeleton_close(void *ctx)
{
	free(ctx);
}

/* residency: how many persistent kernels of `block` lanes fit at once.
 * The core refuses a launch beyond it rather than queue it: a persistent
 * kernel that is not resident would never run. */
static int skeleton_residency(void *ctx, uint32_t block, uint32_t *max_kernels_p)
{
	(void)ctx;
	(void)block; /* YOUR DEVICE: fewer kernels fit when blocks are larger */
	*max_kernels_p = SKELETON_MAX_KERNELS;
	return 0;
}

/*
 * launch: make one kernel resident, observing its control block. On
 * return the kernel runs (or is about to): the core then waits for
 * ctrl->observed to follow ctrl->desired. -EBUSY when it cannot be kept
 * resident, never "pending".
 *
 * YOUR DEVICE: register d->region for the device (cuMemHostRegister on
 * rk_region_base(d->region), rk_region_size(d->region) bytes), translate
 * d->ctrl, d->in, d->out, d->state and d->k2k to device addresses, and
 * launch the image's persistent entry on a stream of its own. A user kind
 * (RK_KIND_USER) brings its code in d->device_image / d->device_entry.
 */
static int skeleton_launch(void *ctx, const struct rk_launch_desc *d, void **kernel_p)
{
	struct skeleton_ctx *c = ctx;
	if (d->struct_size < sizeof(*d))
		return rk_error(-EINVAL, "skeleton: launch descriptor too old");
	if (d->kind == RK_KIND_USER)
		return rk_error(-ENOTSUP, "skeleton: kernel %s: user kernels are not supported",
				d->kernel_name);
	if (__atomic_add_fetch(&c->nkernels, 1, __ATOMIC_ACQ_REL) > SKELETON_MAX_KERNELS) {
		__atomic_sub_fetch(&c->nkernels, 1, __ATOMIC_ACQ_REL);
		return rk_error(-EBUSY, "skeleton: %u kernels resident already",
				SKELETON_MAX_KERNELS);
	}
	struct skeleton_kernel *sk = calloc(1, sizeof(*sk));
	if (!sk) {
		__atomic_sub_fetch(&c->nkernels, 1, __ATOMIC_ACQ_REL);
		return rk_error(-ENOMEM, "skeleton: out of memory");
	}
	sk->ctx = c;
	snprintf(sk->name, sizeof(sk->name), "%s", d->kernel_name);
	/* Bind the loop to the kernel's control block, rings, state and
	 * private K2K route table (host addresses here; device addresses on a
	 * device). */
	rk_dev_init(&sk->k, d->ctrl, d->in, d->out, d->state, d->state_size, d->k2k);
	int ret = pthread_create(&sk->thread, NULL, kernel_thread, sk);
	if (ret) {
		free(sk);
		__atomic_sub_fetch(&c->nkernels, 1, __ATOMIC_ACQ_REL);
		return rk_error(-ret, "skeleton: pthread_create: %s", strerror(ret));
	}
	char tname[16];
	snprintf(tname, sizeof(tname), "rk-sk-%s", d->kernel_name);
	pthread_setname_np(sk->thread, tname);
	*kernel_p = sk;
	return 0;
}

/*
 * signal: the core changed ctrl->desired; make the kernel look. Called
 * from any thread, often right after a state change, and must not block.
 * Here: ring the bell the kernel thread parks on. YOUR DEVICE: a GPU
 * kernel polls ctrl->desired on its own, so signal may do nothing; or it
 * writes a doorbell the kernel watches (cuStreamWriteValue32).
 */
static void skeleton_signal(void *ctx, void *kernel)
{
	(void)ctx;
	struct skeleton_kernel *sk = kernel;
	uint32_t *bell = &sk->k.in.h->cons_bell;
	__atomic_fetch_add(bell, 1, __ATOMIC_SEQ_CST);
	futex_wake_all(bell);
}

/*
 * terminate: ctrl->desired is already Terminate (and signal() was called).
 * Wait up to timeout_ns for the kernel to leave its loop; 0 once it has,
 * -ETIMEDOUT (with rk_error) if it did not. The core then calls release()
 * only for a kernel that stopped. YOUR DEVICE: wait for
 * ctrl->terminated and then for the stream (cuStreamSynchronize).
 */
static int skeleton_terminate(void *ctx, void *kernel, uint64_t timeout_ns)
{
	struct skeleton_kernel *sk = kernel;
	uint64_t deadline = now_ns() + timeout_ns;
	skeleton_signal(ctx, kernel); /* it may have parked just before the last signal */
	while (!__atomic_load_n(&sk->done, __ATOMIC_ACQUIRE)) {
		uint64_t now = now_ns();
		if (now >= deadline)
			return rk_error(-ETIMEDOUT, "skeleton: kernel %s did not stop", sk->name);
		futex_wait_ns(&sk->done, 0, deadline - now);
	}
	return 0;
}

/* release: free what launch() made; the kernel has terminated. YOUR
 * DEVICE: destroy its stream, unregister its region. */
static void skeleton_release(void *ctx, void *kernel)
{
	struct skeleton_ctx *c = ctx;
	struct skeleton_kernel *sk = kernel;
	pthread_join(sk->thread, NULL); /* it has set `done`: only its return is left */
	free(sk);
	__atomic_sub_fetch(&c->nkernels, 1, __ATOMIC_ACQ_REL);
}

/*
 * kernel_error (optional): 0 while the kernel can run; -EIO, with the
 * reason in rk_last_error(), once its device reported a fault (a trap, an
 * illegal address). Cheap and callable from any thread: the core asks it
 * while senders and receivers wait, so that they fail with -EIO instead of
 * waiting for a kernel that is gone. A host thread cannot fault on its own
 * (a crash takes the whole process), so this one always says 0. YOUR
 * DEVICE: read the fault your device's watcher recorded for the kernel
 * (cuStreamQuery: CUDA_ERROR_ILLEGAL_ADDRESS) and say what it was.
 */
static int skeleton_kernel_error(void *ctx, void *kernel)
{
	(void)ctx;
	(void)kernel;
	return 0;
}

/* The table the core drives. struct_size lets an older core skip ops it
 * does not know; ops a newer core adds are NULL (absent) here. */
static const struct rk_plugin_ops skeleton_ops = {
	.struct_size = sizeof(struct rk_plugin_ops),
	.probe = skeleton_probe,
	.open = skeleton_open,
	.close = skeleton_close,
	.residency = skeleton_residency,
	.launch = skeleton_launch,
	.signal = skeleton_signal,
	/* poll: for a device that cannot wake a host futex itself (a GPU):
	 * the core calls it while it waits, and it issues the futex wakes the
	 * kernel only bumped a bell for (see RK_DEV_WAKE in device.h). A host
	 * thread makes the syscall itself, so there is none here. */
	.poll = NULL,
	.terminate = skeleton_terminate,
	.release = skeleton_release,
	.kernel_error = skeleton_kernel_error,
};

static const struct rk_plugin skeleton_plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR, /* the loader refuses another major */
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "skeleton", /* must match the file: rk-plugin-skeleton.so */
	.version = SKELETON_VERSION,
	.ops = &skeleton_ops,
	.layout_version = RK_LAYOUT_VERSION,
};

/* The one symbol the plugin exports (see the Makefile's version script). */
const struct rk_plugin *rk_plugin_entry(void)
{
	return &skeleton_plugin;
}

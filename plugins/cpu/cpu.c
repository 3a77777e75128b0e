/* SPDX-License-Identifier: MIT */
/*
 * rk-plugin-cpu: kernels run on host threads executing the portable loop
 * of ringkernel/device.h, the very code the GPU plugins compile.
 *
 * Built-in kernels are multiplexed onto a pool of worker threads, at most
 * one per core the host does not need (cores - 1, at least 1;
 * RK_CPU_WORKERS overrides): a worker runs one turn of each of its kernels
 * in turn (a block's lanes are a loop, not threads). With more spinning
 * threads than cores, a stage holding a message would wait behind a
 * spinner on its CPU; several kernels on one worker hand messages on
 * without a context switch. A built-in whose send finds a full ring gives
 * up its turn (RK_DEV_STALL: the message stays for the next one), so the
 * stage that drains that ring, maybe on the same worker, runs. A user
 * kernel gets a worker of its own: its handler may have done things before
 * it sends, so it is never stopped half-way and waits in place.
 *
 * An idle worker spins for RK_CPU_SPIN_NS (default 50 us), then parks on
 * the input-ring consumer bells of all its kernels at once (futex_waitv,
 * shared futexes): producers ring a bell after publishing, K2K senders
 * ring the receiver's, and the core's signal() rings it after a state
 * change. A control word wakes it when kernels come or go.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/plugin.h>
#include <ringkernel/ring.h>

#include "../../shm/msg_codec.h"
#include "../../shm/sys.h"

struct rk_dev_kernel;
static int cpu_stall(struct rk_dev_kernel *k);
#define RK_DEV_STALL(k)	    cpu_stall(k)
#define RK_DEV_USER_HANDLER cpu_user_handler /* declared by device.h */
#include <ringkernel/device.h>

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 0x02
#endif
#define WAITV_MAX 128

struct cpu_waitv { /* struct futex_waitv */
	uint64_t val, uaddr;
	uint32_t flags, reserved;
};

struct cpu_worker;

struct cpu_kernel {
	struct rk_dev_kernel k; /* first: the loop hands us back this pointer */
	rk_cpu_handler handler;
	rk_message *scratch; /* the unpacked request a user handler sees */
	struct cpu_worker *w;
	uint32_t done; /* atomic futex word: the loop has exited */
	char name[64];
};

/* A worker thread and the kernels it runs. */
struct cpu_worker {
	pthread_t thread;
	pthread_mutex_t lock; /* kernels[], n */
	struct cpu_kernel **kernels;
	unsigned n, cap;
	uint32_t gen;	   /* atomic: bumped under lock when kernels[] changes */
	uint32_t seen_gen; /* atomic futex word: the gen the worker runs */
	uint32_t ctl;	   /* atomic futex word: bumped to wake it */
	int stop;	   /* atomic */
	int dedicated;	   /* one user kernel's own thread (freed with it) */
	uint64_t spin_ns;
	/* worker-local snapshot of kernels[], taken at gen snap_gen */
	struct cpu_kernel **snap;
	unsigned nsnap, snap_cap;
	uint32_t snap_gen;
};

struct cpu_ctx {
	uint64_t spin_ns;
	unsigned nworkers;
	struct cpu_worker *w;
	int started;		    /* atomic: the pool runs (set under start_lock) */
	pthread_mutex_t start_lock; /* the first launches may come from several threads */
};

static void wake_word(uint32_t *word)
{
	__atomic_fetch_add(word, 1, __ATOMIC_SEQ_CST);
	rk_sys_futex_wake(word);
}

/* A registered CPU handler gets the request unpacked into an rk_message. */
RK_DEV_HANDLER(cpu_user_handler)
{
	const struct rk_msg_hdr *h = in;
	struct cpu_kernel *ck = (struct cpu_kernel *)k;
	rk_message *m = ck->scratch;
	/* The length is the one the loop validated (the slot's may have
	 * changed since). */
	rki_msg_unpack(h, len, payload, m);
	int terminating;
	if (rk_ctx_invoke(ck->handler, k, h, m, sizeof(*k), &terminating) < 0)
		RK_DEV_ADD64(&k->ctrl->errors, 1);
	return terminating ? RK_DEV_TERMINATING : RK_DEV_OK;
}

/* One turn of one kernel; a kernel that leaves its loop is marked done. */
static int run_turn(struct cpu_kernel *ck)
{
	if (__atomic_load_n(&ck->done, __ATOMIC_ACQUIRE))
		return RK_TURN_IDLE;
	int t = rk_dev_turn(&ck->k);
	if (t == RK_TURN_TERMINATE) {
		rk_dev_exit(&ck->k);
		wake_word(&ck->done);
	}
	return t;
}

/* A send of `k` waits for room. A built-in on a shared worker gives up:
 * its message stays in the ring for the next turn, and the worker runs
 * the kernel that may be the one to make room. A user handler (it may
 * have done things before it sent) has a worker of its own and waits. */
static int cpu_stall(struct rk_dev_kernel *k)
{
	struct cpu_kernel *ck = (struct cpu_kernel *)k;
	if (!ck->w->dedicated)
		return 1;
	RK_RELAX();
	return 0;
}
/* Nothing to do unless the state changed or input arrived while Active. */
static int idle(struct cpu_kernel *ck)
{
	struct rk_dev_kernel *k = &ck->k;
	if (__atomic_load_n(&ck->done, __ATOMIC_ACQUIRE))
		return 1;
	uint32_t desired = __atomic_load_n(&k->ctrl->desired, __ATOMIC_SEQ_CST);
	if (desired != k->observed)
		return 0;
	if (desired != RK_CTRL_ACTIVE)
		return 1;
	return !rk_dev_has_input(k);
}

/* Park on every kernel's bell and the control word at once. */
static void park(struct cpu_worker *w, uint32_t ctl)
{
	struct cpu_waitv wv[WAITV_MAX];
	struct rk_ring r[WAITV_MAX - 1];
	unsigned n = w->nsnap < WAITV_MAX - 1 ? w->nsnap : WAITV_MAX - 1;
	wv[0] = (struct cpu_waitv){ ctl, (uint64_t)(uintptr_t)&w->ctl, FUTEX2_SIZE_U32, 0 };
	for (unsigned i = 0; i < n; i++) {
		uint32_t *bell;
		r[i] = (struct rk_ring){ .hdr = w->snap[i]->k.in.h };
		uint32_t v = rk_ring_park_consumer(&r[i], &bell);
		wv[1 + i] = (struct cpu_waitv){ v, (uint64_t)(uintptr_t)bell, FUTEX2_SIZE_U32, 0 };
	}
	bool all_idle = __atomic_load_n(&w->ctl, __ATOMIC_SEQ_CST) == ctl;
	for (unsigned i = 0; all_idle && i < w->nsnap; i++)
		all_idle = idle(w->snap[i]);
	if (all_idle) {
		/* More kernels than one wait can hold: the rest are looked at
		 * every millisecond. */
		struct timespec abs, *absp = NULL;
		if (w->nsnap > n) {
			abs = rk_sys_ts(rk_sys_deadline(1000000));
			absp = &abs;
		}
		if (syscall(SYS_futex_waitv, wv, 1 + n, 0, absp, CLOCK_MONOTONIC) < 0 &&
		    errno == ENOSYS) {
			struct timespec ts = { 0, 200000 }; /* no futex_waitv: poll */
			nanosleep(&ts, NULL);
		}
	}
	for (unsigned i = 0; i < n; i++)
		rk_ring_unpark_consumer(&r[i]);
}

/* Take a new copy of the kernel list; false when out of memory. */
static bool resnapshot(struct cpu_worker *w)
{
	pthread_mutex_lock(&w->lock);
	uint32_t gen = __atomic_load_n(&w->gen, __ATOMIC_ACQUIRE);
	if (w->n > w->snap_cap) {
		struct cpu_kernel **s = realloc(w->snap, w->n * sizeof(*s));
		if (!s) {
			pthread_mutex_unlock(&w->lock);
			return false;
		}
		w->snap = s;
		w->snap_cap = w->n;
	}
	if (w->n)
		memcpy(w->snap, w->kernels, w->n * sizeof(*w->snap));
	w->nsnap = w->n;
	w->snap_gen = gen;
	pthread_mutex_unlock(&w->lock);
	/* release() waits for this: no stale pointer is used after it */
	__atomic_store_n(&w->seen_gen, gen, __ATOMIC_SEQ_CST);
	rk_sys_futex_wake(&w->seen_gen);
	return true;
}

static void *worker(void *arg);

/* Start w's thread; w is zeroed but for spin_ns and dedicated. */
static int worker_start(struct cpu_worker *w, const char *name)
{
	pthread_mutex_init(&w->lock, NULL);
	int ret = pthread_create(&w->thread, NULL, worker, w);
	if (ret) {
		pthread_mutex_destroy(&w->lock);
		return rk_error(-ret, "cpu: pthread_create: %s", strerror(ret));
	}
	char tname[32];
	snprintf(tname, sizeof(tname), "rk-%s", name);
	tname[15] = '\0'; /* the kernel keeps 16 bytes */
	pthread_setname_np(w->thread, tname);
	return 0;
}

static void worker_stop(struct cpu_worker *w)
{
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	wake_word(&w->ctl);
	pthread_join(w->thread, NULL);
	pthread_mutex_destroy(&w->lock);
	free(w->kernels);
}

static void *worker(void *arg)
{
	struct cpu_worker *w = arg;
	uint64_t idle_since = 0;
	unsigned idle_turns = 0;
	w->snap_gen = ~0u;
	for (;;) {
		uint32_t ctl = __atomic_load_n(&w->ctl, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&w->gen, __ATOMIC_ACQUIRE) != w->snap_gen)
			resnapshot(w);
		if (__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE) && w->nsnap == 0)
			break;
		bool busy = false;
		for (unsigned i = 0; i < w->nsnap; i++)
			if (run_turn(w->snap[i]) == RK_TURN_BUSY)
				busy = true;
		if (busy) {
			idle_since = 0;
			idle_turns = 0;
			continue;
		}
		/* The clock every 64 idle turns, not every turn: a clock read
		 * is most of an idle turn, and delays seeing the next message. */
		if ((++idle_turns & 63) == 0 || w->spin_ns == 0) {
			uint64_t now = rk_sys_now_ns();
			if (!idle_since) {
				idle_since = now;
			} else if (now - idle_since >= w->spin_ns) {
				park(w, ctl);
				idle_since = 0;
				idle_turns = 0;
				continue;
			}
		}
		/* Spin briefly, then yield while spinning: with more runnable
		 * threads than cores (kernels + host threads on a small machine)
		 * a pure spinner would hold the core the producer needs. */
		if (idle_turns < 256)
			RK_RELAX();
		else
			sched_yield();
	}
	free(w->snap);
	return NULL;
}

static int cpu_probe(int device, int *priority, char *why, size_t why_len)
{
	if (device != 0) {
		snprintf(why, why_len, "the CPU backend has one device, 0 (asked for %d)", device);
		return -ENODEV;
	}
	*priority = RK_PRIORITY_CPU;
	snprintf(why, why_len, "host threads, %ld cores online", sysconf(_SC_NPROCESSORS_ONLN));
	return 0;
}

static unsigned workers_wanted(void)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	return cores > 2 ? (unsigned)(cores - 1) : 1;
}

static int cpu_open(int device, void **ctx_p)
{
	(void)device;
	struct cpu_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->spin_ns = 50000;
	c->nworkers = workers_wanted();
	const char *e = getenv("RK_CPU_SPIN_NS");
	char *end;
	if (e && *e) {
		unsigned long long v = strtoull(e, &end, 10);
		if (*end || v > 1000000000ull) {
			free(c);
			return rk_error(-EINVAL, "RK_CPU_SPIN_NS=%s is not 0..1000000000", e);
		}
		c->spin_ns = v;
	}
	e = getenv("RK_CPU_WORKERS");
	if (e && *e) {
		unsigned long v = strtoul(e, &end, 10);
		if (*end || v == 0 || v > 1024) {
			free(c);
			return rk_error(-EINVAL, "RK_CPU_WORKERS=%s is not 1..1024", e);
		}
		c->nworkers = (unsigned)v;
	}
	c->w = calloc(c->nworkers, sizeof(*c->w));
	if (!c->w) {
		free(c);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < c->nworkers; i++)
		c->w[i].spin_ns = c->spin_ns;
	pthread_mutex_init(&c->start_lock, NULL);
	*ctx_p = c;
	return 0;
}

/* Workers start with the first launch: a runtime that launches nothing
 * costs no thread. */
static int start_workers(struct cpu_ctx *c)
{
	for (unsigned i = 0; i < c->nworkers; i++) {
		char name[32];
		snprintf(name, sizeof(name), "cpu-%u", i);
		int ret = worker_start(&c->w[i], name);
		if (ret < 0) {
			for (unsigned j = 0; j < i; j++)
				worker_stop(&c->w[j]);
			return ret;
		}
	}
	__atomic_store_n(&c->started, 1, __ATOMIC_RELEASE);
	return 0;
}

static void cpu_close(void *ctx)
{
	struct cpu_ctx *c = ctx;
	for (unsigned i = 0; c->started && i < c->nworkers; i++)
		worker_stop(&c->w[i]);
	pthread_mutex_destroy(&c->start_lock);
	free(c->w);
	free(c);
}

/* Kernels are multiplexed: the practical bound is memory. */
static int cpu_residency(void *ctx, uint32_t block, uint32_t *max_p)
{
	(void)ctx;
	(void)block;
	*max_p = 4096;
	return 0;
}

/* Under w->lock, then the worker is told. */
static int worker_add(struct cpu_worker *w, struct cpu_kernel *ck)
{
	pthread_mutex_lock(&w->lock);
	if (w->n == w->cap) {
		unsigned cap = w->cap ? w->cap * 2 : 8;
		struct cpu_kernel **k = realloc(w->kernels, cap * sizeof(*k));
		if (!k) {
			pthread_mutex_unlock(&w->lock);
			return rk_error(-ENOMEM, "cpu: out of memory");
		}
		w->kernels = k;
		w->cap = cap;
	}
	w->kernels[w->n] = ck;
	__atomic_store_n(&w->n, w->n + 1, __ATOMIC_RELAXED); /* launch reads it unlocked */
	__atomic_add_fetch(&w->gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&w->lock);
	wake_word(&w->ctl);
	return 0;
}

static int cpu_launch(void *ctx, const struct rk_launch_desc *d, void **kernel_p)
{
	struct cpu_ctx *c = ctx;
	if (d->struct_size < sizeof(*d))
		return rk_error(-EINVAL, "cpu: launch descriptor too old");
	if (d->kind == RK_KIND_USER && !d->cpu_handler)
		return rk_error(-ENOENT, "cpu: kernel %s has no CPU handler", d->kernel_name);
	if (!__atomic_load_n(&c->started, __ATOMIC_ACQUIRE)) {
		/* Once: two threads starting the pool would run two workers
		 * on each worker's list. */
		pthread_mutex_lock(&c->start_lock);
		int ret = c->started ? 0 : start_workers(c);
		pthread_mutex_unlock(&c->start_lock);
		if (ret < 0)
			return ret;
	}
	struct cpu_kernel *ck = calloc(1, sizeof(*ck));
	if (!ck)
		return rk_error(-ENOMEM, "cpu: out of memory");
	if (d->kind == RK_KIND_USER && !(ck->scratch = malloc(sizeof(rk_message)))) {
		free(ck);
		return rk_error(-ENOMEM, "cpu: out of memory");
	}
	rk_dev_init(&ck->k, d->ctrl, d->in, d->out, d->state, d->state_size, d->k2k);
	ck->handler = d->cpu_handler;
	snprintf(ck->name, sizeof(ck->name), "%s", d->kernel_name);
	struct cpu_worker *w;
	int ret;
	if (d->kind == RK_KIND_USER) {
		/* A handler of the user's: a thread of its own (see cpu_stall). */
		if (!(w = calloc(1, sizeof(*w)))) {
			free(ck->scratch);
			free(ck);
			return rk_error(-ENOMEM, "cpu: out of memory");
		}
		w->dedicated = 1;
		w->spin_ns = c->spin_ns;
		if ((ret = worker_start(w, d->kernel_name)) < 0) {
			free(w);
			free(ck->scratch);
			free(ck);
			return ret;
		}
	} else {
		/* a built-in: the least loaded worker of the pool */
		w = &c->w[0];
		for (unsigned i = 1; i < c->nworkers; i++)
			if (__atomic_load_n(&c->w[i].n, __ATOMIC_RELAXED) <
			    __atomic_load_n(&w->n, __ATOMIC_RELAXED))
				w = &c->w[i];
	}
	ck->w = w;
	if ((ret = worker_add(w, ck)) < 0) {
		if (w->dedicated) {
			worker_stop(w);
			free(w);
		}
		free(ck->scratch);
		free(ck);
		return ret;
	}
	*kernel_p = ck;
	return 0;
}

static void cpu_signal(void *ctx, void *kernel)
{
	(void)ctx;
	struct cpu_kernel *ck = kernel;
	struct rk_ring r = { .hdr = ck->k.in.h };
	rk_ring_wake_consumer(&r);
}

static int cpu_terminate(void *ctx, void *kernel, uint64_t timeout_ns)
{
	struct cpu_kernel *ck = kernel;
	uint64_t deadline = rk_sys_deadline(timeout_ns);
	/* signal() may race with a worker that is just parking: ring again. */
	cpu_signal(ctx, kernel);
	for (;;) {
		uint32_t v = __atomic_load_n(&ck->done, __ATOMIC_ACQUIRE);
		if (v)
			return 0;
		int ret = rk_sys_futex_wait_until(&ck->done, 0, deadline);
		if (ret == -ETIMEDOUT && !__atomic_load_n(&ck->done, __ATOMIC_ACQUIRE))
			return rk_error(-ETIMEDOUT, "cpu: kernel %s did not stop", ck->name);
	}
}

static void cpu_release(void *ctx, void *kernel)
{
	(void)ctx;
	struct cpu_kernel *ck = kernel;
	struct cpu_worker *w = ck->w;
	pthread_mutex_lock(&w->lock);
	for (unsigned i = 0; i < w->n; i++) {
		if (w->kernels[i] == ck) {
			memmove(&w->kernels[i], &w->kernels[i + 1],
				(w->n - i - 1) * sizeof(*w->kernels));
			__atomic_store_n(&w->n, w->n - 1, __ATOMIC_RELAXED);
			break;
		}
	}
	uint32_t gen = __atomic_add_fetch(&w->gen, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&w->lock);
	/* Free nothing the worker may still hold: wait until it has taken a
	 * list without this kernel. */
	wake_word(&w->ctl);
	for (;;) {
		uint32_t s = __atomic_load_n(&w->seen_gen, __ATOMIC_SEQ_CST);
		if ((int32_t)(s - gen) >= 0)
			break;
		wake_word(&w->ctl);
		rk_sys_futex_wait_until(&w->seen_gen, s, rk_sys_deadline(1000000));
	}
	if (w->dedicated) {
		worker_stop(w);
		free(w);
	}
	free(ck->scratch);
	free(ck);
}

static const struct rk_plugin_ops cpu_ops = {
	.struct_size = sizeof(struct rk_plugin_ops),
	.probe = cpu_probe,
	.open = cpu_open,
	.close = cpu_close,
	.residency = cpu_residency,
	.launch = cpu_launch,
	.signal = cpu_signal,
	.poll = NULL,
	.terminate = cpu_terminate,
	.release = cpu_release,
};

static const struct rk_plugin cpu_plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "cpu",
	.version = PACKAGE_VERSION,
	.ops = &cpu_ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &cpu_plugin;
}

/* SPDX-License-Identifier: MIT */
/*
 * rk-plugin-cpu: kernels run on host threads executing the portable loop
 * of ringkernel/device.h, the very code the GPU plugins compile.
 *
 * A kernel is one worker thread (a block's lanes are a loop, not threads).
 * An idle worker spins for RK_CPU_SPIN_NS (default 50 us), then parks on
 * its input ring's consumer bell, a shared futex: producers ring it after
 * publishing, and the core's signal() rings it after a state change.
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

#include "../../shm/sys.h"

#define RK_DEV_USER_HANDLER cpu_user_handler /* declared by device.h */
#include <ringkernel/device.h>

struct cpu_kernel {
	struct rk_dev_kernel k; /* first: the loop hands us back this pointer */
	rk_cpu_handler handler;
	rk_message *scratch; /* the unpacked request a user handler sees */
	pthread_t thread;
	uint64_t spin_ns;
	char name[64];
};

/* A registered CPU handler gets the request unpacked into an rk_message. */
RK_DEV_HANDLER(cpu_user_handler)
{
	const struct rk_msg_hdr *h = in;
	struct cpu_kernel *ck = (struct cpu_kernel *)k;
	rk_message *m = ck->scratch;
	m->type = h->type;
	m->len = len; /* validated by the loop */
	m->id = h->id;
	m->correlation_id = h->correlation_id;
	m->source = h->source;
	m->dest = h->dest;
	m->hlc = h->hlc;
	m->flags = h->flags;
	m->priority = h->priority;
	m->seq = h->seq;
	memcpy(m->payload, payload, len);
	struct rk_ctx ctx = { .k = k, .in = h, .terminating = 0 };
	if (ck->handler(&ctx, m) < 0)
		RK_DEV_ADD64(&k->ctrl->errors, 1);
	return ctx.terminating ? RK_DEV_TERMINATING : RK_DEV_OK;
}


/* Nothing to do unless the state changed or input arrived while Active. */
static int idle(struct cpu_kernel *ck)
{
	struct rk_dev_kernel *k = &ck->k;
	uint32_t desired = __atomic_load_n(&k->ctrl->desired, __ATOMIC_SEQ_CST);
	if (desired != k->observed)
		return 0;
	if (desired != RK_CTRL_ACTIVE)
		return 1;
	return !rk_dev_has_input(k);
}

static void park(struct cpu_kernel *ck)
{
	struct rk_ring r = { .hdr = ck->k.in.h };
	uint32_t *bell;
	uint32_t v = rk_ring_park_consumer(&r, &bell);
	if (idle(ck))
		syscall(SYS_futex, bell, FUTEX_WAIT, v, NULL, NULL, 0);
	rk_ring_unpark_consumer(&r);
}

static void *worker(void *arg)
{
	struct cpu_kernel *ck = arg;
	uint64_t idle_since = 0;
	unsigned idle_turns = 0;
	for (;;) {
		int t = rk_dev_turn(&ck->k);
		if (t == RK_TURN_TERMINATE)
			break;
		if (t == RK_TURN_BUSY) {
			idle_since = 0;
			idle_turns = 0;
			continue;
		}
		/* The clock every 64 idle turns, not every turn: a clock read
		 * is most of an idle turn, and delays seeing the next message. */
		if ((++idle_turns & 63) == 0) {
			uint64_t now = rk_sys_now_ns();
			if (!idle_since) {
				idle_since = now;
			} else if (now - idle_since >= ck->spin_ns) {
				park(ck);
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
	rk_dev_exit(&ck->k);
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

struct cpu_ctx {
	uint64_t spin_ns;
};

static int cpu_open(int device, void **ctx_p)
{
	(void)device;
	struct cpu_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->spin_ns = 50000;
	const char *e = getenv("RK_CPU_SPIN_NS");
	if (e && *e) {
		char *end;
		unsigned long long v = strtoull(e, &end, 10);
		if (*end || v > 1000000000ull) {
			free(c);
			return rk_error(-EINVAL, "RK_CPU_SPIN_NS=%s is not 0..1000000000", e);
		}
		c->spin_ns = v;
	}
	*ctx_p = c;
	return 0;
}

static void cpu_close(void *ctx)
{
	free(ctx);
}

/* Threads can always be made; the practical bound is memory. */
static int cpu_residency(void *ctx, uint32_t block, uint32_t *max_p)
{
	(void)ctx;
	(void)block;
	*max_p = 4096;
	return 0;
}

static int cpu_launch(void *ctx, const struct rk_launch_desc *d, void **kernel_p)
{
	struct cpu_ctx *c = ctx;
	if (d->struct_size < sizeof(*d))
		return rk_error(-EINVAL, "cpu: launch descriptor too old");
	if (d->kind == RK_KIND_USER && !d->cpu_handler)
		return rk_error(-ENOENT, "cpu: kernel %s has no CPU handler", d->kernel_name);
	struct cpu_kernel *ck = calloc(1, sizeof(*ck));
	if (!ck)
		return rk_error(-ENOMEM, "cpu: out of memory");
	if (d->kind == RK_KIND_USER && !(ck->scratch = malloc(sizeof(rk_message)))) {
		free(ck);
		return rk_error(-ENOMEM, "cpu: out of memory");
	}
	rk_dev_init(&ck->k, d->ctrl, d->in, d->out, d->state, d->state_size, d->k2k);
	ck->handler = d->cpu_handler;
	ck->spin_ns = c->spin_ns;
	snprintf(ck->name, sizeof(ck->name), "%s", d->kernel_name);
	int ret = pthread_create(&ck->thread, NULL, worker, ck);
	if (ret) {
		free(ck->scratch);
		free(ck);
		return rk_error(-ret, "cpu: pthread_create: %s", strerror(ret));
	}
	char tname[16];
	snprintf(tname, sizeof(tname), "rk-%.12s", d->kernel_name);
	pthread_setname_np(ck->thread, tname);
	*kernel_p = ck;
	return 0;
}

static void cpu_signal(void *ctx, void *kernel)
{
	(void)ctx;
	struct cpu_kernel *ck = kernel;
	struct rk_ring r = { .hdr = ck->k.in.h };
	rk_ring_wake_consumer_(&r);
}

static int cpu_terminate(void *ctx, void *kernel, uint64_t timeout_ns)
{
	(void)ctx;
	struct cpu_kernel *ck = kernel;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(timeout_ns / 1000000000u);
	ts.tv_nsec += (long)(timeout_ns % 1000000000u);
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	/* signal() may race with a worker that is just parking: ring again. */
	cpu_signal(ctx, kernel);
	int ret = pthread_timedjoin_np(ck->thread, NULL, &ts);
	if (ret)
		return rk_error(-ret, "cpu: worker of %s did not stop: %s", ck->name,
				strerror(ret));
	return 0;
}

static void cpu_release(void *ctx, void *kernel)
{
	(void)ctx;
	struct cpu_kernel *ck = kernel;
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
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &cpu_plugin;
}

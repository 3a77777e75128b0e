/* SPDX-License-Identifier: MIT */
/*
 * rk-plugin-fakegpu (tests only): plugins/gpu_host.c over a vendor table
 * whose "device" is host threads, so the host side of the CUDA and HIP
 * plugins runs here, where there is no GPU. It behaves like the devices
 * the GPU host must survive:
 *
 * - A stream's kernel runs the portable loop of ringkernel/device.h on a
 *   thread. Streams share `hw_queues` hardware queues as ROCclr's do
 *   (GPU_MAX_HW_QUEUES): a new stream takes an unused queue, else the
 *   least-used one, until it is destroyed; a kernel waits for every
 *   earlier kernel of its queue (the AQL barrier bit), so a kernel queued
 *   behind a persistent one never starts.
 * - `trap` (set by a test) makes the running kernels die as a trap would,
 *   and so does a user kernel's request of type 99: the thread stops
 *   without the terminated flag, and the stream reports error 719,
 *   "unspecified launch failure". User kernels are otherwise an echo.
 * - Unregistering host memory while a kernel is queued or running is what
 *   hangs on HIP (SyncAllStreams): with `unregister_waits` it is counted
 *   as a violation instead of hanging.
 * - Every driver call checks that the plugin made its device current on
 *   the calling thread, and enter/leave must restore what was current.
 *
 * Knobs: the exported rkt_fakegpu_state (tests/test_gpu_plugins.c), or at
 * open RKT_FAKEGPU_HW_QUEUES (default 8), RKT_FAKEGPU_UNREGISTER_WAITS.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RK_DEV_USER_HANDLER fake_user_handler /* user kernels: an echo */
#include <ringkernel/device.h>

#include "../../plugins/gpu_host.h"
#include "fake_gpu.h"

#define FAKE_NOT_READY	 600
#define FAKE_TRAP	 719
#define FAKE_REGISTERED	 712
#define FAKE_NO_BINARY	 209
#define FAKE_NOT_FOUND	 500
#define FAKE_INVALID	 1
#define FAKE_MAX_STREAMS 256
#define FAKE_MAX_PINS	 256

struct rkt_fakegpu rkt_fakegpu_state = { .sms = 4, .occ_builtin = 2, .occ_user = 1 };
#define S rkt_fakegpu_state

static _Thread_local int fake_current = -1; /* this thread's current device */

enum { ST_QUEUED, ST_RUNNING, ST_DONE, ST_FAILED };

struct fake_fn {
	const char *name;
	int user;
};
static struct fake_fn fake_builtin = { "rk_persistent", 0 }, fake_user = { "user", 1 };

struct fake_stream {
	int queue;
	int state;    /* atomic ST_* */
	int launched; /* atomic: the plugin's bell thread may query meanwhile */
	uint64_t seq; /* launch order */
	pthread_t thread;
	struct rk_ctrl *ctrl;
	struct rk_ring_hdr *in, *out;
	rk_u8 *state_area;
	uint32_t state_size;
	struct rk_k2k *k2k;
};

static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fake_stream *fake_streams[FAKE_MAX_STREAMS];
static unsigned fake_queue_users[1024];
static uint64_t fake_next_seq;
static struct {
	void *p;
	size_t size;
} fake_pins[FAKE_MAX_PINS];

/* Set by a user kernel's request of type 99 (tests/gpu/trap_kernel.h's
 * TRAP_NOW): the kernel of this thread dies. */
static _Thread_local int fake_self_trap;

RK_DEV_HANDLER(fake_user_handler)
{
	if (in->type == 99) {
		fake_self_trap = 1;
		return RK_DEV_OK;
	}
	return rk_dev_reply(k, in, in->type, payload, len);
}

static void fake_check_current(const char *what)
{
	if (fake_current != 0) {
		__atomic_fetch_add(&S.unbracketed, 1, __ATOMIC_SEQ_CST);
		fprintf(stderr, "fakegpu: %s called without the device current\n", what);
	}
}

/* Kernels queued or running (fake_lock held). */
static unsigned fake_busy(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < FAKE_MAX_STREAMS; i++) {
		struct fake_stream *s = fake_streams[i];
		if (s && __atomic_load_n(&s->launched, __ATOMIC_ACQUIRE) &&
		    __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) < ST_DONE)
			n++;
	}
	return n;
}

/* A kernel starts once every earlier kernel of its queue has finished. */
static int fake_may_start(const struct fake_stream *me)
{
	int ok = 1;
	pthread_mutex_lock(&fake_lock);
	for (unsigned i = 0; i < FAKE_MAX_STREAMS; i++) {
		const struct fake_stream *s = fake_streams[i];
		if (s && s != me && __atomic_load_n(&s->launched, __ATOMIC_ACQUIRE) &&
		    s->queue == me->queue && s->seq < me->seq &&
		    __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) < ST_DONE)
			ok = 0;
	}
	pthread_mutex_unlock(&fake_lock);
	return ok;
}

static void fake_nap(void)
{
	struct timespec ts = { 0, 20000 };
	nanosleep(&ts, NULL);
}

static void *fake_kernel(void *arg)
{
	struct fake_stream *s = arg;
	while (!fake_may_start(s)) {
		if (__atomic_load_n(&S.trap, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&s->state, ST_FAILED, __ATOMIC_RELEASE);
			return NULL;
		}
		fake_nap();
	}
	__atomic_store_n(&s->state, ST_RUNNING, __ATOMIC_RELEASE);
	struct rk_dev_kernel k;
	rk_dev_init(&k, s->ctrl, s->in, s->out, s->state_area, s->state_size, s->k2k);
	for (unsigned idle = 0;;) {
		if (__atomic_load_n(&S.trap, __ATOMIC_ACQUIRE) || fake_self_trap) {
			__atomic_store_n(&s->state, ST_FAILED, __ATOMIC_RELEASE);
			return NULL; /* dead: no terminated flag */
		}
		int t = rk_dev_turn(&k);
		if (t == RK_TURN_TERMINATE)
			break;
		if (t == RK_TURN_BUSY)
			idle = 0;
		else if (++idle > 64)
			fake_nap();
	}
	rk_dev_exit(&k);
	__atomic_store_n(&s->state, ST_DONE, __ATOMIC_RELEASE);
	return NULL;
}

/* ---- the vendor table ---------------------------------------------------- */

static int fake_enter(const struct gpu_ctx *c, struct gpu_saved *s)
{
	__atomic_fetch_add(&S.enters, 1, __ATOMIC_SEQ_CST);
	if (fake_current == c->device)
		return 0;
	s->device = fake_current;
	s->changed = 1;
	fake_current = c->device;
	return 0;
}

static void fake_leave(const struct gpu_saved *s)
{
	fake_current = s->device;
}

static int fake_register(void *p, size_t size)
{
	fake_check_current("host_register");
	pthread_mutex_lock(&fake_lock);
	int free_slot = -1;
	for (int i = 0; i < FAKE_MAX_PINS; i++) {
		uintptr_t a = (uintptr_t)fake_pins[i].p, b = (uintptr_t)p;
		if (fake_pins[i].p && a < b + size && b < a + fake_pins[i].size) {
			pthread_mutex_unlock(&fake_lock);
			return FAKE_REGISTERED;
		}
		if (!fake_pins[i].p && free_slot < 0)
			free_slot = i;
	}
	if (free_slot >= 0) {
		fake_pins[free_slot].p = p;
		fake_pins[free_slot].size = size;
		S.registered++;
	}
	pthread_mutex_unlock(&fake_lock);
	return free_slot >= 0 ? 0 : FAKE_INVALID;
}

static int fake_unregister(void *p)
{
	fake_check_current("host_unregister");
	pthread_mutex_lock(&fake_lock);
	int ret = FAKE_INVALID;
	for (int i = 0; i < FAKE_MAX_PINS; i++)
		if (fake_pins[i].p == p) {
			fake_pins[i].p = NULL;
			S.unregistered++;
			ret = 0;
		}
	if (ret == 0 && S.unregister_waits && fake_busy()) {
		S.unregistered_while_busy++;
		fprintf(stderr,
			"fakegpu: unregister with %u kernels queued or running: a deadlock "
			"on HIP\n",
			fake_busy());
	}
	pthread_mutex_unlock(&fake_lock);
	return ret;
}

static int fake_device_pointer(void *p, uint64_t *dptr)
{
	fake_check_current("host_device_pointer");
	*dptr = (uint64_t)(uintptr_t)p; /* unified addressing */
	return 0;
}

static int fake_stream_create(void **sp)
{
	fake_check_current("stream_create");
	struct fake_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return 2;
	pthread_mutex_lock(&fake_lock);
	/* Without a limit every stream has a queue of its own. */
	unsigned nq = S.hw_queues && S.hw_queues < 1024 ? S.hw_queues : 1024, best = 0;
	for (unsigned q = 1; q < nq; q++)
		if (fake_queue_users[q] < fake_queue_users[best])
			best = q;
	s->queue = (int)best;
	fake_queue_users[best]++;
	int slot = -1;
	for (int i = 0; i < FAKE_MAX_STREAMS && slot < 0; i++)
		if (!fake_streams[i])
			slot = i;
	if (slot >= 0)
		fake_streams[slot] = s;
	else
		fake_queue_users[best]--;
	pthread_mutex_unlock(&fake_lock);
	if (slot < 0) {
		free(s);
		return 2;
	}
	*sp = s;
	return 0;
}

static int fake_stream_destroy(void *sp)
{
	fake_check_current("stream_destroy");
	struct fake_stream *s = sp;
	/* The kernel's thread is detached: once its state reads DONE or
	 * FAILED it touches the stream no more. */
	if (__atomic_load_n(&s->launched, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&s->state, __ATOMIC_ACQUIRE) < ST_DONE) {
		S.destroyed_while_busy++;
		fprintf(stderr, "fakegpu: stream destroyed with its kernel queued or running\n");
		return FAKE_INVALID; /* keep it: the thread still uses it */
	}
	pthread_mutex_lock(&fake_lock);
	for (int i = 0; i < FAKE_MAX_STREAMS; i++)
		if (fake_streams[i] == s)
			fake_streams[i] = NULL;
	fake_queue_users[s->queue]--;
	pthread_mutex_unlock(&fake_lock);
	free(s);
	return 0;
}

static int fake_stream_query(void *sp)
{
	fake_check_current("stream_query");
	struct fake_stream *s = sp;
	if (!__atomic_load_n(&s->launched, __ATOMIC_ACQUIRE))
		return 0;
	int st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
	return st == ST_FAILED ? FAKE_TRAP : st == ST_DONE ? 0 : FAKE_NOT_READY;
}

static int fake_stream_synchronize(void *sp)
{
	fake_check_current("stream_synchronize");
	struct fake_stream *s = sp;
	int r;
	while ((r = fake_stream_query(s)) == FAKE_NOT_READY)
		fake_nap();
	return r;
}

static int fake_launch(void *fn, uint32_t grid, uint32_t block, void *sp, void **args)
{
	fake_check_current("launch");
	struct fake_stream *s = sp;
	(void)fn;
	(void)grid;
	(void)block;
	s->ctrl = (struct rk_ctrl *)(uintptr_t) * (uint64_t *)args[0];
	s->in = (struct rk_ring_hdr *)(uintptr_t) * (uint64_t *)args[1];
	s->out = (struct rk_ring_hdr *)(uintptr_t) * (uint64_t *)args[2];
	s->state_area = (rk_u8 *)(uintptr_t) * (uint64_t *)args[3];
	s->state_size = *(uint32_t *)args[4];
	s->k2k = (struct rk_k2k *)(uintptr_t) * (uint64_t *)args[5];
	pthread_mutex_lock(&fake_lock);
	s->seq = fake_next_seq++;
	__atomic_store_n(&s->launched, 1, __ATOMIC_RELEASE);
	S.launched++;
	pthread_mutex_unlock(&fake_lock);
	if (pthread_create(&s->thread, NULL, fake_kernel, s)) {
		__atomic_store_n(&s->launched, 0, __ATOMIC_RELEASE);
		return 2;
	}
	pthread_detach(s->thread);
	return 0;
}

static int fake_module_load(void **mod, const void *image)
{
	fake_check_current("module_load");
	if (!image || memcmp(image, "FAKE", 4) != 0)
		return FAKE_NO_BINARY;
	*mod = (void *)image;
	S.modules_loaded++;
	return 0;
}

static int fake_module_unload(void *mod)
{
	fake_check_current("module_unload");
	(void)mod;
	S.modules_unloaded++;
	return 0;
}

static int fake_module_function(void **fn, void *mod, const char *name)
{
	fake_check_current("module_function");
	(void)mod;
	*fn = !strcmp(name, "rk_persistent") ? &fake_builtin : &fake_user;
	return 0;
}

static int fake_occupancy(int *per_sm, void *fn, uint32_t block)
{
	fake_check_current("occupancy");
	(void)block;
	*per_sm = ((struct fake_fn *)fn)->user ? S.occ_user : S.occ_builtin;
	return 0;
}

static const char *fake_error_string(int r)
{
	switch (r) {
	case 0: return "no error";
	case FAKE_NOT_READY: return "device not ready";
	case FAKE_TRAP: return "unspecified launch failure";
	case FAKE_REGISTERED: return "part or all of the requested memory range is already mapped";
	case FAKE_NO_BINARY: return "no kernel image is available for execution on the device";
	default: return "invalid argument";
	}
}

static int fake_error_errno(int r)
{
	switch (r) {
	case FAKE_REGISTERED: return -EEXIST;
	case FAKE_NO_BINARY: return -ENOTSUP;
	case FAKE_NOT_FOUND: return -ENOENT;
	case 2: return -ENOMEM;
	case FAKE_INVALID: return -EINVAL;
	default: return -EIO;
	}
}

static void fake_close(struct gpu_ctx *c)
{
	(void)c;
	S.closed++;
}

#define FAKE_VENDOR(waits)                                                                       \
	{                                                                                        \
		.name = "fakegpu", .code = "fakeError_t", .not_ready = FAKE_NOT_READY,           \
		.unregister_waits = waits, .enter = fake_enter, .leave = fake_leave,             \
		.host_register = fake_register, .host_unregister = fake_unregister,              \
		.host_device_pointer = fake_device_pointer, .stream_create = fake_stream_create, \
		.stream_destroy = fake_stream_destroy, .stream_query = fake_stream_query,        \
		.stream_synchronize = fake_stream_synchronize, .launch = fake_launch,            \
		.module_load = fake_module_load, .module_unload = fake_module_unload,            \
		.module_function = fake_module_function, .occupancy = fake_occupancy,            \
		.error_string = fake_error_string, .error_errno = fake_error_errno,              \
		.close = fake_close,                                                             \
	}
static const struct gpu_vendor fake_vendor[2] = { FAKE_VENDOR(0), FAKE_VENDOR(1) };

/* The "embedded image". */
static const char fake_image[] = "FAKE built-in image";

static int fake_probe(int device, int *priority, char *why, size_t why_len)
{
	if (device != 0) {
		snprintf(why, why_len, "no device %d (1 fake GPU)", device);
		return -ENODEV;
	}
	*priority = 1; /* never Auto's choice */
	snprintf(why, why_len, "fake GPU of host threads (tests only)");
	return 0;
}

static int fake_open(int device, void **ctx_p)
{
	struct gpu_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return rk_error(-ENOMEM, "fakegpu: out of memory");
	if (!S.configured) {
		S.hw_queues = (unsigned)gpu_env_long("RKT_FAKEGPU_HW_QUEUES", 8, 0, 1024);
		S.report_hw = 1;
		S.unregister_waits = (int)gpu_env_long("RKT_FAKEGPU_UNREGISTER_WAITS", 1, 0, 1);
		S.occ_builtin = S.occ_user = 16;
	}
	c->v = &fake_vendor[S.unregister_waits ? 1 : 0];
	c->device = device;
	c->sms = S.sms;
	if (S.report_hw && S.hw_queues) {
		c->hw_max = S.hw_queues;
		snprintf(c->hw_why, sizeof(c->hw_why), "%u hardware queues: RKT_FAKEGPU_HW_QUEUES",
			 S.hw_queues);
	}
	int ret = gpu_ctx_open(c, fake_image, "rk_persistent");
	if (ret < 0) {
		free(c);
		return ret;
	}
	*ctx_p = c;
	return 0;
}

static const struct rk_plugin_ops fake_ops = {
	.struct_size = sizeof(struct rk_plugin_ops),
	.probe = fake_probe,
	.open = fake_open,
	.close = gpu_host_close,
	.residency = gpu_host_residency,
	.launch = gpu_host_launch,
	.signal = gpu_host_signal,
	.poll = gpu_host_poll,
	.terminate = gpu_host_terminate,
	.release = gpu_host_release,
	.kernel_error = gpu_host_kernel_error,
};

static const struct rk_plugin fake_plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "fakegpu",
	.version = PACKAGE_VERSION,
	.ops = &fake_ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &fake_plugin;
}

int rkt_fakegpu_current(void)
{
	return fake_current;
}

void rkt_fakegpu_set_current(int device)
{
	fake_current = device;
}

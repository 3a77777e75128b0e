/* SPDX-License-Identifier: MIT */
/*
 * plugins/gpu_host.c - launch, terminate, release, residency and
 * dead-kernel detection for the CUDA and HIP plugins, written once over
 * the vendor table of plugins/gpu_host.h (which states the rules).
 *
 * Process-wide state: per device, the kernels of this plugin not known
 * stopped (every runtime of the process counts: hardware queues and
 * SyncAllStreams are per device, not per runtime) and the registrations
 * whose unregistering is deferred. The GPU plugins are linked -z nodelete,
 * so this state lives as long as the process, like the driver.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringkernel/ring.h>

#include "gpu_host.h"

#define GPU_MAX_DEVICES 64

/* How a kernel's launch stands, as its stream last said. */
enum { GPU_Q_RUNNING = 0, GPU_Q_DONE = 1, GPU_Q_FAILED = 2 };

struct gpu_module {
	const void *image; /* the rk_kernel_def's image: the key */
	void *mod;
	struct gpu_module *next;
};

/* Host memory still registered, waiting until unregistering cannot wait
 * on a resident kernel. */
struct gpu_pin {
	void *p;
	size_t size;
	struct gpu_pin *next;
};

struct gpu_kernel {
	struct gpu_ctx *c;
	struct gpu_kernel *next; /* c->kernels, under gpu_lock */
	struct rk_ctrl *ctrl;
	void *stream; /* NULL once destroyed */
	void *base;   /* the registered region, or NULL */
	size_t size;
	void *k2k; /* the registered route table, or NULL */
	size_t k2k_size;
	int counted; /* in c->live and the device's live count */

	/* the bell thread */
	struct rk_ring_hdr *in, *out;
	pthread_t thread;
	int running; /* atomic: 0 asks the thread to stop */
	int started;

	/* atomics: written by the bell thread and the caller's thread */
	int q;	       /* GPU_Q_*: once not RUNNING it never changes */
	int fail_code; /* the driver's code when q is FAILED */
	uint64_t last_query_ns;
};

static struct gpu_device {
	unsigned live;
	struct gpu_pin *deferred;
} gpu_dev[GPU_MAX_DEVICES];
static pthread_mutex_t gpu_lock = PTHREAD_MUTEX_INITIALIZER;

static struct gpu_device *gpu_device_of(const struct gpu_ctx *c)
{
	int d = c->device;
	return &gpu_dev[d >= 0 && d < GPU_MAX_DEVICES ? d : GPU_MAX_DEVICES - 1];
}

/* ---- helpers ------------------------------------------------------------ */

void gpu_warn(const char *fmt, ...)
{
	const char *lvl = getenv("RK_LOG");
	if (lvl && !strcmp(lvl, "error"))
		return;
	char buf[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ringkernel: warn: %s\n", buf);
}

long gpu_env_long(const char *name, long def, long lo, long hi)
{
	const char *s = secure_getenv(name);
	if (!s || !*s)
		return def;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return def;
	return v;
}

int gpu_fail(const struct gpu_vendor *v, int r, const char *what)
{
	return rk_error(v->error_errno(r), "%s: %s: %s (%s %d)", v->name, what, v->error_string(r),
			v->code, r);
}

int gpu_enter(const struct gpu_ctx *c, struct gpu_saved *s)
{
	memset(s, 0, sizeof(*s));
	int r = c->v->enter(c, s);
	return r ? gpu_fail(c->v, r, "making the plugin's device current") : 0;
}

void gpu_leave(const struct gpu_ctx *c, const struct gpu_saved *s)
{
	if (s->changed)
		c->v->leave(s);
}

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/*
 * A clang offload bundle: "__CLANG_OFFLOAD_BUNDLE__", u64 entry count,
 * then per entry u64 offset, u64 size, u64 id length, the id
 * ("hipv4-amdgcn-amd-amdhsa--gfx90a:xnack+", "host-x86_64-unknown-linux").
 */
int gpu_bundle_targets(const void *image, size_t size, char *out, size_t out_len)
{
	static const char magic[] = "__CLANG_OFFLOAD_BUNDLE__";
	const unsigned char *p = image;
	if (out_len)
		out[0] = '\0';
	if (!image || size < 32 || memcmp(p, magic, 24) != 0)
		return -EINVAL;
	uint64_t n = rd64(p + 24);
	size_t off = 32, used = 0;
	for (uint64_t i = 0; i < n && i < 4096; i++) {
		if (size - off < 24)
			return -EINVAL;
		uint64_t id_len = rd64(p + off + 16);
		off += 24;
		if (id_len > size - off)
			return -EINVAL;
		char id[256];
		size_t l = id_len < sizeof(id) - 1 ? (size_t)id_len : sizeof(id) - 1;
		memcpy(id, p + off, l);
		id[l] = '\0';
		off += (size_t)id_len;
		const char *t = strstr(id, "amdgcn-amd-amdhsa-");
		if (!t)
			continue; /* the host entry */
		t += strlen("amdgcn-amd-amdhsa-");
		while (*t == '-') /* "--gfx90a" (v4 ids) or "-gfx906" (older) */
			t++;
		int len = snprintf(out + used, out_len - used, "%s%s", used ? " " : "", t);
		if (len < 0 || (size_t)len >= out_len - used)
			return -ENOSPC;
		used += (size_t)len;
	}
	return 0;
}

/* `feat` ("xnack+") is among the ':'-separated features of `isa`. */
static int gpu_has_feature(const char *isa, const char *feat, size_t len)
{
	for (const char *f = strchr(isa, ':'); f; f = strchr(f + 1, ':'))
		if (!strncmp(f + 1, feat, len) && (f[1 + len] == ':' || f[1 + len] == '\0'))
			return 1;
	return 0;
}

int gpu_isa_in(const char *isa, const char *targets)
{
	size_t plen = strcspn(isa, ":");
	for (const char *t = targets; *t;) {
		size_t tlen = strcspn(t, " ");
		size_t tp = strcspn(t, ": ");
		int ok = tp == plen && !strncmp(t, isa, plen);
		/* Features of the code object ("gfx90a:xnack+") must be the
		 * device's; a target without features runs either way. */
		for (const char *f = t + tp; ok && f < t + tlen && *f == ':';) {
			size_t flen = strcspn(f + 1, ": ");
			ok = gpu_has_feature(isa, f + 1, flen);
			f += 1 + flen;
		}
		if (ok)
			return 1;
		t += tlen;
		while (*t == ' ')
			t++;
	}
	return 0;
}

/* ---- open / close ------------------------------------------------------- */

int gpu_ctx_open(struct gpu_ctx *c, const void *image, const char *entry)
{
	const struct gpu_vendor *v = c->v;
	struct gpu_saved s;
	int ret = gpu_enter(c, &s);
	if (ret < 0)
		return ret;
	int r = v->module_load(&c->mod, image);
	if (r) {
		ret = gpu_fail(v, r, "loading the embedded image");
		goto out;
	}
	if ((r = v->module_function(&c->fn, c->mod, entry))) {
		ret = gpu_fail(v, r, "the embedded image's entry rk_persistent");
		v->module_unload(c->mod);
		c->mod = NULL;
	}
out:
	gpu_leave(c, &s);
	return ret;
}

/* Unregister now; the caller holds gpu_lock and has a device current. */
static void gpu_unregister(const struct gpu_vendor *v, void *p)
{
	int r = v->host_unregister(p);
	if (r)
		gpu_warn("%s: unregistering host memory at %p: %s (%s %d)", v->name, p,
			 v->error_string(r), v->code, r);
}

/* Unregister what was deferred; gpu_lock held, no kernel of the device live. */
static void gpu_flush_deferred(const struct gpu_vendor *v, struct gpu_device *dev)
{
	while (dev->deferred) {
		struct gpu_pin *pin = dev->deferred;
		dev->deferred = pin->next;
		gpu_unregister(v, pin->p);
		free(pin);
	}
}

/*
 * Unregister host memory of a stopped kernel. Where unregistering waits
 * for every stream of the device (HIP), doing it while another kernel is
 * resident would wait for that kernel forever: it is deferred until the
 * device has no live kernel of this plugin, then done by whoever drops
 * the count to zero (a launch, release or close). Not a pinned pool
 * registered at open: the core maps each kernel's region itself, and a
 * pool would need it to carve regions from plugin memory.
 */
static void gpu_unpin(struct gpu_ctx *c, void *p, size_t size)
{
	if (!p)
		return;
	const struct gpu_vendor *v = c->v;
	struct gpu_device *dev = gpu_device_of(c);
	pthread_mutex_lock(&gpu_lock);
	if (v->unregister_waits && dev->live > 0) {
		struct gpu_pin *pin = malloc(sizeof(*pin));
		if (pin) {
			pin->p = p;
			pin->size = size;
			pin->next = dev->deferred;
			dev->deferred = pin;
		} else {
			gpu_warn("%s: out of memory: host memory at %p stays registered", v->name,
				 p);
		}
	} else {
		gpu_unregister(v, p);
		if (dev->live == 0)
			gpu_flush_deferred(v, dev);
	}
	pthread_mutex_unlock(&gpu_lock);
}

static void gpu_bells_halt(struct gpu_kernel *k);
static int gpu_query(struct gpu_kernel *k);
static void gpu_free_kernel(struct gpu_kernel *k);

void gpu_host_close(void *ctx)
{
	struct gpu_ctx *c = ctx;
	const struct gpu_vendor *v = c->v;
	struct gpu_saved s;
	int entered = gpu_enter(c, &s) == 0;
	/* Kernels the core never released (their terminate failed): none of
	 * their threads may outlive the context; those whose launch has
	 * completed (a trap) are freed, the others keep it alive. */
	pthread_mutex_lock(&gpu_lock);
	struct gpu_kernel *left = c->kernels;
	pthread_mutex_unlock(&gpu_lock);
	for (struct gpu_kernel *k = left, *n; k; k = n) {
		n = k->next;
		gpu_bells_halt(k);
		if (entered && gpu_query(k) != GPU_Q_RUNNING)
			gpu_free_kernel(k);
	}
	pthread_mutex_lock(&gpu_lock);
	unsigned live = c->live;
	if (live == 0 && entered) {
		for (struct gpu_module *m = c->mods, *n; m; m = n) {
			n = m->next;
			v->module_unload(m->mod);
			free(m);
		}
		c->mods = NULL;
		if (c->mod)
			v->module_unload(c->mod);
		if (gpu_device_of(c)->live == 0)
			gpu_flush_deferred(v, gpu_device_of(c));
	}
	pthread_mutex_unlock(&gpu_lock);
	if (entered)
		gpu_leave(c, &s);
	if (live) {
		/* Unloading its module or dropping the context would pull the
		 * code and memory from under a kernel still queued or running. */
		gpu_warn("%s: closing with %u kernels still resident or queued: their modules "
			 "and the device context are kept (leaked)",
			 v->name, live);
		return;
	}
	if (v->close)
		v->close(c);
	free(c);
}

/* ---- residency ---------------------------------------------------------- */

/* How many kernels of `fn` at `block` lanes the device keeps resident. */
static int gpu_capacity(struct gpu_ctx *c, void *fn, uint32_t block, uint32_t *cap_p, char *why,
			size_t why_len)
{
	const struct gpu_vendor *v = c->v;
	int per_sm = 0;
	int r = v->occupancy(&per_sm, fn, block);
	if (r)
		return gpu_fail(v, r, "occupancy of the kernel's function");
	uint64_t cap = (uint64_t)(per_sm > 0 ? per_sm : 0) * c->sms;
	snprintf(why, why_len, "occupancy: %d blocks of %u lanes per multiprocessor x %u", per_sm,
		 block, c->sms);
	if (c->hw_max && c->hw_max < cap) {
		cap = c->hw_max;
		snprintf(why, why_len, "%s", c->hw_why);
	}
	*cap_p = cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
	return 0;
}

/* The built-in's capacity, less what other runtimes of the process hold. */
int gpu_host_residency(void *ctx, uint32_t block, uint32_t *max_p)
{
	struct gpu_ctx *c = ctx;
	struct gpu_saved s;
	char why[160];
	uint32_t cap;
	int ret = gpu_enter(c, &s);
	if (ret < 0)
		return ret;
	ret = gpu_capacity(c, c->fn, block, &cap, why, sizeof(why));
	gpu_leave(c, &s);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&gpu_lock);
	unsigned others = gpu_device_of(c)->live - c->live;
	pthread_mutex_unlock(&gpu_lock);
	*max_p = cap > others ? cap - others : 0;
	return 0;
}

/* ---- the kernel's stream ------------------------------------------------ */

/* Ask the driver how the launch stands (its device current on this thread). */
static int gpu_query(struct gpu_kernel *k)
{
	int q = __atomic_load_n(&k->q, __ATOMIC_ACQUIRE);
	if (q != GPU_Q_RUNNING || !k->stream)
		return q;
	const struct gpu_vendor *v = k->c->v;
	int r = v->stream_query(k->stream);
	__atomic_store_n(&k->last_query_ns, rk_sys_now_ns(), __ATOMIC_RELAXED);
	if (r == v->not_ready)
		return GPU_Q_RUNNING;
	if (r == 0) {
		__atomic_store_n(&k->q, GPU_Q_DONE, __ATOMIC_RELEASE);
		return GPU_Q_DONE;
	}
	__atomic_store_n(&k->fail_code, r, __ATOMIC_RELAXED);
	__atomic_store_n(&k->q, GPU_Q_FAILED, __ATOMIC_RELEASE);
	/* Host threads parked on the kernel's rings look again: the runtime
	 * asks kernel_error() and gives them -EIO. */
	struct rk_ring in = { .hdr = k->in }, out = { .hdr = k->out };
	if (k->in && k->out) {
		rk_ring_wake_producer(&in);
		rk_ring_wake_consumer(&out);
	}
	return GPU_Q_FAILED;
}

static int gpu_trapped(const struct gpu_kernel *k)
{
	const struct gpu_vendor *v = k->c->v;
	int r = __atomic_load_n(&k->fail_code, __ATOMIC_RELAXED);
	return rk_error(-EIO, "%s: kernel %llu trapped: %s (%s %d)", v->name,
			(unsigned long long)k->ctrl->kernel_id, v->error_string(r), v->code, r);
}

/* The loop has run at least one turn: the launch started. The core
 * launches with observed = ~0; the loop's first turn mirrors `desired`. */
static int gpu_seen_running(const struct gpu_kernel *k)
{
	return __atomic_load_n(&k->ctrl->observed, __ATOMIC_ACQUIRE) != 0xffffffffu ||
	       __atomic_load_n(&k->ctrl->heartbeat, __ATOMIC_ACQUIRE) != 0 ||
	       __atomic_load_n(&k->ctrl->terminated, __ATOMIC_ACQUIRE) != 0;
}

/* The kernel no longer occupies the device: drop it from the counts. */
static void gpu_stopped(struct gpu_kernel *k)
{
	pthread_mutex_lock(&gpu_lock);
	if (k->counted) {
		k->counted = 0;
		k->c->live--;
		gpu_device_of(k->c)->live--;
	}
	pthread_mutex_unlock(&gpu_lock);
}

/*
 * The bell thread. A GPU cannot make the futex syscall, so the device loop
 * only rings its own bell words (cons_bell_dev, prod_bell_dev); this thread
 * carries each ring to the host's word and issues the FUTEX_WAKE on the
 * kernel's behalf, and every ~1 ms asks the kernel's stream whether the
 * kernel died (its device is made current once, on this thread only).
 */
static void *gpu_bells_thread(void *arg)
{
	struct gpu_kernel *k = arg;
	struct gpu_saved s;
	int entered = gpu_enter(k->c, &s) == 0;
	uint32_t cons = __atomic_load_n(&k->out->cons_bell_dev, __ATOMIC_ACQUIRE);
	uint32_t prod = __atomic_load_n(&k->in->prod_bell_dev, __ATOMIC_ACQUIRE);
	uint32_t clients[RK_MAX_CLIENTS] = { 0 };
	for (unsigned turn = 1; __atomic_load_n(&k->running, __ATOMIC_ACQUIRE); turn++) {
		gpu_ring_bell(&k->out->cons_bell_dev, &k->out->cons_bell, &cons);
		gpu_ring_bell(&k->in->prod_bell_dev, &k->in->prod_bell, &prod);
		uint64_t op = __atomic_load_n(&k->out->prod_tail, __ATOMIC_SEQ_CST);
		uint64_t oc = __atomic_load_n(&k->out->cons_head, __ATOMIC_SEQ_CST);
		gpu_unstick(&k->out->cons_waiting, &k->out->cons_bell, op != oc);
		uint64_t ip = __atomic_load_n(&k->in->prod_head, __ATOMIC_SEQ_CST);
		uint64_t ic = __atomic_load_n(&k->in->cons_head, __ATOMIC_SEQ_CST);
		gpu_unstick(&k->in->prod_waiting, &k->in->prod_bell, ip - ic < k->in->capacity);
		gpu_client_bells(k->k2k, clients);
		if (entered && turn % 50 == 0)
			gpu_query(k);
		gpu_sleep_ns(20000);
	}
	if (entered)
		gpu_leave(k->c, &s);
	return NULL;
}

static void gpu_bells_halt(struct gpu_kernel *k)
{
	if (!k->started)
		return;
	__atomic_store_n(&k->running, 0, __ATOMIC_RELEASE);
	pthread_join(k->thread, NULL);
	k->started = 0;
}

/* ---- launch --------------------------------------------------------------- */

/* The user image's function: each image is loaded once per context and
 * kept until close (unloading while other kernels run is what lazy
 * loading and implicit synchronization make dangerous). */
static int gpu_user_function(struct gpu_ctx *c, const struct rk_launch_desc *d, void **fn_p)
{
	const struct gpu_vendor *v = c->v;
	int ret = 0, r;
	pthread_mutex_lock(&gpu_lock);
	struct gpu_module *m = c->mods;
	while (m && m->image != d->device_image)
		m = m->next;
	if (!m) {
		m = calloc(1, sizeof(*m));
		if (!m) {
			ret = rk_error(-ENOMEM, "%s: out of memory", v->name);
			goto out;
		}
		if ((r = v->module_load(&m->mod, d->device_image))) {
			free(m);
			ret = gpu_fail(v, r, "loading the kernel's image");
			goto out;
		}
		m->image = d->device_image;
		m->next = c->mods;
		c->mods = m;
	}
	if ((r = v->module_function(fn_p, m->mod, d->device_entry)))
		ret = gpu_fail(v, r, "the kernel's entry in its image");
out:
	pthread_mutex_unlock(&gpu_lock);
	return ret;
}

/* [a, a+an) and [b, b+bn) overlap. */
static int gpu_overlap(const void *a, size_t an, const void *b, size_t bn)
{
	uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
	return x < y + bn && y < x + an;
}

/*
 * Take a residency slot for k, under gpu_lock: refuse beyond the device's
 * capacity for this function, and refuse memory that overlaps a deferred
 * registration (the core reuses addresses it unmapped; registering them
 * again would fail, unregistering them would wait for the resident kernels).
 */
static int gpu_reserve(struct gpu_kernel *k, const struct rk_launch_desc *d, uint32_t cap,
		       const char *why)
{
	struct gpu_ctx *c = k->c;
	const struct gpu_vendor *v = c->v;
	struct gpu_device *dev = gpu_device_of(c);
	int ret = 0;
	pthread_mutex_lock(&gpu_lock);
	if (dev->live >= cap) {
		ret = rk_error(
			-EBUSY,
			"%s: device %d runs at most %u persistent kernels of %u lanes at once "
			"(%s); %u are resident (%u of this runtime)",
			v->name, c->device, cap, d->block, why, dev->live, c->live);
		goto out;
	}
	if (dev->live == 0)
		gpu_flush_deferred(v, dev);
	for (struct gpu_pin *p = dev->deferred; p; p = p->next)
		if (gpu_overlap(p->p, p->size, k->base, k->size) ||
		    (d->k2k && gpu_overlap(p->p, p->size, d->k2k, d->k2k_size))) {
			ret = rk_error(-EBUSY,
				       "%s: memory at %p of a kernel released earlier is still "
				       "registered: unregistering waits for every stream of the "
				       "device, so it waits until none of the %u resident kernels "
				       "runs",
				       v->name, p->p, dev->live);
			goto out;
		}
	dev->live++;
	c->live++;
	k->counted = 1;
out:
	pthread_mutex_unlock(&gpu_lock);
	return ret;
}

int gpu_host_launch(void *ctx, const struct rk_launch_desc *d, void **kernel_p)
{
	struct gpu_ctx *c = ctx;
	const struct gpu_vendor *v = c->v;
	int ret = gpu_check_desc(v->name, d, 1);
	if (ret < 0)
		return ret;
	if (d->kind == RK_KIND_USER && (!d->device_image || !d->device_entry))
		return rk_error(-ENOENT, "%s: kernel %s has no %s image", v->name, d->kernel_name,
				v->name);
	struct gpu_kernel *k = calloc(1, sizeof(*k));
	if (!k)
		return rk_error(-ENOMEM, "%s: out of memory", v->name);
	k->c = c;
	k->ctrl = d->ctrl;
	k->in = d->in;
	k->out = d->out;
	struct gpu_saved s;
	if ((ret = gpu_enter(c, &s)) < 0) {
		free(k);
		return ret;
	}
	void *fn = c->fn;
	if (d->kind == RK_KIND_USER && (ret = gpu_user_function(c, d, &fn)) < 0)
		goto free_k;
	char why[160];
	uint32_t cap;
	if ((ret = gpu_capacity(c, fn, d->block, &cap, why, sizeof(why))) < 0)
		goto free_k;
	void *base = rk_region_base(d->region);
	size_t size = rk_region_size(d->region);
	k->base = base; /* for the overlap check; registered below */
	k->size = size;
	if ((ret = gpu_reserve(k, d, cap, why)) < 0)
		goto free_k;
	k->base = NULL;

	/* The host keeps its shared mapping; the device gets a zero-copy
	 * view of the same pages (CUDA: PORTABLE | DEVICEMAP, HIP: Portable |
	 * Mapped, fine-grained: system-scope atomics reach the host). */
	int r = v->host_register(base, size);
	if (r) {
		ret = gpu_fail(v, r, "registering the kernel's region");
		goto unreserve;
	}
	k->base = base;
	uint64_t dbase;
	if ((r = v->host_device_pointer(base, &dbase))) {
		ret = gpu_fail(v, r, "the device address of the kernel's region");
		goto unpin;
	}
	if ((ret = gpu_check_routes(v->name, d, base, dbase)) < 0)
		goto unpin;
	/* The route table is private host memory: the device sees it at its
	 * host address once registered (unified addressing, checked above). */
	if (d->k2k) {
		if ((r = v->host_register(d->k2k, d->k2k_size))) {
			ret = gpu_fail(v, r, "registering the route table");
			goto unpin;
		}
		k->k2k = d->k2k;
		k->k2k_size = d->k2k_size;
	}
	if ((r = v->stream_create(&k->stream))) {
		ret = gpu_fail(v, r, "creating the kernel's stream");
		goto unpin;
	}
	__atomic_store_n(&k->running, 1, __ATOMIC_RELEASE);
	if ((ret = pthread_create(&k->thread, NULL, gpu_bells_thread, k))) {
		ret = rk_error(-ret, "%s: bell thread: %s", v->name, strerror(ret));
		goto destroy;
	}
	k->started = 1;
	uint64_t a_ctrl = gpu_translate(d->ctrl, base, dbase);
	uint64_t a_in = gpu_translate(d->in, base, dbase);
	uint64_t a_out = gpu_translate(d->out, base, dbase);
	uint64_t a_state = gpu_translate(d->state, base, dbase);
	uint32_t state_size = d->state_size;
	uint64_t a_k2k = (uint64_t)(uintptr_t)d->k2k;
	void *args[] = { &a_ctrl, &a_in, &a_out, &a_state, &state_size, &a_k2k };
	if ((r = v->launch(fn, d->grid, d->block, k->stream, args))) {
		ret = gpu_fail(v, r, "launching the persistent kernel");
		gpu_bells_halt(k);
		goto destroy;
	}
	gpu_leave(c, &s);
	pthread_mutex_lock(&gpu_lock);
	k->next = c->kernels;
	c->kernels = k;
	pthread_mutex_unlock(&gpu_lock);
	*kernel_p = k;
	return 0;

	/* Nothing was queued: everything can go, in reverse. */
destroy:
	v->stream_destroy(k->stream);
unpin:
	gpu_stopped(k); /* first: our own slot must not defer our unregister */
	gpu_unpin(c, k->k2k, k->k2k_size);
	gpu_unpin(c, k->base, k->size);
	goto free_k;
unreserve:
	gpu_stopped(k);
free_k:
	gpu_leave(c, &s);
	free(k);
	return ret;
}

/* ---- signal, poll, terminate, release ----------------------------------- */

/* The kernel polls its control block: nothing to deliver. */
void gpu_host_signal(void *ctx, void *kernel)
{
	(void)ctx;
	(void)kernel;
}

/* Progress from the core's wait loops: at most one stream query per ms. */
void gpu_host_poll(void *ctx, void *kernel)
{
	struct gpu_kernel *k = kernel;
	if (__atomic_load_n(&k->q, __ATOMIC_ACQUIRE) != GPU_Q_RUNNING ||
	    rk_sys_now_ns() - __atomic_load_n(&k->last_query_ns, __ATOMIC_RELAXED) < 1000000)
		return;
	struct gpu_saved s;
	if (gpu_enter(ctx, &s) < 0)
		return;
	gpu_query(k);
	gpu_leave(ctx, &s);
}

int gpu_host_kernel_error(void *ctx, void *kernel)
{
	(void)ctx;
	struct gpu_kernel *k = kernel;
	if (__atomic_load_n(&k->q, __ATOMIC_ACQUIRE) == GPU_Q_FAILED)
		return gpu_trapped(k);
	return 0;
}

int gpu_host_terminate(void *ctx, void *kernel, uint64_t timeout_ns)
{
	struct gpu_ctx *c = ctx;
	struct gpu_kernel *k = kernel;
	const struct gpu_vendor *v = c->v;
	struct rk_ctrl *ctrl = k->ctrl;
	struct gpu_saved s;
	int ret = gpu_enter(c, &s);
	if (ret < 0)
		return ret;
	uint64_t deadline = rk_sys_deadline(timeout_ns); /* saturates on RK_FOREVER */
	uint64_t hb0 = __atomic_load_n(&ctrl->heartbeat, __ATOMIC_ACQUIRE);
	for (unsigned turn = 0;; turn++) {
		if (__atomic_load_n(&ctrl->terminated, __ATOMIC_ACQUIRE))
			break;
		int q = turn % 20 == 0 ? gpu_query(k) : __atomic_load_n(&k->q, __ATOMIC_ACQUIRE);
		if (q == GPU_Q_FAILED) {
			gpu_stopped(k);
			ret = gpu_trapped(k);
			goto out;
		}
		if (q == GPU_Q_DONE)
			break; /* the kernel returned without the flag: it is not running */
		if (rk_sys_now_ns() >= deadline) {
			if (!gpu_seen_running(k)) {
				/* Its launch is queued, maybe for good: no bells to
				 * ring, and the core may free the rings it reads. */
				gpu_bells_halt(k);
				ret = rk_error(-ETIMEDOUT,
					       "%s: kernel %llu never started: its launch is still "
					       "queued (the device runs at most %s)",
					       v->name, (unsigned long long)ctrl->kernel_id,
					       c->hw_max ? c->hw_why : "what its occupancy allows");
				goto out;
			}
			uint64_t hb = __atomic_load_n(&ctrl->heartbeat, __ATOMIC_ACQUIRE);
			ret = rk_error(-ETIMEDOUT,
				       "%s: kernel %llu did not stop (%s: heartbeat %llu -> %llu)",
				       v->name, (unsigned long long)ctrl->kernel_id,
				       hb == hb0 ? "hung, heartbeat frozen" : "alive, still busy",
				       (unsigned long long)hb0, (unsigned long long)hb);
			goto out;
		}
		gpu_sleep_ns(50000);
	}
	/* The loop has exited: the grid finishes in microseconds. */
	int r = v->stream_synchronize(k->stream);
	if (r) {
		__atomic_store_n(&k->fail_code, r, __ATOMIC_RELAXED);
		__atomic_store_n(&k->q, GPU_Q_FAILED, __ATOMIC_RELEASE);
		ret = gpu_trapped(k);
	} else {
		__atomic_store_n(&k->q, GPU_Q_DONE, __ATOMIC_RELEASE);
		/* Its stream holds a hardware queue (HIP gives a new stream the
		 * least-used one): it goes with the residency slot, now. */
		gpu_bells_halt(k);
		v->stream_destroy(k->stream);
		k->stream = NULL;
	}
	gpu_stopped(k);
out:
	gpu_leave(c, &s);
	return ret;
}

/* Free a kernel whose launch has completed (its device current). */
static void gpu_free_kernel(struct gpu_kernel *k)
{
	struct gpu_ctx *c = k->c;
	gpu_stopped(k);
	pthread_mutex_lock(&gpu_lock);
	for (struct gpu_kernel **p = &c->kernels; *p; p = &(*p)->next)
		if (*p == k) {
			*p = k->next;
			break;
		}
	pthread_mutex_unlock(&gpu_lock);
	if (k->stream)
		c->v->stream_destroy(k->stream);
	gpu_unpin(c, k->k2k, k->k2k_size);
	gpu_unpin(c, k->base, k->size);
	free(k);
}

/*
 * Free what launch made, once the stream says the launch has completed.
 * A kernel whose launch is still queued (it never became resident) or
 * still runs keeps its stream and memory registered: they are leaked, and
 * it keeps its residency slot, rather than let a launch that starts later
 * find its memory gone (on ROCm: a GPU fault, then abort()).
 */
void gpu_host_release(void *ctx, void *kernel)
{
	struct gpu_ctx *c = ctx;
	struct gpu_kernel *k = kernel;
	const struct gpu_vendor *v = c->v;
	gpu_bells_halt(k);
	struct gpu_saved s;
	int entered = gpu_enter(c, &s) == 0;
	int q = __atomic_load_n(&k->q, __ATOMIC_ACQUIRE);
	if (entered && q == GPU_Q_RUNNING) {
		if (__atomic_load_n(&k->ctrl->terminated, __ATOMIC_ACQUIRE)) {
			int r = v->stream_synchronize(k->stream);
			__atomic_store_n(&k->fail_code, r, __ATOMIC_RELAXED);
			__atomic_store_n(&k->q, r ? GPU_Q_FAILED : GPU_Q_DONE, __ATOMIC_RELEASE);
			q = r ? GPU_Q_FAILED : GPU_Q_DONE;
		} else {
			q = gpu_query(k);
		}
	}
	if (q == GPU_Q_RUNNING) {
		gpu_warn("%s: kernel %llu %s: its stream, region (%zu bytes at %p) and route "
			 "table stay registered (leaked)",
			 v->name, (unsigned long long)k->ctrl->kernel_id,
			 gpu_seen_running(k) ? "is still running" : "never became resident",
			 k->size, k->base);
		if (entered)
			gpu_leave(c, &s);
		return;
	}
	gpu_free_kernel(k);
	gpu_leave(c, &s);
}

/* SPDX-License-Identifier: MIT */
/*
 * rk_attach(): a kernel of a named runtime, from another process.
 *
 * The client maps the kernel's region, claims a slot in its client table
 * and waits for the owner's service thread to grant it (publish.c). From
 * then on it sends into the kernel's input ring (MP, shared with the owner
 * and the other clients) with its tag as the source, and the kernel routes
 * the replies to the slot's reply ring, which this handle consumes like an
 * owner's output ring. Everything read from shared memory is checked
 * before it is used: the directory, the region, the rings' geometry, the
 * owner's answers.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/plugin.h>
#include <ringkernel/region.h>

#include "../shm/sys.h"
#include "internal.h"
#include "log.h"

/* How long the owner has to answer an attach or a lifecycle request. */
#define ATTACH_TIMEOUT_NS    5000000000ull
#define LIFECYCLE_TIMEOUT_NS 15000000000ull

/* An attached handle's private runtime: a reactor to sleep in, no backend. */
static const struct rk_plugin_ops no_ops = { .struct_size = sizeof(struct rk_plugin_ops) };

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool pid_alive(pid_t pid, uint64_t start)
{
	return pid > 0 && !rk_sys_pid_dead(pid) && start && rki_pid_start(pid) == start;
}

bool rki_attached_owner_gone(const rk_kernel *k)
{
	struct rki_attached *a = k->att;
	if (__atomic_load_n(&a->owner_gone, __ATOMIC_RELAXED))
		return true;
	if (a->remote) /* its node says so when the connection fails */
		return __atomic_load_n(&a->owner_gone, __ATOMIC_SEQ_CST);
	bool gone;
	if (a->owner_pidfd >= 0) {
		struct pollfd p = { .fd = a->owner_pidfd, .events = POLLIN };
		gone = poll(&p, 1, 0) > 0;
	} else {
		gone = !pid_alive(a->owner_pid, a->owner_start);
	}
	if (gone)
		__atomic_store_n(&a->owner_gone, 1, __ATOMIC_RELAXED);
	return gone;
}

rk_state rki_attached_state(const rk_kernel *k)
{
	if (__atomic_load_n(&k->ctrl->terminated, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&k->abandoned, __ATOMIC_ACQUIRE))
		return RK_STATE_TERMINATED;
	switch (__atomic_load_n(&k->ctrl->observed, __ATOMIC_ACQUIRE)) {
	case RK_CTRL_ACTIVE: return RK_STATE_ACTIVE;
	case RK_CTRL_DEACTIVATED: return RK_STATE_DEACTIVATED;
	default: return RK_STATE_LAUNCHED;
	}
}

/* A negative errno the owner wrote, or -EPROTO for anything else. */
static int owner_errno(uint32_t v)
{
	int e = (int)v;
	return e <= 0 && e > -4096 ? e : -EPROTO;
}

int rki_attached_lifecycle(rk_kernel *k, int action)
{
	static const char *const what[] = { "activate", "deactivate", "terminate" };
	struct rki_attached *a = k->att;
	if (a->remote)
		return rk_error(-EPERM,
				"kernel %llu is attached over the network: only its owner may %s "
				"it (remote lifecycle requests are not carried yet)",
				(unsigned long long)k->id, what[action]);
	if (!__atomic_load_n(&a->clients->lifecycle, __ATOMIC_ACQUIRE))
		return rk_error(-EPERM,
				"kernel %llu is attached: only its owner may %s it (it did not "
				"launch with rk_launch_options_with_client_lifecycle)",
				(unsigned long long)k->id, what[action]);
	struct rk_client_slot *sl = a->slot;
	/* One request at a time per handle. */
	pthread_mutex_lock(&k->state_lock);
	uint32_t seq = __atomic_load_n(&sl->lc_seq, __ATOMIC_RELAXED) + 1;
	__atomic_store_n(&sl->lc_request, (uint32_t)action + RK_CLIENT_LC_ACTIVATE,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&sl->lc_seq, seq, __ATOMIC_RELEASE);
	uint64_t deadline = rk_sys_deadline(LIFECYCLE_TIMEOUT_NS);
	int ret;
	for (;;) {
		uint32_t done = __atomic_load_n(&sl->lc_done, __ATOMIC_ACQUIRE);
		if (done == seq) {
			ret = owner_errno(__atomic_load_n(&sl->lc_result, __ATOMIC_RELAXED));
			if (ret < 0)
				rk_error(ret, "kernel %llu: the owner's %s failed: %s",
					 (unsigned long long)k->id, what[action], rk_strerror(ret));
			break;
		}
		if (rki_attached_owner_gone(k)) {
			ret = rk_error(-EPIPE, "kernel %llu: its owner is gone",
				       (unsigned long long)k->id);
			break;
		}
		if (rk_sys_left(deadline) == 0) {
			ret = rk_error(-ETIMEDOUT, "kernel %llu: the owner did not answer the %s",
				       (unsigned long long)k->id, what[action]);
			break;
		}
		rk_sys_futex_wait_until(&sl->lc_done, done, rk_sys_deadline(10000000));
	}
	pthread_mutex_unlock(&k->state_lock);
	return ret;
}

/* ---- attach ------------------------------------------------------------------------- */

struct owner {
	pid_t pid;
	uint64_t start;
	uint64_t id;
	uint64_t launch_ns;
	char kernel[RK_NAME_MAX];
};

/* Look the kernel up in the runtime's directory. */
static int find_kernel(const char *runtime, const char *kernel, struct owner *o)
{
	char rname[RK_NAME_MAX + 4];
	snprintf(rname, sizeof(rname), "rk.%s", runtime);
	rk_region *r;
	int ret = rk_region_open(rname, RK_REGION_UNLOCKED, &r);
	if (ret == -ENOENT)
		return rk_error(-ENOENT, "no runtime \"%s\" (no /dev/shm/%s)", runtime, rname);
	if (ret == -EACCES)
		return rk_error(-EACCES, "runtime \"%s\" belongs to another user", runtime);
	if (ret < 0)
		return ret;
	struct rk_dir *d;
	size_t sz;
	if (rk_region_find(r, RK_SECT_DIR, 0, (void **)&d, &sz) < 0 || sz < sizeof(*d)) {
		rk_region_close(r);
		return rk_error(-ENOENT, "runtime \"%s\" is not ready (no directory yet)", runtime);
	}
	o->pid = (pid_t)__atomic_load_n(&d->owner_pid, __ATOMIC_ACQUIRE);
	o->start = __atomic_load_n(&d->owner_start, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&d->owner_uid, __ATOMIC_RELAXED) != (uint32_t)getuid()) {
		rk_region_close(r);
		return rk_error(-EACCES, "runtime \"%s\" belongs to another user", runtime);
	}
	if (__atomic_load_n(&d->closed, __ATOMIC_ACQUIRE) || !pid_alive(o->pid, o->start)) {
		rk_region_close(r);
		return rk_error(-ECONNREFUSED,
				"runtime \"%s\": its owner (pid %d) is gone; rk-top --clean "
				"removes what it left",
				runtime, (int)o->pid);
	}
	uint32_t n = __atomic_load_n(&d->nkernels, __ATOMIC_ACQUIRE);
	if (n > RK_DIR_MAX_KERNELS)
		n = RK_DIR_MAX_KERNELS;
	ret = rk_error(-ENOENT, "runtime \"%s\" has no kernel \"%s\"", runtime, kernel);
	for (uint32_t i = 0; i < n; i++) {
		struct rk_dir_kernel e;
		if (!rki_dir_entry_read(&d->entry[i], &e) || e.state == 0 ||
		    strcmp((const char *)e.name, kernel) != 0)
			continue;
		if (e.state == RK_STATE_TERMINATED + 1) {
			ret = rk_error(-ESHUTDOWN, "kernel \"%s\" of runtime \"%s\" terminated",
				       kernel, runtime);
			continue; /* a relaunch of the name may follow */
		}
		o->id = e.id;
		o->launch_ns = e.launch_ns;
		snprintf(o->kernel, sizeof(o->kernel), "%s", (const char *)e.registry);
		ret = 0;
		break;
	}
	rk_region_close(r);
	return ret;
}

/* Claim a free slot and wait for the owner to grant it: its index. */
static int claim_slot(struct rk_clients *c, unsigned max, const struct owner *o, const char *kernel)
{
	unsigned i;
	for (i = 0; i < max; i++) {
		uint32_t free_state = RK_CLIENT_FREE;
		if (__atomic_compare_exchange_n(&c->slot[i].state, &free_state, RK_CLIENT_CLAIMED,
						false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			break;
	}
	if (i == max)
		return rk_error(-EUSERS, "kernel \"%s\": all %u client slots are taken", kernel,
				max);
	struct rk_client_slot *sl = &c->slot[i];
	__atomic_store_n(&sl->pid, (uint32_t)rk_sys_pid(), __ATOMIC_RELAXED);
	__atomic_store_n(&sl->start, rki_pid_start(rk_sys_pid()), __ATOMIC_RELAXED);
	__atomic_store_n(&sl->sent, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->received, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sl->state, RK_CLIENT_REQUEST, __ATOMIC_RELEASE);
	uint64_t deadline = rk_sys_deadline(ATTACH_TIMEOUT_NS);
	for (;;) {
		uint32_t st = __atomic_load_n(&sl->state, __ATOMIC_ACQUIRE);
		if (st == RK_CLIENT_READY)
			return (int)i;
		if (st == RK_CLIENT_REFUSED) {
			int err = owner_errno(__atomic_load_n(&sl->result, __ATOMIC_RELAXED));
			__atomic_store_n(&sl->state, RK_CLIENT_FREE, __ATOMIC_RELEASE);
			return rk_error(err ? err : -EPROTO, "kernel \"%s\": the owner refused: %s",
					kernel, rk_strerror(err ? err : -EPROTO));
		}
		if (st != RK_CLIENT_REQUEST)
			return rk_error(-ECONNRESET,
					"kernel \"%s\": the client slot was taken back", kernel);
		if (!pid_alive(o->pid, o->start))
			return rk_error(-ECONNREFUSED, "kernel \"%s\": its owner (pid %d) is gone",
					kernel, (int)o->pid);
		if (rk_sys_left(deadline) == 0) {
			__atomic_store_n(&sl->state, RK_CLIENT_LEAVING, __ATOMIC_RELEASE);
			return rk_error(-ETIMEDOUT,
					"kernel \"%s\": its owner did not answer in 5 s", kernel);
		}
		rk_sys_futex_wait_until(&sl->state, st, rk_sys_deadline(1000000));
	}
}

void rki_attached_free(rk_kernel *k)
{
	rk_runtime *rt = k->rt;
	if (k->att) {
		if (k->att->owner_pidfd >= 0)
			close(k->att->owner_pidfd);
		rk_region_close(k->att->region);
		free(k->att);
	}
	if (rt) {
		if (rt->reactor)
			rki_reactor_destroy(rt->reactor);
		pthread_mutex_destroy(&rt->lock);
		free(rt);
	}
	free(k->stash);
	pthread_mutex_destroy(&k->state_lock);
	free(k);
}

/* Map the kernel's region and check what this handle will use of it. */
static int map_kernel(rk_kernel *k, const char *runtime, const char *kernel, const struct owner *o,
		      unsigned *max_p)
{
	struct rki_attached *a = k->att;
	char rname[2 * RK_NAME_MAX + 4];
	snprintf(rname, sizeof(rname), "rk.%s.%s", runtime, kernel);
	int ret = rk_region_open(rname, RK_REGION_UNLOCKED, &a->region);
	if (ret < 0)
		return ret;
	void *p;
	size_t sz;
	if ((ret = rk_region_find(a->region, RK_SECT_CTRL, 0, &p, &sz)) < 0)
		return rk_error(ret, "kernel \"%s\": no control block in its region", kernel);
	if (sz < sizeof(struct rk_ctrl))
		return rk_error(-ERANGE, "kernel \"%s\": control block too small", kernel);
	k->ctrl = p;
	if (__atomic_load_n(&k->ctrl->kernel_id, __ATOMIC_RELAXED) != o->id)
		return rk_error(-EBADMSG, "kernel \"%s\": its region is not the directory's kernel",
				kernel);
	if ((ret = rk_region_find(a->region, RK_SECT_RING, 1, &p, &sz)) < 0 ||
	    (ret = rk_ring_attach(&k->in, p, sz)) < 0)
		return rk_error(ret, "kernel \"%s\": input ring: %s", kernel, rk_last_error());
	if (!(k->in.flags & RK_RING_MP))
		return rk_error(-EBADMSG, "kernel \"%s\": its input ring takes one producer",
				kernel);
	uint32_t mp = __atomic_load_n(&k->ctrl->max_payload, __ATOMIC_RELAXED);
	if (mp > k->in.slot_size - RK_MSG_HDR_SIZE)
		return rk_error(-ERANGE, "kernel \"%s\": max payload %u does not fit its slots",
				kernel, mp);
	k->opts.max_payload = mp;
	if ((ret = rk_region_find(a->region, RK_SECT_CLIENTS, 0, &p, &sz)) < 0)
		return rk_error(ret == -ENOENT ? -EUSERS : ret,
				"kernel \"%s\" takes no clients (launched with max clients 0)",
				kernel);
	if (sz < sizeof(struct rk_clients))
		return rk_error(-ERANGE, "kernel \"%s\": client table too small", kernel);
	struct rk_clients *c = p;
	uint32_t max = __atomic_load_n(&c->max_clients, __ATOMIC_RELAXED);
	uint64_t first = __atomic_load_n(&c->ring_offset, __ATOMIC_RELAXED);
	uint64_t stride = __atomic_load_n(&c->ring_stride, __ATOMIC_RELAXED);
	if (max == 0)
		return rk_error(-EUSERS, "kernel \"%s\" takes no clients", kernel);
	if (max > RK_MAX_CLIENTS || first < sizeof(*c) || first % RK_LINE || stride % RK_LINE ||
	    stride < sizeof(struct rk_ring_hdr) || first > sz || stride > (sz - first) / max)
		return rk_error(-ERANGE, "kernel \"%s\": client table geometry is out of bounds",
				kernel);
	a->clients = c;
	a->ring_offset = first; /* the checked copies: the table may change under us */
	a->ring_stride = stride;
	*max_p = max;
	/* A profiled kernel: our sends are stamped too (rk_kernel_profile_get). */
	if (rk_region_find(a->region, RK_SECT_PROFILE, 0, &p, &sz) == 0 &&
	    sz >= sizeof(struct rk_profile)) {
		k->profile = p;
		k->stamp = true;
	}
	return 0;
}

int rki_attached_alloc(const char *runtime, const char *kernel, rk_kernel **out)
{
	rk_kernel *k = calloc(1, sizeof(*k));
	rk_runtime *rt = calloc(1, sizeof(*rt));
	struct rki_attached *a = calloc(1, sizeof(*a));
	if (!k || !rt || !a) {
		free(k);
		free(rt);
		free(a);
		return rk_error(-ENOMEM, "attach: out of memory");
	}
	pthread_mutex_init(&k->state_lock, NULL);
	pthread_mutex_init(&rt->lock, NULL);
	rt->ops = &no_ops;
	rt->attached_rt = true;
	snprintf(rt->name, sizeof(rt->name), "%s", runtime);
	k->rt = rt;
	k->att = a;
	k->refs = 1;
	k->dir_index = -1;
	k->state = RK_STATE_LAUNCHED;
	snprintf(k->name, sizeof(k->name), "%s", kernel);
	k->opts = rk_launch_options_default();
	a->owner_pidfd = -1;
	int ret = rki_reactor_create(&rt->reactor);
	if (ret < 0) {
		rki_attached_free(k);
		return ret;
	}
	*out = k;
	return 0;
}

int rk_attach(const char *runtime, const char *kernel, rk_kernel **out)
{
	rki_log_init();
	if (!out)
		return rk_error(-EINVAL, "rk_attach: NULL out");
	*out = NULL;
	if (!rki_name_valid(runtime) || !rki_name_valid(kernel))
		return rk_error(-EINVAL,
				"rk_attach: runtime \"%s\", kernel \"%s\": names are 1..63 "
				"of [A-Za-z0-9_-]",
				runtime ? runtime : "(null)", kernel ? kernel : "(null)");
	struct owner o;
	int ret = find_kernel(runtime, kernel, &o);
	if (ret < 0)
		return ret;

	rk_kernel *k;
	if ((ret = rki_attached_alloc(runtime, kernel, &k)) < 0)
		return ret;
	struct rki_attached *a = k->att;
	k->id = o.id;
	snprintf(k->def_name, sizeof(k->def_name), "%s", o.kernel);
	a->owner_pid = o.pid;
	a->owner_start = o.start;
#ifdef SYS_pidfd_open
	a->owner_pidfd = (int)syscall(SYS_pidfd_open, o.pid, 0);
#else
	a->owner_pidfd = -1;
#endif
	/* The owner could have died and its pid been reused before the open. */
	unsigned max = 0;
	if (!pid_alive(o.pid, o.start)) {
		ret = rk_error(-ECONNREFUSED, "runtime \"%s\": its owner is gone", runtime);
		goto fail;
	}
	if ((ret = map_kernel(k, runtime, kernel, &o, &max)) < 0)
		goto fail;
	int slot = claim_slot(a->clients, max, &o, kernel);
	if (slot < 0) {
		ret = slot;
		goto fail;
	}
	struct rk_client_slot *sl = &a->clients->slot[slot];
	uint64_t tag = __atomic_load_n(&sl->tag, __ATOMIC_ACQUIRE);
	a->slot = sl;
	a->slot_index = (unsigned)slot;
	if (!RK_CLIENT_IS_TAG(tag) || RK_CLIENT_SLOT(tag) != (unsigned)slot) {
		ret = rk_error(-EPROTO, "kernel \"%s\": the owner granted a malformed tag", kernel);
		goto leave;
	}
	k->source = tag;
	/* The reply ring: what an earlier client of the slot left is skipped
	 * (and any late reply to it is recognised by its tag). */
	uint8_t *ring = (uint8_t *)a->clients + a->ring_offset + (size_t)slot * a->ring_stride;
	struct rk_ring_hdr *h = (struct rk_ring_hdr *)ring;
	__atomic_store_n(&h->cons_head, __atomic_load_n(&h->prod_tail, __ATOMIC_ACQUIRE),
			 __ATOMIC_RELEASE);
	if ((ret = rk_ring_attach(&k->out, ring, a->ring_stride)) < 0) {
		rk_error(ret, "kernel \"%s\": reply ring: %s", kernel, rk_last_error());
		goto leave;
	}
	if (k->out.flags & RK_RING_MP || k->out.slot_size < k->in.slot_size) {
		ret = rk_error(-EBADMSG, "kernel \"%s\": reply ring geometry is wrong", kernel);
		goto leave;
	}
	rk_ring_set_peer(&k->in, o.pid);
	rk_ring_set_peer(&k->out, o.pid);
	uint64_t now_rt = realtime_ns();
	k->launch_ns = rki_now_ns();
	if (o.launch_ns && o.launch_ns <= now_rt && now_rt - o.launch_ns < k->launch_ns)
		k->launch_ns -= now_rt - o.launch_ns;
	rki_log_info("attached to kernel %llu (\"%s\") of runtime \"%s\", owner pid %d, slot %d",
		     (unsigned long long)k->id, kernel, runtime, (int)o.pid, slot);
	*out = k;
	return 0;
leave:
	__atomic_store_n(&sl->state, RK_CLIENT_LEAVING, __ATOMIC_RELEASE);
fail:
	rki_attached_free(k);
	return ret;
}

int rk_detach(rk_kernel *k)
{
	if (!k || !k->att)
		return rk_error(-EINVAL, "rk_detach: %s", k ? "not an attached handle" : "NULL");
	/* Calls still inside return (-ESHUTDOWN) and leave before the memory
	 * goes; none may start from here on. */
	__atomic_store_n(&k->closing, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&k->abandoned, 1, __ATOMIC_SEQ_CST);
	rki_kernel_drain_users(k);
	if (k->att->remote) {
		rki_remote_free(k); /* the server side detaches as the connection closes */
		rki_attached_free(k);
		return 0;
	}
	struct rk_client_slot *sl = k->att->slot;
	uint32_t ready = RK_CLIENT_READY;
	if (__atomic_load_n(&sl->tag, __ATOMIC_ACQUIRE) == k->source) /* still ours */
		__atomic_compare_exchange_n(&sl->state, &ready, RK_CLIENT_LEAVING, false,
					    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
	rki_attached_free(k);
	return 0;
}

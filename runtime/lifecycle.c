/* SPDX-License-Identifier: MIT */
/* Kernel lifecycle (spec: KernelState): the transition table, activate,
 * deactivate, terminate and release, enforced here once for every backend. */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <ringkernel/device.h>

#include "../shm/sys.h"
#include "internal.h"
#include "log.h"

/* ---- lifecycle -------------------------------------------------------------------- */

const char *rk_state_name(rk_state s)
{
	switch (s) {
	case RK_STATE_CREATED: return "Created";
	case RK_STATE_LAUNCHED: return "Launched";
	case RK_STATE_ACTIVE: return "Active";
	case RK_STATE_DEACTIVATED: return "Deactivated";
	case RK_STATE_TERMINATED: return "Terminated";
	}
	return "invalid";
}

uint64_t rk_kernel_id(const rk_kernel *k)
{
	return k ? k->id : 0;
}

const char *rk_kernel_name(const rk_kernel *k)
{
	return k ? k->name : NULL;
}

rk_state rk_kernel_state(const rk_kernel *k)
{
	if (k && k->att)
		return rki_attached_state(k);
	return k ? __atomic_load_n(&k->state, __ATOMIC_ACQUIRE) : RK_STATE_TERMINATED;
}

bool rk_kernel_is_active(const rk_kernel *k)
{
	return rk_kernel_state(k) == RK_STATE_ACTIVE;
}

enum { ACT_ACTIVATE, ACT_DEACTIVATE, ACT_TERMINATE };

/* DESIGN §2, exactly:  Created -> Launched -> Active <-> Deactivated -> Terminated,
 * Launched -> Deactivated, Active -> Terminated, Launched -> Terminated.
 * -1 = illegal (-EPERM, nothing changes). Launch is the only way out of
 * Created, and it is not a handle action. */
static const int transition[5][3] = {
	[RK_STATE_CREATED] = { -1, -1, -1 },
	[RK_STATE_LAUNCHED] = { RK_STATE_ACTIVE, RK_STATE_DEACTIVATED, RK_STATE_TERMINATED },
	[RK_STATE_ACTIVE] = { -1, RK_STATE_DEACTIVATED, RK_STATE_TERMINATED },
	[RK_STATE_DEACTIVATED] = { RK_STATE_ACTIVE, -1, RK_STATE_TERMINATED },
	[RK_STATE_TERMINATED] = { -1, -1, -1 },
};

static const char *const action_name[] = { "activate", "deactivate", "terminate" };

int rki_kernel_await_observed(rk_kernel *k, uint32_t want, uint64_t timeout_ns)
{
	uint64_t deadline = rk_sys_deadline(timeout_ns);
	unsigned spins = 0;
	while (__atomic_load_n(&k->ctrl->observed, __ATOMIC_ACQUIRE) != want) {
		if (__atomic_load_n(&k->ctrl->terminated, __ATOMIC_ACQUIRE))
			return rk_error(-ESHUTDOWN, "kernel %llu stopped",
					(unsigned long long)k->id);
		if (rki_now_ns() >= deadline)
			return rk_error(-ETIMEDOUT,
					"kernel %llu did not reach state %u (heartbeat %llu)",
					(unsigned long long)k->id, want,
					(unsigned long long)k->ctrl->heartbeat);
		if (k->rt->ops->poll && RKI_PLUGIN_HAS_OP(k->rt->ops, poll))
			k->rt->ops->poll(k->rt->pctx, k->pkernel);
		if (++spins > 100) {
			struct timespec ts = { 0, 20000 };
			nanosleep(&ts, NULL);
		}
	}
	return 0;
}

static void set_desired(rk_kernel *k, uint32_t desired)
{
	__atomic_store_n(&k->ctrl->desired, desired, __ATOMIC_SEQ_CST);
	k->rt->ops->signal(k->rt->pctx, k->pkernel);
}

/* Wake every host thread blocked on this kernel's rings. */
static void wake_host_waiters(rk_kernel *k)
{
	rk_ring_wake_consumer(&k->out);
	rk_ring_wake_producer(&k->in);
	rki_mutex_lock(&k->recv_lock);
	rki_cond_broadcast(&k->recv_cond);
	rki_mutex_unlock(&k->recv_lock);
}

/*
 * No send commits into a kernel that has begun to terminate: close, wake
 * the senders parked on a full ring (they see `closing` and leave), and
 * wait for the ones inside a send to finish committing. What they sent is
 * then either processed or left in the input ring, which receive returns
 * as undelivered before it says -ESHUTDOWN.
 */
static void close_input(rk_kernel *k)
{
	__atomic_store_n(&k->closing, 1, __ATOMIC_SEQ_CST);
	for (unsigned spins = 0; rki_kernel_senders(k); spins++) {
		rk_ring_wake_producer(&k->in);
		if (spins < 64) {
			sched_yield();
		} else {
			struct timespec ts = { 0, 50000 };
			nanosleep(&ts, NULL);
		}
	}
}

static int lifecycle(rk_kernel *k, int action)
{
	if (!k)
		return rk_error(-EINVAL, "rk_kernel_%s: NULL kernel", action_name[action]);
	if (k->att) /* asks the owner, who decides */
		return rki_attached_lifecycle(k, action);
	pthread_mutex_lock(&k->state_lock);
	rk_state from = k->state;
	int to = transition[from][action];
	int ret = 0;
	if (to < 0) {
		pthread_mutex_unlock(&k->state_lock);
		return rk_error(-EPERM, "kernel %llu: cannot %s while %s",
				(unsigned long long)k->id, action_name[action],
				rk_state_name(from));
	}
	rk_runtime *rt = k->rt;
	switch (action) {
	case ACT_ACTIVATE: set_desired(k, RK_CTRL_ACTIVE); break;
	case ACT_DEACTIVATE:
		/* Returns once the kernel has stopped consuming: from here on
		 * nothing sent is processed until the next activate. */
		set_desired(k, RK_CTRL_DEACTIVATED);
		ret = rki_kernel_await_observed(k, RK_CTRL_DEACTIVATED, 10000000000ull);
		if (ret < 0) {
			set_desired(k, from == RK_STATE_ACTIVE ? RK_CTRL_ACTIVE : RK_CTRL_LAUNCHED);
			pthread_mutex_unlock(&k->state_lock);
			return ret;
		}
		break;
	case ACT_TERMINATE:
		close_input(k);
		set_desired(k, RK_CTRL_TERMINATE);
		ret = rt->ops->terminate(rt->pctx, k->pkernel, 10000000000ull);
		if (ret < 0) {
			/* A kernel that does not stop keeps its memory: it may
			 * still be writing to it. */
			rki_log_error("kernel %llu (%s) did not terminate: %s",
				      (unsigned long long)k->id, k->name, rk_strerror(ret));
			pthread_mutex_unlock(&k->state_lock);
			if (ret != -ETIMEDOUT) /* the backend's reason (a trap: -EIO) */
				return ret;
			return rk_error(
				ret, "kernel %llu did not stop within 10 s (heartbeat %llu)",
				(unsigned long long)k->id, (unsigned long long)k->ctrl->heartbeat);
		}
		/* Routes into this kernel close before it reads as Terminated:
		 * senders stop stalling on it and get an error (forward falls back
		 * to the host); what they already sent is returned by receive. */
		pthread_mutex_lock(&rt->lock);
		for (unsigned i = 0; i < k->ninbound; i++) {
			rk_kernel *src = k->inbound_from[i];
			for (unsigned j = 0; src && j < src->nroutes; j++)
				if (src->route_to[j] == k) {
					__atomic_store_n(&src->k2k->route[j].state, RK_ROUTE_CLOSED,
							 __ATOMIC_SEQ_CST);
					src->routes->route[j].state = RK_ROUTE_CLOSED;
				}
		}
		pthread_mutex_unlock(&rt->lock);
		break;
	}
	__atomic_store_n(&k->state, (rk_state)to, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&k->state_lock);
	if (action == ACT_TERMINATE) {
		pthread_mutex_lock(&rt->lock);
		rt->resident--;
		bool watched = rt->fd_used;
		pthread_mutex_unlock(&rt->lock);
		if (watched)
			rki_reactor_unwatch(rt->reactor, &k->out);
		wake_host_waiters(k);
		rki_log_info(
			"kernel %llu (\"%s\") terminated: %llu messages processed, %llu "
			"errors, %llu stalls",
			(unsigned long long)k->id, k->name,
			(unsigned long long)__atomic_load_n(&k->ctrl->messages_processed,
							    __ATOMIC_ACQUIRE),
			(unsigned long long)__atomic_load_n(&k->ctrl->errors, __ATOMIC_ACQUIRE),
			(unsigned long long)__atomic_load_n(&k->ctrl->stalls, __ATOMIC_ACQUIRE));
	}
	return 0;
}

int rk_kernel_activate(rk_kernel *k)
{
	return lifecycle(k, ACT_ACTIVATE);
}

int rk_kernel_deactivate(rk_kernel *k)
{
	return lifecycle(k, ACT_DEACTIVATE);
}

int rk_kernel_terminate(rk_kernel *k)
{
	return lifecycle(k, ACT_TERMINATE);
}

/* Drop one reference to k's memory (rt->lock held); the last one frees it. */
static bool unref_locked(rk_kernel *k)
{
	return --k->refs == 0;
}

void rki_kernel_free_k2k(rk_kernel *k)
{
	if (k->k2k)
		munmap(k->k2k, k->k2k_size);
	k->k2k = NULL;
}

static void free_kernel(rk_kernel *k)
{
	for (unsigned j = 0; j < RK_MAX_ROUTES; j++)
		free(k->remote_ring[j]);
	rki_kernel_free_k2k(k);
	rk_region_close(k->region);
	free(k->stash);
	pthread_mutex_destroy(&k->state_lock);
	free(k);
}

void rki_kernel_drain_users(rk_kernel *k)
{
	for (unsigned spins = 0; rki_kernel_users(k); spins++) {
		wake_host_waiters(k);
		if (spins < 64) {
			sched_yield();
		} else {
			struct timespec ts = { 0, 100000 };
			nanosleep(&ts, NULL);
		}
	}
}

void rk_kernel_release(rk_kernel *k)
{
	if (!k)
		return;
	if (k->att) {
		rk_detach(k);
		return;
	}
	rk_runtime *rt = k->rt;
	if (rk_kernel_state(k) != RK_STATE_TERMINATED) {
		rki_log_warn("rk_kernel_release: kernel %llu is %s; terminating it first",
			     (unsigned long long)k->id, rk_state_name(rk_kernel_state(k)));
		if (rk_kernel_terminate(k) < 0) {
			rki_log_error("kernel %llu still running: its handle is leaked",
				      (unsigned long long)k->id);
			/* Its waiters give up (-ESHUTDOWN) rather than wait on a
			 * kernel nobody will stop again. */
			__atomic_store_n(&k->abandoned, 1, __ATOMIC_SEQ_CST);
			rki_kernel_drain_users(k);
			pthread_mutex_lock(&rt->lock);
			for (rk_kernel **p = &rt->kernels; *p; p = &(*p)->next)
				if (*p == k) {
					*p = k->next;
					break;
				}
			pthread_mutex_unlock(&rt->lock);
			return;
		}
	}
	/* Its remote routes, and remote senders into it, end here. */
	rki_remote_forget(k);
	/* Threads still inside a call on this handle were woken by terminate
	 * and are on their way out: nothing is freed under them. */
	rki_kernel_drain_users(k);
	rki_unpublish_kernel(rt, k);
	rt->ops->release(rt->pctx, k->pkernel);
	k->pkernel = NULL;
	rk_kernel *dead[RK_MAX_ROUTES + 1];
	unsigned ndead = 0;
	pthread_mutex_lock(&rt->lock);
	for (rk_kernel **p = &rt->kernels; *p; p = &(*p)->next) {
		if (*p == k) {
			*p = k->next;
			break;
		}
	}
	rt->sent_done += k->sent;
	rt->received_done += k->received;
	/* This kernel will never send again: the kernels it routed to no
	 * longer need to keep their memory for it. */
	for (unsigned j = 0; j < k->nroutes; j++) {
		rk_kernel *t = k->route_to[j];
		if (!t)
			continue;
		for (unsigned i = 0; i < t->ninbound; i++)
			if (t->inbound_from[i] == k)
				t->inbound_from[i] = NULL; /* k's memory goes below */
		if (unref_locked(t))
			dead[ndead++] = t;
	}
	if (unref_locked(k))
		dead[ndead++] = k;
	pthread_mutex_unlock(&rt->lock);
	for (unsigned i = 0; i < ndead; i++)
		free_kernel(dead[i]);
}

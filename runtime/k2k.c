/* SPDX-License-Identifier: MIT */
/* Kernel-to-kernel routes: connect, and what observers see of a route.
 * The loop follows the private struct rk_k2k; the region's rk_routes is
 * for observers and the kernel's counters (layout.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "internal.h"

/* ---- kernel-to-kernel routes ----------------------------------------------------- */

int rk_kernel_connect(rk_kernel *from, rk_kernel *to)
{
	if (!from || !to)
		return rk_error(-EINVAL, "rk_kernel_connect: NULL kernel");
	if (from == to)
		return rk_error(-EINVAL, "rk_kernel_connect: a kernel cannot route to itself");
	if (from->rt != to->rt)
		return rk_error(-EINVAL, "rk_kernel_connect: kernels of different runtimes");
	if (!from->opts.k2k || !to->opts.k2k)
		return rk_error(-EINVAL,
				"kernel-to-kernel routes need both kernels launched with "
				"rk_launch_options_with_k2k(&o, true) (kernel %llu: %s, kernel "
				"%llu: %s)",
				(unsigned long long)from->id, from->opts.k2k ? "on" : "off",
				(unsigned long long)to->id, to->opts.k2k ? "on" : "off");
	rk_runtime *rt = from->rt;
	int ret = 0;
	pthread_mutex_lock(&rt->lock);
	struct rk_routes *fr = from->routes, *tr = to->routes;
	if (rk_kernel_state(from) == RK_STATE_TERMINATED ||
	    rk_kernel_state(to) == RK_STATE_TERMINATED) {
		ret = rk_error(-ESHUTDOWN, "rk_kernel_connect: kernel %llu is terminated",
			       (unsigned long long)(rk_kernel_state(to) == RK_STATE_TERMINATED
							    ? to->id
							    : from->id));
		goto out;
	}
	for (unsigned j = 0; j < from->nroutes; j++) {
		if (from->route_to[j] == to) {
			ret = rk_error(-EEXIST, "kernel %llu already routes to kernel %llu",
				       (unsigned long long)from->id, (unsigned long long)to->id);
			goto out;
		}
	}
	if (from->nroutes == from->opts.max_routes || to->ninbound == to->opts.max_routes) {
		ret = rk_error(-ENOSPC,
			       "route table full (kernel %llu: %u of %u outbound, kernel "
			       "%llu: %u of %u inbound); raise max_routes",
			       (unsigned long long)from->id, from->nroutes, from->opts.max_routes,
			       (unsigned long long)to->id, to->ninbound, to->opts.max_routes);
		goto out;
	}
	/* The receiver's inbound ring first, then the sender's route: each is
	 * complete before its count is published (release), which is what the
	 * kernels read with acquire. */
	unsigned i = to->ninbound;
	const struct rk_ring *ring = &to->inbound[i];
	struct rk_k2k_ring *in = &to->k2k->inbound[i];
	in->dest_id = from->id;
	in->ring_addr = (uint64_t)(uintptr_t)ring->hdr;
	in->capacity = ring->capacity;
	in->slot_size = ring->slot_size;
	tr->inbound_src[i] = from->id;
	to->inbound_from[i] = from;
	to->ninbound = i + 1;
	__atomic_store_n(&to->k2k->ninbound, i + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&tr->ninbound, i + 1, __ATOMIC_RELEASE);
	unsigned j = from->nroutes;
	struct rk_k2k_ring *out = &from->k2k->route[j];
	out->dest_id = to->id;
	out->ring_addr = in->ring_addr;
	out->bell_addr = (uint64_t)(uintptr_t)to->in.hdr;
	out->capacity = ring->capacity;
	out->slot_size = ring->slot_size;
	out->state = RK_ROUTE_OPEN;
	struct rk_route *r = &fr->route[j];
	r->dest_id = to->id;
	r->state = RK_ROUTE_OPEN;
	from->route_to[j] = to;
	from->route_ring[j] = &to->inbound[i];
	from->nroutes = j + 1;
	to->refs++;
	__atomic_store_n(&from->k2k->nroutes, j + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&fr->nroutes, j + 1, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

int rki_kernel_add_remote_route(rk_kernel *from, uint64_t dest_id, struct rk_ring *ring, void *mem,
				unsigned *idx)
{
	rk_runtime *rt = from->rt;
	int ret = 0;
	pthread_mutex_lock(&rt->lock);
	if (rk_kernel_state(from) == RK_STATE_TERMINATED) {
		ret = rk_error(-ESHUTDOWN, "kernel %llu is terminated",
			       (unsigned long long)from->id);
		goto out;
	}
	for (unsigned j = 0; j < from->nroutes; j++)
		if (from->k2k->route[j].dest_id == dest_id &&
		    __atomic_load_n(&from->k2k->route[j].state, __ATOMIC_ACQUIRE) ==
			    RK_ROUTE_OPEN) {
			ret = rk_error(-EEXIST, "kernel %llu already routes to kernel %llu",
				       (unsigned long long)from->id, (unsigned long long)dest_id);
			goto out;
		}
	if (from->nroutes == from->opts.max_routes) {
		ret = rk_error(-ENOSPC,
			       "kernel %llu: route table full (%u routes); raise max_routes",
			       (unsigned long long)from->id, from->opts.max_routes);
		goto out;
	}
	unsigned j = from->nroutes;
	struct rk_k2k_ring *o = &from->k2k->route[j];
	o->dest_id = dest_id;
	o->ring_addr = (uint64_t)(uintptr_t)ring->hdr;
	o->bell_addr = o->ring_addr; /* the node parks on the ring itself */
	o->capacity = ring->capacity;
	o->slot_size = ring->slot_size;
	o->state = RK_ROUTE_OPEN;
	struct rk_route *r = &from->routes->route[j];
	r->dest_id = dest_id;
	r->state = RK_ROUTE_OPEN;
	from->route_to[j] = NULL;
	from->remote_view[j] = *ring;
	from->route_ring[j] = &from->remote_view[j];
	from->remote_ring[j] = mem;
	from->nroutes = j + 1;
	*idx = j;
	__atomic_store_n(&from->k2k->nroutes, j + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&from->routes->nroutes, j + 1, __ATOMIC_RELEASE);
out:
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

void rki_kernel_close_remote_route(rk_kernel *from, unsigned idx, int err)
{
	__atomic_store_n(&from->remote_err[idx], err, __ATOMIC_RELEASE);
	__atomic_store_n(&from->k2k->route[idx].state, RK_ROUTE_CLOSED, __ATOMIC_SEQ_CST);
	__atomic_store_n(&from->routes->route[idx].state, RK_ROUTE_CLOSED, __ATOMIC_RELEASE);
}

int rk_kernel_route_count(const rk_kernel *k)
{
	if (!k)
		return rk_error(-EINVAL, "rk_kernel_route_count: NULL kernel");
	rk_runtime *rt = k->rt;
	pthread_mutex_lock(&rt->lock);
	int n = (int)k->nroutes;
	pthread_mutex_unlock(&rt->lock);
	return n;
}

int rk_kernel_route_status(const rk_kernel *k, unsigned idx, rk_route_status *out)
{
	if (!k || !out)
		return rk_error(-EINVAL, "rk_kernel_route_status: NULL kernel or out");
	int n = rk_kernel_route_count(k);
	if (idx >= (unsigned)n)
		return rk_error(-ENOENT, "kernel %llu has %d routes, no route %u",
				(unsigned long long)k->id, n, idx);
	const struct rk_route *r = &k->routes->route[idx];
	/* The receiver's ring through the host's own handle: never an
	 * address read back from the region. */
	const struct rk_ring *ring = k->route_ring[idx];
	const struct rk_ring_hdr *h = ring->hdr;
	memset(out, 0, sizeof(*out));
	out->dest = k->route_to[idx] ? k->route_to[idx]->id : k->k2k->route[idx].dest_id;
	out->sent = __atomic_load_n(&r->sent, __ATOMIC_ACQUIRE);
	out->stalls = __atomic_load_n(&r->stalls, __ATOMIC_ACQUIRE);
	/* The receiver's memory lives while this route holds a reference (a
	 * remote route's ring, while the sender does). */
	uint64_t cons = __atomic_load_n(&h->cons_head, __ATOMIC_ACQUIRE);
	uint64_t prod = __atomic_load_n(&h->prod_tail, __ATOMIC_ACQUIRE);
	out->delivered = cons; /* the runtime's rings start at index 0 */
	out->depth = prod - cons > ring->capacity ? ring->capacity : (uint32_t)(prod - cons);
	if (!k->route_to[idx]) {
		/* A remote route: delivered once placed in the far kernel's ring;
		 * in flight, whatever is neither placed nor returned. */
		uint64_t placed = __atomic_load_n(&k->remote_placed[idx], __ATOMIC_ACQUIRE);
		uint64_t back = __atomic_load_n(&k->remote_returned[idx], __ATOMIC_ACQUIRE);
		out->delivered = placed;
		out->depth = out->sent > placed + back ? (uint32_t)(out->sent - placed - back) : 0;
	}
	out->open = __atomic_load_n(&k->k2k->route[idx].state, __ATOMIC_ACQUIRE) == RK_ROUTE_OPEN;
	if (!out->open)
		out->error = k->route_to[idx]
				     ? -ESHUTDOWN
				     : __atomic_load_n(&k->remote_err[idx], __ATOMIC_ACQUIRE);
	return 0;
}

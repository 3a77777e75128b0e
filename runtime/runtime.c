/* SPDX-License-Identifier: MIT */
/* The runtime (spec: RuntimeBuilder, RingKernelRuntime): backend choice,
 * launch, metrics, shutdown. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include <ringkernel/device.h>

#include "../shm/sys.h"
#include "internal.h"
#include "log.h"

uint64_t rki_now_ns(void)
{
	return rk_sys_now_ns();
}

/* ---- builder ------------------------------------------------------------------ */

rk_runtime_builder *rk_runtime_builder_new(void)
{
	rk_runtime_builder *b = calloc(1, sizeof(*b));
	if (!b) {
		rk_error(-ENOMEM, "rk_runtime_builder_new: out of memory");
		return NULL;
	}
	b->backend = RK_BACKEND_AUTO;
	return b;
}

void rk_runtime_builder_free(rk_runtime_builder *b)
{
	if (!b)
		return;
	free(b->plugin_path);
	free(b);
}

/* Setters return nothing (DESIGN §2): a bad value is remembered and
 * reported by rk_runtime_builder_build() as -EINVAL. */
void rk_runtime_builder_backend(rk_runtime_builder *b, rk_backend backend)
{
	if (!b)
		return;
	b->backend = backend;
	b->backend_name[0] = '\0';
}

void rk_runtime_builder_backend_name(rk_runtime_builder *b, const char *plugin)
{
	if (!b)
		return;
	if (!plugin || !*plugin || strlen(plugin) >= sizeof(b->backend_name)) {
		snprintf(b->backend_name, sizeof(b->backend_name), "%s", "\x01invalid");
		return;
	}
	snprintf(b->backend_name, sizeof(b->backend_name), "%s", plugin);
}

void rk_runtime_builder_device(rk_runtime_builder *b, int ordinal)
{
	if (b)
		b->device = ordinal;
}

void rk_runtime_builder_profiling(rk_runtime_builder *b, bool on)
{
	if (b)
		b->profiling = on;
}

void rk_runtime_builder_plugin_path(rk_runtime_builder *b, const char *colon_list)
{
	if (!b)
		return;
	free(b->plugin_path);
	b->plugin_path = colon_list ? strdup(colon_list) : NULL;
}

void rk_runtime_builder_name(rk_runtime_builder *b, const char *name)
{
	if (!b)
		return;
	if (!name) {
		b->name[0] = '\0';
		return;
	}
	if (!rki_name_valid(name)) {
		snprintf(b->name, sizeof(b->name), "%s", "\x01");
		return;
	}
	snprintf(b->name, sizeof(b->name), "%s", name);
}

static const char *backend_enum_name(rk_backend be)
{
	switch (be) {
	case RK_BACKEND_AUTO: return NULL;
	case RK_BACKEND_CPU: return "cpu";
	case RK_BACKEND_CUDA: return "cuda";
	case RK_BACKEND_HIP: return "hip";
	}
	return "\x01invalid";
}

static int valid_backend_word(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return 0;
	return 1;
}

static int build(rk_runtime_builder *b, rk_runtime **out)
{
	const char *want;
	int ret;

	rki_log_init();
	if (!out)
		return rk_error(-EINVAL, "rk_runtime_builder_build: NULL out pointer");
	if (b->device < 0)
		return rk_error(-EINVAL, "device ordinal %d is negative", b->device);
	want = b->backend_name[0] ? b->backend_name : backend_enum_name(b->backend);
	if (want && want[0] == '\x01')
		return rk_error(-EINVAL, "invalid backend (enum value or plugin name)");
	/* It becomes a file name: "../x" must not reach outside the path. */
	if (want && !valid_backend_word(want))
		return rk_error(-EINVAL, "backend \"%s\": expected a plugin name ([a-z0-9_-])",
				want);
	/* RK_BACKEND overrides what the program asked for, read at build
	 * time; not in a set-uid program (secure_getenv), whose caller must
	 * not choose the code it runs, as ld.so ignores LD_LIBRARY_PATH. */
	const char *env = secure_getenv("RK_BACKEND");
	if (env && *env) {
		if (!valid_backend_word(env))
			return rk_error(-EINVAL,
					"RK_BACKEND=\"%s\": expected auto, cpu, cuda, hip or a "
					"plugin name ([a-z0-9_-])",
					env);
		want = strcmp(env, "auto") ? env : NULL;
	}

	/* The name to publish under: the program's, else $RK_RUNTIME_NAME. */
	const char *name = b->name;
	if (name[0] == '\x01')
		return rk_error(-EINVAL, "runtime name: expected 1..63 of [A-Za-z0-9_-]");
	const char *env_name = secure_getenv("RK_RUNTIME_NAME");
	if (!name[0] && env_name && *env_name) {
		if (!rki_name_valid(env_name))
			return rk_error(-EINVAL,
					"RK_RUNTIME_NAME=\"%s\": expected 1..63 of [A-Za-z0-9_-]",
					env_name);
		name = env_name;
	}

	rk_runtime *rt = calloc(1, sizeof(*rt));
	if (!rt)
		return rk_error(-ENOMEM, "runtime: out of memory");
	snprintf(rt->name, sizeof(rt->name), "%s", name);
	struct rki_plugin_set set;
	struct rki_plugin *chosen = NULL;
	char why[512];
	/* An explicit backend opens its own plugin file only: nothing else
	 * on the path runs in this process, to crash it or leave threads. */
	if ((ret = rki_plugins_discover_for(b->plugin_path, want, b->device, &set)) < 0)
		goto fail;
	for (;;) {
		ret = rki_plugins_select(&set, want, &chosen);
		if (ret < 0) {
			/* keep select's reason: release must not overwrite it */
			snprintf(why, sizeof(why), "%s", rk_last_error());
			rki_plugins_release(&set, NULL, NULL);
			rk_error(ret, "%s", why);
			goto fail;
		}
		rk_clear_error();
		ret = chosen->plugin->ops->open(b->device, &rt->pctx);
		if (ret == 0)
			break;
		snprintf(why, sizeof(why), "open of device %d failed: %s", b->device,
			 *rk_last_error() ? rk_last_error() : rk_strerror(ret));
		if (want) {
			/* Asked for by name: its failure is the answer. */
			char msg[sizeof(why) + 80];
			snprintf(msg, sizeof(msg), "backend %s: %s", chosen->name, why);
			rki_plugins_release(&set, NULL, NULL);
			rk_error(ret, "%s", msg);
			goto fail;
		}
		/* Auto: a probe that said yes to a device open refuses (held
		 * by another process, out of memory) is the next one's turn. */
		rki_plugin_set_unusable(chosen, ret, "%s", why);
	}
	rki_plugins_release(&set, chosen, &rt->plugin);
	rt->ops = rt->plugin.plugin->ops;
	rt->has_poll = RKI_PLUGIN_HAS_OP(rt->ops, poll);
	rt->has_kernel_error = RKI_PLUGIN_HAS_OP(rt->ops, kernel_error);
	rt->device = b->device;
	rt->profiling = b->profiling;
	/* Only a loop on host threads has a clock to time itself with. */
	rt->prof_host = b->profiling && !strcmp(rt->plugin.name, "cpu");
	rt->next_kernel_id = 1;
	pthread_mutex_init(&rt->lock, NULL);
	if ((ret = rki_reactor_create(&rt->reactor)) < 0) {
		rt->ops->close(rt->pctx);
		rki_plugin_unload(&rt->plugin);
		goto fail;
	}
	if (rt->name[0] && (ret = rki_publish_start(rt, rt->plugin.name)) < 0) {
		rki_reactor_destroy(rt->reactor);
		rt->ops->close(rt->pctx);
		rki_plugin_unload(&rt->plugin);
		pthread_mutex_destroy(&rt->lock);
		goto fail;
	}
	rki_log_info("backend %s %s (%s, priority %d), device %d, completions: %s", rt->plugin.name,
		     rt->plugin.version, rt->plugin.path, rt->plugin.priority, b->device,
		     rki_reactor_mode(rt->reactor));
	*out = rt;
	return 0;
fail:
	free(rt);
	return ret;
}

int rk_runtime_builder_build(rk_runtime_builder *b, rk_runtime **out)
{
	if (!b)
		return rk_error(-EINVAL, "rk_runtime_builder_build: NULL builder");
	int ret = build(b, out);
	rk_runtime_builder_free(b);
	return ret;
}

int rk_runtime_new(rk_backend backend, rk_runtime **out)
{
	rk_runtime_builder *b = rk_runtime_builder_new();
	if (!b)
		return -ENOMEM;
	rk_runtime_builder_backend(b, backend);
	return rk_runtime_builder_build(b, out);
}

const char *rk_runtime_backend_name(const rk_runtime *rt)
{
	return rt ? rt->plugin.name : NULL;
}

const char *rk_runtime_name(const rk_runtime *rt)
{
	return rt ? rt->name : NULL;
}

/* ---- launch ------------------------------------------------------------------- */

static int check_options(const rk_launch_options *o)
{
	if (o->grid == 0 || o->grid > 65535)
		return rk_error(-EINVAL, "grid %u out of range 1..65535", o->grid);
	if (o->block == 0 || o->block > 1024)
		return rk_error(-EINVAL, "block %u out of range 1..1024", o->block);
	if (o->input_capacity == 0 || o->input_capacity > RK_RING_MAX_CAPACITY ||
	    o->output_capacity == 0 || o->output_capacity > RK_RING_MAX_CAPACITY)
		return rk_error(-EINVAL, "queue capacities %u/%u out of range 1..%u",
				o->input_capacity, o->output_capacity, RK_RING_MAX_CAPACITY);
	if (o->max_payload > RK_MAX_PAYLOAD)
		return rk_error(-EINVAL, "max payload %u exceeds %u", o->max_payload,
				RK_MAX_PAYLOAD);
	if (o->state_size > (16u << 20))
		return rk_error(-EINVAL, "state size %u exceeds 16 MiB", o->state_size);
	if (o->k2k && (o->max_routes == 0 || o->max_routes > RK_MAX_ROUTES))
		return rk_error(-EINVAL, "max routes %u out of range 1..%u", o->max_routes,
				RK_MAX_ROUTES);
	if (memchr(o->name, '\0', sizeof(o->name)) == NULL ||
	    (o->name[0] && !rki_name_valid(o->name)))
		return rk_error(-EINVAL, "kernel name: expected 1..63 of [A-Za-z0-9_-]");
	if (o->max_clients > RK_MAX_CLIENTS)
		return rk_error(-EINVAL, "max clients %u out of range 0..%u", o->max_clients,
				RK_MAX_CLIENTS);
	if (o->client_capacity == 0 || o->client_capacity > RK_RING_MAX_CAPACITY)
		return rk_error(-EINVAL, "client reply ring capacity %u out of range 1..%u",
				o->client_capacity, RK_RING_MAX_CAPACITY);
	if (o->k2k && (o->k2k_capacity == 0 || o->k2k_capacity > RK_RING_MAX_CAPACITY))
		return rk_error(-EINVAL, "K2K route capacity %u out of range 1..%u",
				o->k2k_capacity, RK_RING_MAX_CAPACITY);
	return 0;
}

static uint32_t slot_size_for(uint32_t max_payload)
{
	return (RK_MSG_HDR_SIZE + max_payload + RK_SLOT_ALIGN - 1) / RK_SLOT_ALIGN * RK_SLOT_ALIGN;
}

/* Build the kernel's region: control block, input ring (MP: any host
 * thread may send), output ring, state, and with K2K the route table and
 * max_routes inbound rings (each SPSC: one sending kernel, this kernel). */
enum { SECT_CTRL, SECT_IN, SECT_OUT, SECT_STATE, SECT_ROUTES, SECT_INBOUND0 };
#define SECT_MAX (SECT_INBOUND0 + RK_MAX_ROUTES + 2)

static size_t line_round(size_t n)
{
	return (n + RK_LINE - 1) & ~(size_t)(RK_LINE - 1);
}

/* A named kernel's client table and reply rings (one section). */
static int init_clients(rk_kernel *k, void *sect, uint32_t slot, size_t ring_sz)
{
	const rk_launch_options *o = &k->opts;
	struct rk_clients *c = sect;
	size_t first = line_round(sizeof(*c)), stride = line_round(ring_sz);
	c->max_clients = k->nclients;
	c->lifecycle = o->client_lifecycle;
	c->ring_offset = first;
	c->ring_stride = stride;
	k->clients = c;
	k->k2k->nclients = k->nclients;
	for (unsigned i = 0; i < k->nclients; i++) {
		struct rk_ring r;
		int ret = rk_ring_init(&r, (uint8_t *)sect + first + i * stride, ring_sz,
				       o->client_capacity, slot, 0);
		if (ret < 0)
			return ret;
		k->k2k->client[i] = (struct rk_k2k_client){
			.ring_addr = (uint64_t)(uintptr_t)r.hdr, /* host address: see rk_k2k */
			.capacity = r.capacity,
			.slot_size = r.slot_size,
			.state = RK_ROUTE_CLOSED,
		};
		k->client[i].pidfd = -1;
	}
	return 0;
}

static int make_region(rk_kernel *k)
{
	const rk_launch_options *o = &k->opts;
	rk_runtime *rt = k->rt;
	uint32_t slot = slot_size_for(o->max_payload);
	unsigned nroutes = o->k2k ? o->max_routes : 0;
	unsigned nsect = o->k2k ? SECT_INBOUND0 + nroutes : SECT_ROUTES;
	unsigned sect_clients = nsect;
	size_t sz[SECT_MAX] = {
		[SECT_CTRL] = sizeof(struct rk_ctrl),
		[SECT_STATE] = k->state_size ? k->state_size : 8,
		[SECT_ROUTES] = sizeof(struct rk_routes),
	};
	uint32_t kinds[SECT_MAX] = { RK_SECT_CTRL, RK_SECT_RING, RK_SECT_RING, RK_SECT_STATE,
				     RK_SECT_ROUTES };
	uint32_t ids[SECT_MAX];
	uint64_t off[SECT_MAX];
	size_t client_ring = 0;
	char rname[2 * RK_NAME_MAX + 4];
	int ret;
	for (unsigned i = 0; i < SECT_MAX; i++)
		ids[i] = i;
	if ((ret = rk_ring_mem_size(o->input_capacity, slot, &sz[SECT_IN])) < 0 ||
	    (ret = rk_ring_mem_size(o->output_capacity, slot, &sz[SECT_OUT])) < 0)
		return ret;
	for (unsigned i = 0; i < nroutes; i++) {
		kinds[SECT_INBOUND0 + i] = RK_SECT_RING;
		if ((ret = rk_ring_mem_size(o->k2k_capacity, slot, &sz[SECT_INBOUND0 + i])) < 0)
			return ret;
	}
	unsigned sect_prof = 0;
	if (rt->prof_host) {
		sect_prof = nsect++;
		kinds[sect_prof] = RK_SECT_PROFILE;
		ids[sect_prof] = 0;
		sz[sect_prof] = sizeof(struct rk_profile);
	}
	sect_clients = nsect;
	if (k->nclients) {
		if ((ret = rk_ring_mem_size(o->client_capacity, slot, &client_ring)) < 0)
			return ret;
		kinds[sect_clients] = RK_SECT_CLIENTS;
		ids[sect_clients] = 0;
		sz[sect_clients] = line_round(sizeof(struct rk_clients)) +
				   k->nclients * line_round(client_ring);
		nsect++;
	}
	if (rt->name[0])
		snprintf(rname, sizeof(rname), "rk.%s.%s", rt->name, k->name);
	ret = rk_region_create(rt->name[0] ? rname : NULL, rk_region_size_for(sz, nsect), 0,
			       &k->region);
	if (ret == -EEXIST)
		return rk_error(-EEXIST, "runtime \"%s\" already has a kernel named \"%s\"",
				rt->name, k->name);
	if (ret < 0)
		return ret;
	for (unsigned i = 0; i < nsect; i++)
		if ((ret = rk_region_alloc(k->region, kinds[i], ids[i], sz[i], &off[i])) < 0)
			goto fail;
	uint8_t *base = rk_region_base(k->region);
	k->ctrl = (struct rk_ctrl *)(base + off[SECT_CTRL]);
	if ((ret = rk_ring_init(&k->in, base + off[SECT_IN], sz[SECT_IN], o->input_capacity, slot,
				RK_RING_MP)) < 0 ||
	    (ret = rk_ring_init(&k->out, base + off[SECT_OUT], sz[SECT_OUT], o->output_capacity,
				slot, 0)) < 0)
		goto fail;
	k->state_area = base + off[SECT_STATE];
	if (o->k2k || k->nclients || rt->prof_host) {
		/* Private: another process that maps the region cannot reach it. */
		k->k2k_size = (sizeof(struct rk_k2k) + 4095) & ~(size_t)4095;
		void *t = mmap(NULL, k->k2k_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (t == MAP_FAILED) {
			ret = rk_error(-ENOMEM, "launch: no memory for the route table");
			goto fail;
		}
		k->k2k = t;
	}
	if (k->nclients && (ret = init_clients(k, base + off[sect_clients], slot, client_ring)) < 0)
		goto fail;
	if (rt->prof_host) {
		k->profile = (struct rk_profile *)(base + off[sect_prof]);
		k->k2k->profile_addr = (uint64_t)(uintptr_t)k->profile; /* host address */
		k->stamp = true;
	}
	if (o->k2k) {
		k->routes = (struct rk_routes *)(base + off[SECT_ROUTES]);
		k->k2k->stats_addr = (uint64_t)(uintptr_t)k->routes;
		k->routes->max_routes = nroutes;
		k->routes->max_inbound = nroutes;
		for (unsigned i = 0; i < nroutes; i++) {
			unsigned sct = SECT_INBOUND0 + i;
			if ((ret = rk_ring_init(&k->inbound[i], base + off[sct], sz[sct],
						o->k2k_capacity, slot, 0)) < 0)
				goto fail;
			/* Host addresses: see struct rk_k2k (layout.h). */
			k->routes->inbound_addr[i] = (uint64_t)(uintptr_t)k->inbound[i].hdr;
		}
		k->ctrl->routes_addr = 1;
	}
	k->ctrl->desired = RK_CTRL_LAUNCHED;
	k->ctrl->kind = k->kind;
	k->ctrl->kernel_id = k->id;
	k->ctrl->in_ring = SECT_IN;
	k->ctrl->out_ring = SECT_OUT;
	k->ctrl->state_size = k->state_size;
	k->ctrl->max_payload = o->max_payload;
	k->ctrl->observed = 0xffffffffu;
	return 0;
fail:
	rki_kernel_free_k2k(k);
	rk_region_close(k->region);
	k->region = NULL;
	return ret;
}

int rk_runtime_launch(rk_runtime *rt, const char *kernel, const rk_launch_options *opts,
		      rk_kernel **out)
{
	struct rki_kernel_impl impl;
	int ret;
	if (!rt || !kernel || !out)
		return rk_error(-EINVAL, "rk_runtime_launch: NULL runtime, kernel name or out");
	rk_launch_options o = opts ? *opts : rk_launch_options_default();
	if ((ret = check_options(&o)) < 0)
		return ret;
	if ((ret = rki_registry_lookup(kernel, &impl)) < 0)
		return ret;
	/* A named runtime publishes the kernel under its name: it becomes part
	 * of a shared-memory object's name. */
	if (rt->name[0] && !rki_name_valid(o.name[0] ? o.name : kernel))
		return rk_error(-EINVAL,
				"kernel name \"%s\": a named runtime publishes it, so it must be "
				"1..63 of [A-Za-z0-9_-] (rk_launch_options_with_name)",
				o.name[0] ? o.name : kernel);
	/* A built-in's reply must fit the slot it writes in place. */
	uint32_t reply = impl.kind == RK_KIND_COUNTER ? 8 : impl.kind == RK_KIND_ADD_F32 ? 4 : 0;
	if (o.max_payload < reply)
		return rk_error(-EINVAL,
				"kernel \"%s\" replies with %u bytes: max payload %u is too small",
				kernel, reply, o.max_payload);
	struct rk_launch_desc d = { .struct_size = sizeof(d) };
	if (impl.kind == RK_KIND_USER) {
		const rk_kernel_def *def = impl.def;
		if (!strcmp(rt->plugin.name, "cpu")) {
			if (!def->cpu)
				return rk_error(-ENOENT, "kernel \"%s\" has no CPU implementation",
						kernel);
			d.cpu_handler = def->cpu;
		} else {
			unsigned i;
			for (i = 0; i < 4; i++)
				if (def->device[i].backend &&
				    !strcmp(def->device[i].backend, rt->plugin.name))
					break;
			if (i == 4 || !def->device[i].image)
				return rk_error(-ENOENT, "kernel \"%s\" has no %s implementation",
						kernel, rt->plugin.name);
			d.device_image = def->device[i].image;
			d.device_image_size = def->device[i].image_size;
			d.device_entry = def->device[i].entry;
		}
		if (def->state_size > o.state_size)
			o.state_size = def->state_size;
	}

	uint32_t max_resident = UINT32_MAX;
	if (RKI_PLUGIN_HAS_OP(rt->ops, residency) &&
	    (ret = rt->ops->residency(rt->pctx, o.block, &max_resident)) < 0)
		return ret;
	pthread_mutex_lock(&rt->lock);
	if (rt->resident >= max_resident) {
		uint32_t n = rt->resident;
		pthread_mutex_unlock(&rt->lock);
		return rk_error(-EBUSY,
				"backend %s keeps at most %u persistent kernels of %u lanes "
				"resident; %u are running",
				rt->plugin.name, max_resident, o.block, n);
	}
	rt->resident++; /* reserve the residency slot now */
	uint64_t id = rt->next_kernel_id++;
	pthread_mutex_unlock(&rt->lock);

	rk_kernel *k = calloc(1, sizeof(*k));
	if (!k) {
		ret = rk_error(-ENOMEM, "launch: out of memory");
		goto unreserve;
	}
	k->rt = rt;
	k->id = id;
	k->dir_index = -1;
	snprintf(k->name, sizeof(k->name), "%s", o.name[0] ? o.name : kernel);
	snprintf(k->def_name, sizeof(k->def_name), "%s", kernel);
	k->opts = o;
	k->nclients = rt->name[0] ? o.max_clients : 0;
	k->kind = impl.kind;
	k->state_size = o.state_size;
	k->state = RK_STATE_CREATED;
	k->refs = 1;
	pthread_mutex_init(&k->state_lock, NULL);
	if ((ret = make_region(k)) < 0)
		goto free_k;
relaunch:
	d.kernel_id = k->id;
	d.kernel_name = k->name;
	d.kind = k->kind;
	d.grid = o.grid;
	d.block = o.block;
	d.region = k->region;
	d.ctrl = k->ctrl;
	d.in = k->in.hdr;
	d.in_size = sizeof(struct rk_ring_hdr) +
		    (size_t)k->in.capacity * (k->in.slot_size + RK_RING_CLAIM_BYTES);
	d.out = k->out.hdr;
	d.out_size = sizeof(struct rk_ring_hdr) +
		     (size_t)k->out.capacity * (k->out.slot_size + RK_RING_CLAIM_BYTES);
	d.state = k->state_area;
	d.state_size = k->state_size;
	d.max_payload = o.max_payload;
	d.k2k = k->k2k;
	d.k2k_size = k->k2k_size;
	rk_clear_error();
	if ((ret = rt->ops->launch(rt->pctx, &d, &k->pkernel)) < 0) {
		if (ret == -ENOTSUP && k->nclients && !o.k2k) {
			/* The device cannot follow the route table the client reply
			 * rings need: the kernel runs without clients (rk_attach()
			 * then says -EUSERS), rather than not at all. */
			rki_log_info("kernel \"%s\": %s; published without attach clients", k->name,
				     rk_last_error());
			rki_kernel_free_k2k(k);
			rk_region_close(k->region);
			k->region = NULL;
			k->nclients = 0;
			if ((ret = make_region(k)) < 0)
				goto free_k;
			goto relaunch;
		}
		if (!*rk_last_error())
			rk_error(ret, "backend %s could not launch \"%s\"", rt->plugin.name,
				 kernel);
		goto free_region;
	}
	k->launch_ns = rki_now_ns();
	/* Resident means the loop runs: wait until it mirrors Launched. */
	if ((ret = rki_kernel_await_observed(k, RK_CTRL_LAUNCHED, 10000000000ull)) < 0) {
		__atomic_store_n(&k->ctrl->desired, RK_CTRL_TERMINATE, __ATOMIC_SEQ_CST);
		rt->ops->signal(rt->pctx, k->pkernel);
		if (rt->ops->terminate(rt->pctx, k->pkernel, 1000000000ull) == 0) {
			rt->ops->release(rt->pctx, k->pkernel);
			rk_error(-EBUSY, "kernel \"%s\" did not become resident within 10 s",
				 kernel);
			ret = -EBUSY;
			goto free_region;
		}
		/* The launch may still start later: its memory must stay (a
		 * device would fault on it). The kernel and its region leak. */
		rki_log_error("kernel \"%s\" did not become resident and did not stop: its "
			      "region (%zu bytes) is kept",
			      kernel, rk_region_size(k->region));
		rk_error(-EBUSY, "kernel \"%s\" did not become resident within 10 s", kernel);
		pthread_mutex_lock(&rt->lock);
		rt->resident--;
		pthread_mutex_unlock(&rt->lock);
		return -EBUSY;
	}
	__atomic_store_n(&k->state, RK_STATE_LAUNCHED, __ATOMIC_RELEASE);

	if (rt->name[0] && (ret = rki_publish_kernel(rt, k)) < 0) {
		__atomic_store_n(&k->ctrl->desired, RK_CTRL_TERMINATE, __ATOMIC_SEQ_CST);
		rt->ops->signal(rt->pctx, k->pkernel);
		if (rt->ops->terminate(rt->pctx, k->pkernel, 10000000000ull) == 0) {
			rt->ops->release(rt->pctx, k->pkernel);
			goto free_region;
		}
		pthread_mutex_lock(&rt->lock);
		rt->resident--;
		pthread_mutex_unlock(&rt->lock);
		return ret; /* still running: its memory stays */
	}

	pthread_mutex_lock(&rt->lock);
	k->next = rt->kernels;
	rt->kernels = k;
	rt->total_launched++;
	bool watch = rt->fd_used;
	pthread_mutex_unlock(&rt->lock);
	rki_log_info("kernel %llu (\"%s\" as \"%s\") launched on %s: input %u x %u B, output %u x "
		     "%u B, max payload %u, region %zu B%s%s",
		     (unsigned long long)k->id, kernel, k->name, rt->plugin.name, k->in.capacity,
		     k->in.slot_size, k->out.capacity, k->out.slot_size, o.max_payload,
		     rk_region_size(k->region), rk_region_is_locked(k->region) ? " locked" : "",
		     rk_region_is_huge(k->region) ? " huge pages" : "");
	if (watch)
		rki_reactor_watch(rt->reactor, &k->out);

	if (o.auto_activate && (ret = rk_kernel_activate(k)) < 0) {
		rk_kernel_terminate(k);
		rk_kernel_release(k);
		return ret;
	}
	*out = k;
	return 0;

free_region:
	rki_kernel_free_k2k(k);
	rk_region_close(k->region);
free_k:
	pthread_mutex_destroy(&k->state_lock);
	free(k);
unreserve:
	pthread_mutex_lock(&rt->lock);
	rt->resident--;
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

/* ---- metrics, fd, shutdown ---------------------------------------------------- */

int rk_runtime_metrics_get(const rk_runtime *rt, rk_runtime_metrics *out)
{
	if (!rt || !out)
		return rk_error(-EINVAL, "rk_runtime_metrics: NULL runtime or out");
	rk_runtime *w = (rk_runtime *)rt; /* the lock is not part of the logical state */
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&w->lock);
	out->total_launched = rt->total_launched;
	out->messages_sent = rt->sent_done;
	out->messages_received = rt->received_done;
	for (rk_kernel *k = rt->kernels; k; k = k->next) {
		if (rk_kernel_state(k) == RK_STATE_ACTIVE)
			out->active_kernels++;
		out->messages_sent += __atomic_load_n(&k->sent, __ATOMIC_RELAXED);
		out->messages_received += __atomic_load_n(&k->received, __ATOMIC_RELAXED);
		out->host_memory_bytes += rk_region_size(k->region);
	}
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int rk_runtime_fd(rk_runtime *rt)
{
	if (!rt)
		return rk_error(-EINVAL, "rk_runtime_fd: NULL runtime");
	pthread_mutex_lock(&rt->lock);
	if (!rt->fd_used) {
		rt->fd_used = true;
		for (rk_kernel *k = rt->kernels; k; k = k->next)
			if (rk_kernel_state(k) != RK_STATE_TERMINATED)
				rki_reactor_watch(rt->reactor, &k->out);
	}
	pthread_mutex_unlock(&rt->lock);
	return rki_reactor_fd(rt->reactor);
}

int rk_runtime_shutdown(rk_runtime *rt)
{
	if (!rt)
		return rk_error(-EINVAL, "rk_runtime_shutdown: NULL runtime");
	int ret = 0;
	rki_remote_stop(rt); /* remote clients and routes first: they use the kernels */
	for (;;) {
		pthread_mutex_lock(&rt->lock);
		rk_kernel *k = rt->kernels;
		pthread_mutex_unlock(&rt->lock);
		if (!k)
			break;
		if (rk_kernel_state(k) != RK_STATE_TERMINATED) {
			int r = rk_kernel_terminate(k);
			if (r < 0 && ret == 0)
				ret = r;
		}
		rk_kernel_release(k); /* unlinks k, even a hung one */
	}
	rki_publish_stop(rt);
	rki_reactor_destroy(rt->reactor);
	rt->ops->close(rt->pctx);
	rki_plugin_unload(&rt->plugin);
	pthread_mutex_destroy(&rt->lock);
	free(rt);
	return ret;
}

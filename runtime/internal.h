/* SPDX-License-Identifier: MIT */
/* libringkernel internals: runtime, kernel handles, registry. */
#ifndef RK_RUNTIME_INTERNAL_H
#define RK_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <ringkernel/ringkernel.h>

#include "lock.h"
#include "plugin_loader.h"
#include "reactor.h"

struct rk_runtime_builder {
	rk_backend backend;
	char backend_name[64]; /* rk_runtime_builder_backend_name() */
	int device;
	bool profiling;
	char *plugin_path;
	char name[64]; /* rk_runtime_builder_name(); "\x01" = invalid */
};

struct rk_runtime {
	struct rki_plugin plugin; /* the chosen backend, dlopen'ed */
	const struct rk_plugin_ops *ops;
	void *pctx; /* the plugin's per-runtime context */
	int device;
	bool profiling;
	bool prof_host; /* profiling on a backend whose loop runs on host threads */
	struct rki_reactor *reactor;
	bool fd_used;	       /* rk_runtime_fd() was called: watch every output ring */
	bool has_poll;	       /* the backend makes progress in ops->poll (host's time) */
	bool has_kernel_error; /* the backend reports dead kernels (ops->kernel_error) */

	pthread_mutex_t lock; /* kernel list, counters below */
	struct rk_kernel *kernels;
	uint32_t resident; /* launched, not yet terminated */
	uint64_t total_launched;
	uint64_t next_kernel_id;
	uint64_t next_msg_id; /* atomic: the next block of ids (kernel.c) */
	uint64_t id_serial;   /* atomic: this runtime among the process's, 0 until set */
	/* totals of released kernels, so metrics survive release */
	uint64_t sent_done, received_done, host_bytes_done;

	/* Named runtimes (publish.c): the directory other processes read and
	 * the service thread that attaches and reclaims their clients. */
	char name[64]; /* "" when unnamed */
	rk_region *dir_region;
	struct rk_dir *dir;
	pthread_t svc;
	bool svc_running;
	uint32_t svc_stop;	  /* atomic futex word: 1 asks the thread to stop */
	pthread_mutex_t svc_lock; /* the kernels' client state; taken before rt->lock */
	struct rk_kernel *published[RK_DIR_MAX_KERNELS]; /* by directory entry; svc_lock */
	bool attached_rt;      /* a private runtime behind rk_attach() handles */
	struct rki_node *node; /* remote.c: listener and remote routes; rt->lock */
};

/* The owner's private record of one client slot of a named kernel. */
struct rki_client {
	bool active; /* READY: its route is open */
	int pidfd;   /* -1 without pidfd_open */
	pid_t pid;
	uint64_t start; /* its start time, checked at attach */
	uint64_t tag;
	uint32_t lc_done;    /* the last lifecycle request served */
	uint64_t refused_ns; /* when it was refused (the slot is freed later) */
};

/* What an attached handle (rk_attach) holds beyond an owner's. */
struct rki_attached {
	rk_region *region;
	struct rk_clients *clients;
	uint64_t ring_offset, ring_stride; /* the client table's geometry, as checked */
	struct rk_client_slot *slot;
	unsigned slot_index;
	pid_t owner_pid;
	uint64_t owner_start;
	int owner_pidfd;	   /* -1 without pidfd_open */
	uint32_t owner_gone;	   /* atomic: seen dead once, for good */
	struct rki_remote *remote; /* rk_attach_remote(): the node behind it */
};

/* A caller of rk_kernel_call() waiting for its reply. */
struct rki_call {
	uint64_t id;
	rk_message *reply;
	bool done;
	struct rki_call *next;
};

struct rk_kernel {
	rk_runtime *rt;
	struct rk_kernel *next; /* in rt->kernels */
	uint64_t id;
	char name[64];	   /* launch name (rk_launch_options_with_name) */
	char def_name[64]; /* registry name */
	rk_launch_options opts;
	uint32_t kind;
	uint64_t launch_ns;

	pthread_mutex_t state_lock; /* serializes lifecycle transitions */
	rk_state state;		    /* atomic reads, written under state_lock */
	/* Terminate closes the input first (seq_cst), then waits for the
	 * senders already inside a send to leave: nothing is committed into a
	 * kernel once it has begun to stop. */
	uint32_t closing; /* atomic */
	/* atomic, one word so that a send enters and leaves with one RMW each:
	 * the low 32 bits count the threads inside any call (release waits
	 * for them), the high 32 those inside a send (terminate waits). */
	uint64_t inflight;
	uint32_t abandoned; /* atomic: released while it would not stop (leaked) */

	rk_region *region;
	struct rk_ctrl *ctrl;
	struct rk_ring in;  /* host produces (MP: several host threads) */
	struct rk_ring out; /* host consumes, under recv_lock */
	void *state_area;
	uint32_t state_size;
	void *pkernel; /* the plugin's handle */

	/* Receive side: one reader at a time takes messages off the ring;
	 * messages that belong to someone else wait in the stash. */
	struct rki_mutex recv_lock;
	struct rki_cond recv_cond; /* broadcast with recv_lock held */
	bool reader_active;
	unsigned zc_held;	/* slots a zero-copy receive holds (it is the reader) */
	struct rki_call *calls; /* callers waiting for a correlation id */
	rk_message *stash;	/* FIFO of messages for plain receivers */
	unsigned stash_len, stash_cap;
	bool input_drained; /* after terminate: leftovers returned */

	/* K2K (NULL routes without it). Under rt->lock. k2k is what the loop
	 * follows (private mapping), routes what observers read (region). */
	struct rk_k2k *k2k;
	size_t k2k_size;
	struct rk_routes *routes;
	struct rk_kernel *route_to[RK_MAX_ROUTES];     /* outbound, by route index */
	struct rk_ring *route_ring[RK_MAX_ROUTES];     /* the receiver's inbound ring */
	struct rk_kernel *inbound_from[RK_MAX_ROUTES]; /* by inbound ring index */
	struct rk_ring inbound[RK_MAX_ROUTES];	       /* host views of inbound rings */
	unsigned ninbound, nroutes;		       /* the host's counts, never the region's */
	unsigned inbound_drained;		       /* after terminate */
	/* The region outlives the handle while live senders route into it:
	 * 1 for the handle + 1 per sender with a route here. Under rt->lock. */
	unsigned refs;
	void *remote_ring[RK_MAX_ROUTES];	   /* remote routes' rings, freed with k */
	struct rk_ring remote_view[RK_MAX_ROUTES]; /* ... and the host's view of each */
	uint64_t remote_placed[RK_MAX_ROUTES];	   /* atomic: placed at the far end */
	uint64_t remote_returned[RK_MAX_ROUTES];   /* atomic: came back undelivered */
	int32_t remote_err[RK_MAX_ROUTES];	   /* atomic: why a remote route closed */

	/* Named runtimes: the directory entry, the client table and the
	 * owner's record of each client (under rt->svc_lock). */
	int dir_index; /* -1 when not published */
	struct rk_clients *clients;
	unsigned nclients;
	struct rki_client client[RK_MAX_CLIENTS];
	/* An attached handle (rk_attach): its tag goes in every request's
	 * source; replies for another tag are dropped. NULL for owners. */
	struct rki_attached *att;
	uint64_t source; /* 0, or the client tag */
	/* Profiling: the kernel-written record, and whether sends stamp their
	 * send time into seq for it. */
	struct rk_profile *profile;
	bool stamp;

	uint64_t sent;	      /* atomic: host -> kernel */
	uint64_t received;    /* atomic: kernel -> host */
	uint64_t undelivered; /* inputs returned unprocessed */
};

/* remote.c */
struct rki_node;
struct rki_remote;
void rki_remote_stop(rk_runtime *rt);
void rki_remote_forget(rk_kernel *k);
void rki_remote_free(rk_kernel *k);
const char *rki_remote_why(const rk_kernel *k);
/* A remote handle's send: wake its node if it sleeps. */
void rki_remote_kick(rk_kernel *k);
/* attach.c: an attached handle with its private runtime, not yet mapped. */
int rki_attached_alloc(const char *runtime, const char *kernel, rk_kernel **out);
void rki_attached_free(rk_kernel *k);
/* kernel.c: place `m` in k's input ring unchanged (source too when
 * keep_source; else the handle's own), without waiting: 0, -EAGAIN (full),
 * -ESHUTDOWN; and hand a message back to k's receivers flagged
 * RK_MSG_F_UNDELIVERED. */
int rki_kernel_inject(rk_kernel *k, const rk_message *m, bool keep_source);
void rki_kernel_return_undelivered(rk_kernel *k, const rk_message *m);
/* k2k.c: route `idx` of `from` into a ring of this process that a node
 * drains; and its closing when the far end is gone. */
int rki_kernel_add_remote_route(rk_kernel *from, uint64_t dest_id, struct rk_ring *ring, void *mem,
				unsigned *idx);
void rki_kernel_close_remote_route(rk_kernel *from, unsigned idx, int err);

/* publish.c */
int rki_name_valid(const char *s);
int rki_publish_start(rk_runtime *rt, const char *backend);
void rki_publish_stop(rk_runtime *rt);
int rki_publish_kernel(rk_runtime *rt, rk_kernel *k);
void rki_unpublish_kernel(rk_runtime *rt, rk_kernel *k);
uint64_t rki_pid_start(pid_t pid);
bool rki_dir_entry_read(const struct rk_dir_kernel *e, struct rk_dir_kernel *copy);

/* attach.c */
bool rki_attached_owner_gone(const rk_kernel *k);
rk_state rki_attached_state(const rk_kernel *k);
int rki_attached_lifecycle(rk_kernel *k, int action);

/* registry.c */
struct rki_kernel_impl {
	uint32_t kind;
	const rk_kernel_def *def; /* NULL for built-ins */
};
int rki_registry_lookup(const char *name, struct rki_kernel_impl *out);

/* kernel.c */
int rki_kernel_await_observed(rk_kernel *k, uint32_t want, uint64_t timeout_ns);
void rki_kernel_free_k2k(rk_kernel *k);
void rki_kernel_drain_users(rk_kernel *k); /* wake waiters, wait for calls to leave */
#define RKI_INFLIGHT_USER   1ull
#define RKI_INFLIGHT_SENDER (1ull << 32)
static inline uint32_t rki_kernel_users(const rk_kernel *k)
{
	return (uint32_t)__atomic_load_n(&k->inflight, __ATOMIC_SEQ_CST);
}
static inline uint32_t rki_kernel_senders(const rk_kernel *k)
{
	return (uint32_t)(__atomic_load_n(&k->inflight, __ATOMIC_SEQ_CST) >> 32);
}

/* time */
uint64_t rki_now_ns(void);

#endif

/* SPDX-License-Identifier: MIT */
/*
 * ringkernel/ringkernel.h - the umbrella header of libringkernel.
 */
#ifndef RINGKERNEL_RINGKERNEL_H
#define RINGKERNEL_RINGKERNEL_H

#include <stdbool.h>
#include <stdint.h>

#include <ringkernel/discovery.h>
#include <ringkernel/error.h>
#include <ringkernel/layout.h>
#include <ringkernel/msg.h>
#include <ringkernel/region.h>
#include <ringkernel/ring.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Conventions of every call below (ringkernel(7), docs/design.md):
 *  - A fallible call returns 0 (or a count or fd, >= 0) or a negative errno,
 *    and never touches errno. rk_strerror() names the value; rk_last_error()
 *    (per thread) says why.
 *  - Time is uint64_t nanoseconds, relative: RK_NO_WAIT (0) looks once and
 *    never blocks, RK_FOREVER waits with no deadline.
 *  - Calls on one runtime or kernel may come from any thread at once unless
 *    the comment says otherwise. No call may use a handle once it is freed
 *    (rk_kernel_release(), rk_runtime_shutdown()).
 *  - A blocking call (send, receive, call, the bursts) returns -ESHUTDOWN
 *    when another thread terminates its kernel, and -EUCLEAN once one of the
 *    kernel's rings was found corrupt: an impossible index was read from
 *    shared memory (sticky; the kernel must be terminated).
 */

/* The library's version, "MAJOR.MINOR.PATCH" ("0.1.0"), static storage. */
const char *rk_version(void);

/*
 * Compile-time version (ringkernel/version.h, from configure's AC_INIT):
 * RK_VERSION_MAJOR, RK_VERSION_MINOR, RK_VERSION_PATCH, RK_VERSION_STRING,
 * RK_VERSION_NUM (MAJOR * 10000 + MINOR * 100 + PATCH) and
 * RK_VERSION_CHECK(major, minor, patch), true when these headers are at
 * least that version. rk_version() is the library loaded at run time.
 */
#include <ringkernel/version.h>

/*
 * Logging (rk_set_log_handler(3)). The library logs at these levels; RK_LOG
 * (error|warn|info|debug, default warn) chooses which, read when a runtime
 * is built. A line goes to standard error, or appended to RK_LOG_FILE, as
 *   2025-01-02T03:04:05.123456Z ringkernel[PID/TID] LEVEL: SUBSYSTEM: TEXT
 * (UTC, microseconds), unless a handler takes it.
 */
enum rk_log_level { RK_LOG_ERROR = 0, RK_LOG_WARN = 1, RK_LOG_INFO = 2, RK_LOG_DEBUG = 3 };

/* Gets each enabled message: level is an RK_LOG_* value, msg is
 * "SUBSYSTEM: TEXT" (no newline, no time stamp; valid only during the
 * call). Calls are serialized, from whichever thread logs. */
typedef void (*rk_log_handler)(int level, const char *msg, void *arg);

/* Sends every later message to h(level, msg, arg) instead of the default
 * sink; NULL restores the default sink (standard error or RK_LOG_FILE).
 * Any thread, at any time: once it returns the previous handler is never
 * called again, so its arg may be freed. */
void rk_set_log_handler(rk_log_handler h, void *arg);

/* The level the program wants when RK_LOG is not set (RK_LOG, the user's,
 * wins). Returns 0, or -EINVAL when level is not an RK_LOG_* value. */
int rk_set_log_level(int level);

#define RK_NO_WAIT ((uint64_t)0)
#define RK_FOREVER UINT64_MAX

/* ---- runtime (spec: RuntimeBuilder, Backend, RingKernelRuntime) ---------- */

typedef enum { RK_BACKEND_AUTO, RK_BACKEND_CPU, RK_BACKEND_CUDA, RK_BACKEND_HIP } rk_backend;

typedef struct rk_runtime rk_runtime;
typedef struct rk_runtime_builder rk_runtime_builder;
typedef struct rk_kernel rk_kernel;

/*
 * Runtime construction (spec: RuntimeBuilder). A builder is used by one
 * thread at a time. Its setters never fail: a bad value is remembered and
 * rk_runtime_builder_build() reports it as -EINVAL; a NULL builder is
 * ignored. rk_runtime_builder_new() returns NULL when out of memory.
 */
rk_runtime_builder *rk_runtime_builder_new(void);
/* Backend by kind; default RK_BACKEND_AUTO, the usable plugin with the
 * highest probe priority. Clears a name set by _backend_name(). $RK_BACKEND,
 * read at build time (not by set-uid programs), overrides both. */
void rk_runtime_builder_backend(rk_runtime_builder *b, rk_backend backend);
/* Backend by plugin name (rk-plugin-NAME.so; [a-z0-9_-], at most 63
 * characters), for third-party plugins: only that plugin's file is opened. */
void rk_runtime_builder_backend_name(rk_runtime_builder *b, const char *plugin);
/* Device ordinal the backend opens (default 0; negative: -EINVAL at build). */
void rk_runtime_builder_device(rk_runtime_builder *b, int ordinal);
/* Ask for per-kernel profiling (default off): rk_kernel_profile_get().
 * The CPU backend collects it; other backends report -ENOTSUP there. */
void rk_runtime_builder_profiling(rk_runtime_builder *b, bool on);
/* More plugin directories (a colon list, copied; NULL clears), searched
 * after $RK_PLUGIN_PATH and before the install directory. */
void rk_runtime_builder_plugin_path(rk_runtime_builder *b, const char *colon_list);
/*
 * Publish the runtime under `name` (1..63 of [A-Za-z0-9_-]; else -EINVAL at
 * build; NULL clears): its directory becomes the shared-memory object
 * "rk.NAME" and each kernel's region "rk.NAME.KERNEL" (mode 0600), so that
 * other processes of the same user can rk_attach() to its kernels and
 * rk-top can show them. $RK_RUNTIME_NAME names a runtime the program left
 * unnamed (not in set-uid programs). At build: -EEXIST when a live process
 * owns the name; a directory left by a dead owner is removed first.
 */
void rk_runtime_builder_name(rk_runtime_builder *b, const char *name);
/*
 * Choose, load and open the backend and start the runtime's reactor.
 * Frees the builder, whatever the outcome. 0 with *out set, or:
 *   -EINVAL   NULL builder or out, a negative device, a bad backend enum or
 *             name, a malformed $RK_BACKEND or $RK_REACTOR;
 *   -ENODEV   nothing usable (Auto), or the named plugin's probe said no;
 *   -ENOENT   the named plugin (or $RK_BACKEND's) is not on the path;
 *   -EACCES, -ENOEXEC, -EPROTO   the named plugin was refused: a file or
 *             directory others can write, not a plugin, another ABI major;
 *   -ENOMEM, or what the named plugin's open of the device returned.
 * rk_last_error() gives the reason (for -ENODEV, the probe's).
 */
int rk_runtime_builder_build(rk_runtime_builder *b, rk_runtime **out);
/* Free a builder that will not be built (NULL is ignored). */
void rk_runtime_builder_free(rk_runtime_builder *b);
/* Build a runtime with only `backend` set: rk_runtime_builder_build()'s
 * errors. */
int rk_runtime_new(rk_backend backend, rk_runtime **out);
/* The plugin the runtime runs on ("cpu", "opencl", ...), valid until
 * rk_runtime_shutdown(); NULL for a NULL runtime. */
const char *rk_runtime_backend_name(const rk_runtime *rt);
/* The name the runtime is published under, "" when unnamed; NULL for NULL. */
const char *rk_runtime_name(const rk_runtime *rt);
/*
 * Remove what a named runtime whose owner died left in shared memory (its
 * directory and kernel regions): 0, -ENOENT (no such runtime), -EBUSY (its
 * owner is alive), -EACCES (another user's), -EINVAL (malformed name).
 * Building a runtime of that name does the same; rk-top --clean calls it.
 */
int rk_runtime_clean(const char *name);

/* ---- launch options (spec: LaunchOptions) ------------------------------- */

typedef struct rk_launch_options {
	uint32_t grid, block;
	uint32_t input_capacity, output_capacity; /* slots, rounded up to 2^n */
	uint32_t max_payload;			  /* bytes; slot = 64 + payload, 64-aligned */
	bool k2k;
	bool auto_activate;
	uint32_t max_routes;   /* K2K routes per kernel, each way (<= 16) */
	uint32_t state_size;   /* per-kernel scratch bytes */
	uint32_t k2k_capacity; /* slots of each inbound K2K route */
	/* named runtimes only (rk_runtime_builder_name) */
	char name[64];		  /* launch name; "" = the registry name */
	uint32_t max_clients;	  /* processes that may attach at once (0..16) */
	uint32_t client_capacity; /* slots of each client's reply ring */
	bool client_lifecycle;	  /* attached clients may change the state */
} rk_launch_options;

#define RK_DEFAULT_QUEUE_CAPACITY 1024u
#define RK_DEFAULT_MAX_PAYLOAD	  192u

/*
 * Launch options are a plain struct the caller owns. The setters store what
 * they are given (a NULL `o` is ignored); rk_runtime_launch() checks it:
 * -EINVAL out of range. Defaults: grid 1, block 256, 1024 slots each way,
 * max payload 192 bytes, K2K off, auto-activate on, 8 routes of 256 slots,
 * 4096 bytes of state.
 */
rk_launch_options rk_launch_options_default(void);
/* The defaults with one block of `block_size` lanes (1..1024). */
rk_launch_options rk_launch_options_single_block(uint32_t block_size);
/* The defaults with `grid` blocks (1..65535) of `block` lanes (1..1024). */
rk_launch_options rk_launch_options_multi_block(uint32_t grid, uint32_t block);
/* Both queues, in slots (1..2^24, rounded up to a power of two); the
 * next two set the host-to-kernel (input) or kernel-to-host (output) one. */
void rk_launch_options_with_queue_capacity(rk_launch_options *o, uint32_t slots);
void rk_launch_options_with_input_capacity(rk_launch_options *o, uint32_t slots);
void rk_launch_options_with_output_capacity(rk_launch_options *o, uint32_t slots);
/* Largest payload, 0..RK_MAX_PAYLOAD (4032) bytes: a slot is the 64-byte
 * header plus this, rounded up to 64. A built-in whose reply cannot fit
 * (counter 8 bytes, add_f32 4) is -EINVAL at launch. */
void rk_launch_options_with_max_payload(rk_launch_options *o, uint32_t bytes);
/* Give the kernel K2K routes (rk_kernel_connect(); both ends need it). A
 * device that cannot follow host addresses refuses it: -ENOTSUP at launch. */
void rk_launch_options_with_k2k(rk_launch_options *o, bool on);
/* Launch into Launched instead of Active: the kernel consumes nothing
 * until rk_kernel_activate(). */
void rk_launch_options_without_auto_activate(rk_launch_options *o);
/*
 * The name the kernel is published and attached under in a named runtime
 * (default: its registry name, "echo"); 1..63 of [A-Za-z0-9_-], else
 * -EINVAL at launch. Names are unique in a named runtime: a second launch
 * of one is -EEXIST. Unnamed runtimes keep the name for rk_kernel_name().
 */
void rk_launch_options_with_name(rk_launch_options *o, const char *name);
/* How many processes may be attached to the kernel at once (0..16,
 * default 8), and the slots of each one's reply ring (default 256). */
void rk_launch_options_with_max_clients(rk_launch_options *o, uint32_t clients);
void rk_launch_options_with_client_capacity(rk_launch_options *o, uint32_t slots);
/* Let attached processes activate, deactivate and terminate the kernel
 * (default: -EPERM for them). */
void rk_launch_options_with_client_lifecycle(rk_launch_options *o, bool allow);

/* ---- kernels (spec: KernelHandle, KernelState, KernelStatus) ------------- */

typedef enum {
	RK_STATE_CREATED,
	RK_STATE_LAUNCHED,
	RK_STATE_ACTIVE,
	RK_STATE_DEACTIVATED,
	RK_STATE_TERMINATED
} rk_state;

typedef struct rk_kernel_status {
	uint64_t id;
	rk_state state;
	uint32_t input_depth, output_depth;
	uint64_t messages_processed, messages_sent, messages_received, errors, uptime_ns;
	/* added fields */
	uint64_t undelivered; /* inputs returned unprocessed by terminate */
	uint64_t heartbeat;
	uint64_t stalls;      /* times the kernel found its output or a route full */
	uint64_t hlc_clamped; /* received timestamps clamped by the skew rule */
	uint64_t corrupt;     /* impossible indexes the host read from this kernel's
			       * rings (any: its calls now return -EUCLEAN); the
			       * kernel counts its own in errors */
} rk_kernel_status;

/* A runtime's counters: kernels Active now, kernels ever launched, messages
 * the host sent and received (released kernels included), bytes of the
 * regions of kernels not yet released; device memory is not counted yet. */
typedef struct rk_runtime_metrics {
	uint32_t active_kernels;
	uint64_t total_launched;
	uint64_t messages_sent, messages_received;
	uint64_t host_memory_bytes, device_memory_bytes;
} rk_runtime_metrics;

/*
 * Launch `kernel` (a built-in: echo, add_f32, counter, sink, forward; or a
 * registered one) with `opts` (NULL: the defaults): make its region
 * (control block, rings, state), hand it to the backend, wait until its
 * loop runs, then activate it unless auto-activate is off. 0 with *out set
 * (Active, or Launched), or:
 *   -EINVAL   a NULL argument, an option out of range, or a built-in whose
 *             reply does not fit max_payload;
 *   -ENOENT   no kernel of that name, or none for this backend;
 *   -EBUSY    the backend cannot keep another persistent kernel resident
 *             (its residency limit), or the kernel did not start in 10 s;
 *   -ENOTSUP  K2K on a device that does not use host addresses;
 *   -ENOMEM, -EPERM, -ENOSPC   the region could not be made or locked
 *             (RLIMIT_MEMLOCK, memory or /dev/shm full);
 *   or what the backend's launch returned (OpenCL: -EIO, a failed build).
 */
int rk_runtime_launch(rk_runtime *rt, const char *kernel, const rk_launch_options *opts,
		      rk_kernel **out);
/* A snapshot of the runtime's counters: 0 or -EINVAL (NULL). */
int rk_runtime_metrics_get(const rk_runtime *rt, rk_runtime_metrics *out);
/* DESIGN names both the record type and this call rk_runtime_metrics, which C
 * cannot declare in one scope: the call is rk_runtime_metrics_get(), and a
 * function-like macro keeps the spelled-in-DESIGN call working. */
#define rk_runtime_metrics(rt, out) rk_runtime_metrics_get((rt), (out))
/*
 * An eventfd that polls readable while any kernel of the runtime has
 * output, for an epoll or poll loop: the fd (>= 0) or -EINVAL. The runtime
 * owns it until shutdown: do not close it. The first call starts watching
 * every live kernel and the ones launched later. Once it is readable, drain
 * each kernel with rk_kernel_try_receive() until -EAGAIN, which re-arms it;
 * output that arrives after that signals again, none is missed.
 */
int rk_runtime_fd(rk_runtime *rt);
/*
 * Terminate every kernel still running, wake the threads blocked in calls on
 * them (they return -ESHUTDOWN) and wait for them to leave, release every
 * kernel handle, unload the backend and free the runtime. No call on the
 * runtime or its kernels may start once shutdown has begun. 0, -EINVAL
 * (NULL), or the first terminate's error (-ETIMEDOUT: a kernel did not stop
 * in 10 s; its memory stays mapped, as it may still write there).
 */
int rk_runtime_shutdown(rk_runtime *rt);

/* "Created", "Launched", "Active", "Deactivated", "Terminated" ("invalid"
 * otherwise), static storage. */
const char *rk_state_name(rk_state s);
/* The kernel's id, unique in its runtime and never 0 (0 is the host in a
 * message's source and dest); 0 for NULL. */
uint64_t rk_kernel_id(const rk_kernel *k);
/* The name it was launched as, valid until release; NULL for NULL. */
const char *rk_kernel_name(const rk_kernel *k);
/* The lifecycle state now (one atomic read); Terminated for NULL. */
rk_state rk_kernel_state(const rk_kernel *k);
bool rk_kernel_is_active(const rk_kernel *k);
/*
 * Lifecycle: Created -> Launched -> Active <-> Deactivated -> Terminated,
 * Launched -> Deactivated, Launched and Active -> Terminated. Transitions of
 * one kernel are serialized; one the diagram does not have is -EPERM and
 * changes nothing. -EINVAL for NULL.
 *
 * Activate: the kernel starts (or resumes) consuming its input.
 */
int rk_kernel_activate(rk_kernel *k);
/* Deactivate: returns once the kernel has stopped consuming (sends still
 * queue up). -ETIMEDOUT if it did not within 10 s (the state stays), or
 * -ESHUTDOWN if its loop has exited. */
int rk_kernel_deactivate(rk_kernel *k);
/*
 * Terminate: close the input (a send that has not committed fails with
 * -ESHUTDOWN; one that has is accounted for), tell the kernel to stop and
 * wait for it, up to 10 s; close the K2K routes into it; wake every thread
 * blocked on it. Frees nothing: rk_kernel_receive() still returns what is
 * left and the status still reads, until rk_kernel_release(). -ETIMEDOUT
 * (or the backend's error) when the kernel did not stop: the state and the
 * memory stay.
 */
int rk_kernel_terminate(rk_kernel *k);
/*
 * Free a handle. A kernel not yet Terminated is terminated first (with a
 * warning); if that fails, its memory is leaked rather than freed under a
 * running kernel, and its waiters return -ESHUTDOWN. Waits for the threads
 * still inside calls on the handle to leave; no call may start on it any
 * more. NULL is ignored. Not after rk_runtime_shutdown(), which releases
 * every handle itself.
 */
void rk_kernel_release(rk_kernel *k);

/* ---- other processes (named runtimes) ----------------------------------------- */

/*
 * Attach to kernel `kernel` of the named runtime `runtime`, owned by another
 * process of the same user (or this one). The handle takes
 * rk_kernel_send/try_send/send_burst/receive/receive_burst/call and
 * rk_kernel_status_get like the owner's: requests go into the kernel's input
 * ring (shared with the owner and other clients), replies come back on a
 * reply ring of this handle's own, so every client gets its own replies
 * and only those. The lifecycle calls are -EPERM unless the owner launched
 * with rk_launch_options_with_client_lifecycle(). Once the owner is gone
 * (killed: within ~20 ms), every call that waits returns -EPIPE; once the
 * kernel terminated, -ESHUTDOWN. 0 with *out set, or:
 *   -EINVAL  NULL or malformed names;       -ENOENT  no such runtime or kernel;
 *   -EACCES  another user's runtime;        -ECONNREFUSED  its owner is dead;
 *   -EUSERS  every client slot is taken;    -ESHUTDOWN  the kernel terminated;
 *   -EBADMSG, -ERANGE, -EPROTONOSUPPORT  what is in shared memory is not
 *            a valid directory or region;  -ETIMEDOUT  the owner did not answer
 *            within 5 s.
 * Same uid is one trust domain (as DPDK secondaries): an attached process
 * maps the kernel's region writable and could write other clients' rings.
 */
int rk_attach(const char *runtime, const char *kernel, rk_kernel **out);
/* Free an attached handle and its client slot; requests it sent and the
 * kernel has not answered are still processed, their replies discarded.
 * Waits for threads inside calls on it to leave. 0, or -EINVAL (NULL or
 * not an attached handle). rk_kernel_release() does the same for one. */
int rk_detach(rk_kernel *k);

/* ---- other hosts (a transport plugin: rk-transport-ucx.so) ------------------- */

/*
 * Serve this runtime's kernels to other hosts on "host:port" (port 0: any
 * free one; "0.0.0.0:0" every interface). The runtime must be named
 * (rk_runtime_builder_name): remote peers name it. One progress thread
 * (rk-net) drives the transport and sleeps while nothing moves. Once per
 * runtime. 0, or:
 *   -EINVAL  NULL, an unnamed runtime, or a malformed address;
 *   -EALREADY  it listens already;   -EADDRINUSE  the port is taken;
 *   -ENOENT  no transport plugin (rk-transport-ucx.so) on the plugin path;
 *   -EACCES, -ENOEXEC, -EPROTO  the transport file was refused.
 */
int rk_runtime_listen(rk_runtime *rt, const char *address);
/* Where it listens, "host:port" with the bound port: 0, -EINVAL,
 * -ENOTCONN (not listening), -ENOSPC (len too small). */
int rk_runtime_listen_address(rk_runtime *rt, char *buf, size_t len);
/*
 * A K2K route from `from` (launched with K2K on) to kernel `kernel` of the
 * runtime `runtime` listening at `address`. The route behaves as a local
 * one: the kernel's sends (rk_ctx_send_k2k, the forward built-in) go in
 * order, stall when the far kernel's input is full (credits, counted in
 * the route's stalls) and are never dropped; each arrives unchanged (id,
 * source, HLC) in the far kernel's input ring, whose replies go to its
 * own host. If the connection fails or the far kernel terminates, the
 * route closes (rk_kernel_route_status: open false) and every message not
 * yet placed at the far end comes back to `from`'s receivers flagged
 * RK_MSG_F_UNDELIVERED. 0, or -EINVAL, -ENOSPC (route table full),
 * -EEXIST, -ESHUTDOWN, -ENOENT (no such kernel there), -ECONNREFUSED,
 * -ETIMEDOUT (no answer in 5 s), or the transport's loading errors.
 */
int rk_kernel_connect_remote(rk_kernel *from, const char *address, const char *runtime,
			     const char *kernel);
/*
 * rk_attach() over the network: a handle on kernel `kernel` of the runtime
 * `runtime` listening at `address`, with the same calls and the same
 * guarantees (own replies only, backpressure, HLC observed). The far end
 * attaches in its own process, so the kernel must take clients. When the
 * connection fails every waiting call returns -EPIPE, and requests the far
 * end had not yet placed come back to receive flagged
 * RK_MSG_F_UNDELIVERED. Lifecycle calls are -EPERM. rk_detach() closes it.
 * Errors: those of rk_attach() as the far end reports them, and
 * -ECONNREFUSED, -ETIMEDOUT, -EPROTO (the peer speaks another protocol).
 */
int rk_attach_remote(const char *address, const char *runtime, const char *kernel, rk_kernel **out);
/* One line about transport `name` ("ucx"): its engine's version and
 * transports, for rk-info. 0, or the errors of loading it. */
int rk_transport_describe(const char *name, char *buf, size_t len);
/*
 * Send `len` payload bytes (payload may be NULL when len is 0) of `type` to
 * the kernel's input queue, waiting up to timeout_ns while it is full. Any
 * number of threads may send at once (the input ring is multi-producer).
 * The message gets a runtime-wide id, source 0 (the host) and an HLC stamp.
 * Legal while Launched, Active or Deactivated: a kernel that is not Active
 * queues what it is sent. 0 once the message is queued, or:
 *   -EINVAL      NULL kernel, or NULL payload with len > 0;
 *   -EMSGSIZE    len larger than the kernel's max payload;
 *   -EPERM       the kernel was never launched;
 *   -EAGAIN      the queue is full and timeout_ns is RK_NO_WAIT;
 *   -ETIMEDOUT   still full at the deadline;
 *   -ESHUTDOWN   the kernel is terminated, or another thread terminated it
 *                while this one waited (nothing was queued);
 *   -EUCLEAN     the input ring is corrupt (sticky).
 * A sender of another process that died holding an input slot does not
 * stop the others: the next sender publishes that slot zeroed for it (the
 * kernel skips it, counted in its errors).
 */
int rk_kernel_send(rk_kernel *k, uint32_t type, const void *payload, uint32_t len,
		   uint64_t timeout_ns);
/* rk_kernel_send() with RK_NO_WAIT: -EAGAIN when the queue is full. */
int rk_kernel_try_send(rk_kernel *k, uint32_t type, const void *payload, uint32_t len);
/*
 * Take the next message the kernel sent the host (its replies, and what it
 * sends unasked), waiting up to timeout_ns (RK_FOREVER: the spec's
 * receive()). A reply whose correlation id a thread waits for in
 * rk_kernel_call() goes to that thread instead. Any number of threads may
 * receive at once; each message goes to exactly one of them. `out` is about
 * 4 KiB. 0 with *out filled, or:
 *   -EINVAL      NULL argument;
 *   -EAGAIN      nothing there and timeout_ns is RK_NO_WAIT (this re-arms
 *                rk_runtime_fd());
 *   -ETIMEDOUT   nothing came in time;
 *   -ESHUTDOWN   the kernel is terminated (a blocked receiver wakes) and
 *                nothing is left, or it did not stop and was released;
 *   -EUCLEAN     the output ring is corrupt (sticky).
 * After terminate it first returns what is left, in order: the messages
 * still queued, then every input the kernel never processed (the host's,
 * then each K2K route's) flagged RK_MSG_F_UNDELIVERED, and only then
 * -ESHUTDOWN: every message sent is accounted for. A malformed slot is
 * skipped and logged, never returned.
 */
int rk_kernel_receive(rk_kernel *k, rk_message *out, uint64_t timeout_ns);
/* rk_kernel_receive() with RK_NO_WAIT: -EAGAIN when there is nothing. */
int rk_kernel_try_receive(rk_kernel *k, rk_message *out);
/*
 * Request and reply: send, then wait for the reply whose correlation_id is
 * the request's id; other messages stay queued for their receivers and
 * callers. timeout_ns bounds the whole call. Any number of threads may call,
 * send and receive at once. 0 with *reply filled, or the errors of
 * rk_kernel_send() and rk_kernel_receive(), but never -EAGAIN: no reply in
 * time is -ETIMEDOUT (a reply that comes later goes to rk_kernel_receive()).
 * -ESHUTDOWN when the kernel was terminated before it replied; a request it
 * never processed comes back to rk_kernel_receive() flagged
 * RK_MSG_F_UNDELIVERED.
 */
int rk_kernel_call(rk_kernel *k, uint32_t type, const void *payload, uint32_t len,
		   rk_message *reply, uint64_t timeout_ns);
/*
 * Send msgs[0..n) in order without waiting, as many as fit; of each only
 * type, len and payload are read. *sent is how many went. Sending stops
 * before the first message larger than the max payload. 0 (*sent may be
 * below n: the queue filled), or:
 *   -EMSGSIZE    msgs[*sent] is too large (the ones before it went);
 *   -EAGAIN      the queue was full: nothing went;
 *   -EINVAL, -EPERM, -ESHUTDOWN, -EUCLEAN   as rk_kernel_send().
 */
int rk_kernel_send_burst(rk_kernel *k, const rk_message *msgs, unsigned n, unsigned *sent);
/* Up to n messages into out[0..n): wait up to timeout_ns for the first as
 * rk_kernel_receive() does, then take what else is there without waiting.
 * 0 with *got >= 1, or that first receive's error with *got = 0 (-EINVAL
 * also for n = 0). */
int rk_kernel_receive_burst(rk_kernel *k, rk_message *out, unsigned n, unsigned *got,
			    uint64_t timeout_ns);

/*
 * Zero-copy receive: a message seen in its slot, with the header checked
 * and copied out; `payload` points at the slot's len payload bytes.
 */
typedef struct rk_msg_view {
	uint32_t type, len;
	uint64_t id, correlation_id;
	uint64_t source, dest;
	uint64_t hlc;
	uint32_t flags, priority;
	uint64_t seq;
	const void *payload; /* len bytes in the ring, until _done */
} rk_msg_view;
/*
 * Up to n messages as views into the output ring: wait up to timeout_ns
 * for the first as rk_kernel_receive() does, take what else is there, and
 * keep the slots until rk_kernel_receive_zc_done() hands them all back in
 * one step. Until then this thread is the handle's reader: other receivers
 * of the handle wait. Slots with a malformed header are dropped (never
 * returned); a payload's bytes are shared memory, which another process
 * may still change, so copy what must not change before checking it.
 * For a handle whose replies nobody waits for by id: while a call waits
 * for its reply or replies are queued for receivers, it is -EBUSY
 * (rk_kernel_receive() delivers those first). Once the kernel has stopped
 * and its output is drained, -ESHUTDOWN; the requests it never processed
 * then come from rk_kernel_receive(), flagged RK_MSG_F_UNDELIVERED.
 * 0 with *got >= 1, or *got = 0 and:
 *   -EINVAL      NULL argument or n = 0;
 *   -EBUSY       the last zero-copy receive is not done, or as above;
 *   -EAGAIN, -ETIMEDOUT, -ESHUTDOWN, -EUCLEAN, -EPIPE   as rk_kernel_receive().
 */
int rk_kernel_receive_zc(rk_kernel *k, rk_msg_view *v, unsigned n, unsigned *got,
			 uint64_t timeout_ns);
/* Hand back every slot the last rk_kernel_receive_zc() returned (its views
 * are invalid from here on). 0, or -EINVAL (NULL, or nothing held). Call it
 * before rk_kernel_release(). Any thread may call it. */
int rk_kernel_receive_zc_done(rk_kernel *k);
/* As with rk_runtime_metrics: the record type and DESIGN's call share a
 * name; the call is rk_kernel_status_get(), spelled rk_kernel_status(). */
/* A snapshot of the kernel's state and counters, also after terminate
 * (until release): 0 or -EINVAL (NULL). */
int rk_kernel_status_get(const rk_kernel *k, rk_kernel_status *out);
#define rk_kernel_status(k, out) rk_kernel_status_get((k), (out))

/*
 * Profiling (rk_runtime_builder_profiling(b, true)): what a kernel's loop
 * measured about itself. Histograms have power-of-two buckets: bucket b
 * counts values in [2^b, 2^(b+1)) (b = 0 also holds 0; the last bucket,
 * everything above), so a percentile is the upper bound of its bucket
 * (within 2x). Queue wait is send (the sender's clock, CLOCK_MONOTONIC)
 * to handler start, for messages sent by a host or attached client of a
 * profiled kernel; handler time is the handler's run, its sends included;
 * stall time is what sends spent waiting for room (output ring, K2K
 * routes, client reply rings); depth is sampled once per batch.
 * With profiling off nothing is measured (a branch per message and send).
 */
#define RK_PROFILE_BUCKETS 40u
typedef struct rk_kernel_profile {
	uint64_t messages; /* handled while profiling */
	uint64_t stamped;  /* of those, with a send time */
	uint64_t queue_wait_p50_ns, queue_wait_p99_ns, queue_wait_mean_ns;
	uint64_t handler_p50_ns, handler_p99_ns, handler_mean_ns;
	uint64_t depth_samples, depth_max;
	double depth_mean;
	uint64_t stall_ns;
	uint64_t queue_wait_hist[RK_PROFILE_BUCKETS]; /* ns */
	uint64_t handler_hist[RK_PROFILE_BUCKETS];    /* ns */
	uint64_t depth_hist[RK_PROFILE_BUCKETS];      /* messages waiting */
} rk_kernel_profile;
/* 0 with *out filled, or -EINVAL (NULL), -ENODATA (profiling is off, or
 * an attached kernel's owner does not profile it), -ENOTSUP (the backend
 * runs the loop on a device with no clock to time it: only the CPU
 * backend profiles today). Any thread; the owner's or an attached handle. */
int rk_kernel_profile_get(const rk_kernel *k, rk_kernel_profile *out);
/*
 * A one-way kernel-to-kernel route: `from`'s handler may then send to `to`
 * (rk_ctx_send_k2k(), rk_dev_send(), the forward built-in) through a ring in
 * `to`'s region. Both need rk_launch_options_with_k2k(). A full route stalls
 * the sender, never drops; terminating `to` closes it. 0, or:
 *   -EINVAL      NULL, from == to, kernels of two runtimes, or K2K off;
 *   -ESHUTDOWN   either kernel is terminated;
 *   -EEXIST      the route is there already;
 *   -ENOSPC      route table full: from's outbound or to's inbound routes
 *                are at max_routes.
 */
int rk_kernel_connect(rk_kernel *from, rk_kernel *to);

/* ---- kernel-to-kernel routes -------------------------------------------------- */

typedef struct rk_route_status {
	uint64_t dest;	    /* receiving kernel's id */
	uint64_t sent;	    /* messages the sender put on the route */
	uint64_t delivered; /* messages the receiver took off it */
	uint64_t stalls;    /* times the sender found it full and waited */
	uint32_t depth;	    /* in flight now */
	bool open;	    /* false once the receiver terminated */
	/* added fields */
	int32_t error; /* why it closed: 0 open, -ESHUTDOWN the receiver
			* terminated, -EPIPE (a remote route) the connection
			* to it failed: its peer died or the network went */
} rk_route_status;

/* Number of outbound routes of `k` (>= 0, in connect order), or -EINVAL. */
int rk_kernel_route_count(const rk_kernel *k);
/* Outbound route `idx` (0 .. count - 1) as observers see it: 0, -EINVAL
 * (NULL) or -ENOENT (no such route). */
int rk_kernel_route_status(const rk_kernel *k, unsigned idx, rk_route_status *out);
/* K2K routes each way, 1..RK_MAX_ROUTES (16), default 8; and the slots of
 * each inbound route's ring (1..2^24, rounded up to 2^n), default 256.
 * Checked at launch when K2K is on. */
void rk_launch_options_with_max_routes(rk_launch_options *o, uint32_t routes);
void rk_launch_options_with_k2k_capacity(rk_launch_options *o, uint32_t slots);

/* ---- hybrid logical clock -------------------------------------------------------- */

/* 48-bit physical microseconds << 16 | 16-bit logical counter. */
static inline uint64_t rk_hlc_pack(uint64_t physical_us, uint16_t logical)
{
	return (physical_us & 0xffffffffffffull) << 16 | logical;
}
static inline uint64_t rk_hlc_physical_us(uint64_t ts)
{
	return ts >> 16;
}
static inline uint16_t rk_hlc_logical(uint64_t ts)
{
	return (uint16_t)(ts & 0xffff);
}

/* The process's clock: stamp a send (strictly increasing), observe a
 * received stamp (skew rule: more than 1 s ahead is clamped and counted).
 * Lock-free; any thread.
 *   rk_hlc_now()           a stamp for a send: max(clock + 1, now);
 *   rk_hlc_observe(seen)   merge a received stamp: max(clock + 1, seen + 1,
 *                          now), `seen` clamped to now + 1 s first;
 *   rk_hlc_clamped()       how many stamps this process has clamped;
 *   rk_hlc_physical_now()  CLOCK_REALTIME as a stamp, logical 0. */
uint64_t rk_hlc_now(void);
uint64_t rk_hlc_observe(uint64_t seen);
uint64_t rk_hlc_clamped(void);
uint64_t rk_hlc_physical_now(void);

/* ---- user kernels ----------------------------------------------------------- */

/* A CPU handler's context (rk_ctx_* below) and the handler itself; the same
 * typedefs as the plugin SDK's (ringkernel/plugin.h). */
typedef struct rk_ctx rk_ctx;
typedef int (*rk_cpu_handler)(rk_ctx *ctx, const rk_message *in);

typedef struct rk_kernel_def {
	const char *name;
	rk_cpu_handler cpu; /* int (*)(rk_ctx *, const rk_message *in) */
	/* GPU implementations: device code image + entry, per backend name */
	struct {
		const char *backend; /* "cuda", "hip", "opencl" */
		const void *image;
		size_t image_size;
		const char *entry;
	} device[4];
	uint32_t state_size; /* scratch bytes the handler needs (default 4096) */
} rk_kernel_def;

/*
 * Register a user kernel under def->name (1..63 of [A-Za-z0-9_.-]) for every
 * runtime of the process; registrations are permanent. The definition and
 * name are copied, not what else it points to: images and strings must stay
 * valid. Any thread. 0, or -EINVAL (NULL, a bad name, no implementation),
 * -EEXIST (a built-in's name, or registered already), -ENOSPC (256 kernels).
 */
int rk_register_kernel(const rk_kernel_def *def);

/* Static registration, like Criterion's Test(): RK_KERNEL(name, handler). */
#define RK_KERNEL(kname, cpu_handler)                                                      \
	__attribute__((constructor)) static void rk_kernel_register_##kname(void)          \
	{                                                                                  \
		static const rk_kernel_def def = { .name = #kname, .cpu = (cpu_handler) }; \
		(void)rk_register_kernel(&def);                                            \
	}

/* ---- inside a CPU handler ------------------------------------------------------ */

/*
 * Only inside a CPU handler, int handler(rk_ctx *, const rk_message *in), on
 * the kernel's worker thread, with the context it was given. A handler that
 * returns < 0 is counted in the kernel's errors.
 *
 * Reply to `in` (correlation id in->id, dest its source), waiting while the
 * output queue is full: 0, -EINVAL, -EMSGSIZE (larger than the output
 * slots), -ESHUTDOWN (the kernel is terminating: not sent; return soon).
 */
int rk_ctx_reply(rk_ctx *ctx, uint32_t type, const void *payload, uint32_t len);
/* Send to kernel `dst_id` over a route rk_kernel_connect() made, waiting
 * while it is full: 0, -EINVAL, -ENOENT (no route to dst_id), -EMSGSIZE
 * (larger than the receiver's slots), -ESHUTDOWN (this kernel is
 * terminating, or dst_id terminated and closed the route). */
int rk_ctx_send_k2k(rk_ctx *ctx, uint64_t dst_id, uint32_t type, const void *payload, uint32_t len);
/* This kernel's id; its scratch area (zeroed at launch, kept across
 * messages) and that area's size in bytes. 0 or NULL for a NULL ctx. */
uint64_t rk_ctx_kernel_id(const rk_ctx *ctx);
void *rk_ctx_state(rk_ctx *ctx);
uint32_t rk_ctx_state_size(const rk_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* RINGKERNEL_RINGKERNEL_H */

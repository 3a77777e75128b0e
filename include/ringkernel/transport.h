/* SPDX-License-Identifier: MIT */
/*
 * ringkernel/transport.h - the ABI of a network transport plugin.
 *
 * A transport moves frames (opaque byte strings) between two processes,
 * usually on two hosts. libringkernel never links one: rk_runtime_listen(),
 * rk_attach_remote() and rk_kernel_connect_remote() load
 * rk-transport-NAME.so from the plugin search path (RK_PLUGIN_PATH, then
 * the install directory; the same safety checks as backend plugins) and
 * drive it from one thread per runtime or remote handle, the node's
 * progress thread. The runtime (runtime/remote.c) owns the protocol:
 * hello, credits, messages; the transport only carries its frames.
 *
 * Threading: every op but describe() is called on the progress thread
 * only, and every event callback runs on it, from inside progress(). A
 * transport needs no locking of its own.
 *
 * Ordering and loss: frames of one connection arrive in the order they
 * were sent, each exactly once, or the connection fails: failed() is then
 * called once and nothing more arrives on it.
 *
 * The plugin exports `const struct rk_transport *rk_transport_entry(void)`.
 * Ops return 0 (or what the op says) or a negative errno, with a message
 * for the user through rk_error() (ringkernel/plugin.h).
 */
#ifndef RINGKERNEL_TRANSPORT_H
#define RINGKERNEL_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RK_TRANSPORT_ABI_MAJOR 1
#define RK_TRANSPORT_ABI_MINOR 0
#define RK_TRANSPORT_ENTRY     "rk_transport_entry"

/* The runtime's side: called from inside progress(). */
struct rk_transport_events {
	/* A peer connected to the listener: the value to pass as `arg` to
	 * this connection's events, or NULL to refuse it (the transport
	 * then closes it, with no failed()). */
	void *(*accepted)(void *node, void *conn);
	/* One frame, valid only during the call. */
	void (*received)(void *arg, const void *frame, size_t len);
	/* The connection is dead (the peer closed it, crashed, or the
	 * network failed): err is a negative errno. Called once; the
	 * runtime then calls disconnect(). */
	void (*failed)(void *arg, int err);
};

struct rk_transport_ops {
	size_t struct_size; /* sizeof(struct rk_transport_ops) of the plugin */
	/* A context: the transport's engine, its progress fd. `node` is
	 * passed back to accepted(). */
	int (*open)(const struct rk_transport_events *ev, void *node, void **ctx);
	/* Closes every connection (no callbacks) and the listener. */
	void (*close)(void *ctx);
	/* One line for rk-info: the engine's version and transports. Any
	 * thread; ctx may be NULL. Returns the length written. */
	int (*describe)(void *ctx, char *buf, size_t len);
	/* Listen on "host:port" (port 0: any). One listener per context. */
	int (*listen)(void *ctx, const char *address);
	/* Where it listens, "host:port" with the port bound. */
	int (*listen_address)(void *ctx, char *buf, size_t len);
	/* Connect to "host:port"; `arg` goes to the connection's events.
	 * Returns before the connection is up: frames sent meanwhile are
	 * queued, and a refused connection is a failed() later. */
	int (*connect)(void *ctx, const char *address, void *arg, void **conn);
	/* Send one frame; the transport copies it. -EPIPE once failed. */
	int (*send)(void *conn, const void *frame, size_t len);
	/* Close one connection; no event for it after this returns. */
	void (*disconnect)(void *conn);
	/* A descriptor that turns readable when progress() has work. */
	int (*fd)(void *ctx);
	/* Run callbacks for whatever happened: > 0 when something did. */
	int (*progress)(void *ctx);
	/* Before sleeping on fd(): 0 = armed, sleep; -EAGAIN = events are
	 * pending, call progress() again first. */
	int (*arm)(void *ctx);
};

struct rk_transport {
	uint32_t abi_major, abi_minor;
	size_t struct_size; /* sizeof(struct rk_transport) */
	const char *name;   /* "ucx": must match the file rk-transport-NAME.so */
	const char *version;
	const struct rk_transport_ops *ops;
};

typedef const struct rk_transport *(*rk_transport_entry_fn)(void);

#ifdef __cplusplus
}
#endif

#endif

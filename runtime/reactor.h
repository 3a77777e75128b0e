/* SPDX-License-Identifier: MIT */
/*
 * runtime/reactor.h - the host-side completion engine (internal).
 *
 * Blocking calls spin briefly, then park on a ring (rk_ring_park_*) and
 * sleep here until the other side rings the bell. Sleeping happens in
 * io_uring (IORING_OP_FUTEX_WAIT with an EXT_ARG timeout, else linked to a
 * LINK_TIMEOUT; one ring per runtime) where the kernel has it, else in
 * futex(2).
 *
 * RK_REACTOR, read by rki_reactor_create():
 *   auto   (default) io_uring when it works here, else futex, said once at
 *          RK_LOG=info;
 *   uring  (or io_uring) io_uring or fail: -ENOSYS/-EPERM from
 *          io_uring_setup, -EOPNOTSUPP without IORING_OP_FUTEX_WAIT
 *          (Linux < 6.7), with the reason in rk_last_error();
 *   futex  plain futex(2) waits.
 *
 * A reactor belongs to the process that created it: after fork() the child
 * creates its own (an io_uring instance is not to be shared across fork).
 *
 * rki_reactor_fd() is an eventfd for an outside event loop; see reactor.c
 * for the arming protocol and the helper thread behind it.
 *
 * All functions return 0 or a negative errno and set rk_last_error().
 */
#ifndef RK_RUNTIME_REACTOR_H
#define RK_RUNTIME_REACTOR_H

#include <stdint.h>

struct rk_ring;
struct rki_reactor;

/* One per runtime. Reads RK_REACTOR; an unknown value is -EINVAL. */
int rki_reactor_create(struct rki_reactor **out);
/* Stops the helper thread, closes the fd and the ring. Every watched ring
 * is unwatched first, so its memory may be freed afterwards. */
void rki_reactor_destroy(struct rki_reactor *re);
/* "io_uring futex" or "futex". */
const char *rki_reactor_mode(const struct rki_reactor *re);

/*
 * Sleep until *word != expected (checked first: then 0 at once), a futex
 * wake on word, or timeout_ns (UINT64_MAX = forever) elapses: 0 or
 * -ETIMEDOUT. The word may live in shared memory (shared futex). Like any
 * futex wait it may return 0 without a wake (a bell bumped for someone
 * else); callers re-check their condition.
 *
 * Thread-safe. The runtime has one io_uring; the thread that holds it
 * sleeps there, while a thread that finds it in use sleeps in a plain
 * futex(2) wait instead -- same semantics, one syscall, no queueing.
 */
int rki_reactor_wait(struct rki_reactor *re, uint32_t *word, uint32_t expected,
		     uint64_t timeout_ns);

/*
 * The `sleep` of a struct rk_ring_sleep (ringkernel/ring.h) for
 * rk_ring_wait(): `arg` is the reactor. Blocking receive and send are
 * rk_ring_wait() with this sleep and the kernel's "closed" test.
 */
int rki_reactor_sleep(void *arg, uint32_t *word, uint32_t expected, uint64_t deadline);

/* rk_ring_wait() with the reactor's sleep and nothing that closes. */
int rki_reactor_wait_readable(struct rki_reactor *re, struct rk_ring *ring, uint64_t spin_ns,
			      uint64_t timeout_ns);
int rki_reactor_wait_writable(struct rki_reactor *re, struct rk_ring *ring, uint64_t spin_ns,
			      uint64_t timeout_ns);

/*
 * Readiness for an outside epoll loop (rk_runtime_fd). The fd is an eventfd
 * that becomes readable when a watched ring has data and stays readable
 * until rki_reactor_rearm(). Protocol for the runtime: after the user has
 * drained a ring (try_receive returned -EAGAIN), call rki_reactor_rearm();
 * the fd then turns readable again as soon as any watched ring is (or
 * becomes) non-empty. No readiness is lost, and while the fd is signalled
 * and not rearmed producers make no syscall for it. A rearm while not
 * signalled is a no-op without a syscall. Users never read the fd.
 *
 * Cost: one helper thread per reactor, started by the first watch, that
 * sleeps on all watched rings at once (io_uring FUTEX_WAITV, else
 * futex_waitv(2)); rings beyond the first 127, or all of them without
 * futex_waitv(2), are polled every millisecond.
 *
 * `ring` is the caller's consumer handle; the reactor only reads the ring's
 * shared indexes, never the handle's consumer-side cache. After
 * rki_reactor_unwatch() returns the reactor no longer touches the ring.
 * -EEXIST if already watched.
 */
int rki_reactor_fd(struct rki_reactor *re);
int rki_reactor_watch(struct rki_reactor *re, struct rk_ring *ring);
void rki_reactor_unwatch(struct rki_reactor *re, struct rk_ring *ring);
void rki_reactor_rearm(struct rki_reactor *re);

#endif

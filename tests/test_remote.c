/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
/*
 * Kernels of other hosts: rk_runtime_listen(), rk_attach_remote() and
 * rk_kernel_connect_remote() over the real UCX transport (tcp on
 * 127.0.0.1), between real processes. The far runtime is a child forked
 * before this process starts any thread; it reports its address through a
 * pipe and serves until the pipe closes (or it is killed).
 *
 * Every stream carries sequence numbers and a checksum per message: nothing
 * lost, duplicated, reordered or damaged, with backpressure engaged (the
 * receiver pauses until the senders find their rings full).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <ringkernel/ringkernel.h>

#include "testutil.h"

#define SEC  1000000000ull
#define TYPE 7u

static const char *uniq(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "rkr-%s-%d", tag, (int)getpid());
	return buf;
}

/* Skip where the transport was not built. */
static void need_ucx(void)
{
	char d[256];
	if (rk_transport_describe("ucx", d, sizeof(d)) < 0)
		cr_skip_test("no UCX transport: %s", rk_last_error());
}

static rk_runtime *named_rt(const char *name)
{
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b, "cpu");
	rk_runtime_builder_name(b, name);
	rk_runtime *rt = NULL;
	int ret = rk_runtime_builder_build(b, &rt);
	cr_assert_eq(ret, 0, "runtime %s: %s", name, rk_last_error());
	return rt;
}

static rk_kernel *launch(rk_runtime *rt, const char *def, const char *name, bool k2k)
{
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_name(&o, name);
	rk_launch_options_with_k2k(&o, k2k);
	rk_kernel *k = NULL;
	cr_assert_eq(rk_runtime_launch(rt, def, &o, &k), 0, "launch %s: %s", name, rk_last_error());
	return k;
}

/* ---- the far runtime ------------------------------------------------------------- */

struct server {
	pid_t pid;
	int to;	  /* parent -> child: lines, then EOF to stop */
	int from; /* child -> parent: lines */
	char name[64];
	char addr[128];
};

static bool read_line(int fd, char *buf, size_t n)
{
	size_t i = 0;
	while (i + 1 < n) {
		ssize_t r = read(fd, buf + i, 1);
		if (r <= 0)
			return false;
		if (buf[i] == '\n')
			break;
		i++;
	}
	buf[i] = '\0';
	return true;
}

static void say(int fd, const char *s)
{
	size_t n = strlen(s);
	if (write(fd, s, n) != (ssize_t)n)
		_exit(98);
}

/* The child: runtime `name` with echo, fwd (K2K) and sink (K2K), listening
 * on 127.0.0.1:0. Commands from the parent, one per line:
 *   route ADDR RUNTIME KERNEL   fwd gets a remote route there: "ok" or the error
 *   terminate sink              terminates the sink kernel: "ok" or the error */
static int serve(const char *name, int in, int out)
{
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b, "cpu");
	rk_runtime_builder_name(b, name);
	rk_runtime *rt;
	if (rk_runtime_builder_build(b, &rt) < 0)
		return 1;
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_name(&o, "echo");
	rk_kernel *echo, *fwd, *sink;
	if (rk_runtime_launch(rt, "echo", &o, &echo) < 0)
		return 2;
	rk_launch_options_with_name(&o, "fwd");
	rk_launch_options_with_k2k(&o, true);
	if (rk_runtime_launch(rt, "forward", &o, &fwd) < 0)
		return 3;
	rk_launch_options_with_name(&o, "sink");
	if (rk_runtime_launch(rt, "sink", &o, &sink) < 0)
		return 4;
	if (rk_runtime_listen(rt, "127.0.0.1:0") < 0)
		return 5;
	char line[512];
	rk_runtime_listen_address(rt, line, sizeof(line));
	strcat(line, "\n");
	say(out, line);
	while (read_line(in, line, sizeof(line))) {
		char addr[128], r[64], k[64];
		if (sscanf(line, "route %127s %63s %63s", addr, r, k) == 3) {
			int ret = rk_kernel_connect_remote(fwd, addr, r, k);
			snprintf(line, sizeof(line), "%s\n", ret == 0 ? "ok" : rk_last_error());
			say(out, line);
		} else if (!strcmp(line, "terminate sink")) {
			int ret = rk_kernel_terminate(sink);
			snprintf(line, sizeof(line), "%s\n", ret == 0 ? "ok" : rk_last_error());
			say(out, line);
		}
	}
	rk_runtime_shutdown(rt);
	return 0;
}

static void server_start(struct server *s, const char *tag)
{
	int to[2], from[2];
	uniq(s->name, sizeof(s->name), tag);
	cr_assert_eq(pipe(to), 0);
	cr_assert_eq(pipe(from), 0);
	fflush(NULL);
	s->pid = fork();
	cr_assert_geq(s->pid, 0);
	if (s->pid == 0) {
		close(to[1]);
		close(from[0]);
		_exit(serve(s->name, to[0], from[1]));
	}
	close(to[0]);
	close(from[1]);
	s->to = to[1];
	s->from = from[0];
	cr_assert(read_line(s->from, s->addr, sizeof(s->addr)), "the server did not start");
	cr_assert(strncmp(s->addr, "127.0.0.1:", 10) == 0 && atoi(s->addr + 10) > 0,
		  "bound address \"%s\"", s->addr);
}

/* Stop it: its exit status (0 = a clean shutdown). */
static int server_stop(struct server *s)
{
	close(s->to);
	int st;
	cr_assert_eq(waitpid(s->pid, &st, 0), s->pid);
	close(s->from);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

static void server_kill(struct server *s)
{
	kill(s->pid, SIGKILL);
	int st;
	waitpid(s->pid, &st, 0);
	close(s->to);
	close(s->from);
}

/* ---- numbered messages ------------------------------------------------------------ */

struct num {
	uint64_t seq;
	uint64_t pad[6];
	uint64_t sum;
};

static uint64_t checksum(const struct num *p)
{
	uint64_t s = 0xcbf29ce484222325ull ^ p->seq;
	for (unsigned i = 0; i < 6; i++)
		s = (s ^ p->pad[i]) * 0x100000001b3ull;
	return s;
}

static struct num numbered(uint64_t seq)
{
	struct num p = { .seq = seq };
	for (unsigned i = 0; i < 6; i++)
		p.pad[i] = seq * 0x9e3779b97f4a7c15ull + i;
	p.sum = checksum(&p);
	return p;
}

/* The payload of m is numbered message `seq`, intact. */
static bool is_numbered(const rk_message *m, uint64_t seq)
{
	struct num p;
	if (m->type != TYPE || m->len != sizeof(p))
		return false;
	memcpy(&p, m->payload, sizeof(p));
	return p.seq == seq && p.sum == checksum(&p);
}

struct sender {
	rk_kernel *k;
	uint64_t n;
	uint64_t full; /* times try_send found the ring full */
	uint64_t sent;
	int err;
};

/* Numbered messages 0..n-1: try first (counting full rings), then wait. */
static void *send_all(void *arg)
{
	struct sender *s = arg;
	for (uint64_t i = 0; i < s->n; i++) {
		struct num p = numbered(i);
		int ret = rk_kernel_try_send(s->k, TYPE, &p, sizeof(p));
		if (ret == -EAGAIN) {
			__atomic_add_fetch(&s->full, 1, __ATOMIC_RELAXED);
			ret = rk_kernel_send(s->k, TYPE, &p, sizeof(p), 30 * SEC);
		}
		if (ret < 0) {
			__atomic_store_n(&s->err, ret, __ATOMIC_RELAXED);
			return NULL;
		}
		__atomic_store_n(&s->sent, i + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Receive n numbered messages from k, in order, pausing the reader at the
 * start until the sender has found its ring full (backpressure end to
 * end) and then now and again. */
static void receive_all(rk_kernel *k, struct sender *s, uint64_t n)
{
	for (unsigned i = 0; i < 20000 && !__atomic_load_n(&s->full, __ATOMIC_RELAXED) &&
			     !__atomic_load_n(&s->err, __ATOMIC_RELAXED);
	     i++)
		pause_ms(1);
	cr_assert_gt(__atomic_load_n(&s->full, __ATOMIC_RELAXED), 0,
		     "the sender never found its ring full: no backpressure");
	rk_message *m = malloc(sizeof(*m));
	for (uint64_t i = 0; i < n; i++) {
		int ret = rk_kernel_receive(k, m, 30 * SEC);
		cr_assert_eq(ret, 0, "message %llu: %s", (unsigned long long)i, rk_last_error());
		cr_assert(is_numbered(m, i), "message %llu: type %u, len %u, seq %llu",
			  (unsigned long long)i, m->type, m->len,
			  (unsigned long long)((const struct num *)m->payload)->seq);
		cr_assert_eq(m->flags & RK_MSG_F_UNDELIVERED, 0);
		if (i % 4096 == 4095)
			pause_ms(2);
	}
	cr_assert_eq(rk_kernel_try_receive(k, m), -EAGAIN, "a message more than was sent");
	free(m);
}

/* ---- attach ------------------------------------------------------------------------ */

Test(remote, attach_call_and_identity, .timeout = 120)
{
	need_ucx();
	struct server s;
	server_start(&s, "id");
	rk_kernel *k = NULL;
	cr_assert_eq(rk_attach_remote(s.addr, s.name, "echo", &k), 0, "%s", rk_last_error());
	cr_assert_str_eq(rk_kernel_name(k), "echo");
	cr_assert_eq(rk_kernel_state(k), RK_STATE_ACTIVE);
	cr_assert_eq(rk_kernel_id(k), 1, "the echo kernel is the server's first");
	const char hello[] = "a message across the network";
	rk_message *r = malloc(sizeof(*r));
	cr_assert_eq(rk_kernel_call(k, 42, hello, sizeof(hello), r, 10 * SEC), 0, "%s",
		     rk_last_error());
	cr_assert_eq(r->type, 42);
	cr_assert_eq(r->len, sizeof(hello));
	cr_assert_eq(memcmp(r->payload, hello, sizeof(hello)), 0);
	cr_assert(r->flags & RK_MSG_F_REPLY);
	cr_assert_eq(r->source, 1, "the reply comes from the kernel");
	/* The clock came back through the far host and was observed. */
	cr_assert_neq(r->hlc, 0);
	cr_assert_geq(rk_hlc_now(), r->hlc);
	/* A payload larger than the far kernel takes is refused here. */
	static uint8_t big[RK_MAX_PAYLOAD];
	cr_assert_eq(rk_kernel_try_send(k, 1, big, sizeof(big)), -EMSGSIZE);
	/* Lifecycle over the network is refused, and changes nothing. */
	cr_assert_eq(rk_kernel_deactivate(k), -EPERM);
	cr_assert_eq(rk_kernel_state(k), RK_STATE_ACTIVE);
	/* Two handles on one kernel each get their own replies only. */
	rk_kernel *k2 = NULL;
	cr_assert_eq(rk_attach_remote(s.addr, s.name, "echo", &k2), 0, "%s", rk_last_error());
	cr_assert_eq(rk_kernel_try_send(k2, 2, "two", 3), 0);
	cr_assert_eq(rk_kernel_try_send(k, 1, "one", 3), 0);
	cr_assert_eq(rk_kernel_receive(k, r, 10 * SEC), 0);
	cr_assert_eq(r->type, 1);
	cr_assert_eq(memcmp(r->payload, "one", 3), 0);
	cr_assert_eq(rk_kernel_receive(k2, r, 10 * SEC), 0);
	cr_assert_eq(r->type, 2);
	cr_assert_eq(rk_kernel_try_receive(k, r), -EAGAIN);
	cr_assert_eq(rk_detach(k2), 0);
	cr_assert_eq(rk_detach(k), 0);
	free(r);
	cr_assert_eq(server_stop(&s), 0);
}

Test(remote, attach_stream_in_order_with_backpressure, .timeout = 120)
{
	need_ucx();
	struct server s;
	server_start(&s, "stream");
	rk_kernel *k = NULL;
	cr_assert_eq(rk_attach_remote(s.addr, s.name, "echo", &k), 0, "%s", rk_last_error());
	uint64_t n = rk_test_count(200000);
	if (n < 20000)
		n = 20000; /* more than every ring and credit on the way holds */
	struct sender snd = { .k = k, .n = n };
	pthread_t t;
	pthread_create(&t, NULL, send_all, &snd);
	receive_all(k, &snd, n);
	pthread_join(t, NULL);
	cr_assert_eq(snd.err, 0, "send: %s", rk_strerror(snd.err));
	rk_kernel_status st;
	cr_assert_eq(rk_kernel_status_get(k, &st), 0);
	cr_assert_eq(st.messages_sent, n);
	cr_assert_eq(st.messages_received, n);
	rk_detach(k);
	cr_assert_eq(server_stop(&s), 0);
}

Test(remote, attach_errors_change_nothing, .timeout = 120)
{
	need_ucx();
	struct server s;
	server_start(&s, "err");
	rk_kernel *k = (rk_kernel *)&s;
	cr_assert_eq(rk_attach_remote(s.addr, s.name, "nosuch", &k), -ENOENT);
	cr_assert_null(k);
	cr_assert(strstr(rk_last_error(), "nosuch"), "%s", rk_last_error());
	cr_assert_eq(rk_attach_remote(s.addr, "another-runtime", "echo", &k), -ENOENT);
	cr_assert(strstr(rk_last_error(), "another-runtime"), "%s", rk_last_error());
	cr_assert_eq(rk_attach_remote("127.0.0.1", s.name, "echo", &k), -EINVAL);
	cr_assert_eq(rk_attach_remote("127.0.0.1:99999", s.name, "echo", &k), -EINVAL);
	cr_assert_eq(rk_attach_remote(s.addr, "bad/name", "echo", &k), -EINVAL);
	cr_assert_eq(rk_attach_remote(NULL, s.name, "echo", &k), -EINVAL);
	cr_assert_eq(rk_attach_remote(s.addr, s.name, "echo", NULL), -EINVAL);
	/* The server still serves. */
	cr_assert_eq(rk_attach_remote(s.addr, s.name, "echo", &k), 0, "%s", rk_last_error());
	rk_message *r = malloc(sizeof(*r));
	cr_assert_eq(rk_kernel_call(k, 3, "x", 1, r, 10 * SEC), 0);
	cr_assert_eq(r->payload[0], 'x');
	free(r);
	rk_detach(k);
	cr_assert_eq(server_stop(&s), 0);
	/* Nobody listens there any more. */
	int ret = rk_attach_remote(s.addr, s.name, "echo", &k);
	cr_assert(ret == -ECONNREFUSED || ret == -ETIMEDOUT, "%d: %s", ret, rk_last_error());
	cr_assert_null(k);
}

Test(remote, listen_errors, .timeout = 120)
{
	need_ucx();
	rk_runtime *rt;
	cr_assert_eq(rk_runtime_builder_build(rk_runtime_builder_new(), &rt), 0);
	cr_assert_eq(rk_runtime_listen(rt, "127.0.0.1:0"), -EINVAL, "an unnamed runtime");
	cr_assert(strstr(rk_last_error(), "name"), "%s", rk_last_error());
	char buf[128];
	cr_assert_eq(rk_runtime_listen_address(rt, buf, sizeof(buf)), -ENOTCONN);
	rk_runtime_shutdown(rt);
	char name[64];
	rt = named_rt(uniq(name, sizeof(name), "listen"));
	cr_assert_eq(rk_runtime_listen(rt, "no-port"), -EINVAL);
	cr_assert_eq(rk_runtime_listen(rt, NULL), -EINVAL);
	cr_assert_eq(rk_runtime_listen_address(rt, buf, sizeof(buf)), -ENOTCONN);
	cr_assert_eq(rk_runtime_listen(rt, "127.0.0.1:0"), 0, "%s", rk_last_error());
	cr_assert_eq(rk_runtime_listen_address(rt, buf, sizeof(buf)), 0);
	cr_assert(strncmp(buf, "127.0.0.1:", 10) == 0 && atoi(buf + 10) > 0, "%s", buf);
	cr_assert_eq(rk_runtime_listen_address(rt, buf, 4), -ENOSPC);
	cr_assert_eq(rk_runtime_listen(rt, "127.0.0.1:0"), -EALREADY);
	rk_runtime_shutdown(rt);
}

/* ---- remote routes ----------------------------------------------------------------- */

/* host -> A (forward, here) -> B (forward, there) -> C (forward, here) -> host:
 * two remote routes, one each way. */
Test(remote, chain_across_two_runtimes, .timeout = 300)
{
	need_ucx();
	struct server s;
	server_start(&s, "chain");
	char name[64], addr[128], line[512];
	rk_runtime *rt = named_rt(uniq(name, sizeof(name), "here"));
	cr_assert_eq(rk_runtime_listen(rt, "127.0.0.1:0"), 0, "%s", rk_last_error());
	cr_assert_eq(rk_runtime_listen_address(rt, addr, sizeof(addr)), 0);
	rk_kernel *a = launch(rt, "forward", "A", true);
	rk_kernel *c = launch(rt, "forward", "C", false);
	snprintf(line, sizeof(line), "route %s %s C\n", addr, name);
	say(s.to, line);
	cr_assert(read_line(s.from, line, sizeof(line)));
	cr_assert_str_eq(line, "ok", "the far runtime's route back: %s", line);
	cr_assert_eq(rk_kernel_connect_remote(a, s.addr, s.name, "fwd"), 0, "%s", rk_last_error());
	cr_assert_eq(rk_kernel_connect_remote(a, s.addr, s.name, "fwd"), -EEXIST);
	cr_assert_eq(rk_kernel_route_count(a), 1);
	uint64_t n = rk_test_count(1000000);
	if (n < 20000)
		n = 20000;
	struct sender snd = { .k = a, .n = n };
	pthread_t t;
	pthread_create(&t, NULL, send_all, &snd);
	receive_all(c, &snd, n);
	pthread_join(t, NULL);
	cr_assert_eq(snd.err, 0, "send: %s", rk_strerror(snd.err));
	rk_route_status rs;
	cr_assert_eq(rk_kernel_route_status(a, 0, &rs), 0);
	cr_assert(rs.open);
	cr_assert_eq(rs.error, 0);
	cr_assert_eq(rs.dest, 2, "the far fwd kernel");
	cr_assert_eq(rs.sent, n);
	cr_assert_eq(rs.delivered, n, "placed in the far kernel's ring");
	cr_assert_eq(rs.depth, 0);
	cr_assert_gt(rs.stalls, 0, "the route stalled while the reader paused");
	rk_message m;
	cr_assert_eq(rk_kernel_try_receive(a, &m), -EAGAIN, "nothing came back to A's host");
	cr_assert_eq(server_stop(&s), 0);
	rk_runtime_shutdown(rt);
}

Test(remote, route_errors_change_nothing, .timeout = 120)
{
	need_ucx();
	struct server s;
	server_start(&s, "rerr");
	char name[64];
	rk_runtime *rt = named_rt(uniq(name, sizeof(name), "rerr-here"));
	rk_kernel *nok2k = launch(rt, "forward", "plain", false);
	rk_kernel *a = launch(rt, "forward", "A", true);
	cr_assert_eq(rk_kernel_connect_remote(nok2k, s.addr, s.name, "fwd"), -EINVAL);
	cr_assert_eq(rk_kernel_connect_remote(a, s.addr, s.name, "nosuch"), -ENOENT);
	cr_assert_eq(rk_kernel_connect_remote(a, "nohost", s.name, "fwd"), -EINVAL);
	cr_assert_eq(rk_kernel_connect_remote(NULL, s.addr, s.name, "fwd"), -EINVAL);
	cr_assert_eq(rk_kernel_route_count(a), 0);
	/* With no route, forward answers like echo: A is untouched. */
	rk_message *r = malloc(sizeof(*r));
	cr_assert_eq(rk_kernel_call(a, 5, "still", 5, r, 10 * SEC), 0);
	cr_assert_eq(memcmp(r->payload, "still", 5), 0);
	free(r);
	cr_assert_eq(server_stop(&s), 0);
	rk_runtime_shutdown(rt);
}

Test(remote, route_closes_when_the_far_kernel_terminates, .timeout = 120)
{
	need_ucx();
	struct server s;
	server_start(&s, "rterm");
	char name[64], line[512];
	rk_runtime *rt = named_rt(uniq(name, sizeof(name), "rterm-here"));
	rk_kernel *a = launch(rt, "forward", "A", true);
	cr_assert_eq(rk_kernel_connect_remote(a, s.addr, s.name, "sink"), 0, "%s", rk_last_error());
	for (uint64_t i = 0; i < 100; i++) {
		struct num p = numbered(i);
		cr_assert_eq(rk_kernel_send(a, TYPE, &p, sizeof(p), 10 * SEC), 0);
	}
	rk_route_status rs;
	for (unsigned i = 0; i < 1000; i++) {
		cr_assert_eq(rk_kernel_route_status(a, 0, &rs), 0);
		if (rs.delivered == 100)
			break;
		pause_ms(10);
	}
	cr_assert_eq(rs.delivered, 100, "placed at the far sink");
	say(s.to, "terminate sink\n");
	cr_assert(read_line(s.from, line, sizeof(line)));
	cr_assert_str_eq(line, "ok");
	for (unsigned i = 0; i < 1000; i++) {
		cr_assert_eq(rk_kernel_route_status(a, 0, &rs), 0);
		if (!rs.open)
			break;
		pause_ms(10);
	}
	cr_assert(!rs.open, "the route stayed open after its receiver terminated");
	cr_assert_eq(rs.error, -ESHUTDOWN, "why it closed: %d", rs.error);
	/* With its route closed, forward answers its host itself. */
	rk_message *m = malloc(sizeof(*m));
	struct num p = numbered(100);
	cr_assert_eq(rk_kernel_call(a, TYPE, &p, sizeof(p), m, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert(is_numbered(m, 100));
	cr_assert_eq(m->flags & RK_MSG_F_UNDELIVERED, 0);
	cr_assert_eq(rk_kernel_try_receive(a, m), -EAGAIN, "nothing sent before came back");
	free(m);
	cr_assert_eq(server_stop(&s), 0);
	rk_runtime_shutdown(rt);
}

/* ---- failure ------------------------------------------------------------------------ */

Test(remote, attach_peer_killed_is_epipe_and_accounted, .timeout = 120)
{
	need_ucx();
	struct server s;
	server_start(&s, "kill");
	rk_kernel *k = NULL;
	cr_assert_eq(rk_attach_remote(s.addr, s.name, "echo", &k), 0, "%s", rk_last_error());
	/* Requests in flight: sent, some answered, then the far end dies.
	 * (Fewer than the rings on the way hold: nobody reads meanwhile.) */
	uint64_t n = 200, replies = 0, undelivered = 0, last = 0;
	for (uint64_t i = 0; i < n; i++) {
		struct num p = numbered(i);
		cr_assert_eq(rk_kernel_send(k, TYPE, &p, sizeof(p), 10 * SEC), 0, "%s",
			     rk_last_error());
	}
	rk_message *m = malloc(sizeof(*m));
	cr_assert_eq(rk_kernel_receive(k, m, 10 * SEC), 0);
	cr_assert(is_numbered(m, 0));
	replies = 1;
	server_kill(&s);
	int ret;
	while ((ret = rk_kernel_receive(k, m, 30 * SEC)) == 0) {
		struct num p;
		memcpy(&p, m->payload, sizeof(p));
		cr_assert(is_numbered(m, p.seq), "damaged message");
		cr_assert_gt(p.seq, last, "out of order or twice: %llu after %llu",
			     (unsigned long long)p.seq, (unsigned long long)last);
		last = p.seq;
		if (m->flags & RK_MSG_F_UNDELIVERED)
			undelivered++;
		else {
			cr_assert_eq(undelivered, 0, "a reply after an undelivered request");
			replies++;
		}
	}
	cr_assert_eq(ret, -EPIPE, "a receive after the peer died: %d %s", ret, rk_last_error());
	cr_assert(strstr(rk_last_error(), "connection"), "%s", rk_last_error());
	cr_assert_leq(replies + undelivered, n);
	/* Sends and calls fail the same way, at once. */
	cr_assert_eq(rk_kernel_try_send(k, TYPE, "x", 1), -EPIPE);
	cr_assert_eq(rk_kernel_call(k, TYPE, "x", 1, m, RK_FOREVER), -EPIPE);
	free(m);
	cr_assert_eq(rk_detach(k), 0);
}

Test(remote, route_peer_killed_closes_and_returns_in_flight, .timeout = 120)
{
	need_ucx();
	struct server s;
	server_start(&s, "rkill");
	char name[64];
	rk_runtime *rt = named_rt(uniq(name, sizeof(name), "rkill-here"));
	rk_kernel *a = launch(rt, "forward", "A", true);
	cr_assert_eq(rk_kernel_connect_remote(a, s.addr, s.name, "sink"), 0, "%s", rk_last_error());
	/* Fewer than A's rings hold once the route has closed and A answers
	 * itself: nobody reads until the end. */
	uint64_t n = 400;
	for (uint64_t i = 0; i < n / 2; i++) {
		struct num p = numbered(i);
		cr_assert_eq(rk_kernel_send(a, TYPE, &p, sizeof(p), 10 * SEC), 0);
	}
	server_kill(&s);
	for (uint64_t i = n / 2; i < n; i++) {
		struct num p = numbered(i);
		cr_assert_eq(rk_kernel_send(a, TYPE, &p, sizeof(p), 10 * SEC), 0);
	}
	rk_route_status rs;
	for (unsigned i = 0; i < 3000; i++) {
		cr_assert_eq(rk_kernel_route_status(a, 0, &rs), 0);
		if (!rs.open)
			break;
		pause_ms(10);
	}
	cr_assert(!rs.open, "the route stayed open after its peer died");
	cr_assert_eq(rs.error, -EPIPE, "why it closed: %d", rs.error);
	/* Every message: placed at the far end (delivered), or back here,
	 * flagged undelivered or answered by A itself once the route closed. */
	uint8_t *seen = calloc(n, 1);
	uint64_t back = 0, undelivered = 0;
	rk_message *m = malloc(sizeof(*m));
	while (back + rs.delivered < n && rk_kernel_receive(a, m, 10 * SEC) == 0) {
		struct num p;
		memcpy(&p, m->payload, sizeof(p));
		cr_assert(p.seq < n && is_numbered(m, p.seq), "damaged message");
		cr_assert_eq(seen[p.seq], 0, "message %llu came back twice",
			     (unsigned long long)p.seq);
		seen[p.seq] = 1;
		back++;
		undelivered += (m->flags & RK_MSG_F_UNDELIVERED) != 0;
	}
	cr_assert_eq(rk_kernel_route_status(a, 0, &rs), 0);
	cr_assert_eq(back + rs.delivered, n, "%llu back + %llu delivered of %llu",
		     (unsigned long long)back, (unsigned long long)rs.delivered,
		     (unsigned long long)n);
	cr_assert_eq(rk_kernel_try_receive(a, m), -EAGAIN);
	/* What the far end placed is the first messages, in order. */
	for (uint64_t i = 0; i < rs.delivered; i++)
		cr_assert_eq(seen[i], 0, "message %llu both placed and returned",
			     (unsigned long long)i);
	free(m);
	free(seen);
	rk_runtime_shutdown(rt);
}

/* ---- what the network sends is untrusted ------------------------------------------ */

#if RK_TEST_HAVE_UCX
#include <ucp/api/ucp.h>

/* The wire format (runtime/remote.c, docs/design.md 6c), written by hand. */
struct w_frame {
	uint32_t magic;
	uint16_t type, count;
	uint32_t len, arg;
};
struct w_hello {
	uint32_t version, mode, credits, pad;
	uint64_t from_id;
	char runtime[64], kernel[64];
};
struct w_welcome {
	int32_t status;
	uint32_t credits;
	uint64_t kernel_id, tag;
	uint32_t max_payload, state;
	char registry[64], why[192];
};
#define W_MAGIC 0x314b5246u
#define W_AM_ID 0x524b

/* A raw UCP client: no libringkernel on this side of the wire. */
struct raw {
	ucp_context_h ctx;
	ucp_worker_h w;
	ucp_ep_h ep;
	int failed, frames;
	uint8_t last[1024];
	size_t last_len;
};

static ucs_status_t raw_am(void *arg, const void *h, size_t hl, void *data, size_t len,
			   const ucp_am_recv_param_t *p)
{
	(void)h;
	(void)hl;
	(void)p;
	struct raw *r = arg;
	r->last_len = len < sizeof(r->last) ? len : sizeof(r->last);
	memcpy(r->last, data, r->last_len);
	r->frames++;
	return UCS_OK;
}

static void raw_err(void *arg, ucp_ep_h ep, ucs_status_t s)
{
	(void)ep;
	(void)s;
	((struct raw *)arg)->failed = 1;
}

static void raw_open(struct raw *r, const char *addr)
{
	memset(r, 0, sizeof(*r));
	ucp_params_t p = { .field_mask = UCP_PARAM_FIELD_FEATURES, .features = UCP_FEATURE_AM };
	ucp_config_t *cfg;
	cr_assert_eq(ucp_config_read(NULL, NULL, &cfg), UCS_OK);
	cr_assert_eq(ucp_init(&p, cfg, &r->ctx), UCS_OK);
	ucp_config_release(cfg);
	ucp_worker_params_t wp = { 0 };
	cr_assert_eq(ucp_worker_create(r->ctx, &wp, &r->w), UCS_OK);
	ucp_am_handler_param_t h = {
		.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID | UCP_AM_HANDLER_PARAM_FIELD_CB |
			      UCP_AM_HANDLER_PARAM_FIELD_ARG,
		.id = W_AM_ID,
		.cb = raw_am,
		.arg = r,
	};
	cr_assert_eq(ucp_worker_set_am_recv_handler(r->w, &h), UCS_OK);
	char host[128];
	snprintf(host, sizeof(host), "%s", addr);
	char *colon = strrchr(host, ':');
	*colon = '\0';
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(atoi(colon + 1)) };
	inet_pton(AF_INET, host, &sa.sin_addr);
	ucp_ep_params_t ep = {
		.field_mask = UCP_EP_PARAM_FIELD_FLAGS | UCP_EP_PARAM_FIELD_SOCK_ADDR |
			      UCP_EP_PARAM_FIELD_ERR_HANDLER | UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE,
		.flags = UCP_EP_PARAMS_FLAGS_CLIENT_SERVER,
		.sockaddr = { .addr = (struct sockaddr *)&sa, .addrlen = sizeof(sa) },
		.err_mode = UCP_ERR_HANDLING_MODE_PEER,
		.err_handler = { .cb = raw_err, .arg = r },
	};
	cr_assert_eq(ucp_ep_create(r->w, &ep, &r->ep), UCS_OK);
}

static void raw_send(struct raw *r, const void *buf, size_t len)
{
	ucp_request_param_t p = { .op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS,
				  .flags = UCP_AM_SEND_FLAG_EAGER | UCP_AM_SEND_FLAG_REPLY };
	ucs_status_ptr_t q = ucp_am_send_nbx(r->ep, W_AM_ID, NULL, 0, buf, len, &p);
	if (UCS_PTR_IS_PTR(q)) {
		while (ucp_request_check_status(q) == UCS_INPROGRESS)
			ucp_worker_progress(r->w);
		ucp_request_free(q);
	}
}

/* Progress until `frames` frames came in all, or ms passed. */
static void raw_wait(struct raw *r, int frames, unsigned ms)
{
	for (unsigned i = 0; i < ms * 10 && r->frames < frames && !r->failed; i++) {
		while (ucp_worker_progress(r->w))
			;
		struct timespec ts = { 0, 100000 };
		nanosleep(&ts, NULL);
	}
}

static void raw_close(struct raw *r)
{
	ucp_request_param_t p = { .op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS,
				  .flags = UCP_EP_CLOSE_FLAG_FORCE };
	ucs_status_ptr_t q = ucp_ep_close_nbx(r->ep, &p);
	if (UCS_PTR_IS_PTR(q)) {
		while (ucp_request_check_status(q) == UCS_INPROGRESS)
			ucp_worker_progress(r->w);
		ucp_request_free(q);
	}
	ucp_worker_destroy(r->w);
	ucp_cleanup(r->ctx);
}

static void hello_frame(uint8_t *buf, const char *runtime, const char *kernel, uint32_t version)
{
	struct w_frame f = { W_MAGIC, 1, 0, sizeof(f) + sizeof(struct w_hello), 0 };
	struct w_hello h = { .version = version, .mode = 1, .credits = 64 };
	snprintf(h.runtime, sizeof(h.runtime), "%s", runtime);
	snprintf(h.kernel, sizeof(h.kernel), "%s", kernel);
	memcpy(buf, &f, sizeof(f));
	memcpy(buf + sizeof(f), &h, sizeof(h));
}

static struct w_welcome welcome_of(const struct raw *r)
{
	struct w_welcome w;
	struct w_frame f;
	cr_assert_eq(r->last_len, sizeof(f) + sizeof(w), "a WELCOME frame");
	memcpy(&f, r->last, sizeof(f));
	cr_assert_eq(f.magic, W_MAGIC);
	cr_assert_eq(f.type, 2);
	memcpy(&w, r->last + sizeof(f), sizeof(w));
	return w;
}

Test(remote, malformed_frames_are_refused_and_change_nothing, .timeout = 120)
{
	need_ucx();
	struct server s;
	server_start(&s, "bad");
	uint8_t buf[sizeof(struct w_frame) + sizeof(struct w_hello) + 256];
	struct raw r;

	/* Another protocol version: refused with the reason. */
	raw_open(&r, s.addr);
	hello_frame(buf, s.name, "echo", 99);
	raw_send(&r, buf, sizeof(struct w_frame) + sizeof(struct w_hello));
	raw_wait(&r, 1, 5000);
	cr_assert_eq(r.frames, 1, "no answer to a HELLO");
	cr_assert_eq(welcome_of(&r).status, -EPROTONOSUPPORT);
	raw_close(&r);

	/* A kernel name with no terminator, 64 bytes of it. */
	raw_open(&r, s.addr);
	hello_frame(buf, s.name, "echo", 1);
	memset(buf + sizeof(struct w_frame) + offsetof(struct w_hello, kernel), 'A', 64);
	raw_send(&r, buf, sizeof(struct w_frame) + sizeof(struct w_hello));
	raw_wait(&r, 1, 5000);
	cr_assert_eq(r.frames, 1);
	cr_assert_eq(welcome_of(&r).status, -EINVAL);
	raw_close(&r);

	/* Garbage first: the connection is ignored from then on, even a good
	 * HELLO after it. */
	raw_open(&r, s.addr);
	raw_send(&r, "xyz", 3);
	struct w_frame lie = { W_MAGIC, 1, 0, 4096, 0 }; /* length not the frame's */
	raw_send(&r, &lie, sizeof(lie));
	hello_frame(buf, s.name, "echo", 1);
	raw_send(&r, buf, sizeof(struct w_frame) + sizeof(struct w_hello));
	raw_wait(&r, 1, 300);
	cr_assert_eq(r.frames, 0, "an answer on a connection that sent garbage");
	raw_close(&r);

	/* Attached, then a message longer than the kernel takes, then more
	 * messages than the credits: nothing of it reaches the kernel. */
	raw_open(&r, s.addr);
	hello_frame(buf, s.name, "echo", 1);
	raw_send(&r, buf, sizeof(struct w_frame) + sizeof(struct w_hello));
	raw_wait(&r, 1, 5000);
	struct w_welcome w = welcome_of(&r);
	cr_assert_eq(w.status, 0, "%s", w.why);
	cr_assert_eq(w.credits, 256);
	uint8_t m[sizeof(struct w_frame) + 64 + 8];
	struct w_frame f = { W_MAGIC, 3, 1, sizeof(m), 0 };
	uint32_t hdr[16] = { 0x4b52u | (1u << 16), 0, 1, 0, 5000 }; /* magic, version; len */
	memcpy(m, &f, sizeof(f));
	memcpy(m + sizeof(f), hdr, sizeof(hdr));
	raw_send(&r, m, sizeof(m));
	raw_wait(&r, 2, 300);
	cr_assert_eq(r.frames, 1, "a reply to a message that was not valid");
	raw_close(&r);

	/* The server serves on, and its kernel answered nobody else. */
	rk_kernel *k;
	cr_assert_eq(rk_attach_remote(s.addr, s.name, "echo", &k), 0, "%s", rk_last_error());
	rk_message *rep = malloc(sizeof(*rep));
	cr_assert_eq(rk_kernel_call(k, 9, "ok", 2, rep, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(memcmp(rep->payload, "ok", 2), 0);
	rk_kernel_status st;
	rk_kernel_status_get(k, &st);
	free(rep);
	rk_detach(k);
	cr_assert_eq(server_stop(&s), 0);
}
#endif

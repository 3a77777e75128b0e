/* SPDX-License-Identifier: MIT */
/*
 * A runtime on one side of a network, for tests/remote_netns.sh (two
 * network namespaces) and by hand:
 *
 *   remote_peer serve NAME ADDR    a named runtime NAME with an echo kernel
 *                                  ("echo") and a forward one ("fwd", K2K
 *                                  on), listening on ADDR; prints the bound
 *                                  address, serves until stdin closes
 *                                  (stdin: "route ADDR RUNTIME KERNEL"
 *                                  lines give fwd a remote route)
 *   remote_peer echo ADDR NAME N   rk_attach_remote() to its "echo" and N
 *                                  messages through it, pipelined, each with
 *                                  a sequence number and a checksum: exit 0
 *                                  when every reply came back once, in
 *                                  order and intact
 *   remote_peer chain ADDR NAME N SELF
 *                                  the same N through host -> A -> fwd
 *                                  (there) -> C -> host, A and C in a
 *                                  runtime of its own listening on SELF
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringkernel/ringkernel.h>

#define SEC 1000000000ull

static int serve(const char *name, const char *addr)
{
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b, "cpu");
	rk_runtime_builder_name(b, name);
	rk_runtime *rt;
	int ret = rk_runtime_builder_build(b, &rt);
	if (ret < 0) {
		fprintf(stderr, "remote_peer: build: %s\n", rk_last_error());
		return 1;
	}
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_name(&o, "echo");
	rk_kernel *echo, *fwd;
	if ((ret = rk_runtime_launch(rt, "echo", &o, &echo)) < 0)
		goto fail;
	o = rk_launch_options_default();
	rk_launch_options_with_name(&o, "fwd");
	rk_launch_options_with_k2k(&o, true);
	if ((ret = rk_runtime_launch(rt, "forward", &o, &fwd)) < 0)
		goto fail;
	if ((ret = rk_runtime_listen(rt, addr)) < 0)
		goto fail;
	char bound[128];
	rk_runtime_listen_address(rt, bound, sizeof(bound));
	printf("%s\n", bound);
	fflush(stdout);
	/* Commands on stdin, one per line, until it closes:
	 *   route ADDR RUNTIME KERNEL   fwd routes there; "ok" or the error */
	char line[512], a[128], r[64], kn[64];
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "route %127s %63s %63s", a, r, kn) == 3) {
			ret = rk_kernel_connect_remote(fwd, a, r, kn);
			printf("%s\n", ret == 0 ? "ok" : rk_last_error());
			fflush(stdout);
		}
	}
	rk_runtime_shutdown(rt);
	return 0;
fail:
	fprintf(stderr, "remote_peer: %s\n", rk_last_error());
	rk_runtime_shutdown(rt);
	return 1;
}

struct flow {
	rk_kernel *k;
	uint64_t n;
	int err;
};

static uint64_t sum(const uint64_t *w, unsigned n)
{
	uint64_t s = 0x9e3779b97f4a7c15ull;
	for (unsigned i = 0; i < n; i++)
		s = (s ^ w[i]) * 0x100000001b3ull;
	return s;
}

static void *sender(void *arg)
{
	struct flow *f = arg;
	for (uint64_t i = 0; i < f->n; i++) {
		uint64_t w[8];
		for (unsigned j = 0; j < 7; j++)
			w[j] = i * 7 + j;
		w[0] = i;
		w[7] = sum(w, 7);
		int ret = rk_kernel_send(f->k, 7, w, sizeof(w), 30 * SEC);
		if (ret < 0) {
			fprintf(stderr, "remote_peer: send %llu: %s\n", (unsigned long long)i,
				rk_last_error());
			f->err = ret;
			return NULL;
		}
	}
	return NULL;
}

static int echo(const char *addr, const char *name, uint64_t n)
{
	rk_kernel *k;
	int ret = rk_attach_remote(addr, name, "echo", &k);
	if (ret < 0) {
		fprintf(stderr, "remote_peer: attach: %s\n", rk_last_error());
		return 1;
	}
	struct flow f = { k, n, 0 };
	pthread_t t;
	pthread_create(&t, NULL, sender, &f);
	int bad = 0;
	for (uint64_t i = 0; i < n && !bad; i++) {
		rk_message m;
		if ((ret = rk_kernel_receive(k, &m, 30 * SEC)) < 0) {
			fprintf(stderr, "remote_peer: receive %llu: %s\n", (unsigned long long)i,
				rk_last_error());
			bad = 1;
			break;
		}
		uint64_t w[8];
		memcpy(w, m.payload, sizeof(w));
		if (m.type != 7 || m.len != sizeof(w) || w[0] != i || w[7] != sum(w, 7)) {
			fprintf(stderr, "remote_peer: reply %llu: type %u len %u seq %llu\n",
				(unsigned long long)i, m.type, m.len, (unsigned long long)w[0]);
			bad = 1;
		}
	}
	pthread_join(t, NULL);
	rk_detach(k);
	if (bad || f.err)
		return 1;
	printf("ok %llu\n", (unsigned long long)n);
	return 0;
}

/* host -> A (forward, here) -> fwd (there) -> C (forward, here) -> host:
 * this runtime listens on `self`, prints "listening ADDR NAME" and waits
 * for a line on stdin (the far fwd has its route to C by then). */
static int chain(const char *addr, const char *name, uint64_t n, const char *self)
{
	char me[64], bound[128], line[64];
	snprintf(me, sizeof(me), "rkchain-%d", (int)getpid());
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b, "cpu");
	rk_runtime_builder_name(b, me);
	rk_runtime *rt;
	rk_kernel *a, *c;
	if (rk_runtime_builder_build(b, &rt) < 0)
		goto fail;
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_name(&o, "A");
	rk_launch_options_with_k2k(&o, true);
	if (rk_runtime_launch(rt, "forward", &o, &a) < 0)
		goto fail;
	o = rk_launch_options_default();
	rk_launch_options_with_name(&o, "C");
	if (rk_runtime_launch(rt, "forward", &o, &c) < 0 || rk_runtime_listen(rt, self) < 0)
		goto fail;
	rk_runtime_listen_address(rt, bound, sizeof(bound));
	printf("listening %s %s\n", bound, me);
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	if (rk_kernel_connect_remote(a, addr, name, "fwd") < 0)
		goto fail;
	struct flow f = { a, n, 0 };
	pthread_t t;
	pthread_create(&t, NULL, sender, &f);
	int bad = 0;
	for (uint64_t i = 0; i < n && !bad; i++) {
		rk_message m;
		if (rk_kernel_receive(c, &m, 30 * SEC) < 0) {
			fprintf(stderr, "remote_peer: chain receive %llu: %s\n",
				(unsigned long long)i, rk_last_error());
			bad = 1;
			break;
		}
		uint64_t w[8];
		memcpy(w, m.payload, sizeof(w));
		if (m.type != 7 || m.len != sizeof(w) || w[0] != i || w[7] != sum(w, 7)) {
			fprintf(stderr, "remote_peer: chain message %llu: seq %llu\n",
				(unsigned long long)i, (unsigned long long)w[0]);
			bad = 1;
		}
	}
	pthread_join(t, NULL);
	rk_route_status rs;
	if (!bad && (rk_kernel_route_status(a, 0, &rs) < 0 || rs.delivered != n || !rs.open)) {
		fprintf(stderr, "remote_peer: route: delivered %llu of %llu\n",
			(unsigned long long)rs.delivered, (unsigned long long)n);
		bad = 1;
	}
	rk_runtime_shutdown(rt);
	if (bad || f.err)
		return 1;
	printf("ok %llu\n", (unsigned long long)n);
	return 0;
fail:
	fprintf(stderr, "remote_peer: chain: %s\n", rk_last_error());
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "echo"))
		return echo(argv[2], argv[3], strtoull(argv[4], NULL, 10));
	if (argc == 6 && !strcmp(argv[1], "chain"))
		return chain(argv[2], argv[3], strtoull(argv[4], NULL, 10), argv[5]);
	fprintf(stderr, "usage: remote_peer serve NAME ADDR | echo ADDR NAME N | "
			"chain ADDR NAME N SELF\n");
	return 2;
}

/* SPDX-License-Identifier: MIT */
/*
 * A runtime on one side of a network, for tests/remote_netns.sh (two
 * network namespaces) and by hand:
 *
 *   remote_peer serve NAME ADDR    a named runtime NAME with an echo kernel
 *                                  ("echo") and a forward one ("fwd", K2K
 *                                  on), listening on ADDR; prints the bound
 *                                  address, serves until stdin closes
 *   remote_peer echo ADDR NAME N   rk_attach_remote() to its "echo" and N
 *                                  messages through it, pipelined, each with
 *                                  a sequence number and a checksum: exit 0
 *                                  when every reply came back once, in
 *                                  order and intact
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
	char c;
	while (read(0, &c, 1) > 0)
		;
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

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "serve"))
		return serve(argv[2], argv[3]);
	if (argc == 5 && !strcmp(argv[1], "echo"))
		return echo(argv[2], argv[3], strtoull(argv[4], NULL, 10));
	fprintf(stderr, "usage: remote_peer serve NAME ADDR | echo ADDR NAME N\n");
	return 2;
}

/* SPDX-License-Identifier: MIT */
/*
 * On a GPU: the built-in echo kernel on the CUDA (or HIP) backend. Checks
 * the lifecycle (launch, activate, deactivate, reactivate, terminate) and
 * the round trip, and prints the host -> kernel -> host round-trip latency
 * and the pipelined throughput. Exits 77 (skipped) without a device.
 *
 *   gpu_echo [cuda|hip] [messages]     (default: cuda, 100000)
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ringkernel/ringkernel.h>

#define SEC 1000000000ull

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

#define CHECK(expr)                                                                              \
	do {                                                                                     \
		int r_ = (expr);                                                                 \
		if (r_ < 0) {                                                                    \
			fprintf(stderr, "FAIL %s:%d %s: %d %s\n", __FILE__, __LINE__, #expr, r_, \
				rk_last_error());                                                \
			exit(1);                                                                 \
		}                                                                                \
	} while (0)

int main(int argc, char **argv)
{
	const char *backend = argc > 1 ? argv[1] : "cuda";
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 100000;
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b, backend);
	rk_runtime *rt = NULL;
	int ret = rk_runtime_builder_build(b, &rt);
	if (ret == -ENODEV || ret == -ENOENT) {
		printf("SKIP: %s backend unavailable: %s\n", backend, rk_last_error());
		return 77;
	}
	CHECK(ret);
	rk_launch_options o = rk_launch_options_single_block(32);
	rk_launch_options_without_auto_activate(&o);
	rk_kernel *k = NULL;
	CHECK(rk_runtime_launch(rt, "echo", &o, &k));
	CHECK(rk_kernel_activate(k));
	CHECK(rk_kernel_deactivate(k));
	CHECK(rk_kernel_activate(k));

	/* Round trip, one message at a time. */
	rk_message *reply = malloc(sizeof(*reply));
	uint64_t best = UINT64_MAX, total = 0;
	unsigned long rounds = n < 10000 ? n : 10000;
	for (unsigned long i = 0; i < rounds; i++) {
		uint64_t v = i, t0 = now_ns();
		CHECK(rk_kernel_call(k, 7, &v, sizeof(v), reply, 5 * SEC));
		uint64_t dt = now_ns() - t0;
		uint64_t got;
		memcpy(&got, reply->payload, sizeof(got));
		if (reply->len != sizeof(v) || got != v) {
			fprintf(stderr, "FAIL: echo %lu came back as %llu\n", i,
				(unsigned long long)got);
			return 1;
		}
		total += dt;
		if (dt < best)
			best = dt;
	}
	printf("%s: round trip over %lu calls: mean %.2f us, best %.2f us\n", backend, rounds,
	       total / 1e3 / (double)rounds, best / 1e3);

	/* Throughput: keep the rings full. */
	uint64_t t0 = now_ns();
	unsigned long sent = 0, got = 0;
	while (got < n) {
		while (sent < n && sent - got < 512) {
			uint64_t v = sent;
			if (rk_kernel_try_send(k, 7, &v, sizeof(v)) < 0)
				break;
			sent++;
		}
		ret = rk_kernel_receive(k, reply, 5 * SEC);
		if (ret < 0) {
			fprintf(stderr, "FAIL: receive %lu/%lu: %s\n", got, n, rk_last_error());
			return 1;
		}
		got++;
	}
	double s = (double)(now_ns() - t0) / 1e9;
	printf("%s: throughput %lu messages in %.3f s: %.0f msg/s\n", backend, n, s, n / s);

	rk_kernel_status st;
	CHECK(rk_kernel_status_get(k, &st));
	printf("%s: processed %llu, heartbeat %llu, errors %llu\n", backend,
	       (unsigned long long)st.messages_processed, (unsigned long long)st.heartbeat,
	       (unsigned long long)st.errors);
	CHECK(rk_kernel_terminate(k));
	rk_kernel_release(k);
	free(reply);
	CHECK(rk_runtime_shutdown(rt));
	printf("PASS\n");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * On a GPU: the built-in echo kernel on the CUDA (or HIP) backend. Checks
 * the lifecycle (launch, activate, deactivate, reactivate, terminate) and
 * the round trip, and prints the host -> kernel -> host round-trip latency
 * (p50, p99, best over ROUNDTRIPS calls) and the pipelined throughput
 * (MESSAGES through the rings) as RESULT: lines, the figures gpu-bundle's
 * summary keeps. Exits 77 (skipped) without the backend.
 *
 *   gpu_echo [BACKEND] [MESSAGES] [ROUNDTRIPS]   (cuda, 100000, 20000)
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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
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
	unsigned long rounds = argc > 3 ? strtoul(argv[3], NULL, 10) : 20000;
	if (rounds == 0)
		rounds = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
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

	printf("RESULT: lifecycle launch, activate, deactivate, activate: ok\n");

	/* Round trip, one message at a time. */
	rk_message *reply = malloc(sizeof(*reply));
	uint64_t *lat = malloc(rounds * sizeof(*lat));
	uint64_t total = 0;
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
		lat[i] = dt;
	}
	qsort(lat, rounds, sizeof(*lat), cmp_u64);
	printf("RESULT: round trip over %lu calls: p50 %.2f us, p99 %.2f us, best %.2f us, mean "
	       "%.2f us\n",
	       rounds, lat[rounds / 2] / 1e3, lat[rounds * 99 / 100] / 1e3, lat[0] / 1e3,
	       total / 1e3 / (double)rounds);
	free(lat);

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
	printf("RESULT: pipelined %lu messages in %.3f s: %.0f msg/s\n", n, s, n / s);

	rk_kernel_status st;
	CHECK(rk_kernel_status_get(k, &st));
	printf("RESULT: processed %llu, heartbeat %llu, errors %llu\n",
	       (unsigned long long)st.messages_processed, (unsigned long long)st.heartbeat,
	       (unsigned long long)st.errors);
	CHECK(rk_kernel_terminate(k));
	rk_kernel_release(k);
	free(reply);
	CHECK(rk_runtime_shutdown(rt));
	printf("PASS\n");
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * A user kernel for every backend, run on whichever backend Auto picks
 * (or $RK_BACKEND names): the handler of scale_kernel.h, registered with
 * every build of it this program carries (scale_register.c: the CPU
 * handler, the OpenCL source, and the CUDA / HIP images when the Makefile
 * found nvcc / hipcc). It sets a factor, sends requests of 0 to 46 floats
 * and checks each reply: type, length, the kernel's request count and
 * every product, bit for bit. Exit 0 when all replies are right, 1 on the
 * first that is not (or when the runtime or the launch fails).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <ringkernel/ringkernel.h>

#include "scale_kernel.h" /* scale_cpu(), SCALE_SET */

#define TIMEOUT_NS (10ull * 1000000000ull)
#define MAX_FLOATS 46 /* a u64 and 46 floats fill the default 192-byte payload */

#ifndef SCALE_HAVE_CUDA /* the Makefile's: 1 where nvcc built scale.cu */
#define SCALE_HAVE_CUDA 0
#endif
#ifndef SCALE_HAVE_HIP
#define SCALE_HAVE_HIP 0
#endif

int scale_register(void); /* scale_register.c */

static int fail(const char *what)
{
	fprintf(stderr, "scale: %s: %s\n", what, rk_last_error());
	return 1;
}

/* Set the factor: the reply is the request count alone. */
static int set_factor(rk_kernel *k, float f, uint64_t want_count)
{
	rk_message m;
	uint64_t c;
	if (rk_kernel_call(k, SCALE_SET, &f, sizeof(f), &m, TIMEOUT_NS) < 0)
		return fail("set factor");
	if (m.type != SCALE_SET || m.len != 8) {
		fprintf(stderr, "scale: set factor: reply type %u, %u bytes; want %u, 8\n", m.type,
			m.len, SCALE_SET);
		return 1;
	}
	memcpy(&c, m.payload, 8);
	if (c != want_count) {
		fprintf(stderr, "scale: set factor: request count %llu, want %llu\n",
			(unsigned long long)c, (unsigned long long)want_count);
		return 1;
	}
	return 0;
}

/* Send n floats; the reply must be the count, then each times f. */
static int check_scaled(rk_kernel *k, float f, uint32_t n, uint64_t want_count)
{
	float v[MAX_FLOATS], out[MAX_FLOATS];
	for (uint32_t i = 0; i < n; i++)
		v[i] = (float)(want_count * 131 + i) * 0.37f - 9.5f;
	rk_message m;
	uint64_t c;
	if (rk_kernel_call(k, 2, v, 4 * n, &m, TIMEOUT_NS) < 0)
		return fail("request");
	if (m.type != 2 || m.len != 8 + 4 * n) {
		fprintf(stderr, "scale: reply type %u, %u bytes; want 2, %u\n", m.type, m.len,
			8 + 4 * n);
		return 1;
	}
	memcpy(&c, m.payload, 8);
	if (c != want_count) {
		fprintf(stderr, "scale: request count %llu, want %llu\n", (unsigned long long)c,
			(unsigned long long)want_count);
		return 1;
	}
	memcpy(out, (const unsigned char *)m.payload + 8, 4 * n);
	for (uint32_t i = 0; i < n; i++) {
		float want = f * v[i];
		if (memcmp(&out[i], &want, 4) != 0) {
			fprintf(stderr, "scale: element %u of %u: %a, want %a\n", i, n,
				(double)out[i], (double)want);
			return 1;
		}
	}
	return 0;
}

static int run(rk_kernel *k, const char *backend)
{
	uint64_t count = 0;
	if (set_factor(k, 2.5f, ++count))
		return 1;
	for (uint32_t round = 0; round < 100; round++)
		if (check_scaled(k, 2.5f, round % (MAX_FLOATS + 1), ++count))
			return 1;
	if (set_factor(k, -0.125f, ++count) || check_scaled(k, -0.125f, MAX_FLOATS, ++count))
		return 1;
	/* The kernel's own counters agree: every request processed (a request
	 * is counted before its reply is published), no error. */
	rk_kernel_status st;
	if (rk_kernel_status(k, &st) < 0)
		return fail("status");
	if (st.messages_processed != count || st.errors != 0) {
		fprintf(stderr,
			"scale: the kernel processed %llu requests with %llu errors; "
			"want %llu, 0\n",
			(unsigned long long)st.messages_processed, (unsigned long long)st.errors,
			(unsigned long long)count);
		return 1;
	}
	printf("scale: %s: %llu replies, every product bit for bit\n", backend,
	       (unsigned long long)count);
	return 0;
}

int main(void)
{
	if (scale_register() < 0)
		return fail("register");
	printf("scale: builds cpu opencl%s%s\n", SCALE_HAVE_CUDA ? " cuda" : "",
	       SCALE_HAVE_HIP ? " hip" : "");
	rk_runtime *rt;
	if (rk_runtime_new(RK_BACKEND_AUTO, &rt) < 0)
		return fail("runtime");
	const char *backend = rk_runtime_backend_name(rt);
	rk_kernel *k;
	if (rk_runtime_launch(rt, "scale", NULL, &k) < 0) {
		int ret = fail("launch");
		rk_runtime_shutdown(rt);
		return ret;
	}
	int ret = run(k, backend);
	if (rk_kernel_terminate(k) < 0 && !ret)
		ret = fail("terminate");
	rk_runtime_shutdown(rt);
	return ret;
}

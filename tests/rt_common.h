/* SPDX-License-Identifier: MIT */
/* Helpers shared by the runtime suites. */
#ifndef RK_TEST_RT_COMMON_H
#define RK_TEST_RT_COMMON_H

#include <string.h>
#include <unistd.h>

#include <ringkernel/ringkernel.h>

#include "testutil.h"

#define SEC 1000000000ull

/* A runtime on the backend named by RK_TEST_BACKEND (default cpu); the
 * suite skips when that backend is not available here. */
static inline rk_runtime *rt_open(void)
{
	const char *be = getenv("RK_TEST_BACKEND");
	rk_runtime_builder *b = rk_runtime_builder_new();
	cr_assert_not_null(b);
	rk_runtime_builder_backend_name(b, be && *be ? be : "cpu");
	rk_runtime *rt = NULL;
	int ret = rk_runtime_builder_build(b, &rt);
	if (ret == -ENODEV || ret == -ENOENT)
		cr_skip_test("backend %s unavailable: %s", be ? be : "cpu", rk_last_error());
	cr_assert_eq(ret, 0, "runtime: %s", rk_last_error());
	return rt;
}

static inline rk_kernel *launch(rk_runtime *rt, const char *name, rk_launch_options *o)
{
	rk_kernel *k = NULL;
	int ret = rk_runtime_launch(rt, name, o, &k);
	if (ret == -ENOTSUP || /* a feature this backend does not have yet */
	    (ret == -ENOENT && strstr(rk_last_error(), "implementation"))) /* a CPU-only kernel */
		cr_skip_test("%s on %s: %s", name, rk_runtime_backend_name(rt), rk_last_error());
	cr_assert_eq(ret, 0, "launch %s: %s (%s)", name, rk_strerror(ret), rk_last_error());
	return k;
}

/* The kernel's status once `reached(status, n)`, or after `ms` looks 1 ms
 * apart (the caller asserts on what came back). */
static inline rk_kernel_status
await_status(rk_kernel *k, bool (*reached)(const rk_kernel_status *, uint64_t), uint64_t n, int ms)
{
	rk_kernel_status st;
	for (int t = 0; t < ms; t++) {
		cr_assert_eq(rk_kernel_status(k, &st), 0);
		if (reached(&st, n))
			break;
		usleep(1000);
	}
	return st;
}

static inline bool rkt_processed(const rk_kernel_status *st, uint64_t n)
{
	return st->messages_processed >= n;
}

static inline bool rkt_output_depth(const rk_kernel_status *st, uint64_t n)
{
	return st->output_depth >= n;
}

/* A kernel counts a request before it publishes the reply; requests that
 * get no reply are counted with nothing to wait for: poll (up to 5 s)
 * until the counters reach n. */
static inline rk_kernel_status await_processed(rk_kernel *k, uint64_t n)
{
	return await_status(k, rkt_processed, n, 5000);
}

/* A CPU handler through rk_ctx, and the same kernel as OpenCL C source
 * against device.h: each backend runs its own build of it. */
#define RKT_KERNEL_CPU_OPENCL(kname, cpu_handler, src, ocl_entry)                    \
	__attribute__((constructor)) static void rkt_register_##kname(void)          \
	{                                                                            \
		static rk_kernel_def def = { .name = #kname, .cpu = (cpu_handler) }; \
		def.device[0].backend = "opencl";                                    \
		def.device[0].image = (src);                                         \
		def.device[0].image_size = sizeof(src);                              \
		def.device[0].entry = (ocl_entry);                                   \
		(void)rk_register_kernel(&def);                                      \
	}

/* The OpenCL build of a slow echo: a device cannot sleep, so it spins on a
 * volatile counter in its state (roughly 0.1-1 ms per message on a CPU
 * device), then echoes. */
static const char rkt_slow_echo_cl[] =
	"#define RK_DEV_USER_HANDLER slow_echo_dev\n"
	"#include <ringkernel/device.h>\n"
	"RK_DEV_HANDLER(slow_echo_dev)\n"
	"{\n"
	"	volatile RK_GLOBAL rk_u32 *spin = (volatile RK_GLOBAL rk_u32 *)k->state;\n"
	"	for (rk_u32 i = 0; i < 200000; i++)\n"
	"		*spin += 1;\n"
	"	return rk_dev_reply(k, in, in->type, payload, len);\n"
	"}\n"
	"RK_DEV_ENTRY(slow_echo_dev)\n";

#endif

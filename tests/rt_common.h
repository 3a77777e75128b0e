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

/* A kernel publishes its counters after the replies of a batch: a caller
 * that has every reply polls (up to 5 s) until the counters catch up. */
static inline rk_kernel_status await_processed(rk_kernel *k, uint64_t n)
{
	rk_kernel_status st;
	for (int t = 0; t < 5000; t++) {
		cr_assert_eq(rk_kernel_status(k, &st), 0);
		if (st.messages_processed >= n)
			break;
		usleep(1000);
	}
	return st;
}

#endif

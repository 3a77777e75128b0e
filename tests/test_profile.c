/* SPDX-License-Identifier: MIT */
/* Profiling: rk_runtime_builder_profiling() and rk_kernel_profile_get(). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rt_common.h"

static rk_runtime *rt_profiled(bool on)
{
	const char *be = getenv("RK_TEST_BACKEND");
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b, be && *be ? be : "cpu");
	rk_runtime_builder_profiling(b, on);
	rk_runtime *rt = NULL;
	int ret = rk_runtime_builder_build(b, &rt);
	if (ret == -ENODEV || ret == -ENOENT)
		cr_skip_test("backend unavailable: %s", rk_last_error());
	cr_assert_eq(ret, 0, "%s", rk_last_error());
	return rt;
}

static uint64_t hist_sum(const uint64_t *h)
{
	uint64_t n = 0;
	for (unsigned b = 0; b < RK_PROFILE_BUCKETS; b++)
		n += h[b];
	return n;
}

/* Calls are timed: one queue wait and one handler time per message, the
 * percentiles inside the histogram, the means consistent with them. */
Test(profile, calls_are_timed)
{
	rk_runtime *rt = rt_profiled(true);
	if (strcmp(rk_runtime_backend_name(rt), "cpu"))
		cr_skip_test("only the CPU backend profiles");
	rk_kernel *k = launch(rt, "echo", NULL);
	rk_message m;
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(rk_kernel_call(k, 1, "abcd", 4, &m, 10 * SEC), 0, "%s",
			     rk_last_error());
	/* The reply came back with the payload, and the request's seq
	 * carried its send time: the reply is not stamped. */
	cr_assert_eq(memcmp(m.payload, "abcd", 4), 0);
	cr_assert_eq(m.flags & RK_MSG_F_STAMPED, 0);
	rk_kernel_profile p;
	for (int t = 0; t < 5000; t++) {
		cr_assert_eq(rk_kernel_profile_get(k, &p), 0, "%s", rk_last_error());
		if (p.messages >= 1000)
			break;
		usleep(1000);
	}
	cr_assert_eq(p.messages, 1000);
	cr_assert_eq(p.stamped, 1000, "every host send carried its send time");
	cr_assert_eq(hist_sum(p.queue_wait_hist), 1000);
	cr_assert_eq(hist_sum(p.handler_hist), 1000);
	cr_assert_eq(hist_sum(p.depth_hist), p.depth_samples);
	cr_assert_geq(p.depth_samples, 1);
	cr_assert_leq(p.depth_samples, 1000);
	cr_assert_geq(p.depth_max, 1);
	cr_assert(p.depth_mean >= 1.0, "a batch found at least the message it took");
	cr_assert_gt(p.queue_wait_p50_ns, 0);
	cr_assert_leq(p.queue_wait_p50_ns, p.queue_wait_p99_ns);
	cr_assert_leq(p.handler_p50_ns, p.handler_p99_ns);
	cr_assert_gt(p.queue_wait_mean_ns, 0);
	/* the mean lies below the top of the highest bucket in use */
	unsigned top = 0;
	for (unsigned b = 0; b < RK_PROFILE_BUCKETS; b++)
		if (p.queue_wait_hist[b])
			top = b;
	cr_assert_lt(p.queue_wait_mean_ns, 2ull << top);
	cr_assert_eq(p.stall_ns, 0, "nothing waited for room");
	rk_runtime_shutdown(rt);
}

/* A full output ring: the kernel's stall is timed. */
Test(profile, output_stall_is_timed)
{
	rk_runtime *rt = rt_profiled(true);
	if (strcmp(rk_runtime_backend_name(rt), "cpu"))
		cr_skip_test("only the CPU backend profiles");
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_output_capacity(&o, 4);
	rk_kernel *k = launch(rt, "echo", &o);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(rk_kernel_send(k, 1, "x", 1, SEC), 0, "%s", rk_last_error());
	usleep(50000); /* the kernel waits for room meanwhile */
	rk_message m;
	for (int i = 0; i < 8; i++)
		cr_assert_eq(rk_kernel_receive(k, &m, 10 * SEC), 0, "%s", rk_last_error());
	rk_kernel_profile p;
	for (int t = 0; t < 5000; t++) {
		cr_assert_eq(rk_kernel_profile_get(k, &p), 0);
		if (p.messages >= 8 && p.stall_ns)
			break;
		usleep(1000);
	}
	cr_assert_eq(p.messages, 8);
	cr_assert_geq(p.stall_ns, 1000000, "the kernel stalled while we slept (%llu ns)",
		      (unsigned long long)p.stall_ns);
	rk_kernel_status st;
	cr_assert_eq(rk_kernel_status_get(k, &st), 0);
	cr_assert_geq(st.stalls, 1);
	rk_runtime_shutdown(rt);
}

/* Off: nothing is measured, messages carry their plain seq, and the call
 * says why there is no profile. */
Test(profile, off_is_enodata)
{
	rk_runtime *rt = rt_profiled(false);
	rk_kernel *k = launch(rt, "echo", NULL);
	rk_message m;
	cr_assert_eq(rk_kernel_call(k, 1, "a", 1, &m, 10 * SEC), 0);
	rk_kernel_profile p;
	memset(&p, 0xff, sizeof(p));
	cr_assert_eq(rk_kernel_profile_get(k, &p), -ENODATA);
	cr_assert_eq(p.messages, 0, "out is cleared");
	cr_assert(strstr(rk_last_error(), "profiling is off"), "%s", rk_last_error());
	cr_assert_eq(rk_kernel_profile_get(NULL, &p), -EINVAL);
	cr_assert_eq(rk_kernel_profile_get(k, NULL), -EINVAL);
	rk_runtime_shutdown(rt);
}

/* A backend whose loop runs on a device says it cannot. */
Test(profile, device_backend_is_enotsup)
{
	rk_runtime *rt = rt_profiled(true);
	if (!strcmp(rk_runtime_backend_name(rt), "cpu"))
		cr_skip_test("the CPU backend profiles (run with RK_TEST_BACKEND=opencl)");
	rk_kernel *k = launch(rt, "echo", NULL);
	rk_kernel_profile p;
	cr_assert_eq(rk_kernel_profile_get(k, &p), -ENOTSUP);
	rk_message m;
	cr_assert_eq(rk_kernel_call(k, 1, "a", 1, &m, 10 * SEC), 0, "it still runs");
	rk_runtime_shutdown(rt);
}

/* rk-top --json shows a profiled kernel's figures, read from shared memory. */
Test(profile, rk_top_json_shows_it)
{
	const char *be = getenv("RK_TEST_BACKEND");
	if (be && *be && strcmp(be, "cpu"))
		cr_skip_test("only the CPU backend profiles");
	if (access("./runtime/rk-top", X_OK) != 0)
		cr_skip_test("no ./runtime/rk-top (run from the build directory)");
	char name[64];
	snprintf(name, sizeof(name), "rkt-prof-%d", (int)getpid());
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b, "cpu");
	rk_runtime_builder_profiling(b, true);
	rk_runtime_builder_name(b, name);
	rk_runtime *rt;
	cr_assert_eq(rk_runtime_builder_build(b, &rt), 0, "%s", rk_last_error());
	rk_kernel *k = launch(rt, "echo", NULL);
	rk_message m;
	for (int i = 0; i < 100; i++)
		cr_assert_eq(rk_kernel_call(k, 1, "q", 1, &m, 10 * SEC), 0);
	rk_kernel_profile p;
	for (int t = 0; t < 5000; t++) {
		cr_assert_eq(rk_kernel_profile_get(k, &p), 0);
		if (p.messages >= 100)
			break;
		usleep(1000);
	}
	char cmd[160], out[8192] = "";
	snprintf(cmd, sizeof(cmd), "./runtime/rk-top --json --runtime %s --interval 10", name);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	cr_assert_eq(pclose(f), 0, "%s", out);
	char want[160];
	snprintf(want, sizeof(want),
		 "\"profile\": {\"messages\": 100, \"queue_wait_p50_ns\": %llu, "
		 "\"queue_wait_p99_ns\": %llu, \"handler_p50_ns\": %llu, \"handler_p99_ns\": %llu",
		 (unsigned long long)p.queue_wait_p50_ns, (unsigned long long)p.queue_wait_p99_ns,
		 (unsigned long long)p.handler_p50_ns, (unsigned long long)p.handler_p99_ns);
	cr_assert(strstr(out, want), "want %s in\n%s", want, out);
	rk_runtime_shutdown(rt);
}

/* SPDX-License-Identifier: MIT */
/* The lifecycle state machine (DESIGN §2), identical for every backend. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "rt_common.h"

enum { A_ACTIVATE, A_DEACTIVATE, A_TERMINATE };

static int act(rk_kernel *k, int a)
{
	switch (a) {
	case A_ACTIVATE: return rk_kernel_activate(k);
	case A_DEACTIVATE: return rk_kernel_deactivate(k);
	default: return rk_kernel_terminate(k);
	}
}

/* Bring a fresh kernel to `s` through legal transitions. */
static rk_kernel *kernel_in(rk_runtime *rt, rk_state s)
{
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_without_auto_activate(&o);
	rk_kernel *k = launch(rt, "echo", &o);
	cr_assert_eq(rk_kernel_state(k), RK_STATE_LAUNCHED);
	switch (s) {
	case RK_STATE_ACTIVE: cr_assert_eq(rk_kernel_activate(k), 0); break;
	case RK_STATE_DEACTIVATED: cr_assert_eq(rk_kernel_deactivate(k), 0); break;
	case RK_STATE_TERMINATED: cr_assert_eq(rk_kernel_terminate(k), 0); break;
	default: break;
	}
	cr_assert_eq(rk_kernel_state(k), s);
	return k;
}

Test(lifecycle, full_table)
{
	/* expected[state][action]: resulting state, or -1 for -EPERM */
	static const int expected[5][3] = {
		[RK_STATE_LAUNCHED] = { RK_STATE_ACTIVE, RK_STATE_DEACTIVATED,
					RK_STATE_TERMINATED },
		[RK_STATE_ACTIVE] = { -1, RK_STATE_DEACTIVATED, RK_STATE_TERMINATED },
		[RK_STATE_DEACTIVATED] = { RK_STATE_ACTIVE, -1, RK_STATE_TERMINATED },
		[RK_STATE_TERMINATED] = { -1, -1, -1 },
	};
	rk_runtime *rt = rt_open();
	for (int s = RK_STATE_LAUNCHED; s <= RK_STATE_TERMINATED; s++) {
		for (int a = A_ACTIVATE; a <= A_TERMINATE; a++) {
			rk_kernel *k = kernel_in(rt, (rk_state)s);
			int ret = act(k, a);
			if (expected[s][a] < 0) {
				cr_assert_eq(ret, -EPERM, "state %s action %d: %d",
					     rk_state_name(s), a, ret);
				cr_assert_eq(rk_kernel_state(k), (rk_state)s, "state changed");
				cr_assert_neq(strlen(rk_last_error()), 0);
			} else {
				cr_assert_eq(ret, 0, "state %s action %d: %s", rk_state_name(s), a,
					     rk_last_error());
				cr_assert_eq(rk_kernel_state(k), (rk_state)expected[s][a]);
			}
			cr_assert_eq(rk_kernel_is_active(k), rk_kernel_state(k) == RK_STATE_ACTIVE);
			if (rk_kernel_state(k) != RK_STATE_TERMINATED)
				cr_assert_eq(rk_kernel_terminate(k), 0);
			rk_kernel_release(k);
		}
	}
	cr_assert_eq(rk_runtime_shutdown(rt), 0);
}

Test(lifecycle, state_names)
{
	cr_assert_str_eq(rk_state_name(RK_STATE_CREATED), "Created");
	cr_assert_str_eq(rk_state_name(RK_STATE_LAUNCHED), "Launched");
	cr_assert_str_eq(rk_state_name(RK_STATE_ACTIVE), "Active");
	cr_assert_str_eq(rk_state_name(RK_STATE_DEACTIVATED), "Deactivated");
	cr_assert_str_eq(rk_state_name(RK_STATE_TERMINATED), "Terminated");
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

/* Messages sent while Launched or Deactivated queue up; nothing is
 * consumed until activation, which drains the backlog in order. */
static void backlog_then_activate(rk_state start)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = kernel_in(rt, start);
	const uint32_t n = 100;
	for (uint32_t i = 0; i < n; i++)
		cr_assert_eq(rk_kernel_try_send(k, 1, &i, sizeof(i)), 0);
	nap_ms(50);
	rk_kernel_status st;
	cr_assert_eq(rk_kernel_status(k, &st), 0);
	cr_assert_eq(st.messages_processed, 0, "a %s kernel consumed", rk_state_name(start));
	cr_assert_eq(st.input_depth, n);
	rk_message m;
	cr_assert_eq(rk_kernel_try_receive(k, &m), -EAGAIN);
	cr_assert_eq(rk_kernel_activate(k), 0);
	for (uint32_t i = 0; i < n; i++) {
		cr_assert_eq(rk_kernel_receive(k, &m, 5 * SEC), 0, "%s", rk_last_error());
		uint32_t v;
		memcpy(&v, m.payload, 4);
		cr_assert_eq(v, i, "backlog out of order");
	}
	st = await_processed(k, n);
	cr_assert_eq(st.messages_processed, n);
	rk_runtime_shutdown(rt);
}

Test(lifecycle, launched_queues_until_activated)
{
	backlog_then_activate(RK_STATE_LAUNCHED);
}

Test(lifecycle, deactivated_consumes_nothing)
{
	backlog_then_activate(RK_STATE_DEACTIVATED);
}

Test(lifecycle, deactivate_after_traffic_stops_consumption)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "counter", NULL);
	rk_message m;
	cr_assert_eq(rk_kernel_call(k, 0, NULL, 0, &m, 5 * SEC), 0);
	cr_assert_eq(rk_kernel_deactivate(k), 0);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(rk_kernel_send(k, 0, NULL, 0, SEC), 0);
	nap_ms(30);
	rk_kernel_status st;
	rk_kernel_status(k, &st);
	cr_assert_eq(st.messages_processed, 1);
	cr_assert_eq(st.input_depth, 10);
	cr_assert_eq(rk_kernel_activate(k), 0);
	uint64_t c = 0;
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(rk_kernel_receive(k, &m, 5 * SEC), 0);
		memcpy(&c, m.payload, 8);
	}
	cr_assert_eq(c, 11, "counter state lost across deactivation");
	rk_runtime_shutdown(rt);
}

Test(lifecycle, send_after_terminate_is_eshutdown)
{
	rk_runtime *rt = rt_open();
	rk_kernel *k = launch(rt, "echo", NULL);
	cr_assert_eq(rk_kernel_terminate(k), 0);
	int x = 1;
	cr_assert_eq(rk_kernel_send(k, 1, &x, 4, SEC), -ESHUTDOWN);
	cr_assert_eq(rk_kernel_try_send(k, 1, &x, 4), -ESHUTDOWN);
	rk_message m;
	cr_assert_eq(rk_kernel_call(k, 1, &x, 4, &m, SEC), -ESHUTDOWN);
	cr_assert_eq(rk_kernel_try_receive(k, &m), -ESHUTDOWN);
	cr_assert_eq(rk_kernel_state(k), RK_STATE_TERMINATED);
	rk_kernel_release(k);
	rk_runtime_shutdown(rt);
}

Test(lifecycle, metrics_count_active_and_launched)
{
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_without_auto_activate(&o);
	rk_kernel *a = launch(rt, "echo", NULL);
	rk_kernel *b = launch(rt, "echo", &o);
	rk_runtime_metrics m;
	cr_assert_eq(rk_runtime_metrics(rt, &m), 0);
	cr_assert_eq(m.active_kernels, 1);
	cr_assert_eq(m.total_launched, 2);
	cr_assert_gt(m.host_memory_bytes, 2 * 2 * 1024 * 256);
	cr_assert_eq(m.device_memory_bytes, 0);
	cr_assert_eq(rk_kernel_activate(b), 0);
	rk_runtime_metrics(rt, &m);
	cr_assert_eq(m.active_kernels, 2);
	cr_assert_eq(rk_kernel_terminate(a), 0);
	rk_runtime_metrics(rt, &m);
	cr_assert_eq(m.active_kernels, 1);
	cr_assert_eq(m.total_launched, 2);
	rk_runtime_shutdown(rt);
}

/* Residency: a launch beyond what the device keeps resident is -EBUSY,
 * never left pending, and the kernels already running keep working. Only
 * the OpenCL backend has a small limit here (PoCL workers, set to 3). */
Test(lifecycle, launch_beyond_residency_is_ebusy, .timeout = 120)
{
	const char *be = getenv("RK_TEST_BACKEND");
	if (!be || strcmp(be, "opencl"))
		cr_skip_test("residency limit tested on opencl (the CPU backend allows 4096)");
	setenv("POCL_MAX_PTHREAD_COUNT", "3", 1);
	rk_runtime *rt = rt_open();
	rk_kernel *k[3];
	for (int i = 0; i < 3; i++)
		k[i] = launch(rt, "echo", NULL);
	rk_kernel *extra = NULL;
	cr_assert_eq(rk_runtime_launch(rt, "echo", NULL, &extra), -EBUSY);
	cr_assert_null(extra);
	cr_assert(strstr(rk_last_error(), "resident"), "%s", rk_last_error());
	for (int i = 0; i < 3; i++) {
		rk_message m;
		cr_assert_eq(rk_kernel_call(k[i], 1, &i, 4, &m, 10 * SEC), 0, "%s",
			     rk_last_error());
		int v;
		memcpy(&v, m.payload, 4);
		cr_assert_eq(v, i);
	}
	/* A slot frees when a kernel terminates. */
	cr_assert_eq(rk_kernel_terminate(k[0]), 0);
	cr_assert_eq(rk_runtime_launch(rt, "echo", NULL, &extra), 0, "%s", rk_last_error());
	rk_runtime_shutdown(rt);
}

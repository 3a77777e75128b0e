/* SPDX-License-Identifier: MIT */
/*
 * A user kernel written once against device.h (examples/kernel/
 * scale_kernel.h, registered by the example's scale_register.c) and
 * run on whichever backend RK_TEST_BACKEND names: on the CPU through the
 * scale_cpu() the header defines here, on OpenCL from the header's source,
 * on CUDA / HIP from the images nvcc / hipcc built from it.
 */
#include <errno.h>
#include <string.h>

#include "rt_common.h"
#include "../examples/kernel/scale_kernel.h"

int scale_register(void); /* examples/kernel/scale_register.c */

static void register_scale(void)
{
	cr_assert_eq(scale_register(), 0, "%s", rk_last_error());
}

static void set_factor(rk_kernel *k, float f, uint64_t want_count)
{
	rk_message m;
	cr_assert_eq(rk_kernel_call(k, SCALE_SET, &f, sizeof(f), &m, 10 * SEC), 0, "%s",
		     rk_last_error());
	uint64_t c;
	cr_assert_eq(m.len, 8);
	memcpy(&c, m.payload, 8);
	cr_assert_eq(c, want_count);
}

/* Request `n` floats; check the count and every product, bit for bit. */
static void check_scaled(rk_kernel *k, float f, uint32_t n, uint64_t want_count)
{
	float v[46], out[46];
	for (uint32_t i = 0; i < n; i++)
		v[i] = (float)(want_count * 131 + i) * 0.37f - 9.5f;
	rk_message m;
	cr_assert_eq(rk_kernel_call(k, 2, v, 4 * n, &m, 10 * SEC), 0, "%s", rk_last_error());
	cr_assert_eq(m.type, 2);
	cr_assert_eq(m.len, 8 + 4 * n);
	uint64_t c;
	memcpy(&c, m.payload, 8);
	cr_assert_eq(c, want_count, "request count %llu, want %llu", (unsigned long long)c,
		     (unsigned long long)want_count);
	memcpy(out, (const uint8_t *)m.payload + 8, 4 * n);
	for (uint32_t i = 0; i < n; i++) {
		float want = f * v[i];
		cr_assert_eq(memcmp(&out[i], &want, 4), 0, "element %u: %a, want %a", i,
			     (double)out[i], (double)want);
	}
}

Test(user_kernel, one_handler_scales_and_keeps_state)
{
	register_scale();
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_kernel *k = launch(rt, "scale", &o);
	set_factor(k, 2.5f, 1);
	uint64_t count = 1;
	/* The default 192-byte payload holds a u64 and 46 floats. */
	for (uint32_t round = 0; round < 100; round++)
		check_scaled(k, 2.5f, round % 47, ++count);
	set_factor(k, -0.125f, ++count);
	check_scaled(k, -0.125f, 46, ++count);
	rk_kernel_status st = await_processed(k, count);
	cr_assert_eq(st.messages_processed, count);
	cr_assert_eq(st.errors, 0);
	cr_assert_eq(rk_kernel_terminate(k), 0);
	rk_runtime_shutdown(rt);
}

Test(user_kernel, state_is_per_kernel)
{
	register_scale();
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_kernel *a = launch(rt, "scale", &o);
	rk_kernel *b = launch(rt, "scale", &o);
	set_factor(a, 3.0f, 1);
	set_factor(b, 0.5f, 1);
	check_scaled(a, 3.0f, 16, 2);
	check_scaled(b, 0.5f, 16, 2);
	check_scaled(a, 3.0f, 1, 3);
	rk_runtime_shutdown(rt);
}

/* A malformed request gets no reply and counts as an error; the kernel,
 * and its state, go on. */
Test(user_kernel, malformed_request_is_counted_and_the_kernel_goes_on)
{
	register_scale();
	rk_runtime *rt = rt_open();
	rk_launch_options o = rk_launch_options_default();
	rk_kernel *k = launch(rt, "scale", &o);
	set_factor(k, 4.0f, 1);
	float two[2] = { 1.0f, 2.0f };
	cr_assert_eq(rk_kernel_send(k, SCALE_SET, two, sizeof(two), 10 * SEC), 0);
	/* 48 floats fill a request, but not a reply with its count */
	float big[48] = { 0 };
	cr_assert_eq(rk_kernel_send(k, 2, big, sizeof(big), 10 * SEC), 0);
	rk_kernel_status st = await_processed(k, 3);
	cr_assert_eq(st.errors, 2);
	rk_message m;
	cr_assert_eq(rk_kernel_try_receive(k, &m), -EAGAIN, "a malformed request was answered");
	check_scaled(k, 4.0f, 8, 2); /* the count skipped both bad requests */
	rk_runtime_shutdown(rt);
}

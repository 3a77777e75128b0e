/* SPDX-License-Identifier: MIT */
/* The OpenCL plugin's probe: usable only where it really is, with reasons. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ringkernel/ringkernel.h>

#include "testutil.h"

static int opencl_info(rk_plugin_info *out)
{
	static rk_plugin_info all[16];
	unsigned n = 0;
	cr_assert_eq(rk_plugins_list(NULL, 0, all, 16, &n), 0);
	for (unsigned i = 0; i < n && i < 16; i++)
		if (!strcmp(all[i].name, "opencl")) {
			*out = all[i];
			return 1;
		}
	return 0;
}

static void need_plugin(void)
{
	rk_plugin_info pi;
	if (!opencl_info(&pi))
		cr_skip_test("rk-plugin-opencl.so not built (no CL/cl.h at configure time)");
}

Test(opencl, no_icd_loader_is_enodev_with_reason)
{
	/* before anything loads the ICD loader in this process */
	setenv("RK_OPENCL_LIB", "/nonexistent/libOpenCL.so.1", 1);
	need_plugin();
	rk_plugin_info pi;
	cr_assert(opencl_info(&pi));
	cr_assert_eq(pi.status, -ENODEV);
	cr_assert(strstr(pi.reason, "no OpenCL ICD loader"), "%s", pi.reason);
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b, "opencl");
	rk_runtime *rt = NULL;
	cr_assert_eq(rk_runtime_builder_build(b, &rt), -ENODEV);
	cr_assert(strstr(rk_last_error(), "ICD loader"), "%s", rk_last_error());
	/* Auto falls back to the CPU. */
	cr_assert_eq(rk_runtime_new(RK_BACKEND_AUTO, &rt), 0, "%s", rk_last_error());
	cr_assert_str_eq(rk_runtime_backend_name(rt), "cpu");
	rk_runtime_shutdown(rt);
}

Test(opencl, no_platform_is_enodev_with_reason)
{
	char dir[] = "/tmp/rk-no-icd-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	setenv("OCL_ICD_VENDORS", dir, 1); /* an ICD directory with no vendor */
	need_plugin();
	rk_plugin_info pi;
	cr_assert(opencl_info(&pi));
	rmdir(dir);
	if (pi.status == 0)
		cr_skip_test("the ICD loader here ignores OCL_ICD_VENDORS");
	cr_assert_eq(pi.status, -ENODEV);
	cr_assert(strstr(pi.reason, "no OpenCL platform"), "%s", pi.reason);
	rk_runtime *rt = NULL;
	cr_assert_eq(rk_runtime_new(RK_BACKEND_AUTO, &rt), 0);
	cr_assert_str_eq(rk_runtime_backend_name(rt), "cpu");
	rk_runtime_shutdown(rt);
}

Test(opencl, usable_device_has_opencl_priority)
{
	need_plugin();
	rk_plugin_info pi;
	cr_assert(opencl_info(&pi));
	if (pi.status != 0)
		cr_skip_test("no usable OpenCL device here: %s", pi.reason);
	cr_assert_eq(pi.priority, RK_PRIORITY_OPENCL);
	cr_assert(pi.loaded);
}

Test(opencl, device_ordinal_out_of_range_is_enodev)
{
	need_plugin();
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b, "opencl");
	rk_runtime_builder_device(b, 99);
	rk_runtime *rt = NULL;
	cr_assert_eq(rk_runtime_builder_build(b, &rt), -ENODEV);
	cr_assert(strstr(rk_last_error(), "device 99"), "%s", rk_last_error());
}

/* K2K routes hold host addresses: a device not seen to dereference them
 * (forced here) refuses kernels with routes, and plain kernels still run. */
Test(opencl, k2k_refused_where_the_device_cannot_use_host_addresses)
{
	setenv("RK_OPENCL_NO_HOST_VA", "1", 1);
	need_plugin();
	rk_plugin_info pi;
	cr_assert(opencl_info(&pi));
	if (pi.status != 0)
		cr_skip_test("no usable OpenCL device here: %s", pi.reason);
	rk_runtime *rt = NULL;
	cr_assert_eq(rk_runtime_new(RK_BACKEND_AUTO, &rt), 0, "%s", rk_last_error());
	cr_assert_str_eq(rk_runtime_backend_name(rt), "opencl");
	rk_launch_options o = rk_launch_options_default();
	rk_launch_options_with_k2k(&o, true);
	rk_kernel *k = NULL;
	cr_assert_eq(rk_runtime_launch(rt, "forward", &o, &k), -ENOTSUP);
	cr_assert_null(k);
	cr_assert(strstr(rk_last_error(), "kernel-to-kernel"), "%s", rk_last_error());
	rk_launch_options_with_k2k(&o, false);
	cr_assert_eq(rk_runtime_launch(rt, "echo", &o, &k), 0, "%s", rk_last_error());
	cr_assert_eq(rk_kernel_state(k), RK_STATE_ACTIVE); /* auto-activated */
	uint32_t v = 0xfeedbeef;
	rk_message m;
	cr_assert_eq(rk_kernel_send(k, 3, &v, sizeof(v), RK_FOREVER), 0);
	cr_assert_eq(rk_kernel_receive(k, &m, 10000000000ull), 0, "%s", rk_last_error());
	cr_assert_eq(m.len, sizeof(v));
	cr_assert_eq(memcmp(m.payload, &v, sizeof(v)), 0);
	cr_assert_eq(m.type, 3);
	rk_runtime_shutdown(rt);
}

/* SPDX-License-Identifier: MIT */
/* The OpenCL plugin's probe: usable only where it really is, with reasons. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ringkernel/plugin.h>
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

/* A user kernel's source is checked and built on first launch; each way it
 * can be wrong is its own clear error, and the runtime goes on. */
static rk_runtime *opencl_runtime(void)
{
	need_plugin();
	rk_plugin_info pi;
	cr_assert(opencl_info(&pi));
	if (pi.status != 0)
		cr_skip_test("no usable OpenCL device here: %s", pi.reason);
	rk_runtime_builder *b = rk_runtime_builder_new();
	rk_runtime_builder_backend_name(b, "opencl");
	rk_runtime *rt = NULL;
	cr_assert_eq(rk_runtime_builder_build(b, &rt), 0, "%s", rk_last_error());
	return rt;
}

static int launch_source(rk_runtime *rt, const char *name, const char *src, const char *entry)
{
	rk_kernel_def def = { .name = name };
	def.device[0].backend = "opencl";
	def.device[0].image = src;
	def.device[0].image_size = strlen(src);
	def.device[0].entry = entry;
	cr_assert_eq(rk_register_kernel(&def), 0, "%s", rk_last_error());
	rk_kernel *k = NULL;
	int ret = rk_runtime_launch(rt, name, NULL, &k);
	if (ret < 0)
		cr_assert_null(k);
	return ret;
}

static const char good_src[] =
	"#define RK_DEV_USER_HANDLER nine\n"
	"  #  include <ringkernel/device.h>\n"
	"RK_DEV_HANDLER(nine) { return rk_dev_reply(k, in, 9, payload, len); }\n"
	"RK_DEV_ENTRY(nine)\n";

Test(opencl, user_source_without_device_h_is_einval)
{
	rk_runtime *rt = opencl_runtime();
	cr_assert_eq(
		launch_source(rt, "noinc", "__kernel void x_persistent(void) {}\n", "x_persistent"),
		-EINVAL);
	cr_assert(strstr(rk_last_error(), "<ringkernel/device.h>"), "%s", rk_last_error());
	rk_runtime_shutdown(rt);
}

Test(opencl, user_source_that_fails_to_build_gives_the_log)
{
	rk_runtime *rt = opencl_runtime();
	const char *bad = "#define RK_DEV_USER_HANDLER h\n"
			  "#include <ringkernel/device.h>\n"
			  "RK_DEV_HANDLER(h) { return no_such_function(k); }\n"
			  "RK_DEV_ENTRY(h)\n";
	cr_assert_eq(launch_source(rt, "broken", bad, "h_persistent"), -EIO);
	cr_assert(strstr(rk_last_error(), "building kernel broken failed"), "%s", rk_last_error());
	cr_assert(strstr(rk_last_error(), "no_such_function"), "no build log: %s", rk_last_error());
	rk_runtime_shutdown(rt);
}

Test(opencl, user_entry_not_in_source_is_enoent)
{
	rk_runtime *rt = opencl_runtime();
	cr_assert_eq(launch_source(rt, "noentry", good_src, "other_persistent"), -ENOENT);
	cr_assert(strstr(rk_last_error(), "other_persistent"), "%s", rk_last_error());
	/* the same source with its real entry runs: the handler's type 9 */
	cr_assert_eq(launch_source(rt, "good", good_src, "nine_persistent"), 0, "%s",
		     rk_last_error());
	rk_runtime_shutdown(rt);
}

Test(opencl, user_kernel_from_source_runs_its_handler)
{
	rk_runtime *rt = opencl_runtime();
	rk_kernel_def def = { .name = "nine" };
	def.device[0].backend = "opencl";
	def.device[0].image = good_src;
	def.device[0].image_size = sizeof(good_src); /* the NUL may be counted */
	def.device[0].entry = "nine_persistent";
	cr_assert_eq(rk_register_kernel(&def), 0, "%s", rk_last_error());
	rk_kernel *k[2];
	for (int i = 0; i < 2; i++) /* the second launch reuses the built program */
		cr_assert_eq(rk_runtime_launch(rt, "nine", NULL, &k[i]), 0, "%s", rk_last_error());
	for (int i = 0; i < 2; i++) {
		uint64_t v = 0x1122334455667788ull + (uint64_t)i;
		rk_message m;
		cr_assert_eq(rk_kernel_call(k[i], 1, &v, 8, &m, 10000000000ull), 0, "%s",
			     rk_last_error());
		cr_assert_eq(m.type, 9);
		cr_assert_eq(m.len, 8);
		cr_assert_eq(memcmp(m.payload, &v, 8), 0);
	}
	rk_runtime_shutdown(rt);
}

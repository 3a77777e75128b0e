/* SPDX-License-Identifier: MIT */
/*
 * The CUDA and HIP plugins on a machine that may have no GPU: each built
 * plugin exports exactly rk_plugin_entry, links no vendor driver, the CUDA
 * plugin embeds SASS for sm_80 and sm_90 and PTX for compute_90, probes say
 * "unavailable" with a reason, an explicit backend fails with -ENODEV and
 * that reason, and Auto picks the CPU.
 */
#include "config.h"

#include "testutil.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <ringkernel/discovery.h>
#include <ringkernel/ringkernel.h>

struct gpu_plugin {
	const char *name;
	const char *so;
	bool built;
	const char *driver; /* what it must not link */
};

static const struct gpu_plugin plugins[] = {
	{ "cuda", RKT_CUDA_SO, RKT_HAVE_CUDA, "libcuda" },
	{ "hip", RKT_HIP_SO, RKT_HAVE_HIP, "libamdhip64" },
};
#define NPLUGINS (sizeof(plugins) / sizeof(plugins[0]))

/* No GPU here: neither driver's device node exists. */
static bool no_gpu_here(void)
{
	return access("/dev/nvidiactl", F_OK) != 0 && access("/dev/kfd", F_OK) != 0;
}

/* Run `cmd`, return its stdout (malloc'd, NUL-terminated). */
static char *run(const char *cmd)
{
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f, "popen %s", cmd);
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	size_t n;
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	cr_assert_eq(pclose(f), 0, "%s failed", cmd);
	return buf;
}

static unsigned char *slurp(const char *path, size_t *len_p)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "open %s", path);
	fseek(f, 0, SEEK_END);
	long len = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc((size_t)len);
	cr_assert_eq(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	*len_p = (size_t)len;
	return buf;
}

Test(gpu_plugins, export_only_the_entry)
{
	const char *all[] = { RKT_CPU_SO, RKT_CUDA_SO, RKT_HIP_SO };
	bool built[] = { true, RKT_HAVE_CUDA, RKT_HAVE_HIP };
	for (unsigned i = 0; i < 3; i++) {
		if (!built[i])
			continue;
		char cmd[4352];
		snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s' | awk '{print $NF}'", all[i]);
		char *out = run(cmd);
		cr_assert_str_eq(out, "rk_plugin_entry\n", "%s exports:\n%s", all[i], out);
		free(out);
	}
}

Test(gpu_plugins, link_no_vendor_driver)
{
	for (unsigned i = 0; i < NPLUGINS; i++) {
		if (!plugins[i].built)
			continue;
		char cmd[4352];
		snprintf(cmd, sizeof(cmd), "readelf -d '%s'", plugins[i].so);
		char *out = run(cmd);
		cr_assert(strstr(out, "NEEDED"), "%s: no dynamic section?\n%s", plugins[i].so, out);
		cr_assert_null(strstr(out, "libcuda"), "%s links libcuda:\n%s", plugins[i].so, out);
		cr_assert_null(strstr(out, "libamdhip64"), "%s links libamdhip64:\n%s",
			       plugins[i].so, out);
		cr_assert_null(strstr(out, "libcudart"), "%s links libcudart:\n%s", plugins[i].so,
			       out);
		free(out);
	}
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const unsigned char *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/*
 * The fatbin embedded in the plugin: header {u32 magic 0xba55ed50, u16
 * version, u16 header size, u64 size of the entries}, then entries {u16
 * kind (1 PTX, 2 ELF/SASS), u16 version, u32 header size, u64 payload
 * size, ..., u32 arch at 28 (80 = sm_80)}. This toolkit has no cuobjdump;
 * the records say what is in it.
 */
Test(gpu_plugins, cuda_image_holds_sm80_sm90_and_ptx)
{
	if (!RKT_HAVE_CUDA)
		cr_skip_test("the CUDA plugin is not built (no nvcc)");
	size_t len;
	unsigned char *so = slurp(RKT_CUDA_SO, &len);
	static const unsigned char magic[] = { 0x50, 0xed, 0x55, 0xba, 0x01, 0x00 };
	unsigned char *fb = memmem(so, len, magic, sizeof(magic));
	cr_assert_not_null(fb, "no fatbin in %s", RKT_CUDA_SO);
	uint32_t hdr = fb[6] | fb[7] << 8;
	uint64_t size = rd64(fb + 8);
	cr_assert(hdr == 16 && (size_t)(fb - so) + hdr + size <= len, "bad fatbin header");
	bool sass80 = false, sass90 = false, ptx90 = false;
	unsigned n = 0;
	for (unsigned char *e = fb + hdr; e < fb + hdr + size; n++) {
		uint16_t kind = (uint16_t)(e[0] | e[1] << 8);
		uint32_t ehdr = rd32(e + 4);
		uint64_t payload = rd64(e + 8);
		uint32_t arch = rd32(e + 28);
		cr_assert(ehdr >= 32 && n < 64, "bad fatbin entry %u", n);
		if (kind == 2 && arch == 80)
			sass80 = true;
		if (kind == 2 && arch == 90)
			sass90 = true;
		if (kind == 1 && arch == 90)
			ptx90 = true;
		e += ehdr + payload;
	}
	cr_assert(sass80, "no sm_80 SASS in the embedded image");
	cr_assert(sass90, "no sm_90 SASS in the embedded image");
	cr_assert(ptx90, "no compute_90 PTX in the embedded image");
	/* ptxas's own record of the target, what cuobjdump would print. */
	cr_assert_not_null(memmem(so, len, "-arch sm_90", 11), "no \"-arch sm_90\" record");
	free(so);
}

Test(gpu_plugins, probes_report_unavailable_with_a_reason)
{
	rk_plugin_info info[16];
	unsigned n = 0;
	cr_assert_eq(rk_plugins_list(NULL, 0, info, 16, &n), 0, "%s", rk_last_error());
	for (unsigned i = 0; i < NPLUGINS; i++) {
		const rk_plugin_info *pi = NULL;
		for (unsigned j = 0; j < n && j < 16; j++)
			if (!strcmp(info[j].name, plugins[i].name) && !info[j].shadowed)
				pi = &info[j];
		if (!plugins[i].built) {
			cr_assert_null(pi, "%s listed but not built", plugins[i].name);
			continue;
		}
		cr_assert_not_null(pi, "%s plugin built but not found", plugins[i].name);
		cr_assert(pi->loaded, "%s did not load: %s", plugins[i].name, pi->reason);
		if (no_gpu_here()) {
			cr_assert_eq(pi->status, -ENODEV, "%s: %d %s", plugins[i].name, pi->status,
				     pi->reason);
			cr_assert(strlen(pi->reason) > 8, "%s: no reason", plugins[i].name);
			fprintf(stderr, "%s: unavailable: %s\n", plugins[i].name, pi->reason);
		}
	}
}

Test(gpu_plugins, explicit_backend_fails_with_the_reason)
{
	if (!no_gpu_here())
		cr_skip_test("a GPU driver is present");
	unsetenv("RK_BACKEND");
	for (unsigned i = 0; i < NPLUGINS; i++) {
		if (!plugins[i].built)
			continue;
		rk_runtime_builder *b = rk_runtime_builder_new();
		rk_runtime_builder_backend_name(b, plugins[i].name);
		rk_runtime *rt = NULL;
		cr_assert_eq(rk_runtime_builder_build(b, &rt), -ENODEV, "%s: %s", plugins[i].name,
			     rk_last_error());
		cr_assert_null(rt);
		const char *e = rk_last_error();
		cr_assert(strstr(e, "no device") || strstr(e, "cannot open shared object") ||
				  strstr(e, "too old") || strstr(e, "no CUDA driver") ||
				  strstr(e, "no HIP runtime"),
			  "%s: reason not passed on: %s", plugins[i].name, e);
	}
}

/* Without a GPU, Auto falls to the host backends: OpenCL (150) where a
 * zero-copy OpenCL device is usable, else the CPU (100). */
Test(gpu_plugins, auto_skips_gpus_without_a_gpu)
{
	if (!no_gpu_here())
		cr_skip_test("a GPU driver is present");
	unsetenv("RK_BACKEND");
	rk_runtime *rt = NULL;
	cr_assert_eq(rk_runtime_new(RK_BACKEND_AUTO, &rt), 0, "%s", rk_last_error());
	const char *be = rk_runtime_backend_name(rt);
	cr_assert(!strcmp(be, "cpu") || !strcmp(be, "opencl"), "Auto picked %s", be);
	rk_runtime_shutdown(rt);
}

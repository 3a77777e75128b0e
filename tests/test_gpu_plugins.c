/* SPDX-License-Identifier: MIT */
/*
 * The CUDA and HIP plugins on a machine that may have no GPU: each built
 * plugin exports exactly rk_plugin_entry, links no vendor driver, the CUDA
 * plugin embeds SASS for sm_80 and sm_90 and PTX for compute_90, probes say
 * "unavailable" with a reason, an explicit backend fails with -ENODEV and
 * that reason, and Auto picks the CPU.
 *
 * The host side both plugins share (plugins/gpu_host.c) is tested here for
 * real over rk-plugin-fakegpu, whose "device" is host threads behaving as
 * a GPU does where it matters (tests/gpu/fake_gpu.c): the caller's device
 * is restored, residency is the least of occupancy and hardware queues,
 * memory stays registered while a launch may still start, unregistering
 * waits (HIP) until no kernel runs, and a trap is -EIO with its reason.
 * The CUDA probe meets a stand-in libcuda.so.1 (tests/gpu/fake_libcuda.c).
 */
#include "config.h"

#include "testutil.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>

#include <ringkernel/discovery.h>
#include <ringkernel/plugin.h>
#include <ringkernel/ring.h>
#include <ringkernel/ringkernel.h>

#include "../plugins/gpu_host.h"
#include "gpu/fake_gpu.h"

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

/* ---- the toolkit's minimum driver, and the probe's other refusals ----------- */

/* rk-info with the stand-in libcuda.so.1 first on the library path. */
static char *rk_info_with_fake_cuda(const char *env)
{
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "env RK_PLUGIN_PATH='%s' LD_LIBRARY_PATH='%s' %s '%s' 2>&1",
		 RKT_PLUGIN_DIR, RKT_FAKECUDA_DIR, env, RKT_RK_INFO);
	FILE *f = popen(cmd, "r");
	cr_assert_not_null(f);
	char *buf = calloc(1, 65536);
	size_t len = fread(buf, 1, 65535, f);
	buf[len] = '\0';
	pclose(f);
	return buf;
}

Test(cuda_probe, a_driver_older_than_the_toolkit_is_refused_with_both_versions)
{
	if (!RKT_HAVE_CUDA)
		cr_skip_test("the CUDA plugin is not built (no nvcc)");
	cr_assert_geq(RKT_CUDA_TOOLKIT_VERSION, 12000, "configure read no nvcc version");
	/* One major version below the toolkit: a 550 driver under nvcc 13. */
	int old = RKT_CUDA_TOOLKIT_VERSION / 1000 * 1000 - 1000 + 40;
	char env[64], want[160];
	snprintf(env, sizeof(env), "RKT_FAKECUDA_VERSION=%d", old);
	char *out = rk_info_with_fake_cuda(env);
	snprintf(want, sizeof(want),
		 "CUDA driver %d.%d (%d) is older than the toolkit that built this plugin needs "
		 "(%d",
		 old / 1000, old % 1000 / 10, old, RKT_CUDA_TOOLKIT_VERSION / 1000 * 1000);
	cr_assert_not_null(strstr(out, want), "want \"%s\" in:\n%s", want, out);
	cr_assert_not_null(strstr(out, "unavailable -ENODEV"), "%s", out);
	free(out);
}

Test(cuda_probe, the_toolkits_driver_and_an_sm90_device_are_usable)
{
	if (!RKT_HAVE_CUDA)
		cr_skip_test("the CUDA plugin is not built (no nvcc)");
	char env[64];
	snprintf(env, sizeof(env), "RKT_FAKECUDA_VERSION=%d", RKT_CUDA_TOOLKIT_VERSION);
	char *out = rk_info_with_fake_cuda(env);
	const char *row = strstr(out, "\ncuda ");
	cr_assert_not_null(row, "%s", out);
	cr_assert(strstr(row, " 300  usable ") &&
			  strstr(row, " 300  usable ") < strchr(row + 1, '\n'),
		  "%s", out);
	free(out);
}

Test(cuda_probe, a_display_watchdog_is_refused)
{
	if (!RKT_HAVE_CUDA)
		cr_skip_test("the CUDA plugin is not built (no nvcc)");
	char *out = rk_info_with_fake_cuda("RKT_FAKECUDA_WATCHDOG=1");
	cr_assert_not_null(strstr(out, "kernel execution timeout"), "%s", out);
	free(out);
}

/* ---- HIP: which ISAs the bundle covers ------------------------------------ */

Test(hip_isa, the_embedded_bundle_holds_the_local_mk_targets)
{
	if (!RKT_HAVE_HIP)
		cr_skip_test("the HIP plugin is not built (no hipcc)");
	size_t len;
	unsigned char *so = slurp(RKT_HIP_SO, &len);
	/* The magic also appears as gpu_host.c's string constant: the bundle
	 * is the occurrence that parses and names targets. */
	char got[512] = "";
	for (unsigned char *b = so; !*got;) {
		b = memmem(b, len - (size_t)(b - so), "__CLANG_OFFLOAD_BUNDLE__", 24);
		cr_assert_not_null(b, "no offload bundle in %s", RKT_HIP_SO);
		gpu_bundle_targets(b, len - (size_t)(b - so), got, sizeof(got));
		b++;
	}
	/* Each target of plugins/hip/local.mk, and no other. */
	char want[512];
	snprintf(want, sizeof(want), "%s", RKT_HIP_TARGETS);
	unsigned nwant = 0, ngot = 1;
	for (char *t = strtok(want, " "); t; t = strtok(NULL, " "), nwant++)
		cr_assert(gpu_isa_in(t, got), "%s missing from the bundle (%s)", t, got);
	for (const char *p = got; *p; p++)
		ngot += *p == ' ';
	cr_assert_eq(ngot, nwant, "bundle holds \"%s\", local.mk \"%s\"", got, RKT_HIP_TARGETS);
	free(so);
}

Test(hip_isa, a_device_is_matched_by_processor_and_features)
{
	const char *t = "gfx900 gfx906 gfx908 gfx90a gfx1030";
	cr_assert(gpu_isa_in("gfx90a:sramecc+:xnack-", t), "MI210/MI250");
	cr_assert(gpu_isa_in("gfx1030", t));
	cr_assert_not(gpu_isa_in("gfx942:sramecc+:xnack-", t), "MI300 has no code object");
	cr_assert_not(gpu_isa_in("gfx1100", t), "RDNA3 has no code object");
	cr_assert_not(gpu_isa_in("gfx90", t), "a prefix is not a match");
	/* A code object built for a feature runs only where the device has it. */
	cr_assert(gpu_isa_in("gfx90a:sramecc+:xnack+", "gfx90a:xnack+"));
	cr_assert_not(gpu_isa_in("gfx90a:sramecc+:xnack-", "gfx90a:xnack+"));
}

Test(hip_isa, bundle_ids_of_both_formats_are_read)
{
	/* Two entries: the host and "hip-amdgcn-amd-amdhsa-gfx906" (pre-v4 id). */
	unsigned char img[256] = "__CLANG_OFFLOAD_BUNDLE__";
	size_t off = 32;
	img[24] = 2;
	const char *ids[] = { "host-x86_64-unknown-linux", "hip-amdgcn-amd-amdhsa-gfx906" };
	for (int i = 0; i < 2; i++) {
		size_t l = strlen(ids[i]);
		img[off + 16] = (unsigned char)l;
		memcpy(img + off + 24, ids[i], l);
		off += 24 + l;
	}
	char got[64];
	cr_assert_eq(gpu_bundle_targets(img, off, got, sizeof(got)), 0);
	cr_assert_str_eq(got, "gfx906");
	cr_assert_eq(gpu_bundle_targets(img, off - 1, got, sizeof(got)), -EINVAL, "truncated");
	cr_assert_eq(gpu_bundle_targets("not a bundle", 13, got, sizeof(got)), -EINVAL);
}

/* ---- the GPU host over the fake GPU --------------------------------------- */

static struct {
	void *dl;
	const struct rk_plugin_ops *ops;
	struct rkt_fakegpu *st;
	int (*current)(void);
	void (*set_current)(int);
	void *ctx;
} fg;

/* Kernels a test leaves to the plugin's care (kept reachable for LSan). */
static void *fg_kept[16];
static unsigned fg_nkept;

/* Load the fake GPU plugin; `setup` sets its knobs before open. */
static void fg_open(void (*setup)(struct rkt_fakegpu *))
{
	fg.dl = dlopen(RKT_FAKEGPU_SO, RTLD_NOW | RTLD_LOCAL);
	cr_assert_not_null(fg.dl, "%s", dlerror());
	rk_plugin_entry_fn entry = (rk_plugin_entry_fn)dlsym(fg.dl, RK_PLUGIN_ENTRY);
	fg.st = dlsym(fg.dl, "rkt_fakegpu_state");
	*(void **)&fg.current = dlsym(fg.dl, "rkt_fakegpu_current");
	*(void **)&fg.set_current = dlsym(fg.dl, "rkt_fakegpu_set_current");
	cr_assert(entry && fg.st && fg.current && fg.set_current);
	fg.ops = entry()->ops;
	fg.st->configured = 1;
	fg.st->hw_queues = 0;
	fg.st->report_hw = 0;
	fg.st->sms = 4;
	fg.st->occ_builtin = 2;
	fg.st->occ_user = 1;
	if (setup)
		setup(fg.st);
	cr_assert_eq(fg.ops->open(0, &fg.ctx), 0, "%s", rk_last_error());
}

/* One kernel's region (control block, rings, state) and descriptor, laid
 * out as the core does. */
struct fk {
	rk_region *region;
	struct rk_ring in, out;
	struct rk_launch_desc d;
	void *pk; /* the plugin's kernel */
};

static void fk_make(struct fk *k, uint64_t id, uint32_t kind)
{
	memset(k, 0, sizeof(*k));
	size_t sz[4] = { sizeof(struct rk_ctrl), 0, 0, 64 };
	uint32_t kinds[4] = { RK_SECT_CTRL, RK_SECT_RING, RK_SECT_RING, RK_SECT_STATE };
	uint64_t off[4];
	cr_assert_eq(rk_ring_mem_size(16, 128, &sz[1]), 0);
	sz[2] = sz[1];
	cr_assert_eq(rk_region_create(NULL, rk_region_size_for(sz, 4), 0, &k->region), 0);
	for (unsigned i = 0; i < 4; i++)
		cr_assert_eq(rk_region_alloc(k->region, kinds[i], i, sz[i], &off[i]), 0);
	uint8_t *base = rk_region_base(k->region);
	struct rk_ctrl *c = (struct rk_ctrl *)(base + off[0]);
	cr_assert_eq(rk_ring_init(&k->in, base + off[1], sz[1], 16, 128, RK_RING_MP), 0);
	cr_assert_eq(rk_ring_init(&k->out, base + off[2], sz[2], 16, 128, 0), 0);
	c->desired = RK_CTRL_LAUNCHED;
	c->kind = kind;
	c->kernel_id = id;
	c->in_ring = 1;
	c->out_ring = 2;
	c->state_size = 64;
	c->max_payload = 64;
	c->observed = 0xffffffffu;
	k->d = (struct rk_launch_desc){ .struct_size = sizeof(k->d),
					.kernel_id = id,
					.kernel_name = "t",
					.kind = kind,
					.grid = 1,
					.block = 32,
					.region = k->region,
					.ctrl = c,
					.in = k->in.hdr,
					.in_size = sz[1],
					.out = k->out.hdr,
					.out_size = sz[2],
					.state = base + off[3],
					.state_size = 64,
					.max_payload = 64 };
	if (kind == RK_KIND_USER) {
		k->d.device_image = "FAKE user image";
		k->d.device_entry = "user_persistent";
	}
}

static int fk_launch(struct fk *k)
{
	rk_clear_error();
	return fg.ops->launch(fg.ctx, &k->d, &k->pk);
}

/* Until the loop mirrors Launched: the kernel is resident. */
static void fk_await_running(struct fk *k)
{
	for (int i = 0; i < 5000 &&
			__atomic_load_n(&k->d.ctrl->observed, __ATOMIC_ACQUIRE) != RK_CTRL_LAUNCHED;
	     i++)
		usleep(1000);
	cr_assert_eq(k->d.ctrl->observed, RK_CTRL_LAUNCHED, "kernel %llu never ran",
		     (unsigned long long)k->d.kernel_id);
}

static int fk_terminate(struct fk *k, uint64_t timeout_ns)
{
	__atomic_store_n(&k->d.ctrl->desired, RK_CTRL_TERMINATE, __ATOMIC_SEQ_CST);
	fg.ops->signal(fg.ctx, k->pk);
	rk_clear_error();
	return fg.ops->terminate(fg.ctx, k->pk, timeout_ns);
}

static void fk_stop(struct fk *k)
{
	cr_assert_eq(fk_terminate(k, 5000000000ull), 0, "%s", rk_last_error());
	fg.ops->release(fg.ctx, k->pk);
	k->pk = NULL;
}

static uint32_t fg_residency(void)
{
	uint32_t max = 0;
	cr_assert_eq(fg.ops->residency(fg.ctx, 32, &max), 0, "%s", rk_last_error());
	return max;
}

Test(gpu_host, every_op_restores_the_callers_device)
{
	fg_open(NULL);
	fg.set_current(7); /* the application's own device */
	struct fk k;
	fk_make(&k, 1, RK_KIND_ECHO);
	fg_residency();
	cr_assert_eq(fg.current(), 7);
	cr_assert_eq(fk_launch(&k), 0, "%s", rk_last_error());
	cr_assert_eq(fg.current(), 7, "launch left device %d current", fg.current());
	fk_await_running(&k);
	fg.ops->poll(fg.ctx, k.pk);
	cr_assert_eq(fg.current(), 7);
	fk_stop(&k);
	cr_assert_eq(fg.current(), 7, "terminate/release left device %d", fg.current());
	fg.ops->close(fg.ctx);
	cr_assert_eq(fg.current(), 7);
	cr_assert_gt(fg.st->enters, 4);
	cr_assert_eq(fg.st->unbracketed, 0, "driver calls without the device current");
	cr_assert_eq(fg.st->registered, fg.st->unregistered, "registrations left behind");
	cr_assert_eq(fg.st->closed, 1);
	rk_region_close(k.region);
}

static void hw3(struct rkt_fakegpu *s)
{
	s->hw_queues = 3;
	s->report_hw = 1;
}

Test(gpu_host, residency_is_the_least_of_occupancy_and_hardware_queues)
{
	fg_open(hw3);
	/* occupancy: 2 per SM x 4 SMs = 8; the queues: 3 */
	cr_assert_eq(fg_residency(), 3);
	struct fk k[4];
	for (unsigned i = 0; i < 3; i++) {
		fk_make(&k[i], i + 1, RK_KIND_ECHO);
		cr_assert_eq(fk_launch(&k[i]), 0, "%s", rk_last_error());
	}
	fk_make(&k[3], 4, RK_KIND_ECHO);
	cr_assert_eq(fk_launch(&k[3]), -EBUSY);
	cr_assert_not_null(strstr(rk_last_error(), "3 hardware queues"), "%s", rk_last_error());
	cr_assert_not_null(strstr(rk_last_error(), "3 are resident"), "%s", rk_last_error());
	for (unsigned i = 0; i < 3; i++) {
		fk_await_running(&k[i]);
		fk_stop(&k[i]);
	}
	cr_assert_eq(fk_launch(&k[3]), 0, "a slot is free again: %s", rk_last_error());
	fk_await_running(&k[3]);
	fk_stop(&k[3]);
	fg.ops->close(fg.ctx);
	for (unsigned i = 0; i < 4; i++)
		rk_region_close(k[i].region);
}

Test(gpu_host, residency_is_computed_for_the_function_launched)
{
	fg_open(NULL); /* built-in: 2 per SM x 4 = 8; user function: 1 per SM x 4 = 4 */
	cr_assert_eq(fg_residency(), 8);
	struct fk k[5];
	for (unsigned i = 0; i < 4; i++) {
		fk_make(&k[i], i + 1, RK_KIND_USER);
		cr_assert_eq(fk_launch(&k[i]), 0, "%s", rk_last_error());
	}
	fk_make(&k[4], 5, RK_KIND_USER);
	cr_assert_eq(fk_launch(&k[4]), -EBUSY);
	cr_assert_not_null(strstr(rk_last_error(), "occupancy: 1 blocks of 32 lanes"), "%s",
			   rk_last_error());
	cr_assert_eq(fg.st->modules_loaded, 2, "the user image is loaded once (and the built-in)");
	for (unsigned i = 0; i < 4; i++) {
		fk_await_running(&k[i]);
		fk_stop(&k[i]);
	}
	fg.ops->close(fg.ctx);
	cr_assert_eq(fg.st->modules_unloaded, 2);
	for (unsigned i = 0; i < 5; i++)
		rk_region_close(k[i].region);
}

static void hidden_queue(struct rkt_fakegpu *s)
{
	s->hw_queues = 1; /* and the plugin does not know it */
}

Test(gpu_host, a_launch_that_never_started_keeps_its_memory)
{
	fg_open(hidden_queue);
	struct fk a, b;
	fk_make(&a, 1, RK_KIND_ECHO);
	fk_make(&b, 2, RK_KIND_ECHO);
	cr_assert_eq(fk_launch(&a), 0, "%s", rk_last_error());
	fk_await_running(&a);
	cr_assert_eq(fk_launch(&b), 0, "%s", rk_last_error()); /* queued behind a, for good */
	usleep(100000);
	cr_assert_eq(b.d.ctrl->observed, 0xffffffffu, "b ran on a busy queue");
	cr_assert_eq(fk_terminate(&b, 100000000ull), -ETIMEDOUT);
	cr_assert_not_null(strstr(rk_last_error(), "never started"), "%s", rk_last_error());
	unsigned unreg = fg.st->unregistered;
	fg.ops->release(fg.ctx, b.pk); /* kept: the launch may still start */
	fg_kept[fg_nkept++] = b.pk;
	cr_assert_eq(fg.st->unregistered, unreg, "b's region was unregistered");
	cr_assert_eq(fg.st->destroyed_while_busy, 0);
	/* It does start once a is gone, finds its memory and Terminate, and stops. */
	fk_stop(&a);
	for (int i = 0; i < 5000 && !__atomic_load_n(&b.d.ctrl->terminated, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	cr_assert_eq(b.d.ctrl->terminated, 1, "the queued launch never ran");
	cr_assert_eq(fg.st->unbracketed, 0);
	/* Its launch has completed now: close frees it and its memory. */
	fg.ops->close(fg.ctx);
	cr_assert_eq(fg.st->closed, 1);
	cr_assert_eq(fg.st->registered, fg.st->unregistered);
	rk_region_close(a.region);
	rk_region_close(b.region);
}

Test(gpu_host, close_keeps_the_context_of_a_kernel_still_queued)
{
	fg_open(hidden_queue);
	static struct fk a, b; /* still in use when the test ends */
	fk_make(&a, 1, RK_KIND_ECHO);
	fk_make(&b, 2, RK_KIND_ECHO);
	cr_assert_eq(fk_launch(&a), 0, "%s", rk_last_error());
	fk_await_running(&a);
	cr_assert_eq(fk_launch(&b), 0, "%s", rk_last_error());
	cr_assert_eq(fk_terminate(&b, 50000000ull), -ETIMEDOUT);
	fg.ops->release(fg.ctx, b.pk);
	fg_kept[fg_nkept++] = b.pk;
	/* a still runs (never told to stop): b stays queued behind it, and
	 * the context with them. */
	fg.ops->close(fg.ctx);
	cr_assert_eq(fg.st->closed, 0, "the context was dropped under a queued launch");
	cr_assert_eq(fg.st->modules_unloaded, 0);
	/* Let both finish before the process ends. */
	__atomic_store_n(&a.d.ctrl->desired, RK_CTRL_TERMINATE, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 5000 && !__atomic_load_n(&b.d.ctrl->terminated, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	cr_assert_eq(b.d.ctrl->terminated, 1);
}

static void hip_like(struct rkt_fakegpu *s)
{
	s->unregister_waits = 1;
}

Test(gpu_host, unregistering_waits_until_no_kernel_is_resident)
{
	fg_open(hip_like);
	struct fk a, b, c;
	fk_make(&a, 1, RK_KIND_ECHO);
	fk_make(&b, 2, RK_KIND_ECHO);
	cr_assert_eq(fk_launch(&a), 0, "%s", rk_last_error());
	cr_assert_eq(fk_launch(&b), 0, "%s", rk_last_error());
	fk_await_running(&a);
	fk_await_running(&b);
	fk_stop(&a); /* b still runs: a's region must stay registered */
	cr_assert_eq(fg.st->unregistered, 0);
	cr_assert_eq(fg.st->unregistered_while_busy, 0);
	/* The core may hand the same memory to a new kernel: that is refused
	 * while it is still registered, with the reason. */
	c = a;
	c.d.kernel_id = 3;
	c.d.ctrl->observed = 0xffffffffu;
	c.d.ctrl->terminated = 0;
	c.d.ctrl->desired = RK_CTRL_LAUNCHED;
	cr_assert_eq(fk_launch(&c), -EBUSY);
	cr_assert_not_null(strstr(rk_last_error(), "still registered"), "%s", rk_last_error());
	fk_stop(&b); /* the last one: everything deferred is unregistered now */
	cr_assert_eq(fg.st->unregistered, 2);
	cr_assert_eq(fg.st->unregistered_while_busy, 0, "an unregister waited on a kernel");
	cr_assert_eq(fk_launch(&c), 0, "%s", rk_last_error());
	fk_await_running(&c);
	fk_stop(&c);
	fg.ops->close(fg.ctx);
	cr_assert_eq(fg.st->registered, fg.st->unregistered);
	cr_assert_eq(fg.st->unregistered_while_busy, 0);
	rk_region_close(a.region);
	rk_region_close(b.region);
}

Test(gpu_host, a_trapped_kernel_is_eio_with_the_drivers_reason)
{
	fg_open(NULL);
	struct fk k;
	fk_make(&k, 1, RK_KIND_ECHO);
	cr_assert_eq(fk_launch(&k), 0, "%s", rk_last_error());
	fk_await_running(&k);
	cr_assert_eq(fg.ops->kernel_error(fg.ctx, k.pk), 0);
	__atomic_store_n(&fg.st->trap, 1, __ATOMIC_SEQ_CST);
	/* The bell thread notices by itself, within milliseconds. */
	int err = 0;
	for (int i = 0; i < 2000 && (err = fg.ops->kernel_error(fg.ctx, k.pk)) == 0; i++)
		usleep(1000);
	cr_assert_eq(err, -EIO);
	uint64_t t0 = rk_sys_now_ns();
	cr_assert_eq(fk_terminate(&k, 10000000000ull), -EIO);
	cr_assert_lt(rk_sys_now_ns() - t0, 1000000000ull, "terminate waited for its timeout");
	cr_assert_not_null(strstr(rk_last_error(), "kernel 1 trapped: unspecified launch failure"),
			   "%s", rk_last_error());
	/* A dead kernel's launch has completed: its memory can go. */
	fg.ops->release(fg.ctx, k.pk);
	cr_assert_eq(fg.st->registered, fg.st->unregistered);
	fg.ops->close(fg.ctx);
	rk_region_close(k.region);
}

Test(gpu_host, a_failed_launch_gives_back_its_slot_and_memory)
{
	fg_open(NULL);
	struct fk a, twin;
	fk_make(&a, 1, RK_KIND_ECHO);
	cr_assert_eq(fk_launch(&a), 0, "%s", rk_last_error());
	uint32_t max = fg_residency();
	twin = a; /* the same region: registering it again fails */
	twin.d.kernel_id = 2;
	cr_assert_eq(fk_launch(&twin), -EEXIST);
	cr_assert_not_null(strstr(rk_last_error(), "registering the kernel's region"), "%s",
			   rk_last_error());
	cr_assert_eq(fg_residency(), max, "the failed launch kept its slot");
	struct fk u;
	fk_make(&u, 3, RK_KIND_USER);
	u.d.device_image = "not an image of this device";
	cr_assert_eq(fk_launch(&u), -ENOTSUP);
	cr_assert_not_null(strstr(rk_last_error(), "no kernel image is available"), "%s",
			   rk_last_error());
	fk_await_running(&a);
	fk_stop(&a);
	fg.ops->close(fg.ctx);
	cr_assert_eq(fg.st->registered, fg.st->unregistered);
	cr_assert_eq(fg.st->unbracketed, 0);
	rk_region_close(a.region);
	rk_region_close(u.region);
}

Test(gpu_host, env_numbers_fall_back_to_the_default)
{
	setenv("RKT_N", "6", 1);
	cr_assert_eq(gpu_env_long("RKT_N", 4, 1, 1024), 6);
	setenv("RKT_N", "0", 1);
	cr_assert_eq(gpu_env_long("RKT_N", 4, 1, 1024), 4);
	setenv("RKT_N", "4x", 1);
	cr_assert_eq(gpu_env_long("RKT_N", 4, 1, 1024), 4);
	unsetenv("RKT_N");
	cr_assert_eq(gpu_env_long("RKT_N", 8, 1, 128), 8);
}

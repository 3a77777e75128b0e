/* SPDX-License-Identifier: MIT */
/*
 * rk-plugin-opencl: the portable loop of ringkernel/device.h compiled as
 * OpenCL C 1.2 by the device's own compiler and run as a persistent
 * work-group over the kernel's shared-memory region, in place.
 *
 * libOpenCL.so.1 is dlopen'ed at probe time, never linked. A device is
 * usable when a buffer made with CL_MEM_USE_HOST_PTR over host memory maps
 * back to that very memory (zero copy: the persistent kernel and the host
 * then see each other's writes); that is checked, not assumed. PoCL's CPU
 * device is such a device, and the one CI runs.
 *
 * Residency: each persistent kernel holds one device worker for its whole
 * life. PoCL runs one worker per core by default, so on two cores a third
 * kernel would never start: the plugin raises POCL_MAX_PTHREAD_COUNT (when
 * the user has not set it) before the platform starts, and refuses a
 * launch beyond the device's worker count with -EBUSY.
 *
 * User kernels: the rk_kernel_def's "opencl" image is the handler's
 * OpenCL C source, written against device.h (RK_DEV_HANDLER, RK_DEV_ENTRY:
 * the same file the CPU build compiles), built on first launch and kept
 * for the runtime's life.
 *
 * The device cannot make a futex syscall: a host thread per kernel rings
 * the bells (plugins/gpu_host.h).
 *
 * K2K routes hold host virtual addresses, and a sending kernel writes
 * straight into the receiver's region, which is another buffer. That is
 * allowed only where the device was seen, when the runtime opened, to
 * dereference host addresses (the rk_where kernel: the device address of
 * a zero-copy buffer is its host address, and a store through the host
 * address of a second buffer lands). PoCL's CPU device passes; a device
 * that does not gets -ENOTSUP for kernels with routes.
 */
#include "config.h"

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <ringkernel/plugin.h>

#include "../gpu_host.h"

extern const unsigned char rk_opencl_headers[]; /* layout.h + device.h */
extern const size_t rk_opencl_headers_size;
extern const unsigned char rk_opencl_kernel[]; /* kernel.cl */
extern const size_t rk_opencl_kernel_size;

#define RK_OCL_WORKERS "16" /* PoCL workers we ask for: resident kernels */

#define CL_FUNCS(X)                  \
	X(clGetPlatformIDs)          \
	X(clGetDeviceIDs)            \
	X(clGetDeviceInfo)           \
	X(clGetPlatformInfo)         \
	X(clCreateContext)           \
	X(clReleaseContext)          \
	X(clCreateCommandQueue)      \
	X(clReleaseCommandQueue)     \
	X(clCreateBuffer)            \
	X(clReleaseMemObject)        \
	X(clEnqueueMapBuffer)        \
	X(clEnqueueUnmapMemObject)   \
	X(clCreateProgramWithSource) \
	X(clBuildProgram)            \
	X(clGetProgramBuildInfo)     \
	X(clReleaseProgram)          \
	X(clCreateKernel)            \
	X(clReleaseKernel)           \
	X(clSetKernelArg)            \
	X(clEnqueueNDRangeKernel)    \
	X(clFlush)                   \
	X(clFinish)

static struct {
	void *dl;
#define X(f) __typeof__(f) *f;
	CL_FUNCS(X)
#undef X
} cl;

static pthread_mutex_t cl_lock = PTHREAD_MUTEX_INITIALIZER;

static int load_cl(char *why, size_t len)
{
	int ret = 0;
	pthread_mutex_lock(&cl_lock);
	if (cl.dl)
		goto out;
	/* Workers must be raised before the platform starts. */
	setenv("POCL_MAX_PTHREAD_COUNT", RK_OCL_WORKERS, 0);
	/* secure_getenv: a set-uid program never dlopens what its caller names. */
	const char *lib = secure_getenv("RK_OPENCL_LIB");
	void *dl = dlopen(lib && *lib ? lib : "libOpenCL.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		snprintf(why, len, "no OpenCL ICD loader: %s", dlerror());
		ret = -ENODEV;
		goto out;
	}
#define X(f)                                                      \
	if (!(cl.f = (__typeof__(f) *)dlsym(dl, #f))) {           \
		snprintf(why, len, "OpenCL loader lacks %s", #f); \
		dlclose(dl);                                      \
		ret = -ENODEV;                                    \
		goto out;                                         \
	}
	CL_FUNCS(X)
#undef X
	cl.dl = dl;
out:
	pthread_mutex_unlock(&cl_lock);
	return ret;
}

/* Zero copy, checked: a USE_HOST_PTR buffer must map back to our memory. */
static int zero_copy(cl_context ctx, cl_device_id dev)
{
	size_t sz = 4096;
	void *mem = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 0;
	cl_int err;
	int ok = 0;
	cl_command_queue q = cl.clCreateCommandQueue(ctx, dev, 0, &err);
	cl_mem buf = cl.clCreateBuffer(ctx, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, sz, mem, &err);
	if (q && buf) {
		void *p = cl.clEnqueueMapBuffer(q, buf, CL_TRUE, CL_MAP_READ | CL_MAP_WRITE, 0, sz,
						0, NULL, NULL, &err);
		ok = err == CL_SUCCESS && p == mem;
		if (p)
			cl.clEnqueueUnmapMemObject(q, buf, p, 0, NULL, NULL);
		cl.clFinish(q);
	}
	if (buf)
		cl.clReleaseMemObject(buf);
	if (q)
		cl.clReleaseCommandQueue(q);
	munmap(mem, sz);
	return ok;
}

/* The `ordinal`-th device of every platform, in order. */
static int find_device(int ordinal, cl_device_id *dev_p, char *why, size_t len)
{
	cl_platform_id plats[8];
	cl_uint np = 0;
	if (cl.clGetPlatformIDs(8, plats, &np) != CL_SUCCESS || np == 0) {
		snprintf(why, len, "no OpenCL platform (no ICD installed?)");
		return -ENODEV;
	}
	int seen = 0;
	for (cl_uint i = 0; i < np; i++) {
		cl_device_id devs[16];
		cl_uint nd = 0;
		if (cl.clGetDeviceIDs(plats[i], CL_DEVICE_TYPE_ALL, 16, devs, &nd) != CL_SUCCESS)
			continue;
		for (cl_uint j = 0; j < nd; j++) {
			if (seen++ == ordinal) {
				*dev_p = devs[j];
				return 0;
			}
		}
	}
	snprintf(why, len, "no OpenCL device %d (%d found)", ordinal, seen);
	return -ENODEV;
}

static int check_device(cl_device_id dev, char *why, size_t len)
{
	char name[128] = "";
	cl_bool unified = CL_FALSE;
	cl.clGetDeviceInfo(dev, CL_DEVICE_NAME, sizeof(name), name, NULL);
	cl.clGetDeviceInfo(dev, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof(unified), &unified, NULL);
	if (!unified) {
		snprintf(why, len,
			 "%s: no host-unified memory (needs fine-grain SVM: not supported yet)",
			 name);
		return -ENODEV;
	}
	cl_int err;
	cl_context ctx = cl.clCreateContext(NULL, 1, &dev, NULL, NULL, &err);
	if (!ctx) {
		snprintf(why, len, "%s: clCreateContext failed (%d)", name, err);
		return -ENODEV;
	}
	int ok = zero_copy(ctx, dev);
	cl.clReleaseContext(ctx);
	if (!ok) {
		snprintf(why, len, "%s: CL_MEM_USE_HOST_PTR is not zero-copy", name);
		return -ENODEV;
	}
	snprintf(why, len, "%s, zero-copy host memory", name);
	return 0;
}

static int ocl_probe(int device, int *priority, char *why, size_t why_len)
{
	cl_device_id dev;
	int ret = load_cl(why, why_len);
	if (ret < 0)
		return ret;
	if ((ret = find_device(device, &dev, why, why_len)) < 0)
		return ret;
	if ((ret = check_device(dev, why, why_len)) < 0)
		return ret;
	*priority = RK_PRIORITY_OPENCL;
	return 0;
}

#define RK_OCL_USER_PROGRAMS 16 /* user kernel sources built per runtime */

struct ocl_ctx {
	cl_device_id dev;
	cl_context ctx;
	cl_program prog; /* the built-ins */
	uint32_t workers;
	int host_va; /* the device dereferences host addresses: K2K allowed */
	pthread_mutex_t lock;
	struct {
		const void *image; /* the rk_kernel_def's source, by identity */
		size_t size;
		cl_program prog;
	} user[RK_OCL_USER_PROGRAMS];
};

/* Build `n` strings as one program; on failure, the build log in the error. */
static int build(struct ocl_ctx *c, cl_uint n, const char **src, const size_t *len,
		 const char *what, cl_program *prog_p)
{
	cl_int err;
	cl_program prog = cl.clCreateProgramWithSource(c->ctx, n, src, len, &err);
	if (prog)
		err = cl.clBuildProgram(prog, 1, &c->dev, "-cl-std=CL1.2", NULL, NULL);
	if (err != CL_SUCCESS) {
		char log[1024] = "";
		if (prog) {
			cl.clGetProgramBuildInfo(prog, c->dev, CL_PROGRAM_BUILD_LOG,
						 sizeof(log) - 1, log, NULL);
			cl.clReleaseProgram(prog);
		}
		return rk_error(-EIO, "opencl: building %s failed (%d): %s", what, err, log);
	}
	*prog_p = prog;
	return 0;
}

/*
 * A user kernel's image is OpenCL C source written against device.h: its
 * `#include <ringkernel/device.h>` line is replaced by the headers the
 * plugin carries (the device compiler has no include path to them), and a
 * #line keeps the build log's line numbers those of the user's file.
 */
static int build_user(struct ocl_ctx *c, const struct rk_launch_desc *d, cl_program *prog_p)
{
	const char *img = d->device_image;
	size_t size = strnlen(img, d->device_image_size);
	pthread_mutex_lock(&c->lock);
	unsigned i, slot = RK_OCL_USER_PROGRAMS;
	for (i = 0; i < RK_OCL_USER_PROGRAMS; i++) {
		if (c->user[i].prog && c->user[i].image == img && c->user[i].size == size) {
			*prog_p = c->user[i].prog;
			pthread_mutex_unlock(&c->lock);
			return 0;
		}
		if (!c->user[i].prog && slot == RK_OCL_USER_PROGRAMS)
			slot = i;
	}
	int ret;
	if (slot == RK_OCL_USER_PROGRAMS) {
		ret = rk_error(-ENOSPC, "opencl: more than %d user kernel sources in one runtime",
			       RK_OCL_USER_PROGRAMS);
		goto out;
	}
	/* Find the include line: '#', spaces, "include", spaces, the header. */
	const char *line = img, *end = img + size, *hit = NULL;
	unsigned lineno = 1;
	while (line < end) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		const char *q = line;
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (q < eol && *q == '#') {
			q++;
			while (q < eol && (*q == ' ' || *q == '\t'))
				q++;
			static const char inc[] = "include", hdr[] = "<ringkernel/device.h>";
			if ((size_t)(eol - q) >= sizeof(inc) - 1 &&
			    !memcmp(q, inc, sizeof(inc) - 1)) {
				q += sizeof(inc) - 1;
				while (q < eol && (*q == ' ' || *q == '\t'))
					q++;
				if ((size_t)(eol - q) >= sizeof(hdr) - 1 &&
				    !memcmp(q, hdr, sizeof(hdr) - 1)) {
					hit = line;
					break;
				}
			}
		}
		line = eol + 1;
		lineno++;
	}
	if (!hit) {
		ret = rk_error(-EINVAL,
			       "opencl: the source of kernel %s does not #include "
			       "<ringkernel/device.h>",
			       d->kernel_name);
		goto out;
	}
	const char *rest = memchr(hit, '\n', (size_t)(end - hit));
	rest = rest ? rest + 1 : end;
	char lineinfo[32];
	snprintf(lineinfo, sizeof(lineinfo), "\n#line %u\n", lineno + 1);
	const char *src[] = { img, (const char *)rk_opencl_headers, lineinfo, rest };
	size_t len[] = { (size_t)(hit - img), rk_opencl_headers_size, strlen(lineinfo),
			 (size_t)(end - rest) };
	char what[128];
	snprintf(what, sizeof(what), "kernel %s", d->kernel_name);
	if ((ret = build(c, 4, src, len, what, &c->user[slot].prog)) < 0)
		goto out;
	c->user[slot].image = img;
	c->user[slot].size = size;
	*prog_p = c->user[slot].prog;
out:
	pthread_mutex_unlock(&c->lock);
	return ret;
}

/* 1 when the device runs in the host's address space (see the top). */
static int host_va_check(struct ocl_ctx *c)
{
	size_t sz = 4096;
	uint64_t *mem =
		mmap(NULL, 2 * sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 0;
	uint64_t *other = mem + sz / sizeof(*mem);
	cl_int err;
	int ok = 0;
	cl_command_queue q = cl.clCreateCommandQueue(c->ctx, c->dev, 0, &err);
	cl_mem a =
		cl.clCreateBuffer(c->ctx, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, sz, mem, &err);
	cl_mem b =
		cl.clCreateBuffer(c->ctx, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, sz, other, &err);
	cl_kernel kern = cl.clCreateKernel(c->prog, "rk_where", &err);
	if (q && a && b && kern) {
		cl_ulong host = (cl_ulong)(uintptr_t)mem, oth = (cl_ulong)(uintptr_t)other;
		size_t one = 1;
		err = cl.clSetKernelArg(kern, 0, sizeof(cl_mem), &a);
		if (err == CL_SUCCESS)
			err = cl.clSetKernelArg(kern, 1, sizeof(cl_ulong), &host);
		if (err == CL_SUCCESS)
			err = cl.clSetKernelArg(kern, 2, sizeof(cl_ulong), &oth);
		if (err == CL_SUCCESS)
			err = cl.clEnqueueNDRangeKernel(q, kern, 1, NULL, &one, &one, 0, NULL,
							NULL);
		if (err == CL_SUCCESS && cl.clFinish(q) == CL_SUCCESS)
			ok = __atomic_load_n(&mem[0], __ATOMIC_ACQUIRE) == host &&
			     __atomic_load_n(&other[0], __ATOMIC_ACQUIRE) == (host ^ oth);
	}
	if (kern)
		cl.clReleaseKernel(kern);
	if (b)
		cl.clReleaseMemObject(b);
	if (a)
		cl.clReleaseMemObject(a);
	if (q)
		cl.clReleaseCommandQueue(q);
	munmap(mem, 2 * sz);
	return ok;
}

static int ocl_open(int device, void **ctx_p)
{
	char why[256];
	int ret = load_cl(why, sizeof(why));
	if (ret < 0)
		return rk_error(ret, "opencl: %s", why);
	struct ocl_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return rk_error(-ENOMEM, "opencl: out of memory");
	if ((ret = find_device(device, &c->dev, why, sizeof(why))) < 0) {
		free(c);
		return rk_error(ret, "opencl: %s", why);
	}
	cl_int err;
	c->ctx = cl.clCreateContext(NULL, 1, &c->dev, NULL, NULL, &err);
	if (!c->ctx) {
		free(c);
		return rk_error(-EIO, "opencl: clCreateContext: error %d", err);
	}
	/* Built once per runtime, from the very source the CPU plugin runs. */
	const char *src[] = { (const char *)rk_opencl_headers, (const char *)rk_opencl_kernel };
	size_t len[] = { rk_opencl_headers_size, rk_opencl_kernel_size };
	if ((ret = build(c, 2, src, len, "the built-in kernels", &c->prog)) < 0) {
		cl.clReleaseContext(c->ctx);
		free(c);
		return ret;
	}
	pthread_mutex_init(&c->lock, NULL);
	/* PoCL: one worker per persistent kernel; other drivers: compute units. */
	cl_uint cu = 1;
	cl.clGetDeviceInfo(c->dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof(cu), &cu, NULL);
	const char *pc = getenv("POCL_MAX_PTHREAD_COUNT");
	c->workers = pc && atoi(pc) > 0 ? (uint32_t)atoi(pc) : cu;
	const char *nva = getenv("RK_OPENCL_NO_HOST_VA"); /* tests: the refusal path */
	c->host_va = !(nva && *nva && strcmp(nva, "0") != 0) && host_va_check(c);
	*ctx_p = c;
	return 0;
}

static void ocl_close(void *ctx)
{
	struct ocl_ctx *c = ctx;
	for (unsigned i = 0; i < RK_OCL_USER_PROGRAMS; i++)
		if (c->user[i].prog)
			cl.clReleaseProgram(c->user[i].prog);
	pthread_mutex_destroy(&c->lock);
	cl.clReleaseProgram(c->prog);
	cl.clReleaseContext(c->ctx);
	free(c);
}

static int ocl_residency(void *ctx, uint32_t block, uint32_t *max_p)
{
	(void)block;
	*max_p = ((struct ocl_ctx *)ctx)->workers;
	return 0;
}

struct ocl_kernel {
	cl_command_queue q;
	cl_mem buf;
	cl_kernel kern;
	struct rk_ctrl *ctrl;
	struct gpu_bells bells;
};

static void ocl_free(struct ocl_kernel *k)
{
	if (k->kern)
		cl.clReleaseKernel(k->kern);
	if (k->buf)
		cl.clReleaseMemObject(k->buf);
	if (k->q)
		cl.clReleaseCommandQueue(k->q);
	free(k);
}

static int ocl_launch(void *ctx, const struct rk_launch_desc *d, void **kernel_p)
{
	struct ocl_ctx *c = ctx;
	int ret = gpu_check_desc("opencl", d, c->host_va);
	if (ret < 0)
		return ret;
	cl_program prog = c->prog;
	const char *entry = "rk_persistent";
	if (d->kind == RK_KIND_USER) {
		if (!d->device_image || !d->device_image_size || !d->device_entry)
			return rk_error(-ENOENT, "opencl: kernel %s has no OpenCL source and entry",
					d->kernel_name);
		if ((ret = build_user(c, d, &prog)) < 0)
			return ret;
		entry = d->device_entry;
	}
	struct ocl_kernel *k = calloc(1, sizeof(*k));
	if (!k)
		return rk_error(-ENOMEM, "opencl: out of memory");
	uint8_t *base = rk_region_base(d->region);
	size_t size = rk_region_size(d->region);
	cl_int err;
	/* One queue per kernel: persistent kernels run side by side. */
	k->q = cl.clCreateCommandQueue(c->ctx, c->dev, 0, &err);
	if (k->q)
		k->buf = cl.clCreateBuffer(c->ctx, CL_MEM_READ_WRITE | CL_MEM_USE_HOST_PTR, size,
					   base, &err);
	if (k->buf) {
		k->kern = cl.clCreateKernel(prog, entry, &err);
		if (err == CL_INVALID_KERNEL_NAME) {
			ocl_free(k);
			return rk_error(-ENOENT, "opencl: kernel %s: no __kernel %s in its source",
					d->kernel_name, entry);
		}
	}
	if (!k->kern) {
		ocl_free(k);
		return rk_error(-EIO, "opencl: setting up the kernel failed (%d)", err);
	}
	cl_ulong off[4] = {
		(cl_ulong)((uint8_t *)d->ctrl - base),
		(cl_ulong)((uint8_t *)d->in - base),
		(cl_ulong)((uint8_t *)d->out - base),
		(cl_ulong)((uint8_t *)d->state - base),
	};
	cl_uint state_size = d->state_size;
	err = cl.clSetKernelArg(k->kern, 0, sizeof(cl_mem), &k->buf);
	for (cl_uint i = 0; i < 4 && err == CL_SUCCESS; i++)
		err = cl.clSetKernelArg(k->kern, i + 1, sizeof(cl_ulong), &off[i]);
	if (err == CL_SUCCESS)
		err = cl.clSetKernelArg(k->kern, 5, sizeof(cl_uint), &state_size);
	/* The private route table by host address (host_va: checked at open). */
	cl_ulong k2k = (cl_ulong)(uintptr_t)d->k2k;
	if (err == CL_SUCCESS)
		err = cl.clSetKernelArg(k->kern, 6, sizeof(cl_ulong), &k2k);
	size_t one = 1;
	if (err == CL_SUCCESS)
		err = cl.clEnqueueNDRangeKernel(k->q, k->kern, 1, NULL, &one, &one, 0, NULL, NULL);
	if (err == CL_SUCCESS)
		err = cl.clFlush(k->q);
	if (err != CL_SUCCESS) {
		ocl_free(k);
		return rk_error(-EIO, "opencl: launching the kernel failed (%d)", err);
	}
	k->ctrl = d->ctrl;
	if ((ret = gpu_bells_start(&k->bells, d->in, d->out, d->k2k)) < 0) {
		/* The kernel runs: stop it before freeing what it uses. */
		__atomic_store_n(&d->ctrl->desired, RK_CTRL_TERMINATE, __ATOMIC_SEQ_CST);
		cl.clFinish(k->q);
		ocl_free(k);
		return rk_error(ret, "opencl: bell thread: %s", strerror(-ret));
	}
	*kernel_p = k;
	return 0;
}

/* The device polls its control block; nothing to kick. */
static void ocl_signal(void *ctx, void *kernel)
{
	(void)ctx;
	(void)kernel;
}

static int ocl_terminate(void *ctx, void *kernel, uint64_t timeout_ns)
{
	(void)ctx;
	struct ocl_kernel *k = kernel;
	int ret = gpu_wait_terminated("opencl", k->ctrl, timeout_ns);
	if (ret < 0)
		return ret;
	cl.clFinish(k->q);
	return 0;
}

static void ocl_release(void *ctx, void *kernel)
{
	(void)ctx;
	struct ocl_kernel *k = kernel;
	gpu_bells_stop(&k->bells);
	ocl_free(k);
}

static const struct rk_plugin_ops ocl_ops = {
	.struct_size = sizeof(struct rk_plugin_ops),
	.probe = ocl_probe,
	.open = ocl_open,
	.close = ocl_close,
	.residency = ocl_residency,
	.launch = ocl_launch,
	.signal = ocl_signal,
	.poll = NULL,
	.terminate = ocl_terminate,
	.release = ocl_release,
};

static const struct rk_plugin ocl_plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "opencl",
	.version = PACKAGE_VERSION,
	.ops = &ocl_ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &ocl_plugin;
}

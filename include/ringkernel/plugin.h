/* SPDX-License-Identifier: MIT */
/*
 * ringkernel/plugin.h - the plugin SDK: everything an out-of-tree backend
 * needs. A plugin is a shared object named rk-plugin-NAME.so exporting one
 * symbol, rk_plugin_entry(), which returns a struct rk_plugin.
 *
 * Versioning (libfabric-style): the struct begins with abi_major, abi_minor
 * and struct_size. The loader refuses another major, and reads a member
 * (or an op) only when struct_size shows it is there. New members are only
 * ever added at the end, with a minor bump.
 *
 * The core owns the lifecycle: it validates every transition before it
 * writes the control block's `desired` field and calls ops->signal(); a
 * plugin only makes its kernel observe the control block.
 */
#ifndef RINGKERNEL_PLUGIN_H
#define RINGKERNEL_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include <ringkernel/layout.h>
#include <ringkernel/error.h>
#include <ringkernel/msg.h>
#include <ringkernel/region.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RK_PLUGIN_ABI_MAJOR 1u
#define RK_PLUGIN_ABI_MINOR 1u
#define RK_PLUGIN_ENTRY	    "rk_plugin_entry"

/* Default probe priorities; RK_BACKEND overrides them. */
#define RK_PRIORITY_CUDA   300
#define RK_PRIORITY_HIP	   200
#define RK_PRIORITY_OPENCL 150
#define RK_PRIORITY_CPU	   100

typedef struct rk_ctx rk_ctx;
typedef int (*rk_cpu_handler)(rk_ctx *ctx, const rk_message *in);

/* Set this thread's error detail (rk_last_error()); returns `err` so an op
 * can `return rk_error(-EINVAL, ...)`. SDK only: the library and its
 * plugins call it, an application never needs to. */
int rk_error(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Everything the core hands a plugin to launch one kernel. The rings,
 * control block and state all live in `region`; the host pointers below
 * point into the core's mapping of it. */
struct rk_launch_desc {
	size_t struct_size;
	uint64_t kernel_id;
	const char *kernel_name;
	uint32_t kind; /* RK_KIND_* */
	uint32_t grid, block;
	rk_region *region;
	struct rk_ctrl *ctrl;
	struct rk_ring_hdr *in; /* host -> kernel */
	size_t in_size;
	struct rk_ring_hdr *out; /* kernel -> host */
	size_t out_size;
	void *state; /* per-kernel scratch, persists across messages */
	uint32_t state_size;
	uint32_t max_payload;
	/* RK_KIND_USER: the implementation for this backend */
	rk_cpu_handler cpu_handler;
	const void *device_image; /* fatbin / code object / OpenCL source */
	size_t device_image_size;
	const char *device_entry;
	/* K2K: the kernel's private route table (struct rk_k2k, page-aligned,
	 * k2k_size bytes, in the host's private memory, never in the region),
	 * or NULL without K2K. The loop gets it through rk_dev_init(); a device
	 * backend maps it for the device the way it maps the region. */
	struct rk_k2k *k2k;
	size_t k2k_size;
};

struct rk_plugin_ops {
	size_t struct_size;
	/* 0 when usable on `device`, with *priority set; else a negative errno
	 * and a human reason in `why` ("no CUDA driver: libcuda.so.1 not found"). */
	int (*probe)(int device, int *priority, char *why, size_t why_len);
	/* Per-runtime context. */
	int (*open)(int device, void **ctx_p);
	void (*close)(void *ctx);
	/* How many persistent kernels of `block` lanes can be resident at once. */
	int (*residency)(void *ctx, uint32_t block, uint32_t *max_kernels_p);
	/* Launch: the kernel becomes resident and observes its control block.
	 * A launch the device cannot keep resident is -EBUSY, never pending. */
	int (*launch)(void *ctx, const struct rk_launch_desc *d, void **kernel_p);
	/* The core changed ctrl->desired (or queued input): make the kernel see it. */
	void (*signal)(void *ctx, void *kernel);
	/* Progress for backends that cannot wake a host futex themselves. */
	void (*poll)(void *ctx, void *kernel);
	/* ctrl->desired is TERMINATE: wait for ctrl->terminated, up to
	 * timeout_ns; -ETIMEDOUT if the kernel does not stop. */
	int (*terminate)(void *ctx, void *kernel, uint64_t timeout_ns);
	/* Free what launch() made; the kernel has terminated. */
	void (*release)(void *ctx, void *kernel);
	/* Optional. 0 while the kernel can run; once its device reported an
	 * error (a trap, an illegal address) a negative errno, -EIO, with
	 * the reason in rk_last_error(). Cheap and callable from any thread:
	 * the plugin watches the kernel itself. */
	int (*kernel_error)(void *ctx, void *kernel);
};

struct rk_plugin {
	uint32_t abi_major;
	uint32_t abi_minor;
	size_t struct_size;
	const char *name; /* must match the file: rk-plugin-NAME.so */
	const char *version;
	const struct rk_plugin_ops *ops;
	/* ABI 1.1: RK_LAYOUT_VERSION as the plugin was built. Its kernels
	 * read the library's rings and control blocks in place, so the
	 * loader refuses (-EPROTO) another layout, and a plugin too old to
	 * say (ABI 1.0: layout 3 or older). */
	uint32_t layout_version;
};

typedef const struct rk_plugin *(*rk_plugin_entry_fn)(void);

/* The one symbol a plugin exports. */
const struct rk_plugin *rk_plugin_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* RINGKERNEL_PLUGIN_H */

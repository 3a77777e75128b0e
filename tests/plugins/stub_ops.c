/* SPDX-License-Identifier: MIT */
/*
 * The ops every test-only plugin starts from: a backend that loads, says it
 * is usable at priority 10, and can run nothing. Each plugin #includes this
 * file (it is not compiled on its own) and builds its ops table with
 * RKT_OPS(), changing the one thing its test is about.
 *
 * The table must be a constant: the loader may call rk_plugin_entry() from
 * several threads at once (two runtimes built together), so an entry that
 * fills in a static table on each call is a data race, and TSan says so.
 */
#include <errno.h>
#include <stddef.h>

#include <ringkernel/plugin.h>

#define RKT_UNUSED __attribute__((unused))

RKT_UNUSED static int stub_probe(int device, int *priority, char *why, size_t why_len)
{
	*priority = 10;
	return 0;
}

RKT_UNUSED static int stub_open(int device, void **ctx_p)
{
	*ctx_p = NULL;
	return 0;
}

static void stub_close(void *ctx) {}

RKT_UNUSED static int stub_launch(void *ctx, const struct rk_launch_desc *d, void **kernel_p)
{
	return -ENOSYS;
}

static void stub_signal(void *ctx, void *kernel) {}

static int stub_terminate(void *ctx, void *kernel, uint64_t timeout_ns)
{
	return 0;
}

static void stub_release(void *ctx, void *kernel) {}

/* An ops table of `size` bytes (as its struct_size says) with these probe
 * and launch ops, every other mandatory op a stub. */
#define RKT_OPS(size, probe_fn, launch_fn)                                         \
	{                                                                          \
		.struct_size = (size), .probe = (probe_fn), .open = stub_open,     \
		.close = stub_close, .launch = (launch_fn), .signal = stub_signal, \
		.terminate = stub_terminate, .release = stub_release,              \
	}
#define RKT_STUB_OPS RKT_OPS(sizeof(struct rk_plugin_ops), stub_probe, stub_launch)

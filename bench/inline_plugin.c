/* SPDX-License-Identifier: MIT */
/*
 * rk-plugin-inline: a bench-only backend that runs the portable loop of
 * device.h on the caller's thread. It starts no thread: every poll() runs
 * one turn of every kernel. The runtime polls a backend that has poll()
 * whenever a receive (or a send on a full ring) finds nothing to do, so
 * one thread drives send -> turn -> receive deterministically: what
 * bench/instr.sh counts with callgrind. Never picked by Auto (priority 1);
 * not installed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ringkernel/plugin.h>

#include <ringkernel/device.h>

struct inline_kernel {
	struct rk_dev_kernel k;
	int done;
};

static int inline_probe(int device, int *priority, char *why, size_t why_len)
{
	if (device != 0) {
		snprintf(why, why_len, "one device, 0 (asked for %d)", device);
		return -ENODEV;
	}
	*priority = 1;
	snprintf(why, why_len, "the loop on the caller's thread (bench only)");
	return 0;
}

static int inline_open(int device, void **ctx_p)
{
	(void)device;
	*ctx_p = NULL;
	return 0;
}

static void inline_close(void *ctx)
{
	(void)ctx;
}

static int inline_launch(void *ctx, const struct rk_launch_desc *d, void **kernel_p)
{
	(void)ctx;
	if (d->struct_size < sizeof(*d))
		return rk_error(-EINVAL, "inline: launch descriptor too old");
	if (d->kind == RK_KIND_USER)
		return rk_error(-ENOENT, "inline: built-in kernels only");
	struct inline_kernel *ik = calloc(1, sizeof(*ik));
	if (!ik)
		return rk_error(-ENOMEM, "inline: out of memory");
	rk_dev_init(&ik->k, d->ctrl, d->in, d->out, d->state, d->state_size, d->k2k);
	*kernel_p = ik;
	return 0;
}

static void inline_signal(void *ctx, void *kernel)
{
	(void)ctx;
	(void)kernel;
}

/* One turn of the loop. */
static void inline_poll(void *ctx, void *kernel)
{
	(void)ctx;
	struct inline_kernel *ik = kernel;
	if (!ik->done && rk_dev_turn(&ik->k) == RK_TURN_TERMINATE) {
		rk_dev_exit(&ik->k);
		ik->done = 1;
	}
}

static int inline_terminate(void *ctx, void *kernel, uint64_t timeout_ns)
{
	(void)timeout_ns;
	struct inline_kernel *ik = kernel;
	while (!ik->done)
		inline_poll(ctx, kernel);
	return 0;
}

static void inline_release(void *ctx, void *kernel)
{
	(void)ctx;
	free(kernel);
}

static const struct rk_plugin_ops inline_ops = {
	.struct_size = sizeof(struct rk_plugin_ops),
	.probe = inline_probe,
	.open = inline_open,
	.close = inline_close,
	.launch = inline_launch,
	.signal = inline_signal,
	.poll = inline_poll,
	.terminate = inline_terminate,
	.release = inline_release,
};

static const struct rk_plugin inline_plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "inline",
	.version = PACKAGE_VERSION,
	.ops = &inline_ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &inline_plugin;
}

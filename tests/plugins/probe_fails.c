/* SPDX-License-Identifier: MIT */
/* Test-only plugin: loads cleanly, but its probe says the device is not
 * there, with a reason (as the CUDA plugin does on a machine without a GPU).
 * Listed as unavailable (-ENODEV), never picked, and its reason is what
 * rk_last_error() says when it is asked for by name. */
#include <errno.h>
#include <stdio.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

#define PROBEFAIL_WHY "no test device: simulated probe failure"

static int probefail_probe(int device, int *priority, char *why, size_t why_len)
{
	snprintf(why, why_len, "%s (device %d)", PROBEFAIL_WHY, device);
	return -ENODEV;
}

static const struct rk_plugin_ops ops =
	RKT_OPS(sizeof(struct rk_plugin_ops), probefail_probe, stub_launch);

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "probefail",
	.version = "1.0.0",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

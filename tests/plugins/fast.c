/* SPDX-License-Identifier: MIT */
/* Test-only plugin: usable, priority 1000: above every real backend (CUDA
 * is 300), so Auto must pick it over anything else on the path. */
#include <stddef.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

static int fast_probe(int device, int *priority, char *why, size_t why_len)
{
	*priority = 1000;
	return 0;
}

static const struct rk_plugin_ops ops =
	RKT_OPS(sizeof(struct rk_plugin_ops), fast_probe, stub_launch);

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "fast",
	.version = "1.2.3",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

/* SPDX-License-Identifier: MIT */
/* Test-only plugin: usable, priority 50: below CPU. Auto must pass it over for
 * "fast", and pick it when RK_BACKEND=slow asks for it. */
#include <stddef.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

static int slow_probe(int device, int *priority, char *why, size_t why_len)
{
	*priority = 50;
	return 0;
}

static const struct rk_plugin_ops ops =
	RKT_OPS(sizeof(struct rk_plugin_ops), slow_probe, stub_launch);

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "slow",
	.version = "0.9.0",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

/* SPDX-License-Identifier: MIT */
/* Test-only plugin: an ops table whose struct_size ends before launch (as
 * from a plugin SDK too old to know it). Refused (-EPROTO): the ops past
 * struct_size are not there to call. */
#include <stddef.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

static const struct rk_plugin_ops ops =
	RKT_OPS(offsetof(struct rk_plugin_ops, launch), stub_probe, stub_launch);

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "short_ops",
	.version = "1.0.0",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

/* SPDX-License-Identifier: MIT */
/* Test-only plugin: struct_size stops before name, version and ops.
 * The loader must refuse it (-EPROTO) from struct_size alone: the members
 * past it may not exist, so reading them could fault. */
#include <stddef.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

static const struct rk_plugin_ops ops = RKT_STUB_OPS;

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = offsetof(struct rk_plugin, name),
	.name = "short_struct",
	.version = "1.0.0",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

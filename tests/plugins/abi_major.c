/* SPDX-License-Identifier: MIT */
/* Test-only plugin: built for ABI major RK_PLUGIN_ABI_MAJOR + 1. The loader must
 * refuse it (-EPROTO) reading nothing past the version header, whose layout
 * another major is free to change. */
#include <stddef.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

static const struct rk_plugin_ops ops = RKT_STUB_OPS;

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR + 1,
	.abi_minor = 0,
	.struct_size = sizeof(struct rk_plugin),
	.name = "abi",
	.version = "2.0.0",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

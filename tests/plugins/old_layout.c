/* SPDX-License-Identifier: MIT */
/* Test-only plugin built for another memory layout (RK_OLD_ABI: an ABI 1.0
 * plugin, whose struct ends at ops and says no layout at all). The loader
 * must refuse it (-EPROTO): its kernels would read our rings wrongly. */
#include <stddef.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

static const struct rk_plugin_ops ops = RKT_STUB_OPS;

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
#ifdef RK_OLD_ABI
	.abi_minor = 0,
	.struct_size = offsetof(struct rk_plugin, layout_version),
	.name = "old_abi",
#else
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "old_layout",
#endif
	.version = "1.0.0",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION - 1,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

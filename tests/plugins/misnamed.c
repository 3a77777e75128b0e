/* SPDX-License-Identifier: MIT */
/* Test-only plugin: installed as rk-plugin-misnamed.so, but calls itself
 * "impostor". Refused (-EINVAL): RK_BACKEND=NAME must load the plugin
 * that file name promises, nothing else. */
#include <stddef.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

static const struct rk_plugin_ops ops = RKT_STUB_OPS;

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "impostor",
	.version = "1.0.0",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

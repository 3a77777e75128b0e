/* SPDX-License-Identifier: MIT */
/* Test-only plugin: a correct header, but its ops table leaves the
 * mandatory launch op NULL. Refused (-ENOEXEC) at load, not at the first
 * rk_runtime_launch(). */
#include <stddef.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

static const struct rk_plugin_ops ops = RKT_OPS(sizeof(struct rk_plugin_ops), stub_probe, NULL);

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "missing_op",
	.version = "1.0.0",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

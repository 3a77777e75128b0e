/* SPDX-License-Identifier: MIT */
/* Test-only plugin: its probe never returns, as a driver waiting on a
 * device that will not answer. rk-info gives up on it after its timeout,
 * kills the child that ran it, and says so. */
#include <unistd.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

__attribute__((noreturn)) static int hang_probe(int device, int *priority, char *why,
						size_t why_len)
{
	for (;;)
		pause();
}

static const struct rk_plugin_ops ops =
	RKT_OPS(sizeof(struct rk_plugin_ops), hang_probe, stub_launch);

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "hangs",
	.version = "1.0.0",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

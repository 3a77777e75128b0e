/* SPDX-License-Identifier: MIT */
/* Test-only plugin: its probe calls exit(3), as a driver that gives up on
 * an unsupported machine by ending the process would. A program that asked
 * for another backend never runs this probe, and rk-info reports the exit
 * instead of ending with it. */
#include <stdlib.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

static int exit_probe(int device, int *priority, char *why, size_t why_len)
{
	exit(3);
}

static const struct rk_plugin_ops ops =
	RKT_OPS(sizeof(struct rk_plugin_ops), exit_probe, stub_launch);

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "exits",
	.version = "1.0.0",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

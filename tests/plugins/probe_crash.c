/* SPDX-License-Identifier: MIT */
/* Test-only plugin: loads cleanly, and its probe dies of SIGSEGV, as a
 * vendor driver that faults on a machine it does not expect would. A
 * program that asked for another backend never runs this probe, and
 * rk-info reports it as crashed instead of dying with it. */
#include <signal.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

static int crash_probe(int device, int *priority, char *why, size_t why_len)
{
	raise(SIGSEGV);
	*priority = 10;
	return 0;
}

static const struct rk_plugin_ops ops =
	RKT_OPS(sizeof(struct rk_plugin_ops), crash_probe, stub_launch);

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "crash",
	.version = "1.0.0",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

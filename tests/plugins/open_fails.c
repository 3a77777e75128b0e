/* SPDX-License-Identifier: MIT */
/* Test-only plugin: its probe says it is usable at priority 2000 (above
 * fast), but open() of the device then fails with -EIO, as a GPU that is
 * seen but cannot be opened (held exclusively, out of memory) does. Auto
 * goes on to the next usable plugin; asked for by name, the build fails
 * with -EIO. */
#include <errno.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

static int openfail_probe(int device, int *priority, char *why, size_t why_len)
{
	*priority = 2000;
	return 0;
}

static int openfail_open(int device, void **ctx_p)
{
	*ctx_p = NULL;
	return -EIO;
}

static const struct rk_plugin_ops ops = {
	.struct_size = sizeof(struct rk_plugin_ops),
	.probe = openfail_probe,
	.open = openfail_open,
	.close = stub_close,
	.launch = stub_launch,
	.signal = stub_signal,
	.terminate = stub_terminate,
	.release = stub_release,
};

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "openfail",
	.version = "1.0.0",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

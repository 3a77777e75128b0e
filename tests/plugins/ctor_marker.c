/* SPDX-License-Identifier: MIT */
/*
 * Test-only plugin that tells on itself: its constructor, which runs inside
 * dlopen() before any check of ours can, appends "euid=N" to the file
 * $RKT_MARKER. The suites put it where a program must never load it (a
 * plugin directory beside the backend the program asked for, the library
 * RK_OPENCL_LIB names in a set-uid program) and assert the file is not
 * there. As a plugin it is "marker", usable at priority 10.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ringkernel/plugin.h>

#include "stub_ops.c"

__attribute__((constructor)) static void tell(void)
{
	const char *path = getenv("RKT_MARKER");
	char line[32];
	if (!path || !*path)
		return;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	int n = snprintf(line, sizeof(line), "euid=%u\n", (unsigned)geteuid());
	if (n > 0 && write(fd, line, (size_t)n) < 0)
		n = -1;
	close(fd);
}

static const struct rk_plugin_ops ops = RKT_STUB_OPS;

static const struct rk_plugin plugin = {
	.abi_major = RK_PLUGIN_ABI_MAJOR,
	.abi_minor = RK_PLUGIN_ABI_MINOR,
	.struct_size = sizeof(struct rk_plugin),
	.name = "marker",
	.version = "1.0.0",
	.ops = &ops,
	.layout_version = RK_LAYOUT_VERSION,
};

const struct rk_plugin *rk_plugin_entry(void)
{
	return &plugin;
}

/* SPDX-License-Identifier: MIT */
/* Test-only plugin: exports no rk_plugin_entry: its entry point is
 * misspelt, the mistake a hand-written plugin makes. Refused (-ENOEXEC). */
#include <stddef.h>

#include <ringkernel/plugin.h>

const struct rk_plugin *rk_plugin_entry_v1(void);

const struct rk_plugin *rk_plugin_entry_v1(void)
{
	return NULL;
}

/* SPDX-License-Identifier: MIT */
/* Test-only plugin: rk_plugin_entry() exists but returns NULL (a plugin
 * that decided in its constructor it cannot work). Refused (-ENOEXEC). */
#include <stddef.h>

#include <ringkernel/plugin.h>

const struct rk_plugin *rk_plugin_entry(void)
{
	return NULL;
}

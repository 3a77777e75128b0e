/* SPDX-License-Identifier: MIT */
/*
 * ringkernel/discovery.h - which backend plugins are there, and why a
 * plugin cannot be used. What rk-info prints, for programs.
 *
 * Plugins are searched in $RK_PLUGIN_PATH, then `plugin_path` (a colon
 * list, may be NULL: the builder's rk_runtime_builder_plugin_path()), then
 * the install directory. Every call loads and probes the plugins afresh and
 * unloads them before it returns.
 */
#ifndef RINGKERNEL_DISCOVERY_H
#define RINGKERNEL_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One plugin file found on the search path. */
typedef struct rk_plugin_info {
	char path[4096];
	char name[64]; /* NAME of rk-plugin-NAME.so */
	char version[64];
	uint32_t abi_major, abi_minor;
	/* 0 usable; else a negative errno: why it was refused (loaded false)
	 * or why its probe failed (loaded true). */
	int status;
	int priority;	  /* the probe's; meaningful when status is 0 */
	char reason[256]; /* human reason when status is not 0 */
	bool shadowed;	  /* an earlier directory has a plugin of this name */
	bool loaded;	  /* the file passed every load check */
} rk_plugin_info;

/*
 * List the plugins found, in search order, usable or not. Fills at most
 * `max` entries of `out` (may be NULL when max is 0); *n_p is the number
 * found, which may be more than max. 0, -EINVAL or -ENOMEM.
 */
int rk_plugins_list(const char *plugin_path, int device, rk_plugin_info *out, unsigned max,
		    unsigned *n_p);

/*
 * The plugin RK_BACKEND_AUTO would pick, honouring $RK_BACKEND like the
 * builder does (a name there opens that plugin's file only): its name in
 * `name` (len bytes), its priority in *priority_p (may be NULL). -ENODEV
 * when nothing is usable, -ENOENT when $RK_BACKEND names a plugin that is
 * not there, -ERANGE when `name` is too short; rk_last_error() says more.
 */
int rk_plugins_auto_pick(const char *plugin_path, int device, char *name, size_t len,
			 int *priority_p);

/* The directories searched, colon-joined, in order. 0 or -ERANGE. */
int rk_plugins_search_path(const char *plugin_path, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* RINGKERNEL_DISCOVERY_H */
